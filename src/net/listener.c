/*
 * Binding master.cf inet services; see listener.h. Sockets are
 * non-blocking (the workers accept from an event loop) and IPv6 sockets
 * are IPv6-only so that "all" can bind 0.0.0.0 and :: side by side.
 */
#include "net/listener.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Splits "host:port", "[v6]:port" or "port" into host (may be empty) and port text. */
static bool split_service(const char *service, char *host, size_t hsize,
                          char *port, size_t psize)
{
    const char *colon;
    host[0] = '\0';
    if (service[0] == '[') {
        const char *close = strchr(service, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - service - 1) >= hsize)
            return false;
        memcpy(host, service + 1, (size_t)(close - service - 1));
        host[close - service - 1] = '\0';
        return str_copy(port, psize, close + 2) && port[0];
    }
    colon = strrchr(service, ':');
    if (colon == NULL)
        return str_copy(port, psize, service) && port[0];
    if ((size_t)(colon - service) >= hsize)
        return false;
    memcpy(host, service, (size_t)(colon - service));
    host[colon - service] = '\0';
    return str_copy(port, psize, colon + 1) && port[0];
}

static int resolve_port(const char *port)
{
    char *end;
    long n = strtol(port, &end, 10);
    if (*end == '\0')
        return n > 0 && n < 65536 ? (int)n : -1;
    struct servent *se = getservbyname(port, "tcp");
    if (se)
        return ntohs((uint16_t)se->s_port);
    /* Debian's /etc/services may lack these; they are fixed by IANA. */
    if (strcmp(port, "submission") == 0)
        return 587;
    if (strcmp(port, "submissions") == 0 || strcmp(port, "smtps") == 0)
        return 465;
    if (strcmp(port, "smtp") == 0)
        return 25;
    return -1;
}

static bool bind_one(struct listener_set *set, const char *host, int port, int backlog,
                     const char *where, struct diag *diag)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        len = sizeof(*sin6);
    } else {
        diag_add(diag, DIAG_ERROR, where, "cannot listen on \"%s\": not a numeric address", host);
        return false;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        diag_add(diag, DIAG_ERROR, where, "socket: %s", strerror(errno));
        return false;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    char text[NI_MAXHOST + 16];
    snprintf(text, sizeof(text), ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
        diag_add(diag, DIAG_ERROR, where, "cannot listen on %s: %s", text, strerror(errno));
        close(fd);
        return false;
    }
    set->items = xrealloc(set->items, (set->count + 1) * sizeof(*set->items));
    set->items[set->count++] = (struct listener){ fd, xstrdup(text), port };
    return true;
}

static bool protocol_enabled(const char *inet_protocols, const char *proto)
{
    char *copy = xstrdup(inet_protocols), *cursor = copy, *item;
    bool found = false;
    while (!found && (item = str_list_next(&cursor, STR_LIST_SEPARATORS, NULL)) != NULL)
        found = str_ieq(item, proto) || str_ieq(item, "all");
    free(copy);
    return found;
}

bool listener_bind_service(struct listener_set *set, const char *service,
                           const char *inet_interfaces, const char *inet_protocols,
                           int backlog, const char *where, struct diag *diag)
{
    char host[NI_MAXHOST], port_text[64];
    if (!split_service(service, host, sizeof(host), port_text, sizeof(port_text))) {
        diag_add(diag, DIAG_ERROR, where, "bad inet service name \"%s\"", service);
        return false;
    }
    int port = resolve_port(port_text);
    if (port < 0) {
        diag_add(diag, DIAG_ERROR, where, "unknown service port \"%s\"", port_text);
        return false;
    }
    if (host[0])
        return bind_one(set, host, port, backlog, where, diag);

    char *copy = xstrdup(inet_interfaces), *cursor = copy, *item;
    bool ok = true;
    while (ok && (item = str_list_next(&cursor, STR_LIST_SEPARATORS, NULL)) != NULL) {
        if (str_ieq(item, "all")) {
            if (protocol_enabled(inet_protocols, "ipv4"))
                ok = bind_one(set, "0.0.0.0", port, backlog, where, diag);
            if (ok && protocol_enabled(inet_protocols, "ipv6"))
                ok = bind_one(set, "::", port, backlog, where, diag);
        } else if (str_ieq(item, "loopback-only")) {
            if (protocol_enabled(inet_protocols, "ipv4"))
                ok = bind_one(set, "127.0.0.1", port, backlog, where, diag);
            if (ok && protocol_enabled(inet_protocols, "ipv6"))
                ok = bind_one(set, "::1", port, backlog, where, diag);
        } else {
            size_t n = strlen(item);
            if (n > 2 && item[0] == '[' && item[n - 1] == ']') {
                item[n - 1] = '\0';
                item++;
            }
            ok = bind_one(set, item, port, backlog, where, diag);
        }
    }
    free(copy);
    return ok;
}

void listener_set_close(struct listener_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        close(set->items[i].fd);
        free(set->items[i].address);
    }
    free(set->items);
    set->items = NULL;
    set->count = 0;
}
