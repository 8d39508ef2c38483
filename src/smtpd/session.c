/*
 * SMTP session lifecycle: accept, peer name lookup, greeting, the input
 * loop, output flushing, timeouts, the error tarpit and closing.
 *
 * Input is consumed in batches (RFC 2920 pipelining): every complete
 * command in the buffer is handled, replies accumulate in s->out, and
 * output is flushed when no complete command is left or the session parks
 * on an asynchronous answer. Memory per session is bounded: the input
 * buffer holds at most one command line (or one DATA read), the output
 * buffer stops input processing when a client does not read its replies,
 * and both buffers are released while the session is idle.
 */
#include "smtpd/session.h"

#include "base/clock.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "net/resolver.h"
#include "policy/netlist.h"
#include "queue/writer.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes read from the socket at a time. */
#define SESSION_READ_CHUNK 16384
/* Pending output beyond which we stop handling pipelined commands. */
#define SESSION_OUTPUT_HIGH_WATER 65536

static void on_readable(evutil_socket_t fd, short what, void *arg);
static void on_writable(evutil_socket_t fd, short what, void *arg);
static void on_timeout(evutil_socket_t fd, short what, void *arg);
static void on_park_timer(evutil_socket_t fd, short what, void *arg);
static void session_free(struct smtpd_session *s);
static void send_greeting(struct smtpd_session *s);

static uint64_t next_session_id = 1;

void session_arm_timer(struct smtpd_session *s, int64_t ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    event_add(s->timer_ev, &tv);
}

static void arm_idle_timer(struct smtpd_session *s)
{
    session_arm_timer(s, s->svc->timeout_ms);
}

void session_fill_facts(struct smtpd_session *s)
{
    struct policy_facts *f = &s->facts;
    memset(f, 0, sizeof(*f));
    f->client_addr = &s->addr;
    f->client_addr_text = s->addr_text;
    f->client_name = s->name;
    f->reverse_name = s->reverse_name;
    f->client_port = s->port;
    f->helo = s->helo;
    f->protocol = smtpd_protocol_name(s);
    f->tls = conn_is_secure(&s->conn);
    f->sasl_method = smtpd_auth_method(s);
    f->sasl_username = smtpd_auth_username(s);
    f->size = -1;
    if (s->txn) {
        f->sender = s->txn->mail.addr.text;
        f->recipient_count = (unsigned)s->txn->nrcpt;
        f->size = s->txn->mail.size;
    }
}

static void set_names(struct smtpd_session *s, const char *name, const char *reverse)
{
    str_copy(s->name, sizeof(s->name), name);
    str_copy(s->reverse_name, sizeof(s->reverse_name), reverse);
    snprintf(s->namaddr, sizeof(s->namaddr), "%s[%s]", s->name, s->addr_text);
}

static void connect_checks_done(void *arg, const struct policy_decision *d)
{
    struct smtpd_session *s = arg;
    s->policy_pending = NULL;
    if (!session_unpark(s))
        return;
    if (d->action != POLICY_OK && d->action != POLICY_DUNNO) {
        /* Postfix answers a connect-time rejection at the greeting, then
           keeps refusing; we refuse and close. */
        smtpd_log_reject(s, "CONNECT", d->code, d->enhanced, d->text, NULL);
        smtpd_reply(s, d->code, d->enhanced, "%s", d->text);
        session_close_after_reply(s);
        session_flush(s);
        return;
    }
    send_greeting(s);
}

/* After "connect from": TLS first on a wrapper-mode port, then the checks. */
static void start_connect_checks(struct smtpd_session *s);

static void after_connect(struct smtpd_session *s)
{
    if (s->svc->tls_wrapper && !conn_is_secure(&s->conn)) {
        if (!smtpd_tls_begin(s, true))
            session_shutdown(s);
        return;
    }
    start_connect_checks(s);
}

void session_tls_ready(struct smtpd_session *s, bool wrapper)
{
    arm_idle_timer(s);
    event_add(s->read_ev, NULL);
    if (wrapper) {
        start_connect_checks(s);
        return;
    }
    session_process_input(s);
}

static void start_connect_checks(struct smtpd_session *s)
{
    struct policy_decision d;
    session_fill_facts(s);
    if (policy_check(s->svc->policy, STAGE_CONNECT, &s->facts, &s->policy, &d,
                     connect_checks_done, s, &s->policy_pending)) {
        connect_checks_done(s, &d);
        return;
    }
    session_park(s);
}

static void peer_names_done(void *arg, const struct peer_names *names)
{
    struct smtpd_session *s = arg;
    s->lookup = NULL;
    if (!session_unpark(s))
        return;
    set_names(s, names->name, names->reverse_name);
    if (names->warning[0])
        log_msg(&s->svc->ident, LOG_LEVEL_WARNING, "%s", names->warning);
    smtpd_log_connect(s);
    after_connect(s);
}

