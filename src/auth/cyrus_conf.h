/*
 * Cyrus SASL application files ("smtpd.conf"), read the way Postfix's
 * Cyrus build reads them, for smtpd_sasl_type = cyrus:
 *
 *   # comment
 *   pwcheck_method: saslauthd
 *   mech_list: PLAIN LOGIN
 *   saslauthd_path: /var/run/saslauthd/mux
 *
 * One "key: value" per line; blank lines and lines starting with "#" are
 * skipped; white space around keys and values is dropped. As in Cyrus,
 * the first line for a key wins (later ones are reported as duplicates).
 *
 * The file is "<smtpd_sasl_path>.conf" (smtpd_sasl_path is the Cyrus
 * application name, "smtpd" by default), looked for in this order:
 *   1. each directory of cyrus_sasl_config_path (colon-separated),
 *   2. /etc/gatepost/sasl,
 *   3. /etc/postfix/sasl (so an existing Postfix setup keeps working),
 *   4. /usr/lib/sasl2,
 *   5. /etc/sasl2.
 */
#ifndef GATEPOST_AUTH_CYRUS_CONF_H
#define GATEPOST_AUTH_CYRUS_CONF_H

#include "base/diag.h"

#include <stdbool.h>
#include <stddef.h>

#define CYRUS_CONF_MAX_BYTES (64 * 1024)
#define CYRUS_CONF_MAX_ENTRIES 256
#define CYRUS_CONF_KEY_MAX 64
#define CYRUS_CONF_VALUE_MAX 1024

struct cyrus_conf_entry {
    char *key;
    char *value;
    int line;
};

struct cyrus_conf {
    char *path;                     /* for messages */
    struct cyrus_conf_entry *entries;
    size_t count;
};

/* The built-in search directories after cyrus_sasl_config_path (NULL-terminated). */
extern const char *const cyrus_conf_builtin_dirs[];

/*
 * Parses file text (len bytes, NUL bytes refused). Problems go to diag as
 * "path:line: ..."; false if any is an error (the entries read so far
 * are kept in out either way; free with cyrus_conf_free).
 */
bool cyrus_conf_parse(const char *text, size_t len, const char *path, struct cyrus_conf *out,
                      struct diag *diag);
void cyrus_conf_free(struct cyrus_conf *c);
/* Value of the first entry for key (case-sensitive, as Cyrus), or NULL. */
const char *cyrus_conf_get(const struct cyrus_conf *c, const char *key);

/*
 * The path of "<app>.conf" in the first directory that has it, searching
 * config_path's directories (may be empty) and then dirs (NULL-terminated);
 * NULL if none. Caller frees.
 */
char *cyrus_conf_find(const char *app, const char *config_path, const char *const *dirs);

#endif
