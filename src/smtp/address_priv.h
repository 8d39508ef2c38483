/*
 * Internals shared by the envelope-address parser (address.c) and the
 * MAIL/RCPT argument parser (esmtp.c). Not part of the component's API.
 */
#ifndef GATEPOST_SMTP_ADDRESS_PRIV_H
#define GATEPOST_SMTP_ADDRESS_PRIV_H

#include "smtp/address.h"

#include <stdbool.h>
#include <stddef.h>

/* Why a path was refused; the caller picks the reply. */
enum path_error {
    PATH_OK,
    PATH_SYNTAX,        /* not an RFC 5321 path (or over a length limit) */
    PATH_BAD_UTF8,      /* non-ASCII octets that are not valid UTF-8 */
};

/* What a path may be. */
struct path_rules {
    bool allow_null;        /* "<>" (MAIL, bare addresses) */
    bool allow_no_domain;   /* "user" without "@domain" (non-strict mode) */
    bool allow_postmaster;  /* "postmaster" without domain (RCPT, RFC 5321 4.5.1) */
    bool relaxed_dots;      /* leading/trailing/double dots in the local part */
};

/*
 * Parses one path: either "<...>" (the text must start with '<') or, when
 * bare is true, an address without brackets. The path ends at the closing
 * '>' or, for a bare path, at the first blank outside quotes or at the end
 * of the text. *used is set to the bytes taken. On success fills out.
 */
enum path_error smtp_path_parse(const char *s, size_t n, bool bare,
                                const struct path_rules *rules,
                                struct smtp_address *out, size_t *used);

/* Length of the valid UTF-8 sequence at p[0 .. n), or 0 if invalid. */
size_t smtp_utf8_len(const unsigned char *p, size_t n);

#endif
