/*
 * Dovecot's authentication client protocol (version 1.x), the pure part:
 * splitting and unescaping lines, reading the server's handshake and
 * replies, writing AUTH and CONT requests. No I/O; fuzzed by
 * fuzz_dovecot_reply. The connection itself is backend_dovecot.c.
 *
 *   C: VERSION 1 2 / CPID pid
 *   S: VERSION 1 x / MECH name flags... / SPID / CUID / COOKIE / DONE
 *   C: AUTH id mech service=smtp nologin lip= rip= lport= rport= [secured] [resp=base64]
 *   S: CONT id base64          (a challenge; C: CONT id base64)
 *   S: OK id user=name ...
 *   S: FAIL id [reason=text] [temp] [user=name] [code=...]
 *
 * Fields are separated by TAB, lines end with LF; values use Dovecot's
 * escaping (\001 followed by 0 1 t r n/l for NUL, \001, TAB, CR, LF).
 * Anything that does not fit this grammar is a malformed reply, which the
 * connection turns into a logged temporary failure.
 */
#ifndef GATEPOST_AUTH_DOVECOT_PROTO_H
#define GATEPOST_AUTH_DOVECOT_PROTO_H

#include "auth/client.h"
#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Dovecot's AUTH_CLIENT_MAX_LINE_LENGTH: it drops clients that send longer lines. */
#define DOVECOT_LINE_MAX 16384
#define DOVECOT_ARGS_MAX 64
#define DOVECOT_MAJOR_VERSION 1
#define DOVECOT_MINOR_VERSION 2

struct dovecot_line {
    size_t argc;
    char *argv[DOVECOT_ARGS_MAX];   /* unescaped, NUL-terminated, into the line */
};

/*
 * Splits a line (no LF) in place at TABs and unescapes every field; false
 * with *why when there are too many fields or a field would hold a NUL.
 */
bool dovecot_split(char *line, struct dovecot_line *out, const char **why);

/* VERSION line: false if it is not one, or not major version 1 (*why). */
bool dovecot_parse_version(const struct dovecot_line *l, const char **why);

/*
 * MECH line into name and enum mech_flags. *usable false for private
 * mechanisms (not for SMTP) and names that are not SASL names; false with
 * *why when the line is malformed.
 */
bool dovecot_parse_mech(const struct dovecot_line *l, const char **name, unsigned *flags,
                        bool *usable, const char **why);

enum dovecot_reply_kind { DOVECOT_REPLY_OK, DOVECOT_REPLY_CONT, DOVECOT_REPLY_FAIL };

struct dovecot_reply {
    enum dovecot_reply_kind kind;
    uint32_t id;
    const char *data;               /* CONT: base64 challenge */
    const char *user;               /* OK: authenticated name; FAIL: tried name or NULL */
    const char *reason;             /* FAIL: reason= or NULL */
    bool temporary;                 /* FAIL: temp or code=temp_fail */
};

/*
 * An OK / CONT / FAIL line. Returns false with *why for a malformed one;
 * *is_reply false (and true returned) for any other command, which the
 * caller ignores as the protocol asks.
 */
bool dovecot_parse_reply(const struct dovecot_line *l, struct dovecot_reply *out, bool *is_reply,
                         const char **why);

/* Appends s with Dovecot's escaping. */
void dovecot_escape(struct buf *out, const char *s);

/*
 * The AUTH request line (with LF). false with *why when it would pass
 * DOVECOT_LINE_MAX (a very long initial response) or out's cap.
 */
bool dovecot_format_auth(struct buf *out, uint32_t id, const char *sasl_service,
                         const struct auth_start_info *info, const char **why);
/* A CONT line with the client's response; false as above. */
bool dovecot_format_cont(struct buf *out, uint32_t id, const uint8_t *data, size_t len,
                         const char **why);

#endif
