/*
 * The queue manager engine's frame: set-up and tear-down, the table of
 * messages in memory (by queue ID), discovery of messages, timers, and
 * the orderly stop. The life of a message is in qmgr_msg.c, deliveries in
 * qmgr_deliver.c, notifications in qmgr_bounce.c, scans in qmgr_scan.c.
 *
 * The notify socket is a unix datagram socket in private/ (mode 0700,
 * owned by the queue owner), so only processes of the mail system can
 * post to it; what they post is only ever a hint to look at a file name
 * that is then validated like any other.
 */
#include "queue/qmgr_int.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "queue/layout.h"
#include "queue/qid.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const dir_names[QDIR_COUNT] = {
    QUEUE_DIR_TMP, QUEUE_DIR_INCOMING, QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED,
    QUEUE_DIR_CORRUPT,
};

int64_t qmgr_now(const struct qmgr *q)
{
    return q->opt.now_us ? q->opt.now_us() : clock_wall_us();
}

/* --- the table of messages in memory --------------------------------- */

static size_t id_hash(const char *id, size_t nbucket)
{
    uint32_t h = 2166136261u;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h & (nbucket - 1);
}

struct qmsg *qmgr_find(struct qmgr *q, const char *id)
{
    for (struct qmsg *m = q->bucket[id_hash(id, q->nbucket)]; m; m = m->hnext)
        if (strcmp(m->id, id) == 0)
            return m;
    return NULL;
}

static void table_grow(struct qmgr *q)
{
    size_t n = q->nbucket * 2;
    struct qmsg **b = xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < q->nbucket; i++) {
        for (struct qmsg *m = q->bucket[i], *next; m; m = next) {
            next = m->hnext;
            size_t h = id_hash(m->id, n);
            m->hnext = b[h];
            b[h] = m;
        }
    }
    free(q->bucket);
    q->bucket = b;
    q->nbucket = n;
}

static void table_add(struct qmgr *q, struct qmsg *m)
{
    if (q->count >= q->nbucket)
        table_grow(q);
    size_t h = id_hash(m->id, q->nbucket);
    m->hnext = q->bucket[h];
    q->bucket[h] = m;
    q->count++;
}

static void msg_free(struct qmsg *m)
{
    if (m->fd >= 0)
        close(m->fd);
    for (size_t i = 0; m->r && i < m->env.nrcpt; i++)
        free(m->r[i].text);
    free(m->r);
    queue_envelope_free(&m->env);
    buf_free(&m->bbuf);
    free(m);
}

void qmgr_forget(struct qmgr *q, struct qmsg *m)
{
    for (struct qmsg **pp = &q->bucket[id_hash(m->id, q->nbucket)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == m) {
            *pp = m->hnext;
            q->count--;
            break;
        }
    }
    msg_free(m);
}

void qmgr_discover(struct qmgr *q, const char *id, enum qdir dir, bool recovering)
{
    if (q->stopping || !queue_id_valid(id) || qmgr_find(q, id) != NULL)
        return;
    if (q->count >= q->opt.active_limit) {
        if (dir == QDIR_DEFERRED)   /* keep its place: try again shortly */
            qmgr_defer_push(q, id, qmgr_now(q) + 1000000);
        else
            q->rescan = true;       /* incoming/ is scanned again when room frees */
        return;
    }
    struct qmsg *m = xcalloc(1, sizeof(*m));
    m->q = q;
    memcpy(m->id, id, strlen(id) + 1);
    m->src = dir;
    m->recovering = recovering;
    m->fd = -1;
    buf_init(&m->bbuf, 0);
    table_add(q, m);
    qmgr_msg_load(m);
}

/* --- set-up ------------------------------------------------------------ */

static bool open_dirs(struct qmgr *q, struct buf *why)
{
    if (!queue_layout_create(q->opt.queue_dir, why))
        return false;
    for (int i = 0; i < QDIR_COUNT; i++) {
        q->dirfd[i] = queue_layout_open(q->opt.queue_dir, dir_names[i]);
        if (q->dirfd[i] < 0) {
            buf_printf(why, "open %s/%s: %s", q->opt.queue_dir, dir_names[i], strerror(errno));
            return false;
        }
    }
    return true;
}

static bool open_notify(struct qmgr *q, struct buf *why)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", q->opt.queue_dir,
                         QUEUE_QMGR_SOCKET) >= sizeof(sun.sun_path)) {
        buf_printf(why, "queue directory name too long for a socket: %s", q->opt.queue_dir);
        return false;
    }
    q->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unlink(sun.sun_path);           /* a previous manager's socket */
    if (q->notify_fd < 0 || bind(q->notify_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        buf_printf(why, "bind %s: %s", sun.sun_path, strerror(errno));
        return false;
    }
    /* The socket belongs to the queue owner, who runs the SMTP workers. */
    struct stat st;
    if (geteuid() == 0 && stat(q->opt.queue_dir, &st) == 0)
        (void)!chown(sun.sun_path, st.st_uid, st.st_gid);
    chmod(sun.sun_path, 0600);
    return true;
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    qmgr_notify_read(arg);
}

static void on_scan_timer(evutil_socket_t fd, short what, void *arg)
{
    qmgr_scan_now(arg);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    qmgr_retry_due(arg);
}

