/*
 * SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without
 * channel binding (no -PLUS variants are offered):
 *
 *   C: n,,n=user,r=cnonce                         client-first
 *   S: r=cnonce+snonce,s=salt,i=4096              server-first
 *   C: c=biws,r=cnonce+snonce,p=proof             client-final
 *   S: v=signature   (or e=error)                 server-final
 *   C: (empty)                                    SMTP needs this turn
 *
 * The GS2 header must be "n,," or "y,," (optionally with "a=authzid"); "p="
 * asks for channel binding, which is refused. An authzid is accepted only
 * when it names the authenticating user. "m=" (a mandatory extension) is
 * refused as RFC 5802 section 5.1 requires; other extensions are ignored.
 *
 * Unknown users get a deterministic fake salt from the store, so the
 * exchange runs identically and fails only at the proof with
 * "e=invalid-proof", the same answer a wrong password gets. Malformed
 * client-final messages get "e=invalid-encoding" (or the specific error);
 * a malformed client-first can only be failed outright (server-first has
 * no error form). The proof comparison is constant-time; every message is
 * bounded by SCRAM_MSG_MAX.
 */
#include "auth/mech.h"
#include "auth/scram.h"

#include "base/base64.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRAM_MSG_MAX 2048
#define SCRAM_GS2_MAX (SCRAM_MSG_MAX)
/* Characters of the base64 form of n bytes (a constant expression). */
#define B64_CHARS(n) (((n) + 2) / 3 * 4)

enum scram_state { SCRAM_START, SCRAM_WANT_FIRST, SCRAM_WANT_FINAL, SCRAM_WANT_ACK,
                   SCRAM_WANT_ERROR_ACK, SCRAM_DONE };

struct mech_exchange {
    const struct mech_request *req;
    enum scram_hash hash;
    enum scram_state state;
    char gs2[SCRAM_GS2_MAX + 1];            /* the GS2 header, "n,," */
    size_t gs2_len;
    char first_bare[SCRAM_MSG_MAX + 1];     /* client-first-message-bare */
    char server_first[SCRAM_MSG_MAX + 1];
    char nonce[SCRAM_NONCE_MAX + 64];       /* client nonce + server nonce */
    char user[CRED_USER_MAX];               /* as sent (decoded) */
    char authzid[CRED_USER_MAX];
    char canonical[CRED_USER_MAX];          /* as the store names it */
    enum cred_status cred;
    struct scram_secret secret;
    char failure[MECH_REASON_MAX];          /* reason logged after an e= reply */
};

static struct mech_exchange *scram_start(const struct mech_request *req, enum scram_hash h)
{
    struct mech_exchange *x = xcalloc(1, sizeof(*x));
    x->req = req;
    x->hash = h;
    return x;
}

static struct mech_exchange *scram1_start(const struct mech_request *req)
{
    return scram_start(req, SCRAM_SHA1);
}

static struct mech_exchange *scram256_start(const struct mech_request *req)
{
    return scram_start(req, SCRAM_SHA256);
}

/* A cursor over a comma-separated message. */
struct attrs {
    const char *p, *end;
};

