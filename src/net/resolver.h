/*
 * Asynchronous DNS for the event loop (c-ares). All lookups go to the
 * servers named by dns_servers when it is set (tests point it at a
 * fixture server on loopback; /etc/hosts is then not consulted), otherwise
 * to /etc/resolv.conf and /etc/hosts like the C library.
 *
 * A caller that goes away cancels its query; the callback is then never
 * called and the query's memory is released when c-ares finishes with it.
 */
#ifndef GATEPOST_NET_RESOLVER_H
#define GATEPOST_NET_RESOLVER_H

#include "base/netaddr.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct resolver;
struct resolver_query;

/* servers: "ip[:port], ..." or "" for the system configuration. NULL + *why on error. */
struct resolver *resolver_new(struct event_base *base, const char *servers,
                              int timeout_ms, char **why);
void resolver_free(struct resolver *r);

enum peer_name_status {
    PEER_NAME_OK,           /* name verified: PTR and forward lookup agree */
    PEER_NAME_PERM_FAIL,    /* no PTR, or it does not map back: "unknown" */
    PEER_NAME_TEMP_FAIL,    /* DNS trouble: "unknown" for now */
};

#define PEER_NAME_MAX 256

/* Postfix's client name facts (smtpd_peer.c semantics). */
struct peer_names {
    char name[PEER_NAME_MAX];           /* verified name or "unknown" */
    char reverse_name[PEER_NAME_MAX];   /* PTR result (unverified) or "unknown" */
    enum peer_name_status name_status;
    enum peer_name_status reverse_status;
    char warning[640];          /* e.g. "hostname x does not resolve to address y", or "" */
};

typedef void (*resolver_peer_fn)(void *arg, const struct peer_names *names);

/* Starts the PTR + forward-confirm lookup for addr. */
struct resolver_query *resolver_peer_names(struct resolver *r, const struct netaddr *addr,
                                           resolver_peer_fn done, void *arg);
void resolver_cancel(struct resolver_query *q);

/*
 * The client name a PTR record gives (DNS data, anyone's to choose):
 * lower-cased, without its trailing dot, into name. As in Postfix, a
 * numeric name ("1.2.3.4", which could pass for an address) or one that is
 * not a valid host name is no name at all: false, name "unknown" and a
 * warning for the log (addr_text is the client's address).
 */
bool peer_name_from_ptr(const char *ptr, const char *addr_text, char name[PEER_NAME_MAX],
                        char *warning, size_t warning_size);

#endif
