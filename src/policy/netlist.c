/*
 * Client network lists (mynetworks, smtpd_sasl_exceptions_networks, ...);
 * see netlist.h. A thin layer over matchlist.c that fixes the item kinds
 * allowed (addresses, networks, host names, tables, files).
 */
#include "policy/netlist.h"

#include "policy/matchlist.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct netlist {
    struct matchlist ml;
};

/* Parameters in Postfix's default parent_domain_matches_subdomains. */
static bool default_parent_style(const char *param_name)
{
    static const char *const names[] = {
        "debug_peer_list", "fast_flush_domains", "mynetworks", "permit_mx_backup_networks",
        "qmqpd_authorized_clients", "relay_domains", "smtpd_access_maps",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i], param_name) == 0)
            return true;
    return false;
}

struct netlist *netlist_compile_ex(const char *list, const char *param_name,
                                   bool match_subdomains, const char *origin,
                                   struct diag *diag)
{
    struct netlist *nl = xcalloc(1, sizeof(*nl));
    nl->ml.networks = true;
    nl->ml.subdomains = match_subdomains;
    nl->ml.param = param_name;
    nl->ml.origin = origin;
    nl->ml.diag = diag;
    matchlist_parse(&nl->ml, list, false, 0);
    nl->ml.param = nl->ml.origin = NULL;
    nl->ml.diag = NULL;
    if (nl->ml.errors) {
        netlist_free(nl);
        return NULL;
    }
    return nl;
}

struct netlist *netlist_compile(const char *list, const char *param_name,
                                const char *origin, struct diag *diag)
{
    return netlist_compile_ex(list, param_name, default_parent_style(param_name), origin,
                              diag);
}

void netlist_free(struct netlist *nl)
{
    if (nl == NULL)
        return;
    matchlist_clear(&nl->ml);
    free(nl);
}

enum match_result netlist_match(const struct netlist *nl, const struct netaddr *addr,
                                const char *hostname)
{
    return matchlist_match_client(&nl->ml, addr, hostname);
}

bool netlist_is_empty(const struct netlist *nl)
{
    return nl == NULL || nl->ml.n == 0;
}
