/*
 * CRAM-MD5: our MD5 against RFC 1321's suite, HMAC-MD5 from the
 * precomputed state against RFC 2202, RFC 2195's example exchange, the
 * storage form, and malformed or refused responses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auth/cram_md5.h"
#include "auth/mech.h"
#include "fake_store.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void md5_rfc1321_suite(void **state)
{
    static const struct { const char *msg, *digest; } v[] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t d[16];
        char h[33];
        cram_md5_md5(v[i].msg, strlen(v[i].msg), d);
        hex(d, 16, h);
        assert_string_equal(h, v[i].digest);
    }
}

static void hmac_rfc2202_vectors(void **state)
{
    uint8_t key1[16], key3[16], data3[50], key6[80];
    memset(key1, 0x0b, sizeof(key1));
    memset(key3, 0xaa, sizeof(key3));
    memset(data3, 0xdd, sizeof(data3));
    memset(key6, 0xaa, sizeof(key6));
    static const char data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    const struct { const uint8_t *key; size_t klen; const void *data; size_t dlen; const char *mac; } v[] = {
        { key1, 16, "Hi There", 8, "9294727a3638bb1c13f48ef8158bfc9d" },
        { (const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28,
          "750c783e6ab0b503eaa86e310a5db738" },
        { key3, 16, data3, 50, "56be34521d144c88dbb8c733f0e8b3f6" },
        { key6, 80, data6, sizeof(data6) - 1, "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct cram_md5_secret s;
        uint8_t mac[16], packed[32];
        char h[33];
        cram_md5_secret_from_password(v[i].key, v[i].klen, &s);
        cram_md5_hmac(&s, v[i].data, v[i].dlen, mac);
        hex(mac, 16, h);
        assert_string_equal(h, v[i].mac);
        /* The storage form round-trips. */
        struct cram_md5_secret back;
        cram_md5_secret_pack(&s, packed);
        cram_md5_secret_unpack(packed, &back);
        assert_memory_equal(&s, &back, sizeof(s));
    }
}

static const struct fake_user users[] = {
    { "tim", "tanstaaftanstaaf", "QSXCR+Q6sek8bf92", 4096, true, false },
    { "nocram", "tanstaaftanstaaf", "QSXCR+Q6sek8bf92", 4096, false, false },
    { "john doe", "tanstaaftanstaaf", "QSXCR+Q6sek8bf92", 4096, true, false },
};

static const char rfc_challenge[] = "<1896.697170952@postoffice.reston.mci.net>";

/* Runs a whole CRAM-MD5 exchange with the RFC 2195 challenge. */
static enum mech_status cram_once(struct fake_store *fs, const char *response,
                                  struct mech_result *res)
{
    struct mech_request req = fake_request(fs, "");
    const struct mech_ops *ops = mech_find("CRAM-MD5");
    char ch[400];
    cram_md5_test_set_challenge(rfc_challenge);
    struct mech_exchange *x = ops->start(&req);
    assert_int_equal(fake_step(ops, x, NULL, 0, false, ch, sizeof(ch), res), MECH_CONTINUE);
    assert_string_equal(ch, rfc_challenge);
    enum mech_status st = fake_step(ops, x, response, strlen(response), true, ch, sizeof(ch), res);
    ops->free(x);
    cram_md5_test_set_challenge(NULL);
    return st;
}

static void rfc2195_example(void **state)
{
    struct fake_store fs;
    struct mech_result res;
    fake_store_init(&fs, users, 3);
    mech_result_init(&res);
    assert_int_equal(cram_once(&fs, "tim b913a602c7eda7a495b4e6e7334d3890", &res), MECH_SUCCESS);
    assert_string_equal(res.username, "tim");
    assert_int_equal(cram_once(&fs, "tim B913A602C7EDA7A495B4E6E7334D3890", &res), MECH_SUCCESS);
    assert_int_equal(cram_once(&fs, "tim b913a602c7eda7a495b4e6e7334d3891", &res), MECH_FAILURE);
    assert_string_equal(res.reason, "wrong password");
    /* Names with spaces: the digest follows the last space. */
    assert_int_equal(cram_once(&fs, "john doe b913a602c7eda7a495b4e6e7334d3890", &res), MECH_SUCCESS);
    assert_string_equal(res.username, "john doe");
    mech_result_free(&res);
}

static void only_when_enabled(void **state)
{
    struct fake_store fs;
    struct mech_result res;
    fake_store_init(&fs, users, 3);
    mech_result_init(&res);
    /* The right digest for a user without CRAM-MD5 still fails. */
    assert_int_equal(cram_once(&fs, "nocram b913a602c7eda7a495b4e6e7334d3890", &res), MECH_FAILURE);
    assert_non_null(strstr(res.reason, "no secret"));
    assert_int_equal(cram_once(&fs, "ghost b913a602c7eda7a495b4e6e7334d3890", &res), MECH_FAILURE);
    assert_string_equal(res.reason, "unknown user");
    fs.tempfail = true;
    assert_int_equal(cram_once(&fs, "tim b913a602c7eda7a495b4e6e7334d3890", &res), MECH_TEMPFAIL);
    mech_result_free(&res);
}

static void malformed_responses(void **state)
{
    struct fake_store fs;
    struct mech_result res;
    fake_store_init(&fs, users, 3);
    mech_result_init(&res);
    static const char *const bad[] = {
        "", "tim", "timb913a602c7eda7a495b4e6e7334d3890", " b913a602c7eda7a495b4e6e7334d3890",
        "tim b913a602c7eda7a495b4e6e7334d389", "tim b913a602c7eda7a495b4e6e7334d38900",
        "tim b913a602c7eda7a495b4e6e7334d389g", "tim  913a602c7eda7a495b4e6e7334d3890",
        "t\xffm b913a602c7eda7a495b4e6e7334d3890",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cram_once(&fs, bad[i], &res), MECH_FAILURE);
        assert_string_equal(res.reason, "malformed CRAM-MD5 response");
    }
    assert_int_equal(fs.calls, 0);
    /* No initial response: the server speaks first. */
    struct mech_request req = fake_request(&fs, "");
    const struct mech_ops *ops = mech_find("CRAM-MD5");
    struct mech_exchange *x = ops->start(&req);
    char ch[400];
    assert_int_equal(fake_step(ops, x, "tim", 3, true, ch, sizeof(ch), &res), MECH_FAILURE);
    ops->free(x);
    mech_result_free(&res);
}

static void fresh_challenges(void **state)
{
    struct fake_store fs;
    fake_store_init(&fs, users, 3);
    struct mech_request req = fake_request(&fs, "mail.example.org");
    const struct mech_ops *ops = mech_find("CRAM-MD5");
    struct mech_result res;
    mech_result_init(&res);
    char a[400], b[400];
    struct mech_exchange *x = ops->start(&req);
    fake_step(ops, x, NULL, 0, false, a, sizeof(a), &res);
    ops->free(x);
    x = ops->start(&req);
    fake_step(ops, x, "", 0, true, b, sizeof(b), &res);     /* "AUTH CRAM-MD5 =" */
    ops->free(x);
    assert_string_not_equal(a, b);
    assert_true(a[0] == '<' && a[strlen(a) - 1] == '>');
    assert_non_null(strstr(a, "@mail.example.org>"));
    assert_non_null(strchr(a, '.'));
    mech_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(md5_rfc1321_suite),
        cmocka_unit_test(hmac_rfc2202_vectors),
        cmocka_unit_test(rfc2195_example),
        cmocka_unit_test(only_when_enabled),
        cmocka_unit_test(malformed_responses),
        cmocka_unit_test(fresh_challenges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
