/*
 * smtpd_sasl_type = cyrus pieces: the smtpd.conf reader (Cyrus's rules:
 * first value wins, keys folded, "name: value" required), the search
 * order, and the saslauthd store against a fake saslauthd that records
 * the request bytes and answers as told (OK, NO, garbage, nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "auth/cyrus_conf.h"
#include "auth/mech.h"
#include "auth/saslauthd.h"
#include "base/fileio.h"
#include "base/log.h"
#include "ipc/stream.h"

static bool parse(const char *text, struct cyrus_conf *c, struct diag *d)
{
    diag_init(d);
    return cyrus_conf_parse(text, strlen(text), "/x/smtpd.conf", c, d);
}

static void conf_reading(void **state)
{
    struct cyrus_conf c;
    struct diag d;
    assert_true(parse("# comment\n\n  Pwcheck_Method:   saslauthd  \r\n"
                      "mech_list: PLAIN LOGIN\nmech_list: CRAM-MD5\nsaslauthd_path:/run/mux",
                      &c, &d));
    assert_string_equal(cyrus_conf_get(&c, "pwcheck_method"), "saslauthd");
    assert_string_equal(cyrus_conf_get(&c, "mech_list"), "PLAIN LOGIN");  /* first wins */
    assert_string_equal(cyrus_conf_get(&c, "saslauthd_path"), "/run/mux");
    assert_null(cyrus_conf_get(&c, "auxprop_plugin"));
    assert_int_equal(d.warnings, 1);                                     /* the repeat */
    assert_non_null(strstr(d.entries[0].where, "/x/smtpd.conf:5"));
    cyrus_conf_free(&c);
    diag_free(&d);
}

static void conf_refusals(void **state)
{
    static const char *const bad[] = {
        "pwcheck_method saslauthd\n",       /* no colon */
        "mech_list:\n",                     /* no value */
        "mech list: PLAIN\n",               /* bad key character */
        ": PLAIN\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cyrus_conf c;
        struct diag d;
        assert_false(parse(bad[i], &c, &d));
        assert_int_equal(d.errors, 1);
        assert_non_null(strstr(d.entries[0].where, ":1"));
        cyrus_conf_free(&c);
        diag_free(&d);
    }
    struct cyrus_conf c;
    struct diag d;
    diag_init(&d);
    assert_false(cyrus_conf_parse("a: b\0c", 6, "f", &c, &d));           /* NUL */
    cyrus_conf_free(&c);
    diag_free(&d);
}

static void write_file(const char *path, const char *text)
{
    assert_true(fileio_replace(path, text, strlen(text), 0644));
}

static void search_order(void **state)
{
    char dir[] = "/tmp/gp-cyrus-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[128], b[128], fa[160], fb[160];
    snprintf(a, sizeof(a), "%s/a", dir);
    snprintf(b, sizeof(b), "%s/b", dir);
    mkdir(a, 0755);
    mkdir(b, 0755);
    snprintf(fa, sizeof(fa), "%s/smtpd.conf", a);
    snprintf(fb, sizeof(fb), "%s/smtpd.conf", b);
    write_file(fb, "x: 1\n");
    char list[300];
    snprintf(list, sizeof(list), "%s/none:%s:%s", dir, a, b);
    const char *const builtin[] = { a, NULL };
    char *found = cyrus_conf_find("smtpd", list, builtin);
    assert_string_equal(found, fb);                 /* b is the first that has it */
    free(found);
    write_file(fa, "x: 2\n");
    found = cyrus_conf_find("smtpd", list, builtin);
    assert_string_equal(found, fa);
    free(found);
    found = cyrus_conf_find("smtpd", "", builtin);   /* built-in list after the parameter */
    assert_string_equal(found, fa);
    free(found);
    assert_null(cyrus_conf_find("other", list, builtin));
    unlink(fa);
    unlink(fb);
    rmdir(a);
    rmdir(b);
    rmdir(dir);
}

