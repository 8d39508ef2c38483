/*
 * MAIL FROM / RCPT TO arguments: the path, then ESMTP parameters
 * (RFC 5321 4.1.1.2-3 and 4.1.2; SIZE RFC 1870; BODY RFC 6152 and 3030;
 * SMTPUTF8 RFC 6531; RET, ENVID, NOTIFY, ORCPT RFC 3461; AUTH RFC 4954 5).
 *
 * Parameters are described by one table: name, the command that takes
 * it, whether it has a value, its parser, and the reply for a bad or
 * repeated value. Replies use Postfix's wording where Postfix has one
 * ("555 5.5.4 Unsupported option: X", "501 5.5.4 Bad message size
 * syntax", "501 5.5.4 Error: Bad NOTIFY parameter syntax", ...).
 *
 * Security: a repeated parameter is an error (two hops must never pick
 * different values of it); xtext is decoded strictly and decoded control
 * characters are refused, since ENVID, AUTH and ORCPT values travel into
 * logs, queue files and DSNs. Client text echoed in a reply is reduced to
 * printable ASCII and truncated.
 */
#include "smtp/address_priv.h"

#include "base/xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENVID_MAX 100       /* RFC 3461 4.4 */
#define ORCPT_MAX 500       /* RFC 3461 4.2 */
#define AUTH_MAX 500        /* the size of an ORCPT-like mailbox */

enum { CMD_MAIL = 1, CMD_RCPT = 2 };

/* What a parameter parser says about a value. */
enum param_result {
    P_OK,
    P_BAD,              /* reply with the table entry's error */
    P_UNSUPPORTED,      /* "555 5.5.4 Unsupported option: X" */
    P_REPLIED,          /* the parser filled the error itself */
};

struct esmtp_ctx {
    struct smtp_mail_args *mail;    /* MAIL, else NULL */
    struct smtp_rcpt_args *rcpt;    /* RCPT, else NULL */
    struct smtp_parse_error *err;
};

typedef enum param_result (*param_fn)(struct esmtp_ctx *c, const char *v, size_t n);

struct param_def {
    const char *name;
    int cmds;           /* CMD_MAIL and/or CMD_RCPT */
    bool has_value;     /* "NAME=value" (true) or "NAME" alone (false) */
    param_fn parse;
    int code;           /* reply for a bad or repeated value */
    const char *enhanced;
    const char *text;
};

static void set_error(struct smtp_parse_error *err, int code,
                      const char *enhanced, const char *text)
{
    err->code = code;
    err->enhanced = enhanced;
    err->text = text;
    err->buf[0] = '\0';
}

void smtp_parse_error_copy(struct smtp_parse_error *dst,
                           const struct smtp_parse_error *src)
{
    *dst = *src;
    if (src->text == src->buf)
        dst->text = dst->buf;
}

/* "555 5.5.4 Unsupported option: X" with X made safe for a reply. */
static void set_unsupported(struct smtp_parse_error *err, const char *tok, size_t n)
{
    static const char prefix[] = "Unsupported option: ";
    const size_t room = sizeof(err->buf) - sizeof(prefix) - 3;
    size_t o = sizeof(prefix) - 1;
    memcpy(err->buf, prefix, o);
    for (size_t i = 0; i < n && i < room; i++) {
        unsigned char c = (unsigned char)tok[i];
        err->buf[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n > room)
        memcpy(err->buf + o, "...", 3), o += 3;
    err->buf[o] = '\0';
    err->code = 555;
    err->enhanced = "5.5.4";
    err->text = err->buf;
}

static bool is_hex_upper(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static unsigned hex_value(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'A' + 10);
}

/*
 * Decodes RFC 3461 4 xtext: xchar is "!" to "~" except "+" and "=";
 * "+XX" (upper-case hex) is one octet. Decoded control characters are
 * refused. *out (if not NULL) gets the decoded text; *dlen its length.
 */
static bool xtext_decode(const char *s, size_t n, char **out, size_t *dlen)
{
    char *d = out ? xmalloc(n + 1) : NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            if (i + 2 >= n || !is_hex_upper(s[i + 1]) || !is_hex_upper(s[i + 2]))
                goto bad;
            c = (unsigned char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
            i += 2;
            if (c < 0x20 || c == 0x7f)
                goto bad;
        } else if (c < 0x21 || c > 0x7e || c == '=') {
            goto bad;
        }
        if (d)
            d[o] = (char)c;
        o++;
    }
    if (d) {
        d[o] = '\0';
        *out = d;
    }
    *dlen = o;
    return true;
bad:
    free(d);
    return false;
}

static enum param_result p_size(struct esmtp_ctx *c, const char *v, size_t n)
{
    long long size = 0;
    if (n == 0)
        return P_BAD;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return P_BAD;
        int digit = v[i] - '0';
        if (size > (LLONG_MAX - digit) / 10) {
            set_error(c->err, 552, "5.3.4",
                      "Message size exceeds file system imposed limit");
            return P_REPLIED;
        }
        size = size * 10 + digit;
    }
    c->mail->size = size;
    return P_OK;
}

