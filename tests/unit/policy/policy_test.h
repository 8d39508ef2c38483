/*
 * Helpers for the policy tests: an environment built from name/value
 * pairs (a policy_source over arrays, so no config library is needed),
 * client facts with defaults, and decisions formatted as the SMTP reply
 * line ("554 5.7.1 text") or "OK".
 */
#ifndef GATEPOST_TESTS_POLICY_TEST_H
#define GATEPOST_TESTS_POLICY_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/netaddr.h"
#include "policy/policy_priv.h"

/* A configuration: the test's pairs first, then the shared base pairs. */
struct tsrc {
    const char *const *over;    /* name, value, ..., NULL */
    const char *const *base;
    char origin[64];
};

static inline const char *tsrc_find(const char *const *kv, const char *name, int *index)
{
    for (int i = 0; kv && kv[i]; i += 2) {
        if (strcmp(kv[i], name) == 0) {
            *index = i / 2 + 1;
            return kv[i + 1];
        }
    }
    return NULL;
}

static inline const char *tsrc_value(void *ctx, const char *name)
{
    struct tsrc *s = ctx;
    int i;
    const char *v = tsrc_find(s->over, name, &i);
    return v ? v : tsrc_find(s->base, name, &i);
}

/* "main.cf:N" for the N-th test pair, "base.cf:N" for base pairs. */
static inline const char *tsrc_origin(void *ctx, const char *name)
{
    struct tsrc *s = ctx;
    int i;
    if (tsrc_find(s->over, name, &i))
        snprintf(s->origin, sizeof(s->origin), "main.cf:%d", i);
    else if (tsrc_find(s->base, name, &i))
        snprintf(s->origin, sizeof(s->origin), "base.cf:%d", i);
    else
        return NULL;
    return s->origin;
}

/* The shared base: a small site with local, virtual and relay domains. */
static const char *const policy_base_cfg[] = {
    "mynetworks", "127.0.0.0/8 [::1]/128 192.0.2.0/24",
    "mydestination", "example.com, localhost",
    "myorigin", "example.com",
    "inet_interfaces", "127.0.0.1, 192.0.2.2",
    "relay_domains", "relay.test",
    "virtual_mailbox_domains", "virtual.test",
    "virtual_mailbox_maps", "inline:{alice@virtual.test=alice/, @catchall.test=all/}",
    "local_recipient_maps", "inline:{bob=x, carol=x}",
    "recipient_delimiter", "+",
    "smtpd_sasl_auth_enable", "yes",
    NULL,
};

/* Builds an environment; on failure returns NULL and leaves the messages in d. */
static inline struct policy_env *tenv(const char *const *over, struct diag *d)
{
    struct tsrc s = { over, policy_base_cfg, "" };
    struct policy_source src = { tsrc_value, tsrc_origin, &s, NULL };
    return policy_env_new_source(&src, d);
}

static inline struct policy_env *tenv_ok(const char *const *over)
{
    struct diag d;
    diag_init(&d);
    struct policy_env *env = tenv(over, &d);
    if (env == NULL) {
        diag_print(&d, stderr);
        fail_msg("environment did not build");
    }
    diag_free(&d);
    return env;
}

/* Builds an environment that must fail with a message containing want. */
static inline void tenv_error(const char *const *over, const char *want)
{
    struct diag d;
    diag_init(&d);
    struct policy_env *env = tenv(over, &d);
    if (env != NULL) {
        policy_env_free(env);
        fail_msg("environment built, expected an error with \"%s\"", want);
    }
    for (size_t i = 0; i < d.count; i++) {
        char line[2048];
        snprintf(line, sizeof(line), "%s: %s", d.entries[i].where, d.entries[i].what);
        if (strstr(line, want)) {
            diag_free(&d);
            return;
        }
    }
    diag_print(&d, stderr);
    diag_free(&d);
    fail_msg("no error containing \"%s\"", want);
}

