/* calls.h: calls: CALL, REPLY, MULTI_CALL and their deadlines (calls.c). */
#ifndef ROSTER_CORE_CALLS_H
#define ROSTER_CORE_CALLS_H

#include "core/internal.h"

void rs_calls_on_call(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_calls_on_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_calls_on_multi(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_calls_on_p_send keeps a proxy for a call (a P_SEND checked by rs_route_check_p_send)
 * of node n to a local pid and delivers it; P_NOPROC if the pid is not alive. */
void rs_calls_on_p_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_calls_on_p_reply(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_calls_on_p_noproc(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_calls_tick answers the calls past their deadline (ETIMEDOUT / bad members). */
void rs_calls_tick(struct rs_core *c);
/* rs_calls_pid_dead fails the calls waiting on local pid p (it is dying). */
void rs_calls_pid_dead(struct rs_core *c, struct rs_proc *p);
/* rs_calls_node_down fails our calls waiting on n's pids and forgets n's calls on ours. */
void rs_calls_node_down(struct rs_core *c, struct rs_node *n);
/* rs_calls_drop_client forgets cl's calls (it is gone). */
void rs_calls_drop_client(struct rs_core *c, struct rs_client *cl);
/* rs_calls_free_all frees every call and proxy (core teardown; rs_route_free then frees
 * the route state they lived in). */
void rs_calls_free_all(struct rs_core *c);
uint64_t rs_calls_pending(const struct rs_core *c);

#endif
