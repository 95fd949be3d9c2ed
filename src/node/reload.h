/* reload.h: SIGHUP reloads the config file (docs/OPERATIONS.md). The command line and the
 * file are parsed again exactly as at start (flags still win); what can change while the
 * node runs is applied and logged ("log-level: info -> debug"): the log level and format,
 * and the per-client limits that grow. Anything else that differs is logged as needing a
 * restart and left alone; a file that does not parse changes nothing (logged, with its
 * file:line). */
#ifndef ROSTER_NODE_RELOAD_H
#define ROSTER_NODE_RELOAD_H

struct rsd;

/* rsd_reload_start installs the SIGHUP handler; 0 or -1. rsd_reload_stop closes it (loop
 * thread); the memory goes with the handle's close. */
int rsd_reload_start(struct rsd *n);
void rsd_reload_stop(struct rsd *n);
/* rsd_reload runs one reload now (what SIGHUP does). */
void rsd_reload(struct rsd *n);

#endif
