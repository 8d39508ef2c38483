/*
 * access(5) tables: what a found value means, and which keys are tried in
 * which order (SMTPD_ACCESS_README, "lookup order"):
 *
 *   client:  host name, its parent domains, then the address and its
 *            prefixes (192.0.2.1, 192.0.2, 192.0, 192; IPv6 by ':' fields)
 *   helo:    the name and its parent domains
 *   address: user+ext@domain, user@domain, domain and parent domains,
 *            user+ext@, user@; the null sender is looked up as "<>"
 *            (smtpd_null_access_lookup_key)
 *
 * Parent domains are "example.com" keys when smtpd_access_maps is in
 * parent_domain_matches_subdomains (the default) and ".example.com" keys
 * otherwise. Pattern tables (regexp:, pcre:, cidr:) only see the first,
 * full key.
 *
 * Values: OK, RELAY and all-digit values permit; REJECT and DEFER with
 * optional "X.Y.Z text"; "4NN text" / "5NN text"; DUNNO; DEFER_IF_PERMIT,
 * DEFER_IF_REJECT; WARN (logged); anything else is a restriction list
 * evaluated in place. FILTER, HOLD, DISCARD, REDIRECT, PREPEND and BCC are
 * not supported yet: they answer "451 4.3.5 Server configuration error"
 * and log why, rather than being silently ignored.
 *
 * A table that fails answers 451 4.3.5 too: a broken table never becomes
 * "not found".
 */
#include "policy/policy_priv.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest access table value considered. */
#define ACCESS_VALUE_MAX 4096

/* One lookup's context: the table, what is being checked and how to reply. */
struct acx {
    struct policy_eval *ev;
    struct map *table;
    const char *datum;          /* the name or address being checked */
    const char *reply_name;
    const char *reply_class;
    unsigned flags;             /* FR_OK_IS_DUNNO, FR_FORBID_OK */
    struct buf value;
};

/* A parsed value: its first word and the text after it. */
struct avalue {
    const char *all;
    const char *word;
    size_t word_len;
    const char *text;
};

static bool word_is(const struct avalue *v, const char *word)
{
    return strlen(word) == v->word_len && strncasecmp(v->word, word, v->word_len) == 0;
}

static enum rstatus act_reject_like(struct acx *a, const struct avalue *v, int code,
                                    const char *def_dsn, const char *def_text)
{
    char dsn[12];
    const char *text = dsn_split(v->text, def_dsn, dsn);
    return rv_reject(a->ev, ERR_POLICY, code, dsn_fix(dsn, a->reply_class),
                     "<%s>: %s rejected: %s", a->reply_name, a->reply_class,
                     *text ? text : def_text);
}

static enum rstatus act_reject(struct acx *a, const struct avalue *v)
{
    return act_reject_like(a, v, a->ev->env->map_reject_code, "5.7.1", "Access denied");
}

static enum rstatus act_defer(struct acx *a, const struct avalue *v)
{
    return act_reject_like(a, v, a->ev->env->map_defer_code, "4.7.1", "Access denied");
}

static enum rstatus act_dunno(struct acx *a, const struct avalue *v)
{
    return R_DUNNO;
}

static enum rstatus act_ok(struct acx *a, const struct avalue *v)
{
    return R_OK;
}

static enum rstatus act_warn(struct acx *a, const struct avalue *v)
{
    rv_log(a->ev, "warn", v->text);
    return R_DUNNO;
}

static enum rstatus act_defer_if_permit(struct acx *a, const struct avalue *v)
{
    char dsn[12];
    const char *text = dsn_split(v->text, "4.7.1", dsn);
    return rv_defer_if_permit(a->ev, a->ev->env->map_defer_code, dsn_fix(dsn, a->reply_class),
                              "<%s>: %s rejected: %s", a->reply_name, a->reply_class,
                              *text ? text : "Service unavailable");
}

static enum rstatus act_defer_if_reject(struct acx *a, const struct avalue *v)
{
    char dsn[12];
    const char *text = dsn_split(v->text, "4.7.1", dsn);
    return rv_defer_if(a->ev, &a->ev->dir, a->ev->env->map_defer_code,
                       dsn_fix(dsn, a->reply_class), "<%s>: %s rejected: %s", a->reply_name,
                       a->reply_class, *text ? text : "Service unavailable");
}

static enum rstatus act_unsupported(struct acx *a, const struct avalue *v)
{
    return rv_config_error(a->ev, "access table %s entry for \"%s\": action %.*s is not "
                           "supported by gatepost yet", map_spec(a->table), a->datum,
                           (int)v->word_len, v->word);
}

