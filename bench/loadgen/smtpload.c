/*
 * smtpload: a small SMTP load client for the gatepost/Postfix benchmark
 * (not a test, not part of the server).
 *
 * Send mode keeps C connections busy on one epoll loop until N
 * transactions have been attempted. Each transaction is its own
 * connection: connect, greeting, EHLO, MAIL, RCPT, DATA, the message,
 * QUIT. It records, per message, the time from the connect() call to the
 * 250 reply after the message, and prints throughput and latency
 * percentiles on one key=value line.
 *
 * Submission mode (-S, optionally -A USER:PASSWORD) makes each transaction
 * an authenticated submission: EHLO, STARTTLS, a full TLS handshake (no
 * session is ever resumed, so every connection costs what a new client's
 * does), EHLO again, AUTH PLAIN with an initial response, then MAIL as
 * above. The server's certificate is not verified: the peer is a local
 * test server with a throw-away certificate.
 *
 * Idle mode opens N connections (at most C setting up at a time), takes
 * each through the greeting and EHLO, then holds them without a word,
 * prints "held=..." and waits until SIGTERM/SIGINT or the hold time; it
 * then reports how many sessions the server still kept open.
 *
 * Invariants: every connection, read buffer and wait is bounded (a
 * transaction or setup that does not finish within the timeout fails);
 * the total number of attempts never exceeds N, so the program ends.
 * Traffic goes only to loopback addresses (127.0.0.0/8): anything else is
 * refused, since this program is built to overload whatever it talks to.
 *
 *   smtpload -p PORT -c CONC -n COUNT [-s BYTES] [-f FROM] [-t TO]
 *            [-a ADDR] [-T SECONDS] [-L FILE] [-S [-A USER:PASSWORD]]
 *   smtpload -p PORT -i COUNT [-c SETUP_CONC] [-w HOLD_SECONDS] [-T SECONDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "latency.h"

#define RBUF_SIZE 2048        /* longest reply we accept (EHLO lists ~300 B) */
#define CMD_SIZE 600          /* one command line with an address */
#define MAX_CONNS 100000      /* upper bound on C and on idle N */
#define MAX_COUNT 10000000    /* upper bound on N in send mode */
#define MAX_MSG_SIZE (64u << 20)
#define TICK_MS 50            /* epoll wait between timeout scans */

enum state {
    ST_FREE,       /* slot unused */
    ST_CONNECT,    /* non-blocking connect in progress */
    ST_GREETING,   /* waiting for 220 */
    ST_EHLO,       /* waiting for 250 to EHLO */
    ST_STARTTLS,   /* waiting for 220 to STARTTLS */
    ST_HANDSHAKE,  /* TLS handshake in progress */
    ST_EHLO_TLS,   /* waiting for 250 to the EHLO inside TLS */
    ST_AUTH,       /* waiting for 235 to AUTH PLAIN */
    ST_MAIL,
    ST_RCPT,
    ST_DATA,       /* waiting for 354 */
    ST_BODY,       /* waiting for 250 after the message */
    ST_QUIT,       /* waiting for 221 */
    ST_IDLE,       /* idle mode: session established, held silently */
};

struct conn {
    int fd;
    SSL *ssl;                 /* after STARTTLS; NULL before */
    enum state st;
    int64_t started_us;       /* connect() call */
    int64_t deadline_us;
    int accepted;             /* the message got its 250 */
    const char *out;          /* bytes still to send (cmd or shared body) */
    size_t outlen, outoff;
    char cmd[CMD_SIZE];
    char rbuf[RBUF_SIZE];
    size_t rlen;
};

struct load {
    /* options */
    struct sockaddr_in addr;
    unsigned conc, count, idle;
    unsigned timeout_s, hold_s;
    size_t size;
    const char *from, *to, *latfile;
    int starttls;             /* -S */
    char *auth_cmd;           /* -A: "AUTH PLAIN <base64>\r\n", or NULL */
    SSL_CTX *tls;
    /* shared message: headers, payload, final dot */
    char *msg;
    size_t msglen;
    /* run state */
    int ep;
    struct conn *conns;
    unsigned nconns;
    unsigned attempted, ok, failed, active;
    unsigned held, lost;
    int64_t *lat;             /* one per accepted message, COUNT at most */
    size_t nlat;
    int64_t t0_us, t1_us;
    char lasterr[160];
    unsigned nerr_connect, nerr_reply, nerr_timeout, nerr_io, nerr_tls;
};

