/*
 * `gatepost user`: manages the user database of smtpd_sasl_type = gatepost
 * (sasl_user_database), in the manner of Cyrus's saslpasswd2 and
 * sasldblistusers2:
 *
 *   add [-u REALM] [--cram-md5] [--allow NETS] USER     passwd [-u REALM] USER
 *   delete [-u REALM] USER      list      show [-u REALM] USER
 *   set [-u REALM] USER [--allow NETS] [--cram-md5 on|off] [--disable|--enable]
 *   import-sasldb [-f FILE] [--cram-md5]
 *   test [-u REALM] [--from ADDR] USER   (checks a password like the auth process)
 *
 * Passwords come from the terminal (/dev/tty, echo off, asked twice) or,
 * when standard input is not a terminal, from its first line; they are
 * never taken from the command line (other users could read it in ps) and
 * are wiped after hashing. Subcommands and options are tables.
 *
 * Run as root, the database and its lock file are created mode 0600 and
 * owned by root, so only the auth process (root) can read them.
 */
#include "tools/cli.h"

#include "auth/cram_md5.h"
#include "auth/password.h"
#include "auth/mech.h"
#include "auth/scram.h"
#include "auth/store_userdb.h"
#include "auth/userdb.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "config/config.h"
#include "config/master_cf.h"
#include "policy/netlist.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define SASLDB_DUMP_MAX ((size_t)64 << 20)
#define DEFAULT_SASLDB "/etc/sasldb2"

/* Options, and for each the subcommands that take it. */
enum { CMD_ADD = 1, CMD_PASSWD = 2, CMD_DELETE = 4, CMD_LIST = 8, CMD_SHOW = 16, CMD_SET = 32,
       CMD_IMPORT = 64, CMD_TEST = 128 };

struct user_opts {
    const char *realm;          /* -u */
    const char *allow;          /* --allow */
    const char *cram;           /* --cram-md5 [on|off] ("on" for add/import) */
    const char *file;           /* -f */
    const char *from;           /* --from */
    bool disable, enable;
    const char *user;           /* the one operand */
    const char *db_path;
    const char *local_domain;   /* smtpd_sasl_local_domain, for a hint */
};

static const struct {
    const char *name;
    unsigned cmds;
    enum { OPT_FLAG, OPT_ARG } kind;
    size_t offset;
} option_table[] = {
    { "-u", CMD_ADD | CMD_PASSWD | CMD_DELETE | CMD_SHOW | CMD_SET | CMD_TEST, OPT_ARG,
      offsetof(struct user_opts, realm) },
    { "--allow", CMD_ADD | CMD_SET, OPT_ARG, offsetof(struct user_opts, allow) },
    { "--cram-md5", CMD_ADD | CMD_IMPORT, OPT_FLAG, offsetof(struct user_opts, cram) },
    { "--cram-md5", CMD_SET, OPT_ARG, offsetof(struct user_opts, cram) },
    { "--disable", CMD_SET, OPT_FLAG, offsetof(struct user_opts, disable) },
    { "--enable", CMD_SET, OPT_FLAG, offsetof(struct user_opts, enable) },
    { "-f", CMD_IMPORT, OPT_ARG, offsetof(struct user_opts, file) },
    { "--from", CMD_TEST, OPT_ARG, offsetof(struct user_opts, from) },
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gatepost [-c DIR] user add [-u REALM] [--cram-md5] [--allow NETS] USER\n"
            "       gatepost [-c DIR] user passwd [-u REALM] USER\n"
            "       gatepost [-c DIR] user delete [-u REALM] USER\n"
            "       gatepost [-c DIR] user list\n"
            "       gatepost [-c DIR] user show [-u REALM] USER\n"
            "       gatepost [-c DIR] user set [-u REALM] USER [--allow NETS] [--cram-md5 on|off]\n"
            "                                  [--disable | --enable]\n"
            "       gatepost [-c DIR] user import-sasldb [-f FILE] [--cram-md5]\n"
            "       gatepost [-c DIR] user test [-u REALM] [--from ADDR] USER\n\n"
            "Manages the SMTP AUTH users of smtpd_sasl_type = gatepost, kept in\n"
            "sasl_user_database. USER is \"name@realm\", or \"name\" with -u REALM, or a\n"
            "bare \"name\" (logins without \"@\" get smtpd_sasl_local_domain appended).\n\n"
            "  -u REALM          the user's realm (domain)\n"
            "  --cram-md5        also keep CRAM-MD5 state; it is password-equivalent for\n"
            "                    CRAM-MD5 if the database is stolen (set: needs the password)\n"
            "  --allow NETS      client networks the user may authenticate from, in\n"
            "                    mynetworks syntax, first match wins (\"!192.0.2.9, 192.0.2.0/24\");\n"
            "                    \"\" = anywhere\n"
            "  --disable, --enable   refuse or allow the user's logins\n"
            "  -f FILE           the Cyrus sasldb2 to import (default %s); it is read\n"
            "                    with db_dump from Berkeley DB's utilities (db-util)\n"
            "  test              check a password as the auth process would (the realm is\n"
            "                    -u or smtpd_sasl_local_domain; --from: the client address)\n\n"
            "Passwords are asked twice on the terminal, or read from the first line of\n"
            "standard input when it is not a terminal.\n",
            DEFAULT_SASLDB);
}

