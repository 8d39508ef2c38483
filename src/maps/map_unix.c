/*
 * unix: tables: the system's user and group databases, as Postfix offers
 * them (local_recipient_maps = unix:passwd.byname is the classic use).
 *
 *   unix:passwd.byname   key: login name  value: the passwd(5) line
 *   unix:group.byname    key: group name  value: the group(5) line
 *
 * The value is formatted like Postfix's ("name:passwd:uid:gid:gecos:dir:shell").
 * Lookups use the re-entrant getpwnam_r/getgrnam_r so they may run on
 * worker threads; a failing name service is a lookup error, not "not found".
 */
#include "maps/map_priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Scratch space for one passwd/group entry. */
#define UNIX_ENTRY_BUF 16384

static bool is_not_found_errno(int err)
{
    /* glibc reports "no such entry" as 0 or, for some NSS modules, these. */
    return err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM;
}

static enum map_status passwd_lookup(const struct map *m, const char *key, struct buf *value)
{
    struct passwd pw, *res = NULL;
    char *scratch = malloc(UNIX_ENTRY_BUF);
    if (scratch == NULL)
        return MAP_ERROR;
    int err = getpwnam_r(key, &pw, scratch, UNIX_ENTRY_BUF, &res);
    enum map_status st;
    if (res == NULL) {
        st = is_not_found_errno(err) ? MAP_NOTFOUND : MAP_ERROR;
    } else {
        buf_reset(value);
        st = buf_printf(value, "%s:%s:%ld:%ld:%s:%s:%s", pw.pw_name, pw.pw_passwd,
                        (long)pw.pw_uid, (long)pw.pw_gid, pw.pw_gecos, pw.pw_dir,
                        pw.pw_shell) ? MAP_FOUND : MAP_ERROR;
    }
    free(scratch);
    return st;
}

static enum map_status group_lookup(const struct map *m, const char *key, struct buf *value)
{
    struct group gr, *res = NULL;
    char *scratch = malloc(UNIX_ENTRY_BUF);
    if (scratch == NULL)
        return MAP_ERROR;
    int err = getgrnam_r(key, &gr, scratch, UNIX_ENTRY_BUF, &res);
    enum map_status st = MAP_FOUND;
    if (res == NULL) {
        st = is_not_found_errno(err) ? MAP_NOTFOUND : MAP_ERROR;
    } else {
        buf_reset(value);
        if (!buf_printf(value, "%s:%s:%ld:", gr.gr_name, gr.gr_passwd, (long)gr.gr_gid))
            st = MAP_ERROR;
        for (char **mem = gr.gr_mem; st == MAP_FOUND && *mem; mem++)
            if (!buf_printf(value, "%s%s", mem == gr.gr_mem ? "" : ",", *mem))
                st = MAP_ERROR;
    }
    free(scratch);
    return st;
}

static const struct map_ops passwd_ops = { passwd_lookup, NULL };
static const struct map_ops group_ops = { group_lookup, NULL };

struct map *map_unix_open(const char *spec, const char *name, unsigned flags, char **why)
{
    bool fold = (flags & MAP_FOLD_CASE) != 0;
    if (strcmp(name, "passwd.byname") == 0)
        return map_new(spec, &passwd_ops, NULL, false, fold);
    if (strcmp(name, "group.byname") == 0)
        return map_new(spec, &group_ops, NULL, false, fold);
    *why = map_why("unknown table: %s (unix: has passwd.byname and group.byname)", spec);
    return NULL;
}
