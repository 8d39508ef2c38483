/*
 * The restriction table and the list compiler.
 *
 * Every restriction name gatepost recognises is one row: implemented ones
 * point at their function (restrict_ops.c); names Postfix has that need DNS,
 * a policy service, TLS certificates or address verification are rows of
 * kind RD_UNSUPPORTED, so that a configuration using one fails at load with
 * "NAME is not supported by gatepost yet" instead of silently losing a
 * security control; names Postfix itself removed are RD_OBSOLETE and the
 * error names the replacement. When one of those is implemented it becomes
 * an RD_OP row (or is added with restrict_register()).
 *
 * Compiling resolves each argument once: tables are opened (and shared
 * within the environment), numbers parsed, restriction classes linked. A
 * bare "type:table" item means check_<stage>_access for the list it is in,
 * as in Postfix.
 */
#include "policy/policy_priv.h"
#include "policy/restrict_ops.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OP(name, fn, arg, flags) { name, RD_OP, fn, arg, flags, NULL }
#define ALIAS(name, fn, arg, real) { name, RD_OP, fn, arg, 0, real }
#define TODO(name, arg) { name, RD_UNSUPPORTED, NULL, arg, 0, NULL }
#define TODO_ALIAS(name, arg, real) { name, RD_UNSUPPORTED, NULL, arg, 0, real }
#define GONE(name, arg, use) { name, RD_OBSOLETE, NULL, arg, 0, use }

