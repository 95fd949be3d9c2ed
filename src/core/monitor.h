/* monitor.h: the requests on monitors, of clients and of other nodes (monitor.c); the
 * tables are monitors.h, the notices notices.h. */
#ifndef ROSTER_CORE_MONITOR_H
#define ROSTER_CORE_MONITOR_H

#include "core/internal.h"

void rs_monitor_on_monitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_monitor_on_demonitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_monitor_drop_client forgets cl's monitors (it is gone), telling their nodes. */
void rs_monitor_drop_client(struct rs_core *c, struct rs_client *cl);
/* The peer frames of monitors, from up node n: validated here (a bad one fails n). */
void rs_monitor_on_p_monitor(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_monitor_on_p_demonitor(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_monitor_on_p_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* P_DOWN_EXIT: P_DOWN with an exit reason (reason exit). */
void rs_monitor_on_p_down_exit(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);

#endif
