/*
 * The auth process: services and backends built from the per-service
 * configurations, the listening socket, accepting workers (peer uid
 * checked), start-up and shutdown. See server.h.
 *
 * Backend trouble at start-up (an unreadable smtpd.conf, a sasldb2
 * request, an unopenable database) is logged as an error and leaves that
 * service without mechanisms: its AUTH is not offered and attempts fail
 * temporarily, while other services keep working. A socket that cannot be
 * created is fatal: nothing could reach the process.
 */
#include "auth/server_priv.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "event/signal_loop.h"
#include "event/workpool.h"
#include "ipc/stream.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTH_LISTEN_BACKLOG 256
#define AUTH_ACCEPTS_PER_EVENT 32

const struct auth_service *auth_server_service(const struct auth_server *s, const char *name)
{
    for (size_t i = 0; i < s->nservices; i++)
        if (strcmp(s->services[i].name, name) == 0)
            return &s->services[i];
    return NULL;
}

static void on_mechs_changed(struct backend *b, void *arg)
{
    srv_conns_mechs_changed(arg, b);
}

/* The service's backend: shared with an earlier service of the same key, or new. */
static struct backend *backend_for(struct auth_server *s, const struct config *cfg,
                                   struct diag *diag)
{
    char *key = backend_key(cfg, diag);
    if (key == NULL)
        return NULL;
    for (size_t i = 0; i < s->nbackends; i++)
        if (strcmp(s->backends[i]->key, key) == 0) {
            free(key);
            return s->backends[i];
        }
    free(key);
    struct backend *b = backend_create(&s->env, cfg, diag);
    if (b == NULL)
        return NULL;
    b->mechs_changed = on_mechs_changed;
    b->mechs_changed_arg = s;
    s->backends = xrealloc(s->backends, (s->nbackends + 1) * sizeof(*s->backends));
    s->backends[s->nbackends++] = b;
    return b;
}

static void add_service(struct auth_server *s, const struct auth_server_service *in,
                        struct diag *diag)
{
    struct auth_service *svc = &s->services[s->nservices++];
    const struct config *cfg = in->cfg;
    svc->name = xstrdup(in->name);
    svc->enabled = cfg_bool(cfg, P_SMTPD_SASL_AUTH_ENABLE);
    svc->sasl_service = xstrdup(cfg_str(cfg, P_SMTPD_SASL_SERVICE));
    svc->realm = xstrdup(cfg_str(cfg, P_SMTPD_SASL_LOCAL_DOMAIN));
    if (!svc->enabled)
        return;
    svc->backend = backend_for(s, cfg, diag);
    if (svc->backend == NULL)
        log_error("service %s: SMTP AUTH will not be offered: its SASL backend (%s) failed",
                  svc->name, cfg_str(cfg, P_SMTPD_SASL_TYPE));
}

/* Root, or the workers' own uid: nobody else may ask. */
static bool peer_allowed(const struct auth_server *s, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        log_warning("SO_PEERCRED: %s", strerror(errno));
        return false;
    }
    if (cred.uid == 0 || cred.uid == s->peer_uid)
        return true;
    log_warning("refused a connection from uid %u (pid %d)", (unsigned)cred.uid,
                (int)cred.pid);
    return false;
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct auth_server *s = arg;
    for (int i = 0; i < AUTH_ACCEPTS_PER_EVENT; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_warning("accept: %s", strerror(errno));
            return;
        }
        if (!peer_allowed(s, fd) || s->nconns >= AUTH_SERVER_CONNS_MAX) {
            if (s->nconns >= AUTH_SERVER_CONNS_MAX)
                log_warning("more than %d worker connections; refused one",
                            AUTH_SERVER_CONNS_MAX);
            close(fd);
            continue;
        }
        srv_conn_new(s, fd);
    }
}

static unsigned pool_threads(unsigned wanted)
{
    if (wanted)
        return wanted;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : n > 16 ? 16 : (unsigned)n;
}

