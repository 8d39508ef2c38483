/*
 * Commit with group commit. A transaction's commit job, on an I/O pool
 * thread, writes the rest of the file (content, envelope, end marker),
 * fsyncs it, gives it its name in incoming/ and then joins the next shared
 * fsync round of incoming/ (base/sync_rounds.h): the first job to find no
 * round running syncs the directory for every name given before, the
 * others wait for that round or run the next. With many sessions
 * committing at once one directory fsync covers many messages; a lone
 * session syncs on the thread that wrote its file, with no hand-off.
 *
 * Only after its directory round is the done function called (the 250
 * reply, on the loop thread) and the queue manager notified. If a round's
 * fsync fails, each transaction it covered removes its own file (its
 * client gets 451 and will retry), since nothing says the names are
 * durable. A periodic scan of the queue manager may have taken such a file
 * already (it is complete and synced, only its name was not): it is then
 * delivered even though its client saw 451, the usual at-least-once
 * outcome.
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

/* Pool thread: the directory round that covers t's name; 0 or an errno. */
static int sync_incoming(struct queue_txn *t)
{
    struct queue_writer *qw = t->qw;
    pthread_mutex_lock(&qw->dir_lock);
    int err = sync_rounds_join(&qw->dir_rounds, &qw->dir_lock, qw->fs->fsync, qw->incoming_dirfd);
    pthread_mutex_unlock(&qw->dir_lock);
    return err;
}

static void commit_work(struct workpool_job *job)
{
    struct queue_txn *t = (struct queue_txn *)job;
    const struct queue_fs_ops *fs = t->qw->fs;
    t->job_err = 0;
    t->dir_err = false;
    if (!txn_write_io(t) || fs->fsync(t->fd) < 0 || !txn_name_file(t))
        goto fail;
    int fd = t->fd;
    t->fd = -1;
    if (fs->close(fd) < 0)
        goto fail;
    if ((t->job_err = sync_incoming(t)) != 0) {
        t->dir_err = true;
        txn_remove_file(t);
    }
    return;
fail:
    t->job_err = errno ? errno : EIO;
    txn_remove_file(t);
}

static void commit_done(struct workpool_job *job)
{
    struct queue_txn *t = (struct queue_txn *)job;
    t->running = JOB_NONE;
    buf_release(&t->io);
    if (t->job_err) {
        if (t->dir_err)
            log_warning("fsync %s/incoming: %s", t->qw->queue_dir, strerror(t->job_err));
        t->err = t->job_err;
        finish(t, txn_result(t->err));
        return;
    }
    writer_notify(t->qw, t->id);
    finish(t, QUEUE_COMMITTED);
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
