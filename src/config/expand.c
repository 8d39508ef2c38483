/*
 * $name expansion with Postfix's syntax (postconf(5), "parameter value may
 * refer to other parameters"):
 *
 *   $name ${name} $(name)        value of name ("" when undefined)
 *   ${name?value} ${name?{value}} value when $name is non-empty
 *   ${name:value} ${name:{value}} value when $name is empty
 *   ${name?{value1}:{value2}}    either one; braces optional for value2
 *   ${{a} == {b}?{x}:{y}}        relational test: == != < <= > >= (numeric
 *                                when both sides are digits), and the same
 *                                operators suffixed "level" for
 *                                compatibility levels such as 3.6
 *   $$                           a literal "$"
 *
 * "$" followed by anything else is literal. The ? and : forms test the raw
 * (unexpanded) text of name, as Postfix does. Whitespace around a {value}
 * is ignored. Nested ${...} are limited to CONFIG_BRACE_DEPTH open levels
 * (counted across the caller's nested expansions when it shares a counter)
 * and the output to the capacity of the caller's buffer; recursion through
 * other parameters is the caller's business (ops->value).
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <string.h>

struct expander {
    const struct expand_ops *ops;
    char *why;
    size_t why_size;
    int *depth;         /* open ${...} levels (shared, see expand_ops) */
};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '_';
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool fail(struct expander *e, const char *fmt, const char *s, size_t n)
{
    int shown = (int)(n > 60 ? 60 : n);
    snprintf(e->why, e->why_size, fmt, shown, s, n > 60 ? "..." : "");
    return false;
}

static bool put(struct expander *e, struct buf *out, const char *s, size_t n)
{
    if (n == 0 || buf_append(out, s, n))
        return true;
    snprintf(e->why, e->why_size, "expanded value is longer than %zu bytes", out->max);
    return false;
}

/* Index of the close matching s[open_at] (which is open), or n if none. */
static size_t match_close(const char *s, size_t n, size_t open_at, char open, char close)
{
    int level = 0;
    for (size_t i = open_at; i < n; i++) {
        if (s[i] == open)
            level++;
        else if (s[i] == close && --level == 0)
            return i;
    }
    return n;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && is_ws(s[i]))
        i++;
    return i;
}

static bool expand_span(struct expander *e, const char *s, size_t n, struct buf *out);

static bool substitute(struct expander *e, const char *name, size_t len, struct buf *out)
{
    bool undefined = false;
    const char *v = e->ops->value(e->ops->ctx, name, len, &undefined);
    if (v)
        return put(e, out, v, strlen(v));
    if (undefined)
        return true;
    e->why[0] = '\0';   /* already reported where it went wrong */
    return false;
}

/* A "{...}" at s[*i]: sets [*a, *b) to its inside and moves *i past it. */
static bool braced_operand(struct expander *e, const char *s, size_t n, size_t *i,
                           size_t *a, size_t *b)
{
    size_t close = match_close(s, n, *i, '{', '}');
    if (close == n)
        return fail(e, "unbalanced '{' in \"%.*s%s\"", s + *i, n - *i);
    *a = skip_ws(s, close, *i + 1);
    *b = close;
    while (*b > *a && is_ws(s[*b - 1]))
        (*b)--;
    *i = close + 1;
    return true;
}

/* ---- relational expressions ---- */

