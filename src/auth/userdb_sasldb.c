/*
 * Reading a Cyrus sasldb2 through Berkeley DB's own dump tool: `db_dump -p`
 * writes the database in its portable "print" format, which this file
 * parses (see userdb.h). Running the tool, rather than linking Berkeley DB,
 * keeps a large library out of gatepost for a one-time migration.
 *
 * Every line and entry is bounded (SASLDB_ENTRY_MAX); anything that does
 * not follow the format is an error naming the line.
 */
#include "auth/userdb.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SASLDB_ENTRY_MAX 4096

struct dump_cursor {
    const char *p, *end;
    unsigned line;
};

/* The next line without its newline; false at the end of the text. */
static bool next_line(struct dump_cursor *c, const char **line, size_t *len)
{
    if (c->p >= c->end)
        return false;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    *line = c->p;
    *len = nl ? (size_t)(nl - c->p) : (size_t)(c->end - c->p);
    c->p = nl ? nl + 1 : c->end;
    c->line++;
    return true;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes one " data" line of the print format into out. */
static bool unprint(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
    size_t o = 0;
    if (len == 0 || s[0] != ' ')
        return false;
    for (size_t i = 1; i < len; i++) {
        if (o >= SASLDB_ENTRY_MAX)
            return false;
        if (s[i] != '\\') {
            out[o++] = (uint8_t)s[i];
            continue;
        }
        if (i + 1 < len && s[i + 1] == '\\') {
            out[o++] = '\\';
            i++;
            continue;
        }
        if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
            return false;
        out[o++] = (uint8_t)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
        i += 2;
    }
    *out_len = o;
    return true;
}

/* Reads the header; false unless it says format=print and ends with HEADER=END. */
static bool read_header(struct dump_cursor *c, char *err, size_t errlen)
{
    const char *line;
    size_t len;
    bool print = false;
    while (next_line(c, &line, &len)) {
        if (len == 12 && memcmp(line, "format=print", 12) == 0)
            print = true;
        if (len == 10 && memcmp(line, "HEADER=END", 10) == 0) {
            if (!print)
                snprintf(err, errlen, "sasldb dump is not in the print format (db_dump -p)");
            return print;
        }
        if (len == 0 || line[0] == ' ') {
            snprintf(err, errlen, "sasldb dump line %u: data before HEADER=END", c->line);
            return false;
        }
    }
    snprintf(err, errlen, "sasldb dump has no HEADER=END line");
    return false;
}

/* Splits a sasldb2 key "user\0realm\0property" and calls fn. */
static bool deliver(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                    userdb_sasldb_fn fn, void *arg, unsigned line, char *err, size_t errlen)
{
    char parts[3][SASLDB_ENTRY_MAX + 1];
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= klen; i++) {
        if (i < klen && key[i] != 0)
            continue;
        if (n == 3)
            break;
        memcpy(parts[n], key + start, i - start);
        parts[n][i - start] = '\0';
        n++;
        start = i + 1;
    }
    if (n != 3 || start != klen + 1) {
        snprintf(err, errlen, "sasldb dump line %u: key is not user, realm and property", line);
        return false;
    }
    return fn(parts[0], parts[1], parts[2], val, vlen, arg);
}

bool userdb_sasldb_parse(const char *text, size_t len, userdb_sasldb_fn fn, void *arg,
                         char *err, size_t errlen)
{
    struct dump_cursor c = { text, text + len, 0 };
    if (errlen > 0)
        err[0] = '\0';
    if (!read_header(&c, err, errlen))
        return false;
    uint8_t key[SASLDB_ENTRY_MAX], val[SASLDB_ENTRY_MAX];
    size_t klen, vlen;
    const char *line;
    size_t llen;
    bool ok = false;
    for (;;) {
        /* Only running out of text here is a missing DATA=END: a parse
         * that fn stopped on the last entry is a stop, with err empty. */
        if (!next_line(&c, &line, &llen)) {
            snprintf(err, errlen, "sasldb dump has no DATA=END line");
            break;
        }
        if (llen == 8 && memcmp(line, "DATA=END", 8) == 0) {
            ok = true;
            break;
        }
        if (!unprint(line, llen, key, &klen) || !next_line(&c, &line, &llen) ||
            !unprint(line, llen, val, &vlen)) {
            snprintf(err, errlen, "sasldb dump line %u: malformed entry", c.line);
            break;
        }
        bool more = deliver(key, klen, val, vlen, fn, arg, c.line, err, errlen);
        OPENSSL_cleanse(val, sizeof(val));
        if (!more)
            break;
    }
    OPENSSL_cleanse(val, sizeof(val));
    return ok;
}
