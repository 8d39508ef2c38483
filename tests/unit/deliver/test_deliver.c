/*
 * Delivery agents: Maildir names, prepended headers, creation on first
 * delivery, exactly-once on a recovering retry (new/ and cur/), size
 * limits, unsafe paths, concurrent deliveries to one Maildir; mbox From_
 * line, ">From " quoting across chunk boundaries, the closing empty line,
 * size limit, truncation after a failed write, lock contention; the errno
 * to DSN mapping; per-thread identity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/xalloc.h"
#include "deliver/deliver.h"
#include "deliver/deliver_int.h"

#define CONTENT_OFFSET 100

struct fx {
    char dir[64];
    int fd;                         /* the "queue file" */
    uint64_t size;
    struct mailbox_location mb;
    struct deliver_request req;
};

static void set_content(struct fx *f, const char *c, size_t n)
{
    assert_int_equal(ftruncate(f->fd, 0), 0);
    char pad[CONTENT_OFFSET];
    memset(pad, '#', sizeof(pad));
    assert_int_equal(pwrite(f->fd, pad, sizeof(pad), 0), (ssize_t)sizeof(pad));
    assert_int_equal(pwrite(f->fd, c, n, CONTENT_OFFSET), (ssize_t)n);
    assert_int_equal(pwrite(f->fd, "TRAILER", 7, CONTENT_OFFSET + (off_t)n), 7);
    f->req.content_size = n;
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/test_deliver_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/queuefile", f->dir);
    f->fd = open(path, O_RDWR | O_CREAT, 0600);
    assert_true(f->fd >= 0);
    snprintf(f->mb.path, sizeof(f->mb.path), "%s/mail/bob/Maildir/", f->dir);
    f->mb.maildir = true;
    f->mb.transport = "virtual";
    f->req = (struct deliver_request){
        .queue_id = "0ABCDEFGHIJK", .rcpt_index = 1, .arrival_us = 1700000000500000LL,
        .sender = "alice@example.org", .recipient = "Bob@Example.COM",
        .myhostname = "mx/1:a.example.com", .mailbox = &f->mb,
        .content_fd = f->fd, .content_offset = CONTENT_OFFSET,
    };
    set_content(f, "Subject: hi\n\nhello\n", 19);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    close(f->fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static size_t count(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    size_t len;
    char *s = fileio_read(path, 1 << 24, &len);
    assert_non_null(s);
    return s;
}

static const char *expected_name = "1700000000.0ABCDEFGHIJKR1.mx\\0571\\072a.example.com";

static void maildir_first_delivery(void **state)
{
    struct fx *f = *state;
    struct deliver_result r;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    assert_string_equal(r.dsn, "2.0.0");
    assert_string_equal(r.text, "delivered to maildir");
    char path[512];
    snprintf(path, sizeof(path), "%s/mail/bob/Maildir/new/%s", f->dir, expected_name);
    char *got = slurp(path);
    assert_string_equal(got, "Return-Path: <alice@example.org>\n"
                             "Delivered-To: Bob@Example.COM\n"
                             "Subject: hi\n\nhello\n");
    free(got);
    struct stat st;
    snprintf(path, sizeof(path), "%s/mail/bob/Maildir/cur", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof(path), "%s/mail/bob/Maildir/tmp", f->dir);
    assert_int_equal(count(path), 0);
}

static void maildir_exactly_once_on_recovery(void **state)
{
    struct fx *f = *state;
    struct deliver_result r;
    char newdir[256], curdir[256];
    snprintf(newdir, sizeof(newdir), "%s/mail/bob/Maildir/new", f->dir);
    snprintf(curdir, sizeof(curdir), "%s/mail/bob/Maildir/cur", f->dir);
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    /* The status update was lost: the retry finds the copy in new/. */
    f->req.recovering = true;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    assert_int_equal(count(newdir), 1);
    /* A mail reader moved it to cur/ with flags: still found. */
    char from[512], to[512];
    snprintf(from, sizeof(from), "%s/%s", newdir, expected_name);
    snprintf(to, sizeof(to), "%s/%s:2,S", curdir, expected_name);
    assert_int_equal(rename(from, to), 0);
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    assert_int_equal(count(newdir), 0);
    assert_int_equal(count(curdir), 1);
    /* A different recipient index is a different message. */
    f->req.rcpt_index = 2;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    assert_int_equal(count(newdir), 1);
    /* Without recovery a leftover name in new/ is still not duplicated. */
    f->req.recovering = false;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    assert_int_equal(count(newdir), 1);
}

static void maildir_tmp_leftover_replaced(void **state)
{
    struct fx *f = *state;
    struct deliver_result r;
    deliver_mailbox(&f->req, &r);       /* creates the Maildir */
    f->req.rcpt_index = 7;
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/mail/bob/Maildir/tmp/1700000000.0ABCDEFGHIJKR7.mx\\0571\\072a.example.com",
             f->dir);
    assert_true(fileio_replace(tmp, "partial", 7, 0600));
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    char path[256];
    snprintf(path, sizeof(path), "%s/mail/bob/Maildir/tmp", f->dir);
    assert_int_equal(count(path), 0);
}

static void maildir_size_limit(void **state)
{
    struct fx *f = *state;
    struct deliver_result r;
    f->req.size_limit = 50;             /* headers (64 bytes) alone pass it */
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_BOUNCE);
    assert_string_equal(r.dsn, "5.2.2");
    assert_string_equal(r.text, "maildir delivery failed: error writing message: File too large");
    f->req.size_limit = 1000;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
}

