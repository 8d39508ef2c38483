/*
 * smtpd_sasl_type = dovecot: the auth process is a client of Dovecot's
 * auth server and relays whole exchanges to it, as Postfix does.
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
 * Life cycle: connect, handshake (VERSION/CPID out; VERSION, MECH...,
 * DONE in, within DOVECOT_HANDSHAKE_MS), then ready. Requests started
 * during the handshake wait for it (bounded in number and time). When the
 * connection drops, every request in flight fails temporarily, the last
 * mechanism list is kept, and reconnects follow with a backoff
 * (DOVECOT_RETRY_MIN_MS doubling to DOVECOT_RETRY_MAX_MS). Anything
 * malformed from Dovecot is logged and handled the same way.
 */
#include "auth/backend.h"

#include "auth/dovecot_proto.h"
#include "auth/proto.h"
#include "base/base64.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "ipc/idmap.h"
#include "ipc/stream.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOVECOT_RETRY_MIN_MS 1000
#define DOVECOT_RETRY_MAX_MS 10000
#define DOVECOT_HANDSHAKE_MS 10000
/* A request Dovecot leaves unanswered this long fails temporarily (its penalty is <= 15 s). */
#define DOVECOT_REQUEST_MS 60000
/* Requests in flight at once; more fail temporarily. */
#define DOVECOT_REQUESTS_MAX 8192

enum dc_state { DC_DOWN, DC_CONNECTING, DC_HANDSHAKE, DC_READY };

struct dovecot_backend {
    struct backend base;
    const struct backend_env *env;
    char *label;                    /* for logs: the path or inet:host:port */
    char *path;                     /* unix socket, or NULL for TCP */
    struct sockaddr_storage addr;
    unsigned addr_len;
    struct ipc_stream *stream;
    enum dc_state state;
    bool got_version;
    struct event *retry_ev, *hs_timer;
    unsigned retry_ms;
    bool outage_logged;
    struct idmap *requests;         /* id -> struct backend_exchange */
    /* the mechanism list: current, and the one a handshake is collecting */
    struct mech_info *mechs, *new_mechs;
    size_t nnew;
    struct auth_mech_list list;
    bool list_known;
    char *reason_copy;              /* storage behind an immediate reply's reason */
};

struct backend_exchange {
    struct dovecot_backend *b;
    uint32_t id;
    bool sent;                      /* the AUTH line went out (else: waiting for the handshake) */
    char *line;                     /* the AUTH line while waiting */
    backend_reply_fn fn;
    void *arg;
    struct event *timer;
};

static void try_connect(struct dovecot_backend *b);
static void connection_lost(struct dovecot_backend *b, const char *why);

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

static bool same_list(const struct dovecot_backend *b)
{
    if (!b->list_known || b->list.count != b->nnew)
        return false;
    for (size_t i = 0; i < b->nnew; i++)
        if (strcmp(b->mechs[i].name, b->new_mechs[i].name) != 0 ||
            b->mechs[i].flags != b->new_mechs[i].flags)
            return false;
    return true;
}

/* The handshake's list replaces the current one; workers hear of a change. */
static void adopt_new_list(struct dovecot_backend *b)
{
    bool changed = !same_list(b);
    free_mech_array(b->mechs, b->list.count);
    b->mechs = b->new_mechs;
    b->list.count = b->nnew;
    b->list.mechs = b->mechs;
    b->list_known = true;
    b->new_mechs = NULL;
    b->nnew = 0;
    if (changed)
        backend_notify_mechs(&b->base);
}

/* ---- exchanges ---- */

static void exchange_free(struct backend_exchange *x)
{
    if (x->timer)
        event_free(x->timer);
    free(x->line);
    free(x);
}

static void finish(struct backend_exchange *x, const struct auth_reply *r)
{
    idmap_remove(x->b->requests, x->id);
    backend_reply_fn fn = x->fn;
    void *arg = x->arg;
    exchange_free(x);
    fn(arg, r);
}

static void fail(struct backend_exchange *x, const char *reason, bool temporary)
{
    struct auth_reply r = { .kind = AUTH_REPLY_FAILURE, .reason = reason,
                            .temporary = temporary };
    finish(x, &r);
}

