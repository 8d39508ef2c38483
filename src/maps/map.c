/*
 * The table registry and the generic half of every lookup.
 *
 * A table is named "type:name". The registry below says which types exist,
 * which are pattern tables (full-key lookups only), and how to open them;
 * Postfix types that gatepost does not implement yet are listed too, so a
 * configuration that names one fails at load with a message that says so
 * instead of "unknown".
 *
 * Security: keys come from SMTP clients. They are bounded here (longer keys
 * are simply not found) and case-folded here, so backends never see an
 * unbounded or unnormalised key.
 */
#include "maps/map_priv.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a type's name part is read. */
enum map_source {
    SRC_NAME,       /* the backend reads the name itself */
    SRC_FILE,       /* "/path" file, or "{ {rule}, ... }" when inline is allowed */
};

struct map_type {
    const char *name;
    enum map_source source;
    bool inline_rules;      /* type:{ {rule}, {rule} } accepted (Postfix 3.7) */
    /* For SRC_FILE: parse text into a table. */
    struct map *(*parse)(const char *spec, const char *type, const char *text,
                         const char *origin, unsigned flags, char **why);
    /* For SRC_NAME: open from the name. */
    struct map *(*open)(const char *spec, const char *name, unsigned flags, char **why);
};

static struct map *parse_texthash(const char *spec, const char *type, const char *text,
                                  const char *origin, unsigned flags, char **why)
{
    return map_texthash_parse(spec, text, origin, flags, why);
}

static struct map *parse_regexp(const char *spec, const char *type, const char *text,
                                const char *origin, unsigned flags, char **why)
{
    return map_regexp_parse(spec, text, origin, strcmp(type, "pcre") == 0, why);
}

static struct map *parse_cidr(const char *spec, const char *type, const char *text,
                              const char *origin, unsigned flags, char **why)
{
    return map_cidr_parse(spec, text, origin, why);
}

static struct map *open_static(const char *spec, const char *name, unsigned flags, char **why)
{
    return map_static_open(spec, name, why);
}

static struct map *open_fail(const char *spec, const char *name, unsigned flags, char **why)
{
    return map_fail_open(spec, name, why);
}

static const struct map_type map_types[] = {
    { "texthash", SRC_FILE, false, parse_texthash, NULL },
    { "regexp",   SRC_FILE, true,  parse_regexp,   NULL },
    { "pcre",     SRC_FILE, true,  parse_regexp,   NULL },
    { "cidr",     SRC_FILE, true,  parse_cidr,     NULL },
    { "inline",   SRC_NAME, false, NULL, map_inline_open },
    { "static",   SRC_NAME, false, NULL, open_static },
    { "unix",     SRC_NAME, false, NULL, map_unix_open },
    { "fail",     SRC_NAME, false, NULL, open_fail },
};

/* Postfix table types gatepost knows of but does not implement yet. */
static const char *const unsupported_types[] = {
    "hash", "btree", "dbm", "sdbm", "cdb", "lmdb", "ldap", "mysql", "pgsql",
    "sqlite", "memcache", "tcp", "socketmap", "nis", "nisplus", "netinfo",
    "environ", "pipemap", "unionmap", "randmap", "internal", "mongodb",
};

/* Indexed file formats whose text source texthash: reads directly. */
static bool is_indexed_file_type(const char *type)
{
    static const char *const indexed[] = { "hash", "btree", "dbm", "sdbm", "cdb", "lmdb" };
    for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++)
        if (strcmp(type, indexed[i]) == 0)
            return true;
    return false;
}

char *map_why(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s ? s : xstrdup("(message lost)");
}

static const struct map_type *find_type(const char *type)
{
    for (size_t i = 0; i < sizeof(map_types) / sizeof(map_types[0]); i++)
        if (strcmp(map_types[i].name, type) == 0)
            return &map_types[i];
    return NULL;
}

static bool is_unsupported(const char *type)
{
    for (size_t i = 0; i < sizeof(unsupported_types) / sizeof(unsupported_types[0]); i++)
        if (strcmp(unsupported_types[i], type) == 0)
            return true;
    return false;
}

struct map *map_new(const char *spec, const struct map_ops *ops, void *impl,
                    bool pattern, bool fold)
{
    struct map *m = xcalloc(1, sizeof(*m));
    m->spec = xstrdup(spec);
    m->ops = ops;
    m->impl = impl;
    m->pattern = pattern;
    m->fold = fold;
    return m;
}

/* Splits "type:name" into a fresh type string; NULL if there is no colon. */
static char *split_spec(const char *spec, const char **name)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL || colon == spec)
        return NULL;
    *name = colon + 1;
    return xstrndup(spec, (size_t)(colon - spec));
}

static char *unsupported_why(const char *type, const char *spec)
{
    if (is_indexed_file_type(type))
        return map_why("table type %s: is not supported by gatepost yet (in \"%s\"); "
                       "texthash: reads the same text file without postmap",
                       type, spec);
    return map_why("table type %s: is not supported by gatepost yet (in \"%s\")", type, spec);
}

