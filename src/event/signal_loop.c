/* See signal_loop.h. */
#include "event/signal_loop.h"

#include "base/log.h"

#include <signal.h>

struct signal_loop {
    struct event_base *base;
    signal_loop_stop_fn stop;
    void *obj;
};

static void stopped(void *arg)
{
    event_base_loopbreak(arg);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    struct signal_loop *l = arg;
    log_info("stopping on signal %d", (int)sig);
    l->stop(l->obj, stopped, l->base);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    log_reopen();
}

int signal_loop_run(struct event_base *base, signal_loop_stop_fn stop, void *obj)
{
    struct signal_loop l = { base, stop, obj };
    struct event *term = evsignal_new(base, SIGTERM, on_term, &l);
    struct event *intr = evsignal_new(base, SIGINT, on_term, &l);
    struct event *hup = evsignal_new(base, SIGHUP, on_hup, NULL);
    event_add(term, NULL);
    event_add(intr, NULL);
    event_add(hup, NULL);
    int rc = event_base_dispatch(base) < 0 ? 1 : 0;
    event_free(term);
    event_free(intr);
    event_free(hup);
    return rc;
}
