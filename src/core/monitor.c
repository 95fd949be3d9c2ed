/* monitor.c: monitors (MONITOR, DEMONITOR) and the delivery of one DOWN event per monitor
 * when the watched pid dies. A monitor of a pid that is not alive fires at once with
 * reason noproc and is not kept. */
#include <string.h>

#include "internal.h"

static int mon_eq(const void *item, const void *key)
{
    return ((const struct rs_monitor *)item)->id == *(const uint64_t *)key;
}

static void mon_free(struct rs_core *c, struct rs_monitor *m)
{
    rs_map_del_item(&c->mons, rs_hash_u64(c->seed, m->id), m);
    RS_LIST_DEL(m->target->mons, m, tprev, tnext);
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

void rs_monitor_on_monitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_proc *p = rs_pids_find(c, req->pid);
    if (!p) {
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
    struct rs_monitor *m = rs_core_alloc(c, sizeof *m);
    if (!m)
        return;
    memset(m, 0, sizeof *m);
    m->id = c->next_mon_id;
    m->client = cl;
    m->target = p;
    if (rs_map_put(&c->mons, rs_hash_u64(c->seed, m->id), m) != 0) {
        c->oom = 1;
        rs_free(m);
        return;
    }
    c->next_mon_id++;
    RS_LIST_PUSH(p->mons, m, tprev, tnext);
    RS_LIST_PUSH(cl->mons, m, cprev, cnext);
    cl->n_monitors++;
    rs_out_count(c, cl, req, m->id);
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
    while (cl->mons)
        mon_free(c, cl->mons);
}

void rs_monitor_free_all(struct rs_core *c)
{
    for (size_t i = 0; i < c->mons.cap; i++)
        rs_free(c->mons.slots[i].item);
    rs_map_fini(&c->mons);
}
