/*
 * Fuzz target: user records as the auth process reads them from the user
 * database. Only `gatepost user` writes that file, but a damaged file, one
 * from a newer version or a restored backup can hold any bytes, and every
 * lookup decodes a record. A record that decodes must encode again, to
 * the same length (every field is kept as it was read), and that encoding
 * must decode to the same record.
 */
#include "auth/scram.h"
#include "auth/userdb.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool scram_equal(const struct scram_secret *a, const struct scram_secret *b)
{
    return a->iterations == b->iterations && a->salt_len == b->salt_len &&
           a->key_len == b->key_len && a->salt_len <= SCRAM_SALT_MAX &&
           a->key_len <= SCRAM_KEY_MAX && memcmp(a->salt, b->salt, a->salt_len) == 0 &&
           memcmp(a->stored_key, b->stored_key, a->key_len) == 0 &&
           memcmp(a->server_key, b->server_key, a->key_len) == 0;
}

/* Field by field, so padding bytes never decide. */
static bool record_equal(const struct userdb_record *a, const struct userdb_record *b)
{
    if (a->flags != b->flags || a->created != b->created || a->changed != b->changed ||
        strcmp(a->password_hash, b->password_hash) != 0 ||
        strcmp(a->networks, b->networks) != 0 || a->has_cram_md5 != b->has_cram_md5)
        return false;
    for (int h = SCRAM_SHA1; h <= SCRAM_SHA256; h++)
        if (a->has_scram[h] != b->has_scram[h] ||
            (a->has_scram[h] && !scram_equal(&a->scram[h], &b->scram[h])))
            return false;
    return !a->has_cram_md5 ||
           (memcmp(a->cram_md5.inner, b->cram_md5.inner, sizeof(a->cram_md5.inner)) == 0 &&
            memcmp(a->cram_md5.outer, b->cram_md5.outer, sizeof(a->cram_md5.outer)) == 0);
}

static void check_decoded(const struct userdb_record *r)
{
    if (memchr(r->password_hash, '\0', sizeof(r->password_hash)) == NULL ||
        memchr(r->networks, '\0', sizeof(r->networks)) == NULL)
        abort();
    for (int h = SCRAM_SHA1; h <= SCRAM_SHA256; h++)
        if (r->has_scram[h] &&
            (r->scram[h].salt_len == 0 || r->scram[h].salt_len > SCRAM_SALT_MAX ||
             r->scram[h].key_len != scram_key_len((enum scram_hash)h) ||
             r->scram[h].iterations == 0))
            abort();
    /* The full list, and a buffer too small for most lists: cut, never overrun. */
    char mechs[128], small[10];
    userdb_record_mechs(r, mechs, sizeof(mechs));
    userdb_record_mechs(r, small, sizeof(small));
    size_t n = strnlen(mechs, sizeof(mechs)), m = strnlen(small, sizeof(small));
    if (n == 0 || n == sizeof(mechs) || m == sizeof(small) || strncmp(mechs, small, m) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct userdb_record r, back;
    const char *why = NULL;
    if (!userdb_record_decode(data, size, &r, &why)) {
        if (why == NULL || why[0] == '\0')
            abort();
        userdb_record_wipe(&r);
        return 0;
    }
    check_decoded(&r);
    struct buf once, twice;
    buf_init(&once, USERDB_RECORD_MAX);
    buf_init(&twice, USERDB_RECORD_MAX);
    if (!userdb_record_encode(&r, &once) || once.len != size)
        abort();
    why = NULL;
    if (!userdb_record_decode((const uint8_t *)once.data, once.len, &back, &why))
        abort();
    if (!record_equal(&r, &back))
        abort();
    /* The encoding is canonical: the same record gives the same bytes. */
    if (!userdb_record_encode(&back, &twice) || twice.len != once.len ||
        memcmp(once.data, twice.data, once.len) != 0)
        abort();
    memset(once.data, 0, once.len);
    memset(twice.data, 0, twice.len);
    buf_free(&once);
    buf_free(&twice);
    userdb_record_wipe(&r);
    userdb_record_wipe(&back);
    return 0;
}
