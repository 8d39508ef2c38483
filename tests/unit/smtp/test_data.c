/*
 * DATA reader: end-of-data detection, every SMTP smuggling variant,
 * dot-unstuffing, line-end normalisation, flags, size limits, and the
 * same results for input split at every byte boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/data.h"
#include "data_model.h"

struct result {
    struct data_reader r;
    struct buf out;
    size_t consumed;
    bool end;
};

/* Feeds in[0 .. n) in chunks of `chunk` bytes (0: all at once). */
static void feed(struct result *res, const char *in, size_t n, size_t chunk,
                 uint64_t max_size, size_t cap)
{
    data_reader_init(&res->r, max_size);
    buf_init(&res->out, cap);
    res->consumed = 0;
    res->end = false;
    if (chunk == 0)
        chunk = n ? n : 1;
    while (res->consumed < n && !res->end) {
        size_t len = n - res->consumed < chunk ? n - res->consumed : chunk;
        size_t used = data_reader_feed(&res->r, in + res->consumed, len,
                                       &res->out, &res->end);
        assert_true(used <= len);
        if (!res->end)
            assert_int_equal(used, len);    /* consumes everything until the end */
        res->consumed += used;
    }
}

static void done(struct result *res)
{
    buf_free(&res->out);
}

/* Checks the reader against the line-based model for one chunking. */
static void check_against_model(const char *in, size_t n, size_t chunk)
{
    struct data_model m;
    struct result res;
    data_model_run(&m, in, n);
    feed(&res, in, n, chunk, 0, 0);
    assert_int_equal(res.end, m.end);
    assert_int_equal(res.consumed, m.consumed);
    assert_int_equal(res.out.len, m.out_len);
    assert_memory_equal(buf_cstr(&res.out), m.out, m.out_len);
    assert_int_equal(res.r.size, m.out_len);
    assert_int_equal(res.r.saw_bare_lf, m.bare_lf);
    assert_int_equal(res.r.saw_bare_cr, m.bare_cr);
    assert_int_equal(res.r.saw_nul, m.nul);
    assert_int_equal(res.r.saw_8bit, m.eightbit);
    assert_int_equal(res.r.in_headers, m.in_headers);
    assert_int_equal(res.r.header_bytes, m.header_bytes);
    assert_int_equal(res.r.longest_line, m.longest_line);
    assert_false(res.r.too_big);
    done(&res);
    free(m.out);
}

/* Whole, 1-byte chunks, and every two-piece split give the same result. */
static void check_all_splits(const char *in, size_t n)
{
    struct result whole;
    feed(&whole, in, n, 0, 0, 0);
    check_against_model(in, n, 0);
    check_against_model(in, n, 1);
    check_against_model(in, n, 3);
    for (size_t k = 0; k <= n; k++) {
        struct result two;
        data_reader_init(&two.r, 0);
        buf_init(&two.out, 0);
        bool end = false;
        size_t used = data_reader_feed(&two.r, in, k, &two.out, &end);
        if (!end)
            used += data_reader_feed(&two.r, in + k, n - k, &two.out, &end);
        assert_int_equal(end, whole.end);
        assert_int_equal(used, whole.consumed);
        assert_int_equal(two.out.len, whole.out.len);
        assert_memory_equal(buf_cstr(&two.out), buf_cstr(&whole.out), whole.out.len);
        done(&two);
    }
    done(&whole);
}

struct data_case {
    const char *name;
    const char *in;
    const char *out;        /* expected content */
    bool end;
    int rest;               /* bytes left unconsumed after the end */
    bool bare_lf, bare_cr;
};

