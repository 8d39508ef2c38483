/*
 * The worker-side auth client; see client.h.
 *
 * Exchanges talking to the auth process live in an id table (ipc/idmap.h)
 * under the request id they were started with: a reply is matched by id,
 * so a late reply for an aborted exchange finds nothing and is dropped.
 * Exchanges that failed before reaching the auth process (not connected,
 * request refused) wait on a short "deferred" list that a zero-delay
 * event drains, which keeps callbacks out of the caller's own call.
 *
 * The mechanism lists of the services are cached from AUTH_MECHS messages:
 * the auth process sends every service's list when a worker connects (the
 * worker asks with an empty service name) and again whenever a backend's
 * list changes (Dovecot reconnected). The cache is dropped with the
 * connection, so AUTH is not offered while nobody could answer it.
 *
 * A malformed frame from the auth process is a bug there: logged, the
 * connection closed, the exchanges in flight failed temporarily, and a
 * new connection tried after the backoff.
 */
#include "auth/client.h"

#include "auth/proto.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "ipc/idmap.h"
#include "ipc/stream.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* Output: a few full-size responses; input: one full frame plus reading room. */
#define CLIENT_OUT_MAX (4 * (size_t)IPC_FRAME_MAX)
#define CLIENT_IN_MAX (2 * (size_t)IPC_FRAME_MAX)

struct svc_mechs {
    char *service;
    struct auth_mech_list list;
    struct mech_info *mechs;
    char **names;
};

struct auth_exchange {
    struct auth_client *c;
    uint32_t id;                    /* 0 while deferred */
    auth_reply_fn fn;
    void *arg;
    bool awaiting_step;             /* a CHALLENGE was delivered */
    struct event *timer;
    /* deferred failure */
    struct auth_exchange *next_deferred;
    const char *deferred_reason;
    bool deferred_temporary;
};

struct auth_client {
    struct event_base *base;
    char *path;
    struct ipc_stream *stream;
    struct event *retry_ev;
    unsigned retry_ms;
    bool outage_logged;
    struct event *deferred_ev;
    struct auth_exchange *deferred;
    struct idmap *exchanges;
    struct svc_mechs *svcs;
    size_t nsvcs;
};

static void try_connect(struct auth_client *c);

/* ---- mechanism cache ---- */

static void svc_clear(struct svc_mechs *s)
{
    for (size_t i = 0; i < s->list.count; i++)
        free(s->names[i]);
    free(s->names);
    free(s->mechs);
    free(s->service);
}

static void cache_clear(struct auth_client *c)
{
    for (size_t i = 0; i < c->nsvcs; i++)
        svc_clear(&c->svcs[i]);
    free(c->svcs);
    c->svcs = NULL;
    c->nsvcs = 0;
}

static void cache_remove(struct auth_client *c, const char *service)
{
    for (size_t i = 0; i < c->nsvcs; i++)
        if (strcmp(c->svcs[i].service, service) == 0) {
            svc_clear(&c->svcs[i]);
            c->svcs[i] = c->svcs[--c->nsvcs];
            return;
        }
}

