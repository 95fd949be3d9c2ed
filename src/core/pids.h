/* pids.h: the pid table: live local pids by serial and the remote pids of other nodes
 * (pids.c): data and indexes only. */
#ifndef ROSTER_CORE_PIDS_H
#define ROSTER_CORE_PIDS_H

#include "core/internal.h"

struct rs_proc *rs_pids_find(const struct rs_core *c, struct rs_pid pid);
struct rs_proc *rs_pids_create(struct rs_core *c, struct rs_client *cl);
/* rs_pids_any finds a live local pid or a remote pid this node holds entries of. */
struct rs_proc *rs_pids_any(const struct rs_core *c, struct rs_pid pid);
static inline struct rs_pid rs_pids_of(const struct rs_core *c, const struct rs_proc *p)
{
    struct rs_pid pid = {p->node ? p->node->inc : c->inc, p->serial};
    return pid;
}
/* rs_pids_remote returns node's pid serial, created (empty) if new; NULL if out of memory. */
struct rs_proc *rs_pids_remote(struct rs_core *c, struct rs_node *n, uint64_t serial);
/* rs_pids_release frees remote pid p once it holds nothing. */
void rs_pids_release(struct rs_core *c, struct rs_proc *p);
/* rs_pids_unlink takes local pid p out of the pid table and its client's list (it is
 * dying); the caller frees it. */
void rs_pids_unlink(struct rs_core *c, struct rs_proc *p);

#endif
