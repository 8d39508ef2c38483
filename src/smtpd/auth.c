/*
 * SMTP AUTH (RFC 4954) in the session. The session does the SMTP framing
 * only: base64 (RFC 4648), "=" for an empty initial response, "*" to
 * cancel, 334/235/535 replies, limits and logging. Mechanisms run in the
 * auth process, which holds the secrets; this process never sees a
 * password hash or a stored key.
 *
 * Who may authenticate: smtpd_sasl_auth_networks and
 * smtpd_auth_restrictions decide per client when it says EHLO. A refused
 * client is not offered AUTH, and if it sends AUTH anyway it gets a decoy
 * exchange: the same prompts a real one would give, then the same failure
 * a wrong password gets, after the same delay. No backend is asked, no
 * password is looked at, and the client cannot tell why it failed. The log
 * says why, in the line fail2ban matches.
 *
 * Dictionary attacks: every failure is answered only after
 * smtpd_sasl_failure_delay (a timer; other sessions go on), and a session
 * is closed after smtpd_sasl_auth_failure_limit failures.
 */
#include "smtpd/session.h"
#include "smtpd/auth.h"

#include "auth/client.h"
#include "auth/cram_md5.h"
#include "auth/scram.h"
#include "base/base64.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The reply every failed authentication gets, whatever the reason. */
#define AUTH_FAILED_TEXT "Error: authentication failed: authentication failure"

/* ---- service settings ---- */