/* What a reply in a state must be, and where it leads. */
struct step {
    enum state st;
    int expect;
    enum state next;
};

static const struct step steps[] = {
    { ST_GREETING, 220, ST_EHLO },
    { ST_EHLO, 250, ST_MAIL },   /* idle mode diverts to ST_IDLE, -S to ST_STARTTLS */
    { ST_STARTTLS, 220, ST_HANDSHAKE },
    { ST_EHLO_TLS, 250, ST_AUTH },    /* without -A straight to ST_MAIL */
    { ST_AUTH, 235, ST_MAIL },
    { ST_MAIL, 250, ST_RCPT },
    { ST_RCPT, 250, ST_DATA },
    { ST_DATA, 354, ST_BODY },
    { ST_BODY, 250, ST_QUIT },
    { ST_QUIT, 221, ST_FREE },
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("smtpload: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n, sz);
    if (p == NULL)
        die("out of memory");
    return p;
}

static unsigned parse_uint(const char *s, unsigned max, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0' || v > max)
        die("%s: expected a number from 0 to %u, got \"%s\"", what, max, s);
    return (unsigned)v;
}

/* ---- the message ---- */

/* Headers, then SIZE bytes of payload in 78-byte lines, then the dot. */
static void build_message(struct load *l)
{
    size_t cap = l->size + 1024 + strlen(l->from) + strlen(l->to);
    l->msg = xcalloc(1, cap);
    int n = snprintf(l->msg, cap,
                     "From: <%s>\r\nTo: <%s>\r\nSubject: benchmark message\r\n\r\n",
                     l->from, l->to);
    size_t len = (size_t)n;
    for (size_t done = 0; done < l->size;) {
        size_t line = l->size - done < 78 ? l->size - done : 78;
        size_t text = line > 2 ? line - 2 : 0;
        memset(l->msg + len, 'X', text);
        len += text;
        memcpy(l->msg + len, "\r\n", 2);
        len += 2;
        done += text + 2;
    }
    memcpy(l->msg + len, ".\r\n", 3);
    l->msglen = len + 3;
}

/* ---- TLS and AUTH ---- */

/* A client context for throw-away local certificates: no verification,
 * and no session kept, so that every connection does a full handshake. */
static SSL_CTX *tls_context(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

/* "AUTH PLAIN <base64(NUL user NUL password)>\r\n" for -A USER:PASSWORD
 * (RFC 4616, initial response of RFC 4954). */
static char *auth_plain_cmd(const char *userpass)
{
    const char *colon = strchr(userpass, ':');
    if (colon == NULL)
        die("-A: expected USER:PASSWORD");
    size_t ulen = (size_t)(colon - userpass), plen = strlen(colon + 1);
    if (ulen == 0 || ulen > 256 || plen > 256)
        die("-A: the user (not empty) and the password are limited to 256 bytes");
    unsigned char raw[2 + 256 + 256];
    size_t n = 0;
    raw[n++] = 0;
    memcpy(raw + n, userpass, ulen);
    n += ulen;
    raw[n++] = 0;
    memcpy(raw + n, colon + 1, plen);
    n += plen;
    char b64[4 * ((sizeof(raw) + 2) / 3) + 1];
    int len = EVP_EncodeBlock((unsigned char *)b64, raw, (int)n);
    OPENSSL_cleanse(raw, sizeof(raw));
    size_t cap = (size_t)len + sizeof("AUTH PLAIN \r\n");
    char *cmd = xcalloc(1, cap);
    snprintf(cmd, cap, "AUTH PLAIN %s\r\n", b64);
    OPENSSL_cleanse(b64, sizeof(b64));
    return cmd;
}

/* ---- connections ---- */

static void note_error(struct load *l, unsigned *counter, const char *fmt, ...)
{
    va_list ap;
    (*counter)++;
    va_start(ap, fmt);
    vsnprintf(l->lasterr, sizeof(l->lasterr), fmt, ap);
    va_end(ap);
}

/* Ends C's attempt: it succeeded if its message was accepted, or in idle
 * mode never (a held session that ends is a lost one). */
static void conn_close(struct load *l, struct conn *c)
{
    if (c->ssl != NULL) {
        /* Best effort close_notify; the socket is non-blocking. */
        if (SSL_is_init_finished(c->ssl))
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (c->st == ST_IDLE)
        l->held--;
    c->fd = -1;
    c->st = ST_FREE;
    l->active--;
    if (c->accepted)
        l->ok++;
    else
        l->failed++;
}

static void conn_want(struct load *l, struct conn *c, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
}

static int conn_start(struct load *l, struct conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s (raise ulimit -n)", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->st = ST_CONNECT;
    c->started_us = now_us();
    c->deadline_us = c->started_us + (int64_t)l->timeout_s * 1000000;
    l->attempted++;
    l->active++;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)&l->addr, sizeof(l->addr)) < 0 &&
        errno != EINPROGRESS) {
        note_error(l, &l->nerr_connect, "connect: %s", strerror(errno));
        conn_close(l, c);
        return -1;
    }
    return 0;
}

