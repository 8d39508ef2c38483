/*
 * Internals of the access-policy engine, shared by its files:
 *
 *   policy_env.c      settings -> compiled environment (lists, tables, codes)
 *   policy_config.c   the struct config front end of policy_env.c
 *   restrict_table.c  the table of restriction names and the list compiler
 *   restrict_ops.c    what each restriction does (one small function a row)
 *   access.c          access(5) results and Postfix's lookup orders
 *   reply.c           reply codes, enhanced status codes, warn/defer_if logic
 *   policy_eval.c     the evaluator: lists, frames, parking and resuming
 *   policy_check.c    sequencing of the stages (smtpd_delay_reject etc.)
 *   route.c           address classes and recipient validation
 *   sender_login.c    smtpd_sender_login_maps and the *_sender_login_mismatch rows
 *   hostname.c        host name and address-literal syntax checks
 *
 * A restriction list is compiled at load into an array of steps, each a
 * pointer to its row in the restriction table plus resolved arguments
 * (an opened table, a number, a restriction class). Evaluating a step calls
 * the row's function, which answers DUNNO (go on), OK (this list permits),
 * REJECT (ev->decision is filled) or PENDING (the row started something
 * asynchronous and will call policy_eval_resume()).
 */
#ifndef GATEPOST_POLICY_POLICY_PRIV_H
#define GATEPOST_POLICY_POLICY_PRIV_H

#include "base/buf.h"
#include "base/diag.h"
#include "base/hostname.h"
#include "maps/maps.h"
#include "policy/domainlist.h"
#include "policy/netlist.h"
#include "policy/policy.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- Settings: the parameters the engine reads, by name ---- */

/*
 * Where settings come from: a function giving the expanded value of a
 * parameter by name (NULL: not set and no default known: the engine uses
 * Postfix's default) and where it was set. policy_config.c implements this
 * over struct config; tests implement it over a small array.
 */
struct policy_source {
    const char *(*value)(void *ctx, const char *name);
    const char *(*origin)(void *ctx, const char *name);
    void *ctx;
    const struct config *cfg;       /* may be NULL */
};

struct policy_env *policy_env_new_source(const struct policy_source *src, struct diag *diag);

/* ---- Restriction lists ---- */

enum rlist_id {
    RL_CLIENT, RL_HELO, RL_SENDER, RL_RELAY, RL_RECIPIENT, RL_DATA, RL_EOD, RL_AUTH,
    RL_COUNT
};

/*
 * What a step answers. R_NESTED is internal: the step pushed a nested list
 * (a restriction class or an access table's right-hand side) whose outcome
 * becomes the step's result when that list ends.
 */
enum rstatus { R_DUNNO, R_OK, R_REJECT, R_PENDING, R_NESTED };

struct rstep;
struct policy_eval;
typedef enum rstatus (*rop_fn)(struct policy_eval *ev, const struct rstep *step);

enum rdef_kind {
    RD_OP,              /* an implemented restriction */
    RD_WARN_IF_REJECT,  /* pseudo restriction: the next one only warns */
    RD_UNSUPPORTED,     /* Postfix has it, gatepost not yet: compile error */
    RD_OBSOLETE,        /* removed from Postfix: compile error naming the replacement */
};

enum rdef_arg { ARG_NONE, ARG_TABLE, ARG_NUMBER, ARG_DOMAIN, ARG_SERVICE };

/* Row flags. */
enum {
    RF_RELAY_GUARD = 1,     /* counts as relay protection (reject_unauth_destination...) */
    RF_PERMIT_ALL = 2,      /* "permit": what follows is never reached */
};

struct rdef {
    const char *name;
    enum rdef_kind kind;
    rop_fn fn;
    enum rdef_arg arg;
    unsigned flags;
    const char *note;       /* RD_OBSOLETE: the replacement; RD_OP alias: the real name */
};

struct rlist;

struct rstep {
    const struct rdef *def;
    struct map *table;          /* ARG_TABLE (owned by the environment) */
    long number;                /* ARG_NUMBER */
    const struct rlist *cls;    /* restriction class */
};

struct rlist {
    struct rstep *steps;
    size_t n;
    enum rlist_id id;
    char *param;                /* parameter (or class) name, for messages */
    char *origin;               /* where it was set */
};

/* Finds a row by name (case-insensitive), including registered extras. */
const struct rdef *rdef_find(const char *name);
/*
 * Adds a row (for restrictions implemented outside this component, and for
 * tests of the parking machinery). Call before compiling; def must live
 * for the life of the process. False if the name exists or there is no room.
 */
bool restrict_register(const struct rdef *def);

/*
 * Compiles list text. at_runtime: a list from an access table's right-hand
 * side (no tables allowed; errors are logged, not put in a diag).
 * Returns NULL on error (reported to diag when given).
 */
