/*
 * diskprobe: what the disk alone allows one writer that commits like a
 * mail queue (for the gatepost/Postfix benchmark; not a test, not part of
 * the server).
 *
 * COUNT times, one after another: create a file in DIR, write BYTES to
 * it, fsync the file, fsync DIR, and remove the file again. It prints the
 * p50 and p99 of one such commit (create to the end of the directory
 * fsync) on one key=value line. With one client a server's latency from
 * connect to 250 cannot be lower than this; the benchmark measures it
 * next to every load run because on a shared virtual disk it drifts
 * within minutes.
 *
 *   diskprobe DIR COUNT [BYTES]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "latency.h"

#define MAX_COUNT 100000
#define MAX_BYTES (1u << 20)

static void die(const char *what)
{
    fprintf(stderr, "diskprobe: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int64_t commit_once(int dfd, const char *name, const char *data, size_t size)
{
    int64_t t0 = now_us();
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        die("create");
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        if (n < 0)
            die("write");
        off += (size_t)n;
    }
    if (fsync(fd) < 0)
        die("fsync file");
    if (fsync(dfd) < 0)
        die("fsync directory");
    int64_t took = now_us() - t0;
    close(fd);
    if (unlinkat(dfd, name, 0) < 0)
        die("remove");
    return took;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: diskprobe DIR COUNT [BYTES]\n");
        return 2;
    }
    long count = atol(argv[2]);
    long bytes = argc == 4 ? atol(argv[3]) : 4096;
    if (count < 1 || count > MAX_COUNT || bytes < 1 || bytes > (long)MAX_BYTES) {
        fprintf(stderr, "diskprobe: COUNT 1..%d, BYTES 1..%u\n", MAX_COUNT, MAX_BYTES);
        return 2;
    }
    int dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        die(argv[1]);
    char *data = malloc((size_t)bytes);
    int64_t *lat = malloc(sizeof(*lat) * (size_t)count);
    if (data == NULL || lat == NULL)
        die("malloc");
    memset(data, 'x', (size_t)bytes);
    char name[64];
    snprintf(name, sizeof(name), "diskprobe.%ld", (long)getpid());
    for (long i = 0; i < count; i++)
        lat[i] = commit_once(dfd, name, data, (size_t)bytes);
    qsort(lat, (size_t)count, sizeof(*lat), cmp_i64);
    printf("count=%ld p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", count,
           pct_ms(lat, (size_t)count, 50), pct_ms(lat, (size_t)count, 99),
           (double)lat[count - 1] / 1000.0);
    free(lat);
    free(data);
    close(dfd);
    return 0;
}
