/*
 * The user database: record codec (round trip, every kind of damage),
 * login-name rules, the LMDB file (created 0600, secret kept across
 * opens, wider modes refused), put/get/modify/delete/foreach, and the
 * parser for `db_dump -p` output of a Cyrus sasldb2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/scram.h"
#include "auth/userdb.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    password_set_cost(1);
    strcpy(dir, "/tmp/gp-userdb-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/users.lmdb", dir);
    return 0;
}

static int teardown(void **state)
{
    char lock[160];
    snprintf(lock, sizeof(lock), "%s-lock", path);
    unlink(path);
    unlink(lock);
    rmdir(dir);
    return 0;
}

static void make_record(struct userdb_record *r, unsigned flags)
{
    const char *why;
    memset(r, 0, sizeof(*r));
    r->flags = flags;
    r->created = 1700000000;
    assert_true(userdb_record_set_password(r, "correct horse", SCRAM_ITERATIONS_DEFAULT, &why));
    strcpy(r->networks, "192.0.2.0/24, [2001:db8::]/32");
}

static void record_round_trip(void **state)
{
    struct userdb_record r, back;
    const char *why;
    make_record(&r, USERDB_CRAM_MD5);
    assert_true(strncmp(r.password_hash, "$y$", 3) == 0);
    assert_true(r.has_scram[SCRAM_SHA1] && r.has_scram[SCRAM_SHA256] && r.has_cram_md5);
    assert_int_equal(r.scram[SCRAM_SHA256].salt_len, SCRAM_SALT_LEN_DEFAULT);
    assert_int_equal(r.scram[SCRAM_SHA256].iterations, 4096);
    struct buf b;
    buf_init(&b, USERDB_RECORD_MAX);
    assert_true(userdb_record_encode(&r, &b));
    assert_null(memmem(b.data, b.len, "correct horse", 13));   /* never in plain text */
    assert_true(userdb_record_decode((const uint8_t *)b.data, b.len, &back, &why));
    assert_memory_equal(&r, &back, sizeof(r));
    char mechs[128];
    userdb_record_mechs(&back, mechs, sizeof(mechs));
    assert_string_equal(mechs, "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256");
    /* Without CRAM-MD5 the state is not even computed. */
    make_record(&r, 0);
    assert_false(r.has_cram_md5);
    buf_reset(&b);
    assert_true(userdb_record_encode(&r, &b));
    assert_true(userdb_record_decode((const uint8_t *)b.data, b.len, &back, &why));
    assert_false(back.has_cram_md5);
    userdb_record_mechs(&back, mechs, sizeof(mechs));
    assert_string_equal(mechs, "PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256");
    buf_free(&b);
}

static void record_damage(void **state)
{
    struct userdb_record r, back;
    const char *why;
    make_record(&r, USERDB_CRAM_MD5);
    struct buf b;
    buf_init(&b, USERDB_RECORD_MAX);
    assert_true(userdb_record_encode(&r, &b));
    uint8_t *p = (uint8_t *)b.data;
    /* Every truncation is refused or decodes to a record missing nothing required. */
    for (size_t n = 0; n < b.len; n++)
        assert_false(userdb_record_decode(p, n, &back, &why) &&
                     memcmp(&back, &r, sizeof(r)) == 0);
    assert_false(userdb_record_decode(p, 0, &back, &why));
    p[0] = 2;
    assert_false(userdb_record_decode(p, b.len, &back, &why));
    assert_string_equal(why, "unknown record version");
    p[0] = 1;
    /* Unknown tag, repeated tag, bad lengths. */
    static const uint8_t unknown[] = { 1, 1, 0, 4, 0, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0,
                                       3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0 };
    assert_false(userdb_record_decode(unknown, sizeof(unknown), &back, &why));
    static const uint8_t minimal[] = { 1, 1, 0, 4, 0, 0, 0, 1, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5,
                                       3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 6 };
    assert_true(userdb_record_decode(minimal, sizeof(minimal), &back, &why));
    assert_int_equal(back.flags, USERDB_DISABLED);
    assert_int_equal(back.changed, 6);
    static const uint8_t repeated[] = { 1, 1, 0, 4, 0, 0, 0, 1, 1, 0, 4, 0, 0, 0, 1 };
    assert_false(userdb_record_decode(repeated, sizeof(repeated), &back, &why));
    static const uint8_t missing[] = { 1, 1, 0, 4, 0, 0, 0, 1 };
    assert_false(userdb_record_decode(missing, sizeof(missing), &back, &why));
    static const uint8_t short_int[] = { 1, 1, 0, 3, 0, 0, 1, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5,
                                         3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 6 };
    assert_false(userdb_record_decode(short_int, sizeof(short_int), &back, &why));
    static const uint8_t bad_cram[] = { 1, 1, 0, 4, 0, 0, 0, 1, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5,
                                        3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 6, 7, 0, 1, 0 };
    assert_false(userdb_record_decode(bad_cram, sizeof(bad_cram), &back, &why));
    static const uint8_t nul_text[] = { 1, 1, 0, 4, 0, 0, 0, 1, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5,
                                        3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 6, 8, 0, 2, 'a', 0 };
    assert_false(userdb_record_decode(nul_text, sizeof(nul_text), &back, &why));
    /* SCRAM: salt length 0, and a length that does not add up. */
    static const uint8_t bad_scram[] = { 1, 1, 0, 4, 0, 0, 0, 1, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5,
                                         3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 6, 5, 0, 5, 0, 0, 16, 0, 0 };
    assert_false(userdb_record_decode(bad_scram, sizeof(bad_scram), &back, &why));
    buf_free(&b);
}

