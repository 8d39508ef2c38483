/*
 * Address classes and recipient validation: the part of Postfix's
 * trivial-rewrite resolver the SMTP server needs.
 *
 *   local            domain in $mydestination, or [address] of this host
 *   virtual mailbox  domain in $virtual_mailbox_domains
 *   relay            domain in $relay_domains
 *   default          anything else (relaying needs permission)
 *
 * An address without a domain is read as user@$myorigin. Recipient tables
 * are searched as Postfix's mail_addr_find() does: user+ext@domain,
 * user@domain, then (local domains only) user+ext and user, then @domain;
 * pattern tables only see the full address. local_recipient_maps empty
 * means every local part is accepted; postmaster, MAILER-DAEMON and the
 * double-bounce sender are always accepted in local domains.
 */
#include "policy/route.h"

#include "policy/policy_priv.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool route_split(const char *address, char *local, size_t lsize, char *domain, size_t dsize)
{
    const char *at = strrchr(address, '@');
    size_t n = at ? (size_t)(at - address) : strlen(address);
    if (n >= lsize)
        return false;
    memcpy(local, address, n);
    local[n] = '\0';
    return str_copy(domain, dsize, at ? at + 1 : "");
}

bool route_is_routed(const char *address)
{
    const char *at = strrchr(address, '@');
    size_t n = at ? (size_t)(at - address) : strlen(address);
    for (size_t i = 0; i < n; i++)
        if (address[i] == '@' || address[i] == '%' || address[i] == '!')
            return true;
    return false;
}

void route_strip_extension(const struct policy_env *env, char *local)
{
    const char *delims = env->recipient_delimiter;
    if (delims == NULL || *delims == '\0' || *local == '\0')
        return;
    if (str_ieq(local, "postmaster") || str_ieq(local, "mailer-daemon"))
        return;
    /* With '-' as delimiter, owner-list and list-request keep their names. */
    if (strchr(delims, '-') && (strncasecmp(local, "owner-", 6) == 0
                                || str_ihas_suffix(local, "-request")))
        return;
    char *ext = strpbrk(local + 1, delims);
    if (ext != NULL)
        *ext = '\0';
}

/* Is the address literal "[...]" one of this host's addresses? */
static bool is_my_literal(const struct policy_env *env, const char *domain)
{
    size_t n = strlen(domain);
    char inner[NETADDR_TEXT_MAX + 8];
    struct netaddr a;
    if (n < 3 || domain[0] != '[' || domain[n - 1] != ']' || n - 2 >= sizeof(inner))
        return false;
    memcpy(inner, domain + 1, n - 2);
    inner[n - 2] = '\0';
    const char *text = strncasecmp(inner, "IPv6:", 5) == 0 ? inner + 5 : inner;
    if (!netaddr_parse(text, &a))
        return false;
    for (size_t i = 0; i < env->n_my_addrs; i++)
        if (netaddr_equal(&env->my_addrs[i], &a))
            return true;
    return false;
}

static enum addr_class classify_domain(const struct policy_env *env, const char *domain)
{
    static const enum addr_class classes[] = {
        ADDR_CLASS_LOCAL, ADDR_CLASS_VIRTUAL_MAILBOX, ADDR_CLASS_RELAY,
    };
    const struct domainlist *lists[] = {
        env->mydestination, env->virtual_mailbox_domains, env->relay_domains,
    };
    if (domain[0] == '[')
        return is_my_literal(env, domain) ? ADDR_CLASS_LOCAL : ADDR_CLASS_DEFAULT;
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (lists[i] == NULL)
            continue;
        enum match_result m = domainlist_match(lists[i], domain);
        if (m == MATCH_ERROR)
            return ADDR_CLASS_ERROR;
        if (m == MATCH_YES)
            return classes[i];
    }
    return ADDR_CLASS_DEFAULT;
}

/* Splits and qualifies; false when the address is too long to handle. */
static bool split_qualified(const struct policy_env *env, const char *address, char *local,
                            size_t lsize, char *domain, size_t dsize)
{
    if (!route_split(address, local, lsize, domain, dsize))
        return false;
    if (strchr(address, '@') == NULL && !str_copy(domain, dsize, env->myorigin))
        return false;
    size_t n = strlen(domain);
    if (n > 1 && domain[n - 1] == '.')
        domain[n - 1] = '\0';
    return true;
}

#define LOCAL_MAX 1024
#define DOMAIN_MAX 1024

enum addr_class route_classify(const struct policy_env *env, const char *address)
{
    char local[LOCAL_MAX], domain[DOMAIN_MAX];
    if (!split_qualified(env, address, local, sizeof(local), domain, sizeof(domain)))
        return ADDR_CLASS_DEFAULT;
    return classify_domain(env, domain);
}

int route_auth_destination(const struct policy_env *env, const char *recipient)
{
    /* Source-routed addresses have an uncertain destination. */
    if (route_is_routed(recipient))
        return 0;
    switch (route_classify(env, recipient)) {
    case ADDR_CLASS_LOCAL:
    case ADDR_CLASS_VIRTUAL_MAILBOX:
    case ADDR_CLASS_RELAY:
        return 1;
    case ADDR_CLASS_ERROR:
        return -1;
    case ADDR_CLASS_DEFAULT:
        break;
    }
    return 0;
}

