/*
 * Dovecot auth protocol lines: unescaping, the handshake's VERSION and
 * MECH lines, OK/CONT/FAIL replies (and what makes them malformed), and
 * the AUTH/CONT requests we write, byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auth/dovecot_proto.h"
#include "auth/mech.h"

static bool split(const char *text, char *store, size_t size, struct dovecot_line *l,
                  const char **why)
{
    snprintf(store, size, "%s", text);
    return dovecot_split(store, l, why);
}

static void split_and_unescape(void **state)
{
    char s[256];
    struct dovecot_line l;
    const char *why = NULL;
    assert_true(split("FAIL\t7\treason=a\001tb\001nc\0011d\001r\tuser=x", s, sizeof(s), &l, &why));
    assert_int_equal(l.argc, 4);
    assert_string_equal(l.argv[0], "FAIL");
    assert_string_equal(l.argv[2], "reason=a\tb\nc\001d\r");
    assert_string_equal(l.argv[3], "user=x");
    assert_true(split("X\ta\001lb\001zc", s, sizeof(s), &l, &why));
    assert_string_equal(l.argv[1], "a\nbzc");
    assert_false(split("X\ta\0010b", s, sizeof(s), &l, &why));   /* escaped NUL */
    assert_false(split("X\tab\001", s, sizeof(s), &l, &why));    /* dangling escape */
    char many[512] = "X";
    for (int i = 0; i < DOVECOT_ARGS_MAX; i++)
        strcat(many, "\ta");
    assert_false(split(many, s, sizeof(s), &l, &why));
    assert_non_null(strstr(why, "too many"));
}

static void version_and_mechs(void **state)
{
    char s[256];
    struct dovecot_line l;
    const char *why;
    split("VERSION\t1\t2", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_version(&l, &why));
    split("VERSION\t2\t0", s, sizeof(s), &l, &why);
    assert_false(dovecot_parse_version(&l, &why));
    split("SPID\t12", s, sizeof(s), &l, &why);
    assert_false(dovecot_parse_version(&l, &why));
    const char *name;
    unsigned flags;
    bool usable;
    split("MECH\tCRAM-MD5\tdictionary\tactive", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_mech(&l, &name, &flags, &usable, &why));
    assert_string_equal(name, "CRAM-MD5");
    assert_int_equal(flags, MECH_DICTIONARY | MECH_ACTIVE);
    assert_true(usable);
    split("MECH\tSCRAM-SHA-256\tmutual-auth\tnewflag", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_mech(&l, &name, &flags, &usable, &why));
    assert_int_equal(flags, MECH_MUTUAL_AUTH);
    split("MECH\tEXTERNAL\tprivate", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_mech(&l, &name, &flags, &usable, &why));
    assert_false(usable);
    split("MECH\tNOT A NAME", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_mech(&l, &name, &flags, &usable, &why));
    assert_false(usable);
    split("MECH", s, sizeof(s), &l, &why);
    assert_false(dovecot_parse_mech(&l, &name, &flags, &usable, &why));
}

