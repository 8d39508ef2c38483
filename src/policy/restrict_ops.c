/*
 * What each implemented restriction does: one short function a row of the
 * restriction table (restrict_table.c). Replies and their codes follow
 * Postfix's smtpd_check.c; where a restriction needs information the stage
 * does not have yet (no HELO, no recipient), it answers DUNNO, as Postfix.
 *
 * Each function returns R_DUNNO, R_OK, R_REJECT (with ev->decision set by
 * rv_reject) or R_NESTED (an access table's right-hand side was pushed).
 */
#include "policy/policy_priv.h"
#include "policy/restrict_ops.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Generic ---- */

OPFN(op_permit)
{
    return R_OK;
}

OPFN(op_reject)
{
    return rv_reject(ev, ERR_POLICY, ev->env->reject_code, "5.7.1",
                     "<%s>: %s rejected: Access denied", rv_reply_name(ev), rv_reply_class(ev));
}

OPFN(op_defer)
{
    return rv_reject(ev, ERR_POLICY, ev->env->defer_code, "4.3.2",
                     "<%s>: %s rejected: Try again later", rv_reply_name(ev),
                     rv_reply_class(ev));
}

OPFN(op_dunno)
{
    return R_DUNNO;
}

OPFN(op_defer_if_permit)
{
    return rv_defer_if_permit(ev, 450, "4.7.0", "<%s>: %s rejected: defer_if_permit requested",
                              rv_reply_name(ev), rv_reply_class(ev));
}

OPFN(op_defer_if_reject)
{
    return rv_defer_if(ev, &ev->dir, 450, "4.7.0",
                       "<%s>: %s rejected: defer_if_reject requested", rv_reply_name(ev),
                       rv_reply_class(ev));
}

OPFN(op_reject_plaintext_session)
{
    if (ev->facts->tls)
        return R_DUNNO;
    return rv_reject(ev, ERR_POLICY, ev->env->plaintext_code, "4.7.1",
                     "Session encryption is required");
}

/* ---- Client ---- */

OPFN(op_permit_mynetworks)
{
    const struct policy_facts *f = ev->facts;
    if (f->client_addr == NULL)
        return R_DUNNO;
    enum match_result m = netlist_match(ev->env->mynetworks, f->client_addr, f->client_name);
    if (m == MATCH_ERROR)
        return rv_lookup_retry(ev, rv_reply_name(ev));
    return m == MATCH_YES ? R_OK : R_DUNNO;
}

OPFN(op_permit_inet_interfaces)
{
    const struct policy_facts *f = ev->facts;
    if (f->client_addr == NULL)
        return R_DUNNO;
    for (size_t i = 0; i < ev->env->n_my_addrs; i++)
        if (netaddr_equal(&ev->env->my_addrs[i], f->client_addr))
            return R_OK;
    return R_DUNNO;
}

OPFN(op_permit_sasl_authenticated)
{
    const char *method = ev->facts->sasl_method;
    /*
     * Postfix: only where SASL is enabled for the service, and any
     * mechanism except ANONYMOUS counts as authenticated.
     */
    if (!ev->env->sasl_enabled)
        return R_DUNNO;
    if (method != NULL && *method && strcasecmp(method, "anonymous") != 0)
        return R_OK;
    return R_DUNNO;
}

OPFN(op_check_client_access)
{
    if (ev->facts->client_addr_text == NULL)
        return R_DUNNO;
    return access_client(ev, st->table, ev->facts->client_name, CLASS_CLIENT, false);
}

OPFN(op_check_reverse_client_access)
{
    if (ev->facts->client_addr_text == NULL)
        return R_DUNNO;
    return access_client(ev, st->table, ev->facts->reverse_name, CLASS_REV_CLIENT, true);
}

