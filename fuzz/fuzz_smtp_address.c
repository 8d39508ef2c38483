/*
 * Fuzz target for MAIL/RCPT argument parsing. The first byte picks the
 * command (MAIL, RCPT or a bare address) and the mode. Checks: replies
 * are well-formed printable text; a parsed address respects the length
 * limits, holds no control character, has a valid domain, and parses
 * again to the same text when put back into "FROM:<...>"/"TO:<...>".
 */
#include "smtp/address.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

static void check_error(const struct smtp_parse_error *e)
{
    if (e->code < 500 || e->code > 555 || e->enhanced == NULL || e->text == NULL)
        abort();
    check_text(e->text, SMTP_PARSE_ERROR_TEXT_MAX);
    for (const char *t = e->text; *t; t++)
        if ((unsigned char)*t >= 0x7f)
            abort();
}

static void check_address(const struct smtp_address *a)
{
    check_text(a->text, SMTP_PATH_MAX);
    check_text(a->domain, SMTP_DOMAIN_MAX);
    if (a->is_null && (a->text[0] || a->localpart[0] || a->domain[0]))
        abort();
    if (a->domain[0] && !smtp_valid_domain(a->domain, true))
        abort();
    if (a->domain_literal != (a->domain[0] == '['))
        abort();
}

/* The address text, put back into a command, parses to the same text. */
static void reparse(const struct smtp_address *a, bool mail, bool strict)
{
    char arg[SMTP_PATH_MAX + 16];
    struct smtp_parse_error err;
    snprintf(arg, sizeof(arg), "%s<%s>", mail ? "FROM:" : "TO:", a->text);
    if (mail) {
        struct smtp_mail_args m;
        if (!smtp_parse_mail(arg, strlen(arg), strict, &m, &err)
            || strcmp(m.addr.text, a->text) != 0)
            abort();
        smtp_mail_args_free(&m);
    } else {
        struct smtp_rcpt_args r;
        if (!smtp_parse_rcpt(arg, strlen(arg), strict, &r, &err)
            || strcmp(r.addr.text, a->text) != 0)
            abort();
        smtp_rcpt_args_free(&r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 3;
    bool strict = data[0] & 4;
    const char *arg = (const char *)data + 1;
    size_t n = size - 1;
    struct smtp_parse_error err;
    if (which == 0) {
        struct smtp_mail_args m;
        if (!smtp_parse_mail(arg, n, strict, &m, &err)) {
            check_error(&err);
            if (m.addr.text || m.envid || m.auth)
                abort();
            return 0;
        }
        check_address(&m.addr);
        if (m.envid)
            check_text(m.envid, 100);
        if (m.auth)
            check_text(m.auth, 500);
        reparse(&m.addr, true, strict);
        smtp_mail_args_free(&m);
    } else if (which == 1) {
        struct smtp_rcpt_args r;
        if (!smtp_parse_rcpt(arg, n, strict, &r, &err)) {
            check_error(&err);
            if (r.addr.text || r.orcpt)
                abort();
            return 0;
        }
        check_address(&r.addr);
        if (r.addr.is_null)
            abort();
        if ((r.notify & DSN_NOTIFY_NEVER) && r.notify != DSN_NOTIFY_NEVER)
            abort();
        if (r.orcpt)
            check_text(r.orcpt, 500);
        reparse(&r.addr, false, strict);
        smtp_rcpt_args_free(&r);
    } else {
        struct smtp_address a;
        if (!smtp_parse_address(arg, n, &a, &err)) {
            check_error(&err);
            return 0;
        }
        check_address(&a);
        smtp_address_free(&a);
    }
    return 0;
}
