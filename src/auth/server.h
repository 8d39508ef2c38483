/*
 * The auth process: answers "is this SASL exchange valid?" for the SMTP
 * workers, so that no internet-facing process ever reads a password
 * database, a hash or a Dovecot socket.
 *
 * It is a child of the supervisor and stays root when started as root:
 * it reads the root-only user database (sasl_user_database) and may talk
 * to root-only helper sockets. It listens on a unix stream socket,
 * $queue_directory/private/authd, owned by mail_owner with mode 0600;
 * the workers, running as mail_owner, connect to it, and a peer whose
 * uid is neither mail_owner's nor root's is refused (SO_PEERCRED).
 *
 * Work is split by kind: one libevent loop handles every worker
 * connection and the Dovecot connections; each mechanism step runs on a
 * workpool thread (hashing and saslauthd may block, the loop never does).
 *
 * Every master.cf service is configured on its own (main.cf plus its -o
 * overrides): smtpd_sasl_auth_enable, smtpd_sasl_type, smtpd_sasl_path,
 * smtpd_sasl_service, smtpd_sasl_local_domain, sasl_user_database and
 * cyrus_sasl_config_path are read per service; services with the same
 * backend settings share one backend.
 *
 * On SIGTERM it stops accepting and exits when its workers have gone (at
 * most AUTH_SERVER_GRACE_MS later); SIGHUP reopens the log file.
 */
#ifndef GATEPOST_AUTH_SERVER_H
#define GATEPOST_AUTH_SERVER_H

#include "auth/credstore.h"
#include "base/diag.h"
#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct auth_server;

#define AUTH_SERVER_SOCKET "private/authd"
#define AUTH_SERVER_GRACE_MS 30000
/* Worker connections, and exchanges in flight on one of them. */
#define AUTH_SERVER_CONNS_MAX 1024
#define AUTH_SERVER_EXCHANGES_MAX 16384

struct auth_server_service {
    const char *name;               /* master.cf service name */
    const struct config *cfg;       /* main.cf + the service's overrides */
};

struct auth_server_setup {
    const struct auth_server_service *services;
    size_t nservices;
    const char *socket_path;        /* where to listen (a long path is fine) */
    uid_t owner_uid;                /* socket owner, and the workers' uid; (uid_t)-1: */
    gid_t owner_gid;                /*   leave the owner, accept our own uid */
    unsigned threads;               /* pool threads; 0: one per CPU, 2 to 16 */
    /* Tests only: the store for smtpd_sasl_type = gatepost instead of the database. */
    const struct cred_store *store_override;
};

/* Runs the auth process until SIGTERM; returns the exit code. Logs as "auth". */
int auth_server_main(const struct auth_server_setup *setup);

/*
 * The same on a caller's loop (tests): builds the backends (problems go
 * to diag and to the log; a service whose backend fails offers no
 * mechanisms) and listens. NULL if the socket cannot be created.
 */
struct auth_server *auth_server_new(struct event_base *base, const struct auth_server_setup *setup,
                                    struct diag *diag);
/* Stops accepting; done runs when every worker connection is gone or the grace time passed. */
void auth_server_stop(struct auth_server *s, void (*done)(void *arg), void *arg);
void auth_server_free(struct auth_server *s);

/*
 * For `gatepost config check`: builds a service's backend the way the
 * auth process would (reading smtpd.conf, opening the database) and
 * reports problems; true if AUTH could work for it.
 */
bool auth_server_check(const struct config *cfg, struct diag *diag);

#endif
