/*
 * qmgr_main: the queue manager process. Reads its settings from the
 * configuration, routes recipients with the policy component's resolver
 * (route_classify + route_mailbox, on the loop thread), runs the engine
 * (qmgr_engine.h) until SIGTERM or SIGINT, then lets deliveries in flight
 * finish and exits. SIGHUP re-opens the log file. The log sink is the
 * caller's choice (the master opens it before starting the manager).
 *
 * Privilege: when started as root it keeps root (per-thread fsuid/fsgid
 * switching needs it, as Postfix's local(8) does) but drops supplementary
 * groups, so a delivery acting as a mailbox owner carries no extra group.
 */
#include "queue/qmgr.h"

#include "base/diag.h"
#include "base/log.h"
#include "event/signal_loop.h"
#include "policy/policy.h"
#include "policy/route.h"
#include "queue/qmgr_engine.h"

#include <errno.h>
#include <event2/event.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void route_with_policy(void *arg, const char *recipient, struct qmgr_route *out,
                              struct buf *why)
{
    const struct policy_env *env = arg;
    out->cls = route_classify(env, recipient);
    out->status = MAP_NOTFOUND;
    if (out->cls == ADDR_CLASS_LOCAL || out->cls == ADDR_CLASS_VIRTUAL_MAILBOX)
        out->status = route_mailbox(env, recipient, &out->mb, why);
}

static int64_t time_us(const struct config *cfg, enum param_id id)
{
    return (int64_t)cfg_time_ms(cfg, id) * 1000;
}

static void options_from(const struct config *cfg, struct policy_env *penv,
                         struct qmgr_options *o)
{
    *o = (struct qmgr_options){
        .queue_dir = cfg_str(cfg, P_QUEUE_DIRECTORY),
        .myhostname = cfg_str(cfg, P_MYHOSTNAME),
        .mail_name = cfg_str(cfg, P_MAIL_NAME),
        .syslog_name = cfg_str(cfg, P_SYSLOG_NAME),
        .delivery_threads = (unsigned)cfg_int(cfg, P_DELIVERY_THREADS),
        .min_backoff_us = time_us(cfg, P_MINIMAL_BACKOFF_TIME),
        .max_backoff_us = time_us(cfg, P_MAXIMAL_BACKOFF_TIME),
        .max_lifetime_us = time_us(cfg, P_MAXIMAL_QUEUE_LIFETIME),
        .bounce_lifetime_us = time_us(cfg, P_BOUNCE_QUEUE_LIFETIME),
        .run_delay_us = time_us(cfg, P_QUEUE_RUN_DELAY),
        .tmp_grace_us = QMGR_TMP_GRACE_US,
        .bounce_size_limit = (uint64_t)cfg_int(cfg, P_BOUNCE_SIZE_LIMIT),
        .mailbox_size_limit = cfg_size(cfg, P_MAILBOX_SIZE_LIMIT),
        .virtual_mailbox_limit = cfg_size(cfg, P_VIRTUAL_MAILBOX_LIMIT),
        .route = route_with_policy,
        .route_arg = penv,
    };
}

static void stop_qmgr(void *obj, void (*done)(void *arg), void *arg)
{
    qmgr_stop(obj, done, arg);
}

static int run_loop(struct event_base *base, struct qmgr *q)
{
    qmgr_start(q);
    return signal_loop_run(base, stop_qmgr, q);
}

int qmgr_main(const struct config *cfg)
{
    log_set_ident(cfg_str(cfg, P_SYSLOG_NAME), "qmgr");
    signal(SIGPIPE, SIG_IGN);
    umask(077);
    if (geteuid() == 0 && setgroups(0, NULL) < 0)
        log_warning("setgroups: %s", strerror(errno));
    struct diag diag;
    diag_init(&diag);
    struct policy_env *penv = policy_env_new(cfg, &diag);
    if (penv == NULL) {
        diag_log(&diag);
        diag_free(&diag);
        log_error("qmgr: cannot build the recipient resolver");
        return 1;
    }
    diag_free(&diag);
    struct qmgr_options opt;
    options_from(cfg, penv, &opt);
    struct event_base *base = event_base_new();
    struct buf why;
    buf_init(&why, 1024);
    struct qmgr *q = qmgr_new(base, &opt, &why);
    int rc = 1;
    if (q == NULL) {
        log_error("qmgr: %s", buf_cstr(&why));
    } else {
        rc = run_loop(base, q);
        qmgr_free(q);
    }
    buf_free(&why);
    event_base_free(base);
    policy_env_free(penv);
    return rc;
}
