/*
 * cidr: tables (cidr_table(5)): the key is an IP address, the first rule
 * whose network contains it wins.
 *
 *     192.0.2.0/24        result
 *     [2001:db8::]/32     result          (brackets optional)
 *     !198.51.100.0/24    result          (Postfix 3.2 negation)
 *     if 192.0.2.0/24  ...  endif         (nestable, "if !net" too)
 *
 * A network with host bits set below its prefix is an error, as in Postfix
 * ("perhaps you should use ... instead"); unlike Postfix, which skips such
 * a rule with a warning, the table then fails to open. A key that is not
 * an address is simply not found. An IPv4-mapped IPv6 key (::ffff:a.b.c.d)
 * is matched as the IPv4 address.
 */
#include "maps/map_priv.h"

#include "base/netaddr.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum cidr_kind { CIDR_RULE, CIDR_IF, CIDR_ENDIF };

struct cidr_rule {
    enum cidr_kind kind;
    bool negate;
    struct netblock block;
    char *result;
    size_t endif;
};

struct cidr_table {
    struct cidr_rule *rules;
    size_t n, cap;
};

struct cidr_parse {
    const char *origin;
    int lineno;
    char *why;
};

static bool cidr_fail(struct cidr_parse *ps, char *msg)
{
    ps->why = map_why("%s:%d: %s", ps->origin, ps->lineno, msg);
    free(msg);
    return false;
}

static struct cidr_rule *cidr_add(struct cidr_table *t, enum cidr_kind kind)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->rules = xrealloc(t->rules, t->cap * sizeof(*t->rules));
    }
    struct cidr_rule *r = &t->rules[t->n++];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    return r;
}

/* The network the administrator probably meant for "addr/len" with host bits set. */
static void suggest_block(const char *text, char *out, size_t size)
{
    char addr[NETADDR_TEXT_MAX + 3];
    const char *slash = strrchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : 0;
    struct netblock b;
    out[0] = '\0';
    if (slash == NULL || n >= sizeof(addr))
        return;
    memcpy(addr, text, n);
    addr[n] = '\0';
    if (!netaddr_parse(addr, &b.base))
        return;
    int bits = b.base.family == AF_INET ? 32 : 128;
    b.prefix = atoi(slash + 1);
    if (b.prefix < 0 || b.prefix > bits)
        return;
    for (int i = b.prefix; i < bits; i++)
        b.base.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
    netblock_format(&b, out, size);
}

/* Parses [!]network[/len] at *p; advances *p past it and following blanks. */
static bool cidr_pattern(struct cidr_parse *ps, char **p, struct cidr_rule *r)
{
    char *s = *p;
    if (*s == '!') {
        r->negate = true;
        s++;
    }
    char *start = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    if (*s)
        *s++ = '\0';
    while (isspace((unsigned char)*s))
        s++;
    *p = s;
    const char *why = NULL;
    if (*start == '\0')
        return cidr_fail(ps, map_why("missing address pattern"));
    if (netblock_parse(start, &r->block, &why))
        return true;
    if (strcmp(why, "non-null host address bits") == 0) {
        char better[NETADDR_TEXT_MAX + 8];
        suggest_block(start, better, sizeof(better));
        return cidr_fail(ps, map_why("non-null host address bits in \"%s\", perhaps you "
                                     "should use \"%s\" instead", start, better));
    }
    if (strcmp(why, "bad network mask length") == 0)
        return cidr_fail(ps, map_why("bad mask length in \"%s\"", start));
    return cidr_fail(ps, map_why("bad address pattern: \"%s\"", start));
}

static bool keyword(const char *p, const char *word)
{
    size_t n = strlen(word);
    return strncasecmp(p, word, n) == 0 && (p[n] == '\0' || isspace((unsigned char)p[n]));
}

static bool cidr_line(struct cidr_parse *ps, struct cidr_table *t, char *line, size_t *stack,
                      size_t *depth)
{
    char *p = line;
    if (keyword(p, "endif")) {
        if (p[5] != '\0')
            return cidr_fail(ps, map_why("extra text after ENDIF"));
        if (*depth == 0)
            return cidr_fail(ps, map_why("ENDIF without matching IF"));
        t->rules[stack[--*depth]].endif = t->n;
        cidr_add(t, CIDR_ENDIF);
        return true;
    }
    bool is_if = keyword(p, "if");
    if (is_if) {
        p += 2;
        while (isspace((unsigned char)*p))
            p++;
    }
    struct cidr_rule rule;
    memset(&rule, 0, sizeof(rule));
    if (!cidr_pattern(ps, &p, &rule))
        return false;
    if (is_if && *p)
        return cidr_fail(ps, map_why("extra text after IF pattern"));
    if (!is_if && *p == '\0')
        return cidr_fail(ps, map_why("no lookup result"));
    if (is_if && *depth >= MAP_NEST_MAX)
        return cidr_fail(ps, map_why("IF nesting is too deep"));
    struct cidr_rule *r = cidr_add(t, is_if ? CIDR_IF : CIDR_RULE);
    r->negate = rule.negate;
    r->block = rule.block;
    if (is_if)
        stack[(*depth)++] = t->n - 1;
    else
        r->result = xstrdup(p);
    return true;
}

static void cidr_free(struct cidr_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->rules[i].result);
    free(t->rules);
    free(t);
}

static void cidr_close(struct map *m)
{
    cidr_free(m->impl);
}

static enum map_status cidr_lookup(const struct map *m, const char *key, struct buf *value)
{
    const struct cidr_table *t = m->impl;
    struct netaddr addr;
    if (!netaddr_parse(key, &addr))
        return MAP_NOTFOUND;
    size_t i = 0;
    while (i < t->n) {
        const struct cidr_rule *r = &t->rules[i];
        if (r->kind == CIDR_ENDIF) {
            i++;
            continue;
        }
        bool applies = netblock_contains(&r->block, &addr) != r->negate;
        if (r->kind == CIDR_IF) {
            i = applies ? i + 1 : r->endif + 1;
        } else if (applies) {
            buf_reset(value);
            return buf_puts(value, r->result) ? MAP_FOUND : MAP_ERROR;
        } else {
            i++;
        }
    }
    return MAP_NOTFOUND;
}

static const struct map_ops cidr_ops = { cidr_lookup, cidr_close };

struct map *map_cidr_parse(const char *spec, const char *text, const char *origin, char **why)
{
    struct cidr_table *t = xcalloc(1, sizeof(*t));
    struct cidr_parse ps = { origin, 0, NULL };
    struct map_lines ml;
    size_t stack[MAP_NEST_MAX], depth = 0;
    int r;
    map_lines_init(&ml, text, origin);
    while ((r = map_lines_next(&ml, &ps.lineno, why)) > 0) {
        if (!cidr_line(&ps, t, ml.line.data, stack, &depth)) {
            *why = ps.why;
            r = -1;
            break;
        }
    }
    map_lines_free(&ml);
    if (r == 0 && depth > 0) {
        cidr_fail(&ps, map_why("IF has no matching ENDIF"));
        *why = ps.why;
        r = -1;
    }
    if (r < 0) {
        cidr_free(t);
        return NULL;
    }
    return map_new(spec, &cidr_ops, t, true, false);
}
