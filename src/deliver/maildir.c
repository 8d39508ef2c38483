/*
 * Maildir delivery: write an unnamed file (O_TMPFILE) in new/, fsync it,
 * give it its name new/NAME (linkat through /proc/self/fd), fsync new/
 * (shared with concurrent deliveries to the same Maildir). The message is
 * in the mailbox exactly when new/NAME exists, and it never has a name
 * before its content is synced, so readers see only complete messages.
 * This costs one directory entry per message instead of three (create in
 * tmp/, link into new/, unlink from tmp/) and leaves nothing behind when
 * interrupted. Where O_TMPFILE or /proc is missing, the classic way is
 * used: write tmp/NAME, fsync it, link it to new/NAME, remove tmp/NAME,
 * fsync new/.
 *
 * NAME is "<arrival seconds>.<queue id>R<recipient index>.<host>", fixed
 * for a given queue file and recipient, so a delivery that is repeated
 * after a crash (between the link and the queue manager recording the
 * recipient as done) finds its earlier copy in new/, or in cur/ where a
 * mail reader may have moved it as "NAME:2,FLAGS", and does not deliver a
 * second one. The host part has "/" and ":" escaped as the Maildir
 * convention asks (\057, \072).
 *
 * The Maildir (and missing parents) is created on first delivery with
 * mode 0700, by the delivering identity, and made durable.
 */
#include "deliver/deliver_int.h"

#include "base/fileio.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAILDIR_PATH_MAX 4096

/* Set once O_TMPFILE or naming through /proc/self/fd failed: classic from then on. */
static atomic_bool tmpfile_unsupported;

struct maildir_paths {
    char base[MAILDIR_PATH_MAX];    /* the Maildir, no trailing slash */
    char name[512];
    char tmp[MAILDIR_PATH_MAX];     /* base/tmp/name */
    char new_file[MAILDIR_PATH_MAX];
    char new_dir[MAILDIR_PATH_MAX];
};

static void escape_host(const char *host, char *out, size_t size)
{
    size_t n = 0;
    for (const char *h = host; *h && n + 5 < size; h++) {
        if (*h == '/' || *h == ':') {
            n += (size_t)snprintf(out + n, size - n, "\\%03o", (unsigned char)*h);
            continue;
        }
        out[n++] = *h;
    }
    out[n] = '\0';
}

static bool make_paths(const struct deliver_request *req, struct maildir_paths *p)
{
    char host[256];
    escape_host(req->myhostname ? req->myhostname : "localhost", host, sizeof(host));
    size_t bl = strlen(req->mailbox->path);
    while (bl > 1 && req->mailbox->path[bl - 1] == '/')
        bl--;
    if (bl >= sizeof(p->base))
        return false;
    memcpy(p->base, req->mailbox->path, bl);
    p->base[bl] = '\0';
    long long sec = (long long)(req->arrival_us / 1000000);
    int n = snprintf(p->name, sizeof(p->name), "%lld.%sR%u.%s", sec, req->queue_id,
                     req->rcpt_index, host);
    if (n < 0 || (size_t)n >= sizeof(p->name))
        return false;
    return snprintf(p->tmp, sizeof(p->tmp), "%s/tmp/%s", p->base, p->name) < (int)sizeof(p->tmp) &&
           snprintf(p->new_file, sizeof(p->new_file), "%s/new/%s", p->base, p->name) <
               (int)sizeof(p->new_file) &&
           snprintf(p->new_dir, sizeof(p->new_dir), "%s/new", p->base) < (int)sizeof(p->new_dir);
}

/* An earlier copy in new/ or cur/ (as NAME or NAME:2,FLAGS)? */
static bool already_delivered(const struct maildir_paths *p)
{
    struct stat st;
    if (lstat(p->new_file, &st) == 0)
        return true;
    char cur[MAILDIR_PATH_MAX];
    if (snprintf(cur, sizeof(cur), "%s/cur", p->base) >= (int)sizeof(cur))
        return false;
    DIR *d = opendir(cur);
    if (d == NULL)
        return false;
    size_t nl = strlen(p->name);
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = strncmp(e->d_name, p->name, nl) == 0 &&
                (e->d_name[nl] == '\0' || e->d_name[nl] == ':');
    closedir(d);
    return found;
}

