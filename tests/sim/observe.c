/* observe.c: reading a node's state the way a user would, through its observer client:
 * NAMES, GROUPS and MEMBERS of a scope into one sorted sim_set, NODES, and LOOKUP (for
 * the holder's fencing token). Using the client
 * protocol (rather than poking at core internals) means the checks see exactly what clients
 * see, and survive any change of the core's tables. */
#include <string.h>

#include "sim.h"

static int query(struct sim_world *w, int node, struct rs_msg *m)
{
    struct sim_obs *o = &w->obs;
    size_t ci = w->nodes[node].observer;
    o->active = 1;
    o->got_reply = 0;
    o->nnodes = 0;
    set_clear(&o->items);
    client_request(w, ci, m);
    o->active = 0;
    if (w->failed)
        return -1;
    if (!o->got_reply) {
        sim_fail(w, "n%d did not answer a read (type %u) at once", node, (unsigned)m->type);
        return -1;
    }
    return o->status;
}

int obs_groups(struct sim_world *w, int node, int scope, struct sim_set *out)
{
    struct rs_msg m = {.type = RS_MSG_GROUPS, .scope = rs_bytes_str(sim_scope_name(scope))};
    int st = query(w, node, &m);
    if (st != 0) {
        if (!w->failed)
            sim_fail(w, "n%d: GROUPS of %s failed: %d", node, sim_scope_name(scope), st);
        return -1;
    }
    set_clear(out);
    for (size_t i = 0; i < w->obs.items.n; i++) {
        struct sim_entry *e = &w->obs.items.v[i];
        struct sim_entry *g = set_add(out, 1, e->key, e->pid, "");
        g->count = e->count;
    }
    return 0;
}

int obs_view(struct sim_world *w, int node, int scope, struct sim_set *out)
{
    struct sim_set *groups = &w->scratch_groups;
    const char *sn = sim_scope_name(scope);
    set_clear(out);
    struct rs_msg m = {.type = RS_MSG_NAMES, .scope = rs_bytes_str(sn)};
    int st = query(w, node, &m);
    if (st != 0) {
        if (!w->failed)
            sim_fail(w, "n%d: NAMES of %s failed: %d", node, sn, st);
        return -1;
    }
    for (size_t i = 0; i < w->obs.items.n; i++) {
        struct sim_entry *e = &w->obs.items.v[i];
        set_add(out, 0, e->key, e->pid, e->meta);
    }
    if (obs_groups(w, node, scope, groups) != 0)
        return -1;
    for (size_t g = 0; g < groups->n; g++) {
        char key[SIM_KEY_MAX];
        memcpy(key, groups->v[g].key, sizeof key);
        uint64_t count = groups->v[g].count;
        if (count == 0) {
            sim_fail(w, "n%d: group %s/%s is listed with no members", node, sn, key);
            return -1;
        }
        struct rs_msg mm = {.type = RS_MSG_MEMBERS, .scope = rs_bytes_str(sn)};
        rs_msg_members_group_set(&mm, rs_bytes_str(key));
        if (query(w, node, &mm) != 0) {
            if (!w->failed)
                sim_fail(w, "n%d: MEMBERS of %s/%s failed", node, sn, key);
            return -1;
        }
        if (w->obs.items.n != count) {
            sim_fail(w, "n%d: group %s/%s counts %llu members but lists %zu", node, sn, key,
                     (unsigned long long)count, w->obs.items.n);
            return -1;
        }
        for (size_t i = 0; i < w->obs.items.n; i++) {
            struct sim_entry *e = &w->obs.items.v[i];
            set_add(out, 1, key, e->pid, e->meta);
        }
    }
    set_sort(out);
    return 0;
}

int obs_nodes(struct sim_world *w, int node)
{
    struct rs_msg m = {.type = RS_MSG_NODES, .scope = rs_bytes_str("default")};
    int st = query(w, node, &m);
    if (st != 0 && !w->failed)
        sim_fail(w, "n%d: NODES failed: %d", node, st);
    return st;
}

int obs_owner(struct sim_world *w, int node, struct rs_pid pid)
{
    struct rs_msg m = {.type = RS_MSG_OWNER, .pid = pid};
    return query(w, node, &m);
}

int obs_lookup(struct sim_world *w, int node, int scope, const char *name)
{
    struct rs_msg m = {.type = RS_MSG_LOOKUP, .scope = rs_bytes_str(sim_scope_name(scope)),
                       .key = rs_bytes_str(name)};
    return query(w, node, &m);
}

int obs_meta(struct sim_world *w, int node, int scope, struct sim_set *out)
{
    struct rs_msg m = {.type = RS_MSG_SCOPE_META_GET,
                       .scope = rs_bytes_str(sim_scope_name(scope))};
    int st = query(w, node, &m);
    if (st != 0) {
        if (!w->failed)
            sim_fail(w, "n%d: SCOPE_META_GET of %s failed: %d", node, sim_scope_name(scope), st);
        return -1;
    }
    set_clear(out);
    for (size_t i = 0; i < w->obs.items.n; i++)
        *set_add(out, 2, "", w->obs.items.v[i].pid, "") = w->obs.items.v[i];
    set_sort(out);
    return 0;
}
