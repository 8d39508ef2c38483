/*
 * Auth messages to and from frames; see proto.h. Everything the SMTP
 * client chose (mechanism name, responses) is length-checked here before
 * it reaches a builder, because a builder treats an oversized field as a
 * bug in its own process.
 */
#include "auth/proto.h"

#include "base/netaddr.h"

#include <string.h>

bool auth_mech_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > AUTH_MECH_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

bool auth_proto_put_mechs_req(struct buf *out, uint32_t id, const char *service)
{
    struct ipc_builder b;
    ipc_build_begin(&b, out, IPC_AUTH_MECHS_REQ, id);
    ipc_put_str(&b, IPC_T_SERVICE, service);
    return ipc_build_end(&b);
}

/* The worker's own facts (service, addresses) are short by construction; check anyway. */
static bool start_fits(const struct auth_start_info *i, const char **why)
{
    const char *names[] = { i->service, i->client_addr, i->client_name, i->local_addr,
                            i->tls_cipher };
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (strlen(or_empty(names[k])) > IPC_NAME_MAX) {
            *why = "request field too long";
            return false;
        }
    if (!auth_mech_name_valid(or_empty(i->mech))) {
        *why = "invalid mechanism name";
        return false;
    }
    if (i->has_initial && i->initial_len > IPC_DATA_MAX) {
        *why = "initial response too long";
        return false;
    }
    return true;
}

bool auth_proto_put_start(struct buf *out, uint32_t id, const struct auth_start_info *i,
                          const char **why)
{
    *why = NULL;
    if (!start_fits(i, why))
        return false;
    struct ipc_builder b;
    ipc_build_begin(&b, out, IPC_AUTH_START, id);
    ipc_put_str(&b, IPC_T_SERVICE, or_empty(i->service));
    ipc_put_str(&b, IPC_T_MECH, i->mech);
    ipc_put_str(&b, IPC_T_CLIENT_ADDR, or_empty(i->client_addr));
    if (i->client_port > 0 && i->client_port <= 65535)
        ipc_put_u32(&b, IPC_T_CLIENT_PORT, (uint32_t)i->client_port);
    if (i->client_name)
        ipc_put_str(&b, IPC_T_CLIENT_NAME, i->client_name);
    ipc_put_str(&b, IPC_T_LOCAL_ADDR, or_empty(i->local_addr));
    if (i->local_port > 0 && i->local_port <= 65535)
        ipc_put_u32(&b, IPC_T_LOCAL_PORT, (uint32_t)i->local_port);
    if (i->secured)
        ipc_put_flag(&b, IPC_T_SECURED);
    if (i->tls_cipher && i->tls_cipher[0])
        ipc_put_str(&b, IPC_T_TLS_CIPHER, i->tls_cipher);
    if (i->has_initial)
        ipc_put_bytes(&b, IPC_T_DATA, i->initial, i->initial_len);
    return ipc_build_end(&b);
}

bool auth_proto_put_step(struct buf *out, uint32_t id, const uint8_t *p, size_t n,
                         const char **why)
{
    *why = NULL;
    if (n > IPC_DATA_MAX) {
        *why = "response too long";
        return false;
    }
    struct ipc_builder b;
    ipc_build_begin(&b, out, IPC_AUTH_STEP, id);
    ipc_put_bytes(&b, IPC_T_DATA, p, n);
    return ipc_build_end(&b);
}

bool auth_proto_put_abort(struct buf *out, uint32_t id)
{
    struct ipc_builder b;
    ipc_build_begin(&b, out, IPC_AUTH_ABORT, id);
    return ipc_build_end(&b);
}

bool auth_proto_put_mechs(struct buf *out, uint32_t id, const char *service,
                          const struct auth_mech_list *list)
{
    struct ipc_builder b;
    ipc_build_begin(&b, out, IPC_AUTH_MECHS, id);
    ipc_put_str(&b, IPC_T_SERVICE, service);
    if (list) {
        ipc_put_flag(&b, IPC_T_AVAILABLE);
        for (size_t i = 0; i < list->count && i < AUTH_MECHS_MAX; i++) {
            ipc_put_str(&b, IPC_T_MECH, list->mechs[i].name);
            ipc_put_u32(&b, IPC_T_MECH_FLAGS, list->mechs[i].flags);
        }
    }
    return ipc_build_end(&b);
}