static const struct rdef rdefs[] = {
    /* Generic. */
    OP("permit", op_permit, ARG_NONE, RF_PERMIT_ALL),
    OP("reject", op_reject, ARG_NONE, RF_RELAY_GUARD),
    OP("defer", op_defer, ARG_NONE, RF_RELAY_GUARD),
    OP("dunno", op_dunno, ARG_NONE, 0),
    OP("defer_if_permit", op_defer_if_permit, ARG_NONE, RF_RELAY_GUARD),
    OP("defer_if_reject", op_defer_if_reject, ARG_NONE, 0),
    { "warn_if_reject", RD_WARN_IF_REJECT, NULL, ARG_NONE, 0, NULL },
    OP("reject_plaintext_session", op_reject_plaintext_session, ARG_NONE, 0),
    TODO("sleep", ARG_NUMBER),
    TODO("check_policy_service", ARG_SERVICE),
    TODO("reject_unauth_pipelining", ARG_NONE),
    /* Client. */
    OP("permit_mynetworks", op_permit_mynetworks, ARG_NONE, 0),
    OP("permit_inet_interfaces", op_permit_inet_interfaces, ARG_NONE, 0),
    OP("permit_sasl_authenticated", op_permit_sasl_authenticated, ARG_NONE, 0),
    OP("check_client_access", op_check_client_access, ARG_TABLE, 0),
    OP("check_reverse_client_access", op_check_reverse_client_access, ARG_TABLE, 0),
    OP("check_sasl_access", op_check_sasl_access, ARG_TABLE, 0),
    TODO("reject_unknown_client_hostname", ARG_NONE),
    TODO_ALIAS("reject_unknown_client", ARG_NONE, "reject_unknown_client_hostname"),
    TODO("reject_unknown_reverse_client_hostname", ARG_NONE),
    TODO("reject_rbl_client", ARG_DOMAIN),
    TODO_ALIAS("reject_rbl", ARG_DOMAIN, "reject_rbl_client"),
    TODO("permit_dnswl_client", ARG_DOMAIN),
    TODO("reject_rhsbl_client", ARG_DOMAIN),
    TODO("reject_rhsbl_reverse_client", ARG_DOMAIN),
    TODO("permit_rhswl_client", ARG_DOMAIN),
    TODO("check_client_a_access", ARG_TABLE),
    TODO("check_client_mx_access", ARG_TABLE),
    TODO("check_client_ns_access", ARG_TABLE),
    TODO("check_reverse_client_a_access", ARG_TABLE),
    TODO("check_reverse_client_mx_access", ARG_TABLE),
    TODO("check_reverse_client_ns_access", ARG_TABLE),
    TODO("check_ccert_access", ARG_TABLE),
    TODO("permit_tls_clientcerts", ARG_NONE),
    TODO("permit_tls_all_clientcerts", ARG_NONE),
    /* HELO. */
    OP("check_helo_access", op_check_helo_access, ARG_TABLE, 0),
    OP("reject_invalid_helo_hostname", op_reject_invalid_helo_hostname, ARG_NONE, 0),
    ALIAS("reject_invalid_hostname", op_reject_invalid_helo_hostname, ARG_NONE,
          "reject_invalid_helo_hostname"),
    OP("reject_non_fqdn_helo_hostname", op_reject_non_fqdn_helo_hostname, ARG_NONE, 0),
    ALIAS("reject_non_fqdn_hostname", op_reject_non_fqdn_helo_hostname, ARG_NONE,
          "reject_non_fqdn_helo_hostname"),
    TODO("reject_unknown_helo_hostname", ARG_NONE),
    TODO_ALIAS("reject_unknown_hostname", ARG_NONE, "reject_unknown_helo_hostname"),
    TODO("reject_rhsbl_helo", ARG_DOMAIN),
    TODO("check_helo_a_access", ARG_TABLE),
    TODO("check_helo_mx_access", ARG_TABLE),
    TODO("check_helo_ns_access", ARG_TABLE),
    /* Sender. */
    OP("check_sender_access", op_check_sender_access, ARG_TABLE, 0),
    OP("reject_non_fqdn_sender", op_reject_non_fqdn_sender, ARG_NONE, 0),
    OP("reject_unlisted_sender", op_reject_unlisted_sender, ARG_NONE, 0),
    TODO("reject_unknown_sender_domain", ARG_NONE),
    TODO_ALIAS("reject_unknown_address", ARG_NONE, "reject_unknown_sender_domain"),
    TODO("reject_unverified_sender", ARG_NONE),
    TODO("reject_rhsbl_sender", ARG_DOMAIN),
    TODO("check_sender_a_access", ARG_TABLE),
    TODO("check_sender_mx_access", ARG_TABLE),
    TODO("check_sender_ns_access", ARG_TABLE),
    OP("reject_sender_login_mismatch", op_reject_sender_login_mismatch, ARG_NONE, 0),
    OP("reject_authenticated_sender_login_mismatch",
       op_reject_authenticated_sender_login_mismatch, ARG_NONE, 0),
    OP("reject_known_sender_login_mismatch", op_reject_known_sender_login_mismatch, ARG_NONE, 0),
    OP("reject_unauthenticated_sender_login_mismatch",
       op_reject_unauthenticated_sender_login_mismatch, ARG_NONE, 0),
    /* Recipient. */
    OP("check_recipient_access", op_check_recipient_access, ARG_TABLE, 0),
    OP("reject_non_fqdn_recipient", op_reject_non_fqdn_recipient, ARG_NONE, 0),
    OP("reject_unlisted_recipient", op_reject_unlisted_recipient, ARG_NONE, 0),
    ALIAS("check_recipient_maps", op_reject_unlisted_recipient, ARG_NONE,
          "reject_unlisted_recipient"),
    OP("permit_auth_destination", op_permit_auth_destination, ARG_NONE, 0),
    OP("reject_unauth_destination", op_reject_unauth_destination, ARG_NONE, RF_RELAY_GUARD),
    OP("defer_unauth_destination", op_defer_unauth_destination, ARG_NONE, RF_RELAY_GUARD),
    OP("reject_multi_recipient_bounce", op_reject_multi_recipient_bounce, ARG_NONE, 0),
    TODO("reject_unknown_recipient_domain", ARG_NONE),
    TODO("reject_unverified_recipient", ARG_NONE),
    TODO("reject_rhsbl_recipient", ARG_DOMAIN),
    TODO("permit_mx_backup", ARG_NONE),
    TODO("check_recipient_a_access", ARG_TABLE),
    TODO("check_recipient_mx_access", ARG_TABLE),
    TODO("check_recipient_ns_access", ARG_TABLE),
    TODO("check_etrn_access", ARG_TABLE),
    /* Removed from Postfix long ago. */
    GONE("check_relay_domains", ARG_NONE, "reject_unauth_destination"),
    GONE("reject_maps_rbl", ARG_NONE, "reject_rbl_client domain.tld"),
    GONE("permit_naked_ip_address", ARG_NONE, "permit_mynetworks or permit_sasl_authenticated"),
};

