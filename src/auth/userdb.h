/*
 * The gatepost user database (smtpd_sasl_type = gatepost): one LMDB file
 * (sasl_user_database, opened with MDB_NOSUBDIR; the file and its "-lock"
 * companion are created mode 0600), written by `gatepost user` and read by
 * the auth process. The network-facing SMTP workers never open it.
 *
 * Two named databases:
 *   "users"  key: the login name, "user@realm" or "user" (no realm)
 *            value: a user record (below)
 *   "meta"   "secret": 32 random bytes made when the file is created; the
 *            credential store derives fake SCRAM salts for unknown users
 *            from it, so they look like real ones and stay the same.
 *            "format": "1".
 *
 * User record, version 1 (all integers big-endian):
 *   byte 0      version = 1
 *   then fields: tag (1 byte), length (2 bytes), value (length bytes);
 *   each tag at most once, unknown tags are an error (a newer writer):
 *   1 FLAGS     4 bytes: bit 0 disabled, bit 1 CRAM-MD5 enabled   (required)
 *   2 CREATED   8 bytes: Unix time                                 (required)
 *   3 CHANGED   8 bytes: Unix time of the last change              (required)
 *   4 PASSWORD  crypt(3) text, "$y$..." (yescrypt; see password.h)
 *   5 SCRAM1    SCRAM-SHA-1:   iterations (4), salt length (1), salt,
 *               StoredKey (20), ServerKey (20)
 *   6 SCRAM256  SCRAM-SHA-256: iterations (4), salt length (1), salt,
 *               StoredKey (32), ServerKey (32)
 *   7 CRAMMD5   32 bytes: HMAC-MD5 inner and outer state (cram_md5.h);
 *               present only while CRAM-MD5 is enabled for the user.
 *               Password-equivalent for CRAM-MD5: see cram_md5.h.
 *   8 NETWORKS  text, mynetworks syntax: client networks the user may
 *               authenticate from; absent means anywhere
 * No field holds a password in plain text.
 *
 * Login names: the user part is kept as given (case matters, as in Cyrus
 * and Dovecot), the realm (after the last "@") is lower-cased. A login
 * name without "@" gets the realm appended when one is given
 * (smtpd_sasl_local_domain, or `gatepost user -u REALM`).
 *
 * Thread safety: a struct userdb may be used from many threads at once;
 * every call runs in its own LMDB transaction.
 */
#ifndef GATEPOST_AUTH_USERDB_H
#define GATEPOST_AUTH_USERDB_H

#include "auth/credstore.h"
#include "auth/password.h"
#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USERDB_NETWORKS_MAX 1024
#define USERDB_SECRET_LEN 32
#define USERDB_RECORD_MAX 4096
#define USERDB_ERR_MAX 512

enum userdb_flag {
    USERDB_DISABLED = 1 << 0,
    USERDB_CRAM_MD5 = 1 << 1,
};

struct userdb_record {
    unsigned flags;
    int64_t created, changed;
    char password_hash[PASSWORD_HASH_MAX];      /* "" when none */
    bool has_scram[2];                          /* indexed by enum scram_hash */
    struct scram_secret scram[2];
    bool has_cram_md5;
    struct cram_md5_secret cram_md5;
    char networks[USERDB_NETWORKS_MAX];         /* "" = anywhere */
};

/* Record codec (pure). encode: false if a field does not fit its format. */
bool userdb_record_encode(const struct userdb_record *r, struct buf *out);
bool userdb_record_decode(const uint8_t *p, size_t len, struct userdb_record *r,
                          const char **why);
/* Wipes a record (it holds secrets). */
void userdb_record_wipe(struct userdb_record *r);

/*
 * Sets every secret from a password: the yescrypt hash, both SCRAM key
 * sets (fresh salts, `iterations`), and the CRAM-MD5 state if the record
 * has USERDB_CRAM_MD5 (otherwise that state is removed). Updates changed.
 */
bool userdb_record_set_password(struct userdb_record *r, const char *password,
                                unsigned iterations, const char **why);
/* Mechanisms the record can serve, space-separated, into out. */
void userdb_record_mechs(const struct userdb_record *r, char *out, size_t size);

/*
 * The database key for a login name: realm appended to a name without "@"
 * when realm is non-empty, the realm part lower-cased. False with *why for
 * an empty, over-long or non-UTF-8 name or one with control characters.
 */
bool userdb_key(const char *login, const char *realm, char out[CRED_USER_MAX],
                const char **why);

enum userdb_status { USERDB_OK, USERDB_NOT_FOUND, USERDB_EXISTS, USERDB_ERROR };

struct userdb;

/*
 * Opens the database file; with create, makes it (0600) if missing,
 * otherwise a missing file is an error. err gets a one-line message.
 */
struct userdb *userdb_open(const char *path, bool create, char *err, size_t errlen);
void userdb_close(struct userdb *db);
const char *userdb_path(const struct userdb *db);
/* The per-database secret (see above). */
void userdb_secret(const struct userdb *db, uint8_t out[USERDB_SECRET_LEN]);

enum userdb_status userdb_get(struct userdb *db, const char *key, struct userdb_record *out,
                              char *err, size_t errlen);
/* Stores a record; with only_new, USERDB_EXISTS if the key is taken. */
enum userdb_status userdb_put(struct userdb *db, const char *key, const struct userdb_record *r,
                              bool only_new, char *err, size_t errlen);
enum userdb_status userdb_delete(struct userdb *db, const char *key, char *err, size_t errlen);

/*
 * Read-modify-write in one write transaction: fn gets the record (exists
 * false: zeroed) and returns USERDB_OK to store it, anything else to leave
 * the database unchanged (that status is returned).
 */
typedef enum userdb_status (*userdb_modify_fn)(struct userdb_record *r, bool exists, void *arg);
enum userdb_status userdb_modify(struct userdb *db, const char *key, userdb_modify_fn fn,
                                 void *arg, char *err, size_t errlen);

/* Calls fn for every user in key order; stops early when fn returns false. */
typedef bool (*userdb_each_fn)(const char *key, const struct userdb_record *r, void *arg);
bool userdb_foreach(struct userdb *db, userdb_each_fn fn, void *arg, char *err, size_t errlen);

/*
 * Cyrus sasldb2 import: parses `db_dump -p` output (printable format:
 * header lines up to HEADER=END, then key and value lines each starting
 * with a space, "\\" for a backslash and "\xx" hex escapes, DATA=END).
 * sasldb2 keys are "user NUL realm NUL property"; fn gets every entry.
 * False with err on malformed input; false with err empty when fn
 * returned false (which stops the parse).
 */
typedef bool (*userdb_sasldb_fn)(const char *user, const char *realm, const char *property,
                                 const uint8_t *value, size_t len, void *arg);
bool userdb_sasldb_parse(const char *text, size_t len, userdb_sasldb_fn fn, void *arg,
                         char *err, size_t errlen);

#endif
