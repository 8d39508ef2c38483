/*
 * Every implemented restriction and access(5) result, table-driven: each
 * case is a configuration (on top of a small shared site), the client's
 * facts, and the exact reply Postfix gives (or "OK"), checked at RCPT time
 * with smtpd_delay_reject = yes so that every list is evaluated.
 */
#include "policy_test.h"


static const struct tcase generic_cases[] = {
    { "client reject", C("smtpd_client_restrictions", "reject"), { 0 },
      "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "helo reject", C("smtpd_helo_restrictions", "reject"), { 0 },
      "554 5.7.1 <client.example.net>: Helo command rejected: Access denied" },
    { "sender reject", C("smtpd_sender_restrictions", "reject"), { 0 },
      "554 5.7.1 <s@sender.test>: Sender address rejected: Access denied" },
    { "recipient reject", C("smtpd_recipient_restrictions", "reject"), { 0 },
      "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "reject_code", C("smtpd_recipient_restrictions", "reject", "reject_code", "550"), { 0 },
      "550 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "defer", C("smtpd_recipient_restrictions", "defer"), { 0 },
      "450 4.3.2 <bob@example.com>: Recipient address rejected: Try again later" },
    { "permit wins", C("smtpd_recipient_restrictions", "permit, reject"), { 0 }, "OK" },
    { "dunno moves on", C("smtpd_recipient_restrictions", "dunno reject"), { 0 },
      "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "client defer_if_permit", C("smtpd_client_restrictions", "defer_if_permit, permit"), { 0 },
      "450 4.7.0 <unknown[198.51.100.1]>: Client host rejected: defer_if_permit requested" },
    { "defer_if_permit then reject", C("smtpd_recipient_restrictions", "defer_if_permit reject"),
      { 0 }, "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "defer_if_reject then reject", C("smtpd_recipient_restrictions", "defer_if_reject reject"),
      { 0 }, "450 4.7.0 <bob@example.com>: Recipient address rejected: defer_if_reject requested" },
    { "defer_if_reject then permit", C("smtpd_recipient_restrictions", "defer_if_reject permit"),
      { 0 }, "OK" },
    { "warn_if_reject", C("smtpd_recipient_restrictions", "warn_if_reject reject"), { 0 }, "OK" },
    { "warn_if_reject once", C("smtpd_recipient_restrictions", "warn_if_reject reject reject"),
      { 0 }, "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "plaintext", C("smtpd_recipient_restrictions", "reject_plaintext_session"), { 0 },
      "450 4.7.1 Session encryption is required" },
    { "plaintext tls", C("smtpd_recipient_restrictions", "reject_plaintext_session"),
      { .tls = true }, "OK" },
};

