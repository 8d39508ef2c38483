/* Privilege lookup and dropping; see privs.h. */
#include "master/privs.h"

#include "base/strutil.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

bool privs_lookup_owner(const char *name, struct identity *out, const char **why)
{
    struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
        *why = "no such user";
        return false;
    }
    if (pw->pw_uid == 0) {
        *why = "the mail owner must not be root";
        return false;
    }
    out->uid = pw->pw_uid;
    out->gid = pw->pw_gid;
    str_copy(out->name, sizeof(out->name), name);
    return true;
}

bool privs_drop(const struct identity *id)
{
    if (setgroups(1, &id->gid) < 0 || setresgid(id->gid, id->gid, id->gid) < 0 ||
        setresuid(id->uid, id->uid, id->uid) < 0)
        return false;
    /* Make sure root cannot be regained, and no exec can gain privileges. */
    if (setuid(0) == 0) {
        errno = EPERM;
        return false;
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return true;
}

bool privs_own(const char *path, const struct identity *id)
{
    if (geteuid() != 0)
        return true;
    return chown(path, id->uid, id->gid) == 0;
}