/* Sets one option from argv; returns how many words it used, 0 if unknown. */
static int take_option(unsigned cmd, int argc, char **argv, int i, struct user_opts *o)
{
    for (size_t k = 0; k < sizeof(option_table) / sizeof(option_table[0]); k++) {
        if (strcmp(argv[i], option_table[k].name) != 0 || !(option_table[k].cmds & cmd))
            continue;
        char *field = (char *)o + option_table[k].offset;
        if (option_table[k].kind == OPT_ARG) {
            if (i + 1 >= argc) {
                fprintf(stderr, "gatepost user: %s needs a value\n", argv[i]);
                return -1;
            }
            *(const char **)field = argv[i + 1];
            return 2;
        }
        if (option_table[k].offset == offsetof(struct user_opts, cram))
            o->cram = "on";
        else
            *(bool *)field = true;
        return 1;
    }
    return 0;
}

/* Parses the words after the subcommand; false (message printed) on error. */
static bool parse_args(unsigned cmd, bool wants_user, int argc, char **argv, struct user_opts *o)
{
    for (int i = 1; i < argc;) {
        int used = argv[i][0] == '-' ? take_option(cmd, argc, argv, i, o) : 0;
        if (used < 0)
            return false;
        if (used > 0) {
            i += used;
            continue;
        }
        if (argv[i][0] == '-' || !wants_user || o->user != NULL) {
            fprintf(stderr, "gatepost user %s: unexpected argument \"%s\"\n", argv[0], argv[i]);
            return false;
        }
        o->user = argv[i++];
    }
    if (wants_user && o->user == NULL) {
        fprintf(stderr, "gatepost user %s: which user?\n", argv[0]);
        return false;
    }
    return true;
}

/* The database key for the USER operand and -u. */
static bool user_key(const struct user_opts *o, char key[CRED_USER_MAX])
{
    const char *why;
    if (o->realm != NULL && strchr(o->user, '@') != NULL) {
        fprintf(stderr, "gatepost user: give the realm either with -u or in the user name, not both\n");
        return false;
    }
    if (o->realm != NULL && o->realm[0] == '\0') {
        fprintf(stderr, "gatepost user: -u needs a realm\n");
        return false;
    }
    if (!userdb_key(o->user, o->realm, key, &why)) {
        fprintf(stderr, "gatepost user: \"%s\": %s\n", o->user, why);
        return false;
    }
    return true;
}

/* --allow NETS must compile as a network list. */
static bool networks_ok(const char *nets)
{
    struct diag diag;
    diag_init(&diag);
    if (strlen(nets) >= USERDB_NETWORKS_MAX) {
        fprintf(stderr, "gatepost user: --allow: list too long\n");
        diag_free(&diag);
        return false;
    }
    struct netlist *nl = netlist_compile(nets, "--allow", "command line", &diag);
    if (nl == NULL)
        diag_print(&diag, stderr);
    netlist_free(nl);
    diag_free(&diag);
    return nl != NULL;
}

/* Terminal state to restore if we are interrupted while echo is off. */
static struct termios saved_tty;
static int saved_tty_fd = -1;

static void restore_tty_and_exit(int sig)
{
    if (saved_tty_fd >= 0)
        tcsetattr(saved_tty_fd, TCSAFLUSH, &saved_tty);
    _exit(128 + sig);
}

