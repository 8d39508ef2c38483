/*
 * Fuzz target for the queue file reader: arbitrary bytes must parse or be
 * refused with a message, never crash or leak. A file that parses is
 * encoded again from its envelope and must parse to the same envelope
 * (the format round-trips).
 */
#include "base/buf.h"
#include "queue/crc32c.h"
#include "queue/qfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_round_trip(const uint8_t *data, const struct queue_envelope *env,
                             const struct qfile_info *info)
{
    struct buf b;
    buf_init(&b, 0);
    unsigned char h[QFILE_HEADER_SIZE];
    qfile_header(h);
    buf_append(&b, h, sizeof(h));
    buf_append(&b, data + info->content_offset, info->content_size);
    uint32_t crc = crc32c_update(0, data + info->content_offset, info->content_size);
    if (!qfile_append_envelope(&b, env, info->content_size, crc))
        abort();                    /* whatever parsed must be storable */
    struct queue_envelope again;
    struct qfile_info info2;
    struct qfile_error err;
    if (!qfile_parse(b.data, b.len, env->queue_id, &again, &info2, &err))
        abort();
    if (again.nrcpt != env->nrcpt || strcmp(again.sender, env->sender) != 0 ||
        again.arrival_us != env->arrival_us || !same_str(again.helo, env->helo) ||
        !same_str(again.envid, env->envid))
        abort();
    for (size_t i = 0; i < env->nrcpt; i++)
        if (strcmp(again.rcpts[i].address, env->rcpts[i].address) != 0 ||
            again.rcpts[i].status != env->rcpts[i].status ||
            !same_str(again.rcpts[i].orcpt, env->rcpts[i].orcpt))
            abort();
    queue_envelope_free(&again);
    buf_free(&b);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The envelope checksum as the reader computes it (status bytes read as 'P'). */
static uint32_t envelope_crc(const uint8_t *e, size_t n)
{
    static const uint8_t pending = 'P';
    uint32_t crc = 0;
    size_t pos = 0, done = 0;
    while (n - pos >= 5) {
        uint32_t len = (uint32_t)e[pos + 1] | (uint32_t)e[pos + 2] << 8 |
                       (uint32_t)e[pos + 3] << 16 | (uint32_t)e[pos + 4] << 24;
        if (len > n - pos - 5)
            break;
        if (e[pos] == 'R' && len > 0) {
            crc = crc32c_update(crc, e + done, pos + 5 - done);
            crc = crc32c_update(crc, &pending, 1);
            done = pos + 6;
        }
        pos += 5 + len;
    }
    return crc32c_update(crc, e + done, n - done);
}

/*
 * Random mutations rarely keep three checksums right, which would keep
 * the fuzzer out of the record parser; so each input is also tried with
 * its end marker rewritten to match (sizes kept when they fit).
 */
static uint8_t *with_valid_checksums(const uint8_t *data, size_t size)
{
    size_t fixed = QFILE_HEADER_SIZE + QFILE_TRAILER_SIZE;
    if (size < fixed)
        return NULL;
    uint8_t *d = malloc(size);
    memcpy(d, data, size);
    uint8_t *t = d + size - QFILE_TRAILER_SIZE;
    uint64_t csize = 0;
    for (int i = 7; i >= 0; i--)
        csize = (csize << 8) | t[8 + i];
    if (csize > size - fixed)
        csize = (size - fixed) / 2;
    size_t esize = size - fixed - (size_t)csize;
    memcpy(t, "GPQ-END\n", 8);
    for (int i = 0; i < 8; i++)
        t[8 + i] = (uint8_t)(csize >> (8 * i));
    put32(t + 16, (uint32_t)esize);
    put32(t + 20, crc32c_update(0, d + QFILE_HEADER_SIZE, (size_t)csize));
    put32(t + 24, envelope_crc(d + QFILE_HEADER_SIZE + csize, esize));
    put32(t + 28, crc32c_update(0, t, 28));
    return d;
}

static void one(const uint8_t *data, size_t size)
{
    struct queue_envelope env;
    struct qfile_info info;
    struct qfile_error err;
    err.text[0] = '\0';
    if (qfile_parse(data, size, NULL, &env, &info, &err)) {
        check_round_trip(data, &env, &info);
        queue_envelope_free(&env);
    } else if (err.text[0] == '\0') {
        abort();                    /* every refusal says why */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    uint8_t *fixed = with_valid_checksums(data, size);
    if (fixed != NULL) {
        one(fixed, size);
        free(fixed);
    }
    return 0;
}
