/* monitor.c: monitors (MONITOR, DEMONITOR) and the delivery of one DOWN event per monitor
 * when the watched pid dies. A monitor of a pid that is not alive fires at once with
 * reason noproc and is not kept. A monitor of a pid of another up node is kept on that
 * node's list and asked of its owner (P_MONITOR, ref = monitor id): its P_DOWN, or the node
 * being declared down (node_down), fires it. */
#include <string.h>

#include "monitor.h"
#include "cluster.h"
#include "output.h"
#include "pids.h"
#include "util.h"

static int mon_eq(const void *item, const void *key)
{
    return ((const struct rs_monitor *)item)->id == *(const uint64_t *)key;
}

static void mon_free(struct rs_core *c, struct rs_monitor *m)
{
    rs_map_del_item(&c->mons, rs_hash_u64(c->seed, m->id), m);
    if (m->target) {
        RS_LIST_DEL(m->target->mons, m, tprev, tnext);
    } else {
        RS_LIST_DEL(m->rnode->rmons, m, tprev, tnext);
        m->rnode->n_rmons--;
    }
    RS_LIST_DEL(m->client->mons, m, cprev, cnext);
    m->client->n_monitors--;
    rs_free(m);
}

static void down(struct rs_core *c, struct rs_client *cl, uint64_t id, struct rs_pid pid,
                 uint32_t reason)
{
    rs_out_event(c, cl, ROSTER_EV_DOWN, reason, 0, id, pid, NULL, rs_bytes_of(NULL, 0),
                 rs_bytes_of(NULL, 0), rs_bytes_of(NULL, 0));
}

static void send_p_monitor(struct rs_core *c, const struct rs_monitor *m)
{
    struct rs_msg pm;
    memset(&pm, 0, sizeof pm);
    pm.type = RS_MSG_P_MONITOR;
    pm.arg = m->id;
    pm.pid = m->rpid;
    rs_cluster_send(c, m->rnode, &pm);
}

void rs_monitor_on_monitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_proc *p = rs_pids_find(c, req->pid);
    struct rs_node *rn = NULL;
    if (!p && req->pid.inc != c->inc) {
        rn = rs_cluster_node(c, req->pid.inc);
        if (rn && rn->state != ROSTER_NODE_UP)
            rn = NULL;
    }
    if (!p && !rn) {
        uint64_t id = c->next_mon_id++;
        rs_out_count(c, cl, req, id);
        down(c, cl, id, req->pid, ROSTER_REASON_NOPROC);
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
    if (rs_map_put(&c->mons, rs_hash_u64(c->seed, m->id), m) != 0) {
        c->oom = 1;
        rs_free(m);
        return;
    }
    c->next_mon_id++;
    if (p) {
        RS_LIST_PUSH(p->mons, m, tprev, tnext);
    } else {
        RS_LIST_PUSH(rn->rmons, m, tprev, tnext);
        rn->n_rmons++;
    }
    RS_LIST_PUSH(cl->mons, m, cprev, cnext);
    cl->n_monitors++;
    rs_out_count(c, cl, req, m->id);
    if (rn)
        send_p_monitor(c, m);
}

void rs_monitor_resend(struct rs_core *c, struct rs_node *n)
{
    for (struct rs_monitor *m = n->rmons; m; m = m->tnext)
        send_p_monitor(c, m);
}

static void demonitor_remote(struct rs_core *c, struct rs_monitor *m)
{
    if (m->target || m->rnode->state != ROSTER_NODE_UP)
        return;
    struct rs_msg pm;
    memset(&pm, 0, sizeof pm);
    pm.type = RS_MSG_P_DEMONITOR;
    pm.arg = m->id;
    rs_cluster_send(c, m->rnode, &pm);
}

void rs_monitor_on_p_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *msg)
{
    uint64_t id = msg->arg;
    struct rs_monitor *m = rs_map_get(&c->mons, rs_hash_u64(c->seed, id), &id, mon_eq);
    /* A monitor dropped meanwhile (DEMONITOR crossing the P_DOWN) is not an error. */
    if (!m || m->target || m->rnode != n || m->rpid.serial != msg->pid.serial ||
        m->rpid.inc != msg->pid.inc)
        return;
    down(c, m->client, m->id, m->rpid, msg->opts);
    mon_free(c, m);
}

void rs_monitor_node_down(struct rs_core *c, struct rs_node *n)
{
    while (n->rmons) {
        struct rs_monitor *m = n->rmons;
        down(c, m->client, m->id, m->rpid, ROSTER_REASON_NODE_DOWN);
        mon_free(c, m);
    }
}

void rs_monitor_on_demonitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint64_t id = req->arg;
    struct rs_monitor *m = rs_map_get(&c->mons, rs_hash_u64(c->seed, id), &id, mon_eq);
    if (!m || m->client != cl) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "no monitor %llu on this connection",
                     (unsigned long long)id);
        return;
    }
    demonitor_remote(c, m);
    mon_free(c, m);
    rs_out_ok(c, cl, req);
}

void rs_monitor_fire(struct rs_core *c, struct rs_proc *p, uint32_t reason)
{
    struct rs_pid pid = rs_pids_of(c, p);
    while (p->mons) {
        struct rs_monitor *m = p->mons;
        down(c, m->client, m->id, pid, reason);
        mon_free(c, m);
    }
}

void rs_monitor_drop_client(struct rs_core *c, struct rs_client *cl)
{
    while (cl->mons) {
        demonitor_remote(c, cl->mons);
        mon_free(c, cl->mons);
    }
}

void rs_monitor_free_all(struct rs_core *c)
{
    for (size_t i = 0; i < c->mons.cap; i++)
        rs_free(c->mons.slots[i].item);
    rs_map_fini(&c->mons);
}
