/*
 * Typed messages between gatepost processes: one catalogue, one frame
 * format, one builder and one parser, so that every message crossing a
 * process boundary is length-checked field by field in a single place.
 *
 * A frame is a 12-byte header followed by tagged fields, all integers in
 * network byte order:
 *
 *   u32 length    whole frame, header included (12 .. IPC_FRAME_MAX)
 *   u16 type      enum ipc_type
 *   u16 flags     reserved, 0
 *   u32 id        request id chosen by the requester (0: none/unsolicited)
 *   fields        u16 tag, u32 length, length bytes; repeated to the end
 *
 * The catalogue (catalog.c) lists, per message type, the tags it may
 * carry with their kind (string, bytes, u32, flag), size limit and how
 * often each may or must appear. The parser rejects anything else:
 * unknown types and tags, duplicates, missing required fields, NUL bytes
 * in strings, a u32 that is not 4 bytes, trailing garbage.
 *
 * Errors and who is to blame (decided once, here):
 *   - Building a message that breaks the catalogue is a bug in this
 *     process: it panics (aborts), as callers validate outside data first.
 *   - A malformed frame received from the peer process is a bug in the
 *     peer (or an attacker who took it over). The receiver never aborts:
 *     it logs an error and closes that one connection, so a broken SMTP
 *     worker cannot take the auth process down with it, and a worker
 *     whose auth connection breaks fails its exchanges temporarily and
 *     reconnects.
 *   - Malformed replies from outside helpers (Dovecot, saslauthd) are not
 *     frames; their parsers turn them into logged temporary failures.
 */
#ifndef GATEPOST_IPC_MSG_H
#define GATEPOST_IPC_MSG_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPC_HEADER_SIZE 12
/* Largest opaque payload (a SASL response of smtpd_sasl_response_limit's maximum). */
#define IPC_DATA_MAX (1024 * 1024)
#define IPC_FRAME_MAX (IPC_DATA_MAX + 16 * 1024)
/* Most fields one frame may carry (a mechanism list has two per mechanism). */
#define IPC_FIELDS_MAX 160
/* Longest short string field (names, addresses, reasons). */
#define IPC_NAME_MAX 255
#define IPC_TEXT_MAX 1024

/* Message types. Requests from SMTP workers to the auth process, then replies. */
enum ipc_type {
    IPC_AUTH_MECHS_REQ = 0x0101,    /* service ("" = every service) */
    IPC_AUTH_START = 0x0102,        /* service, mech, client facts, [data] */
    IPC_AUTH_STEP = 0x0103,         /* data */
    IPC_AUTH_ABORT = 0x0104,        /* (id only) */
    IPC_AUTH_MECHS = 0x0181,        /* service, available, (mech, mech_flags)* */
    IPC_AUTH_CHALLENGE = 0x0182,    /* data */
    IPC_AUTH_SUCCESS = 0x0183,      /* username */
    IPC_AUTH_FAILURE = 0x0184,      /* reason, [temporary], [username] */
};

enum ipc_tag {
    IPC_T_SERVICE = 1,              /* master.cf service name */
    IPC_T_MECH = 2,                 /* SASL mechanism name */
    IPC_T_MECH_FLAGS = 3,           /* u32: enum mech_flags */
    IPC_T_AVAILABLE = 4,            /* flag: the mechanism list is known */
    IPC_T_CLIENT_ADDR = 5,
    IPC_T_CLIENT_PORT = 6,          /* u32 */
    IPC_T_CLIENT_NAME = 7,
    IPC_T_LOCAL_ADDR = 8,
    IPC_T_LOCAL_PORT = 9,           /* u32 */
    IPC_T_SECURED = 10,             /* flag: TLS is active */
    IPC_T_TLS_CIPHER = 11,
    IPC_T_DATA = 12,                /* bytes: SASL response or challenge */
    IPC_T_USERNAME = 13,
    IPC_T_REASON = 14,              /* for the log, never for the SMTP client */
    IPC_T_TEMPORARY = 15,           /* flag: try again later (454) */
};

enum ipc_kind { IPC_STR, IPC_BYTES, IPC_U32, IPC_FLAG };