/* One key against every table of the list, honouring "full key only" tables. */
static enum map_status lookup_key(struct maplist *ml, const char *key, bool partial,
                                  struct buf *value)
{
    for (size_t i = 0; i < maplist_count(ml); i++) {
        struct map *m = maplist_get(ml, i);
        if (partial && map_is_pattern(m))
            continue;
        enum map_status st = map_lookup(m, key, value);
        if (st != MAP_NOTFOUND)
            return st;
    }
    return MAP_NOTFOUND;
}

/* Postfix's mail_addr_find() key order. */
enum map_status route_find(const struct policy_env *env, struct maplist *ml,
                           const char *address, bool local_domain, struct buf *value)
{
    char local[LOCAL_MAX], bare[LOCAL_MAX], domain[DOMAIN_MAX];
    if (!split_qualified(env, address, local, sizeof(local), domain, sizeof(domain)))
        return MAP_NOTFOUND;
    str_copy(bare, sizeof(bare), local);
    route_strip_extension(env, bare);
    bool ext = strcmp(bare, local) != 0;
    char *keys[5] = { NULL };
    bool partial[5] = { false, true, true, true, true };
    int n = 0;
    keys[n++] = xasprintf("%s@%s", local, domain);
    if (ext)
        keys[n++] = xasprintf("%s@%s", bare, domain);
    if (local_domain) {
        keys[n++] = xstrdup(local);
        if (ext)
            keys[n++] = xstrdup(bare);
    }
    keys[n++] = xasprintf("@%s", domain);
    enum map_status st = MAP_NOTFOUND;
    for (int i = 0; i < n && st == MAP_NOTFOUND; i++)
        st = lookup_key(ml, keys[i], partial[i], value);
    for (int i = 0; i < n; i++)
        free(keys[i]);
    return st;
}

/* postmaster, MAILER-DAEMON and the double-bounce sender in local domains. */
static bool is_exempt_local(const struct policy_env *env, const char *local)
{
    return str_ieq(local, "postmaster") || str_ieq(local, "mailer-daemon")
           || str_ieq(local, env->double_bounce_sender);
}

/* The recipient table of a class, or NULL when the class is not validated. */
static struct maplist *class_maps(const struct policy_env *env, enum addr_class cls)
{
    switch (cls) {
    case ADDR_CLASS_LOCAL:
        return env->local_rcpt;
    case ADDR_CLASS_VIRTUAL_MAILBOX:
        return env->virtual_mailbox;
    case ADDR_CLASS_RELAY:
        return env->relay_rcpt;
    default:
        return NULL;
    }
}

static enum map_status known_in_class(const struct policy_env *env, const char *address,
                                      enum addr_class cls)
{
    char local[LOCAL_MAX], domain[DOMAIN_MAX];
    struct maplist *ml = class_maps(env, cls);
    if (cls == ADDR_CLASS_ERROR)
        return MAP_ERROR;
    if (maplist_is_empty(ml))
        return MAP_FOUND;
    if (!split_qualified(env, address, local, sizeof(local), domain, sizeof(domain)))
        return MAP_NOTFOUND;
    if (cls == ADDR_CLASS_LOCAL && is_exempt_local(env, local))
        return MAP_FOUND;
    struct buf value;
    buf_init(&value, 4096);
    enum map_status st = route_find(env, ml, address, cls == ADDR_CLASS_LOCAL, &value);
    buf_free(&value);
    return st;
}

enum map_status route_recipient_known(const struct policy_env *env, const char *address)
{
    return known_in_class(env, address, route_classify(env, address));
}

enum rstatus route_check_rcpt_maps(struct policy_eval *ev, const char *addr,
                                   const char *reply_class)
{
    const struct policy_env *env = ev->env;
    enum addr_class cls = route_classify(env, addr);
    enum map_status st = known_in_class(env, addr, cls);
    if (st == MAP_ERROR)
        return rv_lookup_retry(ev, addr);
    if (st == MAP_FOUND)
        return R_DUNNO;
    const char *table = cls == ADDR_CLASS_LOCAL ? " in local recipient table"
                        : cls == ADDR_CLASS_VIRTUAL_MAILBOX ? " in virtual mailbox table"
                                                            : " in relay recipient table";
    int code = cls == ADDR_CLASS_LOCAL ? env->unknown_local_code
               : cls == ADDR_CLASS_VIRTUAL_MAILBOX ? env->unknown_virtual_code
                                                   : env->unknown_relay_code;
    bool sender = strcmp(reply_class, CLASS_SENDER) == 0;
    return rv_reject(ev, ERR_BOUNCE, code, sender ? "5.1.0" : "5.1.1",
                     "<%s>: %s rejected: User unknown%s", addr, reply_class,
                     env->show_table_name ? table : "");
}