static void query_and_reply_bytes(void **state)
{
    struct buf q;
    buf_init(&q, 0);
    assert_true(saslauthd_query("bob", "pw", "smtp", "ex.org", &q));
    assert_int_equal(q.len, 2 + 3 + 2 + 2 + 2 + 4 + 2 + 6);
    assert_memory_equal(q.data, "\0\3bob\0\2pw\0\4smtp\0\6ex.org", q.len);
    char longname[SASLAUTHD_FIELD_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    buf_reset(&q);
    assert_false(saslauthd_query(longname, "pw", "smtp", "", &q));
    buf_free(&q);
    char remark[64];
    assert_int_equal(saslauthd_reply((const uint8_t *)"\0\4OK x", 6, remark, sizeof(remark)),
                     SASLAUTHD_YES);
    assert_string_equal(remark, " x");
    assert_int_equal(saslauthd_reply((const uint8_t *)"\0\2NO", 4, remark, sizeof(remark)),
                     SASLAUTHD_NO);
    assert_int_equal(saslauthd_reply((const uint8_t *)"\0\4OK", 4, remark, sizeof(remark)),
                     SASLAUTHD_NEED_MORE);
    assert_int_equal(saslauthd_reply((const uint8_t *)"\0\2MA", 4, remark, sizeof(remark)),
                     SASLAUTHD_MALFORMED);
    assert_int_equal(saslauthd_reply((const uint8_t *)"\0\1O", 3, remark, sizeof(remark)),
                     SASLAUTHD_MALFORMED);
    assert_int_equal(saslauthd_reply((const uint8_t *)"\0\2OKextra", 9, remark, sizeof(remark)),
                     SASLAUTHD_MALFORMED);
    char canon[CRED_USER_MAX];
    assert_true(saslauthd_canonical("bob", "ex.org", canon));
    assert_string_equal(canon, "bob@ex.org");
    assert_true(saslauthd_canonical("bob@other.org", "ex.org", canon));
    assert_string_equal(canon, "bob@other.org");
    assert_true(saslauthd_canonical("bob", "", canon));
    assert_string_equal(canon, "bob");
}

/* ---- a fake saslauthd ---- */

struct fake {
    char path[128];
    int lfd;
    const char *answer;             /* bytes to send back; NULL: close at once */
    size_t answer_len;
    bool stall;                     /* never answer */
    uint8_t got[512];
    size_t got_len;
    pthread_t thread;
};

/* True when buf holds four complete counted strings. */
static bool request_complete(const uint8_t *p, size_t len)
{
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        if (len - at < 2)
            return false;
        size_t n = (size_t)p[at] << 8 | p[at + 1];
        if (len - at - 2 < n)
            return false;
        at += 2 + n;
    }
    return true;
}

static void *serve_one(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    while (!request_complete(f->got, f->got_len) && f->got_len < sizeof(f->got)) {
        ssize_t n = read(fd, f->got + f->got_len, sizeof(f->got) - f->got_len);
        if (n <= 0)
            break;
        f->got_len += (size_t)n;
    }
    if (f->stall)
        sleep(1);
    else if (f->answer)
        (void)!write(fd, f->answer, f->answer_len);
    close(fd);
    return NULL;
}

static void fake_start(struct fake *f, const char *answer, size_t len, bool stall)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/gp-sasld-%d-%p", (int)getpid(), (void *)f);
    struct buf why;
    buf_init(&why, 256);
    f->lfd = ipc_unix_listen(f->path, 0666, (uid_t)-1, (gid_t)-1, 4, &why);
    buf_free(&why);
    assert_true(f->lfd >= 0);
    f->answer = answer;
    f->answer_len = len;
    f->stall = stall;
    /* blocking accept in the thread */
    int flags = fcntl(f->lfd, F_GETFL);
    fcntl(f->lfd, F_SETFL, flags & ~O_NONBLOCK);
    pthread_create(&f->thread, NULL, serve_one, f);
}

static void fake_stop(struct fake *f)
{
    pthread_join(f->thread, NULL);
    close(f->lfd);
    unlink(f->path);
}

static enum cred_status ask(const char *path, unsigned timeout_ms, const char *user,
                            const char *pw, const char *realm, char *out)
{
    struct cred_store *s = saslauthd_store_new(path, timeout_ms);
    struct mech_request req = { "smtp", realm, "192.0.2.1", false, s };
    enum cred_status st = s->verify_password(s->ctx, &req, user, pw, out);
    saslauthd_store_free(s);
    return st;
}

static void store_against_fake_saslauthd(void **state)
{
    char out[CRED_USER_MAX];
    struct fake f;
    fake_start(&f, "\0\x0cOK \"Success\"", 14, false);
    assert_int_equal(ask(f.path, 2000, "bob", "pw", "ex.org", out), CRED_OK);
    fake_stop(&f);
    assert_string_equal(out, "bob@ex.org");
    /* login and realm split at the last "@", service from the request */
    assert_int_equal(f.got_len, 2 + 3 + 2 + 2 + 2 + 4 + 2 + 6);
    assert_memory_equal(f.got, "\0\3bob\0\2pw\0\4smtp\0\6ex.org", f.got_len);

    fake_start(&f, "\0\x19NO \"authentication failed\"", 27, false);
    assert_int_equal(ask(f.path, 2000, "bob@ex.org", "bad", "", out), CRED_BAD_PASSWORD);
    fake_stop(&f);
    assert_memory_equal(f.got, "\0\3bob\0\3bad\0\4smtp\0\6ex.org", f.got_len);

    fake_start(&f, "\0\2XX", 4, false);                  /* not OK/NO */
    assert_int_equal(ask(f.path, 2000, "bob", "pw", "", out), CRED_TEMPFAIL);
    fake_stop(&f);
    fake_start(&f, NULL, 0, false);                      /* closes without answering */
    assert_int_equal(ask(f.path, 2000, "bob", "pw", "", out), CRED_TEMPFAIL);
    fake_stop(&f);
    fake_start(&f, NULL, 0, true);                       /* never answers */
    assert_int_equal(ask(f.path, 300, "bob", "pw", "", out), CRED_TEMPFAIL);
    fake_stop(&f);
    assert_int_equal(ask("/nonexistent/mux", 300, "bob", "pw", "", out), CRED_TEMPFAIL);
}

int main(void)
{
    log_set_hook(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conf_reading),
        cmocka_unit_test(conf_refusals),
        cmocka_unit_test(search_order),
        cmocka_unit_test(query_and_reply_bytes),
        cmocka_unit_test(store_against_fake_saslauthd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
