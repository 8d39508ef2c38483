/*
 * Queue manager engine, end to end on a temporary queue: notification and
 * delivery with Postfix's log lines; the recovery scan (stale tmp/ files,
 * interrupted deliveries delivered exactly once, corrupt files set aside);
 * deferral with doubling backoff and expiry into a bounce that is itself
 * delivered; the file removed by the delivery that ends a message, and
 * kept with its delivered recipients marked when one defers; unknown
 * users bounced, null-sender failures dropped, NOTIFY honoured, size
 * limits; Postfix's delay number format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "queue/crc32c.h"
#include "queue/layout.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "queue/qmgr_engine.h"
#include "queue/writer.h"

#define SEC 1000000LL
#define MIN_BACKOFF (300 * SEC)
#define MAX_BACKOFF (4000 * SEC)
#define LIFETIME (5 * 86400 * SEC)

static _Atomic int64_t fake_now;

static int64_t now_fn(void)
{
    return atomic_load(&fake_now);
}

/* --- captured log lines: "service: text" ---------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct buf logs;

static void hook(const char *line, void *arg)
{
    const char *slash = strstr(line, "gatepost/");
    const char *br = slash ? strchr(slash, '[') : NULL;
    const char *msg = br ? strstr(br, "]: ") : NULL;
    if (msg == NULL)
        return;
    if (getenv("TEST_QMGR_LOG"))
        fprintf(stderr, "%s\n", line);
    pthread_mutex_lock(&log_lock);
    buf_append(&logs, slash + 9, (size_t)(br - slash - 9));
    buf_printf(&logs, ": %s\n", msg + 3);
    pthread_mutex_unlock(&log_lock);
}

static bool logged(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool logged(const char *fmt, ...)
{
    char want[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof(want), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    bool found = strstr(buf_cstr(&logs), want) != NULL;
    pthread_mutex_unlock(&log_lock);
    if (!found)
        fprintf(stderr, "missing log text: %s\nlog:\n%s", want, buf_cstr(&logs));
    return found;
}

/* --- fixture ------------------------------------------------------------- */

struct fx {
    char dir[64];
    char qdir[96];
    struct event_base *base;
    struct qmgr *q;
    struct qmgr_options opt;
    struct queue_id_gen ids;
};

static struct fx *cur;

/* user@local -> Maildir; nobody@local -> unknown; @virtual -> virtual Maildir; else remote. */
static void router(void *arg, const char *rcpt, struct qmgr_route *out, struct buf *why)
{
    struct fx *f = arg;
    const char *at = strchr(rcpt, '@');
    out->status = MAP_FOUND;
    memset(&out->mb, 0, sizeof(out->mb));
    out->mb.maildir = true;
    if (at && strcmp(at, "@local") == 0) {
        out->cls = ADDR_CLASS_LOCAL;
        if (strncmp(rcpt, "nobody@", 7) == 0) {
            out->status = MAP_NOTFOUND;
            buf_printf(why, "unknown user: \"nobody\"");
            return;
        }
        out->mb.transport = "local";
    } else if (at && strcmp(at, "@virtual") == 0) {
        out->cls = ADDR_CLASS_VIRTUAL_MAILBOX;
        out->mb.transport = "virtual";
    } else {
        out->cls = ADDR_CLASS_DEFAULT;
        return;
    }
    snprintf(out->mb.path, sizeof(out->mb.path), "%s/mail/%.*s/", f->dir,
             (int)(at - rcpt), rcpt);
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/test_qmgr_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->qdir, sizeof(f->qdir), "%s/queue", f->dir);
    f->base = event_base_new();
    atomic_store(&fake_now, clock_wall_us());
    queue_id_gen_init(&f->ids, 'T');
    f->opt = (struct qmgr_options){
        .queue_dir = f->qdir, .myhostname = "mx.example.com", .mail_name = "gatepost",
        .syslog_name = "gatepost", .delivery_threads = 4,
        .min_backoff_us = MIN_BACKOFF, .max_backoff_us = MAX_BACKOFF,
        .max_lifetime_us = LIFETIME, .bounce_lifetime_us = LIFETIME,
        .run_delay_us = 3600 * SEC, .tmp_grace_us = 3600 * SEC,
        .bounce_size_limit = 50000, .mailbox_size_limit = 51200000,
        .virtual_mailbox_limit = 51200000, .route = router, .route_arg = f,
        .now_us = now_fn,
    };
    struct buf why;
    buf_init(&why, 0);
    assert_true(queue_layout_create(f->qdir, &why));
    buf_free(&why);
    buf_init(&logs, 0);
    log_set_hook(hook, NULL);
    cur = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    qmgr_free(f->q);
    event_base_free(f->base);
    log_set_hook(NULL, NULL);
    buf_free(&logs);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void start(struct fx *f)
{
    struct buf why;
    buf_init(&why, 0);
    f->q = qmgr_new(f->base, &f->opt, &why);
    if (f->q == NULL)
        fail_msg("qmgr_new: %s", buf_cstr(&why));
    buf_free(&why);
    qmgr_start(f->q);
}

