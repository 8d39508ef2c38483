/*
 * SCRAM-SHA-1 and SCRAM-SHA-256: the exchanges of RFC 5802 section 5 and
 * RFC 7677 section 3 byte for byte (with the server nonce fixed through
 * the test hook), a client computed here for other cases, and every kind
 * of malformed or hostile message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auth/mech.h"
#include "auth/scram.h"
#include "base/base64.h"
#include "fake_store.h"

static const struct fake_user users[] = {
    { "user", "pencil", "QSXCR+Q6sek8bf92", 4096, false, false },
    { "us,er=x", "pencil", "QSXCR+Q6sek8bf92", 4096, false, false },
    { "blocked", "pencil", "QSXCR+Q6sek8bf92", 4096, false, true },
};

struct ctx {
    struct fake_store fs;
    struct mech_request req;
    struct mech_result res;
    const struct mech_ops *ops;
    struct mech_exchange *x;
    char ch[1024];
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
    scram_test_set_nonce(NULL);
    return 0;
}

static void begin(struct ctx *c, const char *mech)
{
    c->ops = mech_find(mech);
    c->x = c->ops->start(&c->req);
}

static void end(struct ctx *c)
{
    c->ops->free(c->x);
    c->x = NULL;
}

static enum mech_status send(struct ctx *c, const char *msg)
{
    return fake_step(c->ops, c->x, msg, strlen(msg), true, c->ch, sizeof(c->ch), &c->res);
}

static void rfc5802_sha1(void **state)
{
    struct ctx *c = *state;
    scram_test_set_nonce("3rfcNHYJY1ZVvWVs7j");
    begin(c, "SCRAM-SHA-1");
    assert_int_equal(fake_step(c->ops, c->x, NULL, 0, false, c->ch, sizeof(c->ch), &c->res),
                     MECH_CONTINUE);
    assert_string_equal(c->ch, "");
    assert_int_equal(send(c, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"), MECH_CONTINUE);
    assert_string_equal(c->ch, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    assert_int_equal(send(c, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                             "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="), MECH_CONTINUE);
    assert_string_equal(c->ch, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    assert_int_equal(send(c, ""), MECH_SUCCESS);
    assert_string_equal(c->res.username, "user");
    end(c);
}

static void rfc7677_sha256(void **state)
{
    struct ctx *c = *state;
    static const struct fake_user u256[] = {
        { "user", "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096, false, false },
    };
    struct fake_store fs;
    fake_store_init(&fs, u256, 1);
    struct mech_request req = fake_request(&fs, "");
    scram_test_set_nonce("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    c->ops = mech_find("SCRAM-SHA-256");
    c->x = c->ops->start(&req);
    assert_int_equal(send(c, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), MECH_CONTINUE);
    assert_string_equal(c->ch, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                               "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    assert_int_equal(send(c, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                             "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="), MECH_CONTINUE);
    assert_string_equal(c->ch, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    assert_int_equal(send(c, ""), MECH_SUCCESS);
    end(c);
}

/*
 * A client: sends client-first, reads server-first, computes the proof
 * for password and sends client-final (with the given gs2 header and c=
 * value, and an extra attribute before p= if ext is set).
 */
static enum mech_status client(struct ctx *c, const char *mech, const char *gs2, const char *name,
                               const char *password, const char *cbind, const char *ext)
{
    enum scram_hash h = strcmp(mech, "SCRAM-SHA-1") == 0 ? SCRAM_SHA1 : SCRAM_SHA256;
    char first[512], final[1024], auth[2048];
    snprintf(first, sizeof(first), "%sn=%s,r=clientnonce123", gs2, name);
    begin(c, mech);
    if (send(c, first) != MECH_CONTINUE)
        return c->res.status;
    char server_first[512];
    strcpy(server_first, c->ch);
    char nonce[256], salt_b64[128];
    unsigned iter;
    assert_int_equal(sscanf(server_first, "r=%255[^,],s=%127[^,],i=%u", nonce, salt_b64, &iter), 3);
    assert_true(strncmp(nonce, "clientnonce123", 14) == 0 && strlen(nonce) > 14);
    uint8_t salt[64], salted[32], ck[32], sk[32], sig[32], proof[32];
    size_t salt_len, klen = scram_key_len(h);
    assert_true(base64_decode_to(salt_b64, strlen(salt_b64), salt, sizeof(salt), &salt_len));
    char cb64[64];
    base64_encode_to(cbind, strlen(cbind), cb64);
    int n = snprintf(final, sizeof(final), "c=%s,r=%s%s", cb64, nonce, ext ? ext : "");
    snprintf(auth, sizeof(auth), "%s,%s,%s", first + strlen(gs2), server_first, final);
    assert_true(scram_salted_password(h, password, strlen(password), salt, salt_len, iter, salted));
    assert_true(scram_hmac(h, salted, klen, "Client Key", 10, ck));
    assert_true(scram_digest(h, ck, klen, sk));
    assert_true(scram_hmac(h, sk, klen, auth, strlen(auth), sig));
    for (size_t i = 0; i < klen; i++)
        proof[i] = ck[i] ^ sig[i];
    strcpy(final + n, ",p=");
    base64_encode_to(proof, klen, final + n + 3);
    enum mech_status st = send(c, final);
    if (st != MECH_CONTINUE || strncmp(c->ch, "v=", 2) != 0)
        return st;
    /* Check the server signature as a client must (mutual authentication). */
    uint8_t svk[32], ssig[32];
    char want[64];
    assert_true(scram_hmac(h, salted, klen, "Server Key", 10, svk));
    assert_true(scram_hmac(h, svk, klen, auth, strlen(auth), ssig));
    base64_encode_to(ssig, klen, want);
    assert_string_equal(c->ch + 2, want);
    return st;
}

