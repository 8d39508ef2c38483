/*
 * One SMTP worker's connection to the auth process: frames in, requests
 * dispatched by a table, exchanges kept by the worker's request id, replies
 * out.
 *
 * Trust: a worker runs as mail_owner and faces the internet; if it were
 * taken over it could send anything. So every frame is parsed strictly
 * (ipc/msg.h) and a malformed or out-of-turn one (a step nobody asked
 * for, a duplicate id) closes that connection with an error in the log;
 * nothing a worker sends can stop the process or reach another worker's
 * exchanges. Requests that are well-formed but cannot be served (unknown
 * service, bad mechanism name, too many exchanges) get a FAILURE reply.
 *
 * Lifetimes: backends never call back after abort, so closing a
 * connection aborts its exchanges and frees everything at once.
 */
#include "auth/server_priv.h"

#include "auth/proto.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "ipc/idmap.h"
#include "ipc/stream.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define CONN_IN_MAX (2 * (size_t)IPC_FRAME_MAX)
#define CONN_OUT_MAX (8 * (size_t)IPC_FRAME_MAX)

struct srv_conn {
    struct auth_server *s;
    struct ipc_stream *stream;
    struct idmap *exchanges;
    struct srv_conn *prev, *next;
};

struct srv_exchange {
    struct srv_conn *c;
    uint32_t id;
    const struct auth_service *svc;
    struct backend_exchange *bx;
    bool awaiting_step;
};

/* ---- replies ---- */

static void send_reply(struct srv_conn *c, uint32_t id, const struct auth_reply *r)
{
    if (!auth_proto_put_reply(ipc_stream_output(c->stream), id, r)) {
        ipc_stream_fail(c->stream, "worker not reading: output buffer full");
        return;
    }
    ipc_stream_flush(c->stream);
}

static void send_failure(struct srv_conn *c, uint32_t id, const char *reason, bool temporary)
{
    struct auth_reply r = { .kind = AUTH_REPLY_FAILURE, .reason = reason,
                            .temporary = temporary };
    send_reply(c, id, &r);
}

/* From a backend, on the loop. */
static void on_backend_reply(void *arg, const struct auth_reply *r)
{
    struct srv_exchange *x = arg;
    struct srv_conn *c = x->c;
    send_reply(c, x->id, r);
    if (r->kind == AUTH_REPLY_CHALLENGE) {
        x->awaiting_step = true;
        return;
    }
    idmap_remove(c->exchanges, x->id);
    free(x);
}

void srv_conn_send_mechs(struct srv_conn *c, uint32_t id, const struct auth_service *svc)
{
    const struct auth_mech_list *list = NULL;
    if (svc && svc->enabled && svc->backend)
        list = svc->backend->ops->mechs(svc->backend);
    if (!auth_proto_put_mechs(ipc_stream_output(c->stream), id, svc ? svc->name : "", list)) {
        ipc_stream_fail(c->stream, "worker not reading: output buffer full");
        return;
    }
    ipc_stream_flush(c->stream);
}

/* ---- requests ---- */

static bool on_mechs_req(struct srv_conn *c, const struct ipc_msg *m)
{
    const char *name = ipc_msg_str(m, IPC_T_SERVICE, "");
    struct auth_server *s = c->s;
    if (name[0] == '\0') {
        for (size_t i = 0; i < s->nservices; i++)
            srv_conn_send_mechs(c, m->id, &s->services[i]);
        return true;
    }
    const struct auth_service *svc = auth_server_service(s, name);
    if (svc)
        srv_conn_send_mechs(c, m->id, svc);
    else if (auth_proto_put_mechs(ipc_stream_output(c->stream), m->id, name, NULL))
        ipc_stream_flush(c->stream);
    return true;
}

/* Why a well-formed START cannot be served, or NULL. *temp: try later. */
static const char *refuse_start(struct srv_conn *c, const struct auth_service *svc, bool *temp)
{
    *temp = true;
    if (svc == NULL)
        return "unknown service (configuration reloaded?)";
    if (!svc->enabled) {
        *temp = false;
        return "SASL authentication is not enabled for this service";
    }
    if (svc->backend == NULL)
        return "no working SASL backend for this service (see the auth process log)";
    if (idmap_count(c->exchanges) >= AUTH_SERVER_EXCHANGES_MAX)
        return "too many authentications in progress";
    return NULL;
}

