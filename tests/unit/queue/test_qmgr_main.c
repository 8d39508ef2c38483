/*
 * qmgr_main with the embedded configuration and the real recipient
 * resolver, in a child process: a message committed by a writer (as an
 * SMTP worker does) to user@localhost lands in the user's Maildir, one to
 * a remote domain is deferred, and SIGTERM stops the manager cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/diag.h"
#include "base/xalloc.h"
#include "config/config.h"
#include "queue/layout.h"
#include "queue/qmgr.h"
#include "queue/writer.h"

static size_t count(const char *path)
{
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

static bool wait_for(const char *path, size_t n)
{
    int64_t deadline = clock_mono_us() + 15 * 1000000LL;
    while (count(path) < n) {
        if (clock_mono_us() > deadline)
            return false;
        usleep(20000);
    }
    return true;
}

static void on_commit(void *arg, enum queue_commit_result r)
{
    *(int *)arg = r == QUEUE_COMMITTED ? 1 : 2;
}

static void submit(const char *qdir, const char *rcpt)
{
    struct event_base *base = event_base_new();
    int tmp = queue_layout_open(qdir, QUEUE_DIR_TMP);
    int in = queue_layout_open(qdir, QUEUE_DIR_INCOMING);
    char sock[512];
    snprintf(sock, sizeof(sock), "%s/%s", qdir, QUEUE_QMGR_SOCKET);
    struct queue_writer_options o = {
        .queue_dir = qdir, .tmp_dirfd = tmp, .incoming_dirfd = in, .threads = 1,
        .notify_path = sock, .worker_tag = 'A',
    };
    struct queue_writer *w = queue_writer_new(base, &o);
    char id[QUEUE_ID_SIZE];
    struct queue_txn *t = queue_txn_begin(w, id);
    const char *c = "Subject: integration\n\nhello\n";
    queue_txn_append(t, c, strlen(c));
    struct queue_envelope env = { 0 };
    memcpy(env.queue_id, id, sizeof(id));
    env.arrival_us = clock_wall_us();
    env.sender = xstrdup("sender@example.org");
    queue_envelope_add_rcpt(&env, rcpt, NULL, 0);
    int done = 0;
    queue_txn_commit(t, &env, on_commit, &done);
    queue_envelope_free(&env);
    while (done == 0)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(done, 1);
    queue_writer_free(w);
    event_base_free(base);
    close(tmp);
    close(in);
}

static void delivers_with_embedded_config(void **state)
{
    char dir[] = "/tmp/test_qmgr_main_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
    char path[1024];
    snprintf(path, sizeof(path), "%s/mail", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    if (uid == 0) {                     /* mailboxes are written as an unprivileged owner */
        uid = gid = 65534;
        assert_int_equal(chown(path, uid, gid), 0);
    }
    struct diag diag;
    diag_init(&diag);
    struct config *cfg = config_load_embedded(dir, uid, gid, &diag);
    if (cfg == NULL) {
        diag_print(&diag, stderr);
        fail_msg("embedded configuration failed to load");
    }
    diag_free(&diag);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(qmgr_main(cfg));
    char qdir[512], sock[600];
    snprintf(qdir, sizeof(qdir), "%s/queue", dir);
    snprintf(sock, sizeof(sock), "%s/%s", qdir, QUEUE_QMGR_SOCKET);
    int64_t deadline = clock_mono_us() + 10 * 1000000LL;
    while (access(sock, F_OK) != 0 && clock_mono_us() < deadline)
        usleep(10000);
    submit(qdir, "user@localhost");
    submit(qdir, "someone@example.com");
    snprintf(path, sizeof(path), "%s/mail/user/new", dir);
    assert_true(wait_for(path, 1));
    snprintf(path, sizeof(path), "%s/deferred", qdir);
    assert_true(wait_for(path, 1));
    struct stat st;
    snprintf(path, sizeof(path), "%s/mail/user", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, uid);
    kill(pid, SIGTERM);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    config_free(cfg);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_with_embedded_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
