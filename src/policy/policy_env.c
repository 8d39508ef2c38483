/*
 * Building a policy environment: every parameter the engine uses is read
 * once, by name, from a policy_source, converted and compiled (restriction
 * lists, match lists, tables), so that evaluation never parses text.
 *
 * A parameter the source does not know takes Postfix 3.7's default from
 * the table below. Everything wrong is reported to diag with the origin of
 * the parameter ("main.cf:12") and makes the environment fail to build;
 * a server must not start with half of its policy.
 *
 * Postfix's safety check is reproduced: unless smtpd_relay_restrictions or
 * smtpd_recipient_restrictions contains a restriction that refuses relaying
 * by default, the configuration is refused.
 */
#include "policy/policy_priv.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Defaults for parameters a source may not define (Postfix 3.7 values). */
static const struct { const char *name, *value; } defaults[] = {
    { "smtpd_client_restrictions", "" },
    { "smtpd_helo_restrictions", "" },
    { "smtpd_sender_restrictions", "" },
    { "smtpd_relay_restrictions",
      "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination" },
    { "smtpd_recipient_restrictions", "" },
    { "smtpd_data_restrictions", "" },
    { "smtpd_end_of_data_restrictions", "" },
    { "smtpd_restriction_classes", "" },
    { "mynetworks_style", "host" },
    { "parent_domain_matches_subdomains",
      "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,"
      "qmqpd_authorized_clients,relay_domains,smtpd_access_maps" },
    { "mydestination", "localhost" },
    { "relay_domains", "" },
    { "virtual_mailbox_domains", "" },
    { "inet_interfaces", "all" },
    { "myorigin", "localhost" },
    { "local_recipient_maps", "proxy:unix:passwd.byname" },
    { "virtual_mailbox_maps", "" },
    { "relay_recipient_maps", "" },
    { "virtual_uid_maps", "" },
    { "virtual_gid_maps", "" },
    { "smtpd_sender_login_maps", "" },
    { "virtual_mailbox_base", "" },
    { "virtual_minimum_uid", "100" },
    { "home_mailbox", "" },
    { "mail_spool_directory", "/var/mail" },
    { "recipient_delimiter", "" },
    { "double_bounce_sender", "double-bounce" },
    { "smtpd_null_access_lookup_key", "<>" },
    { "smtpd_delay_reject", "yes" },
    { "smtpd_reject_unlisted_recipient", "yes" },
    { "smtpd_reject_unlisted_sender", "no" },
    { "show_user_unknown_table_name", "yes" },
    { "smtpd_sasl_auth_enable", "no" },
    { "reject_code", "554" },
    { "defer_code", "450" },
    { "relay_domains_reject_code", "554" },
    { "access_map_reject_code", "554" },
    { "access_map_defer_code", "450" },
    { "unknown_local_recipient_reject_code", "550" },
    { "unknown_virtual_mailbox_reject_code", "550" },
    { "unknown_relay_recipient_reject_code", "550" },
    { "non_fqdn_reject_code", "504" },
    { "invalid_hostname_reject_code", "501" },
    { "plaintext_reject_code", "450" },
    { "multi_recipient_bounce_reject_code", "550" },
};

/* Building state: the source and where problems go. */
struct builder {
    const struct policy_source *src;
    struct policy_env *env;
    struct diag *diag;
    int errors;
};

static const char *param(struct builder *b, const char *name)
{
    const char *v = b->src->value(b->src->ctx, name);
    if (v != NULL)
        return v;
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (strcmp(defaults[i].name, name) == 0)
            return defaults[i].value;
    return NULL;
}

static const char *origin(struct builder *b, const char *name)
{
    const char *o = b->src->origin ? b->src->origin(b->src->ctx, name) : NULL;
    return o ? o : "default";
}

static void berror(struct builder *b, const char *name, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, arg);
    diag_add(b->diag, DIAG_ERROR, origin(b, name), "parameter %s: %s", name, msg);
    b->errors++;
}

static bool param_bool(struct builder *b, const char *name)
{
    const char *v = param(b, name);
    if (v && (str_ieq(v, "yes") || str_ieq(v, "true") || str_ieq(v, "1")))
        return true;
    if (v && (str_ieq(v, "no") || str_ieq(v, "false") || str_ieq(v, "0")))
        return false;
    berror(b, name, "bad boolean value \"%s\"", v ? v : "");
    return false;
}

