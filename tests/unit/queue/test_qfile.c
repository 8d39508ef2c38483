/*
 * Queue file format: round trip of every envelope field, detection of a
 * truncated file at every length and of a damaged byte anywhere outside
 * the mutable slots, in-place status and schedule updates, forward
 * compatibility rules for record types, and queue IDs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "queue/crc32c.h"
#include "queue/qfile.h"
#include "queue/qfile_int.h"
#include "queue/qid.h"

static const char content[] = "Received: from x\nSubject: hi\n\nbody line\nFrom me\n";

static void fill_env(struct queue_envelope *env)
{
    memset(env, 0, sizeof(*env));
    strcpy(env->queue_id, "0ABCDEFGHIJ1");
    env->arrival_us = 1700000000123456LL;
    env->sender = xstrdup("alice@example.org");
    queue_envelope_add_rcpt(env, "bob@example.com", "rfc822;Bob@Example.com", 6);
    queue_envelope_add_rcpt(env, "carol@example.com", NULL, 0);
    queue_envelope_add_rcpt(env, "dave@example.com", "", 1);
    env->client_name = xstrdup("mail.example.org");
    env->client_addr = xstrdup("192.0.2.1");
    env->helo = xstrdup("mail.example.org");
    env->protocol = xstrdup("ESMTPSA");
    env->sasl_method = xstrdup("PLAIN");
    env->sasl_username = xstrdup("alice");
    env->message_id = xstrdup("123@example.org");
    env->envid = xstrdup("ENV+2B1");
    env->dsn_ret = 2;
    env->smtputf8 = true;
    env->body_type = 2;
}

/* A complete file for env and content in b. */
static void build(struct buf *b, const struct queue_envelope *env, const char *c, size_t n)
{
    buf_init(b, 0);
    unsigned char h[QFILE_HEADER_SIZE];
    qfile_header(h);
    buf_append(b, h, sizeof(h));
    buf_append(b, c, n);
    assert_true(qfile_append_envelope(b, env, n, crc32c_update(0, c, n)));
}

