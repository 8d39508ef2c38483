/*
 * MAIL/RCPT argument parsing: paths, local parts, domains, address
 * literals, source routes, strict and default modes, UTF-8, ESMTP
 * parameters and xtext, with the replies Postfix gives for each error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/address.h"

#define BAD_SENDER "501 5.1.7 Bad sender address syntax"
#define BAD_RCPT "501 5.1.3 Bad recipient address syntax"
#define MAIL_USAGE "501 5.5.4 Syntax: MAIL FROM:<address>"
#define RCPT_USAGE "501 5.5.4 Syntax: RCPT TO:<address>"
#define BAD_UTF8 "500 5.5.2 Error: bad UTF-8 syntax"

enum { LAX = 0, STRICT = 1, BOTH = 2 };

struct addr_case {
    const char *arg;
    int mode;               /* LAX, STRICT or BOTH */
    const char *want;       /* "=text" on success, else the full reply */
};

static const struct addr_case mail_cases[] = {
    /* Plain paths. */
    { " FROM:<user@example.com>", BOTH, "=user@example.com" },
    { "FROM:<user@example.com>", BOTH, "=user@example.com" },
    { " from:<User@Example.COM>", BOTH, "=User@Example.COM" },
    { " FROM:<>", BOTH, "=" },
    { " FROM:<a.b.c@d.e>", BOTH, "=a.b.c@d.e" },
    { " FROM:<!#$%&'*+-/=?^_`{|}~@x.test>", BOTH, "=!#$%&'*+-/=?^_`{|}~@x.test" },
    { " FROM:<a@b>", BOTH, "=a@b" },
    { " FROM:<a@b-c.d>", BOTH, "=a@b-c.d" },
    { " FROM:<a@1.2.3.4>", BOTH, "=a@1.2.3.4" },
    /* Quoted local parts. */
    { " FROM:<\"a b\"@c.test>", BOTH, "=\"a b\"@c.test" },
    { " FROM:<\"a\\\"b\"@c.test>", BOTH, "=\"a\\\"b\"@c.test" },
    { " FROM:<\"a>b\"@c.test>", BOTH, "=\"a>b\"@c.test" },
    { " FROM:<\"\"@c.test>", BOTH, "=\"\"@c.test" },
    { " FROM:<\"a@b\"@c.test>", BOTH, "=\"a@b\"@c.test" },
    { " FROM:<\"a@b>", BOTH, BAD_SENDER },
    { " FROM:<\"a\\\x01\"@b>", BOTH, BAD_SENDER },
    { " FROM:<\"a\x01\"@b>", BOTH, BAD_SENDER },
    { " FROM:<\"a\"b@c>", BOTH, BAD_SENDER },
    /* Address literals. */
    { " FROM:<a@[192.0.2.1]>", BOTH, "=a@[192.0.2.1]" },
    { " FROM:<a@[IPv6:2001:db8::1]>", BOTH, "=a@[IPv6:2001:db8::1]" },
    { " FROM:<a@[ipv6:::1]>", BOTH, "=a@[ipv6:::1]" },
    { " FROM:<a@[IPv6:::ffff:192.0.2.1]>", BOTH, "=a@[IPv6:::ffff:192.0.2.1]" },
    { " FROM:<a@[1.2.3.999]>", BOTH, BAD_SENDER },
    { " FROM:<a@[1.2.3]>", BOTH, BAD_SENDER },
    { " FROM:<a@[1.2.3.4.5]>", BOTH, BAD_SENDER },
    { " FROM:<a@[IPv6:2001:db8::g]>", BOTH, BAD_SENDER },
    { " FROM:<a@[2001:db8::1]>", BOTH, BAD_SENDER },
    { " FROM:<a@[x-tag:stuff]>", BOTH, BAD_SENDER },
    { " FROM:<a@[1.2.3.4>", BOTH, BAD_SENDER },
    /* Source routes are accepted and dropped. */
    { " FROM:<@a.test:u@d.test>", BOTH, "=u@d.test" },
    { " FROM:<@a.test,@b.test:u@d.test>", BOTH, "=u@d.test" },
    { " FROM:<@[192.0.2.1],@b.test:u@d.test>", BOTH, "=u@d.test" },
    { " FROM:<@a.test:>", BOTH, BAD_SENDER },
    { " FROM:<@a.test,u@d.test>", BOTH, BAD_SENDER },
    { " FROM:<@:u@d.test>", BOTH, BAD_SENDER },
    { " FROM:<@a..b:u@d.test>", BOTH, BAD_SENDER },
    { " FROM:<@>", BOTH, BAD_SENDER },
    /* Bad domains. */
    { " FROM:<a@>", BOTH, BAD_SENDER },
    { " FROM:<a@b..c>", BOTH, BAD_SENDER },
    { " FROM:<a@.b>", BOTH, BAD_SENDER },
    { " FROM:<a@b.>", BOTH, BAD_SENDER },
    { " FROM:<a@-b>", BOTH, BAD_SENDER },
    { " FROM:<a@b->", BOTH, BAD_SENDER },
    { " FROM:<a@b_c>", BOTH, BAD_SENDER },
    { " FROM:<a@b c>", BOTH, BAD_SENDER },
    { " FROM:<a@b@c>", BOTH, BAD_SENDER },
    /* Bad local parts. */
    { " FROM:<a b@c>", BOTH, BAD_SENDER },
    { " FROM:<a;b@c>", BOTH, BAD_SENDER },
    { " FROM:<a(comment)@b>", BOTH, BAD_SENDER },
    { " FROM:<a\x01@b>", BOTH, BAD_SENDER },
    { " FROM:<a\x7f@b>", BOTH, BAD_SENDER },
    { " FROM:<@b>", BOTH, BAD_SENDER },
    /* Dots: RFC syntax in strict mode, tolerated like Postfix otherwise. */
    { " FROM:<a..b@c>", STRICT, BAD_SENDER },
    { " FROM:<a..b@c>", LAX, "=a..b@c" },
    { " FROM:<.a@c>", STRICT, BAD_SENDER },
    { " FROM:<.a@c>", LAX, "=.a@c" },
    { " FROM:<a.@c>", STRICT, BAD_SENDER },
    { " FROM:<a.@c>", LAX, "=a.@c" },
    /* Brackets. */
    { " FROM:<a@b", BOTH, BAD_SENDER },
    { " FROM:<<a@b>", BOTH, BAD_SENDER },
    { " FROM:<a@b>>", BOTH, BAD_SENDER },
    { " FROM:<a@b>SIZE=1", BOTH, BAD_SENDER },
    { " FROM:a@b>", LAX, BAD_SENDER },
    /* Default mode: blank after the colon, no brackets, no domain. */
    { " FROM: <a@b>", LAX, "=a@b" },
    { " FROM:   <a@b>", LAX, "=a@b" },
    { " FROM: <a@b>", STRICT, BAD_SENDER },
    { " FROM:a@b", LAX, "=a@b" },
    { " FROM: a@b", LAX, "=a@b" },
    { " FROM:a@b", STRICT, BAD_SENDER },
    { " FROM:\"a b\"@c", LAX, "=\"a b\"@c" },
    { " FROM:<user>", LAX, "=user" },
    { " FROM:<user>", STRICT, BAD_SENDER },
    { " FROM:<postmaster>", STRICT, BAD_SENDER },
    /* The FROM: keyword. */
    { "", BOTH, MAIL_USAGE },
    { " FROM", BOTH, MAIL_USAGE },
    { " FROM:", BOTH, MAIL_USAGE },
    { " FROM:   ", BOTH, MAIL_USAGE },
    { " FROM :<a@b>", BOTH, MAIL_USAGE },
    { " FROMX:<a@b>", BOTH, MAIL_USAGE },
    { " TO:<a@b>", BOTH, MAIL_USAGE },
    /* UTF-8 (RFC 6531): accepted and flagged; invalid sequences refused. */
    { " FROM:<\xc3\xa9@b.test>", BOTH, "=\xc3\xa9@b.test" },
    { " FROM:<a@\xc3\xa9.test>", BOTH, "=a@\xc3\xa9.test" },
    { " FROM:<\"\xc3\xa9 x\"@b.test>", BOTH, "=\"\xc3\xa9 x\"@b.test" },
    { " FROM:<\xff@b>", BOTH, BAD_UTF8 },
    { " FROM:<\xc3@b>", BOTH, BAD_UTF8 },
    { " FROM:<\xc0\x80@b>", BOTH, BAD_UTF8 },
    { " FROM:<\xed\xa0\x80@b>", BOTH, BAD_UTF8 },
    { " FROM:<\xf4\x90\x80\x80@b>", BOTH, BAD_UTF8 },
    { " FROM:<\xe2\x82@b>", BOTH, BAD_UTF8 },
    /* Parameters. */
    { " FROM:<a@b> SIZE=100", BOTH, "=a@b" },
    { " FROM:<a@b>  SIZE=100  ", BOTH, "=a@b" },
    { " FROM:<a@b> FOO=bar", BOTH, "555 5.5.4 Unsupported option: FOO=bar" },
    { " FROM:<a@b> foo", BOTH, "555 5.5.4 Unsupported option: foo" },
    { " FROM:<a@b> <c@d>", BOTH, "555 5.5.4 Unsupported option: <c@d>" },
    { " FROM:<a@b> SIZE", BOTH, "555 5.5.4 Unsupported option: SIZE" },
    { " FROM:<a@b> SIZE=", BOTH, "501 5.5.4 Bad message size syntax" },
    { " FROM:<a@b> SIZE=abc", BOTH, "501 5.5.4 Bad message size syntax" },
    { " FROM:<a@b> SIZE=-1", BOTH, "501 5.5.4 Bad message size syntax" },
    { " FROM:<a@b> SIZE=1 SIZE=2", BOTH, "501 5.5.4 Bad message size syntax" },
    { " FROM:<a@b> SIZE=99999999999999999999999", BOTH,
      "552 5.3.4 Message size exceeds file system imposed limit" },
    { " FROM:<a@b> SIZE=9223372036854775807", BOTH, "=a@b" },
    { " FROM:<a@b> SIZE=9223372036854775808", BOTH,
      "552 5.3.4 Message size exceeds file system imposed limit" },
    { " FROM:<a@b> BODY=8BITMIME", BOTH, "=a@b" },
    { " FROM:<a@b> body=7bit", BOTH, "=a@b" },
    { " FROM:<a@b> BODY=BINARYMIME", BOTH, "=a@b" },
    { " FROM:<a@b> BODY=foo", BOTH, "555 5.5.4 Unsupported option: BODY=foo" },
    { " FROM:<a@b> BODY=7BIT BODY=7BIT", BOTH, "501 5.5.4 Bad BODY parameter syntax" },
    { " FROM:<a@b> SMTPUTF8", BOTH, "=a@b" },
    { " FROM:<a@b> SMTPUTF8=x", BOTH, "555 5.5.4 Unsupported option: SMTPUTF8=x" },
    { " FROM:<a@b> SMTPUTF8 smtputf8", BOTH, "501 5.5.4 Bad SMTPUTF8 parameter syntax" },
    { " FROM:<a@b> RET=FULL", BOTH, "=a@b" },
    { " FROM:<a@b> RET=hdrs", BOTH, "=a@b" },
    { " FROM:<a@b> RET=BOTH", BOTH, "501 5.5.4 Bad RET parameter syntax" },
    { " FROM:<a@b> RET=FULL RET=HDRS", BOTH, "501 5.5.4 Bad RET parameter syntax" },
    { " FROM:<a@b> ENVID=abc+2Bdef", BOTH, "=a@b" },
    { " FROM:<a@b> ENVID=", BOTH, "501 5.5.4 Bad ENVID parameter syntax" },
    { " FROM:<a@b> ENVID=a+2", BOTH, "501 5.5.4 Bad ENVID parameter syntax" },
    { " FROM:<a@b> ENVID=a+zz", BOTH, "501 5.5.4 Bad ENVID parameter syntax" },
    { " FROM:<a@b> ENVID=a+2b", BOTH, "501 5.5.4 Bad ENVID parameter syntax" },
    { " FROM:<a@b> ENVID=a+00", BOTH, "501 5.5.4 Bad ENVID parameter syntax" },
    { " FROM:<a@b> ENVID=a+0D+0A", BOTH, "501 5.5.4 Bad ENVID parameter syntax" },
    { " FROM:<a@b> ENVID=x ENVID=y", BOTH, "501 5.5.4 Bad ENVID parameter syntax" },
    { " FROM:<a@b> ENVID=x=y", BOTH, "501 5.5.4 Bad ENVID parameter syntax" },
    { " FROM:<a@b> AUTH=<>", BOTH, "=a@b" },
    { " FROM:<a@b> AUTH=user+40example.com", BOTH, "=a@b" },
    { " FROM:<a@b> AUTH=", BOTH, "501 5.5.4 Bad AUTH parameter syntax" },
    { " FROM:<a@b> AUTH=a+zz", BOTH, "501 5.5.4 Bad AUTH parameter syntax" },
    { " FROM:<a@b> NOTIFY=NEVER", BOTH, "555 5.5.4 Unsupported option: NOTIFY=NEVER" },
    { " FROM:<a@b> ORCPT=rfc822;a@b", BOTH, "555 5.5.4 Unsupported option: ORCPT=rfc822;a@b" },
    { " FROM:<a@b> X\x01Y", BOTH, "555 5.5.4 Unsupported option: X?Y" },
    { " FROM:<a@b> X\xc3\xa9", BOTH, "555 5.5.4 Unsupported option: X??" },
    { " FROM:<> SIZE=0 BODY=8BITMIME RET=HDRS ENVID=QQ SMTPUTF8 AUTH=<>", BOTH, "=" },
};