static void key_rules(void **state)
{
    char key[CRED_USER_MAX];
    const char *why;
    assert_true(userdb_key("alice", "", key, &why));
    assert_string_equal(key, "alice");
    assert_true(userdb_key("alice", NULL, key, &why));
    assert_string_equal(key, "alice");
    assert_true(userdb_key("alice", "Example.ORG", key, &why));
    assert_string_equal(key, "alice@example.org");
    assert_true(userdb_key("Alice@Other.Example", "example.org", key, &why));
    assert_string_equal(key, "Alice@other.example");    /* user part keeps its case */
    assert_true(userdb_key("a@b@Example.org", "", key, &why));
    assert_string_equal(key, "a@b@example.org");
    assert_true(userdb_key("\xc3\xa9mile", "", key, &why));
    assert_false(userdb_key("", "x", key, &why));
    assert_false(userdb_key("@example.org", "", key, &why));
    assert_false(userdb_key("alice@", "", key, &why));
    assert_false(userdb_key("al\tice", "", key, &why));
    assert_false(userdb_key("al\x7f", "", key, &why));
    assert_false(userdb_key("al\xff", "", key, &why));
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(userdb_key(longname, "", key, &why));
    longname[250] = '\0';
    assert_false(userdb_key(longname, "example.org", key, &why));
    assert_true(userdb_key(longname, "", key, &why));
}

static bool count_each(const char *key, const struct userdb_record *r, void *arg)
{
    char *names = arg;
    strcat(names, key);
    strcat(names, ";");
    return true;
}

static enum userdb_status disable(struct userdb_record *r, bool exists, void *arg)
{
    if (!exists)
        return USERDB_NOT_FOUND;
    r->flags |= USERDB_DISABLED;
    return USERDB_OK;
}

