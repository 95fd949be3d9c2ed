/* repl.h: outgoing replication of eventual scopes (repl.c); incoming: repl_in.h. */
#ifndef ROSTER_CORE_REPL_H
#define ROSTER_CORE_REPL_H

#include "core/internal.h"

/* rs_repl_op sends one P_OP to every up node that joined s. */
void rs_repl_op(struct rs_core *c, const struct rs_scope *s, uint32_t op, uint32_t reason,
                uint64_t hlc, struct rs_pid pid, struct rs_bytes key, struct rs_bytes meta);
/* rs_repl_pid_down sends one P_PID_DOWN for local pid p to every up node sharing a scope
 * in which p holds entries. */
void rs_repl_pid_down(struct rs_core *c, const struct rs_proc *p, uint32_t reason);
/* rs_repl_snapshot sends our own entries of s to n (P_SYNC_BEGIN, P_ENTRY..., END). */
void rs_repl_snapshot(struct rs_core *c, struct rs_node *n, struct rs_scope *s);
/* rs_repl_announce tells every up node that we joined (1) or left (0) s, and sends our
 * snapshot of s to those that joined it. */
void rs_repl_announce(struct rs_core *c, struct rs_scope *s, int joined);
/* rs_repl_smeta sends record e of s's metadata (P_SMETA) to node to, or (to NULL) to every
 * up node that shares s but except. */
struct rs_smeta;
void rs_repl_smeta(struct rs_core *c, struct rs_node *to, const struct rs_node *except,
                   const struct rs_scope *s, const struct rs_smeta *e);
/* rs_repl_shared is 1 when both this node and n replicate s. */
int rs_repl_shared(const struct rs_node *n, const struct rs_scope *s);

#endif
