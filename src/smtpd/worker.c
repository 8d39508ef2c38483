/*
 * The SMTP worker process: one event loop that accepts connections on the
 * inherited listening sockets and runs every session, thousands at once.
 * Blocking work (queue syncs) runs on the queue writer's threads; DNS is
 * asynchronous. The worker runs unprivileged: the supervisor bound the
 * sockets and opened the queue directories before dropping root.
 *
 * Admission: a connection is counted in the table shared by all workers;
 * over smtpd_connection_limit or smtpd_client_connection_count_limit it
 * gets a 421 and is closed before any session state exists.
 *
 * SIGTERM stops accepting, says 421 to idle sessions, lets messages being
 * received or committed finish, and after a grace period tells the rest
 * 421 (their messages were never acknowledged, so the clients retry).
 *
 * SIGUSR1 retires the worker after a reload: it stops accepting (the new
 * generation accepts) and exits once its sessions have ended on their own,
 * so a reload never cuts a client short. A later SIGTERM still applies.
 */
#include "smtpd/session.h"

#include "auth/client.h"
#include "base/xalloc.h"
#include "net/admission.h"
#include "net/resolver.h"
#include "queue/writer.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections accepted per readiness event, so one busy listener can't starve the loop. */
#define ACCEPT_BATCH 64
/* How long messages in progress may take to finish after SIGTERM. */
#define SHUTDOWN_GRACE_SECONDS 30

struct listen_slot {
    struct smtpd_worker *w;
    struct smtpd_service *svc;
    struct event *ev;
};

struct smtpd_worker {
    const struct smtpd_worker_setup *setup;
    struct event_base *base;
    struct queue_writer *queue;
    struct resolver *resolver;
    struct workpool *tls_pool;          /* TLS handshake steps, made on first use */
    struct auth_client *auth;           /* connection to the auth process */
    struct listen_slot *slots;
    size_t nslots;
    struct event *sigterm_ev, *sigint_ev, *sigusr1_ev, *grace_ev;
    struct smtpd_session *sessions;
    unsigned nsessions;
    unsigned total_limit;
    bool stopping;
    bool retiring;              /* replaced by a reload: no new sessions */
};

struct event_base *smtpd_worker_base(struct smtpd_worker *w)
{
    return w->base;
}

struct queue_writer *smtpd_worker_queue(struct smtpd_worker *w)
{
    return w->queue;
}

struct resolver *smtpd_worker_resolver(struct smtpd_worker *w)
{
    return w->resolver;
}

struct auth_client *smtpd_worker_auth_client(struct smtpd_worker *w)
{
    return w->auth;
}

/* Handshake threads: enough to keep both cores busy with key exchanges. */
#define TLS_POOL_THREADS 2

struct workpool *smtpd_worker_tls_pool(struct smtpd_worker *w)
{
    if (w->tls_pool == NULL)
        w->tls_pool = workpool_new(w->base, TLS_POOL_THREADS, "smtpd-tls");
    return w->tls_pool;
}

static void maybe_finish(struct smtpd_worker *w)
{
    if ((w->stopping || w->retiring) && w->nsessions == 0)
        event_base_loopexit(w->base, NULL);
}

void smtpd_worker_session_closed(struct smtpd_worker *w, struct smtpd_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        w->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    w->nsessions--;
    if (s->admitted)
        admission_leave(w->setup->admission, w->setup->index, &s->addr);
    maybe_finish(w);
}

/* Refuses a connection before any session exists (admission limits). */
static void refuse(int fd, const char *reply)
{
    (void)!write(fd, reply, strlen(reply));
    close(fd);
}

