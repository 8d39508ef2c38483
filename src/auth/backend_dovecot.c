/*
 * smtpd_sasl_type = dovecot: the auth process is a client of Dovecot's
 * auth server and relays whole exchanges to it, as Postfix does. This
 * file is the backend and its exchanges; dovecot_conn.c the connections.
 *
 * Where: smtpd_sasl_path names the socket. A relative path is under
 * queue_directory (Postfix's "private/auth"), an absolute one is used as
 * is, and "inet:host:port" is TCP (the host is resolved at start-up).
 *
 * One connection per backend, multiplexing every exchange by request id,
 * on the auth process's event loop (non-blocking; no thread waits on
 * Dovecot). Each AUTH request carries the client's address and port, our
 * address and port and whether TLS is on (rip=, rport=, lip=, lport=,
 * secured), so Dovecot's allow_nets, login penalty and plaintext rules
 * see the real SMTP client.
 *
 * Requests started during a handshake wait for it (bounded in number and
 * time). When the connection drops, every request on it fails
 * temporarily, the last mechanism list is kept, and reconnects follow
 * with a backoff (DOVECOT_RETRY_MIN_MS doubling to DOVECOT_RETRY_MAX_MS).
 * A connection older than DOVECOT_RECYCLE_MS is replaced at the next
 * request (see dovecot_priv.h), so a reloaded Dovecot is picked up.
 */
#include "auth/backend.h"

#include "auth/dovecot_priv.h"
#include "auth/proto.h"
#include "base/base64.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "ipc/idmap.h"
#include "ipc/stream.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void schedule_retry(struct dovecot_backend *b);

/* ---- mechanism list ---- */

static void free_mech_array(struct mech_info *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++)
        free((char *)m[i].name);
    free(m);
}

static const struct auth_mech_list *dc_mechs(struct backend *base)
{
    struct dovecot_backend *b = (struct dovecot_backend *)base;
    return b->list_known ? &b->list : NULL;
}

static bool same_list(const struct dovecot_backend *b, const struct dc_conn *c)
{
    if (!b->list_known || b->list.count != c->nmechs)
        return false;
    for (size_t i = 0; i < c->nmechs; i++)
        if (strcmp(b->mechs[i].name, c->mechs[i].name) != 0 ||
            b->mechs[i].flags != c->mechs[i].flags)
            return false;
    return true;
}

/* A finished handshake's list replaces the current one; workers hear of a change. */
static void adopt_list(struct dovecot_backend *b, struct dc_conn *c)
{
    bool changed = !same_list(b, c);
    free_mech_array(b->mechs, b->list.count);
    b->mechs = c->mechs;
    b->list.count = c->nmechs;
    b->list.mechs = b->mechs;
    b->list_known = true;
    c->mechs = NULL;
    c->nmechs = 0;
    if (changed)
        backend_notify_mechs(&b->base);
}

/* ---- exchanges ---- */

void dovecot_exchange_free(struct backend_exchange *x)
{
    if (x->timer)
        event_free(x->timer);
    free(x->line);
    free(x);
}

static void finish(struct backend_exchange *x, const struct auth_reply *r)
{
    dc_conn_remove(x);
    backend_reply_fn fn = x->fn;
    void *arg = x->arg;
    dovecot_exchange_free(x);
    fn(arg, r);
}

void dovecot_exchange_fail(struct backend_exchange *x, const char *reason, bool temporary)
{
    struct auth_reply r = { .kind = AUTH_REPLY_FAILURE, .reason = reason,
                            .temporary = temporary };
    finish(x, &r);
}

static void on_request_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct backend_exchange *x = arg;
    log_warning("dovecot auth server %s: no answer to request %u in time",
                x->conn ? x->conn->b->label : "", (unsigned)x->id);
    if (x->sent)
        dc_conn_cancel(x->conn, x->id);
    dovecot_exchange_fail(x, "no answer from the Dovecot auth server", true);
}

static void arm(struct backend_exchange *x, struct event_base *base, int ms)
{
    if (x->timer == NULL)
        x->timer = evtimer_new(base, on_request_timeout, x);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(x->timer, &tv);
}

static void send_line(struct backend_exchange *x)
{
    struct dc_conn *c = x->conn;
    if (!dc_conn_write(c, x->line, strlen(x->line)))
        return;                     /* the stream's end fails every request */
    free(x->line);
    x->line = NULL;
    x->sent = true;
    arm(x, c->b->env->base, DOVECOT_REQUEST_MS);
}

static struct backend_exchange *now_fail(struct auth_reply *now, const char *reason, bool temp)
{
    *now = (struct auth_reply){ .kind = AUTH_REPLY_FAILURE, .reason = reason,
                                .temporary = temp };
    return NULL;
}

