/*
 * deliver_mailbox: the checks every delivery shares (safe path, identity),
 * then Maildir or mbox; plus the small helpers both agents use (results,
 * Postfix's error-to-DSN mapping, the prepended headers, content reads).
 *
 * Security: mailbox paths come from configuration and lookup tables; a
 * path with a ".." component or a relative path is refused, and files are
 * created as the mailbox owner when the process may switch identity, so
 * the owner's own permissions bound what a delivery can touch.
 */
#include "deliver/deliver_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void deliver_set(struct deliver_result *out, enum deliver_status st, const char *dsn,
                 const char *fmt, ...)
{
    va_list ap;
    out->status = st;
    snprintf(out->dsn, sizeof(out->dsn), "%s", dsn);
    va_start(ap, fmt);
    vsnprintf(out->text, sizeof(out->text), fmt, ap);
    va_end(ap);
}

/* Postfix's mailbox errno classes (mbox_dsn): what a retry can fix. */
static const struct {
    int err;
    const char *dsn;
    enum deliver_status status;
} errno_classes[] = {
    { ENOSPC, "4.3.0", DELIVER_DEFER },     /* file system full */
    { EIO, "4.3.0", DELIVER_DEFER },
    { EAGAIN, "4.2.0", DELIVER_DEFER },     /* lock busy */
    { ESTALE, "4.2.0", DELIVER_DEFER },
    { EDQUOT, "5.2.2", DELIVER_BOUNCE },    /* mailbox full */
    { EFBIG, "5.2.2", DELIVER_BOUNCE },
    { ENOTDIR, "5.2.0", DELIVER_BOUNCE },   /* a file where a directory must be */
    { EISDIR, "5.2.0", DELIVER_BOUNCE },
    { ELOOP, "5.2.0", DELIVER_BOUNCE },     /* symlink refused (O_NOFOLLOW) */
};

void deliver_set_errno(struct deliver_result *out, int err, const char *fmt, ...)
{
    const char *dsn = "4.2.0";
    enum deliver_status st = DELIVER_DEFER;
    for (size_t i = 0; i < sizeof(errno_classes) / sizeof(errno_classes[0]); i++) {
        if (errno_classes[i].err == err) {
            dsn = errno_classes[i].dsn;
            st = errno_classes[i].status;
            break;
        }
    }
    char prefix[sizeof(out->text)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    deliver_set(out, st, dsn, "%s: %s", prefix, strerror(err));
}

size_t deliver_headers(const struct deliver_request *req, char *buf, size_t size)
{
    /* As Postfix's local(8) and virtual(8): the recipient as queued, not case-folded. */
    int n = snprintf(buf, size, "Return-Path: <%s>\nDelivered-To: %s\n", req->sender,
                     req->recipient);
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

bool deliver_read(const struct deliver_request *req, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    off += req->content_offset;
    while (n > 0) {
        ssize_t r = pread(req->content_fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;        /* the queue file is shorter than its envelope says */
            return false;
        }
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return true;
}

bool deliver_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

bool deliver_path_safe(const char *path)
{
    if (path == NULL || path[0] != '/')
        return false;
    for (const char *p = path; *p; ) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
    }
    return true;
}

void deliver_mailbox(const struct deliver_request *req, struct deliver_result *out)
{
    const struct mailbox_location *mb = req->mailbox;
    const char *kind = mb->maildir ? "maildir" : "mailbox";
    if (!deliver_path_safe(mb->path)) {
        deliver_set(out, DELIVER_DEFER, "4.3.5",
                    "%s delivery failed: unsafe %s path \"%s\"", kind, kind, mb->path);
        return;
    }
    struct fs_identity saved;
    if (!identity_enter(mb, &saved)) {
        deliver_set(out, DELIVER_DEFER, "4.3.0",
                    "%s delivery failed: cannot switch to uid %u gid %u", kind,
                    mb->uid, mb->gid);
        return;
    }
    if (mb->maildir)
        deliver_maildir(req, out);
    else
        deliver_mbox(req, out);
    identity_leave(&saved);
}
