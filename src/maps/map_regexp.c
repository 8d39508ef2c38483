/*
 * regexp: and pcre: tables (regexp_table(5), pcre_table(5)), both on PCRE2:
 *
 *     /pattern/flags   result with $1 ${2} $(3) and $$
 *     !/pattern/flags  result           (no $n: nothing was matched)
 *     if /pattern/flags  ...  endif     (nestable, "if !/pattern/" too)
 *
 * Any non-alphanumeric, non-blank character may delimit the pattern; a
 * backslash escapes the delimiter. The first rule that applies wins.
 *
 * regexp: tables are POSIX extended expressions in Postfix. gatepost runs
 * them with PCRE2 set up to behave like POSIX: case-insensitive by default
 * (flag i toggles), '.' matches a newline and '$' only matches at the very
 * end unless flag m (multi-line) is given. What still differs: PCRE picks
 * the first alternative that matches where POSIX picks the longest, and a
 * backslash inside [...] is an escape in PCRE but a literal in POSIX. Flag
 * x (POSIX basic syntax) is refused. pcre: flags: i (default on) m s x A E
 * U, and X is accepted as a no-op (PCRE2 is always strict).
 *
 * Difference from Postfix: a rule Postfix would skip with a warning (bad
 * pattern, unknown flag, $n out of range, missing result, unbalanced
 * if/endif) makes the whole table fail to open, naming the file and line.
 *
 * Security: keys come from clients, so every match runs under PCRE2 match
 * and depth limits; hitting one is a lookup error (a temporary failure),
 * never a silent "not found".
 */
#include "maps/map_priv.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/log.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RX_MATCH_LIMIT 100000
#define RX_DEPTH_LIMIT 10000
/* Capture groups available to $n (and the ovector size). */
#define RX_GROUPS 100

enum rx_kind { RX_RULE, RX_IF, RX_ENDIF };

struct rx_rule {
    enum rx_kind kind;
    bool negate;
    pcre2_code *re;
    struct subst *result;   /* RX_RULE only */
    size_t endif;           /* RX_IF: index of the matching endif */
    int lineno;
};

struct rx_table {
    struct rx_rule *rules;
    size_t n, cap;
    pcre2_match_context *mctx;
    const char *origin;     /* for run-time messages (points into the spec) */
};

/* One parsed pattern: the text between delimiters and its options. */
struct rx_pattern {
    char *text;
    size_t len;
    uint32_t options;
    bool negate;
};

struct rx_parse {
    const char *origin;
    int lineno;
    bool pcre;
    char *why;
};

static bool rx_fail(struct rx_parse *ps, const char *fmt, const char *arg)
{
    char *msg = map_why(fmt, arg);
    ps->why = map_why("%s:%d: %s", ps->origin, ps->lineno, msg);
    free(msg);
    return false;
}

/* Applies one flag character; false if it is not a flag of this table type. */
static bool rx_flag(struct rx_parse *ps, char c, uint32_t *opt)
{
    if (c == 'i') {
        *opt ^= PCRE2_CASELESS;
        return true;
    }
    if (!ps->pcre) {
        if (c == 'm') {
            /* POSIX REG_NEWLINE: ^ $ at newlines and '.' stops at them. */
            *opt ^= PCRE2_MULTILINE | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
            return true;
        }
        return false;
    }
    static const struct { char c; uint32_t bit; } pcre_flags[] = {
        { 'm', PCRE2_MULTILINE }, { 's', PCRE2_DOTALL }, { 'x', PCRE2_EXTENDED },
        { 'A', PCRE2_ANCHORED }, { 'E', PCRE2_DOLLAR_ENDONLY }, { 'U', PCRE2_UNGREEDY },
        { 'X', 0 },
    };
    for (size_t i = 0; i < sizeof(pcre_flags) / sizeof(pcre_flags[0]); i++) {
        if (pcre_flags[i].c == c) {
            *opt ^= pcre_flags[i].bit;
            return true;
        }
    }
    return false;
}

