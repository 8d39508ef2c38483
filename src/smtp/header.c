/*
 * Streaming header scanner (see header.h).
 *
 * States: BOL (start of a line), NAME (inside a field name), NAME_WSP
 * (blanks between the name and the colon, RFC 5322 4.5 obsolete syntax),
 * VALUE (inside a field body, up to its LF), DONE. A field's value ends
 * when a line starts with something other than a blank, so the
 * Message-ID is finished there, at the empty line, or at finish().
 *
 * Invariants: fixed memory; the stored Message-ID holds no control
 * characters (a tab from folding becomes a space, others are shown as
 * '?', the way they would be made safe in a log line) and at most
 * SMTP_MSGID_MAX bytes.
 */
#include "smtp/header.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

enum { H_BOL, H_NAME, H_NAME_WSP, H_VALUE, H_DONE };
enum { F_NONE, F_OTHER, F_MSGID };

void smtp_header_scan_init(struct smtp_header_scan *h)
{
    memset(h, 0, sizeof(*h));
    h->state = H_BOL;
    h->field = F_NONE;
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Sets message_id from the collected value: the text inside <>, or all. */
static void finish_msgid(struct smtp_header_scan *h)
{
    size_t stored = h->value_len < sizeof(h->value) ? h->value_len : sizeof(h->value);
    const char *v = h->value, *end = v + stored;
    const char *lt = memchr(v, '<', stored);
    if (lt != NULL) {
        const char *gt = memchr(lt + 1, '>', (size_t)(end - lt - 1));
        v = lt + 1;
        end = gt ? gt : end;
    }
    while (v < end && is_wsp(*v))
        v++;
    while (end > v && is_wsp(end[-1]))
        end--;
    size_t len = (size_t)(end - v);
    if (len > SMTP_MSGID_MAX || h->value_len > stored) {
        h->message_id_truncated = true;
        len = len > SMTP_MSGID_MAX ? SMTP_MSGID_MAX : len;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        h->message_id[i] = c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    h->message_id[len] = '\0';
}

/* The current field (if any) has ended. */
static void end_field(struct smtp_header_scan *h)
{
    if (h->field == F_MSGID)
        finish_msgid(h);
    h->field = F_NONE;
}

static void end_header_section(struct smtp_header_scan *h)
{
    end_field(h);
    h->state = H_DONE;
    h->done = true;
}

static bool name_is(const struct smtp_header_scan *h, const char *name)
{
    size_t n = strlen(name);
    return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

/* The colon after a field name: decide what the field is. */
static void classify(struct smtp_header_scan *h)
{
    h->field = F_OTHER;
    if (name_is(h, "Received")) {
        if (h->received_count < UINT_MAX)
            h->received_count++;
    } else if (name_is(h, "Date")) {
        h->has_date = true;
    } else if (name_is(h, "From")) {
        h->has_from = true;
    } else if (name_is(h, "Message-ID") && !h->has_message_id) {
        h->has_message_id = true;
        h->field = F_MSGID;
        h->value_len = 0;
    }
    h->state = H_VALUE;
}

static void add_value(struct smtp_header_scan *h, const char *p, size_t n)
{
    if (h->value_len < sizeof(h->value)) {
        size_t room = sizeof(h->value) - h->value_len;
        memcpy(h->value + h->value_len, p, n < room ? n : room);
    }
    h->value_len = n > SIZE_MAX - h->value_len ? SIZE_MAX : h->value_len + n;
}

/* One byte at a line start or in a field name. */
static void scan_byte(struct smtp_header_scan *h, char c)
{
    unsigned char u = (unsigned char)c;
    if (h->state == H_BOL) {
        if (c == '\n') {
            end_header_section(h);
        } else if (c == ' ' || c == '\t') {
            if (h->field == F_NONE) {
                end_header_section(h);      /* a continuation of nothing */
                return;
            }
            if (h->field == F_MSGID)
                add_value(h, &c, 1);
            h->state = H_VALUE;
        } else {
            end_field(h);
            h->name_len = 0;
            h->state = H_NAME;
            scan_byte(h, c);
        }
        return;
    }
    if (c == ':' && h->name_len > 0) {
        classify(h);
    } else if (h->state == H_NAME && u > 32 && u < 127 && c != ':') {
        if (h->name_len < sizeof(h->name))
            h->name[h->name_len] = c;
        h->name_len++;              /* bounded by the line, which is bounded by input */
    } else if ((c == ' ' || c == '\t') && h->name_len > 0) {
        h->state = H_NAME_WSP;
    } else {
        end_header_section(h);      /* not a header line: the body starts */
    }
}

/* Inside a field body: skip (or collect) up to the LF. */
static size_t scan_value(struct smtp_header_scan *h, const char *p, size_t n)
{
    const char *lf = memchr(p, '\n', n);
    size_t run = lf ? (size_t)(lf - p) : n;
    if (h->field == F_MSGID)
        add_value(h, p, run);
    if (lf == NULL)
        return n;
    h->state = H_BOL;
    return run + 1;
}

void smtp_header_scan_feed(struct smtp_header_scan *h, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && h->state != H_DONE) {
        if (h->state == H_VALUE)
            i += scan_value(h, p + i, n - i);
        else
            scan_byte(h, p[i++]);
    }
}

void smtp_header_scan_finish(struct smtp_header_scan *h)
{
    if (h->state != H_DONE)
        end_header_section(h);
}