static bool admit(struct smtpd_worker *w, struct smtpd_service *svc, int fd,
                  const struct netaddr *addr)
{
    char addr_text[NETADDR_TEXT_MAX], reply[512];
    unsigned count = 0;
    bool exempt = svc->event_limit_exceptions &&
                  netlist_match(svc->event_limit_exceptions, addr, NULL) == MATCH_YES;
    enum admission_result r = admission_enter(w->setup->admission, w->setup->index, addr,
                                              w->total_limit, svc->client_connection_limit,
                                              exempt, &count);
    if (r == ADMIT_OK)
        return true;
    netaddr_format(addr, addr_text, sizeof(addr_text));
    if (r == ADMIT_CLIENT_LIMIT) {
        log_msg(&svc->ident, LOG_LEVEL_WARNING,
                "Connection concurrency limit exceeded: %u from unknown[%s] for service %s",
                count, addr_text, svc->name);
        snprintf(reply, sizeof(reply), "421 4.7.0 %s Error: too many connections from %s\r\n",
                 svc->myhostname, addr_text);
    } else {
        log_msg(&svc->ident, LOG_LEVEL_WARNING,
                "Connection limit exceeded: %u sessions (smtpd_connection_limit) for service %s;"
                " refused unknown[%s]", admission_total(w->setup->admission), svc->name,
                addr_text);
        snprintf(reply, sizeof(reply), "421 4.3.2 %s Error: too many connections; try again later\r\n",
                 svc->myhostname);
    }
    refuse(fd, reply);
    return false;
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct listen_slot *slot = arg;
    struct smtpd_worker *w = slot->w;
    for (int i = 0; i < ACCEPT_BATCH && !w->stopping && !w->retiring; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED &&
                errno != EINTR)
                log_warning("accept: %s", strerror(errno));
            return;
        }
        struct netaddr addr;
        int port = 0;
        if (!netaddr_from_sockaddr((struct sockaddr *)&ss, &addr, &port) ||
            !admit(w, slot->svc, fd, &addr)) {
            if (addr.family == 0)
                close(fd);
            continue;
        }
        struct smtpd_session *s = session_new(w, slot->svc, fd, &addr, port);
        s->admitted = true;
        s->next = w->sessions;
        if (w->sessions)
            w->sessions->prev = s;
        w->sessions = s;
        w->nsessions++;
    }
}

static void tell_idle_sessions(struct smtpd_worker *w, bool everyone)
{
    struct smtpd_session *s = w->sessions, *next;
    for (; s; s = next) {
        next = s->next;
        s->shutting_down = true;
        if (s->tarpit_pending && !s->parked) {
            /* A stopping server does not sit out smtpd_error_sleep_time:
               the held replies go out now (a session already gone is
               freed), then the session is told like any other. */
            event_active(s->park_timer_ev, EV_TIMEOUT, 0);
            continue;
        }
        bool idle = s->state == STATE_COMMAND && !s->parked && !s->tarpit_pending &&
                    (s->txn == NULL || s->txn->qtxn == NULL || everyone);
        if (s->state == STATE_LOOKUP || (s->state == STATE_DATA && everyone))
            idle = true;
        if (!idle || s->dead)
            continue;
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "disconnecting %s: service shutting down",
                s->namaddr);
        buf_printf(&s->out, "421 4.3.2 %s Service shutting down\r\n", s->svc->myhostname);
        session_close_after_reply(s);
        session_flush(s);
    }
}

static void on_grace_expired(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_worker *w = arg;
    tell_idle_sessions(w, true);
    /* Whatever is still parked on the queue finishes on its own; give up after that. */
    struct timeval tv = { 5, 0 };
    event_base_loopexit(w->base, &tv);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct smtpd_worker *w = arg;
    if (w->stopping)
        return;
    w->stopping = true;
    for (size_t i = 0; i < w->nslots; i++)
        event_del(w->slots[i].ev);
    tell_idle_sessions(w, false);
    struct timeval tv = { SHUTDOWN_GRACE_SECONDS, 0 };
    w->grace_ev = evtimer_new(w->base, on_grace_expired, w);
    event_add(w->grace_ev, &tv);
    maybe_finish(w);
}

static void on_retire_signal(evutil_socket_t sig, short what, void *arg)
{
    struct smtpd_worker *w = arg;
    if (w->stopping || w->retiring)
        return;
    w->retiring = true;
    for (size_t i = 0; i < w->nslots; i++)
        event_del(w->slots[i].ev);
    maybe_finish(w);
}

