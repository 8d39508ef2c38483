/* Lookup tables: every type, their file formats, errors and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "maps/maps.h"

static char tmpdir[] = "/tmp/gp-maps-XXXXXX";

/* Writes a table file under the test directory; returns its path (static). */
static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

struct probe {
    const char *key;
    enum map_status status;
    const char *value;      /* expected for MAP_FOUND */
};

static void check_probes(struct map *m, const struct probe *p, size_t n)
{
    struct buf v;
    buf_init(&v, 0);
    for (size_t i = 0; i < n; i++) {
        enum map_status st = map_lookup(m, p[i].key, &v);
        if (st != p[i].status)
            fail_msg("%s: key \"%s\": status %d, want %d", map_spec(m), p[i].key, st,
                     p[i].status);
        if (st == MAP_FOUND)
            assert_string_equal(buf_cstr(&v), p[i].value);
    }
    buf_free(&v);
}

static struct map *must_open(const char *spec, unsigned flags)
{
    char *why = NULL;
    struct map *m = map_open(spec, flags, &why);
    if (m == NULL)
        fail_msg("open %s: %s", spec, why);
    return m;
}

static struct map *must_text(const char *type, const char *text)
{
    char *why = NULL;
    struct map *m = map_open_text(type, text, "test", MAP_FOLD_CASE, &why);
    if (m == NULL)
        fail_msg("%s text: %s", type, why);
    return m;
}

/* Expects open to fail with a message containing want. */
static void expect_open_error(const char *spec, const char *want)
{
    char *why = NULL;
    struct map *m = map_open(spec, MAP_FOLD_CASE, &why);
    if (m != NULL)
        fail_msg("open %s: unexpectedly succeeded", spec);
    assert_non_null(why);
    if (strstr(why, want) == NULL)
        fail_msg("open %s: message \"%s\" lacks \"%s\"", spec, why, want);
    free(why);
}

static void expect_text_error(const char *type, const char *text, const char *want)
{
    char *why = NULL;
    struct map *m = map_open_text(type, text, "t.cf", MAP_FOLD_CASE, &why);
    if (m != NULL)
        fail_msg("%s \"%s\": unexpectedly parsed", type, text);
    if (why == NULL || strstr(why, want) == NULL)
        fail_msg("%s \"%s\": message \"%s\" lacks \"%s\"", type, text, why ? why : "(none)",
                 want);
    free(why);
}

static void texthash_file(void **state)
{
    const char *path = write_file("access",
        "# access table\n"
        "Localhost       RELAY\n"
        "127.0.0.1\tRELAY\n"
        "\n"
        "spammer@example.com   REJECT  go away  \n"
        "multi   first part\n"
        "   # a comment inside a continuation\n"
        "    second part\n"
        "localhost       OK\n");
    char spec[300];
    snprintf(spec, sizeof(spec), "texthash:%s", path);
    struct map *m = must_open(spec, MAP_FOLD_CASE);
    const struct probe p[] = {
        { "localhost", MAP_FOUND, "RELAY" },        /* first of a duplicate wins */
        { "LOCALHOST", MAP_FOUND, "RELAY" },        /* folded */
        { "127.0.0.1", MAP_FOUND, "RELAY" },
        { "Spammer@Example.COM", MAP_FOUND, "REJECT  go away" },
        { "multi", MAP_FOUND, "first part    second part" },
        { "127.0.0", MAP_NOTFOUND, NULL },
        { "", MAP_NOTFOUND, NULL },
    };
    check_probes(m, p, sizeof(p) / sizeof(p[0]));
    assert_false(map_is_pattern(m));
    assert_string_equal(map_spec(m), spec);
    map_close(m);

    /* Without folding the keys keep their case. */
    m = must_open(spec, 0);
    const struct probe q[] = {
        { "Localhost", MAP_FOUND, "RELAY" },
        { "localhost", MAP_FOUND, "OK" },
    };
    check_probes(m, q, 2);
    map_close(m);
}

