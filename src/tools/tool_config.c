/*
 * `gatepost config`: postconf for gatepost. Shows parameters (all, only
 * those set, defaults, selected names; raw or expanded), the master.cf
 * services as parsed, and `config check`, which loads main.cf, master.cf
 * and every SMTP service's derived configuration and runs the sanity
 * checks in the check table below, printing every problem as
 * "file:line: warning|error: text".
 *
 * Options and checks are tables so that adding one is adding a row.
 */
#include "tools/cli.h"

#include "base/diag.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "config/config.h"
#include "config/master_cf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct options {
    bool only_set;      /* -n */
    bool defaults;      /* -d */
    bool values_only;   /* -h */
    bool expand;        /* -x */
    bool services;      /* -M */
    bool help;          /* --help */
    bool check;         /* "check" */
    char **names;
    int nnames;
};

static const struct {
    char letter;
    size_t offset;
    const char *doc;
} flag_table[] = {
    { 'n', offsetof(struct options, only_set), "show only parameters set explicitly" },
    { 'd', offsetof(struct options, defaults), "show default values" },
    { 'h', offsetof(struct options, values_only), "show values only, without \"name = \"" },
    { 'x', offsetof(struct options, expand), "expand $name references in values" },
    { 'M', offsetof(struct options, services), "show the master.cf services as parsed" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: gatepost [-c DIR] config [-ndhx] [NAME...]\n"
                 "       gatepost [-c DIR] config -M\n"
                 "       gatepost [-c DIR] config check\n\n"
                 "Shows the configuration like postconf; without NAME, all parameters.\n"
                 "  -c DIR     use DIR/main.cf and DIR/master.cf\n");
    for (size_t i = 0; i < sizeof(flag_table) / sizeof(flag_table[0]); i++)
        fprintf(out, "  -%c         %s\n", flag_table[i].letter, flag_table[i].doc);
    fprintf(out, "  check      load everything, print every warning and error;\n"
                 "             exit status 1 if there is an error\n"
                 "  --help     this text\n");
}

static bool set_flags(struct options *o, const char *arg)
{
    for (const char *p = arg + 1; *p; p++) {
        size_t i = 0;
        while (i < sizeof(flag_table) / sizeof(flag_table[0]) && flag_table[i].letter != *p)
            i++;
        if (i == sizeof(flag_table) / sizeof(flag_table[0])) {
            fprintf(stderr, "gatepost config: unknown option -%c\n", *p);
            return false;
        }
        *(bool *)((char *)o + flag_table[i].offset) = true;
    }
    return true;
}

static bool parse_options(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    o->names = argv + 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            o->help = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            if (!set_flags(o, argv[i]))
                return false;
        } else if (o->nnames == 0 && !o->check && strcmp(argv[i], "check") == 0) {
            o->check = true;
        } else {
            o->names[o->nnames++] = argv[i];   /* compacts in place: nnames < i */
        }
    }
    if (o->check && o->nnames) {
        fprintf(stderr, "gatepost config: check takes no parameter names\n");
        return false;
    }
    return true;
}

/* ---- showing parameters ---- */

static void print_value(const struct options *o, const char *name, const char *value)
{
    if (o->values_only)
        printf("%s\n", value);
    else if (value[0])
        printf("%s = %s\n", name, value);
    else
        printf("%s =\n", name);
}

static bool show_name(const struct options *o, const struct config *cfg, const char *name)
{
    enum param_id id;
    bool is_param = param_find(name, &id);
    const char *raw = cfg_lookup_raw(cfg, name);
    if (!raw)
        return false;
    if (o->only_set && !(is_param ? cfg_is_set(cfg, id) : true))
        return true;
    print_value(o, name, o->expand ? cfg_lookup(cfg, name) : raw);
    return true;
}

/* Every parameter, merged in name order with the other names that were set. */
static void show_all(const struct options *o, const struct config *cfg)
{
    size_t p = 0, e = 0, ne = o->defaults ? 0 : cfg_extra_count(cfg);
    while (p < PARAM_COUNT || e < ne) {
        const char *pn = p < PARAM_COUNT ? param_name((enum param_id)p) : NULL;
        const char *en = e < ne ? cfg_extra_name(cfg, e) : NULL;
        if (pn && (!en || strcmp(pn, en) < 0)) {
            if (!o->only_set || cfg_is_set(cfg, (enum param_id)p))
                show_name(o, cfg, pn);
            p++;
        } else {
            show_name(o, cfg, en);
            e++;
        }
    }
}

