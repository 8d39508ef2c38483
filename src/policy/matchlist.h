/*
 * The engine behind netlist.h and domainlist.h: Postfix's match_list.
 * A list is compiled once into items (network blocks, host or domain
 * names, tables), each possibly negated; matching walks them in order and
 * the first item that matches decides.
 *
 * Private to src/policy.
 */
#ifndef GATEPOST_POLICY_MATCHLIST_H
#define GATEPOST_POLICY_MATCHLIST_H

#include "base/diag.h"
#include "base/netaddr.h"
#include "maps/maps.h"
#include "policy/netlist.h"

#include <stdbool.h>
#include <stddef.h>

/* Items in one list, files included. */
#define MATCHLIST_ITEMS_MAX 100000
/* /file/name items may name further files this deep. */
#define MATCHLIST_FILE_DEPTH 4
/* A list file may be at most this large. */
#define MATCHLIST_FILE_MAX (16u * 1024 * 1024)

enum ml_kind { ML_BLOCK, ML_NAME, ML_TABLE };

struct ml_item {
    enum ml_kind kind;
    bool negate;
    struct netblock block;  /* ML_BLOCK */
    char *name;             /* ML_NAME: lowercased, no trailing dot */
    struct map *table;      /* ML_TABLE */
};

struct matchlist {
    struct ml_item *items;
    size_t n, cap;
    bool networks;          /* netlist (addresses allowed) or domainlist */
    bool subdomains;        /* "example.com" also matches its subdomains */
    const char *param;      /* for messages */
    const char *origin;
    struct diag *diag;
    int errors;
};

/* Compiles list text into ml (items are appended); errors go to ml->diag. */
void matchlist_parse(struct matchlist *ml, const char *list, bool negate, int depth);
void matchlist_clear(struct matchlist *ml);

/* Matching a client (netlist): name may be NULL or "unknown". */
enum match_result matchlist_match_client(const struct matchlist *ml, const struct netaddr *addr,
                                         const char *name);
/* Matching a domain (domainlist). */
enum match_result matchlist_match_domain(const struct matchlist *ml, const char *domain);

/* Hostname pattern test: exact, ".parent" always, "parent" when subdomains. */
bool matchlist_name_matches(const char *pattern, const char *name, bool subdomains);

#endif
