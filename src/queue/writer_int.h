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
#include "base/sync_rounds.h"
#include "event/workpool.h"
#include "queue/qid.h"
#include "queue/writer.h"

#include <pthread.h>
#include <stdatomic.h>
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
    bool dir_err;                   /* job_err came from the directory fsync */
    void (*resume)(void *arg);
    void *resume_arg;
    void (*done)(void *arg, enum queue_commit_result r);
    void *done_arg;
};

struct queue_writer {
    struct event_base *base;
    struct workpool *io_pool;       /* file writes, fsyncs, names, unlinks */
    const struct queue_fs_ops *fs;
    int tmp_dirfd, incoming_dirfd;
    atomic_bool unnamed_files;      /* O_TMPFILE works in incoming/ (pool threads may clear it) */
    char *queue_dir;
    size_t spill_threshold;
    uint64_t minfree;
    struct queue_id_gen ids;
    /* Group commit: shared fsync rounds of incoming/, run by pool threads. */
    pthread_mutex_t dir_lock;
    struct sync_rounds dir_rounds;
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
    struct event *notify_soon;      /* sends what this loop iteration committed */
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
/* Tells the queue manager about a committed queue ID (soon, merged
 * with the others committed in the same loop iteration). */
void writer_notify(struct queue_writer *qw, const char *id);

#endif
