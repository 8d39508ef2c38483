/*
 * The supervisor behind `gatepost serve`. It holds root only as long as it
 * must: it reads the configuration, prepares the queue and data
 * directories (owned by mail_owner), binds the master.cf listeners, then
 * forks the unprivileged SMTP workers and the queue manager, restarts any
 * that crash, reloads on SIGHUP and stops everything cleanly on SIGTERM.
 */
#ifndef GATEPOST_MASTER_MASTER_H
#define GATEPOST_MASTER_MASTER_H

/* Runs the supervisor in the foreground; returns the exit code. */
int master_run(const char *config_dir);

#endif
