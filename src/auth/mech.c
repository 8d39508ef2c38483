/*
 * The mechanism catalogue: names and security properties of every SASL
 * mechanism gatepost knows of (its own and those Dovecot or Cyrus may
 * offer), Postfix's security option words, and the helpers every
 * mechanism uses to finish a step.
 *
 * Flags follow what Cyrus SASL and Dovecot declare for each mechanism:
 * a flag names a weakness (plaintext, dictionary, active, anonymous) or a
 * strength (mutual authentication, forward secrecy). Postfix's "noX" words
 * forbid a weakness; "mutual_auth" and "forward_secrecy" require a strength.
 */
#include "auth/mech.h"

#include "base/strutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define F_PT MECH_PLAINTEXT
#define F_DICT MECH_DICTIONARY
#define F_ANON MECH_ANONYMOUS
#define F_MUT MECH_MUTUAL_AUTH
#define F_FS MECH_FORWARD_SECRECY
#define F_ACT MECH_ACTIVE

static const struct mech_info mech_table[] = {
    { "PLAIN", F_PT | F_ACT },
    { "LOGIN", F_PT | F_ACT },
    { "CRAM-MD5", F_DICT | F_ACT },
    { "DIGEST-MD5", F_DICT | F_ACT | F_MUT },
    { "SCRAM-SHA-1", F_MUT },
    { "SCRAM-SHA-1-PLUS", F_MUT },
    { "SCRAM-SHA-256", F_MUT },
    { "SCRAM-SHA-256-PLUS", F_MUT },
    { "NTLM", F_DICT | F_ACT },
    { "GSSAPI", F_MUT },
    { "GS2-KRB5", F_MUT },
    { "OTP", F_DICT | F_ACT | F_FS },
    { "SKEY", F_DICT | F_ACT | F_FS },
    { "ANONYMOUS", F_ANON | F_ACT },
    { "EXTERNAL", F_ACT },
    { "XOAUTH2", F_PT | F_ACT },
    { "OAUTHBEARER", F_PT | F_ACT },
    { "APOP", F_DICT | F_ACT },
};

const struct mech_info *mech_info_find(const char *name)
{
    for (size_t i = 0; i < sizeof(mech_table) / sizeof(mech_table[0]); i++)
        if (strcasecmp(name, mech_table[i].name) == 0)
            return &mech_table[i];
    return NULL;
}

/* Postfix's security option words and what each forbids or requires. */
static const struct {
    const char *word;
    unsigned forbidden;
    unsigned required;
} policy_words[] = {
    { "noplaintext", MECH_PLAINTEXT, 0 },
    { "noactive", MECH_ACTIVE, 0 },
    { "nodictionary", MECH_DICTIONARY, 0 },
    { "noanonymous", MECH_ANONYMOUS, 0 },
    { "mutual_auth", 0, MECH_MUTUAL_AUTH },
    { "forward_secrecy", 0, MECH_FORWARD_SECRECY },
};

#define POLICY_TEXT_MAX 1024
#define POLICY_WORD_MAX 64

/* Applies one word; false if it is not a known option. */
static bool policy_apply(const char *word, size_t n, struct mech_policy *p)
{
    for (size_t i = 0; i < sizeof(policy_words) / sizeof(policy_words[0]); i++) {
        if (strlen(policy_words[i].word) == n && strncasecmp(word, policy_words[i].word, n) == 0) {
            p->forbidden |= policy_words[i].forbidden;
            p->required |= policy_words[i].required;
            return true;
        }
    }
    return false;
}

