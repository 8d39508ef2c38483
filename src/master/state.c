/*
 * Loading the supervisor's state; see state.h. Start-up problems are
 * reported as "file:line: what is wrong" and stop the start (or the
 * reload) before any listener or child changes.
 */
#include "master/state.h"

#include "base/fileio.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "net/admission.h"
#include "queue/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool setup_logging(const struct config *cfg, bool first)
{
    const char *file = cfg_str(cfg, P_MAILLOG_FILE);
    bool ok;
    if (file[0] && strcmp(file, "/dev/stderr") != 0)
        ok = log_open(LOG_SINK_FILE, file, NULL);
    else if (cfg_bool(cfg, P_MAILLOG_USE_SYSLOG))
        ok = log_open(LOG_SINK_SYSLOG, NULL, cfg_str(cfg, P_SYSLOG_FACILITY));
    else
        ok = log_open(LOG_SINK_STDERR, NULL, NULL);
    if (!ok) {
        fprintf(stderr, "gatepost: cannot open the log (%s): %s\n",
                file[0] ? file : "syslog", strerror(errno));
        return false;
    }
    log_set_hostname(cfg_str(cfg, P_MYHOSTNAME));
    (void)first;
    return true;
}

static bool prepare_directories(struct master_state *st, struct diag *diag)
{
    struct buf why;
    buf_init(&why, 1024);
    bool ok = queue_layout_create(st->queue_dir, &why);
    if (!ok)
        diag_add(diag, DIAG_ERROR, "queue_directory", "%s", buf_cstr(&why));
    buf_free(&why);
    static const char *const subdirs[] = { "", QUEUE_DIR_TMP, QUEUE_DIR_INCOMING,
                                           QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED,
                                           QUEUE_DIR_CORRUPT, QUEUE_DIR_PRIVATE };
    for (size_t i = 0; ok && st->privileged && i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        char *path = xasprintf("%s/%s", st->queue_dir, subdirs[i]);
        if (!privs_own(path, &st->owner)) {
            diag_add(diag, DIAG_ERROR, "queue_directory", "chown %s: %s", path, strerror(errno));
            ok = false;
        }
        free(path);
    }
    const char *data_dir = cfg_str(st->cfg, P_DATA_DIRECTORY);
    if (ok && !fileio_mkdirs(data_dir, 0700)) {
        diag_add(diag, DIAG_ERROR, "data_directory", "mkdir %s: %s", data_dir, strerror(errno));
        ok = false;
    }
    if (ok && st->privileged && !privs_own(data_dir, &st->owner)) {
        diag_add(diag, DIAG_ERROR, "data_directory", "chown %s: %s", data_dir, strerror(errno));
        ok = false;
    }
    return ok;
}

/* Where setup_logging sends the log: true if that is standard error. */
static bool logs_to_stderr(const struct config *cfg)
{
    const char *file = cfg_str(cfg, P_MAILLOG_FILE);
    if (file[0])
        return strcmp(file, "/dev/stderr") == 0;
    return !cfg_bool(cfg, P_MAILLOG_USE_SYSLOG);
}

static const struct master_service_run *find_running(const struct master_state *running,
                                                     const char *bind_key)
{
    for (size_t i = 0; running && i < running->nservices; i++)
        if (strcmp(running->services[i].bind_key, bind_key) == 0)
            return &running->services[i];
    return NULL;
}

static void share_sockets(struct listener_set *dst, const struct listener_set *src)
{
    dst->items = xcalloc(src->count ? src->count : 1, sizeof(*dst->items));
    dst->count = src->count;
    for (size_t i = 0; i < src->count; i++) {
        dst->items[i].fd = fcntl(src->items[i].fd, F_DUPFD_CLOEXEC, 3);
        dst->items[i].address = xstrdup(src->items[i].address);
        dst->items[i].port = src->items[i].port;
    }
}