static struct netlist *compile_list(const struct config *cfg, enum param_id id,
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

static bool parse_policy(const struct config *cfg, enum param_id id, struct mech_policy *out,
                         struct diag *diag)
{
    const char *why = NULL;
    if (mech_policy_parse(cfg_str(cfg, id), out, &why))
        return true;
    diag_add(diag, DIAG_ERROR, cfg_origin(cfg, id), "bad %s value \"%s\": %s", param_name(id),
             cfg_str(cfg, id), why);
    return false;
}

bool smtpd_auth_service_init(struct smtpd_service *svc, const struct config *cfg,
                             struct diag *diag)
{
    if (!cfg_bool(cfg, P_SMTPD_SASL_AUTH_ENABLE))
        return true;
    struct smtpd_auth_settings *a = xcalloc(1, sizeof(*a));
    bool ok = true;
    a->service = xstrdup(svc->name);
    ok &= parse_policy(cfg, P_SMTPD_SASL_SECURITY_OPTIONS, &a->plain_policy, diag);
    ok &= parse_policy(cfg, P_SMTPD_SASL_TLS_SECURITY_OPTIONS, &a->tls_policy, diag);
    a->auth_networks = compile_list(cfg, P_SMTPD_SASL_AUTH_NETWORKS, diag, &ok);
    a->exceptions = compile_list(cfg, P_SMTPD_SASL_EXCEPTIONS_NETWORKS, diag, &ok);
    const char *discard = cfg_str(cfg, P_SMTPD_DISCARD_EHLO_KEYWORD_ADDRESS_MAPS);
    if (discard[0]) {
        char *why = NULL;
        a->discard_maps = maplist_open(discard, MAP_FOLD_CASE, &why);
        if (a->discard_maps == NULL) {
            diag_add(diag, DIAG_ERROR, cfg_origin(cfg, P_SMTPD_DISCARD_EHLO_KEYWORD_ADDRESS_MAPS),
                     "%s", why);
            free(why);
            ok = false;
        }
    }
    a->broken_clients = cfg_bool(cfg, P_BROKEN_SASL_AUTH_CLIENTS);
    a->authenticated_header = cfg_bool(cfg, P_SMTPD_SASL_AUTHENTICATED_HEADER);
    a->failure_limit = (unsigned)cfg_int(cfg, P_SMTPD_SASL_AUTH_FAILURE_LIMIT);
    a->failure_delay_ms = cfg_time_ms(cfg, P_SMTPD_SASL_FAILURE_DELAY);
    a->response_limit = (size_t)cfg_int(cfg, P_SMTPD_SASL_RESPONSE_LIMIT);
    /* The host in CRAM-MD5 challenges, chosen as the auth process chooses it. */
    const char *realm = cfg_str(cfg, P_SMTPD_SASL_LOCAL_DOMAIN);
    if (realm[0])
        str_copy(a->cram_host, sizeof(a->cram_host), realm);
    else if (gethostname(a->cram_host, sizeof(a->cram_host) - 1) != 0 || !a->cram_host[0])
        str_copy(a->cram_host, sizeof(a->cram_host), "localhost");
    svc->auth = a;
    return ok;
}

void smtpd_auth_service_free(struct smtpd_service *svc)
{
    struct smtpd_auth_settings *a = svc->auth;
    if (a == NULL)
        return;
    free(a->service);
    netlist_free(a->auth_networks);
    netlist_free(a->exceptions);
    maplist_close(a->discard_maps);
    free(a);
    svc->auth = NULL;
}

/* ---- session state ---- */

static void end_exchange(struct smtpd_session *s)
{
    struct smtpd_auth_state *st = &s->auth;
    if (st->exchange) {
        auth_client_abort(st->exchange);
        st->exchange = NULL;
    }
    st->waiting_response = false;
    st->decoy_active = false;
}

void smtpd_auth_reset(struct smtpd_session *s)
{
    struct smtpd_auth_state *st = &s->auth;
    end_exchange(s);
    free(st->username);
    st->username = NULL;
    st->mech[0] = '\0';
    st->permission = AUTH_PERMISSION_UNKNOWN;
}

void smtpd_auth_free(struct smtpd_session *s)
{
    smtpd_auth_reset(s);
    if (s->auth.delay_ev)
        event_free(s->auth.delay_ev);
    if (s->auth.wait_ev)
        event_free(s->auth.wait_ev);
    s->auth.delay_ev = s->auth.wait_ev = NULL;
}

bool smtpd_auth_waiting(const struct smtpd_session *s)
{
    return s->auth.waiting_response;
}

const char *smtpd_auth_username(const struct smtpd_session *s)
{
    return s->auth.username;
}

const char *smtpd_auth_method(const struct smtpd_session *s)
{
    return s->auth.username ? s->auth.mech : NULL;
}

/* ---- who may authenticate ---- */

/* smtpd_discard_ehlo_keyword_address_maps names "auth" for this client. */
static bool auth_keyword_discarded(struct smtpd_session *s)
{
    struct smtpd_auth_settings *a = s->svc->auth;
    if (a->discard_maps == NULL)
        return false;
    struct buf value;
    buf_init(&value, 4096);
    bool discarded = false;
    const char *keys[] = { s->addr_text, s->name };
    for (size_t i = 0; i < 2 && !discarded; i++) {
        if (maplist_lookup(a->discard_maps, keys[i], &value) != MAP_FOUND)
            continue;
        size_t n;
        char **words = str_list_split(buf_cstr(&value), STR_LIST_SEPARATORS, &n);
        for (size_t k = 0; k < n; k++)
            discarded |= str_ieq(words[k], "auth");
        free(words);
        break;
    }
    buf_free(&value);
    return discarded;
}

/* smtpd_sasl_auth_networks: the networks that may authenticate at all. */
static bool network_refused(struct smtpd_session *s)
{
    struct smtpd_auth_settings *a = s->svc->auth;
    if (a->auth_networks == NULL)
        return true;        /* an empty list allows nobody */
    enum match_result m = netlist_match(a->auth_networks, &s->addr, s->name);
    if (m == MATCH_YES)
        return false;
    snprintf(s->auth.refusal, sizeof(s->auth.refusal), m == MATCH_ERROR
             ? "client network not allowed to authenticate (smtpd_sasl_auth_networks lookup error)"
             : "client network not allowed to authenticate (smtpd_sasl_auth_networks)");
    return true;
}

static const struct policy_decision permit_decision = { .action = POLICY_OK };

/*
 * Right after the worker starts, the mechanism list may not have arrived
 * from the auth process yet. An EHLO then waits for it a little (polling,
 * bounded) rather than leaving AUTH out of this client's reply.
 */
#define MECHS_WAIT_STEP_MS 20
#define MECHS_WAIT_MAX_MS 2000

static bool mechs_pending(struct smtpd_session *s)
{
    struct auth_client *client = smtpd_worker_auth_client(s->worker);
    return client && s->auth.permission == AUTH_PERMITTED &&
           auth_client_mechs(client, s->svc->auth->service) == NULL &&
           s->auth.mechs_waited_ms < MECHS_WAIT_MAX_MS;
}

static void continue_after_decision(struct smtpd_session *s);

static void on_mechs_wait(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_session *s = arg;
    s->auth.mechs_waited_ms += MECHS_WAIT_STEP_MS;
    if (!session_unpark(s))
        return;
    continue_after_decision(s);
    session_process_input(s);
}

static void continue_after_decision(struct smtpd_session *s)
{
    if (mechs_pending(s)) {
        if (s->auth.wait_ev == NULL)
            s->auth.wait_ev = evtimer_new(smtpd_worker_base(s->worker), on_mechs_wait, s);
        struct timeval tv = { 0, MECHS_WAIT_STEP_MS * 1000 };
        event_add(s->auth.wait_ev, &tv);
        session_park(s);
        return;
    }
    smtpd_proceed_fn next = s->auth.after_decision;
    s->auth.after_decision = NULL;
    next(s, &permit_decision);
}

/* smtpd_auth_restrictions answered: remember, then continue the EHLO. */
static void restrictions_decided(struct smtpd_session *s, const struct policy_decision *d)
{
    bool refused = d->action == POLICY_REJECT || d->action == POLICY_DEFER ||
                   d->action == POLICY_TEMPFAIL;
    s->auth.permission = refused ? AUTH_REFUSED : AUTH_PERMITTED;
    if (refused)
        snprintf(s->auth.refusal, sizeof(s->auth.refusal),
                 "client not allowed to authenticate (smtpd_auth_restrictions: %d %s %s)",
                 d->code, d->enhanced, d->text);
    continue_after_decision(s);
}

/*
 * Decides, once per EHLO, whether this client may use AUTH (network list
 * first, then smtpd_auth_restrictions, which may answer later); then calls
 * next with a permit decision.
 */
void smtpd_auth_decide(struct smtpd_session *s, smtpd_proceed_fn next)
{
    if (s->svc->auth == NULL || s->auth.permission != AUTH_PERMISSION_UNKNOWN) {
        next(s, &permit_decision);
        return;
    }
    if (network_refused(s)) {
        s->auth.permission = AUTH_REFUSED;
        next(s, &permit_decision);
        return;
    }
    s->auth.after_decision = next;
    smtpd_check_then(s, STAGE_AUTH, NULL, restrictions_decided);
}

/* The mechanisms this client is offered: the backend's, minus the security options. */
static size_t offered_mechs(struct smtpd_session *s, const char **names, size_t max)
{
    struct smtpd_auth_settings *a = s->svc->auth;
    struct auth_client *client = smtpd_worker_auth_client(s->worker);
    const struct auth_mech_list *list = client ? auth_client_mechs(client, a->service) : NULL;
    if (list == NULL)
        return 0;
    const struct mech_policy *policy = conn_is_secure(&s->conn) ? &a->tls_policy
                                                                : &a->plain_policy;
    size_t n = 0;
    for (size_t i = 0; i < list->count && n < max; i++)
        if (mech_policy_allows(policy, list->mechs[i].flags))
            names[n++] = list->mechs[i].name;
    return n;
}

static bool mech_offered(struct smtpd_session *s, const char *mech)
{
    const char *names[32];
    size_t n = offered_mechs(s, names, 32);
    for (size_t i = 0; i < n; i++)
        if (str_ieq(names[i], mech))
            return true;
    return false;
}

size_t smtpd_auth_ehlo_lines(struct smtpd_session *s, const char **lines, size_t n, size_t max)
{
    struct smtpd_auth_settings *a = s->svc->auth;
    if (a == NULL || s->auth.permission != AUTH_PERMITTED || s->auth.username)
        return n;
    if (s->svc->tls_auth_only && !conn_is_secure(&s->conn))
        return n;
    /* Postfix's semantics: the listed clients are not told about AUTH (it still works). */
    if (a->exceptions && netlist_match(a->exceptions, &s->addr, s->name) == MATCH_YES)
        return n;
    if (auth_keyword_discarded(s))
        return n;
    const char *names[32];
    size_t count = offered_mechs(s, names, 32);
    if (count == 0)
        return n;
    /* Both lines live in one buffer ("AUTH ...\0AUTH=..."); pointers into
       it are taken only once it is complete, as appending may move it. */
    struct buf *line = &s->auth_ehlo_line;
    buf_reset(line);
    buf_puts(line, "AUTH");
    for (size_t i = 0; i < count; i++)
        buf_printf(line, " %s", names[i]);
    size_t at = 0;
    if (a->broken_clients) {
        /* Old Outlook clients look for "AUTH=": give them the same list. */
        buf_putc(line, '\0');
        at = line->len;
        buf_puts(line, "AUTH=");
        for (size_t i = 0; i < count; i++)
            buf_printf(line, "%s%s", i ? " " : "", names[i]);
    }
    if (n < max)
        lines[n++] = buf_cstr(line);
    if (at && n < max)
        lines[n++] = line->data + at;
    return n;
}

/* ---- replies and outcomes ---- */

static void log_failure(struct smtpd_session *s, const char *reason, const char *user)
{
    if (user && user[0])
        log_msg(&s->svc->ident, LOG_LEVEL_WARNING,
                "%s: SASL %s authentication failed: %s, sasl_username=%s", s->namaddr,
                s->auth.mech, reason, user);
    else
        log_msg(&s->svc->ident, LOG_LEVEL_WARNING, "%s: SASL %s authentication failed: %s",
                s->namaddr, s->auth.mech, reason);
}

static void send_failure_reply(struct smtpd_session *s)
{
    struct smtpd_auth_state *st = &s->auth;
    if (st->pending_close) {
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "too many failed authentications after AUTH from %s",
                s->namaddr);
        smtpd_reply(s, 421, "4.7.0", "%s Error: too many failed authentications",
                    s->svc->myhostname);
        session_close_after_reply(s);
    } else {
        smtpd_reply(s, 535, "5.7.8", AUTH_FAILED_TEXT);
    }
}

