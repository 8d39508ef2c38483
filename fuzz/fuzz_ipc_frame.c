/*
 * Fuzz target: internal frames as a peer process could send them. Every
 * frame the stream scanner delimits is parsed against the catalogue; a
 * frame the parser accepts is read as an auth message (START facts,
 * replies) and built again from its fields, which must give back exactly
 * the same bytes (one encoding per message).
 */
#include "auth/proto.h"
#include "ipc/msg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rebuild_and_compare(const struct ipc_msg *m, const uint8_t *frame, size_t len)
{
    const struct ipc_type_rule *rule = ipc_catalog_find(m->type);
    struct buf out;
    buf_init(&out, 0);
    struct ipc_builder b;
    ipc_build_begin(&b, &out, m->type, m->id);
    for (size_t i = 0; i < m->nfields; i++) {
        const struct ipc_field *f = &m->fields[i];
        enum ipc_kind kind = IPC_BYTES;
        for (size_t k = 0; k < rule->nfields; k++)
            if (rule->fields[k].tag == f->tag)
                kind = rule->fields[k].kind;
        if (kind == IPC_STR)
            ipc_put_str(&b, f->tag, (const char *)f->data);
        else if (kind == IPC_U32)
            ipc_put_u32(&b, f->tag, (uint32_t)f->data[0] << 24 | (uint32_t)f->data[1] << 16 |
                                        (uint32_t)f->data[2] << 8 | f->data[3]);
        else if (kind == IPC_FLAG)
            ipc_put_flag(&b, f->tag);
        else
            ipc_put_bytes(&b, f->tag, f->data, f->len);
    }
    if (!ipc_build_end(&b) || out.len != len || memcmp(out.data, frame, len) != 0)
        abort();
    buf_free(&out);
}

static void read_as_auth(const struct ipc_msg *m)
{
    if (m->type == IPC_AUTH_START) {
        struct auth_start_info info;
        const char *why = NULL;
        if (!auth_proto_get_start(m, &info, &why) && why == NULL)
            abort();
    } else if (m->type == IPC_AUTH_CHALLENGE || m->type == IPC_AUTH_SUCCESS ||
               m->type == IPC_AUTH_FAILURE) {
        struct auth_reply r;
        auth_proto_get_reply(m, &r);
        if (r.data == NULL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0;
    for (int n = 0; n < 64 && at < size; n++) {
        size_t len;
        const char *why = NULL;
        enum ipc_scan st = ipc_frame_scan(data + at, size - at, &len, &why);
        if (st != IPC_SCAN_COMPLETE)
            break;
        struct ipc_msg m;
        if (ipc_msg_parse(data + at, len, &m, &why)) {
            read_as_auth(&m);
            rebuild_and_compare(&m, data + at, len);
            ipc_msg_free(&m);
        } else if (why == NULL) {
            abort();
        }
        at += len;
    }
    return 0;
}
