/*
 * Latency bookkeeping shared by the benchmark's load programs (smtpload,
 * diskprobe): a monotonic clock in microseconds and percentiles of a
 * sorted array of microsecond samples, in milliseconds.
 */
#ifndef GATEPOST_BENCH_LATENCY_H
#define GATEPOST_BENCH_LATENCY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* qsort comparison of int64_t samples. */
static inline int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (0-100) of n sorted samples, in ms; 0 when empty. */
static inline double pct_ms(const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;
}

#endif
