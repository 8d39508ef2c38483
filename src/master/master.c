/*
 * Supervisor; see master.h. Children are plain fork()s: each inherits the
 * loaded configuration and the listening sockets, so nothing needs to be
 * serialized. The supervisor itself never touches mail.
 *
 * Restarts are throttled (1 s doubling to 60 s while a child keeps dying
 * young) so that a broken configuration does not turn into a fork loop.
 * A reload (SIGHUP) loads and checks the new configuration first; only a
 * valid one replaces the running children, which finish their sessions.
 */
#include "master/master.h"

#include "auth/server.h"
#include "base/clock.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "config/config.h"
#include "config/master_cf.h"
#include "master/privs.h"
#include "master/state.h"
#include "net/admission.h"
#include "net/listener.h"
#include "queue/layout.h"
#include "queue/qmgr.h"
#include "smtpd/smtpd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RESTART_DELAY_MIN 1
#define RESTART_DELAY_MAX 60
/* A child that lived this long is healthy again: its restart delay resets. */
#define CHILD_HEALTHY_SECONDS 30
/* How long children get to finish after SIGTERM before SIGKILL. */
#define STOP_GRACE_SECONDS 40

enum child_kind { CHILD_SMTPD, CHILD_QMGR, CHILD_AUTH };

struct child {
    enum child_kind kind;
    unsigned index;             /* worker number (admission column) */
    pid_t pid;                  /* 0: not running */
    time_t started;
    time_t restart_at;          /* when to start again (0: not scheduled) */
    unsigned delay;
    bool retiring;              /* replaced by a reload: reap, never restart */
};

static struct master_state st;
static struct child *children;
static size_t nchildren;
static bool used_index[ADMISSION_MAX_WORKERS];

static unsigned take_index(void)
{
    for (unsigned i = 0; i < ADMISSION_MAX_WORKERS; i++)
        if (!used_index[i]) {
            used_index[i] = true;
            return i;
        }
    log_fatal("more than %d SMTP worker processes", ADMISSION_MAX_WORKERS);
}

static void child_main(struct child *c)
{
    /* SIGUSR1 (retire after a reload) stays blocked until an SMTP worker
       has its handler: one sent early waits instead of killing it. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    signal(SIGHUP, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int code;
    if (c->kind == CHILD_QMGR) {
        log_set_ident(st.syslog_name, "qmgr");
        code = qmgr_main(st.cfg);
    } else if (c->kind == CHILD_AUTH) {
        log_set_ident(st.syslog_name, "auth");     /* stays root: it reads the user database */
        struct auth_server_setup setup;
        if (!master_state_auth_setup(&st, &setup))
            _exit(1);
        code = auth_server_main(&setup);
    } else {
        log_set_ident(st.syslog_name, "smtpd");
        struct smtpd_worker_setup setup;
        if (!master_state_worker_setup(&st, c->index, &setup))
            _exit(1);
        code = smtpd_worker_main(&setup);
    }
    _exit(code);
}

static void start_child(struct child *c)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_warning("fork: %s", strerror(errno));
        c->restart_at = time(NULL) + RESTART_DELAY_MIN;
        return;
    }
    if (pid == 0)
        child_main(c);
    c->pid = pid;
    c->started = time(NULL);
    c->restart_at = 0;
}

static struct child *add_child(enum child_kind kind, unsigned index)
{
    children = xrealloc(children, (nchildren + 1) * sizeof(*children));
    struct child *c = &children[nchildren++];
    *c = (struct child){ .kind = kind, .index = index, .delay = RESTART_DELAY_MIN };
    start_child(c);
    return c;
}

static void start_generation(void)
{
    add_child(CHILD_QMGR, 0);
    if (master_state_needs_auth(&st))
        add_child(CHILD_AUTH, 0);
    for (unsigned i = 0; i < st.workers; i++)
        add_child(CHILD_SMTPD, take_index());
}

static const char *kind_name(enum child_kind k)
{
    return k == CHILD_QMGR ? "qmgr" : k == CHILD_AUTH ? "auth" : "smtpd";
}

static void remove_child(size_t i)
{
    if (children[i].kind == CHILD_SMTPD)
        used_index[children[i].index] = false;
    children[i] = children[--nchildren];
}

