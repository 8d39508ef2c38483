/*
 * Queue IDs: [0-9A-Z] text of 12 to 16 characters. Ten base-36 digits of
 * microseconds since 2020-01-01 UTC (fixed width, so IDs sort by time
 * until the year 2135), the writer's one-character tag, then the writer
 * process's ID in base 36 (one to five digits).
 *
 * Unique because: within a generator the time part strictly increases (a
 * second ID in the same microsecond takes the next one); generators in
 * different live processes have different process IDs (and, normally,
 * different tags); a process that later gets a recycled process ID starts
 * at a later time. So a wrong or shared tag cannot make two writers
 * produce the same ID. The reader accepts any 1..23 characters of
 * [0-9A-Z], so IDs of another shape still load.
 */
#ifndef GATEPOST_QUEUE_QID_H
#define GATEPOST_QUEUE_QID_H

#include "queue/envelope.h"

#include <stdbool.h>
#include <stdint.h>

#define QUEUE_ID_EPOCH_US 1577836800000000LL    /* 2020-01-01T00:00:00Z */
#define QUEUE_ID_TIME_DIGITS 10
#define QUEUE_ID_PID_MAX_DIGITS 5               /* 36^5 > Linux pid_max */

struct queue_id_gen {
    int64_t last_us;        /* time part of the previous ID */
    char tag;               /* [0-9A-Z] */
    char pid[QUEUE_ID_PID_MAX_DIGITS + 1];      /* base 36 */
};

/*
 * tag: [0-9A-Z]; lower-case letters are taken as upper case, anything else
 * as '0'. Records the calling process's ID: create the generator in the
 * process that uses it (after fork).
 */
void queue_id_gen_init(struct queue_id_gen *g, char tag);
/* Next ID for wall-clock time now_us (not thread-safe: one owner per generator). */
void queue_id_next(struct queue_id_gen *g, int64_t now_us, char out[QUEUE_ID_SIZE]);
/* True for 1..QUEUE_ID_SIZE-1 characters of [0-9A-Z]. */
bool queue_id_valid(const char *s);
/* The wall-clock time encoded in an ID of this format, else -1. */
int64_t queue_id_time_us(const char *id);
/* True if c may be a writer tag as given ([0-9A-Z]). */
bool queue_id_tag_valid(char c);

#endif