static const struct tcase client_cases[] = {
    { "mynetworks in", C("smtpd_client_restrictions", "permit_mynetworks, reject"),
      { .addr = "192.0.2.9" }, "OK" },
    { "mynetworks out", C("smtpd_client_restrictions", "permit_mynetworks, reject"), { 0 },
      "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "mynetworks v6", C("smtpd_client_restrictions", "permit_mynetworks, reject"),
      { .addr = "::1" }, "OK" },
    { "inet_interfaces", C("smtpd_client_restrictions", "permit_inet_interfaces, reject"),
      { .addr = "192.0.2.2" }, "OK" },
    { "sasl", C("smtpd_client_restrictions", "permit_sasl_authenticated, reject"),
      { .sasl = "PLAIN" }, "OK" },
    { "sasl disabled", C("smtpd_client_restrictions", "permit_sasl_authenticated, reject",
                         "smtpd_sasl_auth_enable", "no"),
      { .sasl = "PLAIN" },
      "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "sasl anonymous", C("smtpd_client_restrictions", "permit_sasl_authenticated, reject"),
      { .sasl = "ANONYMOUS" },
      "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "address prefix", C("smtpd_client_restrictions", "check_client_access inline:{198.51.100=REJECT}"),
      { 0 }, "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "short prefix", C("smtpd_client_restrictions", "check_client_access inline:{198=REJECT}"),
      { 0 }, "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "parent domain", C("smtpd_client_restrictions",
                         "check_client_access inline:{{spam.test = REJECT go away}}"),
      { .name = "mail.spam.test" }, "554 5.7.1 <mail.spam.test[198.51.100.1]>: Client host rejected: go away" },
    { "dot style only", C("smtpd_client_restrictions", "check_client_access inline:{spam.test=REJECT}",
                          "parent_domain_matches_subdomains", "relay_domains"),
      { .name = "mail.spam.test" }, "OK" },
    { "dot style", C("smtpd_client_restrictions", "check_client_access inline:{.spam.test=REJECT}",
                     "parent_domain_matches_subdomains", "relay_domains"),
      { .name = "mail.spam.test" },
      "554 5.7.1 <mail.spam.test[198.51.100.1]>: Client host rejected: Access denied" },
    { "name before address", C("smtpd_client_restrictions",
                               "check_client_access inline:{mail.ok.test=OK, 198.51.100.1=REJECT}, reject"),
      { .name = "mail.ok.test" }, "OK" },
    { "unknown is a key", C("smtpd_client_restrictions", "check_client_access inline:{unknown=REJECT}"),
      { 0 }, "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "cidr full key", C("smtpd_client_restrictions", "check_client_access cidr:{{198.51.100.0/24 REJECT}}"),
      { 0 }, "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "pattern: no prefixes", C("smtpd_client_restrictions",
                                "check_client_access pcre:{{/^198\\.51\\.100$/ REJECT}}"),
      { 0 }, "OK" },
    { "ipv6 prefix", C("smtpd_client_restrictions", "check_client_access inline:{2001:db8:1=REJECT}"),
      { .addr = "2001:db8:1::5" }, "554 5.7.1 <unknown[2001:db8:1::5]>: Client host rejected: Access denied" },
    { "numeric reply", C("smtpd_client_restrictions",
                         "check_client_access inline:{{198.51.100.1 = 421 4.7.0 busy}}"),
      { 0 }, "421 4.7.0 <unknown[198.51.100.1]>: Client host rejected: busy" },
    { "client dsn fix", C("smtpd_client_restrictions",
                          "check_client_access inline:{{198.51.100.1 = REJECT 5.1.1 no}}"),
      { 0 }, "554 5.0.0 <unknown[198.51.100.1]>: Client host rejected: no" },
    { "reverse ok forbidden", C("smtpd_client_restrictions",
                                "check_reverse_client_access inline:{ptr.test=OK}"),
      { .reverse = "ptr.test" }, "451 4.3.5 Server configuration error" },
    { "reverse reject", C("smtpd_client_restrictions",
                          "check_reverse_client_access inline:{ptr.test=REJECT}"),
      { .reverse = "ptr.test" },
      "554 5.7.1 <unknown[198.51.100.1]>: Unverified Client host rejected: Access denied" },
    { "sasl access", C("smtpd_recipient_restrictions", "check_sasl_access inline:{spammer=REJECT}"),
      { .sasl = "PLAIN", .user = "spammer" },
      "554 5.7.1 <spammer>: SASL login name rejected: Access denied" },
};

