/*
 * Restriction lists at load: errors that name the parameter and where it
 * was set, unsupported and obsolete restrictions, Postfix's relay safety
 * check, and the restriction lists of the seed articles.
 */
#include "policy_test.h"

#include <unistd.h>

static char tmpdir[] = "/tmp/gp-compile-XXXXXX";
static char out[700];

static const char *write_file(const char *name, const char *text)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

struct ecase {
    const char *cfg[8];
    const char *want;
};

static void compile_errors(void **state)
{
    static const struct ecase cases[] = {
        { { "smtpd_recipient_restrictions", "permit_mynetworks, bogus_thing, reject", NULL },
          "main.cf:1: unknown restriction bogus_thing in parameter smtpd_recipient_restrictions" },
        { { "smtpd_client_restrictions", "reject_rbl_client zen.example", NULL },
          "main.cf:1: reject_rbl_client is not supported by gatepost yet (in parameter smtpd_client_restrictions)" },
        { { "smtpd_helo_restrictions", "reject_unknown_hostname", NULL },
          "reject_unknown_hostname (reject_unknown_helo_hostname) is not supported by gatepost yet" },
        { { "smtpd_client_restrictions", "reject_unknown_client_hostname", NULL },
          "reject_unknown_client_hostname is not supported by gatepost yet" },
        { { "smtpd_client_restrictions", "reject_unknown_reverse_client_hostname", NULL },
          "reject_unknown_reverse_client_hostname is not supported by gatepost yet" },
        { { "smtpd_sender_restrictions", "reject_unknown_sender_domain", NULL },
          "reject_unknown_sender_domain is not supported by gatepost yet" },
        { { "smtpd_recipient_restrictions", "reject_unknown_recipient_domain, reject", NULL },
          "reject_unknown_recipient_domain is not supported by gatepost yet" },
        { { "smtpd_recipient_restrictions", "check_policy_service inet:127.0.0.1:10023, reject", NULL },
          "check_policy_service is not supported by gatepost yet" },
        { { "smtpd_recipient_restrictions", "reject_unverified_recipient, reject", NULL },
          "reject_unverified_recipient is not supported by gatepost yet" },
        { { "smtpd_client_restrictions", "permit_dnswl_client list.dnswl.example", NULL },
          "permit_dnswl_client is not supported by gatepost yet" },
        { { "smtpd_sender_restrictions", "reject_rhsbl_sender dbl.example", NULL },
          "reject_rhsbl_sender is not supported by gatepost yet" },
        { { "smtpd_recipient_restrictions", "check_relay_domains", NULL },
          "restriction check_relay_domains in parameter smtpd_recipient_restrictions is obsolete: use reject_unauth_destination instead" },
        { { "smtpd_client_restrictions", "reject_maps_rbl", NULL },
          "reject_maps_rbl in parameter smtpd_client_restrictions is obsolete: use reject_rbl_client domain.tld instead" },
        { { "smtpd_helo_restrictions", "permit_naked_ip_address", NULL },
          "is obsolete: use permit_mynetworks or permit_sasl_authenticated instead" },
        { { "smtpd_client_restrictions", "check_client_access", NULL },
          "restriction check_client_access in parameter smtpd_client_restrictions: bad argument \"\": need maptype:mapname" },
        { { "smtpd_client_restrictions", "check_client_access reject", NULL },
          "bad argument \"reject\": need maptype:mapname" },
        { { "smtpd_client_restrictions", "check_client_access hash:/etc/postfix/access", NULL },
          "main.cf:1: parameter smtpd_client_restrictions: table type hash: is not supported by gatepost yet" },
        { { "smtpd_client_restrictions", "check_client_access texthash:/nonexistent/gp", NULL },
          "cannot read /nonexistent/gp" },
        { { "smtpd_data_restrictions", "inline:{a=REJECT}", NULL },
          "specify one of (check_client_access, check_helo_access, check_sender_access, check_recipient_access) before restriction \"inline:{a=REJECT}\"" },
        { { "smtpd_restriction_classes", "strict", NULL },
          "restriction class `strict' needs a definition" },
        { { "reject_code", "99", NULL }, "parameter reject_code: reply code 99 is not a 4xx or 5xx code" },
        { { "smtpd_delay_reject", "maybe", NULL }, "parameter smtpd_delay_reject: bad boolean value \"maybe\"" },
        { { "mynetworks", "10.0.0.1/8", NULL }, "main.cf:1: parameter mynetworks: non-null host address bits" },
        { { "mydestination", "example.com, hash:/etc/postfix/domains", NULL },
          "table type hash: is not supported by gatepost yet" },
        { { "local_recipient_maps", "proxy:unix:passwd.byname, hash:/etc/aliases", NULL },
          "parameter local_recipient_maps: table type hash: is not supported by gatepost yet" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        tenv_error(cases[i].cfg, cases[i].want);
}

/* Arguments of unsupported restrictions are consumed, not reported as restrictions. */
static void unsupported_argument_consumed(void **state)
{
    const char *cfg[] = { "smtpd_client_restrictions", "reject_rbl_client relays.ordb.org, reject_rbl_client spamcop.net", NULL };
    struct diag d;
    diag_init(&d);
    assert_null(tenv(cfg, &d));
    assert_int_equal(d.errors, 2);
    for (size_t i = 0; i < d.count; i++)
        assert_null(strstr(d.entries[i].what, "unknown restriction"));
    diag_free(&d);
}

#define RELAY_FATAL "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify " \
    "at least one working instance of: reject_unauth_destination, defer_unauth_destination, reject, " \
    "defer, defer_if_permit or check_relay_domains"

static void relay_guard(void **state)
{
    const char *none[] = { "smtpd_relay_restrictions", "",
                           "smtpd_recipient_restrictions", "permit_mynetworks, permit_sasl_authenticated", NULL };
    tenv_error(none, RELAY_FATAL);
    const char *permit_first[] = { "smtpd_relay_restrictions", "permit, reject_unauth_destination", NULL };
    tenv_error(permit_first, RELAY_FATAL);
    const char *warned[] = { "smtpd_relay_restrictions", "warn_if_reject reject_unauth_destination", NULL };
    tenv_error(warned, RELAY_FATAL);
    const char *in_class[] = { "smtpd_relay_restrictions", "guard", "smtpd_restriction_classes", "guard",
                               "guard", "permit_mynetworks, reject_unauth_destination", NULL };
    policy_env_free(tenv_ok(in_class));
    const char *in_recipient[] = { "smtpd_relay_restrictions", "",
                                   "smtpd_recipient_restrictions", "permit_mynetworks, reject", NULL };
    policy_env_free(tenv_ok(in_recipient));
    const char *dip[] = { "smtpd_relay_restrictions", "defer_if_permit", NULL };
    policy_env_free(tenv_ok(dip));
}

static void unreachable_warning(void **state)
{
    const char *cfg[] = { "smtpd_recipient_restrictions", "permit_mynetworks, permit, reject", NULL };
    struct diag d;
    diag_init(&d);
    struct policy_env *env = tenv(cfg, &d);
    assert_non_null(env);
    assert_int_equal(d.errors, 0);
    assert_int_equal(d.warnings, 1);
    assert_non_null(strstr(d.entries[0].what, "restriction `reject' after `permit' is ignored"));
    diag_free(&d);
    policy_env_free(env);
}

static const char *rcpt(struct policy_env *env, const struct tfacts *t)
{
    struct tfacts_buf fb;
    tfacts_fill(&fb, t);
    struct policy_session ps;
    policy_session_init(&ps);
    return tcheck(env, STAGE_RCPT, &fb.f, &ps, out, sizeof(out));
}

/* Seed 001, method 1: only mynetworks, the access table and SASL clients may send. */
static void seed001_method1(void **state)
{
    const char *verbatim[] = {
        "mynetworks", "127.0.0.0/8, 192.0.2.10",
        "smtpd_recipient_restrictions",
        "permit_mynetworks,\n        check_recipient_access hash:/etc/postfix/access,\n"
        "                                permit_sasl_authenticated,\n                                reject",
        NULL };
    tenv_error(verbatim, "table type hash: is not supported by gatepost yet");

    char list[600];
    snprintf(list, sizeof(list), "permit_mynetworks,\n  check_recipient_access texthash:%s,\n"
             "  permit_sasl_authenticated,\n  reject",
             write_file("access1", "carol@example.com  OK\n"));
    const char *cfg[] = { "mynetworks", "127.0.0.0/8, 192.0.2.10", "smtpd_recipient_restrictions", list,
                          NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct tfacts gateway = { .addr = "192.0.2.10", .rcpt = "x@elsewhere.test" };
    struct tfacts other = { .addr = "192.0.2.11" };
    struct tfacts listed = { .rcpt = "carol@example.com" };
    struct tfacts auth = { .sasl = "PLAIN", .rcpt = "x@elsewhere.test" };
    assert_string_equal(rcpt(env, &gateway), "OK");
    assert_string_equal(rcpt(env, &other),
                        "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied");
    assert_string_equal(rcpt(env, &listed), "OK");
    assert_string_equal(rcpt(env, &auth), "OK");
    policy_env_free(env);
}

/* Seed 001, the later variant with check_client_access and permit_auth_destination. */
static void seed001_variant(void **state)
{
    char list[600];
    snprintf(list, sizeof(list), "permit_mynetworks\n  check_client_access texthash:%s\n"
             "  permit_auth_destination\n  permit_sasl_authenticated\n  reject",
             write_file("access2", "localhost       RELAY\n127.0.0.1       RELAY\nav.example.net  OK\n"));
    /* The article predates smtpd_relay_restrictions: only the recipient list applies. */
    const char *cfg[] = { "mynetworks", "192.0.2.10", "smtpd_relay_restrictions", "",
                          "smtpd_recipient_restrictions", list, NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct tfacts av = { .name = "av.example.net", .rcpt = "x@elsewhere.test" };
    struct tfacts loop = { .addr = "127.0.0.1", .rcpt = "x@elsewhere.test" };
    struct tfacts inbound = { 0 };
    struct tfacts relaying = { .rcpt = "x@elsewhere.test" };
    assert_string_equal(rcpt(env, &av), "OK");
    assert_string_equal(rcpt(env, &loop), "OK");
    assert_string_equal(rcpt(env, &inbound), "OK");
    assert_string_equal(rcpt(env, &relaying),
                        "554 5.7.1 <x@elsewhere.test>: Recipient address rejected: Access denied");
    policy_env_free(env);
}

/* Seed 001, method 2: POP-before-SMTP (btree:) and check_relay_domains are refused clearly. */
static void seed001_method2(void **state)
{
    const char *cfg[] = {
        "smtpd_recipient_restrictions",
        "permit_mynetworks\n  permit_sasl_authenticated\n  check_client_access btree:/var/lib/drac/dracd\n"
        "  check_client_access hash:/etc/postfix/access reject\n  check_relay_domains\n  reject",
        NULL };
    tenv_error(cfg, "table type btree: is not supported by gatepost yet");
    tenv_error(cfg, "table type hash: is not supported by gatepost yet");
    tenv_error(cfg, "check_relay_domains in parameter smtpd_recipient_restrictions is obsolete: use reject_unauth_destination instead");
}

/* Seed 002: the recipient restrictions with dead RBL zones. */
static void seed002_recipient(void **state)
{
    const char *cfg[] = {
        "smtpd_recipient_restrictions",
        "permit_mynetworks,\n regexp:/etc/postfix/recipient_checks.reg,\n check_sender_access hash:/etc/postfix/bad_sender,\n"
        " reject_rbl_client relays.ordb.org,\n reject_rbl_client spamcop.net,\n reject_non_fqdn_recipient,\n"
        " permit_auth_destination,\n permit_sasl_authenticated,\n reject_unauth_destination",
        NULL };
    tenv_error(cfg, "reject_rbl_client is not supported by gatepost yet");
    tenv_error(cfg, "table type hash: is not supported by gatepost yet");
    tenv_error(cfg, "regexp:/etc/postfix/recipient_checks.reg");
}

/* Seed 003: relay only for SASL clients, tempfail everything else that relays. */
static void seed003(void **state)
{
    const char *cfg[] = { "smtpd_relay_restrictions", "permit_sasl_authenticated, defer_unauth_destination",
                          NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct tfacts mynet = { .addr = "192.0.2.10", .rcpt = "x@elsewhere.test" };
    struct tfacts auth = { .sasl = "CRAM-MD5", .rcpt = "x@elsewhere.test" };
    struct tfacts inbound = { 0 };
    struct tfacts unknown = { .rcpt = "xxx@example.com" };
    assert_string_equal(rcpt(env, &mynet), "454 4.7.1 <x@elsewhere.test>: Relay access denied");
    assert_string_equal(rcpt(env, &auth), "OK");
    assert_string_equal(rcpt(env, &inbound), "OK");
    assert_string_equal(rcpt(env, &unknown),
                        "550 5.1.1 <xxx@example.com>: Recipient address rejected: User unknown in local recipient table");
    policy_env_free(env);

    const char *old[] = { "smtpd_relay_restrictions", "",
                          "smtpd_recipient_restrictions", "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
                          NULL };
    env = tenv_ok(old);
    assert_string_equal(rcpt(env, &mynet), "OK");
    struct tfacts outside = { .rcpt = "x@elsewhere.test" };
    assert_string_equal(rcpt(env, &outside), "554 5.7.1 <x@elsewhere.test>: Relay access denied");
    policy_env_free(env);

    const char *helo[] = { "smtpd_helo_restrictions", "reject_invalid_hostname, reject_non_fqdn_hostname, reject_unknown_hostname",
                           NULL };
    tenv_error(helo, "reject_unknown_hostname (reject_unknown_helo_hostname) is not supported by gatepost yet (in parameter smtpd_helo_restrictions)");
    const char *helo_ok[] = { "smtpd_helo_restrictions", "reject_invalid_hostname, reject_non_fqdn_hostname",
                              NULL };
    env = tenv_ok(helo_ok);
    struct tfacts bare = { .helo = "[xx.xxx.xxx.xxx]" };
    assert_string_equal(rcpt(env, &bare), "501 5.5.2 <[xx.xxx.xxx.xxx]>: Helo command rejected: invalid ip address");
    policy_env_free(env);
}

/* Seed 004: hash: tables fail clearly; the same tables as texthash: work. */
static void seed004(void **state)
{
    const char *verbatim[] = {
        "smtpd_sender_restrictions", "hash:/etc/postfix/reject_sender, reject_unknown_sender_domain, reject_non_fqdn_sender",
        NULL };
    tenv_error(verbatim, "table type hash: is not supported by gatepost yet (in \"hash:/etc/postfix/reject_sender\")");
    tenv_error(verbatim, "reject_unknown_sender_domain is not supported by gatepost yet");

    char sender[400], client[400], helo[400];
    snprintf(sender, sizeof(sender), "texthash:%s, reject_non_fqdn_sender",
             write_file("reject_sender", "spam@spam.com REJECT\nspam.org REJECT\n"));
    snprintf(client, sizeof(client), "permit_mynetworks, check_client_access texthash:%s, permit",
             write_file("reject_client", "192.168.0.100 REJECT\n192.168.10 REJECT\n"));
    snprintf(helo, sizeof(helo), "permit_mynetworks, check_helo_access texthash:%s, "
             "reject_invalid_hostname, reject_non_fqdn_hostname, permit",
             write_file("ok-ips", "legacy OK\n"));
    const char *cfg[] = { "smtpd_sender_restrictions", sender, "smtpd_client_restrictions", client,
                          "smtpd_helo_restrictions", helo, NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct tfacts spam = { .sender = "spam@spam.com" };
    struct tfacts spam_org = { .sender = "anyone@mail.spam.org" };
    struct tfacts ham = { .sender = "ham@spam.com" };
    struct tfacts c1 = { .addr = "192.168.0.100" };
    struct tfacts c2 = { .addr = "192.168.10.77" };
    struct tfacts c3 = { .addr = "192.168.0.101" };
    struct tfacts legacy = { .helo = "legacy" };
    struct tfacts short_helo = { .helo = "desktop" };
    assert_string_equal(rcpt(env, &spam), "554 5.7.1 <spam@spam.com>: Sender address rejected: Access denied");
    assert_string_equal(rcpt(env, &spam_org), "554 5.7.1 <anyone@mail.spam.org>: Sender address rejected: Access denied");
    assert_string_equal(rcpt(env, &ham), "OK");
    assert_string_equal(rcpt(env, &c1), "554 5.7.1 <unknown[192.168.0.100]>: Client host rejected: Access denied");
    assert_string_equal(rcpt(env, &c2), "554 5.7.1 <unknown[192.168.10.77]>: Client host rejected: Access denied");
    assert_string_equal(rcpt(env, &c3), "OK");
    assert_string_equal(rcpt(env, &legacy), "OK");
    assert_string_equal(rcpt(env, &short_helo),
                        "504 5.5.2 <desktop>: Helo command rejected: need fully-qualified hostname");
    policy_env_free(env);

    const char *rbl[] = { "smtpd_client_restrictions", "permit_mynetworks, reject_rbl_client bl.spamcop.net, reject_unknown_client, permit",
                          NULL };
    tenv_error(rbl, "reject_rbl_client is not supported by gatepost yet");
    tenv_error(rbl, "reject_unknown_client (reject_unknown_client_hostname) is not supported by gatepost yet");
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
        cmocka_unit_test(compile_errors),
        cmocka_unit_test(unsupported_argument_consumed),
        cmocka_unit_test(relay_guard),
        cmocka_unit_test(unreachable_warning),
        cmocka_unit_test(seed001_method1),
        cmocka_unit_test(seed001_variant),
        cmocka_unit_test(seed001_method2),
        cmocka_unit_test(seed002_recipient),
        cmocka_unit_test(seed003),
        cmocka_unit_test(seed004),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