static const struct data_case cases[] = {
    { "empty message", ".\r\n", "", true, 0, false, false },
    { "one line", "hello\r\n.\r\n", "hello\n", true, 0, false, false },
    { "headers and body", "Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\n\nbody\n", true, 0, false, false },
    { "pipelined command after end", "a\r\n.\r\nQUIT\r\n", "a\n", true, 6, false, false },
    { "stuffed dot", "..hidden\r\n.\r\n", ".hidden\n", true, 0, false, false },
    { "double stuffed", "...\r\n.\r\n", "..\n", true, 0, false, false },
    { "dot line after text", "a\r\n..\r\n.\r\n", "a\n.\n", true, 0, false, false },
    { "dot inside line", "a.b\r\n.\r\n", "a.b\n", true, 0, false, false },
    { "no end yet", "abc\r\n", "abc\n", false, 0, false, false },
    { "bare LF line", "a\nb\r\n.\r\n", "a\nb\n", true, 0, true, false },
    { "bare CR kept", "a\rb\r\n.\r\n", "a\rb\n", true, 0, false, true },
    { "CR CR LF", "a\r\r\n.\r\n", "a\r\n", true, 0, false, true },
    { "lone dot after bare LF kept", "a\n.\r\nb\r\n.\r\n", "a\n.\nb\n", true, 0, true, false },
    { "dot LF kept", "a\r\n.\nb\r\n.\r\n", "a\n.\nb\n", true, 0, true, false },
    { "dot CR x", "a\r\n.\rx\r\n.\r\n", "a\n\rx\n", true, 0, false, true },
    { "dot CR CR LF", "a\r\n.\r\r\n.\r\n", "a\n\r\n", true, 0, false, true },
    { "terminator after lone dot line", "a\n.\r\n.\r\n", "a\n.\n", true, 0, true, false },
    { "space dot", "a\r\n .\r\n.\r\n", "a\n .\n", true, 0, false, false },
    { "dot space", "a\r\n. \r\n.\r\n", "a\n \n", true, 0, false, false },
    { "empty lines", "\r\n\r\n.\r\n", "\n\n", true, 0, false, false },
    { "bare LF before dot", "\n\n.\r\n", "\n\n.\n", false, 0, true, false },
};

static void table_cases(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct data_case *c = &cases[i];
        size_t n = strlen(c->in);
        struct result res;
        feed(&res, c->in, n, 0, 0, 0);
        if (res.end != c->end || strcmp(buf_cstr(&res.out), c->out) != 0
            || n - res.consumed != (size_t)c->rest || res.r.saw_bare_lf != c->bare_lf
            || res.r.saw_bare_cr != c->bare_cr)
            fail_msg("case '%s': end=%d consumed=%zu out='%s'", c->name, res.end,
                     res.consumed, buf_cstr(&res.out));
        done(&res);
        check_all_splits(c->in, n);
    }
}

static void nul_and_8bit(void **state)
{
    static const char in[] = "a\0b\r\n\xc3\xa9\r\n.\r\n";
    struct result res;
    feed(&res, in, sizeof(in) - 1, 0, 0, 0);
    assert_true(res.end);
    assert_true(res.r.saw_nul);
    assert_true(res.r.saw_8bit);
    assert_int_equal(res.out.len, 7);
    assert_memory_equal(res.out.data, "a\0b\n\xc3\xa9\n", 7);
    done(&res);
    check_all_splits(in, sizeof(in) - 1);
}

/*
 * SMTP smuggling (SEC Consult 2023, CVE-2023-51764/51765/51766, and the
 * USENIX Security 2025 payload list): a message whose body holds a
 * non-standard end-of-data sequence followed by a second transaction.
 * None may end the data; the smuggled commands must be content.
 */
struct seq {
    const char *s;
    size_t n;
};
#define SEQ(x) { x, sizeof(x) - 1 }

static const struct seq smuggling[] = {
    SEQ("\n.\n"), SEQ("\n.\r\n"), SEQ("\r\n.\n"), SEQ("\r.\r\n"),
    SEQ("\r\n.\r"), SEQ("\r.\n"), SEQ("\n.\r"), SEQ("\r.\r"),
    SEQ("\r\n.\r\r\n"), SEQ("\r\r\n.\r\r\n"), SEQ("\n\r.\r\n"),
    SEQ("\r\n\r.\r\n"), SEQ("\r\n.\n\r\n"), SEQ("\r\n\0.\r\n"),
    SEQ("\r\n.\0\r\n"), SEQ("\r\n .\r\n"), SEQ("\r\n.\t\r\n"),
    SEQ("\n..\n"), SEQ("\r\n..\r\n"), SEQ("\r\n\n.\r\n"),
    SEQ("\n\n.\r\n"), SEQ("\r\r.\r\n"), SEQ("\r\n.\n.\r\n"),
    SEQ("\n.\n\r\n"), SEQ(".\r\r\n"), SEQ("\r\0\n.\r\n"),
};
#define SMUGGLING_COUNT (sizeof(smuggling) / sizeof(smuggling[0]))

