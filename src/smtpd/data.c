/*
 * The DATA phase: client bytes go through the DATA reader (end-of-data
 * detection that resists SMTP smuggling, dot-unstuffing, limits) into a
 * chunk buffer, and from there to the queue transaction. The Received:
 * header goes first. At the end of data the checks run (size, bare
 * newlines, hop count, end-of-data restrictions), then the queue commit,
 * and only when the message is durable does the client get its 250.
 *
 * Memory: at most one chunk per session; when the queue writer is busy
 * spilling a large message to disk, reading from the client pauses.
 */
#include "smtpd/session.h"

#include "base/strutil.h"
#include "base/xalloc.h"
#include "queue/writer.h"

#include <stdlib.h>
#include <string.h>

/* Content gathered before it is handed to the queue transaction. */
#define DATA_CHUNK 65536
/* The reader may hold back a few bytes (a CR, a dot) and emit them later. */
#define DATA_READER_SLACK 8

static void data_continue(void *arg);

/* Postfix's END-OF-MESSAGE reject lines name the first recipient. */
static const char *first_recipient(const struct smtpd_txn *t)
{
    return t->nrcpt ? t->rcpts[0].address : NULL;
}

void smtpd_data_start(struct smtpd_session *s)
{
    struct smtpd_txn *t = s->txn;
    data_reader_init(&t->reader, (uint64_t)s->svc->message_size_limit);
    smtp_header_scan_init(&t->headers);
    buf_init(&t->chunk, DATA_CHUNK);
    smtpd_received_header(s, &t->chunk);
    session_enter_data(s);
}

/* Hands the chunk to the queue; false while the queue asks us to wait. */
static bool hand_chunk(struct smtpd_session *s)
{
    struct smtpd_txn *t = s->txn;
    if (t->chunk.len > 0 && !t->reader.too_big) {
        if (!queue_txn_append(t->qtxn, t->chunk.data, t->chunk.len))
            t->queue_failed = true;
        t->content_size += t->chunk.len;
    }
    buf_reset(&t->chunk);
    if (t->queue_failed || queue_txn_can_append(t->qtxn, data_continue, s))
        return true;
    session_pause_reading(s);
    session_park(s);
    return false;
}

static void data_continue(void *arg)
{
    struct smtpd_session *s = arg;
    if (!session_unpark(s))
        return;
    session_resume_reading(s);
    session_process_input(s);
}

static void envelope_from_txn(struct smtpd_session *s, struct queue_envelope *env)
{
    struct smtpd_txn *t = s->txn;
    memset(env, 0, sizeof(*env));
    str_copy(env->queue_id, sizeof(env->queue_id), t->queue_id);
    env->arrival_us = t->start_us;
    env->sender = xstrdup(t->mail.addr.text);
    for (size_t i = 0; i < t->nrcpt; i++)
        queue_envelope_add_rcpt(env, t->rcpts[i].address, t->rcpts[i].orcpt,
                                t->rcpts[i].notify);
    env->client_name = xstrdup(s->name);
    env->client_addr = xstrdup(s->addr_text);
    env->helo = s->helo ? xstrdup(s->helo) : NULL;
    env->protocol = xstrdup(smtpd_protocol_name(s));
    env->message_id = t->headers.message_id[0] ? xstrdup(t->headers.message_id) : NULL;
    env->envid = t->mail.envid ? xstrdup(t->mail.envid) : NULL;
    env->dsn_ret = t->mail.ret;
    env->smtputf8 = t->mail.smtputf8;
    env->body_type = t->mail.body;
    env->content_size = t->content_size;
}

struct commit_context {
    struct smtpd_session *s;
    struct queue_envelope env;
};

static void commit_done(void *arg, enum queue_commit_result r)
{
    struct commit_context *cc = arg;
    struct smtpd_session *s = cc->s;
    struct smtpd_txn *t = s->txn;
    t->qtxn = NULL;             /* the writer frees it after we return */
    if (session_unpark(s)) {
        if (r == QUEUE_COMMITTED) {
            /* As Postfix does, a client that got mail through is forgiven
               its earlier errors and junk commands. */
            s->error_count = 0;
            s->junk_count = 0;
            smtpd_data_accepted(s);
            smtpd_reply(s, 250, "2.0.0", "Ok: queued as %s", t->queue_id);
        } else if (r == QUEUE_NO_SPACE) {
            log_msg(&s->svc->ident, LOG_LEVEL_WARNING, "%s: queue file system is full",
                    t->queue_id);
            smtpd_reply(s, 452, "4.3.1", "Insufficient system storage");
        } else {
            smtpd_reply(s, 451, "4.3.0", "Error: queue file write error");
        }
        smtpd_txn_free(s);
        session_process_input(s);
    }
    queue_envelope_free(&cc->env);
    free(cc);
}