/* Runs the loop in short slices until the engine is idle (or 10 s pass). */
static void run_idle(struct fx *f)
{
    int64_t deadline = clock_mono_us() + 10 * SEC;
    do {
        struct timeval tv = { 0, 5000 };
        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
        assert_true(clock_mono_us() < deadline);
    } while (!qmgr_idle(f->q));
}

/* Writes a queue file straight into dir; returns its ID in id. */
static void inject(struct fx *f, const char *dir, const char *sender, const char *content,
                   const char *const *rcpts, const int *notify, char id[QUEUE_ID_SIZE])
{
    struct queue_envelope env = { 0 };
    queue_id_next(&f->ids, clock_wall_us(), id);
    strcpy(env.queue_id, id);
    env.arrival_us = atomic_load(&fake_now);
    env.sender = xstrdup(sender);
    for (size_t i = 0; rcpts[i]; i++)
        queue_envelope_add_rcpt(&env, rcpts[i], NULL, notify ? notify[i] : 0);
    struct buf b;
    buf_init(&b, 0);
    unsigned char h[QFILE_HEADER_SIZE];
    qfile_header(h);
    buf_append(&b, h, sizeof(h));
    buf_puts(&b, content);
    assert_true(qfile_append_envelope(&b, &env, strlen(content),
                                      crc32c_update(0, content, strlen(content))));
    char path[256];
    snprintf(path, sizeof(path), "%s/%s/%s", f->qdir, dir, id);
    assert_true(fileio_replace(path, b.data, b.len, 0600));
    buf_free(&b);
    queue_envelope_free(&env);
}

