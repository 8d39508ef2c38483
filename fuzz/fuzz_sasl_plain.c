/*
 * Fuzz target: the password mechanisms' message parsing. The first byte
 * picks PLAIN, LOGIN or CRAM-MD5; the rest is split at "\n" into the
 * client's successive responses (the first one sent as an initial
 * response when the selector's high bit is set). A fixed in-memory store
 * knows "tim" with password "tanstaaftanstaaf"; CRAM-MD5 uses a fixed
 * challenge so a valid response is reachable.
 */
#include "auth/cram_md5.h"
#include "auth/mech.h"
#include "base/strutil.h"

#include <openssl/crypto.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char user[] = "tim", password[] = "tanstaaftanstaaf";

static enum cred_status verify(void *ctx, const struct mech_request *req, const char *u,
                               const char *pw, char out[CRED_USER_MAX])
{
    str_copy(out, CRED_USER_MAX, u);
    if (strcmp(u, user) != 0)
        return CRED_NO_USER;
    return strlen(pw) == strlen(password) && CRYPTO_memcmp(pw, password, strlen(pw)) == 0
               ? CRED_OK : CRED_BAD_PASSWORD;
}

static enum cred_status cram(void *ctx, const struct mech_request *req, const char *u,
                             struct cram_md5_secret *out, char user_out[CRED_USER_MAX])
{
    str_copy(user_out, CRED_USER_MAX, u);
    cram_md5_secret_from_password(password, strlen(password), out);
    return strcmp(u, user) == 0 ? CRED_OK : CRED_NO_USER;
}

static const struct cred_store store = {
    .ctx = NULL, .name = "fuzz", .verify_password = verify, .scram_secret = NULL,
    .cram_md5_secret = cram,
};

static const char *const mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct mech_ops *ops = mech_find(mechs[(data[0] & 0x7f) % 3]);
    bool initial = (data[0] & 0x80) != 0;
    struct mech_request req = { .service = "smtp", .realm = "", .client_addr = "192.0.2.1",
                                .secured = true, .store = &store };
    cram_md5_test_set_challenge("<1896.697170952@postoffice.reston.mci.net>");
    struct mech_exchange *x = ops->start(&req);
    struct mech_result res;
    mech_result_init(&res);
    const uint8_t *p = data + 1, *end = data + size;
    if (!initial)
        ops->step(x, NULL, 0, false, &res);
    for (int steps = 0; steps < 8 && (res.status == MECH_CONTINUE || initial); steps++) {
        initial = false;
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *stop = nl ? nl : end;
        mech_result_free(&res);
        mech_result_init(&res);
        ops->step(x, p, (size_t)(stop - p), true, &res);
        if (res.status == MECH_SUCCESS && strcmp(res.username, user) != 0)
            __builtin_trap();   /* success only for the one known user */
        p = nl ? nl + 1 : end;
    }
    mech_result_free(&res);
    ops->free(x);
    return 0;
}
