/* pids.h: the pid table: live local pids by serial and the remote pids of other nodes
 * (pids.c). */
#ifndef ROSTER_CORE_PIDS_H
#define ROSTER_CORE_PIDS_H

#include "internal.h"

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
/* rs_pids_kill_remote removes every entry of remote pid p (reason) and frees it. */
void rs_pids_kill_remote(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_pids_kill runs the death cascade of p (names, groups, monitors) and frees it. */
void rs_pids_kill(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_pids_owned checks that req's PID is a live pid of cl; else sends the error reply
 * (ENOPROC / ENOTOWNER) and returns NULL. */
struct rs_proc *rs_pids_owned(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_pids_on_new(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_pids_on_close(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

#endif
