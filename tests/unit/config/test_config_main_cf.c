/*
 * main.cf syntax and typed values: continuations, comments, later entries
 * winning, syntax errors, type errors naming file:line, and the warnings
 * for unknown and for unsupported Postfix parameters.
 */
#include "config_test.h"

static void continuation_lines_join_with_one_space(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("smtpd_client_restrictions = permit_mynetworks,\n"
                               "    reject_unknown_client_hostname,\n"
                               "\t   permit  \n"
                               "myorigin = example.com\n", &d);
    assert_non_null(cfg);
    assert_string_equal(cfg_str(cfg, P_SMTPD_CLIENT_RESTRICTIONS),
                        "permit_mynetworks, reject_unknown_client_hostname, permit");
    assert_string_equal(cfg_origin(cfg, P_SMTPD_CLIENT_RESTRICTIONS), "main.cf:1");
    assert_string_equal(cfg_origin(cfg, P_MYORIGIN), "main.cf:4");
    config_free(cfg);
    diag_free(&d);
}

static void comments_and_blank_lines_are_skipped(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("# a comment\n"
                               "\n"
                               "   \t\n"
                               "smtpd_helo_restrictions = permit_mynetworks,\n"
                               "  # a comment between continuation lines\n"
                               "\n"
                               "  reject_invalid_helo_hostname\n"
                               "smtpd_banner = $myhostname # not a comment\n"
                               "   # indented comment\n", &d);
    assert_non_null(cfg);
    assert_no_diag(&d, DIAG_WARNING);
    assert_string_equal(cfg_raw(cfg, P_SMTPD_HELO_RESTRICTIONS),
                        "permit_mynetworks, reject_invalid_helo_hostname");
    assert_string_equal(cfg_raw(cfg, P_SMTPD_BANNER), "$myhostname # not a comment");
    assert_string_equal(cfg_origin(cfg, P_SMTPD_BANNER), "main.cf:8");
    config_free(cfg);
    diag_free(&d);
}

static void whitespace_around_equals_and_crlf(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("mail_name=Acme\r\n"
                               "relayhost   =   [mail.example.net]:587   \r\n"
                               "recipient_delimiter =\r\n", &d);
    assert_non_null(cfg);
    assert_string_equal(cfg_str(cfg, P_MAIL_NAME), "Acme");
    assert_string_equal(cfg_str(cfg, P_RELAYHOST), "[mail.example.net]:587");
    assert_string_equal(cfg_str(cfg, P_RECIPIENT_DELIMITER), "");
    assert_true(cfg_is_set(cfg, P_RECIPIENT_DELIMITER));
    assert_false(cfg_is_set(cfg, P_MYORIGIN));
    assert_string_equal(cfg_origin(cfg, P_MYORIGIN), "default");
    config_free(cfg);
    diag_free(&d);
}

static void later_entry_overrides_with_warning(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("smtpd_helo_required = no\n"
                               "mail_name = one\n"
                               "smtpd_helo_required = yes\n", &d);
    assert_non_null(cfg);
    assert_true(cfg_bool(cfg, P_SMTPD_HELO_REQUIRED));
    assert_string_equal(cfg_origin(cfg, P_SMTPD_HELO_REQUIRED), "main.cf:3");
    assert_diag(&d, DIAG_WARNING, "main.cf:3", "overriding earlier entry: smtpd_helo_required=yes");
    config_free(cfg);
    diag_free(&d);
}

