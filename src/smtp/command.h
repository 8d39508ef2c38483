/*
 * Splitting a command line into verb and argument. Protocol knowledge
 * (which verbs exist, in which states, with which counters) lives in the
 * session's command table; this only tokenizes, without copying.
 */
#ifndef GATEPOST_SMTP_COMMAND_H
#define GATEPOST_SMTP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_command {
    const char *verb;       /* points into the line */
    size_t verb_len;
    const char *arg;        /* after the verb and one separating space; may be empty */
    size_t arg_len;
};

/* Splits line[0 .. len). Returns false for an empty or all-blank line. */
bool smtp_command_split(const char *line, size_t len, struct smtp_command *out);
/* Case-insensitive verb comparison. */
bool smtp_command_is(const struct smtp_command *c, const char *verb);

#endif
