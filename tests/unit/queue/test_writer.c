/*
 * Queue writer: commits land in incoming/ complete and loadable; a failure
 * injected at every OS call (ENOSPC, EDQUOT, EIO) gives the right result
 * and leaves no file behind; short writes are retried; concurrent commits
 * share directory fsyncs; large messages spill; aborts clean up; the queue
 * manager is notified.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/xalloc.h"
#include "queue/layout.h"
#include "queue/qfile.h"
#include "queue/writer.h"
#include "queue/writer_int.h"

/* OP_NAME: giving the file its name in incoming/ (link or rename). */
enum op { OP_OPEN, OP_WRITE, OP_FSYNC, OP_NAME, OP_UNLINK, OP_CLOSE, OP_COUNT };

static struct {
    pthread_mutex_t lock;
    enum op fail_op;
    int fail_at;            /* fail the nth call of fail_op; 0 = never */
    int fail_errno;
    int calls[OP_COUNT];
    size_t max_write;       /* 0 = unlimited */
    bool no_unnamed;        /* O_TMPFILE refused, as on file systems without it */
    char trace[64];         /* N: a name given, F: a file synced, D: a directory synced */
    size_t ntrace;
    struct queue_writer *round_at_name;     /* runs a round of incoming/ just before a name */
} fk = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void trace(char what)
{
    pthread_mutex_lock(&fk.lock);
    if (fk.ntrace + 1 < sizeof(fk.trace))
        fk.trace[fk.ntrace++] = what;
    pthread_mutex_unlock(&fk.lock);
}

static bool should_fail(enum op op)
{
    pthread_mutex_lock(&fk.lock);
    int n = ++fk.calls[op];
    bool f = fk.fail_at != 0 && op == fk.fail_op && n == fk.fail_at;
    pthread_mutex_unlock(&fk.lock);
    if (f)
        errno = fk.fail_errno;
    return f;
}

