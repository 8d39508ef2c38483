/*
 * Command-line reader: complete / need more / too long, the flags for
 * bare LF, bare CR and NUL, and resynchronisation after an over-long
 * line, for input arriving whole or a byte at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/line.h"

struct line_case {
    const char *name;
    const char *in;
    size_t n;               /* 0: strlen(in) */
    size_t max;
    enum line_status status;
    size_t len, consumed;
    bool bare_lf, bare_cr, nul, discarding;
};

static const struct line_case cases[] = {
    { "crlf", "NOOP\r\n", 0, 10, LINE_COMPLETE, 4, 6, false, false, false, false },
    { "two lines", "NOOP\r\nQUIT\r\n", 0, 10, LINE_COMPLETE, 4, 6, false, false, false, false },
    { "bare lf", "NOOP\nQUIT\r\n", 0, 10, LINE_COMPLETE, 4, 5, true, false, false, false },
    { "empty crlf", "\r\n", 0, 10, LINE_COMPLETE, 0, 2, false, false, false, false },
    { "empty bare lf", "\n", 0, 10, LINE_COMPLETE, 0, 1, true, false, false, false },
    { "bare cr inside", "NO\rOP\r\n", 0, 10, LINE_COMPLETE, 5, 7, false, true, false, false },
    { "cr cr lf", "NOOP\r\r\n", 0, 10, LINE_COMPLETE, 5, 7, false, true, false, false },
    { "nul inside", "NO\0OP\r\n", 7, 10, LINE_COMPLETE, 5, 7, false, false, true, false },
    { "no terminator", "NOOP", 0, 10, LINE_NEED_MORE, 0, 0, false, false, false, false },
    { "cr pending", "NOOP\r", 0, 10, LINE_NEED_MORE, 0, 0, false, false, false, false },
    { "empty input", "", 0, 10, LINE_NEED_MORE, 0, 0, false, false, false, false },
    { "exactly max", "0123456789\r\n", 0, 10, LINE_COMPLETE, 10, 12, false, false, false, false },
    { "exactly max bare lf", "0123456789\n", 0, 10, LINE_COMPLETE, 10, 11, true, false, false, false },
    { "max plus cr waiting", "0123456789\r", 0, 10, LINE_NEED_MORE, 0, 0, false, false, false, false },
    { "one over, ended", "0123456789a\r\n", 0, 10, LINE_TOO_LONG, 0, 13, false, false, false, false },
    { "over, bare lf: no flags", "0123456789a\n", 0, 10, LINE_TOO_LONG, 0, 12, false, false, false, false },
    { "one over, open", "0123456789ab", 0, 10, LINE_TOO_LONG, 0, 12, false, false, false, true },
    { "over with cr, open", "0123456789a\r", 0, 10, LINE_TOO_LONG, 0, 12, false, false, false, true },
    { "long then next", "0123456789abc\r\nNOOP\r\n", 0, 10, LINE_TOO_LONG, 0, 15, false, false, false, false },
    { "zero max", "a\r\n", 0, 0, LINE_TOO_LONG, 0, 3, false, false, false, false },
    { "zero max empty", "\r\n", 0, 0, LINE_COMPLETE, 0, 2, false, false, false, false },
};

static void table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct line_case *c = &cases[i];
        size_t n = c->n ? c->n : strlen(c->in);
        struct line_reader r;
        struct line_info info;
        line_reader_init(&r);
        enum line_status st = line_next(&r, c->in, n, c->max, &info);
        if (st != c->status || info.consumed != c->consumed
            || (st == LINE_COMPLETE && info.len != c->len)
            || info.bare_lf != c->bare_lf || info.bare_cr != c->bare_cr
            || info.nul != c->nul || r.discarding != c->discarding)
            fail_msg("case '%s': status %d len %zu consumed %zu lf %d cr %d nul %d disc %d",
                     c->name, st, info.len, info.consumed, info.bare_lf,
                     info.bare_cr, info.nul, r.discarding);
    }
}

/* Feeds a stream into a session-like loop; returns the lines' results. */
struct event {
    enum line_status status;
    char line[64];
    bool bare_lf;
};

