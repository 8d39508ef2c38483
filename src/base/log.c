/*
 * Postfix-format logging; see log.h. The syslog client is written here
 * rather than using syslog(3) because syslog(3) fixes one ident per process
 * and we need several (smtpd, cleanup, qmgr, local, ...).
 */
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static enum log_sink sink = LOG_SINK_STDERR;
static int sink_fd = 2;
static char *sink_path;
static int facility_code = LOG_MAIL;
static char host_name[256];
static struct log_ident default_ident = { "gatepost", "gatepost" };
static log_hook_fn hook;
static void *hook_arg;
static pthread_mutex_t reopen_lock = PTHREAD_MUTEX_INITIALIZER;

/* getpid() is a system call on every line otherwise; a fork clears the cache. */
static _Atomic long cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void forget_pid(void)
{
    cached_pid = 0;
}

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_pid);
}

static long log_pid(void)
{
    pthread_once(&pid_once, register_fork_handler);
    long pid = cached_pid;
    if (pid == 0)
        cached_pid = pid = (long)getpid();
    return pid;
}

static const struct { const char *name; int code; } facilities[] = {
    { "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
    { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
    { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
    { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static int facility_lookup(const char *name)
{
    for (size_t i = 0; name && i < sizeof(facilities) / sizeof(facilities[0]); i++)
        if (strcasecmp(name, facilities[i].name) == 0)
            return facilities[i].code;
    return LOG_MAIL;
}

static int open_syslog_socket(void)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, "/dev/log");
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int open_file_sink(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

bool log_open(enum log_sink new_sink, const char *path, const char *facility)
{
    int fd = 2;
    if (new_sink == LOG_SINK_FILE)
        fd = open_file_sink(path);
    else if (new_sink == LOG_SINK_SYSLOG)
        fd = open_syslog_socket();
    if (fd < 0)
        return false;
    if (sink_fd > 2)
        close(sink_fd);
    sink = new_sink;
    sink_fd = fd;
    free(sink_path);
    sink_path = path ? strdup(path) : NULL;
    facility_code = facility_lookup(facility);
    return true;
}

void log_reopen(void)
{
    pthread_mutex_lock(&reopen_lock);
    if (sink == LOG_SINK_FILE && sink_path) {
        int fd = open_file_sink(sink_path);
        if (fd >= 0) {
            dup2(fd, sink_fd);
            close(fd);
        }
    }
    pthread_mutex_unlock(&reopen_lock);
}

void log_set_ident(const char *syslog_name, const char *service)
{
    default_ident.syslog_name = syslog_name;
    default_ident.service = service;
}

void log_set_hostname(const char *hostname)
{
    snprintf(host_name, sizeof(host_name), "%s", hostname);
}

void log_set_hook(log_hook_fn fn, void *arg)
{
    hook = fn;
    hook_arg = arg;
}

static const char *level_prefix(enum log_level level)
{
    static const char *const prefix[] = {
        [LOG_LEVEL_INFO] = "", [LOG_LEVEL_WARNING] = "warning: ",
        [LOG_LEVEL_ERROR] = "error: ", [LOG_LEVEL_FATAL] = "fatal: ",
        [LOG_LEVEL_PANIC] = "panic: ",
    };
    return prefix[level];
}

static int level_priority(enum log_level level)
{
    static const int prio[] = {
        [LOG_LEVEL_INFO] = LOG_INFO, [LOG_LEVEL_WARNING] = LOG_WARNING,
        [LOG_LEVEL_ERROR] = LOG_ERR, [LOG_LEVEL_FATAL] = LOG_CRIT,
        [LOG_LEVEL_PANIC] = LOG_CRIT,
    };
    return prio[level];
}

/* Control characters would let a peer forge log lines; show them escaped. */
static size_t sanitize(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            s[i] = '?';
    }
    return n;
}

static void emit(char *line, size_t len)
{
    if (hook) {
        hook(line, hook_arg);
        return;
    }
    line[len++] = '\n';
    ssize_t w;
    do {
        w = write(sink_fd, line, len);
    } while (w < 0 && errno == EINTR);
    if (w < 0 && sink == LOG_SINK_SYSLOG && (errno == ECONNREFUSED || errno == ENOTCONN)) {
        /* syslogd restarted: reconnect once. */
        int fd = open_syslog_socket();
        if (fd >= 0) {
            dup2(fd, sink_fd);
            close(fd);
            (void)!write(sink_fd, line, len);
        }
    }
}

void log_vmsg(const struct log_ident *who, enum log_level level,
              const char *fmt, va_list ap)
{
    if (who == NULL)
        who = &default_ident;
    if (host_name[0] == '\0' && gethostname(host_name, sizeof(host_name) - 1) < 0)
        strcpy(host_name, "localhost");

    char line[LOG_LINE_MAX + 2];
    size_t off;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
    if (sink == LOG_SINK_SYSLOG)
        off = (size_t)snprintf(line, LOG_LINE_MAX, "<%d>%s %s/%s[%ld]: %s",
                               facility_code | level_priority(level), stamp,
                               who->syslog_name, who->service, log_pid(),
                               level_prefix(level));
    else
        off = (size_t)snprintf(line, LOG_LINE_MAX, "%s %s %s/%s[%ld]: %s", stamp,
                               host_name, who->syslog_name, who->service,
                               log_pid(), level_prefix(level));
    if (off >= LOG_LINE_MAX)
        off = LOG_LINE_MAX - 1;
    int n = vsnprintf(line + off, LOG_LINE_MAX - off, fmt, ap);
    size_t body = n < 0 ? 0 : (size_t)n;
    if (body >= LOG_LINE_MAX - off)
        body = LOG_LINE_MAX - off - 1;
    sanitize(line + off, body);
    emit(line, off + body);
}

void log_msg(const struct log_ident *who, enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(who, level, fmt, ap);
    va_end(ap);
}

#define LOG_FN(name, level)                           \
    void name(const char *fmt, ...)                   \
    {                                                 \
        va_list ap;                                   \
        va_start(ap, fmt);                            \
        log_vmsg(NULL, level, fmt, ap);               \
        va_end(ap);                                   \
    }
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warning, LOG_LEVEL_WARNING)
LOG_FN(log_error, LOG_LEVEL_ERROR)

void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(NULL, LOG_LEVEL_FATAL, fmt, ap);
    va_end(ap);
    exit(1);
}

void log_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(NULL, LOG_LEVEL_PANIC, fmt, ap);
    va_end(ap);
    abort();
}