static bool start_listening(struct auth_server *s, const struct auth_server_setup *setup)
{
    struct buf why;
    buf_init(&why, 512);
    s->listen_fd = ipc_unix_listen(setup->socket_path, 0600, setup->owner_uid, setup->owner_gid,
                                   AUTH_LISTEN_BACKLOG, &why);
    if (s->listen_fd < 0)
        log_error("%s", buf_cstr(&why));
    buf_free(&why);
    if (s->listen_fd < 0)
        return false;
    s->accept_ev = event_new(s->base, s->listen_fd, EV_READ | EV_PERSIST, on_accept, s);
    event_add(s->accept_ev, NULL);
    return true;
}

struct auth_server *auth_server_new(struct event_base *base, const struct auth_server_setup *setup,
                                    struct diag *diag)
{
    struct auth_server *s = xcalloc(1, sizeof(*s));
    s->base = base;
    s->listen_fd = -1;
    s->peer_uid = setup->owner_uid == (uid_t)-1 ? geteuid() : setup->owner_uid;
    s->env.base = base;
    s->env.pool = workpool_new(base, pool_threads(setup->threads), "auth");
    s->env.store_override = setup->store_override;
    s->services = xcalloc(setup->nservices ? setup->nservices : 1, sizeof(*s->services));
    for (size_t i = 0; i < setup->nservices; i++)
        add_service(s, &setup->services[i], diag);
    if (!start_listening(s, setup)) {
        auth_server_free(s);
        return NULL;
    }
    return s;
}

static void finish_stop(struct auth_server *s)
{
    if (s->stopped == NULL)
        return;
    void (*done)(void *) = s->stopped;
    s->stopped = NULL;
    if (s->grace_ev)
        event_del(s->grace_ev);
    done(s->stopped_arg);
}

void auth_server_conn_gone(struct auth_server *s)
{
    if (s->stopping && s->nconns == 0)
        finish_stop(s);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
    struct auth_server *s = arg;
    log_warning("%zu worker connections still open after %d s; stopping anyway",
                s->nconns, AUTH_SERVER_GRACE_MS / 1000);
    finish_stop(s);
}

void auth_server_stop(struct auth_server *s, void (*done)(void *arg), void *arg)
{
    if (s->stopping)
        return;
    s->stopping = true;
    s->stopped = done;
    s->stopped_arg = arg;
    if (s->accept_ev)
        event_del(s->accept_ev);
    if (s->listen_fd >= 0)
        close(s->listen_fd);        /* the file stays: a successor may own it by now */
    s->listen_fd = -1;
    if (s->nconns == 0) {
        finish_stop(s);
        return;
    }
    s->grace_ev = evtimer_new(s->base, on_grace, s);
    struct timeval tv = { AUTH_SERVER_GRACE_MS / 1000, 0 };
    evtimer_add(s->grace_ev, &tv);
}

void auth_server_free(struct auth_server *s)
{
    if (s == NULL)
        return;
    while (s->conns)
        srv_conn_free(s->conns);
    workpool_free(s->env.pool);     /* runs the done functions of aborted steps */
    for (size_t i = 0; i < s->nbackends; i++)
        backend_free(s->backends[i]);
    free(s->backends);
    for (size_t i = 0; i < s->nservices; i++) {
        free(s->services[i].name);
        free(s->services[i].sasl_service);
        free(s->services[i].realm);
    }
    free(s->services);
    if (s->accept_ev)
        event_free(s->accept_ev);
    if (s->grace_ev)
        event_free(s->grace_ev);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    free(s);
}

bool auth_server_check(const struct config *cfg, struct diag *diag)
{
    if (!cfg_bool(cfg, P_SMTPD_SASL_AUTH_ENABLE))
        return true;
    return backend_check(cfg, diag);
}

/* ---- the process ---- */

static void stop_server(void *obj, void (*done)(void *arg), void *arg)
{
    auth_server_stop(obj, done, arg);
}

int auth_server_main(const struct auth_server_setup *setup)
{
    signal(SIGPIPE, SIG_IGN);
    umask(077);
    struct event_base *base = event_base_new();
    struct diag diag;
    diag_init(&diag);
    struct auth_server *s = auth_server_new(base, setup, &diag);
    diag_log(&diag);
    diag_free(&diag);
    if (s == NULL) {
        event_base_free(base);
        return 1;
    }
    int rc = signal_loop_run(base, stop_server, s);
    auth_server_free(s);
    event_base_free(base);
    return rc;
}
