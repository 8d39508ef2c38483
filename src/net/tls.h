/*
 * TLS for the SMTP server, below the connection (net/conn.h): one
 * tls_server per master.cf service holds the OpenSSL context built from
 * that service's smtpd_tls_* settings (certificates, protocols, ciphers);
 * a connection switches to TLS with conn_tls_start and completes the
 * handshake in steps, each of which may run on a pool thread so that the
 * key exchange never stalls the event loop.
 *
 * The context is built by the supervisor while it is still root (the
 * private key file is usually root-only) and inherited by the workers;
 * a reload (SIGHUP) builds new contexts, which is how new certificates take
 * effect.
 *
 * Defaults are modern: TLS 1.2 and later, no anonymous or export ciphers,
 * server cipher preference, no renegotiation, no compression.
 */
#ifndef GATEPOST_NET_TLS_H
#define GATEPOST_NET_TLS_H

#include "base/diag.h"
#include "config/config.h"
#include "net/conn.h"

#include <stdbool.h>
#include <stddef.h>

enum tls_level { TLS_LEVEL_NONE, TLS_LEVEL_MAY, TLS_LEVEL_ENCRYPT };

struct tls_server;

/*
 * Builds the service's TLS settings. Returns NULL with nothing in diag when
 * TLS is off (level none, or no certificate with level may: a warning);
 * NULL with an error in diag when the configuration is broken (bad files,
 * bad protocol list, level encrypt or wrapper mode without a certificate).
 * *level gets the effective smtpd_tls_security_level.
 */
struct tls_server *tls_server_new(const struct config *cfg, enum tls_level *level,
                                  struct diag *diag);
void tls_server_free(struct tls_server *ts);

/* Parses Postfix's protocol syntax (">=TLSv1.2", "!SSLv3, !TLSv1", "TLSv1.3"). */
bool tls_parse_protocols(const char *text, int *min_version, int *max_version,
                         const char **why);
/*
 * The same, plus the SSL_OP_NO_* options for protocols excluded inside the
 * [min, max] range ("!TLSv1.2" leaves TLSv1.1 and TLSv1.3 but not 1.2).
 */
bool tls_parse_protocol_set(const char *text, int *min_version, int *max_version,
                            unsigned long *off_options, const char **why);

/* Puts the connection into TLS server mode; the handshake follows. */
bool conn_tls_start(struct conn *c, struct tls_server *ts);

enum tls_step { TLS_STEP_DONE, TLS_STEP_WANT_READ, TLS_STEP_WANT_WRITE, TLS_STEP_FAILED };

/*
 * Advances the handshake (safe on any thread, one thread at a time). On
 * failure, err gets the reason in Postfix's style for the log.
 */
enum tls_step conn_tls_handshake(struct conn *c, char *err, size_t errlen);
/* After TLS_STEP_FAILED: true if OpenSSL refused (err holds its error), false
   if the connection was lost (err says how). */
bool conn_tls_library_failure(const struct conn *c);

/* What was negotiated, for the log and the Received: header. */
struct tls_info {
    char protocol[16];          /* "TLSv1.3" */
    char cipher[64];            /* "TLS_AES_256_GCM_SHA384" */
    int cipher_bits, cipher_alg_bits;
    char key_exchange[32];      /* "X25519", or "" */
    char signature[32];         /* "RSA-PSS", "ECDSA", or "" */
    int signature_bits;
    char digest[16];            /* "SHA256", or "" */
};
void conn_tls_info(const struct conn *c, struct tls_info *out);
/*
 * "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange
 * X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"
 */
void tls_info_format(const struct tls_info *info, char *out, size_t size);
/*
 * The same with fold in place of the space before "key-exchange": the
 * Received: header breaks the line there ("\n\t "), as Postfix does, to
 * keep header lines short (RFC 5322 2.1.1).
 */
void tls_info_format_folded(const struct tls_info *info, const char *fold, char *out,
                            size_t size);

#endif