static void on_failure_delay(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_session *s = arg;
    if (!session_unpark(s))
        return;
    send_failure_reply(s);
    session_process_input(s);
}

/* Every failure: logged, counted, answered after the delay. */
static void fail(struct smtpd_session *s, const char *reason, const char *user)
{
    struct smtpd_auth_state *st = &s->auth;
    struct smtpd_auth_settings *a = s->svc->auth;
    end_exchange(s);
    log_failure(s, reason, user);
    st->failures++;
    st->pending_close = st->failures >= a->failure_limit;
    if (a->failure_delay_ms <= 0) {
        send_failure_reply(s);
        return;
    }
    if (st->delay_ev == NULL)
        st->delay_ev = evtimer_new(smtpd_worker_base(s->worker), on_failure_delay, s);
    struct timeval tv = { a->failure_delay_ms / 1000, (a->failure_delay_ms % 1000) * 1000 };
    event_add(st->delay_ev, &tv);
    session_park(s);
}

static void send_challenge(struct smtpd_session *s, const uint8_t *data, size_t len)
{
    struct buf b64;
    buf_init(&b64, 0);
    base64_encode(data, len, &b64);
    buf_printf(&s->out, "334 %s\r\n", buf_cstr(&b64));
    buf_free(&b64);
    s->auth.waiting_response = true;
}

