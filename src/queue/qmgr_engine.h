/*
 * The queue manager's engine, separate from qmgr_main (which reads the
 * configuration, opens the log and runs the loop) so that tests can drive
 * it on their own event loop with their own router and clock.
 *
 * Life of a message: found in incoming/ (a writer's notification or a
 * scan) -> loaded where it is on a pool thread (a deferred one is first
 * moved back to active/) -> each pending
 * recipient routed (loop thread) and delivered (delivery pool) -> when
 * every recipient of the round has an outcome: bounced ones are reported
 * to the sender in one notification queued as a new message, delivered
 * and bounced ones are marked done in the file, and the file is removed
 * if none is left, else moved to deferred/ with its next attempt time.
 * Deferred messages wait in an in-memory heap (rebuilt from deferred/ at
 * start) and come back through the same path.
 *
 * Bounded: at most active_limit messages in memory (the rest wait in
 * incoming/ for a later scan) and at most 2 x delivery_threads deliveries
 * queued for the pool.
 */
#ifndef GATEPOST_QUEUE_QMGR_ENGINE_H
#define GATEPOST_QUEUE_QMGR_ENGINE_H

#include "base/buf.h"
#include "maps/maps.h"
#include "policy/route.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct qmgr;

/* Where a recipient goes: route_classify + route_mailbox. */
struct qmgr_route {
    enum addr_class cls;
    enum map_status status;         /* of the mailbox lookup (local/virtual only) */
    struct mailbox_location mb;
};
/* Fills out; why gets the reason when status is MAP_NOTFOUND or MAP_ERROR. */
typedef void (*qmgr_route_fn)(void *arg, const char *recipient, struct qmgr_route *out,
                              struct buf *why);

struct qmgr_options {
    const char *queue_dir;
    const char *myhostname;
    const char *mail_name;          /* "gatepost" */
    const char *syslog_name;
    unsigned delivery_threads;
    int64_t min_backoff_us, max_backoff_us;
    int64_t max_lifetime_us;        /* maximal_queue_lifetime */
    int64_t bounce_lifetime_us;     /* bounce_queue_lifetime (null sender) */
    int64_t run_delay_us;           /* queue_run_delay: periodic scan */
    int64_t tmp_grace_us;           /* tmp/ files older than this are leftovers */
    uint64_t bounce_size_limit;
    int64_t mailbox_size_limit, virtual_mailbox_limit;
    size_t active_limit;            /* 0: QMGR_ACTIVE_LIMIT */
    qmgr_route_fn route;
    void *route_arg;
    int64_t (*now_us)(void);        /* wall clock; NULL: clock_wall_us */
};

#define QMGR_ACTIVE_LIMIT 20000     /* Postfix's qmgr_message_active_limit */
#define QMGR_TMP_GRACE_US (3600LL * 1000000)

struct qmgr_stats {
    uint64_t loaded, sent, deferred, bounced, removed, corrupt, notifications;
};

/*
 * Creates the engine: queue directories (created if missing), the notify
 * socket private/qmgr, pools and timers. NULL with why set on failure.
 */
struct qmgr *qmgr_new(struct event_base *base, const struct qmgr_options *opt,
                      struct buf *why);
/* The recovery scan; afterwards the engine is event driven. */
void qmgr_start(struct qmgr *q);
/* A periodic scan now (also runs every run_delay_us). */
void qmgr_scan_now(struct qmgr *q);
/* Takes deferred messages whose time has come (also runs from a timer). */
void qmgr_retry_due(struct qmgr *q);
/* No message in memory and no job, scan or bounce in flight (deferred ones may wait). */
bool qmgr_idle(const struct qmgr *q);
void qmgr_get_stats(const struct qmgr *q, struct qmgr_stats *out);
/*
 * Stops taking new work; done() runs on the loop once everything in flight
 * has finished (messages being delivered stay in active/ if interrupted).
 */
void qmgr_stop(struct qmgr *q, void (*done)(void *arg), void *arg);
void qmgr_free(struct qmgr *q);

/* Postfix's delay number format (format_tv with 2 significant digits, 2 decimals). */
void qmgr_format_delay(int64_t us, char *out, size_t size);

#endif