static void send_cancel(struct dovecot_backend *b, uint32_t id)
{
    if (b->state != DC_READY)
        return;
    char line[32];
    int n = snprintf(line, sizeof(line), "CANCEL\t%u\n", (unsigned)id);
    ipc_stream_write(b->stream, line, (size_t)n);
}

static void on_request_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct backend_exchange *x = arg;
    log_warning("dovecot auth server %s: no answer to request %u in time", x->b->label,
                (unsigned)x->id);
    if (x->sent)
        send_cancel(x->b, x->id);
    fail(x, "no answer from the Dovecot auth server", true);
}

static void arm(struct backend_exchange *x, int ms)
{
    if (x->timer == NULL)
        x->timer = evtimer_new(x->b->env->base, on_request_timeout, x);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(x->timer, &tv);
}

static void send_line(struct backend_exchange *x)
{
    struct dovecot_backend *b = x->b;
    if (!ipc_stream_write(b->stream, x->line, strlen(x->line)))
        return;                     /* the stream's end fails every request */
    free(x->line);
    x->line = NULL;
    x->sent = true;
    arm(x, DOVECOT_REQUEST_MS);
}

static struct backend_exchange *now_fail(struct auth_reply *now, const char *reason, bool temp)
{
    *now = (struct auth_reply){ .kind = AUTH_REPLY_FAILURE, .reason = reason,
                                .temporary = temp };
    return NULL;
}

static struct backend_exchange *dc_start(struct backend *base, const struct backend_request *rq,
                                         backend_reply_fn fn, void *arg, struct auth_reply *now)
{
    struct dovecot_backend *b = (struct dovecot_backend *)base;
    if (b->state == DC_DOWN)
        return now_fail(now, "Dovecot auth server not connected", true);
    if (idmap_count(b->requests) >= DOVECOT_REQUESTS_MAX)
        return now_fail(now, "too many Dovecot auth requests in flight", true);
    struct backend_exchange *x = xcalloc(1, sizeof(*x));
    x->b = b;
    x->fn = fn;
    x->arg = arg;
    x->id = idmap_add(b->requests, x);
    struct buf line;
    buf_init(&line, 2 * DOVECOT_LINE_MAX);
    const char *why = NULL;
    if (!dovecot_format_auth(&line, x->id, rq->sasl_service, rq->info, &why)) {
        buf_free(&line);
        idmap_remove(b->requests, x->id);
        exchange_free(x);
        return now_fail(now, why, false);
    }
    x->line = buf_steal(&line);
    if (b->state == DC_READY)
        send_line(x);
    else
        arm(x, DOVECOT_HANDSHAKE_MS);   /* waits for the handshake */
    return x;
}

static bool dc_step(struct backend_exchange *x, const uint8_t *data, size_t len,
                    struct auth_reply *now)
{
    struct dovecot_backend *b = x->b;
    const char *why = NULL;
    if (!dovecot_format_cont(ipc_stream_output(b->stream), x->id, data, len, &why)) {
        send_cancel(b, x->id);
        idmap_remove(b->requests, x->id);
        exchange_free(x);
        now_fail(now, why, false);
        return false;
    }
    ipc_stream_flush(b->stream);
    arm(x, DOVECOT_REQUEST_MS);
    return true;
}

static void dc_abort(struct backend_exchange *x)
{
    if (x->sent)
        send_cancel(x->b, x->id);
    idmap_remove(x->b->requests, x->id);
    exchange_free(x);
}

/* ---- replies ---- */

