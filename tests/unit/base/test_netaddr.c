/* Addresses and CIDR blocks in the forms Postfix configurations use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "base/netaddr.h"

static bool in_block(const char *block, const char *addr)
{
    struct netblock b;
    struct netaddr a;
    const char *why = NULL;
    assert_true(netblock_parse(block, &b, &why));
    assert_true(netaddr_parse(addr, &a));
    return netblock_contains(&b, &a);
}

static void ipv4_blocks(void **state)
{
    assert_true(in_block("127.0.0.0/8", "127.0.0.9"));
    assert_false(in_block("127.0.0.0/8", "128.0.0.1"));
    assert_true(in_block("0.0.0.0/0", "203.0.113.7"));
    assert_true(in_block("192.0.2.1", "192.0.2.1"));
    assert_false(in_block("192.0.2.1", "192.0.2.2"));
    assert_true(in_block("10.1.0.0/17", "10.1.127.255"));
    assert_false(in_block("10.1.0.0/17", "10.1.128.0"));
}

static void ipv6_blocks(void **state)
{
    assert_true(in_block("[::1]/128", "::1"));
    assert_true(in_block("[fe80::]/64", "fe80::1:2"));
    assert_false(in_block("[fe80::]/64", "fe81::1"));
    assert_true(in_block("[::]/0", "2001:db8::5"));
    assert_false(in_block("[::]/0", "192.0.2.1"));   /* families never mix */
    assert_true(in_block("2001:db8::/32", "[2001:db8:1::1]"));
}

static void mapped_v4_is_v4(void **state)
{
    struct netaddr a;
    assert_true(netaddr_parse("::ffff:192.0.2.1", &a));
    assert_int_equal(a.family, AF_INET);
    assert_true(in_block("192.0.2.0/24", "::ffff:192.0.2.1"));
    assert_true(in_block("[::ffff:192.0.2.0]/120", "192.0.2.99"));
}

static void bad_blocks(void **state)
{
    struct netblock b;
    const char *why = NULL;
    assert_false(netblock_parse("192.0.2.1/24", &b, &why));
    assert_string_equal(why, "non-null host address bits");
    assert_false(netblock_parse("192.0.2.0/33", &b, &why));
    assert_false(netblock_parse("192.0.2.0/", &b, &why));
    assert_false(netblock_parse("192.0.2.0/x", &b, &why));
    assert_false(netblock_parse("example.com", &b, &why));
    assert_false(netblock_parse("[::1/128", &b, &why));
    assert_false(netblock_parse("", &b, &why));
}

static void format_roundtrip(void **state)
{
    struct netblock b;
    const char *why;
    char text[64];
    assert_true(netblock_parse("[2001:db8::]/32", &b, &why));
    netblock_format(&b, text, sizeof(text));
    assert_string_equal(text, "[2001:db8::]/32");
    assert_true(netblock_parse("198.51.100.0/24", &b, &why));
    netblock_format(&b, text, sizeof(text));
    assert_string_equal(text, "198.51.100.0/24");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_blocks),
        cmocka_unit_test(ipv6_blocks),
        cmocka_unit_test(mapped_v4_is_v4),
        cmocka_unit_test(bad_blocks),
        cmocka_unit_test(format_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