static void commit(struct smtpd_session *s)
{
    struct commit_context *cc = xcalloc(1, sizeof(*cc));
    cc->s = s;
    envelope_from_txn(s, &cc->env);
    /* Logged before the commit, as Postfix's cleanup does while it writes
       the file: the queue manager may log the message as soon as it lands. */
    smtpd_log_message_id(s, s->txn->queue_id, cc->env.message_id);
    session_park(s);
    queue_txn_commit(s->txn->qtxn, &cc->env, commit_done, cc);
}

static void eod_proceed(struct smtpd_session *s, const struct policy_decision *d)
{
    if (d->action == POLICY_REJECT || d->action == POLICY_DEFER ||
        d->action == POLICY_TEMPFAIL) {
        smtpd_log_reject(s, "END-OF-MESSAGE", d->code, d->enhanced, d->text,
                         first_recipient(s->txn));
        smtpd_reply(s, d->code, d->enhanced, "%s", d->text);
        smtpd_txn_free(s);
        return;
    }
    commit(s);
}

static void eod_policy_answer(void *arg, const struct policy_decision *d)
{
    struct smtpd_session *s = arg;
    s->policy_pending = NULL;
    if (!session_unpark(s))
        return;
    eod_proceed(s, d);
    session_process_input(s);
}

/* The end-of-data checks that need no policy: refusals end the transaction. */
static bool content_refused(struct smtpd_session *s)
{
    struct smtpd_txn *t = s->txn;
    const struct data_reader *r = &t->reader;
    if (r->too_big) {
        smtpd_reply(s, 552, "5.3.4", "Error: message file too big");
    } else if (s->svc->bare_newline == BARE_NEWLINE_REJECT && !s->bare_newline_exempt &&
               (r->saw_bare_lf || r->saw_bare_cr)) {
        smtpd_log_reject(s, "END-OF-MESSAGE", 0, NULL, "bare <LF> received",
                         first_recipient(t));
        smtpd_reply(s, s->svc->bare_newline_reject_code, "5.5.2",
                    "%s Error: bare <LF> received", s->svc->myhostname);
    } else if (t->headers.received_count > s->svc->hopcount_limit) {
        smtpd_reply(s, 554, "5.4.0", "Error: too many hops");
    } else if (t->queue_failed) {
        smtpd_reply(s, 451, "4.3.0", "Error: queue file write error");
    } else {
        return false;
    }
    smtpd_txn_free(s);
    return true;
}

static void end_of_data(struct smtpd_session *s)
{
    session_leave_data(s);
    smtp_header_scan_finish(&s->txn->headers);
    if (content_refused(s))
        return;
    struct policy_decision d;
    session_fill_facts(s);
    s->facts.size = (int64_t)s->txn->content_size;
    if (policy_check(s->svc->policy, STAGE_END_OF_DATA, &s->facts, &s->policy, &d,
                     eod_policy_answer, s, &s->policy_pending)) {
        eod_proceed(s, &d);
        return;
    }
    session_park(s);
}

void smtpd_data_input(struct smtpd_session *s)
{
    struct smtpd_txn *t = s->txn;
    if (t->end_seen) {
        /* The terminator was read while the queue made us wait. */
        end_of_data(s);
        return;
    }
    while (s->in.len > 0 && s->state == STATE_DATA && !s->parked) {
        size_t room = t->chunk.max - t->chunk.len;
        if (room <= DATA_READER_SLACK) {
            if (!hand_chunk(s))
                return;
            continue;
        }
        size_t feed = s->in.len < room - DATA_READER_SLACK ? s->in.len : room - DATA_READER_SLACK;
        size_t before = t->chunk.len;
        bool end = false;
        size_t used = data_reader_feed(&t->reader, s->in.data, feed, &t->chunk, &end);
        if (!t->headers.done)
            smtp_header_scan_feed(&t->headers, t->chunk.data + before, t->chunk.len - before);
        buf_consume(&s->in, used);
        if (end) {
            t->end_seen = true;
            if (!hand_chunk(s))
                return;     /* data_continue brings us back here */
            end_of_data(s);
            return;
        }
    }
    if (s->state == STATE_DATA && t->chunk.len >= DATA_CHUNK / 2)
        hand_chunk(s);
}
