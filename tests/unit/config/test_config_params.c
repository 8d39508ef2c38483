/*
 * The parameter table and the defaults: params.def is sorted and its
 * defaults are valid, the Postfix name list tells unsupported from
 * unknown, computed defaults (myhostname, mydomain, mynetworks), the
 * embedded configuration and the lookup order of config_open_active.
 */
#include "config_test.h"

#include "base/fileio.h"
#include "config/config_internal.h"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void table_is_sorted_and_consistent(void **state)
{
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        enum param_id id = (enum param_id)i, found;
        const char *name = param_name(id);
        if (i > 0)
            assert_true(strcmp(param_name((enum param_id)(i - 1)), name) < 0);
        assert_true(param_find(name, &found));
        assert_int_equal(found, id);
        assert_true(param_name_valid(name, strlen(name)));
        assert_true(param_doc(id)[0] != '\0');
        const struct param_info *pi = param_info(id);
        if (pi->type == PARAM_TIME)
            assert_true(strchr("smhdw", pi->unit) && pi->unit);
        else
            assert_int_equal(pi->unit, 0);
        /* Every parameter is Postfix's, unless its doc says otherwise. */
        if (!strstr(param_doc(id), "gatepost only"))
            assert_true(param_is_postfix(name));
        else
            assert_false(param_is_postfix(name));
    }
    assert_false(param_find("no_such_parameter", NULL));
}

static void defaults_are_valid_and_quiet(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("", &d);
    assert_non_null(cfg);
    assert_int_equal(d.count, 0);
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        assert_false(cfg_is_set(cfg, (enum param_id)i));
        assert_string_equal(cfg_origin(cfg, (enum param_id)i), "default");
    }
    assert_int_equal(cfg_time_ms(cfg, P_SMTPD_TIMEOUT), 300000);
    assert_int_equal(cfg_int(cfg, P_SMTPD_HARD_ERROR_LIMIT), 20);
    assert_int_equal(cfg_int(cfg, P_SMTPD_JUNK_COMMAND_LIMIT), 100);
    assert_int_equal(cfg_int(cfg, P_SMTPD_WORKERS), 0);
    assert_int_equal(cfg_int(cfg, P_SMTPD_CONNECTION_LIMIT), 10000);
    assert_int_equal(cfg_size(cfg, P_MESSAGE_SIZE_LIMIT), 10240000);
    assert_true(cfg_bool(cfg, P_SMTPUTF8_ENABLE));
    assert_string_equal(cfg_str(cfg, P_MAIL_NAME), "gatepost");
    assert_string_equal(cfg_str(cfg, P_SYSLOG_NAME), "gatepost");
    assert_string_equal(cfg_str(cfg, P_QUEUE_DIRECTORY), "/var/spool/gatepost");
    assert_string_equal(cfg_str(cfg, P_SMTPD_FORBID_BARE_NEWLINE), "normalize");
    assert_string_equal(cfg_str(cfg, P_SMTPD_FORBID_BARE_NEWLINE_EXCLUSIONS), "");
    assert_string_equal(cfg_str(cfg, P_MYNETWORKS_STYLE), "host");
    assert_string_equal(cfg_str(cfg, P_RELAY_DOMAINS), "");
    assert_string_equal(cfg_str(cfg, P_ALIAS_MAPS), "");
    assert_string_equal(cfg_str(cfg, P_SMTPD_RELAY_RESTRICTIONS),
                        "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination");
    assert_string_equal(cfg_str(cfg, P_UNKNOWN_ADDRESS_TEMPFAIL_ACTION), "defer_if_permit");
    assert_string_equal(cfg_str(cfg, P_LOCAL_RECIPIENT_MAPS), "proxy:unix:passwd.byname ");
    assert_string_equal(cfg_str(cfg, P_VIRTUAL_MAILBOX_DOMAINS), "");
    assert_string_equal(cfg_str(cfg, P_SMTPD_CLIENT_EVENT_LIMIT_EXCEPTIONS),
                        cfg_str(cfg, P_MYNETWORKS));
    /* Computed defaults hang together. */
    const char *host = cfg_str(cfg, P_MYHOSTNAME);
    assert_non_null(strchr(host, '.'));
    assert_string_equal(cfg_str(cfg, P_MYDOMAIN), strchr(host, '.') + 1);
    assert_string_equal(cfg_raw(cfg, P_MYHOSTNAME), host);
    char dest[600];
    snprintf(dest, sizeof(dest), "%s, localhost.%s, localhost", host, cfg_str(cfg, P_MYDOMAIN));
    assert_string_equal(cfg_str(cfg, P_MYDESTINATION), dest);
    assert_string_equal(cfg_raw(cfg, P_MYDESTINATION), "$myhostname, localhost.$mydomain, localhost");
    assert_true(strncmp(cfg_str(cfg, P_MYNETWORKS), "127.0.0.0/8", 11) == 0);
    config_free(cfg);
    diag_free(&d);
}

