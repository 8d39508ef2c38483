/*
 * Defaults that Postfix computes from the host instead of writing them down:
 *
 *   myhostname  gethostname(), with ".localdomain" appended when it has no
 *               dot (a quiet fallback: a bare name is common on laptops
 *               and containers)
 *   mydomain    $myhostname without its first label, or "localdomain"
 *   mynetworks  from mynetworks_style: "host" = this machine's interface
 *               addresses as /32 and /128 plus 127.0.0.0/8 and [::1]/128;
 *               "subnet" = the interfaces' subnets; "class" = the class
 *               A/B/C network of each IPv4 address (IPv6 has no classes,
 *               so its subnets are used); inet_protocols filters families.
 *
 * Each is computed while a config is built, after the parameters it depends
 * on, so "myhostname = mail.example.com" also changes the default mydomain.
 */
#include "config/config_internal.h"

#include "base/netaddr.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IFADDR_MAX 1024     /* interface addresses considered */

char *cfg_hostname_fqdn(const char *hostname)
{
    if (hostname[0] == '\0')
        return xstrdup("localhost.localdomain");
    if (strchr(hostname, '.'))
        return xstrdup(hostname);
    return xasprintf("%s.localdomain", hostname);
}

char *cfg_domain_of(const char *hostname)
{
    const char *dot = strchr(hostname, '.');
    if (dot && dot[1] != '\0')
        return xstrdup(dot + 1);
    return xstrdup("localdomain");
}

static char *default_myhostname(struct config *cfg, struct diag *diag)
{
    char name[256];
    if (gethostname(name, sizeof(name)) != 0)
        name[0] = '\0';
    name[sizeof(name) - 1] = '\0';
    return cfg_hostname_fqdn(name);
}

static char *default_mydomain(struct config *cfg, struct diag *diag)
{
    const char *host = cfg_build_value(cfg, P_MYHOSTNAME);
    return host ? cfg_domain_of(host) : NULL;
}

static int mask_prefix(const uint8_t *mask, size_t n)
{
    int bits = 0;
    for (size_t i = 0; i < n; i++)
        for (int b = 7; b >= 0; b--) {
            if (!(mask[i] & (1u << b)))
                return bits;
            bits++;
        }
    return bits;
}

/* Interface addresses from getifaddrs(); false if the call failed. */
static bool host_addresses(struct cfg_ifaddr **out, size_t *n)
{
    struct ifaddrs *list;
    *out = NULL;
    *n = 0;
    if (getifaddrs(&list) != 0)
        return false;
    *out = xcalloc(IFADDR_MAX, sizeof(**out));
    for (struct ifaddrs *ifa = list; ifa && *n < IFADDR_MAX; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr)
            continue;
        struct netaddr a, m;
        if (!netaddr_from_sockaddr(ifa->ifa_addr, &a, NULL))
            continue;
        struct cfg_ifaddr *it = &(*out)[(*n)++];
        it->family = a.family;
        memcpy(it->addr, a.bytes, sizeof(it->addr));
        it->prefix = -1;
        if (ifa->ifa_netmask && netaddr_from_sockaddr(ifa->ifa_netmask, &m, NULL)
            && m.family == a.family)
            it->prefix = mask_prefix(m.bytes, a.family == AF_INET ? 4 : 16);
    }
    freeifaddrs(list);
    return true;
}

static char *default_mynetworks(struct config *cfg, struct diag *diag)
{
    const char *style = cfg_build_value(cfg, P_MYNETWORKS_STYLE);
    const char *protocols = cfg_build_value(cfg, P_INET_PROTOCOLS);
    if (!style || !protocols)
        return NULL;
    struct cfg_ifaddr *addrs;
    size_t n;
    if (!host_addresses(&addrs, &n))
        diag_add(diag, DIAG_WARNING, "", "cannot list network interfaces; "
                 "mynetworks defaults to the loopback networks only");
    const char *why = NULL;
    char *text = cfg_mynetworks_text(addrs, n, style, protocols, &why);
    free(addrs);
    if (!text)
        diag_add(diag, DIAG_ERROR, cfg_node_find(cfg, "mynetworks_style")->origin,
                 "cannot compute mynetworks: %s", why);
    return text;
}

