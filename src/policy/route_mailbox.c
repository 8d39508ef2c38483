/*
 * Where a local or virtual recipient's mail goes (route.h route_mailbox).
 *
 * Virtual: $virtual_mailbox_base/<virtual_mailbox_maps result>, Maildir
 * when the result ends in '/', owned by the uid/gid from virtual_uid_maps
 * and virtual_gid_maps. A result that is absolute or has a ".." component
 * is refused (it would leave the base), and so is a uid below
 * $virtual_minimum_uid (root-owned mailboxes by accident).
 *
 * Local, when running as root: the user's passwd entry; $home_mailbox
 * relative to the home directory if set (trailing '/': Maildir), else
 * $mail_spool_directory/user (Maildir there if that ends in '/'); delivery
 * switches to the user's uid/gid.
 *
 * Local, when not running as root (a test or personal instance), there is
 * no identity to switch to: mail for any local part goes into
 * $mail_spool_directory/<localpart> as the current user, with or without a
 * passwd entry. The local part is then a file name, so it must be a safe
 * one (no '/', not starting with '.', printable).
 */
#include "policy/route.h"

#include "policy/policy_priv.h"

#include "base/strutil.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PW_BUF 16384

static enum map_status fail(struct buf *why, enum map_status st, const char *fmt, const char *arg)
{
    if (why) {
        buf_reset(why);
        buf_printf(why, fmt, arg);
    }
    return st;
}

/* Joins dir and name into out (one '/' between); false if too long. */
static bool join_path(char *out, size_t size, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/')
        n--;
    int len = snprintf(out, size, "%.*s/%s", (int)n, dir, name);
    return len > 0 && (size_t)len < size;
}

static bool has_dotdot(const char *path)
{
    for (const char *p = path; *p; ) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n;
        while (*p == '/')
            p++;
    }
    return false;
}

/* A number from a uid/gid map result ("1000"), bounded. */
static bool map_number(const struct policy_env *env, struct maplist *ml, const char *address,
                       unsigned *out)
{
    struct buf v;
    buf_init(&v, 64);
    bool ok = false;
    if (!maplist_is_empty(ml) && route_find(env, ml, address, false, &v) == MAP_FOUND) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(buf_cstr(&v), &end, 10);
        ok = errno == 0 && end != buf_cstr(&v) && *end == '\0' && n <= 0x7fffffffUL
             && isdigit((unsigned char)buf_cstr(&v)[0]);
        *out = (unsigned)n;
    }
    buf_free(&v);
    return ok;
}

static enum map_status virtual_mailbox(const struct policy_env *env, const char *address,
                                       struct mailbox_location *out, struct buf *why)
{
    struct buf v;
    buf_init(&v, 4096);
    enum map_status st = route_find(env, env->virtual_mailbox, address, false, &v);
    if (st != MAP_FOUND) {
        buf_free(&v);
        return st == MAP_ERROR ? fail(why, st, "virtual_mailbox_maps lookup failed for \"%s\"", address)
                               : fail(why, st, "unknown user: \"%s\"", address);
    }
    const char *rel = buf_cstr(&v);
    if (*env->virtual_mailbox_base != '/')
        st = fail(why, MAP_ERROR, "virtual_mailbox_base must be an absolute path, not \"%s\"",
                  env->virtual_mailbox_base);
    else if (*rel == '\0' || *rel == '/' || has_dotdot(rel))
        st = fail(why, MAP_ERROR, "virtual_mailbox_maps: unsafe mailbox path \"%s\"", rel);
    else if (!join_path(out->path, sizeof(out->path), env->virtual_mailbox_base, rel))
        st = fail(why, MAP_ERROR, "mailbox path too long for \"%s\"", address);
    out->maildir = rel[strlen(rel) - 1] == '/';
    buf_free(&v);
    if (st != MAP_FOUND)
        return st;
    if (!map_number(env, env->virtual_uid, address, &out->uid))
        return fail(why, MAP_ERROR, "no valid virtual_uid_maps result for \"%s\"", address);
    if (!map_number(env, env->virtual_gid, address, &out->gid))
        return fail(why, MAP_ERROR, "no valid virtual_gid_maps result for \"%s\"", address);
    if ((long)out->uid < env->virtual_minimum_uid)
        return fail(why, MAP_ERROR, "virtual_uid_maps: uid below virtual_minimum_uid for \"%s\"",
                    address);
    out->switch_identity = true;
    out->transport = "virtual";
    return MAP_FOUND;
}