static int show_params(const struct options *o, const struct config *cfg)
{
    if (o->nnames == 0) {
        show_all(o, cfg);
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < o->nnames; i++) {
        if (!show_name(o, cfg, o->names[i])) {
            fprintf(stderr, "gatepost config: %s: unknown parameter\n", o->names[i]);
            rc = 1;
        }
    }
    return rc;
}

/* ---- showing master.cf ---- */

static void print_word(const char *w)
{
    if (w[0] == '\0' || strpbrk(w, " \t"))
        printf(" { %s }", w);
    else
        printf(" %s", w);
}

static void show_services(const struct master_cf *mcf)
{
    for (size_t i = 0; i < mcf->count; i++) {
        const struct master_service *s = &mcf->services[i];
        printf("%s %s %s %s %s %s %s %s", s->name, s->type, s->private_flag, s->unpriv_flag,
               s->chroot_flag, s->wakeup, s->maxproc, s->command);
        for (size_t a = 0; s->args[a]; a++)
            print_word(s->args[a]);
        for (size_t k = 0; k < s->noverrides; k++) {
            const struct config_override *ov = &s->overrides[k];
            if (strpbrk(ov->value, " \t"))
                printf(" -o { %s = %s }", ov->name, ov->value);
            else
                printf(" -o %s=%s", ov->name, ov->value);
        }
        printf("\n");
    }
}

/* ---- config check ---- */

enum check_scope { CHECK_ONCE, CHECK_PER_SERVICE };

struct check_row {
    const char *name;
    enum check_scope scope;
    /* cfg is main.cf (CHECK_ONCE) or a service's derived config. */
    void (*run)(const struct config *cfg, const struct master_cf *mcf, struct diag *diag);
};

static void check_smtpd_present(const struct config *cfg, const struct master_cf *mcf,
                                struct diag *diag)
{
    for (size_t i = 0; i < mcf->count; i++)
        if (mcf->services[i].kind == SERVICE_SMTPD_INET)
            return;
    diag_add(diag, DIAG_WARNING, mcf->path,
             "no \"inet ... smtpd\" service: gatepost would accept no mail");
}

static const char *where_of(const struct config *cfg, enum param_id id)
{
    return cfg_is_set(cfg, id) ? cfg_origin(cfg, id) : "";
}

/* Postfix's smtpd refuses to start without a relay guard; so do we. */
static bool list_has_relay_guard(const char *list)
{
    static const char *const guards[] = { "reject_unauth_destination", "defer_unauth_destination",
                                          "reject", "defer", "defer_if_permit",
                                          "check_relay_domains" };
    char **items = str_list_split(list, STR_LIST_SEPARATORS, NULL);
    bool found = false;
    for (size_t i = 0; items[i] && !found; i++)
        for (size_t g = 0; g < sizeof(guards) / sizeof(guards[0]); g++)
            found = found || strcmp(items[i], guards[g]) == 0;
    free(items);
    return found;
}

static void check_relay_guard(const struct config *cfg, const struct master_cf *mcf,
                              struct diag *diag)
{
    if (list_has_relay_guard(cfg_str(cfg, P_SMTPD_RELAY_RESTRICTIONS))
        || list_has_relay_guard(cfg_str(cfg, P_SMTPD_RECIPIENT_RESTRICTIONS)))
        return;
    diag_add(diag, DIAG_ERROR, where_of(cfg, P_SMTPD_RELAY_RESTRICTIONS),
             "service %s: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, "
             "specify at least one working instance of: reject_unauth_destination, "
             "defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains",
             cfg_service_name(cfg));
}

static void check_absolute_dirs(const struct config *cfg, const struct master_cf *mcf,
                                struct diag *diag)
{
    static const enum param_id dirs[] = { P_CONFIG_DIRECTORY, P_QUEUE_DIRECTORY,
                                          P_DATA_DIRECTORY };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (cfg_str(cfg, dirs[i])[0] != '/')
            diag_add(diag, DIAG_ERROR, where_of(cfg, dirs[i]),
                     "%s = %s: specify an absolute path", param_name(dirs[i]),
                     cfg_str(cfg, dirs[i]));
}

static void check_mail_owner(const struct config *cfg, const struct master_cf *mcf,
                             struct diag *diag)
{
    const char *owner = cfg_str(cfg, P_MAIL_OWNER);
    if (strcmp(owner, "root") == 0 || strcmp(owner, "0") == 0)
        diag_add(diag, DIAG_ERROR, where_of(cfg, P_MAIL_OWNER),
                 "mail_owner = %s: the mail system must not run as root", owner);
}

