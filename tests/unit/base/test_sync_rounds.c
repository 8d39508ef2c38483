/*
 * Shared fsync rounds: a join (in one step, or entered after the change
 * and waited for later) returns only after a sync that started after the
 * joiner's change; concurrent joiners share syncs; a round run by another
 * thread is not run again; a failed sync is reported to every joiner of
 * its round.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "base/sync_rounds.h"

#define THREADS 8
#define JOINS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sync_rounds rounds;
static atomic_ulong changes;        /* changes made so far */
static atomic_ulong covered;        /* changes covered by the last finished sync */
static atomic_int syncs;
static atomic_int fail_next;        /* the next sync fails with EIO */

static int fake_sync(int fd)
{
    (void)fd;
    unsigned long seen = atomic_load(&changes);
    atomic_fetch_add(&syncs, 1);
    usleep(200);                    /* long enough for others to join meanwhile */
    if (atomic_exchange(&fail_next, 0)) {
        errno = EIO;
        return -1;
    }
    unsigned long prev = atomic_load(&covered);
    while (seen > prev && !atomic_compare_exchange_weak(&covered, &prev, seen))
        ;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    sync_rounds_init(&rounds);
    atomic_store(&syncs, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sync_rounds_destroy(&rounds);
    return 0;
}

/* arg non-NULL: enter, work a little without the lock, then wait. */
static void *joiner(void *arg)
{
    for (int i = 0; i < JOINS; i++) {
        unsigned long mine = atomic_fetch_add(&changes, 1) + 1;
        pthread_mutex_lock(&lock);
        int err;
        if (arg != NULL) {
            struct sync_round *r = sync_rounds_enter(&rounds);
            pthread_mutex_unlock(&lock);
            usleep(100);
            pthread_mutex_lock(&lock);
            err = sync_rounds_wait(&rounds, r, &lock, fake_sync, -1);
        } else {
            err = sync_rounds_join(&rounds, &lock, fake_sync, -1);
        }
        pthread_mutex_unlock(&lock);
        if (err == 0 && atomic_load(&covered) < mine)
            return (void *)1;       /* returned before a sync covered the change */
    }
    return NULL;
}

static void every_change_is_covered_and_syncs_are_shared(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, joiner, i % 2 ? &rounds : NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        assert_null(bad);
    }
    assert_true(atomic_load(&syncs) < THREADS * JOINS);     /* shared */
    assert_int_equal(rounds.rounds, (uint64_t)atomic_load(&syncs));
}

static void a_round_run_by_another_is_not_run_again(void **state)
{
    (void)state;
    pthread_mutex_lock(&lock);
    struct sync_round *mine = sync_rounds_enter(&rounds);
    assert_int_equal(sync_rounds_join(&rounds, &lock, fake_sync, -1), 0);  /* runs it */
    assert_int_equal(sync_rounds_wait(&rounds, mine, &lock, fake_sync, -1), 0);
    assert_int_equal(atomic_load(&syncs), 1);
    mine = sync_rounds_enter(&rounds);      /* after that round: a new one */
    assert_int_equal(sync_rounds_wait(&rounds, mine, &lock, fake_sync, -1), 0);
    assert_int_equal(atomic_load(&syncs), 2);
    pthread_mutex_unlock(&lock);
}

static void a_failed_sync_is_reported(void **state)
{
    (void)state;
    atomic_store(&fail_next, 1);
    pthread_mutex_lock(&lock);
    assert_int_equal(sync_rounds_join(&rounds, &lock, fake_sync, -1), EIO);
    assert_int_equal(sync_rounds_join(&rounds, &lock, fake_sync, -1), 0);
    pthread_mutex_unlock(&lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_change_is_covered_and_syncs_are_shared, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_round_run_by_another_is_not_run_again, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_sync_is_reported, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
