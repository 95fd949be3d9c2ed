/* notices.h: monitor notices and the monitor traffic between nodes (notices.c). */
#ifndef ROSTER_CORE_NOTICES_H
#define ROSTER_CORE_NOTICES_H

#include "core/internal.h"

/* rs_notices_down sends DOWN (reason) of pid to monitor id of client cl. */
void rs_notices_down(struct rs_core *c, struct rs_client *cl, uint64_t id, struct rs_pid pid,
                     uint32_t reason);
/* rs_notices_p_down tells node n that the pid its monitor ref watches is down. */
void rs_notices_p_down(struct rs_core *c, struct rs_node *n, uint64_t ref, struct rs_pid pid,
                       uint32_t reason);
/* rs_notices_pid_down fires every monitor of dying local pid p: DOWN to local watchers,
 * P_DOWN to other nodes' monitors; all leave their tables. */
void rs_notices_pid_down(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_notices_node_down fires DOWN (reason: node_down or node_left) for every monitor of
 * n's pids. */
void rs_notices_node_down(struct rs_core *c, struct rs_node *n, uint32_t reason);
/* rs_notices_remote_down delivers P_DOWN msg of node n to the monitor it names, if any. */
void rs_notices_remote_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *msg);
/* rs_notices_ask asks the node of remote monitor m to watch its pid (P_MONITOR). */
void rs_notices_ask(struct rs_core *c, const struct rs_monitor *m);
/* rs_notices_ask_again asks n again for every monitor we hold on its pids: on a new
 * connection to n, which forgot what it held for the replaced one. */
void rs_notices_ask_again(struct rs_core *c, struct rs_node *n);
/* rs_notices_unask tells an up node that remote monitor m is dropped (P_DEMONITOR). */
void rs_notices_unask(struct rs_core *c, const struct rs_monitor *m);

#endif