struct smtpd_session *session_new(struct smtpd_worker *w, struct smtpd_service *svc,
                                  int fd, const struct netaddr *addr, int port)
{
    struct smtpd_session *s = xcalloc(1, sizeof(*s));
    struct event_base *base = smtpd_worker_base(w);
    s->id = next_session_id++;
    s->worker = w;
    s->svc = svc;
    conn_init(&s->conn, fd);
    buf_init(&s->in, svc->line_limit + 2);
    buf_init(&s->out, 0);
    buf_init(&s->auth_ehlo_line, 4096);
    line_reader_init(&s->lines);
    s->addr = *addr;
    s->port = port;
    netaddr_format(addr, s->addr_text, sizeof(s->addr_text));
    set_names(s, "unknown", "unknown");
    s->state = STATE_LOOKUP;
    s->last_verb = "CONNECT";
    s->connect_us = clock_wall_us();
    policy_session_init(&s->policy);
    s->bare_newline_exempt = svc->bare_newline_exclusions &&
        netlist_match(svc->bare_newline_exclusions, addr, NULL) == MATCH_YES;
    s->read_ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, s);
    s->write_ev = event_new(base, fd, EV_WRITE, on_writable, s);
    s->timer_ev = evtimer_new(base, on_timeout, s);
    s->park_timer_ev = evtimer_new(base, on_park_timer, s);
    /* Read from the start: a client that talks before the greeting is
       caught. Not on a wrapper-mode port: its first bytes are TLS. */
    if (!svc->tls_wrapper)
        event_add(s->read_ev, NULL);
    arm_idle_timer(s);

    if (svc->peername_lookup) {
        session_park(s);
        s->lookup = resolver_peer_names(smtpd_worker_resolver(w), addr, peer_names_done, s);
    } else {
        smtpd_log_connect(s);
        after_connect(s);
    }
    return s;
}

static void send_greeting(struct smtpd_session *s)
{
    if (s->in.len > 0) {
        /* RFC 5321 3.1: the client waits for the greeting. Spam engines
           that don't are refused before they can say anything else. */
        log_msg(&s->svc->ident, LOG_LEVEL_INFO,
                "improper command pipelining after CONNECT from %s: %.100s",
                s->namaddr, buf_cstr(&s->in));
        smtpd_reply(s, 554, "5.5.0", "Error: SMTP protocol synchronization");
        session_close_after_reply(s);
        session_flush(s);
        return;
    }
    s->state = STATE_COMMAND;
    smtpd_reply(s, 220, NULL, "%s", s->svc->banner);
    session_flush(s);
}

void session_park(struct smtpd_session *s)
{
    s->parked = true;
}

bool session_unpark(struct smtpd_session *s)
{
    s->parked = false;
    if (s->dead) {
        if (!s->tarpit_pending)
            session_free(s);
        return false;
    }
    return true;
}

void session_pause_reading(struct smtpd_session *s)
{
    event_del(s->read_ev);
}

void session_resume_reading(struct smtpd_session *s)
{
    if (s->state != STATE_CLOSING && !s->input_eof && !s->read_blocked && !s->dead)
        event_add(s->read_ev, NULL);
}

static void answer_line_problem(struct smtpd_session *s, enum line_status st,
                                const struct line_info *li)
{
    if (st == LINE_TOO_LONG && smtpd_auth_waiting(s)) {
        smtpd_auth_line_too_long(s);
    } else if (st == LINE_TOO_LONG) {
        s->last_verb = "UNKNOWN";
        s->count_total[CNT_UNKNOWN]++;
        smtpd_reply(s, 500, "5.5.2", "Error: line too long");
    } else if (li->nul) {
        s->last_verb = "UNKNOWN";
        s->count_total[CNT_UNKNOWN]++;
        smtpd_reply(s, 500, "5.5.2", "Error: NUL character in command");
    } else {
        /* As Postfix's "reject": refuse and disconnect (the line is not counted). */
        smtpd_log_reject(s, s->last_verb, 0, NULL, "bare <LF> received", NULL);
        smtpd_reply(s, s->svc->bare_newline_reject_code, "5.5.2",
                    "%s Error: bare <LF> received", s->svc->myhostname);
        session_close_after_reply(s);
    }
}

/* True if the bare-newline policy refuses this command line. */
static bool bare_newline_refused(const struct smtpd_session *s, const struct line_info *li)
{
    return s->svc->bare_newline == BARE_NEWLINE_REJECT && !s->bare_newline_exempt &&
           (li->bare_lf || li->bare_cr);
}

/* The longest line accepted now: an AUTH response may be longer than a
   command, up to smtpd_sasl_response_limit, as in Postfix. */