static void database_round_trip(void **state)
{
    char err[USERDB_ERR_MAX];
    assert_null(userdb_open(path, false, err, sizeof(err)));
    assert_non_null(strstr(err, "gatepost user add"));
    struct userdb *db = userdb_open(path, true, err, sizeof(err));
    assert_non_null(db);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char lock[160];
    snprintf(lock, sizeof(lock), "%s-lock", path);
    assert_int_equal(stat(lock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    uint8_t secret[USERDB_SECRET_LEN], again[USERDB_SECRET_LEN], zero[USERDB_SECRET_LEN] = { 0 };
    userdb_secret(db, secret);
    assert_memory_not_equal(secret, zero, sizeof(zero));

    struct userdb_record r, back;
    make_record(&r, 0);
    assert_int_equal(userdb_put(db, "bob@example.org", &r, true, err, sizeof(err)), USERDB_OK);
    assert_int_equal(userdb_put(db, "bob@example.org", &r, true, err, sizeof(err)), USERDB_EXISTS);
    assert_int_equal(userdb_put(db, "alice@example.org", &r, true, err, sizeof(err)), USERDB_OK);
    assert_int_equal(userdb_get(db, "bob@example.org", &back, err, sizeof(err)), USERDB_OK);
    assert_memory_equal(&r, &back, sizeof(r));
    assert_int_equal(userdb_get(db, "carol@example.org", &back, err, sizeof(err)), USERDB_NOT_FOUND);
    assert_int_equal(userdb_get(db, "", &back, err, sizeof(err)), USERDB_NOT_FOUND);
    assert_int_equal(userdb_modify(db, "bob@example.org", disable, NULL, err, sizeof(err)), USERDB_OK);
    assert_int_equal(userdb_modify(db, "nobody", disable, NULL, err, sizeof(err)), USERDB_NOT_FOUND);
    assert_int_equal(userdb_get(db, "bob@example.org", &back, err, sizeof(err)), USERDB_OK);
    assert_true(back.flags & USERDB_DISABLED);
    char names[256] = "";
    assert_true(userdb_foreach(db, count_each, names, err, sizeof(err)));
    assert_string_equal(names, "alice@example.org;bob@example.org;");
    assert_int_equal(userdb_delete(db, "alice@example.org", err, sizeof(err)), USERDB_OK);
    assert_int_equal(userdb_delete(db, "alice@example.org", err, sizeof(err)), USERDB_NOT_FOUND);
    userdb_close(db);

    /* Reopened: the data and the secret are still there. */
    db = userdb_open(path, false, err, sizeof(err));
    assert_non_null(db);
    userdb_secret(db, again);
    assert_memory_equal(secret, again, sizeof(secret));
    names[0] = '\0';
    assert_true(userdb_foreach(db, count_each, names, err, sizeof(err)));
    assert_string_equal(names, "bob@example.org;");
    userdb_close(db);

    /* A file others may read is refused. */
    assert_int_equal(chmod(path, 0640), 0);
    assert_null(userdb_open(path, false, err, sizeof(err)));
    assert_non_null(strstr(err, "mode 0640"));
    assert_int_equal(chmod(path, 0600), 0);
    db = userdb_open(path, false, err, sizeof(err));
    assert_non_null(db);
    userdb_close(db);
}

struct seen {
    char text[1024];
};

static bool collect(const char *user, const char *realm, const char *property,
                    const uint8_t *value, size_t len, void *arg)
{
    struct seen *s = arg;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s|%s|%s|%.*s;", user, realm, property,
             (int)len, (const char *)value);
    return true;
}

static void sasldb_dump_parse(void **state)
{
    static const char dump[] =
        "VERSION=3\nformat=print\ntype=hash\nh_nelem=2\ndb_pagesize=4096\nHEADER=END\n"
        " alice\\00example.org\\00userPassword\n secret pw\n"
        " bob\\00other.test\\00userPassword\n back\\\\slash\\7e\n"
        " carol\\00\\00cmusaslsecretCRAM-MD5\n \\01\\02\n"
        "DATA=END\n";
    struct seen s = { "" };
    char err[256];
    assert_true(userdb_sasldb_parse(dump, sizeof(dump) - 1, collect, &s, err, sizeof(err)));
    assert_string_equal(s.text, "alice|example.org|userPassword|secret pw;"
                                "bob|other.test|userPassword|back\\slash~;"
                                "carol||cmusaslsecretCRAM-MD5|\x01\x02;");
    static const char *const bad[] = {
        "VERSION=3\nformat=bytevalue\nHEADER=END\nDATA=END\n",
        "VERSION=3\nformat=print\n",
        "format=print\nHEADER=END\n alice\\00r\\00userPassword\n pw\n",
        "format=print\nHEADER=END\n alice\\00r\\00userPassword\nDATA=END\n",
        "format=print\nHEADER=END\n alice\\00r\\00userPassword\n pw\\4\nDATA=END\n",
        "format=print\nHEADER=END\n alice\\00userPassword\n pw\nDATA=END\n",
        "format=print\nHEADER=END\n a\\00b\\00c\\00d\n pw\nDATA=END\n",
        "format=print\nHEADER=END\nalice\\00r\\00userPassword\n pw\nDATA=END\n",
        "format=print\n alice\nHEADER=END\nDATA=END\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct seen t = { "" };
        assert_false(userdb_sasldb_parse(bad[i], strlen(bad[i]), collect, &t, err, sizeof(err)));
        assert_true(err[0] != '\0');
    }
}

static bool stop_first(const char *user, const char *realm, const char *property,
                       const uint8_t *value, size_t len, void *arg)
{
    unsigned *calls = arg;
    (*calls)++;
    return false;
}

/* A stop by the callback leaves err empty, even on the last line of a dump without DATA=END. */
static void sasldb_dump_stop(void **state)
{
    static const char *const dumps[] = {
        "format=print\nHEADER=END\n alice\\00r\\00userPassword\n pw\n b\\00r\\00p\n v\nDATA=END\n",
        "format=print\nHEADER=END\n alice\\00r\\00userPassword\n pw\n",
        "format=print\nHEADER=END\n alice\\00r\\00userPassword\n pw",
    };
    for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
        unsigned calls = 0;
        char err[256] = "stale";
        assert_false(userdb_sasldb_parse(dumps[i], strlen(dumps[i]), stop_first, &calls, err,
                                         sizeof(err)));
        assert_int_equal(calls, 1);
        assert_string_equal(err, "");
    }
    /* Without the stop, the same truncated dump is an error. */
    struct seen s = { "" };
    char err[256];
    assert_false(userdb_sasldb_parse(dumps[1], strlen(dumps[1]), collect, &s, err, sizeof(err)));
    assert_string_equal(err, "sasldb dump has no DATA=END line");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_round_trip),
        cmocka_unit_test(record_damage),
        cmocka_unit_test(key_rules),
        cmocka_unit_test_setup_teardown(database_round_trip, setup, teardown),
        cmocka_unit_test(sasldb_dump_parse),
        cmocka_unit_test(sasldb_dump_stop),
    };
    password_set_cost(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
