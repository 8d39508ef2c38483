/*
 * c-ares bound to libevent; see resolver.h. c-ares tells us which sockets
 * to watch through the socket-state callback; we keep one persistent event
 * per socket and one timer for c-ares's own timeouts.
 */
#include "net/resolver.h"

#include "base/hostname.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <ares.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RESOLVER_MAX_SOCKETS 16

struct watched_socket {
    ares_socket_t fd;
    struct event *ev;
};

struct resolver {
    struct event_base *base;
    ares_channel channel;
    struct event *timer;
    struct watched_socket sockets[RESOLVER_MAX_SOCKETS];
    unsigned nsockets;
};

struct resolver_query {
    struct resolver *r;
    struct netaddr addr;
    struct peer_names names;
    resolver_peer_fn done;
    void *arg;
    bool cancelled;
};

static void on_socket_event(evutil_socket_t fd, short what, void *arg);

static void rearm_timer(struct resolver *r)
{
    struct timeval tv, *next = ares_timeout(r->channel, NULL, &tv);
    if (next)
        evtimer_add(r->timer, next);
    else
        evtimer_del(r->timer);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct resolver *r = arg;
    ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm_timer(r);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct resolver *r = arg;
    ares_process_fd(r->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    rearm_timer(r);
}

static struct watched_socket *find_socket(struct resolver *r, ares_socket_t fd)
{
    for (unsigned i = 0; i < r->nsockets; i++)
        if (r->sockets[i].fd == fd)
            return &r->sockets[i];
    return NULL;
}

static void on_socket_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct resolver *r = data;
    struct watched_socket *w = find_socket(r, fd);
    if (w) {
        event_free(w->ev);
        *w = r->sockets[--r->nsockets];
    }
    if (!readable && !writable)
        return;
    if (r->nsockets == RESOLVER_MAX_SOCKETS)
        return;     /* c-ares never opens this many for our use; its timeout fires */
    short what = EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
    w = &r->sockets[r->nsockets++];
    w->fd = fd;
    w->ev = event_new(r->base, fd, what, on_socket_event, r);
    event_add(w->ev, NULL);
}

struct resolver *resolver_new(struct event_base *base, const char *servers,
                              int timeout_ms, char **why)
{
    static bool library_ready;
    if (!library_ready) {
        int status = ares_library_init(ARES_LIB_INIT_ALL);
        if (status != ARES_SUCCESS) {
            *why = xasprintf("c-ares init: %s", ares_strerror(status));
            return NULL;
        }
        library_ready = true;
    }
    struct resolver *r = xcalloc(1, sizeof(*r));
    r->base = base;
    struct ares_options opt = { 0 };
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    opt.sock_state_cb = on_socket_state;
    opt.sock_state_cb_data = r;
    opt.timeout = timeout_ms > 0 ? timeout_ms : 2000;
    opt.tries = 2;
    bool explicit_servers = servers && *servers;
    if (explicit_servers) {
        opt.lookups = (char *)"b";      /* DNS only: tests must not see /etc/hosts */
        mask |= ARES_OPT_LOOKUPS;
    }
    int status = ares_init_options(&r->channel, &opt, mask);
    if (status != ARES_SUCCESS) {
        *why = xasprintf("c-ares init: %s", ares_strerror(status));
        free(r);
        return NULL;
    }
    if (explicit_servers) {
        char *csv = xstrdup(servers);
        for (char *p = csv; *p; p++)
            if (*p == ' ' || *p == '\t')
                *p = ',';
        status = ares_set_servers_ports_csv(r->channel, csv);
        free(csv);
        if (status != ARES_SUCCESS) {
            *why = xasprintf("bad dns_servers value \"%s\": %s", servers, ares_strerror(status));
            ares_destroy(r->channel);
            free(r);
            return NULL;
        }
    }
    r->timer = evtimer_new(base, on_timer, r);
    return r;
}

void resolver_free(struct resolver *r)
{
    if (r == NULL)
        return;
    ares_destroy(r->channel);       /* runs pending callbacks with ARES_EDESTRUCTION */
    for (unsigned i = 0; i < r->nsockets; i++)
        event_free(r->sockets[i].ev);
    event_free(r->timer);
    free(r);
}

static bool temporary(int status)
{
    return status != ARES_ENOTFOUND && status != ARES_ENODATA && status != ARES_ENONAME;
}

static void deliver(evutil_socket_t fd, short what, void *arg)
{
    struct resolver_query *q = arg;
    if (!q->cancelled)
        q->done(q->arg, &q->names);
    free(q);
}

/*
 * Completions go through the loop, never straight from the c-ares call:
 * an /etc/hosts answer arrives inside ares_gethostbyaddr(), before the
 * caller has even received its query handle.
 */
static void finish(struct resolver_query *q)
{
    static const struct timeval now = { 0, 0 };
    if (event_base_once(q->r->base, -1, EV_TIMEOUT, deliver, q, &now) < 0)
        deliver(-1, 0, q);
}

