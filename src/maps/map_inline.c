/*
 * Tables whose contents are their name:
 *
 *   inline:{ key=value, { key = value with spaces } }   (Postfix 3.0 syntax)
 *   static:value   static:{value with spaces}           every key finds value
 *   fail:name                                           every lookup fails
 *
 * fail: exists so that tests (and administrators) can see how a broken
 * table is handled: it answers MAP_ERROR, never "not found".
 */
#include "maps/map_priv.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Entries of one inline table: at most this many. */
#define INLINE_ENTRIES_MAX 10000

static enum map_status inline_lookup(const struct map *m, const char *key, struct buf *value)
{
    const char *v = strtab_get(m->impl, key);
    if (v == NULL)
        return MAP_NOTFOUND;
    buf_reset(value);
    return buf_puts(value, v) ? MAP_FOUND : MAP_ERROR;
}

static void inline_close(struct map *m)
{
    strtab_free(m->impl);
}

static const struct map_ops inline_ops = { inline_lookup, inline_close };

/* Adds one "key=value" or "{ key = value }" item; NULL or a message. */
static char *inline_add(struct strtab *tab, char *item, const char *spec, unsigned flags)
{
    bool braced = item[0] == '{';
    if (braced)
        item = str_unbrace(item);
    char *eq = strchr(item, '=');
    if (eq == NULL)
        return map_why("missing '=' after attribute name: \"%s\"; need \"inline:{name=value...}\"",
                       spec);
    *eq = '\0';
    char *key = str_trim(item), *value = str_trim(eq + 1);
    if (*key == '\0')
        return map_why("empty name in \"%s\"; need \"inline:{name=value...}\"", spec);
    if (flags & MAP_FOLD_CASE)
        str_lower(key);
    /* Later duplicates are ignored, like a table file's. */
    (void)strtab_add(tab, key, value);
    return NULL;
}

struct map *map_inline_open(const char *spec, const char *name, unsigned flags, char **why)
{
    char *copy = xstrdup(name);
    char *body = str_trim(copy);
    size_t n = strlen(body);
    struct strtab *tab = strtab_new(8);
    *why = NULL;
    if (n < 2 || body[0] != '{' || body[n - 1] != '}') {
        *why = map_why("bad syntax: \"%s\"; need \"inline:{name=value...}\"", spec);
        goto fail;
    }
    body[n - 1] = '\0';
    char *cursor = body + 1, *item;
    bool unbalanced = false;
    while ((item = str_list_next(&cursor, STR_LIST_SEPARATORS, &unbalanced)) != NULL) {
        if (unbalanced) {
            *why = map_why("bad syntax: unbalanced '{' in \"%s\"", spec);
            goto fail;
        }
        if (strtab_count(tab) >= INLINE_ENTRIES_MAX) {
            *why = map_why("table %s: more than %d entries", spec, INLINE_ENTRIES_MAX);
            goto fail;
        }
        if ((*why = inline_add(tab, item, spec, flags)) != NULL)
            goto fail;
    }
    if (strtab_count(tab) == 0) {
        *why = map_why("bad syntax: \"%s\"; need \"inline:{name=value...}\"", spec);
        goto fail;
    }
    free(copy);
    return map_new(spec, &inline_ops, tab, false, (flags & MAP_FOLD_CASE) != 0);
fail:
    free(copy);
    strtab_free(tab);
    return NULL;
}

static enum map_status static_lookup(const struct map *m, const char *key, struct buf *value)
{
    buf_reset(value);
    return buf_puts(value, m->impl) ? MAP_FOUND : MAP_ERROR;
}

static void static_close(struct map *m)
{
    free(m->impl);
}

static const struct map_ops static_ops = { static_lookup, static_close };

struct map *map_static_open(const char *spec, const char *name, char **why)
{
    char *copy = xstrdup(name);
    char *value = copy;
    size_t n = strlen(copy);
    if (n >= 2 && copy[0] == '{' && copy[n - 1] == '}')
        value = str_unbrace(copy);
    else if (copy[0] == '{') {
        *why = map_why("bad syntax: \"%s\": missing '}'", spec);
        free(copy);
        return NULL;
    }
    char *kept = xstrdup(value);
    free(copy);
    return map_new(spec, &static_ops, kept, false, false);
}

static enum map_status fail_lookup(const struct map *m, const char *key, struct buf *value)
{
    return MAP_ERROR;
}

static const struct map_ops fail_ops = { fail_lookup, NULL };

struct map *map_fail_open(const char *spec, const char *name, char **why)
{
    return map_new(spec, &fail_ops, NULL, false, false);
}