static size_t current_line_limit(const struct smtpd_session *s)
{
    size_t limit = s->svc->line_limit;
    if (s->svc->auth && smtpd_auth_waiting(s) && s->svc->auth->response_limit > limit)
        limit = s->svc->auth->response_limit;
    return limit;
}

/* Handles complete command lines until one parks the session or input runs dry. */
static void process_commands(struct smtpd_session *s)
{
    while (s->state == STATE_COMMAND && !s->parked && !s->tarpit_pending &&
           s->out.len < SESSION_OUTPUT_HIGH_WATER) {
        if (s->error_count >= s->svc->hard_error_limit) {
            log_msg(&s->svc->ident, LOG_LEVEL_INFO, "too many errors after %s from %s",
                    s->last_verb, s->namaddr);
            smtpd_reply(s, 421, "4.7.0", "%s Error: too many errors", s->svc->myhostname);
            session_close_after_reply(s);
            return;
        }
        size_t limit = current_line_limit(s);
        s->in.max = limit + 2;
        struct line_info li;
        enum line_status st = line_next(&s->lines, s->in.data, s->in.len, limit, &li);
        if (st == LINE_NEED_MORE)
            return;
        if (st == LINE_TOO_LONG && s->lines.discarding) {
            buf_consume(&s->in, li.consumed);
            return;
        }
        if (st == LINE_TOO_LONG || li.nul || bare_newline_refused(s, &li)) {
            buf_consume(&s->in, li.consumed);
            answer_line_problem(s, st, &li);
            continue;
        }
        /* The line is consumed before the handler runs (it may park while
           more input arrives and the buffer moves), so it works on a copy.
           CRs before the line end are dropped, as Postfix does ("NOOP\r\r\n"). */
        size_t len = li.len;
        while (len > 0 && s->in.data[len - 1] == '\r')
            len--;
        char *line = xstrndup(s->in.data, len);
        buf_consume(&s->in, li.consumed);
        smtpd_dispatch(s, line, len);
        free(line);
    }
}

void session_process_input(struct smtpd_session *s)
{
    if (s->parked || s->tarpit_pending)
        return;
    /* A pipelined client may have sent the message right behind DATA, and
       the next commands right behind the message: go on while a round
       consumes input. Every such round consumes at least a byte, so the
       buffered input bounds the rounds. */
    for (size_t round = 0; round <= s->in.max; round++) {
        size_t before = s->in.len;
        if (s->state == STATE_DATA)
            smtpd_data_input(s);
        if (s->state == STATE_COMMAND)
            process_commands(s);
        if (s->in.len == 0 || s->in.len == before || s->parked || s->tarpit_pending ||
            (s->state != STATE_DATA && s->state != STATE_COMMAND))
            break;
    }
    /* Idle sessions keep no buffer memory. */
    if (s->in.len == 0)
        buf_release(&s->in);
    if (s->read_blocked && s->in.len < s->in.max && !s->dead) {
        s->read_blocked = false;
        session_resume_reading(s);
    }
    if (s->tarpit_pending)
        return;     /* the tarpit timer flushes */
    if (s->shutting_down && s->state == STATE_COMMAND && !s->parked && s->txn == NULL &&
        !s->dead) {
        /* The worker is stopping and this session has nothing in flight. */
        buf_printf(&s->out, "421 4.3.2 %s Service shutting down\r\n", s->svc->myhostname);
        session_close_after_reply(s);
    }
    if (!session_flush(s) || s->dead)
        return;
    if (s->input_eof && !s->parked && s->state != STATE_CLOSING) {
        smtpd_log_lost(s, "lost connection");
        session_shutdown(s);
    }
}

/*
 * Reads what the socket has, up to the room the input buffer allows. For
 * commands the cap is one line (the line reader discards over-long lines);
 * in DATA the reader consumes every read. With no room (a parked session
 * whose client keeps pipelining) reading stops until input is consumed.
 */
