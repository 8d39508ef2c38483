/*
 * The public face of the configuration: loading main.cf, deriving a config
 * per master.cf service, typed accessors, and expansion of other text
 * (restriction arguments) against a built config.
 *
 * Accessors never fail on input: a built config holds a checked value for
 * every parameter. Asking for the wrong type is a bug and panics.
 */
#include "config/config_internal.h"

#include "base/fileio.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct config *parse_with_source(const char *text, const char *path,
                                        const struct config_source *source,
                                        struct diag *diag)
{
    struct cfg_settings settings = { 0 };
    /* Build even after a syntax error, to report the other problems too. */
    bool syntax_ok = cfg_parse_main_cf(text, path, &settings, diag);
    struct config *cfg = cfg_build(&settings, NULL, 0, NULL, source, diag);
    cfg_settings_free(&settings);
    if (!syntax_ok) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct config *config_parse_text(const char *text, const char *path, struct diag *diag)
{
    return parse_with_source(text, path, NULL, diag);
}

/* Reads a configuration file; NULL (reported) if unreadable or not text. */
char *cfg_read_file(const char *path, struct diag *diag)
{
    size_t len;
    char *text = fileio_read(path, CONFIG_FILE_MAX, &len);
    if (!text) {
        if (errno == EFBIG)
            diag_add(diag, DIAG_ERROR, path, "file is larger than %u bytes", CONFIG_FILE_MAX);
        else
            diag_add(diag, DIAG_ERROR, path, "cannot read: %s", strerror(errno));
        return NULL;
    }
    if (strlen(text) != len) {
        diag_add(diag, DIAG_ERROR, path, "file contains a NUL byte");
        free(text);
        return NULL;
    }
    return text;
}

struct config *config_load(const char *config_dir, struct diag *diag)
{
    char *path = xasprintf("%s/main.cf", config_dir);
    char *text = cfg_read_file(path, diag);
    struct config *cfg = NULL;
    if (text) {
        struct config_source source = { config_dir, false };
        cfg = parse_with_source(text, path, &source, diag);
    }
    free(text);
    free(path);
    return cfg;
}

struct config *cfg_parse_embedded(const char *text, const char *path, struct diag *diag)
{
    struct config_source source = { NULL, true };
    return parse_with_source(text, path, &source, diag);
}

struct config *config_derive(const struct config *base,
                             const struct config_override *overrides, size_t n,
                             const char *service_name, struct diag *diag)
{
    return cfg_build(&base->settings, overrides, n, service_name ? service_name : "-",
                     &base->source, diag);
}

static void free_node(struct cfg_node *node)
{
    free(node->raw);
    free(node->origin);
    free(node->value);
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < PARAM_COUNT; i++)
        free_node(&cfg->params[i]);
    for (size_t i = 0; i < cfg->nextra; i++) {
        free_node(&cfg->extra[i]);
        free((char *)cfg->extra[i].name);
    }
    free(cfg->extra);
    cfg_settings_free(&cfg->settings);
    free(cfg->service_name);
    free(cfg->config_dir);
    free(cfg);
}

/* ---- accessors ---- */

static const struct cfg_node *typed(const struct config *cfg, enum param_id id,
                                    enum param_type type, const char *accessor)
{
    const struct param_info *pi = param_info(id);
    if (pi->type != type)
        log_panic("config: %s(%s): parameter has another type", accessor, pi->name);
    return &cfg->params[id];
}

const char *cfg_str(const struct config *cfg, enum param_id id)
{
    param_info(id);
    return cfg->params[id].value;
}

bool cfg_bool(const struct config *cfg, enum param_id id)
{
    return typed(cfg, id, PARAM_BOOL, "cfg_bool")->v.b;
}

long long cfg_int(const struct config *cfg, enum param_id id)
{
    return typed(cfg, id, PARAM_INT, "cfg_int")->v.i;
}

long long cfg_time_ms(const struct config *cfg, enum param_id id)
{
    return typed(cfg, id, PARAM_TIME, "cfg_time_ms")->v.i;
}

int64_t cfg_size(const struct config *cfg, enum param_id id)
{
    return typed(cfg, id, PARAM_SIZE, "cfg_size")->v.size;
}

const char *cfg_origin(const struct config *cfg, enum param_id id)
{
    param_info(id);
    return cfg->params[id].origin ? cfg->params[id].origin : "default";
}

bool cfg_is_set(const struct config *cfg, enum param_id id)
{
    param_info(id);
    return cfg->params[id].set;
}

const char *cfg_raw(const struct config *cfg, enum param_id id)
{
    param_info(id);
    return cfg->params[id].raw;
}

const char *cfg_lookup(const struct config *cfg, const char *name)
{
    const struct cfg_node *node = cfg_node_find_const(cfg, name);
    return node ? node->value : NULL;
}

const char *cfg_lookup_raw(const struct config *cfg, const char *name)
{
    const struct cfg_node *node = cfg_node_find_const(cfg, name);
    return node ? node->raw : NULL;
}

const struct config_source *cfg_source(const struct config *cfg)
{
    return &cfg->source;
}

const char *cfg_service_name(const struct config *cfg)
{
    return cfg->service_name;
}

size_t cfg_extra_count(const struct config *cfg)
{
    return cfg->nextra;
}

const char *cfg_extra_name(const struct config *cfg, size_t i)
{
    return i < cfg->nextra ? cfg->extra[i].name : NULL;
}

/* ---- expansion of other text ---- */

static const char *built_value(void *ctx, const char *name, size_t len, bool *undefined)
{
    char *key = xstrndup(name, len);
    const char *v = cfg_lookup(ctx, key);
    free(key);
    *undefined = v == NULL;
    return v;
}

static bool built_nonempty(void *ctx, const char *name, size_t len)
{
    char *key = xstrndup(name, len);
    const char *raw = cfg_lookup_raw(ctx, key);
    free(key);
    return raw && raw[0];
}

char *config_expand(const struct config *cfg, const char *text, const char **why)
{
    static _Thread_local char why_buf[512];
    struct expand_ops ops = { built_value, built_nonempty, (void *)cfg, NULL };
    struct buf out;
    buf_init(&out, CONFIG_VALUE_MAX);
    if (!cfg_expand_text(&ops, text, strlen(text), &out, why_buf, sizeof(why_buf))) {
        buf_free(&out);
        if (why)
            *why = why_buf;
        return NULL;
    }
    return buf_steal(&out);
}
