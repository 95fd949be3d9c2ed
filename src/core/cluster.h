/* cluster.h: the other nodes, peer connections, gossip and failure detection (cluster.c). */
#ifndef ROSTER_CORE_CLUSTER_H
#define ROSTER_CORE_CLUSTER_H

#include <stdarg.h>
#include "internal.h"

int rs_cluster_init(struct rs_core *c, const struct rs_core_config *cfg);
void rs_cluster_free(struct rs_core *c);
void rs_cluster_on_up(struct rs_core *c, const struct rs_input *in);
void rs_cluster_on_msg(struct rs_core *c, uint64_t conn, const struct rs_msg *m);
void rs_cluster_on_gone(struct rs_core *c, uint64_t conn);
void rs_cluster_on_tick(struct rs_core *c);
/* rs_cluster_on_flushed accounts n bytes written on peer conn (0 if conn is no peer). */
int rs_cluster_on_flushed(struct rs_core *c, uint64_t conn, uint64_t n);
/* rs_cluster_end_apply declares down the nodes whose unread output overflowed. */
void rs_cluster_end_apply(struct rs_core *c);
void rs_cluster_on_nodes(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
struct rs_node *rs_cluster_node(const struct rs_core *c, uint64_t inc);
/* rs_cluster_node_named finds the node called name (the up one first), or NULL. */
struct rs_node *rs_cluster_node_named(const struct rs_core *c, struct rs_bytes name);
/* rs_cluster_name_of is the name of the node owning pids of incarnation inc. */
struct rs_bytes rs_cluster_name_of(const struct rs_core *c, uint64_t inc);
int rs_cluster_joined(const struct rs_node *n, const struct rs_scope *s);
/* rs_cluster_fail closes n's connection for a protocol error and declares n down. */
void rs_cluster_fail(struct rs_core *c, struct rs_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rs_cluster_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_cluster_each_up calls fn for every up node (in no particular order). */
#define RS_CLUSTER_EACH_UP(c, n)                                                         \
    for (size_t n##_i = 0; n##_i < (c)->nodes.cap; n##_i++)                             \
        for (struct rs_node *n = (c)->nodes.slots[n##_i].item;                         \
             n && n->state == ROSTER_NODE_UP; n = NULL)
/* rs_cluster_pmons_fire sends P_DOWN for every peer monitor of local pid p. */
void rs_cluster_pmons_fire(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_cluster_count_node counts node (NULL = this node) entries in s. */
void rs_cluster_count_node(const struct rs_core *c, const struct rs_scope *s,
                           const struct rs_node *n, uint64_t *names, uint64_t *groups,
                           uint64_t *members);

#endif
