/*
 * Queue manager microbenchmark (not a test): fills incoming/ with N
 * messages of 4 KiB, each for one of R local Maildirs, starts the engine
 * and measures how long it takes to deliver and remove them all, and the
 * CPU time per message (log lines go to /dev/null so their cost counts).
 *
 *   bench_qmgr [-d dir] [-n messages] [-r mailboxes] [-T delivery_threads]
 */
#include "base/clock.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "queue/crc32c.h"
#include "queue/layout.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "queue/qmgr_engine.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char base_dir[1024];

static void route(void *arg, const char *rcpt, struct qmgr_route *out, struct buf *why)
{
    out->cls = ADDR_CLASS_LOCAL;
    out->status = MAP_FOUND;
    memset(&out->mb, 0, sizeof(out->mb));
    const char *at = strchr(rcpt, '@');
    snprintf(out->mb.path, sizeof(out->mb.path), "%s/mail/%.*s/", base_dir,
             (int)(at ? at - rcpt : 0), rcpt);
    out->mb.maildir = true;
    out->mb.transport = "local";
}

static void fill(const char *qdir, int n, int mailboxes)
{
    char content[4096];
    for (size_t i = 0; i < sizeof(content); i++)
        content[i] = (i % 72 == 71) ? '\n' : (char)('a' + i % 26);
    uint32_t crc = crc32c_update(0, content, sizeof(content));
    struct queue_id_gen g;
    queue_id_gen_init(&g, 'B');
    for (int i = 0; i < n; i++) {
        struct queue_envelope env = { 0 };
        queue_id_next(&g, clock_wall_us(), env.queue_id);
        env.arrival_us = clock_wall_us();
        env.sender = xstrdup("sender@example.org");
        char rcpt[64];
        snprintf(rcpt, sizeof(rcpt), "user%d@example.com", i % mailboxes);
        queue_envelope_add_rcpt(&env, rcpt, NULL, 0);
        struct buf b;
        buf_init(&b, 0);
        unsigned char h[QFILE_HEADER_SIZE];
        qfile_header(h);
        buf_append(&b, h, sizeof(h));
        buf_append(&b, content, sizeof(content));
        qfile_append_envelope(&b, &env, sizeof(content), crc);
        char path[2048];
        snprintf(path, sizeof(path), "%s/incoming/%s", qdir, env.queue_id);
        FILE *f = fopen(path, "w");
        fwrite(b.data, 1, b.len, f);
        fclose(f);
        buf_free(&b);
        queue_envelope_free(&env);
    }
}

/* CPU time of this process in microseconds: user, then system. */
static void cpu_us(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
    *sys = (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
    const char *dir = "bench-qmgr";
    int n = 5000, mailboxes = 10, threads = 8, c;
    while ((c = getopt(argc, argv, "d:n:r:T:")) != -1) {
        if (c == 'd')
            dir = optarg;
        else if (c == 'n')
            n = atoi(optarg);
        else if (c == 'r')
            mailboxes = atoi(optarg);
        else if (c == 'T')
            threads = atoi(optarg);
        else
            return 2;
    }
    snprintf(base_dir, sizeof(base_dir), "%s", dir);
    char qdir[1100];
    snprintf(qdir, sizeof(qdir), "%s/queue", dir);
    struct buf why;
    buf_init(&why, 0);
    if (!queue_layout_create(qdir, &why)) {
        fprintf(stderr, "%s\n", buf_cstr(&why));
        return 1;
    }
    fill(qdir, n, mailboxes);
    log_open(LOG_SINK_FILE, "/dev/null", "mail");
    struct event_base *base = event_base_new();
    struct qmgr_options o = {
        .queue_dir = qdir, .myhostname = "bench.example.com", .delivery_threads = (unsigned)threads,
        .min_backoff_us = 300000000, .max_backoff_us = 4000000000LL,
        .max_lifetime_us = 432000000000LL, .bounce_lifetime_us = 432000000000LL,
        .run_delay_us = 300000000, .tmp_grace_us = 3600000000LL, .bounce_size_limit = 50000,
        .route = route,
    };
    struct qmgr *q = qmgr_new(base, &o, &why);
    if (q == NULL) {
        fprintf(stderr, "%s\n", buf_cstr(&why));
        return 1;
    }
    double user0, sys0, user1, sys1;
    cpu_us(&user0, &sys0);
    int64_t t0 = clock_mono_us();
    qmgr_start(q);
    struct qmgr_stats st;
    do {
        event_base_loop(base, EVLOOP_ONCE);
        qmgr_get_stats(q, &st);
    } while (st.removed < (uint64_t)n);
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    cpu_us(&user1, &sys1);
    printf("%d messages to %d Maildirs with %d delivery threads: %.0f messages/s, "
           "cpu %.0f+%.0f us/message (user+sys)\n", n, mailboxes, threads, n / secs,
           (user1 - user0) / n, (sys1 - sys0) / n);
    qmgr_free(q);
    event_base_free(base);
    buf_free(&why);
    return 0;
}
