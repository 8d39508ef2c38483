/*
 * Private to the queue manager (qmgr_*.c). Threading: everything here is
 * owned by the loop thread except what a job in flight was handed: a
 * message's load/bounce/finish job owns m->fd, m->env, m->info and the
 * bounce buffer while it runs (one such job per message at a time); a
 * delivery job owns its struct qdlv and only reads the message's
 * envelope, which does not change while deliveries run, except that the
 * job told its success ends the message (qdlv.last, the only delivery in
 * flight) removes the file and closes m->fd.
 */
#ifndef GATEPOST_QUEUE_QMGR_INT_H
#define GATEPOST_QUEUE_QMGR_INT_H

#include "base/buf.h"
#include "deliver/deliver.h"
#include "event/workpool.h"
#include "queue/envelope.h"
#include "queue/qfile.h"
#include "queue/qmgr_engine.h"
#include "queue/writer.h"

#include <stdbool.h>
#include <stdint.h>

enum qdir { QDIR_TMP, QDIR_INCOMING, QDIR_ACTIVE, QDIR_DEFERRED, QDIR_CORRUPT, QDIR_COUNT };

enum qoutcome { OUT_NONE, OUT_SENT, OUT_DEFER, OUT_BOUNCE };

struct qrcpt {
    uint8_t outcome;                /* enum qoutcome, this round */
    bool to_mark;                   /* the finish job writes its status 'D' */
    bool in_bounce;                 /* part of this round's notification */
    char dsn[12];
    char *text;                     /* reason (deferred/bounced) */
};

struct qmsg {
    struct workpool_job job;        /* first: load, bounce and finish jobs */
    struct qmgr *q;
    char id[QUEUE_ID_SIZE];
    enum qdir src;                  /* where it was found */
    enum qdir dir;                  /* where its file is while loaded */
    bool recovering;
    int fd;
    struct queue_envelope env;
    struct qfile_info info;
    struct qfile_error err;
    enum { LOAD_OK, LOAD_GONE, LOAD_CORRUPT, LOAD_RETRY } load;
    struct qrcpt *r;
    size_t cursor;                  /* next recipient to dispatch */
    size_t outstanding;             /* recipients without an outcome this round */
    int64_t active_us;              /* when it entered active/ this round */
    bool in_ready;
    struct qmsg *hnext, *rnext;
    /* This round's notification. */
    struct queue_txn *btxn;
    char bid[QUEUE_ID_SIZE];
    struct buf bbuf;
    bool bbuild_ok;
    int bbuild_err;
    /* The finish job. */
    bool remove;
    int64_t next_attempt_us;
    uint32_t attempts, backoff_s;
    int finish_err;
    bool removed;                   /* the last delivery job removed the file */
};

/* A delivery: one recipient on the delivery pool. */
struct qdlv {
    struct workpool_job job;        /* first */
    struct qmgr *q;
    struct qmsg *m;
    size_t idx;
    struct mailbox_location mb;
    struct deliver_request req;
    struct deliver_result res;
    int64_t handoff_us, done_us;
    int mark_err;
    bool last;                      /* success ends the message: remove it here */
    bool removed;                   /* it did: the file is gone, fd closed */
    struct qdlv *next_free;
};

struct qdefer {
    int64_t due_us;
    char id[QUEUE_ID_SIZE];
};

/* A directory scan on the I/O pool; results go to discover. */
struct qscan {
    struct workpool_job job;
    struct qmgr *q;
    bool recovery;
    struct qscan_item { char id[QUEUE_ID_SIZE]; enum qdir dir; int64_t due_us; } *items;
    size_t n, cap;
    size_t removed_tmp;
};

struct qmgr {
    struct event_base *base;
    struct qmgr_options opt;        /* strings owned (copied) */
    int dirfd[QDIR_COUNT];
    int notify_fd;
    struct event *notify_ev, *scan_ev, *retry_ev;
    struct workpool *dlv_pool;      /* deliveries */
    struct workpool *io_pool;       /* loads, finishes, scans, bounce builds */
    struct queue_writer *writer;    /* notifications */
    /* Messages in memory, by ID. */
    struct qmsg **bucket;
    size_t nbucket, count;
    /* Messages with recipients to dispatch. */
    struct qmsg *ready_head, *ready_tail;
    struct qdlv *free_dlv;
    size_t inflight, inflight_cap;
    /* Deferred messages: a min-heap by due time. */
    struct qdefer *heap;
    size_t nheap, capheap;
    size_t io_jobs, bounces;
    bool scanning, rescan, stopping;
    void (*stop_done)(void *arg);
    void *stop_arg;
    struct qmgr_stats stats;
    int64_t started_us;             /* wall clock at qmgr_new, for recovery */
};

/* qmgr.c / engine */
int64_t qmgr_now(const struct qmgr *q);
void qmgr_check_stopped(struct qmgr *q);
struct qmsg *qmgr_find(struct qmgr *q, const char *id);
void qmgr_forget(struct qmgr *q, struct qmsg *m);
/* A message ID seen in dir (notification, scan, retry); loads it unless known. */
void qmgr_discover(struct qmgr *q, const char *id, enum qdir dir, bool recovering);

/* qmgr_scan.c */
void qmgr_scan_start(struct qmgr *q, bool recovery);
void qmgr_notify_read(struct qmgr *q);
void qmgr_defer_push(struct qmgr *q, const char *id, int64_t due_us);
void qmgr_arm_retry(struct qmgr *q);

/* qmgr_msg.c */
void qmgr_msg_load(struct qmsg *m);
void qmgr_round_done(struct qmsg *m);
/* Records done recipients, then removes the file or defers it; frees m. */
void qmgr_msg_finish(struct qmsg *m);

/* qmgr_deliver.c */
void qmgr_ready_add(struct qmsg *m);
void qmgr_dispatch(struct qmgr *q);
void qmgr_dlv_free_all(struct qmgr *q);

/* qmgr_bounce.c */
void qmgr_bounce_start(struct qmsg *m);

/* qmgr_log.c */
void qmgr_log_active(const struct qmgr *q, const struct qmsg *m);
void qmgr_log_rcpt(const struct qmgr *q, const struct qmsg *m, size_t idx,
                   const char *service, const char *relay, int64_t handoff_us,
                   int64_t done_us);
void qmgr_log(const struct qmgr *q, const char *service, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void qmgr_warn(const struct qmgr *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
