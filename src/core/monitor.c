/* monitor.c: the requests on monitors: MONITOR and DEMONITOR from clients, P_MONITOR and
 * P_DEMONITOR from other nodes, and a client's monitors dropped when it goes. A monitor of
 * a pid that is not alive fires at once with reason noproc and is not kept. A monitor of a
 * pid of another up node is kept on that node's list and asked of its owner (P_MONITOR,
 * ref = monitor id): its P_DOWN, or the node being declared down (node_down), fires it
 * (notices.c). */
#include <string.h>

#include "core/cluster.h"
#include "core/lease.h"
#include "core/monitor.h"
#include "core/monitors.h"
#include "core/nodes.h"
#include "core/notices.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/util.h"

static void reply_id(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                     uint64_t id)
{
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_monitor_reply_id_set(&r, id);
    rs_out_reply(c, cl, req, &r);
}

void rs_monitor_on_monitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_proc *p = rs_pids_find(c, req->pid);
    struct rs_node *rn = NULL;
    if (!p && req->pid.inc != c->inc) {
        rn = rs_nodes_find(c, req->pid.inc);
        if (rn && rn->state != ROSTER_NODE_UP)
            rn = NULL;
    }
    if (!p && !rn) {
        uint64_t id = c->next_mon_id++;
        reply_id(c, cl, req, id);
        rs_notices_down(c, cl, id, req->pid, ROSTER_REASON_NOPROC);
        return;
    }
    if (cl->n_monitors >= c->lim.monitors_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "client has %u monitors (limit monitors_per_client)", cl->n_monitors);
        return;
    }
    if (rn && rn->n_rmons >= c->peer_monitors_max) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "this node has %u monitors of pids of node %s (limit per node)",
                     rn->n_rmons, rn->name);
        return;
    }
    struct rs_monitor *m = rs_core_alloc(c, sizeof *m);
    if (!m)
        return;
    memset(m, 0, sizeof *m);
    m->id = c->next_mon_id;
    m->client = cl;
    m->target = p;
    m->rnode = rn;
    m->rpid = req->pid;
    if (rs_monitors_add(c, m) != 0) {
        rs_free(m);
        return;
    }
    c->next_mon_id++;
    reply_id(c, cl, req, m->id);
    if (rn)
        rs_notices_ask(c, m);
}

void rs_monitor_on_demonitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint64_t id = rs_msg_demonitor_id(req);
    struct rs_monitor *m = rs_monitors_find(c, id);
    if (!m || m->client != cl) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "no monitor %llu on this connection",
                     (unsigned long long)id);
        return;
    }
    rs_notices_unask(c, m);
    rs_monitors_free(c, m);
    rs_out_ok(c, cl, req);
}

void rs_monitor_drop_client(struct rs_core *c, struct rs_client *cl)
{
    while (cl->mons) {
        rs_notices_unask(c, cl->mons);
        rs_monitors_free(c, cl->mons);
    }
}

void rs_monitor_on_p_monitor(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint64_t ref = rs_msg_p_monitor_ref(m);
    struct rs_proc *p = rs_pids_find(c, m->pid);
    if (!p) {
        rs_notices_p_down(c, n, ref, m->pid, ROSTER_REASON_NOPROC);
        return;
    }
    if (rs_pmons_find(c, n, ref)) {
        rs_cluster_fail(c, n, "P_MONITOR reuses monitor ref %llu", (unsigned long long)ref);
        return;
    }
    /* The requesting node refuses its clients' monitors past this cap (ELIMIT), so only a
     * faulty peer passes it. */
    if (n->n_pmons >= c->peer_monitors_max) {
        rs_cluster_fail(c, n, "more than %u monitors on this node's pids",
                        c->peer_monitors_max);
        return;
    }
    rs_pmons_add(c, n, p, ref);
}

void rs_monitor_on_p_demonitor(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    struct rs_pmon *pm = rs_pmons_find(c, n, rs_msg_p_demonitor_ref(m));
    if (pm) /* else the pid died meanwhile and P_DOWN is on its way */
        rs_pmons_free(c, pm);
}

void rs_monitor_on_p_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint32_t reason = rs_msg_p_down_reason(m);
    if (reason == ROSTER_REASON_NONE || reason > ROSTER_REASON_NOPROC || m->pid.inc != n->inc) {
        rs_cluster_fail(c, n, "malformed P_DOWN");
        return;
    }
    rs_notices_remote_down(c, n, m);
}

void rs_monitor_on_p_down_exit(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    struct rs_bytes text = rs_msg_p_down_exit_text(m);
    if (rs_msg_p_down_exit_reason(m) != ROSTER_REASON_EXIT || m->pid.inc != n->inc ||
        rs_lease_exit_text_bad(text)) {
        rs_cluster_fail(c, n, "malformed P_DOWN_EXIT");
        return;
    }
    struct rs_bytes saved = c->exit_text;
    c->exit_text = text; /* the DOWN event carries it (output.c) */
    rs_notices_remote_down(c, n, m);
    c->exit_text = saved;
}