/* Client facts; NULL fields take the defaults below. */
struct tfacts {
    const char *name;       /* default "unknown" */
    const char *addr;       /* default "198.51.100.1" */
    const char *helo;       /* default "client.example.net"; "-" for none */
    const char *sender;     /* default "s@sender.test"; "-" for none */
    const char *rcpt;       /* default "bob@example.com"; "-" for none */
    const char *sasl;       /* SASL method, NULL unless authenticated */
    const char *user;       /* SASL user name */
    const char *reverse;    /* PTR name; default: name */
    bool tls;
    unsigned rcpt_count;
};

struct tfacts_buf {
    struct netaddr addr;
    struct policy_facts f;
};

static inline const char *tf_or(const char *v, const char *def)
{
    if (v == NULL)
        return def;
    return strcmp(v, "-") == 0 ? NULL : v;
}

static inline void tfacts_fill(struct tfacts_buf *b, const struct tfacts *t)
{
    memset(b, 0, sizeof(*b));
    const char *addr = t->addr ? t->addr : "198.51.100.1";
    assert_true(netaddr_parse(addr, &b->addr));
    b->f.client_addr = &b->addr;
    b->f.client_addr_text = addr;
    b->f.client_name = t->name ? t->name : "unknown";
    b->f.reverse_name = t->reverse ? t->reverse : b->f.client_name;
    b->f.client_port = 12345;
    b->f.helo = tf_or(t->helo, "client.example.net");
    b->f.sender = tf_or(t->sender, "s@sender.test");
    b->f.recipient = tf_or(t->rcpt, "bob@example.com");
    b->f.sasl_method = t->sasl;
    b->f.sasl_username = t->user ? t->user : (t->sasl ? "user" : NULL);
    b->f.tls = t->tls;
    b->f.protocol = "ESMTP";
    b->f.recipient_count = t->rcpt_count;
    b->f.size = -1;
}

/* "OK" or "NNN D.D.D text". */
static inline const char *tfmt(const struct policy_decision *d, char *out, size_t size)
{
    if (d->action == POLICY_OK)
        snprintf(out, size, "OK");
    else
        snprintf(out, size, "%d %s %s", d->code, d->enhanced, d->text);
    return out;
}

/* Runs one stage synchronously (it must not park). */
static inline const char *tcheck(struct policy_env *env, enum policy_stage stage,
                                 const struct policy_facts *f, struct policy_session *ps,
                                 char *out, size_t size)
{
    struct policy_decision d;
    struct policy_eval *pending = NULL;
    assert_true(policy_check(env, stage, f, ps, &d, NULL, NULL, &pending));
    assert_null(pending);
    return tfmt(&d, out, size);
}

/* A table-driven case: settings over the base, the facts, the expected
   RCPT-stage answer ("OK" or "code enhanced text"). */
struct tcase {
    const char *name;
    const char *cfg[12];
    struct tfacts facts;
    const char *want;
};

#define C(...) { __VA_ARGS__, NULL }

static inline void run_tcases(const struct tcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct tcase *c = &cases[i];
        struct diag d;
        diag_init(&d);
        struct policy_env *env = tenv(c->cfg, &d);
        if (env == NULL) {
            diag_print(&d, stderr);
            fail_msg("case \"%s\": environment did not build", c->name);
        }
        diag_free(&d);
        struct tfacts_buf fb;
        tfacts_fill(&fb, &c->facts);
        struct policy_session ps;
        policy_session_init(&ps);
        char got[700];
        tcheck(env, STAGE_RCPT, &fb.f, &ps, got, sizeof(got));
        if (strcmp(got, c->want) != 0)
            fail_msg("case \"%s\":\n   got: %s\n  want: %s", c->name, got, c->want);
        policy_env_free(env);
    }
}

#define RUN(cases) run_tcases(cases, sizeof(cases) / sizeof(cases[0]))

#endif