static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Creates base, base/tmp, base/new, base/cur; false + errno. */
static bool make_maildir(const char *base)
{
    static const char *const subs[] = { "tmp", "new", "cur" };
    if (!fileio_mkdirs(base, 0700))
        return false;
    for (size_t i = 0; i < 3; i++) {
        char path[MAILDIR_PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", base, subs[i]);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return false;
    }
    /* New directories are durable only once their parents are synced. */
    sync_dir(base);
    char *parent = xstrdup(base);
    char *slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent) {
        *slash = '\0';
        sync_dir(parent);
    }
    free(parent);
    return true;
}

static int create_tmp(const struct maildir_paths *p)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = open(p->tmp, flags, 0600);
        if (fd >= 0 || attempt == 2)
            return fd;
        if (errno == EEXIST)
            unlink(p->tmp);         /* left by an interrupted delivery of this name */
        else if (errno != ENOENT || !make_maildir(p->base))
            return -1;
    }
    return -1;
}

/* Headers then content, in chunks; false + errno. */
static bool write_message(int fd, const struct deliver_request *req, const char *hdr,
                          size_t hlen)
{
    size_t chunk = req->content_size < DELIVER_CHUNK ? (size_t)req->content_size : DELIVER_CHUNK;
    char *buf = xmalloc(hlen + chunk + 1);
    memcpy(buf, hdr, hlen);
    size_t used = hlen;
    uint64_t off = 0;
    bool ok = true;
    for (;;) {
        uint64_t left = req->content_size - off;
        size_t n = left < chunk ? (size_t)left : chunk;
        if (n > 0 && !(ok = deliver_read(req, buf + used, n, off)))
            break;
        off += n;
        used += n;
        if (!(ok = deliver_write_all(fd, buf, used)) || off == req->content_size)
            break;
        used = 0;
    }
    free(buf);
    return ok;
}

static bool write_tmp(int fd, const struct deliver_request *req, const char *hdr, size_t hlen)
{
    bool ok = write_message(fd, req, hdr, hlen) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) < 0 && ok) {
        ok = false;
        saved = errno;
    }
    errno = saved;
    return ok;
}