static void unsafe_paths_refused(void **state)
{
    struct fx *f = *state;
    struct deliver_result r;
    snprintf(f->mb.path, sizeof(f->mb.path), "%s/mail/../etc/", f->dir);
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_DEFER);
    assert_string_equal(r.dsn, "4.3.5");
    strcpy(f->mb.path, "relative/Maildir/");
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_DEFER);
    assert_true(deliver_path_safe("/a/..b/c"));
    assert_false(deliver_path_safe("/a/b/.."));
    assert_false(deliver_path_safe(""));
}

static void not_a_directory_bounces(void **state)
{
    struct fx *f = *state;
    struct deliver_result r;
    char path[256];
    snprintf(path, sizeof(path), "%s/file", f->dir);
    assert_true(fileio_replace(path, "x", 1, 0600));
    snprintf(f->mb.path, sizeof(f->mb.path), "%s/file/Maildir/", f->dir);
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_BOUNCE);
    assert_string_equal(r.dsn, "5.2.0");
    assert_non_null(strstr(r.text, "maildir delivery failed: create maildir file"));
    assert_non_null(strstr(r.text, "Not a directory"));
}

struct par {
    struct fx *f;
    unsigned index;
    struct deliver_result r;
};

static void *deliver_thread(void *arg)
{
    struct par *p = arg;
    struct deliver_request req = p->f->req;
    req.rcpt_index = p->index;
    deliver_mailbox(&req, &p->r);
    return NULL;
}

