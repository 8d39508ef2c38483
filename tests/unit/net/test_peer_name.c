/*
 * The client name taken from a PTR record: cleaned up when it is a host
 * name, refused (client "unknown", with a warning) when it is numeric,
 * malformed or too long, as Postfix does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "net/resolver.h"

static bool check(const char *ptr, char *name, char *warning)
{
    return peer_name_from_ptr(ptr, "192.0.2.7", name, warning, 640);
}

static void host_names_are_kept_lower_case_without_the_root_dot(void **state)
{
    char name[PEER_NAME_MAX], warning[640] = "";
    assert_true(check("Mail-1.Example.ORG.", name, warning));
    assert_string_equal(name, "mail-1.example.org");
    assert_true(check("_spf.x1.example", name, warning));
    assert_string_equal(name, "_spf.x1.example");
    assert_true(check("localhost", name, warning));
    assert_string_equal(name, "localhost");
    assert_string_equal(warning, "");
}

static void numeric_names_are_no_names(void **state)
{
    char name[PEER_NAME_MAX], warning[640];
    assert_false(check("192.0.2.7.", name, warning));
    assert_string_equal(name, "unknown");
    assert_string_equal(warning, "numeric hostname: 192.0.2.7");
    assert_false(check("2001:DB8::7", name, warning));
    assert_string_equal(warning, "numeric hostname: 2001:db8::7");
    /* All-numeric labels that are no address are still no host name. */
    assert_false(check("1.2.3", name, warning));
    assert_string_equal(warning, "hostname 1.2.3 for address 192.0.2.7: malformed name");
}

static void malformed_names_are_no_names(void **state)
{
    char name[PEER_NAME_MAX], warning[640];
    static const char *const bad[] = { "a/b.example", "-lead.example", "trail-.example",
                                       "a..b.example", ".", "sp ace.example", "x.example..",
                                       "tab\t.example", "\xc3\xa9t\xc3\xa9.example" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(check(bad[i], name, warning));
        assert_string_equal(name, "unknown");
        assert_non_null(strstr(warning, "malformed name"));
        for (const char *p = warning; *p; p++)
            assert_true(*p >= ' ' && *p < 0x7f);    /* nothing unprintable reaches the log */
    }
}

static void length_limits(void **state)
{
    char name[PEER_NAME_MAX], warning[640], ptr[400];
    /* A 64-byte label is one too many. */
    memset(ptr, 'a', 64);
    strcpy(ptr + 64, ".example");
    assert_false(check(ptr, name, warning));
    strcpy(ptr + 63, ".example");
    assert_true(check(ptr, name, warning));
    /* 255 bytes in all is the most a name may have, 256 too many. */
    for (int i = 0; i < 255; i++)
        ptr[i] = i % 2 ? '.' : 'a';
    ptr[255] = '\0';
    ptr[254] = 'b';
    assert_true(check(ptr, name, warning));
    assert_int_equal(strlen(name), 255);
    ptr[255] = 'c';
    ptr[256] = '\0';
    assert_false(check(ptr, name, warning));
    assert_string_equal(name, "unknown");
    memset(ptr, 'a', 399);
    ptr[399] = '\0';
    assert_false(check(ptr, name, warning));
    assert_non_null(strstr(warning, "name too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_names_are_kept_lower_case_without_the_root_dot),
        cmocka_unit_test(numeric_names_are_no_names),
        cmocka_unit_test(malformed_names_are_no_names),
        cmocka_unit_test(length_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
