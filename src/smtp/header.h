/*
 * A streaming scanner for the message header section (RFC 5322 2.2, 3.6).
 *
 * The session feeds it message content (LF line ends, as the DATA reader
 * produces) in pieces of any size, and learns without storing the header
 * what it needs for the queue file and the logs: the first Message-ID
 * (unfolded, angle brackets removed, bounded), whether Date:, From: and
 * Received: headers are present, and how many Received: headers there
 * are (mail loop detection: Postfix's hopcount_limit).
 *
 * The header section ends at the first empty line or at the first line
 * that is neither a header nor a folded continuation (as in Postfix's
 * cleanup, that line starts the body). Memory use is fixed; any length of
 * input is accepted.
 */
#ifndef GATEPOST_SMTP_HEADER_H
#define GATEPOST_SMTP_HEADER_H

#include <stdbool.h>
#include <stddef.h>

/* Longest Message-ID kept; longer ones are cut and flagged. */
#define SMTP_MSGID_MAX 500

struct smtp_header_scan {
    bool done;                  /* the header section has ended */
    bool has_date;
    bool has_from;
    bool has_message_id;        /* a Message-ID: header was seen */
    bool message_id_truncated;  /* message_id was cut at SMTP_MSGID_MAX */
    unsigned received_count;    /* Received: headers (saturates at UINT_MAX) */
    char message_id[SMTP_MSGID_MAX + 1]; /* first Message-ID without <>; "" if none */

    /* Private: position in the header grammar. */
    int state;
    int field;                  /* what the current header is */
    char name[16];              /* start of the current field name */
    size_t name_len;
    char value[SMTP_MSGID_MAX + 64]; /* raw Message-ID value (a prefix of it) */
    size_t value_len;           /* its full length, stored or not */
};

void smtp_header_scan_init(struct smtp_header_scan *h);
/* Scans content p[0 .. n); does nothing once the header section ended. */
void smtp_header_scan_feed(struct smtp_header_scan *h, const char *p, size_t n);
/* Ends the scan at the end of the message (a message may be all header). */
void smtp_header_scan_finish(struct smtp_header_scan *h);

#endif
