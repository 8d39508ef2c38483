/*
 * CRAM-MD5 (RFC 2195): the server sends "<random.timestamp@host>", the
 * client answers "user SP hex(HMAC-MD5(password, challenge))".
 *
 * The host is the request's realm (smtpd_sasl_local_domain) or this
 * machine's name. The digest is checked against the store's precomputed
 * HMAC state with a constant-time comparison; for an unknown user or one
 * without CRAM-MD5 the store hands out a fake state, so the same work is
 * done and the failure looks the same. The user name is everything before
 * the last space (names may contain spaces); the digest is 32 hex digits.
 */
#include "auth/cram_md5.h"
#include "auth/mech.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CRAM_USER_MAX 255
#define CRAM_HEX_LEN (2 * CRAM_MD5_DIGEST_LEN)
#define CRAM_HOST_MAX 255

enum cram_state { CRAM_START, CRAM_WANT_RESPONSE, CRAM_DONE };

struct mech_exchange {
    const struct mech_request *req;
    enum cram_state state;
    char challenge[CRAM_MD5_CHALLENGE_MAX];
    size_t challenge_len;
};

static struct mech_exchange *cram_start(const struct mech_request *req)
{
    struct mech_exchange *x = xcalloc(1, sizeof(*x));
    x->req = req;
    return x;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex_decode(const uint8_t *hex, uint8_t out[CRAM_MD5_DIGEST_LEN])
{
    for (int i = 0; i < CRAM_MD5_DIGEST_LEN; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static void cram_send_challenge(struct mech_exchange *x, struct mech_result *out)
{
    char host[CRAM_HOST_MAX + 1];
    const char *realm = x->req->realm;
    if (realm != NULL && realm[0] != '\0')
        str_copy(host, sizeof(host), realm);
    else if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        str_copy(host, sizeof(host), "localhost");
    host[CRAM_HOST_MAX] = '\0';
    x->challenge_len = cram_md5_challenge(host, x->challenge, sizeof(x->challenge));
    if (x->challenge_len == 0) {
        x->state = CRAM_DONE;
        mech_fail(out, MECH_TEMPFAIL, "cannot make a CRAM-MD5 challenge");
        return;
    }
    x->state = CRAM_WANT_RESPONSE;
    mech_continue(out, x->challenge, x->challenge_len);
}

/* Splits "user SP digest"; false if malformed. */
static bool cram_parse(const uint8_t *data, size_t len, char user[CRAM_USER_MAX + 1],
                       uint8_t digest[CRAM_MD5_DIGEST_LEN])
{
    if (len < CRAM_HEX_LEN + 2 || data[len - CRAM_HEX_LEN - 1] != ' ')
        return false;
    size_t ulen = len - CRAM_HEX_LEN - 1;
    if (ulen > CRAM_USER_MAX || !mech_utf8_valid(data, ulen))
        return false;
    if (!hex_decode(data + ulen + 1, digest))
        return false;
    memcpy(user, data, ulen);
    user[ulen] = '\0';
    return true;
}

static void cram_check(struct mech_exchange *x, const uint8_t *data, size_t len,
                       struct mech_result *out)
{
    char user[CRAM_USER_MAX + 1];
    uint8_t digest[CRAM_MD5_DIGEST_LEN], want[CRAM_MD5_DIGEST_LEN];
    x->state = CRAM_DONE;
    if (!cram_parse(data, len, user, digest)) {
        mech_fail(out, MECH_FAILURE, "malformed CRAM-MD5 response");
        return;
    }
    const struct cred_store *st = x->req->store;
    if (st == NULL || st->cram_md5_secret == NULL) {
        mech_fail(out, MECH_FAILURE, "the credential store cannot do CRAM-MD5");
        str_copy(out->username, sizeof(out->username), user);
        return;
    }
    struct cram_md5_secret secret = { { 0 }, { 0 } };   /* stores fill it, even for unknown users */
    char canonical[CRED_USER_MAX];
    str_copy(canonical, sizeof(canonical), user);
    enum cred_status cs = st->cram_md5_secret(st->ctx, x->req, user, &secret, canonical);
    if (cs == CRED_TEMPFAIL) {
        mech_fail_cred(out, cs, canonical);
        return;
    }
    cram_md5_hmac(&secret, x->challenge, x->challenge_len, want);
    bool match = CRYPTO_memcmp(want, digest, sizeof(want)) == 0;
    OPENSSL_cleanse(&secret, sizeof(secret));
    OPENSSL_cleanse(want, sizeof(want));
    if (cs != CRED_OK && !(cs == CRED_NOT_ALLOWED && !match))
        mech_fail_cred(out, cs, canonical);
    else if (!match)
        mech_fail_cred(out, CRED_BAD_PASSWORD, canonical);
    else
        mech_succeed(out, canonical);
}

static void cram_step(struct mech_exchange *x, const uint8_t *data, size_t len, bool has_data,
                      struct mech_result *out)
{
    switch (x->state) {
    case CRAM_START:
        if (has_data && len > 0) {
            x->state = CRAM_DONE;
            mech_fail(out, MECH_FAILURE, "CRAM-MD5 takes no initial response");
        } else
            cram_send_challenge(x, out);
        return;
    case CRAM_WANT_RESPONSE:
        cram_check(x, data, len, out);
        return;
    case CRAM_DONE:
        break;
    }
    mech_fail(out, MECH_FAILURE, "CRAM-MD5 exchange already finished");
}

static void cram_free(struct mech_exchange *x)
{
    free(x);
}

const struct mech_ops mech_cram_md5_ops = {
    .name = "CRAM-MD5",
    .start = cram_start,
    .step = cram_step,
    .free = cram_free,
};
