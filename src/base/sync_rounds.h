/*
 * Shared fsync rounds for one descriptor (a directory). Threads that need
 * the descriptor synced after a change of their own join the next round;
 * the first of them to wait while no round runs runs it, the others wait
 * for it.
 * A round covers every change made before it started, so threads that
 * join while a round runs wait for the next one. Under load one fsync
 * covers many changes; alone, a thread runs its own round at once, with
 * no hand-off to another thread.
 *
 * The caller supplies the mutex that guards the rounds (it may guard more,
 * as a table of directories).
 */
#ifndef GATEPOST_BASE_SYNC_ROUNDS_H
#define GATEPOST_BASE_SYNC_ROUNDS_H

#include <pthread.h>
#include <stdint.h>

struct sync_round;

struct sync_rounds {
    struct sync_round *pending;     /* joined, not started */
    struct sync_round *running;
    pthread_cond_t cond;
    uint64_t rounds;                /* rounds run so far */
};

void sync_rounds_init(struct sync_rounds *s);
void sync_rounds_destroy(struct sync_rounds *s);

/*
 * Joins the next round of fd and returns when it has run: 0, or the errno
 * of its fsync. Called and returns with *lock held; the fsync itself runs
 * with *lock released, through sync (fsync(2) or a test's substitute).
 */
int sync_rounds_join(struct sync_rounds *s, pthread_mutex_t *lock, int (*sync)(int fd), int fd);

/*
 * A join in two steps, for a thread with other work between its change and
 * the wait: enter (after the change) takes a place in the next round, wait
 * returns when that round has run, running it if no one else has. Meanwhile
 * other threads may run the round, so the wait often finds it done. Both
 * with *lock held; every enter is followed by exactly one wait.
 */
struct sync_round *sync_rounds_enter(struct sync_rounds *s);
int sync_rounds_wait(struct sync_rounds *s, struct sync_round *r, pthread_mutex_t *lock,
                     int (*sync)(int fd), int fd);

#endif
