/*
 * The Dovecot backend against a scripted fake auth server on the same
 * loop, for what a real Dovecot will not do on demand: the exact request
 * lines (client facts, secured, resp=), CANCEL on abort, replies for ids
 * nobody waits for, malformed lines and a wrong protocol version (the
 * exchanges in flight fail temporarily and the backend reconnects), and
 * the mechanism list reaching workers only after the handshake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/client.h"
#include "auth/server.h"
#include "base/log.h"
#include "ipc/stream.h"

/* ---- fake Dovecot ---- */

struct fake {
    int lfd;
    struct event *accept_ev;
    struct ipc_stream *conn;
    int accepted;
    char lines[8192];               /* everything received, as text */
    const char *greeting;           /* sent on accept */
};

static void fake_input(struct ipc_stream *s, struct buf *in, void *arg)
{
    struct fake *f = arg;
    size_t n = strlen(f->lines);
    snprintf(f->lines + n, sizeof(f->lines) - n, "%.*s", (int)in->len, in->data);
    buf_consume(in, in->len);
}

static void fake_closed(struct ipc_stream *s, const char *why, void *arg)
{
    struct fake *f = arg;
    ipc_stream_free(s);
    f->conn = NULL;
}

static const struct ipc_stream_handlers fake_handlers = { fake_input, fake_closed, NULL };

static void fake_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct fake *f = arg;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return;
    if (f->conn)
        ipc_stream_free(f->conn);
    f->accepted++;
    f->conn = ipc_stream_new(event_get_base(f->accept_ev), fd, false, 65536, 65536,
                             &fake_handlers, f);
    ipc_stream_write(f->conn, f->greeting, strlen(f->greeting));
}

static void fake_send(struct fake *f, const char *text)
{
    assert_non_null(f->conn);
    assert_true(ipc_stream_write(f->conn, text, strlen(text)));
}

static const char *const GOOD_GREETING =
    "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nMECH\tEXTERNAL\tprivate\n"
    "SPID\t77\nCUID\t1\nCOOKIE\t0123456789abcdef\nDONE\n";

/* ---- fixture ---- */

struct fixture {
    struct event_base *base;
    char dir[64], dovecot_path[128], authd_path[128];
    struct config *cfg;
    struct auth_server_service svc;
    struct auth_server *server;
    struct auth_client *client;
    struct fake fake;
};

struct result {
    int calls;
    enum auth_reply_kind kind;
    bool temporary;
    char data[256];
    char user[256];
    char reason[256];
};

static void on_reply(void *arg, const struct auth_reply *r)
{
    struct result *res = arg;
    res->calls++;
    res->kind = r->kind;
    res->temporary = r->temporary;
    snprintf(res->data, sizeof(res->data), "%.*s", (int)r->len, r->data ? (const char *)r->data : "");
    snprintf(res->user, sizeof(res->user), "%s", r->username ? r->username : "");
    snprintf(res->reason, sizeof(res->reason), "%s", r->reason ? r->reason : "");
}

typedef bool (*cond_fn)(void *);

