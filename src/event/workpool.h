/*
 * A pool of threads for the work that must never run on an event loop
 * thread: fsync, password hashing, map rebuilds, delivery. A job's work
 * function runs on a pool thread; its done function then runs on the loop
 * thread that owns the pool, so completion handling needs no locks.
 *
 * Jobs are intrusive (struct workpool_job lives inside the caller's
 * object): submitting never allocates. The caller keeps its object alive
 * until done has run; a session that closes meanwhile marks itself closed
 * and is freed by done.
 */
#ifndef GATEPOST_EVENT_WORKPOOL_H
#define GATEPOST_EVENT_WORKPOOL_H

#include <stddef.h>

struct event_base;
struct workpool;
struct workpool_job;

typedef void (*workpool_fn)(struct workpool_job *job);

struct workpool_job {
    workpool_fn work;           /* on a pool thread */
    workpool_fn done;           /* on the loop thread; may be NULL */
    struct workpool_job *next;  /* owned by the pool while queued */
};

struct workpool *workpool_new(struct event_base *base, unsigned threads,
                              const char *name);
void workpool_submit(struct workpool *pool, struct workpool_job *job,
                     workpool_fn work, workpool_fn done);
/* Jobs submitted and not yet completed (done not yet run). */
size_t workpool_pending(const struct workpool *pool);
/* Waits for queued jobs to finish, runs their done functions, stops threads. */
void workpool_free(struct workpool *pool);

#endif
