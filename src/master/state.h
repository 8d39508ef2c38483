/*
 * What the supervisor has loaded: configuration, services, bound sockets,
 * the shared admission table and the identity to drop to. Built at start
 * and again on reload; a reload keeps the sockets of unchanged services
 * and the admission table.
 */
#ifndef GATEPOST_MASTER_STATE_H
#define GATEPOST_MASTER_STATE_H

#include "auth/server.h"
#include "config/config.h"
#include "config/master_cf.h"
#include "master/privs.h"
#include "net/listener.h"
#include "smtpd/smtpd.h"

#include <stdbool.h>
#include <stddef.h>

/* Listen queue: deep enough that bursts of clients never overflow it. */
#define LISTEN_BACKLOG_DEFAULT 4096

struct master_service_run {
    char *name;                     /* master.cf service name */
    char *bind_key;                 /* name + interfaces + protocols: same key, same sockets */
    struct config *cfg;             /* main.cf + the service's -o overrides */
    struct smtpd_service *svc;
    struct listener_set sockets;
};

struct master_state {
    const char *config_dir_arg;     /* -c DIR or NULL */
    char *config_label;             /* for "daemon started" */
    struct config *cfg;
    struct master_cf *mcf;
    struct master_service_run *services;
    size_t nservices;
    struct smtpd_listen *listeners; /* every socket of every service */
    size_t nlisteners;
    struct admission *admission;
    struct identity owner;
    bool privileged;                /* started as root */
    unsigned workers;
    char *syslog_name;
    char *queue_dir;
    char *notify_path;
    bool stopping;
};

/*
 * Loads everything. With running non-NULL (a reload), sockets of services
 * whose bind key is unchanged are shared and the admission table is kept.
 * Problems are printed/logged; false if any is an error.
 */
bool master_state_load(struct master_state *out, const char *config_dir,
                       const struct master_state *running);
/* Swaps in next (after a reload), closing sockets no longer used. */
void master_state_replace(struct master_state *cur, struct master_state *next);
/*
 * In a freshly forked SMTP worker: opens the queue directories, drops
 * privileges, and describes the worker's job. false on failure (logged).
 */
bool master_state_worker_setup(const struct master_state *st, unsigned index,
                               struct smtpd_worker_setup *out);

/* True when some service offers SMTP AUTH: then the auth process runs. */
bool master_state_needs_auth(const struct master_state *st);
/*
 * In the freshly forked auth process: the services with their configs and
 * the socket (private/authd, owned by mail_owner) to listen on. Closes the
 * SMTP listeners, which this process never serves. false on failure (logged).
 */
bool master_state_auth_setup(const struct master_state *st, struct auth_server_setup *out);

#endif
