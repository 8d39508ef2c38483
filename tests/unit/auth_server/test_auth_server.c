/*
 * The auth process and the worker's client together on one loop: the
 * real server, the real mechanisms, the real client library and a fake
 * credential store (alice/secret; "slow" takes 300 ms).
 *
 * Proves: per-service mechanism lists (and none for a disabled service),
 * PLAIN with and without an initial response, LOGIN's two challenges,
 * SCRAM-SHA-256's three rounds with the server signature checked,
 * failures with and without a temporary flag, abort without a callback,
 * that a slow password check does not hold up other exchanges, that
 * callbacks never run inside the client's calls, that an auth process
 * restart fails exchanges temporarily and is reconnected to, and that a
 * worker sending garbage or answering out of turn loses only its own
 * connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/client.h"
#include "auth/mech.h"
#include "auth/proto.h"
#include "auth/scram.h"
#include "auth/server.h"
#include "base/base64.h"
#include "base/log.h"
#include "ipc/msg.h"
#include "ipc/stream.h"

/* ---- fake store ---- */

static struct scram_secret alice_scram;
static const uint8_t alice_salt[] = "gatepost-test-salt";

static enum cred_status fake_verify(void *ctx, const struct mech_request *req, const char *user,
                                    const char *password, char user_out[CRED_USER_MAX])
{
    snprintf(user_out, CRED_USER_MAX, "%s", user);
    if (strcmp(user, "slow") == 0) {
        usleep(300000);
        return CRED_BAD_PASSWORD;
    }
    if (strcmp(user, "down") == 0)
        return CRED_TEMPFAIL;
    if (strcmp(user, "alice") != 0)
        return CRED_NO_USER;
    return strcmp(password, "secret") == 0 ? CRED_OK : CRED_BAD_PASSWORD;
}

static enum cred_status fake_scram(void *ctx, const struct mech_request *req, const char *user,
                                   enum scram_hash h, struct scram_secret *out,
                                   char user_out[CRED_USER_MAX])
{
    snprintf(user_out, CRED_USER_MAX, "%s", user);
    *out = alice_scram;
    return strcmp(user, "alice") == 0 && h == SCRAM_SHA256 ? CRED_OK : CRED_NO_USER;
}

static const struct cred_store fake_store = { NULL, "fake", fake_verify, fake_scram, NULL };

/* ---- log capture ---- */

static char logged[8192];

static void capture(const char *line, void *arg)
{
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
}

/* ---- fixture ---- */

struct fixture {
    struct event_base *base;
    char dir[64];
    char path[128];
    struct config *cfg_on, *cfg_off;
    struct auth_server_service services[2];
    struct auth_server_setup setup;
    struct auth_server *server;
    struct auth_client *client;
};

struct result {
    int calls;
    struct auth_reply last;
    char data[512];
    size_t len;
    char user[256];
    char reason[1100];
};

static void on_reply(void *arg, const struct auth_reply *r)
{
    struct result *res = arg;
    res->calls++;
    res->last = *r;
    res->len = r->len < sizeof(res->data) ? r->len : sizeof(res->data) - 1;
    if (r->data)
        memcpy(res->data, r->data, res->len);
    res->data[res->len] = '\0';
    snprintf(res->user, sizeof(res->user), "%s", r->username ? r->username : "");
    snprintf(res->reason, sizeof(res->reason), "%s", r->reason ? r->reason : "");
}

static bool cond_calls(void *arg)
{
    return ((struct result *)arg)->calls > 0;
}

