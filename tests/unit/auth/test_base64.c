/* Strict base64: RFC 4648 test vectors, and every non-canonical form is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/base64.h"

/* RFC 4648 section 10. */
static const struct { const char *plain, *enc; } vectors[] = {
    { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void rfc4648_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        struct buf b;
        buf_init(&b, 0);
        assert_true(base64_encode(vectors[i].plain, strlen(vectors[i].plain), &b));
        assert_string_equal(buf_cstr(&b), vectors[i].enc);
        buf_reset(&b);
        assert_true(base64_decode(vectors[i].enc, strlen(vectors[i].enc), &b));
        assert_int_equal(b.len, strlen(vectors[i].plain));
        assert_memory_equal(buf_cstr(&b), vectors[i].plain, b.len);
        assert_int_equal(base64_encoded_len(strlen(vectors[i].plain)), strlen(vectors[i].enc));
        buf_free(&b);
    }
}

static void binary_round_trip(void **state)
{
    uint8_t all[256], back[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    for (size_t n = 0; n <= sizeof(all); n++) {
        char enc[400];
        size_t len;
        base64_encode_to(all, n, enc);
        assert_int_equal(strlen(enc), base64_encoded_len(n));
        assert_true(base64_decode_to(enc, strlen(enc), back, sizeof(back), &len));
        assert_int_equal(len, n);
        assert_memory_equal(back, all, n);
    }
}

static void refuses_non_canonical(void **state)
{
    static const char *const bad[] = {
        "Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v====",
        "Zh==",         /* unused bits not zero */
        "Zm9=",         /* unused bits not zero */
        "Zg==Zm9v",     /* padding in the middle */
        "Zm=v", "Zm-v", "Zm_v", "Zm9\x80", "Zm9v\r\n", "=Zm9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf b;
        buf_init(&b, 0);
        assert_true(buf_puts(&b, "keep"));
        assert_false(base64_decode(bad[i], strlen(bad[i]), &b));
        assert_string_equal(buf_cstr(&b), "keep");     /* unchanged, still terminated */
        buf_free(&b);
        uint8_t out[16];
        size_t len;
        assert_false(base64_decode_to(bad[i], strlen(bad[i]), out, sizeof(out), &len));
    }
}

static void respects_caps(void **state)
{
    struct buf b;
    buf_init(&b, 3);
    assert_true(base64_decode("Zm9v", 4, &b));        /* exactly 3 bytes fit */
    assert_false(base64_decode("Zg==", 4, &b));       /* one more does not */
    assert_int_equal(b.len, 3);
    buf_free(&b);
    buf_init(&b, 4);
    assert_true(base64_decode("Zm9vYg==", 8, &b));    /* padding counted exactly */
    assert_false(base64_encode("foo", 3, &b));
    assert_int_equal(b.len, 4);
    buf_free(&b);
    uint8_t out[2];
    size_t len;
    assert_false(base64_decode_to("Zm9v", 4, out, sizeof(out), &len));
    assert_true(base64_decode_to("Zm8=", 4, out, sizeof(out), &len));
    assert_int_equal(len, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4648_vectors),
        cmocka_unit_test(binary_round_trip),
        cmocka_unit_test(refuses_non_canonical),
        cmocka_unit_test(respects_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
