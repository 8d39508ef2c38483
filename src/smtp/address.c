/*
 * Envelope paths and domains (RFC 5321 4.1.2 and 4.1.3, RFC 6531 3.3).
 *
 * A path is located first (bracketed "<...>", or a bare token in the
 * default mode), its non-ASCII octets are checked to be UTF-8, and then it
 * is parsed as [A-d-l ":"] Mailbox. Source routes are checked and
 * dropped (RFC 5321 4.1.1.3 and appendix C). The local part is a
 * Dot-string or a Quoted-string; the domain a host name or an address
 * literal. Lengths follow RFC 5321 4.5.3.1.
 *
 * Security: control characters are refused everywhere, even inside
 * quotes, so no CR, LF or NUL ever reaches logs, queue files or headers
 * through an address; unbalanced brackets and quotes are errors rather
 * than being repaired, so two parsers can never disagree about where an
 * address ends. Only the bytes of the given range are read.
 */
#include "smtp/address_priv.h"

#include "base/xalloc.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z');
}

/* RFC 5322 atext, ASCII part. */
static bool is_atext(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

size_t smtp_utf8_len(const unsigned char *p, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned long cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* True if every non-ASCII octet in p[0 .. n) belongs to valid UTF-8. */
static bool utf8_valid(const char *p, size_t n, bool *has_8bit)
{
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        size_t k = smtp_utf8_len(u + i, n - i);
        if (k == 0)
            return false;
        if (k > 1)
            *has_8bit = true;
        i += k;
    }
    return true;
}

/* RFC 5321 IPv4-address-literal: four Snum (0-255) joined by dots. */
static bool valid_ipv4(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t digits = 0;
        unsigned value = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 3) {
            value = value * 10 + (unsigned)(s[i] - '0');
            i++, digits++;
        }
        if (digits == 0 || value > 255)
            return false;
    }
    return i == n;
}

/*
 * "[IPv4]" or "[IPv6:...]". General-address-literal tags other than
 * IPv6 are not registered, so they are refused.
 */
static bool valid_literal(const char *d, size_t n)
{
    if (n < 3 || d[0] != '[' || d[n - 1] != ']')
        return false;
    const char *in = d + 1;
    size_t len = n - 2;
    if (len > 5 && strncasecmp(in, "IPv6:", 5) == 0) {
        char tmp[INET6_ADDRSTRLEN + 1];
        struct in6_addr a;
        if (len - 5 >= sizeof(tmp))
            return false;
        memcpy(tmp, in + 5, len - 5);
        tmp[len - 5] = '\0';
        return inet_pton(AF_INET6, tmp, &a) == 1;
    }
    return valid_ipv4(in, len);
}

/*
 * RFC 1035 host name as restricted by RFC 5321 (Let-dig [Ldh-str]
 * labels), with UTF-8 labels when allow_8bit. The 63-octet label limit
 * applies to ASCII labels; a UTF-8 label's limit is that of its A-label,
 * which only the total length bounds here.
 */
static bool valid_hostname(const char *d, size_t n, bool allow_8bit)
{
    if (n == 0 || n > SMTP_DOMAIN_MAX)
        return false;
    size_t label = 0;
    bool label_8bit = false;
    const unsigned char *u = (const unsigned char *)d;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = u[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return false;
            label = 0, label_8bit = false;
            continue;
        }
        if (c >= 0x80) {
            size_t k = allow_8bit ? smtp_utf8_len(u + i, n - i) : 0;
            if (k == 0)
                return false;
            label += k, i += k - 1, label_8bit = true;
            continue;
        }
        if (!is_alnum(c) && (c != '-' || label == 0))
            return false;
        if (++label > 63 && !label_8bit)
            return false;
    }
    return label > 0 && d[n - 1] != '-';
}

static bool valid_domain(const char *d, size_t n, bool allow_8bit)
{
    if (n > SMTP_DOMAIN_MAX)
        return false;
    if (n > 0 && d[0] == '[')
        return valid_literal(d, n);
    return valid_hostname(d, n, allow_8bit);
}

bool smtp_valid_domain(const char *domain, bool allow_8bit)
{
    return domain != NULL && valid_domain(domain, strlen(domain), allow_8bit);
}

/* Length of the domain at s[0 .. n) that ends at one of the stop bytes. */
static size_t domain_span(const char *s, size_t n, const char *stops)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        while (i < n && s[i] != ']')
            i++;
        return i < n ? i + 1 : n;
    }
    while (i < n && strchr(stops, s[i]) == NULL)
        i++;
    return i;
}

/* Skips "@d1,@d2:" (RFC 5321 A-d-l), checking each domain. */
static bool skip_source_route(const char *s, size_t n, size_t *pos)
{
    size_t i = 0;
    for (;;) {
        if (i >= n || s[i] != '@')
            return false;
        i++;
        size_t d = domain_span(s + i, n - i, ",:");
        if (!valid_domain(s + i, d, true))
            return false;
        i += d;
        if (i >= n)
            return false;
        if (s[i++] == ':')
            break;
        if (s[i - 1] != ',')
            return false;
    }
    *pos = i;
    return true;
}

/* Quoted-string local part (RFC 5321 4.1.2 QcontentSMTP); s[0] is '"'. */
static bool scan_quoted(const char *s, size_t n, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 1;
    while (i < n) {
        unsigned char c = u[i];
        if (c == '"') {
            *len = i + 1;
            return true;
        }
        if (c == '\\') {
            if (i + 1 >= n || u[i + 1] < 32 || u[i + 1] > 126)
                return false;
            i += 2;
        } else if (c >= 0x80) {
            i += smtp_utf8_len(u + i, n - i);   /* validated beforehand */
        } else if (c >= 32 && c <= 126) {
            i++;
        } else {
            return false;
        }
    }
    return false;
}

