/*
 * Shared connection counters; see admission.h. One process-shared robust
 * mutex guards an open-addressing table (linear probing, backward-shift
 * deletion); the critical sections are a few dozen instructions. A worker
 * that dies holding the mutex leaves it "owner dead": the next locker marks
 * it consistent, and the supervisor then clears the dead worker's counts.
 */
#include "net/admission.h"

#include "base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

struct slot {
    struct netaddr addr;
    uint32_t total;                             /* 0: slot empty */
    uint16_t per_worker[ADMISSION_MAX_WORKERS];
};

struct admission {
    pthread_mutex_t lock;
    size_t mapping_size;
    unsigned mask;                              /* capacity - 1 (power of two) */
    unsigned used;
    unsigned total;
    unsigned worker_total[ADMISSION_MAX_WORKERS];
    struct slot slots[];
};

static uint32_t addr_hash(const struct netaddr *a)
{
    /* FNV-1a over the address bytes. */
    uint32_t h = 2166136261u ^ (uint32_t)a->family;
    size_t n = a->family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < n; i++)
        h = (h ^ a->bytes[i]) * 16777619u;
    return h;
}

struct admission *admission_create(unsigned capacity)
{
    unsigned size = 64;
    while (size < capacity * 2 && size < (1u << 24))
        size <<= 1;
    size_t bytes = sizeof(struct admission) + (size_t)size * sizeof(struct slot);
    struct admission *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        log_fatal("admission table: mmap %zu bytes: %s", bytes, strerror(errno));
    a->mapping_size = bytes;
    a->mask = size - 1;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&a->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return a;
}

void admission_destroy(struct admission *a)
{
    if (a)
        munmap(a, a->mapping_size);
}

static void lock(struct admission *a)
{
    if (pthread_mutex_lock(&a->lock) == EOWNERDEAD)
        pthread_mutex_consistent(&a->lock);
}

static void unlock(struct admission *a)
{
    pthread_mutex_unlock(&a->lock);
}

/* The slot holding addr, or the empty slot where it would go. */
static unsigned probe(const struct admission *a, const struct netaddr *addr)
{
    unsigned i = addr_hash(addr) & a->mask;
    while (a->slots[i].total != 0 && !netaddr_equal(&a->slots[i].addr, addr))
        i = (i + 1) & a->mask;
    return i;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void remove_slot(struct admission *a, unsigned hole)
{
    unsigned i = hole;
    for (;;) {
        i = (i + 1) & a->mask;
        if (a->slots[i].total == 0)
            break;
        unsigned home = addr_hash(&a->slots[i].addr) & a->mask;
        /* Move slot i into the hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            a->slots[hole] = a->slots[i];
            hole = i;
        }
    }
    memset(&a->slots[hole], 0, sizeof(a->slots[hole]));
    a->used--;
}

enum admission_result admission_enter(struct admission *a, unsigned worker,
                                      const struct netaddr *addr, unsigned total_limit,
                                      unsigned client_limit, bool exempt,
                                      unsigned *client_count)
{
    enum admission_result result = ADMIT_OK;
    lock(a);
    unsigned i = probe(a, addr);
    struct slot *s = &a->slots[i];
    unsigned current = s->total;
    *client_count = current + 1;
    if (total_limit && a->total >= total_limit)
        result = ADMIT_TOTAL_LIMIT;
    else if (!exempt && client_limit && current >= client_limit)
        result = ADMIT_CLIENT_LIMIT;
    else if (current == 0 && a->used >= (a->mask + 1) / 2)
        result = ADMIT_TOTAL_LIMIT;     /* table full: as many clients as it can hold */
    if (result == ADMIT_OK) {
        if (current == 0) {
            s->addr = *addr;
            a->used++;
        }
        s->total++;
        s->per_worker[worker]++;
        a->total++;
        a->worker_total[worker]++;
    }
    unlock(a);
    return result;
}

void admission_leave(struct admission *a, unsigned worker, const struct netaddr *addr)
{
    lock(a);
    unsigned i = probe(a, addr);
    struct slot *s = &a->slots[i];
    if (s->total > 0 && s->per_worker[worker] > 0) {
        s->per_worker[worker]--;
        a->worker_total[worker]--;
        a->total--;
        if (--s->total == 0)
            remove_slot(a, i);
    }
    unlock(a);
}

void admission_forget_worker(struct admission *a, unsigned worker)
{
    lock(a);
    for (unsigned i = 0; i <= a->mask;) {
        struct slot *s = &a->slots[i];
        if (s->total == 0 || s->per_worker[worker] == 0) {
            i++;
            continue;
        }
        unsigned n = s->per_worker[worker];
        s->per_worker[worker] = 0;
        s->total -= n;
        a->total -= n;
        if (s->total == 0)
            remove_slot(a, i);  /* a later slot may shift into i: look at i again */
        else
            i++;
    }
    a->worker_total[worker] = 0;
    unlock(a);
}

unsigned admission_total(const struct admission *a)
{
    return __atomic_load_n(&a->total, __ATOMIC_RELAXED);
}