/* Finishes an exchange that got e=... and checks the failure. */
static void expect_error(struct ctx *c, enum mech_status st, const char *error, const char *reason)
{
    assert_int_equal(st, MECH_CONTINUE);
    assert_string_equal(c->ch, error);
    assert_int_equal(send(c, ""), MECH_FAILURE);
    if (reason)
        assert_non_null(strstr(c->res.reason, reason));
    end(c);
}

static void own_client_both_hashes(void **state)
{
    struct ctx *c = *state;
    const char *mechs[] = { "SCRAM-SHA-1", "SCRAM-SHA-256" };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(client(c, mechs[i], "n,,", "user", "pencil", "n,,", NULL), MECH_CONTINUE);
        assert_int_equal(send(c, ""), MECH_SUCCESS);
        end(c);
        /* "y,,": the client could bind but thinks we cannot. */
        assert_int_equal(client(c, mechs[i], "y,,", "user", "pencil", "y,,", NULL), MECH_CONTINUE);
        assert_int_equal(send(c, ""), MECH_SUCCESS);
        end(c);
        /* authzid equal to the user, and an ignored extension. */
        assert_int_equal(client(c, mechs[i], "n,a=user,", "user", "pencil", "n,a=user,", ",x=ext"),
                         MECH_CONTINUE);
        assert_int_equal(send(c, ""), MECH_SUCCESS);
        end(c);
        /* saslname escaping. */
        assert_int_equal(client(c, mechs[i], "n,,", "us=2Cer=3Dx", "pencil", "n,,", NULL), MECH_CONTINUE);
        assert_int_equal(send(c, ""), MECH_SUCCESS);
        assert_string_equal(c->res.username, "us,er=x");
        end(c);
    }
}

static void wrong_password_and_unknown_user_look_alike(void **state)
{
    struct ctx *c = *state;
    expect_error(c, client(c, "SCRAM-SHA-256", "n,,", "user", "pencil2", "n,,", NULL),
                 "e=invalid-proof", "wrong password");
    assert_int_equal(client(c, "SCRAM-SHA-256", "n,,", "ghost", "pencil", "n,,", NULL), MECH_CONTINUE);
    assert_string_equal(c->ch, "e=invalid-proof");
    assert_int_equal(send(c, ""), MECH_FAILURE);
    assert_string_equal(c->res.reason, "unknown user");
    assert_string_equal(c->res.username, "ghost");
    end(c);
    expect_error(c, client(c, "SCRAM-SHA-1", "n,,", "blocked", "pencil", "n,,", NULL),
                 "e=invalid-proof", "may not authenticate");
    expect_error(c, client(c, "SCRAM-SHA-1", "n,,", "blocked", "pencil!", "n,,", NULL),
                 "e=invalid-proof", "wrong password");
    expect_error(c, client(c, "SCRAM-SHA-1", "n,a=other,", "user", "pencil", "n,a=other,", NULL),
                 "e=invalid-proof", "proxy authorization");
}

static void bad_client_final(void **state)
{
    struct ctx *c = *state;
    /* c= that does not repeat the GS2 header. */
    expect_error(c, client(c, "SCRAM-SHA-1", "n,,", "user", "pencil", "y,,", NULL),
                 "e=channel-bindings-dont-match", NULL);
    /* Wrong nonce. */
    begin(c, "SCRAM-SHA-1");
    send(c, "n,,n=user,r=abc");
    expect_error(c, send(c, "c=biws,r=abcX,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="), "e=other-error", "nonce");
    /* Proof of the wrong size, bad base64, missing parts. */
    static const char *const bad[] = {
        "c=biws,r=%s,p=AAAA", "c=biws,r=%s,p=!!!!", "c=biws,r=%s", "r=%s,c=biws,p=AAAA",
        "c=biws,p=AAAA", "c=biws,r=%s,p=", "c=bi,r=%s,p=AAAA", "c=biws,r=%s,1=x,p=AAAA",
        "c=biws,r=%s,p=AAAA,x=y",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        begin(c, "SCRAM-SHA-1");
        assert_int_equal(send(c, "n,,n=user,r=abc"), MECH_CONTINUE);
        char nonce[128], msg[256];
        sscanf(c->ch, "r=%127[^,]", nonce);
        snprintf(msg, sizeof(msg), bad[i], nonce);
        assert_int_equal(send(c, msg), MECH_CONTINUE);
        assert_true(strncmp(c->ch, "e=", 2) == 0);
        assert_int_equal(send(c, ""), MECH_FAILURE);
        end(c);
    }
}

