/*
 * The SMTP command-line reader: a pure function over bytes received so far.
 * It is told the limit, and answers complete / need more / too long; it
 * reports bare LF, bare CR and NUL so the session can apply
 * smtpd_forbid_bare_newline. After an over-long line it discards input up
 * to the next LF and then reports the line as too long exactly once, so
 * the over-long command is refused, never truncated and executed.
 */
#ifndef GATEPOST_SMTP_LINE_H
#define GATEPOST_SMTP_LINE_H

#include <stdbool.h>
#include <stddef.h>

enum line_status {
    LINE_COMPLETE,      /* a line is ready: p[0 .. len) */
    LINE_NEED_MORE,     /* no terminator yet; nothing consumed */
    LINE_TOO_LONG,      /* an over-long line ended (or is being discarded) */
};

struct line_reader {
    bool discarding;    /* inside an over-long line, skipping to its LF */
};

/*
 * The flags describe LINE_COMPLETE lines only: an over-long line may
 * have been seen in pieces, so nothing is reported about its bytes
 * (as in Postfix, which skips the excess of a long line unexamined).
 */
struct line_info {
    size_t len;         /* line length without terminator (LINE_COMPLETE) */
    size_t consumed;    /* bytes the caller must drop from its input */
    bool bare_lf;       /* terminated by LF without CR */
    bool bare_cr;       /* a CR not followed by LF inside the line */
    bool nul;           /* a NUL byte inside the line */
};

void line_reader_init(struct line_reader *r);

/*
 * Scans p[0 .. n) for one line of at most max bytes (terminator excluded).
 * LINE_TOO_LONG with consumed < n and r->discarding false means the long
 * line has ended and the caller should answer it; while r->discarding is
 * still true the caller drops `consumed` bytes and waits for more.
 */
enum line_status line_next(struct line_reader *r, const char *p, size_t n,
                           size_t max, struct line_info *out);

#endif
