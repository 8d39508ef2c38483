/*
 * OpenSSL glue for the SMTP server; see tls.h.
 *
 * Security choices: protocols default to TLS 1.2 and later (Postfix's
 * default still allows TLS 1.0); anonymous, export, NULL, MD5 and RC4
 * ciphers are never offered; the server's cipher order wins; renegotiation
 * is refused (it has been a DoS and injection vector); compression is off
 * (CRIME). Session tickets use the context's key, which every worker
 * inherits, so a client can resume with any worker.
 */
#include "net/tls.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "net/tls_io.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_server {
    SSL_CTX *ctx;
};

struct conn_tls {
    SSL *ssl;
    int last_want;
    bool established;
    bool library_failure;       /* the handshake failed inside OpenSSL */
};

/* ---- protocols ---- */

static const struct { const char *name; int version; } protocol_names[] = {
    { "SSLv2", 0 }, { "SSLv3", SSL3_VERSION }, { "TLSv1", TLS1_VERSION },
    { "TLSv1.1", TLS1_1_VERSION }, { "TLSv1.2", TLS1_2_VERSION },
    { "TLSv1.3", TLS1_3_VERSION },
};
#define NPROTOCOLS (sizeof(protocol_names) / sizeof(protocol_names[0]))

static int protocol_index(const char *name)
{
    for (size_t i = 0; i < NPROTOCOLS; i++)
        if (str_ieq(name, protocol_names[i].name))
            return (int)i;
    return -1;
}

/* OpenSSL's switch for each protocol, to cut holes in the enabled range. */
static unsigned long protocol_off_option(int idx)
{
    static const unsigned long off[NPROTOCOLS] = {
        0, SSL_OP_NO_SSLv3, SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1, SSL_OP_NO_TLSv1_2,
        SSL_OP_NO_TLSv1_3,
    };
    return off[idx];
}

/*
 * Postfix's forms: ">=TLSv1.2", "<=TLSv1.3", "!SSLv3" (excluded), or a
 * plain name (included). The enabled range spans the lowest to the highest
 * enabled protocol; a protocol excluded inside it ("!TLSv1.2" leaves
 * TLSv1, TLSv1.1 and TLSv1.3) is switched off on its own, as Postfix does,
 * so an excluded protocol is never negotiated.
 */
bool tls_parse_protocol_set(const char *text, int *min_version, int *max_version,
                            unsigned long *off_options, const char **why)
{
    bool enabled[NPROTOCOLS];
    bool any_plain = false;
    size_t n;
    char **items = str_list_split(text, STR_LIST_SEPARATORS ":", &n);
    for (size_t i = 0; i < n; i++)
        if (items[i][0] != '!' && items[i][0] != '>' && items[i][0] != '<')
            any_plain = true;
    for (size_t i = 0; i < NPROTOCOLS; i++)
        enabled[i] = !any_plain && i >= 2;     /* SSLv2/SSLv3 never */
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const char *item = items[i];
        int lo = 0, hi = (int)NPROTOCOLS - 1, idx;
        if (item[0] == '>' && item[1] == '=') {
            idx = protocol_index(item + 2);
            lo = idx;
        } else if (item[0] == '<' && item[1] == '=') {
            idx = protocol_index(item + 2);
            hi = idx;
        } else if (item[0] == '!') {
            idx = protocol_index(item + 1);
            if (idx >= 0)
                enabled[idx] = false;
            lo = 1;
            hi = 0;     /* nothing more to do */
        } else {
            idx = protocol_index(item);
            if (idx >= 0)
                enabled[idx] = true;
            lo = 1;
            hi = 0;
        }
        if (idx < 0) {
            *why = "unknown TLS protocol name";
            ok = false;
            break;
        }
        for (int k = 0; k < (int)NPROTOCOLS; k++)
            if (lo <= hi && (k < lo || k > hi))
                enabled[k] = false;
    }
    free(items);
    if (!ok)
        return false;
    int first = -1, last = -1;
    for (int k = 2; k < (int)NPROTOCOLS; k++)   /* SSLv2/v3 cannot be enabled */
        if (enabled[k]) {
            if (first < 0)
                first = k;
            last = k;
        }
    if (first < 0) {
        *why = "no TLS protocol left enabled";
        return false;
    }
    *min_version = protocol_names[first].version;
    *max_version = protocol_names[last].version;
    *off_options = 0;
    for (int k = first; k <= last; k++)
        if (!enabled[k])
            *off_options |= protocol_off_option(k);
    return true;
}

