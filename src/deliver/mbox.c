/*
 * mbox delivery, as Postfix's local(8) writes a mailbox file: under a
 * dotlock (when the spool directory lets us make one) and an fcntl lock,
 * append "From sender  date" (asctime format), Return-Path and Delivered-To, the content
 * with lines beginning "From " quoted as ">From ", a newline if the
 * message lacks one, and an empty line; fsync. Any failure truncates the
 * file back to its size before the delivery, so a partial message never
 * stays behind.
 *
 * The file must be a regular file with one link (no symlinks: O_NOFOLLOW),
 * which stops a mailbox owner from redirecting delivery to another file.
 * mbox cannot detect an earlier copy, so a crash between the fsync and
 * the queue manager's status update can duplicate a message here.
 */
#include "deliver/deliver_int.h"

#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_TRIES 10
#define LOCK_WAIT_US 100000
#define DOTLOCK_STALE_S 300

struct mbox_out {
    int fd;
    char *buf;
    size_t len, cap;
    int match;                      /* chars of "From " matched at a line start; -1 mid-line */
    char last;                      /* last content byte written */
};

static bool out_flush(struct mbox_out *o)
{
    bool ok = deliver_write_all(o->fd, o->buf, o->len);
    o->len = 0;
    return ok;
}

static bool out_put(struct mbox_out *o, const char *p, size_t n)
{
    while (n > 0) {
        if (o->len == o->cap && !out_flush(o))
            return false;
        size_t k = n < o->cap - o->len ? n : o->cap - o->len;
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
    }
    return true;
}

/* Copies content, quoting "From " at line starts; state carries across chunks. */
static bool out_quoted(struct mbox_out *o, const char *p, size_t n)
{
    static const char from[] = "From ";
    const char *end = p + n;
    while (p < end) {
        if (o->match >= 0) {
            if (*p == from[o->match]) {
                p++;
                if (++o->match < 5)
                    continue;
                o->match = -1;
                if (!out_put(o, ">From ", 6))
                    return false;
                continue;
            }
            if (!out_put(o, from, (size_t)o->match))
                return false;
            o->match = -1;
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl + 1 : end;
        if (!out_put(o, p, (size_t)(stop - p)))
            return false;
        if (nl)
            o->match = 0;
        p = stop;
    }
    o->last = n ? end[-1] : o->last;
    return true;
}

static bool out_finish(struct mbox_out *o, bool any_content)
{
    if (o->match > 0 && !out_put(o, "From ", (size_t)o->match))
        return false;
    if (any_content && o->last != '\n' && !out_put(o, "\n", 1))
        return false;
    return out_put(o, "\n", 1) && out_flush(o);
}

static bool write_from_line(struct mbox_out *o, const struct deliver_request *req)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    const char *s = req->sender[0] ? req->sender : "MAILER-DAEMON";
    /* Postfix writes two spaces between the sender and the asctime() date. */
    return out_put(o, "From ", 5) && out_put(o, s, strlen(s)) && out_put(o, "  ", 2) &&
           out_put(o, date, strlen(date)) && out_put(o, "\n", 1);
}

static bool write_message(int fd, const struct deliver_request *req, const char *hdr,
                          size_t hlen)
{
    size_t chunk = req->content_size < DELIVER_CHUNK ? (size_t)req->content_size : DELIVER_CHUNK;
    struct mbox_out o = { .fd = fd, .cap = DELIVER_CHUNK, .match = -1 };
    o.buf = xmalloc(o.cap);
    char *in = xmalloc(chunk + 1);
    bool ok = write_from_line(&o, req) && out_put(&o, hdr, hlen);
    uint64_t off = 0;
    o.match = 0;                    /* the content starts at a line start */
    while (ok && off < req->content_size) {
        uint64_t left = req->content_size - off;
        size_t n = left < chunk ? (size_t)left : chunk;
        ok = deliver_read(req, in, n, off) && out_quoted(&o, in, n);
        off += n;
    }
    ok = ok && out_finish(&o, req->content_size > 0);
    int saved = errno;
    free(in);
    free(o.buf);
    errno = saved;
    return ok;
}

