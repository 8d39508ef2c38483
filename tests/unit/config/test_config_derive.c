/*
 * Per-service configs: master.cf -o overrides are applied to main.cf's raw
 * settings before expansion (so they can use main.cf variables and change
 * what main.cf values expand to), report their own problems at their
 * master.cf line, and leave the base config untouched.
 */
#include "config_test.h"

static struct config *derive(const struct config *base, const struct master_service *s,
                             struct diag *d)
{
    diag_free(d);
    return config_derive(base, s->overrides, s->noverrides, s->name, d);
}

static void overrides_use_main_cf_variables(void **state)
{
    struct diag d, md;
    diag_init(&d);
    diag_init(&md);
    struct config *base = parse("mua_client_restrictions = permit_sasl_authenticated, reject\n"
                                "mail_name = Acme\n"
                                "smtpd_banner = $myhostname ESMTP $mail_name\n", &d);
    assert_non_null(base);
    struct master_cf *mcf = master_cf_parse(
        "submission inet n - n - - smtpd\n"
        "  -o syslog_name=gatepost/submission\n"
        "  -o smtpd_client_restrictions=$mua_client_restrictions\n"
        "  -o mail_name=AcmeSubmit\n"
        "  -o smtpd_sasl_auth_enable=yes\n", "master.cf", &md);
    assert_non_null(mcf);
    struct config *svc = derive(base, &mcf->services[0], &d);
    assert_non_null(svc);
    assert_int_equal(d.count, 0);
    assert_string_equal(cfg_str(svc, P_SYSLOG_NAME), "gatepost/submission");
    assert_string_equal(cfg_origin(svc, P_SYSLOG_NAME), "master.cf:2");
    assert_string_equal(cfg_str(svc, P_SMTPD_CLIENT_RESTRICTIONS),
                        "permit_sasl_authenticated, reject");
    assert_string_equal(cfg_raw(svc, P_SMTPD_CLIENT_RESTRICTIONS), "$mua_client_restrictions");
    assert_true(cfg_bool(svc, P_SMTPD_SASL_AUTH_ENABLE));
    assert_string_equal(cfg_service_name(svc), "submission");
    /* main.cf's banner now expands with the overridden mail_name. */
    char expect[600];
    snprintf(expect, sizeof(expect), "%s ESMTP AcmeSubmit", cfg_str(svc, P_MYHOSTNAME));
    assert_string_equal(cfg_str(svc, P_SMTPD_BANNER), expect);
    assert_string_equal(cfg_origin(svc, P_SMTPD_BANNER), "main.cf:3");
    /* The base is unchanged. */
    assert_string_equal(cfg_str(base, P_SYSLOG_NAME), "gatepost");
    assert_false(cfg_bool(base, P_SMTPD_SASL_AUTH_ENABLE));
    assert_null(cfg_service_name(base));
    config_free(svc);
    config_free(base);
    master_cf_free(mcf);
    diag_free(&d);
    diag_free(&md);
}

static void override_errors_name_master_cf_line(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *base = parse("limit = 5\nsmtpd_soft_error_limit = $limit\n", &d);
    assert_non_null(base);
    struct master_cf *mcf = master_cf_parse(
        "smtp inet n - n - - smtpd\n"
        "  -o smtpd_helo_required=sometimes\n"
        "  -o limit=many\n", "master.cf", &d);
    assert_non_null(mcf);
    assert_null(derive(base, &mcf->services[0], &d));
    assert_diag(&d, DIAG_ERROR, "master.cf:2",
                "bad boolean value for parameter smtpd_helo_required: \"sometimes\"");
    /* A main.cf value broken by an override is blamed on main.cf, naming the service. */
    assert_diag(&d, DIAG_ERROR, "main.cf:2", "bad integer value for parameter smtpd_soft_error_limit");
    assert_diag(&d, DIAG_ERROR, "main.cf:2", "with the overrides of service smtp");
    config_free(base);
    master_cf_free(mcf);
    diag_free(&d);
}