/* Reads one line (without its newline) from fd into out; false on EOF or overflow. */
static bool read_line(int fd, char *out, size_t size)
{
    size_t n = 0;
    bool too_long = false;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return n > 0 && !too_long;
        if (c == '\n')
            break;
        if (n + 1 >= size)
            too_long = true;
        else
            out[n++] = c;
    }
    if (n > 0 && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    return !too_long;
}

static bool prompt(int tty, const char *text, char *out, size_t size)
{
    if (write(tty, text, strlen(text)) < 0)
        return false;
    bool ok = read_line(tty, out, size);
    if (write(tty, "\n", 1) < 0)
        return false;
    return ok;
}

/* Asks twice on the terminal with echo off. */
static bool read_password_tty(char *out, size_t size)
{
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty < 0) {
        fprintf(stderr, "gatepost user: cannot open the terminal: %s\n", strerror(errno));
        return false;
    }
    struct termios off;
    if (tcgetattr(tty, &saved_tty) == 0) {
        saved_tty_fd = tty;
        signal(SIGINT, restore_tty_and_exit);
        signal(SIGTERM, restore_tty_and_exit);
        off = saved_tty;
        off.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        tcsetattr(tty, TCSAFLUSH, &off);
    }
    char again[PASSWORD_MAX + 2];
    bool ok = prompt(tty, "Password: ", out, size) &&
              prompt(tty, "Again (for verification): ", again, sizeof(again));
    if (saved_tty_fd >= 0)
        tcsetattr(tty, TCSAFLUSH, &saved_tty);
    saved_tty_fd = -1;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    close(tty);
    if (ok && strcmp(out, again) != 0) {
        fprintf(stderr, "gatepost user: the passwords do not match\n");
        ok = false;
    } else if (!ok)
        fprintf(stderr, "gatepost user: no password given (or longer than %d bytes)\n", PASSWORD_MAX);
    OPENSSL_cleanse(again, sizeof(again));
    return ok;
}

/* The password: prompt on a terminal, else the first line of standard input. */
static bool read_password(char out[PASSWORD_MAX + 2])
{
    bool ok;
    if (isatty(STDIN_FILENO))
        ok = read_password_tty(out, PASSWORD_MAX + 2);
    else if (!(ok = read_line(STDIN_FILENO, out, PASSWORD_MAX + 2)))
        fprintf(stderr, "gatepost user: no password on standard input (or longer than %d bytes)\n",
                PASSWORD_MAX);
    if (ok && out[0] == '\0') {
        fprintf(stderr, "gatepost user: empty password\n");
        ok = false;
    }
    if (ok && strlen(out) > PASSWORD_MAX) {
        fprintf(stderr, "gatepost user: password longer than %d bytes\n", PASSWORD_MAX);
        ok = false;
    }
    return ok;
}

/* Opens the database; creating it (and its directory) when asked. */
static struct userdb *open_db(const struct user_opts *o, bool create)
{
    char err[USERDB_ERR_MAX];
    if (create) {
        char *dir = xstrdup(o->db_path);
        char *slash = strrchr(dir, '/');
        if (slash != NULL && slash != dir) {
            *slash = '\0';
            if (!fileio_mkdirs(dir, 0700))
                fprintf(stderr, "gatepost user: mkdir %s: %s\n", dir, strerror(errno));
        }
        free(dir);
    }
    struct userdb *db = userdb_open(o->db_path, create, err, sizeof(err));
    if (db == NULL)
        fprintf(stderr, "gatepost user: %s\n", err);
    return db;
}

static int cmd_add(struct user_opts *o)
{
    char key[CRED_USER_MAX], password[PASSWORD_MAX + 2], err[USERDB_ERR_MAX];
    if (!user_key(o, key) || (o->allow && !networks_ok(o->allow)) || !read_password(password))
        return 1;
    struct userdb_record r;
    memset(&r, 0, sizeof(r));
    r.flags = o->cram ? USERDB_CRAM_MD5 : 0;
    r.created = (int64_t)time(NULL);
    if (o->allow)
        str_copy(r.networks, sizeof(r.networks), o->allow);
    const char *why;
    bool ok = userdb_record_set_password(&r, password, SCRAM_ITERATIONS_DEFAULT, &why);
    OPENSSL_cleanse(password, sizeof(password));
    if (!ok) {
        fprintf(stderr, "gatepost user: %s\n", why);
        return 1;
    }
    struct userdb *db = open_db(o, true);
    enum userdb_status st = db ? userdb_put(db, key, &r, true, err, sizeof(err)) : USERDB_ERROR;
    char mechs[128];
    userdb_record_mechs(&r, mechs, sizeof(mechs));
    userdb_record_wipe(&r);
    userdb_close(db);
    if (st == USERDB_EXISTS)
        fprintf(stderr, "gatepost user: %s already exists (use \"gatepost user passwd\")\n", key);
    else if (st == USERDB_ERROR && db)
        fprintf(stderr, "gatepost user: %s\n", err);
    if (st != USERDB_OK)
        return 1;
    printf("gatepost user: added %s (%s)\n", key, mechs);
    if (strchr(o->user, '@') == NULL && o->realm == NULL && o->local_domain[0] != '\0')
        printf("note: smtpd_sasl_local_domain = %s, so the login \"%s\" looks up \"%s@%s\"\n",
               o->local_domain, o->user, o->user, o->local_domain);
    return 0;
}

