/* Id table: fresh ids, removal, growth, taking everything out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "ipc/idmap.h"

static void add_get_remove(void **state)
{
    struct idmap *m = idmap_new();
    int a, b;
    uint32_t ia = idmap_add(m, &a);
    uint32_t ib = idmap_add(m, &b);
    assert_int_not_equal(ia, 0);
    assert_int_not_equal(ia, ib);
    assert_ptr_equal(idmap_get(m, ia), &a);
    assert_ptr_equal(idmap_get(m, ib), &b);
    assert_int_equal(idmap_count(m), 2);
    assert_ptr_equal(idmap_remove(m, ia), &a);
    assert_null(idmap_get(m, ia));
    assert_null(idmap_remove(m, ia));
    assert_int_equal(idmap_count(m), 1);
    idmap_free(m);
}

static void put_refuses_zero_and_duplicates(void **state)
{
    struct idmap *m = idmap_new();
    int a;
    assert_false(idmap_put(m, 0, &a));
    assert_true(idmap_put(m, 42, &a));
    assert_false(idmap_put(m, 42, &a));
    /* a fresh id skips ids in use */
    assert_true(idmap_put(m, 1, &a));
    assert_int_equal(idmap_add(m, &a), 2);
    idmap_free(m);
}

static void grows_and_takes_all(void **state)
{
    struct idmap *m = idmap_new();
    static int vals[5000];
    for (int i = 0; i < 5000; i++)
        assert_true(idmap_put(m, (uint32_t)(i * 7919 + 1), &vals[i]));
    for (int i = 0; i < 5000; i++)
        assert_ptr_equal(idmap_get(m, (uint32_t)(i * 7919 + 1)), &vals[i]);
    size_t n = 0;
    void **all = idmap_take_all(m, &n);
    assert_int_equal(n, 5000);
    assert_int_equal(idmap_count(m), 0);
    long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (int *)all[i] - vals;
    assert_int_equal(sum, 4999L * 5000 / 2);
    free(all);
    assert_null(idmap_get(m, 1));
    idmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_get_remove),
        cmocka_unit_test(put_refuses_zero_and_duplicates),
        cmocka_unit_test(grows_and_takes_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