static bool on_start(struct srv_conn *c, const struct ipc_msg *m)
{
    if (m->id == 0 || idmap_get(c->exchanges, m->id)) {
        log_error("worker reused request id %u", (unsigned)m->id);
        return false;
    }
    struct auth_start_info info;
    const char *why = NULL;
    bool temp = false;
    if (!auth_proto_get_start(m, &info, &why)) {
        send_failure(c, m->id, why, false);
        return true;
    }
    char mech[AUTH_MECH_NAME_MAX + 1];     /* SASL names are case-insensitive: one spelling */
    for (size_t i = 0; i <= strlen(info.mech); i++)
        mech[i] = (char)toupper((unsigned char)info.mech[i]);
    info.mech = mech;
    const struct auth_service *svc = auth_server_service(c->s, info.service);
    if ((why = refuse_start(c, svc, &temp)) != NULL) {
        send_failure(c, m->id, why, temp);
        return true;
    }
    struct srv_exchange *x = xcalloc(1, sizeof(*x));
    *x = (struct srv_exchange){ .c = c, .id = m->id, .svc = svc };
    struct backend_request rq = { &info, svc->sasl_service, svc->realm };
    struct auth_reply now;
    x->bx = svc->backend->ops->start(svc->backend, &rq, on_backend_reply, x, &now);
    if (x->bx == NULL) {
        send_reply(c, m->id, &now);
        free(x);
        return true;
    }
    idmap_put(c->exchanges, x->id, x);
    return true;
}

static bool on_step(struct srv_conn *c, const struct ipc_msg *m)
{
    struct srv_exchange *x = idmap_get(c->exchanges, m->id);
    if (x == NULL) {
        send_failure(c, m->id, "no such authentication in progress", true);
        return true;
    }
    if (!x->awaiting_step) {
        log_error("worker sent a response before the challenge (request %u)",
                  (unsigned)m->id);
        return false;
    }
    x->awaiting_step = false;
    const struct ipc_field *d = ipc_msg_get(m, IPC_T_DATA);
    struct auth_reply now;
    struct backend *b = x->svc->backend;
    if (!b->ops->step(x->bx, d->data, d->len, &now)) {
        idmap_remove(c->exchanges, x->id);
        send_reply(c, x->id, &now);
        free(x);
    }
    return true;
}

static void abort_exchange(struct srv_exchange *x)
{
    x->svc->backend->ops->abort(x->bx);
    free(x);
}

static bool on_abort(struct srv_conn *c, const struct ipc_msg *m)
{
    struct srv_exchange *x = idmap_remove(c->exchanges, m->id);
    if (x)                          /* else it ended meanwhile: fine */
        abort_exchange(x);
    return true;
}

static const struct {
    uint16_t type;
    bool (*fn)(struct srv_conn *c, const struct ipc_msg *m);
} handlers[] = {
    { IPC_AUTH_MECHS_REQ, on_mechs_req },
    { IPC_AUTH_START, on_start },
    { IPC_AUTH_STEP, on_step },
    { IPC_AUTH_ABORT, on_abort },
};

static bool dispatch(struct srv_conn *c, const struct ipc_msg *m)
{
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if (handlers[i].type == m->type)
            return handlers[i].fn(c, m);
    log_error("worker sent a %s message, which is not a request", ipc_type_name(m->type));
    return false;
}

static void on_input(struct ipc_stream *st, struct buf *in, void *arg)
{
    struct srv_conn *c = arg;
    /* Bounded: each pass consumes a whole frame of the capped input buffer. */
    while (ipc_stream_is_open(st)) {
        size_t len;
        const char *why = NULL;
        enum ipc_scan sc = ipc_frame_scan((const uint8_t *)in->data, in->len, &len, &why);
        if (sc == IPC_SCAN_NEED_MORE)
            return;
        struct ipc_msg m;
        if (sc == IPC_SCAN_INVALID || !ipc_msg_parse((const uint8_t *)in->data, len, &m, &why)) {
            log_error("malformed message from a worker: %s; closing its connection", why);
            ipc_stream_fail(st, "malformed message");
            return;
        }
        buf_consume(in, len);
        bool ok = dispatch(c, &m);
        ipc_msg_free(&m);
        if (!ok) {
            ipc_stream_fail(st, "protocol violation");
            return;
        }
    }
}

static void on_closed(struct ipc_stream *st, const char *why, void *arg)
{
    struct srv_conn *c = arg;
    struct auth_server *s = c->s;
    srv_conn_free(c);
    auth_server_conn_gone(s);
}

static const struct ipc_stream_handlers conn_handlers = { on_input, on_closed, NULL };

void srv_conn_new(struct auth_server *s, int fd)
{
    struct srv_conn *c = xcalloc(1, sizeof(*c));
    c->s = s;
    c->exchanges = idmap_new();
    c->stream = ipc_stream_new(s->base, fd, false, CONN_IN_MAX, CONN_OUT_MAX, &conn_handlers, c);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
}

void srv_conn_free(struct srv_conn *c)
{
    struct auth_server *s = c->s;
    size_t n;
    void **all = idmap_take_all(c->exchanges, &n);
    for (size_t i = 0; i < n; i++)
        abort_exchange(all[i]);
    free(all);
    idmap_free(c->exchanges);
    ipc_stream_free(c->stream);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    free(c);
}

void srv_conns_mechs_changed(struct auth_server *s, const struct backend *b)
{
    for (struct srv_conn *c = s->conns; c; c = c->next)
        for (size_t i = 0; i < s->nservices; i++)
            if (s->services[i].backend == b && ipc_stream_is_open(c->stream))
                srv_conn_send_mechs(c, 0, &s->services[i]);
}
