/*
 * SCRAM building blocks (RFC 5802, RFC 7677) shared by the SCRAM
 * mechanisms and the user database: key derivation, HMAC and hash for
 * SHA-1 and SHA-256, the saslname escaping of user names, and server
 * nonces.
 *
 *   SaltedPassword = Hi(password, salt, i)      (PBKDF2-HMAC, RFC 2898)
 *   StoredKey      = H(HMAC(SaltedPassword, "Client Key"))
 *   ServerKey      = HMAC(SaltedPassword, "Server Key")
 *
 * Only StoredKey and ServerKey are stored; neither lets anyone log in
 * without a recorded exchange or an offline dictionary search.
 *
 * Passwords are used as the UTF-8 bytes given, without SASLprep (RFC 4013)
 * normalisation: for passwords in printable ASCII the two are the same; a
 * client that normalises a non-ASCII password differently will fail.
 */
#ifndef GATEPOST_AUTH_SCRAM_H
#define GATEPOST_AUTH_SCRAM_H

#include "auth/credstore.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRAM_ITERATIONS_DEFAULT 4096   /* RFC 7677 section 4's minimum */
#define SCRAM_ITERATIONS_MAX 10000000
#define SCRAM_SALT_LEN_DEFAULT 16
#define SCRAM_NONCE_MAX 256             /* client nonce, in characters */
#define SCRAM_SERVER_NONCE_BYTES 18     /* 24 characters once base64-encoded */

/* 20 for SHA-1, 32 for SHA-256. */
size_t scram_key_len(enum scram_hash h);
/* "SCRAM-SHA-1" or "SCRAM-SHA-256". */
const char *scram_mech_name(enum scram_hash h);

bool scram_digest(enum scram_hash h, const void *msg, size_t len, uint8_t out[SCRAM_KEY_MAX]);
bool scram_hmac(enum scram_hash h, const uint8_t *key, size_t key_len, const void *msg,
                size_t len, uint8_t out[SCRAM_KEY_MAX]);
/* Hi(): PBKDF2 with HMAC-H, one block. */
bool scram_salted_password(enum scram_hash h, const void *password, size_t pw_len,
                           const uint8_t *salt, size_t salt_len, unsigned iterations,
                           uint8_t out[SCRAM_KEY_MAX]);
/* Derives the stored secret for a password with the given salt and iterations. */
bool scram_secret_from_password(enum scram_hash h, const void *password, size_t pw_len,
                                const uint8_t *salt, size_t salt_len, unsigned iterations,
                                struct scram_secret *out);
/* Same with a fresh random salt of SCRAM_SALT_LEN_DEFAULT bytes. */
bool scram_secret_new(enum scram_hash h, const void *password, size_t pw_len,
                      unsigned iterations, struct scram_secret *out);

/*
 * saslname (RFC 5802 section 5.1): "," is written "=2C" and "=" "=3D".
 * decode: false on any other "=" sequence, a bare ",", a NUL or when the
 * result (with its terminator) does not fit in cap. encode: false if it
 * does not fit.
 */
bool scram_saslname_decode(const char *in, size_t len, char *out, size_t cap);
bool scram_saslname_encode(const char *in, char *out, size_t cap);

/* A fresh server nonce (printable, no ","), NUL-terminated; false if out is too small. */
bool scram_server_nonce(char *out, size_t size);

/* Test hook: a fixed server nonce instead of a random one (NULL restores). Not thread-safe. */
void scram_test_set_nonce(const char *nonce);

#endif
