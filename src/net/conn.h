/*
 * A client connection's byte transport: plain TCP now, TLS after
 * STARTTLS or on a wrapper-mode port. Session code only asks to read,
 * write and whether the transport is secure; the TLS details stay here.
 *
 * Reads and writes never block: they return the byte count, 0 for end of
 * stream (read), or -1 with errno EAGAIN when the caller must wait for the
 * readiness given by conn_wants().
 */
#ifndef GATEPOST_NET_CONN_H
#define GATEPOST_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conn_tls;

struct conn {
    int fd;
    struct conn_tls *tls;       /* NULL for plain TCP */
};

enum conn_want { CONN_WANT_READ = 1, CONN_WANT_WRITE = 2 };

void conn_init(struct conn *c, int fd);
ssize_t conn_read(struct conn *c, void *p, size_t n);
ssize_t conn_write(struct conn *c, const void *p, size_t n);
/*
 * After -1/EAGAIN: which readiness the last call needs. Plain TCP reads
 * want READ and writes want WRITE; TLS may want the other (renegotiation,
 * key updates).
 */
int conn_last_want(const struct conn *c);
bool conn_is_secure(const struct conn *c);
/* Closes the socket (sending TLS close_notify if possible) and frees TLS state. */
void conn_close(struct conn *c);

#endif
