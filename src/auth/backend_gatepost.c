/*
 * smtpd_sasl_type = gatepost: every implemented mechanism over the
 * gatepost user database (sasl_user_database), which only this process,
 * running as root, can read. The database is opened once at start-up;
 * `gatepost user` changes are seen at once because every lookup is a new
 * LMDB read transaction.
 */
#include "auth/backend.h"

#include "auth/mech.h"
#include "auth/store_userdb.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void close_store(void *ctx)
{
    store_userdb_close(ctx);
}

struct backend *backend_gatepost_new(const struct backend_env *env, const struct config *cfg,
                                     struct diag *diag)
{
    size_t n = 0;
    while (mech_implemented[n])
        n++;
    if (env->store_override)
        return backend_mech_new(env, "gatepost", env->store_override, mech_implemented, n,
                                NULL, NULL);
    const char *path = cfg_str(cfg, P_SASL_USER_DATABASE);
    char err[256];
    struct cred_store *store = store_userdb_open(path, err, sizeof(err));
    if (store == NULL) {
        diag_add(diag, DIAG_ERROR, cfg_origin(cfg, P_SASL_USER_DATABASE),
                 "sasl_user_database %s: %s", path, err);
        return NULL;
    }
    return backend_mech_new(env, "gatepost", store, mech_implemented, n, close_store, store);
}

bool backend_gatepost_check(const struct config *cfg, struct diag *diag)
{
    const char *path = cfg_str(cfg, P_SASL_USER_DATABASE);
    if (access(path, F_OK) != 0)
        diag_add(diag, DIAG_WARNING, cfg_origin(cfg, P_SASL_USER_DATABASE),
                 "sasl_user_database %s: %s (add users with \"gatepost user add\")", path,
                 strerror(errno));
    return true;
}
