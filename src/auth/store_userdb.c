/*
 * Credential store over the user database; see store_userdb.h for the
 * rules. Each call is one read transaction; secrets are copied out of the
 * record and the record is wiped before returning.
 */
#include "auth/store_userdb.h"

#include "auth/cram_md5.h"
#include "auth/mech.h"
#include "auth/password.h"
#include "auth/scram.h"
#include "auth/userdb.h"

#include "base/diag.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "policy/netlist.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct userdb_store {
    struct cred_store pub;
    struct userdb *db;
    uint8_t secret[USERDB_SECRET_LEN];
};

/* Looks a login name up; the record is valid when the result is CRED_OK. */
static enum cred_status lookup(struct userdb_store *s, const struct mech_request *req,
                               const char *user, struct userdb_record *rec,
                               char user_out[CRED_USER_MAX])
{
    const char *why;
    char err[USERDB_ERR_MAX];
    str_copy(user_out, CRED_USER_MAX, user);
    if (!userdb_key(user, req->realm, user_out, &why)) {
        str_copy(user_out, CRED_USER_MAX, user);
        return CRED_NO_USER;
    }
    switch (userdb_get(s->db, user_out, rec, err, sizeof(err))) {
    case USERDB_OK:
        return CRED_OK;
    case USERDB_NOT_FOUND:
        return CRED_NO_USER;
    default:
        log_warning("%s", err);
        return CRED_TEMPFAIL;
    }
}

/* May this user authenticate from the request's client? */
static enum cred_status check_allowed(const struct userdb_record *rec,
                                      const struct mech_request *req, const char *key)
{
    if (rec->flags & USERDB_DISABLED)
        return CRED_NOT_ALLOWED;
    if (rec->networks[0] == '\0')
        return CRED_OK;
    struct netaddr addr;
    if (req->client_addr == NULL || !netaddr_parse(req->client_addr, &addr))
        return CRED_NOT_ALLOWED;
    struct diag diag;
    diag_init(&diag);
    struct netlist *nl = netlist_compile(rec->networks, "allowed networks", key, &diag);
    enum match_result m = nl ? netlist_match(nl, &addr, NULL) : MATCH_ERROR;
    if (nl == NULL)
        log_warning("user database: allowed networks of %s: %s", key,
                    diag.count ? diag.entries[0].what : "invalid");
    netlist_free(nl);
    diag_free(&diag);
    if (m == MATCH_ERROR)
        return CRED_TEMPFAIL;
    return m == MATCH_YES ? CRED_OK : CRED_NOT_ALLOWED;
}

static enum cred_status verify_password(void *ctx, const struct mech_request *req,
                                        const char *user, const char *password,
                                        char user_out[CRED_USER_MAX])
{
    struct userdb_store *s = ctx;
    struct userdb_record rec;
    enum cred_status st = lookup(s, req, user, &rec, user_out);
    if (st != CRED_OK) {
        if (st != CRED_TEMPFAIL)
            password_verify_dummy(password);
        return st;
    }
    if (rec.password_hash[0] == '\0') {
        password_verify_dummy(password);
        st = CRED_NO_SECRET;
    } else if (!password_verify(password, rec.password_hash))
        st = CRED_BAD_PASSWORD;
    else
        st = check_allowed(&rec, req, user_out);
    userdb_record_wipe(&rec);
    return st;
}

/* A keyed pseudo-random value: HMAC-SHA256(secret, label NUL name). */
static void derive(const struct userdb_store *s, const char *label, const char *name,
                   uint8_t out[SCRAM_KEY_MAX])
{
    char msg[64 + CRED_USER_MAX];
    size_t ll = strlen(label), nl = strlen(name);
    memcpy(msg, label, ll + 1);
    memcpy(msg + ll + 1, name, nl);
    if (!scram_hmac(SCRAM_SHA256, s->secret, sizeof(s->secret), msg, ll + 1 + nl, out))
        memset(out, 0, SCRAM_KEY_MAX);
}

/* Fake SCRAM keys for a name that has none: stable per name, useless for login. */
static void fake_scram(const struct userdb_store *s, const char *name, enum scram_hash h,
                       struct scram_secret *out)
{
    uint8_t tmp[SCRAM_KEY_MAX];
    memset(out, 0, sizeof(*out));
    derive(s, h == SCRAM_SHA1 ? "scram-sha-1 salt" : "scram-sha-256 salt", name, tmp);
    memcpy(out->salt, tmp, SCRAM_SALT_LEN_DEFAULT);
    out->salt_len = SCRAM_SALT_LEN_DEFAULT;
    out->iterations = SCRAM_ITERATIONS_DEFAULT;
    out->key_len = scram_key_len(h);
    derive(s, "scram stored key", name, out->stored_key);
    derive(s, "scram server key", name, out->server_key);
}

static enum cred_status scram_secret(void *ctx, const struct mech_request *req,
                                     const char *user, enum scram_hash hash,
                                     struct scram_secret *out, char user_out[CRED_USER_MAX])
{
    struct userdb_store *s = ctx;
    struct userdb_record rec;
    enum cred_status st = lookup(s, req, user, &rec, user_out);
    if (st == CRED_TEMPFAIL)
        return st;
    if (st == CRED_OK && !rec.has_scram[hash])
        st = CRED_NO_SECRET;
    if (st != CRED_OK)
        fake_scram(s, user_out, hash, out);
    else {
        *out = rec.scram[hash];
        st = check_allowed(&rec, req, user_out);
    }
    userdb_record_wipe(&rec);
    return st;
}

static enum cred_status cram_md5_secret(void *ctx, const struct mech_request *req,
                                        const char *user, struct cram_md5_secret *out,
                                        char user_out[CRED_USER_MAX])
{
    struct userdb_store *s = ctx;
    struct userdb_record rec;
    enum cred_status st = lookup(s, req, user, &rec, user_out);
    if (st == CRED_TEMPFAIL)
        return st;
    if (st == CRED_OK && !rec.has_cram_md5)
        st = CRED_NO_SECRET;
    if (st != CRED_OK) {
        uint8_t tmp[SCRAM_KEY_MAX];
        derive(s, "cram-md5 state", user_out, tmp);
        cram_md5_secret_unpack(tmp, out);
        OPENSSL_cleanse(tmp, sizeof(tmp));
    } else {
        *out = rec.cram_md5;
        st = check_allowed(&rec, req, user_out);
    }
    userdb_record_wipe(&rec);
    return st;
}

struct cred_store *store_userdb_open(const char *path, char *err, size_t errlen)
{
    struct userdb *db = userdb_open(path, true, err, errlen);
    if (db == NULL)
        return NULL;
    struct userdb_store *s = xcalloc(1, sizeof(*s));
    s->db = db;
    userdb_secret(db, s->secret);
    s->pub.ctx = s;
    s->pub.name = "gatepost";
    s->pub.verify_password = verify_password;
    s->pub.scram_secret = scram_secret;
    s->pub.cram_md5_secret = cram_md5_secret;
    return &s->pub;
}

void store_userdb_close(struct cred_store *store)
{
    if (store == NULL)
        return;
    struct userdb_store *s = store->ctx;
    userdb_close(s->db);
    OPENSSL_cleanse(s->secret, sizeof(s->secret));
    free(s);
}
