/*
 * The fuzzer's bytes as a C string, for parsers that take text: a
 * NUL-terminated copy (NULL if out of memory), freed by the caller.
 */
#ifndef GATEPOST_FUZZ_TEXT_H
#define GATEPOST_FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

#endif
