/* owner.c: ownership details (issue 11, item 16): the OS pid and uid of the client holding
 * a pid. A local pid's come from its client (SO_PEERCRED, read by the shell at accept); a
 * remote pid's arrive with its entries (P_ENTRY / P_OP ARG2), so every node that holds an
 * entry of the pid can say who holds it. The OWNER request reads them. */
#include <string.h>

#include "core/nodes.h"
#include "core/output.h"
#include "core/owner.h"
#include "core/pids.h"

void rs_owner_on_owner(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    struct rs_proc *p = rs_pids_any(c, m->pid);
    if (!p) {
        char t[ROSTER_PID_STRLEN];
        rs_out_error(c, cl, m, ROSTER_ENOPROC,
                     "pid %s is not alive here (a pid of another node is known while it "
                     "holds an entry in a scope this node replicates)",
                     rs_fmt_pid(t, m->pid));
        return;
    }
    uint64_t o = rs_owner_of(p);
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_owner_reply_os_pid_set(&r, o & 0xffffffffu);
    rs_msg_owner_reply_uid_set(&r, o ? o >> 32 : 0);
    rs_msg_owner_reply_node_set(&r, rs_nodes_name_of(c, m->pid.inc));
    rs_out_reply(c, cl, m, &r);
}
