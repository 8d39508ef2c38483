/*
 * Static facts about parameters: the params.def table turned into an array
 * indexed by enum param_id, lookups by name, and the list of Postfix 3.7
 * parameter names (postfix_names.inc) used to tell an unsupported Postfix
 * parameter from a typo.
 *
 * Invariant: params.def is sorted by name (a unit test checks it), so a
 * name lookup is a binary search and `gatepost config` prints in order.
 */
#include "config/config_internal.h"

#include "base/log.h"

#include <stdlib.h>
#include <string.h>

#ifndef GATEPOST_VERSION
#define GATEPOST_VERSION "0.0.0"
#endif

static const struct param_info params[PARAM_COUNT] = {
#define X(id, name, type, def, min, max, unit, doc) \
    [P_##id] = { name, PARAM_##type, def, min, max, unit, doc },
#include "config/params.def"
#undef X
};

static const char *const postfix_names[] = {
#include "config/postfix_names.inc"
};

/*
 * Per-transport parameters: Postfix accepts "<service>_<suffix>" for every
 * delivery service in master.cf (smtp_destination_concurrency_limit,
 * amavis_destination_recipient_limit, ...), so postconf -d lists them only
 * for the services of the local master.cf.
 */
static const char *const transport_suffixes[] = {
    "_delivery_slot_cost", "_delivery_slot_discount", "_delivery_slot_loan",
    "_destination_concurrency_failed_cohort_limit",
    "_destination_concurrency_limit",
    "_destination_concurrency_negative_feedback",
    "_destination_concurrency_positive_feedback",
    "_destination_rate_delay", "_destination_recipient_limit",
    "_extra_recipient_limit", "_initial_destination_concurrency",
    "_minimum_delivery_slots", "_recipient_limit", "_recipient_refill_delay",
    "_recipient_refill_limit", "_time_limit", "_transport_rate_delay",
};

const struct param_info *param_info(enum param_id id)
{
    if ((unsigned)id >= PARAM_COUNT)
        log_panic("config: parameter id %d out of range", (int)id);
    return &params[id];
}

const char *param_name(enum param_id id)
{
    return param_info(id)->name;
}

enum param_type param_type_of(enum param_id id)
{
    return param_info(id)->type;
}

const char *param_default(enum param_id id)
{
    return param_info(id)->def;
}

const char *param_doc(enum param_id id)
{
    return param_info(id)->doc;
}

bool param_name_valid(const char *name, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

bool param_find(const char *name, enum param_id *id)
{
    size_t lo = 0, hi = PARAM_COUNT;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(name, params[mid].name);
        if (cmp == 0) {
            if (id)
                *id = (enum param_id)mid;
            return true;
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

static int compare_name(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static bool is_transport_param(const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof(transport_suffixes) / sizeof(transport_suffixes[0]); i++) {
        size_t slen = strlen(transport_suffixes[i]);
        if (len > slen && strcmp(name + len - slen, transport_suffixes[i]) == 0)
            return true;
    }
    return false;
}

bool param_is_postfix(const char *name)
{
    size_t n = sizeof(postfix_names) / sizeof(postfix_names[0]);
    if (bsearch(name, postfix_names, n, sizeof(postfix_names[0]), compare_name))
        return true;
    return is_transport_param(name);
}