static long param_long(struct builder *b, const char *name)
{
    const char *v = param(b, name);
    char *end = NULL;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (v == NULL || *v == '\0' || *end != '\0' || errno != 0) {
        berror(b, name, "bad numerical value \"%s\"", v ? v : "");
        return 0;
    }
    return n;
}

static int param_code(struct builder *b, const char *name)
{
    long n = param_long(b, name);
    if (n < 400 || n > 599) {
        char num[32];
        snprintf(num, sizeof(num), "%ld", n);
        berror(b, name, "reply code %s is not a 4xx or 5xx code", num);
    }
    return (int)n;
}

static char *param_dup(struct builder *b, const char *name)
{
    const char *v = param(b, name);
    return xstrdup(v ? v : "");
}

/* Is name listed in parent_domain_matches_subdomains? */
static bool parent_style(struct builder *b, const char *name)
{
    size_t n = 0;
    char **items = str_list_split(param(b, "parent_domain_matches_subdomains"),
                                  STR_LIST_SEPARATORS, &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = str_ieq(items[i], name);
    free(items);
    return found;
}

static struct maplist *open_maps(struct builder *b, const char *name)
{
    char *why = NULL;
    struct maplist *ml = maplist_open(param(b, name), MAP_FOLD_CASE, &why);
    if (ml == NULL) {
        berror(b, name, "%s", why);
        free(why);
    }
    return ml;
}

static struct domainlist *open_domains(struct builder *b, const char *name)
{
    struct domainlist *dl = domainlist_compile(param(b, name), name, parent_style(b, name),
                                               origin(b, name), b->diag);
    if (dl == NULL)
        b->errors++;
    return dl;
}

static void open_mynetworks(struct builder *b)
{
    const char *list = b->src->value(b->src->ctx, "mynetworks");
    char *computed = NULL;
    if (list == NULL) {
        computed = netlist_mynetworks_default(param(b, "mynetworks_style"));
        if (computed == NULL) {
            berror(b, "mynetworks_style", "unknown value \"%s\"", param(b, "mynetworks_style"));
            return;
        }
        list = computed;
    }
    b->env->mynetworks = netlist_compile_ex(list, "mynetworks", parent_style(b, "mynetworks"),
                                            origin(b, "mynetworks"), b->diag);
    if (b->env->mynetworks == NULL)
        b->errors++;
    free(computed);
}

static void add_my_addr(struct policy_env *env, const struct netaddr *a)
{
    for (size_t i = 0; i < env->n_my_addrs; i++)
        if (netaddr_equal(&env->my_addrs[i], a))
            return;
    env->my_addrs = xrealloc(env->my_addrs, (env->n_my_addrs + 1) * sizeof(*env->my_addrs));
    env->my_addrs[env->n_my_addrs++] = *a;
}

static void add_interfaces(struct policy_env *env)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *ifa = ifs; ifa; ifa = ifa->ifa_next) {
        struct netaddr a;
        if (ifa->ifa_addr && netaddr_from_sockaddr(ifa->ifa_addr, &a, NULL))
            add_my_addr(env, &a);
    }
    freeifaddrs(ifs);
}

/* A host name in inet_interfaces: its addresses (resolved once, at load). */
static bool add_host(struct policy_env *env, const char *host)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        struct netaddr a;
        if (netaddr_from_sockaddr(ai->ai_addr, &a, NULL))
            add_my_addr(env, &a);
    }
    freeaddrinfo(res);
    return true;
}

/* inet_interfaces: "all", "loopback-only", or addresses and host names. */
static void open_interfaces(struct builder *b)
{
    size_t n = 0;
    char **items = str_list_split(param(b, "inet_interfaces"), STR_LIST_SEPARATORS, &n);
    for (size_t i = 0; i < n; i++) {
        struct netaddr a;
        if (str_ieq(items[i], "all")) {
            add_interfaces(b->env);
        } else if (str_ieq(items[i], "loopback-only")) {
            netaddr_parse("127.0.0.1", &a);
            add_my_addr(b->env, &a);
            netaddr_parse("::1", &a);
            add_my_addr(b->env, &a);
        } else if (netaddr_parse(items[i], &a)) {
            add_my_addr(b->env, &a);
        } else if (!add_host(b->env, items[i])) {
            berror(b, "inet_interfaces", "cannot find the address of \"%s\"", items[i]);
        }
    }
    free(items);
}

