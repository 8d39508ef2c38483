/*
 * Small string helpers shared by every component: Postfix-style list
 * splitting (items separated by commas and/or whitespace, with { } grouping
 * so that "inline:{ a=1, b=2 }" stays one item), ASCII case folding (domain
 * names and verbs compare without locale), and bounded copies.
 */
#ifndef GATEPOST_BASE_STRUTIL_H
#define GATEPOST_BASE_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Postfix's list separators: comma and whitespace. */
#define STR_LIST_SEPARATORS ", \t\r\n"

/*
 * Returns the next list item from *cursor, NUL-terminating it in place and
 * advancing *cursor; NULL when the list is exhausted. Text inside balanced
 * { } stays one item; the outer braces are kept. Sets *unbalanced (if not
 * NULL) when a brace is left open.
 */
char *str_list_next(char **cursor, const char *separators, bool *unbalanced);

/* Splits a list into a NULL-terminated array of strings (one allocation). */
char **str_list_split(const char *list, const char *separators, size_t *count);

/* Removes one outer { } pair and surrounding whitespace, in place. */
char *str_unbrace(char *s);

char *str_trim(char *s);
void str_lower(char *s);
void str_upper(char *s);
bool str_ieq(const char *a, const char *b);
bool str_has_prefix(const char *s, const char *prefix);
bool str_ihas_suffix(const char *s, const char *suffix);
/* snprintf-like copy that always terminates; returns false if truncated. */
bool str_copy(char *dst, size_t size, const char *src);
/* True when s is all ASCII. */
bool str_is_ascii(const char *s, size_t n);

#endif