static size_t count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static size_t count(const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static char *first_file(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char *found = NULL;
    while (found == NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            size_t len;
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            found = fileio_read(path, 1 << 20, &len);
        }
    closedir(d);
    assert_non_null(found);
    return found;
}

static const char body[] = "Subject: hello\n\nhi there\n";

/* --- tests ----------------------------------------------------------------- */

static void commit_done(void *arg, enum queue_commit_result r)
{
    *(int *)arg = r == QUEUE_COMMITTED ? 1 : 2;
}

static void wait_removed(struct fx *f, uint64_t n)
{
    struct qmgr_stats st;
    int64_t deadline = clock_mono_us() + 10 * SEC;
    do {
        run_idle(f);
        qmgr_get_stats(f->q, &st);
        assert_true(clock_mono_us() < deadline);
    } while (st.removed < n);
}

static void delivers_on_notification(void **state)
{
    struct fx *f = *state;
    start(f);
    run_idle(f);                        /* the recovery scan finds nothing */
    /* A writer commits and notifies, as an SMTP worker does. */
    int tmp = queue_layout_open(f->qdir, QUEUE_DIR_TMP);
    int in = queue_layout_open(f->qdir, QUEUE_DIR_INCOMING);
    char sock[160];
    snprintf(sock, sizeof(sock), "%s/%s", f->qdir, QUEUE_QMGR_SOCKET);
    struct queue_writer_options wo = {
        .queue_dir = f->qdir, .tmp_dirfd = tmp, .incoming_dirfd = in, .threads = 2,
        .notify_path = sock, .worker_tag = 'A',
    };
    struct queue_writer *w = queue_writer_new(f->base, &wo);
    char id[QUEUE_ID_SIZE];
    struct queue_txn *t = queue_txn_begin(w, id);
    queue_txn_append(t, body, strlen(body));
    struct queue_envelope env = { 0 };
    strcpy(env.queue_id, id);
    env.arrival_us = atomic_load(&fake_now) - 120000;
    env.sender = xstrdup("alice@example.org");
    queue_envelope_add_rcpt(&env, "bob@local", NULL, 0);
    queue_envelope_add_rcpt(&env, "carol@virtual", NULL, 0);
    int committed = 0;
    queue_txn_commit(t, &env, commit_done, &committed);
    queue_envelope_free(&env);
    while (committed == 0)
        event_base_loop(f->base, EVLOOP_ONCE);
    assert_int_equal(committed, 1);
    wait_removed(f, 1);
    struct qmgr_stats st;
    qmgr_get_stats(f->q, &st);
    assert_int_equal(st.notifications, 1);
    assert_int_equal(st.sent, 2);
    assert_true(logged("qmgr: %s: from=<alice@example.org>, size=%zu, nrcpt=2 (queue active)\n",
                       id, strlen(body)));
    assert_true(logged("local: %s: to=<bob@local>, relay=local, delay=0.12, delays=0.12/0/0/0, "
                       "dsn=2.0.0, status=sent (delivered to maildir)\n", id));
    assert_true(logged("virtual: %s: to=<carol@virtual>, relay=virtual, delay=0.12, "
                       "delays=0.12/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)\n", id));
    assert_true(logged("qmgr: %s: removed\n", id));
    assert_int_equal(count("%s/mail/bob/new", f->dir), 1);
    assert_int_equal(count("%s/mail/carol/new", f->dir), 1);
    assert_int_equal(count("%s/active", f->qdir), 0);
    assert_int_equal(count("%s/incoming", f->qdir), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/mail/bob/new", f->dir);
    char *msg = first_file(path);
    assert_string_equal(msg, "Return-Path: <alice@example.org>\nDelivered-To: bob@local\n"
                             "Subject: hello\n\nhi there\n");
    free(msg);
    queue_writer_free(w);
    close(tmp);
    close(in);
}

static void set_mtime(const char *path, int64_t age_s)
{
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= age_s;
    ts[1] = ts[0];
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void recovery_scan(void **state)
{
    struct fx *f = *state;
    char path[512];
    /* Stale and fresh files in tmp/. */
    snprintf(path, sizeof(path), "%s/tmp/0STALE", f->qdir);
    assert_true(fileio_replace(path, "x", 1, 0600));
    set_mtime(path, 7200);
    snprintf(path, sizeof(path), "%s/tmp/0FRESH", f->qdir);
    assert_true(fileio_replace(path, "x", 1, 0600));
    /* An interrupted delivery: bob's copy is already in his Maildir. */
    static const char *const two[] = { "bob@local", "dave@local", NULL };
    char id[QUEUE_ID_SIZE];
    inject(f, "active", "alice@example.org", body, two, NULL, id);
    /* A file in incoming/ that never got its notification. */
    static const char *const one[] = { "erin@local", NULL };
    char id2[QUEUE_ID_SIZE];
    inject(f, "incoming", "alice@example.org", body, one, NULL, id2);
    /* A damaged one. */
    char bad[QUEUE_ID_SIZE];
    inject(f, "incoming", "alice@example.org", body, one, NULL, bad);
    snprintf(path, sizeof(path), "%s/incoming/%s", f->qdir, bad);
    assert_int_equal(truncate(path, 70), 0);
    start(f);
    wait_removed(f, 2);
    assert_int_equal(count("%s/mail/bob/new", f->dir), 1);
    assert_int_equal(count("%s/mail/dave/new", f->dir), 1);
    assert_int_equal(count("%s/mail/erin/new", f->dir), 1);
    assert_int_equal(count("%s/tmp", f->qdir), 1);
    snprintf(path, sizeof(path), "%s/tmp/0FRESH", f->qdir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(count("%s/corrupt", f->qdir), 1);
    snprintf(path, sizeof(path), "%s/corrupt/%s", f->qdir, bad);
    assert_int_equal(access(path, F_OK), 0);
    assert_true(logged("qmgr: warning: %s: unusable queue file moved to corrupt/: ", bad));
    assert_true(logged("queue scan: removed=1 stale temporary files"));
    struct qmgr_stats st;
    qmgr_get_stats(f->q, &st);
    assert_int_equal(st.corrupt, 1);
}

static void recovery_exactly_once(void **state)
{
    struct fx *f = *state;
    static const char *const two[] = { "bob@local", "dave@local", NULL };
    char id[QUEUE_ID_SIZE];
    inject(f, "incoming", "alice@example.org", body, two, NULL, id);
    start(f);
    wait_removed(f, 1);
    assert_int_equal(count("%s/mail/bob/new", f->dir), 1);
    qmgr_free(f->q);
    f->q = NULL;
    /*
     * A crash after bob's copy was linked into new/ and before the status
     * byte was written: the file is still in active/ with both recipients
     * pending, and bob's copy carries the name this file gives him.
     */
    inject(f, "active", "alice@example.org", body, two, NULL, id);
    char dir[256], name[512], from[1024];
    snprintf(dir, sizeof(dir), "%s/mail/bob/new", f->dir);
    snprintf(name, sizeof(name), "%s/%lld.%sR0.mx.example.com", dir,
             (long long)(atomic_load(&fake_now) / SEC), id);
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && e->d_name[0] == '.')
        ;
    assert_non_null(e);
    snprintf(from, sizeof(from), "%s/%s", dir, e->d_name);
    closedir(d);
    assert_int_equal(rename(from, name), 0);
    start(f);
    wait_removed(f, 1);
    assert_int_equal(count("%s/mail/bob/new", f->dir), 1);      /* not twice */
    assert_int_equal(count("%s/mail/dave/new", f->dir), 2);
    assert_true(logged("local: %s: to=<bob@local>, relay=local", id));
    assert_int_equal(count("%s/active", f->qdir), 0);
}

/*
 * More interrupted deliveries than active_limit: those the start-up scan
 * has no room for are found by later scans, in active/ too, and are still
 * recovered: bob's copies from before the crash, which his mail reader has
 * moved to cur/, are not delivered again.
 */
static void recovery_beyond_active_limit(void **state)
{
    struct fx *f = *state;
    f->opt.active_limit = 1;
    static const char *const bob[] = { "bob@local", NULL };
    static const char *const dirs[] = { "active", "active", "incoming" };
    char path[512], cmd[1600];
    snprintf(path, sizeof(path), "%s/mail/bob", f->dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/new %s/cur %s/tmp", path, path, path);
    assert_int_equal(system(cmd), 0);
    for (size_t i = 0; i < 3; i++) {
        char id[QUEUE_ID_SIZE];
        inject(f, dirs[i], "alice@example.org", body, bob, NULL, id);
        snprintf(path, sizeof(path), "%s/mail/bob/cur/%lld.%sR0.mx.example.com:2,S", f->dir,
                 (long long)(atomic_load(&fake_now) / SEC), id);
        assert_true(fileio_replace(path, body, strlen(body), 0600));
    }
    start(f);
    wait_removed(f, 3);
    assert_int_equal(count("%s/mail/bob/new", f->dir), 0);      /* none twice */
    assert_int_equal(count("%s/mail/bob/cur", f->dir), 3);
    assert_int_equal(count("%s/active", f->qdir), 0);
    assert_int_equal(count("%s/incoming", f->qdir), 0);
}

static int64_t header_i64(const char *path, size_t off)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    int64_t v = 0;
    assert_int_equal(pread(fd, &v, sizeof(v), (off_t)off), (ssize_t)sizeof(v));
    close(fd);
    return v;
}

static void defer_backoff_expire_and_bounce(void **state)
{
    struct fx *f = *state;
    static const char *const rcpts[] = { "far@remote.example", NULL };
    char id[QUEUE_ID_SIZE];
    int64_t t0 = atomic_load(&fake_now);
    inject(f, "incoming", "alice@local", body, rcpts, NULL, id);
    start(f);
    run_idle(f);
    assert_true(logged("qmgr: %s: to=<far@remote.example>, relay=none, delay=0, delays=0/0/0/0, "
                       "dsn=4.3.0, status=deferred (delivery to remote domains is not available yet)\n",
                       id));
    char path[512];
    snprintf(path, sizeof(path), "%s/deferred/%s", f->qdir, id);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(header_i64(path, QFILE_SCHED_OFFSET), t0 + MIN_BACKOFF);
    /* Not due yet: nothing happens. */
    qmgr_retry_due(f->q);
    run_idle(f);
    assert_int_equal(access(path, F_OK), 0);
    /* Due: tried again, and the backoff doubles. */
    atomic_store(&fake_now, t0 + MIN_BACKOFF);
    qmgr_retry_due(f->q);
    run_idle(f);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(header_i64(path, QFILE_SCHED_OFFSET), t0 + 3 * MIN_BACKOFF);
    assert_true(logged("delay=300, delays=300/0/0/0, dsn=4.3.0, status=deferred"));
    /* Past maximal_queue_lifetime: expired and returned to the sender. */
    atomic_store(&fake_now, t0 + LIFETIME + SEC);
    qmgr_retry_due(f->q);
    wait_removed(f, 2);                 /* the original and the notification */
    assert_true(logged("qmgr: %s: from=<alice@local>, status=expired, returned to sender\n", id));
    assert_true(logged("bounce: %s: sender non-delivery notification: ", id));
    assert_true(logged("qmgr: %s: removed\n", id));
    assert_true(logged("from=<>, size="));
    assert_int_equal(count("%s/deferred", f->qdir), 0);
    snprintf(path, sizeof(path), "%s/mail/alice/new", f->dir);
    char *msg = first_file(path);
    assert_non_null(strstr(msg, "Return-Path: <>\nDelivered-To: alice@local\n"));
    assert_non_null(strstr(msg, "Subject: Undelivered Mail Returned to Sender\n"));
    assert_non_null(strstr(msg, "<far@remote.example>: delivery to remote domains is not"));
    assert_non_null(strstr(msg, "Status: 4.3.0\n"));
    assert_non_null(strstr(msg, "Content-Type: message/rfc822\n\nSubject: hello\n\nhi there\n"));
    free(msg);
}

/*
 * The delivery that ends a message removes its file itself; one that does
 * not (another recipient deferred, decided before it) only marks its
 * recipient done, so the retry does not deliver it again.
 */
static void last_delivery_removes_only_a_finished_message(void **state)
{
    struct fx *f = *state;
    static const char *const one[] = { "bob@local", NULL };
    static const char *const mixed[] = { "far@remote.example", "dave@local", NULL };
    char id1[QUEUE_ID_SIZE], id2[QUEUE_ID_SIZE];
    inject(f, "incoming", "alice@example.org", body, one, NULL, id1);
    inject(f, "incoming", "alice@example.org", body, mixed, NULL, id2);
    start(f);
    wait_removed(f, 1);
    run_idle(f);
    assert_true(logged("qmgr: %s: removed\n", id1));
    assert_false(logged("qmgr: %s: removed\n", id2));
    assert_int_equal(count("%s/incoming", f->qdir), 0);
    assert_int_equal(count("%s/deferred", f->qdir), 1);
    assert_int_equal(count("%s/mail/bob/new", f->dir), 1);
    assert_int_equal(count("%s/mail/dave/new", f->dir), 1);
    /* The retry defers the remote recipient again and leaves dave alone. */
    atomic_store(&fake_now, atomic_load(&fake_now) + MIN_BACKOFF);
    qmgr_retry_due(f->q);
    run_idle(f);
    assert_int_equal(count("%s/deferred", f->qdir), 1);
    assert_int_equal(count("%s/mail/dave/new", f->dir), 1);
    struct qmgr_stats st;
    qmgr_get_stats(f->q, &st);
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.removed, 1);
}

static void unknown_user_bounces(void **state)
{
    struct fx *f = *state;
    static const char *const rcpts[] = { "nobody@local", "bob@local", NULL };
    char id[QUEUE_ID_SIZE];
    inject(f, "incoming", "alice@local", body, rcpts, NULL, id);
    start(f);
    wait_removed(f, 2);
    assert_true(logged("local: %s: to=<nobody@local>, relay=local, delay=0, delays=0/0/0/0, "
                       "dsn=5.1.1, status=bounced (unknown user: \"nobody\")\n", id));
    assert_int_equal(count("%s/mail/bob/new", f->dir), 1);
    assert_int_equal(count("%s/mail/alice/new", f->dir), 1);
    char path[256];
    snprintf(path, sizeof(path), "%s/mail/alice/new", f->dir);
    char *msg = first_file(path);
    assert_non_null(strstr(msg, "<nobody@local>: unknown user: \"nobody\"\n"));
    assert_non_null(strstr(msg, "Final-Recipient: rfc822; nobody@local\nAction: failed\n"
                                "Status: 5.1.1\n"));
    assert_null(strstr(msg, "bob@local"));
    free(msg);
}

static void null_sender_failure_dropped(void **state)
{
    struct fx *f = *state;
    static const char *const rcpts[] = { "nobody@local", NULL };
    char id[QUEUE_ID_SIZE];
    inject(f, "incoming", "", body, rcpts, NULL, id);
    start(f);
    wait_removed(f, 1);
    assert_true(logged("status=bounced (unknown user: \"nobody\")"));
    assert_true(logged("qmgr: %s: removed\n", id));
    pthread_mutex_lock(&log_lock);
    assert_null(strstr(buf_cstr(&logs), "non-delivery notification"));
    pthread_mutex_unlock(&log_lock);
    assert_int_equal(count("%s/incoming", f->qdir), 0);
}

static void notify_never_gets_no_report(void **state)
{
    struct fx *f = *state;
    static const char *const rcpts[] = { "nobody@local", NULL };
    static const int never[] = { 1 };   /* DSN_NOTIFY_NEVER */
    char id[QUEUE_ID_SIZE];
    inject(f, "incoming", "alice@local", body, rcpts, never, id);
    start(f);
    wait_removed(f, 1);
    assert_true(logged("status=bounced (unknown user: \"nobody\")"));
    assert_int_equal(count("%s/mail/alice/new", f->dir), 0);
    struct qmgr_stats st;
    qmgr_get_stats(f->q, &st);
    assert_int_equal(st.removed, 1);
}

static void size_limit_bounces(void **state)
{
    struct fx *f = *state;
    f->opt.virtual_mailbox_limit = 40;
    static const char *const rcpts[] = { "carol@virtual", NULL };
    char id[QUEUE_ID_SIZE];
    inject(f, "incoming", "alice@local", body, rcpts, NULL, id);
    start(f);
    wait_removed(f, 2);
    assert_true(logged("virtual: %s: to=<carol@virtual>, relay=virtual, delay=0, delays=0/0/0/0, "
                       "dsn=5.2.2, status=bounced (maildir delivery failed: error writing "
                       "message: File too large)\n", id));
    assert_int_equal(count("%s/mail/carol/new", f->dir), 0);
    assert_int_equal(count("%s/mail/alice/new", f->dir), 1);
}

static void on_stopped(void *arg)
{
    *(bool *)arg = true;
}

static void stop_keeps_unfinished_work(void **state)
{
    struct fx *f = *state;
    static const char *const rcpts[] = { "bob@local", NULL };
    char id[QUEUE_ID_SIZE];
    for (int i = 0; i < 20; i++)
        inject(f, "incoming", "alice@local", body, rcpts, NULL, id);
    start(f);
    bool stopped = false;
    qmgr_stop(f->q, on_stopped, &stopped);
    while (!stopped)
        event_base_loop(f->base, EVLOOP_ONCE);
    assert_true(qmgr_idle(f->q));
    /* Whatever was not finished is still in a queue directory, nothing twice. */
    size_t left = count("%s/incoming", f->qdir) + count("%s/active", f->qdir) +
                  count("%s/deferred", f->qdir);
    assert_int_equal(left + count("%s/mail/bob/new", f->dir), 20);
}

static void delay_format(void **state)
{
    static const struct { int64_t us; const char *want; } cases[] = {
        { 0, "0" }, { 4999, "0" }, { 5000, "0.01" }, { 120000, "0.12" },
        { 100000, "0.1" }, { 105000, "0.11" }, { 994999, "0.99" }, { 995000, "1" },
        { 1234567, "1.2" }, { 9950000, "10" }, { 12345678, "12" }, { 123456789, "123" },
        { 300000000, "300" }, { -5, "0" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[32];
        qmgr_format_delay(cases[i].us, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("%lld us: got %s, want %s", (long long)cases[i].us, out, cases[i].want);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(delivers_on_notification), T(recovery_scan), T(recovery_exactly_once),
        T(recovery_beyond_active_limit),
        T(defer_backoff_expire_and_bounce), T(last_delivery_removes_only_a_finished_message),
        T(unknown_user_bounces),
        T(null_sender_failure_dropped), T(notify_never_gets_no_report),
        T(size_limit_bounces), T(stop_keeps_unfinished_work),
        cmocka_unit_test(delay_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