/* A reason cut to the protocol's limit (log text: a shortened line is fine). */
static void put_reason(struct ipc_builder *b, const char *reason)
{
    char cut[IPC_TEXT_MAX + 1];
    size_t n = strlen(reason);
    if (n > IPC_TEXT_MAX)
        n = IPC_TEXT_MAX;
    memcpy(cut, reason, n);
    cut[n] = '\0';
    ipc_put_str(b, IPC_T_REASON, cut);
}

bool auth_proto_put_reply(struct buf *out, uint32_t id, const struct auth_reply *r)
{
    struct ipc_builder b;
    switch (r->kind) {
    case AUTH_REPLY_CHALLENGE:
        ipc_build_begin(&b, out, IPC_AUTH_CHALLENGE, id);
        ipc_put_bytes(&b, IPC_T_DATA, r->data, r->len);
        break;
    case AUTH_REPLY_SUCCESS:
        ipc_build_begin(&b, out, IPC_AUTH_SUCCESS, id);
        ipc_put_str(&b, IPC_T_USERNAME, r->username);
        break;
    case AUTH_REPLY_FAILURE:
        ipc_build_begin(&b, out, IPC_AUTH_FAILURE, id);
        put_reason(&b, r->reason && r->reason[0] ? r->reason : "authentication failure");
        if (r->temporary)
            ipc_put_flag(&b, IPC_T_TEMPORARY);
        if (r->username && r->username[0] && strlen(r->username) <= IPC_NAME_MAX)
            ipc_put_str(&b, IPC_T_USERNAME, r->username);
        break;
    }
    return ipc_build_end(&b);
}

static bool address_ok(const char *text)
{
    struct netaddr a;
    return text[0] == '\0' || netaddr_parse(text, &a);
}

bool auth_proto_get_start(const struct ipc_msg *m, struct auth_start_info *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    out->service = ipc_msg_str(m, IPC_T_SERVICE, "");
    out->mech = ipc_msg_str(m, IPC_T_MECH, "");
    out->client_addr = ipc_msg_str(m, IPC_T_CLIENT_ADDR, "");
    out->client_port = (int)ipc_msg_u32(m, IPC_T_CLIENT_PORT, 0);
    out->client_name = ipc_msg_str(m, IPC_T_CLIENT_NAME, NULL);
    out->local_addr = ipc_msg_str(m, IPC_T_LOCAL_ADDR, "");
    out->local_port = (int)ipc_msg_u32(m, IPC_T_LOCAL_PORT, 0);
    out->secured = ipc_msg_flag(m, IPC_T_SECURED);
    out->tls_cipher = ipc_msg_str(m, IPC_T_TLS_CIPHER, NULL);
    const struct ipc_field *d = ipc_msg_get(m, IPC_T_DATA);
    out->has_initial = d != NULL;
    out->initial = d ? d->data : NULL;
    out->initial_len = d ? d->len : 0;
    if (!auth_mech_name_valid(out->mech))
        *why = "invalid mechanism name";
    else if (ipc_msg_u32(m, IPC_T_CLIENT_PORT, 0) > 65535 ||
             ipc_msg_u32(m, IPC_T_LOCAL_PORT, 0) > 65535)
        *why = "port out of range";
    else if (!address_ok(out->client_addr) || !address_ok(out->local_addr))
        *why = "malformed address";
    else
        return true;
    return false;
}

void auth_proto_get_reply(const struct ipc_msg *m, struct auth_reply *out)
{
    memset(out, 0, sizeof(*out));
    const struct ipc_field *d = ipc_msg_get(m, IPC_T_DATA);
    out->data = d ? d->data : (const uint8_t *)"";
    out->len = d ? d->len : 0;
    out->username = ipc_msg_str(m, IPC_T_USERNAME, NULL);
    out->reason = ipc_msg_str(m, IPC_T_REASON, NULL);
    out->temporary = ipc_msg_flag(m, IPC_T_TEMPORARY);
    if (m->type == IPC_AUTH_CHALLENGE)
        out->kind = AUTH_REPLY_CHALLENGE;
    else if (m->type == IPC_AUTH_SUCCESS)
        out->kind = AUTH_REPLY_SUCCESS;
    else
        out->kind = AUTH_REPLY_FAILURE;
}
