/*
 * Fuzz target for the command-line reader. The first byte is the line
 * limit, the second a chunking seed. A session-like loop reads lines from
 * the stream fed whole and fed in random chunks; both must see the same
 * lines and verdicts, no complete line may exceed the limit or hold an
 * LF, and every verdict must consume input or ask for more.
 */
#include "smtp/line.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 4096

struct event {
    int status;
    size_t start, len;      /* line position in the stream */
    bool bare_lf, bare_cr, nul;
};

/* Reads all lines, feeding the input whole (seed 0) or in random chunks. */
static size_t read_lines(const char *p, size_t n, size_t max, uint32_t seed,
                         struct event *ev)
{
    struct line_reader r;
    size_t base = 0, have = 0, count = 0;   /* window p[base .. base + have) */
    line_reader_init(&r);
    while (base + have < n || have > 0) {
        size_t more = n;
        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            more = 1 + (seed >> 16) % 29;
        }
        if (more > n - base - have)
            more = n - base - have;
        have += more;
        for (;;) {
            struct line_info info;
            enum line_status st = line_next(&r, p + base, have, max, &info);
            if (st == LINE_NEED_MORE) {
                if (info.consumed != 0)
                    abort();
                break;
            }
            if (info.consumed == 0 || info.consumed > have)
                abort();
            if (st == LINE_COMPLETE) {
                if (info.len > max || memchr(p + base, '\n', info.len) != NULL)
                    abort();
                if (p[base + info.consumed - 1] != '\n')
                    abort();
            }
            if ((st == LINE_COMPLETE || !r.discarding) && count < MAX_EVENTS) {
                ev[count].status = st;
                ev[count].start = base;
                ev[count].len = st == LINE_COMPLETE ? info.len : 0;
                ev[count].bare_lf = info.bare_lf;
                ev[count].bare_cr = info.bare_cr;
                ev[count].nul = info.nul;
                count++;
            }
            base += info.consumed;
            have -= info.consumed;
            if (have == 0)
                break;
        }
        if (more == 0)
            break;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct event a[MAX_EVENTS], b[MAX_EVENTS];
    if (size < 2)
        return 0;
    size_t max = data[0];
    uint32_t seed = data[1];
    const char *p = (const char *)data + 2;
    size_t n = size - 2;
    size_t na = read_lines(p, n, max, 0, a);
    size_t nb = read_lines(p, n, max, seed * 2 + 3, b);
    /*
     * Chunking may only change where an over-long line's report falls
     * when the line is still open at the end of input, so compare the
     * complete lines and the reports of lines that ended.
     */
    if (na != nb)
        abort();
    for (size_t i = 0; i < na; i++)
        if (a[i].status != b[i].status || a[i].len != b[i].len
            || (a[i].status == LINE_COMPLETE && a[i].start != b[i].start)
            || a[i].bare_lf != b[i].bare_lf || a[i].bare_cr != b[i].bare_cr
            || a[i].nul != b[i].nul)
            abort();
    return 0;
}
