/* Shared string helpers; see strutil.h. */
#include "base/strutil.h"

#include "base/xalloc.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

char *str_list_next(char **cursor, const char *separators, bool *unbalanced)
{
    char *p = *cursor;
    if (p == NULL)
        return NULL;
    p += strspn(p, separators);
    if (*p == '\0') {
        *cursor = p;
        return NULL;
    }
    char *start = p;
    int depth = 0;
    for (; *p; p++) {
        if (*p == '{')
            depth++;
        else if (*p == '}' && depth > 0)
            depth--;
        else if (depth == 0 && strchr(separators, *p))
            break;
    }
    if (depth > 0 && unbalanced)
        *unbalanced = true;
    if (*p) {
        *p = '\0';
        *cursor = p + 1;
    } else {
        *cursor = p;
    }
    return start;
}

char **str_list_split(const char *list, const char *separators, size_t *count)
{
    size_t len = strlen(list);
    /* At most len/2+1 items; the array and the copy share one block. */
    size_t slots = len / 2 + 2;
    char **items = xmalloc(slots * sizeof(char *) + len + 1);
    char *copy = (char *)(items + slots);
    memcpy(copy, list, len + 1);
    size_t n = 0;
    char *cursor = copy, *item;
    while ((item = str_list_next(&cursor, separators, NULL)) != NULL)
        items[n++] = item;
    items[n] = NULL;
    if (count)
        *count = n;
    return items;
}

char *str_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

char *str_unbrace(char *s)
{
    s = str_trim(s);
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
        s[n - 1] = '\0';
        s = str_trim(s + 1);
    }
    return s;
}

void str_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

void str_upper(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

bool str_ieq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_ihas_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

bool str_copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (size == 0)
        return false;
    if (n >= size) {
        memcpy(dst, src, size - 1);
        dst[size - 1] = '\0';
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

bool str_is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] & 0x80)
            return false;
    return true;
}
