/* Frames: build/parse round trips and the parser's refusals, byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ipc/msg.h"

static void build_start(struct buf *out, uint32_t id, const void *data, size_t n)
{
    struct ipc_builder b;
    ipc_build_begin(&b, out, IPC_AUTH_START, id);
    ipc_put_str(&b, IPC_T_SERVICE, "submission");
    ipc_put_str(&b, IPC_T_MECH, "PLAIN");
    ipc_put_str(&b, IPC_T_CLIENT_ADDR, "192.0.2.7");
    ipc_put_u32(&b, IPC_T_CLIENT_PORT, 40001);
    ipc_put_flag(&b, IPC_T_SECURED);
    if (data)
        ipc_put_bytes(&b, IPC_T_DATA, data, n);
    assert_true(ipc_build_end(&b));
}

static void round_trip(void **state)
{
    struct buf out;
    buf_init(&out, 0);
    static const uint8_t resp[] = { 0, 'a', 0, 'p', 'w' };
    build_start(&out, 77, resp, sizeof(resp));
    size_t flen = 0;
    const char *why = NULL;
    assert_int_equal(ipc_frame_scan((uint8_t *)out.data, out.len, &flen, &why), IPC_SCAN_COMPLETE);
    assert_int_equal(flen, out.len);
    struct ipc_msg m;
    assert_true(ipc_msg_parse((uint8_t *)out.data, out.len, &m, &why));
    assert_int_equal(m.type, IPC_AUTH_START);
    assert_int_equal(m.id, 77);
    assert_string_equal(ipc_msg_str(&m, IPC_T_SERVICE, NULL), "submission");
    assert_string_equal(ipc_msg_str(&m, IPC_T_MECH, NULL), "PLAIN");
    assert_int_equal(ipc_msg_u32(&m, IPC_T_CLIENT_PORT, 0), 40001);
    assert_true(ipc_msg_flag(&m, IPC_T_SECURED));
    assert_null(ipc_msg_str(&m, IPC_T_CLIENT_NAME, NULL));
    const struct ipc_field *d = ipc_msg_get(&m, IPC_T_DATA);
    assert_non_null(d);
    assert_int_equal(d->len, sizeof(resp));
    assert_memory_equal(d->data, resp, sizeof(resp));
    ipc_msg_free(&m);
    buf_free(&out);
}

static void empty_data_is_present(void **state)
{
    struct buf out;
    buf_init(&out, 0);
    build_start(&out, 1, "", 0);
    struct ipc_msg m;
    const char *why;
    assert_true(ipc_msg_parse((uint8_t *)out.data, out.len, &m, &why));
    const struct ipc_field *d = ipc_msg_get(&m, IPC_T_DATA);
    assert_non_null(d);
    assert_int_equal(d->len, 0);
    ipc_msg_free(&m);
    buf_free(&out);
}

static void scan_needs_more(void **state)
{
    struct buf out;
    buf_init(&out, 0);
    build_start(&out, 5, NULL, 0);
    size_t flen;
    const char *why;
    for (size_t n = 0; n < out.len; n++)
        assert_int_equal(ipc_frame_scan((uint8_t *)out.data, n, &flen, &why), IPC_SCAN_NEED_MORE);
    buf_free(&out);
}

static void scan_refuses_impossible_lengths(void **state)
{
    const char *why = NULL;
    size_t flen;
    uint8_t small[12] = { 0, 0, 0, 11 };
    assert_int_equal(ipc_frame_scan(small, sizeof(small), &flen, &why), IPC_SCAN_INVALID);
    uint8_t big[4] = { 0x7f, 0xff, 0xff, 0xff };
    assert_int_equal(ipc_frame_scan(big, sizeof(big), &flen, &why), IPC_SCAN_INVALID);
    assert_non_null(why);
}

/* A frame for a hand-made test: header + raw field bytes. */
static size_t raw_frame(uint8_t *out, uint16_t type, const uint8_t *fields, size_t n)
{
    size_t len = 12 + n;
    uint8_t h[12] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len, (uint8_t)(type >> 8), (uint8_t)type, 0, 0, 0, 0, 0, 9 };
    memcpy(out, h, 12);
    if (n)
        memcpy(out + 12, fields, n);
    return len;
}

static void expect_refused(uint16_t type, const uint8_t *fields, size_t n, const char *why_part)
{
    uint8_t frame[512];
    size_t len = raw_frame(frame, type, fields, n);
    struct ipc_msg m;
    const char *why = NULL;
    assert_false(ipc_msg_parse(frame, len, &m, &why));
    assert_non_null(why);
    assert_non_null(strstr(why, why_part));
}

