/*
 * The user database over LMDB; the layout and record format are in
 * userdb.h. Every call is one short transaction (read transactions for
 * lookups, so many threads and processes read at once; LMDB serialises
 * writers). The file must belong to the user opening it and be closed to
 * everyone else: it holds password hashes and, for CRAM-MD5 users,
 * password-equivalent state, so a wider mode is refused, not repaired.
 */
#include "auth/userdb.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <lmdb.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USERDB_MAP_SIZE ((size_t)256 << 20)     /* room for about 500,000 users */
#define USERDB_FORMAT "1"

struct userdb {
    MDB_env *env;
    MDB_dbi users, meta;
    char *path;
    uint8_t secret[USERDB_SECRET_LEN];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static MDB_val val_of(const void *p, size_t n)
{
    MDB_val v = { .mv_size = n, .mv_data = (void *)p };
    return v;
}

/* Refuses a file that others may read or write, or that someone else owns. */
static bool check_file_mode(struct userdb *db, char *err, size_t errlen)
{
    int fd = -1;
    struct stat st;
    if (mdb_env_get_fd(db->env, &fd) != 0 || fstat(fd, &st) != 0) {
        set_err(err, errlen, "user database %s: cannot stat: %s", db->path, strerror(errno));
        return false;
    }
    if (st.st_uid != geteuid()) {
        set_err(err, errlen, "user database %s belongs to uid %u, not to uid %u", db->path,
                (unsigned)st.st_uid, (unsigned)geteuid());
        return false;
    }
    if ((st.st_mode & 077) != 0) {
        set_err(err, errlen, "user database %s is open to other users (mode %04o); "
                "it must be mode 0600", db->path, (unsigned)(st.st_mode & 07777));
        return false;
    }
    return true;
}

/* Opens both named databases and loads (or makes) the secret. */
static bool init_meta(struct userdb *db, char *err, size_t errlen)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "users", MDB_CREATE, &db->users);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &db->meta);
    MDB_val key = val_of("secret", 6), val, fkey = val_of("format", 6), fval;
    if (rc == 0 && (rc = mdb_get(txn, db->meta, &fkey, &fval)) == MDB_NOTFOUND) {
        fval = val_of(USERDB_FORMAT, 1);
        rc = mdb_put(txn, db->meta, &fkey, &fval, 0);
    }
    if (rc == 0 && (fval.mv_size != 1 || memcmp(fval.mv_data, USERDB_FORMAT, 1) != 0)) {
        mdb_txn_abort(txn);
        set_err(err, errlen, "user database %s has an unsupported format", db->path);
        return false;
    }
    if (rc == 0 && (rc = mdb_get(txn, db->meta, &key, &val)) == MDB_NOTFOUND) {
        if (RAND_bytes(db->secret, sizeof(db->secret)) != 1) {
            mdb_txn_abort(txn);
            set_err(err, errlen, "user database %s: no random bytes for its secret", db->path);
            return false;
        }
        val = val_of(db->secret, sizeof(db->secret));
        rc = mdb_put(txn, db->meta, &key, &val, 0);
    }
    if (rc == 0 && val.mv_size != USERDB_SECRET_LEN)
        rc = MDB_CORRUPTED;
    if (rc == 0)
        memcpy(db->secret, val.mv_data, USERDB_SECRET_LEN);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc != 0)
        set_err(err, errlen, "user database %s: %s", db->path, mdb_strerror(rc));
    return rc == 0;
}

struct userdb *userdb_open(const char *path, bool create, char *err, size_t errlen)
{
    struct stat st;
    if (!create && stat(path, &st) != 0) {
        set_err(err, errlen, errno == ENOENT
                    ? "no user database at %s (add a user with \"gatepost user add\")"
                    : "user database %s: %s", path, strerror(errno));
        return NULL;
    }
    struct userdb *db = xcalloc(1, sizeof(*db));
    db->path = xstrdup(path);
    int rc = mdb_env_create(&db->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(db->env, 2);
    if (rc == 0)
        rc = mdb_env_set_mapsize(db->env, USERDB_MAP_SIZE);
    if (rc == 0)
        rc = mdb_env_open(db->env, path, MDB_NOSUBDIR, 0600);
    if (rc != 0) {
        set_err(err, errlen, "user database %s: %s", path, mdb_strerror(rc));
        userdb_close(db);
        return NULL;
    }
    int dead;
    mdb_reader_check(db->env, &dead);
    if (!check_file_mode(db, err, errlen) || !init_meta(db, err, errlen)) {
        userdb_close(db);
        return NULL;
    }
    return db;
}

void userdb_close(struct userdb *db)
{
    if (db == NULL)
        return;
    if (db->env)
        mdb_env_close(db->env);
    OPENSSL_cleanse(db->secret, sizeof(db->secret));
    free(db->path);
    free(db);
}

const char *userdb_path(const struct userdb *db)
{
    return db->path;
}

void userdb_secret(const struct userdb *db, uint8_t out[USERDB_SECRET_LEN])
{
    memcpy(out, db->secret, USERDB_SECRET_LEN);
}

/* Decodes a stored value; a bad record is reported with its key. */
static enum userdb_status decode_val(const char *key, const MDB_val *v, struct userdb_record *out,
                                     char *err, size_t errlen)
{
    const char *why;
    if (!userdb_record_decode(v->mv_data, v->mv_size, out, &why)) {
        set_err(err, errlen, "user database: record of %s is damaged: %s", key, why);
        userdb_record_wipe(out);
        return USERDB_ERROR;
    }
    return USERDB_OK;
}

enum userdb_status userdb_get(struct userdb *db, const char *key, struct userdb_record *out,
                              char *err, size_t errlen)
{
    MDB_txn *txn;
    MDB_val k = val_of(key, strlen(key)), v;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        set_err(err, errlen, "user database %s: %s", db->path, mdb_strerror(rc));
        return USERDB_ERROR;
    }
    enum userdb_status st;
    rc = k.mv_size == 0 ? MDB_NOTFOUND : mdb_get(txn, db->users, &k, &v);
    if (rc == MDB_NOTFOUND)
        st = USERDB_NOT_FOUND;
    else if (rc != 0) {
        set_err(err, errlen, "user database %s: %s", db->path, mdb_strerror(rc));
        st = USERDB_ERROR;
    } else
        st = decode_val(key, &v, out, err, errlen);
    mdb_txn_abort(txn);
    return st;
}