static const struct tcase helo_cases[] = {
    { "helo parent", C("smtpd_helo_restrictions", "check_helo_access inline:{example.net=REJECT}"),
      { 0 }, "554 5.7.1 <client.example.net>: Helo command rejected: Access denied" },
    { "invalid name", C("smtpd_helo_restrictions", "reject_invalid_helo_hostname"),
      { .helo = "bad_host!" }, "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name" },
    { "invalid alias", C("smtpd_helo_restrictions", "reject_invalid_hostname"),
      { .helo = "-lead.example" }, "501 5.5.2 <-lead.example>: Helo command rejected: Invalid name" },
    { "literal ok", C("smtpd_helo_restrictions", "reject_invalid_helo_hostname"),
      { .helo = "[192.0.2.1]" }, "OK" },
    { "v6 literal needs tag", C("smtpd_helo_restrictions", "reject_invalid_helo_hostname"),
      { .helo = "[::1]" }, "501 5.5.2 <[::1]>: Helo command rejected: invalid ip address" },
    { "v6 literal", C("smtpd_helo_restrictions", "reject_invalid_helo_hostname"),
      { .helo = "[IPv6:2001:db8::1]" }, "OK" },
    { "bare address valid", C("smtpd_helo_restrictions", "reject_invalid_helo_hostname"),
      { .helo = "192.0.2.1" }, "OK" },
    { "trailing dot", C("smtpd_helo_restrictions", "reject_invalid_helo_hostname"),
      { .helo = "host.example." }, "OK" },
    { "non fqdn", C("smtpd_helo_restrictions", "reject_non_fqdn_helo_hostname"),
      { .helo = "localhost" },
      "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname" },
    { "non fqdn alias", C("smtpd_helo_restrictions", "reject_non_fqdn_hostname"),
      { .helo = "192.0.2.1" },
      "504 5.5.2 <192.0.2.1>: Helo command rejected: need fully-qualified hostname" },
    { "fqdn", C("smtpd_helo_restrictions", "reject_non_fqdn_hostname, reject_invalid_hostname"),
      { .helo = "mx.example.org" }, "OK" },
    { "no helo: skipped", C("smtpd_helo_restrictions", "reject"), { .helo = "-" }, "OK" },
};

static const struct tcase sender_cases[] = {
    { "null sender key", C("smtpd_sender_restrictions",
                           "check_sender_access inline:{{<> = REJECT no bounces}}"),
      { .sender = "" }, "554 5.7.1 <>: Sender address rejected: no bounces" },
    { "full", C("smtpd_sender_restrictions", "check_sender_access inline:{user+tag@sub.spam.test=REJECT}"),
      { .sender = "user+tag@sub.spam.test" },
      "554 5.7.1 <user+tag@sub.spam.test>: Sender address rejected: Access denied" },
    { "no extension", C("smtpd_sender_restrictions", "check_sender_access inline:{user@sub.spam.test=REJECT}"),
      { .sender = "user+tag@sub.spam.test" },
      "554 5.7.1 <user+tag@sub.spam.test>: Sender address rejected: Access denied" },
    { "domain", C("smtpd_sender_restrictions", "check_sender_access inline:{sub.spam.test=REJECT}"),
      { .sender = "user+tag@sub.spam.test" },
      "554 5.7.1 <user+tag@sub.spam.test>: Sender address rejected: Access denied" },
    { "parent", C("smtpd_sender_restrictions", "check_sender_access inline:{spam.test=REJECT}"),
      { .sender = "user+tag@sub.spam.test" },
      "554 5.7.1 <user+tag@sub.spam.test>: Sender address rejected: Access denied" },
    { "user+ext@", C("smtpd_sender_restrictions", "check_sender_access inline:{user+tag@=REJECT}"),
      { .sender = "user+tag@sub.spam.test" },
      "554 5.7.1 <user+tag@sub.spam.test>: Sender address rejected: Access denied" },
    { "user@", C("smtpd_sender_restrictions", "check_sender_access inline:{user@=REJECT}"),
      { .sender = "user+tag@sub.spam.test" },
      "554 5.7.1 <user+tag@sub.spam.test>: Sender address rejected: Access denied" },
    { "user@domain before domain",
      C("smtpd_sender_restrictions", "check_sender_access inline:{spam.test=OK, user@sub.spam.test=REJECT}"),
      { .sender = "user@sub.spam.test" },
      "554 5.7.1 <user@sub.spam.test>: Sender address rejected: Access denied" },
    { "pattern: full only", C("smtpd_sender_restrictions",
                              "check_sender_access regexp:{{/^spam\\.test$/ REJECT}}"),
      { .sender = "a@spam.test" }, "OK" },
    { "550 text", C("smtpd_sender_restrictions", "check_sender_access inline:{{s@sender.test = 550 Go away}}"),
      { 0 }, "550 5.7.1 <s@sender.test>: Sender address rejected: Go away" },
    { "450 text", C("smtpd_sender_restrictions", "check_sender_access inline:{{s@sender.test = 450 Later}}"),
      { 0 }, "450 4.7.1 <s@sender.test>: Sender address rejected: Later" },
    { "sender dsn fix", C("smtpd_sender_restrictions",
                          "check_sender_access inline:{{s@sender.test = REJECT 5.1.1 bad}}"),
      { 0 }, "554 5.1.0 <s@sender.test>: Sender address rejected: bad" },
    { "non fqdn sender", C("smtpd_sender_restrictions", "reject_non_fqdn_sender"),
      { .sender = "user@localhost" },
      "504 5.5.2 <user@localhost>: Sender address rejected: need fully-qualified address" },
    { "bare sender", C("smtpd_sender_restrictions", "reject_non_fqdn_sender"), { .sender = "user" },
      "504 5.5.2 <user>: Sender address rejected: need fully-qualified address" },
    { "null sender fqdn", C("smtpd_sender_restrictions", "reject_non_fqdn_sender"), { .sender = "" },
      "OK" },
    { "literal sender", C("smtpd_sender_restrictions", "reject_non_fqdn_sender"),
      { .sender = "u@[192.0.2.1]" }, "OK" },
    { "unlisted sender", C("smtpd_reject_unlisted_sender", "yes"), { .sender = "nobody@example.com" },
      "550 5.1.0 <nobody@example.com>: Sender address rejected: User unknown in local recipient table" },
    { "unlisted sender restriction", C("smtpd_sender_restrictions", "reject_unlisted_sender"),
      { .sender = "nobody@virtual.test" },
      "550 5.1.0 <nobody@virtual.test>: Sender address rejected: User unknown in virtual mailbox table" },
    { "listed sender", C("smtpd_reject_unlisted_sender", "yes"), { .sender = "carol@example.com" },
      "OK" },
};

