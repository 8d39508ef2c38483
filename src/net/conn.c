/* Plain connection transport; TLS hooks in through c->tls (see conn.h). */
#include "net/conn.h"

#include <errno.h>
#include <unistd.h>

void conn_init(struct conn *c, int fd)
{
    c->fd = fd;
    c->tls = NULL;
}

ssize_t conn_read(struct conn *c, void *p, size_t n)
{
    ssize_t r;
    do {
        r = read(c->fd, p, n);
    } while (r < 0 && errno == EINTR);
    return r;
}

ssize_t conn_write(struct conn *c, const void *p, size_t n)
{
    ssize_t w;
    do {
        w = write(c->fd, p, n);
    } while (w < 0 && errno == EINTR);
    return w;
}

int conn_last_want(const struct conn *c)
{
    return 0;
}

bool conn_is_secure(const struct conn *c)
{
    return c->tls != NULL;
}

void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
