/* The test credential store; see fake_store.h. */
#include "fake_store.h"

#include "auth/cram_md5.h"
#include "auth/scram.h"
#include "base/base64.h"
#include "base/strutil.h"

#include <string.h>

static const struct fake_user *find(struct fake_store *fs, const char *user)
{
    fs->calls++;
    for (size_t i = 0; i < fs->nusers; i++)
        if (strcmp(fs->users[i].name, user) == 0)
            return &fs->users[i];
    return NULL;
}

static enum cred_status fake_verify(void *ctx, const struct mech_request *req, const char *user,
                                    const char *password, char user_out[CRED_USER_MAX])
{
    struct fake_store *fs = ctx;
    const struct fake_user *u = find(fs, user);
    str_copy(user_out, CRED_USER_MAX, user);
    if (fs->tempfail)
        return CRED_TEMPFAIL;
    if (u == NULL)
        return CRED_NO_USER;
    if (strcmp(u->password, password) != 0)
        return CRED_BAD_PASSWORD;
    return u->not_allowed ? CRED_NOT_ALLOWED : CRED_OK;
}

static enum cred_status fake_scram(void *ctx, const struct mech_request *req, const char *user,
                                   enum scram_hash hash, struct scram_secret *out,
                                   char user_out[CRED_USER_MAX])
{
    struct fake_store *fs = ctx;
    const struct fake_user *u = find(fs, user);
    str_copy(user_out, CRED_USER_MAX, user);
    if (fs->tempfail)
        return CRED_TEMPFAIL;
    uint8_t salt[64];
    size_t salt_len;
    const char *b64 = u ? u->salt_b64 : "AAAAAAAAAAAAAAAAAAAAAA==";
    if (!base64_decode_to(b64, strlen(b64), salt, sizeof(salt), &salt_len))
        return CRED_TEMPFAIL;
    const char *pw = u ? u->password : "no such user";
    if (!scram_secret_from_password(hash, pw, strlen(pw), salt, salt_len,
                                    u ? u->iterations : 4096, out))
        return CRED_TEMPFAIL;
    if (u == NULL)
        return CRED_NO_USER;
    return u->not_allowed ? CRED_NOT_ALLOWED : CRED_OK;
}

static enum cred_status fake_cram(void *ctx, const struct mech_request *req, const char *user,
                                  struct cram_md5_secret *out, char user_out[CRED_USER_MAX])
{
    struct fake_store *fs = ctx;
    const struct fake_user *u = find(fs, user);
    str_copy(user_out, CRED_USER_MAX, user);
    if (fs->tempfail)
        return CRED_TEMPFAIL;
    const char *pw = u && u->cram_md5 ? u->password : "fake";
    cram_md5_secret_from_password(pw, strlen(pw), out);
    if (u == NULL)
        return CRED_NO_USER;
    if (!u->cram_md5)
        return CRED_NO_SECRET;
    return u->not_allowed ? CRED_NOT_ALLOWED : CRED_OK;
}

void fake_store_init(struct fake_store *fs, const struct fake_user *users, size_t n)
{
    memset(fs, 0, sizeof(*fs));
    fs->pub.ctx = fs;
    fs->pub.name = "fake";
    fs->pub.verify_password = fake_verify;
    fs->pub.scram_secret = fake_scram;
    fs->pub.cram_md5_secret = fake_cram;
    fs->users = users;
    fs->nusers = n;
}

struct mech_request fake_request(struct fake_store *fs, const char *realm)
{
    struct mech_request r = {
        .service = "smtp", .realm = realm, .client_addr = "192.0.2.1",
        .secured = true, .store = &fs->pub,
    };
    return r;
}

enum mech_status fake_step(const struct mech_ops *ops, struct mech_exchange *x, const char *data,
                           size_t len, bool has_data, char *challenge, size_t size,
                           struct mech_result *res)
{
    mech_result_free(res);
    mech_result_init(res);
    ops->step(x, (const uint8_t *)data, len, has_data, res);
    size_t n = res->challenge.len < size - 1 ? res->challenge.len : size - 1;
    memcpy(challenge, buf_cstr(&res->challenge), n);
    challenge[n] = '\0';
    return res->status;
}
