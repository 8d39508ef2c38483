/*
 * Queues the non-delivery notification for one round of a message: the
 * recipients that bounced (and, for an expired message, those still
 * deferred) whose DSN NOTIFY allows it go into one RFC 3464 report from
 * the null sender to the original sender, written through the manager's
 * own queue writer. Only when that commit is durable are the recipients
 * recorded as done; if it fails they stay pending and come back with the
 * next retry.
 *
 * Postfix logs "ID: sender non-delivery notification: NEWID" when the
 * report is queued; the report itself then appears as a new message.
 */
#include "queue/qmgr_int.h"

#include "base/xalloc.h"
#include "deliver/bounce.h"
#include "smtp/address.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3461: NOTIFY=NEVER, or a list without FAILURE, asks for no report. */
static bool wants_report(const struct queue_recipient *r)
{
    return r->notify == 0 || (r->notify & DSN_NOTIFY_FAILURE);
}

static void build_work(struct workpool_job *job)
{
    struct qmsg *m = (struct qmsg *)job;
    struct qmgr *q = m->q;
    size_t n = 0;
    struct bounce_rcpt *br = xcalloc(m->env.nrcpt, sizeof(*br));
    for (size_t i = 0; i < m->env.nrcpt; i++) {
        if (!m->r[i].in_bounce || !wants_report(&m->env.rcpts[i]))
            continue;
        br[n++] = (struct bounce_rcpt){
            .address = m->env.rcpts[i].address, .orcpt = m->env.rcpts[i].orcpt,
            .dsn = m->r[i].dsn, .reason = m->r[i].text ? m->r[i].text : "",
        };
    }
    struct bounce_request req = {
        .queue_id = m->id, .new_queue_id = m->bid, .myhostname = q->opt.myhostname,
        .mail_name = q->opt.mail_name, .sender = m->env.sender,
        .arrival_us = m->env.arrival_us, .envid = m->env.envid,
        .headers_only = m->env.dsn_ret == DSN_RET_HDRS, .rcpts = br, .nrcpt = n,
        .content_fd = m->fd, .content_offset = m->info.content_offset,
        .content_size = m->info.content_size, .size_limit = q->opt.bounce_size_limit,
        .now_us = qmgr_now(q),
    };
    m->bbuild_ok = n == 0 || bounce_build(&req, &m->bbuf);
    m->bbuild_err = m->bbuild_ok ? 0 : errno;
    free(br);
}

static void mark_reported(struct qmsg *m)
{
    for (size_t i = 0; i < m->env.nrcpt; i++)
        m->r[i].to_mark |= m->r[i].in_bounce;
}

static void commit_done(void *arg, enum queue_commit_result r)
{
    struct qmsg *m = arg;
    struct qmgr *q = m->q;
    q->bounces--;
    m->btxn = NULL;
    if (r == QUEUE_COMMITTED) {
        qmgr_log(q, "bounce", "%s: sender non-delivery notification: %s", m->id, m->bid);
        mark_reported(m);
        qmgr_discover(q, m->bid, QDIR_INCOMING, false);
    } else {
        qmgr_warn(q, "%s: cannot queue the non-delivery notification: %s", m->id,
                  r == QUEUE_NO_SPACE ? "no space in the queue" : "queue file write error");
    }
    qmgr_msg_finish(m);
}

static void commit_report(struct qmsg *m)
{
    struct qmgr *q = m->q;
    struct queue_envelope env = { 0 };
    memcpy(env.queue_id, m->bid, sizeof(env.queue_id));
    env.arrival_us = qmgr_now(q);
    env.sender = xstrdup("");
    queue_envelope_add_rcpt(&env, m->env.sender, NULL, 0);
    env.protocol = xstrdup("local");
    env.body_type = m->env.body_type;
    env.smtputf8 = m->env.smtputf8;
    queue_txn_append(m->btxn, m->bbuf.data, m->bbuf.len);
    buf_release(&m->bbuf);
    queue_txn_commit(m->btxn, &env, commit_done, m);
    queue_envelope_free(&env);
}

static void build_done(struct workpool_job *job)
{
    struct qmsg *m = (struct qmsg *)job;
    struct qmgr *q = m->q;
    q->io_jobs--;
    if (m->bbuild_ok && m->bbuf.len > 0) {
        commit_report(m);           /* bounces stays counted until commit_done */
        return;
    }
    q->bounces--;
    queue_txn_abort(m->btxn);
    m->btxn = NULL;
    if (m->bbuild_ok) {
        mark_reported(m);           /* nobody asked for a report (NOTIFY) */
    } else {
        qmgr_warn(q, "%s: cannot read the message for its non-delivery notification: %s",
                  m->id, strerror(m->bbuild_err));
    }
    qmgr_msg_finish(m);
}

void qmgr_bounce_start(struct qmsg *m)
{
    struct qmgr *q = m->q;
    q->bounces++;
    q->io_jobs++;
    m->btxn = queue_txn_begin(q->writer, m->bid);
    buf_reset(&m->bbuf);
    workpool_submit(q->io_pool, &m->job, build_work, build_done);
}
