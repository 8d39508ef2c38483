/* Private to src/net: the TLS side of conn_read/conn_write (tls.c). */
#ifndef GATEPOST_NET_TLS_IO_H
#define GATEPOST_NET_TLS_IO_H

#include "net/conn.h"

#include <stdbool.h>
#include <sys/types.h>

ssize_t conn_tls_read(struct conn *c, void *p, size_t n);
ssize_t conn_tls_write(struct conn *c, const void *p, size_t n);
int conn_tls_last_want(const struct conn *c);
bool conn_tls_established(const struct conn *c);
void conn_tls_close(struct conn *c);

#endif
