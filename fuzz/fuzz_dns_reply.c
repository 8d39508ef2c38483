/*
 * Fuzz target: DNS replies, which any DNS server on the path can forge.
 * c-ares parses the wire format the way the resolver's lookups do (a PTR
 * answer for the client's address, A/AAAA answers for the forward
 * check); what it returns is fed to the code that turns it into a client
 * name and addresses. Every name that comes out must be a valid host name
 * or "unknown" with a printable warning.
 */
#include "base/hostname.h"
#include "base/netaddr.h"
#include "net/resolver.h"

#include <ares.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *ptr)
{
    char name[PEER_NAME_MAX], warning[640];
    if (peer_name_from_ptr(ptr, "192.0.2.7", name, warning, sizeof(warning))) {
        if (!valid_hostname(name) || valid_hostaddr(name))
            abort();
        for (const char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                abort();
        return;
    }
    if (strcmp(name, "unknown") != 0 || warning[0] == '\0')
        abort();
    for (const char *p = warning; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
            abort();
}

static void check_address(const struct sockaddr *sa)
{
    struct netaddr a;
    char text[NETADDR_TEXT_MAX];
    if (!netaddr_from_sockaddr(sa, &a, NULL))
        abort();
    netaddr_format(&a, text, sizeof(text));
    struct netaddr back;
    if (!netaddr_parse(text, &back) || !netaddr_equal(&a, &back))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535)
        return 0;
    static const uint8_t client[4] = { 192, 0, 2, 7 };
    struct hostent *he = NULL;
    if (ares_parse_ptr_reply(data, (int)size, client, sizeof(client), AF_INET, &he) ==
            ARES_SUCCESS && he) {
        if (he->h_name)
            check_name(he->h_name);
        for (char **alias = he->h_aliases; alias && *alias; alias++)
            check_name(*alias);
        ares_free_hostent(he);
    }

    struct ares_addrttl v4[8];
    int n = 8;
    he = NULL;
    if (ares_parse_a_reply(data, (int)size, &he, v4, &n) == ARES_SUCCESS) {
        for (int i = 0; i < n; i++) {
            struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = v4[i].ipaddr };
            check_address((const struct sockaddr *)&sin);
        }
        if (he)
            ares_free_hostent(he);
    }

    struct ares_addr6ttl v6[8];
    n = 8;
    he = NULL;
    if (ares_parse_aaaa_reply(data, (int)size, &he, v6, &n) == ARES_SUCCESS) {
        for (int i = 0; i < n; i++) {
            struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
            memcpy(&sin6.sin6_addr, &v6[i].ip6addr, sizeof(sin6.sin6_addr));
            check_address((const struct sockaddr *)&sin6);
        }
        if (he)
            ares_free_hostent(he);
    }
    return 0;
}
