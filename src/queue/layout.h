/*
 * The queue directory layout, shared by writers, the queue manager and
 * the admin tools:
 *
 *   tmp/        files being written where the file system has no unnamed
 *               files (O_TMPFILE); never read. Leftovers of interrupted
 *               transactions are removed by the supervisor when it starts
 *               and, once stale, by the queue manager.
 *   incoming/   complete files: committed (file and directory synced), or
 *               named and still being synced by their commit, which
 *               removes the name again if a sync fails. New messages are
 *               delivered here, in place.
 *   active/     deferred messages taken back for a retry. A file found
 *               here or in incoming/ at start may have been half
 *               delivered: it is recovered (earlier copies looked for
 *               before delivering again).
 *   deferred/   waiting for a retry after a temporary failure; the time of
 *               the next attempt is in the file's header.
 *   corrupt/    files that failed to load; kept for the administrator,
 *               never deleted by gatepost.
 *   private/qmgr  the queue manager's unix datagram socket. Writers send
 *               "ID\n..." after a commit (best effort: the manager also
 *               scans incoming/).
 *
 * A move between directories is a rename(2) within one file system, so a
 * message is in exactly one directory at any time. The directories are
 * owned by the mail owner, mode 0700.
 */
#ifndef GATEPOST_QUEUE_LAYOUT_H
#define GATEPOST_QUEUE_LAYOUT_H

#include "base/buf.h"

#include <stdbool.h>

#define QUEUE_DIR_TMP "tmp"
#define QUEUE_DIR_INCOMING "incoming"
#define QUEUE_DIR_ACTIVE "active"
#define QUEUE_DIR_DEFERRED "deferred"
#define QUEUE_DIR_CORRUPT "corrupt"
#define QUEUE_DIR_PRIVATE "private"
#define QUEUE_QMGR_SOCKET "private/qmgr"

/* Creates queue_dir and its subdirectories (mode 0700) where missing. */
bool queue_layout_create(const char *queue_dir, struct buf *why);
/* Opens queue_dir/sub as a directory (O_RDONLY|O_DIRECTORY|O_CLOEXEC); -1 + errno. */
int queue_layout_open(const char *queue_dir, const char *sub);
/*
 * Removes every file in queue_dir/tmp/. Only for a moment when no writer
 * can exist (the supervisor's start, before any child runs): files there
 * are then the leftovers of transactions a crash interrupted, none of
 * which was acknowledged. Returns the number removed, or -1 + errno.
 */
long queue_layout_clean_tmp(const char *queue_dir);

#endif
