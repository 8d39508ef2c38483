/*
 * master.cf: the stock Postfix file loads with only its smtpd inet service
 * active, -o overrides in both forms with their own line numbers, other
 * arguments, duplicates, and malformed entries.
 */
#include "config_test.h"

static struct master_cf *mparse(const char *text, struct diag *d)
{
    diag_free(d);
    return master_cf_parse(text, "master.cf", d);
}

static void stock_postfix_master_cf(void **state)
{
    struct diag d;
    diag_init(&d);
    struct master_cf *mcf = master_cf_load(FIXTURES "/postfix-3.7-master.cf", &d);
    if (!mcf)
        diag_dump(&d);
    assert_non_null(mcf);
    assert_int_equal(d.count, 0);
    size_t active = 0;
    for (size_t i = 0; i < mcf->count; i++) {
        const struct master_service *s = &mcf->services[i];
        if (s->kind != SERVICE_SMTPD_INET)
            continue;
        active++;
        assert_string_equal(s->name, "smtp");
        assert_string_equal(s->type, "inet");
        assert_string_equal(s->command, "smtpd");
        assert_int_equal(s->noverrides, 0);
    }
    assert_int_equal(active, 1);
    assert_true(mcf->count > 20);
    /* A service with arguments other than -o, over continuation lines. */
    const struct master_service *pipe = NULL;
    for (size_t i = 0; i < mcf->count; i++)
        if (strcmp(mcf->services[i].name, "maildrop") == 0)
            pipe = &mcf->services[i];
    if (pipe == NULL) {
        fail_msg("no maildrop service");
        return;
    }
    assert_int_equal(pipe->kind, SERVICE_SKIPPED);
    assert_string_equal(pipe->command, "pipe");
    assert_string_equal(pipe->args[0], "flags=DRXhu");
    assert_true(strncmp(pipe->args[1], "user=vmail", 10) == 0);
    master_cf_free(mcf);
    diag_free(&d);
}

static void override_forms_and_lines(void **state)
{
    struct diag d;
    diag_init(&d);
    struct master_cf *mcf = mparse(
        "# services\n"
        "submission inet n - n - - smtpd\n"
        "  -o syslog_name=postfix/submission\n"
        "  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
        "\n"
        "  # a comment inside the entry\n"
        "  -o smtpd_sasl_auth_enable=yes -o smtpd_helo_restrictions=\n"
        "  -osmtpd_delay_reject=no -v\n"
        "  -o {smtpd_banner=$myhostname  ESMTP}\n", &d);
    assert_non_null(mcf);
    assert_int_equal(mcf->count, 1);
    const struct master_service *s = &mcf->services[0];
    assert_int_equal(s->kind, SERVICE_SMTPD_INET);
    assert_string_equal(s->name, "submission");
    assert_int_equal(s->line, 2);
    assert_string_equal(s->file, "master.cf");
    assert_int_equal(s->noverrides, 6);
    static const struct { const char *name, *value; int line; } want[] = {
        { "syslog_name", "postfix/submission", 3 },
        { "smtpd_client_restrictions", "permit_sasl_authenticated, reject", 4 },
        { "smtpd_sasl_auth_enable", "yes", 7 },
        { "smtpd_helo_restrictions", "", 7 },
        { "smtpd_delay_reject", "no", 8 },
        { "smtpd_banner", "$myhostname  ESMTP", 9 },
    };
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(s->overrides[i].name, want[i].name);
        assert_string_equal(s->overrides[i].value, want[i].value);
        assert_int_equal(s->overrides[i].line, want[i].line);
        assert_string_equal(s->overrides[i].file, "master.cf");
    }
    assert_string_equal(s->args[0], "-v");
    assert_null(s->args[1]);
    master_cf_free(mcf);
    diag_free(&d);
}

static void kinds(void **state)
{
    struct diag d;
    diag_init(&d);
    struct master_cf *mcf = mparse("smtp inet n - y - 1 postscreen\n"
                                   "smtpd pass - - y - - smtpd\n"
                                   "127.0.0.1:10025 inet n - n - - smtpd\n"
                                   "[::1]:2525 inet n - n - 10 smtpd\n"
                                   "pickup unix n - y 60 1 pickup\n"
                                   "qmgr unix n - n 300? 1 qmgr\n", &d);
    assert_non_null(mcf);
    assert_int_equal(mcf->count, 6);
    enum master_service_kind want[] = { SERVICE_SKIPPED, SERVICE_SKIPPED, SERVICE_SMTPD_INET,
                                        SERVICE_SMTPD_INET, SERVICE_SKIPPED, SERVICE_SKIPPED };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(mcf->services[i].kind, want[i]);
    assert_string_equal(mcf->services[3].name, "[::1]:2525");
    assert_string_equal(mcf->services[3].maxproc, "10");
    master_cf_free(mcf);
    diag_free(&d);
}

