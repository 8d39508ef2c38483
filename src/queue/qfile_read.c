/*
 * Queue file reading side: validates header, end marker, envelope records
 * and both checksums before anything is believed (format in qfile.h).
 *
 * Input is untrusted in the sense that it may be torn, truncated or
 * damaged (and the fuzz target feeds arbitrary bytes): every length is
 * checked against what remains before it is used, strings are copied out
 * with their limits, and the first problem ends the parse with a message
 * that names it. Nothing here aborts on bad input.
 */
#include "queue/qfile.h"

#include "base/clock.h"
#include "base/xalloc.h"
#include "queue/crc32c.h"
#include "queue/qfile_int.h"
#include "queue/qid.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define QFILE_SMALL_FILE (256u << 10)   /* read in one pread below this */
#define QFILE_CHUNK (64u << 10)         /* content is checked in chunks above */

/* What the end marker says. */
struct qfile_trailer {
    uint64_t content_size;
    uint32_t envelope_size;
    uint32_t content_crc, envelope_crc;
};

/* Parse state for the envelope records. */
struct env_parse {
    struct queue_envelope *env;
    struct qfile_error *err;
    uint64_t base;                  /* file offset of the first record */
    uint32_t seen;                  /* bit per mandatory record and string field */
};

__attribute__((format(printf, 2, 3)))
static bool fail(struct qfile_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return false;
}

static bool check_header(const unsigned char *h, uint64_t size, struct qfile_info *info,
                         struct qfile_error *err)
{
    if (memcmp(h, QFILE_MAGIC, QFILE_MAGIC_LEN) != 0)
        return fail(err, "not a queue file (bad magic)");
    uint16_t version = get_u16(h + 8);
    if (version != QFILE_VERSION)
        return fail(err, "unsupported queue file version %u", version);
    if (get_u16(h + 10) != QFILE_HEADER_SIZE)
        return fail(err, "bad header size %u", get_u16(h + 10));
    if (get_u32(h + 12) != 0)
        return fail(err, "unsupported header flags 0x%x", get_u32(h + 12));
    for (size_t i = QFILE_SCHED_OFFSET + QFILE_SCHED_SIZE; i < QFILE_HEADER_SIZE; i++)
        if (h[i] != 0)
            return fail(err, "bad header (reserved byte %zu set)", i);
    info->file_size = size;
    info->content_offset = QFILE_HEADER_SIZE;
    info->next_attempt_us = (int64_t)get_u64(h + QFILE_SCHED_OFFSET);
    info->attempts = get_u32(h + QFILE_SCHED_OFFSET + 8);
    info->backoff_s = get_u32(h + QFILE_SCHED_OFFSET + 12);
    info->mtime_us = 0;
    return true;
}

static bool check_trailer(const unsigned char *t, uint64_t size, struct qfile_trailer *tr,
                          struct qfile_error *err)
{
    if (memcmp(t, QFILE_END_MAGIC, QFILE_MAGIC_LEN) != 0)
        return fail(err, "no end marker (truncated or torn file)");
    if (crc32c_update(0, t, 28) != get_u32(t + 28))
        return fail(err, "end marker checksum mismatch");
    tr->content_size = get_u64(t + 8);
    tr->envelope_size = get_u32(t + 16);
    tr->content_crc = get_u32(t + 20);
    tr->envelope_crc = get_u32(t + 24);
    uint64_t fixed = QFILE_HEADER_SIZE + QFILE_TRAILER_SIZE;
    if (tr->envelope_size > QFILE_MAX_ENVELOPE ||
        tr->content_size > size - fixed ||
        tr->content_size + tr->envelope_size != size - fixed)
        return fail(err, "size mismatch: file has %llu bytes, end marker says %llu",
                    (unsigned long long)size,
                    (unsigned long long)(tr->content_size + tr->envelope_size + fixed));
    return true;
}

