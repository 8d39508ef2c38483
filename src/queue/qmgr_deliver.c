/*
 * Dispatch of recipients to the delivery agents. Messages with recipients
 * still to hand out wait on the ready list; the dispatcher routes each
 * recipient on the loop thread (lookup tables are not shared with pool
 * threads) and hands local and virtual mailbox deliveries to the delivery
 * pool, at most inflight_cap at a time.
 *
 * Remote recipients (relay and default classes) are deferred: gatepost has
 * no SMTP client yet. They go through the normal retry path and, after
 * maximal_queue_lifetime, bounce like any other deferred recipient.
 *
 * A delivery job records its recipient as done in the queue file (one
 * pwrite) right after the delivery agent reports success, on the pool
 * thread, so the loop never waits for the file. When that success is
 * bound to end the message (the last recipient of the round, every other
 * one delivered), the job removes the queue file instead, saving the
 * finish job's trip through the I/O pool: the common one-recipient
 * message costs one pool job to deliver and remove.
 */
#include "queue/qmgr_int.h"

#include "base/xalloc.h"
#include "deliver/deliver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REMOTE_DEFER_TEXT "delivery to remote domains is not available yet"

void qmgr_ready_add(struct qmsg *m)
{
    struct qmgr *q = m->q;
    if (m->in_ready)
        return;
    m->in_ready = true;
    m->rnext = NULL;
    if (q->ready_tail)
        q->ready_tail->rnext = m;
    else
        q->ready_head = m;
    q->ready_tail = m;
}

static void ready_pop(struct qmgr *q)
{
    struct qmsg *m = q->ready_head;
    q->ready_head = m->rnext;
    if (q->ready_head == NULL)
        q->ready_tail = NULL;
    m->in_ready = false;
    m->rnext = NULL;
}

static size_t next_pending(const struct qmsg *m, size_t from)
{
    while (from < m->env.nrcpt && m->env.rcpts[from].status != RCPT_PENDING)
        from++;
    return from;
}

/* An outcome for recipient idx; ends the round when it was the last. */
static void rcpt_outcome(struct qmsg *m, size_t idx, uint8_t outcome, const char *dsn,
                         const char *text)
{
    struct qrcpt *r = &m->r[idx];
    r->outcome = outcome;
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
    free(r->text);
    r->text = xstrdup(text);
    if (outcome == OUT_SENT)
        m->q->stats.sent++;
    else if (outcome == OUT_DEFER)
        m->q->stats.deferred++;
    else
        m->q->stats.bounced++;
}

static void rcpt_finished(struct qmsg *m)
{
    if (--m->outstanding == 0)
        qmgr_round_done(m);
}

/* Outcomes decided without a delivery agent (routing). */
static void decide_now(struct qmsg *m, size_t idx, uint8_t outcome, const char *dsn,
                       const char *text, const char *service, const char *relay)
{
    struct qmgr *q = m->q;
    int64_t now = qmgr_now(q);
    rcpt_outcome(m, idx, outcome, dsn, text);
    qmgr_log_rcpt(q, m, idx, service, relay, now, now);
    rcpt_finished(m);
}

static struct qdlv *dlv_get(struct qmgr *q)
{
    struct qdlv *d = q->free_dlv;
    if (d == NULL)
        return xcalloc(1, sizeof(*d));
    q->free_dlv = d->next_free;
    memset(d, 0, sizeof(*d));
    return d;
}

static void dlv_put(struct qmgr *q, struct qdlv *d)
{
    d->next_free = q->free_dlv;
    q->free_dlv = d;
}

void qmgr_dlv_free_all(struct qmgr *q)
{
    while (q->free_dlv) {
        struct qdlv *d = q->free_dlv;
        q->free_dlv = d->next_free;
        free(d);
    }
}

/* Whether delivering recipient idx successfully finishes m for good. */
static bool ends_message(const struct qmsg *m, size_t idx)
{
    if (m->outstanding != 1)
        return false;
    for (size_t i = 0; i < m->env.nrcpt; i++)
        if (i != idx && m->env.rcpts[i].status != RCPT_DONE)
            return false;
    return true;
}

static void dlv_work(struct workpool_job *job)
{
    struct qdlv *d = (struct qdlv *)job;
    struct qmsg *m = d->m;
    deliver_mailbox(&d->req, &d->res);
    d->done_us = qmgr_now(d->q);
    d->mark_err = 0;
    if (d->res.status != DELIVER_OK)
        return;
    /* If the removal fails, the recipient is marked as usual and the
     * finish job tries again: a file left behind never delivers twice. */
    if (d->last && unlinkat(d->q->dirfd[m->dir], m->id, 0) == 0) {
        d->removed = true;
        close(m->fd);               /* nothing else reads it: no other delivery runs */
    } else if (!qfile_mark_done(m->fd, m->env.rcpts[d->idx].status_offset)) {
        d->mark_err = errno ? errno : EIO;
    }
}

