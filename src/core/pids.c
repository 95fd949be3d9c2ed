/* pids.c: the pid table (live pids of this node, by serial), pid creation and closing, the
 * death cascade: names unregistered, groups left, monitors fired, all through the pid's
 * own intrusive lists so a death costs what the pid owned and nothing more; and remote pids
 * (those of other nodes we hold entries of), kept by their node. */
#include <string.h>

#include "pids.h"
#include "change.h"
#include "calls.h"
#include "cluster.h"
#include "groups.h"
#include "monitor.h"
#include "output.h"
#include "registry.h"
#include "repl.h"

static int proc_eq(const void *item, const void *key)
{
    return ((const struct rs_proc *)item)->serial == *(const uint64_t *)key;
}

struct rs_proc *rs_pids_find(const struct rs_core *c, struct rs_pid pid)
{
    if (pid.inc != c->inc)
        return NULL;
    return rs_map_get(&c->procs, rs_hash_u64(c->seed, pid.serial), &pid.serial, proc_eq);
}

struct rs_proc *rs_pids_any(const struct rs_core *c, struct rs_pid pid)
{
    if (pid.inc == c->inc)
        return rs_pids_find(c, pid);
    struct rs_node *n = rs_cluster_node(c, pid.inc);
    if (!n)
        return NULL;
    return rs_map_get(&n->procs, rs_hash_u64(c->seed, pid.serial), &pid.serial, proc_eq);
}

struct rs_proc *rs_pids_remote(struct rs_core *c, struct rs_node *n, uint64_t serial)
{
    uint64_t h = rs_hash_u64(c->seed, serial);
    struct rs_proc *p = rs_map_get(&n->procs, h, &serial, proc_eq);
    if (p)
        return p;
    p = rs_calloc(1, sizeof *p);
    if (!p) {
        c->oom = 1;
        return NULL;
    }
    p->serial = serial;
    p->node = n;
    if (rs_map_put(&n->procs, h, p) != 0) {
        rs_free(p);
        c->oom = 1;
        return NULL;
    }
    RS_LIST_PUSH(n->proc_list, p, prev, next);
    return p;
}

void rs_pids_release(struct rs_core *c, struct rs_proc *p)
{
    if (!p->node || p->names || p->members)
        return;
    struct rs_node *n = p->node;
    rs_map_del_item(&n->procs, rs_hash_u64(c->seed, p->serial), p);
    RS_LIST_DEL(n->proc_list, p, prev, next);
    rs_free(p);
}

void rs_pids_kill_remote(struct rs_core *c, struct rs_proc *p, uint32_t reason)
{
    struct rs_change ch = {.kind = RS_CH_PID_DOWN, .source = RS_SRC_PEER, .reason = reason,
                           .proc = p};
    rs_change_apply(c, &ch);
    rs_pids_release(c, p);
}

struct rs_proc *rs_pids_create(struct rs_core *c, struct rs_client *cl)
{
    struct rs_proc *p = rs_calloc(1, sizeof *p);
    if (!p) {
        c->oom = 1;
        return NULL;
    }
    p->serial = c->next_serial;
    p->client = cl;
    if (rs_map_put(&c->procs, rs_hash_u64(c->seed, p->serial), p) != 0) {
        rs_free(p);
        c->oom = 1;
        return NULL;
    }
    c->next_serial++;
    RS_LIST_PUSH(cl->procs, p, prev, next);
    cl->n_pids++;
    return p;
}

void rs_pids_kill(struct rs_core *c, struct rs_proc *p, uint32_t reason)
{
    /* Out of every table first, so nothing below finds a half-dead pid. */
    rs_map_del_item(&c->procs, rs_hash_u64(c->seed, p->serial), p);
    struct rs_client *cl = p->client;
    RS_LIST_DEL(cl->procs, p, prev, next);
    cl->n_pids--;
    struct rs_change ch = {.kind = RS_CH_PID_DOWN, .source = RS_SRC_LOCAL, .reason = reason,
                           .proc = p};
    rs_change_apply(c, &ch);
    rs_calls_pid_dead(c, p);
    rs_free(p);
}

struct rs_proc *rs_pids_owned(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    char pb[ROSTER_PID_STRLEN];
    struct rs_proc *p = rs_pids_find(c, req->pid);
    if (!p) {
        rs_out_error(c, cl, req, ROSTER_ENOPROC, "pid %s is not alive on this node",
                     rs_fmt_pid(pb, req->pid));
        return NULL;
    }
    if (p->client != cl) {
        rs_out_error(c, cl, req, ROSTER_ENOTOWNER, "pid %s belongs to another client",
                     rs_fmt_pid(pb, req->pid));
        return NULL;
    }
    return p;
}

void rs_pids_on_new(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (cl->n_pids >= c->lim.pids_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT, "client has %u pids (limit pids_per_client)",
                     cl->n_pids);
        return;
    }
    struct rs_proc *p = rs_pids_create(c, cl);
    if (!p)
        return;
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    r.pid = rs_pids_of(c, p);
    rs_out_reply(c, cl, req, &r);
}

void rs_pids_on_close(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_proc *p = rs_pids_owned(c, cl, req);
    if (!p)
        return;
    rs_out_ok(c, cl, req);
    rs_pids_kill(c, p, ROSTER_REASON_NORMAL);
}