static bool add_service(struct master_state *st, const struct master_service *ms,
                        const struct master_state *running, struct diag *diag)
{
    char where[512];
    snprintf(where, sizeof(where), "%s:%d", ms->file, ms->line);
    struct config *cfg = config_derive(st->cfg, ms->overrides, ms->noverrides, ms->name, diag);
    if (cfg == NULL)
        return false;
    struct smtpd_service *svc = smtpd_service_new(ms->name, cfg, diag);
    if (svc == NULL) {
        config_free(cfg);
        return false;
    }
    st->services = xrealloc(st->services, (st->nservices + 1) * sizeof(*st->services));
    struct master_service_run *run = &st->services[st->nservices++];
    memset(run, 0, sizeof(*run));
    run->name = xstrdup(ms->name);
    run->cfg = cfg;
    run->svc = svc;
    run->bind_key = xasprintf("%s|%s|%s", ms->name, cfg_str(cfg, P_INET_INTERFACES),
                              cfg_str(cfg, P_INET_PROTOCOLS));
    const struct master_service_run *old = find_running(running, run->bind_key);
    if (old) {
        share_sockets(&run->sockets, &old->sockets);
        return true;
    }
    return listener_bind_service(&run->sockets, ms->name, cfg_str(cfg, P_INET_INTERFACES),
                                 cfg_str(cfg, P_INET_PROTOCOLS), LISTEN_BACKLOG_DEFAULT,
                                 where, diag);
}

static bool load_services(struct master_state *st, const struct master_state *running,
                          struct diag *diag)
{
    bool ok = true;
    for (size_t i = 0; i < st->mcf->count; i++) {
        const struct master_service *ms = &st->mcf->services[i];
        if (ms->kind != SERVICE_SMTPD_INET) {
            diag_addf_at(diag, DIAG_INFO, ms->file, ms->line,
                         "service \"%s\" (%s %s) is not run by gatepost; skipped",
                         ms->name, ms->type, ms->command ? ms->command : "");
            continue;
        }
        if (!add_service(st, ms, running, diag))
            ok = false;
    }
    if (ok && st->nservices == 0) {
        diag_add(diag, DIAG_ERROR, st->mcf->path, "no \"inet ... smtpd\" service to run");
        ok = false;
    }
    for (size_t i = 0; ok && i < st->nservices; i++)
        for (size_t j = 0; j < st->services[i].sockets.count; j++) {
            st->listeners = xrealloc(st->listeners, (st->nlisteners + 1) * sizeof(*st->listeners));
            st->listeners[st->nlisteners++] = (struct smtpd_listen){
                st->services[i].sockets.items[j].fd, st->services[i].svc };
        }
    return ok;
}

static unsigned worker_count(const struct config *cfg)
{
    long long n = cfg_int(cfg, P_SMTPD_WORKERS);
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    if (n > ADMISSION_MAX_WORKERS / 2)
        n = ADMISSION_MAX_WORKERS / 2;   /* room for a reload's second generation */
    return (unsigned)n;
}

static bool load_identity(struct master_state *st, struct diag *diag)
{
    st->privileged = geteuid() == 0;
    if (!st->privileged)
        return true;
    const char *why = NULL;
    const char *owner = cfg_str(st->cfg, P_MAIL_OWNER);
    if (!privs_lookup_owner(owner, &st->owner, &why)) {
        diag_add(diag, DIAG_ERROR, cfg_origin(st->cfg, P_MAIL_OWNER),
                 "mail_owner \"%s\": %s", owner, why);
        return false;
    }
    return true;
}

static void report(const struct diag *diag, bool logging_ready)
{
    if (logging_ready)
        diag_log(diag);
    else
        diag_print(diag, stderr);
}

bool master_state_load(struct master_state *out, const char *config_dir,
                       const struct master_state *running)
{
    struct diag diag;
    diag_init(&diag);
    memset(out, 0, sizeof(*out));
    out->config_dir_arg = config_dir;
    if (!config_open_active(config_dir, &out->cfg, &out->mcf, &diag)) {
        report(&diag, running != NULL);
        diag_free(&diag);
        return false;
    }
    const struct config_source *src = cfg_source(out->cfg);
    out->config_label = src->embedded ? xasprintf("embedded default (state in %s)",
                                                  cfg_str(out->cfg, P_QUEUE_DIRECTORY))
                                      : xstrdup(src->config_dir);
    if (!setup_logging(out->cfg, running == NULL)) {
        diag_free(&diag);
        return false;
    }
    out->syslog_name = xstrdup(cfg_str(out->cfg, P_SYSLOG_NAME));
    log_set_ident(out->syslog_name, "master");
    out->queue_dir = xstrdup(cfg_str(out->cfg, P_QUEUE_DIRECTORY));
    out->notify_path = xasprintf("%s/%s", out->queue_dir, QUEUE_QMGR_SOCKET);
    out->workers = worker_count(out->cfg);
    bool ok = load_identity(out, &diag) && prepare_directories(out, &diag) &&
              load_services(out, running, &diag);
    report(&diag, true);
    /* Whoever starts the daemon watches the terminal, not the log file:
       the problems that stop the start are shown there too. */
    if (!ok && running == NULL && !logs_to_stderr(out->cfg))
        diag_print(&diag, stderr);
    diag_free(&diag);
    if (!ok)
        return false;
    out->admission = running ? running->admission
                             : admission_create((unsigned)cfg_int(out->cfg, P_SMTPD_CONNECTION_LIMIT) + 64);
    return true;
}

