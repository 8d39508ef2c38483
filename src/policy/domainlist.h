/*
 * Domain lists with Postfix's semantics, used by mydestination,
 * relay_domains, virtual_mailbox_domains, permit_mx_backup_networks...:
 * names, "!" negation, type:table and /file items, first match wins; a
 * name also matches its subdomains when the parameter is listed in
 * parent_domain_matches_subdomains (and always when written ".example.com").
 */
#ifndef GATEPOST_POLICY_DOMAINLIST_H
#define GATEPOST_POLICY_DOMAINLIST_H

#include "base/diag.h"
#include "policy/netlist.h"

#include <stdbool.h>

struct domainlist;

/* match_subdomains: the parameter is in parent_domain_matches_subdomains. */
struct domainlist *domainlist_compile(const char *list, const char *param_name,
                                      bool match_subdomains, const char *origin,
                                      struct diag *diag);
void domainlist_free(struct domainlist *dl);
/* domain is compared case-insensitively; a trailing dot is ignored. */
enum match_result domainlist_match(const struct domainlist *dl, const char *domain);
bool domainlist_is_empty(const struct domainlist *dl);

#endif