static void bad_client_first(void **state)
{
    struct ctx *c = *state;
    static const char *const bad[] = {
        "", "p=tls-unique,,n=user,r=abc", "x,,n=user,r=abc", "n,n=user,r=abc", "n,,",
        "n,,m=ext,n=user,r=abc", "n,,n=,r=abc", "n,,n=us=2Xer,r=abc", "n,,n=user=,r=abc",
        "n,,n=user", "n,,n=user,r=", "n,,n=user,r=a b", "n,,n=user,x=abc", "n,,r=abc,n=user",
        "n,a=,n=user,r=abc", "n,b=user,n=user,r=abc", "n,,n=us\xffr,r=abc", "n,,n=user,r=abc,1=x",
        "n,,n=user,r=abc,",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        begin(c, "SCRAM-SHA-256");
        assert_int_equal(send(c, bad[i]), MECH_FAILURE);
        end(c);
    }
    begin(c, "SCRAM-SHA-256");
    assert_int_equal(send(c, "p=tls-unique,,n=user,r=abc"), MECH_FAILURE);
    assert_non_null(strstr(c->res.reason, "channel binding"));
    end(c);
    static char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    memcpy(big, "n,,n=user,r=", 12);
    begin(c, "SCRAM-SHA-256");
    assert_int_equal(send(c, big), MECH_FAILURE);
    end(c);
    /* A client nonce at the limit is fine; one past it is not. */
    char nonce_msg[400];
    snprintf(nonce_msg, sizeof(nonce_msg), "n,,n=user,r=%0*d", SCRAM_NONCE_MAX, 7);
    begin(c, "SCRAM-SHA-256");
    assert_int_equal(send(c, nonce_msg), MECH_CONTINUE);
    end(c);
    snprintf(nonce_msg, sizeof(nonce_msg), "n,,n=user,r=%0*d", SCRAM_NONCE_MAX + 1, 7);
    begin(c, "SCRAM-SHA-256");
    assert_int_equal(send(c, nonce_msg), MECH_FAILURE);
    end(c);
}

static void tempfail_and_ack(void **state)
{
    struct ctx *c = *state;
    c->fs.tempfail = true;
    begin(c, "SCRAM-SHA-1");
    assert_int_equal(send(c, "n,,n=user,r=abc"), MECH_TEMPFAIL);
    end(c);
    c->fs.tempfail = false;
    /* Data after v= instead of an empty response. */
    assert_int_equal(client(c, "SCRAM-SHA-1", "n,,", "user", "pencil", "n,,", NULL), MECH_CONTINUE);
    assert_int_equal(send(c, "x"), MECH_FAILURE);
    assert_int_equal(send(c, ""), MECH_FAILURE);        /* finished */
    end(c);
}

static void random_nonces_differ(void **state)
{
    struct ctx *c = *state;
    char a[512];
    scram_test_set_nonce(NULL);
    begin(c, "SCRAM-SHA-256");
    send(c, "n,,n=user,r=abc");
    strcpy(a, c->ch);
    end(c);
    begin(c, "SCRAM-SHA-256");
    send(c, "n,,n=user,r=abc");
    assert_string_not_equal(a, c->ch);
    assert_true(strlen(a) > strlen("r=abc,s=,i=4096") + 20);
    end(c);
}

static void saslname_codec(void **state)
{
    char out[32];
    assert_true(scram_saslname_decode("a=2Cb=3Dc", 9, out, sizeof(out)));
    assert_string_equal(out, "a,b=c");
    assert_false(scram_saslname_decode("a=2", 3, out, sizeof(out)));
    assert_false(scram_saslname_decode("a=2c", 4, out, sizeof(out)));
    assert_false(scram_saslname_decode("a,b", 3, out, sizeof(out)));
    assert_false(scram_saslname_decode("abcd", 4, out, 4));
    assert_true(scram_saslname_decode("abc", 3, out, 4));
    assert_true(scram_saslname_encode("a,b=c", out, sizeof(out)));
    assert_string_equal(out, "a=2Cb=3Dc");
    assert_false(scram_saslname_encode("a,b", out, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5802_sha1),
        cmocka_unit_test(rfc7677_sha256),
        cmocka_unit_test(own_client_both_hashes),
        cmocka_unit_test(wrong_password_and_unknown_user_look_alike),
        cmocka_unit_test(bad_client_final),
        cmocka_unit_test(bad_client_first),
        cmocka_unit_test(tempfail_and_ack),
        cmocka_unit_test(random_nonces_differ),
        cmocka_unit_test(saslname_codec),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
