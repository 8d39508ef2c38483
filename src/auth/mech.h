/*
 * Server-side SASL mechanisms (RFC 4422), run inside the auth process:
 * PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195), SCRAM-SHA-1 and
 * SCRAM-SHA-256 (RFC 5802, RFC 7677).
 *
 * A mechanism is a synchronous state machine: each step takes the client's
 * decoded response and yields a challenge to send, success, or failure.
 * Steps run on the auth process's pool threads, so they may call the
 * credential store, which may block (password hashing, saslauthd).
 *
 * The SMTP framing (base64, "=" for empty, "*" to cancel, 334/235/535) is
 * the SMTP server's job; mechanisms see raw bytes only.
 */
#ifndef GATEPOST_AUTH_MECH_H
#define GATEPOST_AUTH_MECH_H

#include "auth/credstore.h"
#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Security properties, as Cyrus SASL and Dovecot describe mechanisms. */
enum mech_flags {
    MECH_PLAINTEXT = 1 << 0,        /* the password crosses the wire (PLAIN, LOGIN) */
    MECH_DICTIONARY = 1 << 1,       /* open to passive dictionary attack (CRAM-MD5, ...) */
    MECH_ANONYMOUS = 1 << 2,
    MECH_MUTUAL_AUTH = 1 << 3,      /* the client authenticates the server (SCRAM) */
    MECH_FORWARD_SECRECY = 1 << 4,
    MECH_ACTIVE = 1 << 5,           /* open to active (non-dictionary) attack: Postfix's "noactive" */
};

struct mech_info {
    const char *name;               /* upper case, "SCRAM-SHA-256" */
    unsigned flags;
};

/* Known mechanism names (implemented here or offered by Dovecot); NULL if unknown. */
const struct mech_info *mech_info_find(const char *name);

/*
 * smtpd_sasl_security_options / smtpd_sasl_tls_security_options:
 * noanonymous, noplaintext, nodictionary, noactive, mutual_auth,
 * forward_secrecy (Postfix's words, any case, separated by commas and/or
 * white space; empty means no restriction). Parsed once;
 * mech_policy_allows() filters a mechanism. An unknown word is an error
 * and *why (static storage per thread) names it.
 */
struct mech_policy {
    unsigned forbidden;             /* flags a mechanism must not have */
    unsigned required;              /* flags it must have */
};
bool mech_policy_parse(const char *options, struct mech_policy *out, const char **why);
bool mech_policy_allows(const struct mech_policy *p, unsigned flags);

/* What a mechanism knows of the client; strings borrowed for the exchange. */
struct mech_request {
    const char *service;            /* smtpd_sasl_service, "smtp" */
    const char *realm;              /* smtpd_sasl_local_domain, "" if none */
    const char *client_addr;        /* "192.0.2.1" */
    bool secured;                   /* TLS is active */
    const struct cred_store *store;
};

enum mech_status { MECH_CONTINUE, MECH_SUCCESS, MECH_FAILURE, MECH_TEMPFAIL };

#define MECH_NAME_MAX 256
#define MECH_REASON_MAX 256

struct mech_result {
    enum mech_status status;
    struct buf challenge;           /* CONTINUE: raw bytes to send (the caller base64-encodes) */
    char username[MECH_NAME_MAX];   /* SUCCESS: the authenticated login name;
                                       FAILURE: the name that was tried, when the
                                       client got that far (for the log), else "" */
    char reason[MECH_REASON_MAX];   /* FAILURE/TEMPFAIL: for the log only; the
                                       client always sees the same failure */
};

void mech_result_init(struct mech_result *r);
void mech_result_free(struct mech_result *r);

struct mech_exchange;

struct mech_ops {
    const char *name;
    struct mech_exchange *(*start)(const struct mech_request *req);
    /*
     * One step. The first call carries the SMTP initial response when the
     * client sent one (has_data true, possibly with len 0 for "="); when it
     * did not, the first call has has_data false and the mechanism answers
     * with its first challenge (empty for PLAIN and SCRAM).
     */
    void (*step)(struct mech_exchange *x, const uint8_t *data, size_t len, bool has_data,
                 struct mech_result *out);
    void (*free)(struct mech_exchange *x);
};

/* Implemented mechanisms by name (case-insensitive); NULL if not implemented. */
const struct mech_ops *mech_find(const char *name);
/* Names of all implemented mechanisms, in preference order (NULL-terminated). */
extern const char *const mech_implemented[];

/*
 * Internals shared by the mechanism files (mech_*.c); not for callers.
 */
extern const struct mech_ops mech_plain_ops;
extern const struct mech_ops mech_login_ops;
extern const struct mech_ops mech_cram_md5_ops;
extern const struct mech_ops mech_scram_sha1_ops;
extern const struct mech_ops mech_scram_sha256_ops;

/* Longest password a mechanism accepts (RFC 4616 allows 255 octets; LOGIN more). */
#define MECH_PASSWORD_MAX 1024

/* True when s[0..n) is well-formed UTF-8 (RFC 3629) without NUL. */
bool mech_utf8_valid(const uint8_t *s, size_t n);
/* Ends the exchange: status FAILURE or TEMPFAIL with a log reason. */
void mech_fail(struct mech_result *r, enum mech_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the exchange from a credential store answer other than CRED_OK. */
void mech_fail_cred(struct mech_result *r, enum cred_status st, const char *user);
/* Ends the exchange successfully as user. */
void mech_succeed(struct mech_result *r, const char *user);
/* Asks for more: challenge bytes (possibly none). */
void mech_continue(struct mech_result *r, const void *challenge, size_t len);

#endif
