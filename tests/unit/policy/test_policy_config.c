/*
 * The policy environment built from a real configuration (config.h):
 * errors point at main.cf lines, seed snippets load and behave, and the
 * embedded default routes its localhost users to virtual mailboxes.
 */
#include "policy_test.h"

#include "config/config.h"
#include "policy/route.h"

static struct config *parse(const char *text, struct diag *d)
{
    struct config *cfg = config_parse_text(text, "/etc/gatepost/main.cf", d);
    if (cfg == NULL) {
        diag_print(d, stderr);
        fail_msg("main.cf did not parse");
    }
    return cfg;
}

static void error_names_main_cf_line(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("myhostname = mail.example.com\n"
                               "mydestination = $myhostname, localhost\n"
                               "\n"
                               "# restrictions\n"
                               "smtpd_recipient_restrictions = permit_mynetworks,\n"
                               "    bogus_restriction,\n"
                               "    reject\n", &d);
    diag_free(&d);
    diag_init(&d);
    assert_null(policy_env_new(cfg, &d));
    int found = 0;
    for (size_t i = 0; i < d.count; i++)
        if (strcmp(d.entries[i].where, "/etc/gatepost/main.cf:5") == 0
            && strstr(d.entries[i].what,
                      "unknown restriction bogus_restriction in parameter smtpd_recipient_restrictions"))
            found = 1;
    if (!found) {
        diag_print(&d, stderr);
        fail_msg("no error at main.cf:5");
    }
    diag_free(&d);
    config_free(cfg);
}

static void seed003_main_cf(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("myhostname = mail.example.com\n"
                               "mydomain = example.com\n"
                               "mydestination = $myhostname, localhost.$mydomain, localhost, $mydomain\n"
                               "mynetworks = 127.0.0.0/8\n"
                               "local_recipient_maps =\n"
                               "smtpd_helo_required = yes\n"
                               "smtpd_helo_restrictions = reject_invalid_hostname, reject_non_fqdn_hostname\n"
                               "smtpd_relay_restrictions = permit_sasl_authenticated, defer_unauth_destination\n"
                               "smtpd_error_sleep_time = 600s\n"
                               "smtpd_soft_error_limit = 2\n"
                               "smtpd_hard_error_limit = 2\n", &d);
    struct policy_env *env = policy_env_new(cfg, &d);
    if (env == NULL) {
        diag_print(&d, stderr);
        fail_msg("policy did not build");
    }
    assert_ptr_equal(policy_env_config(env), cfg);
    struct tfacts_buf fb;
    struct policy_session ps;
    char out[700];
    struct tfacts relay = { .rcpt = "x@elsewhere.test" };
    tfacts_fill(&fb, &relay);
    policy_session_init(&ps);
    assert_string_equal(tcheck(env, STAGE_RCPT, &fb.f, &ps, out, sizeof(out)),
                        "454 4.7.1 <x@elsewhere.test>: Relay access denied");
    struct tfacts local = { .rcpt = "anyone@mail.example.com", .helo = "mx.example.net" };
    tfacts_fill(&fb, &local);
    policy_session_init(&ps);
    assert_string_equal(tcheck(env, STAGE_RCPT, &fb.f, &ps, out, sizeof(out)), "OK");
    struct tfacts bad_helo = { .helo = "pc01" };
    tfacts_fill(&fb, &bad_helo);
    policy_session_init(&ps);
    assert_string_equal(tcheck(env, STAGE_RCPT, &fb.f, &ps, out, sizeof(out)),
                        "504 5.5.2 <pc01>: Helo command rejected: need fully-qualified hostname");
    struct netaddr lo;
    netaddr_parse("127.0.0.1", &lo);
    assert_true(policy_in_mynetworks(env, &lo, NULL));
    policy_env_free(env);
    config_free(cfg);
    diag_free(&d);
}

static void embedded_default(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load_embedded("/tmp/gp-state", 1000, 1001, &d);
    if (cfg == NULL) {
        diag_print(&d, stderr);
        fail_msg("embedded config did not load");
    }
    struct policy_env *env = policy_env_new(cfg, &d);
    if (env == NULL) {
        diag_print(&d, stderr);
        fail_msg("policy did not build from the embedded config");
    }
    struct mailbox_location loc;
    struct buf why;
    buf_init(&why, 0);
    assert_int_equal(route_mailbox(env, "alice@localhost", &loc, &why), MAP_FOUND);
    assert_string_equal(loc.path, "/tmp/gp-state/mail/alice/");
    assert_true(loc.maildir);
    assert_int_equal(loc.uid, 1000);
    assert_int_equal(loc.gid, 1001);
    assert_int_equal(route_mailbox(env, "bob+tag@localhost", &loc, &why), MAP_FOUND);
    assert_string_equal(loc.path, "/tmp/gp-state/mail/bob/");
    assert_int_equal(route_mailbox(env, "../x@localhost", &loc, &why), MAP_NOTFOUND);

    struct tfacts_buf fb;
    struct policy_session ps;
    char out[700];
    struct tfacts local = { .addr = "127.0.0.1", .rcpt = "alice@localhost" };
    tfacts_fill(&fb, &local);
    policy_session_init(&ps);
    assert_string_equal(tcheck(env, STAGE_RCPT, &fb.f, &ps, out, sizeof(out)), "OK");
    struct tfacts invalid = { .addr = "127.0.0.1", .rcpt = "-x@localhost" };
    tfacts_fill(&fb, &invalid);
    policy_session_init(&ps);
    assert_string_equal(tcheck(env, STAGE_RCPT, &fb.f, &ps, out, sizeof(out)),
                        "550 5.1.1 <-x@localhost>: Recipient address rejected: User unknown in virtual mailbox table");
    struct tfacts outside = { .addr = "198.51.100.1", .rcpt = "x@elsewhere.test" };
    tfacts_fill(&fb, &outside);
    policy_session_init(&ps);
    assert_string_equal(tcheck(env, STAGE_RCPT, &fb.f, &ps, out, sizeof(out)),
                        "454 4.7.1 <x@elsewhere.test>: Relay access denied");
    buf_free(&why);
    policy_env_free(env);
    config_free(cfg);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_names_main_cf_line),
        cmocka_unit_test(seed003_main_cf),
        cmocka_unit_test(embedded_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
