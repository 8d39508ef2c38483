/*
 * The mechanism catalogue, Postfix's security options, and the PLAIN
 * (RFC 4616) and LOGIN exchanges against a fake store: the RFC's own
 * examples, authzid rules, malformed messages and bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "auth/mech.h"
#include "fake_store.h"

static const struct fake_user users[] = {
    { "tim", "tanstaaftanstaaf", "QSXCR+Q6sek8bf92", 4096, true, false },
    { "Kurt", "xipj3plmq", "QSXCR+Q6sek8bf92", 4096, false, false },
    { "bob", "secret", "QSXCR+Q6sek8bf92", 4096, false, true },
    { "\xc3\xa9mile", "p\xc3\xa4ss", "QSXCR+Q6sek8bf92", 4096, false, false },
};

struct ctx {
    struct fake_store fs;
    struct mech_request req;
    struct mech_result res;
    char ch[512];
};

static int setup(void **state)
{
    static struct ctx c;
    fake_store_init(&c.fs, users, sizeof(users) / sizeof(users[0]));
    c.req = fake_request(&c.fs, "");
    mech_result_init(&c.res);
    *state = &c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    mech_result_free(&c->res);
    return 0;
}

static void catalogue(void **state)
{
    static const char *const known[] = {
        "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS",
        "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "NTLM", "GSSAPI", "GS2-KRB5", "OTP",
        "ANONYMOUS", "EXTERNAL", "XOAUTH2", "OAUTHBEARER", "APOP", "SKEY",
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        assert_non_null(mech_info_find(known[i]));
    assert_non_null(mech_info_find("plain"));
    assert_null(mech_info_find("KERBEROS_V4X"));
    assert_true(mech_info_find("PLAIN")->flags & MECH_PLAINTEXT);
    assert_true(mech_info_find("LOGIN")->flags & MECH_PLAINTEXT);
    assert_true(mech_info_find("CRAM-MD5")->flags & MECH_DICTIONARY);
    assert_false(mech_info_find("CRAM-MD5")->flags & MECH_PLAINTEXT);
    assert_true(mech_info_find("ANONYMOUS")->flags & MECH_ANONYMOUS);
    assert_true(mech_info_find("SCRAM-SHA-256")->flags & MECH_MUTUAL_AUTH);
    assert_false(mech_info_find("SCRAM-SHA-256")->flags & (MECH_PLAINTEXT | MECH_DICTIONARY));
    assert_true(mech_info_find("OTP")->flags & MECH_FORWARD_SECRECY);
    for (size_t i = 0; mech_implemented[i]; i++) {
        assert_non_null(mech_find(mech_implemented[i]));
        assert_non_null(mech_info_find(mech_implemented[i]));
    }
    assert_non_null(mech_find("scram-sha-256"));
    assert_null(mech_find("DIGEST-MD5"));
    assert_null(mech_find("SCRAM-SHA-256-PLUS"));
}

static void policy_words(void **state)
{
    struct mech_policy p;
    const char *why;
    unsigned plain = mech_info_find("PLAIN")->flags, cram = mech_info_find("CRAM-MD5")->flags,
             scram = mech_info_find("SCRAM-SHA-1")->flags, anon = mech_info_find("ANONYMOUS")->flags;
    assert_true(mech_policy_parse("", &p, &why));
    assert_true(mech_policy_allows(&p, plain) && mech_policy_allows(&p, anon));
    assert_true(mech_policy_parse("noanonymous", &p, &why));
    assert_true(mech_policy_allows(&p, plain));
    assert_false(mech_policy_allows(&p, anon));
    assert_true(mech_policy_parse("noanonymous, noplaintext", &p, &why));
    assert_false(mech_policy_allows(&p, plain));
    assert_true(mech_policy_allows(&p, cram));
    assert_true(mech_policy_parse(" NoPlainText\tnodictionary ,noanonymous", &p, &why));
    assert_false(mech_policy_allows(&p, cram));
    assert_true(mech_policy_allows(&p, scram));
    assert_true(mech_policy_parse("mutual_auth", &p, &why));
    assert_false(mech_policy_allows(&p, plain));
    assert_true(mech_policy_allows(&p, scram));
    assert_true(mech_policy_parse("forward_secrecy", &p, &why));
    assert_false(mech_policy_allows(&p, scram));
    assert_true(mech_policy_parse("noactive", &p, &why));
    assert_false(mech_policy_allows(&p, plain));
    assert_true(mech_policy_allows(&p, scram));
    assert_false(mech_policy_parse("noanonymous, nosuchthing", &p, &why));
    assert_non_null(strstr(why, "\"nosuchthing\""));
    assert_false(mech_policy_parse("noplaintext,mutual", &p, &why));
    assert_non_null(strstr(why, "\"mutual\""));
}

/* One PLAIN message through a fresh exchange. */
static enum mech_status plain_once(struct ctx *c, const char *msg, size_t len)
{
    const struct mech_ops *ops = mech_find("PLAIN");
    struct mech_exchange *x = ops->start(&c->req);
    enum mech_status st = fake_step(ops, x, msg, len, true, c->ch, sizeof(c->ch), &c->res);
    ops->free(x);
    return st;
}

