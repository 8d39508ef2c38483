/*
 * The SMTP worker's side of SMTP AUTH: a client of the auth process, used
 * on the worker's event loop. The worker never sees a password database,
 * a hash or Dovecot; it forwards the client's decoded SASL responses and
 * gets back challenges and a verdict.
 *
 * Non-blocking throughout. The client connects to the auth process's
 * socket at creation and whenever the connection is lost, with a backoff
 * (AUTH_CLIENT_RETRY_MIN_MS doubling to AUTH_CLIENT_RETRY_MAX_MS), so a
 * restarted auth process is picked up without the worker noticing more
 * than a few temporary failures: exchanges in flight when the connection
 * breaks, or started while it is down, fail with `temporary` set (454).
 *
 * Callbacks never run inside auth_client_start/step/abort: a failure known
 * at once is delivered on a later loop turn, so the caller can park its
 * session after starting.
 */
#ifndef GATEPOST_AUTH_CLIENT_H
#define GATEPOST_AUTH_CLIENT_H

#include "auth/mech.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct auth_client;
struct auth_exchange;

#define AUTH_CLIENT_RETRY_MIN_MS 100
#define AUTH_CLIENT_RETRY_MAX_MS 5000
/* An exchange with no answer from the auth process this long fails temporarily. */
#define AUTH_CLIENT_REPLY_TIMEOUT_MS 120000

/* The mechanisms a service's backend offers, before any security-option filtering. */
struct auth_mech_list {
    size_t count;
    const struct mech_info *mechs;  /* name (upper case) and enum mech_flags */
};

/* What the auth process needs to know to start an exchange. */
struct auth_start_info {
    const char *service;            /* master.cf service name ("submission") */
    const char *mech;               /* mechanism the client asked for */
    const char *client_addr;        /* "192.0.2.1" ("" if unknown) */
    int client_port;                /* 0 if unknown */
    const char *client_name;        /* verified name or "unknown" (may be NULL) */
    const char *local_addr;         /* our side, for Dovecot's lip= ("" if unknown) */
    int local_port;
    bool secured;                   /* TLS is active */
    const char *tls_cipher;         /* NULL or "" without TLS */
    const uint8_t *initial;         /* initial response (decoded), when has_initial */
    size_t initial_len;             /* 0 for "=" */
    bool has_initial;
};

enum auth_reply_kind {
    AUTH_REPLY_CHALLENGE,           /* send data as a 334; the exchange goes on */
    AUTH_REPLY_SUCCESS,             /* username is authenticated; the exchange is over */
    AUTH_REPLY_FAILURE,             /* the exchange is over */
};

struct auth_reply {
    enum auth_reply_kind kind;
    const uint8_t *data;            /* CHALLENGE: raw bytes (base64 is the caller's job) */
    size_t len;
    const char *username;           /* SUCCESS: login name; FAILURE: name tried, or NULL */
    const char *reason;             /* FAILURE: for the log only, never for the client */
    bool temporary;                 /* FAILURE: backend trouble, answer 454 4.7.0 */
};

/*
 * Called once per reply. After SUCCESS or FAILURE the exchange is freed
 * (do not touch it again); after CHALLENGE it waits for auth_client_step
 * or auth_client_abort. Pointers in r are valid during the call only.
 */
typedef void (*auth_reply_fn)(void *arg, const struct auth_reply *r);

/* socket_path: the auth process's socket (e.g. /proc/self/fd/N/authd). */
struct auth_client *auth_client_new(struct event_base *base, const char *socket_path);
/* Frees everything; pending callbacks are not called. */
void auth_client_free(struct auth_client *c);

/*
 * The mechanisms of a master.cf service, or NULL while unknown (not
 * connected yet, or the service's backend, e.g. Dovecot, is unreachable):
 * then offer no AUTH. Valid until the next return to the event loop.
 */
const struct auth_mech_list *auth_client_mechs(struct auth_client *c, const char *service);

/* Starts an exchange; never NULL. */
struct auth_exchange *auth_client_start(struct auth_client *c, const struct auth_start_info *info,
                                        auth_reply_fn fn, void *arg);
/* The client's response to the last CHALLENGE (decoded; len 0 for an empty line). */
void auth_client_step(struct auth_exchange *x, const uint8_t *resp, size_t len);
/* Ends an exchange early (client sent "*", session closed); fn is never called after this. */
void auth_client_abort(struct auth_exchange *x);

/* True while connected to the auth process (for diagnostics and tests). */
bool auth_client_connected(const struct auth_client *c);

#endif