static void texthash_errors(void **state)
{
    expect_text_error("texthash", "a b\nlonely\n", "t.cf:2: expected format: key whitespace value");
    expect_text_error("texthash", "# c\n  leading x\n", "t.cf:2: logical line must not start with whitespace");
    char spec[300];
    snprintf(spec, sizeof(spec), "texthash:%s/missing", tmpdir);
    expect_open_error(spec, "No such file or directory");
    expect_open_error("texthash:relative/path", "need an absolute path name");
    snprintf(spec, sizeof(spec), "texthash:%s", tmpdir);
    expect_open_error(spec, "Is a directory");
}

static void inline_and_static(void **state)
{
    struct map *m = must_open("inline:{ a=1, B=2, { c = two words }, {d=x=y} }", MAP_FOLD_CASE);
    const struct probe p[] = {
        { "a", MAP_FOUND, "1" }, { "b", MAP_FOUND, "2" }, { "C", MAP_FOUND, "two words" },
        { "d", MAP_FOUND, "x=y" }, { "e", MAP_NOTFOUND, NULL },
    };
    check_probes(m, p, sizeof(p) / sizeof(p[0]));
    map_close(m);

    expect_open_error("inline:{a=1, c}", "missing '=' after attribute name");
    expect_open_error("inline:{}", "bad syntax");
    expect_open_error("inline:a=1", "bad syntax");
    expect_open_error("inline:{ {a=1 }", "unbalanced");

    m = must_open("static:{value with spaces}", MAP_FOLD_CASE);
    const struct probe s[] = { { "anything", MAP_FOUND, "value with spaces" } };
    check_probes(m, s, 1);
    map_close(m);
    m = must_open("static:OK", 0);
    const struct probe s2[] = { { "x", MAP_FOUND, "OK" } };
    check_probes(m, s2, 1);
    map_close(m);
    expect_open_error("static:", "need \"type:name\"");
}

static void fail_proxy_unix(void **state)
{
    struct map *m = must_open("fail:broken", 0);
    const struct probe f[] = { { "x", MAP_ERROR, NULL } };
    check_probes(m, f, 1);
    map_close(m);

    m = must_open("proxy:unix:passwd.byname", MAP_FOLD_CASE);
    assert_string_equal(map_spec(m), "proxy:unix:passwd.byname");
    struct buf v;
    buf_init(&v, 0);
    assert_int_equal(map_lookup(m, "ROOT", &v), MAP_FOUND);
    assert_true(strncmp(buf_cstr(&v), "root:", 5) == 0);
    assert_non_null(strstr(buf_cstr(&v), ":0:0:"));
    assert_int_equal(map_lookup(m, "no-such-user-gp", &v), MAP_NOTFOUND);
    map_close(m);

    m = must_open("unix:group.byname", 0);
    assert_int_equal(map_lookup(m, "root", &v), MAP_FOUND);
    assert_true(strncmp(buf_cstr(&v), "root:", 5) == 0);
    map_close(m);
    buf_free(&v);
    expect_open_error("unix:shadow.byname", "unknown table");
    expect_open_error("proxy:proxy:unix:passwd.byname", "cannot be nested");
}

static void unsupported_and_unknown(void **state)
{
    expect_open_error("hash:/etc/postfix/access", "table type hash: is not supported by gatepost yet");
    expect_open_error("btree:/var/lib/drac/dracd", "table type btree: is not supported by gatepost yet");
    expect_open_error("ldap:/etc/postfix/ldap.cf", "table type ldap: is not supported by gatepost yet");
    expect_open_error("proxy:mysql:/etc/x.cf", "table type mysql: is not supported by gatepost yet");
    expect_open_error("bogus:x", "unknown table type \"bogus\"");
    expect_open_error("nocolon", "need \"type:name\"");
    expect_open_error(":x", "need \"type:name\"");
    assert_true(map_type_supported("texthash:/x"));
    assert_true(map_type_supported("proxy:unix:passwd.byname"));
    assert_false(map_type_supported("hash:/x"));
    assert_false(map_type_supported("proxy:hash:/x"));
    assert_false(map_type_supported("x"));
}

