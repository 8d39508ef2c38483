/*
 * LOGIN (draft-murchison-sasl-login): the server prompts "Username:" and
 * "Password:" (raw text; the SMTP layer base64-encodes it) and the client
 * answers each. A non-empty initial response is the user name, as
 * Outlook-era clients send it; an empty one is treated as none (as
 * Dovecot does).
 *
 * The user name must be UTF-8 without NUL, at most 255 octets; the
 * password may be in a legacy character set (old clients), so only NUL
 * and its length (MECH_PASSWORD_MAX) are checked. The password copy is
 * wiped before the step returns.
 */
#include "auth/mech.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define LOGIN_USER_MAX 255

enum login_state { LOGIN_START, LOGIN_WANT_USER, LOGIN_WANT_PASSWORD, LOGIN_DONE };

struct mech_exchange {
    const struct mech_request *req;
    enum login_state state;
    char user[LOGIN_USER_MAX + 1];
};

static const char prompt_user[] = "Username:";
static const char prompt_password[] = "Password:";

static struct mech_exchange *login_start(const struct mech_request *req)
{
    struct mech_exchange *x = xcalloc(1, sizeof(*x));
    x->req = req;
    return x;
}

static void login_take_user(struct mech_exchange *x, const uint8_t *data, size_t len,
                            struct mech_result *out)
{
    if (len == 0 || len > LOGIN_USER_MAX || !mech_utf8_valid(data, len)) {
        x->state = LOGIN_DONE;
        mech_fail(out, MECH_FAILURE, "malformed LOGIN user name (empty, too long or not UTF-8)");
        return;
    }
    memcpy(x->user, data, len);
    x->user[len] = '\0';
    x->state = LOGIN_WANT_PASSWORD;
    mech_continue(out, prompt_password, strlen(prompt_password));
}

static void login_take_password(struct mech_exchange *x, const uint8_t *data, size_t len,
                                struct mech_result *out)
{
    x->state = LOGIN_DONE;
    if (len == 0 || len > MECH_PASSWORD_MAX || memchr(data, 0, len) != NULL) {
        mech_fail(out, MECH_FAILURE, "malformed LOGIN password (empty, too long or with NUL)");
        str_copy(out->username, sizeof(out->username), x->user);
        return;
    }
    const struct cred_store *st = x->req->store;
    if (st == NULL || st->verify_password == NULL) {
        mech_fail(out, MECH_TEMPFAIL, "no credential store can verify passwords");
        return;
    }
    char password[MECH_PASSWORD_MAX + 1];
    memcpy(password, data, len);
    password[len] = '\0';
    char user[CRED_USER_MAX];
    str_copy(user, sizeof(user), x->user);
    enum cred_status cs = st->verify_password(st->ctx, x->req, x->user, password, user);
    OPENSSL_cleanse(password, sizeof(password));
    if (cs == CRED_OK)
        mech_succeed(out, user);
    else
        mech_fail_cred(out, cs, user);
}

static void login_step(struct mech_exchange *x, const uint8_t *data, size_t len, bool has_data,
                       struct mech_result *out)
{
    switch (x->state) {
    case LOGIN_START:
        if (!has_data || len == 0) {
            x->state = LOGIN_WANT_USER;
            mech_continue(out, prompt_user, strlen(prompt_user));
        } else
            login_take_user(x, data, len, out);
        return;
    case LOGIN_WANT_USER:
        login_take_user(x, data, len, out);
        return;
    case LOGIN_WANT_PASSWORD:
        login_take_password(x, data, len, out);
        return;
    case LOGIN_DONE:
        break;
    }
    mech_fail(out, MECH_FAILURE, "LOGIN exchange already finished");
}

static void login_free(struct mech_exchange *x)
{
    free(x);
}

const struct mech_ops mech_login_ops = {
    .name = "LOGIN",
    .start = login_start,
    .step = login_step,
    .free = login_free,
};
