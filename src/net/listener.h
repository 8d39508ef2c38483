/*
 * Listening sockets for master.cf inet services. A service name is
 * "[host:]port" as in Postfix: "smtp", "submission", "2525",
 * "127.0.0.1:10025", "[::1]:25". Without a host the service listens on
 * every $inet_interfaces address ("all": the wildcard addresses allowed by
 * $inet_protocols). The supervisor binds before it gives up root, and the
 * workers inherit the descriptors.
 */
#ifndef GATEPOST_NET_LISTENER_H
#define GATEPOST_NET_LISTENER_H

#include "base/diag.h"

#include <stdbool.h>
#include <stddef.h>

struct listener {
    int fd;
    char *address;      /* "127.0.0.1:2525", "[::]:25" for messages */
    int port;
};

struct listener_set {
    struct listener *items;
    size_t count;
};

/*
 * Resolves and binds service (the master.cf name) for the given
 * inet_interfaces and inet_protocols values. backlog is the listen queue
 * length. Appends to set; false with a diagnostic (naming where, the
 * service's master.cf line) on failure.
 */
bool listener_bind_service(struct listener_set *set, const char *service,
                           const char *inet_interfaces, const char *inet_protocols,
                           int backlog, const char *where, struct diag *diag);
void listener_set_close(struct listener_set *set);

#endif
