/*
 * CRAM-MD5 secrets (RFC 2195) without the password: HMAC-MD5 (RFC 2104)
 * split into the MD5 chaining state after the key's inner pad block and
 * after its outer pad block. With the two states a server can compute
 * HMAC-MD5(password, challenge) for any challenge, so it never needs the
 * password itself; this is the "precomputed state" Cyrus and Dovecot
 * store ({CRAM-MD5} in Dovecot, 32 bytes: the eight state words, each
 * little-endian).
 *
 * Trade-off: the state is password-equivalent for CRAM-MD5. Whoever steals
 * it can log in with CRAM-MD5 as that user, though recovering the password
 * itself still takes a brute-force search of MD5 (cheap, unlike yescrypt).
 * That is why the user database keeps it only for users who have CRAM-MD5
 * enabled.
 *
 * MD5 (RFC 1321) is implemented here because the HMAC split needs access to
 * the raw chaining state, which OpenSSL 3's public API no longer exposes.
 */
#ifndef GATEPOST_AUTH_CRAM_MD5_H
#define GATEPOST_AUTH_CRAM_MD5_H

#include "auth/credstore.h"

#include <stddef.h>
#include <stdint.h>

#define CRAM_MD5_DIGEST_LEN 16
/* Longest challenge "<random.timestamp@host>" we produce. */
#define CRAM_MD5_CHALLENGE_MAX 320

/* The HMAC-MD5 precomputed state for a password (keys over 64 bytes are hashed first). */
void cram_md5_secret_from_password(const void *password, size_t len, struct cram_md5_secret *out);

/* HMAC-MD5(password, msg) from the precomputed state. */
void cram_md5_hmac(const struct cram_md5_secret *s, const void *msg, size_t len,
                   uint8_t out[CRAM_MD5_DIGEST_LEN]);

/* Plain MD5 of a message (RFC 1321), for tests and long keys. */
void cram_md5_md5(const void *msg, size_t len, uint8_t out[CRAM_MD5_DIGEST_LEN]);

/* The 32-byte storage form (Dovecot's order: inner A..D, outer A..D, little-endian). */
void cram_md5_secret_pack(const struct cram_md5_secret *s, uint8_t out[32]);
void cram_md5_secret_unpack(const uint8_t in[32], struct cram_md5_secret *s);

/*
 * Writes a fresh challenge "<random.timestamp@host>" (RFC 2195 section 2)
 * for host into out (size bytes); returns its length, 0 if it does not fit.
 */
size_t cram_md5_challenge(const char *host, char *out, size_t size);

/* Test hook: a fixed challenge instead of a fresh one (NULL restores). Not thread-safe. */
void cram_md5_test_set_challenge(const char *challenge);

#endif