static void parser_refusals(void **state)
{
    /* STEP needs DATA */
    expect_refused(IPC_AUTH_STEP, NULL, 0, "required");
    /* unknown type */
    expect_refused(0x7777, NULL, 0, "unknown");
    /* a tag the type does not carry (USERNAME in STEP) */
    static const uint8_t f1[] = { 0, 13, 0, 0, 0, 1, 'x' };
    expect_refused(IPC_AUTH_STEP, f1, sizeof(f1), "unexpected");
    /* field longer than the frame */
    static const uint8_t f2[] = { 0, 12, 0, 0, 0, 9, 'x' };
    expect_refused(IPC_AUTH_STEP, f2, sizeof(f2), "longer");
    /* truncated field header */
    static const uint8_t f3[] = { 0, 12, 0 };
    expect_refused(IPC_AUTH_STEP, f3, sizeof(f3), "truncated");
    /* repeated DATA */
    static const uint8_t f4[] = { 0, 12, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0 };
    expect_refused(IPC_AUTH_STEP, f4, sizeof(f4), "repeated");
    /* NUL in a string */
    static const uint8_t f5[] = { 0, 13, 0, 0, 0, 3, 'a', 0, 'b' };
    expect_refused(IPC_AUTH_SUCCESS, f5, sizeof(f5), "NUL");
    /* u32 of 3 bytes */
    static const uint8_t f6[] = { 0, 1, 0, 0, 0, 1, 's', 0, 2, 0, 0, 0, 1, 'P',
                                  0, 6, 0, 0, 0, 3, 1, 2, 3 };
    expect_refused(IPC_AUTH_START, f6, sizeof(f6), "4 bytes");
    /* flag with a value */
    static const uint8_t f7[] = { 0, 14, 0, 0, 0, 1, 'r', 0, 15, 0, 0, 0, 1, 1 };
    expect_refused(IPC_AUTH_FAILURE, f7, sizeof(f7), "flag");
    /* mechanism names without flags */
    static const uint8_t f8[] = { 0, 1, 0, 0, 0, 1, 's', 0, 4, 0, 0, 0, 0,
                                  0, 2, 0, 0, 0, 5, 'P', 'L', 'A', 'I', 'N' };
    expect_refused(IPC_AUTH_MECHS, f8, sizeof(f8), "pair");
}

static void header_length_must_match(void **state)
{
    struct buf out;
    buf_init(&out, 0);
    build_start(&out, 5, "x", 1);
    struct ipc_msg m;
    const char *why;
    assert_false(ipc_msg_parse((uint8_t *)out.data, out.len - 1, &m, &why));
    out.data[7] = 1;     /* reserved flags */
    assert_false(ipc_msg_parse((uint8_t *)out.data, out.len, &m, &why));
    buf_free(&out);
}

static void mechs_list(void **state)
{
    struct buf out;
    buf_init(&out, 0);
    struct ipc_builder b;
    ipc_build_begin(&b, &out, IPC_AUTH_MECHS, 3);
    ipc_put_str(&b, IPC_T_SERVICE, "smtp");
    ipc_put_flag(&b, IPC_T_AVAILABLE);
    ipc_put_str(&b, IPC_T_MECH, "PLAIN");
    ipc_put_u32(&b, IPC_T_MECH_FLAGS, 1);
    ipc_put_str(&b, IPC_T_MECH, "SCRAM-SHA-256");
    ipc_put_u32(&b, IPC_T_MECH_FLAGS, 8);
    assert_true(ipc_build_end(&b));
    struct ipc_msg m;
    const char *why;
    assert_true(ipc_msg_parse((uint8_t *)out.data, out.len, &m, &why));
    assert_int_equal(ipc_msg_count(&m, IPC_T_MECH), 2);
    assert_string_equal((const char *)ipc_msg_nth(&m, IPC_T_MECH, 1)->data, "SCRAM-SHA-256");
    assert_null(ipc_msg_nth(&m, IPC_T_MECH, 2));
    ipc_msg_free(&m);
    buf_free(&out);
}

static void overflow_drops_the_frame(void **state)
{
    struct buf out;
    buf_init(&out, 64);
    assert_true(buf_puts(&out, "keep"));
    struct ipc_builder b;
    ipc_build_begin(&b, &out, IPC_AUTH_CHALLENGE, 3);
    uint8_t big[100] = { 0 };
    ipc_put_bytes(&b, IPC_T_DATA, big, sizeof(big));
    assert_false(ipc_build_end(&b));
    assert_int_equal(out.len, 4);
    assert_string_equal(buf_cstr(&out), "keep");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(empty_data_is_present),
        cmocka_unit_test(scan_needs_more),
        cmocka_unit_test(scan_refuses_impossible_lengths),
        cmocka_unit_test(parser_refusals),
        cmocka_unit_test(header_length_must_match),
        cmocka_unit_test(mechs_list),
        cmocka_unit_test(overflow_drops_the_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