struct rlist *rlist_compile(struct policy_env *env, const char *text, const char *param,
                            const char *origin, enum rlist_id id, bool at_runtime,
                            struct diag *diag);
void rlist_free(struct rlist *rl);
/* Postfix's has_required(): does the list contain a relay guard before any "permit"? */
bool rlist_guards_relay(const struct rlist *rl);

/* ---- The environment ---- */

struct env_table {
    char *spec;
    struct map *map;
};

struct env_class {
    char *name;
    struct rlist *list;
};

struct policy_env {
    const struct config *cfg;
    struct rlist *lists[RL_COUNT];
    struct env_class *classes;
    size_t nclasses;
    struct env_table *tables;       /* tables named in restriction lists, opened once */
    size_t ntables;

    struct netlist *mynetworks;
    struct domainlist *mydestination, *relay_domains, *virtual_mailbox_domains;
    struct netaddr *my_addrs;       /* inet_interfaces (for [address] literals) */
    size_t n_my_addrs;
    struct maplist *local_rcpt, *virtual_mailbox, *relay_rcpt, *virtual_uid, *virtual_gid;
    struct maplist *sender_login;   /* smtpd_sender_login_maps */

    char *myorigin, *recipient_delimiter, *double_bounce_sender, *null_access_key;
    char *virtual_mailbox_base, *home_mailbox, *mail_spool_directory;
    long virtual_minimum_uid;
    bool delay_reject, reject_unlisted_recipient, reject_unlisted_sender;
    bool show_table_name;           /* show_user_unknown_table_name */
    bool access_parent_style;       /* smtpd_access_maps in parent_domain_matches_subdomains */
    bool sasl_enabled;

    int reject_code, defer_code, relay_code, map_reject_code, map_defer_code;
    int unknown_local_code, unknown_virtual_code, unknown_relay_code;
    int non_fqdn_code, invalid_hostname_code, plaintext_code, multi_rcpt_bounce_code;
};

/* Opens (or reuses) a table named in a restriction list. */
struct map *policy_env_table(struct policy_env *env, const char *spec, char **why);
/* A restriction class by name, or NULL. */
const struct rlist *policy_env_class(const struct policy_env *env, const char *name);

/* ---- Evaluation ---- */

/* Nesting of restriction classes and access-table right-hand sides. */
#define RFRAME_MAX 16

/* Frame flags: how a nested list's OK is taken by the step that pushed it. */
enum {
    FR_OK_IS_DUNNO = 1,             /* source-routed recipient: OK is not trusted */
    FR_FORBID_OK = 2,               /* check_reverse_client_access: OK is an error */
};

struct rframe {
    const struct rlist *list;
    size_t pos;
    struct rlist *owned;            /* compiled at run time (access table RHS) */
    const char *reply_name;         /* for generic rejects in this list */
    const char *reply_class;
    unsigned flags;
};

/* Error classes, as Postfix's: they decide what warn_if_reject may soften. */
enum err_class { ERR_POLICY, ERR_BOUNCE, ERR_DATA, ERR_SOFTWARE };

/* A remembered "change my mind later" (defer_if_permit, defer_if_reject). */
struct deferral {
    bool active;
    enum err_class cls;
    struct policy_decision d;
};

/* One step of a stage's plan. */
enum phase_kind {
    PH_MEMO_CLIENT, PH_MEMO_HELO, PH_MEMO_SENDER,   /* evaluate once per session/transaction */
    PH_LIST,                                        /* evaluate a list now */
    PH_DIP,                                         /* apply a pending defer_if_permit */
    PH_UNLISTED_RCPT,
};

struct phase {
    enum phase_kind kind;
    enum rlist_id list;
};

#define PHASE_MAX 8

struct policy_eval {
    struct policy_env *env;
    enum policy_stage stage;
    const struct policy_facts *facts;
    struct policy_session *ps;

    struct phase plan[PHASE_MAX];
    int nphase, phase;
    bool phase_started;
    enum rlist_id cur_list;         /* list of the running phase */

    struct rframe frames[RFRAME_MAX];
    int depth;                      /* frames in use */
    int warn_level;                 /* warn_if_reject: active for this frame level */
    struct deferral dip, dir;       /* defer_if_permit, defer_if_reject */
    bool rcpt_map_checked, sender_map_checked;

    struct policy_decision decision;    /* set with R_REJECT; the result at the end */
    bool rejected;                  /* a phase rejected: decision is final */
    bool memo_hit;                  /* the running memo phase replayed a stored result */
    char namaddr[300];              /* "name[addr]" */
    char sasl_shown[256];           /* printable SASL login name (reply name) */

    policy_done_fn done;
    void *done_arg;
    bool parked;
    /* Set by the step that parks: how to cancel what it started. */
    void (*park_cancel)(void *op);
    void *park_op;
};

