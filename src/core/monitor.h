/* monitor.h: monitors of pids and their DOWN notices (monitor.c). */
#ifndef ROSTER_CORE_MONITOR_H
#define ROSTER_CORE_MONITOR_H

#include "internal.h"

void rs_monitor_on_monitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_monitor_on_demonitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_monitor_fire delivers DOWN for every monitor on p and removes them. */
void rs_monitor_fire(struct rs_core *c, struct rs_proc *p, uint32_t reason);
void rs_monitor_drop_client(struct rs_core *c, struct rs_client *cl);
void rs_monitor_free_all(struct rs_core *c);
/* rs_monitor_on_p_down delivers a P_DOWN from node n for one of our remote monitors. */
void rs_monitor_on_p_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_monitor_node_down fires DOWN node_down for every monitor of n's pids. */
void rs_monitor_node_down(struct rs_core *c, struct rs_node *n);
/* rs_monitor_resend asks n again (P_MONITOR) for every monitor we hold on its pids: on a
 * new connection to n, which forgot what it held for the replaced one. */
void rs_monitor_resend(struct rs_core *c, struct rs_node *n);

#endif
