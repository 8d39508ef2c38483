/* Helpers shared by the configuration tests (static, header-only). */
#ifndef GATEPOST_TESTS_CONFIG_TEST_H
#define GATEPOST_TESTS_CONFIG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/fileio.h"
#include "config/config.h"
#include "config/master_cf.h"

#ifndef FIXTURES
#error "FIXTURES must name the fixtures directory"
#endif

/* Index of the first entry of severity sev whose where and what contain the texts, or -1. */
static inline long diag_find(const struct diag *d, enum diag_severity sev, const char *where,
                             const char *what)
{
    for (size_t i = 0; i < d->count; i++) {
        const struct diag_entry *e = &d->entries[i];
        if (e->severity == sev && (!where || strcmp(e->where, where) == 0)
            && (!what || strstr(e->what, what)))
            return (long)i;
    }
    return -1;
}

static inline void diag_dump(const struct diag *d)
{
    diag_print(d, stderr);
}

static inline void check_diag(const struct diag *d, enum diag_severity sev, const char *where,
                              const char *what, const char *file, int line)
{
    if (diag_find(d, sev, where, what) >= 0)
        return;
    diag_dump(d);
    fail_msg("%s:%d: missing diagnostic %s: %s", file, line, where ? where : "*",
             what ? what : "*");
}

static inline void check_no_diag(const struct diag *d, enum diag_severity sev,
                                 const char *file, int line)
{
    if (diag_find(d, sev, NULL, NULL) < 0)
        return;
    diag_dump(d);
    fail_msg("%s:%d: unexpected diagnostic", file, line);
}

#define assert_diag(d, sev, where, what) check_diag((d), (sev), (where), (what), __FILE__, __LINE__)
#define assert_no_diag(d, sev) check_no_diag((d), (sev), __FILE__, __LINE__)

/* Parses text as "main.cf"; the diag is reset first. */
static inline struct config *parse(const char *text, struct diag *d)
{
    diag_free(d);
    return config_parse_text(text, "main.cf", d);
}

static inline char *fixture_text(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
    size_t len;
    char *text = fileio_read(path, 1 << 20, &len);
    if (!text)
        fail_msg("cannot read fixture %s", path);
    return text;
}

#endif
