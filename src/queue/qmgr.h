/*
 * The queue manager process: finds committed messages (notifications from
 * the SMTP processes plus a scan at start and periodically), delivers each
 * recipient through the delivery agents on pool threads, retries temporary
 * failures with backoff, bounces permanent failures and messages older
 * than maximal_queue_lifetime (RFC 3464 reports), and removes a queue file
 * when every recipient is done. A scan at start also removes partial files
 * left by interrupted transactions.
 *
 * It logs Postfix's lines: "ID: from=<...>, size=N, nrcpt=N (queue active)",
 * "ID: to=<...>, relay=local, delay=..., delays=a/b/c/d, dsn=2.0.0,
 * status=sent (delivered to maildir)", "ID: removed".
 */
#ifndef GATEPOST_QUEUE_QMGR_H
#define GATEPOST_QUEUE_QMGR_H

#include "config/config.h"

/* Runs until SIGTERM; returns the process exit code. */
int qmgr_main(const struct config *cfg);

#endif
