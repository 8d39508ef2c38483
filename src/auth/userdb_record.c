/*
 * The user record codec, secrets from a password, and login-name rules;
 * the format is documented in userdb.h. Decoding checks every length
 * against the field's format before copying, so a damaged record is an
 * error and never an overflow.
 */
#include "auth/cram_md5.h"
#include "auth/mech.h"
#include "auth/scram.h"
#include "auth/userdb.h"

#include "base/strutil.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RECORD_VERSION 1

enum field_tag {
    TAG_FLAGS = 1, TAG_CREATED, TAG_CHANGED, TAG_PASSWORD, TAG_SCRAM1, TAG_SCRAM256,
    TAG_CRAMMD5, TAG_NETWORKS, TAG_LAST = TAG_NETWORKS,
};

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static bool put_field(struct buf *out, enum field_tag tag, const void *p, size_t len)
{
    uint8_t head[3] = { (uint8_t)tag, 0, 0 };
    if (len > UINT16_MAX)
        return false;
    put_be(head + 1, len, 2);
    return buf_append(out, head, sizeof(head)) && buf_append(out, p, len);
}

static bool put_int(struct buf *out, enum field_tag tag, uint64_t v, int n)
{
    uint8_t b[8];
    put_be(b, v, n);
    return put_field(out, tag, b, (size_t)n);
}

static bool put_scram(struct buf *out, enum field_tag tag, const struct scram_secret *s)
{
    uint8_t b[5 + SCRAM_SALT_MAX + 2 * SCRAM_KEY_MAX];
    if (s->salt_len == 0 || s->salt_len > SCRAM_SALT_MAX || s->key_len > SCRAM_KEY_MAX)
        return false;
    put_be(b, s->iterations, 4);
    b[4] = (uint8_t)s->salt_len;
    memcpy(b + 5, s->salt, s->salt_len);
    memcpy(b + 5 + s->salt_len, s->stored_key, s->key_len);
    memcpy(b + 5 + s->salt_len + s->key_len, s->server_key, s->key_len);
    bool ok = put_field(out, tag, b, 5 + s->salt_len + 2 * s->key_len);
    OPENSSL_cleanse(b, sizeof(b));
    return ok;
}

bool userdb_record_encode(const struct userdb_record *r, struct buf *out)
{
    uint8_t version = RECORD_VERSION;
    bool ok = buf_append(out, &version, 1) && put_int(out, TAG_FLAGS, r->flags, 4) &&
              put_int(out, TAG_CREATED, (uint64_t)r->created, 8) &&
              put_int(out, TAG_CHANGED, (uint64_t)r->changed, 8);
    if (ok && r->password_hash[0])
        ok = put_field(out, TAG_PASSWORD, r->password_hash, strlen(r->password_hash));
    if (ok && r->has_scram[SCRAM_SHA1])
        ok = put_scram(out, TAG_SCRAM1, &r->scram[SCRAM_SHA1]);
    if (ok && r->has_scram[SCRAM_SHA256])
        ok = put_scram(out, TAG_SCRAM256, &r->scram[SCRAM_SHA256]);
    if (ok && r->has_cram_md5) {
        uint8_t b[32];
        cram_md5_secret_pack(&r->cram_md5, b);
        ok = put_field(out, TAG_CRAMMD5, b, sizeof(b));
        OPENSSL_cleanse(b, sizeof(b));
    }
    if (ok && r->networks[0])
        ok = put_field(out, TAG_NETWORKS, r->networks, strlen(r->networks));
    return ok;
}

static const char *get_scram(const uint8_t *v, size_t len, enum scram_hash h,
                             struct scram_secret *s)
{
    size_t klen = scram_key_len(h);
    if (len < 5)
        return "SCRAM field too short";
    size_t salt_len = v[4];
    if (salt_len == 0 || salt_len > SCRAM_SALT_MAX || len != 5 + salt_len + 2 * klen)
        return "SCRAM field has the wrong length";
    s->iterations = (unsigned)get_be(v, 4);
    if (s->iterations == 0 || s->iterations > SCRAM_ITERATIONS_MAX)
        return "SCRAM iteration count out of range";
    s->salt_len = salt_len;
    memcpy(s->salt, v + 5, salt_len);
    memcpy(s->stored_key, v + 5 + salt_len, klen);
    memcpy(s->server_key, v + 5 + salt_len + klen, klen);
    s->key_len = klen;
    return NULL;
}

/* Copies a text field; it must fit and hold no NUL. */
static const char *get_text(const uint8_t *v, size_t len, char *out, size_t size)
{
    if (len == 0 || len >= size || memchr(v, 0, len) != NULL)
        return "text field empty, too long or with NUL";
    memcpy(out, v, len);
    out[len] = '\0';
    return NULL;
}

static const char *get_int(const uint8_t *v, size_t len, size_t want, uint64_t *out)
{
    if (len != want)
        return "integer field has the wrong length";
    *out = get_be(v, (int)want);
    return NULL;
}