bool tls_parse_protocols(const char *text, int *min_version, int *max_version,
                         const char **why)
{
    unsigned long off;
    return tls_parse_protocol_set(text, min_version, max_version, &off, why);
}

/* ---- ciphers ---- */

/* TLS 1.2 cipher lists by Postfix grade; TLS 1.3 suites are always strong. */
static const char *cipher_list_for(const char *grade)
{
    if (str_ieq(grade, "high"))
        return "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:@STRENGTH";
    return "HIGH:MEDIUM:!aNULL:!eNULL:!MD5:!RC4:!3DES:!EXPORT:@STRENGTH";
}

static bool set_ciphers(SSL_CTX *ctx, const char *grade, const char *exclude,
                        const char *where, struct diag *diag)
{
    char list[1024];
    snprintf(list, sizeof(list), "%s", cipher_list_for(grade));
    size_t n;
    char **items = str_list_split(exclude, STR_LIST_SEPARATORS ":", &n);
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof(list) - used, ":!%s", items[i]);
    }
    free(items);
    if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
        diag_add(diag, DIAG_ERROR, where, "bad cipher settings \"%s\"", list);
        return false;
    }
    return true;
}

/* ---- certificates ---- */

static void ssl_error_text(char *out, size_t size)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        snprintf(out, size, "%s", errno ? strerror(errno) : "unknown error");
    else
        ERR_error_string_n(e, out, size);
    ERR_clear_error();
}

static bool load_pair(SSL_CTX *ctx, const char *cert, const char *key, const char *where,
                      struct diag *diag)
{
    char err[256];
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_error_text(err, sizeof(err));
        diag_add(diag, DIAG_ERROR, where, "cannot load certificate chain from %s: %s", cert, err);
        return false;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_error_text(err, sizeof(err));
        diag_add(diag, DIAG_ERROR, where, "cannot load private key from %s: %s", key, err);
        return false;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        diag_add(diag, DIAG_ERROR, where, "private key %s does not match certificate %s",
                 key, cert);
        return false;
    }
    return true;
}

/*
 * smtpd_tls_chain_files, with Postfix's meaning: the files are read as if
 * concatenated in the order given, and the PEM objects must run key1,
 * cert1, [chain1], key2, cert2, [chain2], ... (one key per algorithm). A
 * key may sit in its own file just before the file holding its chain.
 * Other PEM objects (EC PARAMETERS) are skipped.
 */
struct chain_loader {
    SSL_CTX *ctx;
    EVP_PKEY *key;
    X509 *leaf;
    STACK_OF(X509) *chain;
    const char *where;
    struct diag *diag;
};

static void chain_loader_clear(struct chain_loader *cl)
{
    EVP_PKEY_free(cl->key);
    X509_free(cl->leaf);
    sk_X509_pop_free(cl->chain, X509_free);
    cl->key = NULL;
    cl->leaf = NULL;
    cl->chain = NULL;
}

/* Installs the pending key and chain (if any); false on a mismatch. */
static bool chain_loader_install(struct chain_loader *cl, const char *file)
{
    bool ok = true;
    if (cl->key && cl->leaf == NULL) {
        diag_add(cl->diag, DIAG_ERROR, cl->where,
                 "smtpd_tls_chain_files: private key without a certificate (ends in %s)", file);
        ok = false;
    } else if (cl->key && SSL_CTX_use_cert_and_key(cl->ctx, cl->leaf, cl->key, cl->chain, 1) != 1) {
        char err[256];
        ssl_error_text(err, sizeof(err));
        diag_add(cl->diag, DIAG_ERROR, cl->where,
                 "smtpd_tls_chain_files: cannot use key and certificate from %s: %s", file, err);
        ok = false;
    }
    chain_loader_clear(cl);
    return ok;
}