static void conn_send(struct load *l, struct conn *c, const char *data, size_t len)
{
    c->out = data;
    c->outlen = len;
    c->outoff = 0;
    conn_want(l, c, EPOLLOUT);
}

static void conn_sendf(struct load *l, struct conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->cmd, sizeof(c->cmd), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(c->cmd))
        die("command too long");
    conn_send(l, c, c->cmd, (size_t)n);
}

/* What SSL_read/SSL_write/SSL_connect's result R means: 1 when the
 * TLS layer waits for the socket (events adjusted), 0 at a clean close, -1
 * on an error (noted). */
static int tls_wait(struct load *l, struct conn *c, int r, const char *what)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        conn_want(l, c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
        return 1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    unsigned long code = ERR_get_error();
    char why[120];
    if (code != 0)
        ERR_error_string_n(code, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "%s", e == SSL_ERROR_SYSCALL ? "connection closed" : "unknown");
    note_error(l, &l->nerr_tls, "state %d: TLS %s: %s", (int)c->st, what, why);
    return -1;
}

static void conn_handshake(struct load *l, struct conn *c);

/* Sends what the new state starts with. */
static void conn_enter(struct load *l, struct conn *c, enum state next)
{
    c->st = next;
    c->rlen = 0;
    switch (next) {
    case ST_EHLO: conn_sendf(l, c, "EHLO load.bench.example\r\n"); break;
    case ST_STARTTLS: conn_sendf(l, c, "STARTTLS\r\n"); break;
    case ST_HANDSHAKE:
        c->ssl = SSL_new(l->tls);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
            die("SSL_new failed");
        SSL_set_connect_state(c->ssl);
        conn_handshake(l, c);
        break;
    case ST_EHLO_TLS: conn_sendf(l, c, "EHLO load.bench.example\r\n"); break;
    case ST_AUTH: conn_send(l, c, l->auth_cmd, strlen(l->auth_cmd)); break;
    case ST_MAIL: conn_sendf(l, c, "MAIL FROM:<%s>\r\n", l->from); break;
    case ST_RCPT: conn_sendf(l, c, "RCPT TO:<%s>\r\n", l->to); break;
    case ST_DATA: conn_sendf(l, c, "DATA\r\n"); break;
    case ST_BODY: conn_send(l, c, l->msg, l->msglen); break;
    case ST_QUIT: conn_sendf(l, c, "QUIT\r\n"); break;
    case ST_IDLE: l->held++; conn_want(l, c, EPOLLIN); break;
    default: conn_want(l, c, EPOLLIN); break;
    }
}

static const struct step *step_for(enum state st)
{
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i].st == st)
            return &steps[i];
    return NULL;
}

/* A complete reply with CODE arrived in C's current state. */
static void conn_reply(struct load *l, struct conn *c, int code)
{
    const struct step *s = step_for(c->st);
    if (s == NULL || code != s->expect) {
        note_error(l, &l->nerr_reply, "state %d: expected %d, got %d", (int)c->st,
                   s ? s->expect : 0, code);
        conn_close(l, c);
        return;
    }
    if (c->st == ST_BODY && l->nlat < l->count) {
        l->lat[l->nlat++] = now_us() - c->started_us;
        c->accepted = 1;
    }
    if (s->next == ST_FREE) {
        conn_close(l, c);
        return;
    }
    enum state next = s->next;
    if (c->st == ST_EHLO && l->idle)
        next = ST_IDLE;
    else if (c->st == ST_EHLO && l->starttls)
        next = ST_STARTTLS;
    else if (c->st == ST_EHLO_TLS && l->auth_cmd == NULL)
        next = ST_MAIL;
    conn_enter(l, c, next);
}

