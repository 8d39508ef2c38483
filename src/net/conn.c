/* Connection transport: plain TCP, or TLS through tls.c (see conn.h). */
#include "net/conn.h"

#include "net/tls_io.h"

#include <errno.h>
#include <unistd.h>

void conn_init(struct conn *c, int fd)
{
    c->fd = fd;
    c->tls = NULL;
}

ssize_t conn_read(struct conn *c, void *p, size_t n)
{
    if (c->tls)
        return conn_tls_read(c, p, n);
    ssize_t r;
    do {
        r = read(c->fd, p, n);
    } while (r < 0 && errno == EINTR);
    return r;
}

ssize_t conn_write(struct conn *c, const void *p, size_t n)
{
    if (c->tls)
        return conn_tls_write(c, p, n);
    ssize_t w;
    do {
        w = write(c->fd, p, n);
    } while (w < 0 && errno == EINTR);
    return w;
}

int conn_last_want(const struct conn *c)
{
    return c->tls ? conn_tls_last_want(c) : 0;
}

bool conn_is_secure(const struct conn *c)
{
    return conn_tls_established(c);
}

void conn_close(struct conn *c)
{
    if (c->tls)
        conn_tls_close(c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