static bool open_queue(struct smtpd_worker *w, const struct smtpd_worker_setup *setup)
{
    /* Queue IDs carry the worker's tag; 'Z' belongs to the queue manager. */
    static const char tags[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXY";
    char tag = tags[setup->index % (sizeof(tags) - 1)];
    struct queue_writer_options opt = {
        .queue_dir = cfg_str(setup->cfg, P_QUEUE_DIRECTORY),
        .tmp_dirfd = setup->tmp_dirfd,
        .incoming_dirfd = setup->incoming_dirfd,
        .threads = (unsigned)cfg_int(setup->cfg, P_QUEUE_SYNC_THREADS),
        .spill_threshold = 256 * 1024,
        .minfree = (uint64_t)cfg_size(setup->cfg, P_QUEUE_MINFREE),
        .notify_path = setup->queue_notify_path,
        .fs = NULL,
        .worker_tag = tag,
    };
    w->queue = queue_writer_new(w->base, &opt);
    return w->queue != NULL;
}

/* Only a worker with an AUTH-enabled service talks to the auth process. */
static bool any_service_authenticates(const struct smtpd_worker_setup *setup)
{
    for (size_t i = 0; i < setup->nlisteners; i++)
        if (setup->listeners[i].svc->auth)
            return true;
    return false;
}

int smtpd_worker_main(const struct smtpd_worker_setup *setup)
{
    struct smtpd_worker w;
    memset(&w, 0, sizeof(w));
    w.setup = setup;
    w.total_limit = (unsigned)cfg_int(setup->cfg, P_SMTPD_CONNECTION_LIMIT);
    signal(SIGPIPE, SIG_IGN);
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
    w.base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (w.base == NULL)
        log_fatal("cannot create the event loop");
    char *why = NULL;
    w.resolver = resolver_new(w.base, cfg_str(setup->cfg, P_DNS_SERVERS), 0, &why);
    if (w.resolver == NULL)
        log_fatal("%s", why);
    if (!open_queue(&w, setup))
        log_fatal("cannot open the queue in %s", cfg_str(setup->cfg, P_QUEUE_DIRECTORY));
    if (setup->auth_socket_path && any_service_authenticates(setup))
        w.auth = auth_client_new(w.base, setup->auth_socket_path);
    w.nslots = setup->nlisteners;
    w.slots = xcalloc(w.nslots ? w.nslots : 1, sizeof(*w.slots));
    for (size_t i = 0; i < w.nslots; i++) {
        w.slots[i].w = &w;
        w.slots[i].svc = setup->listeners[i].svc;
        w.slots[i].ev = event_new(w.base, setup->listeners[i].fd, EV_READ | EV_PERSIST,
                                  on_accept, &w.slots[i]);
        event_add(w.slots[i].ev, NULL);
    }
    w.sigterm_ev = evsignal_new(w.base, SIGTERM, on_stop_signal, &w);
    w.sigint_ev = evsignal_new(w.base, SIGINT, on_stop_signal, &w);
    w.sigusr1_ev = evsignal_new(w.base, SIGUSR1, on_retire_signal, &w);
    event_add(w.sigterm_ev, NULL);
    event_add(w.sigint_ev, NULL);
    event_add(w.sigusr1_ev, NULL);
    /* The supervisor kept SIGUSR1 blocked until this handler existed. */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);

    event_base_dispatch(w.base);

    for (size_t i = 0; i < w.nslots; i++)
        event_free(w.slots[i].ev);
    free(w.slots);
    workpool_free(w.tls_pool);
    auth_client_free(w.auth);
    queue_writer_free(w.queue);     /* finishes commits in flight */
    resolver_free(w.resolver);
    event_free(w.sigterm_ev);
    event_free(w.sigint_ev);
    event_free(w.sigusr1_ev);
    if (w.grace_ev)
        event_free(w.grace_ev);
    event_base_free(w.base);
    return 0;
}