static void syntax_errors_name_the_line(void **state)
{
    struct diag d;
    diag_init(&d);
    assert_null(parse("mail_name = x\nthis line has no equals\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:2", "missing '=' after attribute name: \"this\"");

    assert_null(parse("  indented = x\nmail_name = y\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "logical line must not start with whitespace");

    assert_null(parse("# comment\n\n   continued = x\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:3", "logical line must not start with whitespace");

    assert_null(parse("bad-name = x\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "bad parameter name \"bad-name\"");

    assert_null(parse("= x\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "missing attribute name");
    diag_free(&d);
}

static void every_error_is_reported(void **state)
{
    struct diag d;
    diag_init(&d);
    assert_null(parse("a b = 1\nsmtpd_timeout = forever\nsmtpd_helo_required = maybe\n", &d));
    assert_int_equal(d.errors, 3);
    diag_free(&d);
}

static void type_errors_name_file_line_and_parameter(void **state)
{
    struct diag d;
    diag_init(&d);
    assert_null(parse("mail_name = x\nsmtpd_helo_required = maybe\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:2",
                "bad boolean value for parameter smtpd_helo_required: \"maybe\"");

    assert_null(parse("smtpd_recipient_limit = 12x\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1",
                "bad integer value for parameter smtpd_recipient_limit: \"12x\"");

    assert_null(parse("smtpd_workers = 300\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "must be between 0 and 256");

    assert_null(parse("\n\nsmtpd_timeout = 5y\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:3", "bad time value for parameter smtpd_timeout: \"5y\"");

    assert_null(parse("smtpd_timeout = 0\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "must be between 1 and 86400 seconds");

    assert_null(parse("message_size_limit = -1\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "bad size value for parameter message_size_limit");

    assert_null(parse("mynetworks_style = everything\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "bad value for parameter mynetworks_style");

    assert_null(parse("smtpd_forbid_bare_newline = sometimes\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "bad value for parameter smtpd_forbid_bare_newline");

    assert_null(parse("reject_code = 250\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "bad integer value for parameter reject_code");

    /* The value is checked after expansion, and blamed where it was set. */
    assert_null(parse("limit = lots\nsmtpd_hard_error_limit = $limit\n", &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:2",
                "bad integer value for parameter smtpd_hard_error_limit: \"lots\"");
    diag_free(&d);
}

static void typed_values(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("smtpd_helo_required = YES\n"
                               "disable_vrfy_command = No\n"
                               "smtpd_error_sleep_time = 10m\n"
                               "smtpd_timeout = 2\n"
                               "delay_warning_time = 4\n"
                               "maximal_queue_lifetime = 1w\n"
                               "message_size_limit = 52428800\n"
                               "smtpd_recipient_limit = 50\n"
                               "smtpd_forbid_bare_newline = Reject\n"
                               "inet_protocols = ipv4, ipv6\n", &d);
    assert_non_null(cfg);
    assert_true(cfg_bool(cfg, P_SMTPD_HELO_REQUIRED));
    assert_false(cfg_bool(cfg, P_DISABLE_VRFY_COMMAND));
    assert_int_equal(cfg_time_ms(cfg, P_SMTPD_ERROR_SLEEP_TIME), 600000);
    assert_int_equal(cfg_time_ms(cfg, P_SMTPD_TIMEOUT), 2000);          /* default unit s */
    assert_int_equal(cfg_time_ms(cfg, P_DELAY_WARNING_TIME), 4 * 3600000LL); /* unit h */
    assert_int_equal(cfg_time_ms(cfg, P_MAXIMAL_QUEUE_LIFETIME), 7 * 86400000LL);
    assert_int_equal(cfg_size(cfg, P_MESSAGE_SIZE_LIMIT), 52428800);
    assert_int_equal(cfg_int(cfg, P_SMTPD_RECIPIENT_LIMIT), 50);
    assert_string_equal(cfg_str(cfg, P_SMTPD_FORBID_BARE_NEWLINE), "Reject");
    assert_string_equal(cfg_str(cfg, P_SMTPD_ERROR_SLEEP_TIME), "10m");
    config_free(cfg);
    diag_free(&d);
}

static void unknown_and_unsupported_names(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("content_filter = smtp-amavis:[127.0.0.1]:10024\n"
                               "smtpd_eror_sleep_time = 1s\n"
                               "mua_client_restrictions = permit_sasl_authenticated, reject\n"
                               "smtpd_client_restrictions = $mua_client_restrictions\n"
                               "amavis_destination_recipient_limit = 1\n", &d);
    assert_non_null(cfg);
    assert_diag(&d, DIAG_WARNING, "main.cf:1",
                "content_filter: Postfix parameter not supported by gatepost yet; ignored");
    assert_diag(&d, DIAG_WARNING, "main.cf:2", "unknown parameter smtpd_eror_sleep_time");
    /* A user-defined variable that some value uses is not a typo. */
    assert_int_equal(diag_find(&d, DIAG_WARNING, "main.cf:3", NULL), -1);
    /* Per-transport parameters exist for every master.cf service. */
    assert_diag(&d, DIAG_WARNING, "main.cf:5", "amavis_destination_recipient_limit: Postfix parameter");
    assert_int_equal(d.warnings, 3);
    assert_string_equal(cfg_str(cfg, P_SMTPD_CLIENT_RESTRICTIONS),
                        "permit_sasl_authenticated, reject");
    assert_string_equal(cfg_lookup(cfg, "mua_client_restrictions"),
                        "permit_sasl_authenticated, reject");
    assert_string_equal(cfg_lookup(cfg, "content_filter"), "smtp-amavis:[127.0.0.1]:10024");
    assert_null(cfg_lookup(cfg, "no_such_thing"));
    assert_int_equal(cfg_extra_count(cfg), 4);
    assert_string_equal(cfg_extra_name(cfg, 0), "amavis_destination_recipient_limit");
    assert_string_equal(cfg_extra_name(cfg, 1), "content_filter");
    config_free(cfg);
    diag_free(&d);
}

static void file_errors(void **state)
{
    struct diag d;
    diag_init(&d);
    assert_null(config_load(FIXTURES "/no-such-directory", &d));
    assert_diag(&d, DIAG_ERROR, FIXTURES "/no-such-directory/main.cf", "cannot read");
    diag_free(&d);
}

static void load_seed(const char *name, struct diag *d, struct config **out)
{
    char *text = fixture_text(name);
    diag_free(d);
    *out = config_parse_text(text, name, d);
    free(text);
    if (!*out)
        diag_dump(d);
    assert_non_null(*out);
    assert_int_equal(d->errors, 0);
}

static void seed_configurations_load(void **state)
{
    struct diag d;
    struct config *cfg;
    diag_init(&d);

    load_seed("seed-000.main.cf", &d, &cfg);
    assert_no_diag(&d, DIAG_WARNING);
    assert_string_equal(cfg_str(cfg, P_SMTPD_SASL_TYPE), "dovecot");
    assert_true(cfg_bool(cfg, P_SMTPD_SASL_AUTH_ENABLE));
    config_free(cfg);

    load_seed("seed-001.main.cf", &d, &cfg);
    assert_no_diag(&d, DIAG_WARNING);
    assert_string_equal(cfg_str(cfg, P_MYNETWORKS), "127.0.0.0/8, 192.0.2.10");
    assert_string_equal(cfg_origin(cfg, P_SMTPD_RECIPIENT_RESTRICTIONS), "seed-001.main.cf:7");
    config_free(cfg);

    load_seed("seed-002.main.cf", &d, &cfg);
    assert_string_equal(cfg_str(cfg, P_SMTPD_SASL_SECURITY_OPTIONS), "noanonymous, noplaintext");
    assert_true(cfg_bool(cfg, P_BROKEN_SASL_AUTH_CLIENTS));
    assert_true(strstr(cfg_str(cfg, P_SMTPD_RECIPIENT_RESTRICTIONS),
                       "permit_sasl_authenticated, reject_unauth_destination") != NULL);
    config_free(cfg);

    load_seed("seed-003.main.cf", &d, &cfg);
    assert_no_diag(&d, DIAG_WARNING);
    assert_int_equal(cfg_time_ms(cfg, P_SMTPD_ERROR_SLEEP_TIME), 600000);
    assert_int_equal(cfg_int(cfg, P_SMTPD_SOFT_ERROR_LIMIT), 2);
    assert_int_equal(cfg_int(cfg, P_SMTPD_HARD_ERROR_LIMIT), 2);
    assert_true(cfg_bool(cfg, P_SMTPD_HELO_REQUIRED));
    assert_string_equal(cfg_str(cfg, P_SMTPD_RELAY_RESTRICTIONS),
                        "permit_sasl_authenticated, defer_unauth_destination");
    config_free(cfg);

    load_seed("seed-004.main.cf", &d, &cfg);
    assert_diag(&d, DIAG_WARNING, NULL, "header_checks: Postfix parameter not supported");
    assert_diag(&d, DIAG_WARNING, NULL, "maps_rbl_domains: Postfix parameter not supported");
    assert_int_equal(cfg_size(cfg, P_MAILBOX_SIZE_LIMIT), 1024000);
    assert_true(cfg_bool(cfg, P_DISABLE_VRFY_COMMAND));
    char expect[600];
    snprintf(expect, sizeof(expect), "%s ESMTP gatepost", cfg_str(cfg, P_MYHOSTNAME));
    assert_string_equal(cfg_str(cfg, P_SMTPD_BANNER), expect);
    config_free(cfg);
    diag_free(&d);
}

static void huge_line_is_refused(void **state)
{
    size_t n = (300u << 10);
    char *text = malloc(n + 32);
    memcpy(text, "mail_name = ", 12);
    memset(text + 12, 'x', n);
    strcpy(text + 12 + n, "\nmyorigin = a\n");
    struct diag d;
    diag_init(&d);
    assert_null(parse(text, &d));
    assert_diag(&d, DIAG_ERROR, "main.cf:1", "logical line is longer than");
    free(text);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(continuation_lines_join_with_one_space),
        cmocka_unit_test(comments_and_blank_lines_are_skipped),
        cmocka_unit_test(whitespace_around_equals_and_crlf),
        cmocka_unit_test(later_entry_overrides_with_warning),
        cmocka_unit_test(syntax_errors_name_the_line),
        cmocka_unit_test(every_error_is_reported),
        cmocka_unit_test(type_errors_name_file_line_and_parameter),
        cmocka_unit_test(typed_values),
        cmocka_unit_test(unknown_and_unsupported_names),
        cmocka_unit_test(file_errors),
        cmocka_unit_test(seed_configurations_load),
        cmocka_unit_test(huge_line_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