/* Runs the loop until cond or 5 s. */
static void run_until(struct event_base *base, bool (*cond)(void *), void *arg)
{
    for (int i = 0; i < 5000 && !cond(arg); i++) {
        struct timeval tv = { 0, 1000 };
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static void spin(struct event_base *base, int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static struct config *load(const char *text)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_parse_text(text, "main.cf", &d);
    diag_free(&d);
    assert_non_null(cfg);
    return cfg;
}

static bool cond_connected(void *arg)
{
    struct fixture *f = arg;
    return auth_client_mechs(f->client, "submission") != NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->base = event_base_new();
    snprintf(f->dir, sizeof(f->dir), "/tmp/gp-authsrv-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/authd", f->dir);
    f->cfg_on = load("smtpd_sasl_auth_enable = yes\nsmtpd_sasl_local_domain = example.org\n");
    f->cfg_off = load("smtpd_sasl_auth_enable = no\n");
    f->services[0] = (struct auth_server_service){ "smtp", f->cfg_off };
    f->services[1] = (struct auth_server_service){ "submission", f->cfg_on };
    f->setup = (struct auth_server_setup){ f->services, 2, f->path, (uid_t)-1, (gid_t)-1, 2,
                                           &fake_store };
    struct diag d;
    diag_init(&d);
    f->server = auth_server_new(f->base, &f->setup, &d);
    assert_int_equal(d.errors, 0);
    diag_free(&d);
    assert_non_null(f->server);
    f->client = auth_client_new(f->base, f->path);
    run_until(f->base, cond_connected, f);
    assert_true(auth_client_connected(f->client));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    auth_client_free(f->client);
    auth_server_free(f->server);
    config_free(f->cfg_on);
    config_free(f->cfg_off);
    unlink(f->path);
    rmdir(f->dir);
    event_base_free(f->base);
    free(f);
    return 0;
}

static struct auth_exchange *start(struct fixture *f, const char *service, const char *mech,
                                   const char *initial, size_t ilen, bool has_initial,
                                   struct result *res)
{
    struct auth_start_info info = {
        .service = service, .mech = mech, .client_addr = "192.0.2.10", .client_port = 4242,
        .client_name = "client.example", .local_addr = "192.0.2.1", .local_port = 587,
        .secured = true, .tls_cipher = "TLS_AES_256_GCM_SHA384",
        .initial = (const uint8_t *)initial, .initial_len = ilen, .has_initial = has_initial,
    };
    memset(res, 0, sizeof(*res));
    struct auth_exchange *x = auth_client_start(f->client, &info, on_reply, res);
    assert_non_null(x);
    assert_int_equal(res->calls, 0);     /* never inside the call */
    return x;
}

/* ---- tests ---- */

static void mechanisms_per_service(void **state)
{
    struct fixture *f = *state;
    const struct auth_mech_list *l = auth_client_mechs(f->client, "submission");
    assert_non_null(l);
    assert_int_equal(l->count, 5);
    bool plain = false, scram = false;
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->mechs[i].name, "PLAIN") == 0)
            plain = (l->mechs[i].flags & MECH_PLAINTEXT) != 0;
        if (strcmp(l->mechs[i].name, "SCRAM-SHA-256") == 0)
            scram = (l->mechs[i].flags & MECH_MUTUAL_AUTH) != 0;
    }
    assert_true(plain);
    assert_true(scram);
    assert_null(auth_client_mechs(f->client, "smtp"));      /* AUTH disabled there */
    assert_null(auth_client_mechs(f->client, "nosuch"));
}

static void plain_initial_response(void **state)
{
    struct fixture *f = *state;
    struct result res;
    start(f, "submission", "plain", "\0alice\0secret", 13, true, &res);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.last.kind, AUTH_REPLY_SUCCESS);
    assert_string_equal(res.user, "alice");
}

static void plain_without_initial_response(void **state)
{
    struct fixture *f = *state;
    struct result res;
    struct auth_exchange *x = start(f, "submission", "PLAIN", NULL, 0, false, &res);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_CHALLENGE);
    assert_int_equal(res.len, 0);
    res.calls = 0;
    auth_client_step(x, (const uint8_t *)"\0alice\0wrong", 12);
    assert_int_equal(res.calls, 0);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_FAILURE);
    assert_false(res.last.temporary);
    assert_true(res.reason[0] != '\0');
}

