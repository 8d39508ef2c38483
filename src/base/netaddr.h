/*
 * IP addresses and CIDR blocks as Postfix writes them in mynetworks and
 * access tables: 192.0.2.1, 192.0.2.0/24, [2001:db8::1], [2001:db8::]/32,
 * 2001:db8::/32. An IPv4-mapped IPv6 peer (::ffff:192.0.2.1) is stored as
 * plain IPv4 so that IPv4 rules match it.
 */
#ifndef GATEPOST_BASE_NETADDR_H
#define GATEPOST_BASE_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct netaddr {
    int family;             /* AF_INET or AF_INET6 */
    uint8_t bytes[16];      /* network order; 4 used for AF_INET */
};

struct netblock {
    struct netaddr base;    /* host bits cleared */
    int prefix;             /* 0..32 or 0..128 */
};

/* Longest text form, as inet_ntop writes it. */
#define NETADDR_TEXT_MAX 46

/* Plain address, with or without [ ] around IPv6; false on anything else. */
bool netaddr_parse(const char *text, struct netaddr *out);
bool netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out,
                           int *port);
void netaddr_format(const struct netaddr *a, char *out, size_t size);
bool netaddr_equal(const struct netaddr *a, const struct netaddr *b);
bool netaddr_is_loopback(const struct netaddr *a);

/*
 * "addr/len" or a bare address (a /32 or /128 block). Host bits set below
 * the prefix are an error, as in Postfix ("non-null host address bits").
 * On failure *why says what is wrong.
 */
bool netblock_parse(const char *text, struct netblock *out, const char **why);
bool netblock_contains(const struct netblock *b, const struct netaddr *a);
void netblock_format(const struct netblock *b, char *out, size_t size);

#endif