static void succeed(struct smtpd_session *s, const char *username)
{
    struct smtpd_auth_state *st = &s->auth;
    end_exchange(s);
    free(st->username);
    st->username = xstrdup(username);
    smtpd_command_ok(s, CNT_AUTH);
    smtpd_reply(s, 235, "2.7.0", "Authentication successful");
}

/* ---- the exchange with the auth process ---- */

/*
 * A SCRAM server-final message with an error ("e=invalid-proof") is the
 * verdict. Sent as a 334, it would tell a client that hangs up there
 * whether the password was right before the failure is logged, counted or
 * delayed: a dictionary attack fail2ban never sees. The session answers
 * the "e=" in the client's place (the empty message SMTP needs at that
 * turn), so the auth process ends the exchange with the failure, and the
 * client gets the 535 every failure gets.
 */
static bool scram_error_final(const struct smtpd_session *s, const struct auth_reply *r)
{
    return str_has_prefix(s->auth.mech, "SCRAM-") && r->len >= 2 && r->data[0] == 'e' &&
           r->data[1] == '=';
}

static void on_auth_reply(void *arg, const struct auth_reply *r)
{
    struct smtpd_session *s = arg;
    s->auth.exchange = r->kind == AUTH_REPLY_CHALLENGE ? s->auth.exchange : NULL;
    if (r->kind == AUTH_REPLY_CHALLENGE && scram_error_final(s, r)) {
        auth_client_step(s->auth.exchange, NULL, 0);
        return;                     /* still parked: the failure follows */
    }
    if (!session_unpark(s))
        return;
    switch (r->kind) {
    case AUTH_REPLY_CHALLENGE:
        send_challenge(s, r->data, r->len);
        break;
    case AUTH_REPLY_SUCCESS:
        succeed(s, r->username);
        break;
    case AUTH_REPLY_FAILURE:
        if (r->temporary) {
            s->auth.exchange = NULL;
            log_msg(&s->svc->ident, LOG_LEVEL_WARNING,
                    "%s: SASL %s authentication temporarily failed: %s", s->namaddr,
                    s->auth.mech, r->reason ? r->reason : "backend unavailable");
            smtpd_reply(s, 454, "4.7.0", "Temporary authentication failure");
        } else {
            fail(s, r->reason && r->reason[0] ? r->reason : "authentication failure",
                 r->username);
        }
        break;
    }
    session_process_input(s);
}

