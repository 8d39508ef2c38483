/* IP address and CIDR parsing and matching; see netaddr.h. */
#include "base/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void unmap_v4(struct netaddr *a)
{
    if (a->family == AF_INET6 && memcmp(a->bytes, v4mapped_prefix, 12) == 0) {
        memmove(a->bytes, a->bytes + 12, 4);
        memset(a->bytes + 4, 0, 12);
        a->family = AF_INET;
    }
}

bool netaddr_parse(const char *text, struct netaddr *out)
{
    char tmp[NETADDR_TEXT_MAX + 3];
    size_t n = strlen(text);
    memset(out, 0, sizeof(*out));
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        if (n - 2 >= sizeof(tmp))
            return false;
        memcpy(tmp, text + 1, n - 2);
        tmp[n - 2] = '\0';
        if (inet_pton(AF_INET6, tmp, out->bytes) != 1)
            return false;
        out->family = AF_INET6;
        unmap_v4(out);
        return true;
    }
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->bytes) == 1) {
        out->family = AF_INET6;
        unmap_v4(out);
        return true;
    }
    return false;
}

bool netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out, int *port)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        out->family = AF_INET;
        memcpy(out->bytes, &sin->sin_addr, 4);
        if (port)
            *port = ntohs(sin->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        out->family = AF_INET6;
        memcpy(out->bytes, &sin6->sin6_addr, 16);
        if (port)
            *port = ntohs(sin6->sin6_port);
        unmap_v4(out);
        return true;
    }
    return false;
}

void netaddr_format(const struct netaddr *a, char *out, size_t size)
{
    if (inet_ntop(a->family, a->bytes, out, (socklen_t)size) == NULL)
        snprintf(out, size, "?");
}

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
    size_t n = a->family == AF_INET ? 4 : 16;
    return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

bool netaddr_is_loopback(const struct netaddr *a)
{
    static const uint8_t v6_loop[16] = { [15] = 1 };
    if (a->family == AF_INET)
        return a->bytes[0] == 127;
    return memcmp(a->bytes, v6_loop, 16) == 0;
}

static int family_bits(int family)
{
    return family == AF_INET ? 32 : 128;
}

static bool host_bits_clear(const struct netaddr *a, int prefix)
{
    int bits = family_bits(a->family);
    for (int i = prefix; i < bits; i++)
        if (a->bytes[i / 8] & (0x80 >> (i % 8)))
            return false;
    return true;
}

bool netblock_parse(const char *text, struct netblock *out, const char **why)
{
    const char *slash = strrchr(text, '/');
    char addr[NETADDR_TEXT_MAX + 3];
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    if (alen == 0 || alen >= sizeof(addr)) {
        *why = "bad address";
        return false;
    }
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    memset(out, 0, sizeof(*out));
    if (!netaddr_parse(addr, &out->base)) {
        *why = "bad address";
        return false;
    }
    /* An IPv4-mapped block written in IPv6 form keeps its IPv6 length. */
    int bits = family_bits(out->base.family);
    if (slash) {
        char *end;
        long len = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || len < 0) {
            *why = "bad network mask length";
            return false;
        }
        if (addr[0] == '[' || strchr(addr, ':')) {
            /* Written as IPv6; if it unmapped to IPv4, shift the length. */
            if (out->base.family == AF_INET)
                len -= 96;
            if (len < 0 || len > bits) {
                *why = "bad network mask length";
                return false;
            }
        } else if (len > bits) {
            *why = "bad network mask length";
            return false;
        }
        out->prefix = (int)len;
    } else {
        out->prefix = bits;
    }
    if (!host_bits_clear(&out->base, out->prefix)) {
        *why = "non-null host address bits";
        return false;
    }
    return true;
}

bool netblock_contains(const struct netblock *b, const struct netaddr *a)
{
    if (a->family != b->base.family)
        return false;
    int full = b->prefix / 8, rest = b->prefix % 8;
    if (memcmp(a->bytes, b->base.bytes, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->bytes[full] & mask) == (b->base.bytes[full] & mask);
}

void netblock_format(const struct netblock *b, char *out, size_t size)
{
    char addr[NETADDR_TEXT_MAX];
    netaddr_format(&b->base, addr, sizeof(addr));
    if (b->base.family == AF_INET6)
        snprintf(out, size, "[%s]/%d", addr, b->prefix);
    else
        snprintf(out, size, "%s/%d", addr, b->prefix);
}
