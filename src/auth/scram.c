/*
 * SCRAM key derivation and helpers (see scram.h). OpenSSL provides the
 * primitives (PBKDF2, HMAC, SHA); intermediate keys are wiped.
 */
#include "auth/scram.h"

#include "base/base64.h"
#include "base/strutil.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

static const EVP_MD *scram_md(enum scram_hash h)
{
    return h == SCRAM_SHA1 ? EVP_sha1() : EVP_sha256();
}

size_t scram_key_len(enum scram_hash h)
{
    return h == SCRAM_SHA1 ? 20 : 32;
}

const char *scram_mech_name(enum scram_hash h)
{
    return h == SCRAM_SHA1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

bool scram_digest(enum scram_hash h, const void *msg, size_t len, uint8_t out[SCRAM_KEY_MAX])
{
    unsigned n = 0;
    return EVP_Digest(msg, len, out, &n, scram_md(h), NULL) == 1 && n == scram_key_len(h);
}

bool scram_hmac(enum scram_hash h, const uint8_t *key, size_t key_len, const void *msg,
                size_t len, uint8_t out[SCRAM_KEY_MAX])
{
    unsigned n = 0;
    if (key_len > INT32_MAX)
        return false;
    return HMAC(scram_md(h), key, (int)key_len, msg, len, out, &n) != NULL &&
           n == scram_key_len(h);
}

bool scram_salted_password(enum scram_hash h, const void *password, size_t pw_len,
                           const uint8_t *salt, size_t salt_len, unsigned iterations,
                           uint8_t out[SCRAM_KEY_MAX])
{
    if (pw_len > INT32_MAX || salt_len > INT32_MAX || iterations == 0 ||
        iterations > SCRAM_ITERATIONS_MAX)
        return false;
    return PKCS5_PBKDF2_HMAC(password, (int)pw_len, salt, (int)salt_len, (int)iterations,
                             scram_md(h), (int)scram_key_len(h), out) == 1;
}

bool scram_secret_from_password(enum scram_hash h, const void *password, size_t pw_len,
                                const uint8_t *salt, size_t salt_len, unsigned iterations,
                                struct scram_secret *out)
{
    static const char client_label[] = "Client Key", server_label[] = "Server Key";
    uint8_t salted[SCRAM_KEY_MAX], client_key[SCRAM_KEY_MAX];
    size_t klen = scram_key_len(h);
    if (salt_len == 0 || salt_len > SCRAM_SALT_MAX)
        return false;
    memset(out, 0, sizeof(*out));
    bool ok = scram_salted_password(h, password, pw_len, salt, salt_len, iterations, salted) &&
              scram_hmac(h, salted, klen, client_label, strlen(client_label), client_key) &&
              scram_digest(h, client_key, klen, out->stored_key) &&
              scram_hmac(h, salted, klen, server_label, strlen(server_label), out->server_key);
    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(client_key, sizeof(client_key));
    if (!ok) {
        OPENSSL_cleanse(out, sizeof(*out));
        return false;
    }
    memcpy(out->salt, salt, salt_len);
    out->salt_len = salt_len;
    out->iterations = iterations;
    out->key_len = klen;
    return true;
}

bool scram_secret_new(enum scram_hash h, const void *password, size_t pw_len,
                      unsigned iterations, struct scram_secret *out)
{
    uint8_t salt[SCRAM_SALT_LEN_DEFAULT];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return false;
    return scram_secret_from_password(h, password, pw_len, salt, sizeof(salt), iterations, out);
}

bool scram_saslname_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == ',' || c == '\0')
            return false;
        if (c == '=') {
            if (len - i < 3)
                return false;
            if (in[i + 1] == '2' && in[i + 2] == 'C')
                c = ',';
            else if (in[i + 1] == '3' && in[i + 2] == 'D')
                c = '=';
            else
                return false;
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = c;
    }
    if (cap == 0)
        return false;
    out[o] = '\0';
    return true;
}

bool scram_saslname_encode(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        const char *piece = *p == ',' ? "=2C" : *p == '=' ? "=3D" : NULL;
        size_t n = piece ? 3 : 1;
        if (o + n >= cap)
            return false;
        if (piece)
            memcpy(out + o, piece, 3);
        else
            out[o] = *p;
        o += n;
    }
    if (cap == 0)
        return false;
    out[o] = '\0';
    return true;
}

static const char *fixed_nonce;

void scram_test_set_nonce(const char *nonce)
{
    fixed_nonce = nonce;
}

bool scram_server_nonce(char *out, size_t size)
{
    if (fixed_nonce != NULL)
        return str_copy(out, size, fixed_nonce);
    uint8_t raw[SCRAM_SERVER_NONCE_BYTES];
    if (size < base64_encoded_len(sizeof(raw)) + 1 || RAND_bytes(raw, sizeof(raw)) != 1)
        return false;
    base64_encode_to(raw, sizeof(raw), out);
    return true;
}
