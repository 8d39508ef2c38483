/*
 * The saslauthd credential store; see saslauthd.h.
 *
 * A reply that is not "OK..."/"NO..." in the documented framing, a
 * connection refused, or a timeout is a temporary failure (454), logged
 * with its cause: the client must not be told "wrong password" because
 * the helper is down. The request buffer holds the password, so it is
 * wiped before it is freed.
 */
#include "auth/saslauthd.h"

#include "auth/mech.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "base/clock.h"
#include "ipc/stream.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct saslauthd_store {
    struct cred_store store;        /* first: the store is the context */
    char *path;
    unsigned timeout_ms;
};

static bool put_field(struct buf *out, const char *s)
{
    size_t n = strlen(s);
    if (n > SASLAUTHD_FIELD_MAX)
        return false;
    uint8_t len[2] = { (uint8_t)(n >> 8), (uint8_t)n };
    return buf_append(out, len, 2) && buf_append(out, s, n);
}

bool saslauthd_query(const char *login, const char *password, const char *service,
                     const char *realm, struct buf *out)
{
    return put_field(out, login) && put_field(out, password) && put_field(out, service) &&
           put_field(out, realm);
}

enum saslauthd_answer saslauthd_reply(const uint8_t *p, size_t len, char *remark,
                                      size_t remark_size)
{
    remark[0] = '\0';
    if (len < 2)
        return SASLAUTHD_NEED_MORE;
    size_t n = (size_t)p[0] << 8 | p[1];
    if (n < 2 || n > SASLAUTHD_REPLY_MAX)
        return SASLAUTHD_MALFORMED;
    if (len < 2 + n)
        return SASLAUTHD_NEED_MORE;
    if (len > 2 + n)
        return SASLAUTHD_MALFORMED;     /* one answer per connection */
    const uint8_t *text = p + 2;
    bool yes = text[0] == 'O' && text[1] == 'K';
    bool no = text[0] == 'N' && text[1] == 'O';
    if (!yes && !no)
        return SASLAUTHD_MALFORMED;
    size_t k = 0;
    for (size_t i = 2; i < n && k + 1 < remark_size; i++)
        remark[k++] = (text[i] >= 0x20 && text[i] < 0x7f) ? (char)text[i] : '?';
    remark[k] = '\0';
    return yes ? SASLAUTHD_YES : SASLAUTHD_NO;
}

bool saslauthd_canonical(const char *user, const char *realm, char out[CRED_USER_MAX])
{
    int n;
    if (strchr(user, '@') || realm == NULL || realm[0] == '\0')
        n = snprintf(out, CRED_USER_MAX, "%s", user);
    else
        n = snprintf(out, CRED_USER_MAX, "%s@%s", user, realm);
    return n >= 0 && n < CRED_USER_MAX;
}

/* Waits for fd to be ready for events until the deadline; false on timeout. */
static bool wait_for(int fd, short events, int64_t deadline_us)
{
    for (int i = 0; i < 1000; i++) {
        int64_t left = (deadline_us - clock_mono_us()) / 1000;
        if (left <= 0)
            return false;
        struct pollfd pfd = { fd, events, 0 };
        int rc = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
        if (rc > 0)
            return true;
        if (rc < 0 && errno != EINTR)
            return false;
    }
    return false;
}

static bool send_all(int fd, const uint8_t *p, size_t n, int64_t deadline_us)
{
    while (n > 0) {
        if (!wait_for(fd, POLLOUT, deadline_us))
            return false;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one answer; MALFORMED also stands for I/O trouble (why says which). */
static enum saslauthd_answer read_answer(int fd, int64_t deadline_us, char *remark,
                                         size_t rsize, const char **why)
{
    uint8_t reply[2 + SASLAUTHD_REPLY_MAX];
    size_t got = 0;
    /* Bounded: each pass reads at least a byte into the fixed buffer, or ends. */
    for (size_t pass = 0; pass <= sizeof(reply) + 16; pass++) {
        enum saslauthd_answer a = saslauthd_reply(reply, got, remark, rsize);
        if (a != SASLAUTHD_NEED_MORE) {
            *why = a == SASLAUTHD_MALFORMED ? "malformed reply" : NULL;
            return a;
        }
        if (got == sizeof(reply) || !wait_for(fd, POLLIN, deadline_us)) {
            *why = got == sizeof(reply) ? "reply too long" : "timed out";
            return SASLAUTHD_MALFORMED;
        }
        ssize_t r = recv(fd, reply + got, sizeof(reply) - got, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0) {
            *why = r == 0 ? "connection closed before the reply was complete" : strerror(errno);
            return SASLAUTHD_MALFORMED;
        }
        got += (size_t)r;
    }
    *why = "reply never completed";
    return SASLAUTHD_MALFORMED;
}

/* One request/answer over a fresh connection. */
static enum cred_status ask(const struct saslauthd_store *s, const struct buf *query,
                            const char *login)
{
    int64_t deadline = clock_mono_us() + (int64_t)s->timeout_ms * 1000;
    int fd = ipc_unix_connect(s->path);
    if (fd < 0) {
        log_warning("saslauthd %s: cannot connect: %s", s->path, strerror(errno));
        return CRED_TEMPFAIL;
    }
    const char *why = "write failed or timed out";
    char remark[128];
    enum saslauthd_answer a = SASLAUTHD_MALFORMED;
    if (send_all(fd, (const uint8_t *)query->data, query->len, deadline))
        a = read_answer(fd, deadline, remark, sizeof(remark), &why);
    close(fd);
    if (a == SASLAUTHD_MALFORMED) {
        log_warning("saslauthd %s: %s", s->path, why);
        return CRED_TEMPFAIL;
    }
    if (a == SASLAUTHD_NO && remark[0])
        log_info("saslauthd: %s: NO%s", login, remark);
    return a == SASLAUTHD_YES ? CRED_OK : CRED_BAD_PASSWORD;
}

static enum cred_status verify(void *ctx, const struct mech_request *req, const char *user,
                               const char *password, char user_out[CRED_USER_MAX])
{
    const struct saslauthd_store *s = ctx;
    char canon[CRED_USER_MAX];
    if (!saslauthd_canonical(user, req->realm, canon))
        return CRED_NO_USER;
    snprintf(user_out, CRED_USER_MAX, "%s", canon);
    char *at = strrchr(canon, '@');
    const char *realm = "";
    if (at) {
        *at = '\0';
        realm = at + 1;
    }
    struct buf q;
    buf_init(&q, 4 * (SASLAUTHD_FIELD_MAX + 2));
    enum cred_status st = CRED_BAD_PASSWORD;
    if (saslauthd_query(canon, password, req->service, realm, &q))
        st = ask(s, &q, user_out);
    if (q.data)
        OPENSSL_cleanse(q.data, q.len);
    buf_free(&q);
    return st;
}

struct cred_store *saslauthd_store_new(const char *socket_path, unsigned timeout_ms)
{
    struct saslauthd_store *s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(socket_path && socket_path[0] ? socket_path : SASLAUTHD_DEFAULT_PATH);
    s->timeout_ms = timeout_ms ? timeout_ms : SASLAUTHD_TIMEOUT_MS;
    s->store.ctx = s;
    s->store.name = "saslauthd";
    s->store.verify_password = verify;
    return &s->store;
}

void saslauthd_store_free(struct cred_store *store)
{
    if (store == NULL)
        return;
    struct saslauthd_store *s = store->ctx;
    free(s->path);
    free(s);
}
