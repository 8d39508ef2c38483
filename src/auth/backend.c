/*
 * Backend selection by smtpd_sasl_type, and the sharing key that lets
 * services with the same backend settings use one backend (one Dovecot
 * connection, one open user database) however many master.cf services
 * name it.
 */
#include "auth/backend.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct backend_type {
    const char *name;
    struct backend *(*create)(const struct backend_env *env, const struct config *cfg,
                              struct diag *diag);
    bool (*check)(const struct config *cfg, struct diag *diag);
};

static const struct backend_type types[] = {
    { "gatepost", backend_gatepost_new, backend_gatepost_check },
    { "cyrus", backend_cyrus_new, backend_cyrus_check },
    { "dovecot", backend_dovecot_new, backend_dovecot_check },
};

static const struct backend_type *find_type(const char *name)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (str_ieq(types[i].name, name))
            return &types[i];
    return NULL;
}

static const struct backend_type *config_type(const struct config *cfg, struct diag *diag)
{
    const char *name = cfg_str(cfg, P_SMTPD_SASL_TYPE);
    const struct backend_type *t = find_type(name);
    if (t == NULL)
        diag_add(diag, DIAG_ERROR, cfg_origin(cfg, P_SMTPD_SASL_TYPE),
                 "smtpd_sasl_type = %s: unknown SASL implementation (gatepost, dovecot, cyrus)",
                 name);
    return t;
}

char *backend_key(const struct config *cfg, struct diag *diag)
{
    const struct backend_type *t = config_type(cfg, diag);
    if (t == NULL)
        return NULL;
    if (strcmp(t->name, "gatepost") == 0)
        return xasprintf("gatepost|%s", cfg_str(cfg, P_SASL_USER_DATABASE));
    if (strcmp(t->name, "dovecot") == 0)
        return xasprintf("dovecot|%s|%s", cfg_str(cfg, P_QUEUE_DIRECTORY),
                         cfg_str(cfg, P_SMTPD_SASL_PATH));
    return xasprintf("cyrus|%s|%s", cfg_str(cfg, P_SMTPD_SASL_PATH),
                     cfg_str(cfg, P_CYRUS_SASL_CONFIG_PATH));
}

struct backend *backend_create(const struct backend_env *env, const struct config *cfg,
                               struct diag *diag)
{
    const struct backend_type *t = config_type(cfg, diag);
    if (t == NULL)
        return NULL;
    struct backend *b = t->create(env, cfg, diag);
    if (b)
        b->key = backend_key(cfg, diag);
    return b;
}

bool backend_check(const struct config *cfg, struct diag *diag)
{
    const struct backend_type *t = config_type(cfg, diag);
    return t != NULL && t->check(cfg, diag);
}

void backend_free(struct backend *b)
{
    if (b == NULL)
        return;
    free(b->key);
    b->ops->free(b);
}

void backend_notify_mechs(struct backend *b)
{
    if (b->mechs_changed)
        b->mechs_changed(b, b->mechs_changed_arg);
}