/* One step of the client handshake; on success the EHLO inside TLS. */
static void conn_handshake(struct load *l, struct conn *c)
{
    ERR_clear_error();
    int r = SSL_connect(c->ssl);
    if (r == 1) {
        conn_enter(l, c, ST_EHLO_TLS);
        return;
    }
    int w = tls_wait(l, c, r, "handshake");
    if (w > 0)
        return;
    if (w == 0)
        note_error(l, &l->nerr_tls, "state %d: TLS handshake: closed", (int)c->st);
    conn_close(l, c);
}

/* read(2) or SSL_read: bytes read, 0 at the end, -1 with errno EAGAIN
 * when nothing is there yet, -1 with errno EPROTO on a (noted) TLS error. */
static ssize_t conn_read(struct load *l, struct conn *c, char *buf, size_t len)
{
    if (c->ssl == NULL)
        return read(c->fd, buf, len);
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, (int)len);
    if (n > 0)
        return n;
    int w = tls_wait(l, c, n, "read");
    errno = w > 0 ? EAGAIN : EPROTO;
    return w == 0 ? 0 : -1;
}

/* write(2) or SSL_write, with the same results as conn_read. */
static ssize_t conn_write(struct load *l, struct conn *c, const char *buf, size_t len)
{
    if (c->ssl == NULL)
        return write(c->fd, buf, len);
    ERR_clear_error();
    int n = SSL_write(c->ssl, buf, (int)len);
    if (n > 0)
        return n;
    int w = tls_wait(l, c, n, "write");
    errno = w > 0 ? EAGAIN : EPROTO;
    return -1;
}

/* Returns the code of the final line of a complete reply in rbuf, 0 if
 * the reply is not complete yet, -1 if it is malformed. */
static int reply_code(const char *buf, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        size_t linelen = i + 1 - start;
        const char *line = buf + start;
        start = i + 1;
        if (linelen < 5 || line[0] < '2' || line[0] > '5')
            return -1;
        if (line[3] == '-')
            continue;
        if (line[3] != ' ' && line[3] != '\r')
            return -1;
        return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    }
    return 0;
}

static void conn_readable(struct load *l, struct conn *c)
{
    ssize_t n = conn_read(l, c, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0 && errno == EPROTO) {
        conn_close(l, c);
        return;
    }
    if (n <= 0) {
        if (c->st == ST_IDLE)
            l->lost++;
        note_error(l, &l->nerr_io, "state %d: %s", (int)c->st,
                   n == 0 ? "server closed the connection" : strerror(errno));
        conn_close(l, c);
        return;
    }
    c->rlen += (size_t)n;
    int code = reply_code(c->rbuf, c->rlen);
    if (code == 0 && c->rlen == sizeof(c->rbuf))
        code = -1;
    if (code < 0) {
        note_error(l, &l->nerr_reply, "state %d: malformed reply", (int)c->st);
        conn_close(l, c);
    } else if (code > 0) {
        conn_reply(l, c, code);
    } else if (c->ssl != NULL && SSL_pending(c->ssl) > 0) {
        /* The rest of the reply is decrypted already: epoll will not tell. */
        conn_readable(l, c);
    }
}

static void conn_writable(struct load *l, struct conn *c)
{
    if (c->st == ST_CONNECT) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            note_error(l, &l->nerr_connect, "connect: %s", strerror(err));
            conn_close(l, c);
            return;
        }
        c->st = ST_GREETING;
        conn_want(l, c, EPOLLIN);
        return;
    }
    while (c->outoff < c->outlen) {
        ssize_t n = conn_write(l, c, c->out + c->outoff, c->outlen - c->outoff);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (errno != EPROTO)
                note_error(l, &l->nerr_io, "write: %s", strerror(errno));
            conn_close(l, c);
            return;
        }
        c->outoff += (size_t)n;
    }
    conn_want(l, c, EPOLLIN);
}

