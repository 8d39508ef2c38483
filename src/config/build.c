/*
 * Building a config from raw settings: name classification, expansion and
 * type checks, done once so that a built config is immutable.
 *
 * Every parameter and every other name that was set becomes a node. Nodes
 * are expanded on demand and memoised (PENDING -> BUSY -> DONE/FAILED): a
 * reference to a BUSY node is a loop, and a chain deeper than
 * CONFIG_EXPAND_DEPTH is refused, so no configuration can make the loader
 * recurse without bound. All expanded text together is capped at
 * CONFIG_TOTAL_MAX bytes (a value like "$a$a$a..." doubling through many
 * parameters would otherwise grow exponentially).
 *
 * Which problems are reported: a config for main.cf alone reports
 * everything; a config derived for a master.cf service reports warnings
 * only about its -o overrides (main.cf's were reported when main.cf was
 * loaded) but every error, since an override can break a main.cf value.
 */
#include "config/config_internal.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct build_ctx {
    struct config *cfg;
    struct diag *diag;
    bool derived;
    size_t depth;
    struct cfg_node *stack[CONFIG_EXPAND_DEPTH];
    size_t budget;              /* expanded bytes still allowed */
    int nesting;                /* open ${...} levels across the recursion */
};

static const char *where(const struct cfg_node *node)
{
    return node->origin ? node->origin : "";
}

static bool in_scope(const struct build_ctx *b, const struct cfg_node *node)
{
    return b->derived ? node->from_override : true;
}

/* An error about node, with the service named when an override may be to blame. */
static void node_error(struct build_ctx *b, const struct cfg_node *node, const char *what)
{
    const char *service = b->cfg->service_name;
    if (!node->origin)
        diag_add(b->diag, DIAG_ERROR, "", "default value of parameter %s: %s%s%s%s",
                 node->name, what, service ? " (service " : "", service ? service : "",
                 service ? ")" : "");
    else if (b->derived && !node->from_override)
        diag_add(b->diag, DIAG_ERROR, node->origin, "%s (with the overrides of service %s)",
                 what, service);
    else
        diag_add(b->diag, DIAG_ERROR, node->origin, "%s", what);
}

static void report_loop(struct build_ctx *b, const struct cfg_node *node)
{
    struct buf chain;
    buf_init(&chain, 1024);
    size_t from = 0;
    while (from < b->depth && b->stack[from] != node)
        from++;
    for (size_t i = from; i < b->depth; i++)
        buf_printf(&chain, "%s -> ", b->stack[i]->name);
    buf_puts(&chain, node->name);
    char *what = xasprintf("cannot expand parameter %s: recursion loop %s", node->name,
                           buf_cstr(&chain));
    node_error(b, node, what);
    free(what);
    buf_free(&chain);
}

static void report_depth(struct build_ctx *b, const struct cfg_node *next)
{
    const struct cfg_node *top = b->stack[0];
    char *what = xasprintf("cannot expand parameter %s: more than %d nested $name references "
                           "(%s -> %s -> ... -> %s -> %s)", top->name, CONFIG_EXPAND_DEPTH,
                           top->name, b->stack[1]->name, b->stack[b->depth - 1]->name,
                           next->name);
    node_error(b, top, what);
    free(what);
}

static const char *resolve(struct build_ctx *b, struct cfg_node *node);

static const char *lookup_value(void *ctx, const char *name, size_t len, bool *undefined)
{
    struct build_ctx *b = ctx;
    char *key = xstrndup(name, len);
    struct cfg_node *node = cfg_node_find(b->cfg, key);
    if (!node) {
        struct cfg_node *cur = b->stack[b->depth - 1];
        *undefined = true;
        if (in_scope(b, cur))
            diag_add(b->diag, DIAG_WARNING, where(cur),
                     "undefined parameter $%s in value of %s (expands to empty)", key, cur->name);
        free(key);
        return NULL;
    }
    free(key);
    return resolve(b, node);
}

static bool lookup_nonempty(void *ctx, const char *name, size_t len)
{
    struct build_ctx *b = ctx;
    char *key = xstrndup(name, len);
    struct cfg_node *node = cfg_node_find(b->cfg, key);
    free(key);
    if (node && !node->raw)
        resolve(b, node);   /* a computed default: compute it first */
    return node && node->raw && node->raw[0];
}