/* Reports a modify failure; "no such user" for NOT_FOUND. */
static int modify_result(enum userdb_status st, const char *key, const char *err)
{
    if (st == USERDB_NOT_FOUND)
        fprintf(stderr, "gatepost user: no such user: %s\n", key);
    else if (st == USERDB_ERROR && err[0])
        fprintf(stderr, "gatepost user: %s\n", err);
    return st == USERDB_OK ? 0 : 1;
}

struct passwd_arg {
    const char *password;
    const char *why;
};

static enum userdb_status set_password(struct userdb_record *r, bool exists, void *arg)
{
    struct passwd_arg *a = arg;
    if (!exists)
        return USERDB_NOT_FOUND;
    return userdb_record_set_password(r, a->password, SCRAM_ITERATIONS_DEFAULT, &a->why)
               ? USERDB_OK : USERDB_ERROR;
}

static int cmd_passwd(struct user_opts *o)
{
    char key[CRED_USER_MAX], password[PASSWORD_MAX + 2], err[USERDB_ERR_MAX] = "";
    if (!user_key(o, key))
        return 1;
    struct userdb *db = open_db(o, false);
    if (db == NULL || !read_password(password)) {
        userdb_close(db);
        return 1;
    }
    struct passwd_arg a = { password, NULL };
    enum userdb_status st = userdb_modify(db, key, set_password, &a, err, sizeof(err));
    OPENSSL_cleanse(password, sizeof(password));
    userdb_close(db);
    if (st == USERDB_ERROR && a.why)
        str_copy(err, sizeof(err), a.why);
    if (st == USERDB_OK)
        printf("gatepost user: changed the password of %s\n", key);
    return modify_result(st, key, err);
}

static int cmd_delete(struct user_opts *o)
{
    char key[CRED_USER_MAX], err[USERDB_ERR_MAX] = "";
    if (!user_key(o, key))
        return 1;
    struct userdb *db = open_db(o, false);
    if (db == NULL)
        return 1;
    enum userdb_status st = userdb_delete(db, key, err, sizeof(err));
    userdb_close(db);
    if (st == USERDB_OK)
        printf("gatepost user: deleted %s\n", key);
    return modify_result(st, key, err);
}

static bool list_one(const char *key, const struct userdb_record *r, void *arg)
{
    char mechs[128];
    userdb_record_mechs(r, mechs, sizeof(mechs));
    printf("%s: userPassword (%s)%s%s%s\n", key, mechs,
           r->flags & USERDB_DISABLED ? " disabled" : "",
           r->networks[0] ? " allow=" : "", r->networks);
    return true;
}

static int cmd_list(struct user_opts *o)
{
    char err[USERDB_ERR_MAX];
    struct userdb *db = open_db(o, false);
    if (db == NULL)
        return 1;
    bool ok = userdb_foreach(db, list_one, NULL, err, sizeof(err));
    userdb_close(db);
    if (!ok)
        fprintf(stderr, "gatepost user: %s\n", err);
    return ok ? 0 : 1;
}

static void print_time(const char *label, int64_t t)
{
    char text[64] = "unknown";
    time_t tt = (time_t)t;
    struct tm tm;
    if (t > 0 && gmtime_r(&tt, &tm) != NULL)
        strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("%-18s %s\n", label, text);
}

