/*
 * Every log line the SMTP session writes, in Postfix's exact shapes, since
 * pflogsumm, fail2ban and administrators parse them:
 *
 *   connect from host[addr]
 *   ID: client=host[addr]
 *   NOQUEUE: reject: RCPT from host[addr]: 554 5.7.1 <x@y>: Relay access
 *       denied; from=<a@b> to=<x@y> proto=ESMTP helo=<h>
 *   lost connection after DATA from host[addr]
 *   disconnect from host[addr] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
 *   ID: message-id=<...>           (as the cleanup service)
 */
#include "smtpd/session.h"

#include <stdio.h>
#include <string.h>

static const char *const counter_names[CNT_COUNT] = {
    [CNT_HELO] = "helo", [CNT_EHLO] = "ehlo", [CNT_STARTTLS] = "starttls",
    [CNT_AUTH] = "auth", [CNT_MAIL] = "mail", [CNT_RCPT] = "rcpt",
    [CNT_DATA] = "data", [CNT_BDAT] = "bdat", [CNT_RSET] = "rset",
    [CNT_NOOP] = "noop", [CNT_VRFY] = "vrfy", [CNT_ETRN] = "etrn",
    [CNT_QUIT] = "quit", [CNT_HELP] = "help", [CNT_UNKNOWN] = "unknown",
};

static void put_count(struct buf *out, const char *name, unsigned ok, unsigned total)
{
    if (ok == total)
        buf_printf(out, " %s=%u", name, total);
    else
        buf_printf(out, " %s=%u/%u", name, ok, total);
}

void smtpd_format_counters(const uint16_t *ok, const uint16_t *total, struct buf *out)
{
    unsigned all_ok = 0, all = 0;
    for (int i = 0; i < CNT_COUNT; i++) {
        if (total[i] == 0)
            continue;
        put_count(out, counter_names[i], ok[i], total[i]);
        all_ok += ok[i];
        all += total[i];
    }
    put_count(out, "commands", all_ok, all);
}

void smtpd_log_connect(struct smtpd_session *s)
{
    log_msg(&s->svc->ident, LOG_LEVEL_INFO, "connect from %s", s->namaddr);
}

void smtpd_log_disconnect(struct smtpd_session *s)
{
    struct buf line;
    buf_init(&line, 1024);
    smtpd_format_counters(s->count_ok, s->count_total, &line);
    log_msg(&s->svc->ident, LOG_LEVEL_INFO, "disconnect from %s%s", s->namaddr,
            buf_cstr(&line));
    buf_free(&line);
}

void smtpd_log_lost(struct smtpd_session *s, const char *why)
{
    if (s->state == STATE_DATA && s->txn)
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "%s after DATA (%llu bytes) from %s", why,
                (unsigned long long)s->txn->reader.size, s->namaddr);
    else
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "%s after %s from %s", why, s->last_verb,
                s->namaddr);
}

void smtpd_log_client(struct smtpd_session *s)
{
    const char *user = smtpd_auth_username(s);
    if (user)
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "%s: client=%s, sasl_method=%s, sasl_username=%s",
                s->txn->queue_id, s->namaddr, smtpd_auth_method(s), user);
    else
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "%s: client=%s", s->txn->queue_id, s->namaddr);
}

void smtpd_log_reject(struct smtpd_session *s, const char *stage_verb, int code,
                      const char *enhanced, const char *text, const char *recipient)
{
    const char *id = s->txn && s->txn->qtxn ? s->txn->queue_id : "NOQUEUE";
    struct buf tail;
    buf_init(&tail, 2048);
    if (s->txn)
        buf_printf(&tail, " from=<%s>", s->txn->mail.addr.text);
    if (recipient)
        buf_printf(&tail, " to=<%s>", recipient);
    buf_printf(&tail, " proto=%s", smtpd_protocol_name(s));
    if (s->helo)
        buf_printf(&tail, " helo=<%s>", s->helo);
    /* Postfix separates the fields after the reason with "; " then spaces. */
    const char *fields = buf_cstr(&tail);
    if (code == 0)      /* a reason without a reply code (bare newline refusals) */
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "%s: reject: %s from %s: %s;%s", id,
                stage_verb, s->namaddr, text, fields);
    else
        log_msg(&s->svc->ident, LOG_LEVEL_INFO, "%s: reject: %s from %s: %d %s %s;%s", id,
                stage_verb, s->namaddr, code, enhanced, text, fields);
    buf_free(&tail);
}

void smtpd_log_message_id(struct smtpd_session *s, const char *queue_id,
                          const char *message_id)
{
    log_msg(&s->svc->cleanup_ident, LOG_LEVEL_INFO, "%s: message-id=<%s>", queue_id,
            message_id ? message_id : "");
}