/* Expands node->raw into node->value; false (reported) on error. */
static bool expand_node(struct build_ctx *b, struct cfg_node *node)
{
    struct expand_ops ops = { lookup_value, lookup_nonempty, b, &b->nesting };
    struct buf out;
    char why[512];
    buf_init(&out, b->budget < CONFIG_VALUE_MAX ? b->budget : CONFIG_VALUE_MAX);
    if (!cfg_expand_text(&ops, node->raw, strlen(node->raw), &out, why, sizeof(why))) {
        if (why[0]) {
            char *what = xasprintf("cannot expand parameter %s: %s", node->name, why);
            node_error(b, node, what);
            free(what);
        }
        buf_free(&out);
        return false;
    }
    b->budget -= out.len;
    node->value = buf_steal(&out);
    return true;
}

/* Computes a default that depends on the host (myhostname, ...). */
static bool compute_default(struct build_ctx *b, struct cfg_node *node)
{
    enum param_id id;
    if (!param_find(node->name, &id) || !cfg_computed_default(id))
        return false;
    node->raw = cfg_computed_default(id)(b->cfg, b->diag);
    return node->raw != NULL;
}

static bool check_node(struct build_ctx *b, struct cfg_node *node)
{
    struct cfg_node *params = b->cfg->params;
    if (node < params || node >= params + PARAM_COUNT)
        return true;    /* not a parameter: any text is fine */
    char why[512];
    if (cfg_check_value((enum param_id)(node - params), node, why, sizeof(why)))
        return true;
    node_error(b, node, why);
    return false;
}

static const char *resolve(struct build_ctx *b, struct cfg_node *node)
{
    if (node->state == NODE_DONE)
        return node->value;
    if (node->state == NODE_FAILED)
        return NULL;
    if (node->state == NODE_BUSY) {
        report_loop(b, node);
        return NULL;
    }
    if (b->depth >= CONFIG_EXPAND_DEPTH) {
        report_depth(b, node);
        return NULL;
    }
    node->state = NODE_BUSY;
    b->stack[b->depth++] = node;
    bool ok = (node->raw || compute_default(b, node)) && expand_node(b, node);
    b->depth--;
    ok = ok && check_node(b, node);
    node->state = ok ? NODE_DONE : NODE_FAILED;
    return ok ? node->value : NULL;
}

const char *cfg_build_value(struct config *cfg, enum param_id id)
{
    if (!cfg->building)
        return cfg->params[id].value;
    return resolve(cfg->building, &cfg->params[(size_t)id]);
}

/* ---- nodes from settings ---- */

static void set_node(struct cfg_node *node, const struct cfg_setting *s)
{
    free(node->raw);
    node->raw = xstrdup(s->raw);
    node->origin = xasprintf("%s:%d", s->file, s->line);
    node->set = true;
    node->from_override = s->from_override;
}

static void note_reference(void *arg, const char *name, size_t len)
{
    struct cfg_settings *refs = arg;
    char *key = xstrndup(name, len);
    if (cfg_settings_find(refs, key) < 0)
        cfg_settings_put(refs, key, "", NULL, 0, false);
    free(key);
}

/* Restriction classes are parameters named by smtpd_restriction_classes. */
static void note_restriction_classes(const struct cfg_settings *eff, struct cfg_settings *refs)
{
    int i = cfg_settings_find(eff, "smtpd_restriction_classes");
    if (i < 0)
        return;
    size_t n;
    char **names = str_list_split(eff->items[i].raw, STR_LIST_SEPARATORS, &n);
    for (size_t k = 0; k < n; k++)
        note_reference(refs, names[k], strlen(names[k]));
    free(names);
}

/* Every name referenced as $NAME by a value or a default, or used as a class. */
static void collect_references(const struct cfg_settings *eff, struct cfg_settings *refs)
{
    note_restriction_classes(eff, refs);
    for (size_t i = 0; i < eff->count; i++)
        cfg_scan_references(eff->items[i].raw, note_reference, refs);
    for (size_t id = 0; id < PARAM_COUNT; id++)
        cfg_scan_references(param_default((enum param_id)id), note_reference, refs);
}

