/*
 * The life of one message in the queue manager: load (open, validate), start
 * a delivery round, and finish the round (record done recipients, then
 * remove the file or move it to deferred/ with its next attempt time).
 *
 * A new message is delivered where the writer committed it, in incoming/:
 * moving it to active/ first would cost a directory operation per message
 * and protect nothing, since the recovery scan at start treats files in
 * incoming/ exactly as those in active/ (as possibly half delivered), and
 * a message in memory is never loaded twice (scans skip known IDs). A
 * deferred message is moved back to active/ for its retry, so deferred/
 * holds only messages that wait.
 *
 * Invariants: a loaded message's file is in m->dir (incoming/ or active/)
 * until the round finishes, so a crash leaves unfinished work where the
 * recovery scan looks; a recipient's status byte becomes 'D' only after
 * its delivery was synced or its notification was committed; a damaged
 * file is moved to corrupt/ and logged, never deleted.
 */
#include "queue/qmgr_int.h"

#include "base/xalloc.h"
#include "queue/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- load --------------------------------------------------------------- */

static int open_in(struct qmsg *m, enum qdir dir)
{
    m->dir = dir;
    return openat(m->q->dirfd[dir], m->id, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
}

/* Opens the message's file where it is; -1 with errno (and err.text for a
 * failed move) otherwise. */
static int open_file(struct qmsg *m)
{
    const int *dfd = m->q->dirfd;
    if (m->src == QDIR_INCOMING)
        return open_in(m, QDIR_INCOMING);
    /* ENOENT: taken already, or left in active/ by an earlier failed load. */
    if (m->src == QDIR_DEFERRED &&
        renameat(dfd[QDIR_DEFERRED], m->id, dfd[QDIR_ACTIVE], m->id) < 0 && errno != ENOENT) {
        snprintf(m->err.text, sizeof(m->err.text), "rename to active: %s", strerror(errno));
        return -1;
    }
    int fd = open_in(m, QDIR_ACTIVE);
    if (fd < 0 && errno == ENOENT)  /* a retried load of a new message */
        fd = open_in(m, QDIR_INCOMING);
    return fd;
}

static void load_work(struct workpool_job *job)
{
    struct qmsg *m = (struct qmsg *)job;
    const int *dfd = m->q->dirfd;
    m->load = LOAD_RETRY;
    m->err.text[0] = '\0';
    m->fd = open_file(m);
    if (m->fd < 0 && m->err.text[0] != '\0')
        return;
    if (m->fd < 0) {
        if (errno == ENOENT)
            m->load = LOAD_GONE;
        snprintf(m->err.text, sizeof(m->err.text), "open: %s", strerror(errno));
        return;
    }
    if (qfile_load(m->fd, m->id, &m->env, &m->info, &m->err)) {
        m->load = LOAD_OK;
        return;
    }
    m->load = LOAD_CORRUPT;
    close(m->fd);
    m->fd = -1;
    if (renameat(dfd[m->dir], m->id, dfd[QDIR_CORRUPT], m->id) < 0)
        snprintf(m->err.text + strlen(m->err.text), sizeof(m->err.text) - strlen(m->err.text),
                 " (and moving it to corrupt/ failed: %s)", strerror(errno));
}

static void start_round(struct qmsg *m)
{
    struct qmgr *q = m->q;
    /* Changed before this manager started: an earlier one may have been
     * delivering it, whichever way it was found (a scan after the start-up
     * scan, a late notification). */
    if (m->info.mtime_us < q->started_us)
        m->recovering = true;
    m->active_us = qmgr_now(q);
    if (m->r == NULL)
        m->r = xcalloc(m->env.nrcpt, sizeof(*m->r));
    qmgr_log_active(q, m);
    m->outstanding = 0;
    for (size_t i = 0; i < m->env.nrcpt; i++)
        m->outstanding += m->env.rcpts[i].status == RCPT_PENDING;
    if (m->outstanding == 0) {
        qmgr_round_done(m);         /* all done before a crash: just remove it */
        return;
    }
    m->cursor = 0;
    qmgr_ready_add(m);
    qmgr_dispatch(q);
}

static void load_failed(struct qmsg *m)
{
    struct qmgr *q = m->q;
    if (m->load == LOAD_CORRUPT) {
        q->stats.corrupt++;
        qmgr_warn(q, "%s: unusable queue file moved to %s/: %s", m->id, QUEUE_DIR_CORRUPT,
                  m->err.text);
    } else if (m->load == LOAD_RETRY) {
        /* A resource problem (descriptors, I/O): try again after the minimal backoff. */
        qmgr_warn(q, "%s: cannot load the queue file: %s", m->id, m->err.text);
        qmgr_defer_push(q, m->id, qmgr_now(q) + q->opt.min_backoff_us);
    }
    qmgr_forget(q, m);
    qmgr_check_stopped(q);
}

static void load_done(struct workpool_job *job)
{
    struct qmsg *m = (struct qmsg *)job;
    struct qmgr *q = m->q;
    q->io_jobs--;
    if (m->load != LOAD_OK) {
        load_failed(m);
        return;
    }
    q->stats.loaded++;
    if (q->stopping) {              /* stays in active/ for the next start */
        qmgr_forget(q, m);
        qmgr_check_stopped(q);
        return;
    }
    start_round(m);
}

void qmgr_msg_load(struct qmsg *m)
{
    m->q->io_jobs++;
    workpool_submit(m->q->io_pool, &m->job, load_work, load_done);
}

/* --- finish -------------------------------------------------------------- */

static int64_t next_backoff(const struct qmgr *q, const struct qmsg *m)
{
    /* Doubles with every deferred round, within [min, max]. */
    int64_t prev = (int64_t)m->info.backoff_s * 1000000;
    int64_t b = m->info.attempts == 0 || prev <= 0 ? q->opt.min_backoff_us : prev * 2;
    if (b < q->opt.min_backoff_us)
        b = q->opt.min_backoff_us;
    if (b > q->opt.max_backoff_us)
        b = q->opt.max_backoff_us;
    return b;
}

static void finish_work(struct workpool_job *job)
{
    struct qmsg *m = (struct qmsg *)job;
    const int *dfd = m->q->dirfd;
    m->finish_err = 0;
    for (size_t i = 0; i < m->env.nrcpt; i++)
        if (m->r[i].to_mark && !qfile_mark_done(m->fd, m->env.rcpts[i].status_offset))
            m->finish_err = errno;
    if (m->remove) {
        if (unlinkat(dfd[m->dir], m->id, 0) < 0)
            m->finish_err = errno;
    } else if (!qfile_write_schedule(m->fd, m->next_attempt_us, m->attempts, m->backoff_s) ||
               renameat(dfd[m->dir], m->id, dfd[QDIR_DEFERRED], m->id) < 0) {
        m->finish_err = errno;
    }
    close(m->fd);
    m->fd = -1;
}

static void finish_done(struct workpool_job *job)
{
    struct qmsg *m = (struct qmsg *)job;
    struct qmgr *q = m->q;
    q->io_jobs--;
    if (m->finish_err)
        qmgr_warn(q, "%s: updating the queue file: %s", m->id, strerror(m->finish_err));
    if (m->remove) {
        qmgr_log(q, "qmgr", "%s: removed", m->id);
        q->stats.removed++;
    } else if (m->finish_err == 0) {
        qmgr_defer_push(q, m->id, m->next_attempt_us);
    }
    /* After a failed move the file is still where it was and the next start
     * recovers it, unless it is gone: a commit that failed after a scan
     * took its file removed the name (its client was told to retry). */
    qmgr_forget(q, m);
    if (q->rescan && !q->stopping) {
        q->rescan = false;
        qmgr_scan_now(q);
    }
    qmgr_check_stopped(q);
}

void qmgr_msg_finish(struct qmsg *m)
{
    struct qmgr *q = m->q;
    m->remove = true;
    for (size_t i = 0; i < m->env.nrcpt; i++) {
        if (m->r[i].to_mark)
            m->env.rcpts[i].status = RCPT_DONE;
        m->remove &= m->env.rcpts[i].status == RCPT_DONE;
    }
    if (!m->remove) {
        int64_t b = next_backoff(q, m);
        m->attempts = m->info.attempts + 1;
        m->backoff_s = (uint32_t)(b / 1000000);
        m->next_attempt_us = qmgr_now(q) + b;
    }
    q->io_jobs++;
    if (m->removed && m->remove) {
        finish_done(&m->job);       /* its last delivery job removed the file */
        return;
    }
    workpool_submit(q->io_pool, &m->job, finish_work, finish_done);
}

/* --- end of a round ----------------------------------------------------- */

static bool expired(const struct qmgr *q, const struct qmsg *m, int64_t now)
{
    int64_t life = m->env.sender[0] ? q->opt.max_lifetime_us : q->opt.bounce_lifetime_us;
    return now - m->env.arrival_us >= life;
}

void qmgr_round_done(struct qmsg *m)
{
    struct qmgr *q = m->q;
    bool any_defer = false, any_bounce = false;
    for (size_t i = 0; i < m->env.nrcpt; i++)
        any_defer |= m->r[i].outcome == OUT_DEFER;
    if (any_defer && expired(q, m, qmgr_now(q))) {
        qmgr_log(q, "qmgr", "%s: from=<%s>, status=expired, returned to sender", m->id,
                 m->env.sender);
        for (size_t i = 0; i < m->env.nrcpt; i++)
            if (m->r[i].outcome == OUT_DEFER)
                m->r[i].outcome = OUT_BOUNCE;
    }
    for (size_t i = 0; i < m->env.nrcpt; i++) {
        m->r[i].in_bounce = m->r[i].outcome == OUT_BOUNCE;
        any_bounce |= m->r[i].in_bounce;
    }
    if (any_bounce && m->env.sender[0] != '\0') {
        qmgr_bounce_start(m);       /* continues with qmgr_msg_finish */
        return;
    }
    /* Mail from the null sender is never bounced: failures are logged and dropped. */
    for (size_t i = 0; i < m->env.nrcpt; i++)
        m->r[i].to_mark |= m->r[i].in_bounce;
    qmgr_msg_finish(m);
}