/* Copies a stored string: no NUL inside, at most QFILE_MAX_STRING bytes. */
static bool take_string(const unsigned char *p, size_t n, char **out, const char *what,
                        struct qfile_error *err)
{
    if (n > QFILE_MAX_STRING)
        return fail(err, "%s too long (%zu bytes)", what, n);
    if (memchr(p, '\0', n) != NULL)
        return fail(err, "%s contains a NUL byte", what);
    *out = xstrndup((const char *)p, n);
    return true;
}

static bool once(struct env_parse *ps, unsigned bit, const char *what)
{
    if (ps->seen & (1u << bit))
        return fail(ps->err, "duplicate %s record", what);
    ps->seen |= 1u << bit;
    return true;
}

enum { SEEN_ID, SEEN_TIME, SEEN_SENDER, SEEN_FLAGS, SEEN_STRINGS };

static bool rec_id(struct env_parse *ps, const unsigned char *p, size_t n, uint64_t off)
{
    if (!once(ps, SEEN_ID, "queue id"))
        return false;
    if (n == 0 || n >= QUEUE_ID_SIZE)
        return fail(ps->err, "bad queue id length %zu", n);
    memcpy(ps->env->queue_id, p, n);
    ps->env->queue_id[n] = '\0';
    if (!queue_id_valid(ps->env->queue_id))
        return fail(ps->err, "bad queue id");
    return true;
}

static bool rec_time(struct env_parse *ps, const unsigned char *p, size_t n, uint64_t off)
{
    if (!once(ps, SEEN_TIME, "arrival time"))
        return false;
    if (n != 8)
        return fail(ps->err, "bad arrival time record length %zu", n);
    ps->env->arrival_us = (int64_t)get_u64(p);
    return true;
}

static bool rec_sender(struct env_parse *ps, const unsigned char *p, size_t n, uint64_t off)
{
    if (!once(ps, SEEN_SENDER, "sender"))
        return false;
    return take_string(p, n, &ps->env->sender, "sender", ps->err);
}

static bool rec_flags(struct env_parse *ps, const unsigned char *p, size_t n, uint64_t off)
{
    if (!once(ps, SEEN_FLAGS, "flags"))
        return false;
    if (n != 3 || p[0] > 1)
        return fail(ps->err, "bad flags record");
    ps->env->smtputf8 = p[0] == 1;
    ps->env->body_type = p[1];
    ps->env->dsn_ret = p[2];
    return true;
}

static bool rec_rcpt(struct env_parse *ps, const unsigned char *p, size_t n, uint64_t off)
{
    if (n < QREC_RCPT_FIXED)
        return fail(ps->err, "recipient record too short");
    if (p[0] != RCPT_PENDING && p[0] != RCPT_DONE)
        return fail(ps->err, "bad recipient status byte 0x%02x", p[0]);
    if (p[2] > 1 || p[3] != 0 || (p[2] == 0 && get_u32(p + 4) != 0))
        return fail(ps->err, "bad recipient record");
    uint32_t ol = get_u32(p + 4);
    if (ol > n - QREC_RCPT_FIXED || n - QREC_RCPT_FIXED - ol == 0)
        return fail(ps->err, "bad recipient record lengths");
    struct queue_recipient *r = queue_envelope_new_rcpt(ps->env);
    r->status = p[0];
    r->notify = p[1];
    r->status_offset = off;
    if (p[2] && !take_string(p + QREC_RCPT_FIXED, ol, &r->orcpt, "orcpt", ps->err))
        return false;
    return take_string(p + QREC_RCPT_FIXED + ol, n - QREC_RCPT_FIXED - ol,
                       &r->address, "recipient", ps->err);
}

static bool rec_optional(struct env_parse *ps, char type, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < qfile_string_field_count; i++) {
        const struct qfile_string_field *f = &qfile_string_fields[i];
        if (f->type != type)
            continue;
        if (!once(ps, SEEN_STRINGS + (unsigned)i, f->name))
            return false;
        return take_string(p, n, qfile_field_ptr(ps->env, f), f->name, ps->err);
    }
    return true;                    /* an optional fact from a later version */
}

typedef bool (*record_fn)(struct env_parse *ps, const unsigned char *p, size_t n,
                          uint64_t payload_offset);