/* The dotlock: path.lock made with O_EXCL. 1 = held, 0 = not possible here, -1 = busy. */
static int dotlock_take(const char *lock)
{
    for (int i = 0; i < LOCK_TRIES; i++) {
        int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return 1;
        }
        if (errno != EEXIST)
            return 0;               /* spool directory not writable: fcntl lock only */
        struct stat st;
        if (stat(lock, &st) == 0 && time(NULL) - st.st_mtime > DOTLOCK_STALE_S) {
            unlink(lock);
            continue;
        }
        usleep(LOCK_WAIT_US);
    }
    errno = EAGAIN;
    return -1;
}

static bool fcntl_lock(int fd)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    for (int i = 0; i < LOCK_TRIES; i++) {
        if (fcntl(fd, F_SETLK, &fl) == 0)
            return true;
        if (errno != EAGAIN && errno != EACCES && errno != EINTR)
            return false;
        usleep(LOCK_WAIT_US);
    }
    errno = EAGAIN;
    return false;
}

struct mbox_ctx {
    const struct deliver_request *req;
    struct deliver_result *out;
    char user[256];
    const char *path;
};

__attribute__((format(printf, 4, 5)))
static void mbox_fail(struct mbox_ctx *c, int err, enum deliver_status st, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (err)
        deliver_set_errno(c->out, err, "cannot update mailbox %s for user %s. %s",
                          c->path, c->user, what);
    else
        deliver_set(c->out, st, st == DELIVER_BOUNCE ? "5.2.0" : "4.2.0",
                    "cannot update mailbox %s for user %s. %s", c->path, c->user, what);
}

/* With the file open and locked: checks, appends, syncs or truncates back. */
static void append_locked(struct mbox_ctx *c, int fd)
{
    const struct deliver_request *req = c->req;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return mbox_fail(c, errno, DELIVER_DEFER, "cannot examine file");
    if (!S_ISREG(st.st_mode))
        return mbox_fail(c, 0, DELIVER_BOUNCE, "file is not a regular file");
    if (st.st_nlink != 1)
        return mbox_fail(c, 0, DELIVER_DEFER, "file has %lu hard links",
                         (unsigned long)st.st_nlink);
    size_t hsize = strlen(req->sender) + strlen(req->recipient) + 64;
    char *hdr = xmalloc(hsize);
    size_t hlen = deliver_headers(req, hdr, hsize);
    uint64_t adds = hlen + req->content_size + 128;     /* From_ line, final newlines */
    if (req->size_limit > 0 && (uint64_t)st.st_size + adds > (uint64_t)req->size_limit) {
        free(hdr);
        deliver_set(c->out, DELIVER_BOUNCE, "5.2.2",
                    "cannot update mailbox %s for user %s. error writing message: %s",
                    c->path, c->user, strerror(EFBIG));
        return;
    }
    bool ok = write_message(fd, req, hdr, hlen) && fsync(fd) == 0;
    free(hdr);
    if (ok) {
        deliver_set(c->out, DELIVER_OK, "2.0.0", "delivered to mailbox");
        return;
    }
    int err = errno;
    if (ftruncate(fd, st.st_size) == 0)
        (void)fsync(fd);
    mbox_fail(c, err, DELIVER_DEFER, "error writing message");
}

void deliver_mbox(const struct deliver_request *req, struct deliver_result *out)
{
    struct mbox_ctx c = { .req = req, .out = out, .path = req->mailbox->path };
    const char *at = strrchr(req->recipient, '@');
    size_t ul = at ? (size_t)(at - req->recipient) : strlen(req->recipient);
    snprintf(c.user, sizeof(c.user), "%.*s", (int)ul, req->recipient);
    char *lock = xasprintf("%s.lock", c.path);
    int dot = dotlock_take(lock);
    if (dot < 0) {
        mbox_fail(&c, 0, DELIVER_DEFER, "unable to create lock file %s: %s", lock,
                  strerror(EEXIST));
        free(lock);
        return;
    }
    int fd = open(c.path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        mbox_fail(&c, errno, DELIVER_DEFER, "cannot open file");
    else if (!fcntl_lock(fd))
        mbox_fail(&c, errno, DELIVER_DEFER, "unable to lock for exclusive access");
    else
        append_locked(&c, fd);
    if (fd >= 0)
        close(fd);                  /* releases the fcntl lock */
    if (dot > 0)
        unlink(lock);
    free(lock);
}