static const struct addr_case rcpt_cases[] = {
    { " TO:<user@example.com>", BOTH, "=user@example.com" },
    { " TO:<>", BOTH, BAD_RCPT },
    { " TO:<postmaster>", BOTH, "=postmaster" },
    { " TO:<PostMaster>", BOTH, "=PostMaster" },
    { " TO:<\"postmaster\">", BOTH, "=\"postmaster\"" },
    { " TO:<root>", STRICT, BAD_RCPT },
    { " TO:<root>", LAX, "=root" },
    { " TO:<a b>", BOTH, BAD_RCPT },
    { " TO:<@a:root@mx.test>", BOTH, "=root@mx.test" },
    { " TO", BOTH, RCPT_USAGE },
    { " TO:", BOTH, RCPT_USAGE },
    { " FROM:<a@b>", BOTH, RCPT_USAGE },
    { " TO: <a@b>", LAX, "=a@b" },
    { " TO:a@b", LAX, "=a@b" },
    { " TO:<\xff@b>", BOTH, BAD_UTF8 },
    { " TO:<a@b> NOTIFY=NEVER", BOTH, "=a@b" },
    { " TO:<a@b> NOTIFY=success,delay", BOTH, "=a@b" },
    { " TO:<a@b> NOTIFY=SUCCESS,FAILURE,DELAY", BOTH, "=a@b" },
    { " TO:<a@b> NOTIFY=NEVER,SUCCESS", BOTH, "501 5.5.4 Error: Bad NOTIFY parameter syntax" },
    { " TO:<a@b> NOTIFY=", BOTH, "501 5.5.4 Error: Bad NOTIFY parameter syntax" },
    { " TO:<a@b> NOTIFY=FOO", BOTH, "501 5.5.4 Error: Bad NOTIFY parameter syntax" },
    { " TO:<a@b> NOTIFY=SUCCESS,", BOTH, "501 5.5.4 Error: Bad NOTIFY parameter syntax" },
    { " TO:<a@b> NOTIFY=SUCCESS,SUCCESS", BOTH, "501 5.5.4 Error: Bad NOTIFY parameter syntax" },
    { " TO:<a@b> NOTIFY=SUCCESS NOTIFY=DELAY", BOTH, "501 5.5.4 Error: Bad NOTIFY parameter syntax" },
    { " TO:<a@b> NOTIFY", BOTH, "555 5.5.4 Unsupported option: NOTIFY" },
    { " TO:<a@b> ORCPT=rfc822;a@b", BOTH, "=a@b" },
    { " TO:<a@b> ORCPT=rfc822;a+2Bb@c", BOTH, "=a@b" },
    { " TO:<a@b> ORCPT=utf-8;a@b", BOTH, "=a@b" },
    { " TO:<a@b> ORCPT=x;", BOTH, "=a@b" },
    { " TO:<a@b> ORCPT=rfc822;a+zz", BOTH, "501 5.5.4 Error: Bad ORCPT parameter syntax" },
    { " TO:<a@b> ORCPT=a@b", BOTH, "501 5.5.4 Error: Bad ORCPT parameter syntax" },
    { " TO:<a@b> ORCPT=;a@b", BOTH, "501 5.5.4 Error: Bad ORCPT parameter syntax" },
    { " TO:<a@b> ORCPT=r@x;a@b", BOTH, "501 5.5.4 Error: Bad ORCPT parameter syntax" },
    { " TO:<a@b> ORCPT=rfc822;a ORCPT=rfc822;b", BOTH,
      "501 5.5.4 Error: Bad ORCPT parameter syntax" },
    { " TO:<a@b> SIZE=1", BOTH, "555 5.5.4 Unsupported option: SIZE=1" },
    { " TO:<a@b> SMTPUTF8", BOTH, "555 5.5.4 Unsupported option: SMTPUTF8" },
};