static void read_more(struct smtpd_session *s)
{
    size_t room = s->in.max - s->in.len;
    if (room > SESSION_READ_CHUNK)
        room = SESSION_READ_CHUNK;
    char *p = room ? buf_reserve(&s->in, room) : NULL;
    if (p == NULL) {
        s->read_blocked = true;
        event_del(s->read_ev);
        return;
    }
    ssize_t n = conn_read(&s->conn, p, room);
    if (n > 0) {
        buf_commit(&s->in, (size_t)n);
        return;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        s->input_eof = true;
        event_del(s->read_ev);
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_session *s = arg;
    if (s->state == STATE_TLS) {
        if (!s->tls_after_flush)
            smtpd_tls_event(s);
        return;
    }
    read_more(s);
    if (s->state == STATE_COMMAND || s->state == STATE_DATA)
        arm_idle_timer(s);
    if (s->state == STATE_LOOKUP || s->parked || s->tarpit_pending) {
        if (s->input_eof && !s->tarpit_pending) {
            /* Gone while we were busy: finish when the answer arrives. */
            smtpd_log_lost(s, "lost connection");
            session_shutdown(s);
        }
        return;
    }
    session_process_input(s);
}

bool session_flush(struct smtpd_session *s)
{
    while (s->out.len > 0) {
        ssize_t n = conn_write(&s->conn, s->out.data, s->out.len);
        if (n > 0) {
            buf_consume(&s->out, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(s->write_ev, NULL);
            return true;
        }
        /* The client is gone; nothing more to say. */
        buf_reset(&s->out);
        s->input_eof = true;
        if (s->state != STATE_CLOSING)
            smtpd_log_lost(s, "lost connection");
        return !session_shutdown(s);
    }
    buf_release(&s->out);
    if (s->state == STATE_CLOSING)
        return !session_shutdown(s);
    if (s->tls_after_flush) {
        /* The 220 to STARTTLS is out: now the handshake. */
        s->tls_after_flush = false;
        if (!smtpd_tls_begin(s, false))
            return !session_shutdown(s);
    }
    return true;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_session *s = arg;
    if (s->state == STATE_TLS && !s->tls_after_flush) {
        smtpd_tls_event(s);
        return;
    }
    if (!session_flush(s))
        return;
    /* Output drained below the high-water mark: resume pipelined commands. */
    if (s->state == STATE_COMMAND && s->out.len == 0 && !s->parked && !s->dead)
        session_process_input(s);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_session *s = arg;
    if (s->parked || s->tarpit_pending) {
        arm_idle_timer(s);      /* our own delays are not the client's fault */
        return;
    }
    if (s->state == STATE_TLS) {
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "timeout after %s from %s",
                s->tls_wrapper ? "CONNECT" : "STARTTLS", s->namaddr);
        session_shutdown(s);
        return;
    }
    smtpd_log_lost(s, "timeout");
    smtpd_reply(s, 421, "4.4.2", "%s Error: timeout exceeded", s->svc->myhostname);
    session_close_after_reply(s);
    session_flush(s);
}

/* The tarpit: replies are held for smtpd_error_sleep_time, then sent. */
static void on_park_timer(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_session *s = arg;
    s->tarpit_pending = false;
    if (s->dead) {
        if (!s->parked)
            session_free(s);
        return;
    }
    if (!session_flush(s))
        return;
    if (s->state != STATE_CLOSING && !s->dead)
        session_process_input(s);
}

void smtpd_session_start_tarpit(struct smtpd_session *s)
{
    if (s->tarpit_pending)
        return;
    s->tarpit_pending = true;
    int64_t ms = s->svc->error_sleep_ms;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    event_add(s->park_timer_ev, &tv);
}

void session_close_after_reply(struct smtpd_session *s)
{
    s->state = STATE_CLOSING;
    event_del(s->read_ev);
}

void session_enter_data(struct smtpd_session *s)
{
    s->state = STATE_DATA;
    /* Message content is read in large chunks; command lines in small ones. */
    s->in.max = SESSION_READ_CHUNK > s->in.max ? SESSION_READ_CHUNK : s->in.max;
}

void session_leave_data(struct smtpd_session *s)
{
    if (s->state == STATE_DATA)
        s->state = STATE_COMMAND;
    s->in.max = s->svc->line_limit + 2;
}

/*
 * Ends the session: logs the disconnect once, then frees it now (returns
 * true: the caller must not touch it again), or when its parked operation
 * completes, or when a held (tarpit) reply has been sent.
 */
bool session_shutdown(struct smtpd_session *s)
{
    if (s->dead)
        return false;
    s->dead = true;
    event_del(s->read_ev);
    event_del(s->write_ev);
    event_del(s->timer_ev);
    smtpd_log_disconnect(s);
    if (s->lookup) {
        resolver_cancel(s->lookup);
        s->lookup = NULL;
        s->parked = false;
    }
    if (s->policy_pending) {
        policy_cancel(s->policy_pending);
        s->policy_pending = NULL;
        s->parked = false;
    }
    if (s->parked || s->tarpit_pending)
        return false;       /* the completion frees it */
    session_free(s);
    return true;
}

static void session_free(struct smtpd_session *s)
{
    smtpd_txn_free(s);
    conn_close(&s->conn);
    event_free(s->read_ev);
    event_free(s->write_ev);
    event_free(s->timer_ev);
    event_free(s->park_timer_ev);
    buf_free(&s->in);
    buf_free(&s->out);
    buf_free(&s->auth_ehlo_line);
    smtpd_auth_free(s);
    free(s->helo);
    smtp_rcpt_args_free(&s->pending_rcpt);
    smtpd_worker_session_closed(s->worker, s);
    free(s);
}