static int f_openat(int d, const char *p, int fl, unsigned m)
{
    if (fk.no_unnamed && (fl & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return should_fail(OP_OPEN) ? -1 : openat(d, p, fl, m);
}

static long f_write(int fd, const void *p, size_t n)
{
    if (should_fail(OP_WRITE))
        return -1;
    if (fk.max_write && n > fk.max_write)
        n = fk.max_write;
    return write(fd, p, n);
}

static long f_pwrite(int fd, const void *p, size_t n, int64_t off)
{
    return pwrite(fd, p, n, off);
}

static int f_fsync(int fd)
{
    if (should_fail(OP_FSYNC))
        return -1;
    struct stat st;
    trace(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? 'D' : 'F');
    return fsync(fd);
}

/* A directory round run just before a name is given: a commit that took
 * its place in a round before naming its file would find that round done
 * and wait for no sync after the name. */
static void round_before_name(void)
{
    struct queue_writer *qw = fk.round_at_name;
    if (qw == NULL)
        return;
    pthread_mutex_lock(&qw->dir_lock);
    sync_rounds_join(&qw->dir_rounds, &qw->dir_lock, f_fsync, qw->incoming_dirfd);
    pthread_mutex_unlock(&qw->dir_lock);
}

static int f_renameat(int a, const char *b, int c, const char *d)
{
    if (should_fail(OP_NAME))
        return -1;
    round_before_name();
    trace('N');
    return renameat(a, b, c, d);
}

static int f_link_unnamed(int fd, int dirfd, const char *name)
{
    if (should_fail(OP_NAME))
        return -1;
    round_before_name();
    trace('N');
    return queue_fs_default.link_unnamed(fd, dirfd, name);
}

static int f_unlinkat(int d, const char *p, int fl)
{
    should_fail(OP_UNLINK);         /* counted only */
    return unlinkat(d, p, fl);
}

static int f_close(int fd)
{
    if (should_fail(OP_CLOSE)) {
        close(fd);
        return -1;
    }
    return close(fd);
}

static const struct queue_fs_ops fake_fs = {
    f_openat, f_write, f_pwrite, f_fsync, f_renameat, f_link_unnamed, f_unlinkat, f_close,
};

struct fixture {
    char dir[64];
    int tmp_fd, in_fd;
    struct event_base *base;
    struct queue_writer *qw;
};

static void fake_reset(void)
{
    pthread_mutex_lock(&fk.lock);
    fk.fail_at = 0;
    fk.max_write = 0;
    fk.no_unnamed = false;
    memset(fk.calls, 0, sizeof(fk.calls));
    memset(fk.trace, 0, sizeof(fk.trace));
    fk.ntrace = 0;
    fk.round_at_name = NULL;
    pthread_mutex_unlock(&fk.lock);
}

static struct queue_writer *make_writer(struct fixture *fx, size_t spill, const char *notify)
{
    struct queue_writer_options o = {
        .queue_dir = fx->dir, .tmp_dirfd = fx->tmp_fd, .incoming_dirfd = fx->in_fd,
        .threads = 4, .spill_threshold = spill, .notify_path = notify,
        .fs = &fake_fs, .worker_tag = 'T',
    };
    return queue_writer_new(fx->base, &o);
}

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    strcpy(fx->dir, "/tmp/test_writer_XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    struct buf why;
    buf_init(&why, 0);
    assert_true(queue_layout_create(fx->dir, &why));
    buf_free(&why);
    fx->tmp_fd = queue_layout_open(fx->dir, QUEUE_DIR_TMP);
    fx->in_fd = queue_layout_open(fx->dir, QUEUE_DIR_INCOMING);
    fx->base = event_base_new();
    fake_reset();
    fx->qw = make_writer(fx, 0, NULL);
    *state = fx;
    return 0;
}

static void rm_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    queue_writer_free(fx->qw);
    event_base_free(fx->base);
    close(fx->tmp_fd);
    close(fx->in_fd);
    rm_dir(fx->dir);
    free(fx);
    return 0;
}

static size_t count_files(const char *dir, const char *sub)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    DIR *d = opendir(path);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

struct result {
    bool done;
    enum queue_commit_result r;
};

static void on_done(void *arg, enum queue_commit_result r)
{
    struct result *res = arg;
    res->done = true;
    res->r = r;
}

static void run_until(struct event_base *base, const bool *flag)
{
    int64_t deadline = clock_mono_us() + 10 * 1000000;
    while (!*flag) {
        assert_true(clock_mono_us() < deadline);
        event_base_loop(base, EVLOOP_ONCE);
    }
}

static void make_env(struct queue_envelope *env, const char *id)
{
    memset(env, 0, sizeof(*env));
    strcpy(env->queue_id, id);
    env->arrival_us = clock_wall_us();
    env->sender = xstrdup("a@example.org");
    queue_envelope_add_rcpt(env, "b@example.com", NULL, 0);
}

/* Commits t (queue ID id) with a one-recipient envelope and waits. */
static enum queue_commit_result commit_wait(struct fixture *fx, struct queue_txn *t,
                                            const char *id)
{
    struct queue_envelope env;
    make_env(&env, id);
    struct result res = { 0 };
    queue_txn_commit(t, &env, on_done, &res);
    queue_envelope_free(&env);
    run_until(fx->base, &res.done);
    return res.r;
}

/* Begins, appends content, commits and waits; returns the result. */
static enum queue_commit_result commit_one(struct fixture *fx, const char *c, size_t n,
                                           char id[QUEUE_ID_SIZE])
{
    struct queue_txn *t = queue_txn_begin(fx->qw, id);
    assert_true(queue_txn_append(t, c, n));
    return commit_wait(fx, t, id);
}

static void assert_loadable(struct fixture *fx, const char *id, const char *c, size_t n)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/incoming/%s", fx->dir, id);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct queue_envelope env;
    struct qfile_info info;
    struct qfile_error err;
    if (!qfile_load(fd, id, &env, &info, &err))
        fail_msg("load %s: %s", id, err.text);
    assert_int_equal(info.content_size, n);
    char *got = xmalloc(n + 1);
    assert_int_equal(pread(fd, got, n, (off_t)info.content_offset), (ssize_t)n);
    assert_memory_equal(got, c, n);
    free(got);
    queue_envelope_free(&env);
    close(fd);
}

