/*
 * The durable queue writer, used by the SMTP process. A message answered
 * "250 Ok: queued" must be on stable storage, so commit is:
 *
 *   write an unnamed file in incoming/ (content, then envelope, then an
 *   end marker), name it incoming/ID, fsync(file), and wait for an
 *   fsync(incoming/) that started after the name was given (shared with
 *   concurrent commits), then reply.
 *
 * The unnamed file (O_TMPFILE) costs one directory entry instead of a
 * create in tmp/ and a rename across directories, and vanishes by itself
 * if the process dies before naming it. Where the kernel or file system
 * has no unnamed files, the file is written as tmp/ID and renamed.
 *
 * The syncs run on pool threads, never on the loop, and the directory
 * sync is shared: every name given before a directory fsync started is
 * covered by it, so concurrent sessions commit as one batch (group
 * commit). Only then do the callers' done functions run, on the loop
 * thread.
 *
 * Content is kept in memory up to a threshold and then spilled to the
 * temporary file by pool threads; the session stops reading from its
 * client while a spill is in flight (queue_txn_can_append), which bounds
 * the memory of each session.
 *
 * The OS calls go through a seam (queue_fs_ops) so tests can inject a full
 * disk or a short write.
 */
#ifndef GATEPOST_QUEUE_WRITER_H
#define GATEPOST_QUEUE_WRITER_H

#include "queue/envelope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct queue_writer;
struct queue_txn;

/* The OS calls the writer makes; tests replace them to inject failures. */
struct queue_fs_ops {
    int (*openat)(int dirfd, const char *path, int flags, unsigned mode);
    long (*write)(int fd, const void *p, size_t n);
    long (*pwrite)(int fd, const void *p, size_t n, int64_t off);
    int (*fsync)(int fd);
    int (*renameat)(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
    int (*link_unnamed)(int fd, int dirfd, const char *name);  /* names an O_TMPFILE file */
    int (*unlinkat)(int dirfd, const char *path, int flags);
    int (*close)(int fd);
};
extern const struct queue_fs_ops queue_fs_default;

struct queue_writer_options {
    const char *queue_dir;          /* for messages; the fds below are used for I/O */
    int tmp_dirfd;                  /* queue_dir/tmp, opened before dropping privileges */
    int incoming_dirfd;             /* queue_dir/incoming */
    unsigned threads;               /* sync threads (e.g. 8) */
    size_t spill_threshold;         /* bytes kept in memory before spilling */
    uint64_t minfree;               /* queue_minfree: bytes that must stay free */
    const char *notify_path;        /* queue manager's socket, or NULL */
    const struct queue_fs_ops *fs;  /* NULL: queue_fs_default */
    char worker_tag;                /* one character unique per writer process */
};
/*
 * Details of the options: threads 0 means 8; spill_threshold 0 means
 * QUEUE_SPILL_DEFAULT; worker_tag is one of [0-9A-Z] (the queue manager
 * uses QUEUE_QMGR_WORKER_TAG for the bounces it queues, so SMTP workers
 * must not). The writer does not close tmp_dirfd or incoming_dirfd.
 */
#define QUEUE_SPILL_DEFAULT (256u << 10)
#define QUEUE_QMGR_WORKER_TAG 'Z'

struct queue_writer *queue_writer_new(struct event_base *base,
                                      const struct queue_writer_options *opt);
/*
 * Every transaction must be finished first: committed (its done has run)
 * or aborted. Waits for the cleanup of aborted transactions.
 */
void queue_writer_free(struct queue_writer *qw);

/* Counters, for tests and the benchmark. */
struct queue_writer_stats {
    uint64_t commits;               /* committed transactions */
    uint64_t failures;              /* commits that failed */
    uint64_t dir_syncs;             /* directory fsyncs of incoming/ */
    uint64_t spills;                /* spill writes */
    uint64_t notify_retries;        /* notifications the busy manager refused for now */
};
void queue_writer_get_stats(struct queue_writer *qw, struct queue_writer_stats *out);

/*
 * Free-space check at MAIL time (Postfix: free space minus 1.5 x the
 * announced size must stay above queue_minfree). False: answer 452 4.3.1.
 */
bool queue_writer_has_space(struct queue_writer *qw, int64_t announced_size);

/* Starts a message; assigns its queue ID (copied to id_out). */
struct queue_txn *queue_txn_begin(struct queue_writer *qw, char id_out[QUEUE_ID_SIZE]);
/*
 * Appends content. Returns false if the transaction already failed (the
 * session then answers 451 at the end of DATA).
 */
bool queue_txn_append(struct queue_txn *t, const void *p, size_t n);
/*
 * True if the session may read and append more now; false while a spill is
 * in flight, in which case resume(arg) is called on the loop thread when it
 * is done.
 */
bool queue_txn_can_append(struct queue_txn *t, void (*resume)(void *arg), void *arg);

enum queue_commit_result {
    QUEUE_COMMITTED,        /* durable: answer 250 */
    QUEUE_NO_SPACE,         /* ENOSPC/EDQUOT: 452 4.3.1 */
    QUEUE_IO_ERROR,         /* anything else: 451 4.3.0 */
};

/*
 * Makes the message durable. env->queue_id must be the transaction's ID.
 * done(arg, result) runs on the loop thread; the transaction is freed
 * after it returns.
 */
void queue_txn_commit(struct queue_txn *t, const struct queue_envelope *env,
                      void (*done)(void *arg, enum queue_commit_result r),
                      void *arg);
/*
 * Drops the transaction (RSET, QUIT, lost connection); removes its files.
 * Not after queue_txn_commit: a committing transaction always ends with
 * its done call.
 */
void queue_txn_abort(struct queue_txn *t);

#endif
