/*
 * Internals of the configuration component, shared by its files and its
 * unit tests; nothing outside src/config and tests/unit/config includes it.
 *
 * A configuration is built in three steps:
 *   1. text -> settings: main.cf (lines.c, main_cf.c) and master.cf -o
 *      overrides become a list of raw "name = value" settings with the file
 *      and line where each was written (last one wins);
 *   2. settings -> nodes: every gatepost parameter and every other name that
 *      was set gets a node holding its raw text (setting, default, or a
 *      default computed from the host);
 *   3. nodes -> values: each node is expanded once ($name references, with
 *      memoisation and loop detection) and type-checked (build.c).
 * After step 3 the struct config is immutable and safe to share between
 * threads.
 */
#ifndef GATEPOST_CONFIG_CONFIG_INTERNAL_H
#define GATEPOST_CONFIG_CONFIG_INTERNAL_H

#include "base/buf.h"
#include "base/diag.h"
#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits: no configuration text makes the loader use more than this. */
#define CONFIG_FILE_MAX         (4u << 20)  /* bytes of main.cf or master.cf */
#define CONFIG_LINE_MAX         (256u << 10) /* bytes of one logical line */
#define CONFIG_VALUE_MAX        (1u << 20)  /* bytes of one expanded value */
#define CONFIG_TOTAL_MAX        (64u << 20) /* bytes of all expanded values */
#define CONFIG_EXPAND_DEPTH     100         /* nested $name references */
#define CONFIG_BRACE_DEPTH      100         /* nested ${...}, across $name references */
#define CONFIG_MASTER_FIELDS_MAX 4096       /* tokens in one master.cf entry */

/* ---- static parameter facts (params.c) ---- */

struct param_info {
    const char *name;
    enum param_type type;
    const char *def;
    long long min, max;     /* 0, 0: no range */
    char unit;              /* TIME default unit */
    const char *doc;
};

const struct param_info *param_info(enum param_id id);
/* True for names made only of [A-Za-z0-9_] (and not empty). */
bool param_name_valid(const char *name, size_t len);

/* ---- logical lines (lines.c) ---- */

/* One physical line that went into a logical line. */
struct cfg_segment {
    size_t offset;          /* where its text starts in the logical line */
    int line;
};

struct cfg_reader {
    const char *path;
    const char *pos;        /* next unread byte */
    int line;               /* number of the last physical line read */
    struct cfg_segment *segs;
    size_t nsegs, segcap;
};

void cfg_reader_init(struct cfg_reader *r, const char *text, const char *path);
void cfg_reader_free(struct cfg_reader *r);
/*
 * Reads the next logical line into out (continuation lines joined with one
 * space, comments and blank lines skipped, trailing whitespace removed).
 * Returns 1 with *first_line set, 0 at the end, -1 after reporting an error
 * (the reader then continues with the next logical line).
 */
int cfg_reader_next(struct cfg_reader *r, struct buf *out, int *first_line,
                    struct diag *diag);
/* Line number of the physical line that holds offset of the last logical line. */
int cfg_reader_line_at(const struct cfg_reader *r, size_t offset);

/* ---- raw settings (main_cf.c) ---- */

struct cfg_setting {
    char *name;
    char *raw;
    char *file;             /* owned copy of the path */
    int line;
    bool from_override;     /* set by a master.cf -o */
};

struct cfg_settings {
    struct cfg_setting *items;
    size_t count, cap;
};

void cfg_settings_free(struct cfg_settings *s);
/* Adds or replaces name (the later setting wins); returns the previous raw value's index or -1. */
long cfg_settings_put(struct cfg_settings *s, const char *name, const char *raw,
                      const char *file, int line, bool from_override);
long cfg_settings_find(const struct cfg_settings *s, const char *name);
/* Parses main.cf text into s; false if there was an error (reported). */
bool cfg_parse_main_cf(const char *text, const char *path, struct cfg_settings *s,
                       struct diag *diag);

/* ---- the built configuration ---- */

enum node_state { NODE_PENDING, NODE_BUSY, NODE_DONE, NODE_FAILED };

