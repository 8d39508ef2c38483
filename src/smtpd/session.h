/*
 * Internals of the SMTP session, shared by the files of src/smtpd/:
 *
 *   session.c    lifecycle: accept, peer lookup, greeting, input loop,
 *                output flushing, timeouts, tarpit, close
 *   commands.c   the command table and the handlers (check, then proceed)
 *   data.c       the DATA phase: content to the queue, end-of-data checks
 *   reply.c      reply formatting and error accounting
 *   smtpd_log.c  every Postfix-format log line the session writes
 *   received.c   the Received: trace header
 *   service.c    per-service typed settings and compiled policy
 *   worker.c     the worker process: event loop, accept, admission, shutdown
 *
 * Two lifetimes: struct smtpd_session lives from accept to close;
 * struct smtpd_txn from MAIL to the end of DATA, RSET, HELO/EHLO or close.
 * A session waiting on something asynchronous (DNS, policy, queue commit,
 * tarpit timer) is "parked": it neither reads commands nor frees itself
 * until the answer arrives; a session whose client went away while parked
 * is marked dead and freed by the completion.
 */
#ifndef GATEPOST_SMTPD_SESSION_H
#define GATEPOST_SMTPD_SESSION_H

#include "base/buf.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "event/workpool.h"
#include "net/conn.h"
#include "net/tls.h"
#include "policy/netlist.h"
#include "policy/policy.h"
#include "queue/envelope.h"
#include "smtp/address.h"
#include "smtp/data.h"
#include "smtp/header.h"
#include "smtp/line.h"
#include "smtpd/auth.h"
#include "smtpd/smtpd.h"

#include <stdbool.h>
#include <stdint.h>

struct event;
struct event_base;
struct queue_writer;
struct queue_txn;
struct resolver;
struct resolver_query;
struct smtpd_worker;

/* Counters for the "disconnect from ... ehlo=1 mail=1 ..." line, in Postfix's order. */
enum smtpd_counter {
    CNT_HELO, CNT_EHLO, CNT_STARTTLS, CNT_AUTH, CNT_MAIL, CNT_RCPT, CNT_DATA,
    CNT_BDAT, CNT_RSET, CNT_NOOP, CNT_VRFY, CNT_ETRN, CNT_QUIT, CNT_HELP,
    CNT_UNKNOWN, CNT_COUNT
};

enum bare_newline_mode { BARE_NEWLINE_ALLOW, BARE_NEWLINE_NORMALIZE, BARE_NEWLINE_REJECT };

/* Typed settings of one master.cf service, resolved once at load. */
struct smtpd_service {
    char *name;                         /* master.cf service name */
    const struct config *cfg;
    struct policy_env *policy;
    struct log_ident ident;             /* syslog_name + "smtpd" */
    struct log_ident cleanup_ident;     /* syslog_name + "cleanup" */
    char *syslog_name;
    char *myhostname;
    char *banner;                       /* expanded smtpd_banner */
    char *mail_name;
    size_t line_limit;                  /* command line length */
    int64_t message_size_limit;         /* 0: none */
    unsigned recipient_limit;
    unsigned soft_error_limit, hard_error_limit, junk_command_limit;
    unsigned client_connection_limit;
    unsigned hopcount_limit;
    int64_t timeout_ms, error_sleep_ms;
    bool helo_required, disable_vrfy, strict_envelopes, smtputf8_enable;
    bool peername_lookup;
    enum bare_newline_mode bare_newline;
    int bare_newline_reject_code;
    struct netlist *bare_newline_exclusions;
    struct netlist *event_limit_exceptions;
    char **discard_ehlo_keywords;       /* lower-case keywords, NULL-terminated */

    /* TLS */
    struct tls_server *tls;             /* NULL: no STARTTLS */
    enum tls_level tls_level;
    bool tls_wrapper;                   /* smtpd_tls_wrappermode: TLS from the first byte */
    bool tls_auth_only;
    bool tls_received_header;
    int tls_loglevel;
    int64_t starttls_timeout_ms;

    /* SMTP AUTH (auth.c) */
    struct smtpd_auth_settings *auth;   /* NULL: AUTH off for this service */
};

struct smtpd_rcpt {
    char *address;
    char *orcpt;
    int notify;
};