static void free_services(struct master_state *st)
{
    for (size_t i = 0; i < st->nservices; i++) {
        struct master_service_run *run = &st->services[i];
        listener_set_close(&run->sockets);
        smtpd_service_free(run->svc);
        config_free(run->cfg);
        free(run->name);
        free(run->bind_key);
    }
    free(st->services);
    free(st->listeners);
}

void master_state_replace(struct master_state *cur, struct master_state *next)
{
    free_services(cur);
    master_cf_free(cur->mcf);
    config_free(cur->cfg);
    free(cur->config_label);
    free(cur->syslog_name);
    free(cur->queue_dir);
    free(cur->notify_path);
    *cur = *next;
}

bool master_state_worker_setup(const struct master_state *st, unsigned index,
                               struct smtpd_worker_setup *out)
{
    memset(out, 0, sizeof(*out));
    out->index = index;
    out->cfg = st->cfg;
    out->listeners = st->listeners;
    out->nlisteners = st->nlisteners;
    out->admission = st->admission;
    out->tmp_dirfd = queue_layout_open(st->queue_dir, QUEUE_DIR_TMP);
    out->incoming_dirfd = queue_layout_open(st->queue_dir, QUEUE_DIR_INCOMING);
    int private_fd = queue_layout_open(st->queue_dir, QUEUE_DIR_PRIVATE);
    /* The worker reaches the queue manager's socket through a descriptor
       opened now: unprivileged, it may not be allowed to walk the path
       (a queue under a checkout in /root). */
    static char notify_path[64];
    snprintf(notify_path, sizeof(notify_path), "/proc/self/fd/%d/qmgr", private_fd);
    out->queue_notify_path = notify_path;
    static char auth_path[64];
    snprintf(auth_path, sizeof(auth_path), "/proc/self/fd/%d/authd", private_fd);
    out->auth_socket_path = auth_path;
    if (out->tmp_dirfd < 0 || out->incoming_dirfd < 0 || private_fd < 0) {
        log_error("cannot open queue directories under %s: %s", st->queue_dir, strerror(errno));
        return false;
    }
    if (st->privileged && !privs_drop(&st->owner)) {
        log_error("cannot drop privileges to %s: %s", st->owner.name, strerror(errno));
        return false;
    }
    return true;
}

bool master_state_needs_auth(const struct master_state *st)
{
    for (size_t i = 0; i < st->nservices; i++)
        if (cfg_bool(st->services[i].cfg, P_SMTPD_SASL_AUTH_ENABLE))
            return true;
    return false;
}

bool master_state_auth_setup(const struct master_state *st, struct auth_server_setup *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < st->nlisteners; i++)
        close(st->listeners[i].fd);
    struct auth_server_service *svcs = xcalloc(st->nservices ? st->nservices : 1, sizeof(*svcs));
    for (size_t i = 0; i < st->nservices; i++)
        svcs[i] = (struct auth_server_service){ st->services[i].name, st->services[i].cfg };
    out->services = svcs;
    out->nservices = st->nservices;
    /* Named through a descriptor of private/, like the workers' paths. */
    int private_fd = queue_layout_open(st->queue_dir, QUEUE_DIR_PRIVATE);
    if (private_fd < 0) {
        log_error("cannot open %s/%s: %s", st->queue_dir, QUEUE_DIR_PRIVATE, strerror(errno));
        return false;
    }
    static char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d/authd", private_fd);
    out->socket_path = path;
    out->owner_uid = st->privileged ? st->owner.uid : (uid_t)-1;
    out->owner_gid = st->privileged ? st->owner.gid : (gid_t)-1;
    return true;
}
