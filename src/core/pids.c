/* pids.c: the pid table: live pids of this node by serial, on their client's list, and
 * remote pids (those of other nodes we hold entries of), kept by their node. Each pid owns
 * intrusive lists of its names, memberships and monitors, so its death (life.c) costs what
 * it owned and nothing more. A table: no outputs. */
#include <string.h>

#include "base/check.h"
#include "core/nodes.h"
#include "core/pids.h"

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
    struct rs_node *n = rs_nodes_find(c, pid.inc);
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
    int gone = rs_map_del_item(&n->procs, rs_hash_u64(c->seed, p->serial), p);
    RS_ASSERT(gone == 0);
    RS_LIST_DEL(n->proc_list, p, prev, next);
    rs_free(p);
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

void rs_pids_unlink(struct rs_core *c, struct rs_proc *p)
{
    struct rs_client *cl = p->client;
    RS_ASSERT(cl != NULL && cl->n_pids > 0);
    int gone = rs_map_del_item(&c->procs, rs_hash_u64(c->seed, p->serial), p);
    RS_ASSERT(gone == 0 && cl->procs != NULL); /* in the table and on its client's list */
    RS_LIST_DEL(cl->procs, p, prev, next);
    cl->n_pids--;
}
