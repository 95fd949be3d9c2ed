/* cluster.h: the other nodes, peer connections, gossip and failure detection (cluster.c). */
#ifndef ROSTER_CORE_CLUSTER_H
#define ROSTER_CORE_CLUSTER_H

#include <stdarg.h>
#include "core/internal.h"

int rs_cluster_init(struct rs_core *c, const struct rs_core_config *cfg);
void rs_cluster_free(struct rs_core *c);
void rs_cluster_on_up(struct rs_core *c, const struct rs_input *in);
/* rs_cluster_peer returns the up node whose current connection is conn, or NULL (not a
 * peer, or a duplicate connection being closed). */
struct rs_node *rs_cluster_peer(const struct rs_core *c, uint64_t conn);
/* The peer frames of the cluster itself, from up node n (validated here). */
void rs_cluster_on_p_node(struct rs_core *c, struct rs_node *from, const struct rs_msg *m);
void rs_cluster_on_p_ping(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_cluster_on_gone(struct rs_core *c, uint64_t conn);
void rs_cluster_on_tick(struct rs_core *c);
/* rs_cluster_on_flushed accounts n bytes written on peer conn (0 if conn is no peer). */
int rs_cluster_on_flushed(struct rs_core *c, uint64_t conn, uint64_t n);
/* rs_cluster_end_apply declares down the nodes whose unread output overflowed. */
void rs_cluster_end_apply(struct rs_core *c);
void rs_cluster_on_nodes(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_cluster_fail closes n's connection for a protocol error and declares n down. */
void rs_cluster_fail(struct rs_core *c, struct rs_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* rs_cluster_node_left closes up node n's connection and takes it down with reason
 * node_left (it left the cluster, or this node did): its entries leave with that reason,
 * NODE_LEFT events, and its addresses are no longer dialed (RS_OUT_UNDIAL). */
void rs_cluster_node_left(struct rs_core *c, struct rs_node *n, const char *why);

#endif