static bool chain_loader_object(struct chain_loader *cl, const char *file, const char *name,
                                const unsigned char *data, long len)
{
    const unsigned char *p = data;
    if (strstr(name, "PRIVATE KEY") != NULL) {
        if (!chain_loader_install(cl, file))
            return false;
        cl->key = d2i_AutoPrivateKey(NULL, &p, len);
        if (cl->key == NULL) {
            diag_add(cl->diag, DIAG_ERROR, cl->where,
                     "smtpd_tls_chain_files: cannot decode the private key in %s", file);
            return false;
        }
        return true;
    }
    if (strcmp(name, "CERTIFICATE") != 0 && strcmp(name, "X509 CERTIFICATE") != 0 &&
        strcmp(name, "TRUSTED CERTIFICATE") != 0)
        return true;
    if (cl->key == NULL) {
        diag_add(cl->diag, DIAG_ERROR, cl->where, "smtpd_tls_chain_files: certificate in %s "
                 "is not preceded by its private key", file);
        return false;
    }
    X509 *cert = strcmp(name, "TRUSTED CERTIFICATE") == 0 ? d2i_X509_AUX(NULL, &p, len)
                                                          : d2i_X509(NULL, &p, len);
    if (cert == NULL) {
        diag_add(cl->diag, DIAG_ERROR, cl->where,
                 "smtpd_tls_chain_files: cannot decode a certificate in %s", file);
        return false;
    }
    if (cl->leaf == NULL) {
        cl->leaf = cert;
        return true;
    }
    if (cl->chain == NULL)
        cl->chain = sk_X509_new_null();
    if (cl->chain == NULL || !sk_X509_push(cl->chain, cert)) {
        X509_free(cert);
        diag_add(cl->diag, DIAG_ERROR, cl->where, "smtpd_tls_chain_files: out of memory");
        return false;
    }
    return true;
}

static bool chain_loader_file(struct chain_loader *cl, const char *file)
{
    BIO *bio = BIO_new_file(file, "r");
    if (bio == NULL) {
        char err[256];
        ssl_error_text(err, sizeof(err));
        diag_add(cl->diag, DIAG_ERROR, cl->where, "cannot open %s: %s", file, err);
        return false;
    }
    bool ok = true;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        if (PEM_read_bio(bio, &name, &header, &data, &len) != 1) {
            unsigned long e = ERR_peek_last_error();
            ERR_clear_error();
            if (ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
                diag_add(cl->diag, DIAG_ERROR, cl->where, "cannot read PEM data from %s", file);
                ok = false;
            }
            break;
        }
        ok = chain_loader_object(cl, file, name, data, len);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (!ok)
            break;
    }
    BIO_free(bio);
    return ok;
}

static bool load_chain_files(SSL_CTX *ctx, const char *files, const char *where,
                             struct diag *diag)
{
    size_t n;
    char **items = str_list_split(files, STR_LIST_SEPARATORS, &n);
    struct chain_loader cl = { .ctx = ctx, .where = where, .diag = diag };
    bool ok = n > 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = chain_loader_file(&cl, items[i]);
    if (ok && cl.key == NULL && SSL_CTX_get0_certificate(ctx) == NULL) {
        diag_add(diag, DIAG_ERROR, where, "smtpd_tls_chain_files: no private key found");
        ok = false;
    }
    if (ok)
        ok = chain_loader_install(&cl, n > 0 ? items[n - 1] : "");
    chain_loader_clear(&cl);
    free(items);
    return ok;
}

static enum tls_level level_of(const struct config *cfg)
{
    const char *level = cfg_str(cfg, P_SMTPD_TLS_SECURITY_LEVEL);
    if (level[0] == '\0') {
        if (cfg_bool(cfg, P_SMTPD_ENFORCE_TLS))
            return TLS_LEVEL_ENCRYPT;
        return cfg_bool(cfg, P_SMTPD_USE_TLS) ? TLS_LEVEL_MAY : TLS_LEVEL_NONE;
    }
    if (str_ieq(level, "encrypt"))
        return TLS_LEVEL_ENCRYPT;
    if (str_ieq(level, "may"))
        return TLS_LEVEL_MAY;
    return TLS_LEVEL_NONE;
}

static bool check_level_value(const struct config *cfg, struct diag *diag)
{
    const char *level = cfg_str(cfg, P_SMTPD_TLS_SECURITY_LEVEL);
    if (level[0] == '\0' || str_ieq(level, "none") || str_ieq(level, "may") ||
        str_ieq(level, "encrypt"))
        return true;
    diag_add(diag, DIAG_ERROR, cfg_origin(cfg, P_SMTPD_TLS_SECURITY_LEVEL),
             "bad smtpd_tls_security_level value \"%s\" (none, may or encrypt)", level);
    return false;
}

