/* Network and domain lists: Postfix match_list semantics, every item form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "policy/domainlist.h"
#include "policy/netlist.h"

static char tmpdir[] = "/tmp/gp-lists-XXXXXX";

static struct netlist *nl_ok(const char *list, const char *param)
{
    struct diag d;
    diag_init(&d);
    struct netlist *nl = netlist_compile(list, param, "main.cf:7", &d);
    if (nl == NULL) {
        diag_print(&d, stderr);
        fail_msg("netlist \"%s\" did not compile", list);
    }
    diag_free(&d);
    return nl;
}

static enum match_result nl_match(const struct netlist *nl, const char *addr, const char *name)
{
    struct netaddr a;
    if (!netaddr_parse(addr, &a))
        fail_msg("bad test address %s", addr);
    return netlist_match(nl, &a, name);
}

/* The seed scenario: hide AUTH from everyone outside the campus network. */
static void sasl_exceptions_seed(void **state)
{
    struct netlist *nl = nl_ok("!127.0.0.0/8, ![::1]/128, ![fe80::]/64, !192.0.2.0/24, [::]/0, 0.0.0.0/0",
                               "smtpd_sasl_exceptions_networks");
    static const struct { const char *addr; enum match_result want; } cases[] = {
        { "127.0.0.9", MATCH_NO }, { "192.0.2.7", MATCH_NO }, { "198.51.100.1", MATCH_YES },
        { "2001:db8::1", MATCH_YES }, { "::1", MATCH_NO }, { "fe80::1234", MATCH_NO },
        { "::ffff:192.0.2.7", MATCH_NO }, { "::ffff:203.0.113.1", MATCH_YES },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (nl_match(nl, cases[i].addr, "unknown") != cases[i].want)
            fail_msg("%s: want %d", cases[i].addr, cases[i].want);
    assert_false(netlist_is_empty(nl));
    netlist_free(nl);
}

static void first_match_wins(void **state)
{
    struct netlist *nl = nl_ok("192.0.2.1 !192.0.2.0/24 0.0.0.0/0", "mynetworks");
    assert_int_equal(nl_match(nl, "192.0.2.1", NULL), MATCH_YES);
    assert_int_equal(nl_match(nl, "192.0.2.2", NULL), MATCH_NO);
    assert_int_equal(nl_match(nl, "10.0.0.1", NULL), MATCH_YES);
    /* 0.0.0.0/0 is IPv4 only. */
    assert_int_equal(nl_match(nl, "2001:db8::1", NULL), MATCH_NO);
    netlist_free(nl);
    nl = nl_ok("!!192.0.2.0/24", "mynetworks");
    assert_int_equal(nl_match(nl, "192.0.2.2", NULL), MATCH_YES);
    netlist_free(nl);
    nl = nl_ok("2001:db8::/32, [2001:db9::1]", "mynetworks");
    assert_int_equal(nl_match(nl, "2001:db8:ffff::1", NULL), MATCH_YES);
    assert_int_equal(nl_match(nl, "2001:db9::1", NULL), MATCH_YES);
    assert_int_equal(nl_match(nl, "2001:db9::2", NULL), MATCH_NO);
    netlist_free(nl);
    nl = nl_ok("", "mynetworks");
    assert_true(netlist_is_empty(nl));
    assert_int_equal(nl_match(nl, "127.0.0.1", NULL), MATCH_NO);
    netlist_free(nl);
}

static void host_names(void **state)
{
    /* mynetworks is in Postfix's parent_domain_matches_subdomains. */
    struct netlist *nl = nl_ok("example.com, .example.org, Mixed.Case.Test", "mynetworks");
    assert_int_equal(nl_match(nl, "198.51.100.1", "example.com"), MATCH_YES);
    assert_int_equal(nl_match(nl, "198.51.100.1", "mail.example.com"), MATCH_YES);
    assert_int_equal(nl_match(nl, "198.51.100.1", "badexample.com"), MATCH_NO);
    assert_int_equal(nl_match(nl, "198.51.100.1", "example.org"), MATCH_NO);
    assert_int_equal(nl_match(nl, "198.51.100.1", "a.b.example.org"), MATCH_YES);
    assert_int_equal(nl_match(nl, "198.51.100.1", "mixed.case.TEST"), MATCH_YES);
    assert_int_equal(nl_match(nl, "198.51.100.1", "unknown"), MATCH_NO);
    assert_int_equal(nl_match(nl, "198.51.100.1", NULL), MATCH_NO);
    netlist_free(nl);
    /* Not in the list: "example.com" is that name only. */
    nl = nl_ok("example.com", "smtpd_sasl_exceptions_networks");
    assert_int_equal(nl_match(nl, "198.51.100.1", "mail.example.com"), MATCH_NO);
    assert_int_equal(nl_match(nl, "198.51.100.1", "example.com"), MATCH_YES);
    netlist_free(nl);
    struct diag d;
    diag_init(&d);
    nl = netlist_compile_ex("example.com", "x", true, "main.cf:1", &d);
    assert_int_equal(nl_match(nl, "198.51.100.1", "mail.example.com"), MATCH_YES);
    netlist_free(nl);
    diag_free(&d);
}

static void tables_and_files(void **state)
{
    struct netlist *nl = nl_ok("cidr:{{192.0.2.0/24 any}}, !inline:{bad.example=1}, inline:{example=1}",
                               "mynetworks");
    assert_int_equal(nl_match(nl, "192.0.2.9", NULL), MATCH_YES);
    assert_int_equal(nl_match(nl, "198.51.100.1", "host.bad.example"), MATCH_NO);
    assert_int_equal(nl_match(nl, "198.51.100.1", "a.example"), MATCH_YES);
    assert_int_equal(nl_match(nl, "198.51.100.1", NULL), MATCH_NO);
    netlist_free(nl);
    nl = nl_ok("inline:{198.51.100.1=x}", "mynetworks");
    assert_int_equal(nl_match(nl, "198.51.100.1", NULL), MATCH_YES);
    netlist_free(nl);
    nl = nl_ok("fail:broken", "mynetworks");
    assert_int_equal(nl_match(nl, "198.51.100.1", NULL), MATCH_ERROR);
    netlist_free(nl);

    char path[300];
    snprintf(path, sizeof(path), "%s/nets", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# trusted networks\n!10.9.0.0/16\n10.0.0.0/8  # office\n172.16.0.0/12, [2001:db8::]/32\n", f);
    fclose(f);
    char list[400];
    snprintf(list, sizeof(list), "!10.9.9.9 %s", path);
    nl = nl_ok(list, "mynetworks");
    assert_int_equal(nl_match(nl, "10.1.2.3", NULL), MATCH_YES);
    assert_int_equal(nl_match(nl, "10.9.9.9", NULL), MATCH_NO);
    assert_int_equal(nl_match(nl, "10.9.1.1", NULL), MATCH_NO);
    assert_int_equal(nl_match(nl, "172.20.0.1", NULL), MATCH_YES);
    assert_int_equal(nl_match(nl, "2001:db8::1", NULL), MATCH_YES);
    netlist_free(nl);
    /* A negated file negates its items. */
    snprintf(list, sizeof(list), "!%s 0.0.0.0/0", path);
    nl = nl_ok(list, "mynetworks");
    assert_int_equal(nl_match(nl, "10.1.2.3", NULL), MATCH_NO);
    assert_int_equal(nl_match(nl, "10.9.1.1", NULL), MATCH_YES);
    assert_int_equal(nl_match(nl, "8.8.8.8", NULL), MATCH_YES);
    netlist_free(nl);
}

static void compile_errors(void **state)
{
    static const struct { const char *list, *want; } cases[] = {
        { "10.0.0.1/8", "non-null host address bits in \"10.0.0.1/8\", perhaps you should use \"10.0.0.0/8\" instead" },
        { "[2001:db8::1]/32", "perhaps you should use \"[2001:db8::]/32\" instead" },
        { "192.0.2.0/33", "bad network \"192.0.2.0/33\"" },
        { "300.1.2.3", "bad network \"300.1.2.3\"" },
        { "a.b.0.0/16", "bad network \"a.b.0.0/16\"" },
        { "192.168.1", "bad network \"192.168.1\"" },
        { "hash:/etc/postfix/network_table", "table type hash: is not supported by gatepost yet" },
        { "!", "no pattern after '!'" },
        { "/nonexistent/gp-list", "open file /nonexistent/gp-list" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct diag d;
        diag_init(&d);
        assert_null(netlist_compile(cases[i].list, "mynetworks", "main.cf:7", &d));
        assert_true(d.errors > 0);
        assert_string_equal(d.entries[0].where, "main.cf:7");
        if (strstr(d.entries[0].what, cases[i].want) == NULL)
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].list, d.entries[0].what,
                     cases[i].want);
        assert_non_null(strstr(d.entries[0].what, "mynetworks"));
        diag_free(&d);
    }
}

static void domain_lists(void **state)
{
    struct diag d;
    diag_init(&d);
    struct domainlist *dl = domainlist_compile("example.com, .sub.test, !no.test.org, test.org",
                                               "relay_domains", true, "main.cf:3", &d);
    assert_non_null(dl);
    static const struct { const char *domain; enum match_result want; } cases[] = {
        { "example.com", MATCH_YES }, { "EXAMPLE.COM.", MATCH_YES }, { "a.example.com", MATCH_YES },
        { "xexample.com", MATCH_NO }, { "sub.test", MATCH_NO }, { "a.sub.test", MATCH_YES },
        { "no.test.org", MATCH_NO }, { "x.no.test.org", MATCH_NO }, { "yes.test.org", MATCH_YES },
        { "", MATCH_NO },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (domainlist_match(dl, cases[i].domain) != cases[i].want)
            fail_msg("%s: want %d", cases[i].domain, cases[i].want);
    domainlist_free(dl);

    dl = domainlist_compile("example.com", "mydestination", false, "main.cf:3", &d);
    assert_int_equal(domainlist_match(dl, "a.example.com"), MATCH_NO);
    assert_int_equal(domainlist_match(dl, "example.com"), MATCH_YES);
    domainlist_free(dl);

    /* Tables: the domain, then parents ("x" keys, or ".x" keys without subdomain matching). */
    dl = domainlist_compile("inline:{example.com=1, .dot.test=1}", "relay_domains", true, "m", &d);
    assert_int_equal(domainlist_match(dl, "a.b.example.com"), MATCH_YES);
    assert_int_equal(domainlist_match(dl, "a.dot.test"), MATCH_NO);
    domainlist_free(dl);
    dl = domainlist_compile("inline:{example.com=1, .dot.test=1}", "mydestination", false, "m", &d);
    assert_int_equal(domainlist_match(dl, "a.b.example.com"), MATCH_NO);
    assert_int_equal(domainlist_match(dl, "example.com"), MATCH_YES);
    assert_int_equal(domainlist_match(dl, "a.dot.test"), MATCH_YES);
    domainlist_free(dl);
    dl = domainlist_compile("pcre:{{/^mx\\d\\.example$/ 1}}", "relay_domains", true, "m", &d);
    assert_int_equal(domainlist_match(dl, "mx1.example"), MATCH_YES);
    assert_int_equal(domainlist_match(dl, "a.mx1.example"), MATCH_NO);
    domainlist_free(dl);
    dl = domainlist_compile("fail:x", "relay_domains", true, "m", &d);
    assert_int_equal(domainlist_match(dl, "a.example"), MATCH_ERROR);
    domainlist_free(dl);
    dl = domainlist_compile("", "relay_domains", true, "m", &d);
    assert_true(domainlist_is_empty(dl));
    domainlist_free(dl);
    assert_int_equal(d.errors, 0);

    assert_null(domainlist_compile("example.com btree:/x", "relay_domains", true, "main.cf:9", &d));
    assert_int_equal(d.errors, 1);
    assert_string_equal(d.entries[0].where, "main.cf:9");
    assert_non_null(strstr(d.entries[0].what, "table type btree: is not supported by gatepost yet"));
    diag_free(&d);
}

static void mynetworks_styles(void **state)
{
    char *host = netlist_mynetworks_default("host");
    char *subnet = netlist_mynetworks_default("subnet");
    char *cls = netlist_mynetworks_default("class");
    assert_non_null(host);
    assert_non_null(subnet);
    assert_non_null(cls);
    /* Every machine has its loopback interface. */
    assert_non_null(strstr(host, "127.0.0.1/32"));
    assert_non_null(strstr(subnet, "127.0.0.0/8"));
    assert_non_null(strstr(cls, "127.0.0.0/8"));
    /* Each result is a valid netlist that contains the loopback address. */
    const char *lists[] = { host, subnet, cls };
    for (int i = 0; i < 3; i++) {
        struct netlist *nl = nl_ok(lists[i], "mynetworks");
        assert_int_equal(nl_match(nl, "127.0.0.1", NULL), MATCH_YES);
        assert_int_equal(nl_match(nl, "203.0.113.254", NULL), MATCH_NO);
        netlist_free(nl);
    }
    assert_null(netlist_mynetworks_default("bogus"));
    free(host);
    free(subnet);
    free(cls);
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
        cmocka_unit_test(sasl_exceptions_seed),
        cmocka_unit_test(first_match_wins),
        cmocka_unit_test(host_names),
        cmocka_unit_test(tables_and_files),
        cmocka_unit_test(compile_errors),
        cmocka_unit_test(domain_lists),
        cmocka_unit_test(mynetworks_styles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