/* Dot-string local part, up to '@' or the end. */
static bool scan_dot_string(const char *s, size_t n, bool relaxed, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n && u[i] != '@') {
        unsigned char c = u[i];
        if (c == '.') {
            if (!relaxed && (i == 0 || u[i - 1] == '.'))
                return false;
            i++;
        } else if (c >= 0x80) {
            i += smtp_utf8_len(u + i, n - i);
        } else if (is_atext(c)) {
            i++;
        } else {
            return false;
        }
    }
    if (i == 0 || (!relaxed && u[i - 1] == '.'))
        return false;
    *len = i;
    return true;
}

/* The local part without quotes and quoted-pair backslashes. */
static char *unquote(const char *s, size_t n)
{
    if (n < 2 || s[0] != '"')
        return xstrndup(s, n);
    char *out = xmalloc(n);
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] == '\\')
            i++;
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

static void fill_null(struct smtp_address *out)
{
    out->text = xstrdup("");
    out->localpart = xstrdup("");
    out->domain = xstrdup("");
    out->is_null = true;
}

/* Parses Mailbox (or a domainless local part) from s[0 .. n). */
static bool parse_mailbox(const char *s, size_t n, const struct path_rules *rules,
                          struct smtp_address *out)
{
    size_t local = 0;
    bool ok = n > 0 && s[0] == '"' ? scan_quoted(s, n, &local)
                                   : scan_dot_string(s, n, rules->relaxed_dots, &local);
    if (!ok || local > SMTP_LOCALPART_MAX)
        return false;
    char *unquoted = unquote(s, local);
    size_t dlen = 0;
    const char *domain = s + local;
    if (local == n) {
        bool postmaster = rules->allow_postmaster && strcasecmp(unquoted, "postmaster") == 0;
        ok = rules->allow_no_domain || postmaster;
    } else {
        domain++;
        dlen = n - local - 1;
        ok = s[local] == '@' && valid_domain(domain, dlen, true);
    }
    if (!ok) {
        free(unquoted);
        return false;
    }
    out->text = xstrndup(s, n);
    out->localpart = unquoted;
    out->domain = xstrndup(domain, dlen);
    out->domain_literal = dlen > 0 && domain[0] == '[';
    return true;
}

/* Finds the end of a bracketed path; s[0] is '<'. */
static bool find_close(const char *s, size_t n, size_t *close)
{
    bool quoted = false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '>') {
            *close = i;
            return true;
        } else if (c == '<') {
            return false;
        }
    }
    return false;
}

/* Finds the end of a bare path: the first blank outside quotes. */
static bool find_bare_end(const char *s, size_t n, size_t *end)
{
    bool quoted = false;
    size_t i = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (is_blank(c)) {
            break;
        } else if (c == '<' || c == '>') {
            return false;
        }
    }
    *end = i > n ? n : i;
    return !quoted && i > 0;
}

/* Locates the path's content: s[*start .. *start + *len). */
static bool locate_path(const char *s, size_t n, bool bare, size_t *start,
                        size_t *len, size_t *used)
{
    if (!bare || (n > 0 && s[0] == '<')) {
        size_t close;
        if (n == 0 || s[0] != '<' || !find_close(s, n, &close))
            return false;
        if (close + 1 < n && !is_blank(s[close + 1]))
            return false;
        *start = 1, *len = close - 1, *used = close + 1;
        return true;
    }
    size_t end;
    if (!find_bare_end(s, n, &end))
        return false;
    *start = 0, *len = end, *used = end;
    return true;
}

enum path_error smtp_path_parse(const char *s, size_t n, bool bare,
                                const struct path_rules *rules,
                                struct smtp_address *out, size_t *used)
{
    size_t start, len;
    memset(out, 0, sizeof(*out));
    if (!locate_path(s, n, bare, &start, &len, used))
        return PATH_SYNTAX;
    const char *p = s + start;
    bool has_8bit = false;
    if (!utf8_valid(p, len, &has_8bit))
        return PATH_BAD_UTF8;
    if (len + 2 > SMTP_PATH_MAX)
        return PATH_SYNTAX;
    if (len == 0) {
        if (start == 0 || !rules->allow_null)
            return PATH_SYNTAX;
        fill_null(out);
        return PATH_OK;
    }
    size_t route = 0;
    if (p[0] == '@' && !skip_source_route(p, len, &route))
        return PATH_SYNTAX;
    if (!parse_mailbox(p + route, len - route, rules, out))
        return PATH_SYNTAX;
    out->has_8bit = has_8bit;
    return PATH_OK;
}

bool smtp_parse_address(const char *text, size_t len, struct smtp_address *out,
                        struct smtp_parse_error *err)
{
    static const struct path_rules rules = {
        .allow_null = true, .allow_no_domain = true,
        .allow_postmaster = true, .relaxed_dots = true,
    };
    size_t i = 0, used = 0;
    while (i < len && is_blank(text[i]))
        i++;
    enum path_error e = smtp_path_parse(text + i, len - i, true, &rules, out, &used);
    i += used;
    while (e == PATH_OK && i < len && is_blank(text[i]))
        i++;
    if (e == PATH_OK && i == len)
        return true;
    smtp_address_free(out);
    err->code = e == PATH_BAD_UTF8 ? 500 : 501;
    err->enhanced = e == PATH_BAD_UTF8 ? "5.5.2" : "5.1.3";
    err->text = e == PATH_BAD_UTF8 ? "Error: bad UTF-8 syntax"
                                   : "Bad recipient address syntax";
    return false;
}

void smtp_address_free(struct smtp_address *a)
{
    free(a->text);
    free(a->localpart);
    free(a->domain);
    memset(a, 0, sizeof(*a));
}
