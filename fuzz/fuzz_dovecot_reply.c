/*
 * Fuzz target: what a Dovecot auth server (or anything listening on its
 * socket) may send. Each line is split and unescaped, then read as a
 * handshake line (VERSION, MECH) and as a reply (OK, CONT, FAIL); CONT
 * data goes through the strict base64 decoder, and the line is echoed
 * back as a CONT request to exercise the writer's limits.
 */
#include "auth/dovecot_proto.h"
#include "base/base64.h"
#include "fuzz_text.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(char *line, size_t len)
{
    struct buf out;
    buf_init(&out, 4 * DOVECOT_LINE_MAX);
    const char *why = NULL;
    (void)dovecot_format_cont(&out, 7, (const uint8_t *)line, len, &why);
    buf_free(&out);
    struct dovecot_line l;
    if (!dovecot_split(line, &l, &why)) {
        if (why == NULL)
            abort();
        return;
    }
    (void)dovecot_parse_version(&l, &why);
    const char *name;
    unsigned flags;
    bool usable;
    (void)dovecot_parse_mech(&l, &name, &flags, &usable, &why);
    struct dovecot_reply d;
    bool is_reply;
    if (dovecot_parse_reply(&l, &d, &is_reply, &why) && is_reply) {
        if (d.id == 0)
            abort();
        if (d.kind == DOVECOT_REPLY_CONT) {
            struct buf raw;
            buf_init(&raw, DOVECOT_LINE_MAX);
            (void)base64_decode(d.data, strlen(d.data), &raw);
            buf_free(&raw);
        }
        if (d.user && (d.user[0] == '\0' || strlen(d.user) > 255))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (text == NULL)
        return 0;
    char *p = text, *end = text + size;
    for (int n = 0; n < 256 && p < end; n++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        *eol = '\0';
        if (strlen(p) == (size_t)(eol - p) && (size_t)(eol - p) <= DOVECOT_LINE_MAX)
            one_line(p, (size_t)(eol - p));
        p = eol + 1;
    }
    free(text);
    return 0;
}
