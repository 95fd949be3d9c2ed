/* repl_in.h: incoming replication frames of a peer, and purges of a node's entries
 * (repl_in.c). Each handler validates its frame; a bad one fails the node. */
#ifndef ROSTER_CORE_REPL_IN_H
#define ROSTER_CORE_REPL_IN_H

#include "core/internal.h"

void rs_repl_on_p_scope(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_repl_on_sync_begin(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_repl_on_sync_end(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_repl_on_p_entry(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_repl_on_p_op(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_repl_on_p_pid_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* P_PID_EXIT: P_PID_DOWN with an exit reason (reason exit). */
void rs_repl_on_p_pid_exit(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_repl_drop drops the entries of node n (every node if NULL) in scope s (every scope
 * if NULL), with reason. */
void rs_repl_drop(struct rs_core *c, struct rs_node *n, const struct rs_scope *s,
                  uint32_t reason);

#endif
