/*
 * Dovecot auth protocol lines; see dovecot_proto.h. Everything Dovecot
 * sends is outside data to this process: ids must be decimal numbers that
 * fit 32 bits, user names must be printable and short enough for our own
 * messages, and reasons are made printable before they reach a log.
 */
#include "auth/dovecot_proto.h"

#include "auth/mech.h"
#include "auth/proto.h"
#include "base/base64.h"
#include "base/netaddr.h"
#include "ipc/msg.h"

#include <stdio.h>
#include <string.h>

static bool unescape(char *s, const char **why)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != '\001') {
            *w++ = *r;
            continue;
        }
        char c = *++r;
        if (c == '\0' || c == '0') {
            *why = c ? "escaped NUL in a field" : "escape at the end of a field";
            return false;
        }
        *w++ = c == '1' ? '\001' : c == 't' ? '\t' : c == 'r' ? '\r'
             : (c == 'n' || c == 'l') ? '\n' : c;
    }
    *w = '\0';
    return true;
}

bool dovecot_split(char *line, struct dovecot_line *out, const char **why)
{
    out->argc = 0;
    char *p = line;
    for (;;) {
        if (out->argc == DOVECOT_ARGS_MAX) {
            *why = "too many fields";
            return false;
        }
        out->argv[out->argc++] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    for (size_t i = 0; i < out->argc; i++)
        if (!unescape(out->argv[i], why))
            return false;
    return true;
}

/* A decimal number without sign or leading junk that fits 32 bits. */
static bool parse_u32(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    if (*s == '\0' || strlen(s) > 10)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool dovecot_parse_version(const struct dovecot_line *l, const char **why)
{
    uint32_t major, minor;
    if (l->argc < 3 || strcmp(l->argv[0], "VERSION") != 0 || !parse_u32(l->argv[1], &major) ||
        !parse_u32(l->argv[2], &minor)) {
        *why = "expected VERSION";
        return false;
    }
    if (major != DOVECOT_MAJOR_VERSION) {
        *why = "unsupported protocol major version";
        return false;
    }
    return true;
}

static const struct {
    const char *word;
    unsigned flag;
} mech_words[] = {
    { "anonymous", MECH_ANONYMOUS },
    { "plaintext", MECH_PLAINTEXT },
    { "dictionary", MECH_DICTIONARY },
    { "active", MECH_ACTIVE },
    { "forward-secrecy", MECH_FORWARD_SECRECY },
    { "mutual-auth", MECH_MUTUAL_AUTH },
};

bool dovecot_parse_mech(const struct dovecot_line *l, const char **name, unsigned *flags,
                        bool *usable, const char **why)
{
    if (l->argc < 2 || strcmp(l->argv[0], "MECH") != 0 || l->argv[1][0] == '\0') {
        *why = "malformed MECH line";
        return false;
    }
    *name = l->argv[1];
    *flags = 0;
    *usable = auth_mech_name_valid(*name);
    for (size_t i = 2; i < l->argc; i++) {
        if (strcmp(l->argv[i], "private") == 0)
            *usable = false;
        for (size_t k = 0; k < sizeof(mech_words) / sizeof(mech_words[0]); k++)
            if (strcmp(l->argv[i], mech_words[k].word) == 0)
                *flags |= mech_words[k].flag;
    }
    return true;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static void make_printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* The optional name=value and flag fields of OK and FAIL. */
static bool read_params(const struct dovecot_line *l, size_t from, struct dovecot_reply *out,
                        const char **why)
{
    for (size_t i = from; i < l->argc; i++) {
        char *a = l->argv[i];
        if (strncmp(a, "user=", 5) == 0)
            out->user = a + 5;
        else if (strncmp(a, "reason=", 7) == 0)
            out->reason = a + 7;
        else if (strcmp(a, "temp") == 0 || strcmp(a, "code=temp_fail") == 0)
            out->temporary = true;
    }
    if (out->user && (out->user[0] == '\0' || strlen(out->user) > IPC_NAME_MAX ||
                      !printable(out->user))) {
        *why = "unusable user name";
        return false;
    }
    if (out->reason)
        make_printable((char *)out->reason);
    return true;
}

bool dovecot_parse_reply(const struct dovecot_line *l, struct dovecot_reply *out, bool *is_reply,
                         const char **why)
{
    memset(out, 0, sizeof(*out));
    const char *cmd = l->argv[0];
    *is_reply = true;
    if (strcmp(cmd, "OK") == 0)
        out->kind = DOVECOT_REPLY_OK;
    else if (strcmp(cmd, "CONT") == 0)
        out->kind = DOVECOT_REPLY_CONT;
    else if (strcmp(cmd, "FAIL") == 0)
        out->kind = DOVECOT_REPLY_FAIL;
    else {
        *is_reply = false;
        return true;
    }
    if (l->argc < 2 || !parse_u32(l->argv[1], &out->id) || out->id == 0) {
        *why = "reply without a valid request id";
        return false;
    }
    if (out->kind == DOVECOT_REPLY_CONT) {
        out->data = l->argc > 2 ? l->argv[2] : "";
        return true;
    }
    if (!read_params(l, 2, out, why))
        return false;
    if (out->kind == DOVECOT_REPLY_OK && out->user == NULL) {
        *why = "OK without user=";
        return false;
    }
    return true;
}

void dovecot_escape(struct buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\001': buf_puts(out, "\0011"); break;
        case '\t': buf_puts(out, "\001t"); break;
        case '\r': buf_puts(out, "\001r"); break;
        case '\n': buf_puts(out, "\001n"); break;
        default: buf_putc(out, *s); break;
        }
    }
}

/* Undoes a partly written line when it grew too long or hit out's cap. */
static bool finish_line(struct buf *out, size_t start, bool ok, const char **why)
{
    if (ok && out->len - start <= DOVECOT_LINE_MAX && buf_putc(out, '\n'))
        return true;
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    *why = "request too long for Dovecot's auth protocol";
    return false;
}

static bool put_b64(struct buf *out, const char *prefix, const uint8_t *data, size_t len)
{
    if (base64_encoded_len(len) > DOVECOT_LINE_MAX)
        return false;
    return buf_puts(out, prefix) && base64_encode(data, len, out);
}

/* An address as Dovecot parses it (no brackets); nothing when unknown or not an address. */
static bool put_ip(struct buf *out, const char *prefix, const char *text)
{
    struct netaddr a;
    if (text == NULL || !netaddr_parse(text, &a))
        return true;
    char plain[NETADDR_TEXT_MAX];
    netaddr_format(&a, plain, sizeof(plain));
    return buf_puts(out, prefix) && buf_puts(out, plain);
}

bool dovecot_format_auth(struct buf *out, uint32_t id, const char *sasl_service,
                         const struct auth_start_info *i, const char **why)
{
    size_t start = out->len;
    bool ok = buf_printf(out, "AUTH\t%u\t", (unsigned)id);
    dovecot_escape(out, i->mech);
    ok = ok && buf_puts(out, "\tservice=");
    dovecot_escape(out, sasl_service);
    ok = ok && buf_puts(out, "\tnologin");
    ok = ok && put_ip(out, "\tlip=", i->local_addr) && put_ip(out, "\trip=", i->client_addr);
    if (i->local_port > 0)
        ok = ok && buf_printf(out, "\tlport=%d", i->local_port);
    if (i->client_port > 0)
        ok = ok && buf_printf(out, "\trport=%d", i->client_port);
    if (i->secured)
        ok = ok && buf_puts(out, "\tsecured");
    if (i->has_initial)
        ok = ok && put_b64(out, "\tresp=", i->initial, i->initial_len);
    return finish_line(out, start, ok, why);
}

bool dovecot_format_cont(struct buf *out, uint32_t id, const uint8_t *data, size_t len,
                         const char **why)
{
    size_t start = out->len;
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "CONT\t%u\t", (unsigned)id);
    return finish_line(out, start, put_b64(out, prefix, data, len), why);
}
