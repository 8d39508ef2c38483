/*
 * MD5 (RFC 1321) with an exposed chaining state, and HMAC-MD5 (RFC 2104)
 * computed from the precomputed inner/outer states; see cram_md5.h for
 * why and for the security trade-off. Challenges are built here too.
 */
#include "auth/cram_md5.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MD5_BLOCK 64

struct md5 {
    uint32_t h[4];
    uint64_t total;             /* bytes hashed, including any precomputed block */
    uint8_t block[MD5_BLOCK];
    size_t used;
};

static const uint32_t md5_iv[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };

/* Per-step shift amounts (RFC 1321 section 3.4), four per round. */
static const uint8_t md5_shift[4][4] = {
    { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

/* T[i] = floor(2^32 * abs(sin(i + 1))), RFC 1321 section 3.4. */
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

/* Round function and message word index for step i (0..63). */
static uint32_t md5_f(unsigned i, uint32_t b, uint32_t c, uint32_t d, unsigned *k)
{
    switch (i / 16) {
    case 0:
        *k = i;
        return (b & c) | (~b & d);
    case 1:
        *k = (5 * i + 1) % 16;
        return (b & d) | (c & ~d);
    case 2:
        *k = (3 * i + 5) % 16;
        return b ^ c ^ d;
    default:
        *k = (7 * i) % 16;
        return c ^ (b | ~d);
    }
}

static void md5_compress(uint32_t h[4], const uint8_t block[MD5_BLOCK])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)block[4 * i] | (uint32_t)block[4 * i + 1] << 8 |
               (uint32_t)block[4 * i + 2] << 16 | (uint32_t)block[4 * i + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (unsigned i = 0; i < 64; i++) {
        unsigned k;
        uint32_t f = md5_f(i, b, c, d, &k);
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + md5_t[i] + x[k], md5_shift[i / 16][i % 4]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    OPENSSL_cleanse(x, sizeof(x));
}

/* Starts from a chaining state that has already absorbed `done` bytes. */
static void md5_init_from(struct md5 *m, const uint32_t h[4], uint64_t done)
{
    memcpy(m->h, h, sizeof(m->h));
    m->total = done;
    m->used = 0;
}

static void md5_update(struct md5 *m, const void *p, size_t len)
{
    const uint8_t *s = p;
    m->total += len;
    while (len > 0) {
        size_t n = MD5_BLOCK - m->used;
        if (n > len)
            n = len;
        memcpy(m->block + m->used, s, n);
        m->used += n;
        s += n;
        len -= n;
        if (m->used == MD5_BLOCK) {
            md5_compress(m->h, m->block);
            m->used = 0;
        }
    }
}

static void md5_final(struct md5 *m, uint8_t out[CRAM_MD5_DIGEST_LEN])
{
    uint64_t bits = m->total * 8;
    static const uint8_t pad = 0x80;
    static const uint8_t zero[MD5_BLOCK];
    md5_update(m, &pad, 1);
    size_t fill = (m->used <= 56) ? 56 - m->used : MD5_BLOCK + 56 - m->used;
    md5_update(m, zero, fill);
    uint8_t len_le[8];
    for (int i = 0; i < 8; i++)
        len_le[i] = (uint8_t)(bits >> (8 * i));
    md5_update(m, len_le, 8);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(m->h[i] >> (8 * j));
    OPENSSL_cleanse(m, sizeof(*m));
}

void cram_md5_md5(const void *msg, size_t len, uint8_t out[CRAM_MD5_DIGEST_LEN])
{
    struct md5 m;
    md5_init_from(&m, md5_iv, 0);
    md5_update(&m, msg, len);
    md5_final(&m, out);
}

/* The chaining state after one block: the key XOR pad. */
static void pad_state(const uint8_t key[MD5_BLOCK], uint8_t pad, uint32_t out[4])
{
    uint8_t block[MD5_BLOCK];
    for (int i = 0; i < MD5_BLOCK; i++)
        block[i] = key[i] ^ pad;
    memcpy(out, md5_iv, sizeof(md5_iv));
    md5_compress(out, block);
    OPENSSL_cleanse(block, sizeof(block));
}

void cram_md5_secret_from_password(const void *password, size_t len, struct cram_md5_secret *out)
{
    uint8_t key[MD5_BLOCK] = { 0 };
    if (len > MD5_BLOCK)
        cram_md5_md5(password, len, key);   /* RFC 2104: long keys are hashed */
    else if (len > 0)
        memcpy(key, password, len);
    pad_state(key, 0x36, out->inner);
    pad_state(key, 0x5c, out->outer);
    OPENSSL_cleanse(key, sizeof(key));
}

void cram_md5_hmac(const struct cram_md5_secret *s, const void *msg, size_t len,
                   uint8_t out[CRAM_MD5_DIGEST_LEN])
{
    struct md5 m;
    uint8_t inner[CRAM_MD5_DIGEST_LEN];
    md5_init_from(&m, s->inner, MD5_BLOCK);
    md5_update(&m, msg, len);
    md5_final(&m, inner);
    md5_init_from(&m, s->outer, MD5_BLOCK);
    md5_update(&m, inner, sizeof(inner));
    md5_final(&m, out);
    OPENSSL_cleanse(inner, sizeof(inner));
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void cram_md5_secret_pack(const struct cram_md5_secret *s, uint8_t out[32])
{
    for (int i = 0; i < 4; i++) {
        put_le32(out + 4 * i, s->inner[i]);
        put_le32(out + 16 + 4 * i, s->outer[i]);
    }
}

void cram_md5_secret_unpack(const uint8_t in[32], struct cram_md5_secret *s)
{
    for (int i = 0; i < 4; i++) {
        s->inner[i] = get_le32(in + 4 * i);
        s->outer[i] = get_le32(in + 16 + 4 * i);
    }
}

static const char *fixed_challenge;

void cram_md5_test_set_challenge(const char *challenge)
{
    fixed_challenge = challenge;
}

size_t cram_md5_challenge(const char *host, char *out, size_t size)
{
    int n;
    if (fixed_challenge != NULL)
        n = snprintf(out, size, "%s", fixed_challenge);
    else {
        uint64_t r = 0;
        if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
            return 0;
        n = snprintf(out, size, "<%" PRIu64 ".%lld@%s>", r, (long long)time(NULL), host);
    }
    if (n < 0 || (size_t)n >= size)
        return 0;
    return (size_t)n;
}