struct ipc_field_rule {
    uint16_t tag;
    enum ipc_kind kind;
    uint32_t max_len;               /* STR and BYTES */
    uint16_t min_count, max_count;
};

struct ipc_msg;

/* Most distinct tags one message type may carry. */
#define IPC_RULE_FIELDS_MAX 16

struct ipc_type_rule {
    uint16_t type;
    const char *name;               /* "AUTH_START", for logs */
    const struct ipc_field_rule *fields;
    size_t nfields;                 /* <= IPC_RULE_FIELDS_MAX */
    /* Checks across fields after the per-field ones (NULL: none). */
    bool (*check)(const struct ipc_msg *m, const char **why);
};

/* The catalogue entry of a type; NULL if the type is unknown. */
const struct ipc_type_rule *ipc_catalog_find(uint16_t type);
/* "AUTH_START", or "type 0x1234" (static storage per thread). */
const char *ipc_type_name(uint16_t type);

/* ---- frames in a byte stream ---- */

enum ipc_scan { IPC_SCAN_COMPLETE, IPC_SCAN_NEED_MORE, IPC_SCAN_INVALID };

/*
 * Looks at the start of a received byte stream. COMPLETE: *frame_len bytes
 * form one frame (its fields not yet checked). NEED_MORE: wait for input.
 * INVALID: the header is impossible (*why says why): close the connection.
 */
enum ipc_scan ipc_frame_scan(const uint8_t *p, size_t avail, size_t *frame_len,
                             const char **why);

/* ---- parsing ---- */

struct ipc_field {
    uint16_t tag;
    uint32_t len;
    const uint8_t *data;            /* NUL-terminated copy (strings are C strings) */
};

struct ipc_msg {
    uint16_t type;
    uint32_t id;
    size_t nfields;
    struct ipc_field fields[IPC_FIELDS_MAX];
    uint8_t *store;                 /* owns the field copies */
};

/*
 * Parses and checks one whole frame against the catalogue. On success the
 * message owns copies of its fields (free with ipc_msg_free); on failure
 * *why says what is wrong and nothing needs freeing.
 */
bool ipc_msg_parse(const uint8_t *frame, size_t len, struct ipc_msg *out, const char **why);
void ipc_msg_free(struct ipc_msg *m);

/* First field with tag, or NULL. */
const struct ipc_field *ipc_msg_get(const struct ipc_msg *m, uint16_t tag);
/* String field, or dflt when absent. */
const char *ipc_msg_str(const struct ipc_msg *m, uint16_t tag, const char *dflt);
uint32_t ipc_msg_u32(const struct ipc_msg *m, uint16_t tag, uint32_t dflt);
bool ipc_msg_flag(const struct ipc_msg *m, uint16_t tag);
/* Occurrences of a (repeatable) tag and the i-th one. */
size_t ipc_msg_count(const struct ipc_msg *m, uint16_t tag);
const struct ipc_field *ipc_msg_nth(const struct ipc_msg *m, uint16_t tag, size_t i);

/* ---- building ---- */

struct ipc_builder {
    struct buf *out;
    size_t start;                   /* offset of the frame in out */
    const struct ipc_type_rule *rule;
    uint16_t counts[IPC_RULE_FIELDS_MAX];
    bool overflow;                  /* out's cap was reached */
};

/*
 * Starts a frame at the end of out. The put functions check every field
 * against the catalogue (a violation is a bug: panic). When out's cap is
 * reached the frame is dropped: ipc_build_end then returns false and out
 * is as it was before ipc_build_begin.
 */
void ipc_build_begin(struct ipc_builder *b, struct buf *out, uint16_t type, uint32_t id);
void ipc_put_str(struct ipc_builder *b, uint16_t tag, const char *s);
void ipc_put_bytes(struct ipc_builder *b, uint16_t tag, const void *p, size_t n);
void ipc_put_u32(struct ipc_builder *b, uint16_t tag, uint32_t v);
void ipc_put_flag(struct ipc_builder *b, uint16_t tag);
bool ipc_build_end(struct ipc_builder *b);

#endif