static void only_override_warnings_are_repeated(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *base = parse("typo_parameter = 1\nsmtpd_banner = $undefined_thing\n", &d);
    assert_non_null(base);
    assert_int_equal(d.warnings, 2);
    struct master_cf *mcf = master_cf_parse(
        "smtp inet n - n - - smtpd -o smtpd_helo_restrictions=$nothing_here\n", "master.cf", &d);
    struct config *svc = derive(base, &mcf->services[0], &d);
    assert_non_null(svc);
    assert_int_equal(d.warnings, 1);
    assert_diag(&d, DIAG_WARNING, "master.cf:1", "undefined parameter $nothing_here");
    config_free(svc);
    config_free(base);
    master_cf_free(mcf);
    diag_free(&d);
}

static void seed_002(void **state)
{
    struct diag d;
    diag_init(&d);
    char *text = fixture_text("seed-002.main.cf");
    struct config *base = config_parse_text(text, "main.cf", &d);
    free(text);
    assert_non_null(base);
    struct master_cf *mcf = master_cf_load(FIXTURES "/seed-002.master.cf", &d);
    assert_non_null(mcf);
    const char *path = FIXTURES "/seed-002.master.cf";
    char where[600];

    /* The first smtpd service has no overrides. */
    struct config *svc = derive(base, &mcf->services[0], &d);
    assert_non_null(svc);
    assert_int_equal(d.count, 0);
    config_free(svc);

    svc = derive(base, &mcf->services[2], &d);
    assert_non_null(svc);
    assert_int_equal(d.errors, 0);
    snprintf(where, sizeof(where), "%s:17", path);
    assert_diag(&d, DIAG_WARNING, where, "unknown parameter smtp_error_sleep_time");
    snprintf(where, sizeof(where), "%s:18", path);
    assert_diag(&d, DIAG_WARNING, where, "unknown parameter smtp_soft_error_limit");
    snprintf(where, sizeof(where), "%s:8", path);
    assert_diag(&d, DIAG_WARNING, where,
                "content_filter: Postfix parameter not supported by gatepost yet; ignored");
    assert_int_equal(d.warnings, 4);    /* 3 unknown, 1 unsupported (content_filter) */
    assert_string_equal(cfg_str(svc, P_MYNETWORKS), "127.0.0.0/8");
    assert_true(cfg_bool(svc, P_STRICT_RFC821_ENVELOPES));
    assert_string_equal(cfg_str(svc, P_LOCAL_RECIPIENT_MAPS), "");
    assert_string_equal(cfg_str(svc, P_SMTPD_CLIENT_RESTRICTIONS), "");
    assert_true(cfg_is_set(svc, P_SMTPD_CLIENT_RESTRICTIONS));
    config_free(svc);
    config_free(base);
    master_cf_free(mcf);
    diag_free(&d);
}

static void derived_defaults_follow_overrides(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *base = parse("myhostname = mx.example.com\n", &d);
    assert_non_null(base);
    assert_string_equal(cfg_str(base, P_MYDOMAIN), "example.com");
    struct config_override o = { "myhostname", "relay.example.net", "master.cf", 4 };
    struct config *svc = config_derive(base, &o, 1, "relay", &d);
    assert_non_null(svc);
    assert_string_equal(cfg_str(svc, P_MYDOMAIN), "example.net");
    assert_string_equal(cfg_str(svc, P_MYORIGIN), "relay.example.net");
    assert_string_equal(cfg_origin(svc, P_MYHOSTNAME), "master.cf:4");
    config_free(svc);
    config_free(base);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overrides_use_main_cf_variables),
        cmocka_unit_test(override_errors_name_master_cf_line),
        cmocka_unit_test(only_override_warnings_are_repeated),
        cmocka_unit_test(seed_002),
        cmocka_unit_test(derived_defaults_follow_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
