/*
 * Non-blocking streams; see stream.h.
 *
 * Reentrancy: the owner may free the stream from inside `input`,
 * `closed` or `connected`. While a callback runs the stream is marked
 * busy; a free requested then only marks it dead, and the event handler
 * finishes the job when the callback returns. Failures found inside an
 * owner's call (a write error) are parked and reported from a deferred
 * event, so `closed` never runs inside the owner's own call stack.
 *
 * Each readable event reads at most STREAM_READS_PER_EVENT times so that
 * one chatty peer cannot starve the others on the loop.
 */
#include "ipc/stream.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STREAM_READS_PER_EVENT 8
#define STREAM_READ_CHUNK 16384

struct ipc_stream {
    struct event_base *base;
    int fd;
    struct event *rev, *wev, *fail_ev;
    struct buf in, out;
    const struct ipc_stream_handlers *h;
    void *arg;
    bool connecting;
    bool closed;                    /* `closed` delivered or due */
    bool busy;                      /* inside a callback */
    bool dead;                      /* freed while busy */
    char why[128];                  /* parked failure */
};

static void on_io(evutil_socket_t fd, short what, void *arg);
static void on_fail(evutil_socket_t fd, short what, void *arg);

struct ipc_stream *ipc_stream_new(struct event_base *base, int fd, bool connecting,
                                  size_t in_max, size_t out_max,
                                  const struct ipc_stream_handlers *h, void *arg)
{
    struct ipc_stream *s = xcalloc(1, sizeof(*s));
    s->base = base;
    s->fd = fd;
    s->h = h;
    s->arg = arg;
    s->connecting = connecting;
    buf_init(&s->in, in_max);
    buf_init(&s->out, out_max);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    s->rev = event_new(base, fd, EV_READ | EV_PERSIST, on_io, s);
    s->wev = event_new(base, fd, EV_WRITE, on_io, s);
    s->fail_ev = event_new(base, -1, 0, on_fail, s);
    if (s->rev == NULL || s->wev == NULL || s->fail_ev == NULL)
        log_panic("ipc stream: cannot create events");
    if (connecting)
        event_add(s->wev, NULL);
    else
        event_add(s->rev, NULL);
    return s;
}

static void destroy(struct ipc_stream *s)
{
    event_free(s->rev);
    event_free(s->wev);
    event_free(s->fail_ev);
    if (s->fd >= 0)
        close(s->fd);
    buf_free(&s->in);
    buf_free(&s->out);
    free(s);
}

void ipc_stream_free(struct ipc_stream *s)
{
    if (s == NULL)
        return;
    if (s->busy) {
        s->dead = true;
        s->closed = true;
        event_del(s->rev);
        event_del(s->wev);
        event_del(s->fail_ev);
        return;
    }
    destroy(s);
}

struct buf *ipc_stream_output(struct ipc_stream *s)
{
    return &s->out;
}

bool ipc_stream_is_open(const struct ipc_stream *s)
{
    return !s->closed;
}

int ipc_stream_fd(const struct ipc_stream *s)
{
    return s->fd;
}

void ipc_stream_fail(struct ipc_stream *s, const char *why)
{
    if (s->closed || s->why[0])
        return;
    snprintf(s->why, sizeof(s->why), "%s", why);
    event_del(s->rev);
    event_del(s->wev);
    event_active(s->fail_ev, EV_TIMEOUT, 1);
}

void ipc_stream_flush(struct ipc_stream *s)
{
    if (s->closed || s->why[0] || s->connecting)
        return;
    while (s->out.len > 0) {
        ssize_t n = send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(&s->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(s->wev, NULL);
            return;
        }
        ipc_stream_fail(s, n < 0 ? strerror(errno) : "write returned 0");
        return;
    }
    buf_release(&s->out);
}

bool ipc_stream_write(struct ipc_stream *s, const void *p, size_t n)
{
    if (s->closed || s->why[0])
        return false;
    if (!buf_append(&s->out, p, n)) {
        ipc_stream_fail(s, "peer not reading: output buffer full");
        return false;
    }
    ipc_stream_flush(s);
    return true;
}

/* Runs `closed` once; true if the stream is still alive afterwards. */
static bool deliver_closed(struct ipc_stream *s, const char *why)
{
    if (s->closed)
        return !s->dead;
    s->closed = true;
    event_del(s->rev);
    event_del(s->wev);
    s->busy = true;
    s->h->closed(s, why, s->arg);
    s->busy = false;
    if (s->dead) {
        destroy(s);
        return false;
    }
    return true;
}

static void on_fail(evutil_socket_t fd, short what, void *arg)
{
    struct ipc_stream *s = arg;
    char why[sizeof(s->why)];
    memcpy(why, s->why, sizeof(why));
    deliver_closed(s, why);
}

/* A connect in progress finished (the socket became writable). */
static bool finish_connect(struct ipc_stream *s)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0)
        return deliver_closed(s, strerror(err));
    s->connecting = false;
    event_add(s->rev, NULL);
    if (s->h->connected) {
        s->busy = true;
        s->h->connected(s, s->arg);
        s->busy = false;
        if (s->dead) {
            destroy(s);
            return false;
        }
    }
    ipc_stream_flush(s);
    return true;
}

/* Reads what is there; *eof on end of file, *err (errno) on failure. */
static void read_some(struct ipc_stream *s, bool *eof, int *err)
{
    for (int i = 0; i < STREAM_READS_PER_EVENT; i++) {
        size_t room = s->in.max ? s->in.max - s->in.len : STREAM_READ_CHUNK;
        if (room == 0)
            return;
        size_t want = room < STREAM_READ_CHUNK ? room : STREAM_READ_CHUNK;
        char *p = buf_reserve(&s->in, want);
        if (p == NULL)
            return;
        ssize_t n = recv(s->fd, p, want, 0);
        if (n > 0) {
            buf_commit(&s->in, (size_t)n);
            if ((size_t)n < want)
                return;
            continue;
        }
        if (n == 0)
            *eof = true;
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            *err = errno;
        return;
    }
}

static void handle_readable(struct ipc_stream *s)
{
    bool eof = false;
    int err = 0;
    size_t before = s->in.len;
    read_some(s, &eof, &err);
    if (s->in.len > before || (s->in.len > 0 && s->in.max && s->in.len == s->in.max)) {
        s->busy = true;
        s->h->input(s, &s->in, s->arg);
        s->busy = false;
        if (s->dead) {
            destroy(s);
            return;
        }
        if (s->closed)
            return;
        if (s->in.max && s->in.len == s->in.max) {
            deliver_closed(s, "input buffer full");
            return;
        }
    }
    if (err)
        deliver_closed(s, strerror(err));
    else if (eof)
        deliver_closed(s, "connection closed by peer");
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct ipc_stream *s = arg;
    if (s->closed)
        return;
    if (s->connecting) {
        if (what & EV_WRITE)
            finish_connect(s);
        return;
    }
    if (what & EV_WRITE) {
        ipc_stream_flush(s);
        return;
    }
    if (what & EV_READ)
        handle_readable(s);
}
