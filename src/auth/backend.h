/*
 * SASL backends inside the auth process, one interface for all of them:
 *
 *   gatepost  mechanisms (mech.h) over the gatepost user database
 *   cyrus     PLAIN and LOGIN over saslauthd, configured by smtpd.conf
 *   dovecot   the whole exchange relayed to Dovecot's auth server
 *
 * A backend offers a mechanism list and runs exchanges with the same
 * shape as the worker's client API (client.h): start, then challenge /
 * step rounds, ending in one SUCCESS or FAILURE reply; abort ends an
 * exchange with no further callback.
 *
 * Threads: everything here is called on the auth process's loop thread
 * and calls back on it. Blocking work (password hashing, saslauthd) runs
 * on the process's workpool inside the backend.
 *
 * Replies are never delivered from inside start or step: an exchange that
 * ends at once (unknown mechanism, Dovecot unreachable, response too long)
 * says so through the return value and *now instead.
 */
#ifndef GATEPOST_AUTH_BACKEND_H
#define GATEPOST_AUTH_BACKEND_H

#include "auth/client.h"
#include "auth/credstore.h"
#include "base/diag.h"
#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct workpool;
struct backend;
struct backend_exchange;

/* What backends get from the auth process. */
struct backend_env {
    struct event_base *base;
    struct workpool *pool;
    /* Tests: use this store for smtpd_sasl_type = gatepost instead of the database. */
    const struct cred_store *store_override;
};

/* One exchange's facts; strings valid during start only (backends copy). */
struct backend_request {
    const struct auth_start_info *info;
    const char *sasl_service;       /* smtpd_sasl_service ("smtp") */
    const char *realm;              /* smtpd_sasl_local_domain ("" if none) */
};

typedef void (*backend_reply_fn)(void *arg, const struct auth_reply *r);

struct backend_ops {
    const char *type;               /* smtpd_sasl_type value */
    /* The mechanisms offered, or NULL while unknown (Dovecot not connected). */
    const struct auth_mech_list *(*mechs)(struct backend *b);
    /*
     * Starts an exchange. NULL: it ended at once, *now holds the final
     * reply (its strings static or owned by the backend until the next
     * call). Otherwise replies come later through fn.
     */
    struct backend_exchange *(*start)(struct backend *b, const struct backend_request *req,
                                      backend_reply_fn fn, void *arg, struct auth_reply *now);
    /* The client's response after a CHALLENGE. false: ended at once with *now (x is gone). */
    bool (*step)(struct backend_exchange *x, const uint8_t *data, size_t len,
                 struct auth_reply *now);
    /* Ends the exchange; fn is not called again. */
    void (*abort)(struct backend_exchange *x);
    void (*free)(struct backend *b);
};

struct backend {
    const struct backend_ops *ops;
    char *key;                      /* backends with equal keys are shared by services */
    /* Set by the auth process: called when the mechanism list changes. */
    void (*mechs_changed)(struct backend *b, void *arg);
    void *mechs_changed_arg;
};

/*
 * The sharing key of a service's backend ("dovecot|/path/to/socket"), or
 * NULL with an error in diag when smtpd_sasl_type is unknown.
 */
char *backend_key(const struct config *cfg, struct diag *diag);
/*
 * Creates the backend a service's configuration asks for. NULL with errors
 * in diag when it cannot work (unreadable smtpd.conf, sasldb2 requested,
 * unreachable database); warnings go to diag too.
 */
struct backend *backend_create(const struct backend_env *env, const struct config *cfg,
                               struct diag *diag);
void backend_free(struct backend *b);
/*
 * Checks a service's backend settings without side effects (no database
 * created, no connection made): errors for what cannot work, warnings for
 * what may not work yet (no Dovecot socket, no user database). For
 * `gatepost config check`.
 */
bool backend_check(const struct config *cfg, struct diag *diag);
/* For backends: report a changed mechanism list. */
void backend_notify_mechs(struct backend *b);

/* Per-type constructors (backend_*.c); backend_create picks one. */
struct backend *backend_gatepost_new(const struct backend_env *env, const struct config *cfg,
                                     struct diag *diag);
struct backend *backend_cyrus_new(const struct backend_env *env, const struct config *cfg,
                                  struct diag *diag);
struct backend *backend_dovecot_new(const struct backend_env *env, const struct config *cfg,
                                    struct diag *diag);
bool backend_gatepost_check(const struct config *cfg, struct diag *diag);
bool backend_cyrus_check(const struct config *cfg, struct diag *diag);
bool backend_dovecot_check(const struct config *cfg, struct diag *diag);

/*
 * The mechanism engine shared by gatepost and cyrus: runs the named
 * mechanisms (mech.h) on the workpool over store. free_store (may be NULL)
 * releases the store with the backend. type names the backend in logs.
 */
struct backend *backend_mech_new(const struct backend_env *env, const char *type,
                                 const struct cred_store *store, const char *const *mechs,
                                 size_t nmechs, void (*free_store)(void *ctx), void *store_ctx);

#endif
