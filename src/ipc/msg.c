/*
 * Frames: scanning a byte stream, parsing and checking a frame against
 * the catalogue, building frames. See msg.h for the format and for who is
 * to blame when a frame is wrong.
 *
 * The parser never trusts a length: every field length is checked against
 * what is left of the frame before it is used, and against the catalogue's
 * limit for the tag. Parsed strings are copied with a terminating NUL so
 * that callers can use them as C strings; a string holding a NUL byte is
 * rejected (it would silently truncate).
 */
#include "ipc/msg.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

enum ipc_scan ipc_frame_scan(const uint8_t *p, size_t avail, size_t *frame_len,
                             const char **why)
{
    if (avail < 4)
        return IPC_SCAN_NEED_MORE;
    uint32_t len = get32(p);
    if (len < IPC_HEADER_SIZE || len > IPC_FRAME_MAX) {
        *why = len < IPC_HEADER_SIZE ? "frame shorter than its header" : "frame too long";
        return IPC_SCAN_INVALID;
    }
    if (avail < len)
        return IPC_SCAN_NEED_MORE;
    *frame_len = len;
    return IPC_SCAN_COMPLETE;
}

static const struct ipc_field_rule *rule_for(const struct ipc_type_rule *r, uint16_t tag,
                                             size_t *index)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].tag == tag) {
            *index = i;
            return &r->fields[i];
        }
    return NULL;
}

static bool field_ok(const struct ipc_field_rule *fr, const uint8_t *data, uint32_t len,
                     const char **why)
{
    switch (fr->kind) {
    case IPC_STR:
        if (len > fr->max_len) {
            *why = "string field too long";
            return false;
        }
        if (memchr(data, '\0', len) != NULL) {
            *why = "NUL byte in a string field";
            return false;
        }
        return true;
    case IPC_BYTES:
        if (len > fr->max_len) {
            *why = "data field too long";
            return false;
        }
        return true;
    case IPC_U32:
        if (len != 4)
            *why = "integer field not 4 bytes";
        return len == 4;
    case IPC_FLAG:
        if (len != 0)
            *why = "flag field with a value";
        return len == 0;
    }
    *why = "bad field kind";
    return false;
}

/* Walks the fields once: tags known, lengths within the frame and the rules. */
static bool scan_fields(const struct ipc_type_rule *r, const uint8_t *p, size_t len,
                        struct ipc_msg *out, uint16_t *counts, const char **why)
{
    size_t at = IPC_HEADER_SIZE;
    while (at < len) {
        if (len - at < 6) {
            *why = "truncated field header";
            return false;
        }
        uint16_t tag = get16(p + at);
        uint32_t flen = get32(p + at + 2);
        at += 6;
        if (flen > len - at) {
            *why = "field longer than the frame";
            return false;
        }
        size_t idx;
        const struct ipc_field_rule *fr = rule_for(r, tag, &idx);
        if (fr == NULL) {
            *why = "unexpected field for this message type";
            return false;
        }
        if (!field_ok(fr, p + at, flen, why))
            return false;
        if (++counts[idx] > fr->max_count) {
            *why = "field repeated too often";
            return false;
        }
        if (out->nfields == IPC_FIELDS_MAX) {
            *why = "too many fields";
            return false;
        }
        out->fields[out->nfields++] = (struct ipc_field){ tag, flen, p + at };
        at += flen;
    }
    return true;
}

static bool counts_ok(const struct ipc_type_rule *r, const uint16_t *counts, const char **why)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (counts[i] < r->fields[i].min_count) {
            *why = "required field missing";
            return false;
        }
    return true;
}

/* Re-points the fields at NUL-terminated copies owned by the message. */
static void copy_fields(struct ipc_msg *m, size_t frame_len)
{
    m->store = xmalloc(frame_len + m->nfields + 1);
    uint8_t *w = m->store;
    for (size_t i = 0; i < m->nfields; i++) {
        if (m->fields[i].len)
            memcpy(w, m->fields[i].data, m->fields[i].len);
        w[m->fields[i].len] = '\0';
        m->fields[i].data = w;
        w += m->fields[i].len + 1;
    }
}

bool ipc_msg_parse(const uint8_t *frame, size_t len, struct ipc_msg *out, const char **why)
{
    out->nfields = 0;
    out->store = NULL;
    if (len < IPC_HEADER_SIZE || len > IPC_FRAME_MAX || get32(frame) != len) {
        *why = "frame length does not match its header";
        return false;
    }
    out->type = get16(frame + 4);
    out->id = get32(frame + 8);
    if (get16(frame + 6) != 0) {
        *why = "reserved header bits set";
        return false;
    }
    const struct ipc_type_rule *r = ipc_catalog_find(out->type);
    if (r == NULL) {
        *why = "unknown message type";
        return false;
    }
    uint16_t counts[IPC_RULE_FIELDS_MAX] = { 0 };
    if (!scan_fields(r, frame, len, out, counts, why) || !counts_ok(r, counts, why))
        return false;
    copy_fields(out, len);
    if (r->check && !r->check(out, why)) {
        ipc_msg_free(out);
        return false;
    }
    return true;
}