static void regexp_table(void **state)
{
    struct map *m = must_text("regexp",
        "# from regexp_table(5)\n"
        "/^(.*)-outgoing@(.*)$/  550 Use ${1}@${2} instead\n"
        "if !/^owner-/\n"
        "/^a(b)?c/ got[$1]$$\n"
        "if /z$/\n"
        "/^az/ nested\n"
        "endif\n"
        "endif\n"
        "/^X/ upper\n"
        "/^Y/i caseonly\n"
        "|^pipe| delimited\n"
        "/a\\/b/ slash\n"
        "!/@/ noat\n");
    assert_true(map_is_pattern(m));
    const struct probe p[] = {
        { "foo-outgoing@ex.com", MAP_FOUND, "550 Use foo@ex.com instead" },
        { "ac", MAP_FOUND, "got[]$" },
        { "ABC", MAP_FOUND, "got[B]$" },
        { "owner-abc", MAP_FOUND, "noat" },
        { "az", MAP_FOUND, "nested" },
        { "azq@x", MAP_NOTFOUND, NULL },
        { "x", MAP_FOUND, "upper" },
        { "y", MAP_FOUND, "noat" },
        { "Y", MAP_FOUND, "caseonly" },
        { "pipe@x", MAP_FOUND, "delimited" },
        { "a/b@x", MAP_FOUND, "slash" },
        { "nothing@", MAP_NOTFOUND, NULL },
    };
    check_probes(m, p, sizeof(p) / sizeof(p[0]));
    map_close(m);

    /* POSIX-like: '.' crosses newlines and '$' is the very end unless 'm'. */
    m = must_text("regexp", "/^a.b$/ dot\n/^c$/ end\n/^d$/m multi\n");
    const struct probe q[] = {
        { "a\nb", MAP_FOUND, "dot" },
        { "c\n", MAP_NOTFOUND, NULL },
        { "c", MAP_FOUND, "end" },
        { "x\nd\ny", MAP_FOUND, "multi" },
    };
    check_probes(m, q, 4);
    map_close(m);
}

static void pcre_table(void **state)
{
    struct map *m = must_open("pcre:{{/^([a-z0-9][a-z0-9._-]*)(\\+[^@]*)?@localhost$/ ${1}/}}", 0);
    const struct probe p[] = {
        { "alice@localhost", MAP_FOUND, "alice/" },
        { "bob+tag@localhost", MAP_FOUND, "bob/" },
        { "BOB@LOCALHOST", MAP_FOUND, "BOB/" },
        { "-x@localhost", MAP_NOTFOUND, NULL },
        { "alice@example.com", MAP_NOTFOUND, NULL },
    };
    check_probes(m, p, sizeof(p) / sizeof(p[0]));
    map_close(m);

    m = must_text("pcre", "/^a.b$/ nodot\n/^c.d$/s dot\n/^E/ insensitive\n/^f/i sensitive\n"
                          "/ g h /x extended\n/^(a+)(a*)$/U ungreedy $1,$2\n");
    const struct probe q[] = {
        { "a\nb", MAP_NOTFOUND, NULL },
        { "c\nd", MAP_FOUND, "dot" },
        { "e", MAP_FOUND, "insensitive" },
        { "F", MAP_NOTFOUND, NULL },
        { "f", MAP_FOUND, "sensitive" },
        { "gh", MAP_FOUND, "extended" },
        { "aaa", MAP_FOUND, "ungreedy a,aa" },
    };
    check_probes(m, q, sizeof(q) / sizeof(q[0]));
    map_close(m);

    m = must_open("regexp:{ {/^z/ zed}, {/^y/ why} }", 0);
    const struct probe r[] = { { "zz", MAP_FOUND, "zed" }, { "yy", MAP_FOUND, "why" } };
    check_probes(m, r, 2);
    map_close(m);
    m = must_open("pcre:{}", 0);
    const struct probe e[] = { { "x", MAP_NOTFOUND, NULL } };
    check_probes(m, e, 1);
    map_close(m);
}

