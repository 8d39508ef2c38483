/*
 * Golden-file tests for policy decisions: each file under
 * tests/golden/policy/ is a configuration and a session script, every
 * stage followed by the exact reply expected (or "OK"):
 *
 *   set smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
 *   connect unknown 198.51.100.1      runs STAGE_CONNECT (new session)
 *   > OK
 *   helo mx.example.net               runs STAGE_HELO
 *   mail <s@example.net>              runs STAGE_MAIL ("<>" is the null sender)
 *   rcpt <x@elsewhere.test>           runs STAGE_RCPT (accepted ones are counted)
 *   > 554 5.7.1 <x@elsewhere.test>: Relay access denied
 *   data / eod / auth                 the other stages
 *   sasl PLAIN alice  |  tls on|off    session facts, no stage
 *
 * "set" lines go on top of the shared base site of policy_test.h. Lines
 * starting with '#' and blank lines are ignored.
 */
#include "policy_test.h"

#include <dirent.h>

#define MAX_SETS 32
#define LINE_MAX_LEN 2048

struct script {
    const char *path;
    int lineno;
    char *set_kv[2 * MAX_SETS + 1];
    int nset;
    struct policy_env *env;
    struct policy_session ps;
    struct tfacts_buf fb;
    /* Storage for the facts' strings. */
    char name[256], addr[64], helo[256], sender[512], rcpt[512], method[64], user[256];
    unsigned accepted;
    bool tls, have_helo, have_sender, have_sasl;
    char last[700];
    bool pending_expect;
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* "<addr>" or "addr" into dst. */
static void take_address(char *dst, size_t size, const char *arg)
{
    size_t n = strlen(arg);
    if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>')
        snprintf(dst, size, "%.*s", (int)(n - 2), arg + 1);
    else
        snprintf(dst, size, "%s", arg);
}

static void build_env(struct script *s)
{
    if (s->env != NULL)
        return;
    s->set_kv[2 * s->nset] = NULL;
    struct diag d;
    diag_init(&d);
    s->env = tenv((const char *const *)s->set_kv, &d);
    if (s->env == NULL) {
        diag_print(&d, stderr);
        fail_msg("%s:%d: configuration did not build", s->path, s->lineno);
    }
    diag_free(&d);
}

static void fill_facts(struct script *s)
{
    struct tfacts t = {
        .name = s->name, .addr = s->addr, .helo = s->have_helo ? s->helo : "-",
        .sender = s->have_sender ? s->sender : "-", .rcpt = s->rcpt[0] ? s->rcpt : "-",
        .sasl = s->have_sasl ? s->method : NULL, .user = s->have_sasl ? s->user : NULL,
        .tls = s->tls, .rcpt_count = s->accepted,
    };
    tfacts_fill(&s->fb, &t);
}

static void run_stage(struct script *s, enum policy_stage stage)
{
    if (s->pending_expect)
        fail_msg("%s:%d: the previous stage has no \"> expected\" line", s->path, s->lineno);
    build_env(s);
    fill_facts(s);
    tcheck(s->env, stage, &s->fb.f, &s->ps, s->last, sizeof(s->last));
    if (stage == STAGE_RCPT && strcmp(s->last, "OK") == 0)
        s->accepted++;
    s->pending_expect = true;
}

static void command(struct script *s, char *line)
{
    char *arg = line + strcspn(line, " \t");
    if (*arg)
        *arg++ = '\0';
    arg = trim(arg);
    if (strcmp(line, "set") == 0) {
        char *eq = strchr(arg, '=');
        if (eq == NULL || s->nset >= MAX_SETS || s->env != NULL)
            fail_msg("%s:%d: bad set line (or set after the first stage)", s->path, s->lineno);
        *eq = '\0';
        s->set_kv[2 * s->nset] = strdup(trim(arg));
        s->set_kv[2 * s->nset + 1] = strdup(trim(eq + 1));
        s->nset++;
    } else if (strcmp(line, "connect") == 0) {
        if (sscanf(arg, "%255s %63s", s->name, s->addr) != 2)
            fail_msg("%s:%d: connect NAME ADDRESS", s->path, s->lineno);
        policy_session_init(&s->ps);
        s->have_helo = s->have_sender = s->have_sasl = s->tls = false;
        s->rcpt[0] = '\0';
        s->accepted = 0;
        run_stage(s, STAGE_CONNECT);
    } else if (strcmp(line, "helo") == 0) {
        snprintf(s->helo, sizeof(s->helo), "%s", arg);
        s->have_helo = true;
        run_stage(s, STAGE_HELO);
    } else if (strcmp(line, "mail") == 0) {
        take_address(s->sender, sizeof(s->sender), arg);
        s->have_sender = true;
        s->rcpt[0] = '\0';
        s->accepted = 0;
        run_stage(s, STAGE_MAIL);
    } else if (strcmp(line, "rcpt") == 0) {
        take_address(s->rcpt, sizeof(s->rcpt), arg);
        run_stage(s, STAGE_RCPT);
    } else if (strcmp(line, "data") == 0 || strcmp(line, "eod") == 0) {
        s->rcpt[0] = '\0';
        run_stage(s, line[0] == 'd' ? STAGE_DATA : STAGE_END_OF_DATA);
    } else if (strcmp(line, "auth") == 0) {
        run_stage(s, STAGE_AUTH);
    } else if (strcmp(line, "sasl") == 0) {
        if (sscanf(arg, "%63s %255s", s->method, s->user) != 2)
            fail_msg("%s:%d: sasl METHOD USER", s->path, s->lineno);
        s->have_sasl = true;
    } else if (strcmp(line, "tls") == 0) {
        s->tls = strcmp(arg, "on") == 0;
    } else {
        fail_msg("%s:%d: unknown command \"%s\"", s->path, s->lineno, line);
    }
}

static void expect(struct script *s, const char *want)
{
    if (!s->pending_expect)
        fail_msg("%s:%d: \"> %s\" follows no stage", s->path, s->lineno, want);
    if (strcmp(s->last, want) != 0)
        fail_msg("%s:%d:\n   got: %s\n  want: %s", s->path, s->lineno, s->last, want);
    s->pending_expect = false;
}

static int run_script(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    struct script *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->path = path;
    int stages = 0;
    char buf[LINE_MAX_LEN];
    while (fgets(buf, sizeof(buf), f) != NULL) {
        s->lineno++;
        char *line = trim(buf);
        if (*line == '\0' || *line == '#')
            continue;
        if (line[0] == '>') {
            expect(s, trim(line + 1));
            stages++;
        } else {
            command(s, line);
        }
    }
    fclose(f);
    if (s->pending_expect)
        fail_msg("%s: the last stage has no \"> expected\" line", path);
    for (int i = 0; i < 2 * s->nset; i++)
        free(s->set_kv[i]);
    policy_env_free(s->env);
    free(s);
    return stages;
}

static const char *golden_dir;

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void golden_files(void **state)
{
    struct dirent **list = NULL;
    int n = scandir(golden_dir, &list, NULL, by_name);
    assert_true(n > 0);
    int files = 0, checks = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(list[i]->d_name);
        if (len > 7 && strcmp(list[i]->d_name + len - 7, ".golden") == 0) {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", golden_dir, list[i]->d_name);
            checks += run_script(path);
            files++;
        }
        free(list[i]);
    }
    free(list);
    /* A missing or empty directory must not pass silently. */
    assert_true(files >= 4);
    assert_true(checks >= 40);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s GOLDEN-DIRECTORY\n", argv[0]);
        return 2;
    }
    golden_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