static void maildir_concurrent(void **state)
{
    struct fx *f = *state;
    enum { N = 16 };
    pthread_t th[N];
    struct par p[N];
    for (unsigned i = 0; i < N; i++) {
        p[i] = (struct par){ .f = f, .index = i };
        assert_int_equal(pthread_create(&th[i], NULL, deliver_thread, &p[i]), 0);
    }
    for (unsigned i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(p[i].r.status, DELIVER_OK);
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/mail/bob/Maildir/new", f->dir);
    assert_int_equal(count(path), N);
}

static void use_mbox(struct fx *f)
{
    snprintf(f->mb.path, sizeof(f->mb.path), "%s/bob", f->dir);
    f->mb.maildir = false;
    f->mb.transport = "local";
}

static void mbox_format_and_quoting(void **state)
{
    struct fx *f = *state;
    use_mbox(f);
    const char *c = "Subject: q\n\nFrom here\n>From there\n From x\nFrom\nFrom";
    set_content(f, c, strlen(c));
    struct deliver_result r;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    assert_string_equal(r.text, "delivered to mailbox");
    f->req.sender = "";
    set_content(f, "From the start\n", 15);
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    char *got = slurp(f->mb.path);
    /* "From alice@example.org  Tue Nov 14 22:13:20 2023" */
    assert_true(strncmp(got, "From alice@example.org  ", 24) == 0);
    char *nl = strchr(got, '\n');
    assert_non_null(nl);
    assert_int_equal(nl - got, 24 + 24);
    const char *first =
        "Return-Path: <alice@example.org>\nDelivered-To: Bob@Example.COM\n"
        "Subject: q\n\n>From here\n>From there\n From x\nFrom\nFrom\n\n"
        "From MAILER-DAEMON  ";
    assert_true(strncmp(nl + 1, first, strlen(first)) == 0);
    char *second = strstr(got, "From MAILER-DAEMON  ");
    assert_non_null(second);
    assert_string_equal(strchr(second, '\n') + 1,
        "Return-Path: <>\nDelivered-To: Bob@Example.COM\n>From the start\n\n");
    free(got);
    struct stat st;
    assert_int_equal(stat(f->mb.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void mbox_quoting_across_chunks(void **state)
{
    struct fx *f = *state;
    use_mbox(f);
    /* "From " straddles the 64 KiB chunk boundary. */
    size_t n = DELIVER_CHUNK + 100;
    char *c = xmalloc(n + 1);
    memset(c, 'a', n);
    for (size_t i = 99; i < n; i += 100)
        c[i] = '\n';
    memcpy(c + DELIVER_CHUNK - 2, "\nFrom ", 6);
    set_content(f, c, n);
    struct deliver_result r;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    char *got = slurp(f->mb.path);
    assert_non_null(strstr(got, "\n>From aaa"));
    assert_null(strstr(got, "\nFrom aaa"));
    free(got);
    free(c);
}

static void mbox_size_limit(void **state)
{
    struct fx *f = *state;
    use_mbox(f);
    struct deliver_result r;
    f->req.size_limit = 400;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    deliver_mailbox(&f->req, &r);
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_BOUNCE);
    assert_string_equal(r.dsn, "5.2.2");
    char want[4200];
    snprintf(want, sizeof(want),
             "cannot update mailbox %s for user Bob. error writing message: File too large",
             f->mb.path);
    assert_string_equal(r.text, want);
}

static void mbox_truncated_after_failed_write(void **state)
{
    struct fx *f = *state;
    use_mbox(f);
    struct deliver_result r;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    struct stat before, after;
    assert_int_equal(stat(f->mb.path, &before), 0);
    size_t n = 200000;
    char *c = xmalloc(n);
    memset(c, 'x', n);
    set_content(f, c, n);
    /* The file size limit makes the write fail half way with EFBIG. */
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)before.st_size + 70000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    deliver_mailbox(&f->req, &r);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(r.status, DELIVER_BOUNCE);
    assert_string_equal(r.dsn, "5.2.2");
    assert_int_equal(stat(f->mb.path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    free(c);
}

static void mbox_lock_busy_defers(void **state)
{
    struct fx *f = *state;
    use_mbox(f);
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s.lock", f->mb.path);
    assert_true(fileio_replace(lock, "", 0, 0600));
    struct deliver_result r;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_DEFER);
    assert_string_equal(r.dsn, "4.2.0");
    assert_non_null(strstr(r.text, "unable to create lock file"));
    unlink(lock);
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    assert_int_equal(access(lock, F_OK), -1);
}

static void mbox_symlink_refused(void **state)
{
    struct fx *f = *state;
    use_mbox(f);
    char target[256];
    snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
    assert_int_equal(symlink(target, f->mb.path), 0);
    struct deliver_result r;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_BOUNCE);
    assert_int_equal(access(target, F_OK), -1);
}

static void errno_mapping(void **state)
{
    static const struct { int err; const char *dsn; enum deliver_status st; } cases[] = {
        { ENOSPC, "4.3.0", DELIVER_DEFER }, { EIO, "4.3.0", DELIVER_DEFER },
        { EAGAIN, "4.2.0", DELIVER_DEFER }, { EACCES, "4.2.0", DELIVER_DEFER },
        { EDQUOT, "5.2.2", DELIVER_BOUNCE }, { EFBIG, "5.2.2", DELIVER_BOUNCE },
        { ENOTDIR, "5.2.0", DELIVER_BOUNCE },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct deliver_result r;
        deliver_set_errno(&r, cases[i].err, "maildir delivery failed: x");
        assert_string_equal(r.dsn, cases[i].dsn);
        assert_int_equal(r.status, cases[i].st);
        assert_true(strncmp(r.text, "maildir delivery failed: x: ", 28) == 0);
    }
}

static void identity_switch(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    assert_int_equal(chmod(f->dir, 0755), 0);
    char home[256];
    snprintf(home, sizeof(home), "%s/home", f->dir);
    assert_int_equal(mkdir(home, 0755), 0);
    assert_int_equal(chown(home, 65534, 65534), 0);
    snprintf(f->mb.path, sizeof(f->mb.path), "%s/Maildir/", home);
    f->mb.uid = f->mb.gid = 65534;
    f->mb.switch_identity = true;
    struct deliver_result r;
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_OK);
    char path[4200];
    snprintf(path, sizeof(path), "%s/new/%s", f->mb.path, expected_name);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, 65534);
    assert_int_equal(stat(f->mb.path, &st), 0);
    assert_int_equal(st.st_uid, 65534);
    /* The thread is root again afterwards. */
    assert_int_equal(setfsuid((uid_t)-1), 0);
    /* The owner cannot write where it has no permission. */
    snprintf(f->mb.path, sizeof(f->mb.path), "%s/rootonly/Maildir/", f->dir);
    deliver_mailbox(&f->req, &r);
    assert_int_equal(r.status, DELIVER_DEFER);
    assert_non_null(strstr(r.text, "Permission denied"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(maildir_first_delivery), T(maildir_exactly_once_on_recovery),
        T(maildir_tmp_leftover_replaced), T(maildir_size_limit), T(unsafe_paths_refused),
        T(not_a_directory_bounces), T(maildir_concurrent), T(mbox_format_and_quoting),
        T(mbox_quoting_across_chunks), T(mbox_size_limit), T(mbox_truncated_after_failed_write),
        T(mbox_lock_busy_defers), T(mbox_symlink_refused), T(errno_mapping), T(identity_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