/* Index of v[0 .. n) in a NULL-terminated list of words (any case), or -1. */
static int word_index(const char *v, size_t n, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == n && strncasecmp(v, words[i], n) == 0)
            return i;
    return -1;
}

static enum param_result p_body(struct esmtp_ctx *c, const char *v, size_t n)
{
    static const char *const words[] = { "7BIT", "8BITMIME", "BINARYMIME", NULL };
    static const enum smtp_body_type types[] = { BODY_7BIT, BODY_8BITMIME, BODY_BINARYMIME };
    int i = word_index(v, n, words);
    if (i < 0)
        return P_UNSUPPORTED;
    c->mail->body = types[i];
    return P_OK;
}

static enum param_result p_smtputf8(struct esmtp_ctx *c, const char *v, size_t n)
{
    c->mail->smtputf8 = true;
    return P_OK;
}

static enum param_result p_ret(struct esmtp_ctx *c, const char *v, size_t n)
{
    static const char *const words[] = { "FULL", "HDRS", NULL };
    int i = word_index(v, n, words);
    if (i < 0)
        return P_BAD;
    c->mail->ret = i == 0 ? DSN_RET_FULL : DSN_RET_HDRS;
    return P_OK;
}

static enum param_result p_envid(struct esmtp_ctx *c, const char *v, size_t n)
{
    size_t dlen;
    char *text;
    if (n == 0 || !xtext_decode(v, n, &text, &dlen))
        return P_BAD;
    if (dlen > ENVID_MAX) {
        free(text);
        return P_BAD;
    }
    c->mail->envid = text;
    return P_OK;
}

static enum param_result p_auth(struct esmtp_ctx *c, const char *v, size_t n)
{
    size_t dlen;
    char *text;
    if (n == 0 || !xtext_decode(v, n, &text, &dlen))
        return P_BAD;
    if (dlen > AUTH_MAX) {
        free(text);
        return P_BAD;
    }
    c->mail->auth = text;
    return P_OK;
}

/* NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static enum param_result p_notify(struct esmtp_ctx *c, const char *v, size_t n)
{
    static const char *const words[] = { "NEVER", "SUCCESS", "FAILURE", "DELAY", NULL };
    static const int bits[] = { DSN_NOTIFY_NEVER, DSN_NOTIFY_SUCCESS,
                                DSN_NOTIFY_FAILURE, DSN_NOTIFY_DELAY };
    int mask = 0;
    size_t i = 0;
    while (i <= n) {
        const char *comma = memchr(v + i, ',', n - i);
        size_t len = comma ? (size_t)(comma - (v + i)) : n - i;
        int w = word_index(v + i, len, words);
        if (w < 0 || (mask & bits[w]))
            return P_BAD;
        mask |= bits[w];
        i += len + 1;
    }
    if ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER)
        return P_BAD;
    c->rcpt->notify = mask;
    return P_OK;
}

/* ORCPT=addr-type;xtext (RFC 3461 4.2), kept as written. */
static enum param_result p_orcpt(struct esmtp_ctx *c, const char *v, size_t n)
{
    const char *semi = memchr(v, ';', n);
    size_t dlen;
    if (semi == NULL || semi == v || n > ORCPT_MAX)
        return P_BAD;
    for (const char *t = v; t < semi; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z')
              || (*t >= '0' && *t <= '9') || *t == '-'))
            return P_BAD;
    if (!xtext_decode(semi + 1, n - (size_t)(semi + 1 - v), NULL, &dlen))
        return P_BAD;
    c->rcpt->orcpt = xstrndup(v, n);
    return P_OK;
}

static const struct param_def params[] = {
    { "SIZE", CMD_MAIL, true, p_size, 501, "5.5.4", "Bad message size syntax" },
    { "BODY", CMD_MAIL, true, p_body, 501, "5.5.4", "Bad BODY parameter syntax" },
    { "SMTPUTF8", CMD_MAIL, false, p_smtputf8, 501, "5.5.4", "Bad SMTPUTF8 parameter syntax" },
    { "RET", CMD_MAIL, true, p_ret, 501, "5.5.4", "Bad RET parameter syntax" },
    { "ENVID", CMD_MAIL, true, p_envid, 501, "5.5.4", "Bad ENVID parameter syntax" },
    { "AUTH", CMD_MAIL, true, p_auth, 501, "5.5.4", "Bad AUTH parameter syntax" },
    { "NOTIFY", CMD_RCPT, true, p_notify, 501, "5.5.4", "Error: Bad NOTIFY parameter syntax" },
    { "ORCPT", CMD_RCPT, true, p_orcpt, 501, "5.5.4", "Error: Bad ORCPT parameter syntax" },
};
#define PARAM_COUNT (sizeof(params) / sizeof(params[0]))

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Handles one "keyword[=value]" token; seen has a bit per table entry. */
static bool parse_param(struct esmtp_ctx *c, int cmd, const char *tok, size_t n,
                        unsigned *seen)
{
    const char *eq = memchr(tok, '=', n);
    size_t klen = eq ? (size_t)(eq - tok) : n;
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        const struct param_def *d = &params[i];
        if (!(d->cmds & cmd) || strlen(d->name) != klen
            || strncasecmp(tok, d->name, klen) != 0)
            continue;
        if ((eq != NULL) != d->has_value)
            break;
        enum param_result r = P_BAD;
        if (!(*seen & (1u << i)))
            r = d->parse(c, eq ? eq + 1 : tok + n, eq ? n - klen - 1 : 0);
        *seen |= 1u << i;
        if (r == P_OK)
            return true;
        if (r == P_BAD)
            set_error(c->err, d->code, d->enhanced, d->text);
        else if (r == P_UNSUPPORTED)
            set_unsupported(c->err, tok, n);
        return false;
    }
    set_unsupported(c->err, tok, n);
    return false;
}

