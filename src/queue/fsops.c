/*
 * The real OS calls behind the writer's seam (struct queue_fs_ops); tests
 * substitute their own to inject ENOSPC, EIO and short writes.
 */
#include "queue/writer.h"

#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int fs_openat(int dirfd, const char *path, int flags, unsigned mode)
{
    return openat(dirfd, path, flags, (mode_t)mode);
}

static long fs_write(int fd, const void *p, size_t n)
{
    return (long)write(fd, p, n);
}

static long fs_pwrite(int fd, const void *p, size_t n, int64_t off)
{
    return (long)pwrite(fd, p, n, (off_t)off);
}

static int fs_fsync(int fd)
{
    return fsync(fd);
}

/*
 * Never replaces: an existing name could only be another message with the
 * same ID, and replacing it would lose that message. File systems without
 * RENAME_NOREPLACE get link + unlink, which refuses in the same way.
 */
static int fs_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
    if (renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (linkat(olddirfd, oldpath, newdirfd, newpath, 0) < 0)
        return -1;
    (void)unlinkat(olddirfd, oldpath, 0);   /* a leftover is removed by the tmp/ cleanup */
    return 0;
}

static int fs_link_unnamed(int fd, int dirfd, const char *name)
{
    return fileio_link_unnamed(fd, dirfd, name) ? 0 : -1;
}

static int fs_unlinkat(int dirfd, const char *path, int flags)
{
    return unlinkat(dirfd, path, flags);
}

static int fs_close(int fd)
{
    return close(fd);
}

const struct queue_fs_ops queue_fs_default = {
    .openat = fs_openat,
    .write = fs_write,
    .pwrite = fs_pwrite,
    .fsync = fs_fsync,
    .renameat = fs_renameat,
    .link_unnamed = fs_link_unnamed,
    .unlinkat = fs_unlinkat,
    .close = fs_close,
};
