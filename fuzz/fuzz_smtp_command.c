/*
 * Fuzz target for the command tokenizer: the verb and argument are views
 * into the line, the verb holds no blank, the argument has no blank at
 * either end, and the verb compares equal to a copy of itself.
 */
#include "smtp/command.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    struct smtp_command c;
    if (!smtp_command_split(line, size, &c)) {
        for (size_t i = 0; i < size; i++)
            if (!blank(line[i]))
                abort();
        return 0;
    }
    if (c.verb_len == 0 || c.verb < line || c.verb + c.verb_len > line + size
        || c.arg < c.verb + c.verb_len || c.arg + c.arg_len > line + size)
        abort();
    for (size_t i = 0; i < c.verb_len; i++)
        if (blank(c.verb[i]))
            abort();
    if (c.arg_len > 0 && (blank(c.arg[0]) || blank(c.arg[c.arg_len - 1])))
        abort();
    char verb[64];
    if (c.verb_len < sizeof(verb) && memchr(c.verb, '\0', c.verb_len) == NULL) {
        memcpy(verb, c.verb, c.verb_len);
        verb[c.verb_len] = '\0';
        if (!smtp_command_is(&c, verb))
            abort();
    }
    return 0;
}