static void on_reply(struct dovecot_backend *b, const struct dovecot_reply *d)
{
    struct backend_exchange *x = idmap_get(b->requests, d->id);
    if (x == NULL || !x->sent)
        return;                     /* cancelled meanwhile */
    struct auth_reply r = { 0 };
    if (d->kind == DOVECOT_REPLY_CONT) {
        struct buf raw;
        buf_init(&raw, DOVECOT_LINE_MAX);
        if (!base64_decode(d->data, strlen(d->data), &raw)) {
            buf_free(&raw);
            log_warning("dovecot auth server %s: malformed challenge for request %u", b->label,
                        (unsigned)d->id);
            send_cancel(b, d->id);
            fail(x, "malformed reply from the Dovecot auth server", true);
            return;
        }
        event_del(x->timer);        /* the SMTP client's turn */
        r = (struct auth_reply){ .kind = AUTH_REPLY_CHALLENGE,
                                 .data = (const uint8_t *)(raw.data ? raw.data : ""),
                                 .len = raw.len };
        x->fn(x->arg, &r);
        buf_free(&raw);
        return;
    }
    r.kind = d->kind == DOVECOT_REPLY_OK ? AUTH_REPLY_SUCCESS : AUTH_REPLY_FAILURE;
    r.username = d->user;
    r.reason = d->reason && d->reason[0] ? d->reason : "authentication failure";
    r.temporary = d->temporary;
    finish(x, &r);
}

/* ---- handshake ---- */

static void handshake_done(struct dovecot_backend *b)
{
    event_del(b->hs_timer);
    b->state = DC_READY;
    b->retry_ms = DOVECOT_RETRY_MIN_MS;
    if (b->outage_logged)
        log_info("dovecot auth server %s: connected", b->label);
    b->outage_logged = false;
    adopt_new_list(b);
    size_t n;
    void **all = idmap_take_all(b->requests, &n);
    for (size_t i = 0; i < n; i++)
        idmap_put(b->requests, ((struct backend_exchange *)all[i])->id, all[i]);
    for (size_t i = 0; i < n; i++) {
        struct backend_exchange *x = all[i];
        if (!x->sent)
            send_line(x);
    }
    free(all);
}

static bool handshake_line(struct dovecot_backend *b, const struct dovecot_line *l,
                           const char **why)
{
    const char *cmd = l->argv[0];
    if (!b->got_version) {
        b->got_version = dovecot_parse_version(l, why);
        return b->got_version;
    }
    if (strcmp(cmd, "MECH") == 0) {
        const char *name;
        unsigned flags;
        bool usable;
        if (!dovecot_parse_mech(l, &name, &flags, &usable, why))
            return false;
        if (usable && b->nnew < AUTH_MECHS_MAX) {
            b->new_mechs = xrealloc(b->new_mechs, (b->nnew + 1) * sizeof(*b->new_mechs));
            char *upper = xstrdup(name);
            for (char *p = upper; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                    *p = (char)(*p - 'a' + 'A');
            b->new_mechs[b->nnew++] = (struct mech_info){ upper, flags };
        }
    } else if (strcmp(cmd, "DONE") == 0) {
        handshake_done(b);
    }
    return true;                    /* SPID, CUID, COOKIE and anything new: ignored */
}

static bool handle_line(struct dovecot_backend *b, char *text, const char **why)
{
    struct dovecot_line l;
    if (!dovecot_split(text, &l, why))
        return false;
    if (b->state == DC_HANDSHAKE)
        return handshake_line(b, &l, why);
    struct dovecot_reply d;
    bool is_reply;
    if (!dovecot_parse_reply(&l, &d, &is_reply, why))
        return false;
    if (is_reply)
        on_reply(b, &d);
    return true;
}

static void on_input(struct ipc_stream *s, struct buf *in, void *arg)
{
    struct dovecot_backend *b = arg;
    /* Bounded: each pass consumes a line of the capped input buffer. */
    while (b->stream == s && ipc_stream_is_open(s)) {
        char *nl = memchr(in->data, '\n', in->len);
        if (nl == NULL) {
            if (in->len > DOVECOT_LINE_MAX)
                connection_lost(b, "line too long");
            return;
        }
        *nl = '\0';
        size_t used = (size_t)(nl - in->data) + 1;
        char *line = xstrndup(in->data, used - 1);
        buf_consume(in, used);
        const char *why = NULL;
        bool ok = used - 1 <= DOVECOT_LINE_MAX && handle_line(b, line, &why);
        free(line);
        if (!ok) {
            log_warning("dovecot auth server %s: malformed input: %s", b->label,
                        why ? why : "line too long");
            connection_lost(b, "malformed input");
            return;
        }
    }
}

/* ---- connection ---- */

static void schedule_retry(struct dovecot_backend *b)
{
    struct timeval tv = { b->retry_ms / 1000, (b->retry_ms % 1000) * 1000 };
    evtimer_add(b->retry_ev, &tv);
    b->retry_ms = b->retry_ms * 2 > DOVECOT_RETRY_MAX_MS ? DOVECOT_RETRY_MAX_MS : b->retry_ms * 2;
}

static void connection_lost(struct dovecot_backend *b, const char *why)
{
    if (!b->outage_logged)
        log_warning("dovecot auth server %s: %s (will retry)", b->label, why);
    b->outage_logged = true;
    ipc_stream_free(b->stream);
    b->stream = NULL;
    b->state = DC_DOWN;
    event_del(b->hs_timer);
    free_mech_array(b->new_mechs, b->nnew);
    b->new_mechs = NULL;
    b->nnew = 0;
    size_t n;
    void **all = idmap_take_all(b->requests, &n);
    for (size_t i = 0; i < n; i++) {
        struct backend_exchange *x = all[i];
        x->id = 0;                  /* already out of the table */
        fail(x, "lost the connection to the Dovecot auth server", true);
    }
    free(all);
    schedule_retry(b);
}

static void on_closed(struct ipc_stream *s, const char *why, void *arg)
{
    connection_lost(arg, why);
}

static void send_handshake(struct dovecot_backend *b)
{
    struct buf *out = ipc_stream_output(b->stream);
    buf_printf(out, "VERSION\t%d\t%d\nCPID\t%ld\n", DOVECOT_MAJOR_VERSION,
               DOVECOT_MINOR_VERSION, (long)getpid());
    ipc_stream_flush(b->stream);
}

static void on_connected(struct ipc_stream *s, void *arg)
{
    struct dovecot_backend *b = arg;
    b->state = DC_HANDSHAKE;
    send_handshake(b);
}

static void on_handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
    connection_lost(arg, "no complete handshake in time");
}

