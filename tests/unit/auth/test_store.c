/*
 * The credential store over a real user database: outcomes for known,
 * unknown, wrong-password, disabled and network-restricted users; the
 * dummy hash really runs and costs what a real check costs; fake SCRAM
 * salts are stable; CRAM-MD5 works only when enabled; realm rules; and
 * whole mechanism exchanges running against the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/cram_md5.h"
#include "auth/mech.h"
#include "auth/password.h"
#include "auth/scram.h"
#include "auth/store_userdb.h"
#include "auth/userdb.h"
#include "base/base64.h"
#include "base/clock.h"
#include "fake_store.h"

static char dir[64], path[128];
static struct cred_store *store;

static void add_user(struct userdb *db, const char *key, const char *pw, unsigned flags,
                     const char *nets)
{
    struct userdb_record r;
    const char *why;
    char err[USERDB_ERR_MAX];
    memset(&r, 0, sizeof(r));
    r.flags = flags;
    assert_true(userdb_record_set_password(&r, pw, SCRAM_ITERATIONS_DEFAULT, &why));
    strcpy(r.networks, nets);
    assert_int_equal(userdb_put(db, key, &r, true, err, sizeof(err)), USERDB_OK);
}

static int setup(void **state)
{
    char err[USERDB_ERR_MAX];
    password_set_cost(2);
    strcpy(dir, "/tmp/gp-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/users.lmdb", dir);
    struct userdb *db = userdb_open(path, true, err, sizeof(err));
    assert_non_null(db);
    add_user(db, "alice@example.org", "alice pw", 0, "");
    add_user(db, "carol@example.org", "carol pw", USERDB_CRAM_MD5, "");
    add_user(db, "dave@example.org", "dave pw", USERDB_DISABLED | USERDB_CRAM_MD5, "");
    add_user(db, "erin@example.org", "erin pw", USERDB_CRAM_MD5, "192.0.2.0/24, !198.51.100.7, 198.51.100.0/24");
    add_user(db, "frank", "frank pw", 0, "");
    userdb_close(db);
    store = store_userdb_open(path, err, sizeof(err));
    assert_non_null(store);
    return 0;
}

static int teardown(void **state)
{
    char lock[160];
    store_userdb_close(store);
    snprintf(lock, sizeof(lock), "%s-lock", path);
    unlink(path);
    unlink(lock);
    rmdir(dir);
    return 0;
}

static struct mech_request request(const char *realm, const char *addr)
{
    struct mech_request r = { .service = "smtp", .realm = realm, .client_addr = addr,
                              .secured = true, .store = store };
    return r;
}

static enum cred_status verify(const char *realm, const char *addr, const char *user,
                               const char *pw, char out[CRED_USER_MAX])
{
    struct mech_request req = request(realm, addr);
    return store->verify_password(store->ctx, &req, user, pw, out);
}

static void password_outcomes(void **state)
{
    char out[CRED_USER_MAX];
    assert_string_equal(store->name, "gatepost");
    assert_int_equal(verify("", "192.0.2.1", "alice@example.org", "alice pw", out), CRED_OK);
    assert_string_equal(out, "alice@example.org");
    assert_int_equal(verify("", "192.0.2.1", "alice@EXAMPLE.org", "alice pw", out), CRED_OK);
    assert_string_equal(out, "alice@example.org");
    assert_int_equal(verify("", "192.0.2.1", "alice@example.org", "alice pw ", out), CRED_BAD_PASSWORD);
    assert_int_equal(verify("", "192.0.2.1", "Alice@example.org", "alice pw", out), CRED_NO_USER);
    assert_int_equal(verify("", "192.0.2.1", "nobody@example.org", "x", out), CRED_NO_USER);
    assert_string_equal(out, "nobody@example.org");
    assert_int_equal(verify("", "192.0.2.1", "bad\tname", "x", out), CRED_NO_USER);
    /* Disabled: refused even with the right password; a wrong one is still "wrong". */
    assert_int_equal(verify("", "192.0.2.1", "dave@example.org", "dave pw", out), CRED_NOT_ALLOWED);
    assert_int_equal(verify("", "192.0.2.1", "dave@example.org", "nope", out), CRED_BAD_PASSWORD);
}

