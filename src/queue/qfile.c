/*
 * Queue file writing side: the header, the envelope records and the end
 * marker (format in qfile.h), plus the two in-place updates the queue
 * manager makes. Encoding reserves the whole envelope once and fills it,
 * so a commit costs one allocation at most.
 */
#include "queue/qfile.h"

#include "queue/crc32c.h"
#include "queue/qfile_int.h"
#include "queue/qid.h"

#include <errno.h>
#include <unistd.h>

const struct qfile_string_field qfile_string_fields[] = {
    { 'c', offsetof(struct queue_envelope, client_name), "client name" },
    { 'a', offsetof(struct queue_envelope, client_addr), "client address" },
    { 'h', offsetof(struct queue_envelope, helo), "helo" },
    { 'p', offsetof(struct queue_envelope, protocol), "protocol" },
    { 'm', offsetof(struct queue_envelope, sasl_method), "sasl method" },
    { 'u', offsetof(struct queue_envelope, sasl_username), "sasl username" },
    { 'i', offsetof(struct queue_envelope, message_id), "message-id" },
    { 'e', offsetof(struct queue_envelope, envid), "envid" },
};
const size_t qfile_string_field_count =
    sizeof(qfile_string_fields) / sizeof(qfile_string_fields[0]);

void qfile_header(unsigned char out[QFILE_HEADER_SIZE])
{
    memset(out, 0, QFILE_HEADER_SIZE);
    memcpy(out, QFILE_MAGIC, QFILE_MAGIC_LEN);
    put_u16(out + 8, QFILE_VERSION);
    put_u16(out + 10, QFILE_HEADER_SIZE);
}

/* Bytes the envelope records will take; 0 if some field cannot be stored. */
static size_t envelope_size(const struct queue_envelope *env)
{
    size_t total = 0;
    if (env->sender == NULL || env->nrcpt == 0 || !queue_id_valid(env->queue_id))
        return 0;
    size_t sl = strlen(env->sender);
    if (sl > QFILE_MAX_STRING)
        return 0;
    total += QFILE_RECORD_HEADER + strlen(env->queue_id);
    total += QFILE_RECORD_HEADER + 8 + QFILE_RECORD_HEADER + sl + QFILE_RECORD_HEADER + 3;
    for (size_t i = 0; i < qfile_string_field_count; i++) {
        const char *s = *qfile_field_ptr((struct queue_envelope *)env, &qfile_string_fields[i]);
        if (s == NULL)
            continue;
        size_t n = strlen(s);
        if (n > QFILE_MAX_STRING)
            return 0;
        total += QFILE_RECORD_HEADER + n;
    }
    for (size_t i = 0; i < env->nrcpt; i++) {
        const struct queue_recipient *r = &env->rcpts[i];
        size_t al = r->address ? strlen(r->address) : 0;
        size_t ol = r->orcpt ? strlen(r->orcpt) : 0;
        if (al == 0 || al > QFILE_MAX_STRING || ol > QFILE_MAX_STRING)
            return 0;
        if (r->notify < 0 || r->notify > 0xFF)
            return 0;
        total += QFILE_RECORD_HEADER + QREC_RCPT_FIXED + ol + al;
        if (total > QFILE_MAX_ENVELOPE)
            return 0;
    }
    return total <= QFILE_MAX_ENVELOPE ? total : 0;
}

static unsigned char *put_record(unsigned char *p, char type, const void *data, size_t n)
{
    p[0] = (unsigned char)type;
    put_u32(p + 1, (uint32_t)n);
    if (n)
        memcpy(p + QFILE_RECORD_HEADER, data, n);
    return p + QFILE_RECORD_HEADER + n;
}

static unsigned char *put_string(unsigned char *p, char type, const char *s)
{
    return put_record(p, type, s, strlen(s));
}