static void upper(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

static void cache_store(struct auth_client *c, const struct ipc_msg *m)
{
    const char *service = ipc_msg_str(m, IPC_T_SERVICE, "");
    cache_remove(c, service);
    if (!ipc_msg_flag(m, IPC_T_AVAILABLE))
        return;
    size_t n = ipc_msg_count(m, IPC_T_MECH);
    c->svcs = xrealloc(c->svcs, (c->nsvcs + 1) * sizeof(*c->svcs));
    struct svc_mechs *s = &c->svcs[c->nsvcs++];
    s->service = xstrdup(service);
    s->mechs = xcalloc(n ? n : 1, sizeof(*s->mechs));
    s->names = xcalloc(n ? n : 1, sizeof(*s->names));
    for (size_t i = 0; i < n; i++) {
        s->names[i] = xstrdup((const char *)ipc_msg_nth(m, IPC_T_MECH, i)->data);
        upper(s->names[i]);
        const struct ipc_field *f = ipc_msg_nth(m, IPC_T_MECH_FLAGS, i);
        s->mechs[i].name = s->names[i];
        s->mechs[i].flags = (unsigned)((uint32_t)f->data[0] << 24 | (uint32_t)f->data[1] << 16 |
                                       (uint32_t)f->data[2] << 8 | f->data[3]);
    }
    s->list.count = n;
    s->list.mechs = s->mechs;
}

const struct auth_mech_list *auth_client_mechs(struct auth_client *c, const char *service)
{
    for (size_t i = 0; i < c->nsvcs; i++)
        if (strcmp(c->svcs[i].service, service) == 0)
            return &c->svcs[i].list;
    return NULL;
}

/* ---- exchanges ---- */

static void exchange_free(struct auth_exchange *x)
{
    if (x->timer)
        event_free(x->timer);
    free(x);
}

static void deliver_final(struct auth_exchange *x, const struct auth_reply *r)
{
    auth_reply_fn fn = x->fn;
    void *arg = x->arg;
    exchange_free(x);
    fn(arg, r);
}

static void fail_now(struct auth_exchange *x, const char *reason, bool temporary)
{
    struct auth_reply r = { .kind = AUTH_REPLY_FAILURE, .reason = reason,
                            .temporary = temporary };
    deliver_final(x, &r);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
    struct auth_client *c = arg;
    /* Bounded: the list is taken whole; failures added meanwhile wait a turn. */
    struct auth_exchange *list = c->deferred;
    c->deferred = NULL;
    while (list) {
        struct auth_exchange *x = list;
        list = x->next_deferred;
        fail_now(x, x->deferred_reason, x->deferred_temporary);
    }
}

static void defer_failure(struct auth_exchange *x, const char *reason, bool temporary)
{
    struct auth_client *c = x->c;
    x->id = 0;
    x->deferred_reason = reason;
    x->deferred_temporary = temporary;
    x->next_deferred = c->deferred;
    c->deferred = x;
    event_active(c->deferred_ev, EV_TIMEOUT, 1);
}

static void on_reply_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct auth_exchange *x = arg;
    struct auth_client *c = x->c;
    idmap_remove(c->exchanges, x->id);
    if (c->stream && auth_proto_put_abort(ipc_stream_output(c->stream), x->id))
        ipc_stream_flush(c->stream);
    log_warning("auth: no answer from the auth process in %d s", AUTH_CLIENT_REPLY_TIMEOUT_MS / 1000);
    fail_now(x, "no answer from the auth process", true);
}

static void arm_timer(struct auth_exchange *x)
{
    if (x->timer == NULL)
        x->timer = evtimer_new(x->c->base, on_reply_timeout, x);
    struct timeval tv = { AUTH_CLIENT_REPLY_TIMEOUT_MS / 1000,
                          (AUTH_CLIENT_REPLY_TIMEOUT_MS % 1000) * 1000 };
    evtimer_add(x->timer, &tv);
}

/* Frames could not be queued: the auth process is not reading. */
static void output_stuck(struct auth_client *c)
{
    ipc_stream_fail(c->stream, "auth process not reading: output buffer full");
}

struct auth_exchange *auth_client_start(struct auth_client *c, const struct auth_start_info *info,
                                        auth_reply_fn fn, void *arg)
{
    struct auth_exchange *x = xcalloc(1, sizeof(*x));
    x->c = c;
    x->fn = fn;
    x->arg = arg;
    if (c->stream == NULL || !ipc_stream_is_open(c->stream)) {
        defer_failure(x, "auth process not reachable", true);
        return x;
    }
    x->id = idmap_add(c->exchanges, x);
    const char *why = NULL;
    if (!auth_proto_put_start(ipc_stream_output(c->stream), x->id, info, &why)) {
        idmap_remove(c->exchanges, x->id);
        if (why == NULL)
            output_stuck(c);
        defer_failure(x, why ? why : "auth process not reading", why == NULL);
        return x;
    }
    ipc_stream_flush(c->stream);
    arm_timer(x);
    return x;
}