static int cmd_show(struct user_opts *o)
{
    char key[CRED_USER_MAX], err[USERDB_ERR_MAX] = "", mechs[128];
    struct userdb_record r;
    if (!user_key(o, key))
        return 1;
    struct userdb *db = open_db(o, false);
    if (db == NULL)
        return 1;
    enum userdb_status st = userdb_get(db, key, &r, err, sizeof(err));
    userdb_close(db);
    if (st != USERDB_OK)
        return modify_result(st, key, err);
    userdb_record_mechs(&r, mechs, sizeof(mechs));
    printf("%-18s %s\n", "user:", key);
    printf("%-18s %s\n", "status:", r.flags & USERDB_DISABLED ? "disabled" : "enabled");
    printf("%-18s %s\n", "mechanisms:", mechs);
    printf("%-18s %s\n", "password hash:",
           strncmp(r.password_hash, "$y$", 3) == 0 ? "yescrypt" : r.password_hash[0] ? "crypt" : "none");
    for (int h = SCRAM_SHA1; h <= SCRAM_SHA256; h++)
        if (r.has_scram[h])
            printf("%-18s %u iterations, %zu-byte salt\n",
                   h == SCRAM_SHA1 ? "SCRAM-SHA-1:" : "SCRAM-SHA-256:", r.scram[h].iterations,
                   r.scram[h].salt_len);
    printf("%-18s %s\n", "CRAM-MD5:", r.has_cram_md5 ? "on" : "off");
    printf("%-18s %s\n", "allowed networks:", r.networks[0] ? r.networks : "anywhere");
    print_time("created:", r.created);
    print_time("changed:", r.changed);
    userdb_record_wipe(&r);
    return 0;
}

struct set_arg {
    const struct user_opts *o;
    const char *password;       /* for --cram-md5 on */
    const char *why;
};

static enum userdb_status apply_set(struct userdb_record *r, bool exists, void *arg)
{
    struct set_arg *a = arg;
    if (!exists)
        return USERDB_NOT_FOUND;
    if (a->o->allow)
        str_copy(r->networks, sizeof(r->networks), a->o->allow);
    if (a->o->disable)
        r->flags |= USERDB_DISABLED;
    if (a->o->enable)
        r->flags &= ~(unsigned)USERDB_DISABLED;
    if (a->o->cram && strcmp(a->o->cram, "off") == 0) {
        r->flags &= ~(unsigned)USERDB_CRAM_MD5;
        r->has_cram_md5 = false;
        OPENSSL_cleanse(&r->cram_md5, sizeof(r->cram_md5));
    } else if (a->o->cram) {
        /* The state comes from the password, so it must be the right one. */
        if (!password_verify(a->password, r->password_hash)) {
            a->why = "wrong password (CRAM-MD5 needs the user's current password)";
            return USERDB_ERROR;
        }
        r->flags |= USERDB_CRAM_MD5;
        r->has_cram_md5 = true;
        cram_md5_secret_from_password(a->password, strlen(a->password), &r->cram_md5);
    }
    r->changed = (int64_t)time(NULL);
    return USERDB_OK;
}

static bool set_args_ok(const struct user_opts *o)
{
    if (!o->allow && !o->cram && !o->disable && !o->enable) {
        fprintf(stderr, "gatepost user set: nothing to set (--allow, --cram-md5, --disable, --enable)\n");
        return false;
    }
    if (o->disable && o->enable) {
        fprintf(stderr, "gatepost user set: --disable and --enable together\n");
        return false;
    }
    if (o->cram && strcmp(o->cram, "on") != 0 && strcmp(o->cram, "off") != 0) {
        fprintf(stderr, "gatepost user set: --cram-md5 takes on or off\n");
        return false;
    }
    return !o->allow || o->allow[0] == '\0' || networks_ok(o->allow);
}

static int cmd_set(struct user_opts *o)
{
    char key[CRED_USER_MAX], password[PASSWORD_MAX + 2] = "", err[USERDB_ERR_MAX] = "";
    if (!set_args_ok(o) || !user_key(o, key))
        return 1;
    struct userdb *db = open_db(o, false);
    bool need_pw = o->cram && strcmp(o->cram, "on") == 0;
    if (db == NULL || (need_pw && !read_password(password))) {
        userdb_close(db);
        return 1;
    }
    struct set_arg a = { o, password, NULL };
    enum userdb_status st = userdb_modify(db, key, apply_set, &a, err, sizeof(err));
    OPENSSL_cleanse(password, sizeof(password));
    userdb_close(db);
    if (st == USERDB_ERROR && a.why)
        str_copy(err, sizeof(err), a.why);
    if (st == USERDB_OK)
        printf("gatepost user: updated %s\n", key);
    return modify_result(st, key, err);
}

