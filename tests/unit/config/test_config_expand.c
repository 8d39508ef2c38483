/*
 * $name expansion: every form postconf(5) documents, "$$", undefined
 * names, loops and depth limits, malformed ${...}, and config_expand on a
 * built config.
 */
#include "config_test.h"

/* Expanded value of name after parsing text (which must load). */
static char *value_of(const char *text, const char *name)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse(text, &d);
    if (!cfg)
        diag_dump(&d);
    assert_non_null(cfg);
    char *v = strdup(cfg_lookup(cfg, name));
    config_free(cfg);
    diag_free(&d);
    return v;
}

#define assert_expands(text, name, expected)            \
    do {                                                \
        char *v_ = value_of((text), (name));            \
        assert_string_equal(v_, (expected));            \
        free(v_);                                       \
    } while (0)

static void plain_references(void **state)
{
    assert_expands("a = x\nb = [$a] [${a}] [$(a)]\n", "b", "[x] [x] [x]");
    assert_expands("a = x\nb = $a_y ${a}_y\n", "b", " x_y");   /* $a_y is another name */
    assert_expands("b = $a\na = $c-$c\nc = 1\n", "b", "1-1");  /* order does not matter */
    assert_expands("mail_name = Acme\nb = $mail_name\n", "b", "Acme");
    assert_expands("b = <$mail_name>\n", "b", "<gatepost>");   /* a default */
}

static void literal_dollars(void **state)
{
    assert_expands("b = cost $$5\n", "b", "cost $5");
    assert_expands("b = $$${1}\n", "b", "$");           /* "$$" then ${1}, undefined */
    assert_expands("b = end$\n", "b", "end$");
    assert_expands("b = a$ b $/ c\n", "b", "a$ b $/ c");
    assert_expands("b = pcre:{{/^(.*)@localhost$/ $${1}/}}\n", "b",
                   "pcre:{{/^(.*)@localhost$/ ${1}/}}");
}

static void conditional_forms(void **state)
{
    const char *defs = "set = yes\nempty =\n";
    char text[512];
#define COND(expr, expected)                                          \
    do {                                                              \
        snprintf(text, sizeof(text), "%sb = %s\n", defs, (expr));     \
        assert_expands(text, "b", (expected));                        \
    } while (0)
    COND("${set?on}", "on");
    COND("${empty?on}", "");
    COND("${unset?on}", "");
    COND("${set:off}", "");
    COND("${empty:off}", "off");
    COND("${unset:off}", "off");
    COND("${set?{on}}", "on");
    COND("${empty:{ off }}", "off");
    COND("${set?{on}:{off}}", "on");
    COND("${empty?{on}:{off}}", "off");
    COND("${empty?{on} : off}", " off");
#undef COND
}

static void conditional_values_expand(void **state)
{
    assert_expands("set = 1\nv = inner\nb = ${set?[$v]}\n", "b", "[inner]");
    assert_expands("set = 1\nb = ${set?{${set?{deep}}}}\n", "b", "deep");
    assert_expands("b = $(unset:fallback)\n", "b", "fallback");
    /* The test looks at the raw text, as Postfix does. */
    assert_expands("ref = $nothing\nb = ${ref?{nonempty}:{empty}}\n", "b", "nonempty");
}

static void relational_expressions(void **state)
{
    assert_expands("b = ${{$compatibility_level} <level {2} ? {subnet} : {host}}\n", "b", "host");
    assert_expands("compatibility_level = 1\n"
                   "b = ${{$compatibility_level} <level {2} ? {subnet} : {host}}\n", "b", "subnet");
    assert_expands("b = ${{10} > {9} ? {num}:{lex}}\n", "b", "num");
    assert_expands("b = ${{b} > {a} ? {yes}:{no}}\n", "b", "yes");
    assert_expands("x = abc\nb = ${{$x} == {abc} ? {same}}\n", "b", "same");
    assert_expands("b = ${{3.6} >=level {3.6.0} ? {ok}:{old}}\n", "b", "ok");
    assert_expands("b = ${{a} != {a} : {differs not}}\n", "b", "differs not");
}

static void undefined_names_warn(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("mail_name = x\nsmtpd_banner = $myhostname $nosuch\n", &d);
    assert_non_null(cfg);
    assert_diag(&d, DIAG_WARNING, "main.cf:2", "undefined parameter $nosuch in value of smtpd_banner");
    assert_int_equal(d.warnings, 1);
    char expect[600];
    snprintf(expect, sizeof(expect), "%s ", cfg_str(cfg, P_MYHOSTNAME));
    assert_string_equal(cfg_str(cfg, P_SMTPD_BANNER), expect);
    config_free(cfg);
    /* Conditional tests of undefined names are normal: no warning. */
    cfg = parse("b = ${nosuch?x}${nosuch:y}\n", &d);
    assert_non_null(cfg);
    assert_int_equal(d.warnings, 1);    /* only "unknown parameter b" */
    assert_diag(&d, DIAG_WARNING, "main.cf:1", "unknown parameter b");
    config_free(cfg);
    diag_free(&d);
}

