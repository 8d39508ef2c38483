/*
 * Fuzz target for the DATA reader. The first bytes choose a size limit,
 * a buffer cap and a chunking seed; the rest is the client's stream.
 * Checks: the reader agrees with the line-based model of the contract
 * (tests/unit/smtp/data_model.h); stored content never passes the cap or
 * max_size and is a prefix of the full content; feeding the same input in
 * random chunk sizes gives the same content, flags and end position.
 */
#include "smtp/data.h"

#include "../tests/unit/smtp/data_model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct run {
    struct data_reader r;
    struct buf out;
    size_t consumed;
    bool end;
};

static void run_chunked(struct run *x, const char *p, size_t n, uint64_t max_size,
                        size_t cap, uint32_t seed)
{
    data_reader_init(&x->r, max_size);
    buf_init(&x->out, cap);
    x->consumed = 0;
    x->end = false;
    while (x->consumed < n && !x->end) {
        seed = seed * 1103515245u + 12345u;
        size_t len = seed == 0 ? n : 1 + (seed >> 16) % 67;
        if (len > n - x->consumed)
            len = n - x->consumed;
        size_t used = data_reader_feed(&x->r, p + x->consumed, len, &x->out, &x->end);
        if (used > len || (!x->end && used != len))
            abort();
        x->consumed += used;
        if (x->out.len > cap || (max_size && x->out.len > max_size))
            abort();
    }
}

static void same(const struct run *a, const struct run *b)
{
    if (a->end != b->end || a->consumed != b->consumed || a->out.len != b->out.len
        || memcmp(buf_cstr(&a->out), buf_cstr(&b->out), a->out.len) != 0
        || a->r.size != b->r.size || a->r.too_big != b->r.too_big
        || a->r.saw_bare_lf != b->r.saw_bare_lf || a->r.saw_bare_cr != b->r.saw_bare_cr
        || a->r.saw_nul != b->r.saw_nul || a->r.saw_8bit != b->r.saw_8bit
        || a->r.in_headers != b->r.in_headers || a->r.header_bytes != b->r.header_bytes
        || a->r.longest_line != b->r.longest_line)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint64_t max_size = data[0] & 0x80 ? data[0] & 0x7f : 0;
    size_t cap = data[1] & 0x80 ? (size_t)(data[1] & 0x7f) + 1 : (size_t)1 << 20;
    uint32_t seed = (uint32_t)data[2] << 8 | data[3];
    const char *p = (const char *)data + 4;
    size_t n = size - 4;

    struct data_model m;
    data_model_run(&m, p, n);
    struct run whole, chunked;
    run_chunked(&whole, p, n, max_size, cap, 0);
    run_chunked(&chunked, p, n, max_size, cap, seed | 1);
    same(&whole, &chunked);

    size_t limit = cap;
    if (max_size && max_size < limit)
        limit = (size_t)max_size;
    size_t want = m.out_len < limit ? m.out_len : limit;
    if (whole.end != m.end || whole.consumed != m.consumed || whole.r.size != m.out_len
        || whole.out.len != want || memcmp(buf_cstr(&whole.out), m.out, want) != 0
        || whole.r.too_big != (m.out_len > limit)
        || whole.r.saw_bare_lf != m.bare_lf || whole.r.saw_bare_cr != m.bare_cr
        || whole.r.saw_nul != m.nul || whole.r.saw_8bit != m.eightbit
        || whole.r.in_headers != m.in_headers || whole.r.header_bytes != m.header_bytes
        || whole.r.longest_line != m.longest_line)
        abort();
    buf_free(&whole.out);
    buf_free(&chunked.out);
    free(m.out);
    return 0;
}