/* The next attribute "k=value" up to a comma; false at the end or if malformed. */
static bool attr_next(struct attrs *a, char *key, const char **val, size_t *vlen)
{
    if (a->p >= a->end)
        return false;
    const char *comma = memchr(a->p, ',', (size_t)(a->end - a->p));
    const char *stop = comma ? comma : a->end;
    if (stop - a->p < 2 || a->p[1] != '=')
        return false;
    *key = a->p[0];
    *val = a->p + 2;
    *vlen = (size_t)(stop - a->p - 2);
    a->p = comma ? comma + 1 : a->end;
    return true;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Printable ASCII without "," (RFC 5802 "printable"). */
static bool nonce_ok(const char *s, size_t n)
{
    if (n == 0 || n > SCRAM_NONCE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
            return false;
    return true;
}

/* Parses "n,," / "y,," / "n,a=name,"; returns the header length or 0. */
static size_t parse_gs2(struct mech_exchange *x, const char *m, size_t len, const char **why)
{
    *why = "malformed GS2 header";
    if (len >= 2 && m[0] == 'p' && m[1] == '=') {
        *why = "channel binding requested (p=) but not offered";
        return 0;
    }
    if (len < 3 || (m[0] != 'n' && m[0] != 'y') || m[1] != ',')
        return 0;
    const char *comma = memchr(m + 2, ',', len - 2);
    if (comma == NULL)
        return 0;
    size_t alen = (size_t)(comma - (m + 2));
    if (alen > 0) {
        if (alen < 3 || m[2] != 'a' || m[3] != '=' ||
            !scram_saslname_decode(m + 4, alen - 2, x->authzid, sizeof(x->authzid))) {
            *why = "malformed authorization identity";
            return 0;
        }
    }
    return (size_t)(comma - m) + 1;
}

/* Parses client-first-message-bare into user and client nonce. */
static const char *parse_first_bare(struct mech_exchange *x, const char *m, size_t len,
                                    const char **cnonce, size_t *cnonce_len)
{
    struct attrs a = { m, m + len };
    char key;
    const char *val;
    size_t vlen;
    if (len == 0 || m[len - 1] == ',' || !attr_next(&a, &key, &val, &vlen))
        return "malformed client-first message";
    if (key == 'm')
        return "mandatory extension (m=) not supported";
    if (key != 'n' || vlen == 0 || !scram_saslname_decode(val, vlen, x->user, sizeof(x->user)))
        return "malformed user name";
    if (!attr_next(&a, &key, cnonce, cnonce_len) || key != 'r' || !nonce_ok(*cnonce, *cnonce_len))
        return "malformed client nonce";
    while (attr_next(&a, &key, &val, &vlen))
        if (!is_alpha(key))
            return "malformed extension";
    if (a.p != a.end)
        return "malformed extension";
    return NULL;
}

/* Asks the store for the user's keys (a fake set for unknown users). */
static bool fetch_secret(struct mech_exchange *x, struct mech_result *out)
{
    const struct cred_store *st = x->req->store;
    if (st == NULL || st->scram_secret == NULL) {
        mech_fail(out, MECH_FAILURE, "the credential store cannot do %s", scram_mech_name(x->hash));
        str_copy(out->username, sizeof(out->username), x->user);
        return false;
    }
    str_copy(x->canonical, sizeof(x->canonical), x->user);
    x->cred = st->scram_secret(st->ctx, x->req, x->user, x->hash, &x->secret, x->canonical);
    if (x->cred == CRED_TEMPFAIL) {
        mech_fail_cred(out, x->cred, x->canonical);
        return false;
    }
    if (x->secret.key_len != scram_key_len(x->hash) || x->secret.salt_len == 0 ||
        x->secret.salt_len > SCRAM_SALT_MAX || x->secret.iterations == 0) {
        mech_fail(out, MECH_TEMPFAIL, "the credential store returned an unusable SCRAM secret");
        return false;
    }
    return true;
}

static void scram_first(struct mech_exchange *x, const uint8_t *data, size_t len,
                        struct mech_result *out)
{
    const char *m = (const char *)data, *why, *cnonce;
    size_t cnonce_len;
    x->state = SCRAM_DONE;
    if (len == 0 || len > SCRAM_MSG_MAX || !mech_utf8_valid(data, len)) {
        mech_fail(out, MECH_FAILURE, "malformed client-first message (empty, too long or not UTF-8)");
        return;
    }
    size_t gs2 = parse_gs2(x, m, len, &why);
    if (gs2 == 0 || (why = parse_first_bare(x, m + gs2, len - gs2, &cnonce, &cnonce_len)) != NULL) {
        mech_fail(out, MECH_FAILURE, "%s", why);
        str_copy(out->username, sizeof(out->username), x->user);
        return;
    }
    memcpy(x->gs2, m, gs2);
    x->gs2_len = gs2;
    memcpy(x->first_bare, m + gs2, len - gs2);
    x->first_bare[len - gs2] = '\0';
    if (!fetch_secret(x, out))
        return;
    char snonce[64];
    if (!scram_server_nonce(snonce, sizeof(snonce))) {
        mech_fail(out, MECH_TEMPFAIL, "cannot make a server nonce");
        return;
    }
    snprintf(x->nonce, sizeof(x->nonce), "%.*s%s", (int)cnonce_len, cnonce, snonce);
    char salt[B64_CHARS(SCRAM_SALT_MAX) + 1];
    base64_encode_to(x->secret.salt, x->secret.salt_len, salt);
    snprintf(x->server_first, sizeof(x->server_first), "r=%s,s=%s,i=%u", x->nonce, salt,
             x->secret.iterations);
    x->state = SCRAM_WANT_FINAL;
    mech_continue(out, x->server_first, strlen(x->server_first));
}

/* Sends "e=error" and remembers why the exchange will fail. */
static void send_error(struct mech_exchange *x, const char *error, struct mech_result *out,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void send_error(struct mech_exchange *x, const char *error, struct mech_result *out,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->failure, sizeof(x->failure), fmt, ap);
    va_end(ap);
    char msg[64];
    int n = snprintf(msg, sizeof(msg), "e=%s", error);
    x->state = SCRAM_WANT_ERROR_ACK;
    mech_continue(out, msg, (size_t)n);
}

/* The parts of client-final-message. */
struct client_final {
    const char *cbind, *nonce, *proof;
    size_t cbind_len, nonce_len, proof_len;
    size_t without_proof;       /* length of client-final-message-without-proof */
};

static const char *parse_final(const char *m, size_t len, struct client_final *f)
{
    const char *p = NULL;
    for (size_t i = len; i >= 3 && p == NULL; i--)
        if (memcmp(m + i - 3, ",p=", 3) == 0)
            p = m + i - 3;
    if (p == NULL)
        return "no proof";
    f->without_proof = (size_t)(p - m);
    f->proof = p + 3;
    f->proof_len = len - f->without_proof - 3;
    struct attrs a = { m, p };
    char key;
    if (!attr_next(&a, &key, &f->cbind, &f->cbind_len) || key != 'c')
        return "no channel binding attribute";
    if (!attr_next(&a, &key, &f->nonce, &f->nonce_len) || key != 'r')
        return "no nonce attribute";
    const char *val;
    size_t vlen;
    while (attr_next(&a, &key, &val, &vlen))
        if (!is_alpha(key))
            return "malformed extension";
    if (a.p != a.end || memchr(f->proof, ',', f->proof_len) != NULL)
        return "malformed extension";
    return NULL;
}

/* Recomputes the client key from the proof and compares its hash with StoredKey. */
static bool proof_matches(struct mech_exchange *x, const uint8_t *proof, const char *auth_msg,
                          size_t auth_len)
{
    size_t klen = x->secret.key_len;
    uint8_t sig[SCRAM_KEY_MAX], client_key[SCRAM_KEY_MAX], stored[SCRAM_KEY_MAX];
    bool ok = scram_hmac(x->hash, x->secret.stored_key, klen, auth_msg, auth_len, sig);
    for (size_t i = 0; i < klen; i++)
        client_key[i] = proof[i] ^ sig[i];
    ok = ok && scram_digest(x->hash, client_key, klen, stored);
    ok = ok && CRYPTO_memcmp(stored, x->secret.stored_key, klen) == 0;
    OPENSSL_cleanse(sig, sizeof(sig));
    OPENSSL_cleanse(client_key, sizeof(client_key));
    return ok;
}

static bool authzid_ok(const struct mech_exchange *x)
{
    return x->authzid[0] == '\0' || strcmp(x->authzid, x->user) == 0 ||
           strcmp(x->authzid, x->canonical) == 0;
}

/* Checks the proof; sends v= on success, e=invalid-proof otherwise. */
static void scram_verify(struct mech_exchange *x, const char *m, const struct client_final *f,
                         struct mech_result *out)
{
    uint8_t proof[SCRAM_KEY_MAX];
    size_t proof_len;
    if (!base64_decode_to(f->proof, f->proof_len, proof, sizeof(proof), &proof_len) ||
        proof_len != x->secret.key_len) {
        send_error(x, "invalid-proof", out, "malformed client proof");
        return;
    }
    char auth_msg[3 * SCRAM_MSG_MAX + 8];
    int n = snprintf(auth_msg, sizeof(auth_msg), "%s,%s,%.*s", x->first_bare, x->server_first,
                     (int)f->without_proof, m);
    bool match = n > 0 && (size_t)n < sizeof(auth_msg) &&
                 proof_matches(x, proof, auth_msg, (size_t)n);
    if (x->cred != CRED_OK || !match || !authzid_ok(x)) {
        struct mech_result tmp;
        mech_result_init(&tmp);
        /* A refused user with a wrong proof is logged as a wrong password, as PLAIN does. */
        if (x->cred != CRED_OK && !(x->cred == CRED_NOT_ALLOWED && !match))
            mech_fail_cred(&tmp, x->cred, x->canonical);
        else if (!match)
            mech_fail_cred(&tmp, CRED_BAD_PASSWORD, x->canonical);
        else
            mech_fail(&tmp, MECH_FAILURE, "authorization identity differs from the "
                                          "authentication identity (proxy authorization is not offered)");
        send_error(x, "invalid-proof", out, "%s", tmp.reason);
        mech_result_free(&tmp);
        return;
    }
    uint8_t sig[SCRAM_KEY_MAX];
    if (!scram_hmac(x->hash, x->secret.server_key, x->secret.key_len, auth_msg, (size_t)n, sig)) {
        mech_fail(out, MECH_TEMPFAIL, "cannot compute the server signature");
        x->state = SCRAM_DONE;
        return;
    }
    char v[2 + B64_CHARS(SCRAM_KEY_MAX) + 1] = "v=";
    base64_encode_to(sig, x->secret.key_len, v + 2);
    x->state = SCRAM_WANT_ACK;
    mech_continue(out, v, strlen(v));
}

static void scram_final(struct mech_exchange *x, const uint8_t *data, size_t len,
                        struct mech_result *out)
{
    const char *m = (const char *)data, *why;
    struct client_final f;
    if (len == 0 || len > SCRAM_MSG_MAX || !mech_utf8_valid(data, len)) {
        send_error(x, "invalid-encoding", out, "malformed client-final message (empty, too long or not UTF-8)");
        return;
    }
    if ((why = parse_final(m, len, &f)) != NULL) {
        send_error(x, "invalid-encoding", out, "malformed client-final message: %s", why);
        return;
    }
    uint8_t cbind[SCRAM_GS2_MAX];
    size_t cbind_len;
    if (!base64_decode_to(f.cbind, f.cbind_len, cbind, sizeof(cbind), &cbind_len) ||
        cbind_len != x->gs2_len || memcmp(cbind, x->gs2, cbind_len) != 0) {
        send_error(x, "channel-bindings-dont-match", out,
                   "channel binding data differs from the GS2 header");
        return;
    }
    if (f.nonce_len != strlen(x->nonce) || memcmp(f.nonce, x->nonce, f.nonce_len) != 0) {
        send_error(x, "other-error", out, "nonce differs from the one the server sent");
        return;
    }
    scram_verify(x, m, &f, out);
}

static void scram_step(struct mech_exchange *x, const uint8_t *data, size_t len, bool has_data,
                       struct mech_result *out)
{
    switch (x->state) {
    case SCRAM_START:
        if (!has_data) {
            x->state = SCRAM_WANT_FIRST;
            mech_continue(out, NULL, 0);
        } else
            scram_first(x, data, len, out);
        return;
    case SCRAM_WANT_FIRST:
        scram_first(x, data, len, out);
        return;
    case SCRAM_WANT_FINAL:
        scram_final(x, data, len, out);
        return;
    case SCRAM_WANT_ACK:
        x->state = SCRAM_DONE;
        if (len != 0)
            mech_fail(out, MECH_FAILURE, "unexpected data after the server signature");
        else
            mech_succeed(out, x->canonical);
        return;
    case SCRAM_WANT_ERROR_ACK:
        x->state = SCRAM_DONE;
        mech_fail(out, MECH_FAILURE, "%s", x->failure);
        str_copy(out->username, sizeof(out->username), x->canonical[0] ? x->canonical : x->user);
        return;
    case SCRAM_DONE:
        break;
    }
    mech_fail(out, MECH_FAILURE, "%s exchange already finished", scram_mech_name(x->hash));
}

static void scram_free(struct mech_exchange *x)
{
    OPENSSL_cleanse(x, sizeof(*x));
    free(x);
}

const struct mech_ops mech_scram_sha1_ops = {
    .name = "SCRAM-SHA-1",
    .start = scram1_start,
    .step = scram_step,
    .free = scram_free,
};

const struct mech_ops mech_scram_sha256_ops = {
    .name = "SCRAM-SHA-256",
    .start = scram256_start,
    .step = scram_step,
    .free = scram_free,
};
