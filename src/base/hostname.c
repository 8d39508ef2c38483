/*
 * Syntax checks for host names and numeric addresses as Postfix applies
 * them in reject_invalid_helo_hostname and reject_non_fqdn_*, and to the
 * name a PTR record gives a client:
 *
 *   host name: labels of letters, digits, '_' and inner '-', at most 63
 *   bytes a label and 255 in all, no empty label, not all-numeric (a bare
 *   "1.2.3.4" is an address, not a name).
 *   IPv4: four decimal octets 0-255; "0.x.y.z" is refused except 0.0.0.0.
 *   IPv6: up to eight groups of 1-4 hex digits with at most one "::", or
 *   six groups and a dotted IPv4 tail.
 *
 * These are pure functions of their argument (client-supplied text) and
 * never read past its terminator.
 */
#include "base/hostname.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define LABEL_MAX 63
#define HOSTNAME_MAX 255

bool valid_hostname(const char *name)
{
    size_t label = 0, total = 0;
    bool non_numeric = false;
    if (*name == '\0')
        return false;
    for (const char *p = name; *p; p++, total++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || c == '_') {
            if (++label > LABEL_MAX)
                return false;
            if (!isdigit(c))
                non_numeric = true;
        } else if (c == '.') {
            if (label == 0 || p[1] == '\0')
                return false;
            label = 0;
        } else if (c == '-') {
            non_numeric = true;
            /* A label may neither start nor end with a hyphen. */
            if (label++ == 0 || p[1] == '\0' || p[1] == '.')
                return false;
        } else {
            return false;
        }
    }
    return non_numeric && total <= HOSTNAME_MAX;
}

bool valid_ipv4_hostaddr(const char *addr)
{
    int octets = 0, value = 0;
    bool in_octet = false;
    for (const char *p = addr; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (!in_octet) {
                in_octet = true;
                value = 0;
                octets++;
            }
            value = value * 10 + (*p - '0');
            if (value > 255)
                return false;
        } else if (*p == '.') {
            if (!in_octet || p[1] == '\0')
                return false;
            /* 0.0.0.0 is fine, 0.1.2.3 is not. */
            if (octets == 1 && value == 0 && addr[strspn(addr, "0.")] != '\0')
                return false;
            in_octet = false;
        } else {
            return false;
        }
    }
    return octets == 4;
}

bool valid_ipv6_hostaddr(const char *addr)
{
    int groups = 0;         /* colons seen */
    int double_colon = 0;   /* group index where "::" appeared, 0 if none */
    size_t len = 0;         /* hex digits in the current group */
    const char *p = addr;
    for (;;) {
        if (*p == '\0') {
            if (groups < 2)
                return false;
            /* A trailing ':' is only fine as part of a final "::". */
            return len > 0 || (double_colon > 0 && double_colon == groups - 1);
        }
        if (*p == '.') {
            if (groups < 2 || groups > 6)
                return false;
            return valid_ipv4_hostaddr(p - len);
        }
        if (*p == ':') {
            if (groups == 0 && len == 0 && p[1] != ':')
                return false;
            if (++groups > 7)
                return false;
            p++;
            len = 0;
            if (*p == ':') {
                if (double_colon > 0)
                    return false;
                double_colon = groups;
            }
            continue;
        }
        len = strspn(p, "0123456789abcdefABCDEF");
        if (len == 0 || len > 4)
            return false;
        p += len;
    }
}

bool valid_hostaddr(const char *addr)
{
    if (*addr == '\0')
        return false;
    return strchr(addr, ':') ? valid_ipv6_hostaddr(addr) : valid_ipv4_hostaddr(addr);
}

bool valid_mailhost_addr(const char *addr)
{
    if (strncasecmp(addr, "IPv6:", 5) == 0)
        return valid_ipv6_hostaddr(addr + 5);
    return valid_ipv4_hostaddr(addr);
}
