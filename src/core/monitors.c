/* monitors.c: the tables of monitors: those of local clients (by id, on the watched local
 * pid's list or, for a pid of another node, on that node's list; and on the watcher's list)
 * and those other nodes hold on our pids (struct rs_pmon by node and ref, on the pid's and
 * the node's lists). Find, add, remove, counters. A table: no outputs (notices.c sends the
 * DOWN notices). */
#include <string.h>

#include "base/check.h"
#include "core/monitors.h"
#include "core/util.h"

static int mon_eq(const void *item, const void *key)
{
    return ((const struct rs_monitor *)item)->id == *(const uint64_t *)key;
}

struct rs_monitor *rs_monitors_find(const struct rs_core *c, uint64_t id)
{
    return rs_map_get(&c->mons, rs_hash_u64(c->seed, id), &id, mon_eq);
}

int rs_monitors_add(struct rs_core *c, struct rs_monitor *m)
{
    if (rs_map_put(&c->mons, rs_hash_u64(c->seed, m->id), m) != 0) {
        c->oom = 1;
        return -1;
    }
    if (m->target) {
        RS_LIST_PUSH(m->target->mons, m, tprev, tnext);
    } else {
        RS_LIST_PUSH(m->rnode->rmons, m, tprev, tnext);
        m->rnode->n_rmons++;
    }
    RS_LIST_PUSH(m->client->mons, m, cprev, cnext);
    m->client->n_monitors++;
    return 0;
}

void rs_monitors_free(struct rs_core *c, struct rs_monitor *m)
{
    int gone = rs_map_del_item(&c->mons, rs_hash_u64(c->seed, m->id), m);
    RS_ASSERT(gone == 0);
    if (m->target) {
        RS_LIST_DEL(m->target->mons, m, tprev, tnext);
    } else {
        RS_ASSERT(m->rnode->n_rmons > 0);
        RS_LIST_DEL(m->rnode->rmons, m, tprev, tnext);
        m->rnode->n_rmons--;
    }
    RS_ASSERT(m->client->n_monitors > 0);
    RS_LIST_DEL(m->client->mons, m, cprev, cnext);
    m->client->n_monitors--;
    rs_free(m);
}

struct pmon_key {
    uint64_t inc;
    uint64_t ref;
};

static int pmon_eq(const void *item, const void *key)
{
    const struct rs_pmon *m = item;
    const struct pmon_key *k = key;
    return m->node->inc == k->inc && m->ref == k->ref;
}

static uint64_t pmon_hash(const struct rs_core *c, uint64_t inc, uint64_t ref)
{
    return rs_hash_u64(c->seed ^ inc, ref);
}

struct rs_pmon *rs_pmons_find(const struct rs_core *c, const struct rs_node *n, uint64_t ref)
{
    struct pmon_key k = {n->inc, ref};
    return rs_map_get(&c->pmons, pmon_hash(c, n->inc, ref), &k, pmon_eq);
}

struct rs_pmon *rs_pmons_add(struct rs_core *c, struct rs_node *n, struct rs_proc *p,
                             uint64_t ref)
{
    struct rs_pmon *pm = rs_core_alloc(c, sizeof *pm);
    if (!pm)
        return NULL;
    memset(pm, 0, sizeof *pm);
    pm->ref = ref;
    pm->node = n;
    pm->target = p;
    if (rs_map_put(&c->pmons, pmon_hash(c, n->inc, ref), pm) != 0) {
        c->oom = 1;
        rs_free(pm);
        return NULL;
    }
    RS_LIST_PUSH(p->pmons, pm, tprev, tnext);
    RS_LIST_PUSH(n->pmons, pm, nprev, nnext);
    n->n_pmons++;
    return pm;
}

void rs_pmons_free(struct rs_core *c, struct rs_pmon *m)
{
    int gone = rs_map_del_item(&c->pmons, pmon_hash(c, m->node->inc, m->ref), m);
    RS_ASSERT(gone == 0);
    RS_LIST_DEL(m->target->pmons, m, tprev, tnext);
    RS_ASSERT(m->node->n_pmons > 0);
    RS_LIST_DEL(m->node->pmons, m, nprev, nnext);
    m->node->n_pmons--;
    rs_free(m);
}

void rs_monitors_free_all(struct rs_core *c)
{
    for (size_t i = 0; i < c->mons.cap; i++)
        rs_free(c->mons.slots[i].item);
    rs_map_fini(&c->mons);
    for (size_t i = 0; i < c->pmons.cap; i++)
        rs_free(c->pmons.slots[i].item);
    rs_map_fini(&c->pmons);
}