static SSL_CTX *new_context(const struct config *cfg, enum tls_level level, struct diag *diag)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_SSLv3);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    bool mandatory = level == TLS_LEVEL_ENCRYPT;
    enum param_id proto_id = mandatory ? P_SMTPD_TLS_MANDATORY_PROTOCOLS : P_SMTPD_TLS_PROTOCOLS;
    int min = 0, max = 0;
    unsigned long off = 0;
    const char *why = NULL;
    if (!tls_parse_protocol_set(cfg_str(cfg, proto_id), &min, &max, &off, &why)) {
        diag_add(diag, DIAG_ERROR, cfg_origin(cfg, proto_id), "%s: %s: \"%s\"",
                 param_name(proto_id), why, cfg_str(cfg, proto_id));
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, min);
    SSL_CTX_set_max_proto_version(ctx, max);
    SSL_CTX_set_options(ctx, off);
    enum param_id cipher_id = mandatory ? P_SMTPD_TLS_MANDATORY_CIPHERS : P_SMTPD_TLS_CIPHERS;
    if (!set_ciphers(ctx, cfg_str(cfg, cipher_id), cfg_str(cfg, P_SMTPD_TLS_EXCLUDE_CIPHERS),
                     cfg_origin(cfg, cipher_id), diag)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* One session id context for every worker, so tickets resume anywhere. */
    static const unsigned char sid_ctx[] = "gatepost-smtpd";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    return ctx;
}

struct tls_server *tls_server_new(const struct config *cfg, enum tls_level *level,
                                  struct diag *diag)
{
    *level = TLS_LEVEL_NONE;
    if (!check_level_value(cfg, diag))
        return NULL;
    enum tls_level want = level_of(cfg);
    bool wrapper = cfg_bool(cfg, P_SMTPD_TLS_WRAPPERMODE);
    if (wrapper && want != TLS_LEVEL_ENCRYPT)
        want = TLS_LEVEL_ENCRYPT;
    const char *chain = cfg_str(cfg, P_SMTPD_TLS_CHAIN_FILES);
    const char *cert = cfg_str(cfg, P_SMTPD_TLS_CERT_FILE);
    const char *key = cfg_str(cfg, P_SMTPD_TLS_KEY_FILE);
    if (want == TLS_LEVEL_NONE)
        return NULL;
    if (chain[0] == '\0' && cert[0] == '\0') {
        const char *where = cfg_origin(cfg, P_SMTPD_TLS_SECURITY_LEVEL);
        if (want == TLS_LEVEL_ENCRYPT) {
            diag_add(diag, DIAG_ERROR, where, "TLS is required (%s) but neither "
                     "smtpd_tls_chain_files nor smtpd_tls_cert_file is set",
                     wrapper ? "smtpd_tls_wrappermode = yes" : "smtpd_tls_security_level = encrypt");
        } else {
            diag_add(diag, DIAG_WARNING, where, "smtpd_tls_security_level = may but no "
                     "certificate is configured: STARTTLS is not offered");
        }
        return NULL;
    }
    SSL_CTX *ctx = new_context(cfg, want, diag);
    if (ctx == NULL)
        return NULL;
    bool ok = chain[0] ? load_chain_files(ctx, chain, cfg_origin(cfg, P_SMTPD_TLS_CHAIN_FILES), diag)
                       : load_pair(ctx, cert, key[0] ? key : cert,
                                   cfg_origin(cfg, P_SMTPD_TLS_CERT_FILE), diag);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    struct tls_server *ts = xcalloc(1, sizeof(*ts));
    ts->ctx = ctx;
    *level = want;
    return ts;
}

void tls_server_free(struct tls_server *ts)
{
    if (ts == NULL)
        return;
    SSL_CTX_free(ts->ctx);
    free(ts);
}

/* ---- connections ---- */

bool conn_tls_start(struct conn *c, struct tls_server *ts)
{
    SSL *ssl = SSL_new(ts->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        return false;
    }
    SSL_set_accept_state(ssl);
    c->tls = xcalloc(1, sizeof(*c->tls));
    c->tls->ssl = ssl;
    return true;
}

/*
 * The reason, as Postfix's tls_print_errors() words it for the library's
 * own errors ("error:0A00009C:SSL routines::http request:FILE:LINE:"), or
 * the system's. Runs on the thread that ran the step: the error queue is
 * per thread.
 */
static void handshake_error(struct conn_tls *t, int ret, char *err, size_t errlen)
{
    int e = SSL_get_error(t->ssl, ret);
    const char *file = NULL, *data = NULL;
    int line = 0, flags = 0;
    unsigned long code = ERR_get_error_all(&file, &line, NULL, &data, &flags);
    t->library_failure = false;
    if (code != 0 && e != SSL_ERROR_ZERO_RETURN) {
        char text[256];
        ERR_error_string_n(code, text, sizeof(text));
        if ((flags & ERR_TXT_STRING) && data && data[0])
            snprintf(err, errlen, "%s:%s:%d:%s:", text, file ? file : "", line, data);
        else
            snprintf(err, errlen, "%s:%s:%d:", text, file ? file : "", line);
        t->library_failure = true;
    } else if (e == SSL_ERROR_SYSCALL && ret != 0 && errno != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
    } else {
        snprintf(err, errlen, "lost connection");
    }
    ERR_clear_error();
}