#define PLAIN(c, lit) plain_once(c, lit, sizeof(lit) - 1)

static void plain_rfc4616_examples(void **state)
{
    struct ctx *c = *state;
    /* Section 4: "<NUL>tim<NUL>tanstaaftanstaaf" succeeds ... */
    assert_int_equal(PLAIN(c, "\0tim\0tanstaaftanstaaf"), MECH_SUCCESS);
    assert_string_equal(c->res.username, "tim");
    /* ... and "Ursel<NUL>Kurt<NUL>xipj3plmq" asks to act as another user: refused here. */
    assert_int_equal(PLAIN(c, "Ursel\0Kurt\0xipj3plmq"), MECH_FAILURE);
    assert_non_null(strstr(c->res.reason, "proxy authorization"));
    assert_int_equal(PLAIN(c, "Kurt\0Kurt\0xipj3plmq"), MECH_SUCCESS);
    assert_string_equal(c->res.username, "Kurt");
}

static void plain_without_initial_response(void **state)
{
    struct ctx *c = *state;
    const struct mech_ops *ops = mech_find("PLAIN");
    struct mech_exchange *x = ops->start(&c->req);
    assert_int_equal(fake_step(ops, x, NULL, 0, false, c->ch, sizeof(c->ch), &c->res), MECH_CONTINUE);
    assert_int_equal(c->res.challenge.len, 0);
    static const char msg[] = "\0tim\0tanstaaftanstaaf";
    assert_int_equal(fake_step(ops, x, msg, sizeof(msg) - 1, true, c->ch, sizeof(c->ch), &c->res),
                     MECH_SUCCESS);
    assert_int_equal(fake_step(ops, x, msg, sizeof(msg) - 1, true, c->ch, sizeof(c->ch), &c->res),
                     MECH_FAILURE);
    ops->free(x);
}

static void plain_credential_outcomes(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(PLAIN(c, "\0tim\0wrong"), MECH_FAILURE);
    assert_string_equal(c->res.reason, "wrong password");
    assert_string_equal(c->res.username, "tim");
    assert_int_equal(PLAIN(c, "\0nobody\0wrong"), MECH_FAILURE);
    assert_string_equal(c->res.reason, "unknown user");
    assert_int_equal(PLAIN(c, "\0bob\0secret"), MECH_FAILURE);
    assert_non_null(strstr(c->res.reason, "may not authenticate"));
    assert_int_equal(PLAIN(c, "\0\xc3\xa9mile\0p\xc3\xa4ss"), MECH_SUCCESS);
    c->fs.tempfail = true;
    assert_int_equal(PLAIN(c, "\0tim\0tanstaaftanstaaf"), MECH_TEMPFAIL);
    c->fs.tempfail = false;
}

static void plain_malformed(void **state)
{
    struct ctx *c = *state;
    int calls = c->fs.calls;
    assert_int_equal(PLAIN(c, ""), MECH_FAILURE);
    assert_int_equal(PLAIN(c, "timtanstaaftanstaaf"), MECH_FAILURE);
    assert_int_equal(PLAIN(c, "\0timtanstaaftanstaaf"), MECH_FAILURE);
    assert_int_equal(PLAIN(c, "\0tim\0tans\0taaf"), MECH_FAILURE);
    assert_int_equal(PLAIN(c, "\0\0tanstaaftanstaaf"), MECH_FAILURE);
    assert_int_equal(PLAIN(c, "\0tim\0"), MECH_FAILURE);
    assert_int_equal(PLAIN(c, "\0t\xffim\0x"), MECH_FAILURE);            /* not UTF-8 */
    assert_int_equal(PLAIN(c, "\0tim\0\xc0\xaf"), MECH_FAILURE);         /* overlong */
    assert_int_equal(PLAIN(c, "\0tim\0\xed\xa0\x80"), MECH_FAILURE);     /* surrogate */
    assert_int_equal(PLAIN(c, "\0tim\0\xf4\x90\x80\x80"), MECH_FAILURE); /* > U+10FFFF */
    assert_int_equal(PLAIN(c, "\0tim\0\xe2\x82"), MECH_FAILURE);         /* truncated */
    char big[300];
    memset(big, 'a', sizeof(big));
    big[0] = '\0';
    big[4] = '\0';                     /* "\0aaa\0" + 295 octets of password */
    assert_int_equal(plain_once(c, big, sizeof(big)), MECH_FAILURE);
    assert_non_null(strstr(c->res.reason, "255"));
    assert_int_equal(c->fs.calls, calls);    /* none of these reached the store */
    assert_int_equal(plain_once(c, big, 4 + 1 + 255), MECH_FAILURE);  /* 255 is allowed */
    assert_string_equal(c->res.reason, "unknown user");
}