static void postfix_names(void **state)
{
    assert_true(param_is_postfix("smtpd_tls_security_level"));
    assert_true(param_is_postfix("virtual_alias_maps"));
    assert_true(param_is_postfix("lmtp_tls_CAfile"));
    assert_true(param_is_postfix("virtual_maps"));                      /* legacy */
    assert_true(param_is_postfix("smtpd_client_connection_limit_exceptions"));
    assert_true(param_is_postfix("relay_destination_concurrency_limit")); /* per transport */
    assert_false(param_is_postfix("smtp_error_sleep_time"));
    assert_false(param_is_postfix("smtpd_workers"));
    assert_false(param_is_postfix("_time_limit"));
}

static void hostname_and_domain(void **state)
{
    char *s = cfg_hostname_fqdn("box");
    assert_string_equal(s, "box.localdomain");
    free(s);
    s = cfg_hostname_fqdn("mx.example.org");
    assert_string_equal(s, "mx.example.org");
    free(s);
    s = cfg_hostname_fqdn("");
    assert_string_equal(s, "localhost.localdomain");
    free(s);
    s = cfg_domain_of("mx.example.org");
    assert_string_equal(s, "example.org");
    free(s);
    s = cfg_domain_of("localhost");
    assert_string_equal(s, "localdomain");
    free(s);
    s = cfg_domain_of("trailing.");
    assert_string_equal(s, "localdomain");
    free(s);

    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("myhostname = mail.example.com\n", &d);
    assert_string_equal(cfg_str(cfg, P_MYDOMAIN), "example.com");
    assert_string_equal(cfg_str(cfg, P_MYORIGIN), "mail.example.com");
    config_free(cfg);
    diag_free(&d);
}

static struct cfg_ifaddr v4(int a, int b, int c, int dd, int prefix)
{
    struct cfg_ifaddr x = { .family = AF_INET, .prefix = prefix };
    x.addr[0] = (uint8_t)a;
    x.addr[1] = (uint8_t)b;
    x.addr[2] = (uint8_t)c;
    x.addr[3] = (uint8_t)dd;
    return x;
}

static struct cfg_ifaddr v6(uint16_t first, uint16_t last, int prefix)
{
    struct cfg_ifaddr x = { .family = AF_INET6, .prefix = prefix };
    x.addr[0] = (uint8_t)(first >> 8);
    x.addr[1] = (uint8_t)first;
    x.addr[14] = (uint8_t)(last >> 8);
    x.addr[15] = (uint8_t)last;
    return x;
}