static const struct { char type; record_fn fn; } record_table[] = {
    { QREC_ID, rec_id },
    { QREC_TIME, rec_time },
    { QREC_SENDER, rec_sender },
    { QREC_FLAGS, rec_flags },
    { QREC_RCPT, rec_rcpt },
};

static bool one_record(struct env_parse *ps, char type, const unsigned char *p, size_t n,
                       uint64_t off)
{
    for (size_t i = 0; i < sizeof(record_table) / sizeof(record_table[0]); i++)
        if (record_table[i].type == type)
            return record_table[i].fn(ps, p, n, off);
    if (type >= 'a' && type <= 'z')
        return rec_optional(ps, type, p, n);
    return fail(ps->err, "unknown record type 0x%02x at offset %llu",
                (unsigned char)type, (unsigned long long)(off - QFILE_RECORD_HEADER));
}

/* CRC of the records with every recipient status byte read as 'P'. */
static uint32_t envelope_crc(const unsigned char *e, size_t n)
{
    static const unsigned char pending = RCPT_PENDING;
    uint32_t crc = 0;
    size_t pos = 0, done = 0;
    while (n - pos >= QFILE_RECORD_HEADER) {
        uint32_t len = get_u32(e + pos + 1);
        if (len > n - pos - QFILE_RECORD_HEADER)
            break;
        if (e[pos] == QREC_RCPT && len > 0) {
            size_t status = pos + QFILE_RECORD_HEADER;
            crc = crc32c_update(crc, e + done, status - done);
            crc = crc32c_update(crc, &pending, 1);
            done = status + 1;
        }
        pos += QFILE_RECORD_HEADER + len;
    }
    return crc32c_update(crc, e + done, n - done);
}

static bool walk_records(struct env_parse *ps, const unsigned char *e, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        if (n - pos < QFILE_RECORD_HEADER)
            return fail(ps->err, "record header at offset %llu runs past the envelope",
                        (unsigned long long)(ps->base + pos));
        uint32_t len = get_u32(e + pos + 1);
        if (len > n - pos - QFILE_RECORD_HEADER)
            return fail(ps->err, "record at offset %llu runs past the envelope",
                        (unsigned long long)(ps->base + pos));
        uint64_t payload = ps->base + pos + QFILE_RECORD_HEADER;
        if (!one_record(ps, (char)e[pos], e + pos + QFILE_RECORD_HEADER, len, payload))
            return false;
        pos += QFILE_RECORD_HEADER + len;
    }
    return true;
}

static bool parse_envelope(const unsigned char *e, size_t n, uint64_t base,
                           const struct qfile_trailer *tr, const char *expect_id,
                           struct queue_envelope *env, struct qfile_error *err)
{
    if (envelope_crc(e, n) != tr->envelope_crc)
        return fail(err, "envelope checksum mismatch");
    struct env_parse ps = { .env = env, .err = err, .base = base };
    if (!walk_records(&ps, e, n))
        return false;
    if (!(ps.seen & (1u << SEEN_ID)))
        return fail(err, "no queue id record");
    if (!(ps.seen & (1u << SEEN_TIME)))
        return fail(err, "no arrival time record");
    if (!(ps.seen & (1u << SEEN_SENDER)))
        return fail(err, "no sender record");
    if (env->nrcpt == 0)
        return fail(err, "no recipients");
    if (expect_id != NULL && strcmp(expect_id, env->queue_id) != 0)
        return fail(err, "queue id %s does not match the file name", env->queue_id);
    env->content_size = tr->content_size;
    return true;
}

