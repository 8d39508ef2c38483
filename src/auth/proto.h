/*
 * The auth messages of the ipc catalogue (ipc/msg.h) in terms of the
 * client API's structs: what an SMTP worker and the auth process write
 * and read. Both sides use these functions, so the mapping between a
 * struct field and a frame field exists once.
 *
 * The put functions return false with *why when a value does not fit the
 * protocol (a mechanism name or initial response from the SMTP client
 * that is too long): the caller fails that exchange. Callers must check
 * a false return from a builder that only ran out of output space
 * separately (ipc_build_end's contract): then why is NULL.
 */
#ifndef GATEPOST_AUTH_PROTO_H
#define GATEPOST_AUTH_PROTO_H

#include "auth/client.h"
#include "base/buf.h"
#include "ipc/msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 4422 section 3.1: 1 to 20 characters, upper-case letters, digits, "-" and "_". */
#define AUTH_MECH_NAME_MAX 20
/* Most mechanisms one backend may offer. */
#define AUTH_MECHS_MAX 64

/* True when name is a well-formed SASL mechanism name (any case). */
bool auth_mech_name_valid(const char *name);

/* Worker to auth process. */
bool auth_proto_put_mechs_req(struct buf *out, uint32_t id, const char *service);
bool auth_proto_put_start(struct buf *out, uint32_t id, const struct auth_start_info *info,
                          const char **why);
bool auth_proto_put_step(struct buf *out, uint32_t id, const uint8_t *p, size_t n,
                         const char **why);
bool auth_proto_put_abort(struct buf *out, uint32_t id);

/* Auth process to worker. list NULL: the service's mechanisms are not known now. */
bool auth_proto_put_mechs(struct buf *out, uint32_t id, const char *service,
                          const struct auth_mech_list *list);
/* Reasons longer than the protocol allows are shortened; never fails on content. */
bool auth_proto_put_reply(struct buf *out, uint32_t id, const struct auth_reply *r);

/*
 * Reading. The strings point into m. get_start checks the facts the
 * catalogue cannot (mechanism name syntax, ports in range, addresses that
 * are addresses): false with *why is a request to refuse, not a broken
 * frame.
 */
bool auth_proto_get_start(const struct ipc_msg *m, struct auth_start_info *out, const char **why);
/* m is a CHALLENGE, SUCCESS or FAILURE. */
void auth_proto_get_reply(const struct ipc_msg *m, struct auth_reply *out);

#endif