/* The connection for a new request: the current one, replaced first if it is old. */
static struct dc_conn *conn_for_request(struct dovecot_backend *b)
{
    struct dc_conn *c = b->cur;
    if (c == NULL || c->state != DC_READY ||
        clock_mono_us() - c->opened_us < (int64_t)DOVECOT_RECYCLE_MS * 1000)
        return c;
    struct dc_conn *fresh = dc_conn_open(b);
    if (fresh == NULL)
        return c;                   /* keep the old one while the new cannot connect */
    b->cur = fresh;
    dc_conn_drain(c);
    return fresh;
}

static struct backend_exchange *dc_start(struct backend *base, const struct backend_request *rq,
                                         backend_reply_fn fn, void *arg, struct auth_reply *now)
{
    struct dovecot_backend *b = (struct dovecot_backend *)base;
    struct dc_conn *c = conn_for_request(b);
    if (c == NULL)
        return now_fail(now, "Dovecot auth server not connected", true);
    struct backend_exchange *x = xcalloc(1, sizeof(*x));
    x->fn = fn;
    x->arg = arg;
    if (!dc_conn_add(c, x)) {
        dovecot_exchange_free(x);
        return now_fail(now, "too many Dovecot auth requests in flight", true);
    }
    struct buf line;
    buf_init(&line, 2 * DOVECOT_LINE_MAX);
    const char *why = NULL;
    if (!dovecot_format_auth(&line, x->id, rq->sasl_service, rq->info, &why)) {
        buf_free(&line);
        dc_conn_remove(x);
        dovecot_exchange_free(x);
        return now_fail(now, why, false);
    }
    x->line = buf_steal(&line);
    if (c->state == DC_READY)
        send_line(x);
    else
        arm(x, b->env->base, DOVECOT_HANDSHAKE_MS);   /* waits for the handshake */
    return x;
}

static bool dc_step(struct backend_exchange *x, const uint8_t *data, size_t len,
                    struct auth_reply *now)
{
    struct dc_conn *c = x->conn;
    struct buf line;
    buf_init(&line, 2 * DOVECOT_LINE_MAX);
    const char *why = NULL;
    bool ok = dovecot_format_cont(&line, x->id, data, len, &why);
    if (ok)
        dc_conn_write(c, line.data, line.len);  /* a failed write ends the connection */
    buf_free(&line);
    if (!ok) {
        dc_conn_cancel(c, x->id);
        dc_conn_remove(x);
        dovecot_exchange_free(x);
        now_fail(now, why, false);
        return false;
    }
    arm(x, c->b->env->base, DOVECOT_REQUEST_MS);
    return true;
}

static void dc_abort(struct backend_exchange *x)
{
    if (x->sent)
        dc_conn_cancel(x->conn, x->id);
    dc_conn_remove(x);
    dovecot_exchange_free(x);
}

/* ---- from the connections ---- */

void dovecot_reply(struct dc_conn *c, const struct dovecot_reply *d)
{
    struct backend_exchange *x = idmap_get(c->requests, d->id);
    if (x == NULL || !x->sent)
        return;                     /* cancelled meanwhile */
    if (d->kind != DOVECOT_REPLY_CONT) {
        struct auth_reply r = {
            .kind = d->kind == DOVECOT_REPLY_OK ? AUTH_REPLY_SUCCESS : AUTH_REPLY_FAILURE,
            .username = d->user,
            .reason = d->reason && d->reason[0] ? d->reason : "authentication failure",
            .temporary = d->temporary,
        };
        finish(x, &r);
        return;
    }
    struct buf raw;
    buf_init(&raw, DOVECOT_LINE_MAX);
    if (!base64_decode(d->data, strlen(d->data), &raw)) {
        buf_free(&raw);
        log_warning("dovecot auth server %s: malformed challenge for request %u", c->b->label,
                    (unsigned)d->id);
        dc_conn_cancel(c, d->id);
        dovecot_exchange_fail(x, "malformed reply from the Dovecot auth server", true);
        return;
    }
    event_del(x->timer);            /* the SMTP client's turn */
    struct auth_reply r = { .kind = AUTH_REPLY_CHALLENGE,
                            .data = (const uint8_t *)(raw.data ? raw.data : ""),
                            .len = raw.len };
    x->fn(x->arg, &r);
    buf_free(&raw);
}

void dovecot_handshake_done(struct dc_conn *c)
{
    struct dovecot_backend *b = c->b;
    if (c != b->cur)
        return;
    b->retry_ms = DOVECOT_RETRY_MIN_MS;
    if (b->outage_logged)
        log_info("dovecot auth server %s: connected", b->label);
    b->outage_logged = false;
    adopt_list(b, c);
    /* Send what waited for the handshake (a snapshot: sends never call back). */
    size_t n;
    void **all = idmap_take_all(c->requests, &n);
    for (size_t i = 0; i < n; i++)
        idmap_put(c->requests, ((struct backend_exchange *)all[i])->id, all[i]);
    for (size_t i = 0; i < n; i++)
        if (!((struct backend_exchange *)all[i])->sent)
            send_line(all[i]);
    free(all);
}

