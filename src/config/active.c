/*
 * Which configuration is active, decided the same way for every
 * subcommand: "-c DIR", else $GATEPOST_CONFIG_DIR, else /etc/gatepost when
 * it holds a main.cf, else the embedded default with its state in ./run.
 *
 * A configuration directory without master.cf gets Postfix's stock single
 * service "smtp inet n - n - - smtpd". The embedded default writes
 * mailboxes as the invoking user (root included): its state lives in the
 * invoker's checkout, which the mail owner may not even be able to reach
 * (a checkout under /root). The queue itself is still owned by mail_owner.
 */
#include "config/config_internal.h"
#include "config/master_cf.h"

#include "base/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char stock_master_cf[] = "smtp inet n - n - - smtpd\n";

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static struct master_cf *load_master_cf(const char *dir, struct diag *diag)
{
    char *path = xasprintf("%s/master.cf", dir);
    struct master_cf *mcf;
    if (file_exists(path) || errno != ENOENT) {
        mcf = master_cf_load(path, diag);
    } else {
        diag_add(diag, DIAG_INFO, path, "not found; using the stock service \"%.*s\"",
                 (int)strlen(stock_master_cf) - 1, stock_master_cf);
        mcf = master_cf_parse(stock_master_cf, "stock master.cf", diag);
    }
    free(path);
    return mcf;
}

/* uid/gid for embedded mailboxes: the invoking user's. */
static bool embedded_identity(unsigned *uid, unsigned *gid, struct diag *diag)
{
    (void)diag;
    *uid = (unsigned)getuid();
    *gid = (unsigned)getgid();
    return true;
}

static bool open_embedded(struct config **cfg, struct master_cf **mcf, struct diag *diag)
{
    char cwd[4096];
    unsigned uid, gid;
    if (!getcwd(cwd, sizeof(cwd))) {
        diag_add(diag, DIAG_ERROR, "", "cannot determine the working directory for ./run: %s",
                 strerror(errno));
        return false;
    }
    if (!embedded_identity(&uid, &gid, diag))
        return false;
    char *state = xasprintf("%s/run", strcmp(cwd, "/") == 0 ? "" : cwd);
    *cfg = config_load_embedded(state, uid, gid, diag);
    free(state);
    if (*cfg)
        *mcf = master_cf_parse(config_embedded_master_cf(), "embedded master.cf", diag);
    return *cfg && *mcf;
}

static const char *choose_dir(const char *dash_c)
{
    if (dash_c)
        return dash_c;
    const char *env = getenv("GATEPOST_CONFIG_DIR");
    if (env && env[0])
        return env;
    const char *etc = param_default(P_CONFIG_DIRECTORY);
    char *main_cf = xasprintf("%s/main.cf", etc);
    bool found = file_exists(main_cf);
    free(main_cf);
    return found ? etc : NULL;
}

bool config_open_active(const char *dash_c, struct config **cfg_out,
                        struct master_cf **mcf_out, struct diag *diag)
{
    struct config *cfg = NULL;
    struct master_cf *mcf = NULL;
    const char *dir = choose_dir(dash_c);
    bool ok;
    if (dir) {
        cfg = config_load(dir, diag);
        mcf = load_master_cf(dir, diag);
        ok = cfg && mcf;
    } else {
        ok = open_embedded(&cfg, &mcf, diag);
    }
    if (!ok) {
        config_free(cfg);
        master_cf_free(mcf);
        cfg = NULL;
        mcf = NULL;
    }
    *cfg_out = cfg;
    *mcf_out = mcf;
    return ok;
}