bool mech_policy_parse(const char *options, struct mech_policy *out, const char **why)
{
    static _Thread_local char reason[POLICY_WORD_MAX + 64];
    struct mech_policy p = { 0, 0 };
    size_t len = strlen(options);
    if (len > POLICY_TEXT_MAX) {
        *why = "SASL security options are too long";
        return false;
    }
    for (size_t i = 0; i < len;) {
        size_t skip = strspn(options + i, STR_LIST_SEPARATORS);
        i += skip;
        size_t n = strcspn(options + i, STR_LIST_SEPARATORS);
        if (n == 0)
            break;
        if (!policy_apply(options + i, n, &p)) {
            int shown = n > POLICY_WORD_MAX ? POLICY_WORD_MAX : (int)n;
            snprintf(reason, sizeof(reason), "unknown SASL security option \"%.*s\"",
                     shown, options + i);
            *why = reason;
            return false;
        }
        i += n;
    }
    *out = p;
    return true;
}

bool mech_policy_allows(const struct mech_policy *p, unsigned flags)
{
    return (flags & p->forbidden) == 0 && (flags & p->required) == p->required;
}

static const struct mech_ops *const implemented_ops[] = {
    &mech_scram_sha256_ops,
    &mech_scram_sha1_ops,
    &mech_cram_md5_ops,
    &mech_plain_ops,
    &mech_login_ops,
};

const char *const mech_implemented[] = {
    "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", NULL,
};

const struct mech_ops *mech_find(const char *name)
{
    for (size_t i = 0; i < sizeof(implemented_ops) / sizeof(implemented_ops[0]); i++)
        if (strcasecmp(name, implemented_ops[i]->name) == 0)
            return implemented_ops[i];
    return NULL;
}

void mech_result_init(struct mech_result *r)
{
    r->status = MECH_FAILURE;
    buf_init(&r->challenge, 0);
    r->username[0] = '\0';
    r->reason[0] = '\0';
}

void mech_result_free(struct mech_result *r)
{
    buf_free(&r->challenge);
}

/* Length of the UTF-8 sequence led by c and its smallest allowed second byte. */
static size_t utf8_lead(uint8_t c, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef) {
        if (c == 0xe0)
            *lo = 0xa0;         /* no overlong forms */
        if (c == 0xed)
            *hi = 0x9f;         /* no UTF-16 surrogates */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (c == 0xf0)
            *lo = 0x90;
        if (c == 0xf4)
            *hi = 0x8f;         /* nothing above U+10FFFF */
        return 4;
    }
    return 0;
}

bool mech_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        uint8_t lo, hi;
        size_t len = utf8_lead(c, &lo, &hi);
        if (len == 0 || len > n - i)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += len;
    }
    return true;
}

void mech_fail(struct mech_result *r, enum mech_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
    va_end(ap);
    r->status = status;
    buf_reset(&r->challenge);
}

void mech_fail_cred(struct mech_result *r, enum cred_status st, const char *user)
{
    str_copy(r->username, sizeof(r->username), user);
    switch (st) {
    case CRED_OK:
        break;
    case CRED_NO_USER:
        mech_fail(r, MECH_FAILURE, "unknown user");
        return;
    case CRED_BAD_PASSWORD:
        mech_fail(r, MECH_FAILURE, "wrong password");
        return;
    case CRED_NOT_ALLOWED:
        mech_fail(r, MECH_FAILURE, "user may not authenticate from this client "
                                   "(allowed networks or account disabled)");
        return;
    case CRED_NO_SECRET:
        mech_fail(r, MECH_FAILURE, "no secret for this mechanism for this user");
        return;
    case CRED_TEMPFAIL:
        mech_fail(r, MECH_TEMPFAIL, "credential store temporarily unavailable");
        return;
    }
    mech_fail(r, MECH_FAILURE, "credential store error");
}

void mech_succeed(struct mech_result *r, const char *user)
{
    r->status = MECH_SUCCESS;
    str_copy(r->username, sizeof(r->username), user);
    r->reason[0] = '\0';
    buf_reset(&r->challenge);
}

void mech_continue(struct mech_result *r, const void *challenge, size_t len)
{
    r->status = MECH_CONTINUE;
    buf_reset(&r->challenge);
    if (len > 0 && !buf_append(&r->challenge, challenge, len))
        mech_fail(r, MECH_FAILURE, "challenge too long");
}