static void commit_basic(void **state)
{
    struct fixture *fx = *state;
    char id[QUEUE_ID_SIZE];
    const char *c = "Subject: x\n\nhello\n";
    assert_int_equal(commit_one(fx, c, strlen(c), id), QUEUE_COMMITTED);
    assert_true(strlen(id) >= 12);
    assert_int_equal(id[10], 'T');
    assert_loadable(fx, id, c, strlen(c));
    assert_int_equal(count_files(fx->dir, "tmp"), 0);
    assert_int_equal(count_files(fx->dir, "incoming"), 1);
    struct queue_writer_stats st;
    queue_writer_get_stats(fx->qw, &st);
    assert_int_equal(st.commits, 1);
    assert_int_equal(st.dir_syncs, 1);
    assert_int_equal(fk.calls[OP_FSYNC], 2);        /* the file, then incoming/ */
}

static const struct {
    enum op op;
    int at;
    int err;
    enum queue_commit_result want;
} failures[] = {
    { OP_OPEN, 1, ENOSPC, QUEUE_NO_SPACE },
    { OP_WRITE, 1, ENOSPC, QUEUE_NO_SPACE },
    { OP_WRITE, 1, EDQUOT, QUEUE_NO_SPACE },
    { OP_FSYNC, 1, ENOSPC, QUEUE_NO_SPACE },        /* the file */
    { OP_NAME, 1, ENOSPC, QUEUE_NO_SPACE },
    { OP_CLOSE, 1, ENOSPC, QUEUE_NO_SPACE },
    { OP_FSYNC, 2, ENOSPC, QUEUE_NO_SPACE },        /* incoming/ */
    { OP_FSYNC, 2, EDQUOT, QUEUE_NO_SPACE },
    { OP_OPEN, 1, EACCES, QUEUE_IO_ERROR },
    { OP_WRITE, 1, EIO, QUEUE_IO_ERROR },
    { OP_FSYNC, 1, EIO, QUEUE_IO_ERROR },
    { OP_NAME, 1, EIO, QUEUE_IO_ERROR },
    { OP_NAME, 1, EEXIST, QUEUE_IO_ERROR },
    { OP_FSYNC, 2, EIO, QUEUE_IO_ERROR },
};

static void run_failures(struct fixture *fx, bool unnamed)
{
    const char *c = "Subject: x\n\nhello\n";
    for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
        fake_reset();
        fk.no_unnamed = !unnamed;
        fk.fail_op = failures[i].op;
        fk.fail_at = failures[i].at;
        fk.fail_errno = failures[i].err;
        char id[QUEUE_ID_SIZE];
        enum queue_commit_result r = commit_one(fx, c, strlen(c), id);
        if (r != failures[i].want)
            fail_msg("case %zu: result %d, want %d", i, r, failures[i].want);
        assert_int_equal(count_files(fx->dir, "tmp"), 0);
        assert_int_equal(count_files(fx->dir, "incoming"), 0);
    }
    fake_reset();
    fk.no_unnamed = !unnamed;
    char id[QUEUE_ID_SIZE];
    assert_int_equal(commit_one(fx, c, strlen(c), id), QUEUE_COMMITTED);
    struct queue_writer_stats st;
    queue_writer_get_stats(fx->qw, &st);
    assert_int_equal(st.failures, sizeof(failures) / sizeof(failures[0]));
    assert_int_equal(st.commits, 1);
}

static void failure_at_every_step(void **state)
{
    run_failures(*state, true);
}

/* Where the file system has no O_TMPFILE: tmp/ID, renamed into incoming/. */
static struct queue_writer *make_classic_writer(struct fixture *fx, size_t spill)
{
    queue_writer_free(fx->qw);
    fake_reset();
    fk.no_unnamed = true;
    return make_writer(fx, spill, NULL);
}

static void failure_at_every_step_classic(void **state)
{
    struct fixture *fx = *state;
    fx->qw = make_classic_writer(fx, 0);
    run_failures(fx, false);
}

static void short_writes(void **state)
{
    struct fixture *fx = *state;
    char c[5000];
    for (size_t i = 0; i < sizeof(c); i++)
        c[i] = (char)('A' + i % 23);
    fk.max_write = 7;
    char id[QUEUE_ID_SIZE];
    assert_int_equal(commit_one(fx, c, sizeof(c), id), QUEUE_COMMITTED);
    assert_true(fk.calls[OP_WRITE] > (int)(sizeof(c) / 7));
    assert_loadable(fx, id, c, sizeof(c));
}

