/*
 * Private to the queue writer (writer.c: transactions, spills, aborts;
 * commit.c: commit and group commit). Threading rule: a transaction has at
 * most one pool job in flight (t->running); while it runs, the pool thread
 * owns t->fd, t->io and t->job_err and the loop thread touches only t->mem
 * and flags. Everything else is loop-thread only.
 */
#ifndef GATEPOST_QUEUE_WRITER_INT_H
#define GATEPOST_QUEUE_WRITER_INT_H

#include "base/buf.h"
#include "event/workpool.h"
#include "queue/qid.h"
#include "queue/writer.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define QUEUE_TXN_SLACK (1u << 20)  /* appends allowed past the threshold during a spill */

enum txn_job { JOB_NONE, JOB_SPILL, JOB_COMMIT, JOB_CLEANUP };

struct queue_txn {
    struct workpool_job job;        /* first: the job pointer is the txn pointer */
    struct queue_writer *qw;
    char id[QUEUE_ID_SIZE];
    struct buf mem;                 /* bytes not yet handed to a job */
    struct buf io;                  /* bytes the job in flight writes */
    int fd;                         /* the file, -1 until created */
    uint32_t crc;                   /* CRC-32C of the content so far */
    uint64_t content_size;
    enum txn_job running;
    bool committing;                /* commit called (env encoded into mem) */
    bool aborted;
    bool unnamed;                   /* fd is an unnamed file in incoming/ */
    bool named;                     /* the file has its name in incoming/ */
    int err;                        /* first failure (errno), 0 if none */
    int job_err;                    /* written by the job, read in its done */
    void (*resume)(void *arg);
    void *resume_arg;
    void (*done)(void *arg, enum queue_commit_result r);
    void *done_arg;
    struct queue_txn *next;         /* in a group-commit batch */
};

/* One directory fsync and the transactions it covers. */
struct dir_sync {
    struct workpool_job job;
    struct queue_writer *qw;
    struct queue_txn *members;
    size_t count;
    int err;
};

struct queue_writer {
    struct event_base *base;
    struct workpool *io_pool;       /* file writes, fsyncs, renames, unlinks */
    struct workpool *dir_pool;      /* one thread: the directory fsync */
    const struct queue_fs_ops *fs;
    int tmp_dirfd, incoming_dirfd;
    bool unnamed_files;             /* O_TMPFILE works in incoming/ */
    char *queue_dir;
    size_t spill_threshold;
    uint64_t minfree;
    struct queue_id_gen ids;
    /* Group commit: renamed, waiting for a directory fsync that starts later. */
    struct queue_txn *waiting_head, *waiting_tail;
    size_t waiting_count;
    bool sync_running;
    struct dir_sync sync;
    /* Free-space cache. */
    int64_t space_checked_us;
    uint64_t space_free;
    bool space_known;
    /* Notification socket (notify.c). */
    int notify_fd;
    struct sockaddr_un notify_addr;
    socklen_t notify_len;
    struct buf notify_pending;      /* IDs the busy manager has not taken yet */
    bool notify_overflow;           /* IDs were dropped: ask for a scan */
    struct event *notify_retry;
    struct queue_writer_stats stats;
    size_t live;                    /* transactions begun and not finished */
};

/* writer.c */
void txn_free(struct queue_txn *t);
bool txn_write_io(struct queue_txn *t);     /* pool thread: create if needed, write io */
bool txn_name_file(struct queue_txn *t);    /* pool thread: incoming/ID; false + errno */
void txn_remove_file(struct queue_txn *t);  /* pool thread: unlink and close */
void txn_start_cleanup(struct queue_txn *t);
enum queue_commit_result txn_result(int err);

/* commit.c */
void txn_start_commit(struct queue_txn *t);

/* notify.c */
void writer_notify_init(struct queue_writer *qw, const char *path);
void writer_notify_free(struct queue_writer *qw);
/* Tells the queue manager about a committed batch (linked by next). */
void writer_notify_batch(struct queue_writer *qw, const struct queue_txn *t);

#endif