static void format_error(char *out, size_t size, const struct smtp_parse_error *e)
{
    snprintf(out, size, "%d %s %s", e->code, e->enhanced, e->text);
}

static void check_case(const struct addr_case *c, bool mail, bool strict)
{
    struct smtp_parse_error err;
    char got[512];
    struct smtp_address *addr;
    struct smtp_mail_args m;
    struct smtp_rcpt_args r;
    bool ok;
    if (mail) {
        ok = smtp_parse_mail(c->arg, strlen(c->arg), strict, &m, &err);
        addr = &m.addr;
    } else {
        ok = smtp_parse_rcpt(c->arg, strlen(c->arg), strict, &r, &err);
        addr = &r.addr;
    }
    if (ok)
        snprintf(got, sizeof(got), "=%s", addr->text);
    else
        format_error(got, sizeof(got), &err);
    if (strcmp(got, c->want) != 0)
        fail_msg("%s '%s' (%s): got '%s', want '%s'", mail ? "MAIL" : "RCPT", c->arg,
                 strict ? "strict" : "default", got, c->want);
    if (!ok) {
        /* Failure leaves nothing allocated. */
        assert_null(addr->text);
        assert_null(addr->localpart);
        assert_null(addr->domain);
    }
    if (mail && ok)
        smtp_mail_args_free(&m);
    if (!mail && ok)
        smtp_rcpt_args_free(&r);
}