static void login_two_challenges(void **state)
{
    struct fixture *f = *state;
    struct result res;
    struct auth_exchange *x = start(f, "submission", "LOGIN", NULL, 0, false, &res);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_CHALLENGE);
    assert_string_equal(res.data, "Username:");
    res.calls = 0;
    auth_client_step(x, (const uint8_t *)"alice", 5);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_CHALLENGE);
    assert_string_equal(res.data, "Password:");
    res.calls = 0;
    auth_client_step(x, (const uint8_t *)"secret", 6);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_SUCCESS);
    assert_string_equal(res.user, "alice");
}

/* The client side of SCRAM-SHA-256, from RFC 5802 section 3. */
static void scram_proof(const char *auth_message, const char *password, const uint8_t *salt,
                        size_t salt_len, unsigned iter, char *proof_b64, uint8_t *server_sig)
{
    uint8_t sp[SCRAM_KEY_MAX], ck[SCRAM_KEY_MAX], sk[SCRAM_KEY_MAX], stored[SCRAM_KEY_MAX],
        csig[SCRAM_KEY_MAX], proof[SCRAM_KEY_MAX], skey[SCRAM_KEY_MAX];
    assert_true(scram_salted_password(SCRAM_SHA256, password, strlen(password), salt, salt_len,
                                      iter, sp));
    assert_true(scram_hmac(SCRAM_SHA256, sp, 32, "Client Key", 10, ck));
    assert_true(scram_digest(SCRAM_SHA256, ck, 32, stored));
    assert_true(scram_hmac(SCRAM_SHA256, stored, 32, auth_message, strlen(auth_message), csig));
    for (int i = 0; i < 32; i++)
        proof[i] = ck[i] ^ csig[i];
    base64_encode_to(proof, 32, proof_b64);
    assert_true(scram_hmac(SCRAM_SHA256, sp, 32, "Server Key", 10, skey));
    assert_true(scram_hmac(SCRAM_SHA256, skey, 32, auth_message, strlen(auth_message), sk));
    memcpy(server_sig, sk, 32);
    (void)sk;
}

static void scram_sha256_three_rounds(void **state)
{
    struct fixture *f = *state;
    struct result res;
    const char *first = "n,,n=alice,r=rOprNGfwEbeRWgbNEkqO";
    struct auth_exchange *x = start(f, "submission", "SCRAM-SHA-256", first, strlen(first), true,
                                    &res);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_CHALLENGE);
    char server_first[512];
    snprintf(server_first, sizeof(server_first), "%s", res.data);
    /* r=<nonce>,s=<salt>,i=<iterations> */
    assert_true(strncmp(server_first, "r=rOprNGfwEbeRWgbNEkqO", 22) == 0);
    char nonce[256];
    const char *comma = strchr(server_first, ',');
    snprintf(nonce, sizeof(nonce), "%.*s", (int)(comma - server_first - 2), server_first + 2);
    const char *ip = strstr(server_first, ",i=");
    unsigned iter = (unsigned)atoi(ip + 3);
    char without_proof[300], auth_message[1200], proof[64], final[400];
    snprintf(without_proof, sizeof(without_proof), "c=biws,r=%s", nonce);
    snprintf(auth_message, sizeof(auth_message), "%s,%s,%s", first + 3, server_first,
             without_proof);
    uint8_t server_sig[32];
    scram_proof(auth_message, "secret", alice_salt, sizeof(alice_salt) - 1, iter, proof,
                server_sig);
    snprintf(final, sizeof(final), "%s,p=%s", without_proof, proof);
    res.calls = 0;
    auth_client_step(x, (const uint8_t *)final, strlen(final));
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_CHALLENGE);
    char expect[64] = "v=";
    base64_encode_to(server_sig, 32, expect + 2);
    assert_string_equal(res.data, expect);       /* the server proved itself */
    res.calls = 0;
    auth_client_step(x, (const uint8_t *)"", 0);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_SUCCESS);
    assert_string_equal(res.user, "alice");
}

