/*
 * The shared admission table: limits per client and in total, counts per
 * worker, and clearing a dead worker's share without disturbing others
 * (including entries moved by backward-shift deletion).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "net/admission.h"

static struct netaddr addr(const char *text)
{
    struct netaddr a;
    assert_true(netaddr_parse(text, &a));
    return a;
}

static void per_client_and_total_limits(void **state)
{
    struct admission *a = admission_create(100);
    struct netaddr x = addr("192.0.2.1"), y = addr("192.0.2.2");
    unsigned n;
    assert_int_equal(admission_enter(a, 0, &x, 3, 2, false, &n), ADMIT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(admission_enter(a, 1, &x, 3, 2, false, &n), ADMIT_OK);
    assert_int_equal(admission_enter(a, 0, &x, 3, 2, false, &n), ADMIT_CLIENT_LIMIT);
    assert_int_equal(n, 3);
    assert_int_equal(admission_enter(a, 0, &x, 3, 2, true, &n), ADMIT_OK);   /* exempt */
    assert_int_equal(admission_enter(a, 0, &y, 3, 2, false, &n), ADMIT_TOTAL_LIMIT);
    admission_leave(a, 1, &x);
    assert_int_equal(admission_enter(a, 0, &y, 3, 2, false, &n), ADMIT_OK);
    assert_int_equal(admission_total(a), 3);
    admission_destroy(a);
}

static void forget_worker(void **state)
{
    struct admission *a = admission_create(64);
    unsigned n;
    char text[32];
    /* Many addresses, so probe chains collide and shift on deletion. */
    for (int i = 0; i < 60; i++) {
        snprintf(text, sizeof(text), "10.0.%d.%d", i / 7, i % 7);
        struct netaddr x = addr(text);
        assert_int_equal(admission_enter(a, (unsigned)(i % 2), &x, 0, 0, false, &n), ADMIT_OK);
    }
    assert_int_equal(admission_total(a), 60);
    admission_forget_worker(a, 1);
    assert_int_equal(admission_total(a), 30);
    /* Worker 0's entries are all still found and can leave. */
    for (int i = 0; i < 60; i += 2) {
        snprintf(text, sizeof(text), "10.0.%d.%d", i / 7, i % 7);
        struct netaddr x = addr(text);
        assert_int_equal(admission_enter(a, 0, &x, 0, 1, false, &n), ADMIT_CLIENT_LIMIT);
        admission_leave(a, 0, &x);
    }
    assert_int_equal(admission_total(a), 0);
    admission_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(per_client_and_total_limits),
        cmocka_unit_test(forget_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
