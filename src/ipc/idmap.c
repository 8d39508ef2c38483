/*
 * Id table; see idmap.h. Buckets double when the load passes 1, so
 * chains stay short; ids handed out by idmap_add count up and skip the
 * ones in use, which keeps a recently freed id from being reused at once
 * (a late reply then finds nothing rather than a stranger).
 */
#include "ipc/idmap.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <stdlib.h>

struct idmap_entry {
    uint32_t id;
    void *value;
    struct idmap_entry *next;
};

struct idmap {
    struct idmap_entry **buckets;
    size_t nbuckets;                /* power of two */
    size_t count;
    uint32_t next_id;
};

#define IDMAP_INITIAL_BUCKETS 64

static size_t slot(const struct idmap *m, uint32_t id)
{
    uint32_t h = id * 2654435761u;     /* Knuth's multiplicative hash */
    return (size_t)h & (m->nbuckets - 1);
}

struct idmap *idmap_new(void)
{
    struct idmap *m = xcalloc(1, sizeof(*m));
    m->nbuckets = IDMAP_INITIAL_BUCKETS;
    m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
    m->next_id = 1;
    return m;
}

static void free_entries(struct idmap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct idmap_entry *e = m->buckets[i];
        while (e) {
            struct idmap_entry *next = e->next;
            free(e);
            e = next;
        }
        m->buckets[i] = NULL;
    }
    m->count = 0;
}

void idmap_free(struct idmap *m)
{
    if (m == NULL)
        return;
    free_entries(m);
    free(m->buckets);
    free(m);
}

static void grow(struct idmap *m)
{
    size_t old_n = m->nbuckets;
    struct idmap_entry **old = m->buckets;
    m->nbuckets = old_n * 2;
    m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
    for (size_t i = 0; i < old_n; i++) {
        struct idmap_entry *e = old[i];
        while (e) {
            struct idmap_entry *next = e->next;
            size_t s = slot(m, e->id);
            e->next = m->buckets[s];
            m->buckets[s] = e;
            e = next;
        }
    }
    free(old);
}

static struct idmap_entry *find(const struct idmap *m, uint32_t id)
{
    for (struct idmap_entry *e = m->buckets[slot(m, id)]; e; e = e->next)
        if (e->id == id)
            return e;
    return NULL;
}

bool idmap_put(struct idmap *m, uint32_t id, void *value)
{
    if (id == 0 || find(m, id))
        return false;
    if (m->count >= m->nbuckets)
        grow(m);
    struct idmap_entry *e = xmalloc(sizeof(*e));
    size_t s = slot(m, id);
    *e = (struct idmap_entry){ id, value, m->buckets[s] };
    m->buckets[s] = e;
    m->count++;
    return true;
}

uint32_t idmap_add(struct idmap *m, void *value)
{
    /* Among count + 1 consecutive ids at least one is free. */
    for (size_t tries = 0; tries <= m->count; tries++) {
        uint32_t id = m->next_id++;
        if (m->next_id == 0)
            m->next_id = 1;
        if (idmap_put(m, id, value))
            return id;
    }
    log_panic("idmap: no free id among %zu entries", m->count);
}

void *idmap_get(const struct idmap *m, uint32_t id)
{
    struct idmap_entry *e = find(m, id);
    return e ? e->value : NULL;
}

void *idmap_remove(struct idmap *m, uint32_t id)
{
    for (struct idmap_entry **pp = &m->buckets[slot(m, id)]; *pp; pp = &(*pp)->next) {
        struct idmap_entry *e = *pp;
        if (e->id != id)
            continue;
        void *v = e->value;
        *pp = e->next;
        free(e);
        m->count--;
        return v;
    }
    return NULL;
}

size_t idmap_count(const struct idmap *m)
{
    return m->count;
}

void **idmap_take_all(struct idmap *m, size_t *n)
{
    void **out = xcalloc(m->count ? m->count : 1, sizeof(*out));
    size_t k = 0;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (struct idmap_entry *e = m->buckets[i]; e; e = e->next)
            out[k++] = e->value;
    free_entries(m);
    *n = k;
    return out;
}
