/*
 * The access-policy engine: restriction lists compiled at load, evaluated
 * with Postfix's semantics when the session asks.
 *
 * Compile: each smtpd_*_restrictions parameter becomes an array of
 * {operation, arguments, resolved tables}; unknown or obsolete names are
 * errors naming the file and line where the list was set.
 *
 * Evaluate: the first restriction that decides wins; "DUNNO" moves on.
 * Evaluation may finish at once or park (a later DNS or policy-service
 * restriction returns "pending"); the caller gets the decision through its
 * callback on the loop thread and can cancel a parked evaluation when its
 * session goes away.
 *
 * Sequencing follows Postfix: with smtpd_delay_reject = yes (the default),
 * client, helo and sender restrictions are evaluated at RCPT time, then
 * smtpd_relay_restrictions, then smtpd_recipient_restrictions, then the
 * unlisted-recipient check; a client/helo/sender rejection is remembered
 * and repeated for every RCPT.
 */
#ifndef GATEPOST_POLICY_POLICY_H
#define GATEPOST_POLICY_POLICY_H

#include "base/diag.h"
#include "base/netaddr.h"
#include "config/config.h"

#include <stdbool.h>
#include <stdint.h>

enum policy_stage {
    STAGE_CONNECT,      /* smtpd_client_restrictions */
    STAGE_HELO,         /* smtpd_helo_restrictions */
    STAGE_MAIL,         /* smtpd_sender_restrictions */
    STAGE_RCPT,         /* smtpd_relay_restrictions + smtpd_recipient_restrictions */
    STAGE_DATA,         /* smtpd_data_restrictions */
    STAGE_END_OF_DATA,  /* smtpd_end_of_data_restrictions */
    STAGE_AUTH,         /* smtpd_auth_restrictions (gatepost) */
    STAGE_COUNT
};

enum policy_action {
    POLICY_DUNNO,       /* no decision (only inside evaluation) */
    POLICY_OK,          /* permitted */
    POLICY_REJECT,      /* 5xx */
    POLICY_DEFER,       /* 4xx by policy (defer, defer_unauth_destination) */
    POLICY_TEMPFAIL,    /* 4xx because a lookup failed (table or DNS error) */
};

/* What the engine knows of the session; strings are borrowed. */
struct policy_facts {
    const struct netaddr *client_addr;
    const char *client_addr_text;   /* "192.0.2.1" */
    const char *client_name;        /* verified name, or "unknown" */
    const char *reverse_name;       /* PTR name (unverified), or "unknown" */
    int client_port;
    const char *helo;               /* NULL before HELO/EHLO */
    const char *sender;             /* NULL before MAIL; "" for <> */
    const char *recipient;          /* the RCPT being checked, NULL otherwise */
    const char *sasl_method;        /* NULL unless authenticated */
    const char *sasl_username;
    const char *sasl_sender;
    bool tls;                       /* the session is encrypted */
    const char *protocol;           /* "SMTP", "ESMTP", ... */
    unsigned recipient_count;       /* accepted so far */
    int64_t size;                   /* SIZE= or message size, -1 if unknown */
};

struct policy_decision {
    enum policy_action action;
    int code;                       /* SMTP code for REJECT/DEFER/TEMPFAIL */
    char enhanced[12];              /* "5.7.1" */
    char text[512];                 /* reply text after the codes, e.g.
                                       "<a@b>: Relay access denied" */
};

/* Everything compiled from one service's config. */
struct policy_env;
struct policy_env *policy_env_new(const struct config *cfg, struct diag *diag);
void policy_env_free(struct policy_env *env);
const struct config *policy_env_config(const struct policy_env *env);

/* True if addr is in $mynetworks. */
bool policy_in_mynetworks(const struct policy_env *env, const struct netaddr *addr,
                          const char *hostname);

/* Per-session memory of earlier decisions (client/helo/sender results). */
struct policy_session {
    struct policy_decision client, helo, sender;
    bool client_done, helo_done, sender_done;
    /*
     * A defer_if_permit raised while evaluating the client, helo or sender
     * restrictions; Postfix turns the final "permit" at RCPT into it.
     */
    struct policy_decision client_dip, helo_dip, sender_dip;
    bool client_dip_set, helo_dip_set, sender_dip_set;
};
void policy_session_init(struct policy_session *ps);
/* Forget the sender decision (new MAIL transaction). */
void policy_session_new_transaction(struct policy_session *ps);
/* Forget the helo decision (a new HELO/EHLO, e.g. after STARTTLS); STAGE_HELO does this too. */
void policy_session_new_helo(struct policy_session *ps);

typedef void (*policy_done_fn)(void *arg, const struct policy_decision *d);
struct policy_eval;

/*
 * Runs the checks due at stage. Returns true when finished synchronously
 * (out filled, done not called). Otherwise returns false, stores a handle
 * in *pending, and later calls done(arg, decision) on the loop thread.
 * facts and ps must stay valid until then.
 *
 * The engine logs only what nobody else sees (reject_warning, warn); the
 * caller logs the reply it sends for a REJECT/DEFER/TEMPFAIL decision
 * ("NOQUEUE: reject: RCPT from ...: <code> <enhanced> <text>; ...").
 * At STAGE_HELO the helo memory is reset, at STAGE_MAIL the sender memory.
 */
bool policy_check(struct policy_env *env, enum policy_stage stage,
                  const struct policy_facts *facts, struct policy_session *ps,
                  struct policy_decision *out, policy_done_fn done, void *arg,
                  struct policy_eval **pending);
/* Cancels a parked evaluation; done will not be called. */
void policy_cancel(struct policy_eval *ev);

#endif