struct cfg_node {
    const char *name;       /* static for parameters, setting's for others */
    char *raw;              /* owned: as written, the default, or computed */
    char *origin;           /* owned "file:line", or NULL for a default */
    bool set;
    bool from_override;
    enum node_state state;
    char *value;            /* owned expanded text once NODE_DONE */
    union {
        bool b;
        long long i;        /* INT, and TIME in milliseconds */
        int64_t size;
    } v;
};

struct build_ctx;

struct config {
    struct config_source source;
    char *config_dir;           /* owned storage behind source.config_dir */
    char *service_name;         /* NULL for main.cf alone */
    struct cfg_settings settings;   /* main.cf settings (without overrides) */
    struct cfg_node params[PARAM_COUNT];
    struct cfg_node *extra;     /* other names that were set, sorted by name */
    size_t nextra;
    struct build_ctx *building; /* non-NULL only inside cfg_build */
};

/* Reads a configuration file (at most CONFIG_FILE_MAX bytes, no NUL bytes). */
char *cfg_read_file(const char *path, struct diag *diag);
/* Parses main.cf text as the embedded default (source.embedded). */
struct config *cfg_parse_embedded(const char *text, const char *path, struct diag *diag);

/* Node for a name (parameter or other setting), or NULL. */
struct cfg_node *cfg_node_find(struct config *cfg, const char *name);
const struct cfg_node *cfg_node_find_const(const struct config *cfg, const char *name);

/*
 * Builds a config from settings (copied) plus overrides: classifies names,
 * computes defaults, expands and type-checks. derived selects which
 * warnings are reported (overrides only). NULL on error.
 */
struct config *cfg_build(const struct cfg_settings *settings,
                         const struct config_override *overrides, size_t noverrides,
                         const char *service_name, const struct config_source *source,
                         struct diag *diag);

/* ---- expansion (expand.c) ---- */

/*
 * How the expander finds names. lookup returns the node for name or NULL
 * (undefined). raw_test tells whether a name's raw text is non-empty (for
 * the ? and : forms, which test without expanding, as Postfix does).
 * value returns the expanded text of a node (expanding it first if needed)
 * or NULL after an error already reported.
 */
struct expand_ops {
    const char *(*value)(void *ctx, const char *name, size_t len, bool *undefined);
    bool (*nonempty)(void *ctx, const char *name, size_t len);
    void *ctx;
    /*
     * Open ${...} levels, shared by nested expansions of one build so that
     * the limit bounds the whole recursion (and the stack), not each value.
     */
    int *nesting;
};

/*
 * Expands text into out. Returns true on success; on failure *why says what
 * is wrong (static text or written into why_buf). Undefined names expand
 * to nothing and are passed to ops->value, which may warn.
 */
bool cfg_expand_text(const struct expand_ops *ops, const char *text, size_t len,
                     struct buf *out, char *why_buf, size_t why_size);

/* Calls fn for every $name referenced in text (conditional ones too). */
void cfg_scan_references(const char *text, void (*fn)(void *arg, const char *name, size_t len),
                         void *arg);

/* ---- values (values.c) ---- */

/*
 * Type-checks an expanded value of parameter id and stores the typed value
 * in node->v. On failure writes the reason ("bad integer value ...") into
 * why and returns false.
 */
bool cfg_check_value(enum param_id id, struct cfg_node *node, char *why, size_t why_size);

/* ---- computed defaults (defaults.c) ---- */

struct cfg_ifaddr {
    int family;             /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int prefix;             /* netmask length, -1 if unknown */
};

/* The default text of a computed parameter; NULL if id has a plain default. */
typedef char *(*cfg_default_fn)(struct config *cfg, struct diag *diag);
cfg_default_fn cfg_computed_default(enum param_id id);

/*
 * mynetworks for a style ("host", "subnet", "class") and the interface
 * addresses; protocols is inet_protocols. NULL with *why for a bad style.
 */
char *cfg_mynetworks_text(const struct cfg_ifaddr *addrs, size_t n, const char *style,
                          const char *protocols, const char **why);
/* mydomain derived from a host name. */
char *cfg_domain_of(const char *hostname);
/* myhostname from a gethostname() result. */
char *cfg_hostname_fqdn(const char *hostname);

/* Expanded value of a parameter while a config is being built (NULL on error). */
const char *cfg_build_value(struct config *cfg, enum param_id id);

#endif
