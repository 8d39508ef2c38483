/*
 * Shared directory fsync for Maildir new/ directories. When several
 * delivery threads link files into the same new/ at once, one fsync can
 * cover all of them: a thread that has finished its link joins the
 * directory's pending round; a round starts only when no round of that
 * directory is running, and covers every link made before it started.
 * Threads that join while a round runs wait for the next one, which one
 * of them then runs (with its own descriptor for the directory).
 *
 * The table of directories is bounded by the number of delivery threads
 * (an entry lives only while some thread uses it), keyed by path.
 */
#include "deliver/deliver_int.h"

#include "base/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct round {
    int err;
    bool done;
    unsigned refs;
};

struct dir_entry {
    struct dir_entry *next;
    char *path;
    unsigned users;
    struct round *pending;          /* joined, not started */
    struct round *running;
    pthread_cond_t cond;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dir_entry *table;

static struct dir_entry *entry_get(const char *path)
{
    struct dir_entry *e;
    for (e = table; e != NULL; e = e->next)
        if (strcmp(e->path, path) == 0)
            break;
    if (e == NULL) {
        e = xcalloc(1, sizeof(*e));
        e->path = xstrdup(path);
        pthread_cond_init(&e->cond, NULL);
        e->next = table;
        table = e;
    }
    e->users++;
    return e;
}

static void entry_put(struct dir_entry *e)
{
    if (--e->users > 0)
        return;
    for (struct dir_entry **pp = &table; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    pthread_cond_destroy(&e->cond);
    free(e->path);
    free(e);
}

/* Runs round r's fsync with the table unlocked; called with the lock held. */
static void run_round(struct dir_entry *e, struct round *r, int dirfd)
{
    e->running = r;
    e->pending = NULL;
    pthread_mutex_unlock(&table_lock);
    int err = fsync(dirfd) == 0 ? 0 : (errno ? errno : EIO);
    pthread_mutex_lock(&table_lock);
    r->err = err;
    r->done = true;
    e->running = NULL;
    pthread_cond_broadcast(&e->cond);
}

int dirsync_shared(const char *dir_path, int dirfd)
{
    pthread_mutex_lock(&table_lock);
    struct dir_entry *e = entry_get(dir_path);
    struct round *r = e->pending;
    if (r == NULL)
        r = e->pending = xcalloc(1, sizeof(*r));
    r->refs++;
    while (!r->done) {
        if (e->running == NULL && e->pending == r)
            run_round(e, r, dirfd);
        else
            pthread_cond_wait(&e->cond, &table_lock);
    }
    int err = r->err;
    if (--r->refs == 0)
        free(r);
    entry_put(e);
    pthread_mutex_unlock(&table_lock);
    return err;
}
