/*
 * Fuzz target: strict base64. Whatever decodes must re-encode to exactly
 * the input (one accepted encoding per byte string), the buffer and
 * fixed-array decoders must agree, and any input encoded decodes back.
 */
#include "base/base64.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    struct buf b;
    buf_init(&b, 4096);
    uint8_t out[4096];
    size_t len = 0;
    bool ok1 = base64_decode((const char *)data, size, &b);
    bool ok2 = base64_decode_to((const char *)data, size, out, sizeof(out), &len);
    if (ok1 != ok2 || (ok1 && (len != b.len || memcmp(out, b.data ? b.data : "", len) != 0)))
        __builtin_trap();
    if (ok1) {
        char *enc = malloc(base64_encoded_len(len) + 1);
        base64_encode_to(out, len, enc);
        if (strlen(enc) != size || memcmp(enc, data, size) != 0)
            __builtin_trap();
        free(enc);
    }
    buf_free(&b);
    buf_init(&b, 0);
    if (!base64_encode(data, size, &b) ||
        !base64_decode_to(buf_cstr(&b), b.len, out, sizeof(out), &len) || len != size ||
        memcmp(out, data, size) != 0)
        __builtin_trap();
    buf_free(&b);
    return 0;
}
