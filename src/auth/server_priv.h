/*
 * Inside the auth process: the server (listener, services, backends) and
 * its worker connections. Private to server*.c.
 */
#ifndef GATEPOST_AUTH_SERVER_PRIV_H
#define GATEPOST_AUTH_SERVER_PRIV_H

#include "auth/backend.h"
#include "auth/server.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct srv_conn;

/* A master.cf service as the auth process sees it. */
struct auth_service {
    char *name;
    bool enabled;                   /* smtpd_sasl_auth_enable */
    struct backend *backend;        /* NULL: disabled or the backend failed */
    char *sasl_service;             /* smtpd_sasl_service */
    char *realm;                    /* smtpd_sasl_local_domain */
};

struct auth_server {
    struct event_base *base;
    struct backend_env env;
    struct auth_service *services;
    size_t nservices;
    struct backend **backends;      /* shared by services with equal keys */
    size_t nbackends;
    int listen_fd;
    struct event *accept_ev;
    uid_t peer_uid;                 /* the workers' uid besides root */
    struct srv_conn *conns;         /* doubly linked */
    size_t nconns;
    bool stopping;
    struct event *grace_ev;
    void (*stopped)(void *arg);
    void *stopped_arg;
};

const struct auth_service *auth_server_service(const struct auth_server *s, const char *name);

/* server_conn.c */
void srv_conn_new(struct auth_server *s, int fd);
void srv_conn_free(struct srv_conn *c);
/* Sends the service's mechanism list (id 0: unsolicited) on one connection. */
void srv_conn_send_mechs(struct srv_conn *c, uint32_t id, const struct auth_service *svc);
/* A backend's list changed: every connection hears about every service using it. */
void srv_conns_mechs_changed(struct auth_server *s, const struct backend *b);
/* The connection list changed (a connection ended): a stopping server may be done. */
void auth_server_conn_gone(struct auth_server *s);

#endif
