/*
 * Request ids to objects. Every asynchronous exchange between processes
 * is named by a 32-bit id, never by a pointer: a late reply for an
 * exchange that is gone finds nothing and is dropped, so it can never
 * touch freed memory.
 *
 * A hash table with chaining; it grows with the number of entries and
 * the caller bounds that number (entries are never created by input
 * alone without a limit check).
 */
#ifndef GATEPOST_IPC_IDMAP_H
#define GATEPOST_IPC_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idmap;

struct idmap *idmap_new(void);
/* Frees the table, not the values. */
void idmap_free(struct idmap *m);

/* Stores value under a fresh id (never 0, never one in use) and returns it. */
uint32_t idmap_add(struct idmap *m, void *value);
/* Stores value under id (not 0); false if the id is in use. */
bool idmap_put(struct idmap *m, uint32_t id, void *value);
void *idmap_get(const struct idmap *m, uint32_t id);
/* Removes id and returns its value (NULL if absent). */
void *idmap_remove(struct idmap *m, uint32_t id);
size_t idmap_count(const struct idmap *m);
/*
 * Empties the table, returning its values in a new array (caller frees)
 * of *n entries; for "fail everything in flight" loops whose callbacks
 * may add new entries meanwhile.
 */
void **idmap_take_all(struct idmap *m, size_t *n);

#endif