/* The server side of the connection, for Dovecot's lip= and lport=. */
static int local_address(const struct smtpd_session *s, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct netaddr a;
    int port = 0;
    out[0] = '\0';
    if (getsockname(s->conn.fd, (struct sockaddr *)&ss, &sl) == 0 &&
        netaddr_from_sockaddr((struct sockaddr *)&ss, &a, &port))
        netaddr_format(&a, out, size);
    return port;
}

static void start_real(struct smtpd_session *s, const uint8_t *initial, size_t len,
                       bool has_initial)
{
    char local[NETADDR_TEXT_MAX];
    struct tls_info tls;
    conn_tls_info(&s->conn, &tls);
    int local_port = local_address(s, local, sizeof(local));
    struct auth_start_info info = {
        .service = s->svc->auth->service,
        .mech = s->auth.mech,
        .client_addr = s->addr_text,
        .client_port = s->port,
        .client_name = s->name,
        .local_addr = local,
        .local_port = local_port,
        .secured = conn_is_secure(&s->conn),
        .tls_cipher = tls.cipher,
        .initial = initial,
        .initial_len = len,
        .has_initial = has_initial,
    };
    s->auth.exchange = auth_client_start(smtpd_worker_auth_client(s->worker), &info,
                                         on_auth_reply, s);
    session_park(s);
}

