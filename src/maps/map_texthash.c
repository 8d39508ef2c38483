/*
 * texthash: tables, the postmap(1) source format read directly into memory:
 *
 *     key     value text
 *
 * one entry a logical line, key and value separated by whitespace. Keys
 * are lowercased at load when the table is opened with MAP_FOLD_CASE
 * (lookups are folded the same way by the map layer). A duplicate key keeps
 * the first entry, as Postfix does, with a warning.
 *
 * Deliberate difference from Postfix: a line without a value is an error
 * (Postfix warns and skips it). An access table with a silently ignored
 * line is a hole nobody sees.
 */
#include "maps/map_priv.h"

#include "base/log.h"
#include "base/strutil.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static enum map_status texthash_lookup(const struct map *m, const char *key, struct buf *value)
{
    const char *v = strtab_get(m->impl, key);
    if (v == NULL)
        return MAP_NOTFOUND;
    buf_reset(value);
    return buf_puts(value, v) ? MAP_FOUND : MAP_ERROR;
}

static void texthash_close(struct map *m)
{
    strtab_free(m->impl);
}

static const struct map_ops texthash_ops = { texthash_lookup, texthash_close };

/* Splits a logical line into key and value in place; false if there is no value. */
static bool split_entry(char *line, char **key, char **value)
{
    char *p = line;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p == '\0')
        return false;
    *p++ = '\0';
    while (isspace((unsigned char)*p))
        p++;
    *key = line;
    *value = p;
    return *p != '\0';
}

struct map *map_texthash_parse(const char *spec, const char *text, const char *origin,
                               unsigned flags, char **why)
{
    struct map_lines ml;
    struct strtab *tab = strtab_new(64);
    int lineno = 0, r;
    map_lines_init(&ml, text, origin);
    while ((r = map_lines_next(&ml, &lineno, why)) > 0) {
        char *key, *value;
        if (!split_entry(ml.line.data, &key, &value)) {
            *why = map_why("%s:%d: expected format: key whitespace value", origin, lineno);
            r = -1;
            break;
        }
        if (flags & MAP_FOLD_CASE)
            str_lower(key);
        if (!strtab_add(tab, key, value))
            log_warning("%s:%d: duplicate entry: \"%s\" (the first one is used)", origin,
                        lineno, key);
    }
    map_lines_free(&ml);
    if (r < 0) {
        strtab_free(tab);
        return NULL;
    }
    return map_new(spec, &texthash_ops, tab, false, (flags & MAP_FOLD_CASE) != 0);
}