static const struct {
    const char *word;
    enum rstatus (*fn)(struct acx *a, const struct avalue *v);
} actions[] = {
    { "DUNNO", act_dunno },
    { "REJECT", act_reject },
    { "DEFER", act_defer },
    { "WARN", act_warn },
    { "OK", act_ok },
    { "RELAY", act_ok },
    { "DEFER_IF_PERMIT", act_defer_if_permit },
    { "DEFER_IF_REJECT", act_defer_if_reject },
    { "FILTER", act_unsupported },
    { "HOLD", act_unsupported },
    { "DISCARD", act_unsupported },
    { "REDIRECT", act_unsupported },
    { "PREPEND", act_unsupported },
    { "BCC", act_unsupported },
};

/* "4NN text" or "5NN text": the code and text verbatim, with a DSN. */
static bool is_numeric_reply(const struct avalue *v)
{
    const char *w = v->word;
    return v->word_len == 3 && *v->text && (w[0] == '4' || w[0] == '5')
           && isdigit((unsigned char)w[1]) && isdigit((unsigned char)w[2]);
}

static enum rstatus numeric_reply(struct acx *a, const struct avalue *v)
{
    char def[6] = { v->word[0], '.', '7', '.', '1', '\0' };
    return act_reject_like(a, v, atoi(v->word), def, "Access denied");
}

/* Anything else: a restriction list (or class name) evaluated in place. */
static enum rstatus restriction_value(struct acx *a, const struct avalue *v)
{
    struct policy_eval *ev = a->ev;
    if (strchr(v->all, ':') != NULL)
        return rv_config_error(ev, "access table %s has entry with lookup table: %s "
                               "(do not specify lookup tables inside access maps; define a "
                               "restriction class and specify its name instead)",
                               map_spec(a->table), v->all);
    struct rlist *rl = rlist_compile(ev->env, v->all, map_spec(a->table), NULL, ev->cur_list,
                                     true, NULL);
    if (rl == NULL)
        return rv_config_error(ev, "access table %s entry for \"%s\": bad restriction list "
                               "\"%s\"", map_spec(a->table), a->datum, v->all);
    if (rl->n == 0) {
        rlist_free(rl);
        return R_OK;
    }
    return policy_eval_nested(ev, rl, rl, a->reply_name, a->reply_class, a->flags);
}

/* Postfix's check_table_result(). */
static enum rstatus table_result(struct acx *a, const char *value)
{
    struct avalue v = { value, value, strcspn(value, " \t"), NULL };
    v.text = value + v.word_len;
    while (isspace((unsigned char)*v.text))
        v.text++;
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (word_is(&v, actions[i].word))
            return actions[i].fn(a, &v);
    if (*value && value[strspn(value, "0123456789")] == '\0')
        return R_OK;
    if (is_numeric_reply(&v))
        return numeric_reply(a, &v);
    return restriction_value(a, &v);
}

/* Applies the OK policy of this lookup (not trusted, or forbidden). */
static enum rstatus adjust_ok(struct acx *a, enum rstatus r)
{
    if (r != R_OK)
        return r;
    if (a->flags & FR_FORBID_OK)
        return rv_config_error(a->ev, "restriction check_reverse_client_access returns OK for "
                               "%s; this is not allowed for security reasons; use DUNNO "
                               "instead of OK if you want to make an exception", a->datum);
    return (a->flags & FR_OK_IS_DUNNO) ? R_DUNNO : R_OK;
}

/*
 * Tries one key. partial: a derived key (parent domain, prefix, user@),
 * which pattern tables never see. True when the key decided something.
 */
static bool try_key(struct acx *a, const char *key, bool partial, enum rstatus *r)
{
    if (partial && map_is_pattern(a->table))
        return false;
    enum map_status st = map_lookup(a->table, key, &a->value);
    if (st == MAP_NOTFOUND)
        return false;
    if (st == MAP_ERROR) {
        /* Postfix answers as if the table held "451 4.3.5 Server configuration error". */
        log_warning("%s: table lookup problem", map_spec(a->table));
        *r = rv_reject(a->ev, ERR_DATA, 451, "4.3.5", "<%s>: %s rejected: Server configuration error",
                       a->reply_name, a->reply_class);
    } else {
        *r = adjust_ok(a, table_result(a, buf_cstr(&a->value)));
    }
    return true;
}

