/*
 * The queue writer: transactions, content buffering and spills, aborts,
 * and the free-space check (commit and group commit are in commit.c).
 *
 * Invariants: a transaction's content is in t->mem until a job takes it
 * (buffers are swapped, never shared); at most one job per transaction is
 * in flight; every error path removes the file (t->named says whether it
 * has a name), so a failed or aborted transaction leaves nothing.
 * All OS calls that may block go through qw->fs on pool threads; only
 * statvfs (cached for a second) runs on the loop.
 */
#include "queue/writer_int.h"

#include "base/clock.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "queue/crc32c.h"
#include "queue/qfile.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define SPACE_CACHE_US 1000000

/*
 * Whether files can be created unnamed in incoming/ and named later through
 * /proc/self/fd. Asked once, before the first session, by creating one
 * (it vanishes when closed). Any other error is left for the commits,
 * which fall back to tmp/ if they find unnamed files unsupported.
 */
static bool unnamed_files_work(const struct queue_fs_ops *fs, int dirfd)
{
    int fd = fs->openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return !fileio_unnamed_unsupported(errno);
    bool ok = fileio_unnamed_nameable(fd);
    fs->close(fd);
    return ok;
}

struct queue_writer *queue_writer_new(struct event_base *base,
                                      const struct queue_writer_options *opt)
{
    struct queue_writer *qw = xcalloc(1, sizeof(*qw));
    qw->base = base;
    qw->fs = opt->fs ? opt->fs : &queue_fs_default;
    qw->tmp_dirfd = opt->tmp_dirfd;
    qw->incoming_dirfd = opt->incoming_dirfd;
    atomic_init(&qw->unnamed_files, unnamed_files_work(qw->fs, qw->incoming_dirfd));
    qw->queue_dir = xstrdup(opt->queue_dir ? opt->queue_dir : ".");
    qw->spill_threshold = opt->spill_threshold ? opt->spill_threshold : QUEUE_SPILL_DEFAULT;
    qw->minfree = opt->minfree;
    queue_id_gen_init(&qw->ids, opt->worker_tag);
    qw->io_pool = workpool_new(base, opt->threads ? opt->threads : 8, "queue-io");
    pthread_mutex_init(&qw->dir_lock, NULL);
    sync_rounds_init(&qw->dir_rounds);
    writer_notify_init(qw, opt->notify_path);
    return qw;
}

void queue_writer_free(struct queue_writer *qw)
{
    if (qw == NULL)
        return;
    if (qw->live != 0)
        log_panic("queue_writer_free: %zu transactions still open", qw->live);
    /* Cleanup jobs may submit further jobs from their done functions. */
    while (workpool_pending(qw->io_pool))
        event_base_loop(qw->base, EVLOOP_ONCE);
    workpool_free(qw->io_pool);
    sync_rounds_destroy(&qw->dir_rounds);
    pthread_mutex_destroy(&qw->dir_lock);
    writer_notify_free(qw);
    free(qw->queue_dir);
    free(qw);
}

void queue_writer_get_stats(struct queue_writer *qw, struct queue_writer_stats *out)
{
    *out = qw->stats;
    pthread_mutex_lock(&qw->dir_lock);
    out->dir_syncs = qw->dir_rounds.rounds;
    pthread_mutex_unlock(&qw->dir_lock);
}

bool queue_writer_has_space(struct queue_writer *qw, int64_t announced_size)
{
    int64_t now = clock_mono_us();
    if (!qw->space_known || now - qw->space_checked_us >= SPACE_CACHE_US) {
        struct statvfs sv;
        /* By descriptor: the worker may not be allowed to walk the path. */
        if (fstatvfs(qw->incoming_dirfd, &sv) < 0) {
            log_warning("statvfs %s: %s", qw->queue_dir, strerror(errno));
            return true;            /* cannot tell: let the commit find out */
        }
        qw->space_free = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
        qw->space_checked_us = now;
        qw->space_known = true;
    }
    /* Postfix: free space minus 1.5 x the announced size must stay above minfree. */
    double need = (double)qw->minfree + 1.5 * (double)(announced_size > 0 ? announced_size : 0);
    return (double)qw->space_free >= need;
}

struct queue_txn *queue_txn_begin(struct queue_writer *qw, char id_out[QUEUE_ID_SIZE])
{
    struct queue_txn *t = xcalloc(1, sizeof(*t));
    t->qw = qw;
    t->fd = -1;
    queue_id_next(&qw->ids, clock_wall_us(), t->id);
    memcpy(id_out, t->id, QUEUE_ID_SIZE);
    buf_init(&t->mem, 0);
    buf_init(&t->io, 0);
    size_t first = qw->spill_threshold < 16384 ? qw->spill_threshold : 16384;
    unsigned char *h = (unsigned char *)buf_reserve(&t->mem, first + QFILE_HEADER_SIZE);
    qfile_header(h);
    buf_commit(&t->mem, QFILE_HEADER_SIZE);
    qw->live++;
    return t;
}

void txn_free(struct queue_txn *t)
{
    if (!t->aborted)                /* an aborted one stopped counting at abort */
        t->qw->live--;
    buf_free(&t->mem);
    buf_free(&t->io);
    free(t);
}

enum queue_commit_result txn_result(int err)
{
    if (err == 0)
        return QUEUE_COMMITTED;
    if (err == ENOSPC || err == EDQUOT)
        return QUEUE_NO_SPACE;
    return QUEUE_IO_ERROR;
}

