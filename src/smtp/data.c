/*
 * The DATA reader (see data.h): a byte-exact state machine that turns the
 * dot-stuffed SMTP stream into LF-terminated content and finds the end of
 * data.
 *
 * The states say where the last consumed byte left us:
 *   BOL_CRLF   at the start of a line whose predecessor ended with CRLF
 *              (or right after the DATA command): only here can "." start
 *              the terminator.
 *   BOL_LF     at the start of a line whose predecessor ended with a bare
 *              LF: a line, but never the start of the terminator.
 *   DOT_CRLF   "." seen at BOL_CRLF, not yet emitted.
 *   DOT_CR_CRLF ".<CR>" seen at BOL_CRLF: an LF now ends the data.
 *   DOT_LF, DOT_CR_LF   the same after a bare LF: never an end.
 *   MID        inside a line.
 *   CR         a CR inside a line, not yet known to be part of CRLF.
 *   END        the terminator has been consumed.
 * Every pending byte (a dot, a CR) lives in the state, so input split at
 * any byte boundary gives the same content and the same end position.
 *
 * Security (SMTP smuggling, CVE-2023-51764 and relatives): only
 * <CR><LF>.<CR><LF> ends the data; a lone "." line reached any other way
 * is kept as content (so it is stuffed again when relayed) and every byte
 * after it stays content, so no second transaction can begin inside a
 * message. Memory: content beyond max_size or the buffer's cap is counted
 * and dropped; what is stored is always an exact prefix of the content.
 *
 * Speed: inside a line the reader moves by memchr() from line end to line
 * end and copies whole runs; only line starts and stray CRs are handled a
 * byte at a time.
 */
#include "smtp/data.h"

#include <string.h>

enum data_state {
    ST_BOL_CRLF,
    ST_BOL_LF,
    ST_DOT_CRLF,
    ST_DOT_CR_CRLF,
    ST_DOT_LF,
    ST_DOT_CR_LF,
    ST_MID,
    ST_CR,
    ST_END,
};

void data_reader_init(struct data_reader *r, uint64_t max_size)
{
    memset(r, 0, sizeof(*r));
    r->state = ST_BOL_CRLF;
    r->max_size = max_size;
    r->in_headers = true;
}

/* Stores what fits of p[0 .. len) and counts all of it. */
static void emit(struct data_reader *r, struct buf *out, const char *p,
                 size_t len)
{
    if (len == 0)
        return;
    uint64_t before = r->size;
    r->size += len;
    r->line_len += len;
    if (r->in_headers)
        r->header_bytes += len;
    if (r->too_big)
        return;
    size_t keep = len;
    if (r->max_size != 0 && r->size > r->max_size) {
        keep = before >= r->max_size ? 0 : (size_t)(r->max_size - before);
        r->too_big = true;
    }
    size_t room = out->max - out->len;
    if (keep > room) {
        keep = room;
        r->too_big = true;
    }
    if (keep > 0 && !buf_append(out, p, keep))
        r->too_big = true;
}

/* Ends the current line with an LF; the next line starts in `next`. */
static void end_line(struct data_reader *r, struct buf *out, int next)
{
    if (r->line_len == 0)
        r->in_headers = false;
    if (r->line_len > r->longest_line)
        r->longest_line = r->line_len;
    emit(r, out, "\n", 1);
    r->line_len = 0;
    r->state = next;
}

/*
 * Notes NUL and 8-bit bytes in a run of content taken from the input,
 * eight bytes at a time (a word has a zero byte when
 * (w - 0x01..01) & ~w & 0x80..80 is not zero).
 */
static void note_bytes(struct data_reader *r, const char *p, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t any = 0, zero = 0;
    size_t i = 0;
    if (r->saw_nul && r->saw_8bit)
        return;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        any |= w;
        zero |= (w - ones) & ~w & highs;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        any |= c;
        zero |= c == 0;
    }
    r->saw_8bit |= (any & highs) != 0;
    r->saw_nul |= zero != 0;
}

/* Emits a CR that turned out not to be followed by LF. */
static void bare_cr(struct data_reader *r, struct buf *out)
{
    r->saw_bare_cr = true;
    emit(r, out, "\r", 1);
}

/*
 * Inside a line: copies the run up to the next CR or LF and handles the
 * common CRLF line end in place. Returns bytes consumed from p[0 .. n).
 */
static size_t feed_mid(struct data_reader *r, const char *p, size_t n,
                       struct buf *out)
{
    const char *lf = memchr(p, '\n', n);
    size_t seg = lf ? (size_t)(lf - p) : n;
    const char *cr = memchr(p, '\r', seg);
    size_t run = cr ? (size_t)(cr - p) : seg;
    note_bytes(r, p, run);
    emit(r, out, p, run);
    if (cr != NULL) {
        if (cr + 1 == lf) {
            end_line(r, out, ST_BOL_CRLF);
            return run + 2;
        }
        r->state = ST_CR;
        return run + 1;
    }
    if (lf != NULL) {
        r->saw_bare_lf = true;
        end_line(r, out, ST_BOL_LF);
        return run + 1;
    }
    return run;
}

/* Steps the machine over one byte outside the MID fast path. */
static void feed_byte(struct data_reader *r, char c, struct buf *out)
{
    switch (r->state) {
    case ST_BOL_CRLF:
    case ST_BOL_LF:
        if (c == '.') {
            r->state = r->state == ST_BOL_CRLF ? ST_DOT_CRLF : ST_DOT_LF;
            return;
        }
        break;
    case ST_DOT_CRLF:
    case ST_DOT_LF:
        if (c == '\r') {
            r->state = r->state == ST_DOT_CRLF ? ST_DOT_CR_CRLF : ST_DOT_CR_LF;
            return;
        }
        if (c == '\n') {
            /* A lone "." ended by a bare LF: content, kept as ".". */
            emit(r, out, ".", 1);
            r->saw_bare_lf = true;
            end_line(r, out, ST_BOL_LF);
            return;
        }
        break;                  /* stuffed dot: dropped */
    case ST_DOT_CR_CRLF:
        if (c == '\n') {
            r->state = ST_END;
            return;
        }
        bare_cr(r, out);        /* ".<CR>x": stuffed dot dropped */
        break;
    case ST_DOT_CR_LF:
        if (c == '\n') {
            /* ".<CR><LF>" after a bare LF: content, kept as ".". */
            emit(r, out, ".", 1);
            end_line(r, out, ST_BOL_CRLF);
            return;
        }
        bare_cr(r, out);
        break;
    case ST_CR:
        if (c == '\n') {
            end_line(r, out, ST_BOL_CRLF);
            return;
        }
        bare_cr(r, out);
        break;
    default:
        break;
    }
    /* The byte is ordinary line content, or starts a CR or an LF. */
    r->state = ST_MID;
    if (c == '\r') {
        r->state = ST_CR;
    } else if (c == '\n') {
        r->saw_bare_lf = true;
        end_line(r, out, ST_BOL_LF);
    } else {
        note_bytes(r, &c, 1);
        emit(r, out, &c, 1);
    }
}

size_t data_reader_feed(struct data_reader *r, const char *p, size_t n,
                        struct buf *out, bool *end)
{
    size_t i = 0;
    while (i < n && r->state != ST_END) {
        if (r->state == ST_MID)
            i += feed_mid(r, p + i, n - i, out);
        else
            feed_byte(r, p[i++], out);
    }
    *end = r->state == ST_END;
    return i;
}