static const uint8_t outcome_of[] = {
    [DELIVER_OK] = OUT_SENT, [DELIVER_DEFER] = OUT_DEFER, [DELIVER_BOUNCE] = OUT_BOUNCE,
};

static void dlv_done(struct workpool_job *job)
{
    struct qdlv *d = (struct qdlv *)job;
    struct qmgr *q = d->q;
    struct qmsg *m = d->m;
    q->inflight--;
    rcpt_outcome(m, d->idx, outcome_of[d->res.status], d->res.dsn, d->res.text);
    if (d->res.status == DELIVER_OK)
        m->env.rcpts[d->idx].status = RCPT_DONE;
    if (d->removed) {
        m->fd = -1;
        m->removed = true;
        m->finish_err = 0;
    }
    if (d->mark_err) {
        m->r[d->idx].to_mark = true;    /* try again when the round finishes */
        qmgr_warn(q, "%s: recording delivery to <%s>: %s", m->id,
                  m->env.rcpts[d->idx].address, strerror(d->mark_err));
    }
    const char *agent = d->mb.transport ? d->mb.transport : "local";
    qmgr_log_rcpt(q, m, d->idx, agent, agent, d->handoff_us, d->done_us);
    dlv_put(q, d);
    rcpt_finished(m);
    qmgr_dispatch(q);
    qmgr_check_stopped(q);
}

static void start_delivery(struct qmsg *m, size_t idx, const struct qmgr_route *rt)
{
    struct qmgr *q = m->q;
    struct qdlv *d = dlv_get(q);
    d->q = q;
    d->m = m;
    d->idx = idx;
    d->mb = rt->mb;
    bool virtual = rt->cls == ADDR_CLASS_VIRTUAL_MAILBOX;
    if (d->mb.transport == NULL)
        d->mb.transport = virtual ? "virtual" : "local";
    d->req = (struct deliver_request){
        .queue_id = m->id, .rcpt_index = (unsigned)idx, .arrival_us = m->env.arrival_us,
        .sender = m->env.sender, .recipient = m->env.rcpts[idx].address,
        .myhostname = q->opt.myhostname, .mailbox = &d->mb,
        .size_limit = virtual ? q->opt.virtual_mailbox_limit : q->opt.mailbox_size_limit,
        .recovering = m->recovering || m->info.attempts > 0,
        .content_fd = m->fd, .content_offset = m->info.content_offset,
        .content_size = m->info.content_size,
    };
    d->handoff_us = qmgr_now(q);
    d->last = ends_message(m, idx);
    q->inflight++;
    workpool_submit(q->dlv_pool, &d->job, dlv_work, dlv_done);
}

static void dispatch_one(struct qmsg *m, size_t idx)
{
    struct qmgr *q = m->q;
    struct qmgr_route rt = { .status = MAP_NOTFOUND };
    struct buf why;
    buf_init(&why, 512);
    q->opt.route(q->opt.route_arg, m->env.rcpts[idx].address, &rt, &why);
    const char *service = rt.cls == ADDR_CLASS_VIRTUAL_MAILBOX ? "virtual" : "local";
    switch (rt.cls) {
    case ADDR_CLASS_LOCAL:
    case ADDR_CLASS_VIRTUAL_MAILBOX:
        if (rt.status == MAP_FOUND)
            start_delivery(m, idx, &rt);
        else if (rt.status == MAP_NOTFOUND)
            decide_now(m, idx, OUT_BOUNCE, "5.1.1",
                       why.len ? buf_cstr(&why) : "unknown user", service, service);
        else
            decide_now(m, idx, OUT_DEFER, "4.3.0",
                       why.len ? buf_cstr(&why) : "mailbox lookup failed", service, service);
        break;
    case ADDR_CLASS_RELAY:
    case ADDR_CLASS_DEFAULT:
        decide_now(m, idx, OUT_DEFER, "4.3.0", REMOTE_DEFER_TEXT, "qmgr", "none");
        break;
    default:
        decide_now(m, idx, OUT_DEFER, "4.3.0", "address resolver failure", "qmgr", "none");
        break;
    }
    buf_free(&why);
}

void qmgr_dispatch(struct qmgr *q)
{
    while (!q->stopping && q->ready_head != NULL && q->inflight < q->inflight_cap) {
        struct qmsg *m = q->ready_head;
        size_t idx = next_pending(m, m->cursor);
        if (idx >= m->env.nrcpt) {
            ready_pop(q);
            continue;
        }
        m->cursor = idx + 1;
        /* Off the list before the last recipient: its outcome may end the round. */
        if (next_pending(m, m->cursor) >= m->env.nrcpt)
            ready_pop(q);
        dispatch_one(m, idx);
    }
}
