/*
 * Streams: bytes arrive in order through flow control, a full output
 * buffer ends the stream on a later turn (never inside the write), the
 * owner may free the stream inside its callbacks, and unix sockets work
 * at paths longer than sun_path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/stream.h"

struct side {
    struct ipc_stream *s;
    struct buf got;
    int closed;
    char why[128];
    bool free_on_input;
    bool free_on_close;
};

static void on_input(struct ipc_stream *s, struct buf *in, void *arg)
{
    struct side *d = arg;
    assert_true(buf_append(&d->got, in->data, in->len));
    buf_consume(in, in->len);
    if (d->free_on_input) {
        ipc_stream_free(s);
        d->s = NULL;
    }
}

static void on_closed(struct ipc_stream *s, const char *why, void *arg)
{
    struct side *d = arg;
    d->closed++;
    snprintf(d->why, sizeof(d->why), "%s", why);
    if (d->free_on_close) {
        ipc_stream_free(s);
        d->s = NULL;
    }
}

static const struct ipc_stream_handlers handlers = { on_input, on_closed, NULL };

/* Runs the loop until *flag or about 5 s passed. */
static void run_until(struct event_base *base, const int *flag, size_t *len, size_t want)
{
    for (int i = 0; i < 5000; i++) {
        if ((flag && *flag) || (len && *len >= want))
            return;
        struct timeval tv = { 0, 1000 };
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static void pair(struct event_base *base, struct side *a, struct side *b, size_t out_max)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(a, 0, sizeof(*a));
    memset(b, 0, sizeof(*b));
    buf_init(&a->got, 0);
    buf_init(&b->got, 0);
    a->s = ipc_stream_new(base, sv[0], false, 65536, out_max, &handlers, a);
    b->s = ipc_stream_new(base, sv[1], false, 65536, out_max, &handlers, b);
}

static void done(struct side *a, struct side *b)
{
    ipc_stream_free(a->s);
    ipc_stream_free(b->s);
    buf_free(&a->got);
    buf_free(&b->got);
}

static void bulk_transfer_in_order(void **state)
{
    struct event_base *base = event_base_new();
    struct side a, b;
    pair(base, &a, &b, 4 * 1024 * 1024);
    size_t total = 3 * 1024 * 1024;
    char *data = malloc(total);
    for (size_t i = 0; i < total; i++)
        data[i] = (char)(i * 31 + 7);
    assert_true(ipc_stream_write(a.s, data, total));
    run_until(base, NULL, &b.got.len, total);
    assert_int_equal(b.got.len, total);
    assert_memory_equal(b.got.data, data, total);
    assert_int_equal(a.closed + b.closed, 0);
    free(data);
    done(&a, &b);
    event_base_free(base);
}

static void full_output_fails_later(void **state)
{
    struct event_base *base = event_base_new();
    struct side a, b;
    pair(base, &a, &b, 16);
    char data[32] = { 0 };
    assert_false(ipc_stream_write(a.s, data, sizeof(data)));
    assert_int_equal(a.closed, 0);        /* not inside the write */
    run_until(base, &a.closed, NULL, 0);
    assert_int_equal(a.closed, 1);
    assert_non_null(strstr(a.why, "output buffer full"));
    assert_false(ipc_stream_is_open(a.s));
    done(&a, &b);
    event_base_free(base);
}

static void peer_close_and_free_inside_callbacks(void **state)
{
    struct event_base *base = event_base_new();
    struct side a, b;
    pair(base, &a, &b, 1024);
    b.free_on_input = true;
    a.free_on_close = true;
    assert_true(ipc_stream_write(a.s, "bye", 3));
    run_until(base, NULL, &b.got.len, 3);
    assert_string_equal(buf_cstr(&b.got), "bye");
    assert_null(b.s);                     /* freed inside input, closed the socket */
    run_until(base, &a.closed, NULL, 0);
    assert_int_equal(a.closed, 1);
    assert_null(a.s);
    assert_non_null(strstr(a.why, "closed"));
    done(&a, &b);
    event_base_free(base);
}

static void unix_socket_long_path(void **state)
{
    char dir[] = "/tmp/gp-ipc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char deep[512];
    snprintf(deep, sizeof(deep), "%s/%s", dir,
             "a-directory-name-long-enough-to-push-the-socket-path-well-past-the-limit-of-sun-path-108");
    assert_int_equal(mkdir(deep, 0700), 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/authd", deep);
    assert_true(strlen(path) > 108);
    struct buf why;
    buf_init(&why, 256);
    int lfd = ipc_unix_listen(path, 0600, (uid_t)-1, (gid_t)-1, 8, &why);
    assert_true(lfd >= 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    /* a second listen replaces the stale file */
    int lfd2 = ipc_unix_listen(path, 0600, (uid_t)-1, (gid_t)-1, 8, &why);
    assert_true(lfd2 >= 0);
    int cfd = ipc_unix_connect(path);
    assert_true(cfd >= 0);
    int sfd = accept(lfd2, NULL, NULL);
    assert_true(sfd >= 0);
    assert_int_equal(write(cfd, "x", 1), 1);
    char c = 0;
    assert_int_equal(read(sfd, &c, 1), 1);
    assert_int_equal(c, 'x');
    close(cfd);
    close(sfd);
    close(lfd);
    close(lfd2);
    /* nobody listening now */
    unlink(path);
    assert_int_equal(ipc_unix_connect(path), -1);
    rmdir(deep);
    rmdir(dir);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bulk_transfer_in_order),
        cmocka_unit_test(full_output_fails_later),
        cmocka_unit_test(peer_close_and_free_inside_callbacks),
        cmocka_unit_test(unix_socket_long_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