/* Runs `db_dump -p FILE` (or db5.3_dump) and collects its output. */
static bool run_db_dump(const char *file, struct buf *out)
{
    static const char *const tools[] = { "db_dump", "db5.3_dump" };
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
            execlp(tools[i], tools[i], "-p", file, (char *)NULL);
        fprintf(stderr, "gatepost user: cannot run db_dump or db5.3_dump: %s "
                        "(install Berkeley DB's utilities, Debian package db-util)\n", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    bool ok = true;
    for (;;) {
        char *p = buf_reserve(out, 65536);
        ssize_t n = p ? read(fds[0], p, 65536) : -1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        buf_commit(out, (size_t)n);
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!ok)
        fprintf(stderr, "gatepost user: %s: dump larger than %zu bytes or unreadable\n", file,
                SASLDB_DUMP_MAX);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
            fprintf(stderr, "gatepost user: db_dump could not read %s\n", file);
        ok = false;
    }
    return ok;
}

struct import {
    struct userdb *db;
    bool cram;
    unsigned added, updated, skipped, failed;
};

struct import_one {
    const struct import *im;
    const char *password;
    const char *why;
    bool existed;
};

static enum userdb_status import_set(struct userdb_record *r, bool exists, void *arg)
{
    struct import_one *a = arg;
    a->existed = exists;
    if (!exists)
        r->created = (int64_t)time(NULL);
    if (a->im->cram)
        r->flags |= USERDB_CRAM_MD5;
    return userdb_record_set_password(r, a->password, SCRAM_ITERATIONS_DEFAULT, &a->why)
               ? USERDB_OK : USERDB_ERROR;
}

static bool import_entry(const char *user, const char *realm, const char *property,
                         const uint8_t *value, size_t len, void *arg)
{
    struct import *im = arg;
    char key[CRED_USER_MAX], password[PASSWORD_MAX + 1], err[USERDB_ERR_MAX] = "";
    const char *why;
    if (strcmp(property, "userPassword") != 0) {
        im->skipped++;      /* e.g. cmusaslsecretCRAM-MD5: derived again from the password */
        return true;
    }
    if (!userdb_key(user, realm, key, &why) || len == 0 || len > PASSWORD_MAX ||
        memchr(value, 0, len) != NULL) {
        fprintf(stderr, "gatepost user: skipping %s@%s: %s\n", user, realm,
                len == 0 || len > PASSWORD_MAX ? "unusable password" : why);
        im->failed++;
        return true;
    }
    memcpy(password, value, len);
    password[len] = '\0';
    struct import_one one = { im, password, NULL, false };
    enum userdb_status st = userdb_modify(im->db, key, import_set, &one, err, sizeof(err));
    OPENSSL_cleanse(password, sizeof(password));
    if (st != USERDB_OK) {
        fprintf(stderr, "gatepost user: %s: %s\n", key, one.why ? one.why : err);
        im->failed++;
        return true;
    }
    if (one.existed)
        im->updated++;
    else
        im->added++;
    return true;
}

static int cmd_import(struct user_opts *o)
{
    const char *file = o->file ? o->file : DEFAULT_SASLDB;
    if (access(file, R_OK) != 0) {
        fprintf(stderr, "gatepost user: %s: %s\n", file, strerror(errno));
        return 1;
    }
    struct buf dump;
    buf_init(&dump, SASLDB_DUMP_MAX);
    /* Before the database is open: LMDB handles must not cross fork(). */
    bool ok = run_db_dump(file, &dump);
    struct import im = { NULL, o->cram != NULL, 0, 0, 0, 0 };
    char err[256];
    if (ok && (im.db = open_db(o, true)) == NULL)
        ok = false;
    if (ok && !userdb_sasldb_parse(dump.data ? dump.data : "", dump.len, import_entry, &im, err,
                                   sizeof(err))) {
        fprintf(stderr, "gatepost user: %s: %s\n", file, err);
        ok = false;
    }
    if (dump.data)
        OPENSSL_cleanse(dump.data, dump.cap);
    buf_free(&dump);
    userdb_close(im.db);
    if (im.db != NULL)
        printf("gatepost user: imported %u users from %s (%u new, %u updated); "
               "%u other entries skipped, %u failed\n",
               im.added + im.updated, file, im.added, im.updated, im.skipped, im.failed);
    return ok && im.failed == 0 ? 0 : 1;
}