static const struct tcase recipient_cases[] = {
    { "RELAY", C("smtpd_recipient_restrictions", "check_recipient_access inline:{bob@example.com=RELAY}, reject"),
      { 0 }, "OK" },
    { "OK", C("smtpd_recipient_restrictions", "check_recipient_access inline:{example.com=OK}, reject"),
      { 0 }, "OK" },
    { "digits", C("smtpd_recipient_restrictions", "check_recipient_access inline:{bob@example.com=1234567}, reject"),
      { 0 }, "OK" },
    { "REJECT dsn", C("smtpd_recipient_restrictions",
                      "check_recipient_access inline:{{bob@example.com = REJECT 5.7.2 custom words}}"),
      { 0 }, "554 5.7.2 <bob@example.com>: Recipient address rejected: custom words" },
    { "REJECT rcpt dsn fix", C("smtpd_recipient_restrictions",
                               "check_recipient_access inline:{{bob@example.com = REJECT 5.1.8 x}}"),
      { 0 }, "554 5.1.2 <bob@example.com>: Recipient address rejected: x" },
    { "DEFER", C("smtpd_recipient_restrictions", "check_recipient_access inline:{bob@example.com=DEFER}"),
      { 0 }, "450 4.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "DUNNO ends the table", C("smtpd_recipient_restrictions",
                                "check_recipient_access inline:{bob@example.com=DUNNO, example.com=REJECT}"),
      { 0 }, "OK" },
    { "DEFER_IF_PERMIT", C("smtpd_recipient_restrictions",
                           "check_recipient_access inline:{bob@example.com=DEFER_IF_PERMIT}, permit"),
      { 0 }, "450 4.7.1 <bob@example.com>: Recipient address rejected: Service unavailable" },
    { "DEFER_IF_REJECT", C("smtpd_recipient_restrictions",
                           "check_recipient_access inline:{bob@example.com=DEFER_IF_REJECT}, reject"),
      { 0 }, "450 4.7.1 <bob@example.com>: Recipient address rejected: Service unavailable" },
    { "WARN", C("smtpd_recipient_restrictions", "check_recipient_access inline:{{bob@example.com = WARN look}}"),
      { 0 }, "OK" },
    { "FILTER unsupported", C("smtpd_recipient_restrictions",
                              "check_recipient_access inline:{{bob@example.com = FILTER smtp:x}}"),
      { 0 }, "451 4.3.5 Server configuration error" },
    { "DISCARD unsupported", C("smtpd_recipient_restrictions",
                               "check_recipient_access inline:{bob@example.com=DISCARD}"),
      { 0 }, "451 4.3.5 Server configuration error" },
    { "table error", C("smtpd_recipient_restrictions", "check_recipient_access fail:broken, permit"),
      { 0 }, "451 4.3.5 <bob@example.com>: Recipient address rejected: Server configuration error" },
    { "rhs list", C("smtpd_recipient_restrictions",
                    "check_recipient_access inline:{{bob@example.com = permit_mynetworks reject}}"),
      { 0 }, "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "rhs list permits", C("smtpd_recipient_restrictions",
                            "check_recipient_access inline:{{bob@example.com = permit_mynetworks reject}}"),
      { .addr = "127.0.0.1" }, "OK" },
    { "rhs client reply", C("smtpd_client_restrictions",
                            "check_client_access inline:{{198.51.100.1 = reject_unauth_destination, reject}}"),
      { .rcpt = "x@example.com" },
      "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "rhs table", C("smtpd_recipient_restrictions",
                     "check_recipient_access inline:{{bob@example.com = check_client_access static:OK}}"),
      { 0 }, "451 4.3.5 Server configuration error" },
    { "rhs unknown", C("smtpd_recipient_restrictions",
                       "check_recipient_access inline:{{bob@example.com = bogus_restriction}}"),
      { 0 }, "451 4.3.5 Server configuration error" },
    { "rhs unsupported", C("smtpd_recipient_restrictions",
                           "check_recipient_access inline:{{bob@example.com = reject_unknown_sender_domain}}"),
      { 0 }, "451 4.3.5 Server configuration error" },
    { "routed OK not trusted", C("smtpd_relay_restrictions", "", "smtpd_recipient_restrictions",
                                 "check_recipient_access inline:{{user%other.test@example.com = OK}}, reject"),
      { .rcpt = "user%other.test@example.com" },
      "554 5.7.1 <user%other.test@example.com>: Recipient address rejected: Access denied" },
    { "non fqdn rcpt", C("smtpd_recipient_restrictions", "reject_non_fqdn_recipient"),
      { .rcpt = "bob@localhost" },
      "504 5.5.2 <bob@localhost>: Recipient address rejected: need fully-qualified address" },
    { "bare table", C("smtpd_recipient_restrictions", "inline:{bob@example.com=REJECT}"), { 0 },
      "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "bare table client", C("smtpd_client_restrictions", "cidr:{{198.51.100.0/24 REJECT}}"), { 0 },
      "554 5.7.1 <unknown[198.51.100.1]>: Client host rejected: Access denied" },
    { "bare table relay list", C("smtpd_relay_restrictions",
                                 "inline:{bob@example.com=REJECT}, reject_unauth_destination"),
      { 0 }, "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "class", C("smtpd_restriction_classes", "strict", "strict", "reject_non_fqdn_sender, permit",
                 "smtpd_recipient_restrictions", "check_recipient_access inline:{bob@example.com=strict}"),
      { .sender = "user@localhost" },
      "504 5.5.2 <user@localhost>: Sender address rejected: need fully-qualified address" },
    { "class in list", C("smtpd_restriction_classes", "strict", "strict", "reject",
                         "smtpd_recipient_restrictions", "permit_mynetworks strict"),
      { 0 }, "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
    { "class permits", C("smtpd_restriction_classes", "loose", "loose", "permit",
                         "smtpd_recipient_restrictions", "loose reject"),
      { 0 }, "OK" },
    { "class recursion", C("smtpd_restriction_classes", "loop", "loop", "loop",
                           "smtpd_recipient_restrictions", "loop"),
      { 0 }, "451 4.3.5 Server configuration error" },
    { "multi recipient bounce", C("smtpd_recipient_restrictions", "reject_multi_recipient_bounce"),
      { .sender = "", .rcpt_count = 1 },
      "550 5.5.3 <bob@example.com>: Recipient address rejected: Multi-recipient bounce" },
    { "single bounce", C("smtpd_recipient_restrictions", "reject_multi_recipient_bounce"),
      { .sender = "" }, "OK" },
};

