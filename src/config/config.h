/*
 * Configuration: main.cf and master.cf with Postfix's syntax and Postfix's
 * defaults, resolved into typed values once, at load.
 *
 * Every parameter gatepost supports is one line in params.def (name, type,
 * default, range, one-line doc); code refers to it by its enum id (P_NAME),
 * so a typo is a compile error and a lookup is an array index. Values are
 * expanded ($name, ${name}, ${name?value}, ${name:value}, ${name?{a}:{b}})
 * and type-checked when a config is built; an invalid value is an error
 * that names the file and line where it was set.
 *
 * A struct config is immutable after it is built. The daemon has one per
 * master.cf service (main.cf plus that service's -o overrides), shared by
 * all sessions of the service.
 */
#ifndef GATEPOST_CONFIG_CONFIG_H
#define GATEPOST_CONFIG_CONFIG_H

#include "base/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum param_type {
    PARAM_STR,      /* free text, expanded; lists are strings too */
    PARAM_BOOL,     /* yes / no */
    PARAM_INT,      /* decimal integer within [min, max] */
    PARAM_TIME,     /* integer with optional unit s m h d w (default unit per parameter) */
    PARAM_SIZE,     /* byte count (64-bit) within [min, max] */
};

enum param_id {
#define X(id, name, type, def, min, max, unit, doc) P_##id,
#include "config/params.def"
#undef X
    PARAM_COUNT
};

struct config;

/* Where the active configuration comes from (for messages and `config`). */
struct config_source {
    const char *config_dir;     /* directory holding main.cf / master.cf;
                                   NULL for the embedded default and for text
                                   parsed with config_parse_text */
    bool embedded;              /* true: built-in default, no files read */
};

/*
 * Loads DIR/main.cf. Warnings (unknown or unsupported parameters, ...) and
 * errors go to diag; returns NULL if there was any error.
 */
struct config *config_load(const char *config_dir, struct diag *diag);

/*
 * Parses main.cf text held in memory (path is used in messages) and builds
 * a config from it, exactly as config_load does with a file.
 */
struct config *config_parse_text(const char *text, const char *path, struct diag *diag);

/*
 * The embedded default used when no configuration exists: listens on
 * 127.0.0.1:2525, accepts mail for localhost users and keeps its queue and
 * mailboxes under state_dir (an absolute path). mail_owner_uid/gid is the
 * identity mailboxes are written as.
 */
struct config *config_load_embedded(const char *state_dir, unsigned mail_owner_uid,
                                    unsigned mail_owner_gid, struct diag *diag);

/* Text of the embedded main.cf / master.cf (for `gatepost config` and docs). */
const char *config_embedded_main_cf(void);
const char *config_embedded_master_cf(void);

/* One "-o name=value" from master.cf, with where it was written. */
struct config_override {
    char *name;
    char *value;
    const char *file;
    int line;
};

/*
 * A config for one master.cf service: base's raw main.cf settings with the
 * overrides applied before expansion (as Postfix's -o does), then typed.
 * service_name is recorded for messages. NULL on error (reported in diag).
 */
struct config *config_derive(const struct config *base,
                             const struct config_override *overrides, size_t n,
                             const char *service_name, struct diag *diag);

void config_free(struct config *cfg);

/*
 * Typed accessors; the id's type must match (checked, a mismatch is a bug).
 * cfg_str works for every parameter: it is the expanded text.
 */
const char *cfg_str(const struct config *cfg, enum param_id id);     /* expanded */
bool cfg_bool(const struct config *cfg, enum param_id id);
long long cfg_int(const struct config *cfg, enum param_id id);
long long cfg_time_ms(const struct config *cfg, enum param_id id);   /* milliseconds */
int64_t cfg_size(const struct config *cfg, enum param_id id);

/* "/etc/gatepost/main.cf:12", "master.cf:40" or "default": where a value was set. */
const char *cfg_origin(const struct config *cfg, enum param_id id);
/* True when main.cf or an override set the parameter explicitly. */
bool cfg_is_set(const struct config *cfg, enum param_id id);
/* The unexpanded text (as written, or the default). */
const char *cfg_raw(const struct config *cfg, enum param_id id);
/* Expanded value of any parameter by name, including user-defined ones; NULL if unknown. */
const char *cfg_lookup(const struct config *cfg, const char *name);
/* Unexpanded text of any name that cfg_lookup knows; NULL if unknown. */
const char *cfg_lookup_raw(const struct config *cfg, const char *name);
/*
 * Names set in main.cf or by overrides that are not gatepost parameters
 * (user-defined variables, unsupported Postfix parameters), sorted by name.
 */
size_t cfg_extra_count(const struct config *cfg);
const char *cfg_extra_name(const struct config *cfg, size_t i);
/* Where the configuration came from. */
const struct config_source *cfg_source(const struct config *cfg);
/* The master.cf service a derived config is for; NULL for main.cf alone. */
const char *cfg_service_name(const struct config *cfg);

/* Static facts about parameters, from params.def. */
const char *param_name(enum param_id id);
enum param_type param_type_of(enum param_id id);
const char *param_default(enum param_id id);
const char *param_doc(enum param_id id);
/* id by name; false if gatepost does not know the name. */
bool param_find(const char *name, enum param_id *id);
/* True if Postfix 3.7 has a parameter of this name (supported or not). */
bool param_is_postfix(const char *name);

/*
 * Expands $name references in text against cfg (for values that are not
 * parameters, such as restriction arguments). Returns a new string, or
 * NULL with *why set (unbalanced braces, bad ${...} syntax, too long).
 * As in Postfix, an undefined name expands to an empty string. *why stays
 * valid until the next call in the same thread.
 */
char *config_expand(const struct config *cfg, const char *text, const char **why);

/*
 * Finds and loads the active configuration, as every subcommand does:
 * DIR from "-c DIR" (dash_c non-NULL) or $GATEPOST_CONFIG_DIR; otherwise
 * /etc/gatepost if it holds a main.cf; otherwise the embedded default with
 * its state under ./run (made absolute against the working directory).
 * Also loads master.cf (a missing master.cf in a config directory means
 * the stock single "smtp inet ... smtpd" service). Returns false on errors,
 * which are in diag.
 */
struct master_cf;
bool config_open_active(const char *dash_c, struct config **cfg_out,
                        struct master_cf **mcf_out, struct diag *diag);

#endif
