/* Diagnostics list; see diag.h. */
#include "base/diag.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void diag_init(struct diag *d)
{
    d->entries = NULL;
    d->count = d->cap = 0;
    d->errors = d->warnings = 0;
}

void diag_free(struct diag *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->entries[i].where);
        free(d->entries[i].what);
    }
    free(d->entries);
    diag_init(d);
}

static void diag_vadd(struct diag *d, enum diag_severity sev, char *where,
                      const char *fmt, va_list ap)
{
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->entries = xrealloc(d->entries, d->cap * sizeof(*d->entries));
    }
    char *what = NULL;
    if (vasprintf(&what, fmt, ap) < 0)
        what = xstrdup("(diagnostic lost)");
    d->entries[d->count++] = (struct diag_entry){ sev, where, what };
    if (sev == DIAG_ERROR)
        d->errors++;
    else if (sev == DIAG_WARNING)
        d->warnings++;
}

void diag_add(struct diag *d, enum diag_severity sev, const char *where,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, sev, xstrdup(where ? where : ""), fmt, ap);
    va_end(ap);
}

void diag_addf_at(struct diag *d, enum diag_severity sev, const char *file,
                  int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *where = line > 0 ? xasprintf("%s:%d", file, line) : xstrdup(file ? file : "");
    diag_vadd(d, sev, where, fmt, ap);
    va_end(ap);
}

static const char *severity_name(enum diag_severity sev)
{
    return sev == DIAG_ERROR ? "error" : sev == DIAG_WARNING ? "warning" : "info";
}

void diag_log(const struct diag *d)
{
    for (size_t i = 0; i < d->count; i++) {
        const struct diag_entry *e = &d->entries[i];
        const char *sep = e->where[0] ? ": " : "";
        if (e->severity == DIAG_ERROR)
            log_error("%s%s%s", e->where, sep, e->what);
        else if (e->severity == DIAG_WARNING)
            log_warning("%s%s%s", e->where, sep, e->what);
        else
            log_info("%s%s%s", e->where, sep, e->what);
    }
}

void diag_print(const struct diag *d, void *stream)
{
    FILE *f = stream;
    for (size_t i = 0; i < d->count; i++) {
        const struct diag_entry *e = &d->entries[i];
        if (e->where[0])
            fprintf(f, "%s: %s: %s\n", e->where, severity_name(e->severity), e->what);
        else
            fprintf(f, "%s: %s\n", severity_name(e->severity), e->what);
    }
}
