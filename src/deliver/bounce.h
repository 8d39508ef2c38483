/*
 * Non-delivery notifications: an RFC 3464 multipart/report that tells the
 * sender which recipients failed and why, in Postfix's form (its default
 * failure template, a message/delivery-status part, and the original
 * message returned as message/rfc822, or only its headers as
 * text/rfc822-headers when the sender asked RET=HDRS or the message is
 * larger than bounce_size_limit).
 *
 * The queue manager queues the result as a new message from the null
 * sender; mail from the null sender is never bounced (no bounce loops).
 */
#ifndef GATEPOST_DELIVER_BOUNCE_H
#define GATEPOST_DELIVER_BOUNCE_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bounce_rcpt {
    const char *address;
    const char *orcpt;              /* ORCPT= as given ("rfc822;a+2Bb@c"), or NULL */
    const char *dsn;                /* "5.1.1" */
    const char *reason;             /* "unknown user: \"bob\"" */
};

struct bounce_request {
    const char *queue_id;           /* of the original message */
    const char *new_queue_id;       /* of the notification */
    const char *myhostname;
    const char *mail_name;          /* for the Received: header */
    const char *sender;             /* original sender: the notification's recipient */
    int64_t arrival_us;             /* of the original */
    const char *envid;              /* DSN ENVID or NULL */
    bool headers_only;              /* RET=HDRS */
    const struct bounce_rcpt *rcpts;
    size_t nrcpt;
    int content_fd;                 /* the original message, read with pread */
    uint64_t content_offset, content_size;
    uint64_t size_limit;            /* bounce_size_limit */
    int64_t now_us;
};

/* Appends the notification (LF line endings) to out; false + errno if reading failed. */
bool bounce_build(const struct bounce_request *req, struct buf *out);

#endif