static const char *decode_field(unsigned tag, const uint8_t *v, size_t len, struct userdb_record *r)
{
    uint64_t n = 0;
    const char *why;
    switch (tag) {
    case TAG_FLAGS:
        why = get_int(v, len, 4, &n);
        r->flags = (unsigned)n;
        return why;
    case TAG_CREATED:
        why = get_int(v, len, 8, &n);
        r->created = (int64_t)n;
        return why;
    case TAG_CHANGED:
        why = get_int(v, len, 8, &n);
        r->changed = (int64_t)n;
        return why;
    case TAG_PASSWORD:
        return get_text(v, len, r->password_hash, sizeof(r->password_hash));
    case TAG_SCRAM1:
        r->has_scram[SCRAM_SHA1] = true;
        return get_scram(v, len, SCRAM_SHA1, &r->scram[SCRAM_SHA1]);
    case TAG_SCRAM256:
        r->has_scram[SCRAM_SHA256] = true;
        return get_scram(v, len, SCRAM_SHA256, &r->scram[SCRAM_SHA256]);
    case TAG_CRAMMD5:
        if (len != 32)
            return "CRAM-MD5 field has the wrong length";
        r->has_cram_md5 = true;
        cram_md5_secret_unpack(v, &r->cram_md5);
        return NULL;
    case TAG_NETWORKS:
        return get_text(v, len, r->networks, sizeof(r->networks));
    default:
        return "unknown field (written by a newer version?)";
    }
}

bool userdb_record_decode(const uint8_t *p, size_t len, struct userdb_record *r,
                          const char **why)
{
    unsigned seen = 0;
    memset(r, 0, sizeof(*r));
    if (len < 1 || p[0] != RECORD_VERSION) {
        *why = "unknown record version";
        return false;
    }
    for (size_t i = 1; i < len;) {
        if (len - i < 3) {
            *why = "truncated field header";
            return false;
        }
        unsigned tag = p[i];
        size_t flen = (size_t)get_be(p + i + 1, 2);
        if (flen > len - i - 3) {
            *why = "truncated field";
            return false;
        }
        if (tag >= 1 && tag <= TAG_LAST && (seen & (1u << tag))) {
            *why = "repeated field";
            return false;
        }
        seen |= tag <= TAG_LAST ? 1u << tag : 0;
        if ((*why = decode_field(tag, p + i + 3, flen, r)) != NULL)
            return false;
        i += 3 + flen;
    }
    unsigned required = 1u << TAG_FLAGS | 1u << TAG_CREATED | 1u << TAG_CHANGED;
    if ((seen & required) != required) {
        *why = "missing required field";
        return false;
    }
    return true;
}

void userdb_record_wipe(struct userdb_record *r)
{
    OPENSSL_cleanse(r, sizeof(*r));
}

bool userdb_record_set_password(struct userdb_record *r, const char *password,
                                unsigned iterations, const char **why)
{
    size_t len = strlen(password);
    if (len == 0 || len > PASSWORD_MAX) {
        *why = len == 0 ? "empty password" : "password too long";
        return false;
    }
    if (!password_hash(password, r->password_hash, why))
        return false;
    for (int h = SCRAM_SHA1; h <= SCRAM_SHA256; h++) {
        if (!scram_secret_new((enum scram_hash)h, password, len, iterations, &r->scram[h])) {
            *why = "SCRAM key derivation failed";
            return false;
        }
        r->has_scram[h] = true;
    }
    r->has_cram_md5 = (r->flags & USERDB_CRAM_MD5) != 0;
    if (r->has_cram_md5)
        cram_md5_secret_from_password(password, len, &r->cram_md5);
    else
        OPENSSL_cleanse(&r->cram_md5, sizeof(r->cram_md5));
    r->changed = (int64_t)time(NULL);
    return true;
}

void userdb_record_mechs(const struct userdb_record *r, char *out, size_t size)
{
    char list[128] = "";
    if (r->password_hash[0])
        strcat(list, " PLAIN LOGIN");
    if (r->has_cram_md5)
        strcat(list, " CRAM-MD5");
    if (r->has_scram[SCRAM_SHA1])
        strcat(list, " SCRAM-SHA-1");
    if (r->has_scram[SCRAM_SHA256])
        strcat(list, " SCRAM-SHA-256");
    str_copy(out, size, list[0] ? list + 1 : "none");
}

/* Bytes a login name may not contain: controls, DEL, and NUL. */
static bool name_chars_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

bool userdb_key(const char *login, const char *realm, char out[CRED_USER_MAX],
                const char **why)
{
    bool add_realm = strchr(login, '@') == NULL && realm != NULL && realm[0] != '\0';
    int n = add_realm ? snprintf(out, CRED_USER_MAX, "%s@%s", login, realm)
                      : snprintf(out, CRED_USER_MAX, "%s", login);
    if (login[0] == '\0' || login[0] == '@') {
        *why = "empty user name";
        return false;
    }
    if (n < 0 || n >= CRED_USER_MAX) {
        *why = "user name too long";
        return false;
    }
    if (!name_chars_ok(out) || !mech_utf8_valid((const uint8_t *)out, strlen(out))) {
        *why = "user name has control characters or is not UTF-8";
        return false;
    }
    char *at = strrchr(out, '@');
    if (at != NULL && at[1] == '\0') {
        *why = "empty realm";
        return false;
    }
    if (at != NULL)
        str_lower(at + 1);
    return true;
}