OPFN(op_check_sasl_access)
{
    const char *user = ev->facts->sasl_username;
    if (!ev->env->sasl_enabled || user == NULL || *user == '\0')
        return R_DUNNO;
    /* The login name is client-chosen: show it with unprintable bytes replaced. */
    str_copy(ev->sasl_shown, sizeof(ev->sasl_shown), user);
    for (char *p = ev->sasl_shown; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '_';
    return access_plain(ev, st->table, user, ev->sasl_shown, CLASS_SASL);
}

/* ---- HELO ---- */

OPFN(op_check_helo_access)
{
    if (ev->facts->helo == NULL)
        return R_DUNNO;
    return access_helo(ev, st->table);
}

/* A copy without one trailing dot ("name." but not "name.."). */
static char *dup_if_truncate(const char *name)
{
    char *copy = xstrdup(name);
    size_t n = strlen(copy);
    if (n > 1 && copy[n - 1] == '.' && copy[n - 2] != '.')
        copy[n - 1] = '\0';
    return copy;
}

/* "[1.2.3.4]" or "[IPv6:...]" in HELO: the address must be well formed. */
static enum rstatus reject_invalid_hostaddr(struct policy_eval *ev, const char *addr,
                                            const char *reply_name, const char *reply_class)
{
    size_t n = strlen(addr);
    char *inner = n > 2 && addr[0] == '[' && addr[n - 1] == ']' ? xstrndup(addr + 1, n - 2)
                                                                 : xstrdup(addr);
    bool ok = valid_mailhost_addr(inner);
    free(inner);
    if (ok)
        return R_DUNNO;
    return rv_reject(ev, ERR_POLICY, ev->env->invalid_hostname_code, "5.5.2",
                     "<%s>: %s rejected: invalid ip address", reply_name, reply_class);
}

static bool helo_name_valid(const char *name)
{
    return valid_hostname(name) || valid_hostaddr(name);
}

static bool helo_name_fqdn(const char *name)
{
    return valid_hostname(name) && strchr(name, '.') != NULL;
}

/* A HELO address literal must be well formed; a name must pass ok(). */
static enum rstatus check_helo_name(struct policy_eval *ev, bool (*ok)(const char *), int code,
                                    const char *why)
{
    const char *helo = ev->facts->helo;
    if (helo == NULL)
        return R_DUNNO;
    if (helo[0] == '[')
        return reject_invalid_hostaddr(ev, helo, helo, CLASS_HELO);
    char *name = dup_if_truncate(helo);
    bool good = ok(name);
    free(name);
    if (good)
        return R_DUNNO;
    return rv_reject(ev, ERR_POLICY, code, "5.5.2", "<%s>: %s rejected: %s", helo, CLASS_HELO,
                     why);
}

OPFN(op_reject_invalid_helo_hostname)
{
    return check_helo_name(ev, helo_name_valid, ev->env->invalid_hostname_code, "Invalid name");
}

OPFN(op_reject_non_fqdn_helo_hostname)
{
    return check_helo_name(ev, helo_name_fqdn, ev->env->non_fqdn_code,
                           "need fully-qualified hostname");
}

/* ---- Sender and recipient ---- */

/* reject_non_fqdn_sender/recipient: the domain must be a dotted host name. */
static enum rstatus reject_non_fqdn_address(struct policy_eval *ev, const char *addr,
                                            const char *reply_class)
{
    const char *at = strrchr(addr, '@');
    const char *domain = at ? at + 1 : "";
    size_t n = strlen(domain);
    if (n > 0 && domain[0] == '[' && domain[n - 1] == ']')
        return R_DUNNO;
    char *name = dup_if_truncate(domain);
    bool ok = *name && valid_hostname(name) && strchr(name, '.') != NULL;
    free(name);
    if (ok)
        return R_DUNNO;
    return rv_reject(ev, ERR_POLICY, ev->env->non_fqdn_code, "4.5.2",
                     "<%s>: %s rejected: need fully-qualified address", addr, reply_class);
}

OPFN(op_check_sender_access)
{
    if (ev->facts->sender == NULL)
        return R_DUNNO;
    return access_sender(ev, st->table);
}

OPFN(op_reject_non_fqdn_sender)
{
    const char *sender = ev->facts->sender;
    if (sender == NULL || *sender == '\0')
        return R_DUNNO;
    return reject_non_fqdn_address(ev, sender, CLASS_SENDER);
}

OPFN(op_reject_unlisted_sender)
{
    const char *sender = ev->facts->sender;
    if (sender == NULL || *sender == '\0' || ev->sender_map_checked)
        return R_DUNNO;
    /* Under warn_if_reject the implicit check at the end still runs for real. */
    if (ev->warn_level == 0)
        ev->sender_map_checked = true;
    return route_check_rcpt_maps(ev, sender, CLASS_SENDER);
}

OPFN(op_check_recipient_access)
{
    if (ev->facts->recipient == NULL)
        return R_DUNNO;
    return access_mail(ev, st->table, ev->facts->recipient, CLASS_RECIPIENT);
}

OPFN(op_reject_non_fqdn_recipient)
{
    if (ev->facts->recipient == NULL)
        return R_DUNNO;
    return reject_non_fqdn_address(ev, ev->facts->recipient, CLASS_RECIPIENT);
}

OPFN(op_reject_unlisted_recipient)
{
    const char *rcpt = ev->facts->recipient;
    if (rcpt == NULL || *rcpt == '\0' || ev->rcpt_map_checked)
        return R_DUNNO;
    if (ev->warn_level == 0)
        ev->rcpt_map_checked = true;
    return route_check_rcpt_maps(ev, rcpt, CLASS_RECIPIENT);
}

OPFN(op_permit_auth_destination)
{
    const char *rcpt = ev->facts->recipient;
    if (rcpt == NULL)
        return R_DUNNO;
    int auth = route_auth_destination(ev->env, rcpt);
    if (auth < 0)
        return rv_lookup_retry(ev, rcpt);
    return auth ? R_OK : R_DUNNO;
}

static enum rstatus reject_unauth(struct policy_eval *ev, int code, const char *dsn)
{
    const char *rcpt = ev->facts->recipient;
    if (rcpt == NULL)
        return R_DUNNO;
    int auth = route_auth_destination(ev->env, rcpt);
    if (auth < 0)
        return rv_lookup_retry(ev, rcpt);
    if (auth)
        return R_DUNNO;
    return rv_reject(ev, ERR_POLICY, code, dsn, "<%s>: Relay access denied", rcpt);
}

OPFN(op_reject_unauth_destination)
{
    return reject_unauth(ev, ev->env->relay_code, "5.7.1");
}

OPFN(op_defer_unauth_destination)
{
    return reject_unauth(ev, ev->env->relay_code - 100, "4.7.1");
}

OPFN(op_reject_multi_recipient_bounce)
{
    const struct policy_facts *f = ev->facts;
    /* At RCPT the recipients accepted so far; at DATA there must be only one. */
    unsigned allowed = ev->stage == STAGE_DATA || ev->stage == STAGE_END_OF_DATA ? 1 : 0;
    if (f->sender == NULL || *f->sender != '\0' || f->recipient_count <= allowed)
        return R_DUNNO;
    return rv_reject(ev, ERR_POLICY, ev->env->multi_rcpt_bounce_code, "5.5.3",
                     "<%s>: %s rejected: Multi-recipient bounce", rv_reply_name(ev),
                     rv_reply_class(ev));
}
