/*
 * The inbound SMTP server: services (one per master.cf "inet ... smtpd"
 * line, with that line's -o overrides) and the worker process that runs
 * their sessions on one event loop.
 */
#ifndef GATEPOST_SMTPD_SMTPD_H
#define GATEPOST_SMTPD_SMTPD_H

#include "base/diag.h"
#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>

struct admission;
struct smtpd_service;

/* Builds a service's runtime (typed limits, compiled policy); NULL on errors. */
struct smtpd_service *smtpd_service_new(const char *name, const struct config *cfg,
                                        struct diag *diag);
void smtpd_service_free(struct smtpd_service *svc);
const struct config *smtpd_service_config(const struct smtpd_service *svc);

struct smtpd_listen {
    int fd;
    struct smtpd_service *svc;
};

struct smtpd_worker_setup {
    unsigned index;                     /* worker number, 0 .. smtpd_workers-1 */
    const struct config *cfg;           /* main.cf (queue, DNS, limits) */
    struct smtpd_listen *listeners;
    size_t nlisteners;
    struct admission *admission;        /* shared with the other workers */
    int tmp_dirfd, incoming_dirfd;      /* queue directories, opened before dropping privileges */
    const char *queue_notify_path;      /* queue manager socket */
    const char *auth_socket_path;       /* auth process socket (auth/client.h) */
};

/* Runs the worker until SIGTERM (graceful) or a fatal error; returns the exit code. */
int smtpd_worker_main(const struct smtpd_worker_setup *setup);

#endif
