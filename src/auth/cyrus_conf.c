/*
 * Cyrus SASL application file parser and search; see cyrus_conf.h.
 *
 * Cyrus's own reader folds keys to lower case, allows letters, digits,
 * "-" and "_" in them, and refuses a line without ":" or without a value;
 * so does this one, so a file Cyrus would reject is rejected here too
 * (with the file and line). Pure: no I/O except cyrus_conf_find's
 * access(2) checks; fuzzed by fuzz_cyrus_conf.
 */
#include "auth/cyrus_conf.h"

#include "base/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const cyrus_conf_builtin_dirs[] = {
    "/etc/gatepost/sasl", "/etc/postfix/sasl", "/usr/lib/sasl2", "/etc/sasl2", NULL,
};

static bool key_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void add_entry(struct cyrus_conf *c, const char *key, size_t klen, const char *val,
                      size_t vlen, int line)
{
    c->entries = xrealloc(c->entries, (c->count + 1) * sizeof(*c->entries));
    struct cyrus_conf_entry *e = &c->entries[c->count++];
    e->key = xstrndup(key, klen);
    for (char *p = e->key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    e->value = xstrndup(val, vlen);
    e->line = line;
}

/* One line (without its newline); false on a line Cyrus would refuse. */
static bool parse_line(struct cyrus_conf *c, const char *p, const char *end, int line,
                       struct diag *diag)
{
    while (p < end && is_space(*p))
        p++;
    if (p == end || *p == '#')
        return true;
    const char *key = p;
    while (p < end && key_char(*p))
        p++;
    size_t klen = (size_t)(p - key);
    if (p == end || *p != ':' || klen == 0) {
        diag_addf_at(diag, DIAG_ERROR, c->path, line, "expected \"name: value\"");
        return false;
    }
    p++;
    while (p < end && is_space(*p))
        p++;
    const char *val = p;
    const char *vend = end;
    while (vend > val && is_space(vend[-1]))
        vend--;
    if (vend == val) {
        diag_addf_at(diag, DIAG_ERROR, c->path, line, "%.*s: missing value", (int)klen, key);
        return false;
    }
    if (klen > CYRUS_CONF_KEY_MAX || (size_t)(vend - val) > CYRUS_CONF_VALUE_MAX) {
        diag_addf_at(diag, DIAG_ERROR, c->path, line, "line too long");
        return false;
    }
    if (c->count == CYRUS_CONF_MAX_ENTRIES) {
        diag_addf_at(diag, DIAG_ERROR, c->path, line, "more than %d settings",
                     CYRUS_CONF_MAX_ENTRIES);
        return false;
    }
    add_entry(c, key, klen, val, (size_t)(vend - val), line);
    const struct cyrus_conf_entry *e = &c->entries[c->count - 1];
    for (size_t i = 0; i + 1 < c->count; i++)
        if (strcmp(c->entries[i].key, e->key) == 0) {
            diag_addf_at(diag, DIAG_WARNING, c->path, line,
                         "%s is set again (line %d wins, as in Cyrus SASL)", e->key,
                         c->entries[i].line);
            break;
        }
    return true;
}

bool cyrus_conf_parse(const char *text, size_t len, const char *path, struct cyrus_conf *out,
                      struct diag *diag)
{
    memset(out, 0, sizeof(*out));
    out->path = xstrdup(path);
    if (len > CYRUS_CONF_MAX_BYTES) {
        diag_add(diag, DIAG_ERROR, path, "file larger than %d bytes", CYRUS_CONF_MAX_BYTES);
        return false;
    }
    if (memchr(text, '\0', len)) {
        diag_add(diag, DIAG_ERROR, path, "NUL byte in the file");
        return false;
    }
    bool ok = true;
    const char *p = text, *end = text + len;
    int line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        ok &= parse_line(out, p, eol, ++line, diag);
        p = nl ? nl + 1 : end;
    }
    return ok;
}

void cyrus_conf_free(struct cyrus_conf *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->entries[i].key);
        free(c->entries[i].value);
    }
    free(c->entries);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

const char *cyrus_conf_get(const struct cyrus_conf *c, const char *key)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->entries[i].key, key) == 0)
            return c->entries[i].value;
    return NULL;
}

static char *in_dir(const char *dir, size_t dlen, const char *app)
{
    if (dlen == 0)
        return NULL;
    char *path = xasprintf("%.*s/%s.conf", (int)dlen, dir, app);
    if (access(path, F_OK) == 0)
        return path;
    free(path);
    return NULL;
}

char *cyrus_conf_find(const char *app, const char *config_path, const char *const *dirs)
{
    const char *p = config_path ? config_path : "";
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char *found = in_dir(p, n, app);
        if (found)
            return found;
        p += n + (colon ? 1 : 0);
    }
    for (size_t i = 0; dirs && dirs[i]; i++) {
        char *found = in_dir(dirs[i], strlen(dirs[i]), app);
        if (found)
            return found;
    }
    return NULL;
}