static const char *const list_params[RL_COUNT] = {
    [RL_CLIENT] = "smtpd_client_restrictions", [RL_HELO] = "smtpd_helo_restrictions",
    [RL_SENDER] = "smtpd_sender_restrictions", [RL_RELAY] = "smtpd_relay_restrictions",
    [RL_RECIPIENT] = "smtpd_recipient_restrictions", [RL_DATA] = "smtpd_data_restrictions",
    [RL_EOD] = "smtpd_end_of_data_restrictions", [RL_AUTH] = "smtpd_auth_restrictions",
};

/*
 * Restriction classes: names first (so classes may use each other), then
 * each definition, compiled into the object already handed out.
 */
static void compile_classes(struct builder *b)
{
    size_t n = 0;
    char **names = str_list_split(param(b, "smtpd_restriction_classes"), STR_LIST_SEPARATORS, &n);
    struct policy_env *env = b->env;
    env->classes = xcalloc(n ? n : 1, sizeof(*env->classes));
    for (size_t i = 0; i < n; i++) {
        env->classes[i].name = xstrdup(names[i]);
        env->classes[i].list = xcalloc(1, sizeof(struct rlist));
        env->nclasses++;
    }
    for (size_t i = 0; i < n; i++) {
        const char *text = b->src->value(b->src->ctx, names[i]);
        if (text == NULL || *text == '\0') {
            berror(b, "smtpd_restriction_classes", "restriction class `%s' needs a definition",
                   names[i]);
            continue;
        }
        struct rlist *rl = rlist_compile(env, text, names[i], origin(b, names[i]),
                                         RL_RECIPIENT, false, b->diag);
        if (rl == NULL) {
            b->errors++;
            continue;
        }
        *env->classes[i].list = *rl;    /* move the compiled steps into place */
        free(rl);
    }
    free(names);
}

static void compile_lists(struct builder *b)
{
    for (int id = 0; id < RL_COUNT; id++) {
        const char *text = param(b, list_params[id]);
        /* smtpd_auth_restrictions may not exist at all: then AUTH is not restricted. */
        if (text == NULL)
            continue;
        b->env->lists[id] = rlist_compile(b->env, text, list_params[id],
                                          origin(b, list_params[id]), (enum rlist_id)id, false,
                                          b->diag);
        if (b->env->lists[id] == NULL)
            b->errors++;
    }
}

static void check_relay_guard(struct builder *b)
{
    struct policy_env *env = b->env;
    if (env->lists[RL_RELAY] == NULL || env->lists[RL_RECIPIENT] == NULL)
        return;
    if (rlist_guards_relay(env->lists[RL_RELAY]) || rlist_guards_relay(env->lists[RL_RECIPIENT]))
        return;
    diag_add(b->diag, DIAG_ERROR, origin(b, "smtpd_relay_restrictions"),
             "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify "
             "at least one working instance of: reject_unauth_destination, "
             "defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains");
    b->errors++;
}

static void read_scalars(struct builder *b)
{
    struct policy_env *env = b->env;
    env->myorigin = param_dup(b, "myorigin");
    env->recipient_delimiter = param_dup(b, "recipient_delimiter");
    env->double_bounce_sender = param_dup(b, "double_bounce_sender");
    env->null_access_key = param_dup(b, "smtpd_null_access_lookup_key");
    env->virtual_mailbox_base = param_dup(b, "virtual_mailbox_base");
    env->home_mailbox = param_dup(b, "home_mailbox");
    env->mail_spool_directory = param_dup(b, "mail_spool_directory");
    env->virtual_minimum_uid = param_long(b, "virtual_minimum_uid");
    env->delay_reject = param_bool(b, "smtpd_delay_reject");
    env->reject_unlisted_recipient = param_bool(b, "smtpd_reject_unlisted_recipient");
    env->reject_unlisted_sender = param_bool(b, "smtpd_reject_unlisted_sender");
    env->show_table_name = param_bool(b, "show_user_unknown_table_name");
    env->sasl_enabled = param_bool(b, "smtpd_sasl_auth_enable");
    env->access_parent_style = parent_style(b, "smtpd_access_maps");
    env->reject_code = param_code(b, "reject_code");
    env->defer_code = param_code(b, "defer_code");
    env->relay_code = param_code(b, "relay_domains_reject_code");
    env->map_reject_code = param_code(b, "access_map_reject_code");
    env->map_defer_code = param_code(b, "access_map_defer_code");
    env->unknown_local_code = param_code(b, "unknown_local_recipient_reject_code");
    env->unknown_virtual_code = param_code(b, "unknown_virtual_mailbox_reject_code");
    env->unknown_relay_code = param_code(b, "unknown_relay_recipient_reject_code");
    env->non_fqdn_code = param_code(b, "non_fqdn_reject_code");
    env->invalid_hostname_code = param_code(b, "invalid_hostname_reject_code");
    env->plaintext_code = param_code(b, "plaintext_reject_code");
    env->multi_rcpt_bounce_code = param_code(b, "multi_recipient_bounce_reject_code");
}

