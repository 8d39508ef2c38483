/*
 * Builds non-delivery notifications; see bounce.h. The text part follows
 * Postfix's default failure template; the machine-readable part follows
 * RFC 3464 section 2 (per-message fields, then one block per recipient).
 * Reasons are single lines already (delivery agents make them so); long
 * ones are folded for the text part.
 */
#include "deliver/bounce.h"

#include "base/clock.h"
#include "base/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BOUNCE_HEADER_MAX (100u << 10)  /* headers returned for RET=HDRS (header_size_limit) */
#define BOUNCE_WRAP 76

static const char failure_template[] =
    "This is the mail system at host %s.\n"
    "\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients. It's attached below.\n"
    "\n"
    "For further assistance, please send mail to postmaster.\n"
    "\n"
    "If you do so, please include this problem report. You can\n"
    "delete your own text from the attached returned message.\n"
    "\n"
    "                   The mail system\n";

static void date_of(int64_t us, char *out, size_t size)
{
    clock_rfc5322((time_t)(us / 1000000), out, size);
}

static void top_headers(const struct bounce_request *req, const char *boundary, bool eight,
                        struct buf *out)
{
    char now[64], stamp[32];
    date_of(req->now_us, now, sizeof(now));
    time_t t = (time_t)(req->now_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    buf_printf(out, "Received: by %s (%s)\n\tid %s; %s\n", req->myhostname,
               req->mail_name, req->new_queue_id, now);
    buf_printf(out, "Date: %s\n", now);
    buf_printf(out, "From: MAILER-DAEMON@%s (Mail Delivery System)\n", req->myhostname);
    buf_puts(out, "Subject: Undelivered Mail Returned to Sender\n");
    buf_printf(out, "To: %s\n", req->sender);
    buf_puts(out, "Auto-Submitted: auto-replied\n");
    buf_puts(out, "MIME-Version: 1.0\n");
    buf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\n"
                    "\tboundary=\"%s\"\n", boundary);
    if (eight)
        buf_puts(out, "Content-Transfer-Encoding: 8bit\n");
    buf_printf(out, "Message-Id: <%s.%s@%s>\n", stamp, req->new_queue_id, req->myhostname);
    buf_puts(out, "\nThis is a MIME-encapsulated message.\n\n");
}

/*
 * Appends text starting at column col, folded at spaces before BOUNCE_WRAP
 * with a four-space continuation (valid both in the text part and as a
 * folded header field), then a newline.
 */
static void put_folded(struct buf *out, size_t col, const char *text)
{
    const char *p = text;
    bool space = false;
    while (*p) {
        if (*p == ' ') {
            space = true;
            p++;
            continue;
        }
        const char *sp = strchr(p, ' ');
        size_t word = sp ? (size_t)(sp - p) : strlen(p);
        if (space && col > 4 && col + 1 + word > BOUNCE_WRAP) {
            buf_puts(out, "\n    ");
            col = 4;
        } else if (space) {
            buf_putc(out, ' ');
            col++;
        }
        space = false;
        buf_append(out, p, word);
        col += word;
        p += word;
    }
    buf_putc(out, '\n');
}