static void replies(void **state)
{
    char s[256];
    struct dovecot_line l;
    struct dovecot_reply d;
    bool is;
    const char *why;
    split("OK\t12\tuser=alice\tfoo=bar", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_reply(&l, &d, &is, &why));
    assert_true(is);
    assert_int_equal(d.kind, DOVECOT_REPLY_OK);
    assert_int_equal(d.id, 12);
    assert_string_equal(d.user, "alice");
    split("CONT\t3\tVXNlcm5hbWU6", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_reply(&l, &d, &is, &why));
    assert_int_equal(d.kind, DOVECOT_REPLY_CONT);
    assert_string_equal(d.data, "VXNlcm5hbWU6");
    split("FAIL\t4\tuser=bob\treason=bad\001tthing\ttemp", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_reply(&l, &d, &is, &why));
    assert_int_equal(d.kind, DOVECOT_REPLY_FAIL);
    assert_true(d.temporary);
    assert_string_equal(d.user, "bob");
    assert_string_equal(d.reason, "bad?thing");        /* made printable for the log */
    split("FAIL\t5\tcode=temp_fail", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_reply(&l, &d, &is, &why));
    assert_true(d.temporary);
    assert_null(d.reason);
    split("NOTIFY\tx", s, sizeof(s), &l, &why);
    assert_true(dovecot_parse_reply(&l, &d, &is, &why));
    assert_false(is);
    /* malformed */
    static const char *const bad[] = {
        "OK\t12", "OK", "OK\t0\tuser=a", "OK\t-1\tuser=a", "OK\t4294967296\tuser=a",
        "OK\t12x\tuser=a", "OK\t1\tuser=", "FAIL\t1\tuser=a\001nb",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        split(bad[i], s, sizeof(s), &l, &why);
        assert_false(dovecot_parse_reply(&l, &d, &is, &why));
    }
}

static void auth_request_line(void **state)
{
    struct buf out;
    buf_init(&out, 0);
    struct auth_start_info i = {
        .mech = "PLAIN", .client_addr = "[2001:db8::7]", .client_port = 40001,
        .local_addr = "192.0.2.1", .local_port = 587, .secured = true,
        .initial = (const uint8_t *)"\0a\0b", .initial_len = 4, .has_initial = true,
    };
    const char *why;
    assert_true(dovecot_format_auth(&out, 9, "smtp\tx", &i, &why));
    assert_string_equal(buf_cstr(&out),
                        "AUTH\t9\tPLAIN\tservice=smtp\001tx\tnologin\tlip=192.0.2.1"
                        "\trip=2001:db8::7\tlport=587\trport=40001\tsecured\tresp=AGEAYg==\n");
    buf_reset(&out);
    struct auth_start_info bare = { .mech = "LOGIN", .client_addr = "" };
    assert_true(dovecot_format_auth(&out, 10, "smtp", &bare, &why));
    assert_string_equal(buf_cstr(&out), "AUTH\t10\tLOGIN\tservice=smtp\tnologin\n");
    buf_reset(&out);
    struct auth_start_info empty = { .mech = "PLAIN", .has_initial = true };
    assert_true(dovecot_format_auth(&out, 11, "smtp", &empty, &why));
    assert_string_equal(buf_cstr(&out), "AUTH\t11\tPLAIN\tservice=smtp\tnologin\tresp=\n");
    buf_reset(&out);
    assert_true(dovecot_format_cont(&out, 11, (const uint8_t *)"alice", 5, &why));
    assert_string_equal(buf_cstr(&out), "CONT\t11\tYWxpY2U=\n");
    buf_free(&out);
}

static void too_long_for_dovecot(void **state)
{
    struct buf out;
    buf_init(&out, 0);
    assert_true(buf_puts(&out, "keep"));
    static uint8_t big[DOVECOT_LINE_MAX];
    struct auth_start_info i = { .mech = "PLAIN", .initial = big, .initial_len = sizeof(big),
                                 .has_initial = true };
    const char *why = NULL;
    assert_false(dovecot_format_auth(&out, 1, "smtp", &i, &why));
    assert_non_null(why);
    assert_string_equal(buf_cstr(&out), "keep");
    assert_false(dovecot_format_cont(&out, 1, big, sizeof(big), &why));
    assert_string_equal(buf_cstr(&out), "keep");
    /* the largest response that still fits */
    size_t fit = (DOVECOT_LINE_MAX - 16) / 4 * 3;
    assert_true(dovecot_format_cont(&out, 1, big, fit, &why));
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_and_unescape),
        cmocka_unit_test(version_and_mechs),
        cmocka_unit_test(replies),
        cmocka_unit_test(auth_request_line),
        cmocka_unit_test(too_long_for_dovecot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
