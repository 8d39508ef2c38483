/*
 * Lookup tables behind one small interface, as in Postfix: a table is named
 * "type:name" and answers found (with a value), not found, or a temporary
 * error, three results kept distinct so that a broken table never turns
 * into a silent "not found".
 *
 * Types are registered in a table by name with their capabilities, checked
 * when the table is opened (at configuration load). Pattern tables
 * (regexp:, pcre:, cidr:) see only the full key; the caller's partial-key
 * search (parent domains, user@) is skipped for them, as in Postfix.
 *
 * Tables are opened at load and then used read-only; lookups may run on
 * any thread (the value goes into the caller's buffer).
 */
#ifndef GATEPOST_MAPS_MAPS_H
#define GATEPOST_MAPS_MAPS_H

#include "base/buf.h"
#include "base/diag.h"

#include <stdbool.h>

enum map_status { MAP_FOUND, MAP_NOTFOUND, MAP_ERROR };

/* Open flags. */
enum {
    MAP_FOLD_CASE = 1,      /* lowercase keys (the default for most uses) */
};

struct map;

/*
 * Opens "type:name" (inline:{...}, static:value, texthash:/path,
 * regexp:/path, pcre:/path or pcre:{...}, cidr:/path, unix:passwd.byname,
 * proxy:type:name, fail:name). On error returns NULL with *why set to a
 * message naming the table and the file line at fault.
 */
struct map *map_open(const char *spec, unsigned flags, char **why);
void map_close(struct map *m);
/*
 * Parses a file-based table type (texthash, regexp, pcre, cidr) from text
 * in memory instead of a file; name stands in for the file name in the
 * spec ("type:name") and in "name:line: problem" messages. For tests,
 * fuzzers and tools that check a table before installing it.
 */
struct map *map_open_text(const char *type, const char *text, const char *name,
                          unsigned flags, char **why);
/*
 * Looks key up. MAP_FOUND stores the value in *value (replacing its
 * contents); a value that does not fit value's cap is MAP_ERROR. Keys
 * longer than 1024 bytes are never found. Tables opened with MAP_FOLD_CASE
 * see the key lowercased.
 */
enum map_status map_lookup(struct map *m, const char *key, struct buf *value);
/* The "type:name" the table was opened with. */
const char *map_spec(const struct map *m);
/* True for regexp:, pcre:, cidr: (full-key only tables). */
bool map_is_pattern(const struct map *m);
/* True if spec names a table type gatepost knows ("hash:..." -> false). */
bool map_type_supported(const char *spec);

/*
 * A Postfix "maps" parameter value: several tables, searched in order until
 * one answers found or error. An empty list is valid and finds nothing.
 */
struct maplist;
struct maplist *maplist_open(const char *list, unsigned flags, char **why);
void maplist_close(struct maplist *ml);
enum map_status maplist_lookup(struct maplist *ml, const char *key, struct buf *value);
bool maplist_is_empty(const struct maplist *ml);
/* Number of tables and access to each (for partial-key search rules). */
size_t maplist_count(const struct maplist *ml);
struct map *maplist_get(const struct maplist *ml, size_t i);

#endif
