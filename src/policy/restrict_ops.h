/*
 * The functions behind the restriction table's rows (restrict_ops.c,
 * sender_login.c),
 * declared once for the table (restrict_table.c). Private to src/policy.
 */
#ifndef GATEPOST_POLICY_RESTRICT_OPS_H
#define GATEPOST_POLICY_RESTRICT_OPS_H

#include "policy/policy_priv.h"

#define OPFN(name) enum rstatus name(struct policy_eval *ev, const struct rstep *st)

OPFN(op_permit);
OPFN(op_reject);
OPFN(op_defer);
OPFN(op_dunno);
OPFN(op_defer_if_permit);
OPFN(op_defer_if_reject);
OPFN(op_reject_plaintext_session);
OPFN(op_permit_mynetworks);
OPFN(op_permit_inet_interfaces);
OPFN(op_permit_sasl_authenticated);
OPFN(op_check_client_access);
OPFN(op_check_reverse_client_access);
OPFN(op_check_sasl_access);
OPFN(op_check_helo_access);
OPFN(op_reject_invalid_helo_hostname);
OPFN(op_reject_non_fqdn_helo_hostname);
OPFN(op_check_sender_access);
OPFN(op_reject_non_fqdn_sender);
OPFN(op_reject_unlisted_sender);
OPFN(op_reject_sender_login_mismatch);
OPFN(op_reject_authenticated_sender_login_mismatch);
OPFN(op_reject_known_sender_login_mismatch);
OPFN(op_reject_unauthenticated_sender_login_mismatch);
OPFN(op_check_recipient_access);
OPFN(op_reject_non_fqdn_recipient);
OPFN(op_reject_unlisted_recipient);
OPFN(op_permit_auth_destination);
OPFN(op_reject_unauth_destination);
OPFN(op_defer_unauth_destination);
OPFN(op_reject_multi_recipient_bounce);

#endif