bool qfile_parse(const void *data, size_t len, const char *expect_id,
                 struct queue_envelope *env, struct qfile_info *info,
                 struct qfile_error *err)
{
    const unsigned char *d = data;
    struct qfile_trailer tr;
    memset(env, 0, sizeof(*env));
    if (len < QFILE_HEADER_SIZE + QFILE_TRAILER_SIZE)
        return fail(err, "file too short (%zu bytes)", len);
    if (!check_header(d, len, info, err) ||
        !check_trailer(d + len - QFILE_TRAILER_SIZE, len, &tr, err))
        return false;
    info->content_size = tr.content_size;
    uint64_t env_off = QFILE_HEADER_SIZE + tr.content_size;
    if (crc32c_update(0, d + QFILE_HEADER_SIZE, tr.content_size) != tr.content_crc)
        return fail(err, "content checksum mismatch");
    if (!parse_envelope(d + env_off, tr.envelope_size, env_off, &tr, expect_id, env, err)) {
        queue_envelope_free(env);
        return false;
    }
    return true;
}

/* pread exactly n bytes; a file that ends early is reported as shrunk. */
static bool read_at(int fd, void *p, size_t n, uint64_t off, struct qfile_error *err)
{
    unsigned char *c = p;
    while (n > 0) {
        ssize_t r = pread(fd, c, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail(err, "read: %s", strerror(errno));
        if (r == 0)
            return fail(err, "file shrank while being read");
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return true;
}

static bool load_small(int fd, size_t size, const char *expect_id,
                       struct queue_envelope *env, struct qfile_info *info,
                       struct qfile_error *err)
{
    unsigned char *data = xmalloc(size ? size : 1);
    bool ok = read_at(fd, data, size, 0, err) &&
              qfile_parse(data, size, expect_id, env, info, err);
    free(data);
    return ok;
}

static bool content_crc_ok(int fd, const struct qfile_trailer *tr, struct qfile_error *err)
{
    unsigned char *chunk = xmalloc(QFILE_CHUNK);
    uint32_t crc = 0;
    uint64_t off = QFILE_HEADER_SIZE, left = tr->content_size;
    bool ok = true;
    while (ok && left > 0) {
        size_t n = left < QFILE_CHUNK ? (size_t)left : QFILE_CHUNK;
        ok = read_at(fd, chunk, n, off, err);
        crc = crc32c_update(crc, chunk, n);
        off += n;
        left -= n;
    }
    free(chunk);
    if (ok && crc != tr->content_crc)
        return fail(err, "content checksum mismatch");
    return ok;
}

static bool load_large(int fd, uint64_t size, const char *expect_id,
                       struct queue_envelope *env, struct qfile_info *info,
                       struct qfile_error *err)
{
    unsigned char h[QFILE_HEADER_SIZE], t[QFILE_TRAILER_SIZE];
    struct qfile_trailer tr;
    if (!read_at(fd, h, sizeof(h), 0, err) ||
        !read_at(fd, t, sizeof(t), size - QFILE_TRAILER_SIZE, err) ||
        !check_header(h, size, info, err) || !check_trailer(t, size, &tr, err) ||
        !content_crc_ok(fd, &tr, err))
        return false;
    info->content_size = tr.content_size;
    uint64_t env_off = QFILE_HEADER_SIZE + tr.content_size;
    unsigned char *e = xmalloc(tr.envelope_size ? tr.envelope_size : 1);
    bool ok = read_at(fd, e, tr.envelope_size, env_off, err) &&
              parse_envelope(e, tr.envelope_size, env_off, &tr, expect_id, env, err);
    free(e);
    if (!ok)
        queue_envelope_free(env);
    return ok;
}

bool qfile_load(int fd, const char *expect_id, struct queue_envelope *env,
                struct qfile_info *info, struct qfile_error *err)
{
    struct stat st;
    memset(env, 0, sizeof(*env));
    if (fstat(fd, &st) < 0)
        return fail(err, "fstat: %s", strerror(errno));
    uint64_t size = (uint64_t)st.st_size;
    if (size < QFILE_HEADER_SIZE + QFILE_TRAILER_SIZE)
        return fail(err, "file too short (%llu bytes)", (unsigned long long)size);
    bool ok = size <= QFILE_SMALL_FILE ? load_small(fd, (size_t)size, expect_id, env, info, err)
                                       : load_large(fd, size, expect_id, env, info, err);
    if (ok)
        info->mtime_us = clock_timespec_us(&st.st_mtim);
    return ok;
}
