/*
 * Commit with group commit. A transaction's commit job writes the rest of
 * the file (content, envelope, end marker), fsyncs it and gives it its
 * name in incoming/ on an I/O pool thread. Its done function (loop
 * thread) adds it to the waiting list. One directory fsync of incoming/
 * runs at a time on a thread of its own; it takes the whole waiting list
 * when it is submitted, so every name it covers had been given before it
 * started, and transactions arriving while it runs wait for the next one.
 * With many sessions committing at once, one directory fsync covers many
 * messages; file fsyncs run in parallel on the I/O threads meanwhile.
 *
 * Only after the directory fsync are the done functions called (the 250
 * reply) and the queue manager notified. If the directory fsync fails the
 * files it should have covered are removed (their clients get 451 and
 * will retry), since nothing says their names are durable. A periodic
 * scan of the queue manager may have taken such a file already (it is
 * complete and synced, only its name was not): it is then delivered even
 * though its client saw 451, the usual at-least-once outcome.
 */
#include "queue/writer_int.h"

#include "base/log.h"
#include "queue/qfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void finish(struct queue_txn *t, enum queue_commit_result r)
{
    void (*done)(void *, enum queue_commit_result) = t->done;
    void *arg = t->done_arg;
    if (r == QUEUE_COMMITTED)
        t->qw->stats.commits++;
    else
        t->qw->stats.failures++;
    txn_free(t);
    done(arg, r);
}

static void dirsync_work(struct workpool_job *job)
{
    struct dir_sync *ds = (struct dir_sync *)job;
    const struct queue_fs_ops *fs = ds->qw->fs;
    ds->err = 0;
    if (fs->fsync(ds->qw->incoming_dirfd) == 0)
        return;
    ds->err = errno ? errno : EIO;
    for (struct queue_txn *t = ds->members; t != NULL; t = t->next)
        txn_remove_file(t);
}

static void dirsync_done(struct workpool_job *job);

static void kick_sync(struct queue_writer *qw)
{
    if (qw->sync_running || qw->waiting_head == NULL)
        return;
    qw->sync.qw = qw;
    qw->sync.members = qw->waiting_head;
    qw->sync.count = qw->waiting_count;
    qw->waiting_head = qw->waiting_tail = NULL;
    qw->waiting_count = 0;
    qw->sync_running = true;
    qw->stats.dir_syncs++;
    workpool_submit(qw->dir_pool, &qw->sync.job, dirsync_work, dirsync_done);
}

static void dirsync_done(struct workpool_job *job)
{
    struct dir_sync *ds = (struct dir_sync *)job;
    struct queue_writer *qw = ds->qw;
    struct queue_txn *t = ds->members;
    int err = ds->err;
    qw->sync_running = false;
    if (err)
        log_warning("fsync %s/incoming: %s", qw->queue_dir, strerror(err));
    kick_sync(qw);                  /* the next batch starts before callbacks run */
    if (err == 0)
        writer_notify_batch(qw, t);
    while (t != NULL) {
        struct queue_txn *next = t->next;
        finish(t, txn_result(err));
        t = next;
    }
}

static void commit_work(struct workpool_job *job)
{
    struct queue_txn *t = (struct queue_txn *)job;
    const struct queue_fs_ops *fs = t->qw->fs;
    t->job_err = 0;
    if (!txn_write_io(t) || fs->fsync(t->fd) < 0 || !txn_name_file(t))
        goto fail;
    int fd = t->fd;
    t->fd = -1;
    if (fs->close(fd) < 0)
        goto fail;
    return;
fail:
    t->job_err = errno ? errno : EIO;
    txn_remove_file(t);
}

static void commit_done(struct workpool_job *job)
{
    struct queue_txn *t = (struct queue_txn *)job;
    struct queue_writer *qw = t->qw;
    t->running = JOB_NONE;
    buf_release(&t->io);
    if (t->job_err) {
        t->err = t->job_err;
        finish(t, txn_result(t->err));
        return;
    }
    t->next = NULL;
    if (qw->waiting_tail)
        qw->waiting_tail->next = t;
    else
        qw->waiting_head = t;
    qw->waiting_tail = t;
    qw->waiting_count++;
    kick_sync(qw);
}

void txn_start_commit(struct queue_txn *t)
{
    if (t->err) {
        buf_release(&t->mem);
        txn_start_cleanup(t);       /* removes any file, then reports t->err */
        return;
    }
    struct buf tmp = t->io;
    t->io = t->mem;
    t->mem = tmp;
    t->running = JOB_COMMIT;
    workpool_submit(t->qw->io_pool, &t->job, commit_work, commit_done);
}

void queue_txn_commit(struct queue_txn *t, const struct queue_envelope *env,
                      void (*done)(void *arg, enum queue_commit_result r),
                      void *arg)
{
    if (t->committing || t->aborted)
        log_panic("queue_txn_commit: %s committed twice or after abort", t->id);
    if (strcmp(env->queue_id, t->id) != 0)
        log_panic("queue_txn_commit: envelope id %s for transaction %s",
                  env->queue_id, t->id);
    t->done = done;
    t->done_arg = arg;
    t->committing = true;
    t->resume = NULL;
    if (t->err == 0 && !qfile_append_envelope(&t->mem, env, t->content_size, t->crc)) {
        log_warning("%s: envelope cannot be stored (no recipients or a field too long)",
                    t->id);
        t->err = EINVAL;
    }
    if (t->running == JOB_NONE)
        txn_start_commit(t);        /* else the spill's done function continues */
}
