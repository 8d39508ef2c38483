/*
 * A second, deliberately simple implementation of the DATA reader's
 * contract, used as an oracle by the unit tests and the fuzz target. It
 * works on whole lines of the complete input instead of a byte state
 * machine, so the two can only agree by both being right:
 *   - a line ends at LF; "CRLF" lines and bare-LF lines are both lines;
 *   - the data ends at a line that is exactly "." ended by CRLF whose
 *     predecessor also ended by CRLF (or that is the first line);
 *   - a line starting with "." loses that dot unless it is exactly ".";
 *   - content lines end with LF;
 *   - of an unfinished last line, a trailing CR and a lone leading dot
 *     are still pending and not yet content.
 */
#ifndef GATEPOST_TESTS_SMTP_DATA_MODEL_H
#define GATEPOST_TESTS_SMTP_DATA_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct data_model {
    char *out;              /* all content (malloc'd, n + 2 bytes suffice) */
    size_t out_len;
    size_t consumed;
    bool end;
    bool bare_lf, bare_cr, nul, eightbit;
    bool in_headers;
    size_t header_bytes;
    size_t longest_line;
};

static void model_emit(struct data_model *m, const char *p, size_t n)
{
    memcpy(m->out + m->out_len, p, n);
    m->out_len += n;
    if (m->in_headers)
        m->header_bytes += n;
}

static void model_note(struct data_model *m, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        m->nul |= c == 0;
        m->eightbit |= c >= 0x80;
        m->bare_cr |= c == '\r';
    }
}

/* Content of a line after dot-unstuffing. */
static void model_unstuff(const char **p, size_t *n)
{
    if (*n > 1 && (*p)[0] == '.') {
        (*p)++;
        (*n)--;
    }
}

static void data_model_run(struct data_model *m, const char *in, size_t n)
{
    memset(m, 0, sizeof(*m));
    m->out = malloc(n + 2);
    m->in_headers = true;
    bool prev_crlf = true;
    size_t pos = 0;
    while (pos < n) {
        const char *lf = memchr(in + pos, '\n', n - pos);
        if (lf == NULL)
            break;
        size_t linelen = (size_t)(lf - (in + pos)) + 1;
        const char *c = in + pos;
        size_t clen = linelen - 1;
        bool crlf = clen > 0 && c[clen - 1] == '\r';
        if (crlf)
            clen--;
        else
            m->bare_lf = true;
        pos += linelen;
        if (prev_crlf && crlf && clen == 1 && c[0] == '.') {
            m->end = true;
            break;
        }
        model_unstuff(&c, &clen);
        model_note(m, c, clen);
        if (clen == 0)
            m->in_headers = false;
        model_emit(m, c, clen);
        model_emit(m, "\n", 1);
        if (clen > m->longest_line)
            m->longest_line = clen;
        prev_crlf = crlf;
    }
    if (!m->end && pos < n) {
        const char *c = in + pos;
        size_t clen = n - pos;
        if (c[clen - 1] == '\r')
            clen--;                 /* pending CR */
        if (!(clen == 1 && c[0] == '.')) {
            model_unstuff(&c, &clen);
            model_note(m, c, clen);
            model_emit(m, c, clen);
        }
        pos = n;
    }
    m->consumed = pos;
}

#endif