/* A local part usable as a file name in the spool directory. */
static bool safe_file_name(const char *name)
{
    if (*name == '\0' || *name == '.' || strlen(name) > 255)
        return false;
    for (const char *p = name; *p; p++)
        if (*p == '/' || !isprint((unsigned char)*p))
            return false;
    return true;
}

static enum map_status spool_path(const struct policy_env *env, const char *user,
                                  struct mailbox_location *out, struct buf *why)
{
    const char *spool = env->mail_spool_directory;
    if (!join_path(out->path, sizeof(out->path), spool, user))
        return fail(why, MAP_ERROR, "mailbox path too long for \"%s\"", user);
    out->maildir = *spool && spool[strlen(spool) - 1] == '/';
    if (out->maildir && strlen(out->path) + 1 < sizeof(out->path))
        strcat(out->path, "/");
    return MAP_FOUND;
}

static enum map_status local_as_root(const struct policy_env *env, const char *user,
                                     struct mailbox_location *out, struct buf *why)
{
    struct passwd pw, *res = NULL;
    char *scratch = malloc(PW_BUF);
    if (scratch == NULL)
        return fail(why, MAP_ERROR, "out of memory looking up \"%s\"", user);
    int err = getpwnam_r(user, &pw, scratch, PW_BUF, &res);
    enum map_status st = MAP_FOUND;
    if (res == NULL) {
        st = err == 0 || err == ENOENT || err == ESRCH
             ? fail(why, MAP_NOTFOUND, "unknown user: \"%s\"", user)
             : fail(why, MAP_ERROR, "cannot look up user \"%s\"", user);
    } else if (*env->home_mailbox) {
        if (!join_path(out->path, sizeof(out->path), pw.pw_dir, env->home_mailbox))
            st = fail(why, MAP_ERROR, "mailbox path too long for \"%s\"", user);
        out->maildir = env->home_mailbox[strlen(env->home_mailbox) - 1] == '/';
    } else {
        st = spool_path(env, pw.pw_name, out, why);
    }
    if (res != NULL) {
        out->uid = (unsigned)pw.pw_uid;
        out->gid = (unsigned)pw.pw_gid;
        out->switch_identity = true;
    }
    free(scratch);
    return st;
}

static enum map_status local_mailbox(const struct policy_env *env, const char *address,
                                     struct mailbox_location *out, struct buf *why)
{
    char user[1024], domain[1024];
    if (!route_split(address, user, sizeof(user), domain, sizeof(domain)))
        return fail(why, MAP_NOTFOUND, "address too long: \"%s\"", address);
    route_strip_extension(env, user);
    str_lower(user);
    if (!safe_file_name(user))
        return fail(why, MAP_NOTFOUND, "unknown user: \"%s\"", user);
    out->transport = "local";
    if (geteuid() == 0)
        return local_as_root(env, user, out, why);
    out->uid = (unsigned)geteuid();
    out->gid = (unsigned)getegid();
    out->switch_identity = false;
    return spool_path(env, user, out, why);
}

enum map_status route_mailbox(const struct policy_env *env, const char *address,
                              struct mailbox_location *out, struct buf *why)
{
    memset(out, 0, sizeof(*out));
    switch (route_classify(env, address)) {
    case ADDR_CLASS_LOCAL:
        return local_mailbox(env, address, out, why);
    case ADDR_CLASS_VIRTUAL_MAILBOX:
        return virtual_mailbox(env, address, out, why);
    case ADDR_CLASS_ERROR:
        return fail(why, MAP_ERROR, "domain lookup failed for \"%s\"", address);
    default:
        return fail(why, MAP_NOTFOUND, "not a local or virtual mailbox address: \"%s\"",
                    address);
    }
}