static const struct ipc_stream_handlers dc_handlers = { on_input, on_closed, on_connected };

static void try_connect(struct dovecot_backend *b)
{
    bool in_progress = false;
    int fd = b->path ? ipc_unix_connect(b->path)
                     : ipc_tcp_connect((struct sockaddr *)&b->addr, b->addr_len, &in_progress);
    if (fd < 0) {
        if (!b->outage_logged)
            log_warning("dovecot auth server %s: cannot connect: %s (will retry)", b->label,
                        strerror(errno));
        b->outage_logged = true;
        schedule_retry(b);
        return;
    }
    b->got_version = false;
    b->state = in_progress ? DC_CONNECTING : DC_HANDSHAKE;
    b->stream = ipc_stream_new(b->env->base, fd, in_progress, 4 * DOVECOT_LINE_MAX,
                               64 * DOVECOT_LINE_MAX, &dc_handlers, b);
    struct timeval tv = { DOVECOT_HANDSHAKE_MS / 1000, 0 };
    evtimer_add(b->hs_timer, &tv);
    if (!in_progress)
        send_handshake(b);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    try_connect(arg);
}

static void dc_free(struct backend *base)
{
    struct dovecot_backend *b = (struct dovecot_backend *)base;
    size_t n;
    void **all = idmap_take_all(b->requests, &n);
    for (size_t i = 0; i < n; i++)
        exchange_free(all[i]);
    free(all);
    idmap_free(b->requests);
    ipc_stream_free(b->stream);
    event_free(b->retry_ev);
    event_free(b->hs_timer);
    free_mech_array(b->mechs, b->list.count);
    free_mech_array(b->new_mechs, b->nnew);
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
    b->requests = idmap_new();
    b->retry_ms = DOVECOT_RETRY_MIN_MS;
    b->retry_ev = evtimer_new(env->base, on_retry, b);
    b->hs_timer = evtimer_new(env->base, on_handshake_timeout, b);
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