static void classify_extra(struct build_ctx *b, const struct cfg_setting *s,
                           const struct cfg_settings *refs)
{
    if (b->derived && !s->from_override)
        return;
    if (param_is_postfix(s->name))
        diag_addf_at(b->diag, DIAG_WARNING, s->file, s->line,
                     "%s: Postfix parameter not supported by gatepost yet; ignored", s->name);
    else if (cfg_settings_find(refs, s->name) < 0)
        diag_addf_at(b->diag, DIAG_WARNING, s->file, s->line, "unknown parameter %s", s->name);
}

static int compare_nodes(const void *a, const void *b)
{
    return strcmp(((const struct cfg_node *)a)->name, ((const struct cfg_node *)b)->name);
}

static void make_nodes(struct build_ctx *b, const struct cfg_settings *eff)
{
    struct config *cfg = b->cfg;
    struct cfg_settings refs = { 0 };
    collect_references(eff, &refs);
    for (size_t id = 0; id < PARAM_COUNT; id++) {
        struct cfg_node *node = &cfg->params[id];
        node->name = param_name((enum param_id)id);
        if (!cfg_computed_default((enum param_id)id))
            node->raw = xstrdup(param_default((enum param_id)id));
    }
    cfg->extra = xcalloc(eff->count ? eff->count : 1, sizeof(*cfg->extra));
    for (size_t i = 0; i < eff->count; i++) {
        const struct cfg_setting *s = &eff->items[i];
        enum param_id id;
        if (param_find(s->name, &id)) {
            set_node(&cfg->params[id], s);
            continue;
        }
        struct cfg_node *node = &cfg->extra[cfg->nextra++];
        node->name = xstrdup(s->name);
        set_node(node, s);
        classify_extra(b, s, &refs);
    }
    qsort(cfg->extra, cfg->nextra, sizeof(*cfg->extra), compare_nodes);
    cfg_settings_free(&refs);
}

static void copy_settings(struct cfg_settings *dst, const struct cfg_settings *src)
{
    for (size_t i = 0; i < src->count; i++) {
        const struct cfg_setting *s = &src->items[i];
        cfg_settings_put(dst, s->name, s->raw, s->file, s->line, s->from_override);
    }
}

struct config *cfg_build(const struct cfg_settings *settings,
                         const struct config_override *overrides, size_t noverrides,
                         const char *service_name, const struct config_source *source,
                         struct diag *diag)
{
    struct config *cfg = xcalloc(1, sizeof(*cfg));
    cfg->source.embedded = source ? source->embedded : false;
    if (source && source->config_dir)
        cfg->config_dir = xstrdup(source->config_dir);
    cfg->source.config_dir = cfg->config_dir;
    cfg->service_name = service_name ? xstrdup(service_name) : NULL;
    copy_settings(&cfg->settings, settings);

    struct cfg_settings eff = { 0 };
    copy_settings(&eff, settings);
    for (size_t i = 0; i < noverrides; i++)
        cfg_settings_put(&eff, overrides[i].name, overrides[i].value, overrides[i].file,
                         overrides[i].line, true);

    struct build_ctx *b = xcalloc(1, sizeof(*b));
    *b = (struct build_ctx){ .cfg = cfg, .diag = diag, .derived = service_name != NULL,
                             .budget = CONFIG_TOTAL_MAX };
    size_t errors = diag->errors;
    cfg->building = b;
    make_nodes(b, &eff);
    for (size_t id = 0; id < PARAM_COUNT; id++)
        resolve(b, &cfg->params[id]);
    for (size_t i = 0; i < cfg->nextra; i++)
        resolve(b, &cfg->extra[i]);
    cfg->building = NULL;
    free(b);
    cfg_settings_free(&eff);
    if (diag->errors > errors) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct cfg_node *cfg_node_find(struct config *cfg, const char *name)
{
    enum param_id id;
    if (param_find(name, &id))
        return &cfg->params[id];
    struct cfg_node key = { .name = name };
    return bsearch(&key, cfg->extra, cfg->nextra, sizeof(*cfg->extra), compare_nodes);
}

const struct cfg_node *cfg_node_find_const(const struct config *cfg, const char *name)
{
    return cfg_node_find((struct config *)cfg, name);
}
