/* Address classes, recipient validation and mailbox locations. */
#include "policy_test.h"

#include "policy/route.h"

#include <pwd.h>
#include <unistd.h>

static void classes(void **state)
{
    const char *cfg[] = { "relay_domains", "relay.test, fail:broken-relay", NULL };
    struct policy_env *env = tenv_ok(cfg);
    static const struct { const char *addr; enum addr_class want; } cases[] = {
        { "bob@example.com", ADDR_CLASS_LOCAL },
        { "bob@EXAMPLE.com.", ADDR_CLASS_LOCAL },
        { "bob@localhost", ADDR_CLASS_LOCAL },
        { "bob", ADDR_CLASS_LOCAL },                    /* @$myorigin */
        { "bob@[192.0.2.2]", ADDR_CLASS_LOCAL },        /* inet_interfaces */
        { "bob@[127.0.0.1]", ADDR_CLASS_LOCAL },
        { "bob@[IPv6:::1]", ADDR_CLASS_DEFAULT },       /* not in inet_interfaces */
        { "bob@[198.51.100.1]", ADDR_CLASS_DEFAULT },
        { "alice@virtual.test", ADDR_CLASS_VIRTUAL_MAILBOX },
        { "x@relay.test", ADDR_CLASS_RELAY },
        { "x@deep.sub.relay.test", ADDR_CLASS_RELAY },
        { "x@elsewhere.test", ADDR_CLASS_ERROR },       /* the relay_domains table fails */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (route_classify(env, cases[i].addr) != cases[i].want)
            fail_msg("%s: class %d, want %d", cases[i].addr, route_classify(env, cases[i].addr),
                     cases[i].want);
    policy_env_free(env);
}

static void recipients(void **state)
{
    const char *cfg[] = { "virtual_mailbox_domains", "virtual.test, pattern.test",
                          "virtual_mailbox_maps", "inline:{alice@virtual.test=a/}, pcre:{{/^p[0-9]+@pattern\\.test$/ p/}}",
                          "relay_recipient_maps", "inline:{@relay.test=any}",
                          NULL };
    struct policy_env *env = tenv_ok(cfg);
    static const struct { const char *addr; enum map_status want; } cases[] = {
        { "bob@example.com", MAP_FOUND },
        { "BOB@example.com", MAP_FOUND },
        { "bob+x@example.com", MAP_FOUND },
        { "dave@example.com", MAP_NOTFOUND },
        { "postmaster@localhost", MAP_FOUND },
        { "double-bounce@example.com", MAP_FOUND },
        { "alice@virtual.test", MAP_FOUND },
        { "alice+tag@virtual.test", MAP_FOUND },
        { "alice@pattern.test", MAP_NOTFOUND },
        { "p12@pattern.test", MAP_FOUND },
        { "p12+x@pattern.test", MAP_NOTFOUND },         /* pattern tables see the full address only */
        { "anyone@relay.test", MAP_FOUND },
        { "anyone@elsewhere.test", MAP_FOUND },         /* not ours to validate */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (route_recipient_known(env, cases[i].addr) != cases[i].want)
            fail_msg("%s: want %d", cases[i].addr, cases[i].want);
    policy_env_free(env);

    const char *broken[] = { "local_recipient_maps", "fail:users", NULL };
    env = tenv_ok(broken);
    assert_int_equal(route_recipient_known(env, "bob@example.com"), MAP_ERROR);
    assert_int_equal(route_recipient_known(env, "postmaster@example.com"), MAP_FOUND);
    policy_env_free(env);
}

static void virtual_mailboxes(void **state)
{
    const char *cfg[] = {
        "virtual_mailbox_base", "/srv/mail/",
        "virtual_mailbox_maps", "inline:{alice@virtual.test=example/alice/, bob@virtual.test=example/bob.mbox, "
                                "evil@virtual.test=../etc/x, abs@virtual.test=/etc/passwd, "
                                "low@virtual.test=low/, nouid@virtual.test=n/}",
        "virtual_uid_maps", "inline:{low@virtual.test=5, nouid@virtual.test=x}, static:5000",
        "virtual_gid_maps", "static:5001",
        "virtual_minimum_uid", "100",
        NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct mailbox_location loc;
    struct buf why;
    buf_init(&why, 0);
    assert_int_equal(route_mailbox(env, "Alice+ext@Virtual.TEST", &loc, &why), MAP_FOUND);
    assert_string_equal(loc.path, "/srv/mail/example/alice/");
    assert_true(loc.maildir);
    assert_int_equal(loc.uid, 5000);
    assert_int_equal(loc.gid, 5001);
    assert_true(loc.switch_identity);
    assert_string_equal(loc.transport, "virtual");
    assert_int_equal(route_mailbox(env, "bob@virtual.test", &loc, &why), MAP_FOUND);
    assert_string_equal(loc.path, "/srv/mail/example/bob.mbox");
    assert_false(loc.maildir);
    static const struct { const char *addr; enum map_status st; const char *why; } bad[] = {
        { "evil@virtual.test", MAP_ERROR, "unsafe mailbox path \"../etc/x\"" },
        { "abs@virtual.test", MAP_ERROR, "unsafe mailbox path \"/etc/passwd\"" },
        { "low@virtual.test", MAP_ERROR, "uid below virtual_minimum_uid" },
        { "nouid@virtual.test", MAP_ERROR, "no valid virtual_uid_maps result" },
        { "nobody@virtual.test", MAP_NOTFOUND, "unknown user: \"nobody@virtual.test\"" },
        { "x@elsewhere.test", MAP_NOTFOUND, "not a local or virtual mailbox address" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(route_mailbox(env, bad[i].addr, &loc, &why), bad[i].st);
        if (strstr(buf_cstr(&why), bad[i].why) == NULL)
            fail_msg("%s: why \"%s\" lacks \"%s\"", bad[i].addr, buf_cstr(&why), bad[i].why);
    }
    policy_env_free(env);
    buf_free(&why);
}

static void local_mailboxes(void **state)
{
    struct mailbox_location loc;
    struct buf why;
    buf_init(&why, 0);
    const char *spool[] = { "mail_spool_directory", "/var/spool/test-mail", NULL };
    struct policy_env *env = tenv_ok(spool);
    if (geteuid() == 0) {
        /* As root: the passwd entry decides, and delivery runs as that user. */
        assert_int_equal(route_mailbox(env, "ROOT+x@example.com", &loc, &why), MAP_FOUND);
        assert_string_equal(loc.path, "/var/spool/test-mail/root");
        assert_false(loc.maildir);
        assert_int_equal(loc.uid, 0);
        assert_true(loc.switch_identity);
        assert_int_equal(route_mailbox(env, "nosuchuser-gp@example.com", &loc, &why), MAP_NOTFOUND);
        assert_string_equal(buf_cstr(&why), "unknown user: \"nosuchuser-gp\"");
        policy_env_free(env);
        const char *home[] = { "home_mailbox", "Maildir/", NULL };
        env = tenv_ok(home);
        struct passwd *pw = getpwnam("root");
        char want[300];
        snprintf(want, sizeof(want), "%s/Maildir/", strcmp(pw->pw_dir, "/") ? pw->pw_dir : "");
        assert_int_equal(route_mailbox(env, "root@localhost", &loc, &why), MAP_FOUND);
        assert_string_equal(loc.path, want);
        assert_true(loc.maildir);
    } else {
        /* Not root: the spool file of any local part, as the current user. */
        assert_int_equal(route_mailbox(env, "Anyone+x@example.com", &loc, &why), MAP_FOUND);
        assert_string_equal(loc.path, "/var/spool/test-mail/anyone");
        assert_int_equal(loc.uid, geteuid());
        assert_false(loc.switch_identity);
    }
    assert_string_equal(loc.transport, "local");
    policy_env_free(env);

    const char *maildir_spool[] = { "mail_spool_directory", "/var/spool/test-mail/", NULL };
    env = tenv_ok(maildir_spool);
    assert_int_equal(route_mailbox(env, "root@example.com", &loc, &why), MAP_FOUND);
    assert_string_equal(loc.path, "/var/spool/test-mail/root/");
    assert_true(loc.maildir);
    /* Local parts that are not safe file names never become paths. */
    assert_int_equal(route_mailbox(env, "../x@example.com", &loc, &why), MAP_NOTFOUND);
    assert_int_equal(route_mailbox(env, ".hidden@example.com", &loc, &why), MAP_NOTFOUND);
    policy_env_free(env);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classes),
        cmocka_unit_test(recipients),
        cmocka_unit_test(virtual_mailboxes),
        cmocka_unit_test(local_mailboxes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