/* ---- AUTH safety (warnings: a copied Postfix main.cf keeps its meaning) ---- */

static bool auth_enabled(const struct config *cfg)
{
    return cfg_bool(cfg, P_SMTPD_SASL_AUTH_ENABLE);
}

static bool has_word(const char *list, const char *word)
{
    char **items = str_list_split(list, STR_LIST_SEPARATORS, NULL);
    bool found = false;
    for (size_t i = 0; items[i] && !found; i++)
        found = str_ieq(items[i], word);
    free(items);
    return found;
}

/* A service on the SMTP port (25): "smtp", "25", "host:smtp", "host:25". */
static bool on_port_25(const char *service)
{
    const char *port = strrchr(service, ':');
    port = port ? port + 1 : service;
    return strcmp(port, "smtp") == 0 || strcmp(port, "25") == 0;
}

static void check_auth_plaintext(const struct config *cfg, const struct master_cf *mcf,
                                 struct diag *diag)
{
    if (!auth_enabled(cfg) || cfg_bool(cfg, P_SMTPD_TLS_AUTH_ONLY) ||
        cfg_bool(cfg, P_SMTPD_TLS_WRAPPERMODE) ||
        has_word(cfg_str(cfg, P_SMTPD_SASL_SECURITY_OPTIONS), "noplaintext"))
        return;
    diag_add(diag, DIAG_WARNING, where_of(cfg, P_SMTPD_SASL_AUTH_ENABLE),
             "service %s: AUTH offers plaintext mechanisms (PLAIN, LOGIN) without TLS: "
             "set smtpd_tls_auth_only = yes, or add noplaintext to smtpd_sasl_security_options",
             cfg_service_name(cfg));
}

/*
 * smtpd_sasl_auth_networks admits every client: it names 0.0.0.0/0 or ::/0
 * (the default does both). Setting it is not enough: a copied
 * "smtpd_sasl_auth_networks = 0.0.0.0/0" limits nothing. Lists with a
 * table or a negation are the administrator's judgement and pass.
 */
static bool is_table(const char *item)
{
    size_t n = strspn(item, "abcdefghijklmnopqrstuvwxyz0123456789_");
    return n > 0 && item[n] == ':' && item[n + 1] != ':' && item[0] >= 'a' && item[0] <= 'z';
}

static bool admits_everyone(const char *list)
{
    char **items = str_list_split(list, STR_LIST_SEPARATORS, NULL);
    bool everyone = false, judged = false;
    for (size_t i = 0; items[i]; i++) {
        const char *it = items[i];
        judged |= it[0] == '!' || is_table(it);
        everyone |= strcmp(it, "0.0.0.0/0") == 0 || strcmp(it, "[::]/0") == 0 ||
                    strcmp(it, "::/0") == 0 || strcmp(it, "[::/0]") == 0;
    }
    free(items);
    return everyone && !judged;
}

static void check_auth_port_25(const struct config *cfg, const struct master_cf *mcf,
                               struct diag *diag)
{
    const char *service = cfg_service_name(cfg);
    if (!auth_enabled(cfg) || service == NULL || !on_port_25(service) ||
        !admits_everyone(cfg_str(cfg, P_SMTPD_SASL_AUTH_NETWORKS)) ||
        cfg_str(cfg, P_SMTPD_AUTH_RESTRICTIONS)[0] != '\0')
        return;
    diag_add(diag, DIAG_WARNING, where_of(cfg, P_SMTPD_SASL_AUTH_ENABLE),
             "service %s: AUTH on port 25 is open to every client network, where dictionary "
             "attacks come from: limit it with smtpd_sasl_auth_networks, or offer AUTH only on "
             "submission (587) and submissions (465)", service);
}

static void check_auth_failure_cap(const struct config *cfg, const struct master_cf *mcf,
                                   struct diag *diag)
{
    long long limit = cfg_int(cfg, P_SMTPD_SASL_AUTH_FAILURE_LIMIT);
    if (!auth_enabled(cfg) || limit <= 10)
        return;
    diag_add(diag, DIAG_WARNING, where_of(cfg, P_SMTPD_SASL_AUTH_FAILURE_LIMIT),
             "service %s: smtpd_sasl_auth_failure_limit = %lld gives a dictionary attacker %lld "
             "guesses per connection", cfg_service_name(cfg), limit, limit);
}