enum relop { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

static const struct { const char *text; enum relop op; } relops[] = {
    { "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
    { "<", OP_LT }, { ">", OP_GT },
};

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int compare_numbers(const char *a, const char *b)
{
    while (*a == '0' && a[1])
        a++;
    while (*b == '0' && b[1])
        b++;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

/* "major[.minor[.patch]]" into three numbers; false if malformed. */
static bool parse_level(const char *s, long parts[3])
{
    parts[0] = parts[1] = parts[2] = 0;
    for (int k = 0; k < 3; k++) {
        if (*s < '0' || *s > '9')
            return false;
        long v = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            v = v * 10 + (*s - '0');
            if (v > 1000000)
                return false;
        }
        parts[k] = v;
        if (*s == '\0')
            return true;
        if (*s != '.')
            return false;
        s++;
    }
    return false;
}

static bool compare_levels(struct expander *e, const char *a, const char *b, int *cmp)
{
    long pa[3], pb[3];
    if (!parse_level(a, pa))
        return fail(e, "bad compatibility level \"%.*s%s\"", a, strlen(a));
    if (!parse_level(b, pb))
        return fail(e, "bad compatibility level \"%.*s%s\"", b, strlen(b));
    *cmp = 0;
    for (int k = 0; k < 3 && *cmp == 0; k++)
        *cmp = pa[k] < pb[k] ? -1 : pa[k] > pb[k];
    return true;
}

static bool relop_holds(enum relop op, int cmp)
{
    switch (op) {
    case OP_EQ: return cmp == 0;
    case OP_NE: return cmp != 0;
    case OP_LT: return cmp < 0;
    case OP_LE: return cmp <= 0;
    case OP_GT: return cmp > 0;
    case OP_GE: return cmp >= 0;
    }
    return false;
}

static bool parse_relop(struct expander *e, const char *s, size_t n, size_t *i,
                        enum relop *op, bool *level)
{
    for (size_t k = 0; k < sizeof(relops) / sizeof(relops[0]); k++) {
        size_t len = strlen(relops[k].text);
        if (n - *i >= len && memcmp(s + *i, relops[k].text, len) == 0) {
            *op = relops[k].op;
            *i += len;
            *level = n - *i >= 5 && memcmp(s + *i, "level", 5) == 0;
            if (*level)
                *i += 5;
            return true;
        }
    }
    return fail(e, "missing relational operator in \"%.*s%s\"", s + *i, n - *i);
}

/* Expands s[a, b) into a fresh buffer with the same cap as out. */
static bool expand_operand(struct expander *e, const char *s, size_t a, size_t b,
                           size_t cap, struct buf *tmp)
{
    buf_init(tmp, cap);
    if (expand_span(e, s + a, b - a, tmp))
        return true;
    buf_free(tmp);
    return false;
}

/* "{a} op {b}" at s[*i]: the truth of the comparison. */
static bool relational(struct expander *e, const char *s, size_t n, size_t *i,
                       size_t cap, bool *truth)
{
    size_t a1, a2, b1, b2;
    enum relop op;
    bool level;
    if (!braced_operand(e, s, n, i, &a1, &a2))
        return false;
    *i = skip_ws(s, n, *i);
    if (!parse_relop(e, s, n, i, &op, &level))
        return false;
    *i = skip_ws(s, n, *i);
    if (*i >= n || s[*i] != '{')
        return fail(e, "missing {value} after relational operator in \"%.*s%s\"", s, n);
    if (!braced_operand(e, s, n, i, &b1, &b2))
        return false;
    struct buf left, right;
    if (!expand_operand(e, s, a1, a2, cap, &left))
        return false;
    if (!expand_operand(e, s, b1, b2, cap, &right)) {
        buf_free(&left);
        return false;
    }
    const char *l = buf_cstr(&left), *r = buf_cstr(&right);
    int cmp;
    bool ok = true;
    if (level)
        ok = compare_levels(e, l, r, &cmp);
    else
        cmp = all_digits(l) && all_digits(r) ? compare_numbers(l, r) : strcmp(l, r);
    if (ok)
        *truth = relop_holds(op, cmp);
    buf_free(&left);
    buf_free(&right);
    return ok;
}

/* ---- conditional forms ---- */

/* After '?' (when_true) or ':' at s[i]: expands the chosen value if any. */
static bool conditional(struct expander *e, const char *s, size_t n, size_t i,
                        bool cond, bool question, struct buf *out)
{
    size_t p = skip_ws(s, n, i);
    if (p >= n || s[p] != '{') {
        /* Unbraced value: everything after the operator. */
        bool wanted = question ? cond : !cond;
        return wanted ? expand_span(e, s + i, n - i, out) : true;
    }
    size_t a1, a2;
    if (!braced_operand(e, s, n, &p, &a1, &a2))
        return false;
    p = skip_ws(s, n, p);
    if (p == n) {
        bool wanted = question ? cond : !cond;
        return wanted ? expand_span(e, s + a1, a2 - a1, out) : true;
    }
    if (!question || s[p] != ':')
        return fail(e, "unexpected text after {value} in \"%.*s%s\"", s + p, n - p);
    if (cond)
        return expand_span(e, s + a1, a2 - a1, out);
    size_t q = skip_ws(s, n, p + 1);
    if (q < n && s[q] == '{') {
        size_t b1, b2;
        if (!braced_operand(e, s, n, &q, &b1, &b2))
            return false;
        if (skip_ws(s, n, q) != n)
            return fail(e, "unexpected text after {value} in \"%.*s%s\"", s + q, n - q);
        return expand_span(e, s + b1, b2 - b1, out);
    }
    return expand_span(e, s + p + 1, n - p - 1, out);
}

/* The inside of ${...} or $(...). */
static bool expand_braced(struct expander *e, const char *s, size_t n, struct buf *out)
{
    bool cond;
    size_t i = skip_ws(s, n, 0);
    if (i < n && s[i] == '{') {
        if (!relational(e, s, n, &i, out->max, &cond))
            return false;
        i = skip_ws(s, n, i);
        if (i >= n || (s[i] != '?' && s[i] != ':'))
            return fail(e, "missing '?' or ':' after relational expression \"%.*s%s\"", s, n);
    } else {
        size_t start = i = 0;   /* no blanks before a name */
        while (i < n && name_char(s[i]))
            i++;
        if (i == start)
            return fail(e, "bad parameter name in \"${%.*s%s}\"", s, n);
        if (i == n)
            return substitute(e, s + start, i - start, out);
        if (s[i] != '?' && s[i] != ':')
            return fail(e, "unexpected character after parameter name in \"${%.*s%s}\"", s, n);
        cond = e->ops->nonempty(e->ops->ctx, s + start, i - start);
    }
    return conditional(e, s, n, i + 1, cond, s[i] == '?', out);
}

static bool dollar_braced(struct expander *e, const char *s, size_t n, size_t *i,
                          struct buf *out)
{
    char open = s[*i + 1], close = open == '{' ? '}' : ')';
    size_t end = match_close(s, n, *i + 1, open, close);
    if (end == n)
        return fail(e, open == '{' ? "unbalanced '{' in \"%.*s%s\""
                                   : "unbalanced '(' in \"%.*s%s\"", s + *i, n - *i);
    if (*e->depth >= CONFIG_BRACE_DEPTH) {
        snprintf(e->why, e->why_size, "more than %d nested ${...} expressions",
                 CONFIG_BRACE_DEPTH);
        return false;
    }
    (*e->depth)++;
    bool ok = expand_braced(e, s + *i + 2, end - *i - 2, out);
    (*e->depth)--;
    *i = end + 1;
    return ok;
}

static bool expand_span(struct expander *e, const char *s, size_t n, struct buf *out)
{
    size_t i = 0;
    while (i < n) {
        const char *dollar = memchr(s + i, '$', n - i);
        size_t run = dollar ? (size_t)(dollar - (s + i)) : n - i;
        if (run && !put(e, out, s + i, run))
            return false;
        i += run;
        if (i >= n)
            break;
        char d = i + 1 < n ? s[i + 1] : '\0';
        if (d == '$') {
            if (!put(e, out, "$", 1))
                return false;
            i += 2;
        } else if (name_char(d)) {
            size_t j = i + 1;
            while (j < n && name_char(s[j]))
                j++;
            if (!substitute(e, s + i + 1, j - i - 1, out))
                return false;
            i = j;
        } else if (d == '{' || d == '(') {
            if (!dollar_braced(e, s, n, &i, out))
                return false;
        } else {
            if (!put(e, out, "$", 1))
                return false;
            i++;
        }
    }
    return true;
}

bool cfg_expand_text(const struct expand_ops *ops, const char *text, size_t len,
                     struct buf *out, char *why_buf, size_t why_size)
{
    int own_depth = 0;
    struct expander e = { ops, why_buf, why_size, ops->nesting ? ops->nesting : &own_depth };
    why_buf[0] = '\0';
    return expand_span(&e, text, len, out);
}

void cfg_scan_references(const char *text, void (*fn)(void *arg, const char *name, size_t len),
                         void *arg)
{
    for (const char *p = strchr(text, '$'); p; p = strchr(p, '$')) {
        p++;
        if (*p == '$') {
            p++;
            continue;
        }
        if (*p == '{' || *p == '(')
            p++;
        const char *start = p;
        while (name_char(*p))
            p++;
        if (p > start)
            fn(arg, start, (size_t)(p - start));
    }
}
