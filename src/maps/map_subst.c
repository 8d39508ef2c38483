/*
 * Result templates of regexp: and pcre: tables: "$1", "${1}" or "$(1)"
 * insert the text a group matched, "$$" is a literal '$'. Templates are
 * parsed once at load into literal and group pieces, so a lookup only
 * copies bytes; a reference that cannot work is a load error.
 */
#include "maps/map_priv.h"

#include "base/xalloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Highest group number a template may reference. */
#define SUBST_GROUP_MAX 99

struct subst_piece {
    const char *text;       /* literal (points into s->copy), or NULL for a group */
    size_t len;
    int group;
};

struct subst {
    char *copy;
    struct subst_piece *pieces;
    size_t n, cap;
    int max_group;
};

static void add_piece(struct subst *s, const char *text, size_t len, int group)
{
    if (text != NULL && len == 0)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->pieces = xrealloc(s->pieces, s->cap * sizeof(*s->pieces));
    }
    s->pieces[s->n++] = (struct subst_piece){ text, len, group };
    if (text == NULL && group > s->max_group)
        s->max_group = group;
}

/* Parses the name after '$' at p; returns the end, or NULL with *why. */
static const char *parse_ref(const char *p, int *group, const char **why)
{
    char close = 0;
    if (*p == '{')
        close = '}';
    else if (*p == '(')
        close = ')';
    const char *name = close ? p + 1 : p;
    const char *end = name;
    while (isalnum((unsigned char)*end) || *end == '_')
        end++;
    if (end == name) {
        *why = "bad replacement syntax: empty $name";
        return NULL;
    }
    if (close && *end != close) {
        *why = "bad replacement syntax: truncated ${...} reference";
        return NULL;
    }
    long value = 0;
    for (const char *q = name; q < end; q++) {
        if (!isdigit((unsigned char)*q)) {
            *why = "non-numeric replacement index";
            return NULL;
        }
        value = value * 10 + (*q - '0');
        if (value > SUBST_GROUP_MAX) {
            *why = "out of range replacement index";
            return NULL;
        }
    }
    *group = (int)value;
    return close ? end + 1 : end;
}

struct subst *subst_parse(const char *text, const char **why)
{
    struct subst *s = xcalloc(1, sizeof(*s));
    s->copy = xstrdup(text);
    const char *p = s->copy, *lit = p;
    while (*p) {
        if (*p != '$') {
            p++;
            continue;
        }
        add_piece(s, lit, (size_t)(p - lit), 0);
        if (p[1] == '$') {
            add_piece(s, p, 1, 0);
            p += 2;
        } else {
            int group = 0;
            const char *end = parse_ref(p + 1, &group, why);
            if (end == NULL) {
                subst_free(s);
                return NULL;
            }
            add_piece(s, NULL, 0, group);
            p = end;
        }
        lit = p;
    }
    add_piece(s, lit, (size_t)(p - lit), 0);
    return s;
}

int subst_max_group(const struct subst *s)
{
    return s->max_group;
}

bool subst_expand(const struct subst *s, const char *subject, const size_t *ovector,
                  int ngroups, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < s->n; i++) {
        const struct subst_piece *pc = &s->pieces[i];
        if (pc->text != NULL) {
            if (!buf_append(out, pc->text, pc->len))
                return false;
            continue;
        }
        if (pc->group >= ngroups)
            continue;
        size_t start = ovector[2 * pc->group], end = ovector[2 * pc->group + 1];
        /* An unset group is marked with all-ones offsets (PCRE2_UNSET). */
        if (start == SIZE_MAX || end < start)
            continue;
        if (!buf_append(out, subject + start, end - start))
            return false;
    }
    if (out->data == NULL)
        return buf_append(out, "", 0);
    return true;
}

void subst_free(struct subst *s)
{
    if (s == NULL)
        return;
    free(s->copy);
    free(s->pieces);
    free(s);
}
