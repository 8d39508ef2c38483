/*
 * PLAIN (RFC 4616): one client message "[authzid] NUL authcid NUL passwd".
 *
 * Each part is UTF-8 without NUL and at most 255 octets (RFC 4616 section
 * 2); authcid and passwd are not empty. Proxy authorization is not
 * offered: an authzid is accepted only when it is empty or names the
 * same user as authcid (as typed, or as the store canonicalised it), and
 * that is checked after the password so a refusal says nothing about the
 * account. The password copy is wiped before the step returns.
 */
#include "auth/mech.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define PLAIN_PART_MAX 255

struct mech_exchange {
    const struct mech_request *req;
    bool started;       /* the empty first challenge was sent or data came */
    bool done;
};

static struct mech_exchange *plain_start(const struct mech_request *req)
{
    struct mech_exchange *x = xcalloc(1, sizeof(*x));
    x->req = req;
    return x;
}

struct plain_parts {
    const uint8_t *part[3];     /* authzid, authcid, passwd */
    size_t len[3];
};

/* Splits the message at its two NULs and checks each part; NULL if fine. */
static const char *plain_split(const uint8_t *data, size_t len, struct plain_parts *p)
{
    size_t start = 0;
    int n = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && data[i] != 0)
            continue;
        if (n == 3)
            return "more than two NUL separators";
        p->part[n] = data + start;
        p->len[n] = i - start;
        n++;
        start = i + 1;
    }
    if (n != 3)
        return "fewer than two NUL separators";
    for (int i = 0; i < 3; i++) {
        if (p->len[i] > PLAIN_PART_MAX)
            return "a part is longer than 255 octets";
        if (!mech_utf8_valid(p->part[i], p->len[i]))
            return "a part is not valid UTF-8";
    }
    if (p->len[1] == 0)
        return "empty authentication identity";
    if (p->len[2] == 0)
        return "empty password";
    return NULL;
}

/* True when the authzid is acceptable for the authenticated user. */
static bool authzid_ok(const char *authzid, const char *authcid, const char *canonical)
{
    return authzid[0] == '\0' || strcmp(authzid, authcid) == 0 || strcmp(authzid, canonical) == 0;
}

static void plain_verify(struct mech_exchange *x, const uint8_t *data, size_t len,
                         struct mech_result *out)
{
    struct plain_parts p;
    const char *why = plain_split(data, len, &p);
    if (why != NULL) {
        mech_fail(out, MECH_FAILURE, "malformed PLAIN message: %s", why);
        return;
    }
    const struct cred_store *st = x->req->store;
    if (st == NULL || st->verify_password == NULL) {
        mech_fail(out, MECH_TEMPFAIL, "no credential store can verify passwords");
        return;
    }
    char authzid[PLAIN_PART_MAX + 1], authcid[PLAIN_PART_MAX + 1], passwd[PLAIN_PART_MAX + 1];
    memcpy(authzid, p.part[0], p.len[0]);
    authzid[p.len[0]] = '\0';
    memcpy(authcid, p.part[1], p.len[1]);
    authcid[p.len[1]] = '\0';
    memcpy(passwd, p.part[2], p.len[2]);
    passwd[p.len[2]] = '\0';
    char user[CRED_USER_MAX];
    str_copy(user, sizeof(user), authcid);
    enum cred_status cs = st->verify_password(st->ctx, x->req, authcid, passwd, user);
    OPENSSL_cleanse(passwd, sizeof(passwd));
    if (cs != CRED_OK)
        mech_fail_cred(out, cs, user);
    else if (!authzid_ok(authzid, authcid, user)) {
        mech_fail(out, MECH_FAILURE, "authorization identity differs from the "
                                     "authentication identity (proxy authorization is not offered)");
        str_copy(out->username, sizeof(out->username), user);
    } else
        mech_succeed(out, user);
}

static void plain_step(struct mech_exchange *x, const uint8_t *data, size_t len, bool has_data,
                       struct mech_result *out)
{
    if (x->done) {
        mech_fail(out, MECH_FAILURE, "PLAIN exchange already finished");
        return;
    }
    if (!x->started && !has_data) {
        x->started = true;
        mech_continue(out, NULL, 0);
        return;
    }
    x->started = x->done = true;
    plain_verify(x, data, len, out);
}

static void plain_free(struct mech_exchange *x)
{
    free(x);
}

const struct mech_ops mech_plain_ops = {
    .name = "PLAIN",
    .start = plain_start,
    .step = plain_step,
    .free = plain_free,
};