/* ---- decoy exchanges for refused clients ---- */

static void decoy_fail(struct smtpd_session *s)
{
    s->auth.decoy_active = false;
    s->auth.waiting_response = false;
    fail(s, s->auth.refusal, NULL);
}

/*
 * SCRAM server-first message for a client-first message, built like the
 * real one (same nonce and salt sizes, same iteration count); false if the
 * client's message is malformed, which the real mechanism refuses too.
 */
static bool decoy_scram_first(const uint8_t *client, size_t len, char *out, size_t size)
{
    const char *text = (const char *)client;
    const char *r = memmem(text, len, ",r=", 3);
    if (r == NULL)
        return false;
    const char *nonce = r + 3;
    const char *end = memchr(nonce, ',', (size_t)(text + len - nonce));
    size_t nlen = (size_t)((end ? end : text + len) - nonce);
    uint8_t salt[SCRAM_SALT_LEN_DEFAULT];
    char server_nonce[64], salt_text[64];
    if (nlen == 0 || nlen > 200 || !scram_server_nonce(server_nonce, sizeof(server_nonce)) ||
        RAND_bytes(salt, sizeof(salt)) != 1)
        return false;
    base64_encode_to(salt, sizeof(salt), salt_text);
    snprintf(out, size, "r=%.*s%s,s=%s,i=%u", (int)nlen, nonce, server_nonce, salt_text,
             (unsigned)SCRAM_ITERATIONS_DEFAULT);
    return true;
}

/*
 * One client message (or none yet) of a decoy exchange. Each mechanism
 * gets the prompts its real exchange would send, and the verdict comes at
 * the same point: after the credentials (for SCRAM after the client-final
 * message, as a wrong password gets).
 */
static void decoy_step(struct smtpd_session *s, const uint8_t *data, size_t len, bool has_data)
{
    struct auth_decoy *d = &s->auth.decoy;
    const char *mech = s->auth.mech;
    char text[512] = "";
    bool verdict;
    if (has_data)
        d->received++;
    if (str_ieq(mech, "LOGIN")) {
        verdict = d->received >= 2;
        snprintf(text, sizeof(text), d->received == 0 ? "Username:" : "Password:");
    } else if (str_ieq(mech, "CRAM-MD5")) {
        verdict = d->received >= 1 || cram_md5_challenge(s->svc->auth->cram_host, text,
                                                          sizeof(text)) == 0;
    } else if (str_has_prefix(mech, "SCRAM-")) {
        /* After the client-final message: a real one ends there too (no "e=" is sent). */
        verdict = d->received >= 2 ||
                  (d->received == 1 && !decoy_scram_first(data, len, text, sizeof(text)));
    } else {
        verdict = d->received >= 1;     /* PLAIN and the rest: one message */
    }
    if (verdict)
        decoy_fail(s);
    else
        send_challenge(s, (const uint8_t *)text, strlen(text));
}

/* ---- the AUTH command ---- */

static bool auth_state_ok(struct smtpd_session *s)
{
    struct smtpd_auth_settings *a = s->svc->auth;
    if (a == NULL || auth_keyword_discarded(s)) {
        smtpd_reply(s, 503, "5.5.1", "Error: authentication not enabled");
        return false;
    }
    if (!s->esmtp) {
        smtpd_reply(s, 503, "5.5.1", "Error: send HELO/EHLO first");
        return false;
    }
    if (s->auth.username) {
        smtpd_reply(s, 503, "5.5.1", "Error: already authenticated");
        return false;
    }
    if (s->txn) {
        smtpd_reply(s, 503, "5.5.1", "Error: MAIL transaction in progress");
        return false;
    }
    if (s->svc->tls_auth_only && !conn_is_secure(&s->conn)) {
        smtpd_reply(s, 530, "5.7.0", "Must issue a STARTTLS command first");
        return false;
    }
    return true;
}