static void run_until(struct event_base *base, cond_fn cond, void *arg)
{
    for (int i = 0; i < 5000 && !cond(arg); i++) {
        struct timeval tv = { 0, 1000 };
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static bool got_reply(void *arg)
{
    return ((struct result *)arg)->calls > 0;
}

static bool mechs_known(void *arg)
{
    struct fixture *f = arg;
    return auth_client_mechs(f->client, "submission") != NULL;
}

static const char *wanted_text;

static bool fake_got(void *arg)
{
    return strstr(((struct fixture *)arg)->fake.lines, wanted_text) != NULL;
}

static void wait_fake_line(struct fixture *f, const char *text)
{
    wanted_text = text;
    run_until(f->base, fake_got, f);
    if (strstr(f->fake.lines, text) == NULL)
        fail_msg("fake Dovecot got:\n%s", f->fake.lines);
}

static void make(struct fixture *f, const char *greeting)
{
    f->base = event_base_new();
    snprintf(f->dir, sizeof(f->dir), "/tmp/gp-dvfake-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->dovecot_path, sizeof(f->dovecot_path), "%s/auth-client", f->dir);
    snprintf(f->authd_path, sizeof(f->authd_path), "%s/authd", f->dir);
    struct buf why;
    buf_init(&why, 256);
    f->fake.lfd = ipc_unix_listen(f->dovecot_path, 0600, (uid_t)-1, (gid_t)-1, 8, &why);
    buf_free(&why);
    assert_true(f->fake.lfd >= 0);
    f->fake.greeting = greeting;
    f->fake.accept_ev = event_new(f->base, f->fake.lfd, EV_READ | EV_PERSIST, fake_accept, &f->fake);
    event_add(f->fake.accept_ev, NULL);
    char text[512];
    snprintf(text, sizeof(text),
             "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_path = %s\n",
             f->dovecot_path);
    struct diag d;
    diag_init(&d);
    f->cfg = config_parse_text(text, "main.cf", &d);
    assert_non_null(f->cfg);
    f->svc = (struct auth_server_service){ "submission", f->cfg };
    struct auth_server_setup setup = { &f->svc, 1, f->authd_path, (uid_t)-1, (gid_t)-1, 1, NULL };
    f->server = auth_server_new(f->base, &setup, &d);
    assert_non_null(f->server);
    diag_free(&d);
    f->client = auth_client_new(f->base, f->authd_path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    make(f, GOOD_GREETING);
    run_until(f->base, mechs_known, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    auth_client_free(f->client);
    auth_server_free(f->server);
    ipc_stream_free(f->fake.conn);
    event_free(f->fake.accept_ev);
    close(f->fake.lfd);
    config_free(f->cfg);
    unlink(f->dovecot_path);
    unlink(f->authd_path);
    rmdir(f->dir);
    event_base_free(f->base);
    free(f);
    return 0;
}

static struct auth_exchange *start(struct fixture *f, const char *mech, const char *initial,
                                   size_t ilen, bool has_initial, struct result *res)
{
    struct auth_start_info info = {
        .service = "submission", .mech = mech, .client_addr = "198.51.100.9",
        .client_port = 50123, .client_name = "c.example", .local_addr = "192.0.2.1",
        .local_port = 465, .secured = true, .tls_cipher = "TLS_AES_128_GCM_SHA256",
        .initial = (const uint8_t *)initial, .initial_len = ilen, .has_initial = has_initial,
    };
    memset(res, 0, sizeof(*res));
    return auth_client_start(f->client, &info, on_reply, res);
}

/* ---- tests ---- */

static void handshake_then_mechanisms(void **state)
{
    struct fixture *f = *state;
    const struct auth_mech_list *l = auth_client_mechs(f->client, "submission");
    assert_non_null(l);
    assert_int_equal(l->count, 2);              /* EXTERNAL is private */
    assert_string_equal(l->mechs[0].name, "PLAIN");
    assert_int_equal(l->mechs[0].flags, MECH_PLAINTEXT);
    char cpid[32];
    snprintf(cpid, sizeof(cpid), "VERSION\t1\t2\nCPID\t%d\n", (int)getpid());
    assert_non_null(strstr(f->fake.lines, cpid));
}

static void request_lines_and_replies(void **state)
{
    struct fixture *f = *state;
    struct result res;
    start(f, "plain", "\0u\0p", 4, true, &res);
    wait_fake_line(f, "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=192.0.2.1\trip=198.51.100.9"
                      "\tlport=465\trport=50123\tsecured\tresp=AHUAcA==\n");
    fake_send(&f->fake, "OK\t999\tuser=nobody\n");     /* nobody waits for 999: ignored */
    fake_send(&f->fake, "OK\t1\tuser=u@example.org\textra=1\n");
    run_until(f->base, got_reply, &res);
    assert_int_equal(res.kind, AUTH_REPLY_SUCCESS);
    assert_string_equal(res.user, "u@example.org");
    /* a LOGIN with challenges, then a failure with a reason */
    struct auth_exchange *x = start(f, "LOGIN", NULL, 0, false, &res);
    wait_fake_line(f, "AUTH\t2\tLOGIN\tservice=smtp\tnologin\tlip=192.0.2.1\trip=198.51.100.9"
                      "\tlport=465\trport=50123\tsecured\n");
    fake_send(&f->fake, "CONT\t2\tVXNlcm5hbWU6\n");
    run_until(f->base, got_reply, &res);
    assert_int_equal(res.kind, AUTH_REPLY_CHALLENGE);
    assert_string_equal(res.data, "Username:");
    res.calls = 0;
    auth_client_step(x, (const uint8_t *)"u", 1);
    wait_fake_line(f, "CONT\t2\tdQ==\n");
    fake_send(&f->fake, "FAIL\t2\tuser=u\treason=Password expired\n");
    run_until(f->base, got_reply, &res);
    assert_int_equal(res.kind, AUTH_REPLY_FAILURE);
    assert_false(res.temporary);
    assert_string_equal(res.reason, "Password expired");
    assert_string_equal(res.user, "u");
    /* temp */
    start(f, "PLAIN", "\0u\0p", 4, true, &res);
    wait_fake_line(f, "AUTH\t3\t");
    fake_send(&f->fake, "FAIL\t3\ttemp\n");
    run_until(f->base, got_reply, &res);
    assert_true(res.temporary);
    assert_string_equal(res.reason, "authentication failure");
}

static void abort_sends_cancel(void **state)
{
    struct fixture *f = *state;
    struct result res;
    struct auth_exchange *x = start(f, "LOGIN", NULL, 0, false, &res);
    wait_fake_line(f, "AUTH\t1\tLOGIN");
    fake_send(&f->fake, "CONT\t1\tVXNlcm5hbWU6\n");
    run_until(f->base, got_reply, &res);
    res.calls = 0;
    auth_client_abort(x);
    wait_fake_line(f, "CANCEL\t1\n");
    fake_send(&f->fake, "FAIL\t1\n");                  /* late: dropped */
    struct timeval tv = { 0, 100000 };
    event_base_loopexit(f->base, &tv);
    event_base_dispatch(f->base);
    assert_int_equal(res.calls, 0);
}

static bool reconnected(void *arg)
{
    struct fixture *f = arg;
    return f->fake.accepted >= 2 && strstr(f->fake.lines, "CPID") != NULL;
}

static void malformed_reply_fails_temporarily_and_reconnects(void **state)
{
    struct fixture *f = *state;
    struct result res;
    start(f, "PLAIN", "\0u\0p", 4, true, &res);
    wait_fake_line(f, "AUTH\t1\t");
    fake_send(&f->fake, "OK\tnot-a-number\tuser=x\n");
    run_until(f->base, got_reply, &res);
    assert_int_equal(res.kind, AUTH_REPLY_FAILURE);
    assert_true(res.temporary);
    f->fake.lines[0] = '\0';
    run_until(f->base, reconnected, f);        /* after the 1 s backoff */
    assert_int_equal(f->fake.accepted, 2);
    start(f, "PLAIN", "\0u\0p", 4, true, &res);
    wait_fake_line(f, "AUTH\t1\t");
    fake_send(&f->fake, "OK\t1\tuser=u\n");
    run_until(f->base, got_reply, &res);
    assert_int_equal(res.kind, AUTH_REPLY_SUCCESS);
}

static void bad_challenge_base64(void **state)
{
    struct fixture *f = *state;
    struct result res;
    start(f, "LOGIN", NULL, 0, false, &res);
    wait_fake_line(f, "AUTH\t1\t");
    fake_send(&f->fake, "CONT\t1\t%%%\n");
    run_until(f->base, got_reply, &res);
    assert_int_equal(res.kind, AUTH_REPLY_FAILURE);
    assert_true(res.temporary);
    wait_fake_line(f, "CANCEL\t1\n");
}

static void wrong_version_is_never_ready(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    make(f, "VERSION\t2\t0\nMECH\tPLAIN\tplaintext\nDONE\n");
    *state = f;
    struct timeval tv = { 0, 300000 };
    event_base_loopexit(f->base, &tv);
    event_base_dispatch(f->base);
    assert_true(auth_client_connected(f->client));
    assert_null(auth_client_mechs(f->client, "submission"));
    struct result res;
    start(f, "PLAIN", "\0u\0p", 4, true, &res);
    run_until(f->base, got_reply, &res);
    assert_int_equal(res.kind, AUTH_REPLY_FAILURE);
    assert_true(res.temporary);
}

int main(void)
{
    log_set_hook(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(handshake_then_mechanisms, setup, teardown),
        cmocka_unit_test_setup_teardown(request_lines_and_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_sends_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_reply_fails_temporarily_and_reconnects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_challenge_base64, setup, teardown),
        cmocka_unit_test_teardown(wrong_version_is_never_ready, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