/* Continues a parked evaluation with the result of the step that parked it. */
void policy_eval_resume(struct policy_eval *ev, enum rstatus step_result);

/* Runs the plan until it finishes (true) or parks (false). */
bool policy_eval_run(struct policy_eval *ev);

/*
 * Pushes a nested list (restriction class, access-table right-hand side)
 * for the running step; owned (if not NULL) is freed when it ends. Returns
 * R_NESTED, or a configuration error when nesting is unreasonably deep.
 */
enum rstatus policy_eval_nested(struct policy_eval *ev, const struct rlist *list,
                                struct rlist *owned, const char *reply_name,
                                const char *reply_class, unsigned flags);

/* The reply name and class of the running list ("<name>: Class rejected: ..."). */
const char *rv_reply_name(const struct policy_eval *ev);
const char *rv_reply_class(const struct policy_eval *ev);

/* ---- Replies (reply.c) ---- */

#define CLASS_CLIENT "Client host"
#define CLASS_REV_CLIENT "Unverified Client host"
#define CLASS_HELO "Helo command"
#define CLASS_SENDER "Sender address"
#define CLASS_RECIPIENT "Recipient address"
#define CLASS_DATA "Data command"
#define CLASS_EOD "End-of-data"
#define CLASS_SASL "SASL login name"

/*
 * Postfix's smtpd_check_reject(): formats "<code> <dsn> text", enforces a
 * valid code and DSN, applies defer_if_reject and warn_if_reject. Returns
 * R_REJECT (ev->decision filled) or R_DUNNO (only warned).
 */
enum rstatus rv_reject(struct policy_eval *ev, enum err_class cls, int code, const char *dsn,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Postfix's defer_if(): remembers the first reason; returns R_DUNNO. */
enum rstatus rv_defer_if(struct policy_eval *ev, struct deferral *df, int code,
                         const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* DEFER_IF_PERMIT: remembered, or an immediate (warning) reject under warn_if_reject. */
enum rstatus rv_defer_if_permit(struct policy_eval *ev, int code, const char *dsn,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "451 4.3.5 Server configuration error" (logged with the reason). */
enum rstatus rv_config_error(struct policy_eval *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "451 4.3.0 <name>: Temporary lookup failure". */
enum rstatus rv_lookup_retry(struct policy_eval *ev, const char *reply_name);

/* Splits an optional leading "X.Y.Z " status from text; returns the text after it. */
const char *dsn_split(const char *text, const char *def_dsn, char dsn[12]);
/* Postfix's smtpd_dsn_fix(): address DSNs adjusted to what is being rejected. */
const char *dsn_fix(const char *dsn, const char *reply_class);
/* Length of a valid "D.DDD.DDD" status at the start of text (then blank or end), else 0. */
size_t dsn_valid(const char *text);

/* Logs "NOQUEUE: <what>: <CMD> from name[addr]: text; from=<> to=<> proto= helo=<>". */
void rv_log(const struct policy_eval *ev, const char *what, const char *text);

/* ---- Access tables (access.c) ---- */

/* check_client_access and friends: Postfix lookup orders + access(5) results. */
enum rstatus access_client(struct policy_eval *ev, struct map *table, const char *name,
                           const char *reply_class, bool forbid_ok);
enum rstatus access_helo(struct policy_eval *ev, struct map *table);
enum rstatus access_mail(struct policy_eval *ev, struct map *table, const char *addr,
                         const char *reply_class);
enum rstatus access_sender(struct policy_eval *ev, struct map *table);
enum rstatus access_plain(struct policy_eval *ev, struct map *table, const char *key,
                          const char *reply_name, const char *reply_class);

/* ---- Recipient tables (route.c) ---- */

/* Postfix's check_rcpt_maps(): unknown local/virtual/relay users. */
enum rstatus route_check_rcpt_maps(struct policy_eval *ev, const char *addr,
                                   const char *reply_class);
/* permit_auth_destination: 1 authorized, 0 not, -1 lookup error. */
int route_auth_destination(const struct policy_env *env, const char *recipient);
/* Is the local part source-routed (contains @ % or !)? */
bool route_is_routed(const char *address);
/* Splits address into local part and domain (domain "" if none); bounded copy. */
bool route_split(const char *address, char *local, size_t lsize, char *domain, size_t dsize);
/* Strips a recipient_delimiter extension from a local part in place. */
void route_strip_extension(const struct policy_env *env, char *local);
/*
 * Postfix's mail_addr_find() over a maps list: user+ext@domain,
 * user@domain, (local_domain only) user+ext, user, then @domain.
 */
enum map_status route_find(const struct policy_env *env, struct maplist *ml,
                           const char *address, bool local_domain, struct buf *value);

#endif
