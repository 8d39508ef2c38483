/*
 * master.cf, Postfix's service table (master(5)). Each logical line is
 *
 *   service type private unpriv chroot wakeup maxproc command [args]
 *
 * Fields are separated by whitespace, except inside { } (Postfix 3.0), so
 * "-o { name = value with spaces }" is one argument. The fields are checked
 * as Postfix's master checks them (type, y/n/- flags, "inet service cannot
 * be private", numeric wakeup and maxproc). "-o name=value" and
 * "-o { name = value }" become overrides with their own line numbers; other
 * arguments are kept (outer braces removed). When two entries have the same
 * name and type the later one wins, as in Postfix.
 *
 * Only "inet ... smtpd" entries are services gatepost runs; every other
 * entry is SERVICE_SKIPPED so that a stock Postfix master.cf loads.
 */
#include "config/master_cf.h"

#include "config/config_internal.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

enum { F_NAME, F_TYPE, F_PRIVATE, F_UNPRIV, F_CHROOT, F_WAKEUP, F_MAXPROC, F_COMMAND,
       F_FIXED };

struct token {
    char *text;
    size_t offset;      /* in the logical line, for line numbers */
};

struct entry_ctx {
    struct cfg_reader *reader;
    const char *path;   /* the master_cf's own copy */
    int line;
    struct diag *diag;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Splits line in place at blanks outside { }; false (reported) if unbalanced. */
static bool tokenize(struct entry_ctx *e, char *line, struct token *toks, size_t *n)
{
    *n = 0;
    char *p = line;
    while (*p) {
        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        if (*n == CONFIG_MASTER_FIELDS_MAX) {
            diag_addf_at(e->diag, DIAG_ERROR, e->path, e->line,
                         "more than %d fields in one entry", CONFIG_MASTER_FIELDS_MAX);
            return false;
        }
        toks[*n] = (struct token){ p, (size_t)(p - line) };
        int depth = 0;
        for (; *p && (depth > 0 || !is_blank(*p)); p++) {
            if (*p == '{')
                depth++;
            else if (*p == '}' && depth > 0)
                depth--;
        }
        if (depth > 0) {
            diag_addf_at(e->diag, DIAG_ERROR, e->path, e->line, "unbalanced '{' in \"%.60s\"",
                         toks[*n].text);
            return false;
        }
        (*n)++;
        if (*p)
            *p++ = '\0';
    }
    return true;
}

static bool field_error(struct entry_ctx *e, const char *field, const char *value)
{
    diag_addf_at(e->diag, DIAG_ERROR, e->path, e->line, "bad %s field: \"%.60s\"", field, value);
    return false;
}

static bool is_flag(const char *s)
{
    return strcmp(s, "y") == 0 || strcmp(s, "n") == 0 || strcmp(s, "-") == 0;
}

static bool is_count(const char *s, bool question_ok)
{
    if (strcmp(s, "-") == 0)
        return true;
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 9)
        return false;
    return s[digits] == '\0' || (question_ok && strcmp(s + digits, "?") == 0);
}

static const char *const service_types[] = { "inet", "unix", "unix-dgram", "fifo", "pass" };

static bool check_fields(struct entry_ctx *e, struct token *t)
{
    bool known = false;
    for (size_t i = 0; i < sizeof(service_types) / sizeof(service_types[0]); i++)
        known = known || strcmp(t[F_TYPE].text, service_types[i]) == 0;
    if (!known) {
        diag_addf_at(e->diag, DIAG_ERROR, e->path, e->line, "bad transport type: %.60s",
                     t[F_TYPE].text);
        return false;
    }
    if (!is_flag(t[F_PRIVATE].text))
        return field_error(e, "private", t[F_PRIVATE].text);
    if (!is_flag(t[F_UNPRIV].text))
        return field_error(e, "unprivileged", t[F_UNPRIV].text);
    if (!is_flag(t[F_CHROOT].text))
        return field_error(e, "chroot", t[F_CHROOT].text);
    if (!is_count(t[F_WAKEUP].text, true))
        return field_error(e, "wakeup", t[F_WAKEUP].text);
    if (!is_count(t[F_MAXPROC].text, false))
        return field_error(e, "maxproc", t[F_MAXPROC].text);
    if (strcmp(t[F_TYPE].text, "inet") == 0 && strcmp(t[F_PRIVATE].text, "n") != 0) {
        /* "-" means the default "y", which Postfix refuses for inet too. */
        diag_addf_at(e->diag, DIAG_ERROR, e->path, e->line, "inet service cannot be private");
        return false;
    }
    return true;
}

