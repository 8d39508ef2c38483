/* Postfix's TLS protocol syntax maps to an OpenSSL version range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/ssl.h>

#include "net/tls.h"

static void range(const char *text, int want_min, int want_max)
{
    int min = -1, max = -1;
    const char *why = NULL;
    assert_true(tls_parse_protocols(text, &min, &max, &why));
    assert_int_equal(min, want_min);
    assert_int_equal(max, want_max);
}

static void modern_forms(void **state)
{
    range(">=TLSv1.2", TLS1_2_VERSION, TLS1_3_VERSION);
    range(">=TLSv1.3", TLS1_3_VERSION, TLS1_3_VERSION);
    range(">=TLSv1", TLS1_VERSION, TLS1_3_VERSION);
    range(">=TLSv1.2, <=TLSv1.2", TLS1_2_VERSION, TLS1_2_VERSION);
}

static void exclusion_forms(void **state)
{
    range("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", TLS1_2_VERSION, TLS1_3_VERSION);
    range("!SSLv2 !SSLv3", TLS1_VERSION, TLS1_3_VERSION);
    range("!TLSv1.3", TLS1_VERSION, TLS1_2_VERSION);
}

static void inclusion_forms(void **state)
{
    range("TLSv1.2 TLSv1.3", TLS1_2_VERSION, TLS1_3_VERSION);
    range("TLSv1.3", TLS1_3_VERSION, TLS1_3_VERSION);
    range("SSLv3 TLSv1.2", TLS1_2_VERSION, TLS1_2_VERSION);   /* SSLv3 never */
}

/* A protocol excluded inside the range is switched off by an option. */
static void holes_in_the_range(void **state)
{
    int min, max;
    unsigned long off = 0;
    const char *why = NULL;
    assert_true(tls_parse_protocol_set("!SSLv2, !SSLv3, !TLSv1.2", &min, &max, &off, &why));
    assert_int_equal(min, TLS1_VERSION);
    assert_int_equal(max, TLS1_3_VERSION);
    assert_true(off & SSL_OP_NO_TLSv1_2);
    assert_false(off & SSL_OP_NO_TLSv1_3);
    assert_false(off & SSL_OP_NO_TLSv1_1);
    off = 0;
    assert_true(tls_parse_protocol_set(">=TLSv1.2", &min, &max, &off, &why));
    assert_int_equal(off & (SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3), 0);
    off = 0;
    assert_true(tls_parse_protocol_set("TLSv1 TLSv1.3", &min, &max, &off, &why));
    assert_int_equal(min, TLS1_VERSION);
    assert_int_equal(max, TLS1_3_VERSION);
    assert_true(off & SSL_OP_NO_TLSv1_1);
    assert_true(off & SSL_OP_NO_TLSv1_2);
}

static void errors(void **state)
{
    int min, max;
    const char *why = NULL;
    assert_false(tls_parse_protocols(">=TLSv9", &min, &max, &why));
    assert_string_equal(why, "unknown TLS protocol name");
    assert_false(tls_parse_protocols("!TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3", &min, &max, &why));
    assert_string_equal(why, "no TLS protocol left enabled");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modern_forms),
        cmocka_unit_test(exclusion_forms),
        cmocka_unit_test(inclusion_forms),
        cmocka_unit_test(holes_in_the_range),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
