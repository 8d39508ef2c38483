/*
 * Strict RFC 4648 base64; see base64.h for what is refused and why.
 * Decoding never writes past the caller's bound and never leaves partial
 * output behind on failure (a buf's length is only advanced on success).
 */
#include "base/base64.h"

#include <string.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 character, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

size_t base64_encoded_len(size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > SIZE_MAX / 4)
        return SIZE_MAX;
    return groups * 4;
}

size_t base64_decoded_max(size_t n)
{
    return n / 4 * 3;
}

void base64_encode_to(const void *data, size_t len, char *out)
{
    const uint8_t *p = data;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        size_t left = len - i;
        uint32_t v = (uint32_t)p[i] << 16;
        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = left > 2 ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

bool base64_encode(const void *data, size_t len, struct buf *out)
{
    size_t n = base64_encoded_len(len);
    if (n == SIZE_MAX)
        return false;
    if (n == 0)
        return true;
    /* One spare byte for base64_encode_to's terminator, not committed. */
    char *dst = buf_reserve(out, n + 1);
    if (dst == NULL)
        return false;
    base64_encode_to(data, len, dst);
    buf_commit(out, n);
    return true;
}

/*
 * Decodes one group of four characters into 1..3 bytes; last says whether
 * padding is allowed here. Returns the byte count, or -1 if invalid.
 */
static int decode_group(const unsigned char *g, bool last, uint8_t bytes[3])
{
    int pad = 0;
    if (last && g[3] == '=')
        pad = g[2] == '=' ? 2 : 1;
    int v[4];
    for (int i = 0; i < 4 - pad; i++) {
        v[i] = b64_value(g[i]);
        if (v[i] < 0)
            return -1;
    }
    for (int i = 4 - pad; i < 4; i++)
        v[i] = 0;
    uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    /* Unused bits of a padded group must be zero (canonical encoding). */
    if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
        return -1;
    bytes[0] = (uint8_t)(w >> 16);
    bytes[1] = (uint8_t)(w >> 8);
    bytes[2] = (uint8_t)w;
    return 3 - pad;
}

bool base64_decode_to(const char *text, size_t len, uint8_t *out, size_t cap,
                      size_t *out_len)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t o = 0;
    *out_len = 0;
    if (len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        uint8_t bytes[3];
        int n = decode_group(t + i, i + 4 == len, bytes);
        if (n < 0 || (size_t)n > cap - o)
            return false;
        memcpy(out + o, bytes, (size_t)n);
        o += (size_t)n;
    }
    *out_len = o;
    return true;
}

/* Exact decoded length of a text whose length is a multiple of four. */
static size_t decoded_len(const char *text, size_t len)
{
    size_t n = base64_decoded_max(len);
    if (len >= 4 && text[len - 1] == '=')
        n -= text[len - 2] == '=' ? 2 : 1;
    return n;
}

bool base64_decode(const char *text, size_t len, struct buf *out)
{
    if (len % 4 != 0)
        return false;
    size_t want = decoded_len(text, len);
    if (want == 0)
        return base64_decode_to(text, len, NULL, 0, &want);
    uint8_t *dst = (uint8_t *)buf_reserve(out, want);
    if (dst == NULL)
        return false;
    size_t n;
    if (!base64_decode_to(text, len, dst, want, &n)) {
        dst[0] = '\0';    /* keep the buffer's terminator invariant */
        return false;
    }
    buf_commit(out, n);
    return true;
}
