/*
 * Logging in Postfix's line format, because pflogsumm, fail2ban and the
 * administrator's habits depend on it:
 *
 *   Nov 23 09:44:00 host gatepost/smtpd[1234]: connect from host[1.2.3.4]
 *
 * "gatepost" is syslog_name (per service, as with Postfix's
 * "-o syslog_name=postfix/submission"), "smtpd" the service that speaks.
 * A line goes to syslog (our own /dev/log client, so that one process can
 * speak as smtpd and cleanup), to maillog_file, or to stderr. Every line is
 * a single write(2), so lines from several processes and threads never mix.
 *
 * log_warning/log_error/log_fatal/log_panic add Postfix's "warning: ",
 * "error: ", "fatal: " and "panic: " prefixes; fatal exits, panic aborts.
 */
#ifndef GATEPOST_BASE_LOG_H
#define GATEPOST_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_sink { LOG_SINK_STDERR, LOG_SINK_FILE, LOG_SINK_SYSLOG };

enum log_level { LOG_LEVEL_INFO, LOG_LEVEL_WARNING, LOG_LEVEL_ERROR,
                 LOG_LEVEL_FATAL, LOG_LEVEL_PANIC };

/* Who speaks: syslog_name and service; both strings must outlive their use. */
struct log_ident {
    const char *syslog_name;
    const char *service;
};

/*
 * Chooses the sink. For LOG_SINK_FILE, path is opened O_APPEND (and created
 * 0640). facility is a syslog facility name ("mail" by default). Returns
 * false with errno set when the file or socket cannot be opened.
 */
bool log_open(enum log_sink sink, const char *path, const char *facility);
/* The identity used by the plain log_* calls in this process. */
void log_set_ident(const char *syslog_name, const char *service);
/* Overrides the host name in file and stderr lines (default: gethostname). */
void log_set_hostname(const char *hostname);
/* Re-opens the file sink (after rotation, on SIGHUP). */
void log_reopen(void);

void log_vmsg(const struct log_ident *who, enum log_level level,
              const char *fmt, va_list ap);
void log_msg(const struct log_ident *who, enum log_level level,
             const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For tests: send lines to a callback instead of a sink. */
typedef void (*log_hook_fn)(const char *line, void *arg);
void log_set_hook(log_hook_fn fn, void *arg);

#endif