static const struct tcase relay_cases[] = {
    { "default: outside", C("smtpd_relay_restrictions",
                            "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"),
      { .rcpt = "x@elsewhere.test" }, "454 4.7.1 <x@elsewhere.test>: Relay access denied" },
    { "default: mynetworks", C("smtpd_relay_restrictions",
                               "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"),
      { .rcpt = "x@elsewhere.test", .addr = "192.0.2.77" }, "OK" },
    { "default: sasl", C("smtpd_relay_restrictions",
                         "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"),
      { .rcpt = "x@elsewhere.test", .sasl = "LOGIN" }, "OK" },
    { "reject_unauth", C("smtpd_relay_restrictions", "reject_unauth_destination"),
      { .rcpt = "x@elsewhere.test" }, "554 5.7.1 <x@elsewhere.test>: Relay access denied" },
    { "relay code", C("smtpd_relay_restrictions", "reject_unauth_destination",
                      "relay_domains_reject_code", "550"),
      { .rcpt = "x@elsewhere.test" }, "550 5.7.1 <x@elsewhere.test>: Relay access denied" },
    { "bad derived code", C("smtpd_relay_restrictions", "defer_unauth_destination",
                            "relay_domains_reject_code", "450"),
      { .rcpt = "x@elsewhere.test" }, "450 4.7.1 Service unavailable" },
    { "relay domain", C("smtpd_relay_restrictions", "reject_unauth_destination"),
      { .rcpt = "x@relay.test" }, "OK" },
    { "relay subdomain", C("smtpd_relay_restrictions", "reject_unauth_destination"),
      { .rcpt = "x@sub.relay.test" }, "OK" },
    { "virtual domain", C("smtpd_relay_restrictions", "reject_unauth_destination"),
      { .rcpt = "alice@virtual.test" }, "OK" },
    { "own literal", C("smtpd_relay_restrictions", "reject_unauth_destination"),
      { .rcpt = "bob@[192.0.2.2]" }, "OK" },
    { "other literal", C("smtpd_relay_restrictions", "reject_unauth_destination"),
      { .rcpt = "bob@[203.0.113.9]" }, "554 5.7.1 <bob@[203.0.113.9]>: Relay access denied" },
    { "routed", C("smtpd_relay_restrictions", "reject_unauth_destination"),
      { .rcpt = "x@elsewhere.test@example.com" },
      "554 5.7.1 <x@elsewhere.test@example.com>: Relay access denied" },
    { "trailing dot", C("smtpd_relay_restrictions", "reject_unauth_destination"),
      { .rcpt = "bob@example.com." }, "OK" },
    { "permit_auth_destination", C("smtpd_relay_restrictions", "permit_auth_destination, reject"),
      { .rcpt = "x@relay.test" }, "OK" },
    { "permit_auth_destination no", C("smtpd_relay_restrictions", "permit_auth_destination, reject"),
      { .rcpt = "x@elsewhere.test" },
      "554 5.7.1 <x@elsewhere.test>: Recipient address rejected: Access denied" },
    { "domain table error", C("smtpd_relay_restrictions", "reject_unauth_destination",
                              "relay_domains", "fail:relay"),
      { .rcpt = "x@elsewhere.test" }, "451 4.3.0 <x@elsewhere.test>: Temporary lookup failure" },
    { "relay OK still runs recipient", C("smtpd_relay_restrictions", "permit_mynetworks, reject",
                                         "smtpd_recipient_restrictions", "reject"),
      { .addr = "192.0.2.5" }, "554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied" },
};

