/*
 * One connection to Dovecot's auth server: connect, handshake (VERSION
 * and CPID out; VERSION, MECH..., DONE in, within DOVECOT_HANDSHAKE_MS),
 * then request and reply lines. See dovecot_priv.h for current and
 * draining connections.
 *
 * Everything Dovecot sends goes through dovecot_proto.c's parsers; a
 * malformed line or one past DOVECOT_LINE_MAX ends the connection, and
 * the requests on it fail temporarily, with a warning in the log.
 *
 * A connection is freed on a loop turn of its own (free_ev), never inside
 * a callback that may still be using it; closing only marks it.
 */
#include "auth/dovecot_priv.h"

#include "auth/proto.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "ipc/idmap.h"
#include "ipc/stream.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void free_mechs(struct mech_info *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++)
        free((char *)m[i].name);
    free(m);
}

static void on_free(evutil_socket_t fd, short what, void *arg)
{
    struct dc_conn *c = arg;
    for (struct dc_conn **pp = &c->b->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    ipc_stream_free(c->stream);
    idmap_free(c->requests);
    event_free(c->hs_timer);
    event_free(c->free_ev);
    free_mechs(c->mechs, c->nmechs);
    free(c);
}

void dc_conn_free_now(struct dc_conn *c)
{
    size_t n;
    void **all = idmap_take_all(c->requests, &n);
    for (size_t i = 0; i < n; i++)
        dovecot_exchange_free(all[i]);
    free(all);
    on_free(-1, 0, c);
}

void dc_conn_close(struct dc_conn *c, const char *why)
{
    if (c->state == DC_CLOSED)
        return;
    c->state = DC_CLOSED;
    event_del(c->hs_timer);
    size_t n;
    void **all = idmap_take_all(c->requests, &n);
    for (size_t i = 0; i < n; i++) {
        struct backend_exchange *x = all[i];
        x->conn = NULL;             /* already out of the table */
        dovecot_exchange_fail(x, "lost the connection to the Dovecot auth server", true);
    }
    free(all);
    dovecot_conn_gone(c, why);
    event_active(c->free_ev, EV_TIMEOUT, 1);
}

void dc_conn_drain(struct dc_conn *c)
{
    c->draining = true;
    if (idmap_count(c->requests) == 0)
        dc_conn_close(c, "recycled");
}

bool dc_conn_add(struct dc_conn *c, struct backend_exchange *x)
{
    if (idmap_count(c->requests) >= DOVECOT_REQUESTS_MAX)
        return false;
    x->conn = c;
    x->id = idmap_add(c->requests, x);
    return true;
}

void dc_conn_remove(struct backend_exchange *x)
{
    struct dc_conn *c = x->conn;
    if (c == NULL)
        return;
    idmap_remove(c->requests, x->id);
    x->conn = NULL;
    if (c->draining && idmap_count(c->requests) == 0)
        dc_conn_close(c, "recycled");
}

bool dc_conn_write(struct dc_conn *c, const char *text, size_t len)
{
    return c->state != DC_CLOSED && ipc_stream_write(c->stream, text, len);
}

void dc_conn_cancel(struct dc_conn *c, uint32_t id)
{
    if (c == NULL || c->state != DC_READY)
        return;
    char line[32];
    int n = snprintf(line, sizeof(line), "CANCEL\t%u\n", (unsigned)id);
    dc_conn_write(c, line, (size_t)n);
}

/* ---- handshake ---- */

static void add_mech(struct dc_conn *c, const char *name, unsigned flags)
{
    if (c->nmechs == AUTH_MECHS_MAX)
        return;
    c->mechs = xrealloc(c->mechs, (c->nmechs + 1) * sizeof(*c->mechs));
    char *upper = xstrdup(name);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    c->mechs[c->nmechs++] = (struct mech_info){ upper, flags };
}

static bool handshake_line(struct dc_conn *c, const struct dovecot_line *l, const char **why)
{
    if (!c->got_version) {
        c->got_version = dovecot_parse_version(l, why);
        return c->got_version;
    }
    if (strcmp(l->argv[0], "MECH") == 0) {
        const char *name;
        unsigned flags;
        bool usable;
        if (!dovecot_parse_mech(l, &name, &flags, &usable, why))
            return false;
        if (usable)
            add_mech(c, name, flags);
    } else if (strcmp(l->argv[0], "DONE") == 0) {
        event_del(c->hs_timer);
        c->state = DC_READY;
        dovecot_handshake_done(c);
    }
    return true;                    /* SPID, CUID, COOKIE and anything new: ignored */
}

static bool handle_line(struct dc_conn *c, char *text, const char **why)
{
    struct dovecot_line l;
    if (!dovecot_split(text, &l, why))
        return false;
    if (c->state == DC_HANDSHAKE)
        return handshake_line(c, &l, why);
    struct dovecot_reply d;
    bool is_reply;
    if (!dovecot_parse_reply(&l, &d, &is_reply, why))
        return false;
    if (is_reply)
        dovecot_reply(c, &d);
    return true;
}

static void on_input(struct ipc_stream *s, struct buf *in, void *arg)
{
    struct dc_conn *c = arg;
    /* Bounded: each pass consumes a line of the capped input buffer. */
    while (c->state == DC_HANDSHAKE || c->state == DC_READY) {
        char *nl = memchr(in->data, '\n', in->len);
        if (nl == NULL) {
            if (in->len > DOVECOT_LINE_MAX) {
                log_warning("dovecot auth server %s: line too long", c->b->label);
                dc_conn_close(c, "malformed input");
            }
            return;
        }
        size_t len = (size_t)(nl - in->data);
        char *line = xstrndup(in->data, len);
        buf_consume(in, len + 1);
        const char *why = "line too long";
        bool ok = len <= DOVECOT_LINE_MAX && handle_line(c, line, &why);
        free(line);
        if (!ok) {
            log_warning("dovecot auth server %s: malformed input: %s", c->b->label, why);
            dc_conn_close(c, "malformed input");
            return;
        }
    }
}

static void on_closed(struct ipc_stream *s, const char *why, void *arg)
{
    dc_conn_close(arg, why);
}

static void send_handshake(struct dc_conn *c)
{
    char text[64];
    int n = snprintf(text, sizeof(text), "VERSION\t%d\t%d\nCPID\t%ld\n", DOVECOT_MAJOR_VERSION,
                     DOVECOT_MINOR_VERSION, (long)getpid());
    dc_conn_write(c, text, (size_t)n);
}

static void on_connected(struct ipc_stream *s, void *arg)
{
    struct dc_conn *c = arg;
    c->state = DC_HANDSHAKE;
    send_handshake(c);
}

static void on_handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
    dc_conn_close(arg, "no complete handshake in time");
}

static const struct ipc_stream_handlers handlers = { on_input, on_closed, on_connected };

struct dc_conn *dc_conn_open(struct dovecot_backend *b)
{
    bool in_progress = false;
    int fd = b->path ? ipc_unix_connect(b->path)
                     : ipc_tcp_connect((struct sockaddr *)&b->addr, b->addr_len, &in_progress);
    if (fd < 0)
        return NULL;
    struct dc_conn *c = xcalloc(1, sizeof(*c));
    c->b = b;
    c->opened_us = clock_mono_us();
    c->state = in_progress ? DC_CONNECTING : DC_HANDSHAKE;
    c->requests = idmap_new();
    c->hs_timer = evtimer_new(b->env->base, on_handshake_timeout, c);
    c->free_ev = event_new(b->env->base, -1, 0, on_free, c);
    c->stream = ipc_stream_new(b->env->base, fd, in_progress, 4 * DOVECOT_LINE_MAX,
                               64 * DOVECOT_LINE_MAX, &handlers, c);
    c->next = b->conns;
    b->conns = c;
    struct timeval tv = { DOVECOT_HANDSHAKE_MS / 1000, 0 };
    evtimer_add(c->hs_timer, &tv);
    if (!in_progress)
        send_handshake(c);
    return c;
}
