/* notices.c: the monitor notices: one DOWN event per monitor when the watched pid dies (or
 * its node goes down, or its node reports it dead), one P_DOWN per monitor another node
 * holds on a pid of ours, and the P_MONITOR / P_DEMONITOR requests to the node of a watched
 * remote pid. Each fired monitor leaves its table (monitors.c). */
#include <string.h>

#include "core/monitors.h"
#include "core/notices.h"
#include "core/output.h"
#include "core/pids.h"

void rs_notices_down(struct rs_core *c, struct rs_client *cl, uint64_t id, struct rs_pid pid,
                     uint32_t reason)
{
    rs_out_event(c, cl, ROSTER_EV_DOWN, reason, 0, id, pid, NULL, rs_bytes_of(NULL, 0),
                 rs_bytes_of(NULL, 0), rs_bytes_of(NULL, 0));
}

void rs_notices_p_down(struct rs_core *c, struct rs_node *n, uint64_t ref, struct rs_pid pid,
                       uint32_t reason)
{
    struct rs_msg d;
    memset(&d, 0, sizeof d);
    if (reason == ROSTER_REASON_EXIT) {
        d.type = RS_MSG_P_DOWN_EXIT; /* P_DOWN has no field for the exit reason */
        rs_msg_p_down_exit_reason_set(&d, reason);
        rs_msg_p_down_exit_ref_set(&d, ref);
        rs_msg_p_down_exit_text_set(&d, c->exit_text);
    } else {
        d.type = RS_MSG_P_DOWN;
        rs_msg_p_down_reason_set(&d, reason);
        rs_msg_p_down_ref_set(&d, ref);
    }
    d.pid = pid;
    rs_out_peer(c, n, &d);
}

void rs_notices_pid_down(struct rs_core *c, struct rs_proc *p, uint32_t reason)
{
    struct rs_pid pid = rs_pids_of(c, p);
    while (p->mons) {
        struct rs_monitor *m = p->mons;
        rs_notices_down(c, m->client, m->id, pid, reason);
        rs_monitors_free(c, m);
    }
    while (p->pmons) {
        struct rs_pmon *m = p->pmons;
        rs_notices_p_down(c, m->node, m->ref, pid, reason);
        rs_pmons_free(c, m);
    }
}

void rs_notices_node_down(struct rs_core *c, struct rs_node *n, uint32_t reason)
{
    while (n->rmons) {
        struct rs_monitor *m = n->rmons;
        rs_notices_down(c, m->client, m->id, m->rpid, reason);
        rs_monitors_free(c, m);
    }
}

void rs_notices_remote_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *msg)
{
    struct rs_monitor *m = rs_monitors_find(c, rs_msg_p_down_ref(msg));
    /* A monitor dropped meanwhile (DEMONITOR crossing the P_DOWN) is not an error. */
    if (!m || m->target || m->rnode != n || m->rpid.serial != msg->pid.serial ||
        m->rpid.inc != msg->pid.inc)
        return;
    /* P_DOWN and P_DOWN_EXIT share OPTS (reason) and ARG (ref); an exit reason is set by
     * the caller (monitor.c) in c->exit_text */
    rs_notices_down(c, m->client, m->id, m->rpid, rs_msg_p_down_reason(msg));
    rs_monitors_free(c, m);
}

void rs_notices_ask(struct rs_core *c, const struct rs_monitor *m)
{
    struct rs_msg pm;
    memset(&pm, 0, sizeof pm);
    pm.type = RS_MSG_P_MONITOR;
    rs_msg_p_monitor_ref_set(&pm, m->id);
    pm.pid = m->rpid;
    rs_out_peer(c, m->rnode, &pm);
}

void rs_notices_ask_again(struct rs_core *c, struct rs_node *n)
{
    for (struct rs_monitor *m = n->rmons; m; m = m->tnext)
        rs_notices_ask(c, m);
}

void rs_notices_unask(struct rs_core *c, const struct rs_monitor *m)
{
    if (m->target || m->rnode->state != ROSTER_NODE_UP)
        return;
    struct rs_msg pm;
    memset(&pm, 0, sizeof pm);
    pm.type = RS_MSG_P_DEMONITOR;
    rs_msg_p_demonitor_ref_set(&pm, m->id);
    rs_out_peer(c, m->rnode, &pm);
}