static void check_exceptions_only_hide(const struct config *cfg, const struct master_cf *mcf,
                                       struct diag *diag)
{
    if (!auth_enabled(cfg) || cfg_str(cfg, P_SMTPD_SASL_EXCEPTIONS_NETWORKS)[0] == '\0' ||
        cfg_is_set(cfg, P_SMTPD_SASL_AUTH_NETWORKS))
        return;
    diag_add(diag, DIAG_INFO, where_of(cfg, P_SMTPD_SASL_EXCEPTIONS_NETWORKS),
             "service %s: smtpd_sasl_exceptions_networks only hides the AUTH keyword; clients "
             "that send AUTH anyway can still authenticate. smtpd_sasl_auth_networks refuses them",
             cfg_service_name(cfg));
}

static const struct check_row check_table[] = {
    { "smtpd-service-present", CHECK_ONCE, check_smtpd_present },
    { "absolute-directories", CHECK_ONCE, check_absolute_dirs },
    { "mail-owner-not-root", CHECK_ONCE, check_mail_owner },
    { "relay-guard", CHECK_PER_SERVICE, check_relay_guard },
    { "auth-plaintext-without-tls", CHECK_PER_SERVICE, check_auth_plaintext },
    { "auth-on-port-25-everywhere", CHECK_PER_SERVICE, check_auth_port_25 },
    { "auth-failure-cap", CHECK_PER_SERVICE, check_auth_failure_cap },
    { "auth-exceptions-only-hide", CHECK_PER_SERVICE, check_exceptions_only_hide },
};

static void run_checks(enum check_scope scope, const struct config *cfg,
                       const struct master_cf *mcf, struct diag *diag)
{
    for (size_t i = 0; i < sizeof(check_table) / sizeof(check_table[0]); i++)
        if (check_table[i].scope == scope)
            check_table[i].run(cfg, mcf, diag);
}

static int run_check(const char *config_dir)
{
    struct diag diag;
    struct config *cfg;
    struct master_cf *mcf;
    diag_init(&diag);
    if (config_open_active(config_dir, &cfg, &mcf, &diag)) {
        run_checks(CHECK_ONCE, cfg, mcf, &diag);
        for (size_t i = 0; i < mcf->count; i++) {
            const struct master_service *s = &mcf->services[i];
            if (s->kind != SERVICE_SMTPD_INET)
                continue;
            struct config *svc = config_derive(cfg, s->overrides, s->noverrides, s->name, &diag);
            if (svc)
                run_checks(CHECK_PER_SERVICE, svc, mcf, &diag);
            config_free(svc);
        }
    }
    diag_print(&diag, stdout);
    int rc = diag.errors ? 1 : 0;
    diag_free(&diag);
    config_free(cfg);
    master_cf_free(mcf);
    return rc;
}

/* ---- entry point ---- */

/* Warnings and errors only: "master.cf not found" notes are noise here. */
static void print_problems(const struct diag *diag)
{
    for (size_t i = 0; i < diag->count; i++) {
        const struct diag_entry *e = &diag->entries[i];
        if (e->severity == DIAG_INFO)
            continue;
        fprintf(stderr, "gatepost config: %s%s%s: %s\n", e->where, e->where[0] ? ": " : "",
                e->severity == DIAG_ERROR ? "error" : "warning", e->what);
    }
}

static int show(const struct options *o, const char *config_dir)
{
    struct diag diag;
    struct config *cfg = NULL;
    struct master_cf *mcf = NULL;
    diag_init(&diag);
    bool ok = o->defaults && !o->services
                  ? (cfg = config_parse_text("", "defaults", &diag)) != NULL
                  : config_open_active(config_dir, &cfg, &mcf, &diag);
    print_problems(&diag);
    diag_free(&diag);
    int rc = 1;
    if (ok)
        rc = o->services ? (show_services(mcf), 0) : show_params(o, cfg);
    config_free(cfg);
    master_cf_free(mcf);
    return rc;
}

int tool_config(const struct cli_context *ctx, int argc, char **argv)
{
    struct cli_context local = *ctx;
    int want_help;
    struct options o;
    if (cli_take_common_options(&local, &argc, argv, &want_help) < 0)
        return 2;
    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (o.help) {
        usage(stdout);
        return 0;
    }
    if (o.check)
        return run_check(local.config_dir);
    return show(&o, local.config_dir);
}
