/* File helpers; see fileio.h. */
#include "base/fileio.h"

#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool fileio_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (w == 0) {
            errno = ENOSPC;
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

bool fileio_mkdirs(const char *path, mode_t mode)
{
    char *copy = xstrdup(path);
    bool ok = true;
    for (char *p = copy + 1; ok; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            ok = false;
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);
    return ok;
}

bool fileio_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return ok;
}

char *fileio_read(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(data);
                close(fd);
                errno = EFBIG;
                return NULL;
            }
            cap = cap * 2 > max ? max : cap * 2;
            data = xrealloc(data, cap + 1);
        }
        ssize_t r = read(fd, data + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int saved = errno;
            free(data);
            close(fd);
            errno = saved;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

bool fileio_replace(const char *path, const void *p, size_t n, mode_t mode)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    bool ok = fd >= 0 && fileio_write_all(fd, p, n) && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (ok && rename(tmp, path) < 0) {
        ok = false;
        saved = errno;
    }
    if (!ok)
        unlink(tmp);
    if (ok) {
        char *dir = xstrdup(path);
        ok = fileio_sync_dir(dirname(dir));
        saved = errno;
        free(dir);
    }
    free(tmp);
    errno = saved;
    return ok;
}

int fileio_open_unnamed(int dirfd, int flags, mode_t mode)
{
    return openat(dirfd, ".", O_TMPFILE | flags, mode);
}

bool fileio_unnamed_unsupported(int err)
{
    return err == EOPNOTSUPP || err == EISDIR || err == EINVAL;
}

/* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; a process may always
 * follow its own /proc/self/fd links. */
static void proc_fd_path(int fd, char out[64])
{
    snprintf(out, 64, "/proc/self/fd/%d", fd);
}

bool fileio_link_unnamed(int fd, int dirfd, const char *name)
{
    char proc[64];
    proc_fd_path(fd, proc);
    return linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0;
}

bool fileio_unnamed_nameable(int fd)
{
    char proc[64];
    struct stat st;
    proc_fd_path(fd, proc);
    return stat(proc, &st) == 0;
}
