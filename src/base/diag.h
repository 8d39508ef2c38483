/*
 * Diagnostics collected while loading configuration or tables: each entry
 * names where (file and line, or parameter) and what is wrong, so that
 * start-up can print all problems at once and `gatepost config check` can
 * report them without starting anything.
 */
#ifndef GATEPOST_BASE_DIAG_H
#define GATEPOST_BASE_DIAG_H

#include <stdbool.h>
#include <stddef.h>

enum diag_severity { DIAG_INFO, DIAG_WARNING, DIAG_ERROR };

struct diag_entry {
    enum diag_severity severity;
    char *where;    /* "/etc/gatepost/main.cf:12" or "" */
    char *what;     /* one line, no trailing period */
};

struct diag {
    struct diag_entry *entries;
    size_t count, cap;
    size_t errors, warnings;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
void diag_add(struct diag *d, enum diag_severity sev, const char *where,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "file:line" helper for where. */
void diag_addf_at(struct diag *d, enum diag_severity sev, const char *file,
                  int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Logs every entry (errors as "fatal:"-free "error:" lines, warnings as warnings). */
void diag_log(const struct diag *d);
/* Prints every entry to a stream as "where: severity: what". */
void diag_print(const struct diag *d, void *stream /* FILE * */);

#endif
