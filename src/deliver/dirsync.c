/*
 * Shared directory fsync for Maildir new/ directories: delivery threads
 * that link files into the same new/ at once share fsync rounds
 * (base/sync_rounds.h), one round covering every link made before it.
 *
 * The table of directories is bounded by the number of delivery threads
 * (an entry lives only while some thread uses it), keyed by path; the
 * thread that runs a round uses its own descriptor for the directory.
 */
#include "deliver/deliver_int.h"

#include "base/sync_rounds.h"
#include "base/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dir_entry {
    struct dir_entry *next;
    char *path;
    unsigned users;
    struct sync_rounds rounds;
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
        sync_rounds_init(&e->rounds);
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
    sync_rounds_destroy(&e->rounds);
    free(e->path);
    free(e);
}

int dirsync_shared(const char *dir_path, int dirfd)
{
    pthread_mutex_lock(&table_lock);
    struct dir_entry *e = entry_get(dir_path);
    int err = sync_rounds_join(&e->rounds, &table_lock, fsync, dirfd);
    entry_put(e);
    pthread_mutex_unlock(&table_lock);
    return err;
}
