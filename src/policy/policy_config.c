/*
 * The struct config front end of the policy environment: parameters are
 * read through config.h's typed accessors (strings expanded, booleans and
 * numbers already range-checked by the config component), and names that
 * are not gatepost parameters (restriction class definitions, Postfix
 * parameters gatepost does not list) through cfg_lookup().
 *
 * Kept apart from policy_env.c so that code using policy_env_new_source()
 * (tests, tools) does not need the config library.
 */
#include "policy/policy_priv.h"

#include "config/config.h"

#include <stdio.h>

struct cfg_ctx {
    const struct config *cfg;
    char num[4][32];            /* numbers formatted for the caller, round robin */
    unsigned next;
};

static const char *cfg_value(void *arg, const char *name)
{
    struct cfg_ctx *c = arg;
    enum param_id id;
    if (!param_find(name, &id))
        return cfg_lookup(c->cfg, name);
    char *out = c->num[c->next++ % 4];
    switch (param_type_of(id)) {
    case PARAM_STR:
        return cfg_str(c->cfg, id);
    case PARAM_BOOL:
        return cfg_bool(c->cfg, id) ? "yes" : "no";
    case PARAM_INT:
        snprintf(out, sizeof(c->num[0]), "%lld", cfg_int(c->cfg, id));
        return out;
    case PARAM_SIZE:
        snprintf(out, sizeof(c->num[0]), "%lld", (long long)cfg_size(c->cfg, id));
        return out;
    case PARAM_TIME:
        snprintf(out, sizeof(c->num[0]), "%lld", cfg_time_ms(c->cfg, id) / 1000);
        return out;
    }
    return NULL;
}

static const char *cfg_where(void *arg, const char *name)
{
    struct cfg_ctx *c = arg;
    enum param_id id;
    return param_find(name, &id) ? cfg_origin(c->cfg, id) : NULL;
}

struct policy_env *policy_env_new(const struct config *cfg, struct diag *diag)
{
    struct cfg_ctx ctx = { cfg, { { 0 } }, 0 };
    struct policy_source src = { cfg_value, cfg_where, &ctx, cfg };
    return policy_env_new_source(&src, diag);
}
