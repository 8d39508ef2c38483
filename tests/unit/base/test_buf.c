/* Capped buffer: the cap is never passed, and a refused append changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/buf.h"

static void append_within_cap(void **state)
{
    struct buf b;
    buf_init(&b, 8);
    assert_true(buf_append(&b, "abcd", 4));
    assert_true(buf_puts(&b, "efgh"));
    assert_int_equal(b.len, 8);
    assert_string_equal(buf_cstr(&b), "abcdefgh");
    buf_free(&b);
}

static void append_past_cap_refused(void **state)
{
    struct buf b;
    buf_init(&b, 8);
    assert_true(buf_append(&b, "abcdef", 6));
    assert_false(buf_append(&b, "xyz", 3));
    assert_int_equal(b.len, 6);
    assert_string_equal(buf_cstr(&b), "abcdef");
    assert_false(buf_printf(&b, "%s", "long text"));
    assert_int_equal(b.len, 6);
    buf_free(&b);
}

static void printf_large(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_true(buf_printf(&b, "<%s>", big));
    assert_int_equal(b.len, 1001);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[1000], '>');
    buf_free(&b);
}

static void consume_and_release(void **state)
{
    struct buf b;
    buf_init(&b, 100);
    buf_puts(&b, "hello world");
    buf_consume(&b, 6);
    assert_string_equal(buf_cstr(&b), "world");
    buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.max, 100);
    assert_string_equal(buf_cstr(&b), "");
}

static void reserve_commit(void **state)
{
    struct buf b;
    buf_init(&b, 16);
    char *p = buf_reserve(&b, 10);
    assert_non_null(p);
    memcpy(p, "0123456789", 10);
    buf_commit(&b, 10);
    assert_null(buf_reserve(&b, 7));
    assert_non_null(buf_reserve(&b, 6));
    assert_string_equal(buf_cstr(&b), "0123456789");
    buf_free(&b);
}

/* A session lowers the cap when it leaves DATA with more than a line
   buffered: no room until enough is consumed. */
static void reserve_after_cap_lowered(void **state)
{
    struct buf b;
    buf_init(&b, 64);
    char *p = buf_reserve(&b, 40);
    assert_non_null(p);
    memset(p, 'x', 40);
    buf_commit(&b, 40);
    b.max = 16;
    assert_null(buf_reserve(&b, 1));
    assert_null(buf_reserve(&b, 8));
    buf_consume(&b, 30);
    assert_non_null(buf_reserve(&b, 6));
    assert_null(buf_reserve(&b, 7));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_within_cap),
        cmocka_unit_test(append_past_cap_refused),
        cmocka_unit_test(printf_large),
        cmocka_unit_test(consume_and_release),
        cmocka_unit_test(reserve_commit),
        cmocka_unit_test(reserve_after_cap_lowered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