void ipc_msg_free(struct ipc_msg *m)
{
    free(m->store);
    m->store = NULL;
    m->nfields = 0;
}

const struct ipc_field *ipc_msg_get(const struct ipc_msg *m, uint16_t tag)
{
    return ipc_msg_nth(m, tag, 0);
}

const char *ipc_msg_str(const struct ipc_msg *m, uint16_t tag, const char *dflt)
{
    const struct ipc_field *f = ipc_msg_get(m, tag);
    return f ? (const char *)f->data : dflt;
}

uint32_t ipc_msg_u32(const struct ipc_msg *m, uint16_t tag, uint32_t dflt)
{
    const struct ipc_field *f = ipc_msg_get(m, tag);
    return f && f->len == 4 ? get32(f->data) : dflt;
}

bool ipc_msg_flag(const struct ipc_msg *m, uint16_t tag)
{
    return ipc_msg_get(m, tag) != NULL;
}

size_t ipc_msg_count(const struct ipc_msg *m, uint16_t tag)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nfields; i++)
        n += m->fields[i].tag == tag;
    return n;
}

const struct ipc_field *ipc_msg_nth(const struct ipc_msg *m, uint16_t tag, size_t n)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].tag == tag && n-- == 0)
            return &m->fields[i];
    return NULL;
}

/* ---- building ---- */

void ipc_build_begin(struct ipc_builder *b, struct buf *out, uint16_t type, uint32_t id)
{
    memset(b, 0, sizeof(*b));
    b->out = out;
    b->start = out->len;
    b->rule = ipc_catalog_find(type);
    if (b->rule == NULL || b->rule->nfields > IPC_RULE_FIELDS_MAX)
        log_panic("ipc: building a message of unknown type 0x%04x", (unsigned)type);
    uint8_t h[IPC_HEADER_SIZE];
    put32(h, 0);                        /* patched by ipc_build_end */
    put16(h + 4, type);
    put16(h + 6, 0);
    put32(h + 8, id);
    b->overflow = !buf_append(out, h, sizeof(h));
}

static void put_field(struct ipc_builder *b, uint16_t tag, enum ipc_kind kind,
                      const void *p, size_t n)
{
    size_t idx;
    const struct ipc_field_rule *fr = rule_for(b->rule, tag, &idx);
    const char *why = NULL;
    if (fr == NULL || fr->kind != kind || n > UINT32_MAX ||
        !field_ok(fr, p ? p : "", (uint32_t)n, &why) || b->counts[idx] >= fr->max_count)
        log_panic("ipc: %s: field %u breaks the catalogue (%s)", b->rule->name, (unsigned)tag,
                  why ? why : "unexpected or repeated tag");
    b->counts[idx]++;
    if (b->overflow)
        return;
    uint8_t h[6];
    put16(h, tag);
    put32(h + 2, (uint32_t)n);
    if (b->out->len - b->start + sizeof(h) + n > IPC_FRAME_MAX ||
        !buf_append(b->out, h, sizeof(h)) || (n && !buf_append(b->out, p, n)))
        b->overflow = true;
}

void ipc_put_str(struct ipc_builder *b, uint16_t tag, const char *s)
{
    put_field(b, tag, IPC_STR, s, strlen(s));
}

void ipc_put_bytes(struct ipc_builder *b, uint16_t tag, const void *p, size_t n)
{
    put_field(b, tag, IPC_BYTES, p, n);
}

void ipc_put_u32(struct ipc_builder *b, uint16_t tag, uint32_t v)
{
    uint8_t w[4];
    put32(w, v);
    put_field(b, tag, IPC_U32, w, 4);
}

void ipc_put_flag(struct ipc_builder *b, uint16_t tag)
{
    put_field(b, tag, IPC_FLAG, NULL, 0);
}

bool ipc_build_end(struct ipc_builder *b)
{
    for (size_t i = 0; i < b->rule->nfields; i++)
        if (b->counts[i] < b->rule->fields[i].min_count)
            log_panic("ipc: %s: required field %u missing", b->rule->name,
                      (unsigned)b->rule->fields[i].tag);
    if (b->overflow) {
        b->out->len = b->start;         /* drop the partial frame */
        if (b->out->data)
            b->out->data[b->out->len] = '\0';
        return false;
    }
    put32((uint8_t *)b->out->data + b->start, (uint32_t)(b->out->len - b->start));
    return true;
}
