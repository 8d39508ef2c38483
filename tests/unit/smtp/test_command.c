/* Command tokenizer: verb and argument, blanks, case-insensitive verbs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "smtp/command.h"

struct split_case {
    const char *line;
    bool ok;
    const char *verb;
    const char *arg;
};

static const struct split_case cases[] = {
    { "NOOP", true, "NOOP", "" },
    { "MAIL FROM:<a@b>", true, "MAIL", "FROM:<a@b>" },
    { "MAIL FROM:<a@b> SIZE=10", true, "MAIL", "FROM:<a@b> SIZE=10" },
    { "RCPT    TO:<a@b>", true, "RCPT", "TO:<a@b>" },
    { "EHLO\tclient.test", true, "EHLO", "client.test" },
    { "  NOOP  ", true, "NOOP", "" },
    { "HELO x   ", true, "HELO", "x" },
    { "AUTH PLAIN dGVzdA==", true, "AUTH", "PLAIN dGVzdA==" },
    { "data", true, "data", "" },
    { "X", true, "X", "" },
    { "MAIL FROM: <a@b>", true, "MAIL", "FROM: <a@b>" },
    { "", false, "", "" },
    { "   ", false, "", "" },
    { "\t \t", false, "", "" },
};

static void split_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct split_case *c = &cases[i];
        struct smtp_command cmd;
        bool ok = smtp_command_split(c->line, strlen(c->line), &cmd);
        if (ok != c->ok)
            fail_msg("'%s': split returned %d", c->line, ok);
        if (!ok)
            continue;
        if (cmd.verb_len != strlen(c->verb) || memcmp(cmd.verb, c->verb, cmd.verb_len) != 0
            || cmd.arg_len != strlen(c->arg) || memcmp(cmd.arg, c->arg, cmd.arg_len) != 0)
            fail_msg("'%s': verb '%.*s' arg '%.*s'", c->line, (int)cmd.verb_len,
                     cmd.verb, (int)cmd.arg_len, cmd.arg);
        /* Views point into the line. */
        assert_true(cmd.verb >= c->line && cmd.verb + cmd.verb_len <= c->line + strlen(c->line));
    }
}

static void verb_comparison(void **state)
{
    struct smtp_command cmd;
    assert_true(smtp_command_split("mAiL FROM:<>", 12, &cmd));
    assert_true(smtp_command_is(&cmd, "MAIL"));
    assert_true(smtp_command_is(&cmd, "mail"));
    assert_false(smtp_command_is(&cmd, "MAI"));
    assert_false(smtp_command_is(&cmd, "MAILX"));
    assert_false(smtp_command_is(&cmd, "RCPT"));
}

static void embedded_nul_is_not_a_match(void **state)
{
    struct smtp_command cmd;
    assert_true(smtp_command_split("NO\0P", 4, &cmd));
    assert_int_equal(cmd.verb_len, 4);
    assert_false(smtp_command_is(&cmd, "NOOP"));
    assert_false(smtp_command_is(&cmd, "NO"));
}

static void length_bounds_the_scan(void **state)
{
    /* Only len bytes are looked at: the rest of the buffer is not the line. */
    static const char line[] = "QUIT garbage";
    struct smtp_command cmd;
    assert_true(smtp_command_split(line, 4, &cmd));
    assert_true(smtp_command_is(&cmd, "QUIT"));
    assert_int_equal(cmd.arg_len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_table),
        cmocka_unit_test(verb_comparison),
        cmocka_unit_test(embedded_nul_is_not_a_match),
        cmocka_unit_test(length_bounds_the_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