#define MANY 200

static void group_commit_batches(void **state)
{
    struct fixture *fx = *state;
    static struct result res[MANY];
    char ids[MANY][QUEUE_ID_SIZE];
    const char *c = "Subject: many\n\nbody\n";
    memset(res, 0, sizeof(res));
    for (int i = 0; i < MANY; i++) {
        struct queue_txn *t = queue_txn_begin(fx->qw, ids[i]);
        assert_true(queue_txn_append(t, c, strlen(c)));
        struct queue_envelope env;
        make_env(&env, ids[i]);
        queue_txn_commit(t, &env, on_done, &res[i]);
        queue_envelope_free(&env);
    }
    for (int i = 0; i < MANY; i++) {
        run_until(fx->base, &res[i].done);
        assert_int_equal(res[i].r, QUEUE_COMMITTED);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    struct queue_writer_stats st;
    queue_writer_get_stats(fx->qw, &st);
    assert_int_equal(st.commits, MANY);
    assert_true(st.dir_syncs < MANY);
    assert_true(st.dir_syncs >= 1);
    assert_int_equal(count_files(fx->dir, "incoming"), MANY);
    assert_loadable(fx, ids[MANY - 1], c, strlen(c));
}

struct feeder {
    struct queue_txn *t;
    const char *data;
    size_t len, off;
    bool finished, failed;
    int pauses;
};

static void feed(void *arg)
{
    struct feeder *f = arg;
    while (f->off < f->len) {
        if (!queue_txn_can_append(f->t, feed, f)) {
            f->pauses++;
            return;
        }
        size_t n = f->len - f->off < 333 ? f->len - f->off : 333;
        if (!queue_txn_append(f->t, f->data + f->off, n)) {
            f->failed = true;
            break;
        }
        f->off += n;
    }
    f->finished = true;
}

static void spill_path(void **state)
{
    struct fixture *fx = *state;
    queue_writer_free(fx->qw);
    fx->qw = make_writer(fx, 1000, NULL);
    size_t n = 50000;
    char *c = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        c[i] = (char)('a' + (i * 31) % 26);
    char id[QUEUE_ID_SIZE];
    struct feeder f = { .t = queue_txn_begin(fx->qw, id), .data = c, .len = n };
    feed(&f);
    run_until(fx->base, &f.finished);
    assert_false(f.failed);
    assert_true(f.pauses > 0);
    assert_int_equal(commit_wait(fx, f.t, id), QUEUE_COMMITTED);
    struct queue_writer_stats st;
    queue_writer_get_stats(fx->qw, &st);
    assert_true(st.spills >= 10);
    assert_loadable(fx, id, c, n);
    free(c);
}

/* Spills a 20,000-byte message, checks where its file is, then commits it. */
static void spill_then_check(struct fixture *fx, size_t in_tmp)
{
    size_t n = 20000;
    char *c = xmalloc(n);
    memset(c, 'u', n);
    char id[QUEUE_ID_SIZE];
    struct feeder f = { .t = queue_txn_begin(fx->qw, id), .data = c, .len = n };
    feed(&f);
    run_until(fx->base, &f.finished);
    assert_false(f.failed);
    assert_int_equal(count_files(fx->dir, "tmp"), in_tmp);
    assert_int_equal(count_files(fx->dir, "incoming"), 0);     /* no name before commit */
    assert_int_equal(commit_wait(fx, f.t, id), QUEUE_COMMITTED);
    assert_int_equal(count_files(fx->dir, "tmp"), 0);
    assert_int_equal(count_files(fx->dir, "incoming"), 1);
    assert_loadable(fx, id, c, n);
    free(c);
}

static void unnamed_until_committed(void **state)
{
    struct fixture *fx = *state;
    queue_writer_free(fx->qw);
    fx->qw = make_writer(fx, 1000, NULL);
    spill_then_check(fx, 0);
}

static void classic_spill_uses_tmp(void **state)
{
    struct fixture *fx = *state;
    fx->qw = make_classic_writer(fx, 1000);
    spill_then_check(fx, 1);
}

/* The commit is reported only after the file was synced and, after its
 * name was given, incoming/ (the file may be named before its own sync). */
static void synced_after_named(struct fixture *fx, bool unnamed)
{
    char id[QUEUE_ID_SIZE];
    fake_reset();
    fk.no_unnamed = !unnamed;
    fk.round_at_name = fx->qw;
    assert_int_equal(commit_one(fx, "x\n", 2, id), QUEUE_COMMITTED);
    fk.round_at_name = NULL;
    const char *named = strchr(fk.trace, 'N');
    assert_non_null(named);
    assert_non_null(strchr(fk.trace, 'F'));
    assert_non_null(strchr(named, 'D'));
}

static void reported_after_both_syncs(void **state)
{
    synced_after_named(*state, true);
}

static void reported_after_both_syncs_classic(void **state)
{
    struct fixture *fx = *state;
    fx->qw = make_classic_writer(fx, 0);
    synced_after_named(fx, false);
}

/* Unnamed files refused after the start-up check: tmp/ from then on. */
static void falls_back_to_tmp_later(void **state)
{
    struct fixture *fx = *state;
    fake_reset();
    fk.no_unnamed = true;               /* the writer was made while they worked */
    char id[QUEUE_ID_SIZE];
    const char *c = "Subject: late\n\nbody\n";
    assert_int_equal(commit_one(fx, c, strlen(c), id), QUEUE_COMMITTED);
    assert_loadable(fx, id, c, strlen(c));
    assert_int_equal(fk.calls[OP_OPEN], 1);         /* the tmp/ file; the refusal is not counted */
    assert_int_equal(count_files(fx->dir, "tmp"), 0);
}

static void spill_failure(void **state)
{
    struct fixture *fx = *state;
    queue_writer_free(fx->qw);
    fx->qw = make_writer(fx, 1000, NULL);
    size_t n = 20000;
    char *c = xmalloc(n);
    memset(c, 'x', n);
    fk.fail_op = OP_WRITE;
    fk.fail_at = 3;
    fk.fail_errno = ENOSPC;
    char id[QUEUE_ID_SIZE];
    struct feeder f = { .t = queue_txn_begin(fx->qw, id), .data = c, .len = n };
    feed(&f);
    run_until(fx->base, &f.finished);
    assert_true(f.failed);
    assert_int_equal(count_files(fx->dir, "tmp"), 0);
    assert_int_equal(commit_wait(fx, f.t, id), QUEUE_NO_SPACE);
    assert_int_equal(count_files(fx->dir, "tmp"), 0);
    assert_int_equal(count_files(fx->dir, "incoming"), 0);
    free(c);
}

static void spill_then_commit_while_in_flight(void **state)
{
    struct fixture *fx = *state;
    queue_writer_free(fx->qw);
    fx->qw = make_writer(fx, 100, NULL);
    char c[3000];
    memset(c, 'q', sizeof(c));
    char id[QUEUE_ID_SIZE];
    struct queue_txn *t = queue_txn_begin(fx->qw, id);
    assert_true(queue_txn_append(t, c, sizeof(c)));     /* starts a spill */
    assert_false(queue_txn_can_append(t, NULL, NULL));
    assert_int_equal(commit_wait(fx, t, id), QUEUE_COMMITTED);
    assert_loadable(fx, id, c, sizeof(c));
}

static void abort_cleans_up(void **state)
{
    struct fixture *fx = *state;
    queue_writer_free(fx->qw);
    fx->qw = make_writer(fx, 100, NULL);
    char c[500];
    memset(c, 'z', sizeof(c));
    char id[QUEUE_ID_SIZE];
    /* Aborted while its spill is in flight. */
    struct queue_txn *t = queue_txn_begin(fx->qw, id);
    assert_true(queue_txn_append(t, c, sizeof(c)));
    queue_txn_abort(t);
    /* Aborted after a finished spill. */
    struct feeder f = { .t = queue_txn_begin(fx->qw, id), .data = c, .len = sizeof(c) };
    feed(&f);
    run_until(fx->base, &f.finished);
    queue_txn_abort(f.t);
    /* Aborted before anything was written. */
    queue_txn_abort(queue_txn_begin(fx->qw, id));
    queue_writer_free(fx->qw);                          /* waits for the cleanups */
    fx->qw = make_writer(fx, 0, NULL);
    assert_int_equal(count_files(fx->dir, "tmp"), 0);
    assert_int_equal(count_files(fx->dir, "incoming"), 0);
}

static void never_replaces_an_existing_file(void **state)
{
    struct fixture *fx = *state;
    queue_writer_free(fx->qw);
    struct queue_writer_options o = {
        .queue_dir = fx->dir, .tmp_dirfd = fx->tmp_fd, .incoming_dirfd = fx->in_fd,
        .worker_tag = 'T',                  /* the real file system calls */
    };
    fx->qw = queue_writer_new(fx->base, &o);
    char id[QUEUE_ID_SIZE];
    struct queue_txn *t = queue_txn_begin(fx->qw, id);
    assert_true(queue_txn_append(t, "x\n", 2));
    char path[128];
    snprintf(path, sizeof(path), "%s/incoming/%s", fx->dir, id);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_int_equal(write(fd, "other", 5), 5);
    close(fd);
    assert_int_equal(commit_wait(fx, t, id), QUEUE_IO_ERROR);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 5);                /* untouched */
    assert_int_equal(count_files(fx->dir, "tmp"), 0);
}

