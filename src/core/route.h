/* route.h: message routes: SEND, PUBLISH, delivery to pids and forwarding to nodes
 * (route.c). */
#ifndef ROSTER_CORE_ROUTE_H
#define ROSTER_CORE_ROUTE_H

#include "core/internal.h"

void rs_route_init(struct rs_core *c);
/* rs_route_free frees the messaging state: fan-out scratch, deadline heap, ref map. */
void rs_route_free(struct rs_core *c);
void rs_route_on_send(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_route_on_publish(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
struct rs_flow_from;
/* rs_route_deliver sends one MESSAGE to local pid to under flow control (flow.c; f: who
 * sent it, NULL: nobody to slow): 0, RS_FLOW_HELD (held until the receiver has room),
 * ROSTER_EAGAIN (mailbox full and f->drop), ROSTER_ETOOBIG (frame too big) or
 * ROSTER_ENOPROC (its client is closing); drops are counted. */
int rs_route_deliver(struct rs_core *c, struct rs_proc *to, uint32_t kind, struct rs_pid from,
                     struct rs_bytes from_node, struct rs_bytes scope, struct rs_bytes key,
                     struct rs_bytes payload, uint64_t ref, const struct rs_flow_from *f);
/* rs_route_forward sends P_SEND to up node n: 0, RS_FLOW_HELD (held until the link has
 * room), ROSTER_EAGAIN (link full and f->drop, counted), ROSTER_ETOOBIG (frame too big,
 * counted) or ROSTER_ENOPROC (node not up). */
int rs_route_forward(struct rs_core *c, struct rs_node *n, uint32_t kind, uint64_t from_serial,
                     struct rs_pid to, struct rs_bytes scope, struct rs_bytes key,
                     struct rs_bytes payload, uint64_t ref, const struct rs_flow_from *f);
/* rs_route_resolve finds the target of a SEND / CALL: *local for a live local pid, else
 * *node for a pid of an up node (that node decides whether it is alive); *to is the pid.
 * 0, ROSTER_ENOPROC, ROSTER_ENOTFOUND (name not registered) or ROSTER_ENOSCOPE. *scope is
 * the scope's name when sent by name (it travels with the message), else empty. */
int rs_route_resolve(struct rs_core *c, const struct rs_msg *req, struct rs_proc **local,
                     struct rs_node **node, struct rs_pid *to, struct rs_bytes *scope);
/* rs_route_sender checks that serial ARG of req is a live pid of cl: the pid, or NULL. */
struct rs_proc *rs_route_sender(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_route_check_p_send validates P_SEND m of up node n: 1, or 0 once it failed n. */
int rs_route_check_p_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_route_p_send_is_call is 1 for a P_SEND of a call (calls.c takes it), 0 for a send. */
int rs_route_p_send_is_call(const struct rs_msg *m);
/* rs_route_on_p_send delivers a checked P_SEND that is no call to its local pid, if alive. */
void rs_route_on_p_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_route_on_p_publish validates and fans out P_PUBLISH m of up node n. */
void rs_route_on_p_publish(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);

#endif
