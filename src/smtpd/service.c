/*
 * A master.cf smtpd service at run time: its config (main.cf plus the
 * service's -o overrides), the policy compiled from it, and the values the
 * session consults on every command, converted once here.
 */
#include "smtpd/session.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* RFC 5321 4.5.3.1.4: a command line holds at least 512 octets. */
#define MIN_COMMAND_LINE 512

/*
 * smtpd_forbid_bare_newline: "reject" refuses bare newlines; "normalize"
 * (and "yes", its alias since Postfix 3.7.10) and "no" accept them as line
 * ends. Whatever the value, only <CR><LF>.<CR><LF> ends DATA: unlike
 * Postfix's "no", gatepost never lets a bare newline end a message.
 */
static enum bare_newline_mode bare_newline_mode_of(const char *value)
{
    if (str_ieq(value, "reject"))
        return BARE_NEWLINE_REJECT;
    if (str_ieq(value, "normalize") || str_ieq(value, "yes"))
        return BARE_NEWLINE_NORMALIZE;
    return BARE_NEWLINE_ALLOW;
}

static char **lowercase_list(const char *list)
{
    size_t n;
    char **items = str_list_split(list, STR_LIST_SEPARATORS, &n);
    for (size_t i = 0; i < n; i++)
        str_lower(items[i]);
    return items;
}

static struct netlist *optional_netlist(const struct config *cfg, enum param_id id,
                                        struct diag *diag, bool *ok)
{
    const char *value = cfg_str(cfg, id);
    if (value[0] == '\0')
        return NULL;
    struct netlist *nl = netlist_compile(value, param_name(id), cfg_origin(cfg, id), diag);
    if (nl == NULL)
        *ok = false;
    return nl;
}

struct smtpd_service *smtpd_service_new(const char *name, const struct config *cfg,
                                        struct diag *diag)
{
    struct smtpd_service *svc = xcalloc(1, sizeof(*svc));
    bool ok = true;
    size_t errors_before = diag->errors;
    svc->name = xstrdup(name);
    svc->cfg = cfg;
    svc->syslog_name = xstrdup(cfg_str(cfg, P_SYSLOG_NAME));
    svc->ident = (struct log_ident){ svc->syslog_name, "smtpd" };
    svc->cleanup_ident = (struct log_ident){ svc->syslog_name, "cleanup" };
    svc->myhostname = xstrdup(cfg_str(cfg, P_MYHOSTNAME));
    svc->banner = xstrdup(cfg_str(cfg, P_SMTPD_BANNER));
    svc->mail_name = xstrdup(cfg_str(cfg, P_MAIL_NAME));
    long long line_limit = cfg_int(cfg, P_LINE_LENGTH_LIMIT);
    svc->line_limit = line_limit < MIN_COMMAND_LINE ? MIN_COMMAND_LINE : (size_t)line_limit;
    svc->message_size_limit = cfg_size(cfg, P_MESSAGE_SIZE_LIMIT);
    svc->recipient_limit = (unsigned)cfg_int(cfg, P_SMTPD_RECIPIENT_LIMIT);
    svc->soft_error_limit = (unsigned)cfg_int(cfg, P_SMTPD_SOFT_ERROR_LIMIT);
    svc->hard_error_limit = (unsigned)cfg_int(cfg, P_SMTPD_HARD_ERROR_LIMIT);
    svc->junk_command_limit = (unsigned)cfg_int(cfg, P_SMTPD_JUNK_COMMAND_LIMIT);
    svc->client_connection_limit = (unsigned)cfg_int(cfg, P_SMTPD_CLIENT_CONNECTION_COUNT_LIMIT);
    svc->hopcount_limit = (unsigned)cfg_int(cfg, P_HOPCOUNT_LIMIT);
    svc->timeout_ms = cfg_time_ms(cfg, P_SMTPD_TIMEOUT);
    svc->error_sleep_ms = cfg_time_ms(cfg, P_SMTPD_ERROR_SLEEP_TIME);
    svc->helo_required = cfg_bool(cfg, P_SMTPD_HELO_REQUIRED);
    svc->disable_vrfy = cfg_bool(cfg, P_DISABLE_VRFY_COMMAND);
    svc->strict_envelopes = cfg_bool(cfg, P_STRICT_RFC821_ENVELOPES);
    svc->smtputf8_enable = cfg_bool(cfg, P_SMTPUTF8_ENABLE);
    svc->peername_lookup = cfg_bool(cfg, P_SMTPD_PEERNAME_LOOKUP);
    svc->bare_newline = bare_newline_mode_of(cfg_str(cfg, P_SMTPD_FORBID_BARE_NEWLINE));
    svc->bare_newline_reject_code = (int)cfg_int(cfg, P_SMTPD_FORBID_BARE_NEWLINE_REJECT_CODE);
    svc->bare_newline_exclusions =
        optional_netlist(cfg, P_SMTPD_FORBID_BARE_NEWLINE_EXCLUSIONS, diag, &ok);
    svc->event_limit_exceptions =
        optional_netlist(cfg, P_SMTPD_CLIENT_EVENT_LIMIT_EXCEPTIONS, diag, &ok);
    svc->discard_ehlo_keywords = lowercase_list(cfg_str(cfg, P_SMTPD_DISCARD_EHLO_KEYWORDS));
    svc->policy = policy_env_new(cfg, diag);
    if (svc->policy == NULL)
        ok = false;
    svc->tls = tls_server_new(cfg, &svc->tls_level, diag);
    if (svc->tls == NULL && diag->errors > errors_before)
        ok = false;
    svc->tls_wrapper = cfg_bool(cfg, P_SMTPD_TLS_WRAPPERMODE) && svc->tls != NULL;
    /* As Postfix: where TLS is required, AUTH is not announced before STARTTLS. */
    svc->tls_auth_only =
        cfg_bool(cfg, P_SMTPD_TLS_AUTH_ONLY) || svc->tls_level == TLS_LEVEL_ENCRYPT;
    svc->tls_received_header = cfg_bool(cfg, P_SMTPD_TLS_RECEIVED_HEADER);
    svc->tls_loglevel = (int)cfg_int(cfg, P_SMTPD_TLS_LOGLEVEL);
    svc->starttls_timeout_ms = cfg_time_ms(cfg, P_SMTPD_STARTTLS_TIMEOUT);
    if (!smtpd_auth_service_init(svc, cfg, diag))
        ok = false;
    if (!ok) {
        smtpd_service_free(svc);
        return NULL;
    }
    return svc;
}

void smtpd_service_free(struct smtpd_service *svc)
{
    if (svc == NULL)
        return;
    free(svc->name);
    free(svc->syslog_name);
    free(svc->myhostname);
    free(svc->banner);
    free(svc->mail_name);
    netlist_free(svc->bare_newline_exclusions);
    netlist_free(svc->event_limit_exceptions);
    free(svc->discard_ehlo_keywords);
    policy_env_free(svc->policy);
    tls_server_free(svc->tls);
    smtpd_auth_service_free(svc);
    free(svc);
}

const struct config *smtpd_service_config(const struct smtpd_service *svc)
{
    return svc->cfg;
}
