/*
 * Address classes and recipient validation (what Postfix's trivial-rewrite
 * resolves): a domain is local ($mydestination, or an address literal of
 * this host), virtual mailbox ($virtual_mailbox_domains), relay
 * ($relay_domains), or other (default). Recipients in local and virtual
 * mailbox domains are validated against local_recipient_maps and
 * virtual_mailbox_maps.
 */
#ifndef GATEPOST_POLICY_ROUTE_H
#define GATEPOST_POLICY_ROUTE_H

#include "base/buf.h"
#include "maps/maps.h"
#include "policy/policy.h"

enum addr_class {
    ADDR_CLASS_LOCAL,
    ADDR_CLASS_VIRTUAL_MAILBOX,
    ADDR_CLASS_RELAY,
    ADDR_CLASS_DEFAULT,
    ADDR_CLASS_ERROR,               /* a table lookup failed: try later */
};

/* Classifies the domain part of address ("" domain: local, after myorigin). */
enum addr_class route_classify(const struct policy_env *env, const char *address);

/*
 * Is the recipient known? Local: local_recipient_maps (empty: every local
 * part is accepted); virtual: virtual_mailbox_maps. Other classes: found.
 */
enum map_status route_recipient_known(const struct policy_env *env,
                                      const char *address);

/*
 * Where a local or virtual recipient's mailbox is, for delivery:
 * for virtual, virtual_mailbox_base + the virtual_mailbox_maps result
 * (a trailing "/" means Maildir); with uid/gid from virtual_uid_maps and
 * virtual_gid_maps (refused below virtual_minimum_uid; results that are
 * absolute or contain ".." are refused too). For local, the user's passwd
 * entry and home_mailbox or mail_spool_directory, delivered as that user.
 * When the process does not run as root, local mail for any local part
 * goes to mail_spool_directory/<localpart> as the current user, with or
 * without a passwd entry. MAP_NOTFOUND means "unknown user" (bounce);
 * MAP_ERROR a configuration or lookup problem (try later). why (may be
 * NULL) says which.
 */
struct mailbox_location {
    char path[4096];
    bool maildir;                   /* else mbox */
    unsigned uid, gid;
    bool switch_identity;           /* deliver as uid/gid (requires privilege) */
    const char *transport;          /* "local" or "virtual" (for logs) */
};
enum map_status route_mailbox(const struct policy_env *env, const char *address,
                              struct mailbox_location *out, struct buf *why);

#endif
