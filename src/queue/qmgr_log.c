/*
 * The queue manager's Postfix-format log lines. Log analysers (pflogsumm
 * and friends) parse these, so the field order and wording are Postfix's:
 *
 *   ID: from=<sender>, size=N, nrcpt=N (queue active)
 *   ID: to=<rcpt>, relay=R, delay=D, delays=a/b/c/d, dsn=X.Y.Z, status=S (text)
 *
 * delays: a = before the queue manager (arrival to active), b = in the
 * queue manager (active to hand-off), c = connection set-up (always 0
 * here: delivery agents are local), d = delivery. Numbers use Postfix's
 * format_tv rules: at most 2 significant digits and 2 decimals for small
 * values, whole seconds from 10 s up, no trailing zeros.
 */
#include "queue/qmgr_int.h"

#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>

#define DELAY_SIG_DIGITS 2
#define DELAY_MAX_DECIMALS 2        /* delay_logging_resolution_limit */
#define MILLION 1000000LL

static int64_t pow10i(int n)
{
    int64_t v = 1;
    while (n-- > 0)
        v *= 10;
    return v;
}

void qmgr_format_delay(int64_t us, char *out, size_t size)
{
    if (us < 0)
        us = 0;
    int64_t sec = us / MILLION, usec = us % MILLION;
    int64_t ures = MILLION / pow10i(DELAY_MAX_DECIMALS);
    int64_t wid = pow10i(DELAY_SIG_DIGITS);
    /* Resolution: fewer decimals as the integer part grows. */
    if (sec > 0) {
        int64_t n = 1;
        while (sec >= n && n <= wid / 10)
            n *= 10;
        ures = (MILLION / wid) * n;
    } else {
        while (usec >= wid * ures)
            ures *= 10;
    }
    if (ures > 1) {                 /* round half up at the resolution */
        usec += ures / 2;
        if (usec >= MILLION) {
            sec++;
            usec -= MILLION;
        }
    }
    int len = snprintf(out, size, "%lld", (long long)sec);
    if (len < 0 || (size_t)len + 8 > size || usec < ures)
        return;
    out[len++] = '.';
    for (int64_t rem = usec, n = MILLION / 10; rem >= ures && n > 0; n /= 10) {
        out[len++] = (char)('0' + rem / n);
        rem %= n;
    }
    out[len] = '\0';
}

void qmgr_log(const struct qmgr *q, const char *service, const char *fmt, ...)
{
    struct log_ident who = { q->opt.syslog_name, service };
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(&who, LOG_LEVEL_INFO, fmt, ap);
    va_end(ap);
}

void qmgr_warn(const struct qmgr *q, const char *fmt, ...)
{
    struct log_ident who = { q->opt.syslog_name, "qmgr" };
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(&who, LOG_LEVEL_WARNING, fmt, ap);
    va_end(ap);
}

void qmgr_log_active(const struct qmgr *q, const struct qmsg *m)
{
    size_t pending = 0;
    for (size_t i = 0; i < m->env.nrcpt; i++)
        pending += m->env.rcpts[i].status == RCPT_PENDING;
    qmgr_log(q, "qmgr", "%s: from=<%s>, size=%llu, nrcpt=%zu (queue active)", m->id,
             m->env.sender, (unsigned long long)m->env.content_size, pending);
}

static const char *status_word(uint8_t outcome)
{
    switch (outcome) {
    case OUT_SENT:
        return "sent";
    case OUT_BOUNCE:
        return "bounced";
    default:
        return "deferred";
    }
}

void qmgr_log_rcpt(const struct qmgr *q, const struct qmsg *m, size_t idx,
                   const char *service, const char *relay, int64_t handoff_us,
                   int64_t done_us)
{
    const struct qrcpt *r = &m->r[idx];
    int64_t arrival = m->env.arrival_us;
    char delay[24], a[24], b[24], d[24];
    qmgr_format_delay(done_us - arrival, delay, sizeof(delay));
    qmgr_format_delay(m->active_us - arrival, a, sizeof(a));
    qmgr_format_delay(handoff_us - m->active_us, b, sizeof(b));
    qmgr_format_delay(done_us - handoff_us, d, sizeof(d));
    qmgr_log(q, service, "%s: to=<%s>, relay=%s, delay=%s, delays=%s/%s/0/%s, dsn=%s, "
             "status=%s (%s)", m->id, m->env.rcpts[idx].address, relay, delay, a, b, d,
             r->dsn, status_word(r->outcome), r->text ? r->text : "");
}