static void realm_rules(void **state)
{
    char out[CRED_USER_MAX];
    /* smtpd_sasl_local_domain: a bare name gets the realm. */
    assert_int_equal(verify("example.org", "192.0.2.1", "alice", "alice pw", out), CRED_OK);
    assert_string_equal(out, "alice@example.org");
    assert_int_equal(verify("Example.Org", "192.0.2.1", "alice", "alice pw", out), CRED_OK);
    /* Without a realm, "alice" is a different (unknown) user ... */
    assert_int_equal(verify("", "192.0.2.1", "alice", "alice pw", out), CRED_NO_USER);
    assert_string_equal(out, "alice");
    /* ... and realm-less users need an empty realm. */
    assert_int_equal(verify("", "192.0.2.1", "frank", "frank pw", out), CRED_OK);
    assert_int_equal(verify("example.org", "192.0.2.1", "frank", "frank pw", out), CRED_NO_USER);
    /* A name with "@" keeps its own realm. */
    assert_int_equal(verify("other.test", "192.0.2.1", "alice@example.org", "alice pw", out), CRED_OK);
}

static void per_user_networks(void **state)
{
    char out[CRED_USER_MAX];
    assert_int_equal(verify("", "192.0.2.77", "erin@example.org", "erin pw", out), CRED_OK);
    assert_int_equal(verify("", "198.51.100.8", "erin@example.org", "erin pw", out), CRED_OK);
    assert_int_equal(verify("", "198.51.100.7", "erin@example.org", "erin pw", out), CRED_NOT_ALLOWED);
    assert_int_equal(verify("", "203.0.113.1", "erin@example.org", "erin pw", out), CRED_NOT_ALLOWED);
    assert_int_equal(verify("", "::ffff:192.0.2.9", "erin@example.org", "erin pw", out), CRED_OK);
    assert_int_equal(verify("", "2001:db8::1", "erin@example.org", "erin pw", out), CRED_NOT_ALLOWED);
    assert_int_equal(verify("", "", "erin@example.org", "erin pw", out), CRED_NOT_ALLOWED);
    assert_int_equal(verify("", NULL, "erin@example.org", "erin pw", out), CRED_NOT_ALLOWED);
    /* Outside the networks a wrong password is reported as such. */
    assert_int_equal(verify("", "203.0.113.1", "erin@example.org", "x", out), CRED_BAD_PASSWORD);
    /* No list: anywhere. */
    assert_int_equal(verify("", "203.0.113.1", "alice@example.org", "alice pw", out), CRED_OK);
}