/* Pool thread: writes all of t->io, retrying short writes; false + errno. */
static bool write_all(struct queue_txn *t)
{
    const struct queue_fs_ops *fs = t->qw->fs;
    const char *p = t->io.data;
    size_t n = t->io.len;
    while (n > 0) {
        long w = fs->write(t->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool txn_write_io(struct queue_txn *t)
{
    const struct queue_fs_ops *fs = t->qw->fs;
    if (t->fd < 0) {
        t->unnamed = atomic_load(&t->qw->unnamed_files);
        if (t->unnamed) {
            t->fd = fs->openat(t->qw->incoming_dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
            if (t->fd < 0 && fileio_unnamed_unsupported(errno)) {
                atomic_store(&t->qw->unnamed_files, false);     /* learnt late: tmp/ from now on */
                t->unnamed = false;
            }
        }
        if (!t->unnamed)
            t->fd = fs->openat(t->qw->tmp_dirfd, t->id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                               0600);
        if (t->fd < 0)
            return false;
    }
    return write_all(t);
}

bool txn_name_file(struct queue_txn *t)
{
    const struct queue_fs_ops *fs = t->qw->fs;
    int r = t->unnamed ? fs->link_unnamed(t->fd, t->qw->incoming_dirfd, t->id)
                       : fs->renameat(t->qw->tmp_dirfd, t->id, t->qw->incoming_dirfd, t->id);
    t->named = r == 0;
    return t->named;
}

void txn_remove_file(struct queue_txn *t)
{
    const struct queue_fs_ops *fs = t->qw->fs;
    int saved = errno;
    if (t->named)
        fs->unlinkat(t->qw->incoming_dirfd, t->id, 0);
    else if (t->fd >= 0 && !t->unnamed)
        fs->unlinkat(t->qw->tmp_dirfd, t->id, 0);
    if (t->fd >= 0)
        fs->close(t->fd);               /* an unnamed file vanishes with it */
    t->fd = -1;
    t->named = false;
    errno = saved;
}

/* --- spills ----------------------------------------------------------- */

static void spill_work(struct workpool_job *job)
{
    struct queue_txn *t = (struct queue_txn *)job;
    t->job_err = 0;
    if (!txn_write_io(t)) {
        t->job_err = errno ? errno : EIO;
        txn_remove_file(t);
    }
}

static void start_spill(struct queue_txn *t);

static void spill_done(struct workpool_job *job)
{
    struct queue_txn *t = (struct queue_txn *)job;
    t->running = JOB_NONE;
    buf_reset(&t->io);
    if (t->job_err && t->err == 0)
        t->err = t->job_err;
    if (t->err)
        buf_release(&t->mem);       /* the content is lost anyway */
    if (t->aborted) {
        txn_start_cleanup(t);
        return;
    }
    if (t->committing) {
        txn_start_commit(t);
        return;
    }
    if (t->err == 0 && t->mem.len >= t->qw->spill_threshold) {
        start_spill(t);             /* resume stays pending until memory is low */
        return;
    }
    void (*resume)(void *) = t->resume;
    t->resume = NULL;
    if (resume)
        resume(t->resume_arg);
}

static void start_spill(struct queue_txn *t)
{
    struct buf tmp = t->io;         /* swap: the job owns io, appends go to mem */
    t->io = t->mem;
    t->mem = tmp;
    t->running = JOB_SPILL;
    t->qw->stats.spills++;
    workpool_submit(t->qw->io_pool, &t->job, spill_work, spill_done);
}

bool queue_txn_append(struct queue_txn *t, const void *p, size_t n)
{
    if (t->err || t->aborted || t->committing)
        return false;
    if (t->running != JOB_NONE &&
        t->mem.len + n > t->qw->spill_threshold + QUEUE_TXN_SLACK) {
        t->err = ENOBUFS;           /* the session ignored queue_txn_can_append */
        return false;
    }
    buf_append(&t->mem, p, n);
    t->crc = crc32c_update(t->crc, p, n);
    t->content_size += n;
    if (t->running == JOB_NONE && t->mem.len >= t->qw->spill_threshold)
        start_spill(t);
    return true;
}

bool queue_txn_can_append(struct queue_txn *t, void (*resume)(void *arg), void *arg)
{
    if (t->running != JOB_SPILL)
        return true;
    t->resume = resume;
    t->resume_arg = arg;
    return false;
}

/* --- abort and cleanup ------------------------------------------------ */

static void cleanup_work(struct workpool_job *job)
{
    txn_remove_file((struct queue_txn *)job);
}

static void cleanup_done(struct workpool_job *job)
{
    struct queue_txn *t = (struct queue_txn *)job;
    void (*done)(void *, enum queue_commit_result) = t->done;
    void *arg = t->done_arg;
    enum queue_commit_result r = txn_result(t->err ? t->err : EIO);
    if (done)
        t->qw->stats.failures++;
    txn_free(t);
    if (done)
        done(arg, r);
}

void txn_start_cleanup(struct queue_txn *t)
{
    t->running = JOB_CLEANUP;
    workpool_submit(t->qw->io_pool, &t->job, cleanup_work, cleanup_done);
}

void queue_txn_abort(struct queue_txn *t)
{
    if (t == NULL)
        return;
    if (t->committing)
        log_panic("queue_txn_abort: %s is committing", t->id);
    t->aborted = true;
    t->qw->live--;
    t->resume = NULL;
    if (t->running != JOB_NONE)
        return;                     /* the job's done function cleans up */
    if (t->fd < 0) {
        txn_free(t);
        return;
    }
    txn_start_cleanup(t);
}