static void run_table(const struct addr_case *cases, size_t count, bool mail)
{
    for (size_t i = 0; i < count; i++) {
        const struct addr_case *c = &cases[i];
        if (c->mode != STRICT)
            check_case(c, mail, false);
        if (c->mode != LAX)
            check_case(c, mail, true);
    }
}

static void mail_table(void **state)
{
    run_table(mail_cases, sizeof(mail_cases) / sizeof(mail_cases[0]), true);
}

static void rcpt_table(void **state)
{
    run_table(rcpt_cases, sizeof(rcpt_cases) / sizeof(rcpt_cases[0]), false);
}

static void mail_fields(void **state)
{
    static const char arg[] = " FROM:<\"J. Doe\"@[IPv6:2001:db8::1]> SIZE=12345 "
                              "BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=Q+2BX AUTH=a+40b";
    struct smtp_mail_args m;
    struct smtp_parse_error err;
    assert_true(smtp_parse_mail(arg, sizeof(arg) - 1, false, &m, &err));
    assert_string_equal(m.addr.text, "\"J. Doe\"@[IPv6:2001:db8::1]");
    assert_string_equal(m.addr.localpart, "J. Doe");
    assert_string_equal(m.addr.domain, "[IPv6:2001:db8::1]");
    assert_true(m.addr.domain_literal);
    assert_false(m.addr.is_null);
    assert_false(m.addr.has_8bit);
    assert_int_equal(m.size, 12345);
    assert_int_equal(m.body, BODY_8BITMIME);
    assert_true(m.smtputf8);
    assert_int_equal(m.ret, DSN_RET_HDRS);
    assert_string_equal(m.envid, "Q+X");
    assert_string_equal(m.auth, "a@b");
    smtp_mail_args_free(&m);

    assert_true(smtp_parse_mail(" FROM:<>", 8, true, &m, &err));
    assert_true(m.addr.is_null);
    assert_string_equal(m.addr.text, "");
    assert_string_equal(m.addr.domain, "");
    assert_int_equal(m.size, -1);
    assert_int_equal(m.body, BODY_UNSPECIFIED);
    assert_int_equal(m.ret, DSN_RET_UNSPECIFIED);
    assert_null(m.envid);
    assert_null(m.auth);
    smtp_mail_args_free(&m);
}