static size_t run_stream(const char *in, size_t n, size_t chunk, size_t max,
                         struct event *ev, size_t max_ev)
{
    struct line_reader r;
    char pending[4096];
    size_t plen = 0, pos = 0, count = 0;
    line_reader_init(&r);
    while (pos < n || plen > 0) {
        size_t take = n - pos < chunk ? n - pos : chunk;
        memcpy(pending + plen, in + pos, take);
        plen += take, pos += take;
        for (;;) {
            struct line_info info;
            enum line_status st = line_next(&r, pending, plen, max, &info);
            if (st == LINE_NEED_MORE)
                break;
            if (st == LINE_COMPLETE || !r.discarding) {
                assert_true(count < max_ev);
                ev[count].status = st;
                ev[count].bare_lf = info.bare_lf;
                snprintf(ev[count].line, sizeof(ev[count].line), "%.*s",
                         st == LINE_COMPLETE ? (int)info.len : 0, pending);
                count++;
            }
            memmove(pending, pending + info.consumed, plen - info.consumed);
            plen -= info.consumed;
            if (plen == 0)
                break;
        }
        if (take == 0)
            break;
    }
    return count;
}

static void stream_any_chunking(void **state)
{
    static const char in[] =
        "EHLO a.test\r\n"
        "NOOP 0123456789012345678901234567890123456789\r\n"
        "MAIL FROM:<a@b>\n"
        "NOOP 01234567890123456789012345678901234567890123456789\r\n"
        "QUIT\r\n";
    for (size_t chunk = 1; chunk <= sizeof(in); chunk++) {
        struct event ev[8];
        size_t count = run_stream(in, sizeof(in) - 1, chunk, 45, ev, 8);
        assert_int_equal(count, 5);
        assert_int_equal(ev[0].status, LINE_COMPLETE);
        assert_string_equal(ev[0].line, "EHLO a.test");
        assert_int_equal(ev[1].status, LINE_COMPLETE);
        assert_int_equal(ev[2].status, LINE_COMPLETE);
        assert_string_equal(ev[2].line, "MAIL FROM:<a@b>");
        assert_true(ev[2].bare_lf);
        /* Over-long: reported once, not truncated and executed. */
        assert_int_equal(ev[3].status, LINE_TOO_LONG);
        assert_int_equal(ev[4].status, LINE_COMPLETE);
        assert_string_equal(ev[4].line, "QUIT");
    }
}

static void discarding_spans_many_calls(void **state)
{
    struct line_reader r;
    struct line_info info;
    char big[100];
    memset(big, 'x', sizeof(big));
    line_reader_init(&r);
    assert_int_equal(line_next(&r, big, sizeof(big), 10, &info), LINE_TOO_LONG);
    assert_true(r.discarding);
    assert_int_equal(info.consumed, sizeof(big));
    for (int i = 0; i < 5; i++) {
        assert_int_equal(line_next(&r, big, sizeof(big), 10, &info), LINE_TOO_LONG);
        assert_true(r.discarding);
        assert_int_equal(info.consumed, sizeof(big));
    }
    assert_int_equal(line_next(&r, "yy\r\nQUIT\r\n", 10, 10, &info), LINE_TOO_LONG);
    assert_false(r.discarding);
    assert_int_equal(info.consumed, 4);
    assert_int_equal(line_next(&r, "QUIT\r\n", 6, 10, &info), LINE_COMPLETE);
    assert_int_equal(info.len, 4);
}

static void discarding_ends_at_bare_lf(void **state)
{
    struct line_reader r;
    struct line_info info;
    line_reader_init(&r);
    assert_int_equal(line_next(&r, "aaaaaaaaaaaaaaaa", 16, 4, &info), LINE_TOO_LONG);
    assert_true(r.discarding);
    assert_int_equal(line_next(&r, "a\nNOOP\r\n", 8, 4, &info), LINE_TOO_LONG);
    assert_false(r.discarding);
    assert_int_equal(info.consumed, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(stream_any_chunking),
        cmocka_unit_test(discarding_spans_many_calls),
        cmocka_unit_test(discarding_ends_at_bare_lf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