static unsigned char *put_rcpt(unsigned char *p, const struct queue_recipient *r)
{
    size_t al = strlen(r->address), ol = r->orcpt ? strlen(r->orcpt) : 0;
    p[0] = QREC_RCPT;
    put_u32(p + 1, (uint32_t)(QREC_RCPT_FIXED + ol + al));
    unsigned char *q = p + QFILE_RECORD_HEADER;
    q[0] = RCPT_PENDING;            /* done states are patched in after the CRC */
    q[1] = (unsigned char)r->notify;
    q[2] = r->orcpt != NULL;
    q[3] = 0;
    put_u32(q + 4, (uint32_t)ol);
    memcpy(q + QREC_RCPT_FIXED, r->orcpt ? r->orcpt : "", ol);
    memcpy(q + QREC_RCPT_FIXED + ol, r->address, al);
    return q + QREC_RCPT_FIXED + ol + al;
}

static unsigned char *put_fixed(unsigned char *p, const struct queue_envelope *env)
{
    unsigned char v[8];
    p = put_string(p, QREC_ID, env->queue_id);
    put_u64(v, (uint64_t)env->arrival_us);
    p = put_record(p, QREC_TIME, v, 8);
    p = put_string(p, QREC_SENDER, env->sender);
    v[0] = env->smtputf8 ? 1 : 0;
    v[1] = (unsigned char)env->body_type;
    v[2] = (unsigned char)env->dsn_ret;
    return put_record(p, QREC_FLAGS, v, 3);
}

/* Marks recipients already done (the checksum reads every status as 'P'). */
static void patch_done(unsigned char *walk, const unsigned char *end,
                       const struct queue_envelope *env)
{
    size_t rcpt = 0;
    while (walk < end) {
        uint32_t len = get_u32(walk + 1);
        if (walk[0] == QREC_RCPT && env->rcpts[rcpt++].status == RCPT_DONE)
            walk[QFILE_RECORD_HEADER] = RCPT_DONE;
        walk += QFILE_RECORD_HEADER + len;
    }
}

static void put_trailer(unsigned char *p, uint64_t content_size, uint32_t env_size,
                        uint32_t content_crc, uint32_t env_crc)
{
    memcpy(p, QFILE_END_MAGIC, QFILE_MAGIC_LEN);
    put_u64(p + 8, content_size);
    put_u32(p + 16, env_size);
    put_u32(p + 20, content_crc);
    put_u32(p + 24, env_crc);
    put_u32(p + 28, crc32c_update(0, p, 28));
}

bool qfile_append_envelope(struct buf *out, const struct queue_envelope *env,
                           uint64_t content_size, uint32_t content_crc)
{
    size_t esize = envelope_size(env);
    if (esize == 0 || env->body_type < 0 || env->body_type > 0xFF ||
        env->dsn_ret < 0 || env->dsn_ret > 0xFF)
        return false;
    unsigned char *start = (unsigned char *)buf_reserve(out, esize + QFILE_TRAILER_SIZE);
    if (start == NULL)
        return false;
    unsigned char *p = put_fixed(start, env);
    for (size_t i = 0; i < qfile_string_field_count; i++) {
        const struct qfile_string_field *f = &qfile_string_fields[i];
        const char *s = *qfile_field_ptr((struct queue_envelope *)env, f);
        if (s != NULL)
            p = put_string(p, f->type, s);
    }
    for (size_t i = 0; i < env->nrcpt; i++)
        p = put_rcpt(p, &env->rcpts[i]);
    uint32_t env_crc = crc32c_update(0, start, esize);
    patch_done(start, p, env);
    put_trailer(p, content_size, (uint32_t)esize, content_crc, env_crc);
    buf_commit(out, esize + QFILE_TRAILER_SIZE);
    return true;
}

static bool pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return true;
}

bool qfile_mark_done(int fd, uint64_t status_offset)
{
    unsigned char d = RCPT_DONE;
    return pwrite_all(fd, &d, 1, status_offset);
}

bool qfile_write_schedule(int fd, int64_t next_attempt_us, uint32_t attempts,
                          uint32_t backoff_s)
{
    unsigned char s[QFILE_SCHED_SIZE];
    put_u64(s, (uint64_t)next_attempt_us);
    put_u32(s + 8, attempts);
    put_u32(s + 12, backoff_s);
    return pwrite_all(fd, s, sizeof(s), QFILE_SCHED_OFFSET);
}