static void mynetworks_styles(void **state)
{
    struct cfg_ifaddr ifs[] = {
        v4(127, 0, 0, 1, 8), v4(192, 0, 2, 10, 24), v4(172, 16, 5, 4, 12),
        v4(10, 1, 2, 3, 16), v6(0, 1, 128), v6(0x2001, 0x10, 64), v6(0xfe80, 0x99, 64),
        v4(192, 0, 2, 10, 24),
    };
    size_t n = sizeof(ifs) / sizeof(ifs[0]);
    const char *why = NULL;
    static const struct { const char *style, *protocols, *expected; } cases[] = {
        { "host", "all", "127.0.0.0/8 192.0.2.10/32 172.16.5.4/32 10.1.2.3/32 "
                         "[::1]/128 [2001::10]/128 [fe80::99]/128" },
        { "subnet", "all", "127.0.0.0/8 192.0.2.0/24 172.16.0.0/12 10.1.0.0/16 "
                           "[::1]/128 [2001::]/64 [fe80::]/64" },
        { "class", "all", "127.0.0.0/8 192.0.2.0/24 172.16.0.0/16 10.0.0.0/8 "
                          "[::1]/128 [2001::]/64 [fe80::]/64" },
        { "host", "ipv4", "127.0.0.0/8 192.0.2.10/32 172.16.5.4/32 10.1.2.3/32" },
        { "host", "ipv6", "[::1]/128 [2001::10]/128 [fe80::99]/128" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = cfg_mynetworks_text(ifs, n, cases[i].style, cases[i].protocols, &why);
        assert_non_null(text);
        assert_string_equal(text, cases[i].expected);
        free(text);
    }
    char *text = cfg_mynetworks_text(NULL, 0, "host", "all", &why);
    assert_string_equal(text, "127.0.0.0/8 [::1]/128");
    free(text);
    assert_null(cfg_mynetworks_text(ifs, n, "planet", "all", &why));
    assert_non_null(why);

    /* An explicit mynetworks wins over mynetworks_style. */
    struct diag d;
    diag_init(&d);
    struct config *cfg = parse("mynetworks_style = class\nmynetworks = 192.0.2.0/24\n", &d);
    assert_string_equal(cfg_str(cfg, P_MYNETWORKS), "192.0.2.0/24");
    config_free(cfg);
    cfg = parse("inet_protocols = ipv4\n", &d);
    assert_null(strchr(cfg_str(cfg, P_MYNETWORKS), '['));
    config_free(cfg);
    diag_free(&d);
}

static void embedded_configuration(void **state)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load_embedded("/srv/a$b/run", 1234, 5678, &d);
    if (!cfg)
        diag_dump(&d);
    assert_non_null(cfg);
    assert_int_equal(d.count, 0);
    assert_true(cfg_source(cfg)->embedded);
    assert_null(cfg_source(cfg)->config_dir);
    assert_string_equal(cfg_str(cfg, P_QUEUE_DIRECTORY), "/srv/a$b/run/queue");
    assert_string_equal(cfg_str(cfg, P_DATA_DIRECTORY), "/srv/a$b/run/data");
    assert_string_equal(cfg_str(cfg, P_VIRTUAL_MAILBOX_BASE), "/srv/a$b/run/mail");
    assert_string_equal(cfg_str(cfg, P_VIRTUAL_UID_MAPS), "static:1234");
    assert_string_equal(cfg_str(cfg, P_VIRTUAL_GID_MAPS), "static:5678");
    assert_int_equal(cfg_int(cfg, P_VIRTUAL_MINIMUM_UID), 0);
    assert_string_equal(cfg_str(cfg, P_INET_INTERFACES), "127.0.0.1");
    assert_string_equal(cfg_str(cfg, P_MYDESTINATION), "");
    assert_string_equal(cfg_str(cfg, P_MYNETWORKS), "127.0.0.0/8 [::1]/128");
    assert_string_equal(cfg_str(cfg, P_VIRTUAL_MAILBOX_DOMAINS), "localhost");
    assert_string_equal(cfg_str(cfg, P_VIRTUAL_MAILBOX_MAPS),
                        "pcre:{{/^([a-z0-9][a-z0-9._-]*)(\\+[^@]*)?@localhost$/ ${1}/}}");
    assert_true(strncmp(cfg_origin(cfg, P_QUEUE_DIRECTORY), "embedded main.cf:", 17) == 0);
    config_free(cfg);

    assert_null(config_load_embedded("relative/run", 1, 1, &d));
    assert_diag(&d, DIAG_ERROR, NULL, "not an absolute path");
    diag_free(&d);

    assert_non_null(strstr(config_embedded_main_cf(), "@STATE@/queue"));
    struct master_cf *mcf = master_cf_parse(config_embedded_master_cf(), "embedded", &d);
    assert_non_null(mcf);
    assert_int_equal(mcf->count, 1);
    assert_string_equal(mcf->services[0].name, "127.0.0.1:2525");
    assert_int_equal(mcf->services[0].kind, SERVICE_SMTPD_INET);
    master_cf_free(mcf);
    diag_free(&d);
}

