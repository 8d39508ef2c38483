/*
 * Fuzz target: SCRAM-SHA-1 and SCRAM-SHA-256 message parsing. The first
 * byte picks the hash; the rest is split at "\n" into client-first,
 * client-final and the closing response. The server nonce is fixed
 * ("3rfcNHYJY1ZVvWVs7j") and the store knows "user" with password
 * "pencil" and RFC 5802's salt, so the RFC's own exchange reaches success
 * and mutations of it exercise every check. Keys are derived once.
 */
#include "auth/mech.h"
#include "auth/scram.h"
#include "base/strutil.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scram_secret secrets[2];
static bool ready;

static enum cred_status scram(void *ctx, const struct mech_request *req, const char *u,
                              enum scram_hash h, struct scram_secret *out,
                              char user_out[CRED_USER_MAX])
{
    str_copy(user_out, CRED_USER_MAX, u);
    *out = secrets[h];
    return strcmp(u, "user") == 0 ? CRED_OK : CRED_NO_USER;
}

static const struct cred_store store = {
    .ctx = NULL, .name = "fuzz", .verify_password = NULL, .scram_secret = scram,
    .cram_md5_secret = NULL,
};

static void prepare(void)
{
    static const uint8_t salt[] = { 0x41, 0x25, 0xc2, 0x47, 0xe4, 0x3a, 0xb1, 0xe9,
                                    0x3c, 0x6d, 0xff, 0x76 };    /* "QSXCR+Q6sek8bf92" */
    for (int h = SCRAM_SHA1; h <= SCRAM_SHA256; h++)
        if (!scram_secret_from_password((enum scram_hash)h, "pencil", 6, salt, sizeof(salt),
                                        4096, &secrets[h]))
            __builtin_trap();
    scram_test_set_nonce("3rfcNHYJY1ZVvWVs7j");
    ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!ready)
        prepare();
    const struct mech_ops *ops = mech_find(data[0] & 1 ? "SCRAM-SHA-256" : "SCRAM-SHA-1");
    struct mech_request req = { .service = "smtp", .realm = "", .client_addr = "192.0.2.1",
                                .secured = true, .store = &store };
    struct mech_exchange *x = ops->start(&req);
    struct mech_result res;
    mech_result_init(&res);
    res.status = MECH_CONTINUE;
    const uint8_t *p = data + 1, *end = data + size;
    for (int steps = 0; steps < 4 && res.status == MECH_CONTINUE; steps++) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *stop = nl ? nl : end;
        mech_result_free(&res);
        mech_result_init(&res);
        ops->step(x, p, (size_t)(stop - p), true, &res);
        if (res.status == MECH_SUCCESS && strcmp(res.username, "user") != 0)
            __builtin_trap();
        p = nl ? nl + 1 : end;
    }
    mech_result_free(&res);
    ops->free(x);
    return 0;
}
