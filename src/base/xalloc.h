/*
 * Allocation wrappers. Running out of memory is treated like a bug: the
 * process logs a panic and aborts, and the supervisor restarts it. Callers
 * never check for NULL, which keeps error paths for real input errors.
 */
#ifndef GATEPOST_BASE_XALLOC_H
#define GATEPOST_BASE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
