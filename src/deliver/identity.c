/*
 * Per-thread file-system identity. On Linux setfsuid/setfsgid change only
 * the calling thread's fsuid/fsgid (the ids used for file access and new
 * file ownership), so delivery threads can act as different mailbox owners
 * at once while the process keeps its privilege. Each change is verified
 * (setfsuid reports the old value, not failure), and every entry is paired
 * with a leave that restores the previous ids.
 *
 * Supplementary groups are per process and not changed here: the queue
 * manager drops them at start-up when it runs as root.
 */
#include "deliver/deliver_int.h"

#include <sys/fsuid.h>

/* setfs*id(-1) is refused by the kernel and returns the current value. */
static unsigned current_fsuid(void)
{
    return (unsigned)setfsuid((uid_t)-1);
}

static unsigned current_fsgid(void)
{
    return (unsigned)setfsgid((gid_t)-1);
}

bool identity_enter(const struct mailbox_location *mb, struct fs_identity *saved)
{
    saved->switched = false;
    if (!mb->switch_identity)
        return true;
    saved->gid = (unsigned)setfsgid((gid_t)mb->gid);
    saved->uid = (unsigned)setfsuid((uid_t)mb->uid);
    saved->switched = true;
    if (current_fsgid() != mb->gid || current_fsuid() != mb->uid) {
        identity_leave(saved);
        saved->switched = false;
        return false;
    }
    return true;
}

void identity_leave(const struct fs_identity *saved)
{
    if (!saved->switched)
        return;
    setfsuid((uid_t)saved->uid);
    setfsgid((gid_t)saved->gid);
}
