/*
 * SMTP AUTH in the session (RFC 4954), private to src/smtpd: the settings
 * of a service and the state of a session. See auth.c.
 */
#ifndef GATEPOST_SMTPD_AUTH_H
#define GATEPOST_SMTPD_AUTH_H

#include "auth/mech.h"
#include "policy/policy.h"
#include "maps/maps.h"
#include "policy/netlist.h"

#include <stdbool.h>
#include <stdint.h>

struct auth_client;
struct smtpd_session;
struct auth_exchange;
struct event;

struct smtpd_auth_settings {
    char *service;                  /* master.cf service name, for the auth process */
    struct mech_policy plain_policy;    /* smtpd_sasl_security_options */
    struct mech_policy tls_policy;      /* smtpd_sasl_tls_security_options */
    struct netlist *auth_networks;      /* smtpd_sasl_auth_networks */
    struct netlist *exceptions;         /* smtpd_sasl_exceptions_networks */
    struct maplist *discard_maps;       /* smtpd_discard_ehlo_keyword_address_maps */
    bool broken_clients;                /* broken_sasl_auth_clients */
    bool authenticated_header;          /* smtpd_sasl_authenticated_header */
    unsigned failure_limit;
    int64_t failure_delay_ms;
    size_t response_limit;
    char cram_host[256];                /* host part of CRAM-MD5 challenges */
};

enum auth_permission { AUTH_PERMISSION_UNKNOWN, AUTH_PERMITTED, AUTH_REFUSED };

/* A refused client's fake exchange: the same prompts, always a failure. */
struct auth_decoy {
    int received;                   /* client messages so far */
};

struct smtpd_auth_state {
    char *username;                 /* set once authenticated */
    char mech[32];                  /* mechanism of the exchange or of the login */
    unsigned failures;
    enum auth_permission permission;    /* decided at EHLO for this client */
    char refusal[768];              /* why it is refused (for the log) */
    struct auth_exchange *exchange; /* in the auth process */
    bool waiting_response;          /* a 334 was sent: the next line is a response */
    bool decoy_active;
    struct auth_decoy decoy;
    struct event *delay_ev;         /* failure delay */
    struct event *wait_ev;          /* waiting for the mechanism list */
    int mechs_waited_ms;
    bool pending_close;             /* the failure limit is reached: 421 and close */
    void (*after_decision)(struct smtpd_session *, const struct policy_decision *);
};

#endif
