/*
 * Reading table text the way postmap(1) does: files bounded in size,
 * logical lines (continuations, comments, blank lines), and the Postfix 3.7
 * inline form "type:{ {rule}, {rule} }" turned into one rule a line.
 *
 * Invariants: every line handed to a parser has no trailing whitespace and
 * does not start with whitespace; line numbers are those of the physical
 * line where the logical line began, for "file:line: problem" messages.
 */
#include "maps/map_priv.h"

#include "base/fileio.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *map_read_file(const char *type, const char *path, char **why)
{
    size_t len = 0;
    errno = 0;
    char *text = fileio_read(path, MAP_FILE_MAX, &len);
    if (text == NULL) {
        if (errno == EFBIG)
            *why = map_why("table %s:%s: file is larger than %u bytes", type, path,
                           MAP_FILE_MAX);
        else
            *why = map_why("table %s:%s: cannot read %s: %s", type, path, path,
                           strerror(errno));
        return NULL;
    }
    if (strlen(text) != len) {
        *why = map_why("%s: file contains a null byte", path);
        free(text);
        return NULL;
    }
    return text;
}

void map_lines_init(struct map_lines *ml, const char *text, const char *origin)
{
    ml->text = xstrdup(text);
    ml->pos = ml->text;
    ml->lineno = 1;
    buf_init(&ml->line, 0);
    ml->origin = origin;
}

void map_lines_free(struct map_lines *ml)
{
    free(ml->text);
    ml->text = ml->pos = NULL;
    buf_free(&ml->line);
}

/* Takes the next physical line (without its newline); NULL at the end. */
static char *next_physical(struct map_lines *ml)
{
    if (*ml->pos == '\0')
        return NULL;
    char *line = ml->pos;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        ml->pos = nl + 1;
    } else {
        ml->pos = line + strlen(line);
    }
    ml->lineno++;
    return line;
}

/* Blank and comment lines are transparent: they neither start nor end a logical line. */
static bool is_skippable(const char *line)
{
    while (isspace((unsigned char)*line))
        line++;
    return *line == '\0' || *line == '#';
}

/*
 * Peeks whether the next physical line that is not blank or a comment
 * starts with whitespace, i.e. continues the current logical line.
 */
static bool next_is_continuation(const struct map_lines *ml)
{
    const char *p = ml->pos;
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        const char *q = p;
        while (q < end && isspace((unsigned char)*q))
            q++;
        if (q < end && *q != '#')
            return q != p;
        if (nl == NULL)
            return false;
        p = nl + 1;
    }
    return false;
}

static void trim_right(struct buf *b)
{
    while (b->len > 0 && isspace((unsigned char)b->data[b->len - 1]))
        b->data[--b->len] = '\0';
}

int map_lines_next(struct map_lines *ml, int *lineno, char **why)
{
    char *line;
    buf_reset(&ml->line);
    do {
        *lineno = ml->lineno;
        line = next_physical(ml);
        if (line == NULL)
            return 0;
    } while (is_skippable(line));
    if (isspace((unsigned char)line[0])) {
        *why = map_why("%s:%d: logical line must not start with whitespace", ml->origin,
                       *lineno);
        return -1;
    }
    buf_puts(&ml->line, line);
    while (next_is_continuation(ml)) {
        /* The look-ahead found a continuation: skip to it in one pass. */
        while ((line = next_physical(ml)) != NULL && is_skippable(line))
            ;
        if (line == NULL)
            break;
        buf_puts(&ml->line, line);
    }
    trim_right(&ml->line);
    return 1;
}

/* Rules of an inline pattern table: at most this many. */
#define INLINE_RULES_MAX 10000

char *map_inline_rules(const char *type, const char *name, char **why)
{
    char *copy = xstrdup(name);
    char *body = str_trim(copy);
    size_t n = strlen(body);
    struct buf out;
    buf_init(&out, 0);
    if (n < 2 || body[0] != '{' || body[n - 1] != '}') {
        *why = map_why("%s map: need \"%s:{ {rule}, {rule}... }\" instead of \"%s:%s\"",
                       type, type, type, name);
        goto fail;
    }
    body[n - 1] = '\0';
    body++;
    char *cursor = body, *item;
    bool unbalanced = false;
    size_t rules = 0;
    while ((item = str_list_next(&cursor, STR_LIST_SEPARATORS, &unbalanced)) != NULL) {
        size_t len = strlen(item);
        if (item[0] != '{') {
            *why = map_why("%s map: no '{' at start of text in \"%s\"", type, item);
            goto fail;
        }
        if (unbalanced || item[len - 1] != '}') {
            *why = map_why("%s map: missing '}' in \"%s\"", type, item);
            goto fail;
        }
        if (++rules > INLINE_RULES_MAX) {
            *why = map_why("%s map: more than %d inline rules", type, INLINE_RULES_MAX);
            goto fail;
        }
        buf_puts(&out, str_unbrace(item));
        buf_putc(&out, '\n');
    }
    free(copy);
    return out.data ? buf_steal(&out) : xstrdup("");
fail:
    free(copy);
    buf_free(&out);
    return NULL;
}
