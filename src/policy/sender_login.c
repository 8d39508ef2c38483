/*
 * Sender-login checks: who may use which MAIL FROM address.
 *
 * smtpd_sender_login_maps maps a sender address to the SASL login names
 * that own it ("alice, bob"). The table is searched with Postfix's
 * mail_addr_find() order: user+ext@domain, user@domain, then (when the
 * domain is $myorigin or local) user+ext and user, then @domain; the key
 * is the address qualified with $myorigin when it has no domain.
 *
 * The four restrictions, as Postfix's smtpd_check.c applies them:
 *
 *   reject_authenticated_sender_login_mismatch    logged in, and the login
 *       is not an owner (an address with no owner is refused too)
 *   reject_unauthenticated_sender_login_mismatch  not logged in, and the
 *       address has an owner
 *   reject_sender_login_mismatch                  both of the above
 *   reject_known_sender_login_mismatch            logged in: refused only
 *       when the address has owners and the login is not one of them;
 *       not logged in: as the unauthenticated form
 *
 * All answer "553 5.7.1 <addr>: Sender address rejected: not owned by user
 * NAME" or "... not logged in". The null sender is never checked; neither
 * is anything when smtpd_sender_login_maps is empty. Without SASL on the
 * service the restrictions are ignored with a warning, as in Postfix. A
 * table that fails answers "451 4.3.0 <addr>: Temporary lookup failure":
 * a broken table must neither let a stranger use an owned address nor
 * refuse an owner for good.
 *
 * The login name is client-chosen text: it is compared, never parsed, and
 * the reply builder replaces bytes a reply must not carry.
 */
#include "policy/policy_priv.h"
#include "policy/restrict_ops.h"
#include "policy/route.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest owner list considered (a longer value is a lookup error). */
#define OWNERS_MAX 4096

/* Postfix's separators for the owner list (RESTRICTION_SEPARATORS). */
#define OWNER_SEPARATORS ", \t\r\n"

/* What the table says about the sender. */
enum owner_result { OWNER_NONE, OWNER_YES, OWNER_OTHER, OWNER_ERROR };

/* Is the user one of the names in the owner list? (case-insensitive, as Postfix) */
static bool owner_listed(const char *owners, const char *user)
{
    char *copy = xstrdup(owners);
    bool found = false;
    char *save = NULL;
    for (char *name = strtok_r(copy, OWNER_SEPARATORS, &save); name && !found;
         name = strtok_r(NULL, OWNER_SEPARATORS, &save))
        found = strcasecmp(name, user) == 0;
    free(copy);
    return found;
}

/* The user part ("user", "user+ext") is tried for $myorigin and local domains. */
static bool local_keys_allowed(const struct policy_env *env, const char *sender)
{
    const char *at = strrchr(sender, '@');
    if (at == NULL || strcasecmp(at + 1, env->myorigin) == 0)
        return true;
    return route_classify(env, sender) == ADDR_CLASS_LOCAL;
}

/* Looks the sender up; user may be NULL (then only "has an owner" matters). */
static enum owner_result sender_owner(const struct policy_env *env, const char *sender,
                                      const char *user)
{
    if (route_classify(env, sender) == ADDR_CLASS_ERROR)
        return OWNER_ERROR;
    struct buf value;
    buf_init(&value, OWNERS_MAX);
    enum map_status st = route_find(env, env->sender_login, sender,
                                    local_keys_allowed(env, sender), &value);
    enum owner_result r = st == MAP_ERROR      ? OWNER_ERROR
                          : st == MAP_NOTFOUND ? OWNER_NONE
                          : user && owner_listed(buf_cstr(&value), user) ? OWNER_YES
                                                                         : OWNER_OTHER;
    buf_free(&value);
    return r;
}

static const char *logged_in_as(const struct policy_eval *ev)
{
    const char *user = ev->facts->sasl_username;
    return user && *user ? user : NULL;
}

/*
 * Common gate: a non-null sender, a configured table and SASL on the
 * service. False means the restriction does nothing.
 */
static bool applicable(struct policy_eval *ev, const struct rstep *st)
{
    const char *sender = ev->facts->sender;
    if (!ev->env->sasl_enabled) {
        log_warning("restriction `%s' ignored: no SASL support", st->def->name);
        return false;
    }
    return sender && *sender && !maplist_is_empty(ev->env->sender_login);
}

/* Logged in: the login must own the address (allow_unknown: or nobody does). */
static enum rstatus check_authenticated(struct policy_eval *ev, bool allow_unknown)
{
    const char *sender = ev->facts->sender, *user = logged_in_as(ev);
    if (user == NULL)
        return R_DUNNO;
    switch (sender_owner(ev->env, sender, user)) {
    case OWNER_ERROR:
        log_warning("smtpd_sender_login_maps: lookup of %s failed", sender);
        return rv_lookup_retry(ev, sender);
    case OWNER_YES:
        return R_DUNNO;
    case OWNER_NONE:
        if (allow_unknown)
            return R_DUNNO;
        break;
    case OWNER_OTHER:
        break;
    }
    return rv_reject(ev, ERR_POLICY, 553, "5.7.1",
                     "<%s>: Sender address rejected: not owned by user %s", sender, user);
}

/* Not logged in: an address with an owner needs a login. */
static enum rstatus check_unauthenticated(struct policy_eval *ev)
{
    const char *sender = ev->facts->sender;
    if (logged_in_as(ev) != NULL)
        return R_DUNNO;
    switch (sender_owner(ev->env, sender, NULL)) {
    case OWNER_ERROR:
        log_warning("smtpd_sender_login_maps: lookup of %s failed", sender);
        return rv_lookup_retry(ev, sender);
    case OWNER_NONE:
        return R_DUNNO;
    case OWNER_YES:
    case OWNER_OTHER:
        break;
    }
    return rv_reject(ev, ERR_POLICY, 553, "5.7.1",
                     "<%s>: Sender address rejected: not logged in", sender);
}

OPFN(op_reject_sender_login_mismatch)
{
    if (!applicable(ev, st))
        return R_DUNNO;
    enum rstatus r = check_authenticated(ev, false);
    return r == R_DUNNO ? check_unauthenticated(ev) : r;
}

OPFN(op_reject_authenticated_sender_login_mismatch)
{
    if (!applicable(ev, st))
        return R_DUNNO;
    return check_authenticated(ev, false);
}

OPFN(op_reject_known_sender_login_mismatch)
{
    if (!applicable(ev, st))
        return R_DUNNO;
    return logged_in_as(ev) ? check_authenticated(ev, true) : check_unauthenticated(ev);
}

OPFN(op_reject_unauthenticated_sender_login_mismatch)
{
    if (!applicable(ev, st))
        return R_DUNNO;
    return check_unauthenticated(ev);
}