static const struct tcase unlisted_cases[] = {
    { "unknown local", C(NULL), { .rcpt = "dave@example.com" },
      "550 5.1.1 <dave@example.com>: Recipient address rejected: User unknown in local recipient table" },
    { "extension", C(NULL), { .rcpt = "bob+lists@example.com" }, "OK" },
    { "case", C(NULL), { .rcpt = "Carol@Example.COM" }, "OK" },
    { "postmaster exempt", C(NULL), { .rcpt = "postmaster@example.com" }, "OK" },
    { "mailer-daemon exempt", C(NULL), { .rcpt = "MAILER-DAEMON@example.com" }, "OK" },
    { "unqualified", C(NULL), { .rcpt = "carol" }, "OK" },
    { "unknown virtual", C(NULL), { .rcpt = "eve@virtual.test" },
      "550 5.1.1 <eve@virtual.test>: Recipient address rejected: User unknown in virtual mailbox table" },
    { "virtual catch-all", C("virtual_mailbox_domains", "virtual.test catchall.test"),
      { .rcpt = "anyone@catchall.test" }, "OK" },
    { "relay recipients", C("relay_recipient_maps", "inline:{ok@relay.test=x}"),
      { .rcpt = "nope@relay.test" },
      "550 5.1.1 <nope@relay.test>: Recipient address rejected: User unknown in relay recipient table" },
    { "unlisted off", C("smtpd_reject_unlisted_recipient", "no"), { .rcpt = "dave@example.com" }, "OK" },
    { "no table name", C("show_user_unknown_table_name", "no"), { .rcpt = "dave@example.com" },
      "550 5.1.1 <dave@example.com>: Recipient address rejected: User unknown" },
    { "no local maps", C("local_recipient_maps", ""), { .rcpt = "dave@example.com" }, "OK" },
    { "code", C("unknown_local_recipient_reject_code", "450"), { .rcpt = "dave@example.com" },
      "450 4.1.1 <dave@example.com>: Recipient address rejected: User unknown in local recipient table" },
    { "maps error", C("local_recipient_maps", "fail:users"), { .rcpt = "dave@example.com" },
      "451 4.3.0 <dave@example.com>: Temporary lookup failure" },
    { "explicit restriction", C("smtpd_reject_unlisted_recipient", "no",
                                "smtpd_recipient_restrictions", "reject_unlisted_recipient"),
      { .rcpt = "dave@example.com" },
      "550 5.1.1 <dave@example.com>: Recipient address rejected: User unknown in local recipient table" },
    { "warned check", C("smtpd_recipient_restrictions", "warn_if_reject reject_unlisted_recipient"),
      { .rcpt = "dave@example.com" },
      "550 5.1.1 <dave@example.com>: Recipient address rejected: User unknown in local recipient table" },
    { "bare postmaster", C("smtpd_client_restrictions", "reject"), { .rcpt = "Postmaster" }, "OK" },
};