/* Dispatch by state, not by event: TLS may need to read in order to write
 * and the reverse, and asks for the event it waits for (tls_wait). */
static void conn_event(struct load *l, struct conn *c, uint32_t events)
{
    (void)events;
    if (c->st == ST_FREE)
        return;
    if (c->st == ST_HANDSHAKE)
        conn_handshake(l, c);
    else if (c->st == ST_CONNECT || c->outoff < c->outlen)
        conn_writable(l, c);
    else
        conn_readable(l, c);
}

/* ---- the loop ---- */

/* Fails connections past their deadline; idle ones have none once held. */
static void expire(struct load *l)
{
    int64_t now = now_us();
    for (unsigned i = 0; i < l->nconns; i++) {
        struct conn *c = &l->conns[i];
        if (c->st == ST_FREE || c->st == ST_IDLE || now < c->deadline_us)
            continue;
        note_error(l, &l->nerr_timeout, "state %d: no reply within %u s", (int)c->st,
                   l->timeout_s);
        conn_close(l, c);
    }
}

/* Starts new connections in free slots while attempts remain and at most
 * SETUP connections are still being set up. */
static void refill(struct load *l, unsigned total, unsigned setup)
{
    unsigned settingup = l->active - l->held;
    for (unsigned i = 0; i < l->nconns && l->attempted < total && settingup < setup; i++) {
        if (l->conns[i].st != ST_FREE)
            continue;
        if (conn_start(l, &l->conns[i]) == 0)
            settingup++;
    }
}

static void poll_once(struct load *l, int timeout_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(l->ep, evs, 256, timeout_ms);
    if (n < 0 && errno != EINTR)
        die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++)
        conn_event(l, evs[i].data.ptr, evs[i].events);
}

static void run_send(struct load *l)
{
    l->nconns = l->conc;
    l->t0_us = now_us();
    int64_t last_expire = l->t0_us;
    while (!stop_flag && (l->attempted < l->count || l->active > 0)) {
        refill(l, l->count, l->conc);
        poll_once(l, TICK_MS);
        if (now_us() - last_expire >= TICK_MS * 1000) {
            expire(l);
            last_expire = now_us();
        }
    }
    l->t1_us = now_us();
}

static void run_idle(struct load *l)
{
    l->nconns = l->idle;
    l->t0_us = now_us();
    int64_t last_expire = l->t0_us;
    while (!stop_flag && (l->attempted < l->idle || l->active > l->held)) {
        refill(l, l->idle, l->conc);
        poll_once(l, TICK_MS);
        if (now_us() - last_expire >= TICK_MS * 1000) {
            expire(l);
            last_expire = now_us();
        }
    }
    l->t1_us = now_us();
    printf("held=%u failed=%u setup_s=%.3f\n", l->held, l->failed,
           (double)(l->t1_us - l->t0_us) / 1e6);
    fflush(stdout);
    int64_t end = now_us() + (int64_t)l->hold_s * 1000000;
    while (!stop_flag && now_us() < end)
        poll_once(l, 200);
    printf("still_held=%u lost=%u\n", l->held, l->lost);
}

/* ---- results ---- */

static size_t collect_latencies(struct load *l)
{
    qsort(l->lat, l->nlat, sizeof(*l->lat), cmp_i64);
    return l->nlat;
}

static void write_latencies(const struct load *l, size_t n)
{
    FILE *f = fopen(l->latfile, "w");
    if (f == NULL)
        die("%s: %s", l->latfile, strerror(errno));
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%lld\n", (long long)l->lat[i]);
    if (fclose(f) != 0)
        die("%s: write failed", l->latfile);
}

static void report_send(struct load *l)
{
    size_t n = collect_latencies(l);
    double wall = (double)(l->t1_us - l->t0_us) / 1e6;
    printf("sent=%u failed=%u wall_s=%.3f rate=%.1f p50_ms=%.2f p90_ms=%.2f "
           "p99_ms=%.2f max_ms=%.2f err_connect=%u err_reply=%u err_timeout=%u err_io=%u "
           "err_tls=%u\n",
           l->ok, l->failed, wall, wall > 0 ? l->ok / wall : 0.0, pct_ms(l->lat, n, 50),
           pct_ms(l->lat, n, 90), pct_ms(l->lat, n, 99), n ? (double)l->lat[n - 1] / 1000.0 : 0,
           l->nerr_connect, l->nerr_reply, l->nerr_timeout, l->nerr_io, l->nerr_tls);
    if (l->latfile)
        write_latencies(l, n);
}

