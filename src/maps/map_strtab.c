/*
 * A small read-only string table for texthash: and inline: tables:
 * open addressing with linear probing, grown while loading and never
 * changed afterwards, so concurrent lookups need no lock.
 *
 * Keys are hashed with FNV-1a. Keys come from the administrator's files,
 * not from clients, so hash flooding is not a concern here; lookups with
 * client keys cost one probe sequence in a table kept at most half full.
 */
#include "maps/map_priv.h"

#include "base/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strtab_slot {
    char *key;              /* NULL: empty slot */
    char *value;
};

struct strtab {
    struct strtab_slot *slots;
    size_t size;            /* power of two */
    size_t count;
};

static uint64_t strtab_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static size_t pow2_at_least(size_t n)
{
    size_t size = 16;
    while (size < n)
        size *= 2;
    return size;
}

struct strtab *strtab_new(size_t expected)
{
    struct strtab *t = xcalloc(1, sizeof(*t));
    t->size = pow2_at_least(expected * 2);
    t->slots = xcalloc(t->size, sizeof(*t->slots));
    return t;
}

static struct strtab_slot *strtab_find(const struct strtab *t, const char *key)
{
    size_t mask = t->size - 1;
    size_t i = (size_t)strtab_hash(key) & mask;
    /* The table is at most half full, so an empty slot ends every probe. */
    while (t->slots[i].key != NULL && strcmp(t->slots[i].key, key) != 0)
        i = (i + 1) & mask;
    return &t->slots[i];
}

static void strtab_grow(struct strtab *t)
{
    struct strtab old = *t;
    t->size *= 2;
    t->slots = xcalloc(t->size, sizeof(*t->slots));
    for (size_t i = 0; i < old.size; i++)
        if (old.slots[i].key != NULL)
            *strtab_find(t, old.slots[i].key) = old.slots[i];
    free(old.slots);
}

bool strtab_add(struct strtab *t, const char *key, const char *value)
{
    if ((t->count + 1) * 2 > t->size)
        strtab_grow(t);
    struct strtab_slot *slot = strtab_find(t, key);
    if (slot->key != NULL)
        return false;
    slot->key = xstrdup(key);
    slot->value = xstrdup(value);
    t->count++;
    return true;
}

const char *strtab_get(const struct strtab *t, const char *key)
{
    const struct strtab_slot *slot = strtab_find(t, key);
    return slot->key ? slot->value : NULL;
}

size_t strtab_count(const struct strtab *t)
{
    return t->count;
}

void strtab_free(struct strtab *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->size; i++) {
        free(t->slots[i].key);
        free(t->slots[i].value);
    }
    free(t->slots);
    free(t);
}