static char *trim_copy(const char *s, size_t n)
{
    while (n && is_blank(*s)) {
        s++;
        n--;
    }
    while (n && is_blank(s[n - 1]))
        n--;
    return xstrndup(s, n);
}

/* "name=value" or "{ name = value }" into an override; false (reported) if malformed. */
static bool parse_override(struct entry_ctx *e, const char *text, int line,
                           struct config_override *o)
{
    const char *s = text;
    size_t n = strlen(text);
    bool braced = n >= 2 && s[0] == '{' && s[n - 1] == '}';
    if (braced) {
        s++;
        n -= 2;
    }
    const char *eq = memchr(s, '=', n);
    char *name = eq ? trim_copy(s, (size_t)(eq - s)) : NULL;
    if (!name || !param_name_valid(name, strlen(name))
        || (!braced && (name[0] == '\0' || strlen(name) != (size_t)(eq - s)))) {
        diag_addf_at(e->diag, DIAG_ERROR, e->path, line,
                     "bad -o argument \"%.60s\": specify -o name=value or -o { name = value }",
                     text);
        free(name);
        return false;
    }
    size_t vlen = n - (size_t)(eq + 1 - s);
    *o = (struct config_override){ name, braced ? trim_copy(eq + 1, vlen)
                                                : xstrndup(eq + 1, vlen), e->path, line };
    return true;
}

static void add_override(struct master_service *svc, struct config_override o)
{
    svc->overrides = xrealloc(svc->overrides, (svc->noverrides + 1) * sizeof(o));
    svc->overrides[svc->noverrides++] = o;
}

/* An argument other than -o: outer braces and the blanks inside them dropped. */
static char *plain_arg(const char *text)
{
    size_t n = strlen(text);
    if (n >= 2 && text[0] == '{' && text[n - 1] == '}')
        return trim_copy(text + 1, n - 2);
    return xstrdup(text);
}

static bool parse_args(struct entry_ctx *e, struct token *t, size_t n,
                       struct master_service *svc)
{
    size_t nargs = 0;
    svc->args = xcalloc(n, sizeof(char *));
    for (size_t i = F_FIXED; i < n; i++) {
        const char *tok = t[i].text;
        const char *ovr = NULL;
        size_t at = t[i].offset;
        if (strcmp(tok, "-o") == 0) {
            if (i + 1 == n) {
                diag_addf_at(e->diag, DIAG_ERROR, e->path,
                             cfg_reader_line_at(e->reader, at), "-o without name=value");
                return false;
            }
            i++;
            ovr = t[i].text;
            at = t[i].offset;
        } else if (strncmp(tok, "-o", 2) == 0) {
            ovr = tok + 2;
        }
        if (!ovr) {
            svc->args[nargs++] = plain_arg(tok);
            continue;
        }
        struct config_override o;
        if (!parse_override(e, ovr, cfg_reader_line_at(e->reader, at), &o))
            return false;
        add_override(svc, o);
    }
    svc->args[nargs] = NULL;
    return true;
}

static void service_free(struct master_service *svc)
{
    free(svc->name);
    free(svc->type);
    free(svc->private_flag);
    free(svc->unpriv_flag);
    free(svc->chroot_flag);
    free(svc->wakeup);
    free(svc->maxproc);
    free(svc->command);
    for (size_t i = 0; svc->args && svc->args[i]; i++)
        free(svc->args[i]);
    free(svc->args);
    for (size_t i = 0; i < svc->noverrides; i++) {
        free(svc->overrides[i].name);
        free(svc->overrides[i].value);
    }
    free(svc->overrides);
    memset(svc, 0, sizeof(*svc));
}

