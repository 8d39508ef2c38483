/*
 * The catalogue of internal messages: every type gatepost processes send
 * each other, with the fields each may carry. Adding a message means
 * adding a row here and an enum entry in msg.h; the builder and parser
 * enforce the row on both sides.
 *
 * Limits are the protocol's, not the transport's: names and addresses are
 * short, reasons are one log line, SASL data may be as long as the largest
 * response smtpd_sasl_response_limit allows.
 */
#include "ipc/msg.h"

#include <stdio.h>

#define ONE 1, 1
#define OPT 0, 1

/* The SMTP AUTH mechanisms a backend offers; more would not fit an EHLO line. */
#define IPC_MECHS_MAX 64

static const struct ipc_field_rule mechs_req_fields[] = {
    { IPC_T_SERVICE, IPC_STR, IPC_NAME_MAX, ONE },
};

static const struct ipc_field_rule start_fields[] = {
    { IPC_T_SERVICE, IPC_STR, IPC_NAME_MAX, ONE },
    { IPC_T_MECH, IPC_STR, IPC_NAME_MAX, ONE },
    { IPC_T_CLIENT_ADDR, IPC_STR, IPC_NAME_MAX, OPT },
    { IPC_T_CLIENT_PORT, IPC_U32, 4, OPT },
    { IPC_T_CLIENT_NAME, IPC_STR, IPC_NAME_MAX, OPT },
    { IPC_T_LOCAL_ADDR, IPC_STR, IPC_NAME_MAX, OPT },
    { IPC_T_LOCAL_PORT, IPC_U32, 4, OPT },
    { IPC_T_SECURED, IPC_FLAG, 0, OPT },
    { IPC_T_TLS_CIPHER, IPC_STR, IPC_NAME_MAX, OPT },
    { IPC_T_DATA, IPC_BYTES, IPC_DATA_MAX, OPT },
};

static const struct ipc_field_rule step_fields[] = {
    { IPC_T_DATA, IPC_BYTES, IPC_DATA_MAX, ONE },
};

static const struct ipc_field_rule mechs_fields[] = {
    { IPC_T_SERVICE, IPC_STR, IPC_NAME_MAX, ONE },
    { IPC_T_AVAILABLE, IPC_FLAG, 0, OPT },
    { IPC_T_MECH, IPC_STR, IPC_NAME_MAX, 0, IPC_MECHS_MAX },
    { IPC_T_MECH_FLAGS, IPC_U32, 4, 0, IPC_MECHS_MAX },
};

static const struct ipc_field_rule challenge_fields[] = {
    { IPC_T_DATA, IPC_BYTES, IPC_DATA_MAX, ONE },
};

static const struct ipc_field_rule success_fields[] = {
    { IPC_T_USERNAME, IPC_STR, IPC_NAME_MAX, ONE },
};

static const struct ipc_field_rule failure_fields[] = {
    { IPC_T_REASON, IPC_STR, IPC_TEXT_MAX, ONE },
    { IPC_T_TEMPORARY, IPC_FLAG, 0, OPT },
    { IPC_T_USERNAME, IPC_STR, IPC_NAME_MAX, OPT },
};

/* Every mechanism name comes with its flags, in the same order. */
static bool mechs_check(const struct ipc_msg *m, const char **why)
{
    if (ipc_msg_count(m, IPC_T_MECH) != ipc_msg_count(m, IPC_T_MECH_FLAGS)) {
        *why = "mechanism names and flags do not pair up";
        return false;
    }
    if (!ipc_msg_flag(m, IPC_T_AVAILABLE) && ipc_msg_count(m, IPC_T_MECH) > 0) {
        *why = "mechanisms listed as unavailable";
        return false;
    }
    return true;
}

#define RULE(t, n, f, c) { t, n, f, sizeof(f) / sizeof(f[0]), c }

static const struct ipc_type_rule catalog[] = {
    RULE(IPC_AUTH_MECHS_REQ, "AUTH_MECHS_REQ", mechs_req_fields, NULL),
    RULE(IPC_AUTH_START, "AUTH_START", start_fields, NULL),
    RULE(IPC_AUTH_STEP, "AUTH_STEP", step_fields, NULL),
    { IPC_AUTH_ABORT, "AUTH_ABORT", NULL, 0, NULL },
    RULE(IPC_AUTH_MECHS, "AUTH_MECHS", mechs_fields, mechs_check),
    RULE(IPC_AUTH_CHALLENGE, "AUTH_CHALLENGE", challenge_fields, NULL),
    RULE(IPC_AUTH_SUCCESS, "AUTH_SUCCESS", success_fields, NULL),
    RULE(IPC_AUTH_FAILURE, "AUTH_FAILURE", failure_fields, NULL),
};

const struct ipc_type_rule *ipc_catalog_find(uint16_t type)
{
    for (size_t i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++)
        if (catalog[i].type == type)
            return &catalog[i];
    return NULL;
}

const char *ipc_type_name(uint16_t type)
{
    const struct ipc_type_rule *r = ipc_catalog_find(type);
    if (r)
        return r->name;
    static _Thread_local char text[32];
    snprintf(text, sizeof(text), "type 0x%04x", (unsigned)type);
    return text;
}