static void smuggling_variants(void **state)
{
    static const char head[] = "From: a@b.test\r\n\r\nbody";
    static const char smuggled[] = "MAIL FROM:<admin@bank.test>\r\n"
        "RCPT TO:<victim@b.test>\r\nDATA\r\nFrom: admin@bank.test\r\n\r\nforged\r\n";
    static const char tail[] = "\r\n.\r\n";
    for (size_t v = 0; v < SMUGGLING_COUNT; v++) {
        const char *seq = smuggling[v].s;
        size_t seqlen = smuggling[v].n;
        char in[512];
        size_t n = 0;
        memcpy(in + n, head, sizeof(head) - 1), n += sizeof(head) - 1;
        memcpy(in + n, seq, seqlen), n += seqlen;
        memcpy(in + n, smuggled, sizeof(smuggled) - 1), n += sizeof(smuggled) - 1;
        memcpy(in + n, tail, sizeof(tail) - 1), n += sizeof(tail) - 1;
        struct result res;
        feed(&res, in, n, 0, 0, 0);
        if (!res.end || res.consumed != n)
            fail_msg("smuggling variant %zu ended early (consumed %zu of %zu)", v,
                     res.consumed, n);
        if (memmem(res.out.data, res.out.len, "MAIL FROM:<admin@bank.test>\n", 28) == NULL)
            fail_msg("smuggling variant %zu: smuggled command is not content", v);
        done(&res);
        check_all_splits(in, n);
    }
}

/* A smuggling sequence at the very end of the input never ends the data. */
static void smuggling_never_ends(void **state)
{
    for (size_t v = 0; v < SMUGGLING_COUNT; v++) {
        char in[64] = "x";
        memcpy(in + 1, smuggling[v].s, smuggling[v].n);
        size_t n = 1 + smuggling[v].n;
        for (size_t chunk = 0; chunk < 3; chunk++) {
            struct result res;
            feed(&res, in, n, chunk, 0, 0);
            if (res.end)
                fail_msg("smuggling variant %zu ended the data", v);
            assert_int_equal(res.consumed, n);
            done(&res);
        }
        check_all_splits(in, n);
    }
}

static void real_end_after_bare_lf_line(void **state)
{
    /* "\n.\r\n" is content, but the CRLF it ends with allows the next "." */
    static const char in[] = "a\n.\r\n.\r\nNOOP\r\n";
    struct result res;
    feed(&res, in, sizeof(in) - 1, 0, 0, 0);
    assert_true(res.end);
    assert_int_equal(res.consumed, sizeof(in) - 1 - 6);
    assert_string_equal(buf_cstr(&res.out), "a\n.\n");
    done(&res);
}

static void end_stops_consuming(void **state)
{
    static const char in[] = "a\r\n.\r\nMAIL FROM:<x@y>\r\n";
    struct data_reader r;
    struct buf out;
    bool end = false;
    data_reader_init(&r, 0);
    buf_init(&out, 0);
    size_t used = data_reader_feed(&r, in, sizeof(in) - 1, &out, &end);
    assert_true(end);
    assert_int_equal(used, 6);
    /* Further feeding takes nothing. */
    assert_int_equal(data_reader_feed(&r, in + used, 5, &out, &end), 0);
    assert_true(end);
    assert_string_equal(buf_cstr(&out), "a\n");
    buf_free(&out);
}

