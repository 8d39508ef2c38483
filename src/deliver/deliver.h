/*
 * Delivery agents. Maildir delivery (local and virtual) is the safe
 * sequence: write tmp/NAME, fsync, link to new/NAME, fsync new/; the name
 * is derived from the queue ID and recipient index so a retried delivery
 * after a crash finds its earlier copy instead of making a second one.
 * mbox delivery appends under a lock with ">From " quoting.
 *
 * Delivery runs on queue-manager pool threads, as the mailbox owner where
 * the process has the privilege to switch (per-thread file-system identity).
 */
#ifndef GATEPOST_DELIVER_DELIVER_H
#define GATEPOST_DELIVER_DELIVER_H

#include "base/buf.h"
#include "policy/route.h"

#include <stdbool.h>
#include <stdint.h>

enum deliver_status { DELIVER_OK, DELIVER_DEFER, DELIVER_BOUNCE };

struct deliver_request {
    const char *queue_id;
    unsigned rcpt_index;
    int64_t arrival_us;
    const char *sender;
    const char *recipient;
    const char *myhostname;
    const struct mailbox_location *mailbox;
    int64_t size_limit;             /* mailbox_size_limit / virtual_mailbox_limit; 0 = none */
    bool recovering;                /* the message was found at start: look for an earlier copy */
    int content_fd;                 /* queue file, read with pread */
    uint64_t content_offset, content_size;
};

struct deliver_result {
    enum deliver_status status;
    char dsn[12];                   /* "2.0.0", "4.2.2", "5.2.2" */
    char text[512];                 /* "delivered to maildir", "maildir delivery failed: ..." */
};

/* Runs on a pool thread. */
void deliver_mailbox(const struct deliver_request *req, struct deliver_result *out);

#endif
