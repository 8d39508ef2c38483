/*
 * Where mechanisms get their secrets: the credential store interface. The
 * gatepost user database implements all of it; saslauthd can only verify
 * a password (PLAIN and LOGIN); Dovecot is not a store (it runs the whole
 * exchange itself).
 *
 * Calls run on pool threads and may block. Every function takes the same
 * time whether or not the user exists (a dummy hash for unknown users; a
 * deterministic fake SCRAM salt), so the answer never reveals which user
 * names exist. Comparisons of secrets are constant-time.
 */
#ifndef GATEPOST_AUTH_CREDSTORE_H
#define GATEPOST_AUTH_CREDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mech_request;

enum cred_status {
    CRED_OK,
    CRED_NO_USER,           /* unknown login name (logged, never told to the client) */
    CRED_BAD_PASSWORD,
    CRED_NOT_ALLOWED,       /* the user may not authenticate from this client address */
    CRED_NO_SECRET,         /* the user has no secret for this mechanism (e.g. CRAM-MD5 off) */
    CRED_TEMPFAIL,          /* backend trouble: answer 454 4.7.0 */
};

enum scram_hash { SCRAM_SHA1, SCRAM_SHA256 };

#define SCRAM_SALT_MAX 64
#define SCRAM_KEY_MAX 32        /* SHA-256 output */

struct scram_secret {
    unsigned iterations;
    uint8_t salt[SCRAM_SALT_MAX];
    size_t salt_len;
    uint8_t stored_key[SCRAM_KEY_MAX];
    uint8_t server_key[SCRAM_KEY_MAX];
    size_t key_len;             /* 20 for SHA-1, 32 for SHA-256 */
};

/* CRAM-MD5 secret: HMAC-MD5 state after the key's inner and outer pads. */
struct cram_md5_secret {
    uint32_t inner[4];
    uint32_t outer[4];
};

#define CRED_USER_MAX 256

struct cred_store {
    void *ctx;
    const char *name;           /* "gatepost", "saslauthd" (for logs) */
    /* PLAIN/LOGIN: check a password. user_out gets the canonical login name. */
    enum cred_status (*verify_password)(void *ctx, const struct mech_request *req,
                                        const char *user, const char *password,
                                        char user_out[CRED_USER_MAX]);
    /* SCRAM: the stored keys; NULL when the store cannot do SCRAM. */
    enum cred_status (*scram_secret)(void *ctx, const struct mech_request *req,
                                     const char *user, enum scram_hash hash,
                                     struct scram_secret *out, char user_out[CRED_USER_MAX]);
    /* CRAM-MD5: the precomputed HMAC state; NULL when not available. */
    enum cred_status (*cram_md5_secret)(void *ctx, const struct mech_request *req,
                                        const char *user, struct cram_md5_secret *out,
                                        char user_out[CRED_USER_MAX]);
};

#endif
