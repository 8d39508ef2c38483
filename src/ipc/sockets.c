/*
 * Socket plumbing for ipc streams: unix sockets by path (long paths go
 * through an O_PATH descriptor of their directory, since sun_path holds
 * only 108 bytes and queue directories under a checkout can be deeper),
 * and TCP for helpers reached as inet:host:port.
 */
#include "ipc/stream.h"

#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * Fills sun for path. A path too long for sun_path is named through its
 * directory: *dirfd gets an O_PATH descriptor the caller closes after the
 * bind/connect. false with errno when even that is impossible.
 */
static bool unix_address(const char *path, struct sockaddr_un *sun, socklen_t *len, int *dirfd)
{
    *dirfd = -1;
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    const char *name = path;
    char short_path[64];
    if (strlen(path) >= sizeof(sun->sun_path)) {
        const char *slash = strrchr(path, '/');
        if (slash == NULL || strlen(slash + 1) + 32 >= sizeof(sun->sun_path)) {
            errno = ENAMETOOLONG;
            return false;
        }
        char *dir = xstrndup(path, (size_t)(slash - path));
        *dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        free(dir);
        if (*dirfd < 0)
            return false;
        snprintf(short_path, sizeof(short_path), "/proc/self/fd/%d/%s", *dirfd, slash + 1);
        name = short_path;
    }
    memcpy(sun->sun_path, name, strlen(name) + 1);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1);
    return true;
}

int ipc_unix_connect(const char *path)
{
    struct sockaddr_un sun;
    socklen_t len;
    int dirfd;
    if (!unix_address(path, &sun, &len, &dirfd))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sun, len);
    int saved = errno;
    if (dirfd >= 0)
        close(dirfd);
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int listen_fail(int fd, int dirfd, struct buf *why, const char *what, const char *path)
{
    buf_printf(why, "%s %s: %s", what, path, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
    return -1;
}

int ipc_unix_listen(const char *path, mode_t mode, uid_t uid, gid_t gid, int backlog,
                    struct buf *why)
{
    struct sockaddr_un sun;
    socklen_t len;
    int dirfd;
    if (!unix_address(path, &sun, &len, &dirfd))
        return listen_fail(-1, -1, why, "socket path", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return listen_fail(fd, dirfd, why, "socket for", path);
    struct stat st;
    if (lstat(sun.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(sun.sun_path);           /* left by an earlier run */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sun, len);
    umask(old);
    if (rc < 0)
        return listen_fail(fd, dirfd, why, "bind", path);
    if (chmod(sun.sun_path, mode) < 0)
        return listen_fail(fd, dirfd, why, "chmod", path);
    if (uid != (uid_t)-1 && chown(sun.sun_path, uid, gid) < 0)
        return listen_fail(fd, dirfd, why, "chown", path);
    if (listen(fd, backlog) < 0)
        return listen_fail(fd, dirfd, why, "listen on", path);
    if (dirfd >= 0)
        close(dirfd);
    return fd;
}

bool ipc_tcp_resolve(const char *host, const char *port, struct sockaddr_storage *out,
                     unsigned *out_len, struct buf *why)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        buf_printf(why, "cannot resolve %s port %s: %s", host, port,
                   rc ? gai_strerror(rc) : "no address");
        return false;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *out_len = (unsigned)res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

int ipc_tcp_connect(const struct sockaddr *sa, unsigned len, bool *in_progress)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    *in_progress = false;
    if (connect(fd, sa, (socklen_t)len) == 0)
        return fd;
    if (errno == EINPROGRESS) {
        *in_progress = true;
        return fd;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