struct smtpd_txn {
    struct smtp_mail_args mail;
    struct smtpd_rcpt *rcpts;
    size_t nrcpt, rcpt_cap;
    unsigned rcpt_attempts;             /* RCPT commands in this transaction */
    struct queue_txn *qtxn;             /* opened at the first accepted RCPT */
    char queue_id[QUEUE_ID_SIZE];
    int64_t start_us;
    struct data_reader reader;
    struct smtp_header_scan headers;
    struct buf chunk;                   /* DATA content waiting to be appended */
    uint64_t content_size;              /* bytes handed to the queue, incl. Received: */
    bool queue_failed;                  /* an append failed: 451 at the end */
    bool end_seen;                      /* the end-of-data line was consumed */
};

enum smtpd_state {
    STATE_LOOKUP,       /* before the greeting: peer name lookup, connect checks */
    STATE_COMMAND,      /* reading commands */
    STATE_DATA,         /* reading message content */
    STATE_TLS,          /* TLS handshake (STARTTLS or wrapper mode) */
    STATE_CLOSING,      /* flushing the last reply, then close */
};

struct smtpd_session;
typedef void (*smtpd_proceed_fn)(struct smtpd_session *s, const struct policy_decision *d);

struct smtpd_session {
    uint64_t id;
    struct smtpd_worker *worker;
    struct smtpd_service *svc;
    struct conn conn;
    struct event *read_ev, *write_ev, *timer_ev, *park_timer_ev;
    struct buf in, out;
    struct line_reader lines;
    enum smtpd_state state;

    /* client facts */
    struct netaddr addr;
    int port;
    char addr_text[NETADDR_TEXT_MAX];
    char name[256];                     /* verified name or "unknown" */
    char reverse_name[256];
    char namaddr[320];                  /* "name[addr]" for logs */
    char *helo;
    bool esmtp;
    bool admitted;                      /* counted in the admission table */
    bool bare_newline_exempt;

    /* protocol state */
    struct smtpd_txn *txn;
    struct policy_session policy;
    struct policy_facts facts;          /* valid while a policy check is parked */
    struct policy_eval *policy_pending;
    smtpd_proceed_fn policy_proceed;    /* what to do with a parked decision */
    struct resolver_query *lookup;
    struct smtp_rcpt_args pending_rcpt; /* RCPT waiting for its policy decision */
    unsigned error_count, junk_count;
    uint16_t count_ok[CNT_COUNT], count_total[CNT_COUNT];
    const char *last_verb;              /* for "lost connection after X" */
    int64_t connect_us;

    /* TLS */
    struct workpool_job tls_job;        /* a handshake step on the TLS pool */
    enum tls_step tls_step_result;
    char tls_error[256];
    bool tls_step_running;
    bool tls_wrapper;                   /* handshake before the greeting */
    bool tls_after_flush;               /* STARTTLS answered: handshake once the 220 is out */

    /* SMTP AUTH */
    struct smtpd_auth_state auth;
    struct buf auth_ehlo_line;          /* storage for the AUTH lines of an EHLO reply */

    /* flow control */
    bool parked;                        /* waiting for an asynchronous answer */
    bool dead;                          /* client gone while parked: free on completion */
    bool input_eof;
    bool read_blocked;                  /* input buffer full: socket not read */
    bool tarpit_pending;                /* replies held back by smtpd_error_sleep_time */
    bool shutting_down;                 /* worker is stopping */
    struct smtpd_session *prev, *next;  /* the worker's session list */
};

/* worker.c: what sessions need from their worker */
struct event_base *smtpd_worker_base(struct smtpd_worker *w);
struct queue_writer *smtpd_worker_queue(struct smtpd_worker *w);
struct resolver *smtpd_worker_resolver(struct smtpd_worker *w);
struct workpool *smtpd_worker_tls_pool(struct smtpd_worker *w);
struct auth_client *smtpd_worker_auth_client(struct smtpd_worker *w);
void smtpd_worker_session_closed(struct smtpd_worker *w, struct smtpd_session *s);

/* session.c */
struct smtpd_session *session_new(struct smtpd_worker *w, struct smtpd_service *svc,
                                  int fd, const struct netaddr *addr, int port);
void session_park(struct smtpd_session *s);
/* Ends a park: frees a dead session (returns false) or resumes input processing. */
bool session_unpark(struct smtpd_session *s);
void session_process_input(struct smtpd_session *s);
/* Writes pending replies; false if that ended and freed the session. */
bool session_flush(struct smtpd_session *s);
/* Replies are sent, then the connection is closed. */
void session_close_after_reply(struct smtpd_session *s);
/* True if the session was freed at once. */
bool session_shutdown(struct smtpd_session *s);
/* Starts the transaction's DATA phase reading (after 354). */
void session_enter_data(struct smtpd_session *s);
/* Back to commands after DATA (whatever its outcome). */
void session_leave_data(struct smtpd_session *s);
/* reply.c asks for replies to be held for smtpd_error_sleep_time. */
void smtpd_session_start_tarpit(struct smtpd_session *s);
void session_fill_facts(struct smtpd_session *s);
/* (Re)arms the client timeout. */
void session_arm_timer(struct smtpd_session *s, int64_t ms);
/* The handshake finished: continue to the greeting (wrapper) or to commands. */
void session_tls_ready(struct smtpd_session *s, bool wrapper);
/* Pauses/resumes reading from the client (DATA backpressure). */
void session_pause_reading(struct smtpd_session *s);
void session_resume_reading(struct smtpd_session *s);

