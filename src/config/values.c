/*
 * Typed values, checked once when a config is built: BOOL is yes/no (any
 * case), INT and SIZE are plain decimal numbers within the parameter's
 * range, TIME is a number with an optional unit letter (s m h d w; the
 * parameter's default unit otherwise), as postconf(5) specifies. Some
 * string parameters only take a few words; they are listed in
 * word_choices below, one row each.
 *
 * An error message has the form "bad <type> value for parameter NAME: ..."
 * and the caller prefixes the file and line where the value was set.
 */
#include "config/config_internal.h"

#include "base/strutil.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* String parameters restricted to a set of words (list: several allowed). */
static const struct {
    enum param_id id;
    bool list;
    const char *words[10];
} word_choices[] = {
    { P_INET_PROTOCOLS, true, { "all", "ipv4", "ipv6" } },
    { P_MYNETWORKS_STYLE, false, { "host", "subnet", "class" } },
    { P_NOTIFY_CLASSES, true, { "bounce", "2bounce", "data", "delay", "policy",
                                "protocol", "resource", "software" } },
    { P_REJECT_TEMPFAIL_ACTION, false, { "defer_if_permit", "defer" } },
    { P_SMTPD_FORBID_BARE_NEWLINE, false, { "no", "normalize", "yes", "reject" } },
    { P_UNKNOWN_ADDRESS_TEMPFAIL_ACTION, false, { "defer_if_permit", "defer" } },
};

static bool word_allowed(const char *const *words, const char *w, size_t len)
{
    for (size_t i = 0; i < 10 && words[i]; i++)
        if (strlen(words[i]) == len && strncasecmp(words[i], w, len) == 0)
            return true;
    return false;
}

static void list_words(const char *const *words, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < 10 && words[i]; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? ", " : "", words[i]);
    }
}

static bool check_words(enum param_id id, const char *value, char *why, size_t why_size)
{
    for (size_t k = 0; k < sizeof(word_choices) / sizeof(word_choices[0]); k++) {
        if (word_choices[k].id != id)
            continue;
        const char *p = value;
        size_t items = 0;
        for (;;) {
            p += strspn(p, STR_LIST_SEPARATORS);
            size_t len = strcspn(p, STR_LIST_SEPARATORS);
            if (len == 0)
                break;
            items++;
            bool bad = !word_allowed(word_choices[k].words, p, len)
                       || (!word_choices[k].list && items > 1);
            if (bad) {
                char allowed[160];
                list_words(word_choices[k].words, allowed, sizeof(allowed));
                snprintf(why, why_size, "bad value for parameter %s: \"%.100s\" (specify %s%s)",
                         param_name(id), value, word_choices[k].list ? "a list of: " : "one of: ",
                         allowed);
                return false;
            }
            p += len;
        }
        if (items == 0 && !word_choices[k].list) {
            snprintf(why, why_size, "bad value for parameter %s: empty", param_name(id));
            return false;
        }
    }
    return true;
}

/* Decimal digits with an optional leading '-'; *end is the first other byte. */
static bool parse_decimal(const char *s, long long *out, const char **end)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    errno = 0;
    char *e;
    long long v = strtoll(s, &e, 10);
    if (errno == ERANGE)
        return false;
    *out = v;
    *end = e;
    return true;
}

static bool in_range(const struct param_info *pi, long long v)
{
    if (pi->min == 0 && pi->max == 0)
        return true;
    return v >= pi->min && v <= pi->max;
}

static bool range_error(const struct param_info *pi, const char *kind, const char *value,
                        char *why, size_t why_size)
{
    snprintf(why, why_size, "bad %s value for parameter %s: \"%.100s\" (must be between %lld and %lld%s)",
             kind, pi->name, value, pi->min, pi->max, pi->type == PARAM_TIME ? " seconds" : "");
    return false;
}

static bool check_bool(const struct param_info *pi, struct cfg_node *node, char *why,
                       size_t why_size)
{
    if (strcasecmp(node->value, "yes") == 0)
        node->v.b = true;
    else if (strcasecmp(node->value, "no") == 0)
        node->v.b = false;
    else {
        snprintf(why, why_size, "bad boolean value for parameter %s: \"%.100s\" (specify yes or no)",
                 pi->name, node->value);
        return false;
    }
    return true;
}

static bool check_number(const struct param_info *pi, struct cfg_node *node, char *why,
                         size_t why_size)
{
    const char *kind = pi->type == PARAM_SIZE ? "size" : "integer";
    long long v;
    const char *end;
    if (!parse_decimal(node->value, &v, &end) || *end != '\0'
        || (pi->type == PARAM_SIZE && v < 0)) {
        snprintf(why, why_size, "bad %s value for parameter %s: \"%.100s\" (specify a%s number)",
                 kind, pi->name, node->value, pi->type == PARAM_SIZE ? " non-negative" : "");
        return false;
    }
    if (!in_range(pi, v))
        return range_error(pi, kind, node->value, why, why_size);
    if (pi->type == PARAM_SIZE)
        node->v.size = v;
    else
        node->v.i = v;
    return true;
}

static long long unit_seconds(char unit)
{
    switch (unit) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return 0;
    }
}

static bool check_time(const struct param_info *pi, struct cfg_node *node, char *why,
                       size_t why_size)
{
    long long v;
    const char *end;
    bool ok = parse_decimal(node->value, &v, &end) && v >= 0;
    char unit = ok && *end ? *end : pi->unit;
    long long mult = unit_seconds(unit);
    if (!ok || mult == 0 || (*end && end[1] != '\0')) {
        snprintf(why, why_size, "bad time value for parameter %s: \"%.100s\" "
                 "(specify a number with an optional unit s, m, h, d or w)",
                 pi->name, node->value);
        return false;
    }
    if (v > LLONG_MAX / 1000 / mult)
        return range_error(pi, "time", node->value, why, why_size);
    long long seconds = v * mult;
    if (!in_range(pi, seconds))
        return range_error(pi, "time", node->value, why, why_size);
    node->v.i = seconds * 1000;
    return true;
}

bool cfg_check_value(enum param_id id, struct cfg_node *node, char *why, size_t why_size)
{
    const struct param_info *pi = param_info(id);
    switch (pi->type) {
    case PARAM_STR:
        return check_words(id, node->value, why, why_size);
    case PARAM_BOOL:
        return check_bool(pi, node, why, why_size);
    case PARAM_INT:
    case PARAM_SIZE:
        return check_number(pi, node, why, why_size);
    case PARAM_TIME:
        return check_time(pi, node, why, why_size);
    }
    return false;
}