static bool parse_entry(struct entry_ctx *e, char *line, struct token *toks,
                        struct master_service *svc)
{
    size_t n;
    if (!tokenize(e, line, toks, &n))
        return false;
    if (n < F_FIXED) {
        diag_addf_at(e->diag, DIAG_ERROR, e->path, e->line,
                     "too few fields (%zu) in master.cf entry \"%.60s\": expected service, "
                     "type, private, unpriv, chroot, wakeup, maxproc and command", n, line);
        return false;
    }
    if (!check_fields(e, toks))
        return false;
    *svc = (struct master_service){
        .name = xstrdup(toks[F_NAME].text), .type = xstrdup(toks[F_TYPE].text),
        .private_flag = xstrdup(toks[F_PRIVATE].text), .unpriv_flag = xstrdup(toks[F_UNPRIV].text),
        .chroot_flag = xstrdup(toks[F_CHROOT].text), .wakeup = xstrdup(toks[F_WAKEUP].text),
        .maxproc = xstrdup(toks[F_MAXPROC].text), .command = xstrdup(toks[F_COMMAND].text),
        .file = e->path, .line = e->line,
    };
    svc->kind = strcmp(svc->type, "inet") == 0 && strcmp(svc->command, "smtpd") == 0
                    ? SERVICE_SMTPD_INET : SERVICE_SKIPPED;
    if (parse_args(e, toks, n, svc))
        return true;
    service_free(svc);
    return false;
}

/* Adds svc, replacing an earlier entry with the same name and type. */
static void add_service(struct master_cf *mcf, struct master_service *svc, struct diag *diag)
{
    for (size_t i = 0; i < mcf->count; i++) {
        struct master_service *old = &mcf->services[i];
        if (strcmp(old->name, svc->name) == 0 && strcmp(old->type, svc->type) == 0) {
            diag_addf_at(diag, DIAG_WARNING, mcf->path, svc->line,
                         "duplicate service %s/%s replaces the entry at line %d",
                         svc->name, svc->type, old->line);
            service_free(old);
            *old = *svc;
            return;
        }
    }
    mcf->services = xrealloc(mcf->services, (mcf->count + 1) * sizeof(*svc));
    mcf->services[mcf->count++] = *svc;
}

struct master_cf *master_cf_parse(const char *text, const char *path, struct diag *diag)
{
    struct master_cf *mcf = xcalloc(1, sizeof(*mcf));
    mcf->path = xstrdup(path);
    struct cfg_reader r;
    struct buf line;
    cfg_reader_init(&r, text, mcf->path);
    buf_init(&line, CONFIG_LINE_MAX);
    struct token *toks = xcalloc(CONFIG_MASTER_FIELDS_MAX, sizeof(*toks));
    struct entry_ctx e = { &r, mcf->path, 0, diag };
    size_t errors = diag->errors;
    int rc;
    while ((rc = cfg_reader_next(&r, &line, &e.line, diag)) != 0) {
        struct master_service svc;
        if (rc > 0 && parse_entry(&e, line.data, toks, &svc))
            add_service(mcf, &svc, diag);
    }
    free(toks);
    buf_free(&line);
    cfg_reader_free(&r);
    if (diag->errors > errors) {
        master_cf_free(mcf);
        return NULL;
    }
    return mcf;
}

struct master_cf *master_cf_load(const char *path, struct diag *diag)
{
    char *text = cfg_read_file(path, diag);
    if (!text)
        return NULL;
    struct master_cf *mcf = master_cf_parse(text, path, diag);
    free(text);
    return mcf;
}

void master_cf_free(struct master_cf *mcf)
{
    if (!mcf)
        return;
    for (size_t i = 0; i < mcf->count; i++)
        service_free(&mcf->services[i]);
    free(mcf->services);
    free(mcf->path);
    free(mcf);
}