/* commands.c */
void smtpd_dispatch(struct smtpd_session *s, const char *line, size_t len);
/* Counts a command as successful for the disconnect line. */
void smtpd_command_ok(struct smtpd_session *s, enum smtpd_counter c);
/* Runs the policy checks for stage; proceed gets the decision now or later. */
void smtpd_check_then(struct smtpd_session *s, enum policy_stage stage,
                      const char *recipient, smtpd_proceed_fn proceed);
void smtpd_txn_free(struct smtpd_session *s);
const char *smtpd_protocol_name(const struct smtpd_session *s);

void smtpd_data_accepted(struct smtpd_session *s);

/* data.c */
void smtpd_data_start(struct smtpd_session *s);
/* Consumes DATA input from s->in; returns true while more data is wanted. */
void smtpd_data_input(struct smtpd_session *s);

/* starttls.c */
void smtpd_cmd_starttls(struct smtpd_session *s, const char *arg, size_t len);
/* Starts the handshake; false (logged) if TLS could not even start. */
bool smtpd_tls_begin(struct smtpd_session *s, bool wrapper);
/* Readiness while handshaking. */
void smtpd_tls_event(struct smtpd_session *s);
/* Level encrypt before STARTTLS: replies 530 and returns true. */
bool smtpd_tls_required(struct smtpd_session *s);

/* auth.c */
bool smtpd_auth_service_init(struct smtpd_service *svc, const struct config *cfg,
                             struct diag *diag);
void smtpd_auth_service_free(struct smtpd_service *svc);
void smtpd_auth_reset(struct smtpd_session *s);
void smtpd_cmd_auth(struct smtpd_session *s, const char *arg, size_t len);
void smtpd_auth_free(struct smtpd_session *s);
/* Decides at EHLO whether this client may use AUTH, then calls next. */
void smtpd_auth_decide(struct smtpd_session *s, smtpd_proceed_fn next);
/* True while a 334 is outstanding: the next line is a SASL response. */
bool smtpd_auth_waiting(const struct smtpd_session *s);
void smtpd_auth_response(struct smtpd_session *s, const char *line, size_t len);
void smtpd_auth_line_too_long(struct smtpd_session *s);
/* The login name and mechanism once authenticated, else NULL. */
const char *smtpd_auth_username(const struct smtpd_session *s);
const char *smtpd_auth_method(const struct smtpd_session *s);
/* Appends the AUTH (and AUTH=) EHLO lines when AUTH is offered to this client. */
size_t smtpd_auth_ehlo_lines(struct smtpd_session *s, const char **lines, size_t n, size_t max);

/* reply.c */
void smtpd_reply(struct smtpd_session *s, int code, const char *enhanced,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Multi-line reply: lines[0..n) get "code-" except the last. */
void smtpd_reply_lines(struct smtpd_session *s, int code, const char *const *lines, size_t n);
/* Counts an error reply for the soft/hard limits. */
void smtpd_count_error(struct smtpd_session *s);
/* True if replies must now be delayed by smtpd_error_sleep_time. */
bool smtpd_tarpit_due(const struct smtpd_session *s);

/* smtpd_log.c */
void smtpd_log_connect(struct smtpd_session *s);
void smtpd_log_disconnect(struct smtpd_session *s);
void smtpd_log_lost(struct smtpd_session *s, const char *why);
void smtpd_log_client(struct smtpd_session *s);
void smtpd_log_reject(struct smtpd_session *s, const char *stage_verb, int code,
                      const char *enhanced, const char *text, const char *recipient);
void smtpd_log_message_id(struct smtpd_session *s, const char *queue_id,
                          const char *message_id);
/* Formats the disconnect counters (" ehlo=1 mail=1 ... commands=N") into out. */
void smtpd_format_counters(const uint16_t *ok, const uint16_t *total, struct buf *out);

/* received.c */
void smtpd_received_header(const struct smtpd_session *s, struct buf *out);

#endif