/* Parses [!]/pattern/flags at *p (in place); advances *p past the flags. */
static bool rx_parse_pattern(struct rx_parse *ps, char **p, struct rx_pattern *pat)
{
    char *s = *p;
    pat->negate = false;
    if (*s == '!') {
        pat->negate = true;
        s++;
        while (isspace((unsigned char)*s))
            s++;
    }
    char delim = *s;
    if (delim == '\0' || isalnum((unsigned char)delim) || isspace((unsigned char)delim))
        return rx_fail(ps, "%s", "expected a /pattern/ (a delimited regular expression)");
    char *start = ++s;
    while (*s && *s != delim) {
        if (*s == '\\' && s[1] != '\0')
            s++;
        s++;
    }
    if (*s != delim) {
        char d[2] = { delim, '\0' };
        return rx_fail(ps, "no closing regexp delimiter \"%s\"", d);
    }
    pat->text = start;
    pat->len = (size_t)(s - start);
    *s++ = '\0';
    pat->options = ps->pcre ? PCRE2_CASELESS
                            : PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
    for (; *s && !isspace((unsigned char)*s); s++) {
        if (!ps->pcre && *s == 'x')
            return rx_fail(ps, "%s", "regexp option \"x\" (POSIX basic syntax) is not "
                                     "supported by gatepost");
        if (!rx_flag(ps, *s, &pat->options)) {
            char f[2] = { *s, '\0' };
            return rx_fail(ps, ps->pcre ? "unknown PCRE option \"%s\"" : "unknown regexp option \"%s\"", f);
        }
    }
    while (isspace((unsigned char)*s))
        s++;
    *p = s;
    return true;
}

static pcre2_code *rx_compile(struct rx_parse *ps, const struct rx_pattern *pat)
{
    int err = 0;
    PCRE2_SIZE off = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat->text, pat->len, pat->options, &err, &off,
                                   NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        char *full = map_why("error in regular expression at offset %zu: %s", (size_t)off,
                             (const char *)msg);
        rx_fail(ps, "%s", full);
        free(full);
    }
    return re;
}

static struct rx_rule *rx_add(struct rx_table *t, enum rx_kind kind, int lineno)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->rules = xrealloc(t->rules, t->cap * sizeof(*t->rules));
    }
    struct rx_rule *r = &t->rules[t->n++];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->lineno = lineno;
    return r;
}

/* Checks a rule's result template against its pattern. */
static bool rx_result(struct rx_parse *ps, struct rx_rule *r, const char *text)
{
    const char *why = NULL;
    if (*text == '\0')
        return rx_fail(ps, "%s", "no replacement text");
    r->result = subst_parse(text, &why);
    if (r->result == NULL)
        return rx_fail(ps, "%s", why);
    int groups = subst_max_group(r->result);
    if (groups > 0 && r->negate)
        return rx_fail(ps, "%s", "$number found in negative match replacement text");
    uint32_t count = 0;
    pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &count);
    if (groups > 0 && (uint32_t)groups > count) {
        char idx[16];
        snprintf(idx, sizeof(idx), "%d", groups);
        return rx_fail(ps, "out of range replacement index \"%s\"", idx);
    }
    return true;
}

static bool keyword(const char *p, const char *word)
{
    size_t n = strlen(word);
    return strncasecmp(p, word, n) == 0 && !isalnum((unsigned char)p[n]);
}

/* Parses one logical line; stack holds the indexes of open ifs. */
static bool rx_line(struct rx_parse *ps, struct rx_table *t, char *line, size_t *stack,
                    size_t *depth)
{
    char *p = line;
    if (keyword(p, "endif")) {
        p += 5;
        while (isspace((unsigned char)*p))
            p++;
        if (*p)
            return rx_fail(ps, "%s", "extra text after ENDIF");
        if (*depth == 0)
            return rx_fail(ps, "%s", "ENDIF without matching IF");
        t->rules[stack[--*depth]].endif = t->n;
        rx_add(t, RX_ENDIF, ps->lineno);
        return true;
    }
    bool is_if = keyword(p, "if");
    if (is_if) {
        p += 2;
        while (isspace((unsigned char)*p))
            p++;
    }
    struct rx_pattern pat;
    if (!rx_parse_pattern(ps, &p, &pat))
        return false;
    pcre2_code *re = rx_compile(ps, &pat);
    if (re == NULL)
        return false;
    struct rx_rule *r = rx_add(t, is_if ? RX_IF : RX_RULE, ps->lineno);
    r->re = re;
    r->negate = pat.negate;
    if (!is_if)
        return rx_result(ps, r, p);
    if (*p)
        return rx_fail(ps, "%s", "extra text after IF pattern");
    if (*depth >= MAP_NEST_MAX)
        return rx_fail(ps, "%s", "IF nesting is too deep");
    stack[(*depth)++] = t->n - 1;
    return true;
}

