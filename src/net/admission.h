/*
 * Connection admission shared by all SMTP worker processes: how many
 * sessions are open in total and from each client address, so that
 * smtpd_connection_limit and smtpd_client_connection_count_limit hold across
 * workers (Postfix keeps these counts in its anvil server).
 *
 * The table lives in a shared anonymous mapping created by the supervisor
 * before it forks the workers. Counts are kept per worker, so when a worker
 * dies the supervisor clears that worker's share and nothing leaks.
 */
#ifndef GATEPOST_NET_ADMISSION_H
#define GATEPOST_NET_ADMISSION_H

#include "base/netaddr.h"

#include <stdbool.h>

#define ADMISSION_MAX_WORKERS 64

struct admission;

enum admission_result {
    ADMIT_OK,
    ADMIT_TOTAL_LIMIT,      /* smtpd_connection_limit reached */
    ADMIT_CLIENT_LIMIT,     /* smtpd_client_connection_count_limit reached */
};

/* capacity: the most distinct client addresses tracked at once. */
struct admission *admission_create(unsigned capacity);
void admission_destroy(struct admission *a);

/*
 * Counts a new session of worker from addr unless a limit is reached
 * (limits of 0 mean none; exempt clients skip the per-client limit).
 * *client_count gets the client's session count including this one.
 */
enum admission_result admission_enter(struct admission *a, unsigned worker,
                                      const struct netaddr *addr, unsigned total_limit,
                                      unsigned client_limit, bool exempt,
                                      unsigned *client_count);
void admission_leave(struct admission *a, unsigned worker, const struct netaddr *addr);
/* Supervisor: forget every session of a worker that has exited. */
void admission_forget_worker(struct admission *a, unsigned worker);
unsigned admission_total(const struct admission *a);

#endif