/* ---- options ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: smtpload -p PORT -c CONC -n COUNT [-s BYTES] [-f FROM] [-t TO]\n"
            "                [-a ADDR] [-T SECONDS] [-L FILE] [-S [-A USER:PASSWORD]]\n"
            "       smtpload -p PORT -i COUNT [-c SETUP_CONC] [-w HOLD_SECONDS] [-T SECONDS]\n");
    exit(2);
}

static void set_addr(struct load *l, const char *addr, unsigned port)
{
    l->addr.sin_family = AF_INET;
    l->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &l->addr.sin_addr) != 1)
        die("%s: not an IPv4 address", addr);
    /* Loopback only: this program exists to overload its peer. */
    if ((ntohl(l->addr.sin_addr.s_addr) >> 24) != 127)
        die("%s: only loopback addresses (127.0.0.0/8) are allowed", addr);
}

static void parse_args(struct load *l, int argc, char **argv)
{
    const char *addr = "127.0.0.1";
    unsigned port = 0;
    const char *auth = NULL;
    int opt;
    l->conc = 1;
    l->size = 4096;
    l->timeout_s = 60;
    l->hold_s = 600;
    l->from = "sender@load.bench.example";
    l->to = "user@bench.example";
    while ((opt = getopt(argc, argv, "a:p:c:n:s:f:t:T:L:i:w:SA:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = parse_uint(optarg, 65535, "-p"); break;
        case 'c': l->conc = parse_uint(optarg, MAX_CONNS, "-c"); break;
        case 'n': l->count = parse_uint(optarg, MAX_COUNT, "-n"); break;
        case 's': l->size = parse_uint(optarg, MAX_MSG_SIZE, "-s"); break;
        case 'f': l->from = optarg; break;
        case 't': l->to = optarg; break;
        case 'T': l->timeout_s = parse_uint(optarg, 3600, "-T"); break;
        case 'L': l->latfile = optarg; break;
        case 'i': l->idle = parse_uint(optarg, MAX_CONNS, "-i"); break;
        case 'w': l->hold_s = parse_uint(optarg, 86400, "-w"); break;
        case 'S': l->starttls = 1; break;
        case 'A': auth = optarg; break;
        default: usage();
        }
    }
    if (optind != argc || port == 0 || l->conc == 0 || l->timeout_s == 0)
        usage();
    if (!l->idle && l->count == 0)
        usage();
    if ((l->starttls || auth != NULL) && l->idle)
        die("-S and -A are for send mode");
    if (auth != NULL && !l->starttls)
        die("-A needs -S: credentials go only over TLS");
    if (auth != NULL)
        l->auth_cmd = auth_plain_cmd(auth);
    if (l->starttls)
        l->tls = tls_context();
    if (strlen(l->from) > 256 || strlen(l->to) > 256)
        die("addresses are limited to 256 bytes");
    set_addr(l, addr, port);
}

/* Enough descriptors for every connection, or a clear error. */
static void check_fd_limit(unsigned need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur < (rlim_t)need + 16 && rl.rlim_max >= (rlim_t)need + 16) {
        rl.rlim_cur = (rlim_t)need + 16;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < (rlim_t)need + 16)
        die("%u connections need %u descriptors; the limit is %llu (ulimit -n)", need,
            need + 16, (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
    static struct load l;
    parse_args(&l, argc, argv);
    check_fd_limit(l.idle ? l.idle : l.conc);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    if (l.ep < 0)
        die("epoll_create1: %s", strerror(errno));
    l.conns = xcalloc(l.idle ? l.idle : l.conc, sizeof(*l.conns));
    for (unsigned i = 0; i < (l.idle ? l.idle : l.conc); i++)
        l.conns[i].fd = -1;
    if (l.idle) {
        run_idle(&l);
    } else {
        l.lat = xcalloc(l.count, sizeof(*l.lat));
        build_message(&l);
        run_send(&l);
        report_send(&l);
    }
    if (l.failed > 0 && l.lasterr[0])
        fprintf(stderr, "smtpload: %u failed; last error: %s\n", l.failed, l.lasterr);
    return 0;
}
