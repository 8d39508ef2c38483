/*
 * Host name and numeric address syntax (Postfix's valid_hostname and
 * valid_hostaddr rules). Pure functions of client- or DNS-supplied text.
 */
#ifndef GATEPOST_BASE_HOSTNAME_H
#define GATEPOST_BASE_HOSTNAME_H

#include <stdbool.h>

/* Labels of letters, digits, '_' and inner '-', at most 63 bytes a label
   and 255 in all, no empty label, not all-numeric. */
bool valid_hostname(const char *name);
/* An IPv4 or IPv6 address in text form. */
bool valid_hostaddr(const char *addr);
bool valid_ipv4_hostaddr(const char *addr);
bool valid_ipv6_hostaddr(const char *addr);
/* Address literal contents: "1.2.3.4" or "IPv6:..." (RFC 5321 section 4.1.3). */
bool valid_mailhost_addr(const char *addr);

#endif
