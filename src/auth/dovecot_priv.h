/*
 * The Dovecot backend's pieces, private to backend_dovecot.c (the backend
 * and its exchanges) and dovecot_conn.c (connections to Dovecot's auth
 * server: handshake, lines, request table).
 *
 * A backend has at most one current connection, used for new requests,
 * and any number of draining ones, which only finish the requests they
 * carry. A connection is retired (made draining) when it is older than
 * DOVECOT_RECYCLE_MS at the time of a new request: Dovecot's auth
 * processes keep serving the clients they have after a reload or a
 * master restart, so a connection kept forever would keep talking to an
 * old auth process with an old configuration.
 */
#ifndef GATEPOST_AUTH_DOVECOT_PRIV_H
#define GATEPOST_AUTH_DOVECOT_PRIV_H

#include "auth/backend.h"
#include "auth/dovecot_proto.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define DOVECOT_RETRY_MIN_MS 1000
#define DOVECOT_RETRY_MAX_MS 10000
#define DOVECOT_HANDSHAKE_MS 10000
/* A request Dovecot leaves unanswered this long fails temporarily (its penalty is <= 15 s). */
#define DOVECOT_REQUEST_MS 60000
#define DOVECOT_RECYCLE_MS 60000
/* Requests in flight on one connection; more fail temporarily. */
#define DOVECOT_REQUESTS_MAX 8192

struct event;
struct ipc_stream;
struct idmap;

enum dc_state { DC_CONNECTING, DC_HANDSHAKE, DC_READY, DC_CLOSED };

struct dc_conn {
    struct dovecot_backend *b;
    struct ipc_stream *stream;
    enum dc_state state;
    bool got_version;
    bool draining;
    int64_t opened_us;
    struct event *hs_timer, *free_ev;
    struct idmap *requests;         /* id -> struct backend_exchange */
    struct mech_info *mechs;        /* collected by the handshake */
    size_t nmechs;
    struct dc_conn *next;           /* in the backend's list of all connections */
};

struct dovecot_backend {
    struct backend base;
    const struct backend_env *env;
    char *label;                    /* the path or inet:host:port, for logs */
    char *path;                     /* unix socket, or NULL for TCP */
    struct sockaddr_storage addr;
    unsigned addr_len;
    struct dc_conn *cur;            /* NULL while down */
    struct dc_conn *conns;          /* all: current, draining, closed awaiting their free */
    struct event *retry_ev;
    unsigned retry_ms;
    bool outage_logged;
    struct mech_info *mechs;        /* the last list a handshake brought */
    struct auth_mech_list list;
    bool list_known;
};

struct backend_exchange {
    struct dc_conn *conn;
    uint32_t id;
    bool sent;                      /* the AUTH line went out (else: waiting for the handshake) */
    char *line;                     /* the AUTH line while waiting */
    backend_reply_fn fn;
    void *arg;
    struct event *timer;
};

/* dovecot_conn.c */
/* Connects (non-blocking) and starts the handshake; NULL with errno if the connect failed. */
struct dc_conn *dc_conn_open(struct dovecot_backend *b);
/* Ends a connection: its requests fail temporarily; freed on a later loop turn. */
void dc_conn_close(struct dc_conn *c, const char *why);
/* At shutdown: frees c and its requests at once, without callbacks. */
void dc_conn_free_now(struct dc_conn *c);
/* No new requests; closes once the last one is done. */
void dc_conn_drain(struct dc_conn *c);
/* Adds x to c's table (setting x->id); false if the table is full. */
bool dc_conn_add(struct dc_conn *c, struct backend_exchange *x);
/* Takes x out of its connection's table (a drained connection may close). */
void dc_conn_remove(struct backend_exchange *x);
bool dc_conn_write(struct dc_conn *c, const char *text, size_t len);
void dc_conn_cancel(struct dc_conn *c, uint32_t id);

/* backend_dovecot.c, called by connections */
void dovecot_handshake_done(struct dc_conn *c);
void dovecot_reply(struct dc_conn *c, const struct dovecot_reply *d);
/* c is going away (closed, broken, handshake failed): its requests have been failed. */
void dovecot_conn_gone(struct dc_conn *c, const char *why);
void dovecot_exchange_fail(struct backend_exchange *x, const char *reason, bool temporary);
void dovecot_exchange_free(struct backend_exchange *x);

#endif
