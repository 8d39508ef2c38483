/*
 * Password hashing for PLAIN and LOGIN: yescrypt through libxcrypt
 * (crypt_gensalt_rn with "$y$", crypt_r), salted with 128 random bits.
 *
 * Cost: PASSWORD_COST_DEFAULT is libxcrypt's yescrypt cost 4, setting
 * "$y$j8T$" (N = 2^11, r = 32: 8 MiB of memory and about 30 ms per hash on
 * one core of a current x86-64 server; cost 3 is about 18 ms and 4 MiB,
 * cost 5 about 100 ms and 16 MiB). The auth process computes at most one
 * hash per pool thread at a time, so memory stays bounded by the pool size.
 *
 * Verification recomputes the hash with the stored setting and compares
 * in constant time. password_verify_dummy() does the same work against a
 * hash that matches nothing, so an unknown user costs what a known one
 * does. Hashes already stored keep their own cost; a changed cost applies
 * to new passwords.
 */
#ifndef GATEPOST_AUTH_PASSWORD_H
#define GATEPOST_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX 128       /* "$y$j8T$<salt>$<hash>" is about 73 */
#define PASSWORD_MAX 1024           /* longest password accepted anywhere */
#define PASSWORD_COST_DEFAULT 4
#define PASSWORD_COST_MIN 1
#define PASSWORD_COST_MAX 11

/* Hashes password with the current cost; false with *why on failure. */
bool password_hash(const char *password, char out[PASSWORD_HASH_MAX], const char **why);
/* True when password matches hash (any crypt(3) "$id$" scheme libxcrypt knows). */
bool password_verify(const char *password, const char *hash);
/* Does the work of a verification that fails; for unknown users. */
void password_verify_dummy(const char *password);

/* Number of hash computations so far in this process (tests check the dummy runs). */
unsigned long password_hash_count(void);
/* The cost new hashes get; tests lower it to keep suites fast. */
void password_set_cost(unsigned cost);
unsigned password_get_cost(void);

#endif