/* Parses the blank-separated parameters in s[0 .. n). */
static bool parse_params(struct esmtp_ctx *c, int cmd, const char *s, size_t n)
{
    unsigned seen = 0;
    size_t i = 0;
    for (;;) {
        while (i < n && is_blank(s[i]))
            i++;
        if (i == n)
            return true;
        size_t start = i;
        while (i < n && !is_blank(s[i]))
            i++;
        if (!parse_param(c, cmd, s + start, i - start, &seen))
            return false;
    }
}

/* What each command needs to know about its path and its replies. */
struct cmd_spec {
    int cmd;
    const char *keyword;        /* "FROM:" or "TO:" */
    const char *usage;          /* "Syntax: MAIL FROM:<address>" */
    const char *bad_enhanced;   /* 5.1.7 sender, 5.1.3 recipient */
    const char *bad_text;
};

static const struct cmd_spec mail_spec = {
    CMD_MAIL, "FROM:", "Syntax: MAIL FROM:<address>", "5.1.7", "Bad sender address syntax",
};
static const struct cmd_spec rcpt_spec = {
    CMD_RCPT, "TO:", "Syntax: RCPT TO:<address>", "5.1.3", "Bad recipient address syntax",
};

/*
 * Parses "FROM:<path> params" or "TO:<path> params" into addr and, through
 * the context, the parameters.
 */
static bool parse_command(const struct cmd_spec *spec, const char *arg, size_t len,
                          bool strict, struct smtp_address *addr,
                          struct esmtp_ctx *c)
{
    struct path_rules rules = {
        .allow_null = spec->cmd == CMD_MAIL, .allow_no_domain = !strict,
        .allow_postmaster = spec->cmd == CMD_RCPT, .relaxed_dots = !strict,
    };
    size_t klen = strlen(spec->keyword), i = 0, used = 0;
    while (i < len && is_blank(arg[i]))
        i++;
    if (len - i < klen || strncasecmp(arg + i, spec->keyword, klen) != 0) {
        set_error(c->err, 501, "5.5.4", spec->usage);
        return false;
    }
    i += klen;
    size_t blanks = i;
    while (i < len && is_blank(arg[i]))
        i++;
    if (i == len) {
        set_error(c->err, 501, "5.5.4", spec->usage);
        return false;
    }
    enum path_error e = PATH_SYNTAX;
    if (!strict || blanks == i)
        e = smtp_path_parse(arg + i, len - i, !strict, &rules, addr, &used);
    if (e == PATH_BAD_UTF8)
        set_error(c->err, 500, "5.5.2", "Error: bad UTF-8 syntax");
    else if (e != PATH_OK)
        set_error(c->err, 501, spec->bad_enhanced, spec->bad_text);
    if (e != PATH_OK)
        return false;
    i += used;
    return parse_params(c, spec->cmd, arg + i, len - i);
}

bool smtp_parse_mail(const char *arg, size_t len, bool strict,
                     struct smtp_mail_args *out, struct smtp_parse_error *err)
{
    memset(out, 0, sizeof(*out));
    out->size = -1;
    struct esmtp_ctx c = { .mail = out, .err = err };
    if (parse_command(&mail_spec, arg, len, strict, &out->addr, &c))
        return true;
    smtp_mail_args_free(out);
    return false;
}

bool smtp_parse_rcpt(const char *arg, size_t len, bool strict,
                     struct smtp_rcpt_args *out, struct smtp_parse_error *err)
{
    memset(out, 0, sizeof(*out));
    struct esmtp_ctx c = { .rcpt = out, .err = err };
    if (parse_command(&rcpt_spec, arg, len, strict, &out->addr, &c))
        return true;
    smtp_rcpt_args_free(out);
    return false;
}

void smtp_mail_args_free(struct smtp_mail_args *m)
{
    smtp_address_free(&m->addr);
    free(m->envid);
    free(m->auth);
    m->envid = m->auth = NULL;
}

void smtp_rcpt_args_free(struct smtp_rcpt_args *r)
{
    smtp_address_free(&r->addr);
    free(r->orcpt);
    r->orcpt = NULL;
}