static void notification_part(const struct bounce_request *req, const char *boundary,
                              struct buf *out)
{
    buf_printf(out, "--%s\n", boundary);
    buf_puts(out, "Content-Description: Notification\n"
                  "Content-Type: text/plain; charset=us-ascii\n\n");
    buf_printf(out, failure_template, req->myhostname);
    buf_puts(out, "\n");
    for (size_t i = 0; i < req->nrcpt; i++) {
        const struct bounce_rcpt *r = &req->rcpts[i];
        buf_printf(out, "<%s>: ", r->address);
        put_folded(out, strlen(r->address) + 4, r->reason);
        buf_putc(out, '\n');
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ORCPT is addr-type;xtext (RFC 3461 section 4): "+XX" hex escapes decoded. */
static void put_orcpt(const char *orcpt, struct buf *out)
{
    buf_puts(out, "Original-Recipient: ");
    for (const char *p = orcpt; *p; p++) {
        int hi, lo;
        if (*p == '+' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
            char c = (char)(hi * 16 + lo);
            buf_putc(out, c == '\n' || c == '\r' ? ' ' : c);
            p += 2;
        } else {
            buf_putc(out, *p);
        }
    }
    buf_putc(out, '\n');
}

static void status_part(const struct bounce_request *req, const char *boundary,
                        struct buf *out)
{
    char arrival[64];
    date_of(req->arrival_us, arrival, sizeof(arrival));
    buf_printf(out, "--%s\n", boundary);
    buf_puts(out, "Content-Description: Delivery report\n"
                  "Content-Type: message/delivery-status\n\n");
    buf_printf(out, "Reporting-MTA: dns; %s\n", req->myhostname);
    if (req->envid)
        buf_printf(out, "Original-Envelope-Id: %s\n", req->envid);
    buf_printf(out, "X-Gatepost-Queue-ID: %s\n", req->queue_id);
    buf_printf(out, "X-Gatepost-Sender: rfc822; %s\n", req->sender);
    buf_printf(out, "Arrival-Date: %s\n", arrival);
    for (size_t i = 0; i < req->nrcpt; i++) {
        const struct bounce_rcpt *r = &req->rcpts[i];
        buf_printf(out, "\nFinal-Recipient: rfc822; %s\n", r->address);
        if (r->orcpt)
            put_orcpt(r->orcpt, out);
        buf_printf(out, "Action: failed\nStatus: %s\n", r->dsn);
        buf_puts(out, "Diagnostic-Code: X-Gatepost; ");
        put_folded(out, strlen("Diagnostic-Code: X-Gatepost; "), r->reason);
    }
    buf_puts(out, "\n");
}

/* Reads what is returned: all of it, or the header section only. */
static char *read_original(const struct bounce_request *req, size_t *len, bool *headers_only)
{
    *headers_only = req->headers_only || req->content_size > req->size_limit;
    size_t want = (size_t)req->content_size;
    if (*headers_only && want > BOUNCE_HEADER_MAX)
        want = BOUNCE_HEADER_MAX;
    char *data = xmalloc(want + 1);
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(req->content_fd, data + got, want - got,
                          (off_t)(req->content_offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            free(data);
            return NULL;
        }
        got += (size_t)r;
    }
    if (*headers_only) {
        data[got] = '\0';
        char *blank = got && data[0] == '\n' ? data : strstr(data, "\n\n");
        if (blank)
            got = (size_t)(blank - data) + (blank == data ? 0 : 1);
    }
    *len = got;
    return data;
}

static bool has_8bit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] & 0x80)
            return true;
    return false;
}

bool bounce_build(const struct bounce_request *req, struct buf *out)
{
    size_t olen;
    bool headers_only;
    char *orig = read_original(req, &olen, &headers_only);
    if (orig == NULL)
        return false;
    bool eight = has_8bit(orig, olen);
    char boundary[256];
    snprintf(boundary, sizeof(boundary), "%s.%lld/%s", req->new_queue_id,
             (long long)(req->now_us / 1000000), req->myhostname);
    top_headers(req, boundary, eight, out);
    notification_part(req, boundary, out);
    status_part(req, boundary, out);
    buf_printf(out, "--%s\n", boundary);
    buf_printf(out, "Content-Description: %s\n",
               headers_only ? "Undelivered Message Headers" : "Undelivered Message");
    buf_printf(out, "Content-Type: %s\n", headers_only ? "text/rfc822-headers" : "message/rfc822");
    if (eight)
        buf_puts(out, "Content-Transfer-Encoding: 8bit\n");
    buf_puts(out, "\n");
    buf_append(out, orig, olen);
    if (olen > 0 && orig[olen - 1] != '\n')
        buf_putc(out, '\n');
    buf_printf(out, "\n--%s--\n", boundary);
    free(orig);
    return true;
}