static void loops_are_errors(void **state)
{
    struct diag d;
    diag_init(&d);
    assert_null(parse("a = $b\nb = x $a\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "recursion loop a -> b -> a");
    assert_int_equal(d.errors, 1);

    assert_null(parse("myhostname = $myhostname.example\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "recursion loop myhostname -> myhostname");

    assert_null(parse("x = ${y?{$x}}\ny = 1\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "recursion loop x -> x");

    /* A ? or : test reads the raw text: testing oneself is not a loop. */
    assert_expands("x = ${x?{a}:{b}}\n", "x", "a");
    diag_free(&d);
}

static void depth_limit(void **state)
{
    /* v0 = $v1, v1 = $v2, ... v149 = end: a chain longer than the limit. */
    char *text = malloc(150 * 32);
    size_t n = 0;
    for (int i = 0; i < 149; i++)
        n += (size_t)sprintf(text + n, "v%d = $v%d\n", i, i + 1);
    sprintf(text + n, "v149 = end\n");
    struct diag d;
    diag_init(&d);
    assert_null(parse(text, &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "more than 100 nested $name references");
    free(text);

    /* A chain within the limit is fine. */
    text = malloc(60 * 32);
    n = 0;
    for (int i = 0; i < 50; i++)
        n += (size_t)sprintf(text + n, "v%d = $v%d\n", i, i + 1);
    sprintf(text + n, "v50 = end\n");
    assert_expands(text, "v0", "end");
    free(text);
    diag_free(&d);
}

static void exponential_growth_is_capped(void **state)
{
    char text[2048];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        n += (size_t)sprintf(text + n, "g%d = $g%d$g%d\n", i, i + 1, i + 1);
    sprintf(text + n, "g40 = abcdefgh\n");
    struct diag d;
    diag_init(&d);
    assert_null(parse(text, &d));
    assert_diag(&d, DIAG_ERROR, NULL, "expanded value is longer than");
    diag_free(&d);
}

static void malformed_expressions(void **state)
{
    static const struct { const char *value, *why; } cases[] = {
        { "${mail_name", "unbalanced '{'" },
        { "$(mail_name", "unbalanced '('" },
        { "${}", "bad parameter name" },
        { "${ mail_name}", "bad parameter name" },
        { "${mail_name!x}", "unexpected character after parameter name" },
        { "${mail_name ? x}", "unexpected character after parameter name" },
        { "${mail_name?{a}x}", "unexpected text after {value}" },
        { "${mail_name:{a}:{b}}", "unexpected text after {value}" },
        { "${{a} =~ {b} ? {x}}", "missing relational operator" },
        { "${{a} == b ? {x}}", "missing {value} after relational operator" },
        { "${{a} == {b}}", "missing '?' or ':'" },
        { "${{x} <level {3.6} ? {a}}", "bad compatibility level \"x\"" },
        { "${mail_name?{a}:{b}", "unbalanced '{'" },
    };
    struct diag d;
    diag_init(&d);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "mail_name = x\nsmtpd_banner = %s\n", cases[i].value);
        struct config *cfg = parse(text, &d);
        if (cfg)
            fail_msg("\"%s\" was accepted", cases[i].value);
        assert_diag(&d, DIAG_ERROR, "main.cf:2", "cannot expand parameter smtpd_banner");
        assert_diag(&d, DIAG_ERROR, "main.cf:2", cases[i].why);
    }
    diag_free(&d);
}

static void deep_nesting_is_refused(void **state)
{
    char text[4096];
    size_t n = (size_t)sprintf(text, "x = 1\nb = ");
    for (int i = 0; i < 120; i++)
        n += (size_t)sprintf(text + n, "${x?");
    for (int i = 0; i < 120; i++)
        text[n++] = '}';
    strcpy(text + n, "\n");
    struct diag d;
    diag_init(&d);
    assert_null(parse(text, &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:2", "more than 100 nested ${...} expressions");

    /* The limit holds across $name references too (it bounds the stack). */
    n = (size_t)sprintf(text, "x = 1\n");
    for (int v = 0; v < 10; v++) {
        n += (size_t)sprintf(text + n, "v%d = ", v);
        for (int i = 0; i < 30; i++)
            n += (size_t)sprintf(text + n, "${x?");
        n += (size_t)sprintf(text + n, "$v%d", v + 1);
        for (int i = 0; i < 30; i++)
            text[n++] = '}';
        text[n++] = '\n';
    }
    strcpy(text + n, "v10 = end\n");
    assert_null(parse(text, &d));
    assert_diag(&d, DIAG_ERROR, NULL, "more than 100 nested ${...} expressions");
    diag_free(&d);
}

static void expand_against_built_config(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("myhostname = mx.example.org\n"
                               "mynetworks = 192.0.2.0/24\n"
                               "client_ok = permit_mynetworks\n", &d);
    assert_non_null(cfg);
    const char *why = NULL;
    char *s = config_expand(cfg, "check_client_access ${mynetworks} $client_ok $myhostname $$x $nosuch.",
                            &why);
    assert_non_null(s);
    assert_string_equal(s, "check_client_access 192.0.2.0/24 permit_mynetworks mx.example.org $x .");
    free(s);
    s = config_expand(cfg, "${client_ok?{yes}:{no}} ${nosuch:{fallback}}", &why);
    assert_string_equal(s, "yes fallback");
    free(s);
    assert_null(config_expand(cfg, "${mynetworks", &why));
    assert_non_null(strstr(why, "unbalanced '{'"));
    config_free(cfg);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_references),
        cmocka_unit_test(literal_dollars),
        cmocka_unit_test(conditional_forms),
        cmocka_unit_test(conditional_values_expand),
        cmocka_unit_test(relational_expressions),
        cmocka_unit_test(undefined_names_warn),
        cmocka_unit_test(loops_are_errors),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(exponential_growth_is_capped),
        cmocka_unit_test(malformed_expressions),
        cmocka_unit_test(deep_nesting_is_refused),
        cmocka_unit_test(expand_against_built_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
