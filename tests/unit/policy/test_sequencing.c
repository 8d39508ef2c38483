/*
 * When restrictions run: smtpd_delay_reject, remembered client/helo/sender
 * results, defer_if_permit carried to RCPT, DATA/END-OF-DATA/AUTH stages,
 * and evaluations that park and resume (or are cancelled).
 */
#include "policy_test.h"

static char out[700];

static const char *stage(struct policy_env *env, enum policy_stage st, const struct tfacts *t,
                         struct policy_session *ps)
{
    struct tfacts_buf fb;
    tfacts_fill(&fb, t);
    return tcheck(env, st, &fb.f, ps, out, sizeof(out));
}

#define CLIENT_REJECT "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied"

static void delayed_client_reject(void **state)
{
    const char *cfg[] = { "smtpd_client_restrictions", "check_client_access inline:{198.51.100.1=REJECT}",
                          NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts t = { 0 };
    assert_string_equal(stage(env, STAGE_CONNECT, &t, &ps), "OK");
    assert_string_equal(stage(env, STAGE_HELO, &t, &ps), "OK");
    assert_string_equal(stage(env, STAGE_MAIL, &t, &ps), "OK");
    assert_false(ps.client_done);
    assert_string_equal(stage(env, STAGE_RCPT, &t, &ps), CLIENT_REJECT);
    assert_true(ps.client_done);
    /* Remembered: a later RCPT repeats it without evaluating again. */
    struct tfacts other = { .addr = "203.0.113.5", .rcpt = "carol@example.com" };
    assert_string_equal(stage(env, STAGE_RCPT, &other, &ps), CLIENT_REJECT);
    /* A fresh session evaluates anew. */
    policy_session_init(&ps);
    assert_string_equal(stage(env, STAGE_RCPT, &other, &ps), "OK");
    policy_env_free(env);
}

static void immediate_client_reject(void **state)
{
    const char *cfg[] = { "smtpd_delay_reject", "no",
                          "smtpd_client_restrictions", "check_client_access inline:{198.51.100.1=REJECT}",
                          NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts t = { 0 };
    assert_string_equal(stage(env, STAGE_CONNECT, &t, &ps), CLIENT_REJECT);
    assert_string_equal(stage(env, STAGE_HELO, &t, &ps), CLIENT_REJECT);
    assert_string_equal(stage(env, STAGE_MAIL, &t, &ps), CLIENT_REJECT);
    assert_string_equal(stage(env, STAGE_RCPT, &t, &ps), CLIENT_REJECT);
    policy_env_free(env);
}

static void immediate_helo_and_sender(void **state)
{
    const char *cfg[] = { "smtpd_delay_reject", "no",
                          "smtpd_helo_restrictions", "reject_non_fqdn_helo_hostname",
                          "smtpd_sender_restrictions", "check_sender_access inline:{bad.test=REJECT}",
                          NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts bad_helo = { .helo = "localhost", .sender = "-", .rcpt = "-" };
    assert_string_equal(stage(env, STAGE_CONNECT, &bad_helo, &ps), "OK");
    assert_string_equal(stage(env, STAGE_HELO, &bad_helo, &ps),
                        "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname");
    /* A new EHLO is judged again. */
    struct tfacts good = { .sender = "-", .rcpt = "-" };
    assert_string_equal(stage(env, STAGE_HELO, &good, &ps), "OK");
    struct tfacts bad_sender = { .sender = "x@bad.test", .rcpt = "-" };
    assert_string_equal(stage(env, STAGE_MAIL, &bad_sender, &ps),
                        "554 5.7.1 <x@bad.test>: Sender address rejected: Access denied");
    struct tfacts rcpt_after = { .sender = "x@bad.test" };
    assert_string_equal(stage(env, STAGE_RCPT, &rcpt_after, &ps),
                        "554 5.7.1 <x@bad.test>: Sender address rejected: Access denied");
    /* A new transaction with another sender. */
    struct tfacts good_sender = { .rcpt = "-" };
    assert_string_equal(stage(env, STAGE_MAIL, &good_sender, &ps), "OK");
    struct tfacts ok_rcpt = { 0 };
    assert_string_equal(stage(env, STAGE_RCPT, &ok_rcpt, &ps), "OK");
    policy_env_free(env);
}

static void sender_memory_per_transaction(void **state)
{
    const char *cfg[] = { "smtpd_sender_restrictions", "check_sender_access inline:{bad.test=REJECT}",
                          NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts bad = { .sender = "x@bad.test" };
    assert_string_equal(stage(env, STAGE_MAIL, &bad, &ps), "OK");
    assert_string_equal(stage(env, STAGE_RCPT, &bad, &ps),
                        "554 5.7.1 <x@bad.test>: Sender address rejected: Access denied");
    assert_true(ps.sender_done);
    struct tfacts good = { 0 };
    assert_string_equal(stage(env, STAGE_MAIL, &good, &ps), "OK");
    assert_false(ps.sender_done);
    assert_string_equal(stage(env, STAGE_RCPT, &good, &ps), "OK");
    policy_env_free(env);
}

static void tempfail_not_remembered(void **state)
{
    const char *cfg[] = { "smtpd_client_restrictions", "check_client_access fail:down", NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts t = { 0 };
    struct tfacts_buf fb;
    tfacts_fill(&fb, &t);
    struct policy_decision d;
    struct policy_eval *pending = NULL;
    assert_true(policy_check(env, STAGE_RCPT, &fb.f, &ps, &d, NULL, NULL, &pending));
    assert_int_equal(d.action, POLICY_TEMPFAIL);
    assert_string_equal(tfmt(&d, out, sizeof(out)),
                        "451 4.3.5 <unknown[198.51.100.1]>: Client host rejected: Server configuration error");
    assert_false(ps.client_done);
    policy_env_free(env);
}

static void defer_if_permit_carried(void **state)
{
    const char *cfg[] = { "smtpd_client_restrictions", "defer_if_permit", NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts t = { 0 };
    const char *dip = "450 4.7.0 <unknown[198.51.100.1]>: Client host rejected: defer_if_permit requested";
    assert_string_equal(stage(env, STAGE_RCPT, &t, &ps), dip);
    assert_true(ps.client_dip_set);
    /* Remembered with the client result: the next RCPT defers too. */
    assert_string_equal(stage(env, STAGE_RCPT, &t, &ps), dip);
    /* As in Postfix, the deferral comes before the unlisted-recipient check. */
    struct tfacts unknown = { .rcpt = "dave@example.com" };
    assert_string_equal(stage(env, STAGE_RCPT, &unknown, &ps), dip);
    policy_env_free(env);

    const char *cfg2[] = { "smtpd_client_restrictions", "defer_if_permit",
                           "smtpd_recipient_restrictions", "reject", NULL };
    env = tenv_ok(cfg2);
    policy_session_init(&ps);
    assert_string_equal(stage(env, STAGE_RCPT, &t, &ps),
                        "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied");
    policy_env_free(env);
}

static void data_eod_auth(void **state)
{
    const char *cfg[] = { "smtpd_data_restrictions", "reject_multi_recipient_bounce",
                          "smtpd_end_of_data_restrictions", "reject", NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts one = { .sender = "", .rcpt = "-", .rcpt_count = 1 };
    struct tfacts two = { .sender = "", .rcpt = "-", .rcpt_count = 2 };
    assert_string_equal(stage(env, STAGE_DATA, &one, &ps), "OK");
    assert_string_equal(stage(env, STAGE_DATA, &two, &ps),
                        "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce");
    assert_string_equal(stage(env, STAGE_END_OF_DATA, &one, &ps),
                        "554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied");
    /* No smtpd_auth_restrictions parameter: AUTH is not restricted. */
    assert_string_equal(stage(env, STAGE_AUTH, &one, &ps), "OK");
    policy_env_free(env);

    const char *cfg2[] = { "smtpd_auth_restrictions", "permit_mynetworks, reject", NULL };
    env = tenv_ok(cfg2);
    struct tfacts outside = { .rcpt = "-", .sender = "-" };
    struct tfacts inside = { .addr = "192.0.2.50", .rcpt = "-", .sender = "-" };
    assert_string_equal(stage(env, STAGE_AUTH, &outside, &ps), CLIENT_REJECT);
    assert_string_equal(stage(env, STAGE_AUTH, &inside, &ps), "OK");
    policy_env_free(env);
}

/* ---- Parking ---- */

static struct policy_eval *parked_ev;
static int cancel_calls, done_calls;
static char done_text[700];

static void test_cancel(void *op)
{
    assert_ptr_equal(op, &cancel_calls);
    cancel_calls++;
}

static enum rstatus test_park(struct policy_eval *ev, const struct rstep *st)
{
    parked_ev = ev;
    ev->park_cancel = test_cancel;
    ev->park_op = &cancel_calls;
    return R_PENDING;
}

static const struct rdef park_row = { "test_park", RD_OP, test_park, ARG_NONE, 0, NULL };

static void on_done(void *arg, const struct policy_decision *d)
{
    assert_ptr_equal(arg, &done_calls);
    done_calls++;
    tfmt(d, done_text, sizeof(done_text));
}

/* Starts an RCPT check that must park. */
static struct policy_eval *start_parked(struct policy_env *env, struct tfacts_buf *fb,
                                        struct policy_session *ps)
{
    struct policy_decision d;
    struct policy_eval *pending = NULL;
    parked_ev = NULL;
    assert_false(policy_check(env, STAGE_RCPT, &fb->f, ps, &d, on_done, &done_calls, &pending));
    assert_non_null(pending);
    assert_ptr_equal(pending, parked_ev);
    return pending;
}

static void park_and_resume(void **state)
{
    const char *cfg[] = { "smtpd_recipient_restrictions", "test_park, reject", NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    struct tfacts t = { 0 };
    struct tfacts_buf fb;
    tfacts_fill(&fb, &t);

    /* DUNNO: the list goes on and rejects. */
    policy_session_init(&ps);
    done_calls = 0;
    struct policy_eval *ev = start_parked(env, &fb, &ps);
    policy_eval_resume(ev, R_DUNNO);
    assert_int_equal(done_calls, 1);
    assert_string_equal(done_text, "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied");

    /* OK: the list permits; the rest of the stage (unlisted check) still runs. */
    policy_session_init(&ps);
    ev = start_parked(env, &fb, &ps);
    policy_eval_resume(ev, R_OK);
    assert_int_equal(done_calls, 2);
    assert_string_equal(done_text, "OK");

    /* A rejection decided by the asynchronous step. */
    ev = start_parked(env, &fb, &ps);
    enum rstatus r = rv_reject(ev, ERR_POLICY, 554, "5.7.1", "<%s>: %s rejected: %s", "198.51.100.1",
                               "Client host", "Listed");
    policy_eval_resume(ev, r);
    assert_int_equal(done_calls, 3);
    assert_string_equal(done_text, "554 5.7.1 <198.51.100.1>: Client host rejected: Listed");

    /* Cancelled: done is never called, the pending operation is cancelled. */
    cancel_calls = 0;
    ev = start_parked(env, &fb, &ps);
    policy_cancel(ev);
    assert_int_equal(cancel_calls, 1);
    assert_int_equal(done_calls, 3);
    policy_env_free(env);
}

static void park_inside_class_twice(void **state)
{
    const char *cfg[] = { "smtpd_restriction_classes", "parked", "parked", "test_park test_park",
                          "smtpd_recipient_restrictions", "permit_mynetworks, parked, reject", NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts t = { 0 };
    struct tfacts_buf fb;
    tfacts_fill(&fb, &t);
    done_calls = 0;
    struct policy_eval *ev = start_parked(env, &fb, &ps);
    parked_ev = NULL;
    policy_eval_resume(ev, R_DUNNO);
    /* The class's second step parks again. */
    assert_int_equal(done_calls, 0);
    assert_ptr_equal(parked_ev, ev);
    policy_eval_resume(ev, R_DUNNO);
    assert_int_equal(done_calls, 1);
    assert_string_equal(done_text, "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied");

    /* OK from inside the class ends the recipient list with OK. */
    ev = start_parked(env, &fb, &ps);
    policy_eval_resume(ev, R_OK);
    assert_int_equal(done_calls, 2);
    assert_string_equal(done_text, "OK");
    policy_env_free(env);
}

static void warn_through_class(void **state)
{
    const char *cfg[] = { "smtpd_restriction_classes", "strict", "strict", "reject",
                          "smtpd_recipient_restrictions", "warn_if_reject strict, permit", NULL };
    struct policy_env *env = tenv_ok(cfg);
    struct policy_session ps;
    policy_session_init(&ps);
    struct tfacts t = { 0 };
    assert_string_equal(stage(env, STAGE_RCPT, &t, &ps), "OK");
    policy_env_free(env);
}

static int setup(void **state)
{
    return restrict_register(&park_row) ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delayed_client_reject),
        cmocka_unit_test(immediate_client_reject),
        cmocka_unit_test(immediate_helo_and_sender),
        cmocka_unit_test(sender_memory_per_transaction),
        cmocka_unit_test(tempfail_not_remembered),
        cmocka_unit_test(defer_if_permit_carried),
        cmocka_unit_test(data_eod_auth),
        cmocka_unit_test(park_and_resume),
        cmocka_unit_test(park_inside_class_twice),
        cmocka_unit_test(warn_through_class),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
