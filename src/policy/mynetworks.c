/*
 * The default mynetworks, derived from this machine's interface addresses
 * as Postfix does for mynetworks_style:
 *
 *   host    each address alone (/32, /128)
 *   subnet  each address's subnet (its netmask)
 *   class   the class A/B/C network of each IPv4 address; IPv6 uses subnet
 *
 * IPv4 entries come first, then IPv6 ones ("[addr]/len"), without duplicates.
 */
#include "policy/netlist.h"

#include "base/buf.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Interface addresses considered (a safety bound, not a real-world limit). */
#define MYNET_MAX 1024

enum mynet_style { STYLE_HOST, STYLE_SUBNET, STYLE_CLASS };

static int mask_prefix(const struct sockaddr *mask, int family)
{
    struct netaddr m;
    int bits = family == AF_INET ? 32 : 128, prefix = 0;
    if (mask == NULL || !netaddr_from_sockaddr(mask, &m, NULL))
        return bits;
    for (int i = 0; i < bits && (m.bytes[i / 8] & (0x80 >> (i % 8))); i++)
        prefix++;
    return prefix;
}

static int class_prefix(const struct netaddr *a)
{
    if (a->bytes[0] < 128)
        return 8;
    if (a->bytes[0] < 192)
        return 16;
    if (a->bytes[0] < 224)
        return 24;
    return 32;
}

static struct netblock style_block(const struct netaddr *a, int netmask_prefix,
                                   enum mynet_style style)
{
    struct netblock b = { *a, a->family == AF_INET ? 32 : 128 };
    if (style == STYLE_SUBNET || (style == STYLE_CLASS && a->family != AF_INET))
        b.prefix = netmask_prefix;
    else if (style == STYLE_CLASS)
        b.prefix = class_prefix(a);
    int bits = a->family == AF_INET ? 32 : 128;
    for (int i = b.prefix; i < bits; i++)
        b.base.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
    return b;
}

static bool seen(const struct netblock *list, size_t n, const struct netblock *b)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].prefix == b->prefix && netaddr_equal(&list[i].base, &b->base))
            return true;
    return false;
}

/* Collects the blocks of one address family; returns the new count. */
static size_t collect(struct ifaddrs *ifs, int family, enum mynet_style style,
                      struct netblock *out, size_t n)
{
    for (struct ifaddrs *ifa = ifs; ifa && n < MYNET_MAX; ifa = ifa->ifa_next) {
        struct netaddr a;
        if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != family)
            continue;
        if (!netaddr_from_sockaddr(ifa->ifa_addr, &a, NULL) || a.family != family)
            continue;
        struct netblock b = style_block(&a, mask_prefix(ifa->ifa_netmask, family), style);
        if (!seen(out, n, &b))
            out[n++] = b;
    }
    return n;
}

char *netlist_mynetworks_default(const char *style_name)
{
    enum mynet_style style;
    if (str_ieq(style_name, "host"))
        style = STYLE_HOST;
    else if (str_ieq(style_name, "subnet"))
        style = STYLE_SUBNET;
    else if (str_ieq(style_name, "class"))
        style = STYLE_CLASS;
    else
        return NULL;
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        ifs = NULL;
    struct netblock *blocks = xcalloc(MYNET_MAX, sizeof(*blocks));
    size_t n = collect(ifs, AF_INET, style, blocks, 0);
    n = collect(ifs, AF_INET6, style, blocks, n);
    if (ifs != NULL)
        freeifaddrs(ifs);
    struct buf out;
    buf_init(&out, 0);
    for (size_t i = 0; i < n; i++) {
        char text[NETADDR_TEXT_MAX + 8];
        netblock_format(&blocks[i], text, sizeof(text));
        buf_printf(&out, "%s%s", i ? " " : "", text);
    }
    free(blocks);
    return out.data ? buf_steal(&out) : xstrdup("");
}
