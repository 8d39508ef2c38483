/*
 * Notifications to the queue manager: the writer sends committed queue
 * IDs, one per line, in datagrams of at most NOTIFY_DATAGRAM_MAX bytes to
 * the manager's socket (private/qmgr). The IDs committed in one loop
 * iteration go out together, from an event made active by the first.
 *
 * The manager's socket queues only a few datagrams (net.unix.
 * max_dgram_qlen, 10 by default), so a manager that is busy for a few
 * milliseconds makes sendto fail with EAGAIN. Dropping those IDs would
 * leave their messages in incoming/ until the next periodic scan
 * (queue_run_delay, 300 s by default). Instead they wait in a bounded
 * pending buffer and are sent again from a short timer, merged into as
 * few datagrams as fit. IDs that do not fit in the pending buffer are
 * replaced by one "*" line, which asks the manager to scan incoming/.
 *
 * Any other error (no manager listening) drops what is pending: a manager
 * that starts scans incoming/ anyway. Loop thread only.
 */
#include "queue/writer_int.h"

#include "base/log.h"

#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <unistd.h>

#define NOTIFY_DATAGRAM_MAX 2048
#define NOTIFY_PENDING_MAX 65536    /* about 4,000 IDs */
#define NOTIFY_RETRY_US 2000

static void on_retry(evutil_socket_t fd, short what, void *arg);

void writer_notify_init(struct queue_writer *qw, const char *path)
{
    qw->notify_fd = -1;
    buf_init(&qw->notify_pending, NOTIFY_PENDING_MAX);
    if (path == NULL || strlen(path) >= sizeof(qw->notify_addr.sun_path))
        return;
    qw->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (qw->notify_fd < 0) {
        log_warning("queue writer: notify socket: %s", strerror(errno));
        return;
    }
    qw->notify_addr.sun_family = AF_UNIX;
    memcpy(qw->notify_addr.sun_path, path, strlen(path) + 1);
    qw->notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
    qw->notify_retry = evtimer_new(qw->base, on_retry, qw);
    qw->notify_soon = event_new(qw->base, -1, 0, on_retry, qw);
}

void writer_notify_free(struct queue_writer *qw)
{
    if (qw->notify_retry != NULL)
        event_free(qw->notify_retry);
    if (qw->notify_soon != NULL)
        event_free(qw->notify_soon);
    if (qw->notify_fd >= 0)
        close(qw->notify_fd);
    buf_free(&qw->notify_pending);
}

/* 0 if sent; else the errno of a send worth retrying, or -1 to give up. */
static int send_one(struct queue_writer *qw, const char *p, size_t n)
{
    if (sendto(qw->notify_fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL,
               (const struct sockaddr *)&qw->notify_addr, qw->notify_len) >= 0)
        return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR)
        return errno;
    return -1;
}

/* The longest prefix of pending that is whole lines and fits a datagram. */
static size_t datagram_len(const struct buf *b)
{
    if (b->len <= NOTIFY_DATAGRAM_MAX)
        return b->len;
    size_t n = NOTIFY_DATAGRAM_MAX;
    while (n > 0 && b->data[n - 1] != '\n')
        n--;
    return n;
}

static void drop_pending(struct queue_writer *qw)
{
    buf_reset(&qw->notify_pending);
    qw->notify_overflow = false;
}

/* Sends what is pending; arms the retry timer if the manager is busy. */
static void flush(struct queue_writer *qw)
{
    struct buf *b = &qw->notify_pending;
    int r = 0;
    while (b->len > 0 && r == 0) {
        size_t n = datagram_len(b);
        if ((r = send_one(qw, b->data, n)) == 0)
            buf_consume(b, n);
    }
    if (r == 0 && qw->notify_overflow && (r = send_one(qw, "*\n", 2)) == 0)
        qw->notify_overflow = false;
    if (r < 0) {
        drop_pending(qw);
        return;
    }
    if (r > 0) {
        qw->stats.notify_retries++;
        struct timeval tv = { .tv_sec = 0, .tv_usec = NOTIFY_RETRY_US };
        evtimer_add(qw->notify_retry, &tv);
    }
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    flush(arg);
}

void writer_notify(struct queue_writer *qw, const char *id)
{
    if (qw->notify_fd < 0)
        return;
    char line[QUEUE_ID_SIZE + 1];
    size_t n = strnlen(id, QUEUE_ID_SIZE);
    memcpy(line, id, n);
    line[n] = '\n';
    if (!buf_append(&qw->notify_pending, line, n + 1))
        qw->notify_overflow = true;         /* the manager will scan instead */
    /* A pending retry timer sends it shortly; else the loop, once the done
     * functions of this iteration have run. */
    if (!evtimer_pending(qw->notify_retry, NULL) &&
        !event_pending(qw->notify_soon, EV_TIMEOUT, NULL))
        event_active(qw->notify_soon, EV_TIMEOUT, 0);
}