/* Client messages may hold passwords: clear them before the memory is reused. */
static void wipe(struct buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    buf_free(b);
}

/* Decodes a client message: "=" is empty; false (replied) if it is not base64. */
static bool decode_response(struct smtpd_session *s, const char *text, size_t len,
                            struct buf *out, const char *what)
{
    if (len > s->svc->auth->response_limit) {
        smtpd_reply(s, 500, "5.5.6", "Authentication Exchange line is too long");
        return false;
    }
    if (len == 1 && text[0] == '=')
        return true;
    if (!base64_decode(text, len, out)) {
        smtpd_reply(s, 501, "5.5.2", "Invalid base64 data in %s", what);
        return false;
    }
    return true;
}

void smtpd_cmd_auth(struct smtpd_session *s, const char *arg, size_t len)
{
    if (!auth_state_ok(s))
        return;
    const char *space = memchr(arg, ' ', len);
    size_t mlen = space ? (size_t)(space - arg) : len;
    if (mlen == 0 || mlen >= sizeof(s->auth.mech)) {
        smtpd_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism");
        return;
    }
    memcpy(s->auth.mech, arg, mlen);
    s->auth.mech[mlen] = '\0';
    str_upper(s->auth.mech);
    if (!mech_offered(s, s->auth.mech)) {
        smtpd_reply(s, 504, "5.5.4", "Unrecognized authentication type");
        return;
    }
    struct buf initial;
    buf_init(&initial, 0);
    bool has_initial = space != NULL;
    const char *ir = space ? space + 1 : "";
    size_t irlen = space ? len - mlen - 1 : 0;
    if (has_initial && !decode_response(s, ir, irlen, &initial, "initial response")) {
        buf_free(&initial);
        return;
    }
    if (s->auth.permission != AUTH_PERMITTED) {
        s->auth.decoy_active = true;
        memset(&s->auth.decoy, 0, sizeof(s->auth.decoy));
        decoy_step(s, (const uint8_t *)initial.data, initial.len, has_initial);
    } else {
        start_real(s, (const uint8_t *)initial.data, initial.len, has_initial);
    }
    wipe(&initial);
}

/* A line while a 334 is outstanding: the client's next SASL message. */
void smtpd_auth_response(struct smtpd_session *s, const char *line, size_t len)
{
    struct smtpd_auth_state *st = &s->auth;
    st->waiting_response = false;
    if (len == 1 && line[0] == '*') {
        /* RFC 4954 4: the client cancels. Postfix's line, which fail2ban's
         * "authentication failed" patterns rightly do not count. */
        end_exchange(s);
        log_msg(&s->svc->ident, LOG_LEVEL_WARNING, "%s: SASL %s authentication aborted",
                s->namaddr, s->auth.mech);
        st->failures++;
        /* One reply per line: the cancel that reaches the limit gets the 421 alone. */
        st->pending_close = st->failures >= s->svc->auth->failure_limit;
        if (st->pending_close)
            send_failure_reply(s);
        else
            smtpd_reply(s, 501, "5.7.0", "Authentication aborted");
        return;
    }
    struct buf data;
    buf_init(&data, 0);
    if (!decode_response(s, line, len, &data, "continued response")) {
        end_exchange(s);
        buf_free(&data);
        return;
    }
    if (st->decoy_active) {
        decoy_step(s, (const uint8_t *)data.data, data.len, true);
    } else if (st->exchange) {
        auth_client_step(st->exchange, (const uint8_t *)data.data, data.len);
        session_park(s);
    }
    wipe(&data);
}

/* An over-long line during the exchange (RFC 4954 4). */
void smtpd_auth_line_too_long(struct smtpd_session *s)
{
    end_exchange(s);
    smtpd_reply(s, 500, "5.5.6", "Authentication Exchange line is too long");
}
