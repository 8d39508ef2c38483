/* Time sources: wall clock for logs and headers, monotonic for intervals. */
#ifndef GATEPOST_BASE_CLOCK_H
#define GATEPOST_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic time in microseconds. */
int64_t clock_mono_us(void);
/* Wall-clock time in microseconds since the epoch. */
int64_t clock_wall_us(void);
/* A timespec (a clock reading, a file time) in microseconds. */
int64_t clock_timespec_us(const struct timespec *ts);
/* RFC 5322 date-time, e.g. "Mon, 23 Nov 2026 09:44:00 +0100". */
void clock_rfc5322(time_t t, char *out, size_t size);

#endif