static void rx_free(struct rx_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        pcre2_code_free(t->rules[i].re);
        subst_free(t->rules[i].result);
    }
    free(t->rules);
    pcre2_match_context_free(t->mctx);
    free(t);
}

static void rx_close(struct map *m)
{
    rx_free(m->impl);
}

/* 1 match, 0 no match, -1 error (limit hit). */
static int rx_exec(const struct rx_table *t, const struct rx_rule *r, const char *key,
                   pcre2_match_data *md)
{
    int rc = pcre2_match(r->re, (PCRE2_SPTR)key, strlen(key), 0, 0, md, t->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    log_warning("%s, line %d: regular expression match failed (error %d) for a key of "
                "%zu bytes", t->origin, r->lineno, rc, strlen(key));
    return -1;
}

static enum map_status rx_apply(const struct rx_rule *r, const char *key, pcre2_match_data *md,
                                struct buf *value)
{
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    int pairs = (int)pcre2_get_ovector_count(md);
    /* Negated rules matched nothing: expand without groups. */
    if (!subst_expand(r->result, key, ov, r->negate ? 0 : pairs, value))
        return MAP_ERROR;
    return MAP_FOUND;
}

static enum map_status rx_lookup(const struct map *m, const char *key, struct buf *value)
{
    const struct rx_table *t = m->impl;
    pcre2_match_data *md = pcre2_match_data_create(RX_GROUPS, NULL);
    enum map_status st = MAP_NOTFOUND;
    size_t i = 0;
    while (i < t->n && st == MAP_NOTFOUND) {
        const struct rx_rule *r = &t->rules[i];
        if (r->kind == RX_ENDIF) {
            i++;
            continue;
        }
        int hit = rx_exec(t, r, key, md);
        if (hit < 0) {
            st = MAP_ERROR;
            break;
        }
        bool applies = (hit == 1) != r->negate;
        if (r->kind == RX_IF)
            i = applies ? i + 1 : r->endif + 1;
        else if (applies)
            st = rx_apply(r, key, md, value);
        else
            i++;
    }
    pcre2_match_data_free(md);
    return st;
}

static const struct map_ops rx_ops = { rx_lookup, rx_close };

struct map *map_regexp_parse(const char *spec, const char *text, const char *origin,
                             bool pcre, char **why)
{
    struct rx_table *t = xcalloc(1, sizeof(*t));
    struct rx_parse ps = { origin, 0, pcre, NULL };
    struct map_lines ml;
    size_t stack[MAP_NEST_MAX], depth = 0;
    int r;
    t->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(t->mctx, RX_MATCH_LIMIT);
    pcre2_set_depth_limit(t->mctx, RX_DEPTH_LIMIT);
    map_lines_init(&ml, text, origin);
    while ((r = map_lines_next(&ml, &ps.lineno, why)) > 0) {
        if (!rx_line(&ps, t, ml.line.data, stack, &depth)) {
            *why = ps.why;
            r = -1;
            break;
        }
    }
    map_lines_free(&ml);
    if (r == 0 && depth > 0) {
        ps.lineno = t->rules[stack[depth - 1]].lineno;
        rx_fail(&ps, "%s", "IF has no matching ENDIF");
        *why = ps.why;
        r = -1;
    }
    if (r < 0) {
        rx_free(t);
        return NULL;
    }
    struct map *m = map_new(spec, &rx_ops, t, true, false);
    t->origin = m->spec;
    return m;
}