/* Rows added at run time (restrict_register). */
#define EXTRA_MAX 32
static const struct rdef *extra_rows[EXTRA_MAX];
static size_t n_extra;

const struct rdef *rdef_find(const char *name)
{
    for (size_t i = 0; i < sizeof(rdefs) / sizeof(rdefs[0]); i++)
        if (str_ieq(rdefs[i].name, name))
            return &rdefs[i];
    for (size_t i = 0; i < n_extra; i++)
        if (str_ieq(extra_rows[i]->name, name))
            return extra_rows[i];
    return NULL;
}

bool restrict_register(const struct rdef *def)
{
    if (n_extra >= EXTRA_MAX || rdef_find(def->name) != NULL)
        return false;
    extra_rows[n_extra++] = def;
    return true;
}

/* check_<stage>_access for a bare "type:table" item in each list. */
static const char *default_access(enum rlist_id id)
{
    static const char *const names[RL_COUNT] = {
        [RL_CLIENT] = "check_client_access", [RL_HELO] = "check_helo_access",
        [RL_SENDER] = "check_sender_access", [RL_RELAY] = "check_recipient_access",
        [RL_RECIPIENT] = "check_recipient_access", [RL_AUTH] = "check_client_access",
    };
    return names[id];
}

/* Compilation state: the list being built and where problems go. */
struct compiler {
    struct policy_env *env;
    struct rlist *rl;
    struct diag *diag;
    bool runtime;
    int errors;
};

