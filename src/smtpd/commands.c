/*
 * The SMTP command table and its handlers. Protocol knowledge is data: one
 * row per verb with its counter (for the disconnect line) and flags; the
 * handlers do the synchronous syntax checks, then hand policy decisions to
 * the engine, which may answer at once or later ("check, decide, proceed").
 *
 * Replies and their wording follow Postfix, with an enhanced status code on
 * every reply (RFC 2034).
 */
#include "smtpd/session.h"

#include "base/clock.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "policy/route.h"
#include "queue/writer.h"
#include "smtp/command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum command_flags {
    CMD_JUNK = 1 << 0,      /* counts toward smtpd_junk_command_limit */
    CMD_PRE_TLS = 1 << 1,   /* allowed before STARTTLS when TLS is required: RFC 3207 4
                               names NOOP, EHLO, STARTTLS, QUIT; Postfix adds HELO */
};

struct command_def {
    const char *verb;
    enum smtpd_counter counter;
    unsigned flags;
    void (*handler)(struct smtpd_session *s, const char *arg, size_t len);
};

static void cmd_helo(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_ehlo(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_mail(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_rcpt(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_data(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_rset(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_noop(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_vrfy(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_help(struct smtpd_session *s, const char *arg, size_t len);
static void cmd_quit(struct smtpd_session *s, const char *arg, size_t len);

static const struct command_def command_table[] = {
    { "HELO", CNT_HELO, CMD_PRE_TLS, cmd_helo },
    { "EHLO", CNT_EHLO, CMD_PRE_TLS, cmd_ehlo },
    { "STARTTLS", CNT_STARTTLS, CMD_PRE_TLS, smtpd_cmd_starttls },
    { "AUTH", CNT_AUTH, 0, smtpd_cmd_auth },
    { "MAIL", CNT_MAIL, 0, cmd_mail },
    { "RCPT", CNT_RCPT, 0, cmd_rcpt },
    { "DATA", CNT_DATA, 0, cmd_data },
    { "RSET", CNT_RSET, CMD_JUNK, cmd_rset },
    { "NOOP", CNT_NOOP, CMD_JUNK | CMD_PRE_TLS, cmd_noop },
    { "VRFY", CNT_VRFY, CMD_JUNK, cmd_vrfy },
    { "HELP", CNT_HELP, CMD_JUNK, cmd_help },
    { "QUIT", CNT_QUIT, CMD_PRE_TLS, cmd_quit },
};

/* Postfix's smtpd_forbidden_commands default: HTTP and proxy probes. */
static const char *const forbidden_verbs[] = { "CONNECT", "GET", "POST" };

void smtpd_command_ok(struct smtpd_session *s, enum smtpd_counter c)
{
    s->count_ok[c]++;
}

/* The protocol in reject log lines (Postfix's proto=): SMTP or ESMTP only. */
const char *smtpd_protocol_name(const struct smtpd_session *s)
{
    return s->esmtp ? "ESMTP" : "SMTP";
}

/* ---- transactions ---- */

void smtpd_txn_free(struct smtpd_session *s)
{
    struct smtpd_txn *t = s->txn;
    if (t == NULL)
        return;
    if (t->qtxn)
        queue_txn_abort(t->qtxn);
    smtp_mail_args_free(&t->mail);
    for (size_t i = 0; i < t->nrcpt; i++) {
        free(t->rcpts[i].address);
        free(t->rcpts[i].orcpt);
    }
    free(t->rcpts);
    buf_free(&t->chunk);
    free(t);
    s->txn = NULL;
    policy_session_new_transaction(&s->policy);
}

static bool txn_has_rcpt(const struct smtpd_txn *t, const char *address)
{
    for (size_t i = 0; i < t->nrcpt; i++)
        if (strcasecmp(t->rcpts[i].address, address) == 0)
            return true;
    return false;
}

static void txn_add_rcpt(struct smtpd_txn *t, struct smtp_rcpt_args *r)
{
    if (txn_has_rcpt(t, r->addr.text))
        return;     /* duplicate RCPT: one delivery, as Postfix's cleanup does */
    if (t->nrcpt == t->rcpt_cap) {
        t->rcpt_cap = t->rcpt_cap ? t->rcpt_cap * 2 : 4;
        t->rcpts = xrealloc(t->rcpts, t->rcpt_cap * sizeof(*t->rcpts));
    }
    struct smtpd_rcpt *dst = &t->rcpts[t->nrcpt++];
    dst->address = xstrdup(r->addr.text);
    dst->orcpt = r->orcpt ? xstrdup(r->orcpt) : NULL;
    dst->notify = r->notify;
}

/* ---- policy plumbing ---- */

typedef smtpd_proceed_fn proceed_fn;

static void policy_answer(void *arg, const struct policy_decision *d)
{
    struct smtpd_session *s = arg;
    proceed_fn proceed = s->policy_proceed;
    s->policy_pending = NULL;
    s->policy_proceed = NULL;
    if (!session_unpark(s))
        return;
    proceed(s, d);
    session_process_input(s);
}

void smtpd_check_then(struct smtpd_session *s, enum policy_stage stage,
                      const char *recipient, proceed_fn proceed)
{
    struct policy_decision d;
    session_fill_facts(s);
    s->facts.recipient = recipient;
    if (policy_check(s->svc->policy, stage, &s->facts, &s->policy, &d, policy_answer, s,
                     &s->policy_pending)) {
        proceed(s, &d);
        return;
    }
    s->policy_proceed = proceed;
    session_park(s);
}

static bool refused(const struct policy_decision *d)
{
    return d->action == POLICY_REJECT || d->action == POLICY_DEFER ||
           d->action == POLICY_TEMPFAIL;
}

static void reply_decision(struct smtpd_session *s, const char *verb,
                           const struct policy_decision *d, const char *recipient)
{
    smtpd_log_reject(s, verb, d->code, d->enhanced, d->text, recipient);
    smtpd_reply(s, d->code, d->enhanced, "%s", d->text);
}

/* ---- HELO / EHLO ---- */

static bool keyword_discarded(const struct smtpd_session *s, const char *keyword)
{
    for (char **k = s->svc->discard_ehlo_keywords; k && *k; k++)
        if (strcasecmp(*k, keyword) == 0)
            return true;
    return false;
}

/* The EHLO keywords, minus those listed in smtpd_discard_ehlo_keywords. */
static size_t ehlo_keywords(struct smtpd_session *s, const char **lines, size_t n,
                            size_t max, char *size_line, size_t size_len)
{
    static const char *const plain[] = { "PIPELINING", "SIZE", "VRFY", "STARTTLS", "AUTH",
                                         "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8" };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && n < max; i++) {
        const char *k = plain[i];
        if (keyword_discarded(s, k))
            continue;
        if (strcmp(k, "VRFY") == 0 && s->svc->disable_vrfy)
            continue;
        if (strcmp(k, "SMTPUTF8") == 0 && !s->svc->smtputf8_enable)
            continue;
        if (strcmp(k, "STARTTLS") == 0 && (s->svc->tls == NULL || conn_is_secure(&s->conn)))
            continue;
        if (strcmp(k, "AUTH") == 0) {
            n = smtpd_auth_ehlo_lines(s, lines, n, max);
            continue;
        }
        if (strcmp(k, "SIZE") == 0 && s->svc->message_size_limit > 0) {
            snprintf(size_line, size_len, "SIZE %lld", (long long)s->svc->message_size_limit);
            k = size_line;
        }
        lines[n++] = k;
    }
    return n;
}

static void send_ehlo_reply(struct smtpd_session *s)
{
    const char *lines[16];
    char size_line[48];
    size_t n = 0;
    lines[n++] = s->svc->myhostname;
    n = ehlo_keywords(s, lines, n, 16, size_line, sizeof(size_line));
    smtpd_reply_lines(s, 250, lines, n);
}

static void ehlo_after_auth_decision(struct smtpd_session *s, const struct policy_decision *d)
{
    (void)d;
    send_ehlo_reply(s);
}

static void helo_proceed(struct smtpd_session *s, const struct policy_decision *d)
{
    enum smtpd_counter c = s->esmtp ? CNT_EHLO : CNT_HELO;
    if (refused(d)) {
        reply_decision(s, s->esmtp ? "EHLO" : "HELO", d, NULL);
        return;
    }
    smtpd_command_ok(s, c);
    if (s->esmtp)
        smtpd_auth_decide(s, ehlo_after_auth_decision);    /* whether to offer AUTH */
    else
        smtpd_reply(s, 250, NULL, "%s", s->svc->myhostname);
}

static void helo_common(struct smtpd_session *s, const char *arg, size_t len, bool esmtp)
{
    if (len == 0) {
        smtpd_reply(s, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
        return;
    }
    /* RFC 5321 4.1.4: HELO/EHLO resets the transaction. */
    smtpd_txn_free(s);
    free(s->helo);
    s->helo = xstrndup(arg, len);
    s->esmtp = esmtp;
    smtpd_check_then(s, STAGE_HELO, NULL, helo_proceed);
}

static void cmd_helo(struct smtpd_session *s, const char *arg, size_t len)
{
    helo_common(s, arg, len, false);
}

static void cmd_ehlo(struct smtpd_session *s, const char *arg, size_t len)
{
    helo_common(s, arg, len, true);
}

/* ---- MAIL ---- */

/* Checks of MAIL parameters against this service; replies and returns false on a problem. */
static bool mail_args_acceptable(struct smtpd_session *s, const struct smtp_mail_args *m)
{
    if (m->smtputf8 && !s->svc->smtputf8_enable) {
        smtpd_reply(s, 555, "5.5.4", "Unsupported option: SMTPUTF8");
        return false;
    }
    if (m->addr.has_8bit && !m->smtputf8) {
        smtpd_reply(s, 553, "5.6.7", "Must declare SMTPUTF8 to send unicode address");
        return false;
    }
    if (m->body == BODY_BINARYMIME) {
        /* BINARYMIME needs CHUNKING (RFC 3030), which is not offered. */
        smtpd_reply(s, 555, "5.5.4", "Unsupported option: BODY=BINARYMIME");
        return false;
    }
    if (s->svc->message_size_limit > 0 && m->size > s->svc->message_size_limit) {
        smtpd_reply(s, 552, "5.3.4", "Message size exceeds fixed limit");
        return false;
    }
    if (!queue_writer_has_space(smtpd_worker_queue(s->worker), m->size > 0 ? m->size : 0)) {
        log_msg(&s->svc->ident, LOG_LEVEL_WARNING, "not enough free space in queue file system");
        smtpd_reply(s, 452, "4.3.1", "Insufficient system storage");
        return false;
    }
    return true;
}

static void mail_proceed(struct smtpd_session *s, const struct policy_decision *d)
{
    if (refused(d)) {
        reply_decision(s, "MAIL", d, NULL);
        smtpd_txn_free(s);
        return;
    }
    smtpd_command_ok(s, CNT_MAIL);
    smtpd_reply(s, 250, "2.1.0", "Ok");
}

static bool helo_missing(struct smtpd_session *s)
{
    if (s->helo || !s->svc->helo_required)
        return false;
    smtpd_reply(s, 503, "5.5.1", "Error: send HELO/EHLO first");
    return true;
}

static void cmd_mail(struct smtpd_session *s, const char *arg, size_t len)
{
    if (helo_missing(s))
        return;
    if (s->txn) {
        smtpd_reply(s, 503, "5.5.1", "Error: nested MAIL command");
        return;
    }
    struct smtp_mail_args mail;
    struct smtp_parse_error err;
    if (!smtp_parse_mail(arg, len, s->svc->strict_envelopes, &mail, &err)) {
        smtpd_reply(s, err.code, err.enhanced, "%s", err.text);
        return;
    }
    if (!mail_args_acceptable(s, &mail)) {
        smtp_mail_args_free(&mail);
        return;
    }
    struct smtpd_txn *t = xcalloc(1, sizeof(*t));
    t->mail = mail;
    t->start_us = clock_wall_us();
    buf_init(&t->chunk, 0);
    s->txn = t;
    smtpd_check_then(s, STAGE_MAIL, NULL, mail_proceed);
}

/* ---- RCPT ---- */

static void rcpt_proceed(struct smtpd_session *s, const struct policy_decision *d)
{
    struct smtpd_txn *t = s->txn;
    struct smtp_rcpt_args *r = &s->pending_rcpt;
    if (t == NULL) {            /* the transaction went away meanwhile */
        smtp_rcpt_args_free(r);
        return;
    }
    if (refused(d)) {
        reply_decision(s, "RCPT", d, r->addr.text);
        smtp_rcpt_args_free(r);
        return;
    }
    if (t->qtxn == NULL) {
        /* The queue file opens with the first accepted recipient, as with
           Postfix's smtpd_delay_open, so rejected-only sessions cost nothing. */
        t->qtxn = queue_txn_begin(smtpd_worker_queue(s->worker), t->queue_id);
        smtpd_log_client(s);
    }
    txn_add_rcpt(t, r);
    smtp_rcpt_args_free(r);
    smtpd_command_ok(s, CNT_RCPT);
    smtpd_reply(s, 250, "2.1.5", "Ok");
}

static void cmd_rcpt(struct smtpd_session *s, const char *arg, size_t len)
{
    struct smtpd_txn *t = s->txn;
    if (t == NULL) {
        smtpd_reply(s, 503, "5.5.1", "Error: need MAIL command");
        return;
    }
    struct smtp_parse_error err;
    if (!smtp_parse_rcpt(arg, len, s->svc->strict_envelopes, &s->pending_rcpt, &err)) {
        smtpd_reply(s, err.code, err.enhanced, "%s", err.text);
        return;
    }
    if (s->pending_rcpt.addr.has_8bit && !t->mail.smtputf8) {
        smtp_rcpt_args_free(&s->pending_rcpt);
        smtpd_reply(s, 553, "5.6.7", "Must declare SMTPUTF8 to send unicode address");
        return;
    }
    t->rcpt_attempts++;
    if (t->nrcpt >= s->svc->recipient_limit) {
        smtp_rcpt_args_free(&s->pending_rcpt);
        smtpd_reply(s, 452, "4.5.3", "Error: too many recipients");
        return;
    }
    smtpd_check_then(s, STAGE_RCPT, s->pending_rcpt.addr.text, rcpt_proceed);
}

/* ---- DATA ---- */

static void data_proceed(struct smtpd_session *s, const struct policy_decision *d)
{
    if (refused(d)) {
        reply_decision(s, "DATA", d, NULL);
        return;
    }
    smtpd_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
    smtpd_data_start(s);
}

static void cmd_data(struct smtpd_session *s, const char *arg, size_t len)
{
    struct smtpd_txn *t = s->txn;
    if (len > 0) {
        smtpd_reply(s, 501, "5.5.4", "Syntax: DATA");
        return;
    }
    if (t == NULL || t->nrcpt == 0) {
        if (t && t->rcpt_attempts > 0)
            smtpd_reply(s, 554, "5.5.1", "Error: no valid recipients");
        else
            smtpd_reply(s, 503, "5.5.1", "Error: need RCPT command");
        return;
    }
    smtpd_check_then(s, STAGE_DATA, NULL, data_proceed);
}

/* Called by data.c when the message was queued. */
void smtpd_data_accepted(struct smtpd_session *s)
{
    smtpd_command_ok(s, CNT_DATA);
}

/* ---- the small ones ---- */

static void cmd_rset(struct smtpd_session *s, const char *arg, size_t len)
{
    if (len > 0) {
        smtpd_reply(s, 501, "5.5.4", "Syntax: RSET");
        return;
    }
    smtpd_txn_free(s);
    smtpd_command_ok(s, CNT_RSET);
    smtpd_reply(s, 250, "2.0.0", "Ok");
}

static void cmd_noop(struct smtpd_session *s, const char *arg, size_t len)
{
    smtpd_command_ok(s, CNT_NOOP);
    smtpd_reply(s, 250, "2.0.0", "Ok");
}

static void cmd_help(struct smtpd_session *s, const char *arg, size_t len)
{
    smtpd_command_ok(s, CNT_HELP);
    smtpd_reply(s, 214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT");
}

static void cmd_quit(struct smtpd_session *s, const char *arg, size_t len)
{
    smtpd_command_ok(s, CNT_QUIT);
    smtpd_reply(s, 221, "2.0.0", "Bye");
    session_close_after_reply(s);
}

static void cmd_vrfy(struct smtpd_session *s, const char *arg, size_t len)
{
    if (s->svc->disable_vrfy) {
        smtpd_reply(s, 502, "5.5.1", "VRFY command is disabled");
        return;
    }
    struct smtp_address a;
    struct smtp_parse_error err;
    if (len == 0) {
        smtpd_reply(s, 501, "5.5.4", "Syntax: VRFY address");
        return;
    }
    if (!smtp_parse_address(arg, len, &a, &err)) {
        smtpd_reply(s, 501, "5.1.3", "Bad recipient address syntax");
        return;
    }
    switch (route_recipient_known(s->svc->policy, a.text)) {
    case MAP_FOUND:
        smtpd_command_ok(s, CNT_VRFY);
        smtpd_reply(s, 252, "2.0.0", "%s", a.text);
        break;
    case MAP_NOTFOUND:
        smtpd_reply(s, 550, "5.1.1", "<%s>: Recipient address rejected: User unknown", a.text);
        break;
    case MAP_ERROR:
        smtpd_reply(s, 450, "4.3.0", "<%s>: Temporary lookup failure", a.text);
        break;
    }
    smtp_address_free(&a);
}

/* ---- dispatch ---- */

static bool forbidden(const struct smtp_command *c, const char *line)
{
    if (!((line[0] >= 'A' && line[0] <= 'Z') || (line[0] >= 'a' && line[0] <= 'z')))
        return true;
    for (size_t i = 0; i < sizeof(forbidden_verbs) / sizeof(forbidden_verbs[0]); i++)
        if (smtp_command_is(c, forbidden_verbs[i]))
            return true;
    return false;
}

static const struct command_def *find_command(const struct smtp_command *c)
{
    for (size_t i = 0; i < sizeof(command_table) / sizeof(command_table[0]); i++)
        if (smtp_command_is(c, command_table[i].verb))
            return &command_table[i];
    return NULL;
}

void smtpd_dispatch(struct smtpd_session *s, const char *line, size_t len)
{
    struct smtp_command c;
    if (smtpd_auth_waiting(s)) {
        smtpd_auth_response(s, line, len);
        return;
    }
    if (!smtp_command_split(line, len, &c)) {
        s->count_total[CNT_UNKNOWN]++;
        s->last_verb = "UNKNOWN";
        smtpd_reply(s, 500, "5.5.2", "Error: bad syntax");
        return;
    }
    if (forbidden(&c, line)) {
        log_msg(&s->svc->ident, LOG_LEVEL_WARNING, "non-SMTP command from %s: %.100s",
                s->namaddr, line);
        smtpd_reply(s, 221, "2.7.0", "Error: I can break rules, too. Goodbye.");
        session_close_after_reply(s);
        return;
    }
    const struct command_def *def = find_command(&c);
    if (def == NULL) {
        s->count_total[CNT_UNKNOWN]++;
        s->last_verb = "UNKNOWN";
        smtpd_reply(s, 502, "5.5.2", "Error: command not recognized");
        return;
    }
    s->count_total[def->counter]++;
    s->last_verb = def->verb;
    if (!(def->flags & CMD_PRE_TLS) && smtpd_tls_required(s))
        return;
    def->handler(s, c.arg, c.arg_len);
    /* Postfix counts a junk command after its reply, and an error for
       each one once more than smtpd_junk_command_limit came before it. */
    if ((def->flags & CMD_JUNK) && s->junk_count++ > s->svc->junk_command_limit)
        s->error_count++;
}