struct policy_env *policy_env_new_source(const struct policy_source *src, struct diag *diag)
{
    struct policy_env *env = xcalloc(1, sizeof(*env));
    struct builder b = { src, env, diag, 0 };
    env->cfg = src->cfg;
    read_scalars(&b);
    open_mynetworks(&b);
    open_interfaces(&b);
    env->mydestination = open_domains(&b, "mydestination");
    env->relay_domains = open_domains(&b, "relay_domains");
    env->virtual_mailbox_domains = open_domains(&b, "virtual_mailbox_domains");
    env->local_rcpt = open_maps(&b, "local_recipient_maps");
    env->virtual_mailbox = open_maps(&b, "virtual_mailbox_maps");
    env->relay_rcpt = open_maps(&b, "relay_recipient_maps");
    env->virtual_uid = open_maps(&b, "virtual_uid_maps");
    env->virtual_gid = open_maps(&b, "virtual_gid_maps");
    env->sender_login = open_maps(&b, "smtpd_sender_login_maps");
    compile_classes(&b);
    compile_lists(&b);
    if (b.errors == 0)
        check_relay_guard(&b);
    if (b.errors) {
        policy_env_free(env);
        return NULL;
    }
    return env;
}

struct map *policy_env_table(struct policy_env *env, const char *spec, char **why)
{
    for (size_t i = 0; i < env->ntables; i++)
        if (strcmp(env->tables[i].spec, spec) == 0)
            return env->tables[i].map;
    struct map *m = map_open(spec, MAP_FOLD_CASE, why);
    if (m == NULL)
        return NULL;
    env->tables = xrealloc(env->tables, (env->ntables + 1) * sizeof(*env->tables));
    env->tables[env->ntables++] = (struct env_table){ xstrdup(spec), m };
    return m;
}

const struct rlist *policy_env_class(const struct policy_env *env, const char *name)
{
    for (size_t i = 0; i < env->nclasses; i++)
        if (strcmp(env->classes[i].name, name) == 0)
            return env->classes[i].list;
    return NULL;
}

void policy_env_free(struct policy_env *env)
{
    if (env == NULL)
        return;
    for (int i = 0; i < RL_COUNT; i++)
        rlist_free(env->lists[i]);
    for (size_t i = 0; i < env->nclasses; i++) {
        free(env->classes[i].name);
        rlist_free(env->classes[i].list);
    }
    free(env->classes);
    for (size_t i = 0; i < env->ntables; i++) {
        free(env->tables[i].spec);
        map_close(env->tables[i].map);
    }
    free(env->tables);
    netlist_free(env->mynetworks);
    domainlist_free(env->mydestination);
    domainlist_free(env->relay_domains);
    domainlist_free(env->virtual_mailbox_domains);
    free(env->my_addrs);
    maplist_close(env->local_rcpt);
    maplist_close(env->virtual_mailbox);
    maplist_close(env->relay_rcpt);
    maplist_close(env->virtual_uid);
    maplist_close(env->virtual_gid);
    maplist_close(env->sender_login);
    free(env->myorigin);
    free(env->recipient_delimiter);
    free(env->double_bounce_sender);
    free(env->null_access_key);
    free(env->virtual_mailbox_base);
    free(env->home_mailbox);
    free(env->mail_spool_directory);
    free(env);
}

const struct config *policy_env_config(const struct policy_env *env)
{
    return env->cfg;
}

bool policy_in_mynetworks(const struct policy_env *env, const struct netaddr *addr,
                          const char *hostname)
{
    return netlist_match(env->mynetworks, addr, hostname) == MATCH_YES;
}