/* Name, then parent domains (check_domain_access). */
static bool domain_keys(struct acx *a, const char *domain, bool partial, enum rstatus *r)
{
    bool numeric = valid_hostaddr(domain);
    for (const char *name = domain; *name; ) {
        if (try_key(a, name, partial, r))
            return true;
        /* No subdomain magic for numerical names. */
        if (numeric)
            break;
        const char *next = strchr(name + 1, '.');
        if (next == NULL)
            break;
        name = a->ev->env->access_parent_style ? next + 1 : next;
        partial = true;
    }
    return false;
}

/* Address, then its prefixes (check_addr_access). */
static bool addr_keys(struct acx *a, const char *address, enum rstatus *r)
{
    char *addr = xstrdup(address);
    char delim = strchr(addr, ':') ? ':' : '.';
    bool partial = false, found = false;
    for (;;) {
        if ((found = try_key(a, addr, partial, r)))
            break;
        char *cut = strrchr(addr, delim);
        if (cut == NULL)
            break;
        *cut = '\0';
        partial = true;
    }
    free(addr);
    return found;
}

static void acx_init(struct acx *a, struct policy_eval *ev, struct map *table,
                     const char *datum, const char *reply_name, const char *reply_class)
{
    a->ev = ev;
    a->table = table;
    a->datum = datum;
    a->reply_name = reply_name;
    a->reply_class = reply_class;
    a->flags = 0;
    buf_init(&a->value, ACCESS_VALUE_MAX);
}

enum rstatus access_client(struct policy_eval *ev, struct map *table, const char *name,
                           const char *reply_class, bool forbid_ok)
{
    struct acx a;
    enum rstatus r = R_DUNNO;
    const char *host = name && *name ? name : "unknown";
    acx_init(&a, ev, table, host, ev->namaddr, reply_class);
    if (forbid_ok)
        a.flags |= FR_FORBID_OK;
    if (!domain_keys(&a, host, false, &r))
        addr_keys(&a, ev->facts->client_addr_text, &r);
    buf_free(&a.value);
    return r;
}

enum rstatus access_helo(struct policy_eval *ev, struct map *table)
{
    struct acx a;
    enum rstatus r = R_DUNNO;
    acx_init(&a, ev, table, ev->facts->helo, ev->facts->helo, CLASS_HELO);
    domain_keys(&a, ev->facts->helo, false, &r);
    buf_free(&a.value);
    return r;
}

enum rstatus access_plain(struct policy_eval *ev, struct map *table, const char *key,
                          const char *reply_name, const char *reply_class)
{
    struct acx a;
    enum rstatus r = R_DUNNO;
    acx_init(&a, ev, table, key, reply_name, reply_class);
    try_key(&a, key, false, &r);
    buf_free(&a.value);
    return r;
}

/* The user+ext@domain family of keys; addr is fully qualified. */
static bool mail_keys(struct acx *a, const char *addr, enum rstatus *r)
{
    const char *at = strrchr(addr, '@');
    char *local = xstrndup(addr, (size_t)(at - addr));
    char *bare_local = xstrdup(local);
    route_strip_extension(a->ev->env, bare_local);
    bool has_ext = strcmp(local, bare_local) != 0;
    char *bare = xasprintf("%s%s", bare_local, at);
    char *local_at = xasprintf("%s@", local);
    char *bare_at = xasprintf("%s@", bare_local);
    bool found = try_key(a, addr, false, r)
                 || (has_ext && try_key(a, bare, true, r))
                 || domain_keys(a, at + 1, true, r)
                 || try_key(a, local_at, true, r)
                 || (has_ext && try_key(a, bare_at, true, r));
    free(local);
    free(bare_local);
    free(bare);
    free(local_at);
    free(bare_at);
    return found;
}

enum rstatus access_mail(struct policy_eval *ev, struct map *table, const char *addr,
                         const char *reply_class)
{
    struct acx a;
    enum rstatus r = R_DUNNO;
    acx_init(&a, ev, table, addr, addr, reply_class);
    /* Source-routed recipients are too suspicious to be whitelisted. */
    if (strcmp(reply_class, CLASS_RECIPIENT) == 0 && route_is_routed(addr))
        a.flags |= FR_OK_IS_DUNNO;
    /* An address without a domain is read as user@$myorigin. */
    char *qualified = strchr(addr, '@') ? xstrdup(addr)
                                        : xasprintf("%s@%s", addr, ev->env->myorigin);
    mail_keys(&a, qualified, &r);
    free(qualified);
    buf_free(&a.value);
    return r;
}

enum rstatus access_sender(struct policy_eval *ev, struct map *table)
{
    const char *sender = ev->facts->sender;
    if (*sender)
        return access_mail(ev, table, sender, CLASS_SENDER);
    return access_plain(ev, table, ev->env->null_access_key, sender, CLASS_SENDER);
}
