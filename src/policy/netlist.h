/*
 * Client network lists with Postfix's match_list semantics, used by
 * mynetworks, smtpd_sasl_exceptions_networks, smtpd_sasl_auth_networks and
 * friends. Items are read in order and the first match decides:
 *
 *   192.0.2.0/24  [2001:db8::]/32  192.0.2.1   addresses and CIDR blocks
 *   !item                                       negation: a match means "no"
 *   example.com  .example.com                   client host name, parent domains
 *   type:table                                  a table lookup (cidr: is the usual one)
 *   /file/name                                  the items in a file
 *
 * Errors (bad CIDR, non-null host bits, unknown table type) are reported
 * when the list is compiled, naming the parameter's origin.
 */
#ifndef GATEPOST_POLICY_NETLIST_H
#define GATEPOST_POLICY_NETLIST_H

#include "base/diag.h"
#include "base/netaddr.h"

#include <stdbool.h>

enum match_result { MATCH_NO = 0, MATCH_YES = 1, MATCH_ERROR = -1 };

struct netlist;

/* origin is e.g. "main.cf:12" (used in messages); returns NULL on error. */
struct netlist *netlist_compile(const char *list, const char *param_name,
                                const char *origin, struct diag *diag);
/*
 * Same, with the parent-domain style given: match_subdomains is true when
 * param_name is listed in parent_domain_matches_subdomains (then a name
 * item "example.com" also matches its subdomains). netlist_compile uses
 * Postfix's default list for that (mynetworks is in it).
 */
struct netlist *netlist_compile_ex(const char *list, const char *param_name,
                                   bool match_subdomains, const char *origin,
                                   struct diag *diag);
void netlist_free(struct netlist *nl);
/* hostname may be NULL or "unknown" (then name items never match). */
enum match_result netlist_match(const struct netlist *nl, const struct netaddr *addr,
                                const char *hostname);
bool netlist_is_empty(const struct netlist *nl);

/*
 * mynetworks derived from mynetworks_style when mynetworks is not set:
 * "host" (this machine's addresses), "subnet" (their subnets), "class"
 * (their class A/B/C networks). Returns the list text.
 */
char *netlist_mynetworks_default(const char *style);

#endif