static void bad_envelope_is_io_error(void **state)
{
    struct fixture *fx = *state;
    char id[QUEUE_ID_SIZE];
    struct queue_txn *t = queue_txn_begin(fx->qw, id);
    assert_true(queue_txn_append(t, "x\n", 2));
    struct queue_envelope env = { 0 };
    strcpy(env.queue_id, id);
    env.sender = xstrdup("a@b");                        /* no recipients */
    struct result res = { 0 };
    queue_txn_commit(t, &env, on_done, &res);
    queue_envelope_free(&env);
    run_until(fx->base, &res.done);
    assert_int_equal(res.r, QUEUE_IO_ERROR);
    assert_int_equal(count_files(fx->dir, "tmp"), 0);
}

static void free_space_check(void **state)
{
    struct fixture *fx = *state;
    assert_true(queue_writer_has_space(fx->qw, 1000));
    queue_writer_free(fx->qw);
    struct queue_writer_options o = {
        .queue_dir = fx->dir, .tmp_dirfd = fx->tmp_fd, .incoming_dirfd = fx->in_fd,
        .minfree = UINT64_MAX / 4, .worker_tag = 'T',
    };
    fx->qw = queue_writer_new(fx->base, &o);
    assert_false(queue_writer_has_space(fx->qw, 0));
}