static void c_error(struct compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void c_error(struct compiler *c, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->errors++;
    if (c->diag)
        diag_add(c->diag, DIAG_ERROR, c->rl->origin, "%s", msg);
    else
        log_warning("%s", msg);
}

static struct rstep *add_step(struct rlist *rl, const struct rdef *def, size_t *cap)
{
    if (rl->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        rl->steps = xrealloc(rl->steps, *cap * sizeof(*rl->steps));
    }
    struct rstep *st = &rl->steps[rl->n++];
    memset(st, 0, sizeof(*st));
    st->def = def;
    return st;
}

/* Resolves a step's argument (items[*i + 1]); advances *i past it. */
static void take_argument(struct compiler *c, struct rstep *st, char **items, size_t *i)
{
    const struct rdef *def = st->def;
    const char *arg = items[*i + 1];
    if (def->arg == ARG_NONE)
        return;
    if (arg == NULL || (def->arg == ARG_TABLE && strchr(arg, ':') == NULL)) {
        const char *need = def->arg == ARG_TABLE ? "maptype:mapname"
                           : def->arg == ARG_NUMBER ? "a number"
                           : def->arg == ARG_SERVICE ? "transport:server" : "a domain name";
        c_error(c, "restriction %s in parameter %s: bad argument \"%s\": need %s", def->name,
                c->rl->param, arg ? arg : "", need);
        return;
    }
    (*i)++;
    if (def->kind != RD_OP)
        return;
    if (def->arg == ARG_NUMBER) {
        char *end;
        st->number = strtol(arg, &end, 10);
        if (*end || !isdigit((unsigned char)arg[0]))
            c_error(c, "restriction %s in parameter %s must be followed by a number", def->name,
                    c->rl->param);
    } else if (def->arg == ARG_TABLE) {
        char *why = NULL;
        if (c->runtime) {
            c_error(c, "do not specify lookup tables inside access maps (\"%s\")", arg);
        } else if ((st->table = policy_env_table(c->env, arg, &why)) == NULL) {
            c_error(c, "parameter %s: %s", c->rl->param, why);
            free(why);
        }
    }
}

static void report_unimplemented(struct compiler *c, const struct rdef *def)
{
    if (def->kind == RD_OBSOLETE)
        c_error(c, "restriction %s in parameter %s is obsolete: use %s instead", def->name,
                c->rl->param, def->note);
    else if (def->note)
        c_error(c, "%s (%s) is not supported by gatepost yet (in parameter %s)", def->name,
                def->note, c->rl->param);
    else
        c_error(c, "%s is not supported by gatepost yet (in parameter %s)", def->name,
                c->rl->param);
}

/* Compiles one item (and its argument); advances *i. */
static void compile_item(struct compiler *c, char **items, size_t *i, size_t *cap)
{
    const char *name = items[*i];
    const struct rlist *cls = c->env ? policy_env_class(c->env, name) : NULL;
    if (strchr(name, ':') != NULL && default_access(c->rl->id) == NULL) {
        c_error(c, "specify one of (check_client_access, check_helo_access, "
                   "check_sender_access, check_recipient_access) before restriction \"%s\" "
                   "in parameter %s", name, c->rl->param);
        return;
    }
    if (strchr(name, ':') != NULL) {
        /* Bare table: re-read this item as the argument of check_<stage>_access. */
        struct rstep *st = add_step(c->rl, rdef_find(default_access(c->rl->id)), cap);
        (*i)--;
        take_argument(c, st, items, i);
        return;
    }
    if (cls != NULL) {
        static const struct rdef class_row = { "(restriction class)", RD_OP, NULL, ARG_NONE, 0,
                                               NULL };
        add_step(c->rl, &class_row, cap)->cls = cls;
        return;
    }
    const struct rdef *def = rdef_find(name);
    if (def == NULL) {
        c_error(c, "unknown restriction %s in parameter %s", name, c->rl->param);
        return;
    }
    if (def->kind == RD_UNSUPPORTED || def->kind == RD_OBSOLETE)
        report_unimplemented(c, def);
    struct rstep *st = add_step(c->rl, def, cap);
    take_argument(c, st, items, i);
}

/* Postfix warns about restrictions that can never be reached. */
static void warn_unreachable(struct compiler *c)
{
    for (size_t i = 0; i + 1 < c->rl->n; i++) {
        const struct rdef *def = c->rl->steps[i].def;
        bool warned = i > 0 && c->rl->steps[i - 1].def->kind == RD_WARN_IF_REJECT;
        if (def->fn != op_permit && def->fn != op_reject && def->fn != op_defer)
            continue;
        if (warned || c->diag == NULL)
            continue;
        diag_add(c->diag, DIAG_WARNING, c->rl->origin,
                 "restriction `%s' after `%s' is ignored (parameter %s)",
                 c->rl->steps[i + 1].def->name, def->name, c->rl->param);
        return;
    }
}

struct rlist *rlist_compile(struct policy_env *env, const char *text, const char *param,
                            const char *origin, enum rlist_id id, bool at_runtime,
                            struct diag *diag)
{
    struct rlist *rl = xcalloc(1, sizeof(*rl));
    struct compiler c = { env, rl, at_runtime ? NULL : diag, at_runtime, 0 };
    size_t count = 0, cap = 0;
    rl->id = id;
    rl->param = xstrdup(param);
    rl->origin = xstrdup(origin ? origin : "");
    char **items = str_list_split(text, STR_LIST_SEPARATORS, &count);
    for (size_t i = 0; i < count; i++)
        compile_item(&c, items, &i, &cap);
    free(items);
    if (c.errors) {
        rlist_free(rl);
        return NULL;
    }
    warn_unreachable(&c);
    return rl;
}

void rlist_free(struct rlist *rl)
{
    if (rl == NULL)
        return;
    free(rl->steps);
    free(rl->param);
    free(rl->origin);
    free(rl);
}

static bool guards_relay(const struct rlist *rl, int depth)
{
    if (rl == NULL || depth > RFRAME_MAX)
        return false;
    for (size_t i = 0; i < rl->n; i++) {
        const struct rstep *st = &rl->steps[i];
        if (st->def->kind == RD_WARN_IF_REJECT && i + 1 < rl->n) {
            i++;            /* a warned restriction does not protect anything */
            continue;
        }
        if (st->def->flags & RF_PERMIT_ALL)
            return false;
        if (st->def->flags & RF_RELAY_GUARD)
            return true;
        if (st->cls && guards_relay(st->cls, depth + 1))
            return true;
    }
    return false;
}

bool rlist_guards_relay(const struct rlist *rl)
{
    return guards_relay(rl, 0);
}
