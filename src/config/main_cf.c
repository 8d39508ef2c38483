/*
 * main.cf syntax: logical lines of the form "name = value". Whitespace
 * around "=" and at the end is not part of the value; a later entry for a
 * name replaces an earlier one (with Postfix's "overriding earlier entry"
 * warning); names are [A-Za-z0-9_]. Values are kept raw here: expansion and
 * type checks happen when a config is built (build.c), after master.cf -o
 * overrides are applied, as in Postfix.
 *
 * Settings are kept in file order with a hash index by name, so a large
 * file costs linear time.
 */
#include "config/config_internal.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;    /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/*
 * The index is open addressing over twice as many slots as there are item
 * slots, stored in the same block right after the items; a slot holds an
 * item position + 1, 0 marks an empty slot.
 */
static size_t *index_slots(const struct cfg_settings *s, size_t *cap)
{
    *cap = s->cap * 2;
    return s->cap ? (size_t *)(void *)(s->items + s->cap) : NULL;
}

static void index_insert(struct cfg_settings *s, size_t pos)
{
    size_t cap;
    size_t *slots = index_slots(s, &cap);
    size_t i = hash_name(s->items[pos].name) & (cap - 1);
    while (slots[i] != 0)
        i = (i + 1) & (cap - 1);
    slots[i] = pos + 1;
}

/* Grows items and rebuilds the index (items and index share one block). */
static void settings_grow(struct cfg_settings *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 32;
    size_t bytes = ncap * sizeof(struct cfg_setting) + 2 * ncap * sizeof(size_t);
    struct cfg_setting *items = xcalloc(1, bytes);
    if (s->count)
        memcpy(items, s->items, s->count * sizeof(*items));
    free(s->items);
    s->items = items;
    s->cap = ncap;
    for (size_t i = 0; i < s->count; i++)
        index_insert(s, i);
}

long cfg_settings_find(const struct cfg_settings *s, const char *name)
{
    if (s->cap == 0)
        return -1;
    size_t cap;
    size_t *slots = index_slots(s, &cap);
    for (size_t i = hash_name(name) & (cap - 1); slots[i] != 0; i = (i + 1) & (cap - 1))
        if (strcmp(s->items[slots[i] - 1].name, name) == 0)
            return (long)(slots[i] - 1);
    return -1;
}

long cfg_settings_put(struct cfg_settings *s, const char *name, const char *raw,
                      const char *file, int line, bool from_override)
{
    long old = cfg_settings_find(s, name);
    if (old >= 0) {
        struct cfg_setting *it = &s->items[old];
        free(it->raw);
        free(it->file);
        it->raw = xstrdup(raw);
        it->file = xstrdup(file ? file : "");
        it->line = line;
        it->from_override = from_override;
        return old;
    }
    if (s->count == s->cap)
        settings_grow(s);
    s->items[s->count] = (struct cfg_setting){ xstrdup(name), xstrdup(raw),
                                               xstrdup(file ? file : ""), line,
                                               from_override };
    index_insert(s, s->count);
    s->count++;
    return -1;
}

void cfg_settings_free(struct cfg_settings *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].name);
        free(s->items[i].raw);
        free(s->items[i].file);
    }
    free(s->items);
    memset(s, 0, sizeof(*s));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Splits "name = value" in place; false (reported) on a syntax error. */
static bool split_setting(char *text, char **name, char **value, const char *path,
                          int line, struct diag *diag)
{
    char *p = text;
    size_t nlen = strcspn(p, " \t\r\f\v=");
    if (nlen == 0) {
        diag_addf_at(diag, DIAG_ERROR, path, line, "missing attribute name");
        return false;
    }
    char *after = p + nlen;
    while (is_space(*after))
        after++;
    if (*after != '=') {
        diag_addf_at(diag, DIAG_ERROR, path, line,
                     "missing '=' after attribute name: \"%.*s\"", (int)nlen, p);
        return false;
    }
    if (!param_name_valid(p, nlen)) {
        diag_addf_at(diag, DIAG_ERROR, path, line,
                     "bad parameter name \"%.*s\": only letters, digits and _ are allowed",
                     (int)nlen, p);
        return false;
    }
    p[nlen] = '\0';
    after++;
    while (is_space(*after))
        after++;
    *name = p;
    *value = after;
    return true;
}

bool cfg_parse_main_cf(const char *text, const char *path, struct cfg_settings *s,
                       struct diag *diag)
{
    struct cfg_reader r;
    struct buf line;
    cfg_reader_init(&r, text, path);
    buf_init(&line, CONFIG_LINE_MAX);
    bool ok = true;
    int first = 0, rc;
    while ((rc = cfg_reader_next(&r, &line, &first, diag)) != 0) {
        char *name, *value;
        if (rc < 0 || !split_setting(line.data, &name, &value, path, first, diag)) {
            ok = false;
            continue;
        }
        if (cfg_settings_put(s, name, value, path, first, false) >= 0)
            diag_addf_at(diag, DIAG_WARNING, path, first,
                         "overriding earlier entry: %s=%.200s", name, value);
    }
    buf_free(&line);
    cfg_reader_free(&r);
    return ok;
}