/* Links tmp to new/ and syncs new/; false with out set. */
static bool publish(const struct maildir_paths *p, struct deliver_result *out)
{
    if (link(p->tmp, p->new_file) < 0 && errno != EEXIST) {
        deliver_set_errno(out, errno, "maildir delivery failed: create maildir file %s",
                          p->new_file);
        unlink(p->tmp);
        return false;
    }
    /* EEXIST: the copy from an earlier attempt is already there. */
    unlink(p->tmp);
    int dfd = open(p->new_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = dfd < 0 ? errno : dirsync_shared(p->new_dir, dfd);
    if (dfd >= 0)
        close(dfd);
    if (err == 0)
        return true;
    unlink(p->new_file);            /* not known to be durable: deliver again later */
    deliver_set_errno(out, err, "maildir delivery failed: sync %s", p->new_dir);
    return false;
}

/* Opens base/new, creating the Maildir when it is missing; -1 + errno. */
static int open_new_dir(const struct maildir_paths *p)
{
    for (int attempt = 0;; attempt++) {
        int fd = open(p->new_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT || attempt == 1 || !make_maildir(p->base))
            return fd;
    }
}

/* Names the synced unnamed file fd new/NAME; EEXIST means an earlier copy. */
static int name_file(int fd, int dfd, const struct maildir_paths *p)
{
    if (fileio_link_unnamed(fd, dfd, p->name) || errno == EEXIST)
        return 0;
    return errno;
}

/* Writes, syncs and names the message, then syncs new/. False when the
 * file cannot be named through /proc (not mounted): nothing was published
 * and out is not set. */
static bool publish_tmpfile(int fd, int dfd, const struct maildir_paths *p,
                            const struct deliver_request *req, const char *hdr, size_t hlen,
                            struct deliver_result *out)
{
    if (!write_message(fd, req, hdr, hlen) || fsync(fd) < 0) {
        deliver_set_errno(out, errno, "maildir delivery failed: error writing message");
        return true;
    }
    int err = name_file(fd, dfd, p);
    if (err == ENOENT)
        return false;
    if (err != 0) {
        deliver_set_errno(out, err, "maildir delivery failed: create maildir file %s",
                          p->new_file);
        return true;
    }
    err = dirsync_shared(p->new_dir, dfd);
    if (err == 0) {
        deliver_set(out, DELIVER_OK, "2.0.0", "delivered to maildir");
        return true;
    }
    unlinkat(dfd, p->name, 0);      /* not known to be durable: deliver again later */
    deliver_set_errno(out, err, "maildir delivery failed: sync %s", p->new_dir);
    return true;
}

/* False if this system cannot deliver this way (nothing was done then). */
static bool deliver_tmpfile(const struct maildir_paths *p, const struct deliver_request *req,
                            const char *hdr, size_t hlen, struct deliver_result *out)
{
    int dfd = open_new_dir(p);
    if (dfd < 0) {
        deliver_set_errno(out, errno, "maildir delivery failed: create maildir file %s",
                          p->tmp);
        return true;
    }
    int fd = fileio_open_unnamed(dfd, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = errno;
        close(dfd);
        if (fileio_unnamed_unsupported(err))
            return false;
        deliver_set_errno(out, err, "maildir delivery failed: create maildir file %s", p->tmp);
        return true;
    }
    unlink(p->tmp);                 /* left by an interrupted classic delivery of this name */
    bool done = publish_tmpfile(fd, dfd, p, req, hdr, hlen, out);
    close(fd);
    close(dfd);
    return done;
}

static void deliver_classic(const struct maildir_paths *p, const struct deliver_request *req,
                            const char *hdr, size_t hlen, struct deliver_result *out)
{
    int fd = create_tmp(p);
    if (fd < 0) {
        deliver_set_errno(out, errno, "maildir delivery failed: create maildir file %s", p->tmp);
    } else if (!write_tmp(fd, req, hdr, hlen)) {
        deliver_set_errno(out, errno, "maildir delivery failed: error writing message");
        unlink(p->tmp);
    } else if (publish(p, out)) {
        deliver_set(out, DELIVER_OK, "2.0.0", "delivered to maildir");
    }
}

void deliver_maildir(const struct deliver_request *req, struct deliver_result *out)
{
    struct maildir_paths *p = xmalloc(sizeof(*p));
    size_t hsize = strlen(req->sender) + strlen(req->recipient) + 64;
    char *hdr = xmalloc(hsize);
    size_t hlen = deliver_headers(req, hdr, hsize);
    if (!make_paths(req, p)) {
        deliver_set(out, DELIVER_BOUNCE, "5.3.5",
                    "maildir delivery failed: maildir path too long");
    } else if (req->recovering && already_delivered(p)) {
        deliver_set(out, DELIVER_OK, "2.0.0", "delivered to maildir");
    } else if (req->size_limit > 0 && hlen + req->content_size > (uint64_t)req->size_limit) {
        deliver_set(out, DELIVER_BOUNCE, "5.2.2",
                    "maildir delivery failed: error writing message: %s", strerror(EFBIG));
    } else if (atomic_load(&tmpfile_unsupported) || !deliver_tmpfile(p, req, hdr, hlen, out)) {
        atomic_store(&tmpfile_unsupported, true);
        deliver_classic(p, req, hdr, hlen, out);
    }
    free(hdr);
    free(p);
}