static void rcpt_fields(void **state)
{
    static const char arg[] = " TO:<\"a\\\\b\"@\xc3\xa9.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;x+2By@z";
    struct smtp_rcpt_args r;
    struct smtp_parse_error err;
    assert_true(smtp_parse_rcpt(arg, sizeof(arg) - 1, true, &r, &err));
    assert_string_equal(r.addr.localpart, "a\\b");
    assert_string_equal(r.addr.domain, "\xc3\xa9.test");
    assert_true(r.addr.has_8bit);
    assert_int_equal(r.notify, DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
    assert_string_equal(r.orcpt, "rfc822;x+2By@z");
    smtp_rcpt_args_free(&r);

    assert_true(smtp_parse_rcpt(" TO:<a@b> NOTIFY=never", 22, false, &r, &err));
    assert_int_equal(r.notify, DSN_NOTIFY_NEVER);
    assert_null(r.orcpt);
    smtp_rcpt_args_free(&r);
}

/* Build "<" + local + "@" + domain + ">" with given part lengths. */
static void make_path(char *out, size_t local, size_t label, size_t labels)
{
    size_t o = 0;
    memcpy(out + o, " FROM:<", 7), o += 7;
    memset(out + o, 'l', local), o += local;
    out[o++] = '@';
    for (size_t i = 0; i < labels; i++) {
        if (i)
            out[o++] = '.';
        memset(out + o, 'd', label), o += label;
    }
    out[o++] = '>';
    out[o] = '\0';
}

static void length_limits(void **state)
{
    char arg[700];
    struct smtp_mail_args m;
    struct smtp_parse_error err;
    make_path(arg, 64, 10, 1);
    assert_true(smtp_parse_mail(arg, strlen(arg), true, &m, &err));
    smtp_mail_args_free(&m);
    make_path(arg, 65, 10, 1);
    assert_false(smtp_parse_mail(arg, strlen(arg), true, &m, &err));
    assert_int_equal(err.code, 501);
    make_path(arg, 5, 63, 1);
    assert_true(smtp_parse_mail(arg, strlen(arg), true, &m, &err));
    smtp_mail_args_free(&m);
    make_path(arg, 5, 64, 1);
    assert_false(smtp_parse_mail(arg, strlen(arg), true, &m, &err));
    /* Path of 256 octets with brackets: 1 + 64 + 1 + 189 + 1. */
    make_path(arg, 64, 63, 3);      /* domain 191: path 258 */
    assert_false(smtp_parse_mail(arg, strlen(arg), true, &m, &err));
    make_path(arg, 60, 62, 3);      /* domain 188: path 251 */
    assert_true(smtp_parse_mail(arg, strlen(arg), true, &m, &err));
    smtp_mail_args_free(&m);
    make_path(arg, 5, 40, 7);       /* domain 286 */
    assert_false(smtp_parse_mail(arg, strlen(arg), false, &m, &err));
}

static void long_option_is_truncated(void **state)
{
    char arg[600];
    struct smtp_mail_args m;
    struct smtp_parse_error err, copy;
    strcpy(arg, " FROM:<a@b> X=");
    memset(arg + strlen(arg), 'y', 400);
    arg[14 + 400] = '\0';
    assert_false(smtp_parse_mail(arg, strlen(arg), false, &m, &err));
    assert_int_equal(err.code, 555);
    assert_true(strlen(err.text) < SMTP_PARSE_ERROR_TEXT_MAX);
    assert_true(strncmp(err.text, "Unsupported option: X=yyy", 25) == 0);
    assert_string_equal(err.text + strlen(err.text) - 3, "...");
    smtp_parse_error_copy(&copy, &err);
    assert_ptr_equal(copy.text, copy.buf);
    assert_string_equal(copy.text, err.text);
}

struct domain_case {
    const char *domain;
    bool allow_8bit;
    bool valid;
};

static const struct domain_case domains[] = {
    { "example.com", false, true },
    { "a", false, true },
    { "a-b.c", false, true },
    { "1.2.3.4", false, true },
    { "xn--bcher-kva.example", false, true },
    { "", false, false },
    { ".", false, false },
    { "a.", false, false },
    { ".a", false, false },
    { "a..b", false, false },
    { "-a", false, false },
    { "a-", false, false },
    { "a.-b.c", false, false },
    { "a_b", false, false },
    { "a b", false, false },
    { "[192.0.2.1]", false, true },
    { "[255.255.255.255]", false, true },
    { "[256.0.0.1]", false, false },
    { "[192.0.2]", false, false },
    { "[IPv6:::1]", false, true },
    { "[IPv6:2001:db8::]", false, true },
    { "[IPv6:fe80::1%eth0]", false, false },
    { "[IPv6:]", false, false },
    { "[::1]", false, false },
    { "[]", false, false },
    { "[1.2.3.4", false, false },
    { "b\xc3\xbc" "cher.example", true, true },
    { "b\xc3\xbc" "cher.example", false, false },
    { "b\xc3.example", true, false },
    { "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", true, true },
};

static void valid_domain_table(void **state)
{
    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
        const struct domain_case *c = &domains[i];
        if (smtp_valid_domain(c->domain, c->allow_8bit) != c->valid)
            fail_msg("domain '%s' (8bit %d): want %d", c->domain, c->allow_8bit, c->valid);
    }
    char label[80];
    memset(label, 'a', 63);
    label[63] = '\0';
    assert_true(smtp_valid_domain(label, false));
    memset(label, 'a', 64);
    label[64] = '\0';
    assert_false(smtp_valid_domain(label, false));
    char big[300];
    for (size_t i = 0; i < 255; i++)
        big[i] = i % 2 ? '.' : 'a';
    big[255] = '\0';
    assert_true(smtp_valid_domain(big, false));  /* 255 octets, ends in 'a' */
    big[255] = '.';
    big[256] = 'a';
    big[257] = '\0';
    assert_false(smtp_valid_domain(big, false));
    assert_false(smtp_valid_domain(NULL, false));
}

