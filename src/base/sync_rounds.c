/* Shared fsync rounds; see sync_rounds.h. */
#include "base/sync_rounds.h"

#include "base/xalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct sync_round {
    int err;
    bool done;
    unsigned refs;
};

void sync_rounds_init(struct sync_rounds *s)
{
    s->pending = s->running = NULL;
    s->rounds = 0;
    pthread_cond_init(&s->cond, NULL);
}

void sync_rounds_destroy(struct sync_rounds *s)
{
    pthread_cond_destroy(&s->cond);
}

/* Runs round r; called with the lock held, syncs with it released. */
static void run_round(struct sync_rounds *s, struct sync_round *r, pthread_mutex_t *lock,
                      int (*sync)(int fd), int fd)
{
    s->running = r;
    s->pending = NULL;
    s->rounds++;
    pthread_mutex_unlock(lock);
    errno = 0;
    int err = sync(fd) == 0 ? 0 : (errno ? errno : EIO);
    pthread_mutex_lock(lock);
    r->err = err;
    r->done = true;
    s->running = NULL;
    pthread_cond_broadcast(&s->cond);
}

struct sync_round *sync_rounds_enter(struct sync_rounds *s)
{
    struct sync_round *r = s->pending;
    if (r == NULL)
        r = s->pending = xcalloc(1, sizeof(*r));
    r->refs++;
    return r;
}

int sync_rounds_wait(struct sync_rounds *s, struct sync_round *r, pthread_mutex_t *lock,
                     int (*sync)(int fd), int fd)
{
    while (!r->done) {
        if (s->running == NULL && s->pending == r)
            run_round(s, r, lock, sync, fd);
        else
            pthread_cond_wait(&s->cond, lock);
    }
    int err = r->err;
    if (--r->refs == 0)
        free(r);
    return err;
}

int sync_rounds_join(struct sync_rounds *s, pthread_mutex_t *lock, int (*sync)(int fd), int fd)
{
    return sync_rounds_wait(s, sync_rounds_enter(s), lock, sync, fd);
}
