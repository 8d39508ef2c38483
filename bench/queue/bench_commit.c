/*
 * Queue writer microbenchmark (not a test): N concurrent "sessions" on one
 * event loop each commit 4 KiB messages back to back through the real
 * writer (file fsync, rename, shared incoming/ fsync) for a few seconds.
 * Prints commits per second, how many commits each directory fsync
 * covered, latency percentiles and CPU time per commit.
 *
 *   bench_commit [-d queue_dir] [-c 1,10,50,200] [-t seconds] [-s bytes] [-T threads]
 *
 * The queue directory must be on the disk being measured (default:
 * ./bench-queue); its incoming/ is emptied between runs.
 */
#include "base/clock.h"
#include "base/xalloc.h"
#include "queue/layout.h"
#include "queue/writer.h"

#include <dirent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct session {
    struct queue_writer *qw;
    struct bench *b;
    int64_t started_us;
};

struct bench {
    struct event_base *base;
    const char *content;
    size_t size;
    int64_t end_us;
    uint64_t commits, failures;
    unsigned active;
    int64_t *lat;
    size_t nlat, caplat;
};

static void start_one(struct session *s);

static void on_done(void *arg, enum queue_commit_result r)
{
    struct session *s = arg;
    struct bench *b = s->b;
    int64_t now = clock_mono_us();
    if (r == QUEUE_COMMITTED)
        b->commits++;
    else
        b->failures++;
    if (b->nlat == b->caplat) {
        b->caplat = b->caplat ? b->caplat * 2 : 4096;
        b->lat = xrealloc(b->lat, b->caplat * sizeof(*b->lat));
    }
    b->lat[b->nlat++] = now - s->started_us;
    if (now < b->end_us)
        start_one(s);
    else if (--b->active == 0)
        event_base_loopbreak(b->base);
}

static void start_one(struct session *s)
{
    char id[QUEUE_ID_SIZE];
    s->started_us = clock_mono_us();
    struct queue_txn *t = queue_txn_begin(s->qw, id);
    queue_txn_append(t, s->b->content, s->b->size);
    struct queue_envelope env = { 0 };
    memcpy(env.queue_id, id, sizeof(id));
    env.arrival_us = clock_wall_us();
    env.sender = "sender@example.org";
    struct queue_recipient r = { .address = "rcpt@example.com", .status = RCPT_PENDING };
    env.rcpts = &r;
    env.nrcpt = 1;
    env.client_name = "client.example.org";
    env.client_addr = "192.0.2.1";
    env.protocol = "ESMTP";
    queue_txn_commit(t, &env, on_done, s);     /* env is encoded before this returns */
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* CPU time of this process in microseconds: user, then system. */
static void cpu_us(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
    *sys = (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

static void empty_incoming(const char *qdir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/incoming", qdir);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char f[8192];
        snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
        unlink(f);
    }
    if (d)
        closedir(d);
}

static void run(const char *qdir, unsigned n, double seconds, size_t size, unsigned threads)
{
    struct bench b = { .base = event_base_new(), .size = size };
    char *content = xmalloc(size);
    for (size_t i = 0; i < size; i++)
        content[i] = (i % 72 == 71) ? '\n' : (char)('a' + i % 26);
    b.content = content;
    int tmp = queue_layout_open(qdir, QUEUE_DIR_TMP);
    int in = queue_layout_open(qdir, QUEUE_DIR_INCOMING);
    struct queue_writer_options o = {
        .queue_dir = qdir, .tmp_dirfd = tmp, .incoming_dirfd = in, .threads = threads,
        .worker_tag = 'B',
    };
    struct queue_writer *qw = queue_writer_new(b.base, &o);
    struct session *s = xcalloc(n, sizeof(*s));
    double user0, sys0;
    cpu_us(&user0, &sys0);
    int64_t t0 = clock_mono_us();
    b.end_us = t0 + (int64_t)(seconds * 1e6);
    b.active = n;
    for (unsigned i = 0; i < n; i++) {
        s[i] = (struct session){ .qw = qw, .b = &b };
        start_one(&s[i]);
    }
    event_base_dispatch(b.base);
    double elapsed = (double)(clock_mono_us() - t0) / 1e6;
    double user1, sys1;
    cpu_us(&user1, &sys1);
    double user = user1 - user0, sys = sys1 - sys0;
    struct queue_writer_stats st;
    queue_writer_get_stats(qw, &st);
    qsort(b.lat, b.nlat, sizeof(*b.lat), cmp64);
    printf("%5u sessions: %7.0f commits/s  %6.0f dir-fsyncs/s  %5.1f commits/dir-fsync  "
           "p50 %5.1f ms  p99 %6.1f ms  cpu %4.0f+%4.0f us/commit (user+sys)  failures %llu\n",
           n, (double)b.commits / elapsed, (double)st.dir_syncs / elapsed,
           st.dir_syncs ? (double)st.commits / (double)st.dir_syncs : 0.0,
           b.nlat ? (double)b.lat[b.nlat / 2] / 1000 : 0.0,
           b.nlat ? (double)b.lat[b.nlat * 99 / 100] / 1000 : 0.0,
           b.commits ? user / (double)b.commits : 0.0, b.commits ? sys / (double)b.commits : 0.0,
           (unsigned long long)b.failures);
    fflush(stdout);
    queue_writer_free(qw);
    event_base_free(b.base);
    close(tmp);
    close(in);
    free(s);
    free(b.lat);
    free(content);
    empty_incoming(qdir);
}

int main(int argc, char **argv)
{
    const char *qdir = "bench-queue", *list = "1,10,50,200";
    double seconds = 5;
    size_t size = 4096;
    unsigned threads = 8;
    int c;
    while ((c = getopt(argc, argv, "d:c:t:s:T:")) != -1) {
        switch (c) {
        case 'd': qdir = optarg; break;
        case 'c': list = optarg; break;
        case 't': seconds = atof(optarg); break;
        case 's': size = (size_t)atol(optarg); break;
        case 'T': threads = (unsigned)atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-d dir] [-c 1,10,50] [-t s] [-s bytes] [-T threads]\n",
                    argv[0]);
            return 2;
        }
    }
    struct buf why;
    buf_init(&why, 0);
    if (!queue_layout_create(qdir, &why)) {
        fprintf(stderr, "%s\n", buf_cstr(&why));
        return 1;
    }
    buf_free(&why);
    char *copy = xstrdup(list);
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
        run(qdir, (unsigned)atoi(tok), seconds, size, threads);
    free(copy);
    return 0;
}
