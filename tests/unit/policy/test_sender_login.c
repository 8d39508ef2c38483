/*
 * smtpd_sender_login_maps and the four *_sender_login_mismatch
 * restrictions, table-driven: each case is a configuration (on top of the
 * shared site of policy_test.h, where example.com is local and myorigin),
 * the client's facts and the exact reply Postfix gives, or "OK".
 *
 * The owners table used by most cases:
 *   alice@example.com  -> alice
 *   sales@example.com  -> alice, bob        (several logins)
 *   bob                -> bob               (local part: local domains only)
 *   @corp.test         -> carol             (a whole domain)
 */
#include "policy_test.h"

#define OWNERS "inline:{alice@example.com=alice, {sales@example.com = alice, bob}, " \
               "bob=bob, @corp.test=carol}"

#define NOT_OWNED(addr, user) \
    "553 5.7.1 <" addr ">: Sender address rejected: not owned by user " user
#define NOT_LOGGED_IN(addr) "553 5.7.1 <" addr ">: Sender address rejected: not logged in"
#define RETRY(addr) "451 4.3.0 <" addr ">: Temporary lookup failure"

#define MISMATCH(list) C("smtpd_sender_login_maps", OWNERS, "smtpd_sender_restrictions", list)
#define AS(user_, sender_) { .sasl = "PLAIN", .user = user_, .sender = sender_ }
#define ANON(sender_) { .sender = sender_ }

