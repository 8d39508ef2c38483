/*
 * Private to the delivery agents: the pieces deliver.c puts together.
 * Everything here runs on a queue-manager pool thread.
 */
#ifndef GATEPOST_DELIVER_DELIVER_INT_H
#define GATEPOST_DELIVER_DELIVER_INT_H

#include "deliver/deliver.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define DELIVER_CHUNK (64u << 10)       /* content is copied in chunks of this size */

/* Fills out; the text is formatted like printf. */
void deliver_set(struct deliver_result *out, enum deliver_status st, const char *dsn,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * Result for a failed system call: the DSN and DEFER/BOUNCE choice follow
 * Postfix's mailbox error mapping (full disk and lock contention are
 * temporary; over quota, file too large and a non-directory in the path
 * are permanent; other errors are temporary). prefix is e.g.
 * "maildir delivery failed: create maildir file /x/tmp/y".
 */
void deliver_set_errno(struct deliver_result *out, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "Return-Path: <sender>\nDelivered-To: rcpt\n" into buf; its length, 0 if too small. */
size_t deliver_headers(const struct deliver_request *req, char *buf, size_t size);

/* Reads content bytes [off, off + n) of the queue file; false + errno. */
bool deliver_read(const struct deliver_request *req, void *buf, size_t n, uint64_t off);
/* write(2) until done; false + errno (a zero-length write counts as EIO). */
bool deliver_write_all(int fd, const void *p, size_t n);

/* True if every component of an absolute path is safe (no "..", no empty path). */
bool deliver_path_safe(const char *path);

/* Per-thread file-system identity (Linux setfsuid/setfsgid). */
struct fs_identity {
    unsigned uid, gid;              /* what to restore */
    bool switched;
};
bool identity_enter(const struct mailbox_location *mb, struct fs_identity *saved);
void identity_leave(const struct fs_identity *saved);

/* Group fsync of a directory shared by concurrent deliveries; 0 or errno. */
int dirsync_shared(const char *dir_path, int dirfd);

void deliver_maildir(const struct deliver_request *req, struct deliver_result *out);
void deliver_mbox(const struct deliver_request *req, struct deliver_result *out);

#endif
