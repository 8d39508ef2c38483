/*
 * SMTP replies and error accounting. Every reply carries an enhanced
 * status code (RFC 2034, RFC 3463) except the greeting and the EHLO lines,
 * which RFC 2034 exempts. A multi-line reply uses "code-" on all lines but
 * the last.
 *
 * Every 4xx/5xx reply except 421 counts as a client error, which feeds
 * smtpd_soft_error_limit and smtpd_hard_error_limit as in Postfix.
 *
 * The tarpit (Postfix's smtpd_error_sleep_time): once a client has made
 * smtpd_soft_error_limit errors, every later reply is held for the sleep
 * time before it is sent. The hold is a timer; the worker keeps serving other
 * sessions.
 */
#include "smtpd/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void hold_if_tarpit(struct smtpd_session *s)
{
    if (smtpd_tarpit_due(s))
        smtpd_session_start_tarpit(s);
}

void smtpd_reply(struct smtpd_session *s, int code, const char *enhanced,
                 const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    /* Text that came from a table or a peer must not break the reply framing. */
    for (char *p = text; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    /* As in Postfix, the delay depends on the errors made before this
       reply; the error this reply reports counts from the next one on. */
    hold_if_tarpit(s);
    if (code >= 400 && code != 421)
        s->error_count++;
    if (enhanced && enhanced[0])
        buf_printf(&s->out, "%d %s %s\r\n", code, enhanced, text);
    else
        buf_printf(&s->out, "%d %s\r\n", code, text);
}

void smtpd_reply_lines(struct smtpd_session *s, int code, const char *const *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_printf(&s->out, "%d%c%s\r\n", code, i + 1 < n ? '-' : ' ', lines[i]);
    hold_if_tarpit(s);
}

void smtpd_count_error(struct smtpd_session *s)
{
    s->error_count++;
}

bool smtpd_tarpit_due(const struct smtpd_session *s)
{
    return s->svc->error_sleep_ms > 0 && s->error_count >= s->svc->soft_error_limit &&
           !s->shutting_down;
}
