/*
 * The event loop of a daemon child (queue manager, auth process): runs
 * until SIGTERM or SIGINT has asked the component to stop and it has said
 * it is done; SIGHUP reopens the log. The component's own stop function
 * decides what "done" means (connections drained, deliveries finished).
 */
#ifndef GATEPOST_EVENT_SIGNAL_LOOP_H
#define GATEPOST_EVENT_SIGNAL_LOOP_H

#include <event2/event.h>

/* Asks the component obj to stop; it calls done(done_arg) once stopped. */
typedef void (*signal_loop_stop_fn)(void *obj, void (*done)(void *done_arg), void *done_arg);

/* Dispatches base until stopped; 0, or 1 if the loop failed. */
int signal_loop_run(struct event_base *base, signal_loop_stop_fn stop, void *obj);

#endif