static void login_exchange(void **state)
{
    struct ctx *c = *state;
    const struct mech_ops *ops = mech_find("LOGIN");
    struct mech_exchange *x = ops->start(&c->req);
    assert_int_equal(fake_step(ops, x, NULL, 0, false, c->ch, sizeof(c->ch), &c->res), MECH_CONTINUE);
    assert_string_equal(c->ch, "Username:");
    assert_int_equal(fake_step(ops, x, "tim", 3, true, c->ch, sizeof(c->ch), &c->res), MECH_CONTINUE);
    assert_string_equal(c->ch, "Password:");
    assert_int_equal(fake_step(ops, x, "tanstaaftanstaaf", 16, true, c->ch, sizeof(c->ch), &c->res),
                     MECH_SUCCESS);
    assert_string_equal(c->res.username, "tim");
    assert_int_equal(fake_step(ops, x, "", 0, true, c->ch, sizeof(c->ch), &c->res), MECH_FAILURE);
    ops->free(x);
}

static void login_initial_response(void **state)
{
    struct ctx *c = *state;
    const struct mech_ops *ops = mech_find("LOGIN");
    struct mech_exchange *x = ops->start(&c->req);
    assert_int_equal(fake_step(ops, x, "tim", 3, true, c->ch, sizeof(c->ch), &c->res), MECH_CONTINUE);
    assert_string_equal(c->ch, "Password:");
    assert_int_equal(fake_step(ops, x, "nope", 4, true, c->ch, sizeof(c->ch), &c->res), MECH_FAILURE);
    assert_string_equal(c->res.reason, "wrong password");
    assert_string_equal(c->res.username, "tim");
    ops->free(x);
    /* "AUTH LOGIN =": an empty initial response is no response. */
    x = ops->start(&c->req);
    assert_int_equal(fake_step(ops, x, "", 0, true, c->ch, sizeof(c->ch), &c->res), MECH_CONTINUE);
    assert_string_equal(c->ch, "Username:");
    ops->free(x);
}

static void login_malformed(void **state)
{
    struct ctx *c = *state;
    const struct mech_ops *ops = mech_find("LOGIN");
    struct mech_exchange *x = ops->start(&c->req);
    fake_step(ops, x, NULL, 0, false, c->ch, sizeof(c->ch), &c->res);
    assert_int_equal(fake_step(ops, x, "", 0, true, c->ch, sizeof(c->ch), &c->res), MECH_FAILURE);
    ops->free(x);
    x = ops->start(&c->req);
    assert_int_equal(fake_step(ops, x, "t\0m", 3, true, c->ch, sizeof(c->ch), &c->res), MECH_FAILURE);
    ops->free(x);
    x = ops->start(&c->req);
    fake_step(ops, x, "tim", 3, true, c->ch, sizeof(c->ch), &c->res);
    assert_int_equal(fake_step(ops, x, "a\0b", 3, true, c->ch, sizeof(c->ch), &c->res), MECH_FAILURE);
    ops->free(x);
    static char big[MECH_PASSWORD_MAX + 1];
    memset(big, 'x', sizeof(big));
    x = ops->start(&c->req);
    fake_step(ops, x, "tim", 3, true, c->ch, sizeof(c->ch), &c->res);
    assert_int_equal(fake_step(ops, x, big, sizeof(big), true, c->ch, sizeof(c->ch), &c->res),
                     MECH_FAILURE);
    ops->free(x);
    x = ops->start(&c->req);
    assert_int_equal(fake_step(ops, x, big, 256, true, c->ch, sizeof(c->ch), &c->res), MECH_FAILURE);
    ops->free(x);
    /* Legacy 8-bit passwords are passed through to the store. */
    x = ops->start(&c->req);
    fake_step(ops, x, "tim", 3, true, c->ch, sizeof(c->ch), &c->res);
    assert_int_equal(fake_step(ops, x, "\xe4\xf6", 2, true, c->ch, sizeof(c->ch), &c->res), MECH_FAILURE);
    assert_string_equal(c->res.reason, "wrong password");
    ops->free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalogue),
        cmocka_unit_test(policy_words),
        cmocka_unit_test(plain_rfc4616_examples),
        cmocka_unit_test(plain_without_initial_response),
        cmocka_unit_test(plain_credential_outcomes),
        cmocka_unit_test(plain_malformed),
        cmocka_unit_test(login_exchange),
        cmocka_unit_test(login_initial_response),
        cmocka_unit_test(login_malformed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