static void generic(void **state)
{
    RUN(generic_cases);
}

static void client(void **state)
{
    RUN(client_cases);
}

static void helo(void **state)
{
    RUN(helo_cases);
}

static void sender(void **state)
{
    RUN(sender_cases);
}

static void recipient(void **state)
{
    RUN(recipient_cases);
}

static void relay(void **state)
{
    RUN(relay_cases);
}

static void unlisted(void **state)
{
    RUN(unlisted_cases);
}

/* Replies stay within RFC 5321's line length and never carry control bytes. */
static void reply_hygiene(void **state)
{
    const char *cfg[] = { "smtpd_recipient_restrictions", "reject", NULL };
    struct policy_env *env = tenv_ok(cfg);
    char rcpt[800];
    memset(rcpt, 'a', 700);
    strcpy(rcpt + 700, "@example.com");
    struct tfacts t = { .rcpt = rcpt };
    struct tfacts_buf fb;
    tfacts_fill(&fb, &t);
    struct policy_session ps;
    policy_session_init(&ps);
    char got[1200];
    tcheck(env, STAGE_RCPT, &fb.f, &ps, got, sizeof(got));
    assert_true(strlen(got) <= 510);
    assert_true(strncmp(got, "554 5.7.1 <aaaa", 15) == 0);
    struct tfacts ctl = { .rcpt = "bo\rb\x01@example.com" };
    tfacts_fill(&fb, &ctl);
    policy_session_init(&ps);
    tcheck(env, STAGE_RCPT, &fb.f, &ps, got, sizeof(got));
    assert_string_equal(got, "554 5.7.1 <bo b @example.com>: Recipient address rejected: Access denied");
    policy_env_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generic),
        cmocka_unit_test(client),
        cmocka_unit_test(helo),
        cmocka_unit_test(sender),
        cmocka_unit_test(recipient),
        cmocka_unit_test(relay),
        cmocka_unit_test(unlisted),
        cmocka_unit_test(reply_hygiene),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