static const char *const cred_words[] = {
    [CRED_OK] = "ok", [CRED_NO_USER] = "unknown user", [CRED_BAD_PASSWORD] = "wrong password",
    [CRED_NOT_ALLOWED] = "not allowed from this client address, or disabled",
    [CRED_NO_SECRET] = "no password stored", [CRED_TEMPFAIL] = "temporary failure",
};

/* Checks a password through the credential store, as PLAIN and LOGIN do. */
static int cmd_test(struct user_opts *o)
{
    char password[PASSWORD_MAX + 2], err[USERDB_ERR_MAX], user_out[CRED_USER_MAX];
    if (access(o->db_path, F_OK) != 0) {
        fprintf(stderr, "gatepost user: %s: %s\n", o->db_path, strerror(errno));
        return 1;
    }
    struct cred_store *store = store_userdb_open(o->db_path, err, sizeof(err));
    if (store == NULL) {
        fprintf(stderr, "gatepost user: %s\n", err);
        return 1;
    }
    if (!read_password(password)) {
        store_userdb_close(store);
        return 1;
    }
    struct mech_request req = {
        .service = "smtp", .realm = o->realm ? o->realm : o->local_domain,
        .client_addr = o->from ? o->from : "127.0.0.1", .secured = true, .store = store,
    };
    enum cred_status st = store->verify_password(store->ctx, &req, o->user, password, user_out);
    OPENSSL_cleanse(password, sizeof(password));
    store_userdb_close(store);
    if (st == CRED_OK)
        printf("gatepost user: %s: authentication succeeded\n", user_out);
    else
        printf("gatepost user: %s: authentication failed: %s\n", user_out, cred_words[st]);
    return st == CRED_OK ? 0 : 1;
}

static const struct {
    const char *name;
    unsigned id;
    bool wants_user;
    int (*run)(struct user_opts *o);
} user_commands[] = {
    { "add", CMD_ADD, true, cmd_add },
    { "passwd", CMD_PASSWD, true, cmd_passwd },
    { "delete", CMD_DELETE, true, cmd_delete },
    { "list", CMD_LIST, false, cmd_list },
    { "show", CMD_SHOW, true, cmd_show },
    { "set", CMD_SET, true, cmd_set },
    { "import-sasldb", CMD_IMPORT, false, cmd_import },
    { "test", CMD_TEST, true, cmd_test },
};

/* Finds sasl_user_database (and smtpd_sasl_local_domain) in the active configuration. */
static bool load_paths(const char *config_dir, struct user_opts *o, struct config **cfg_out)
{
    struct diag diag;
    struct master_cf *mcf = NULL;
    diag_init(&diag);
    bool ok = config_open_active(config_dir, cfg_out, &mcf, &diag);
    if (!ok)
        diag_print(&diag, stderr);
    diag_free(&diag);
    master_cf_free(mcf);
    if (!ok)
        return false;
    o->db_path = cfg_str(*cfg_out, P_SASL_USER_DATABASE);
    o->local_domain = cfg_str(*cfg_out, P_SMTPD_SASL_LOCAL_DOMAIN);
    if (o->db_path[0] != '/') {
        fprintf(stderr, "gatepost user: sasl_user_database must be an absolute path: \"%s\"\n",
                o->db_path);
        return false;
    }
    return true;
}

int tool_user(const struct cli_context *ctx, int argc, char **argv)
{
    struct cli_context local = *ctx;
    int want_help;
    if (cli_take_common_options(&local, &argc, argv, &want_help) < 0)
        return 2;
    if (want_help || argc < 2) {
        usage(want_help ? stdout : stderr);
        return want_help ? 0 : 2;
    }
    size_t i = 0, n = sizeof(user_commands) / sizeof(user_commands[0]);
    while (i < n && strcmp(argv[1], user_commands[i].name) != 0)
        i++;
    if (i == n) {
        fprintf(stderr, "gatepost user: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        return 2;
    }
    struct user_opts o;
    memset(&o, 0, sizeof(o));
    if (!parse_args(user_commands[i].id, user_commands[i].wants_user, argc - 1, argv + 1, &o))
        return 2;
    struct config *cfg = NULL;
    int rc = load_paths(local.config_dir, &o, &cfg) ? user_commands[i].run(&o) : 1;
    config_free(cfg);
    return rc;
}
