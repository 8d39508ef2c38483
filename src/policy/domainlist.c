/*
 * Domain lists (mydestination, relay_domains, virtual_mailbox_domains...);
 * see domainlist.h. A thin layer over matchlist.c: names, tables and files,
 * no network blocks.
 */
#include "policy/domainlist.h"

#include "policy/matchlist.h"

#include "base/xalloc.h"

#include <stdlib.h>

struct domainlist {
    struct matchlist ml;
};

struct domainlist *domainlist_compile(const char *list, const char *param_name,
                                      bool match_subdomains, const char *origin,
                                      struct diag *diag)
{
    struct domainlist *dl = xcalloc(1, sizeof(*dl));
    dl->ml.networks = false;
    dl->ml.subdomains = match_subdomains;
    dl->ml.param = param_name;
    dl->ml.origin = origin;
    dl->ml.diag = diag;
    matchlist_parse(&dl->ml, list, false, 0);
    dl->ml.param = dl->ml.origin = NULL;
    dl->ml.diag = NULL;
    if (dl->ml.errors) {
        domainlist_free(dl);
        return NULL;
    }
    return dl;
}

void domainlist_free(struct domainlist *dl)
{
    if (dl == NULL)
        return;
    matchlist_clear(&dl->ml);
    free(dl);
}

enum match_result domainlist_match(const struct domainlist *dl, const char *domain)
{
    return matchlist_match_domain(&dl->ml, domain);
}

bool domainlist_is_empty(const struct domainlist *dl)
{
    return dl == NULL || dl->ml.n == 0;
}
