/*
 * A queued message's envelope: everything the queue manager needs besides
 * the content. Filled by the SMTP session, written into the queue file by
 * queue_txn_commit, read back by the queue manager.
 */
#ifndef GATEPOST_QUEUE_ENVELOPE_H
#define GATEPOST_QUEUE_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Queue IDs are short, unique, [0-9A-Z] text (Postfix's short form). */
#define QUEUE_ID_SIZE 24

enum queue_rcpt_status {
    RCPT_PENDING = 'P',     /* not yet delivered */
    RCPT_DONE = 'D',        /* delivered, or bounced and the bounce queued */
};

struct queue_recipient {
    char *address;          /* as accepted, "" never */
    char *orcpt;            /* ORCPT= (addr-type;xtext) or NULL */
    int notify;             /* DSN_NOTIFY_* bits from smtp/address.h, 0 = default */
    uint8_t status;         /* enum queue_rcpt_status */
    uint64_t status_offset; /* file offset of the status byte (set by the reader) */
};

struct queue_envelope {
    char queue_id[QUEUE_ID_SIZE];
    int64_t arrival_us;             /* wall clock when the transaction began */
    char *sender;                   /* "" for the null sender */
    struct queue_recipient *rcpts;
    size_t nrcpt;
    char *client_name;              /* "mail.example.com" or "unknown" */
    char *client_addr;              /* "192.0.2.1" */
    char *helo;                     /* NULL if none */
    char *protocol;                 /* "ESMTP", "ESMTPSA", ... */
    char *sasl_method;              /* NULL unless authenticated */
    char *sasl_username;
    char *message_id;               /* from the header, without <>, or NULL */
    char *envid;                    /* DSN ENVID or NULL */
    int dsn_ret;                    /* enum smtp_dsn_ret */
    bool smtputf8;
    int body_type;                  /* enum smtp_body_type */
    uint64_t content_size;          /* bytes of content (after our headers) */
};

/* Frees every string and the recipient array; leaves *env zeroed. */
void queue_envelope_free(struct queue_envelope *env);
/* Adds a recipient (copies strings). */
void queue_envelope_add_rcpt(struct queue_envelope *env, const char *address,
                             const char *orcpt, int notify);
/* Appends a zeroed recipient (status pending) whose strings the caller sets. */
struct queue_recipient *queue_envelope_new_rcpt(struct queue_envelope *env);

#endif