static void notifies_queue_manager(void **state)
{
    struct fixture *fx = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/private/qmgr", fx->dir);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, path);
    assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
    queue_writer_free(fx->qw);
    fx->qw = make_writer(fx, 0, path);
    char id[QUEUE_ID_SIZE];
    assert_int_equal(commit_one(fx, "x\n", 2, id), QUEUE_COMMITTED);
    char got[256];
    ssize_t n = recv(s, got, sizeof(got) - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    got[n] = '\0';
    char want[64];
    snprintf(want, sizeof(want), "%s\n", id);
    assert_string_equal(got, want);
    close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(commit_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_at_every_step, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_at_every_step_classic, setup, teardown),
        cmocka_unit_test_setup_teardown(reported_after_both_syncs, setup, teardown),
        cmocka_unit_test_setup_teardown(reported_after_both_syncs_classic, setup, teardown),
        cmocka_unit_test_setup_teardown(unnamed_until_committed, setup, teardown),
        cmocka_unit_test_setup_teardown(classic_spill_uses_tmp, setup, teardown),
        cmocka_unit_test_setup_teardown(falls_back_to_tmp_later, setup, teardown),
        cmocka_unit_test_setup_teardown(short_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(group_commit_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(spill_path, setup, teardown),
        cmocka_unit_test_setup_teardown(spill_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(spill_then_commit_while_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_cleans_up, setup, teardown),
        cmocka_unit_test_setup_teardown(never_replaces_an_existing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_envelope_is_io_error, setup, teardown),
        cmocka_unit_test_setup_teardown(free_space_check, setup, teardown),
        cmocka_unit_test_setup_teardown(notifies_queue_manager, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