static void headers_tracked(void **state)
{
    static const char in[] = "Subject: hi\r\nFrom: a\r\n\r\nbody line\r\n\r\nmore\r\n.\r\n";
    struct result res;
    feed(&res, in, sizeof(in) - 1, 0, 0, 0);
    assert_false(res.r.in_headers);
    assert_int_equal(res.r.header_bytes, strlen("Subject: hi\nFrom: a\n"));
    assert_int_equal(res.r.longest_line, strlen("Subject: hi"));
    done(&res);

    static const char noblank[] = "Subject: hi\r\n.\r\n";
    feed(&res, noblank, sizeof(noblank) - 1, 0, 0, 0);
    assert_true(res.r.in_headers);
    assert_int_equal(res.r.header_bytes, strlen("Subject: hi\n"));
    done(&res);
}

static void longest_line_counts_unstuffed(void **state)
{
    static const char in[] = "..abcd\r\nxy\r\n.\r\n";
    struct result res;
    feed(&res, in, sizeof(in) - 1, 2, 0, 0);
    assert_int_equal(res.r.longest_line, 5);
    done(&res);
}

/* max_size: exact prefix stored, everything counted, reading goes on. */
static void max_size_limits_storage(void **state)
{
    static const char in[] = "0123456789\r\nabcdefghij\r\n.\r\nNOOP\r\n";
    for (size_t limit = 1; limit < 30; limit++) {
        for (size_t chunk = 0; chunk < 5; chunk++) {
            struct result res;
            feed(&res, in, sizeof(in) - 1, chunk, limit, 0);
            assert_true(res.end);
            assert_int_equal(res.consumed, sizeof(in) - 1 - 6);
            assert_int_equal(res.r.size, 22);
            size_t want = limit < 22 ? limit : 22;
            assert_int_equal(res.out.len, want);
            assert_memory_equal(res.out.data, "0123456789\nabcdefghij\n", want);
            assert_int_equal(res.r.too_big, limit < 22);
            done(&res);
        }
    }
}

static void buffer_cap_limits_storage(void **state)
{
    static const char in[] = "0123456789\r\nabcdefghij\r\n.\r\n";
    for (size_t cap = 1; cap < 30; cap++) {
        for (size_t chunk = 0; chunk < 4; chunk++) {
            struct result res;
            feed(&res, in, sizeof(in) - 1, chunk, 0, cap);
            assert_true(res.end);
            assert_true(res.out.len <= cap);
            size_t want = cap < 22 ? cap : 22;
            assert_int_equal(res.out.len, want);
            assert_memory_equal(res.out.data, "0123456789\nabcdefghij\n", want);
            assert_int_equal(res.r.too_big, cap < 22);
            assert_int_equal(res.r.size, 22);
            done(&res);
        }
    }
}

/* Random inputs over a small alphabet rich in CR, LF and dots. */
static void random_against_model(void **state)
{
    static const char alphabet[] = "\r\n.\r\n.a\xc3\0 ";
    uint32_t seed = 12345;
    char in[64];
    for (int round = 0; round < 3000; round++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % sizeof(in);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        check_against_model(in, n, 0);
        check_against_model(in, n, 1);
        check_against_model(in, n, 2 + round % 7);
    }
}

static void large_message_fast_path(void **state)
{
    size_t lines = 20000;
    size_t n = lines * 80 + 5;
    char *in = malloc(n);
    for (size_t i = 0; i < lines; i++) {
        memset(in + i * 80, 'a' + (int)(i % 26), 78);
        in[i * 80] = i % 50 == 0 ? '.' : in[i * 80];
        memcpy(in + i * 80 + 78, "\r\n", 2);
    }
    memcpy(in + lines * 80, ".\r\n", 3);
    n = lines * 80 + 3;
    check_against_model(in, n, 0);
    check_against_model(in, n, 4096);
    check_against_model(in, n, 1000);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_cases),
        cmocka_unit_test(nul_and_8bit),
        cmocka_unit_test(smuggling_variants),
        cmocka_unit_test(smuggling_never_ends),
        cmocka_unit_test(real_end_after_bare_lf_line),
        cmocka_unit_test(end_stops_consuming),
        cmocka_unit_test(headers_tracked),
        cmocka_unit_test(longest_line_counts_unstuffed),
        cmocka_unit_test(max_size_limits_storage),
        cmocka_unit_test(buffer_cap_limits_storage),
        cmocka_unit_test(random_against_model),
        cmocka_unit_test(large_message_fast_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
