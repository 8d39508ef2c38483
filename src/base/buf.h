/*
 * The one growable byte buffer. Every buffer has a hard cap chosen by its
 * owner (a line limit, a message size limit); appends past the cap fail
 * instead of growing, so no peer can make a session use unbounded memory.
 * The data is always NUL-terminated after len for convenience, and the
 * terminator is not counted.
 */
#ifndef GATEPOST_BASE_BUF_H
#define GATEPOST_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;     /* NULL until the first append */
    size_t len;     /* bytes in use */
    size_t cap;     /* bytes allocated, excluding the terminator slot */
    size_t max;     /* hard cap on len; 0 means SIZE_MAX */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* Empties the buffer and releases its memory (idle sessions stay small). */
void buf_release(struct buf *b);

/* Appends; returns false (and changes nothing) when the cap would be passed. */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_puts(struct buf *b, const char *s);
bool buf_putc(struct buf *b, char c);
bool buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Drops n bytes from the front. */
void buf_consume(struct buf *b, size_t n);
/* Makes room for n more bytes and returns where they go; commit with buf_commit. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);
/* The contents as a C string (never NULL). */
const char *buf_cstr(const struct buf *b);
/* Hands the contents to the caller (who frees them) and empties the buffer. */
char *buf_steal(struct buf *b);

#endif
