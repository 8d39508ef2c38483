/*
 * TLS in the SMTP session: STARTTLS (RFC 3207) and wrapper mode (port 465,
 * RFC 8314).
 *
 * Security: the 220 reply to STARTTLS is written in full before the
 * handshake starts, and everything the client sent after the STARTTLS line
 * in plaintext is thrown away unread (the CVE-2011-0411 injection); after
 * the handshake the session forgets everything it knew (HELO, transaction,
 * authentication) and the client must say EHLO again. STARTTLS is accepted
 * inside a transaction too (RFC 3207 does not forbid it; Postfix allows
 * it): the transaction is dropped with the rest.
 *
 * Each handshake step runs on the worker's TLS pool: a full handshake costs
 * a key exchange and a signature, which would otherwise stall every other
 * session on the loop. While a step runs, the session's events are off.
 */
#include "smtpd/session.h"

#include "base/xalloc.h"
#include "event/workpool.h"
#include "net/tls.h"

#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void step_work(struct workpool_job *job)
{
    struct smtpd_session *s = (struct smtpd_session *)((char *)job -
                                                       offsetof(struct smtpd_session, tls_job));
    s->tls_step_result = conn_tls_handshake(&s->conn, s->tls_error, sizeof(s->tls_error));
}

static void log_established(struct smtpd_session *s)
{
    if (s->svc->tls_loglevel < 1)
        return;
    struct tls_info info;
    char text[512];
    conn_tls_info(&s->conn, &info);
    tls_info_format(&info, text, sizeof(text));
    log_msg(&s->svc->ident, LOG_LEVEL_INFO, "Anonymous TLS connection established from %s: %s",
            s->namaddr, text);
}

/*
 * Postfix's lines: "SSL_accept error from host[addr]: -1" and a warning
 * with OpenSSL's reason, or "SSL_accept error from host[addr]: lost
 * connection" (or the system error) when the client went away.
 */
static void log_handshake_failure(struct smtpd_session *s)
{
    if (!conn_tls_library_failure(&s->conn)) {
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "SSL_accept error from %s: %s", s->namaddr,
                s->tls_error);
        return;
    }
    log_msg(&s->svc->ident, LOG_LEVEL_INFO, "SSL_accept error from %s: -1", s->namaddr);
    log_msg(&s->svc->ident, LOG_LEVEL_WARNING, "TLS library problem: %s", s->tls_error);
}

/* RFC 3207 4.2: after the handshake the session starts from scratch. */
static void forget_plaintext_state(struct smtpd_session *s)
{
    smtpd_txn_free(s);
    free(s->helo);
    s->helo = NULL;
    s->esmtp = false;
    smtpd_auth_reset(s);
    policy_session_init(&s->policy);
}

static void step_done(struct workpool_job *job)
{
    struct smtpd_session *s = (struct smtpd_session *)((char *)job -
                                                       offsetof(struct smtpd_session, tls_job));
    s->tls_step_running = false;
    if (!session_unpark(s))
        return;
    switch (s->tls_step_result) {
    case TLS_STEP_WANT_READ:
        event_add(s->read_ev, NULL);
        return;
    case TLS_STEP_WANT_WRITE:
        event_add(s->write_ev, NULL);
        return;
    case TLS_STEP_FAILED:
        log_handshake_failure(s);
        smtpd_log_lost(s, "lost connection");
        session_shutdown(s);
        return;
    case TLS_STEP_DONE:
        break;
    }
    log_established(s);
    bool wrapper = s->tls_wrapper;
    s->state = wrapper ? STATE_LOOKUP : STATE_COMMAND;
    if (!wrapper)
        forget_plaintext_state(s);
    session_tls_ready(s, wrapper);
}

/* Runs the next handshake step on the pool (events are off meanwhile). */
static void run_step(struct smtpd_session *s)
{
    event_del(s->read_ev);
    event_del(s->write_ev);
    s->tls_step_running = true;
    session_park(s);
    workpool_submit(smtpd_worker_tls_pool(s->worker), &s->tls_job, step_work, step_done);
}

void smtpd_tls_event(struct smtpd_session *s)
{
    if (!s->tls_step_running)
        run_step(s);
}

bool smtpd_tls_begin(struct smtpd_session *s, bool wrapper)
{
    if (!conn_tls_start(&s->conn, s->svc->tls)) {
        log_msg(&s->svc->ident, LOG_LEVEL_WARNING, "TLS library problem: cannot start TLS for %s",
                s->namaddr);
        return false;
    }
    s->state = STATE_TLS;
    s->tls_wrapper = wrapper;
    session_arm_timer(s, s->svc->starttls_timeout_ms);
    run_step(s);
    return true;
}

void smtpd_cmd_starttls(struct smtpd_session *s, const char *arg, size_t len)
{
    if (len > 0) {
        smtpd_reply(s, 501, "5.5.4", "Syntax: STARTTLS");
        return;
    }
    if (conn_is_secure(&s->conn)) {
        smtpd_reply(s, 554, "5.5.1", "Error: TLS already active");
        return;
    }
    if (s->svc->tls == NULL) {
        smtpd_reply(s, 502, "5.5.1", "Error: command not implemented");
        return;
    }
    if (s->in.len > 0) {
        /* The CVE-2011-0411 class: commands hidden after STARTTLS in the same
           plaintext packet would otherwise run inside the TLS session. */
        log_msg(&s->svc->ident, LOG_LEVEL_INFO,
                "improper command pipelining after STARTTLS from %s: discarded %zu bytes",
                s->namaddr, s->in.len);
        buf_reset(&s->in);
    }
    smtpd_command_ok(s, CNT_STARTTLS);
    smtpd_reply(s, 220, "2.0.0", "Ready to start TLS");
    /* The handshake starts once the 220 has left (session_flush). */
    s->tls_after_flush = true;
    s->state = STATE_TLS;
    event_del(s->read_ev);
}

/* The service's TLS requirement for commands before STARTTLS (level encrypt). */
bool smtpd_tls_required(struct smtpd_session *s)
{
    if (s->svc->tls_level != TLS_LEVEL_ENCRYPT || conn_is_secure(&s->conn))
        return false;
    smtpd_reply(s, 530, "5.7.0", "Must issue a STARTTLS command first");
    return true;
}