static struct map *open_file_type(const struct map_type *t, const char *spec,
                                  const char *name, unsigned flags, char **why)
{
    char *text;
    const char *origin;
    if (name[0] == '{') {
        if (!t->inline_rules) {
            *why = map_why("table %s: inline {...} form is not available for type %s",
                           spec, t->name);
            return NULL;
        }
        text = map_inline_rules(t->name, name, why);
        origin = spec;
    } else if (name[0] == '/') {
        text = map_read_file(t->name, name, why);
        origin = name;
    } else {
        *why = map_why("table %s: need an absolute path name", spec);
        return NULL;
    }
    if (text == NULL)
        return NULL;
    struct map *m = t->parse(spec, t->name, text, origin, flags, why);
    free(text);
    return m;
}

static struct map *open_proxy(const char *spec, const char *inner, unsigned flags, char **why)
{
    /* No proxymap process: the inner table is opened directly, in-process. */
    if (strncmp(inner, "proxy:", 6) == 0) {
        *why = map_why("table %s: proxy: cannot be nested", spec);
        return NULL;
    }
    struct map *m = map_open(inner, flags, why);
    if (m != NULL) {
        free(m->spec);
        m->spec = xstrdup(spec);
    }
    return m;
}

struct map *map_open(const char *spec, unsigned flags, char **why)
{
    const char *name = NULL;
    char *type = split_spec(spec, &name);
    struct map *m = NULL;
    *why = NULL;
    if (type == NULL) {
        *why = map_why("bad table name \"%s\": need \"type:name\"", spec);
        return NULL;
    }
    const struct map_type *t = find_type(type);
    if (strcmp(type, "proxy") == 0) {
        m = open_proxy(spec, name, flags, why);
    } else if (t == NULL) {
        *why = is_unsupported(type) ? unsupported_why(type, spec)
                                    : map_why("unknown table type \"%s\" in \"%s\"", type, spec);
    } else if (*name == '\0') {
        *why = map_why("bad table name \"%s\": need \"type:name\"", spec);
    } else if (t->source == SRC_FILE) {
        m = open_file_type(t, spec, name, flags, why);
    } else {
        m = t->open(spec, name, flags, why);
    }
    free(type);
    return m;
}

struct map *map_open_text(const char *type, const char *text, const char *name,
                          unsigned flags, char **why)
{
    const struct map_type *t = find_type(type);
    *why = NULL;
    if (t == NULL || t->source != SRC_FILE) {
        *why = map_why("table type %s: has no text form", type);
        return NULL;
    }
    char *spec = xasprintf("%s:%s", type, name);
    struct map *m = t->parse(spec, t->name, text, name, flags, why);
    free(spec);
    return m;
}

void map_close(struct map *m)
{
    if (m == NULL)
        return;
    if (m->ops->close)
        m->ops->close(m);
    free(m->spec);
    free(m);
}

enum map_status map_lookup(struct map *m, const char *key, struct buf *value)
{
    size_t n = strlen(key);
    if (n > MAP_KEY_MAX)
        return MAP_NOTFOUND;
    if (!m->fold)
        return m->ops->lookup(m, key, value);
    char folded[MAP_KEY_MAX + 1];
    memcpy(folded, key, n + 1);
    str_lower(folded);
    return m->ops->lookup(m, folded, value);
}

const char *map_spec(const struct map *m)
{
    return m->spec;
}

bool map_is_pattern(const struct map *m)
{
    return m->pattern;
}

bool map_type_supported(const char *spec)
{
    const char *name = NULL;
    char *type = split_spec(spec, &name);
    if (type == NULL)
        return false;
    bool ok = find_type(type) != NULL;
    if (!ok && strcmp(type, "proxy") == 0)
        ok = map_type_supported(name);
    free(type);
    return ok;
}

/* Maximum number of tables in one maps parameter. */
#define MAPLIST_MAX 64

struct maplist {
    struct map **maps;
    size_t n;
};

struct maplist *maplist_open(const char *list, unsigned flags, char **why)
{
    size_t count = 0;
    char **items = str_list_split(list, STR_LIST_SEPARATORS, &count);
    struct maplist *ml = xcalloc(1, sizeof(*ml));
    *why = NULL;
    if (count > MAPLIST_MAX) {
        *why = map_why("too many tables (%zu, at most %d) in \"%s\"", count, MAPLIST_MAX, list);
        free(items);
        free(ml);
        return NULL;
    }
    ml->maps = xcalloc(count ? count : 1, sizeof(*ml->maps));
    for (size_t i = 0; i < count; i++) {
        ml->maps[i] = map_open(items[i], flags, why);
        if (ml->maps[i] == NULL) {
            free(items);
            maplist_close(ml);
            return NULL;
        }
        ml->n++;
    }
    free(items);
    return ml;
}

void maplist_close(struct maplist *ml)
{
    if (ml == NULL)
        return;
    for (size_t i = 0; i < ml->n; i++)
        map_close(ml->maps[i]);
    free(ml->maps);
    free(ml);
}

enum map_status maplist_lookup(struct maplist *ml, const char *key, struct buf *value)
{
    for (size_t i = 0; i < ml->n; i++) {
        enum map_status st = map_lookup(ml->maps[i], key, value);
        if (st != MAP_NOTFOUND)
            return st;
    }
    return MAP_NOTFOUND;
}

bool maplist_is_empty(const struct maplist *ml)
{
    return ml == NULL || ml->n == 0;
}

size_t maplist_count(const struct maplist *ml)
{
    return ml ? ml->n : 0;
}

struct map *maplist_get(const struct maplist *ml, size_t i)
{
    return i < ml->n ? ml->maps[i] : NULL;
}