bool conn_tls_library_failure(const struct conn *c)
{
    return c->tls && c->tls->library_failure;
}

enum tls_step conn_tls_handshake(struct conn *c, char *err, size_t errlen)
{
    SSL *ssl = c->tls->ssl;
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl);
    if (ret == 1) {
        c->tls->established = true;
        return TLS_STEP_DONE;
    }
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return TLS_STEP_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_STEP_WANT_WRITE;
    default:
        handshake_error(c->tls, ret, err, errlen);
        return TLS_STEP_FAILED;
    }
}

static ssize_t map_io_result(struct conn *c, int ret)
{
    SSL *ssl = c->tls->ssl;
    int e = SSL_get_error(ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        c->tls->last_want = CONN_WANT_READ;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        c->tls->last_want = CONN_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        ERR_clear_error();
        errno = EPIPE;
        return -1;
    }
}

ssize_t conn_tls_read(struct conn *c, void *p, size_t n)
{
    ERR_clear_error();
    int ret = SSL_read(c->tls->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (ret > 0)
        return ret;
    ssize_t r = map_io_result(c, ret);
    if (r < 0 && errno == EPIPE)
        return 0;       /* a broken TLS stream ends the session like EOF */
    return r;
}

ssize_t conn_tls_write(struct conn *c, const void *p, size_t n)
{
    ERR_clear_error();
    int ret = SSL_write(c->tls->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (ret > 0)
        return ret;
    return map_io_result(c, ret);
}

int conn_tls_last_want(const struct conn *c)
{
    return c->tls->last_want;
}

bool conn_tls_established(const struct conn *c)
{
    return c->tls && c->tls->established;
}

void conn_tls_close(struct conn *c)
{
    if (c->tls->established)
        SSL_shutdown(c->tls->ssl);     /* best effort close_notify; never waits */
    SSL_free(c->tls->ssl);
    free(c->tls);
    c->tls = NULL;
}

/* ---- what was negotiated ---- */

static void name_of_nid(int nid, char *out, size_t size)
{
    const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
    snprintf(out, size, "%s", sn ? sn : "");
}

void conn_tls_info(const struct conn *c, struct tls_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!conn_tls_established(c))
        return;
    SSL *ssl = c->tls->ssl;
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    snprintf(out->protocol, sizeof(out->protocol), "%s", SSL_get_version(ssl));
    snprintf(out->cipher, sizeof(out->cipher), "%s", cipher ? SSL_CIPHER_get_name(cipher) : "");
    out->cipher_bits = cipher ? SSL_CIPHER_get_bits(cipher, &out->cipher_alg_bits) : 0;
    int group = SSL_get_negotiated_group(ssl);
    if (group > 0)
        name_of_nid(group, out->key_exchange, sizeof(out->key_exchange));
    int sig = NID_undef, md = NID_undef;
    if (SSL_get_signature_type_nid(ssl, &sig) == 1) {
        if (sig == EVP_PKEY_RSA_PSS)
            snprintf(out->signature, sizeof(out->signature), "RSA-PSS");
        else if (sig == EVP_PKEY_EC)
            snprintf(out->signature, sizeof(out->signature), "ECDSA");
        else
            name_of_nid(sig, out->signature, sizeof(out->signature));
    }
    EVP_PKEY *key = SSL_get_privatekey(ssl);
    out->signature_bits = key ? EVP_PKEY_get_bits(key) : 0;
    if (SSL_get_signature_nid(ssl, &md) == 1)
        name_of_nid(md, out->digest, sizeof(out->digest));
}

void tls_info_format_folded(const struct tls_info *info, const char *fold, char *out,
                            size_t size)
{
    int n = snprintf(out, size, "%s with cipher %s (%d/%d bits)", info->protocol, info->cipher,
                     info->cipher_bits, info->cipher_alg_bits);
    if (n < 0 || (size_t)n >= size)
        return;
    size_t used = (size_t)n;
    if (info->key_exchange[0])
        used += (size_t)snprintf(out + used, size - used, "%skey-exchange %s", fold,
                                 info->key_exchange);
    if (used < size && info->signature[0])
        used += (size_t)snprintf(out + used, size - used, " server-signature %s (%d bits)",
                                 info->signature, info->signature_bits);
    if (used < size && info->digest[0])
        snprintf(out + used, size - used, " server-digest %s", info->digest);
}

void tls_info_format(const struct tls_info *info, char *out, size_t size)
{
    tls_info_format_folded(info, " ", out, size);
}
