/*
 * Commit with group commit. A transaction's commit job, on an I/O pool
 * thread, writes the rest of the file (content, envelope, end marker),
 * gives it its name in incoming/, enters the next shared fsync round of
 * incoming/ (base/sync_rounds.h), fsyncs the file and then waits for that
 * round: the first job to wait while no round runs syncs the directory
 * for every name given before the round started, the others wait for it
 * or run the next. Naming the file before its own fsync lets the round
 * run on another thread while this one syncs the file, so under load a
 * commit costs about one fsync of waiting instead of two in a row; a lone
 * session still syncs file then directory on its own thread, with no
 * hand-off.
 *
 * Only after both syncs is the done function called (the 250 reply, on
 * the loop thread) and the queue manager notified. A name given before
 * the file is synced is safe because nothing is promised until then: a
 * process killed in between leaves a complete file (it is in the page
 * cache) that is delivered although its client saw no 250, the usual
 * at-least-once outcome; after a power loss the file may be incomplete on
 * disk, and the recovery scan finds its end marker or checksum wrong and
 * moves it to corrupt/ with a warning. If a sync fails, the transaction
 * removes its own file and its client gets 451 and will retry. A periodic
 * scan of the queue manager may have taken the file already (it is
 * complete once named): it is then delivered although its client saw
 * 451, again the at-least-once outcome.
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

/* Pool thread: the next round of incoming/, entered after the file's name
 * was given, so the round covers it. */
static struct sync_round *enter_round(struct queue_writer *qw)
{
    pthread_mutex_lock(&qw->dir_lock);
    struct sync_round *round = sync_rounds_enter(&qw->dir_rounds);
    pthread_mutex_unlock(&qw->dir_lock);
    return round;
}

/* Pool thread: waits for round (running it if nobody does); 0 or an errno. */
static int wait_round(struct queue_writer *qw, struct sync_round *round)
{
    pthread_mutex_lock(&qw->dir_lock);
    int err = sync_rounds_wait(&qw->dir_rounds, round, &qw->dir_lock, qw->fs->fsync,
                               qw->incoming_dirfd);
    pthread_mutex_unlock(&qw->dir_lock);
    return err;
}

/* Pool thread: syncs and closes the named file; 0 or an errno. */
static int sync_file(struct queue_txn *t)
{
    const struct queue_fs_ops *fs = t->qw->fs;
    int fd = t->fd;
    t->fd = -1;
    errno = 0;
    int err = fs->fsync(fd) == 0 ? 0 : (errno ? errno : EIO);
    errno = 0;
    if (fs->close(fd) < 0 && err == 0)
        err = errno ? errno : EIO;
    return err;
}

static void commit_work(struct workpool_job *job)
{
    struct queue_txn *t = (struct queue_txn *)job;
    t->job_err = 0;
    t->dir_err = false;
    if (!txn_write_io(t) || !txn_name_file(t)) {
        t->job_err = errno ? errno : EIO;
        txn_remove_file(t);
        return;
    }
    struct sync_round *round = enter_round(t->qw);
    int file_err = sync_file(t);
    int dir_err = wait_round(t->qw, round);
    if (file_err == 0 && dir_err == 0)
        return;
    t->job_err = file_err ? file_err : dir_err;
    t->dir_err = file_err == 0;
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
