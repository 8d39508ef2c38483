/*
 * The credential store over the gatepost user database (credstore.h),
 * used by the auth process when smtpd_sasl_type = gatepost.
 *
 * Login names follow userdb_key(): a name without "@" gets the request's
 * realm (smtpd_sasl_local_domain) appended; the canonical name is what
 * user_out receives. A user's allowed networks (mynetworks syntax, stored
 * in the record) are matched against req->client_addr; a disabled account
 * or a client outside them gives CRED_NOT_ALLOWED, decided only after the
 * password or proof has been checked so timing does not tell.
 *
 * Unknown users cost the same as known ones: PLAIN/LOGIN run a dummy
 * yescrypt of the current cost; SCRAM and CRAM-MD5 get fake secrets
 * derived from the database's random secret and the name (so asking
 * twice gives the same salt, as for a real user) and fail at the proof.
 *
 * Safe to use from many threads at once.
 */
#ifndef GATEPOST_AUTH_STORE_USERDB_H
#define GATEPOST_AUTH_STORE_USERDB_H

#include "auth/credstore.h"

#include <stddef.h>

/*
 * Opens (creating it, mode 0600, if missing) the database at path and
 * returns a store whose name is "gatepost"; NULL with a one-line message
 * in err on failure.
 */
struct cred_store *store_userdb_open(const char *path, char *err, size_t errlen);
void store_userdb_close(struct cred_store *store);

#endif