static void duplicate_entry_replaces_earlier(void **state)
{
    struct diag d;
    diag_init(&d);
    struct master_cf *mcf = mparse("smtp inet n - n - - smtpd\n"
                                   "smtp unix - - n - - smtp\n"
                                   "smtp inet n - n - 5 smtpd -o smtpd_helo_required=yes\n", &d);
    assert_non_null(mcf);
    assert_int_equal(mcf->count, 2);
    assert_string_equal(mcf->services[0].maxproc, "5");
    assert_int_equal(mcf->services[0].line, 3);
    assert_int_equal(mcf->services[0].noverrides, 1);
    assert_diag(&d, DIAG_WARNING, "master.cf:3", "duplicate service smtp/inet replaces the entry at line 1");
    master_cf_free(mcf);
    diag_free(&d);
}

static void malformed_entries(void **state)
{
    static const struct { const char *text, *where, *what; } cases[] = {
        { "smtp inet n - n - smtpd\n", "master.cf:1", "too few fields (7)" },
        { "# x\nsmtp inet n - n -\n  - smtpd -o\n", "master.cf:3", "-o without name=value" },
        { "smtp inet n - n - - smtpd\n  -o novalue\n", "master.cf:2", "bad -o argument \"novalue\"" },
        { "smtp inet n - n - - smtpd -o =x\n", "master.cf:1", "bad -o argument \"=x\"" },
        { "smtp inet n - n - - smtpd -o bad-name=x\n", "master.cf:1", "bad -o argument" },
        { "smtp inet n - n - - smtpd -o { name value }\n", "master.cf:1", "bad -o argument" },
        { "smtp inet n - n - - smtpd -o {a=b\n", "master.cf:1", "unbalanced '{'" },
        { "smtp tcp n - n - - smtpd\n", "master.cf:1", "bad transport type: tcp" },
        { "smtp inet x - n - - smtpd\n", "master.cf:1", "bad private field: \"x\"" },
        { "smtp inet n yes n - - smtpd\n", "master.cf:1", "bad unprivileged field" },
        { "smtp inet n - maybe - - smtpd\n", "master.cf:1", "bad chroot field" },
        { "smtp inet n - n soon - smtpd\n", "master.cf:1", "bad wakeup field" },
        { "smtp inet n - n - 10? smtpd\n", "master.cf:1", "bad maxproc field" },
        { "smtp inet - - n - - smtpd\n", "master.cf:1", "inet service cannot be private" },
        { "smtp inet y - n - - smtpd\n", "master.cf:1", "inet service cannot be private" },
        { "\n  -o smtpd_helo_required=yes\n", "master.cf:2", "must not start with whitespace" },
    };
    struct diag d;
    diag_init(&d);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct master_cf *mcf = mparse(cases[i].text, &d);
        if (mcf)
            fail_msg("case %zu was accepted", i);
        assert_diag(&d, DIAG_ERROR, cases[i].where, cases[i].what);
    }
    diag_free(&d);
}

static void braced_arguments(void **state)
{
    struct diag d;
    diag_init(&d);
    struct master_cf *mcf = mparse("filter unix - n n - 10 pipe\n"
                                   "  flags=Rq user=filter argv=/usr/bin/filter { -f $sender } --\n",
                                   &d);
    assert_non_null(mcf);
    const struct master_service *s = &mcf->services[0];
    assert_string_equal(s->args[2], "argv=/usr/bin/filter");
    assert_string_equal(s->args[3], "-f $sender");
    assert_string_equal(s->args[4], "--");
    assert_null(s->args[5]);
    master_cf_free(mcf);
    diag_free(&d);
}

static void seed_002_master_cf(void **state)
{
    struct diag d;
    diag_init(&d);
    struct master_cf *mcf = master_cf_load(FIXTURES "/seed-002.master.cf", &d);
    assert_non_null(mcf);
    assert_int_equal(mcf->count, 3);
    assert_int_equal(mcf->services[1].kind, SERVICE_SKIPPED);
    const struct master_service *s = &mcf->services[2];
    assert_int_equal(s->kind, SERVICE_SMTPD_INET);
    assert_string_equal(s->name, "127.0.0.1:10025");
    assert_int_equal(s->noverrides, 13);
    assert_string_equal(s->overrides[1].name, "content_filter");
    assert_string_equal(s->overrides[1].value, "");
    assert_int_equal(s->overrides[10].line, 17);
    assert_string_equal(s->overrides[10].name, "smtp_error_sleep_time");
    master_cf_free(mcf);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stock_postfix_master_cf),
        cmocka_unit_test(override_forms_and_lines),
        cmocka_unit_test(kinds),
        cmocka_unit_test(duplicate_entry_replaces_earlier),
        cmocka_unit_test(malformed_entries),
        cmocka_unit_test(braced_arguments),
        cmocka_unit_test(seed_002_master_cf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