void dovecot_conn_gone(struct dc_conn *c, const char *why)
{
    struct dovecot_backend *b = c->b;
    if (c != b->cur)
        return;                     /* a drained one: nothing to do */
    b->cur = NULL;
    if (!b->outage_logged)
        log_warning("dovecot auth server %s: %s (will retry)", b->label, why);
    b->outage_logged = true;
    schedule_retry(b);
}

/* ---- connecting ---- */

static void schedule_retry(struct dovecot_backend *b)
{
    struct timeval tv = { b->retry_ms / 1000, (b->retry_ms % 1000) * 1000 };
    evtimer_add(b->retry_ev, &tv);
    b->retry_ms = b->retry_ms * 2 > DOVECOT_RETRY_MAX_MS ? DOVECOT_RETRY_MAX_MS : b->retry_ms * 2;
}

static void try_connect(struct dovecot_backend *b)
{
    b->cur = dc_conn_open(b);
    if (b->cur)
        return;
    if (!b->outage_logged)
        log_warning("dovecot auth server %s: cannot connect: %s (will retry)", b->label,
                    strerror(errno));
    b->outage_logged = true;
    schedule_retry(b);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct dovecot_backend *b = arg;
    if (b->cur == NULL)
        try_connect(b);
}

static void dc_free(struct backend *base)
{
    struct dovecot_backend *b = (struct dovecot_backend *)base;
    while (b->conns)
        dc_conn_free_now(b->conns);
    event_free(b->retry_ev);
    free_mech_array(b->mechs, b->list.count);
    free(b->label);
    free(b->path);
    free(b);
}

static const struct backend_ops dovecot_ops = {
    .type = "dovecot",
    .mechs = dc_mechs,
    .start = dc_start,
    .step = dc_step,
    .abort = dc_abort,
    .free = dc_free,
};

/* smtpd_sasl_path into a socket path or a resolved TCP address. */
static bool locate(struct dovecot_backend *b, const struct config *cfg, struct diag *diag)
{
    const char *p = cfg_str(cfg, P_SMTPD_SASL_PATH);
    if (strncmp(p, "inet:", 5) == 0) {
        const char *hp = p + 5;
        const char *colon = strrchr(hp, ':');
        if (colon == NULL || colon == hp || colon[1] == '\0') {
            diag_add(diag, DIAG_ERROR, cfg_origin(cfg, P_SMTPD_SASL_PATH),
                     "smtpd_sasl_path = %s: expected inet:host:port", p);
            return false;
        }
        char *host = xstrndup(hp, (size_t)(colon - hp));
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host) - 2);
            host[strlen(host) - 2] = '\0';
        }
        struct buf why;
        buf_init(&why, 512);
        bool ok = ipc_tcp_resolve(host, colon + 1, &b->addr, &b->addr_len, &why);
        if (!ok)
            diag_add(diag, DIAG_ERROR, cfg_origin(cfg, P_SMTPD_SASL_PATH),
                     "smtpd_sasl_path = %s: %s", p, buf_cstr(&why));
        buf_free(&why);
        free(host);
        b->label = xstrdup(p);
        return ok;
    }
    b->path = p[0] == '/' ? xstrdup(p)
                          : xasprintf("%s/%s", cfg_str(cfg, P_QUEUE_DIRECTORY), p);
    b->label = xstrdup(b->path);
    return true;
}

struct backend *backend_dovecot_new(const struct backend_env *env, const struct config *cfg,
                                    struct diag *diag)
{
    struct dovecot_backend *b = xcalloc(1, sizeof(*b));
    b->base.ops = &dovecot_ops;
    b->env = env;
    if (!locate(b, cfg, diag)) {
        free(b->label);
        free(b->path);
        free(b);
        return NULL;
    }
    b->retry_ms = DOVECOT_RETRY_MIN_MS;
    b->retry_ev = evtimer_new(env->base, on_retry, b);
    try_connect(b);
    return &b->base;
}

bool backend_dovecot_check(const struct config *cfg, struct diag *diag)
{
    struct dovecot_backend b = { 0 };
    bool ok = locate(&b, cfg, diag);
    struct stat st;
    if (ok && b.path && (stat(b.path, &st) != 0 || !S_ISSOCK(st.st_mode)))
        diag_add(diag, DIAG_WARNING, cfg_origin(cfg, P_SMTPD_SASL_PATH),
                 "smtpd_sasl_path: no Dovecot auth socket at %s (is Dovecot's "
                 "\"unix_listener\" for it configured and running?)", b.path);
    free(b.label);
    free(b.path);
    return ok;
}