void auth_client_step(struct auth_exchange *x, const uint8_t *resp, size_t len)
{
    struct auth_client *c = x->c;
    if (!x->awaiting_step || x->id == 0)
        log_panic("auth client: step without a challenge");
    x->awaiting_step = false;
    const char *why = NULL;
    if (c->stream && auth_proto_put_step(ipc_stream_output(c->stream), x->id, resp, len, &why)) {
        ipc_stream_flush(c->stream);
        arm_timer(x);
        return;
    }
    if (why) {                      /* too long: end it here, tell the auth process */
        idmap_remove(c->exchanges, x->id);
        if (c->stream && auth_proto_put_abort(ipc_stream_output(c->stream), x->id))
            ipc_stream_flush(c->stream);
        defer_failure(x, why, false);
        return;
    }
    /* Stuck or closing: the connection's end fails every exchange in the table. */
    if (c->stream)
        output_stuck(c);
    arm_timer(x);
}

static void unlink_deferred(struct auth_client *c, struct auth_exchange *x)
{
    for (struct auth_exchange **pp = &c->deferred; *pp; pp = &(*pp)->next_deferred)
        if (*pp == x) {
            *pp = x->next_deferred;
            return;
        }
}

void auth_client_abort(struct auth_exchange *x)
{
    struct auth_client *c = x->c;
    if (x->id == 0) {
        unlink_deferred(c, x);
    } else if (idmap_remove(c->exchanges, x->id) == x && c->stream &&
               ipc_stream_is_open(c->stream)) {
        if (auth_proto_put_abort(ipc_stream_output(c->stream), x->id))
            ipc_stream_flush(c->stream);
        else
            output_stuck(c);
    }
    exchange_free(x);
}

/* ---- replies ---- */

/* A reply; false if it breaks the protocol (a challenge nobody answered yet). */
static bool handle_reply(struct auth_client *c, const struct ipc_msg *m)
{
    struct auth_reply r;
    auth_proto_get_reply(m, &r);
    if (r.kind == AUTH_REPLY_CHALLENGE) {
        struct auth_exchange *x = idmap_get(c->exchanges, m->id);
        if (x == NULL)
            return true;            /* aborted meanwhile */
        if (x->awaiting_step)
            return false;
        x->awaiting_step = true;
        event_del(x->timer);        /* the SMTP client's turn: the session's timeout applies */
        x->fn(x->arg, &r);
        return true;
    }
    struct auth_exchange *x = idmap_remove(c->exchanges, m->id);
    if (x)
        deliver_final(x, &r);
    return true;
}

/* One frame; false if it is not something the auth process may send. */
static bool handle_frame(struct auth_client *c, const struct ipc_msg *m)
{
    switch (m->type) {
    case IPC_AUTH_MECHS:
        cache_store(c, m);
        return true;
    case IPC_AUTH_CHALLENGE:
    case IPC_AUTH_SUCCESS:
    case IPC_AUTH_FAILURE:
        return handle_reply(c, m);
    default:
        return false;
    }
}