static void copy_options(struct qmgr *q, const struct qmgr_options *opt)
{
    q->opt = *opt;
    q->opt.queue_dir = xstrdup(opt->queue_dir);
    q->opt.myhostname = xstrdup(opt->myhostname ? opt->myhostname : "localhost");
    q->opt.mail_name = xstrdup(opt->mail_name ? opt->mail_name : "gatepost");
    q->opt.syslog_name = xstrdup(opt->syslog_name ? opt->syslog_name : "gatepost");
    if (q->opt.delivery_threads == 0)
        q->opt.delivery_threads = 8;
    if (q->opt.active_limit == 0)
        q->opt.active_limit = QMGR_ACTIVE_LIMIT;
    if (q->opt.run_delay_us <= 0)
        q->opt.run_delay_us = 300LL * 1000000;
    if (q->opt.min_backoff_us <= 0)
        q->opt.min_backoff_us = 300LL * 1000000;
    if (q->opt.max_backoff_us < q->opt.min_backoff_us)
        q->opt.max_backoff_us = q->opt.min_backoff_us;
}

struct qmgr *qmgr_new(struct event_base *base, const struct qmgr_options *opt,
                      struct buf *why)
{
    struct qmgr *q = xcalloc(1, sizeof(*q));
    q->base = base;
    q->started_us = clock_wall_us();    /* the real clock: compared with file times */
    q->notify_fd = -1;
    for (int i = 0; i < QDIR_COUNT; i++)
        q->dirfd[i] = -1;
    copy_options(q, opt);
    q->nbucket = 64;
    q->bucket = xcalloc(q->nbucket, sizeof(*q->bucket));
    if (!open_dirs(q, why) || !open_notify(q, why)) {
        qmgr_free(q);
        return NULL;
    }
    q->inflight_cap = 2 * (size_t)q->opt.delivery_threads;
    q->dlv_pool = workpool_new(base, q->opt.delivery_threads, "deliver");
    q->io_pool = workpool_new(base, 2, "qmgr-io");
    struct queue_writer_options wo = {
        .queue_dir = q->opt.queue_dir, .tmp_dirfd = q->dirfd[QDIR_TMP],
        .incoming_dirfd = q->dirfd[QDIR_INCOMING], .threads = 2,
        .worker_tag = QUEUE_QMGR_WORKER_TAG,
    };
    q->writer = queue_writer_new(base, &wo);
    q->notify_ev = event_new(base, q->notify_fd, EV_READ | EV_PERSIST, on_notify, q);
    q->scan_ev = event_new(base, -1, EV_PERSIST, on_scan_timer, q);
    q->retry_ev = evtimer_new(base, on_retry_timer, q);
    event_add(q->notify_ev, NULL);
    return q;
}

void qmgr_start(struct qmgr *q)
{
    struct timeval tv = { .tv_sec = q->opt.run_delay_us / 1000000,
                          .tv_usec = q->opt.run_delay_us % 1000000 };
    event_add(q->scan_ev, &tv);
    qmgr_scan_start(q, true);
}

void qmgr_scan_now(struct qmgr *q)
{
    if (!q->stopping)
        qmgr_scan_start(q, false);
}

bool qmgr_idle(const struct qmgr *q)
{
    return q->count == 0 && q->inflight == 0 && q->io_jobs == 0 && q->bounces == 0 &&
           !q->scanning;
}

void qmgr_get_stats(const struct qmgr *q, struct qmgr_stats *out)
{
    *out = q->stats;
}

/* --- stopping ---------------------------------------------------------- */

void qmgr_check_stopped(struct qmgr *q)
{
    if (!q->stopping || q->stop_done == NULL)
        return;
    if (q->inflight || q->io_jobs || q->bounces || q->scanning)
        return;
    /* Messages still in memory stay in active/ and are recovered at the next start. */
    for (size_t i = 0; i < q->nbucket; i++) {
        while (q->bucket[i] != NULL)
            qmgr_forget(q, q->bucket[i]);
    }
    q->ready_head = q->ready_tail = NULL;
    void (*done)(void *) = q->stop_done;
    q->stop_done = NULL;
    done(q->stop_arg);
}

void qmgr_stop(struct qmgr *q, void (*done)(void *arg), void *arg)
{
    q->stopping = true;
    q->stop_done = done;
    q->stop_arg = arg;
    if (q->notify_ev)
        event_del(q->notify_ev);
    if (q->scan_ev)
        event_del(q->scan_ev);
    if (q->retry_ev)
        event_del(q->retry_ev);
    qmgr_check_stopped(q);
}

static void free_event(struct event *ev)
{
    if (ev)
        event_free(ev);
}

void qmgr_free(struct qmgr *q)
{
    if (q == NULL)
        return;
    q->stopping = true;
    /* Let work in flight finish and free its messages. */
    while (q->inflight || q->io_jobs || q->bounces || q->scanning)
        event_base_loop(q->base, EVLOOP_ONCE);
    for (size_t i = 0; i < q->nbucket; i++)
        while (q->bucket[i] != NULL)
            qmgr_forget(q, q->bucket[i]);
    free_event(q->notify_ev);
    free_event(q->scan_ev);
    free_event(q->retry_ev);
    if (q->writer)
        queue_writer_free(q->writer);
    workpool_free(q->dlv_pool);
    workpool_free(q->io_pool);
    qmgr_dlv_free_all(q);
    for (int i = 0; i < QDIR_COUNT; i++)
        if (q->dirfd[i] >= 0)
            close(q->dirfd[i]);
    if (q->notify_fd >= 0)
        close(q->notify_fd);
    free(q->bucket);
    free(q->heap);
    free((char *)q->opt.queue_dir);
    free((char *)q->opt.myhostname);
    free((char *)q->opt.mail_name);
    free((char *)q->opt.syslog_name);
    free(q);
}
