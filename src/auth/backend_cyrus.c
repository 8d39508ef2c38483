/*
 * smtpd_sasl_type = cyrus: what a Postfix+Cyrus smtpd.conf asks for,
 * without linking Cyrus SASL.
 *
 *   pwcheck_method: saslauthd   PLAIN and LOGIN, verified by saslauthd at
 *                               saslauthd_path (default
 *                               /var/run/saslauthd/mux)
 *   pwcheck_method: auxprop     not supported: the secrets would be in a
 *                               Cyrus sasldb2, which gatepost does not
 *                               read. A start-up error says to migrate
 *                               it with `gatepost user import-sasldb` and
 *                               use smtpd_sasl_type = gatepost.
 *   mech_list                   honoured, minus what saslauthd cannot
 *                               serve (CRAM-MD5, DIGEST-MD5, SCRAM need
 *                               the password or a derived secret, which
 *                               saslauthd never gives out): those are
 *                               dropped with a warning.
 *
 * Other keys (log_level, sasldb_path, auxprop_plugin when saslauthd is
 * used, ...) are accepted and ignored.
 */
#include "auth/backend.h"

#include "auth/cyrus_conf.h"
#include "auth/saslauthd.h"
#include "base/fileio.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The mechanisms saslauthd can serve, in our preference order. */
static const char *const saslauthd_mechs[] = { "PLAIN", "LOGIN" };
#define NSASLAUTHD_MECHS (sizeof(saslauthd_mechs) / sizeof(saslauthd_mechs[0]))

static bool has_word(const char *list, const char *word)
{
    char **words = str_list_split(list, STR_LIST_SEPARATORS, NULL);
    bool found = false;
    for (size_t i = 0; words[i]; i++)
        found |= str_ieq(words[i], word);
    free(words);
    return found;
}

/* pwcheck_method must name saslauthd; anything else gets a clear error. */
static bool check_pwcheck(const struct cyrus_conf *c, struct diag *diag)
{
    const char *pw = cyrus_conf_get(c, "pwcheck_method");
    const char *plugin = cyrus_conf_get(c, "auxprop_plugin");
    if (pw && has_word(pw, "saslauthd")) {
        if (!str_ieq(pw, "saslauthd"))
            diag_add(diag, DIAG_WARNING, c->path,
                     "pwcheck_method: %s: only saslauthd is used by gatepost", pw);
        return true;
    }
    if (pw == NULL || has_word(pw, "auxprop") || has_word(pw, "auxprop-hashed"))
        diag_add(diag, DIAG_ERROR, c->path,
                 "pwcheck_method: %s%s%s: gatepost does not read Cyrus sasldb2 or other "
                 "auxprop stores; migrate the users with \"gatepost user import-sasldb\" and "
                 "set smtpd_sasl_type = gatepost, or use pwcheck_method: saslauthd",
                 pw ? pw : "auxprop (the Cyrus default)", plugin ? ", auxprop_plugin: " : "",
                 plugin ? plugin : "");
    else
        diag_add(diag, DIAG_ERROR, c->path,
                 "pwcheck_method: %s: not supported by gatepost (use saslauthd, or "
                 "smtpd_sasl_type = gatepost or dovecot)", pw);
    return false;
}

/* mech_list minus what saslauthd cannot do; *n mechanisms into out. */
static bool pick_mechs(const struct cyrus_conf *c, const char **out, size_t *n,
                       struct diag *diag)
{
    *n = 0;
    const char *list = cyrus_conf_get(c, "mech_list");
    if (list == NULL) {
        for (size_t i = 0; i < NSASLAUTHD_MECHS; i++)
            out[(*n)++] = saslauthd_mechs[i];
        return true;
    }
    for (size_t i = 0; i < NSASLAUTHD_MECHS; i++)
        if (has_word(list, saslauthd_mechs[i]))
            out[(*n)++] = saslauthd_mechs[i];
    char **words = str_list_split(list, STR_LIST_SEPARATORS, NULL);
    for (size_t i = 0; words[i]; i++)
        if (!str_ieq(words[i], "PLAIN") && !str_ieq(words[i], "LOGIN"))
            diag_add(diag, DIAG_WARNING, c->path,
                     "mech_list: %s cannot work with pwcheck_method saslauthd (saslauthd "
                     "only checks passwords); not offered", words[i]);
    free(words);
    if (*n == 0)
        diag_add(diag, DIAG_ERROR, c->path,
                 "mech_list: %s: no mechanism that works with saslauthd (PLAIN, LOGIN)", list);
    return *n > 0;
}

/* Finds and parses the application file; false (reported) if unusable. */
static bool load_conf(const struct config *cfg, struct cyrus_conf *c, struct diag *diag)
{
    const char *app = cfg_str(cfg, P_SMTPD_SASL_PATH);
    const char *extra = cfg_str(cfg, P_CYRUS_SASL_CONFIG_PATH);
    char *path = cyrus_conf_find(app, extra, cyrus_conf_builtin_dirs);
    if (path == NULL) {
        diag_add(diag, DIAG_ERROR, cfg_origin(cfg, P_SMTPD_SASL_TYPE),
                 "smtpd_sasl_type = cyrus: no %s.conf in %s%s/etc/gatepost/sasl, "
                 "/etc/postfix/sasl, /usr/lib/sasl2 or /etc/sasl2", app, extra,
                 extra[0] ? ", " : "");
        return false;
    }
    size_t len = 0;
    char *text = fileio_read(path, CYRUS_CONF_MAX_BYTES, &len);
    if (text == NULL) {
        diag_add(diag, DIAG_ERROR, path, "cannot read: %s", strerror(errno));
        free(path);
        return false;
    }
    bool ok = cyrus_conf_parse(text, len, path, c, diag);
    free(text);
    free(path);
    return ok;
}

static void free_store(void *ctx)
{
    saslauthd_store_free(ctx);
}

struct backend *backend_cyrus_new(const struct backend_env *env, const struct config *cfg,
                                  struct diag *diag)
{
    struct cyrus_conf c = { 0 };
    const char *mechs[NSASLAUTHD_MECHS];
    size_t n = 0;
    bool ok = load_conf(cfg, &c, diag) && check_pwcheck(&c, diag) &&
              pick_mechs(&c, mechs, &n, diag);
    struct backend *b = NULL;
    if (ok) {
        struct cred_store *store =
            saslauthd_store_new(cyrus_conf_get(&c, "saslauthd_path"), SASLAUTHD_TIMEOUT_MS);
        b = backend_mech_new(env, "cyrus", store, mechs, n, free_store, store);
    }
    cyrus_conf_free(&c);
    return b;
}

bool backend_cyrus_check(const struct config *cfg, struct diag *diag)
{
    struct cyrus_conf c = { 0 };
    const char *mechs[NSASLAUTHD_MECHS];
    size_t n = 0;
    bool ok = load_conf(cfg, &c, diag) && check_pwcheck(&c, diag) &&
              pick_mechs(&c, mechs, &n, diag);
    cyrus_conf_free(&c);
    return ok;
}