static void write_file(const char *path, const char *text)
{
    assert_true(fileio_replace(path, text, strlen(text), 0644));
}

static void active_configuration(void **state)
{
    char dir[] = "/tmp/gatepost-config-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char main_cf[128], master_cf[128];
    snprintf(main_cf, sizeof(main_cf), "%s/main.cf", dir);
    snprintf(master_cf, sizeof(master_cf), "%s/master.cf", dir);
    write_file(main_cf, "mail_name = Tested\n");

    struct diag d;
    struct config *cfg;
    struct master_cf *mcf;
    diag_init(&d);
    /* -c DIR without master.cf: the stock smtp service. */
    assert_true(config_open_active(dir, &cfg, &mcf, &d));
    assert_string_equal(cfg_str(cfg, P_MAIL_NAME), "Tested");
    assert_string_equal(cfg_source(cfg)->config_dir, dir);
    assert_false(cfg_source(cfg)->embedded);
    assert_int_equal(mcf->count, 1);
    assert_string_equal(mcf->services[0].name, "smtp");
    assert_int_equal(mcf->services[0].kind, SERVICE_SMTPD_INET);
    assert_diag(&d, DIAG_INFO, master_cf, "not found; using the stock service");
    config_free(cfg);
    master_cf_free(mcf);
    diag_free(&d);

    /* $GATEPOST_CONFIG_DIR, with a master.cf. */
    write_file(master_cf, "2525 inet n - n - - smtpd\n");
    setenv("GATEPOST_CONFIG_DIR", dir, 1);
    assert_true(config_open_active(NULL, &cfg, &mcf, &d));
    assert_string_equal(mcf->services[0].name, "2525");
    config_free(cfg);
    master_cf_free(mcf);

    /* Errors: cfg and mcf come back NULL. */
    write_file(main_cf, "smtpd_helo_required = perhaps\n");
    assert_false(config_open_active(NULL, &cfg, &mcf, &d));
    assert_null(cfg);
    assert_null(mcf);
    assert_diag(&d, DIAG_ERROR, NULL, "bad boolean value");
    unsetenv("GATEPOST_CONFIG_DIR");
    diag_free(&d);

    /* Nothing configured: the embedded default with its state in ./run. */
    bool root_without_owner = geteuid() == 0 && getpwnam("gatepost") == NULL;
    if (access("/etc/gatepost/main.cf", F_OK) == 0) {
        /* A real installation is active: nothing more to test here. */
    } else if (root_without_owner) {
        assert_false(config_open_active(NULL, &cfg, &mcf, &d));
        assert_diag(&d, DIAG_ERROR, NULL, "mail_owner user \"gatepost\" does not exist");
    } else {
        char cwd[4096], state_dir[4200];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(dir), 0);
        assert_true(config_open_active(NULL, &cfg, &mcf, &d));
        assert_true(cfg_source(cfg)->embedded);
        snprintf(state_dir, sizeof(state_dir), "%s/run/queue", dir);
        assert_string_equal(cfg_str(cfg, P_QUEUE_DIRECTORY), state_dir);
        assert_string_equal(mcf->services[0].name, "127.0.0.1:2525");
        assert_int_equal(chdir(cwd), 0);
        config_free(cfg);
        master_cf_free(mcf);
    }
    diag_free(&d);
    unlink(main_cf);
    unlink(master_cf);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_sorted_and_consistent),
        cmocka_unit_test(defaults_are_valid_and_quiet),
        cmocka_unit_test(postfix_names),
        cmocka_unit_test(hostname_and_domain),
        cmocka_unit_test(mynetworks_styles),
        cmocka_unit_test(embedded_configuration),
        cmocka_unit_test(active_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