static void on_input(struct ipc_stream *s, struct buf *in, void *arg)
{
    struct auth_client *c = arg;
    /* Bounded: every pass consumes a frame (at least a header) of the capped buffer. */
    while (ipc_stream_is_open(s)) {
        size_t len;
        const char *why = NULL;
        enum ipc_scan st = ipc_frame_scan((const uint8_t *)in->data, in->len, &len, &why);
        if (st == IPC_SCAN_NEED_MORE)
            return;
        struct ipc_msg m;
        if (st == IPC_SCAN_INVALID || !ipc_msg_parse((const uint8_t *)in->data, len, &m, &why)) {
            log_error("auth: malformed message from the auth process: %s", why);
            ipc_stream_fail(s, "malformed message");
            return;
        }
        buf_consume(in, len);
        bool ok = handle_frame(c, &m);
        if (!ok)
            log_error("auth: unexpected %s message from the auth process", ipc_type_name(m.type));
        ipc_msg_free(&m);
        if (!ok) {
            ipc_stream_fail(s, "unexpected message");
            return;
        }
    }
}

/* ---- connection ---- */

static void schedule_retry(struct auth_client *c)
{
    struct timeval tv = { c->retry_ms / 1000, (c->retry_ms % 1000) * 1000 };
    evtimer_add(c->retry_ev, &tv);
    c->retry_ms = c->retry_ms * 2 > AUTH_CLIENT_RETRY_MAX_MS ? AUTH_CLIENT_RETRY_MAX_MS
                                                            : c->retry_ms * 2;
}

static void fail_in_flight(struct auth_client *c, const char *reason)
{
    size_t n;
    void **all = idmap_take_all(c->exchanges, &n);
    for (size_t i = 0; i < n; i++)
        fail_now(all[i], reason, true);
    free(all);
}

static void on_closed(struct ipc_stream *s, const char *why, void *arg)
{
    struct auth_client *c = arg;
    log_warning("auth: lost the connection to the auth process: %s", why);
    c->outage_logged = true;
    ipc_stream_free(s);
    c->stream = NULL;
    cache_clear(c);
    fail_in_flight(c, "lost the connection to the auth process");
    schedule_retry(c);
}

static const struct ipc_stream_handlers client_handlers = { on_input, on_closed, NULL };

static void try_connect(struct auth_client *c)
{
    int fd = ipc_unix_connect(c->path);
    if (fd < 0) {
        if (!c->outage_logged)
            log_warning("auth: cannot connect to the auth process at %s: %s (will retry)",
                        c->path, strerror(errno));
        c->outage_logged = true;
        schedule_retry(c);
        return;
    }
    if (c->outage_logged)
        log_info("auth: connected to the auth process");
    c->outage_logged = false;
    c->retry_ms = AUTH_CLIENT_RETRY_MIN_MS;
    c->stream = ipc_stream_new(c->base, fd, false, CLIENT_IN_MAX, CLIENT_OUT_MAX,
                               &client_handlers, c);
    if (auth_proto_put_mechs_req(ipc_stream_output(c->stream), 0, ""))
        ipc_stream_flush(c->stream);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    try_connect(arg);
}

struct auth_client *auth_client_new(struct event_base *base, const char *socket_path)
{
    struct auth_client *c = xcalloc(1, sizeof(*c));
    c->base = base;
    c->path = xstrdup(socket_path);
    c->retry_ms = AUTH_CLIENT_RETRY_MIN_MS;
    c->retry_ev = evtimer_new(base, on_retry, c);
    c->deferred_ev = event_new(base, -1, 0, on_deferred, c);
    c->exchanges = idmap_new();
    try_connect(c);
    return c;
}

void auth_client_free(struct auth_client *c)
{
    if (c == NULL)
        return;
    size_t n;
    void **all = idmap_take_all(c->exchanges, &n);
    for (size_t i = 0; i < n; i++)
        exchange_free(all[i]);
    free(all);
    while (c->deferred) {
        struct auth_exchange *x = c->deferred;
        c->deferred = x->next_deferred;
        exchange_free(x);
    }
    idmap_free(c->exchanges);
    ipc_stream_free(c->stream);
    event_free(c->retry_ev);
    event_free(c->deferred_ev);
    cache_clear(c);
    free(c->path);
    free(c);
}

bool auth_client_connected(const struct auth_client *c)
{
    return c->stream != NULL && ipc_stream_is_open(c->stream);
}
