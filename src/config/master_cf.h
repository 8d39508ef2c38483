/*
 * master.cf: Postfix's service table. Each non-comment line (with its
 * continuation lines, which start with whitespace) is
 *
 *   service type private unpriv chroot wakeup maxproc command [args]
 *
 * with "-o name=value" (or "-o { name = value with spaces }") overrides
 * among the args. gatepost runs the "inet ... smtpd" services itself; lines
 * for Postfix's internal services (pickup, cleanup, qmgr, bounce, ...) are
 * recognised and reported as skipped, so a stock Postfix master.cf loads.
 */
#ifndef GATEPOST_CONFIG_MASTER_CF_H
#define GATEPOST_CONFIG_MASTER_CF_H

#include "base/diag.h"
#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>

enum master_service_kind {
    SERVICE_SMTPD_INET,     /* "inet" + "smtpd": a listener we run */
    SERVICE_SKIPPED,        /* a Postfix internal/other service we do not run */
};

struct master_service {
    enum master_service_kind kind;
    char *name;             /* "smtp", "submission", "127.0.0.1:10025" */
    char *type;             /* inet, unix, unix-dgram, fifo, pass */
    char *private_flag, *unpriv_flag, *chroot_flag, *wakeup, *maxproc;
    char *command;          /* "smtpd" */
    char **args;            /* arguments other than -o, NULL-terminated */
    struct config_override *overrides;
    size_t noverrides;
    const char *file;       /* path of master.cf */
    int line;               /* first line of the entry */
};

struct master_cf {
    char *path;
    struct master_service *services;
    size_t count;
};

/* Parses a master.cf file; NULL if there was any error (reported in diag). */
struct master_cf *master_cf_load(const char *path, struct diag *diag);
/* Parses master.cf text held in memory; path is used in messages. */
struct master_cf *master_cf_parse(const char *text, const char *path, struct diag *diag);
void master_cf_free(struct master_cf *mcf);

#endif
