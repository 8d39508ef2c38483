/*
 * How the queue manager finds work: writers' notifications on the notify
 * socket, directory scans on the I/O pool, and the deferred heap.
 *
 * The recovery scan (at start) removes stale tmp/ files, then takes every
 * file in active/ (interrupted deliveries) and incoming/ as recovering,
 * and indexes deferred/ by the next-attempt time in each file's header.
 * Periodic scans (queue_run_delay) pick up incoming/ files whose
 * notification was lost, active/ files the start-up scan had no room for
 * (active_limit), and remove stale tmp/ files. A message whose file was
 * last changed before the manager started is recovering however it is
 * found. A tmp/ file is stale
 * when it has not been written for tmp_grace_us: SMTP workers may still be
 * writing younger ones, even while the manager restarts.
 */
#include "queue/qmgr_int.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "queue/qfile_int.h"
#include "queue/qid.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOTIFY_BATCH 64             /* datagrams read per wake-up */
#define SCAN_MAX_ITEMS (1u << 22)   /* file names one scan returns */

/* --- deferred heap ------------------------------------------------------ */

static void heap_swap(struct qdefer *h, size_t a, size_t b)
{
    struct qdefer t = h[a];
    h[a] = h[b];
    h[b] = t;
}

void qmgr_defer_push(struct qmgr *q, const char *id, int64_t due_us)
{
    if (q->nheap == q->capheap) {
        q->capheap = q->capheap ? q->capheap * 2 : 64;
        q->heap = xrealloc(q->heap, q->capheap * sizeof(*q->heap));
    }
    size_t i = q->nheap++;
    q->heap[i].due_us = due_us;
    snprintf(q->heap[i].id, sizeof(q->heap[i].id), "%s", id);
    while (i > 0 && q->heap[(i - 1) / 2].due_us > q->heap[i].due_us) {
        heap_swap(q->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    qmgr_arm_retry(q);
}

static void heap_pop(struct qmgr *q, struct qdefer *out)
{
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->nheap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < q->nheap && q->heap[l].due_us < q->heap[s].due_us)
            s = l;
        if (r < q->nheap && q->heap[r].due_us < q->heap[s].due_us)
            s = r;
        if (s == i)
            break;
        heap_swap(q->heap, i, s);
        i = s;
    }
}

void qmgr_arm_retry(struct qmgr *q)
{
    if (q->retry_ev == NULL || q->stopping)
        return;
    event_del(q->retry_ev);
    if (q->nheap == 0)
        return;
    int64_t wait = q->heap[0].due_us - qmgr_now(q);
    if (wait < 0)
        wait = 0;
    struct timeval tv = { .tv_sec = wait / 1000000, .tv_usec = wait % 1000000 };
    event_add(q->retry_ev, &tv);
}

void qmgr_retry_due(struct qmgr *q)
{
    int64_t now = qmgr_now(q);
    while (!q->stopping && q->nheap > 0 && q->heap[0].due_us <= now &&
           q->count < q->opt.active_limit) {
        struct qdefer d;
        heap_pop(q, &d);
        qmgr_discover(q, d.id, QDIR_DEFERRED, false);
    }
    qmgr_arm_retry(q);
}

/* --- notifications ------------------------------------------------------ */

void qmgr_notify_read(struct qmgr *q)
{
    char buf[4096];
    for (int n = 0; n < NOTIFY_BATCH; n++) {
        ssize_t len = recv(q->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (len <= 0)
            break;
        buf[len] = '\0';
        char *save = NULL;
        for (char *id = strtok_r(buf, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
            q->stats.notifications++;
            if (strcmp(id, "*") == 0)   /* a writer had to drop IDs: look for them */
                qmgr_scan_now(q);
            else
                qmgr_discover(q, id, QDIR_INCOMING, false);
        }
    }
}

/* --- scans ----------------------------------------------------------------- */

static void scan_add(struct qscan *s, const char *id, enum qdir dir, int64_t due)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
    }
    size_t l = strnlen(id, QUEUE_ID_SIZE - 1);   /* callers pass valid IDs */
    memcpy(s->items[s->n].id, id, l);
    s->items[s->n].id[l] = '\0';
    s->items[s->n].dir = dir;
    s->items[s->n].due_us = due;
    s->n++;
}