/* Time of one verification, in microseconds. */
static int64_t time_us(const char *user, const char *pw)
{
    char out[CRED_USER_MAX];
    int64_t t0 = clock_mono_us();
    verify("", "192.0.2.1", user, pw, out);
    return clock_mono_us() - t0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

#define TIMING_ROUNDS 11

static void unknown_user_costs_a_hash(void **state)
{
    char out[CRED_USER_MAX];
    unsigned long before = password_hash_count();
    assert_int_equal(verify("", "192.0.2.1", "ghost@example.org", "pw", out), CRED_NO_USER);
    assert_int_equal(password_hash_count(), before + 1);
    before = password_hash_count();
    assert_int_equal(verify("", "192.0.2.1", "alice@example.org", "pw", out), CRED_BAD_PASSWORD);
    assert_int_equal(password_hash_count(), before + 1);
    before = password_hash_count();
    assert_int_equal(verify("", "192.0.2.1", "bad\x01name", "pw", out), CRED_NO_USER);
    assert_int_equal(password_hash_count(), before + 1);
    /* Comparable timing: the dummy has the cost real hashes have. */
    /* Interleaved, compared by median, so load on the machine hits both alike. */
    int64_t unknown[TIMING_ROUNDS], wrong[TIMING_ROUNDS];
    time_us("ghost@example.org", "pw");         /* warm up */
    for (int i = 0; i < TIMING_ROUNDS; i++) {
        unknown[i] = time_us("ghost@example.org", "pw");
        wrong[i] = time_us("alice@example.org", "pw");
    }
    qsort(unknown, TIMING_ROUNDS, sizeof(unknown[0]), cmp_i64);
    qsort(wrong, TIMING_ROUNDS, sizeof(wrong[0]), cmp_i64);
    double u = (double)unknown[TIMING_ROUNDS / 2], w = (double)wrong[TIMING_ROUNDS / 2];
    assert_true(u > w * 0.5 && u < w * 2.0);
}

static void scram_secrets(void **state)
{
    struct mech_request req = request("", "192.0.2.1");
    struct scram_secret a, b, c;
    char out[CRED_USER_MAX];
    assert_int_equal(store->scram_secret(store->ctx, &req, "alice@example.org", SCRAM_SHA256, &a, out),
                     CRED_OK);
    assert_int_equal(a.key_len, 32);
    /* Unknown users: a fake salt that stays the same and differs per name. */
    assert_int_equal(store->scram_secret(store->ctx, &req, "ghost@example.org", SCRAM_SHA256, &b, out),
                     CRED_NO_USER);
    assert_int_equal(store->scram_secret(store->ctx, &req, "ghost@example.org", SCRAM_SHA256, &c, out),
                     CRED_NO_USER);
    assert_memory_equal(&b, &c, sizeof(b));
    assert_int_equal(b.salt_len, a.salt_len);
    assert_int_equal(b.iterations, a.iterations);
    assert_int_equal(b.key_len, 32);
    assert_int_equal(store->scram_secret(store->ctx, &req, "ghost2@example.org", SCRAM_SHA256, &c, out),
                     CRED_NO_USER);
    assert_memory_not_equal(b.salt, c.salt, b.salt_len);
    assert_int_equal(store->scram_secret(store->ctx, &req, "ghost@example.org", SCRAM_SHA1, &c, out),
                     CRED_NO_USER);
    assert_int_equal(c.key_len, 20);
    assert_int_equal(store->scram_secret(store->ctx, &req, "dave@example.org", SCRAM_SHA1, &c, out),
                     CRED_NOT_ALLOWED);
}

/* A whole exchange of mechanism `mech` with the store; returns the final status. */
static enum mech_status run_plain(const char *realm, const char *addr, const char *authcid,
                                  const char *pw, struct mech_result *res)
{
    struct mech_request req = request(realm, addr);
    const struct mech_ops *ops = mech_find("PLAIN");
    char msg[256], ch[64];
    int n = snprintf(msg, sizeof(msg), "%c%s%c%s", 0, authcid, 0, pw);
    struct mech_exchange *x = ops->start(&req);
    enum mech_status st = fake_step(ops, x, msg, (size_t)n, true, ch, sizeof(ch), res);
    ops->free(x);
    return st;
}

static enum mech_status run_cram(const char *user, const char *pw, struct mech_result *res)
{
    struct mech_request req = request("", "192.0.2.1");
    const struct mech_ops *ops = mech_find("CRAM-MD5");
    char ch[400], resp[400];
    struct mech_exchange *x = ops->start(&req);
    assert_int_equal(fake_step(ops, x, NULL, 0, false, ch, sizeof(ch), res), MECH_CONTINUE);
    struct cram_md5_secret s;
    uint8_t mac[16];
    cram_md5_secret_from_password(pw, strlen(pw), &s);
    cram_md5_hmac(&s, ch, strlen(ch), mac);
    int n = snprintf(resp, sizeof(resp), "%s ", user);
    for (int i = 0; i < 16; i++)
        n += snprintf(resp + n, sizeof(resp) - (size_t)n, "%02x", mac[i]);
    enum mech_status st = fake_step(ops, x, resp, (size_t)n, true, ch, sizeof(ch), res);
    ops->free(x);
    return st;
}

static void mechanisms_over_the_store(void **state)
{
    struct mech_result res;
    mech_result_init(&res);
    assert_int_equal(run_plain("example.org", "192.0.2.1", "alice", "alice pw", &res), MECH_SUCCESS);
    assert_string_equal(res.username, "alice@example.org");
    assert_int_equal(run_plain("", "192.0.2.1", "alice@example.org", "alice", &res), MECH_FAILURE);
    assert_string_equal(res.reason, "wrong password");
    assert_int_equal(run_plain("", "203.0.113.5", "erin@example.org", "erin pw", &res), MECH_FAILURE);
    assert_non_null(strstr(res.reason, "may not authenticate"));
    /* CRAM-MD5 only for users who have it enabled. */
    assert_int_equal(run_cram("carol@example.org", "carol pw", &res), MECH_SUCCESS);
    assert_string_equal(res.username, "carol@example.org");
    assert_int_equal(run_cram("carol@example.org", "carol pw!", &res), MECH_FAILURE);
    assert_int_equal(run_cram("alice@example.org", "alice pw", &res), MECH_FAILURE);
    assert_non_null(strstr(res.reason, "no secret"));
    assert_int_equal(run_cram("ghost@example.org", "x", &res), MECH_FAILURE);
    assert_string_equal(res.reason, "unknown user");
    assert_int_equal(run_cram("dave@example.org", "dave pw", &res), MECH_FAILURE);
    assert_non_null(strstr(res.reason, "may not authenticate"));
    assert_int_equal(run_cram("dave@example.org", "dave pw?", &res), MECH_FAILURE);
    assert_string_equal(res.reason, "wrong password");
    mech_result_free(&res);
}

static void scram_over_the_store(void **state)
{
    struct mech_request req = request("example.org", "192.0.2.1");
    const struct mech_ops *ops = mech_find("SCRAM-SHA-256");
    struct mech_result res;
    mech_result_init(&res);
    char ch[512], nonce[128], salt_b64[64], first_msg[] = "n,,n=alice,r=nonce1";
    unsigned iter;
    struct mech_exchange *x = ops->start(&req);
    assert_int_equal(fake_step(ops, x, first_msg, strlen(first_msg), true, ch, sizeof(ch), &res),
                     MECH_CONTINUE);
    char server_first[512];
    strcpy(server_first, ch);
    assert_int_equal(sscanf(ch, "r=%127[^,],s=%63[^,],i=%u", nonce, salt_b64, &iter), 3);
    /* The client side, as in test_scram. */
    uint8_t salt[64], salted[32], ck[32], sk[32], sig[32], proof[32];
    size_t salt_len;
    char final[512], auth[2048];
    assert_true(base64_decode_to(salt_b64, strlen(salt_b64), salt, sizeof(salt), &salt_len));
    int n = snprintf(final, sizeof(final), "c=biws,r=%s", nonce);
    snprintf(auth, sizeof(auth), "n=alice,r=nonce1,%s,%s", server_first, final);
    assert_true(scram_salted_password(SCRAM_SHA256, "alice pw", 8, salt, salt_len, iter, salted));
    assert_true(scram_hmac(SCRAM_SHA256, salted, 32, "Client Key", 10, ck));
    assert_true(scram_digest(SCRAM_SHA256, ck, 32, sk));
    assert_true(scram_hmac(SCRAM_SHA256, sk, 32, auth, strlen(auth), sig));
    for (int i = 0; i < 32; i++)
        proof[i] = ck[i] ^ sig[i];
    strcpy(final + n, ",p=");
    base64_encode_to(proof, 32, final + n + 3);
    assert_int_equal(fake_step(ops, x, final, strlen(final), true, ch, sizeof(ch), &res), MECH_CONTINUE);
    assert_true(strncmp(ch, "v=", 2) == 0);
    assert_int_equal(fake_step(ops, x, "", 0, true, ch, sizeof(ch), &res), MECH_SUCCESS);
    assert_string_equal(res.username, "alice@example.org");
    ops->free(x);
    mech_result_free(&res);
}

/* Many threads at once: every answer stays right. */
static void *hammer(void *arg)
{
    long bad = 0;
    char out[CRED_USER_MAX];
    for (int i = 0; i < 20; i++) {
        struct mech_request req = request("example.org", "192.0.2.1");
        struct scram_secret sec;
        bad += verify("example.org", "192.0.2.1", "alice", "alice pw", out) != CRED_OK;
        bad += verify("", "192.0.2.1", "ghost@example.org", "x", out) != CRED_NO_USER;
        bad += store->scram_secret(store->ctx, &req, "carol", SCRAM_SHA1, &sec, out) != CRED_OK;
        bad += strcmp(out, "carol@example.org") != 0;
    }
    return (void *)bad;
}

static void concurrent_use(void **state)
{
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < 6; i++) {
        void *bad;
        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_null(bad);
    }
}

static void refuses_unsafe_file(void **state)
{
    char err[USERDB_ERR_MAX];
    assert_int_equal(chmod(path, 0604), 0);
    assert_null(store_userdb_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, "0600"));
    assert_int_equal(chmod(path, 0600), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(password_outcomes),
        cmocka_unit_test(realm_rules),
        cmocka_unit_test(per_user_networks),
        cmocka_unit_test(unknown_user_costs_a_hash),
        cmocka_unit_test(scram_secrets),
        cmocka_unit_test(mechanisms_over_the_store),
        cmocka_unit_test(scram_over_the_store),
        cmocka_unit_test(concurrent_use),
        cmocka_unit_test(refuses_unsafe_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
