/*
 * Privilege handling for the supervisor and its children. Started as
 * root, gatepost binds its ports and prepares its directories as root,
 * then the internet-facing processes switch to the unprivileged mail_owner
 * for good (no saved IDs, no supplementary groups, no new privileges).
 */
#ifndef GATEPOST_MASTER_PRIVS_H
#define GATEPOST_MASTER_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

struct identity {
    uid_t uid;
    gid_t gid;
    char name[64];
};

/* Looks up mail_owner; false with *why on failure (no such user, uid 0). */
bool privs_lookup_owner(const char *name, struct identity *out, const char **why);
/* Drops to id irrevocably; false with errno on failure. */
bool privs_drop(const struct identity *id);
/* chown(2) of path to id when running as root; true if nothing to do. */
bool privs_own(const char *path, const struct identity *id);

#endif
