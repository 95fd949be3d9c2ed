/* nodes.h: the table of the other nodes of the cluster (nodes.c): data and indexes only. */
#ifndef ROSTER_CORE_NODES_H
#define ROSTER_CORE_NODES_H

#include "core/internal.h"

struct rs_node *rs_nodes_find(const struct rs_core *c, uint64_t inc);
/* rs_nodes_named finds the node called name (the up one first), or NULL. */
struct rs_node *rs_nodes_named(const struct rs_core *c, struct rs_bytes name);
int rs_nodes_name_is(const struct rs_node *n, struct rs_bytes name);
/* rs_nodes_name_of is the name of the node owning pids of incarnation inc (this node's
 * for its own or an unknown one). */
struct rs_bytes rs_nodes_name_of(const struct rs_core *c, uint64_t inc);
/* rs_nodes_new adds a CONNECTING record of node name, incarnation inc; NULL if out of
 * memory. */
struct rs_node *rs_nodes_new(struct rs_core *c, struct rs_bytes name, uint64_t inc);
/* rs_nodes_free_one frees record n, which holds nothing any more. */
void rs_nodes_free_one(struct rs_core *c, struct rs_node *n);
/* rs_nodes_set_addr sets n's listen address (ignored if empty or too long). */
void rs_nodes_set_addr(struct rs_node *n, struct rs_bytes addr);
/* The scopes n announced it joined: rs_nodes_joined is 1 if s is one of them. */
int rs_nodes_joined(const struct rs_node *n, const struct rs_scope *s);
int rs_nodes_pscope_add(struct rs_core *c, struct rs_node *n, struct rs_bytes name);
/* rs_nodes_announced_opts returns the options some node announced scope name with (0 and
 * *unknown = 1 when none announced it): a node joining a scope takes the cluster's. */
uint32_t rs_nodes_announced_opts(const struct rs_core *c, struct rs_bytes name,
                                 uint32_t *unknown);
/* rs_nodes_pscope_set_opts records the options n announced scope name with. */
void rs_nodes_pscope_set_opts(struct rs_node *n, struct rs_bytes name, uint32_t opts);
/* rs_nodes_pscope_del forgets scope name of n: 1 if n had announced it, else 0. */
int rs_nodes_pscope_del(struct rs_node *n, struct rs_bytes name);
/* rs_nodes_pscopes_free forgets every scope n announced (also those of rs_nodes_mark_down). */
void rs_nodes_pscopes_free(struct rs_node *n);
/* rs_nodes_mark_down keeps the scopes n had announced, and the time (wall clock, ms), for
 * listings of a down node; rs_nodes_mark_up forgets them when it is up again. */
void rs_nodes_mark_down(struct rs_node *n, uint64_t wall_ms);
void rs_nodes_mark_up(struct rs_node *n);
/* rs_nodes_was_joined is 1 if down node n had announced s before it went down. */
int rs_nodes_was_joined(const struct rs_node *n, const struct rs_scope *s);
/* rs_nodes_count counts the entries of node n (NULL = this node) in s. */
void rs_nodes_count(const struct rs_core *c, const struct rs_scope *s, const struct rs_node *n,
                    uint64_t *names, uint64_t *groups, uint64_t *members);
/* RS_NODES_EACH_UP(c, n) runs its body for every up node n (in no particular order). */
#define RS_NODES_EACH_UP(c, n)                                                           \
    for (size_t n##_i = 0; n##_i < (c)->nodes.cap; n##_i++)                             \
        for (struct rs_node *n = (c)->nodes.slots[n##_i].item;                         \
             n && n->state == ROSTER_NODE_UP; n = NULL)

#endif