static void refusals(void **state)
{
    struct fixture *f = *state;
    struct result res;
    start(f, "submission", "FOO", "", 0, true, &res);   /* not offered */
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_FAILURE);
    assert_false(res.last.temporary);
    start(f, "submission", "PL AIN", "", 0, true, &res); /* not a SASL name */
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_FAILURE);
    assert_non_null(strstr(res.reason, "mechanism name"));
    start(f, "smtp", "PLAIN", "\0alice\0secret", 13, true, &res);   /* AUTH off there */
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_FAILURE);
    assert_non_null(strstr(res.reason, "not enabled"));
    start(f, "nosuch", "PLAIN", "\0alice\0secret", 13, true, &res);
    run_until(f->base, cond_calls, &res);
    assert_true(res.last.temporary);
    start(f, "submission", "PLAIN", "\0down\0x", 7, true, &res);    /* backend trouble */
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_FAILURE);
    assert_true(res.last.temporary);
}

static void abort_means_no_callback(void **state)
{
    struct fixture *f = *state;
    struct result res;
    struct auth_exchange *x = start(f, "submission", "LOGIN", NULL, 0, false, &res);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_CHALLENGE);
    res.calls = 0;
    auth_client_abort(x);
    /* aborted while a step runs on the pool */
    struct result res2;
    struct auth_exchange *y = start(f, "submission", "PLAIN", "\0slow\0x", 7, true, &res2);
    auth_client_abort(y);
    spin(f->base, 500);
    assert_int_equal(res.calls, 0);
    assert_int_equal(res2.calls, 0);
    /* the connection is still fine */
    start(f, "submission", "PLAIN", "\0alice\0secret", 13, true, &res);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_SUCCESS);
}

static bool both_done(void *arg)
{
    struct result *r = arg;
    return r[0].calls > 0 && r[1].calls > 0;
}

static void slow_check_does_not_block_others(void **state)
{
    struct fixture *f = *state;
    struct result res[2];
    start(f, "submission", "PLAIN", "\0slow\0x", 7, true, &res[0]);
    start(f, "submission", "PLAIN", "\0alice\0secret", 13, true, &res[1]);
    run_until(f->base, cond_calls, &res[1]);
    assert_int_equal(res[1].last.kind, AUTH_REPLY_SUCCESS);
    assert_int_equal(res[0].calls, 0);          /* still hashing */
    run_until(f->base, both_done, res);
    assert_int_equal(res[0].last.kind, AUTH_REPLY_FAILURE);
}

static bool cond_disconnected(void *arg)
{
    return !auth_client_connected(arg);
}

static void restart_fails_temporarily_then_reconnects(void **state)
{
    struct fixture *f = *state;
    struct result res;
    struct auth_exchange *x = start(f, "submission", "LOGIN", NULL, 0, false, &res);
    (void)x;
    run_until(f->base, cond_calls, &res);
    res.calls = 0;
    auth_server_free(f->server);                /* the auth process dies */
    f->server = NULL;
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_FAILURE);
    assert_true(res.last.temporary);
    run_until(f->base, cond_disconnected, f->client);
    assert_non_null(strstr(logged, "lost the connection to the auth process"));
    assert_null(auth_client_mechs(f->client, "submission"));
    start(f, "submission", "PLAIN", "\0alice\0secret", 13, true, &res);
    run_until(f->base, cond_calls, &res);
    assert_true(res.last.temporary);            /* nobody to ask */
    struct diag d;
    diag_init(&d);
    f->server = auth_server_new(f->base, &f->setup, &d);
    diag_free(&d);
    assert_non_null(f->server);
    run_until(f->base, cond_connected, f);
    assert_non_null(auth_client_mechs(f->client, "submission"));
    start(f, "submission", "PLAIN", "\0alice\0secret", 13, true, &res);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_SUCCESS);
}

/* A raw worker connection sending bytes of our choosing. */
static int raw_connect(struct fixture *f)
{
    int fd = ipc_unix_connect(f->path);
    assert_true(fd >= 0);
    spin(f->base, 20);                          /* accepted */
    return fd;
}

static bool raw_closed(struct fixture *f, int fd)
{
    spin(f->base, 50);
    char b[4096];
    for (int i = 0; i < 100; i++) {
        ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
        if (n == 0)
            return true;
        if (n < 0)
            return false;
    }
    return false;
}