/* Encodes r and stores it under k inside txn. */
static int put_record(struct userdb *db, MDB_txn *txn, MDB_val *k, const struct userdb_record *r,
                      unsigned flags)
{
    struct buf b;
    buf_init(&b, USERDB_RECORD_MAX);
    int rc = EINVAL;
    if (userdb_record_encode(r, &b)) {
        MDB_val v = val_of(b.data, b.len);
        rc = mdb_put(txn, db->users, k, &v, flags);
    }
    if (b.data)
        OPENSSL_cleanse(b.data, b.cap);
    buf_free(&b);
    return rc;
}

enum userdb_status userdb_put(struct userdb *db, const char *key, const struct userdb_record *r,
                              bool only_new, char *err, size_t errlen)
{
    MDB_txn *txn;
    MDB_val k = val_of(key, strlen(key));
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc == 0) {
        rc = put_record(db, txn, &k, r, only_new ? MDB_NOOVERWRITE : 0);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    if (rc == MDB_KEYEXIST)
        return USERDB_EXISTS;
    if (rc != 0) {
        set_err(err, errlen, "user database %s: storing %s: %s", db->path, key, mdb_strerror(rc));
        return USERDB_ERROR;
    }
    return USERDB_OK;
}

enum userdb_status userdb_delete(struct userdb *db, const char *key, char *err, size_t errlen)
{
    MDB_txn *txn;
    MDB_val k = val_of(key, strlen(key));
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc == 0) {
        rc = mdb_del(txn, db->users, &k, NULL);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    if (rc == MDB_NOTFOUND)
        return USERDB_NOT_FOUND;
    if (rc != 0) {
        set_err(err, errlen, "user database %s: deleting %s: %s", db->path, key, mdb_strerror(rc));
        return USERDB_ERROR;
    }
    return USERDB_OK;
}

enum userdb_status userdb_modify(struct userdb *db, const char *key, userdb_modify_fn fn,
                                 void *arg, char *err, size_t errlen)
{
    MDB_txn *txn;
    MDB_val k = val_of(key, strlen(key)), v;
    struct userdb_record r;
    memset(&r, 0, sizeof(r));
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc != 0) {
        set_err(err, errlen, "user database %s: %s", db->path, mdb_strerror(rc));
        return USERDB_ERROR;
    }
    rc = mdb_get(txn, db->users, &k, &v);
    enum userdb_status st = USERDB_OK;
    if (rc == 0)
        st = decode_val(key, &v, &r, err, errlen);
    else if (rc != MDB_NOTFOUND) {
        set_err(err, errlen, "user database %s: %s", db->path, mdb_strerror(rc));
        st = USERDB_ERROR;
    }
    if (st == USERDB_OK)
        st = fn(&r, rc == 0, arg);
    if (st != USERDB_OK) {
        mdb_txn_abort(txn);
        userdb_record_wipe(&r);
        return st;
    }
    rc = put_record(db, txn, &k, &r, 0);
    if (rc == 0)
        rc = mdb_txn_commit(txn);      /* frees the transaction even when it fails */
    else
        mdb_txn_abort(txn);
    userdb_record_wipe(&r);
    if (rc != 0) {
        set_err(err, errlen, "user database %s: storing %s: %s", db->path, key, mdb_strerror(rc));
        return USERDB_ERROR;
    }
    return USERDB_OK;
}

bool userdb_foreach(struct userdb *db, userdb_each_fn fn, void *arg, char *err, size_t errlen)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc == 0 && (rc = mdb_cursor_open(txn, db->users, &cur)) != 0)
        mdb_txn_abort(txn);
    if (rc != 0) {
        set_err(err, errlen, "user database %s: %s", db->path, mdb_strerror(rc));
        return false;
    }
    bool ok = true;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && ok;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char key[CRED_USER_MAX];
        struct userdb_record r;
        if (k.mv_size == 0 || k.mv_size >= sizeof(key) || memchr(k.mv_data, 0, k.mv_size)) {
            set_err(err, errlen, "user database %s: malformed key", db->path);
            ok = false;
            break;
        }
        memcpy(key, k.mv_data, k.mv_size);
        key[k.mv_size] = '\0';
        if (decode_val(key, &v, &r, err, errlen) != USERDB_OK) {
            ok = false;
            break;
        }
        bool more = fn(key, &r, arg);
        userdb_record_wipe(&r);
        if (!more)
            break;
    }
    if (ok && rc != 0 && rc != MDB_NOTFOUND) {
        set_err(err, errlen, "user database %s: %s", db->path, mdb_strerror(rc));
        ok = false;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return ok;
}
