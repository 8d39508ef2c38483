/*
 * Logical lines of main.cf and master.cf, as Postfix reads them: blank and
 * whitespace-only lines and lines whose first non-blank character is '#'
 * are skipped (also between continuation lines); a line that starts with
 * whitespace continues the previous logical line; a "#" later in a line is
 * ordinary text.
 *
 * Each logical line remembers which physical line each piece came from, so
 * that master.cf can name the line of every -o override. A logical line is
 * capped at CONFIG_LINE_MAX bytes.
 */
#include "config/config_internal.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

void cfg_reader_init(struct cfg_reader *r, const char *text, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    r->pos = text;
}

void cfg_reader_free(struct cfg_reader *r)
{
    free(r->segs);
    r->segs = NULL;
    r->nsegs = r->segcap = 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The physical line at pos: [start, start+len) without the newline. */
struct phys_line {
    const char *start;
    size_t len;
    const char *next;
};

static struct phys_line peek_line(const char *pos)
{
    const char *nl = strchr(pos, '\n');
    struct phys_line pl = { pos, nl ? (size_t)(nl - pos) : strlen(pos), NULL };
    pl.next = nl ? nl + 1 : pos + pl.len;
    return pl;
}

/* True for lines that are ignored: empty, blank, or a comment. */
static bool line_ignored(const struct phys_line *pl)
{
    size_t i = 0;
    while (i < pl->len && is_blank(pl->start[i]))
        i++;
    return i == pl->len || pl->start[i] == '#';
}

static void add_segment(struct cfg_reader *r, size_t offset)
{
    if (r->nsegs == r->segcap) {
        r->segcap = r->segcap ? r->segcap * 2 : 16;
        r->segs = xrealloc(r->segs, r->segcap * sizeof(*r->segs));
    }
    r->segs[r->nsegs++] = (struct cfg_segment){ offset, r->line };
}

/* Appends the line without leading/trailing blanks; false if too long. */
static bool append_trimmed(struct buf *out, const struct phys_line *pl, bool continuation)
{
    size_t a = 0, b = pl->len;
    if (continuation)
        while (a < b && is_blank(pl->start[a]))
            a++;
    while (b > a && is_blank(pl->start[b - 1]))
        b--;
    if (continuation && !buf_putc(out, ' '))
        return false;
    return buf_append(out, pl->start + a, b - a);
}

/* Skips continuation lines of a logical line that is being dropped. */
static void skip_continuations(struct cfg_reader *r)
{
    while (*r->pos) {
        struct phys_line pl = peek_line(r->pos);
        if (!line_ignored(&pl) && !is_blank(pl.start[0]))
            return;
        r->pos = pl.next;
        r->line++;
    }
}

int cfg_reader_next(struct cfg_reader *r, struct buf *out, int *first_line,
                    struct diag *diag)
{
    buf_reset(out);
    out->max = CONFIG_LINE_MAX;
    r->nsegs = 0;
    bool started = false;
    while (*r->pos) {
        struct phys_line pl = peek_line(r->pos);
        bool ignored = line_ignored(&pl);
        bool continuation = !ignored && is_blank(pl.start[0]);
        if (started && !ignored && !continuation)
            break;
        r->pos = pl.next;
        r->line++;
        if (ignored)
            continue;
        if (!started && continuation) {
            size_t lead = 0;
            while (lead < pl.len && is_blank(pl.start[lead]))
                lead++;
            int shown = (int)(pl.len - lead > 30 ? 30 : pl.len - lead);
            diag_addf_at(diag, DIAG_ERROR, r->path, r->line,
                         "logical line must not start with whitespace: \"%.*s\"",
                         shown, pl.start + lead);
            skip_continuations(r);
            return -1;
        }
        if (!started)
            *first_line = r->line;
        started = true;
        add_segment(r, out->len + (continuation ? 1 : 0));
        if (!append_trimmed(out, &pl, continuation)) {
            diag_addf_at(diag, DIAG_ERROR, r->path, *first_line,
                         "logical line is longer than %u bytes", CONFIG_LINE_MAX);
            skip_continuations(r);
            return -1;
        }
    }
    return started ? 1 : 0;
}

int cfg_reader_line_at(const struct cfg_reader *r, size_t offset)
{
    int line = r->nsegs ? r->segs[0].line : r->line;
    for (size_t i = 0; i < r->nsegs && r->segs[i].offset <= offset; i++)
        line = r->segs[i].line;
    return line;
}