/* As with "postfix -c DIR": the directory the configuration was read from. */
static char *default_config_directory(struct config *cfg, struct diag *diag)
{
    (void)diag;
    return xstrdup(cfg->config_dir ? cfg->config_dir : param_default(P_CONFIG_DIRECTORY));
}

static const struct {
    enum param_id id;
    cfg_default_fn fn;
} computed[] = {
    { P_CONFIG_DIRECTORY, default_config_directory },
    { P_MYDOMAIN, default_mydomain },
    { P_MYHOSTNAME, default_myhostname },
    { P_MYNETWORKS, default_mynetworks },
};

cfg_default_fn cfg_computed_default(enum param_id id)
{
    for (size_t i = 0; i < sizeof(computed) / sizeof(computed[0]); i++)
        if (computed[i].id == id)
            return computed[i].fn;
    return NULL;
}

/* ---- mynetworks text ---- */

static bool protocol_wanted(const char *protocols, const char *family)
{
    char **words = str_list_split(protocols, STR_LIST_SEPARATORS, NULL);
    bool want = words[0] == NULL;   /* empty: as "all" */
    for (size_t i = 0; words[i]; i++)
        if (str_ieq(words[i], "all") || str_ieq(words[i], family))
            want = true;
    free(words);
    return want;
}

static int block_prefix(const struct cfg_ifaddr *a, const char *style)
{
    int full = a->family == AF_INET ? 32 : 128;
    int subnet = a->prefix >= 0 && a->prefix <= full ? a->prefix : full;
    if (str_ieq(style, "host"))
        return full;
    if (str_ieq(style, "subnet") || a->family == AF_INET6)
        return subnet;
    uint8_t first = a->addr[0];  /* class A/B/C by the leading bits */
    return first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : 32;
}

static void append_block(struct buf *out, const struct cfg_ifaddr *a, int prefix)
{
    struct netblock b = { .base.family = a->family, .prefix = prefix };
    int len = a->family == AF_INET ? 4 : 16;
    for (int i = 0; i < len; i++) {
        int keep = prefix - 8 * i;
        uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
        b.base.bytes[i] = a->addr[i] & mask;
    }
    char text[NETADDR_TEXT_MAX + 8];
    netblock_format(&b, text, sizeof(text));
    /* Skip duplicates: the list is short (one entry per interface address). */
    const char *have = buf_cstr(out);
    size_t tl = strlen(text);
    for (const char *p = strstr(have, text); p; p = strstr(p + 1, text))
        if ((p == have || p[-1] == ' ') && (p[tl] == ' ' || p[tl] == '\0'))
            return;
    if (out->len)
        buf_putc(out, ' ');
    buf_puts(out, text);
}

static bool is_loopback(const struct cfg_ifaddr *a)
{
    struct netaddr na = { .family = a->family };
    memcpy(na.bytes, a->addr, sizeof(na.bytes));
    return netaddr_is_loopback(&na);
}

static void append_family(struct buf *out, const struct cfg_ifaddr *addrs, size_t n,
                          int family, const char *style)
{
    struct cfg_ifaddr loop = { .family = family };
    if (family == AF_INET)
        loop.addr[0] = 127;
    else
        loop.addr[15] = 1;
    append_block(out, &loop, family == AF_INET ? 8 : 128);
    for (size_t i = 0; i < n; i++)
        if (addrs[i].family == family && !is_loopback(&addrs[i]))
            append_block(out, &addrs[i], block_prefix(&addrs[i], style));
}

char *cfg_mynetworks_text(const struct cfg_ifaddr *addrs, size_t n, const char *style,
                          const char *protocols, const char **why)
{
    if (!str_ieq(style, "host") && !str_ieq(style, "subnet") && !str_ieq(style, "class")) {
        *why = "mynetworks_style must be host, subnet or class";
        return NULL;
    }
    struct buf out;
    buf_init(&out, CONFIG_VALUE_MAX);
    if (protocol_wanted(protocols, "ipv4"))
        append_family(&out, addrs, n, AF_INET, style);
    if (protocol_wanted(protocols, "ipv6"))
        append_family(&out, addrs, n, AF_INET6, style);
    return buf_steal(&out);
}
