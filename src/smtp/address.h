/*
 * Envelope addresses and the MAIL/RCPT arguments (RFC 5321 4.1.2, 4.1.1.2,
 * 4.1.1.3; RFC 6531 for SMTPUTF8; RFC 3461 for DSN parameters).
 *
 * Strict mode (strict_rfc821_envelopes = yes) takes only the RFC grammar:
 * "FROM:<path>" with the angle brackets. The default mode also takes what
 * Postfix takes: a space after the colon, a path without brackets, and
 * source routes (which are dropped). Either way an address is checked for
 * length (local part 64, domain 255, path 256 octets), balanced quoting,
 * control characters, and non-ASCII text, which the caller refuses unless
 * the transaction declared SMTPUTF8.
 */
#ifndef GATEPOST_SMTP_ADDRESS_H
#define GATEPOST_SMTP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_PATH_MAX 256
#define SMTP_LOCALPART_MAX 64
#define SMTP_DOMAIN_MAX 255

struct smtp_address {
    char *text;         /* as it goes into logs: local@domain (quoted local part kept); "" for <> */
    char *localpart;    /* unquoted local part */
    char *domain;       /* domain or address literal as written; "" if none */
    bool is_null;       /* the null reverse-path <> */
    bool has_8bit;      /* non-ASCII octets present */
    bool domain_literal;/* [192.0.2.1] or [IPv6:...] */
};

enum smtp_body_type { BODY_UNSPECIFIED, BODY_7BIT, BODY_8BITMIME, BODY_BINARYMIME };
enum smtp_dsn_ret { DSN_RET_UNSPECIFIED, DSN_RET_FULL, DSN_RET_HDRS };
enum { DSN_NOTIFY_NEVER = 1, DSN_NOTIFY_SUCCESS = 2, DSN_NOTIFY_FAILURE = 4,
       DSN_NOTIFY_DELAY = 8 };

struct smtp_mail_args {
    struct smtp_address addr;
    long long size;             /* SIZE=, -1 if absent */
    enum smtp_body_type body;
    bool smtputf8;
    enum smtp_dsn_ret ret;
    char *envid;                /* xtext-decoded ENVID, or NULL */
    char *auth;                 /* AUTH= value (xtext-decoded), or NULL */
};

struct smtp_rcpt_args {
    struct smtp_address addr;
    int notify;                 /* DSN_NOTIFY_* bits, 0 if absent */
    char *orcpt;                /* ORCPT= as written (addr-type;xtext), or NULL */
};

#define SMTP_PARSE_ERROR_TEXT_MAX 160

/*
 * Result of parsing: OK, or an error with the reply it deserves. text is
 * a static string or, when the reply quotes the client's input ("Unsupported
 * option: X", sanitized to printable ASCII and truncated), points into buf
 * of the same struct: copy one with smtp_parse_error_copy().
 */
struct smtp_parse_error {
    int code;                   /* 501, 553, 555, ... */
    const char *enhanced;       /* "5.5.4", "5.1.3", ... */
    const char *text;           /* "Bad sender address syntax" etc. */
    char buf[SMTP_PARSE_ERROR_TEXT_MAX];
};

/*
 * Parses what follows "MAIL" (e.g. " FROM:<a@b> SIZE=100 BODY=8BITMIME").
 * The text is the command line without the verb; it may contain anything.
 * Returns true on success; on failure fills err and leaves out freed.
 *
 * Replies (Postfix's wording): "501 5.5.4 Syntax: MAIL FROM:<address>"
 * (no FROM:/TO: keyword or no address), "501 5.1.7 Bad sender address
 * syntax" / "501 5.1.3 Bad recipient address syntax", "500 5.5.2 Error:
 * bad UTF-8 syntax", "555 5.5.4 Unsupported option: X" (unknown
 * parameter, wrong command, value where none belongs or none where one
 * does, BODY= value), "501 5.5.4 Bad message size syntax", "552 5.3.4
 * Message size exceeds file system imposed limit" (SIZE past 2^63-1),
 * "501 5.5.4 Bad {BODY,SMTPUTF8,RET,ENVID,AUTH} parameter syntax" and
 * "501 5.5.4 Error: Bad {NOTIFY,ORCPT} parameter syntax" (bad value or
 * repeated parameter). has_8bit and smtputf8 are reported, not judged:
 * refusing 8-bit addresses without SMTPUTF8 is the session's call.
 */
bool smtp_parse_mail(const char *arg, size_t len, bool strict,
                     struct smtp_mail_args *out, struct smtp_parse_error *err);
/*
 * Parses what follows "RCPT" (e.g. " TO:<a@b> NOTIFY=NEVER"). "<>" is
 * refused; "<postmaster>" without a domain is taken in either mode
 * (RFC 5321 4.5.1), other domainless addresses only in the default mode.
 */
bool smtp_parse_rcpt(const char *arg, size_t len, bool strict,
                     struct smtp_rcpt_args *out, struct smtp_parse_error *err);
/*
 * Parses a bare address (VRFY argument, map keys, tests): "a@b" or
 * "<a@b>", "<>", or a local part alone; surrounding blanks are ignored
 * and nothing else may follow. Default-mode rules.
 */
bool smtp_parse_address(const char *text, size_t len, struct smtp_address *out,
                        struct smtp_parse_error *err);

/* Copies an error, keeping text valid when it points into buf. */
void smtp_parse_error_copy(struct smtp_parse_error *dst,
                           const struct smtp_parse_error *src);

void smtp_address_free(struct smtp_address *a);
void smtp_mail_args_free(struct smtp_mail_args *m);
void smtp_rcpt_args_free(struct smtp_rcpt_args *r);

/*
 * True if domain is a syntactically valid host name (RFC 1035 labels of
 * letters, digits and inner hyphens, 1-63 octets, 255 in all; UTF-8
 * labels too when allow_8bit) or address literal ([IPv4], [IPv6:...]).
 */
bool smtp_valid_domain(const char *domain, bool allow_8bit);

#endif