static void pattern_errors(void **state)
{
    static const struct { const char *type, *text, *want; } cases[] = {
        { "regexp", "/x/ ok\n/x/\n", "t.cf:2: no replacement text" },
        { "regexp", "/(x)/ $2\n", "t.cf:1: out of range replacement index \"2\"" },
        { "regexp", "!/(y)/ $1\n", "$number found in negative match replacement text" },
        { "regexp", "/x\n", "no closing regexp delimiter \"/\"" },
        { "regexp", "/x/q r\n", "unknown regexp option \"q\"" },
        { "regexp", "/x/x r\n", "POSIX basic syntax" },
        { "pcre", "/x/q r\n", "unknown PCRE option \"q\"" },
        { "regexp", "/a/ b\nendif\n", "t.cf:2: ENDIF without matching IF" },
        { "regexp", "if /x/\n/y/ z\n", "t.cf:1: IF has no matching ENDIF" },
        { "regexp", "/[/ r\n", "t.cf:1: error in regular expression" },
        { "regexp", "x r\n", "expected a /pattern/" },
        { "regexp", "/x/ r $\n", "bad replacement syntax" },
        { "regexp", "/x/ ${1\n", "truncated" },
        { "regexp", "/x/ $name\n", "non-numeric replacement index" },
        { "regexp", "if /x/ extra\nendif\n", "extra text after IF pattern" },
        { "pcre", "/(a)/ $100\n", "out of range replacement index" },
        { "cidr", "192.0.2.1/24 ok\n", "non-null host address bits in \"192.0.2.1/24\", perhaps you should use \"192.0.2.0/24\" instead" },
        { "cidr", "192.0.2.0/33 ok\n", "t.cf:1: bad mask length in \"192.0.2.0/33\"" },
        { "cidr", "a\n192.0.2.0/24\n", "bad address pattern" },
        { "cidr", "192.0.2.0/24\n", "t.cf:1: no lookup result" },
        { "cidr", "endif\n", "ENDIF without matching IF" },
        { "cidr", "if 10.0.0.0/8\n", "IF has no matching ENDIF" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_text_error(cases[i].type, cases[i].text, cases[i].want);
    expect_open_error("regexp:{/x/ y}", "no '{' at start of text");
    expect_open_error("pcre:{{/x/ y}", "missing '}' in");
    expect_open_error("pcre:x.pcre", "need an absolute path");
    expect_open_error("pcre:{ {/x/ y} } junk", "need \"pcre:{ {rule}");
    expect_open_error("texthash:{a b}", "inline {...} form is not available");
}

static void nesting_limit(void **state)
{
    struct buf t;
    buf_init(&t, 0);
    for (int i = 0; i < 70; i++)
        buf_puts(&t, "if /a/\n");
    expect_text_error("regexp", buf_cstr(&t), "IF nesting is too deep");
    buf_free(&t);
}

static void cidr_table(void **state)
{
    char spec[300];
    snprintf(spec, sizeof(spec), "cidr:%s",
             write_file("clients.cidr",
                        "192.0.2.0/24        net\n"
                        "[2001:db8::]/32     six\n"
                        "198.51.100.7        exact\n"
                        "if 203.0.113.0/24\n"
                        "!203.0.113.0/25     upper-half\n"
                        "endif\n"
                        "if !10.0.0.0/8\n"
                        "0.0.0.0/0           other-v4\n"
                        "endif\n"
                        "::/0                other-v6\n"));
    struct map *m = must_open(spec, MAP_FOLD_CASE);
    assert_true(map_is_pattern(m));
    const struct probe p[] = {
        { "192.0.2.77", MAP_FOUND, "net" },
        { "2001:db8::5", MAP_FOUND, "six" },
        { "[2001:DB8::5]", MAP_FOUND, "six" },
        { "198.51.100.7", MAP_FOUND, "exact" },
        { "198.51.100.8", MAP_FOUND, "other-v4" },
        { "203.0.113.200", MAP_FOUND, "upper-half" },
        { "203.0.113.5", MAP_FOUND, "other-v4" },
        { "10.1.2.3", MAP_NOTFOUND, NULL },
        { "::ffff:192.0.2.1", MAP_FOUND, "net" },
        { "fe80::1", MAP_FOUND, "other-v6" },
        { "not-an-address", MAP_NOTFOUND, NULL },
        { "192.0.2", MAP_NOTFOUND, NULL },
    };
    check_probes(m, p, sizeof(p) / sizeof(p[0]));
    map_close(m);
    m = must_open("cidr:{{127.0.0.0/8 loop}, {[::1]/128 loop6}}", 0);
    const struct probe q[] = { { "127.9.9.9", MAP_FOUND, "loop" }, { "::1", MAP_FOUND, "loop6" } };
    check_probes(m, q, 2);
    map_close(m);
}

static void key_length_limit(void **state)
{
    char key[1100];
    memset(key, 'a', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    struct map *m = must_open("static:found", 0);
    struct buf v;
    buf_init(&v, 0);
    key[1024] = '\0';
    assert_int_equal(map_lookup(m, key, &v), MAP_FOUND);
    key[1024] = 'a';
    key[1025] = '\0';
    assert_int_equal(map_lookup(m, key, &v), MAP_NOTFOUND);
    map_close(m);
    buf_free(&v);
}

static void value_buffer_cap(void **state)
{
    struct map *m = must_open("static:{a long value}", 0);
    struct buf v;
    buf_init(&v, 4);
    assert_int_equal(map_lookup(m, "k", &v), MAP_ERROR);
    map_close(m);
    buf_free(&v);
}

static void maplist_order(void **state)
{
    char *why = NULL;
    struct maplist *ml = maplist_open("inline:{a=first}, inline:{a=second, b=2} static:last",
                                      MAP_FOLD_CASE, &why);
    assert_non_null(ml);
    assert_int_equal(maplist_count(ml), 3);
    assert_false(maplist_is_empty(ml));
    assert_string_equal(map_spec(maplist_get(ml, 2)), "static:last");
    assert_null(maplist_get(ml, 3));
    struct buf v;
    buf_init(&v, 0);
    assert_int_equal(maplist_lookup(ml, "A", &v), MAP_FOUND);
    assert_string_equal(buf_cstr(&v), "first");
    assert_int_equal(maplist_lookup(ml, "b", &v), MAP_FOUND);
    assert_string_equal(buf_cstr(&v), "2");
    assert_int_equal(maplist_lookup(ml, "c", &v), MAP_FOUND);
    assert_string_equal(buf_cstr(&v), "last");
    maplist_close(ml);

    /* An error stops the search: a broken table is never "not found". */
    ml = maplist_open("inline:{a=1} fail:x static:never", 0, &why);
    assert_int_equal(maplist_lookup(ml, "a", &v), MAP_FOUND);
    assert_int_equal(maplist_lookup(ml, "b", &v), MAP_ERROR);
    maplist_close(ml);

    ml = maplist_open("  ", 0, &why);
    assert_non_null(ml);
    assert_true(maplist_is_empty(ml));
    assert_int_equal(maplist_lookup(ml, "a", &v), MAP_NOTFOUND);
    maplist_close(ml);

    assert_null(maplist_open("inline:{a=1}, hash:/etc/aliases", 0, &why));
    assert_non_null(strstr(why, "hash: is not supported"));
    free(why);
    buf_free(&v);
}

static int setup(void **state)
{
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(texthash_file),
        cmocka_unit_test(texthash_errors),
        cmocka_unit_test(inline_and_static),
        cmocka_unit_test(fail_proxy_unix),
        cmocka_unit_test(unsupported_and_unknown),
        cmocka_unit_test(regexp_table),
        cmocka_unit_test(pcre_table),
        cmocka_unit_test(pattern_errors),
        cmocka_unit_test(nesting_limit),
        cmocka_unit_test(cidr_table),
        cmocka_unit_test(key_length_limit),
        cmocka_unit_test(value_buffer_cap),
        cmocka_unit_test(maplist_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
