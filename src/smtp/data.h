/*
 * The DATA reader: turns the client's dot-stuffed message stream into
 * message content, and finds the end of data.
 *
 * Security (the 2023 "SMTP smuggling" attacks): the end of data is only
 * ever <CR><LF>.<CR><LF>, where the first <CR><LF> ended the previous line
 * (or the DATA command). "\n.\n", "\r.\n", "\n.\r\n", "\r\n.\n",
 * "\r\n.\r" and every other variant are content, so a message can never
 * end early and no second transaction can start inside it.
 *
 * Output content has LF line endings (the Maildir convention); a line
 * ended by a bare LF is a line too. A bare CR inside a line is kept as a
 * byte and reported. Leading dots are removed from lines that start with a
 * dot (RFC 5321 4.5.2), except a lone "." that is not a valid terminator,
 * which is kept so that it is dot-stuffed again if the message is relayed.
 *
 * The reader never stores more than the caller's buffer cap: when the
 * content would pass max_size the excess is dropped and `too_big` set, and
 * reading continues to the end of data so the reply stays in sync. What
 * is stored is always an exact prefix of the content; `size` counts all
 * of it. The reader starts as if a CRLF had just been read (the DATA
 * command's), so ".<CR><LF>" at once is an empty message.
 */
#ifndef GATEPOST_SMTP_DATA_H
#define GATEPOST_SMTP_DATA_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct data_reader {
    int state;              /* private: position in the line/terminator machine */
    uint64_t size;          /* content bytes produced (including dropped excess) */
    uint64_t max_size;      /* content above this is dropped; 0 = unlimited */
    size_t line_len;        /* length of the current line so far */
    size_t longest_line;    /* longest line seen */
    bool too_big;           /* content passed max_size */
    bool saw_bare_lf;       /* a line ended with LF alone */
    bool saw_bare_cr;       /* a CR not followed by LF */
    bool saw_nul;           /* a NUL byte */
    bool saw_8bit;          /* a byte with the high bit set */
    bool in_headers;        /* still in the header section (until the first empty line) */
    size_t header_bytes;    /* bytes of the header section */
};

void data_reader_init(struct data_reader *r, uint64_t max_size);

/*
 * Feeds n bytes; appends content to out (until out's cap or max_size) and
 * returns how many input bytes were consumed. *end becomes true when the
 * terminating line has been consumed; bytes after it are left unconsumed
 * (pipelined commands that follow). If out refuses an append, the reader
 * sets too_big and keeps consuming.
 */
size_t data_reader_feed(struct data_reader *r, const char *p, size_t n,
                        struct buf *out, bool *end);

#endif