static const struct tcase mismatch_cases[] = {
    { "owner", MISMATCH("reject_sender_login_mismatch"), AS("alice", "alice@example.com"), "OK" },
    { "not the owner", MISMATCH("reject_sender_login_mismatch"), AS("alice", "bob@example.com"),
      NOT_OWNED("bob@example.com", "alice") },
    { "unknown sender, logged in", MISMATCH("reject_sender_login_mismatch"),
      AS("alice", "someone@elsewhere.test"), NOT_OWNED("someone@elsewhere.test", "alice") },
    { "owned, not logged in", MISMATCH("reject_sender_login_mismatch"),
      ANON("alice@example.com"), NOT_LOGGED_IN("alice@example.com") },
    { "unknown, not logged in", MISMATCH("reject_sender_login_mismatch"),
      ANON("someone@elsewhere.test"), "OK" },
    { "null sender, logged in", MISMATCH("reject_sender_login_mismatch"), AS("alice", ""), "OK" },
    { "null sender, not logged in", MISMATCH("reject_sender_login_mismatch"), ANON(""), "OK" },
    { "first of several logins", MISMATCH("reject_sender_login_mismatch"),
      AS("alice", "sales@example.com"), "OK" },
    { "second of several logins", MISMATCH("reject_sender_login_mismatch"),
      AS("bob", "sales@example.com"), "OK" },
    { "none of several logins", MISMATCH("reject_sender_login_mismatch"),
      AS("carol", "sales@example.com"), NOT_OWNED("sales@example.com", "carol") },
    { "several logins, not logged in", MISMATCH("reject_sender_login_mismatch"),
      ANON("sales@example.com"), NOT_LOGGED_IN("sales@example.com") },
    { "login name case", MISMATCH("reject_sender_login_mismatch"),
      AS("ALICE", "alice@example.com"), "OK" },
    { "address case", MISMATCH("reject_sender_login_mismatch"),
      AS("alice", "Alice@Example.COM"), "OK" },
    { "address case, reply keeps it", MISMATCH("reject_sender_login_mismatch"),
      AS("carol", "Alice@Example.COM"), NOT_OWNED("Alice@Example.COM", "carol") },
    { "extension", MISMATCH("reject_sender_login_mismatch"),
      AS("alice", "alice+lists@example.com"), "OK" },
    { "extension, not logged in", MISMATCH("reject_sender_login_mismatch"),
      ANON("alice+lists@example.com"), NOT_LOGGED_IN("alice+lists@example.com") },
    { "extension, other login", MISMATCH("reject_sender_login_mismatch"),
      AS("bob", "alice+lists@example.com"), NOT_OWNED("alice+lists@example.com", "bob") },
    { "no extension without delimiter",
      C("smtpd_sender_login_maps", OWNERS, "smtpd_sender_restrictions",
        "reject_sender_login_mismatch", "recipient_delimiter", ""),
      AS("alice", "alice+lists@example.com"), NOT_OWNED("alice+lists@example.com", "alice") },
    { "@domain", MISMATCH("reject_sender_login_mismatch"), AS("carol", "anyone@corp.test"), "OK" },
    { "@domain, other login", MISMATCH("reject_sender_login_mismatch"),
      AS("alice", "anyone@corp.test"), NOT_OWNED("anyone@corp.test", "alice") },
    { "@domain is not a parent domain", MISMATCH("reject_sender_login_mismatch"),
      AS("carol", "anyone@sub.corp.test"), NOT_OWNED("anyone@sub.corp.test", "carol") },
    { "local part in local domain", MISMATCH("reject_sender_login_mismatch"),
      AS("bob", "bob@example.com"), "OK" },
    { "local part in other local domain", MISMATCH("reject_sender_login_mismatch"),
      AS("bob", "bob@localhost"), "OK" },
    { "local part of an unqualified sender", MISMATCH("reject_sender_login_mismatch"),
      AS("bob", "bob"), "OK" },
    { "unqualified sender, not logged in", MISMATCH("reject_sender_login_mismatch"),
      ANON("bob"), NOT_LOGGED_IN("bob") },
    { "local part only in local domains", MISMATCH("reject_sender_login_mismatch"),
      AS("bob", "bob@elsewhere.test"), NOT_OWNED("bob@elsewhere.test", "bob") },
    { "local part, other domain, not logged in", MISMATCH("reject_sender_login_mismatch"),
      ANON("bob@elsewhere.test"), "OK" },
    { "fixed code 553", C("smtpd_sender_login_maps", OWNERS, "reject_code", "550",
                          "access_map_reject_code", "550",
                          "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("alice", "bob@example.com"), NOT_OWNED("bob@example.com", "alice") },
    { "any list: recipient restrictions", C("smtpd_sender_login_maps", OWNERS,
                                            "smtpd_recipient_restrictions",
                                            "reject_sender_login_mismatch"),
      AS("alice", "bob@example.com"), NOT_OWNED("bob@example.com", "alice") },
    { "warn_if_reject", MISMATCH("warn_if_reject reject_sender_login_mismatch"),
      AS("alice", "bob@example.com"), "OK" },
    { "login names in the reply are made printable", MISMATCH("reject_sender_login_mismatch"),
      AS("ev\x01il", "alice@example.com"),
      "553 5.7.1 <alice@example.com>: Sender address rejected: not owned by user ev il" },
    { "no table: nothing to check", C("smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("alice", "bob@example.com"), "OK" },
    { "no SASL: ignored", C("smtpd_sender_login_maps", OWNERS, "smtpd_sasl_auth_enable", "no",
                            "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      ANON("alice@example.com"), "OK" },
    { "anonymous client cannot take an owned address",
      MISMATCH("permit_sasl_authenticated, reject_sender_login_mismatch"),
      ANON("sales@example.com"), NOT_LOGGED_IN("sales@example.com") },
};

static const struct tcase variant_cases[] = {
    /* reject_authenticated_sender_login_mismatch: logged-in clients only. */
    { "auth: owner", MISMATCH("reject_authenticated_sender_login_mismatch"),
      AS("alice", "alice@example.com"), "OK" },
    { "auth: not owner", MISMATCH("reject_authenticated_sender_login_mismatch"),
      AS("alice", "bob@example.com"), NOT_OWNED("bob@example.com", "alice") },
    { "auth: unknown sender", MISMATCH("reject_authenticated_sender_login_mismatch"),
      AS("alice", "x@elsewhere.test"), NOT_OWNED("x@elsewhere.test", "alice") },
    { "auth: not logged in", MISMATCH("reject_authenticated_sender_login_mismatch"),
      ANON("alice@example.com"), "OK" },
    { "auth: null sender", MISMATCH("reject_authenticated_sender_login_mismatch"),
      AS("alice", ""), "OK" },
    /* reject_unauthenticated_sender_login_mismatch: anonymous clients only. */
    { "unauth: owned address", MISMATCH("reject_unauthenticated_sender_login_mismatch"),
      ANON("alice@example.com"), NOT_LOGGED_IN("alice@example.com") },
    { "unauth: unknown address", MISMATCH("reject_unauthenticated_sender_login_mismatch"),
      ANON("x@elsewhere.test"), "OK" },
    { "unauth: logged in as someone else", MISMATCH("reject_unauthenticated_sender_login_mismatch"),
      AS("carol", "alice@example.com"), "OK" },
    { "unauth: null sender", MISMATCH("reject_unauthenticated_sender_login_mismatch"),
      ANON(""), "OK" },
    /* reject_known_sender_login_mismatch: only addresses the table knows. */
    { "known: owner", MISMATCH("reject_known_sender_login_mismatch"),
      AS("alice", "alice@example.com"), "OK" },
    { "known: not owner", MISMATCH("reject_known_sender_login_mismatch"),
      AS("alice", "bob@example.com"), NOT_OWNED("bob@example.com", "alice") },
    { "known: unknown sender", MISMATCH("reject_known_sender_login_mismatch"),
      AS("alice", "x@elsewhere.test"), "OK" },
    { "known: owned, not logged in", MISMATCH("reject_known_sender_login_mismatch"),
      ANON("alice@example.com"), NOT_LOGGED_IN("alice@example.com") },
    { "known: unknown, not logged in", MISMATCH("reject_known_sender_login_mismatch"),
      ANON("x@elsewhere.test"), "OK" },
    { "known: null sender", MISMATCH("reject_known_sender_login_mismatch"), AS("alice", ""), "OK" },
    { "known: no SASL", C("smtpd_sender_login_maps", OWNERS, "smtpd_sasl_auth_enable", "no",
                          "smtpd_sender_restrictions", "reject_known_sender_login_mismatch"),
      ANON("alice@example.com"), "OK" },
};

#define TWO_TABLES "inline:{a@example.com=alice}, inline:{a@example.com=bob, b@example.com=bob}"
#define TWO_TABLES_SPACE "inline:{a@example.com=alice} inline:{b@example.com=bob}"

static const struct tcase table_cases[] = {
    { "first table answers", C("smtpd_sender_login_maps", TWO_TABLES,
                               "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("alice", "a@example.com"), "OK" },
    { "first table wins", C("smtpd_sender_login_maps", TWO_TABLES,
                            "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("bob", "a@example.com"), NOT_OWNED("a@example.com", "bob") },
    { "second table", C("smtpd_sender_login_maps", TWO_TABLES,
                        "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("bob", "b@example.com"), "OK" },
    { "space separated", C("smtpd_sender_login_maps", TWO_TABLES_SPACE,
                           "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("bob", "b@example.com"), "OK" },
    { "space separated, not logged in", C("smtpd_sender_login_maps", TWO_TABLES_SPACE,
                                          "smtpd_sender_restrictions",
                                          "reject_sender_login_mismatch"),
      ANON("b@example.com"), NOT_LOGGED_IN("b@example.com") },
    { "full address in a later table beats @domain in an earlier one",
      C("smtpd_sender_login_maps", "inline:{@example.com=carol}, inline:{a@example.com=alice}",
        "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("alice", "a@example.com"), "OK" },
    { "pattern table sees the full address", C("smtpd_sender_login_maps",
                                               "regexp:{{/^(.*)@corp\\.test$/ $1}}",
                                               "smtpd_sender_restrictions",
                                               "reject_sender_login_mismatch"),
      AS("dave", "dave@corp.test"), "OK" },
    { "pattern table, someone else's address", C("smtpd_sender_login_maps",
                                                 "regexp:{{/^(.*)@corp\\.test$/ $1}}",
                                                 "smtpd_sender_restrictions",
                                                 "reject_sender_login_mismatch"),
      AS("dave", "erin@corp.test"), NOT_OWNED("erin@corp.test", "dave") },
    /* A table that fails: never "not found", never a permanent refusal. */
    { "failing table, logged in", C("smtpd_sender_login_maps", "fail:owners",
                                    "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("alice", "alice@example.com"), RETRY("alice@example.com") },
    { "failing table, not logged in", C("smtpd_sender_login_maps", "fail:owners",
                                        "smtpd_sender_restrictions",
                                        "reject_sender_login_mismatch"),
      ANON("alice@example.com"), RETRY("alice@example.com") },
    { "failing table, known", C("smtpd_sender_login_maps", "fail:owners",
                                "smtpd_sender_restrictions", "reject_known_sender_login_mismatch"),
      AS("alice", "x@elsewhere.test"), RETRY("x@elsewhere.test") },
    { "failing second table, found in the first", C("smtpd_sender_login_maps",
                                                    "inline:{a@example.com=alice}, fail:owners",
                                                    "smtpd_sender_restrictions",
                                                    "reject_sender_login_mismatch"),
      AS("alice", "a@example.com"), "OK" },
    { "failing second table, not in the first", C("smtpd_sender_login_maps",
                                                  "inline:{a@example.com=alice}, fail:owners",
                                                  "smtpd_sender_restrictions",
                                                  "reject_sender_login_mismatch"),
      AS("alice", "b@example.com"), RETRY("b@example.com") },
    { "failing local domain list", C("smtpd_sender_login_maps", OWNERS,
                                     "mydestination", "fail:domains",
                                     "smtpd_sender_restrictions", "reject_sender_login_mismatch"),
      AS("alice", "alice@other.test"), RETRY("alice@other.test") },
    { "failing table is not passed over by a later permit",
      C("smtpd_sender_login_maps", "fail:owners",
        "smtpd_sender_restrictions", "reject_sender_login_mismatch, permit"),
      ANON("x@elsewhere.test"), RETRY("x@elsewhere.test") },
    { "null sender never looks the table up", C("smtpd_sender_login_maps", "fail:owners",
                                                "smtpd_sender_restrictions",
                                                "reject_sender_login_mismatch"),
      AS("alice", ""), "OK" },
};


static void mismatch(void **state)
{
    RUN(mismatch_cases);
}

static void variants(void **state)
{
    RUN(variant_cases);
}

static void tables(void **state)
{
    RUN(table_cases);
}

/* With smtpd_delay_reject = no the refusal comes at MAIL and is repeated at RCPT. */
static void refused_at_mail(void **state)
{
    const char *cfg[] = { "smtpd_delay_reject", "no", "smtpd_sender_login_maps", OWNERS,
                          "smtpd_sender_restrictions", "reject_sender_login_mismatch", NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts t = { .sasl = "PLAIN", .user = "alice", .sender = "bob@example.com",
                        .rcpt = "-" };
    struct tfacts_buf fb;
    tfacts_fill(&fb, &t);
    char got[700];
    assert_string_equal(tcheck(env, STAGE_MAIL, &fb.f, &ps, got, sizeof(got)),
                        NOT_OWNED("bob@example.com", "alice"));
    t.rcpt = NULL;
    tfacts_fill(&fb, &t);
    assert_string_equal(tcheck(env, STAGE_RCPT, &fb.f, &ps, got, sizeof(got)),
                        NOT_OWNED("bob@example.com", "alice"));
    /* A new transaction with an owned address is judged afresh. */
    policy_session_new_transaction(&ps);
    t.sender = "sales@example.com";
    t.rcpt = "-";
    tfacts_fill(&fb, &t);
    assert_string_equal(tcheck(env, STAGE_MAIL, &fb.f, &ps, got, sizeof(got)), "OK");
    policy_env_free(env);
}

/* The restrictions compile (they were refused as unsupported before). */
static void compiles(void **state)
{
    const char *cfg[] = { "smtpd_sender_login_maps", OWNERS, "smtpd_sender_restrictions",
                          "reject_sender_login_mismatch reject_authenticated_sender_login_mismatch "
                          "reject_known_sender_login_mismatch "
                          "reject_unauthenticated_sender_login_mismatch", NULL };
    policy_env_free(tenv_ok(cfg));
    const char *bad[] = { "smtpd_sender_login_maps", "nosuchtype:/x", NULL };
    tenv_error(bad, "smtpd_sender_login_maps");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mismatch),
        cmocka_unit_test(variants),
        cmocka_unit_test(tables),
        cmocka_unit_test(refused_at_mail),
        cmocka_unit_test(compiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