/* The next-attempt time in a deferred file's header (0 if unreadable). */
static int64_t read_due(int dirfd, const char *id)
{
    unsigned char h[QFILE_HEADER_SIZE];
    int fd = openat(dirfd, id, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, h, sizeof(h), 0);
    close(fd);
    if (n != (ssize_t)sizeof(h) || memcmp(h, QFILE_MAGIC, QFILE_MAGIC_LEN) != 0)
        return 0;                   /* a load will find out what is wrong */
    return (int64_t)get_u64(h + QFILE_SCHED_OFFSET);
}

/* A listing with its own position (a dup would share the directory offset). */
static DIR *open_listing(int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL && fd >= 0)
        close(fd);
    return d;
}

static void scan_dir(struct qscan *s, enum qdir dir)
{
    DIR *d = open_listing(s->q->dirfd[dir]);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && s->n < SCAN_MAX_ITEMS) {
        if (!queue_id_valid(e->d_name))
            continue;               /* ".", "..", and names we never write */
        int64_t due = dir == QDIR_DEFERRED ? read_due(s->q->dirfd[dir], e->d_name) : 0;
        scan_add(s, e->d_name, dir, due);
    }
    closedir(d);
}

static void clean_tmp(struct qscan *s)
{
    DIR *d = open_listing(s->q->dirfd[QDIR_TMP]);
    if (d == NULL)
        return;
    int64_t now = qmgr_now(s->q);
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            fstatat(s->q->dirfd[QDIR_TMP], e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (now - clock_timespec_us(&st.st_mtim) >= s->q->opt.tmp_grace_us &&
            unlinkat(s->q->dirfd[QDIR_TMP], e->d_name, 0) == 0)
            s->removed_tmp++;
    }
    closedir(d);
}

static void scan_work(struct workpool_job *job)
{
    struct qscan *s = (struct qscan *)job;
    clean_tmp(s);
    /* Every scan lists active/ too: files left there by a crash that the
     * start-up scan could not take (active_limit) are found later. Files of
     * messages in memory are skipped by ID. */
    scan_dir(s, QDIR_ACTIVE);
    if (s->recovery)
        scan_dir(s, QDIR_DEFERRED);
    scan_dir(s, QDIR_INCOMING);
}

static void scan_done(struct workpool_job *job)
{
    struct qscan *s = (struct qscan *)job;
    struct qmgr *q = s->q;
    q->io_jobs--;
    q->scanning = false;
    if (s->removed_tmp)
        qmgr_log(q, "qmgr", "queue scan: removed=%zu stale temporary files", s->removed_tmp);
    int64_t now = qmgr_now(q);
    for (size_t i = 0; i < s->n; i++) {
        const struct qscan_item *it = &s->items[i];
        if (it->dir != QDIR_DEFERRED) {
            qmgr_discover(q, it->id, it->dir, s->recovery || it->dir == QDIR_ACTIVE);
            continue;
        }
        int64_t due = it->due_us;   /* a torn schedule is clamped, never trusted far out */
        if (due > now + q->opt.max_backoff_us)
            due = now + q->opt.max_backoff_us;
        if (qmgr_find(q, it->id) == NULL)
            qmgr_defer_push(q, it->id, due);
    }
    free(s->items);
    free(s);
    if (q->rescan && !q->stopping && q->count < q->opt.active_limit) {
        q->rescan = false;
        qmgr_scan_start(q, false);
    }
    qmgr_check_stopped(q);
}

void qmgr_scan_start(struct qmgr *q, bool recovery)
{
    if (q->scanning) {
        q->rescan = true;
        return;
    }
    struct qscan *s = xcalloc(1, sizeof(*s));
    s->q = q;
    s->recovery = recovery;
    q->scanning = true;
    q->io_jobs++;
    workpool_submit(q->io_pool, &s->job, scan_work, scan_done);
}
