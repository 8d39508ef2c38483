/*
 * Queue IDs: 11 characters of [0-9A-Z]. Ten base-36 digits of microseconds
 * since 2020-01-01 UTC (fixed width, so IDs sort by time until the year
 * 2135), then the writer's one-character tag.
 *
 * Unique because: within a writer the time part strictly increases (a
 * second ID in the same microsecond takes the next one); writers in
 * different processes have different tags; after a restart the clock has
 * moved on. The reader accepts any 1..23 characters of [0-9A-Z] so IDs of
 * another shape (a future format) still load.
 */
#ifndef GATEPOST_QUEUE_QID_H
#define GATEPOST_QUEUE_QID_H

#include "queue/envelope.h"

#include <stdbool.h>
#include <stdint.h>

#define QUEUE_ID_EPOCH_US 1577836800000000LL    /* 2020-01-01T00:00:00Z */
#define QUEUE_ID_TIME_DIGITS 10

struct queue_id_gen {
    int64_t last_us;        /* time part of the previous ID */
    char tag;               /* [0-9A-Z] */
};

void queue_id_gen_init(struct queue_id_gen *g, char tag);
/* Next ID for wall-clock time now_us (not thread-safe: one owner per generator). */
void queue_id_next(struct queue_id_gen *g, int64_t now_us, char out[QUEUE_ID_SIZE]);
/* True for 1..QUEUE_ID_SIZE-1 characters of [0-9A-Z]. */
bool queue_id_valid(const char *s);
/* The wall-clock time encoded in a well-formed 11-character ID, else -1. */
int64_t queue_id_time_us(const char *id);
/* True if c may be a writer tag. */
bool queue_id_tag_valid(char c);

#endif
