/*
 * Turning a restriction's verdict into an SMTP reply the way Postfix's
 * smtpd_check_reject() does, so that replies and their enhanced status
 * codes match Postfix's byte for byte:
 *
 *   - a reply code outside 400-599 or a malformed DSN is a configuration
 *     error: logged, and "450 4.7.1 Service unavailable" is sent instead;
 *   - the DSN's first digit always follows the reply code's;
 *   - an earlier defer_if_reject turns a 5xx into that deferral;
 *   - under warn_if_reject a rejection is only logged ("reject_warning"),
 *     except for configuration errors, which cannot be softened;
 *   - the reply is made printable and cut to 510 bytes (RFC 5321 4.5.3.1.5).
 *
 * Final rejections are not logged here: the session logs the reply it
 * sends (with its queue id). Only decisions nobody else sees are logged.
 */
#include "policy/policy_priv.h"

#include "base/log.h"
#include "base/strutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Whole reply line: "NNN D.D.D text", as Postfix limits it. */
#define REPLY_MAX 510

size_t dsn_valid(const char *text)
{
    const char *p = text;
    if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
        return 0;
    p += 2;
    size_t len = strspn(p, "0123456789");
    if (len < 1 || len > 3 || p[len] != '.')
        return 0;
    p += len + 1;
    len = strspn(p, "0123456789");
    if (len < 1 || len > 3 || (p[len] != '\0' && !isspace((unsigned char)p[len])))
        return 0;
    return (size_t)(p - text) + len;
}

const char *dsn_split(const char *text, const char *def_dsn, char dsn[12])
{
    size_t n = dsn_valid(text);
    if (n == 0) {
        str_copy(dsn, 12, def_dsn);
        return text;
    }
    memcpy(dsn, text, n);
    dsn[n] = '\0';
    text += n;
    while (isspace((unsigned char)*text))
        text++;
    return text;
}

const char *dsn_fix(const char *dsn, const char *reply_class)
{
    /* Per detail digit of X.1.Y: the sender and the recipient form. */
    static const struct { char detail; const char *sender, *rcpt; } map[] = {
        { '1', "4.1.0", "4.1.1" }, { '2', "4.1.8", "4.1.2" }, { '3', "4.1.7", "4.1.3" },
        { '4', "4.1.0", "4.1.4" }, { '5', "4.1.0", "4.1.5" }, { '6', "4.1.0", "4.1.6" },
        { '7', "4.1.7", "4.1.3" }, { '8', "4.1.8", "4.1.2" },
    };
    if (!isdigit((unsigned char)dsn[0]) || strncmp(dsn + 1, ".1.", 3) != 0)
        return dsn;
    bool sender = strcmp(reply_class, CLASS_SENDER) == 0;
    if (!sender && strcmp(reply_class, CLASS_RECIPIENT) != 0)
        return "4.0.0";
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (dsn[4] == map[i].detail && dsn[5] == '\0')
            return sender ? map[i].sender : map[i].rcpt;
    return "4.1.0";
}

static const char *stage_command(const struct policy_eval *ev)
{
    static const char *const names[STAGE_COUNT] = {
        [STAGE_CONNECT] = "CONNECT", [STAGE_HELO] = "HELO", [STAGE_MAIL] = "MAIL",
        [STAGE_RCPT] = "RCPT", [STAGE_DATA] = "DATA", [STAGE_END_OF_DATA] = "END-OF-MESSAGE",
        [STAGE_AUTH] = "AUTH",
    };
    if (ev->stage == STAGE_HELO && ev->facts->protocol
        && str_ieq(ev->facts->protocol, "ESMTP"))
        return "EHLO";
    return names[ev->stage];
}

void rv_log(const struct policy_eval *ev, const char *what, const char *text)
{
    const struct policy_facts *f = ev->facts;
    char extra[1600];
    int n = 0;
    extra[0] = '\0';
    if (f->sender)
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, " from=<%.400s>", f->sender);
    if (f->recipient && n < (int)sizeof(extra))
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, " to=<%.400s>", f->recipient);
    if (f->protocol && n < (int)sizeof(extra))
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, " proto=%.20s", f->protocol);
    if (f->helo && n < (int)sizeof(extra))
        snprintf(extra + n, sizeof(extra) - (size_t)n, " helo=<%.300s>", f->helo);
    log_info("NOQUEUE: %s: %s from %s: %s;%s", what, stage_command(ev), ev->namaddr, text,
             extra);
}