static void bare_address(void **state)
{
    struct smtp_address a;
    struct smtp_parse_error err;
    assert_true(smtp_parse_address("user@example.com", 16, &a, &err));
    assert_string_equal(a.text, "user@example.com");
    smtp_address_free(&a);
    assert_true(smtp_parse_address("<user@example.com>", 18, &a, &err));
    assert_string_equal(a.domain, "example.com");
    smtp_address_free(&a);
    assert_true(smtp_parse_address(" postmaster ", 12, &a, &err));
    assert_string_equal(a.localpart, "postmaster");
    assert_string_equal(a.domain, "");
    smtp_address_free(&a);
    assert_true(smtp_parse_address("<>", 2, &a, &err));
    assert_true(a.is_null);
    smtp_address_free(&a);
    assert_false(smtp_parse_address("a@b c@d", 7, &a, &err));
    assert_int_equal(err.code, 501);
    assert_false(smtp_parse_address("", 0, &a, &err));
    assert_false(smtp_parse_address("<a@b", 4, &a, &err));
    assert_false(smtp_parse_address("a\n@b", 4, &a, &err));
    assert_false(smtp_parse_address("\xff@b", 3, &a, &err));
    assert_int_equal(err.code, 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mail_table),
        cmocka_unit_test(rcpt_table),
        cmocka_unit_test(mail_fields),
        cmocka_unit_test(rcpt_fields),
        cmocka_unit_test(length_limits),
        cmocka_unit_test(long_option_is_truncated),
        cmocka_unit_test(valid_domain_table),
        cmocka_unit_test(bare_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
