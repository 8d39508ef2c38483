/*
 * A credential store (credstore.h) that asks Cyrus saslauthd, for
 * smtpd_sasl_type = cyrus with "pwcheck_method: saslauthd". saslauthd
 * can only say whether a password is right, so the store implements
 * verify_password alone: PLAIN and LOGIN work over it, nothing else.
 *
 * The wire protocol (saslauthd's unix socket, one request per
 * connection): four strings, each a 16-bit big-endian length and the
 * bytes - login, password, service, realm - answered by one such string
 * starting with "OK" or "NO" (the rest is a remark for the log).
 *
 * User names are handled as Cyrus does: a name without "@" gets
 * smtpd_sasl_local_domain appended when it is set; that canonical name is
 * the authenticated user, and it is sent split at its last "@" into login
 * and realm.
 *
 * Calls block (connect, write, read, each bounded by the timeout) and run
 * on the auth process's pool threads.
 */
#ifndef GATEPOST_AUTH_SASLAUTHD_H
#define GATEPOST_AUTH_SASLAUTHD_H

#include "auth/credstore.h"
#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SASLAUTHD_DEFAULT_PATH "/var/run/saslauthd/mux"
#define SASLAUTHD_TIMEOUT_MS 30000
/* saslauthd refuses longer request strings (its MAX_REQ_LEN). */
#define SASLAUTHD_FIELD_MAX 1024
#define SASLAUTHD_REPLY_MAX 1024

struct cred_store *saslauthd_store_new(const char *socket_path, unsigned timeout_ms);
void saslauthd_store_free(struct cred_store *store);

/* The request bytes; false when a field is longer than SASLAUTHD_FIELD_MAX. */
bool saslauthd_query(const char *login, const char *password, const char *service,
                     const char *realm, struct buf *out);

enum saslauthd_answer { SASLAUTHD_YES, SASLAUTHD_NO, SASLAUTHD_NEED_MORE, SASLAUTHD_MALFORMED };

/*
 * Reads a reply from the len bytes received so far. YES/NO: complete,
 * remark (NUL-terminated, may be empty) holds the text after OK/NO.
 * NEED_MORE: read more. MALFORMED: not a saslauthd answer.
 */
enum saslauthd_answer saslauthd_reply(const uint8_t *p, size_t len, char *remark,
                                      size_t remark_size);

/* The canonical user name (see above) into out; false if too long. */
bool saslauthd_canonical(const char *user, const char *realm, char out[CRED_USER_MAX]);

#endif