/* Replaces bytes a reply must not carry (controls, 8-bit) with blanks. */
static void make_printable(char *s)
{
    for (; *s; s++)
        if (!isprint((unsigned char)*s))
            *s = ' ';
}

static enum policy_action action_for(int code, enum err_class cls)
{
    if (code >= 500)
        return POLICY_REJECT;
    return cls == ERR_DATA || cls == ERR_SOFTWARE ? POLICY_TEMPFAIL : POLICY_DEFER;
}

/* Builds the decision; an unusable code or DSN is logged and replaced (Postfix). */
static void build(struct policy_decision *d, int code, const char *dsn, const char *fmt,
                  va_list ap)
{
    char text[REPLY_MAX + 1];
    vsnprintf(text, sizeof(text), fmt, ap);
    if (code < 400 || code > 599 || dsn_valid(dsn) != strlen(dsn)) {
        log_warning("%s: %d %s %s", code < 400 || code > 599
                    ? "SMTP reply code configuration error" : "DSN detail code configuration error",
                    code, dsn, text);
        code = 450;
        dsn = "4.7.1";
        str_copy(text, sizeof(text), "Service unavailable");
    }
    d->code = code;
    str_copy(d->enhanced, sizeof(d->enhanced), dsn);
    d->enhanced[0] = (char)('0' + code / 100);
    /* "NNN D.DDD.DDD " precedes the text on the wire. */
    size_t room = REPLY_MAX - 5 - strlen(d->enhanced);
    if (room >= sizeof(d->text))
        room = sizeof(d->text) - 1;
    text[room] = '\0';
    str_copy(d->text, sizeof(d->text), text);
    make_printable(d->text);
}

static enum rstatus rv_vreject(struct policy_eval *ev, enum err_class cls, int code,
                               const char *dsn, const char *fmt, va_list ap)
{
    bool warn = ev->warn_level > 0 && cls != ERR_SOFTWARE;
    struct policy_decision d;
    memset(&d, 0, sizeof(d));
    build(&d, code, dsn, fmt, ap);
    if (!warn && ev->dir.active && d.code >= 500) {
        struct deferral df = ev->dir;
        ev->dir.active = false;
        ev->warn_level = 0;
        return rv_reject(ev, df.cls, df.d.code, df.d.enhanced, "%s", df.d.text);
    }
    d.action = action_for(d.code, cls);
    if (warn) {
        char line[REPLY_MAX + 32];
        snprintf(line, sizeof(line), "%d %s %s", d.code, d.enhanced, d.text);
        rv_log(ev, "reject_warning", line);
        return R_DUNNO;
    }
    ev->decision = d;
    return R_REJECT;
}

enum rstatus rv_reject(struct policy_eval *ev, enum err_class cls, int code, const char *dsn,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum rstatus st = rv_vreject(ev, cls, code, dsn, fmt, ap);
    va_end(ap);
    return st;
}

static void defer_vset(struct deferral *df, enum err_class cls, int code, const char *dsn,
                       const char *fmt, va_list ap)
{
    /* Keep the first reason, to minimise confusion (as Postfix does). */
    if (df->active)
        return;
    memset(&df->d, 0, sizeof(df->d));
    build(&df->d, code, dsn, fmt, ap);
    df->d.action = action_for(df->d.code, cls);
    df->cls = cls;
    df->active = true;
}

enum rstatus rv_defer_if(struct policy_eval *ev, struct deferral *df, int code,
                         const char *dsn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    defer_vset(df, ERR_POLICY, code, dsn, fmt, ap);
    va_end(ap);
    return R_DUNNO;
}

enum rstatus rv_defer_if_permit(struct policy_eval *ev, int code, const char *dsn,
                                const char *fmt, ...)
{
    va_list ap;
    enum rstatus st = R_DUNNO;
    va_start(ap, fmt);
    if (ev->warn_level == 0)
        defer_vset(&ev->dip, ERR_POLICY, code, dsn, fmt, ap);
    else
        st = rv_vreject(ev, ERR_POLICY, code, dsn, fmt, ap);
    va_end(ap);
    return st;
}

enum rstatus rv_config_error(struct policy_eval *ev, const char *fmt, ...)
{
    char why[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    log_warning("%s", why);
    return rv_reject(ev, ERR_SOFTWARE, 451, "4.3.5", "Server configuration error");
}

enum rstatus rv_lookup_retry(struct policy_eval *ev, const char *reply_name)
{
    return rv_reject(ev, ERR_DATA, 451, "4.3.0", "<%s>: Temporary lookup failure", reply_name);
}
