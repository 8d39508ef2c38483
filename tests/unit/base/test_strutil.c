/* Postfix list splitting: commas and blanks separate, { } groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

static void split_commas_and_blanks(void **state)
{
    size_t n;
    char **items = str_list_split(" permit_mynetworks,\n\tcheck_client_access hash:/a ,reject ",
                                  STR_LIST_SEPARATORS, &n);
    assert_int_equal(n, 4);
    assert_string_equal(items[0], "permit_mynetworks");
    assert_string_equal(items[1], "check_client_access");
    assert_string_equal(items[2], "hash:/a");
    assert_string_equal(items[3], "reject");
    assert_null(items[4]);
    free(items);
}

static void braces_group(void **state)
{
    size_t n;
    char **items = str_list_split("inline:{ a=1, b=2 }, static:{x y}", STR_LIST_SEPARATORS, &n);
    assert_int_equal(n, 2);
    assert_string_equal(items[0], "inline:{ a=1, b=2 }");
    assert_string_equal(items[1], "static:{x y}");
    free(items);
}

static void unbalanced_reported(void **state)
{
    char text[] = "inline:{ a=1, b=2";
    char *cursor = text;
    bool unbalanced = false;
    assert_non_null(str_list_next(&cursor, STR_LIST_SEPARATORS, &unbalanced));
    assert_true(unbalanced);
}

static void unbrace_and_trim(void **state)
{
    char a[] = "  { hello world }  ";
    assert_string_equal(str_unbrace(a), "hello world");
    char b[] = "plain";
    assert_string_equal(str_unbrace(b), "plain");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_commas_and_blanks),
        cmocka_unit_test(braces_group),
        cmocka_unit_test(unbalanced_reported),
        cmocka_unit_test(unbrace_and_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
