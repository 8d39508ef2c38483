/*
 * Interoperability with a real, independent client: Cyrus SASL's
 * sasl-sample-client (Debian's sasl2-bin, with the libsasl2-modules
 * plugins) runs PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1 and SCRAM-SHA-256
 * against our mechanisms. It talks "S: base64" / "C: base64" lines on a
 * terminal (it reads its password from /dev/tty), so it runs under a pty.
 * For SCRAM the client checks our server signature itself: "Negotiation
 * complete" from it proves mutual authentication works. Skipped when the
 * client is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth/mech.h"
#include "base/base64.h"
#include "base/clock.h"
#include "fake_store.h"

#define CLIENT "sasl-sample-client"

static const struct fake_user users[] = {
    { "user", "pencil", "QSXCR+Q6sek8bf92", 4096, true, false },
};

struct run {
    struct fake_store fs;
    struct mech_request req;
    const struct mech_ops *ops;
    struct mech_exchange *x;
    struct mech_result res;
    const char *mech, *password;
    int fd;
    bool client_ok, client_failed, password_sent, started;
    char out[16384];        /* everything the client printed, for messages */
    size_t out_len;
};

static bool have_client(void)
{
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
    for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
        char file[4200];
        snprintf(file, sizeof(file), "%s/%s", dir, CLIENT);
        if (access(file, X_OK) == 0)
            return true;
    }
    return false;
}

static void send_line(struct run *r, const void *data, size_t len)
{
    char enc[4096];
    assert_true(base64_encoded_len(len) < sizeof(enc) - 8);
    base64_encode_to(data, len, enc);
    char line[4200];
    int n = snprintf(line, sizeof(line), "S: %s\n", enc);
    assert_int_equal(write(r->fd, line, (size_t)n), n);
}

/* One step of our server; answers the client when the mechanism continues. */
static void server_step(struct run *r, const uint8_t *data, size_t len, bool has_data)
{
    mech_result_free(&r->res);
    mech_result_init(&r->res);
    r->ops->step(r->x, data, len, has_data, &r->res);
    if (r->res.status == MECH_CONTINUE)
        send_line(r, r->res.challenge.data ? r->res.challenge.data : "", r->res.challenge.len);
}

/* A "C: base64" line: the first carries "MECH[\0initial response]". */
static void client_message(struct run *r, const char *b64)
{
    uint8_t data[4096];
    size_t len;
    assert_true(base64_decode_to(b64, strlen(b64), data, sizeof(data), &len));
    if (r->started) {
        server_step(r, data, len, true);
        return;
    }
    r->started = true;
    const uint8_t *nul = memchr(data, 0, len);
    size_t mlen = nul ? (size_t)(nul - data) : len;
    assert_true(mlen == strlen(r->mech) && memcmp(data, r->mech, mlen) == 0);
    if (nul)
        server_step(r, nul + 1, len - mlen - 1, true);
    else
        server_step(r, NULL, 0, false);
}

static void handle_line(struct run *r, char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        line[--n] = '\0';
    if (strstr(line, "Waiting for mechanism list") != NULL)
        send_line(r, r->mech, strlen(r->mech));
    else if (strncmp(line, "C: ", 3) == 0)
        client_message(r, line + 3);
    else if (strcmp(line, "Negotiation complete") == 0) {
        r->client_ok = true;
        /* SMTP's closing empty response after the server's final data. */
        if (r->res.status == MECH_CONTINUE)
            server_step(r, (const uint8_t *)"", 0, true);
    } else if (strncmp(line, CLIENT ":", strlen(CLIENT) + 1) == 0)
        r->client_failed = true;
}

/* Consumes complete lines (and the password prompt) from the pending text. */
static void process(struct run *r, char *pending, size_t *plen)
{
    pending[*plen] = '\0';
    char *pw = strstr(pending, "Password: ");
    if (pw != NULL && !r->password_sent) {
        r->password_sent = true;
        memmove(pw, pw + 10, strlen(pw + 10) + 1);
        *plen -= 10;
        char line[256];
        int n = snprintf(line, sizeof(line), "%s\n", r->password);
        assert_int_equal(write(r->fd, line, (size_t)n), n);
    }
    char *nl;
    while ((nl = strchr(pending, '\n')) != NULL) {
        *nl = '\0';
        handle_line(r, pending);
        size_t used = (size_t)(nl - pending) + 1;
        memmove(pending, nl + 1, *plen - used + 1);
        *plen -= used;
    }
}