/* At most size-1 bytes of s[0..n) for a log line, anything unprintable as '?'. */
static void printable_prefix(const char *s, size_t n, char *out, size_t size)
{
    size_t i = 0;
    for (; i < n && i + 1 < size; i++)
        out[i] = (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f ? s[i] : '?';
    out[i] = '\0';
}

static void on_forward(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    struct resolver_query *q = arg;
    bool match = false;
    for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n && !match; n = n->ai_next) {
        struct netaddr a;
        if (netaddr_from_sockaddr(n->ai_addr, &a, NULL))
            match = netaddr_equal(&a, &q->addr);
    }
    if (res)
        ares_freeaddrinfo(res);
    char addr_text[NETADDR_TEXT_MAX];
    netaddr_format(&q->addr, addr_text, sizeof(addr_text));
    if (match) {
        str_copy(q->names.name, sizeof(q->names.name), q->names.reverse_name);
        q->names.name_status = PEER_NAME_OK;
    } else if (status == ARES_SUCCESS || !temporary(status)) {
        q->names.name_status = PEER_NAME_PERM_FAIL;
        snprintf(q->names.warning, sizeof(q->names.warning),
                 status == ARES_SUCCESS ? "hostname %s does not resolve to address %s"
                                        : "hostname %s does not resolve to address %s: "
                                          "Name or service not known",
                 q->names.reverse_name, addr_text);
    } else {
        q->names.name_status = PEER_NAME_TEMP_FAIL;
        snprintf(q->names.warning, sizeof(q->names.warning),
                 "hostname %s does not resolve to address %s: Temporary failure in name resolution",
                 q->names.reverse_name, addr_text);
    }
    finish(q);
}

static void on_reverse(void *arg, int status, int timeouts, struct hostent *he)
{
    struct resolver_query *q = arg;
    if (status != ARES_SUCCESS || he == NULL || he->h_name == NULL || !he->h_name[0]) {
        q->names.reverse_status = q->names.name_status =
            (status == ARES_SUCCESS || !temporary(status)) ? PEER_NAME_PERM_FAIL
                                                           : PEER_NAME_TEMP_FAIL;
        finish(q);
        return;
    }
    if (q->cancelled || status == ARES_EDESTRUCTION) {
        finish(q);
        return;
    }
    char addr_text[NETADDR_TEXT_MAX];
    netaddr_format(&q->addr, addr_text, sizeof(addr_text));
    if (!peer_name_from_ptr(he->h_name, addr_text, q->names.reverse_name, q->names.warning,
                            sizeof(q->names.warning))) {
        q->names.reverse_status = q->names.name_status = PEER_NAME_PERM_FAIL;
        finish(q);
        return;
    }
    q->names.reverse_status = PEER_NAME_OK;
    struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    ares_getaddrinfo(q->r->channel, q->names.reverse_name, NULL, &hints, on_forward, q);
}

bool peer_name_from_ptr(const char *ptr, const char *addr_text, char name[PEER_NAME_MAX],
                        char *warning, size_t warning_size)
{
    size_t n = strlen(ptr);
    if (n > 1 && ptr[n - 1] == '.')
        n--;
    strcpy(name, "unknown");
    bool too_long = n >= PEER_NAME_MAX;
    char candidate[PEER_NAME_MAX];
    if (!too_long) {
        memcpy(candidate, ptr, n);
        candidate[n] = '\0';
        str_lower(candidate);
        if (valid_hostaddr(candidate)) {
            snprintf(warning, warning_size, "numeric hostname: %s", candidate);
            return false;
        }
        if (valid_hostname(candidate)) {
            memcpy(name, candidate, n + 1);
            return true;
        }
    }
    /* Only a refused name is shown, and only its printable start. */
    char shown[80];
    printable_prefix(ptr, n, shown, sizeof(shown));
    snprintf(warning, warning_size, "hostname %s%s for address %s: %s", shown,
             too_long ? "..." : "", addr_text, too_long ? "name too long" : "malformed name");
    return false;
}

struct resolver_query *resolver_peer_names(struct resolver *r, const struct netaddr *addr,
                                           resolver_peer_fn done, void *arg)
{
    struct resolver_query *q = xcalloc(1, sizeof(*q));
    q->r = r;
    q->addr = *addr;
    q->done = done;
    q->arg = arg;
    strcpy(q->names.name, "unknown");
    strcpy(q->names.reverse_name, "unknown");
    q->names.name_status = q->names.reverse_status = PEER_NAME_PERM_FAIL;
    ares_gethostbyaddr(r->channel, addr->bytes, addr->family == AF_INET ? 4 : 16,
                       addr->family, on_reverse, q);
    rearm_timer(r);
    return q;
}

void resolver_cancel(struct resolver_query *q)
{
    if (q)
        q->cancelled = true;
}
