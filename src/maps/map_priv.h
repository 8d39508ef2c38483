/*
 * Internals shared by the table types: the struct map every backend fills
 * in, the reader that turns a table file into Postfix "logical lines", a
 * small read-only string hash, and the $n result templates of the pattern
 * tables.
 *
 * Invariants: a struct map is complete when its open function returns and
 * is never changed afterwards, so lookups may run on any thread. Backends
 * see keys that the map layer has already bounded (MAP_KEY_MAX) and, for
 * tables opened with MAP_FOLD_CASE, lowercased.
 */
#ifndef GATEPOST_MAPS_MAP_PRIV_H
#define GATEPOST_MAPS_MAP_PRIV_H

#include "base/buf.h"
#include "maps/maps.h"

#include <stdbool.h>
#include <stddef.h>

/* Longer keys are never found (no table holds them; no work is spent). */
#define MAP_KEY_MAX 1024
/* A table file larger than this is refused at open. */
#define MAP_FILE_MAX (64u * 1024 * 1024)
/* if..endif nesting depth accepted in pattern tables. */
#define MAP_NEST_MAX 64

struct map_ops {
    enum map_status (*lookup)(const struct map *m, const char *key, struct buf *value);
    void (*close)(struct map *m);
};

struct map {
    const struct map_ops *ops;
    char *spec;             /* "type:name" as opened */
    bool pattern;           /* regexp:, pcre:, cidr: (full key only) */
    bool fold;              /* lowercase keys before lookup */
    void *impl;             /* backend state */
};

/* Builds a map around a backend; spec is copied. */
struct map *map_new(const char *spec, const struct map_ops *ops, void *impl,
                    bool pattern, bool fold);

/*
 * Backend constructors. "name" is what follows "type:"; "text" is the
 * table body (file contents or inline rules turned into lines) and
 * "origin" the name used in "origin:line: problem" messages.
 */
struct map *map_texthash_parse(const char *spec, const char *text, const char *origin,
                               unsigned flags, char **why);
struct map *map_regexp_parse(const char *spec, const char *text, const char *origin,
                             bool pcre, char **why);
struct map *map_cidr_parse(const char *spec, const char *text, const char *origin,
                           char **why);
struct map *map_inline_open(const char *spec, const char *name, unsigned flags, char **why);
struct map *map_static_open(const char *spec, const char *name, char **why);
struct map *map_fail_open(const char *spec, const char *name, char **why);
struct map *map_unix_open(const char *spec, const char *name, unsigned flags, char **why);

/*
 * Logical lines of a Postfix table file: blank lines and lines whose first
 * non-blank character is '#' are skipped, a line that starts with
 * whitespace continues the previous one (joined with one space). The
 * reader works on a private copy of the text.
 */
struct map_lines {
    char *text;             /* private copy, consumed */
    char *pos;
    int lineno;             /* physical line of the next read */
    struct buf line;        /* current logical line */
    const char *origin;
};
void map_lines_init(struct map_lines *ml, const char *text, const char *origin);
void map_lines_free(struct map_lines *ml);
/*
 * Next logical line into ml->line; *lineno gets the line it started on.
 * Returns 1 for a line, 0 at the end, -1 on error (*why set).
 */
int map_lines_next(struct map_lines *ml, int *lineno, char **why);

/* Reads a table file (bounded by MAP_FILE_MAX); NULL with *why on failure. */
char *map_read_file(const char *type, const char *path, char **why);

/*
 * Turns the inline form "{ {rule 1}, {rule 2} }" of a pattern table into
 * text with one rule a line. NULL with *why when the braces are wrong.
 */
char *map_inline_rules(const char *type, const char *name, char **why);

/* Formats an error into a fresh string for *why. */
char *map_why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A read-only string table (texthash:, inline:). */
struct strtab;
struct strtab *strtab_new(size_t expected);
/* Adds key (copied); false if the key was already present (first one stays). */
bool strtab_add(struct strtab *t, const char *key, const char *value);
const char *strtab_get(const struct strtab *t, const char *key);
size_t strtab_count(const struct strtab *t);
void strtab_free(struct strtab *t);

/*
 * A result template with $1 ${1} $(1) references and $$ for '$'.
 * max_group is the highest group referenced (0 for none).
 */
struct subst;
struct subst *subst_parse(const char *text, const char **why);
int subst_max_group(const struct subst *s);
/*
 * Expands into out using subject and ovector pairs (start, end) for groups
 * 0..ngroups-1; unset groups expand to nothing. False if out is full.
 */
bool subst_expand(const struct subst *s, const char *subject, const size_t *ovector,
                  int ngroups, struct buf *out);
void subst_free(struct subst *s);

#endif