static void garbage_closes_only_that_connection(void **state)
{
    struct fixture *f = *state;
    logged[0] = '\0';
    int fd = raw_connect(f);
    static const char junk[] = "\0\0\0\x10GET / HTTP/1.0\r\n\r\n";
    assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
    assert_true(raw_closed(f, fd));
    close(fd);
    assert_non_null(strstr(logged, "malformed message from a worker"));
    /* a step before any challenge: out of turn */
    fd = raw_connect(f);
    struct buf out;
    buf_init(&out, 0);
    struct auth_start_info info = { .service = "submission", .mech = "LOGIN" };
    const char *why;
    assert_true(auth_proto_put_start(&out, 9, &info, &why));
    assert_true(auth_proto_put_step(&out, 9, (const uint8_t *)"x", 1, &why));
    assert_int_equal(write(fd, out.data, out.len), (ssize_t)out.len);
    assert_true(raw_closed(f, fd));
    close(fd);
    buf_free(&out);
    assert_non_null(strstr(logged, "response before the challenge"));
    /* the real client was not disturbed */
    struct result res;
    start(f, "submission", "PLAIN", "\0alice\0secret", 13, true, &res);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_SUCCESS);
}

static void oversized_step_is_refused_locally(void **state)
{
    struct fixture *f = *state;
    struct result res;
    struct auth_exchange *x = start(f, "submission", "LOGIN", NULL, 0, false, &res);
    run_until(f->base, cond_calls, &res);
    res.calls = 0;
    size_t n = IPC_DATA_MAX + 1;
    uint8_t *big = calloc(1, n);
    auth_client_step(x, big, n);
    free(big);
    assert_int_equal(res.calls, 0);
    run_until(f->base, cond_calls, &res);
    assert_int_equal(res.last.kind, AUTH_REPLY_FAILURE);
    assert_false(res.last.temporary);
}

/* Only root and the workers' uid may talk to the auth process. */
static void stranger_is_refused(void **state)
{
    struct fixture *f = *state;
    if (geteuid() != 0)
        skip();
    /* let anybody reach the socket file, so that only the peer check stands */
    chmod(f->dir, 0755);
    chmod(f->path, 0666);
    logged[0] = '\0';
    struct buf out;                 /* built before fork: the child must not allocate */
    buf_init(&out, 0);
    auth_proto_put_mechs_req(&out, 0, "");
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        int fd = ipc_unix_connect(f->path);
        if (fd < 0)
            _exit(3);
        (void)!send(fd, out.data, out.len, MSG_NOSIGNAL);  /* may find it closed already */
        fcntl(fd, F_SETFL, 0);
        char b[64];
        _exit(read(fd, b, sizeof(b)) <= 0 ? 0 : 4);   /* closed (or reset) without an answer */
    }
    buf_free(&out);
    int status = -1;
    for (int i = 0; i < 1000; i++) {
        spin(f->base, 10);
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child status %d (exited %d, code %d, signal %d)", status, WIFEXITED(status),
                 WEXITSTATUS(status), WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    assert_non_null(strstr(logged, "refused a connection from uid 65534"));
}

int main(void)
{
    log_set_hook(capture, NULL);
    assert_true(scram_secret_from_password(SCRAM_SHA256, "secret", 6, alice_salt,
                                           sizeof(alice_salt) - 1, 4096, &alice_scram));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mechanisms_per_service, setup, teardown),
        cmocka_unit_test_setup_teardown(plain_initial_response, setup, teardown),
        cmocka_unit_test_setup_teardown(plain_without_initial_response, setup, teardown),
        cmocka_unit_test_setup_teardown(login_two_challenges, setup, teardown),
        cmocka_unit_test_setup_teardown(scram_sha256_three_rounds, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_means_no_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(slow_check_does_not_block_others, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_fails_temporarily_then_reconnects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(garbage_closes_only_that_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_step_is_refused_locally, setup, teardown),
        cmocka_unit_test_setup_teardown(stranger_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