static void assert_str_or_null(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_env_equal(const struct queue_envelope *a, const struct queue_envelope *b)
{
    assert_string_equal(a->queue_id, b->queue_id);
    assert_int_equal(a->arrival_us, b->arrival_us);
    assert_string_equal(a->sender, b->sender);
    assert_int_equal(a->nrcpt, b->nrcpt);
    for (size_t i = 0; i < a->nrcpt; i++) {
        assert_string_equal(a->rcpts[i].address, b->rcpts[i].address);
        assert_str_or_null(a->rcpts[i].orcpt, b->rcpts[i].orcpt);
        assert_int_equal(a->rcpts[i].notify, b->rcpts[i].notify);
        assert_int_equal(a->rcpts[i].status, b->rcpts[i].status);
    }
    assert_str_or_null(a->client_name, b->client_name);
    assert_str_or_null(a->client_addr, b->client_addr);
    assert_str_or_null(a->helo, b->helo);
    assert_str_or_null(a->protocol, b->protocol);
    assert_str_or_null(a->sasl_method, b->sasl_method);
    assert_str_or_null(a->sasl_username, b->sasl_username);
    assert_str_or_null(a->message_id, b->message_id);
    assert_str_or_null(a->envid, b->envid);
    assert_int_equal(a->dsn_ret, b->dsn_ret);
    assert_int_equal(a->smtputf8, b->smtputf8);
    assert_int_equal(a->body_type, b->body_type);
}

static void round_trip(void **state)
{
    struct queue_envelope env, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    fill_env(&env);
    build(&b, &env, content, strlen(content));
    assert_true(qfile_parse(b.data, b.len, "0ABCDEFGHIJ1", &out, &info, &err));
    assert_env_equal(&env, &out);
    assert_int_equal(out.content_size, strlen(content));
    assert_int_equal(info.content_offset, QFILE_HEADER_SIZE);
    assert_int_equal(info.content_size, strlen(content));
    assert_int_equal(info.next_attempt_us, 0);
    assert_memory_equal(b.data + info.content_offset, content, strlen(content));
    for (size_t i = 0; i < out.nrcpt; i++)
        assert_int_equal(b.data[out.rcpts[i].status_offset], RCPT_PENDING);
    queue_envelope_free(&out);
    queue_envelope_free(&env);
    buf_free(&b);
}

static void minimal_envelope(void **state)
{
    struct queue_envelope env = { 0 }, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    strcpy(env.queue_id, "Z");
    env.sender = xstrdup("");
    queue_envelope_add_rcpt(&env, "x@y", NULL, 0);
    build(&b, &env, "", 0);
    assert_true(qfile_parse(b.data, b.len, NULL, &out, &info, &err));
    assert_env_equal(&env, &out);
    assert_int_equal(out.content_size, 0);
    queue_envelope_free(&out);
    queue_envelope_free(&env);
    buf_free(&b);
}

static void unstorable_envelopes(void **state)
{
    struct queue_envelope env;
    struct buf b;
    buf_init(&b, 0);
    fill_env(&env);
    strcpy(env.queue_id, "bad-id");
    assert_false(qfile_append_envelope(&b, &env, 0, 0));
    strcpy(env.queue_id, "ABC");
    free(env.rcpts[1].address);
    env.rcpts[1].address = xstrdup("");
    assert_false(qfile_append_envelope(&b, &env, 0, 0));
    queue_envelope_free(&env);
    fill_env(&env);
    char *big = xmalloc(QFILE_MAX_STRING + 2);
    memset(big, 'a', QFILE_MAX_STRING + 1);
    big[QFILE_MAX_STRING + 1] = '\0';
    free(env.helo);
    env.helo = big;
    assert_false(qfile_append_envelope(&b, &env, 0, 0));
    assert_int_equal(b.len, 0);
    queue_envelope_free(&env);
    memset(&env, 0, sizeof(env));
    strcpy(env.queue_id, "ABC");
    env.sender = xstrdup("a@b");
    assert_false(qfile_append_envelope(&b, &env, 0, 0));   /* no recipients */
    queue_envelope_free(&env);
    buf_free(&b);
}

static void every_truncation_detected(void **state)
{
    struct queue_envelope env, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    fill_env(&env);
    build(&b, &env, content, strlen(content));
    for (size_t len = 0; len < b.len; len++) {
        err.text[0] = '\0';
        assert_false(qfile_parse(b.data, len, NULL, &out, &info, &err));
        assert_true(err.text[0] != '\0');
        assert_int_equal(out.nrcpt, 0);
    }
    /* A file with bytes appended is refused as well. */
    buf_append(&b, "x", 1);
    assert_false(qfile_parse(b.data, b.len, NULL, &out, &info, &err));
    queue_envelope_free(&env);
    buf_free(&b);
}

static bool mutable_byte(const struct queue_envelope *env, size_t off)
{
    if (off >= QFILE_SCHED_OFFSET && off < QFILE_SCHED_OFFSET + QFILE_SCHED_SIZE)
        return true;
    for (size_t i = 0; i < env->nrcpt; i++)
        if (env->rcpts[i].status_offset == off)
            return true;
    return false;
}

static void every_damaged_byte_detected(void **state)
{
    struct queue_envelope env, ref, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    fill_env(&env);
    build(&b, &env, content, strlen(content));
    assert_true(qfile_parse(b.data, b.len, NULL, &ref, &info, &err));
    for (size_t off = 0; off < b.len; off++) {
        if (mutable_byte(&ref, off))
            continue;
        for (unsigned bit = 0; bit < 8; bit += 3) {
            b.data[off] ^= (char)(1u << bit);
            bool ok = qfile_parse(b.data, b.len, NULL, &out, &info, &err);
            b.data[off] ^= (char)(1u << bit);
            if (ok)
                fail_msg("flip of bit %u at offset %zu not detected", bit, off);
        }
    }
    queue_envelope_free(&ref);
    queue_envelope_free(&env);
    buf_free(&b);
}

static void status_bytes_and_schedule_are_mutable(void **state)
{
    struct queue_envelope env, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    fill_env(&env);
    build(&b, &env, content, strlen(content));
    assert_true(qfile_parse(b.data, b.len, NULL, &out, &info, &err));
    b.data[out.rcpts[1].status_offset] = RCPT_DONE;
    memset(b.data + QFILE_SCHED_OFFSET, 0x5A, QFILE_SCHED_SIZE);
    queue_envelope_free(&out);
    assert_true(qfile_parse(b.data, b.len, NULL, &out, &info, &err));
    assert_int_equal(out.rcpts[0].status, RCPT_PENDING);
    assert_int_equal(out.rcpts[1].status, RCPT_DONE);
    assert_int_equal(info.attempts, 0x5A5A5A5Au);
    /* A status byte that is neither P nor D is damage. */
    b.data[out.rcpts[2].status_offset] = 'X';
    struct queue_envelope bad;
    assert_false(qfile_parse(b.data, b.len, NULL, &bad, &info, &err));
    assert_non_null(strstr(err.text, "status"));
    queue_envelope_free(&out);
    queue_envelope_free(&env);
    buf_free(&b);
}

static void done_recipients_written_as_done(void **state)
{
    struct queue_envelope env, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    fill_env(&env);
    env.rcpts[0].status = RCPT_DONE;
    build(&b, &env, content, strlen(content));
    assert_true(qfile_parse(b.data, b.len, NULL, &out, &info, &err));
    assert_int_equal(out.rcpts[0].status, RCPT_DONE);
    assert_int_equal(out.rcpts[1].status, RCPT_PENDING);
    queue_envelope_free(&out);
    queue_envelope_free(&env);
    buf_free(&b);
}

static void wrong_name_refused(void **state)
{
    struct queue_envelope env, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    fill_env(&env);
    build(&b, &env, content, strlen(content));
    assert_false(qfile_parse(b.data, b.len, "0ABCDEFGHIJ2", &out, &info, &err));
    assert_non_null(strstr(err.text, "does not match"));
    queue_envelope_free(&env);
    buf_free(&b);
}

/* Rebuilds a file around hand-made records, with correct checksums. */
static void craft(struct buf *b, const void *records, size_t n)
{
    unsigned char h[QFILE_HEADER_SIZE], t[QFILE_TRAILER_SIZE];
    buf_init(b, 0);
    qfile_header(h);
    buf_append(b, h, sizeof(h));
    buf_append(b, records, n);
    memcpy(t, QFILE_END_MAGIC, 8);
    put_u64(t + 8, 0);
    put_u32(t + 16, (uint32_t)n);
    put_u32(t + 20, 0);
    put_u32(t + 24, crc32c_update(0, records, n));
    put_u32(t + 28, crc32c_update(0, t, 28));
    buf_append(b, t, sizeof(t));
}

static void add_rec(struct buf *r, char type, const void *p, size_t n)
{
    unsigned char h[QFILE_RECORD_HEADER];
    h[0] = (unsigned char)type;
    put_u32(h + 1, (uint32_t)n);
    buf_append(r, h, sizeof(h));
    buf_append(r, p, n);
}

static void base_records(struct buf *r)
{
    unsigned char t[8] = { 0 };
    unsigned char rc[QREC_RCPT_FIXED + 3] = { RCPT_PENDING, 0, 0, 0, 0, 0, 0, 0, 'a', '@', 'b' };
    buf_init(r, 0);
    add_rec(r, 'I', "ABC", 3);
    add_rec(r, 'T', t, 8);
    add_rec(r, 'S', "", 0);
    add_rec(r, 'R', rc, sizeof(rc));
}

/* The file made of records r is refused with an error containing want; frees r. */
static void refused(struct buf *r, const char *want)
{
    struct queue_envelope out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf f;
    craft(&f, r->data, r->len);
    assert_false(qfile_parse(f.data, f.len, NULL, &out, &info, &err));
    assert_non_null(strstr(err.text, want));
    buf_free(&f);
    buf_free(r);
}

static void record_type_rules(void **state)
{
    struct queue_envelope out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf r, f;
    base_records(&r);
    add_rec(&r, 'x', "future optional fact", 20);
    craft(&f, r.data, r.len);
    assert_true(qfile_parse(f.data, f.len, NULL, &out, &info, &err));
    assert_string_equal(out.rcpts[0].address, "a@b");
    queue_envelope_free(&out);
    buf_free(&f);
    add_rec(&r, 'X', "future mandatory fact", 21);
    refused(&r, "unknown record type");

    base_records(&r);
    add_rec(&r, 'S', "again", 5);
    refused(&r, "duplicate sender");

    base_records(&r);
    add_rec(&r, 'h', "he\0lo", 5);
    refused(&r, "NUL");

    buf_init(&r, 0);
    add_rec(&r, 'I', "ABC", 3);
    add_rec(&r, 'S', "", 0);
    refused(&r, "arrival time");
}

static void version_and_magic(void **state)
{
    struct queue_envelope env, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    fill_env(&env);
    build(&b, &env, content, strlen(content));
    b.data[8] = 2;
    assert_false(qfile_parse(b.data, b.len, NULL, &out, &info, &err));
    assert_string_equal(err.text, "unsupported queue file version 2");
    b.data[8] = 1;
    b.data[0] = 'X';
    assert_false(qfile_parse(b.data, b.len, NULL, &out, &info, &err));
    assert_string_equal(err.text, "not a queue file (bad magic)");
    queue_envelope_free(&env);
    buf_free(&b);
}

static int temp_file(const void *p, size_t n)
{
    char path[] = "/tmp/test_qfile_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    return fd;
}

static void load_from_fd_small_and_large(void **state)
{
    struct queue_envelope env, out;
    struct qfile_info info;
    struct qfile_error err;
    struct buf b;
    fill_env(&env);
    size_t sizes[] = { 10, 300u << 10 };
    for (size_t k = 0; k < 2; k++) {
        char *c = xmalloc(sizes[k]);
        for (size_t i = 0; i < sizes[k]; i++)
            c[i] = (char)('a' + i % 26);
        build(&b, &env, c, sizes[k]);
        int fd = temp_file(b.data, b.len);
        assert_true(qfile_load(fd, "0ABCDEFGHIJ1", &out, &info, &err));
        assert_env_equal(&env, &out);
        assert_int_equal(info.content_size, sizes[k]);
        /* In-place updates, then reload. */
        assert_true(qfile_mark_done(fd, out.rcpts[2].status_offset));
        assert_true(qfile_write_schedule(fd, 1234567, 3, 600));
        queue_envelope_free(&out);
        assert_true(qfile_load(fd, NULL, &out, &info, &err));
        assert_int_equal(out.rcpts[2].status, RCPT_DONE);
        assert_int_equal(info.next_attempt_us, 1234567);
        assert_int_equal(info.attempts, 3);
        assert_int_equal(info.backoff_s, 600);
        queue_envelope_free(&out);
        /* Damage in the content of a large file is found by the chunked check. */
        assert_int_equal(pwrite(fd, "#", 1, QFILE_HEADER_SIZE + sizes[k] / 2), 1);
        assert_false(qfile_load(fd, NULL, &out, &info, &err));
        assert_string_equal(err.text, "content checksum mismatch");
        assert_true(ftruncate(fd, 50) == 0);
        assert_false(qfile_load(fd, NULL, &out, &info, &err));
        close(fd);
        buf_free(&b);
        free(c);
    }
    queue_envelope_free(&env);
}

static void crc_known_values(void **state)
{
    assert_int_equal(crc32c_update(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c_update_sw(0, "123456789", 9), 0xE3069283u);
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n < sizeof(data); n += 37) {
        uint32_t split = crc32c_update(crc32c_update(0, data, n / 3), data + n / 3, n - n / 3);
        assert_int_equal(crc32c_update(0, data, n), crc32c_update_sw(0, data, n));
        assert_int_equal(split, crc32c_update(0, data, n));
    }
}

static void queue_ids(void **state)
{
    struct queue_id_gen g;
    char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE], c[QUEUE_ID_SIZE];
    queue_id_gen_init(&g, 'K');
    int64_t now = 1763890000000000LL;
    queue_id_next(&g, now, a);
    queue_id_next(&g, now, b);          /* same microsecond: still unique */
    queue_id_next(&g, now - 5000, c);   /* clock stepped back: still increasing */
    assert_true(strlen(a) >= 12 && strlen(a) <= 16);
    assert_int_equal(a[10], 'K');
    assert_true(queue_id_valid(a));
    assert_true(strcmp(a, b) < 0);
    assert_true(strcmp(b, c) < 0);
    assert_int_equal(queue_id_time_us(a), now);
    assert_int_equal(queue_id_time_us(b), now + 1);
    struct queue_id_gen other;
    queue_id_gen_init(&other, 'L');
    char d[QUEUE_ID_SIZE];
    queue_id_next(&other, now, d);
    assert_string_not_equal(a, d);
    queue_id_gen_init(&other, 'k');     /* lower case is taken as upper case */
    queue_id_next(&other, now, d);
    assert_int_equal(d[10], 'K');
    /* Another process with the same tag at the same microsecond: still different. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct queue_id_gen child;
        char e[QUEUE_ID_SIZE];
        queue_id_gen_init(&child, 'K');
        queue_id_next(&child, now, e);
        _exit(write(fds[1], e, sizeof(e)) == sizeof(e) ? 0 : 1);
    }
    char e[QUEUE_ID_SIZE];
    assert_int_equal(read(fds[0], e, sizeof(e)), (ssize_t)sizeof(e));
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    assert_true(queue_id_valid(e));
    assert_memory_equal(a, e, 11);      /* same time and tag ... */
    assert_string_not_equal(a, e);      /* ... different process */
    assert_int_equal(queue_id_time_us(e), now);
    assert_false(queue_id_valid(""));
    assert_false(queue_id_valid("abc"));
    assert_false(queue_id_valid("ABC/"));
    assert_false(queue_id_valid("0123456789ABCDEFGHIJKLMN"));
    assert_true(queue_id_valid("0123456789ABCDEFGHIJKLM"));
    /* Later times sort later, across the digit range. */
    queue_id_gen_init(&g, '0');
    queue_id_next(&g, now, a);
    queue_id_next(&g, now + 86400LL * 1000000 * 365 * 50, b);
    assert_true(strcmp(a, b) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(minimal_envelope),
        cmocka_unit_test(unstorable_envelopes),
        cmocka_unit_test(every_truncation_detected),
        cmocka_unit_test(every_damaged_byte_detected),
        cmocka_unit_test(status_bytes_and_schedule_are_mutable),
        cmocka_unit_test(done_recipients_written_as_done),
        cmocka_unit_test(wrong_name_refused),
        cmocka_unit_test(record_type_rules),
        cmocka_unit_test(version_and_magic),
        cmocka_unit_test(load_from_fd_small_and_large),
        cmocka_unit_test(crc_known_values),
        cmocka_unit_test(queue_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
