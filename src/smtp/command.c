/*
 * Command-line tokenizer (see command.h): verb, then argument.
 *
 * The verb runs up to the first blank; any run of blanks separates it from
 * the argument, and trailing blanks are not part of the argument (clients
 * that pad commands are common and harmless). Nothing is copied: the
 * result points into the caller's line, which may hold any byte.
 */
#include "smtp/command.h"

#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool smtp_command_split(const char *line, size_t len, struct smtp_command *out)
{
    size_t i = 0;
    while (i < len && is_blank(line[i]))
        i++;
    while (len > i && is_blank(line[len - 1]))
        len--;
    if (i == len) {
        memset(out, 0, sizeof(*out));
        out->verb = out->arg = line + len;
        return false;
    }
    size_t verb = i;
    while (i < len && !is_blank(line[i]))
        i++;
    out->verb = line + verb;
    out->verb_len = i - verb;
    while (i < len && is_blank(line[i]))
        i++;
    out->arg = line + i;
    out->arg_len = len - i;
    return true;
}

bool smtp_command_is(const struct smtp_command *c, const char *verb)
{
    size_t n = strlen(verb);
    return c->verb_len == n && strncasecmp(c->verb, verb, n) == 0;
}
