/*
 * A non-blocking byte stream on a libevent loop, for the connections
 * between gatepost processes (frames, msg.h) and to outside helpers
 * (Dovecot's line protocol). Input and output go through capped buffers:
 * a peer that sends without end or never reads fills its cap and the
 * connection is closed, never the process's memory.
 *
 * Callbacks run on the loop, never from inside a call made by the owner:
 * a write that fails is reported by `closed` on a later loop turn. The
 * owner may free the stream inside any callback.
 *
 * Also the unix socket plumbing: connecting and listening by path, with
 * paths longer than sun_path reached through their directory (opened
 * with O_PATH and named as /proc/self/fd/N/name).
 */
#ifndef GATEPOST_IPC_STREAM_H
#define GATEPOST_IPC_STREAM_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct ipc_stream;

struct ipc_stream_handlers {
    /* New bytes were appended to in; consume (buf_consume) what was used. */
    void (*input)(struct ipc_stream *s, struct buf *in, void *arg);
    /*
     * The stream is over: end of file, an I/O error, output past its cap
     * or a failed connect; why says which. Called once; the owner frees.
     */
    void (*closed)(struct ipc_stream *s, const char *why, void *arg);
    /* A stream created while connecting is connected (may be NULL). */
    void (*connected)(struct ipc_stream *s, void *arg);
};

/*
 * Takes over fd (made non-blocking and close-on-exec). connecting: a
 * connect(2) is in progress (EINPROGRESS); `connected` or `closed` tells
 * how it ends.
 */
struct ipc_stream *ipc_stream_new(struct event_base *base, int fd, bool connecting,
                                  size_t in_max, size_t out_max,
                                  const struct ipc_stream_handlers *h, void *arg);
/* Closes the descriptor and frees; no callback runs afterwards. */
void ipc_stream_free(struct ipc_stream *s);

/*
 * The output buffer: append (e.g. with an ipc_builder), then flush. An
 * append refused by the cap means the peer is not reading: the owner
 * should give up on the stream (ipc_stream_fail).
 */
struct buf *ipc_stream_output(struct ipc_stream *s);
void ipc_stream_flush(struct ipc_stream *s);
/* Appends and flushes; false when closed or past the output cap. */
bool ipc_stream_write(struct ipc_stream *s, const void *p, size_t n);
/* Ends the stream with a reason: `closed` runs on a later loop turn. */
void ipc_stream_fail(struct ipc_stream *s, const char *why);
bool ipc_stream_is_open(const struct ipc_stream *s);
int ipc_stream_fd(const struct ipc_stream *s);

/* ---- unix sockets ---- */

/*
 * Starts a non-blocking connect to a unix stream socket. Returns the
 * descriptor (connected at once: unix sockets do not need a second step)
 * or -1 with errno set (ENOENT, ECONNREFUSED, EAGAIN when its backlog is
 * full, ...).
 */
int ipc_unix_connect(const char *path);
/*
 * Binds and listens at path (replacing a stale socket file), then sets the
 * socket file's mode and, when uid is not (uid_t)-1, its owner. -1 with
 * *why set on failure.
 */
int ipc_unix_listen(const char *path, mode_t mode, uid_t uid, gid_t gid, int backlog,
                    struct buf *why);
struct sockaddr;
struct sockaddr_storage;
/*
 * Resolves host:port for TCP (getaddrinfo: blocks, so call it at start-up,
 * not on a busy loop); false with *why set.
 */
bool ipc_tcp_resolve(const char *host, const char *port, struct sockaddr_storage *out,
                     unsigned *out_len, struct buf *why);
/* Starts a non-blocking TCP connect; -1 with errno, else *in_progress says whether to wait. */
int ipc_tcp_connect(const struct sockaddr *sa, unsigned len, bool *in_progress);

#endif