static void child_exited(pid_t pid, int status)
{
    for (size_t i = 0; i < nchildren; i++) {
        struct child *c = &children[i];
        if (c->pid != pid)
            continue;
        c->pid = 0;
        if (c->kind == CHILD_SMTPD)
            admission_forget_worker(st.admission, c->index);
        bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (WIFSIGNALED(status))
            log_warning("process %s pid %d killed by signal %d", kind_name(c->kind), (int)pid,
                        WTERMSIG(status));
        else if (!clean)
            log_warning("process %s pid %d exit status %d", kind_name(c->kind), (int)pid,
                        WEXITSTATUS(status));
        if (c->retiring || st.stopping) {
            remove_child(i);
            return;
        }
        time_t now = time(NULL);
        if (now - c->started >= CHILD_HEALTHY_SECONDS)
            c->delay = RESTART_DELAY_MIN;
        c->restart_at = now + c->delay;
        if (c->delay > RESTART_DELAY_MIN || !clean)
            log_warning("%s: process restart in %u s", kind_name(c->kind), c->delay);
        c->delay = c->delay * 2 > RESTART_DELAY_MAX ? RESTART_DELAY_MAX : c->delay * 2;
        return;
    }
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        child_exited(pid, status);
}

static void restart_due(void)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < nchildren; i++)
        if (children[i].pid == 0 && children[i].restart_at && children[i].restart_at <= now)
            start_child(&children[i]);
}

static void signal_children(int sig, bool retiring_too)
{
    for (size_t i = 0; i < nchildren; i++)
        if (children[i].pid > 0 && (retiring_too || !children[i].retiring))
            kill(children[i].pid, sig);
}

static bool any_running(void)
{
    for (size_t i = 0; i < nchildren; i++)
        if (children[i].pid > 0)
            return true;
    return false;
}

static void stop_all(int sig)
{
    log_info("terminating on signal %d", sig);
    st.stopping = true;
    signal_children(SIGTERM, true);
    time_t deadline = time(NULL) + STOP_GRACE_SECONDS;
    while (any_running() && time(NULL) < deadline) {
        reap();
        if (any_running())
            usleep(50000);
    }
    if (any_running()) {
        log_warning("children still running after %d s: killing them", STOP_GRACE_SECONDS);
        signal_children(SIGKILL, true);
        while (any_running()) {
            int status;
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0)
                break;
            child_exited(pid, status);
        }
    }
}

/* Waits (bounded) for every running child of one kind to exit; then kills the rest. */
static void wait_for_kind(enum child_kind kind, int seconds)
{
    time_t deadline = time(NULL) + seconds;
    for (;;) {
        reap();
        pid_t pid = 0;
        for (size_t i = 0; i < nchildren && pid == 0; i++)
            if (children[i].kind == kind && children[i].pid > 0)
                pid = children[i].pid;
        if (pid == 0)
            return;
        if (time(NULL) >= deadline) {
            log_warning("%s pid %d still running after %d s: killing it", kind_name(kind),
                        (int)pid, seconds);
            kill(pid, SIGKILL);
            int status;
            if (waitpid(pid, &status, 0) == pid)
                child_exited(pid, status);
            continue;
        }
        usleep(50000);
    }
}

/*
 * The running generation makes way for a reload's. The queue manager
 * stops before the new one starts (two would deliver the same files).
 * SMTP workers only stop accepting (SIGUSR1) and leave once their
 * sessions end, so no client is cut short. The old auth process stops
 * listening at once (the new one takes the socket over) and finishes the
 * exchanges it has open. A child waiting to be
 * restarted is simply dropped.
 */
static void retire_generation(void)
{
    for (size_t i = nchildren; i-- > 0;) {
        struct child *c = &children[i];
        c->retiring = true;
        if (c->pid == 0)
            remove_child(i);
        else
            kill(c->pid, c->kind == CHILD_SMTPD ? SIGUSR1 : SIGTERM);
    }
    wait_for_kind(CHILD_QMGR, STOP_GRACE_SECONDS);
}

static void reload(void)
{
    log_info("reload -- version %s, configuration %s", GATEPOST_VERSION, st.config_label);
    struct master_state next;
    if (!master_state_load(&next, st.config_dir_arg, &st)) {
        log_warning("reload: configuration has errors; still running the old one");
        return;
    }
    retire_generation();
    master_state_replace(&st, &next);
    log_reopen();
    start_generation();
}

static int supervise(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    for (;;) {
        struct timespec tick = { 1, 0 };
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            stop_all(sig);
            return 0;
        }
        if (sig == SIGHUP)
            reload();
        reap();
        restart_due();
    }
}

int master_run(const char *config_dir)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!master_state_load(&st, config_dir, NULL))
        return 1;
    log_info("daemon started -- version %s, configuration %s", GATEPOST_VERSION,
             st.config_label);
    /* No writer runs yet: whatever is in tmp/ was cut short by a crash. */
    long removed = queue_layout_clean_tmp(st.queue_dir);
    if (removed < 0)
        log_warning("cannot clean %s/%s: %s", st.queue_dir, QUEUE_DIR_TMP, strerror(errno));
    else if (removed > 0)
        log_info("removed %ld unfinished queue files left by an earlier run", removed);
    start_generation();
    return supervise();
}
