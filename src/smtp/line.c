/*
 * SMTP command-line reader (see line.h).
 *
 * Invariants: a line is never longer than `max` content bytes when it is
 * handed out; an over-long line is never truncated and handed out, it is
 * discarded up to its LF and then reported once (LINE_TOO_LONG with
 * r->discarding false), so the session answers it instead of executing a
 * prefix of it. The reader looks at no byte outside p[0 .. n) and keeps
 * no pointer into it.
 *
 * Security: RFC 5321 2.3.8 says lines end with <CR><LF>; a bare LF still
 * ends a line here (the session decides, per smtpd_forbid_bare_newline,
 * whether to refuse it) but is always reported, as are bare CR and NUL,
 * because differences in how hops treat them are what SMTP smuggling and
 * command injection exploit.
 */
#include "smtp/line.h"

#include <string.h>

void line_reader_init(struct line_reader *r)
{
    r->discarding = false;
}

/* Skips the rest of an over-long line: up to and including its LF. */
static enum line_status line_discard(struct line_reader *r, const char *p,
                                     size_t n, struct line_info *out)
{
    const char *lf = memchr(p, '\n', n);
    if (lf == NULL) {
        out->consumed = n;
        return LINE_TOO_LONG;
    }
    out->consumed = (size_t)(lf - p) + 1;
    r->discarding = false;
    return LINE_TOO_LONG;
}

/* Fills the flags for a complete line p[0 .. len). */
static void line_flags(const char *p, size_t len, struct line_info *out)
{
    out->bare_cr = memchr(p, '\r', len) != NULL;
    out->nul = memchr(p, '\0', len) != NULL;
}

enum line_status line_next(struct line_reader *r, const char *p, size_t n,
                           size_t max, struct line_info *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return LINE_NEED_MORE;  /* p may be NULL: an empty, released buffer */
    if (r->discarding)
        return line_discard(r, p, n, out);

    const char *lf = memchr(p, '\n', n);
    if (lf == NULL) {
        /*
         * Without an LF the line is known to be too long once it holds
         * more than max bytes plus a CR that may still be followed by LF.
         */
        if (n > max + 1) {
            r->discarding = true;
            out->consumed = n;
            return LINE_TOO_LONG;
        }
        return LINE_NEED_MORE;
    }

    size_t end = (size_t)(lf - p);
    bool crlf = end > 0 && p[end - 1] == '\r';
    size_t len = crlf ? end - 1 : end;
    out->consumed = end + 1;
    if (len > max)
        return LINE_TOO_LONG;
    out->len = len;
    out->bare_lf = !crlf;
    line_flags(p, len, out);
    return LINE_COMPLETE;
}