/* Runs the client for mech until it finishes or 15 s pass. */
static void run_client(struct run *r, const char *mech, const char *authzid, const char *password)
{
    r->mech = mech;
    r->password = password;
    r->ops = mech_find(mech);
    r->x = r->ops->start(&r->req);
    mech_result_init(&r->res);
    pid_t pid = forkpty(&r->fd, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        execlp(CLIENT, CLIENT, "-m", mech, "-a", "user", "-u", authzid, "-s", "smtp", "-n",
               "mail.example.org", (char *)NULL);
        _exit(127);
    }
    char pending[8192];
    size_t plen = 0;
    int64_t deadline = clock_mono_us() + 15 * 1000000;
    while (clock_mono_us() < deadline && !r->client_failed &&
           !(r->client_ok && r->res.status != MECH_CONTINUE)) {
        struct pollfd p = { .fd = r->fd, .events = POLLIN };
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(r->fd, pending + plen, sizeof(pending) - plen - 1);
        if (n <= 0)
            break;
        if (r->out_len + (size_t)n < sizeof(r->out)) {
            memcpy(r->out + r->out_len, pending + plen, (size_t)n);
            r->out_len += (size_t)n;
        }
        plen += (size_t)n;
        process(r, pending, &plen);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    /* A client that gave up after "e=..." ends the SMTP exchange ("*" or an empty line). */
    if (r->client_failed && r->res.status == MECH_CONTINUE)
        server_step(r, (const uint8_t *)"", 0, true);
    close(r->fd);
    r->ops->free(r->x);
    r->out[r->out_len] = '\0';
}

static void reset(struct run *r)
{
    memset(r, 0, sizeof(*r));
    fake_store_init(&r->fs, users, 1);
    r->req = fake_request(&r->fs, "");
}

static void each_mechanism_with_cyrus_client(void **state)
{
    if (!have_client())
        skip();
    static const char *const mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" };
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
        struct run r;
        reset(&r);
        run_client(&r, mechs[i], "user", "pencil");
        if (r.res.status != MECH_SUCCESS || !r.client_ok)
            fail_msg("%s: server status %d (%s), client ok %d; client said:\n%s", mechs[i],
                     r.res.status, r.res.reason, r.client_ok, r.out);
        assert_string_equal(r.res.username, "user");
        mech_result_free(&r.res);
    }
}

static void wrong_password_fails_on_both_sides(void **state)
{
    if (!have_client())
        skip();
    static const char *const mechs[] = { "PLAIN", "CRAM-MD5", "SCRAM-SHA-256" };
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
        struct run r;
        reset(&r);
        run_client(&r, mechs[i], "user", "pencil2");
        if (r.res.status != MECH_FAILURE)
            fail_msg("%s: server status %d; client said:\n%s", mechs[i], r.res.status, r.out);
        assert_string_equal(r.res.reason, "wrong password");
        mech_result_free(&r.res);
    }
    /* SCRAM: the client sees e=invalid-proof and gives up. */
    struct run r;
    reset(&r);
    run_client(&r, "SCRAM-SHA-1", "user", "pencil2");
    assert_false(r.client_ok);
    mech_result_free(&r.res);
}

static void proxy_authorization_refused(void **state)
{
    if (!have_client())
        skip();
    static const char *const mechs[] = { "PLAIN", "SCRAM-SHA-256" };
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
        struct run r;
        reset(&r);
        run_client(&r, mechs[i], "admin", "pencil");
        if (r.res.status != MECH_FAILURE)
            fail_msg("%s: server status %d; client said:\n%s", mechs[i], r.res.status, r.out);
        assert_non_null(strstr(r.res.reason, "proxy authorization"));
        mech_result_free(&r.res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_mechanism_with_cyrus_client),
        cmocka_unit_test(wrong_password_fails_on_both_sides),
        cmocka_unit_test(proxy_authorization_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
