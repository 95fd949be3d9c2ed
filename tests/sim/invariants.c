/* invariants.c: the checks of the simulator.
 *
 * inv_step runs after every input a node handles: its statistics agree with the clients the
 * simulator gave it, and (deep scans) no group is empty, no entry belongs to a pid that
 * died longer ago than a failure detector plus delivery delays allow, and NODES gives a
 * down node the time it went down (no other node a time). Checks that belong to
 * a single reply or event (pid reuse, monitors firing once, conflict notices, subscription
 * replay) run in client.c as the frames arrive.
 *
 * inv_converged decides when a healed cluster is quiet: every node up, every pair of nodes
 * connected as the right incarnations, no frame other than heartbeats in flight.
 *
 * inv_final then compares each node's state with what the clients hold: every node of a
 * scope lists exactly the names and memberships live clients believe they hold (no ghost,
 * nothing missing, one holder per name, so a loser that was never notified shows up), the
 * nodes agree with each other, every subscriber's replayed events equal its node (and none
 * is left between the two events of a handoff), every name shows the same holder and
 * fencing token on every node, and every client handed a name got its notice. */
#include <stdio.h>
#include <string.h>

#include "sim.h"

static int pid_eq_sim(struct rs_pid a, struct rs_pid b)
{
    return a.inc == b.inc && a.serial == b.serial;
}

static int joined(const struct sim_world *w, int node, int scope)
{
    return (w->nodes[node].scopes >> scope) & 1u;
}

static void check_stats(struct sim_world *w, int node)
{
    struct sim_node *n = &w->nodes[node];
    struct rs_core_stats st;
    rs_core_stats(n->core, &st);
    uint64_t clients = 0, pids = 0, subs = 0;
    for (size_t c = 0; c < w->ncl; c++) {
        const struct sim_client *cl = &w->cl[c];
        if (!cl->alive || cl->node != node || cl->node_inc != n->inc)
            continue;
        clients++;
        pids += cl->npids;
        for (size_t s = 0; s < cl->nsubs; s++)
            subs += !cl->subs[s].ended;
    }
    if (st.clients != clients)
        sim_fail(w, "n%d: stats count %llu clients, the shell has %llu open", node,
                 (unsigned long long)st.clients, (unsigned long long)clients);
    else if (w->cluster ? st.pids < pids : st.pids != pids)
        sim_fail(w, "n%d: stats count %llu pids, its clients own %llu live ones", node,
                 (unsigned long long)st.pids, (unsigned long long)pids);
    else if (st.subscriptions != subs)
        sim_fail(w, "n%d: stats count %llu subscriptions, its clients have %llu", node,
                 (unsigned long long)st.subscriptions, (unsigned long long)subs);
}

/* Entries of dead pids may linger only as long as failure detection takes. */
static void check_ghosts(struct sim_world *w, int node, int scope, const struct sim_set *v)
{
    for (size_t i = 0; i < v->n; i++) {
        const struct sim_entry *e = &v->v[i];
        struct sim_pidinfo *pi = pid_info(w, e->pid);
        if (!pi || pi->alive || w->now - pi->died_at <= w->ghost_bound_ms)
            continue;
        sim_fail(w, "n%d: ghost: %s %s/%s of pid %016llx.%llu (n%d), dead for %llu ms "
                    "(bound %llu ms)",
                 node, e->group ? "member of" : "name", sim_scope_name(scope), e->key,
                 (unsigned long long)e->pid.inc, (unsigned long long)e->pid.serial, pi->node,
                 (unsigned long long)(w->now - pi->died_at),
                 (unsigned long long)w->ghost_bound_ms);
        return;
    }
}

/* NODES of node i: a down record carries the (wall clock) time it was declared down (a
 * real time, not after the node's clock, which may have been stepped back a few seconds
 * since), any other none; after convergence the current incarnation of every node is up
 * (a record of an earlier one may linger: down, or connecting if only gossip named it). */
static void check_node_listing(struct sim_world *w, int i)
{
    if (!w->cluster || obs_nodes(w, i) != 0)
        return;
    uint64_t wall = (uint64_t)((int64_t)(SIM_WALL_BASE + w->now) + w->nodes[i].skew);
    for (size_t k = 0; k < w->obs.nnodes && !w->failed; k++) {
        const char *name = w->obs.nodes[k].name;
        int state = w->obs.nodes[k].state;
        uint64_t since = w->obs.nodes[k].down_since, inc = w->obs.nodes[k].inc;
        int current = 0;
        for (int j = 0; j < w->n; j++)
            current |= strcmp(w->nodes[j].name, name) == 0 && w->nodes[j].inc == inc;
        int ok = state == ROSTER_NODE_DOWN || state == ROSTER_NODE_LEFT
                     ? since >= SIM_WALL_BASE - 60000 && since <= wall + 60000
                     : since == 0;
        if (ok && w->converged && current)
            ok = state == ROSTER_NODE_UP;
        if (!ok)
            sim_fail(w, "n%d lists node %s (incarnation %016llx, %s) as state %d, down "
                        "since %llu",
                     i, name, (unsigned long long)inc, current ? "current" : "earlier", state,
                     (unsigned long long)since);
    }
}

void inv_step(struct sim_world *w, int node, int deep)
{
    struct sim_set *view = &w->scratch_view;
    if (w->failed || !w->nodes[node].core)
        return;
    check_stats(w, node);
    if (!deep || w->failed)
        return;
    lease_check_overdue(w);
    struct rs_core_stats st;
    struct sim_node *n = &w->nodes[node];
    rs_core_stats(n->core, &st);
    /* A scan only finds something new if the tables changed, or if time passed (ghosts are
     * entries that stay too long): skip the others, they are most of the steps. */
    if (!w->converged && memcmp(&st, &n->scanned, sizeof st) == 0 &&
        w->now - n->scanned_at < 500)
        return;
    n->scanned = st;
    n->scanned_at = w->now;
    uint64_t names = 0, members = 0;
    check_node_listing(w, node);
    for (int s = 0; s < SIM_NSCOPES && !w->failed; s++) {
        if (!joined(w, node, s) || obs_view(w, node, s, view) != 0)
            continue;
        check_ghosts(w, node, s, view);
        region_check(w, node, s, view);
        for (size_t i = 0; i < view->n; i++) {
            names += !view->v[i].group;
            members += view->v[i].group;
        }
    }
    /* The names statistic counts claims: a losing claim stays (hidden) until its owner's
     * node removes it, so only after convergence must it equal the visible names. */
    if (!w->failed && (st.names < names || (w->converged && st.names != names) ||
                       st.members != members))
        sim_fail(w, "n%d: stats count %llu names and %llu members, listings show %llu and %llu",
                 node, (unsigned long long)st.names, (unsigned long long)st.members,
                 (unsigned long long)names, (unsigned long long)members);
}

int inv_converged(struct sim_world *w)
{
    for (int i = 0; i < w->n; i++)
        if (!w->nodes[i].core) {
            snprintf(w->why, sizeof w->why, "n%d is not up", i);
            return 0;
        }
    if (net_in_flight(w) || w->now - w->last_busy < 1000) {
        snprintf(w->why, sizeof w->why, "frames other than heartbeats still flow");
        return 0;
    }
    if (!w->cluster)
        return 1;
    for (int i = 0; i < w->n; i++) {
        if (obs_nodes(w, i) != 0)
            return 0;
        for (int j = 0; j < w->n; j++) {
            if (j == i)
                continue;
            int ok = 0;
            for (size_t k = 0; k < w->obs.nnodes; k++)
                if (strcmp(w->obs.nodes[k].name, w->nodes[j].name) == 0 &&
                    w->obs.nodes[k].inc == w->nodes[j].inc &&
                    w->obs.nodes[k].state == ROSTER_NODE_UP)
                    ok = 1;
            if (!ok) {
                snprintf(w->why, sizeof w->why,
                         "n%d does not list n%d (incarnation %016llx) as up; shell: %d live "
                         "conns, dialing %d, wants %d",
                         i, j, (unsigned long long)w->nodes[j].inc, w->nodes[i].live[j],
                         w->nodes[i].dialing[j], w->nodes[i].want[j]);
                return 0;
            }
        }
    }
    return 1;
}

/* What node i must show for scope s: every live holding of every client whose node shares
 * the scope with i (all of them in a cluster, only i itself without one). */
static void expected(struct sim_world *w, int node, int scope, struct sim_set *out)
{
    set_clear(out);
    for (size_t c = 0; c < w->ncl && !w->failed; c++) {
        const struct sim_client *cl = &w->cl[c];
        if (!cl->alive || cl->observer || !joined(w, cl->node, scope))
            continue;
        if (!w->cluster && cl->node != node)
            continue;
        for (size_t h = 0; h < cl->nheld; h++) {
            const struct sim_held *x = &cl->held[h];
            if (x->scope != scope)
                continue;
            struct sim_entry *dup = set_find(out, x->group, x->key, x->pid);
            for (size_t k = 0; per_node_scope(w, scope) && k < out->n; k++) {
                /* a holder per node: only two of one node are wrong */
                struct sim_entry *y = &out->v[k];
                dup = !y->group && strcmp(y->key, x->key) == 0 && y->pid.inc == x->pid.inc
                          ? y
                          : NULL;
                if (dup)
                    break;
            }
            if (dup && !x->group) {
                sim_fail(w, "after convergence two live pids believe they hold %s/%s: "
                            "%016llx.%llu and %016llx.%llu (a loser was not notified)",
                         sim_scope_name(scope), x->key, (unsigned long long)dup->pid.inc,
                         (unsigned long long)dup->pid.serial, (unsigned long long)x->pid.inc,
                         (unsigned long long)x->pid.serial);
                return;
            }
            set_add(out, x->group, x->key, x->pid, x->meta);
        }
    }
    set_sort(out);
}

static void check_subscribers(struct sim_world *w, int node, int scope, const struct sim_set *v)
{
    struct sim_set want = {0};
    char d[512];
    for (size_t c = 0; c < w->ncl && !w->failed; c++) {
        struct sim_client *cl = &w->cl[c];
        if (!cl->alive || cl->node != node)
            continue;
        for (size_t k = 0; k < cl->nsubs && !w->failed; k++) {
            struct sim_sub *s = &cl->subs[k];
            if (s->ended || s->scope != scope)
                continue;
            if (s->ho_open) {
                sim_fail(w, "n%d: subscription %llu saw %s free: a handoff's UNREGISTERED "
                            "was its last event",
                         node, (unsigned long long)s->id, s->ho_key);
                break;
            }
            if (s->in_snapshot) {
                sim_fail(w, "n%d: subscription %llu never got SNAPSHOT_END", node,
                         (unsigned long long)s->id);
                break;
            }
            set_clear(&want);
            for (size_t i = 0; i < v->n; i++)
                if (sub_matches(s, v->v[i].group, v->v[i].key))
                    *set_add(&want, 0, "", v->v[i].pid, "") = v->v[i];
            set_sort(&s->replay);
            if (set_diff(&s->replay, &want, d, sizeof d))
                sim_fail(w, "n%d: subscription %llu (%s, flags 0x%x, pattern '%s') replayed "
                            "from its snapshot differs from the node (first = replay, second = "
                            "node): %s",
                         node, (unsigned long long)s->id, sim_scope_name(scope),
                         (unsigned)s->flags, s->pat, d);
        }
    }
    set_free(&want);
}

static void check_monitors(struct sim_world *w)
{
    for (size_t c = 0; c < w->ncl && !w->failed; c++) {
        struct sim_client *cl = &w->cl[c];
        if (!cl->alive)
            continue;
        if (cl->npend)
            sim_fail(w, "n%d: client %zu has %zu requests without a reply", cl->node, c,
                     cl->npend);
        for (size_t h = 0; h < cl->nheld && !w->failed; h++)
            if (cl->held[h].notice_due || cl->held[h].gone_due)
                sim_fail(w, "n%d: client %zu was handed %s %s/%s but never told", cl->node, c,
                         cl->held[h].gone_due ? "away" : "", sim_scope_name(cl->held[h].scope),
                         cl->held[h].key);
        for (size_t k = 0; k < cl->nmons && !w->failed; k++) {
            struct sim_mon *m = &cl->mons[k];
            struct sim_pidinfo *pi = pid_info(w, m->pid);
            if (m->demonitored || m->fired || !pi || pi->alive)
                continue;
            sim_fail(w, "n%d: monitor %llu of pid %016llx.%llu (n%d), dead since t=%llu, never "
                        "fired",
                     cl->node, (unsigned long long)m->id, (unsigned long long)m->pid.inc,
                     (unsigned long long)m->pid.serial, pi->node,
                     (unsigned long long)pi->died_at);
        }
    }
}

/* Every node that shows an entry knows who holds its pid: the OS pid and uid of the client
 * that owns it, as its own node read them at CLIENT_OPEN (replicated with the entries). */
static void check_owners(struct sim_world *w, int node, int scope, const struct sim_set *v)
{
    for (size_t i = 0; i < v->n && !w->failed; i++) {
        const struct sim_entry *e = &v->v[i];
        struct sim_pidinfo *pi = pid_info(w, e->pid);
        if (!pi || !pi->alive)
            continue; /* check_ghosts judges those */
        int st = obs_owner(w, node, e->pid);
        if (w->failed)
            return;
        uint64_t want_pid = 1000 + pi->client, want_uid = w->cl[pi->client].uid;
        if (st != 0 || w->obs.os_pid != want_pid || w->obs.uid != want_uid)
            sim_fail(w, "n%d: owner of %s/%s pid %016llx.%llu: status %d, os pid %llu uid "
                        "%llu; its client is os pid %llu uid %llu",
                     node, sim_scope_name(scope), e->key, (unsigned long long)e->pid.inc,
                     (unsigned long long)e->pid.serial, st,
                     (unsigned long long)w->obs.os_pid, (unsigned long long)w->obs.uid,
                     (unsigned long long)want_pid, (unsigned long long)want_uid);
    }
}

/* Every node of a scope shows each name with the same holder and token (peers learn the
 * token with the entry). */
/* A scope unique per node: LOOKUP on a node answers its own holder if it has one, else
 * the holder on the lowest node name; every holder keeps its token everywhere. */
static void check_per_node_lookups(struct sim_world *w, int scope, const struct sim_set *v)
{
    for (int k = 0; k < SIM_NNAMES && !w->failed; k++) {
        char key[2] = {(char)('a' + k), 0};
        for (int i = 0; i < w->n && !w->failed; i++) {
            if (!joined(w, i, scope))
                continue;
            const struct sim_entry *own = NULL, *low = NULL;
            int lown = -1;
            for (size_t x = 0; x < v->n; x++) {
                const struct sim_entry *e = &v->v[x];
                if (e->group || strcmp(e->key, key) != 0)
                    continue;
                struct sim_pidinfo *pi = pid_info(w, e->pid);
                int pn = pi ? pi->node : -1;
                if (pn == i && e->pid.inc == w->nodes[i].inc)
                    own = e;
                if (pn >= 0 && (!low || strcmp(w->nodes[pn].name, w->nodes[lown].name) < 0))
                    low = e, lown = pn;
            }
            const struct sim_entry *want = own ? own : low;
            int st = obs_lookup(w, i, scope, key);
            if (w->failed)
                return;
            if (want ? st != 0 || !pid_eq_sim(w->obs.pid, want->pid) : st != ROSTER_ENOTFOUND)
                sim_fail(w, "scope %s (unique per node): n%d looks %s up as status %d pid "
                            "%016llx.%llu, not the %s holder",
                         sim_scope_name(scope), i, key, st, (unsigned long long)w->obs.pid.inc,
                         (unsigned long long)w->obs.pid.serial,
                         !want ? "absent" : own ? "local" : "first node's");
        }
    }
}

static void check_tokens(struct sim_world *w, int scope)
{
    for (int k = 0; k < SIM_NNAMES && !w->failed; k++) {
        char key[2] = {(char)('a' + k), 0};
        int first = -1, st0 = 0;
        struct rs_pid pid0 = {0, 0};
        uint64_t tok0 = 0;
        for (int i = 0; i < w->n && !w->failed; i++) {
            if (!joined(w, i, scope))
                continue;
            int st = obs_lookup(w, i, scope, key);
            if (w->failed)
                return;
            struct rs_pid pid = st == 0 ? w->obs.pid : (struct rs_pid){0, 0};
            uint64_t tok = st == 0 ? w->obs.token : 0;
            if (st == 0 && tok == 0)
                sim_fail(w, "n%d: %s/%s has token 0", i, sim_scope_name(scope), key);
            else if (first >= 0 && w->cluster &&
                     (st != st0 || pid.inc != pid0.inc || pid.serial != pid0.serial ||
                      tok != tok0))
                sim_fail(w, "scope %s: n%d and n%d show %s with other holders or tokens "
                            "(%d %016llx.%llu token %llu, %d %016llx.%llu token %llu)",
                         sim_scope_name(scope), first, i, key, st0,
                         (unsigned long long)pid0.inc, (unsigned long long)pid0.serial,
                         (unsigned long long)tok0, st, (unsigned long long)pid.inc,
                         (unsigned long long)pid.serial, (unsigned long long)tok);
            if (first < 0) {
                first = i;
                st0 = st;
                pid0 = pid;
                tok0 = tok;
            }
        }
    }
}

/* Scope metadata after convergence: every node of the scope lists the same records (key,
 * value, stamp, writer: the last writer won everywhere), each value is one a client was told
 * it set, and every metadata subscriber's replayed events equal its node's records. */
static void check_meta(struct sim_world *w, int scope)
{
    struct sim_set v[SIM_MAX_NODES] = {{0}}, want = {0};
    char d[512];
    int first = -1;
    for (int i = 0; i < w->n && !w->failed; i++) {
        if (!joined(w, i, scope) || obs_meta(w, i, scope, &v[i]) != 0)
            continue;
        for (size_t k = 0; k < v[i].n && !w->failed; k++) {
            int known = 0;
            for (size_t x = 0; x < w->mwrites.n && !known; x++)
                known = w->mwrites.v[x].group == scope &&
                        strcmp(w->mwrites.v[x].key, v[i].v[k].key) == 0 &&
                        strcmp(w->mwrites.v[x].meta, v[i].v[k].meta) == 0;
            if (!known)
                sim_fail(w, "n%d: scope %s metadata %s = '%s' was never set by a client", i,
                         sim_scope_name(scope), v[i].v[k].key, v[i].v[k].meta);
        }
        if (w->cluster && first >= 0 && !w->failed && set_diff(&v[first], &v[i], d, sizeof d))
            sim_fail(w, "scope %s: n%d and n%d hold other metadata after convergence (first = "
                        "n%d): %s",
                     sim_scope_name(scope), first, i, first, d);
        if (first < 0)
            first = i;
        for (size_t c = 0; c < w->ncl && !w->failed; c++) {
            struct sim_client *cl = &w->cl[c];
            if (!cl->alive || cl->node != i)
                continue;
            for (size_t k = 0; k < cl->nsubs && !w->failed; k++) {
                struct sim_sub *s = &cl->subs[k];
                if (s->ended || s->scope != scope || !(s->flags & ROSTER_SUB_SCOPE_META))
                    continue;
                set_clear(&want);
                for (size_t x = 0; x < v[i].n; x++)
                    if (meta_matches(s, v[i].v[x].key))
                        set_add(&want, 2, v[i].v[x].key, (struct rs_pid){0, 0}, v[i].v[x].meta);
                set_sort(&want);
                set_sort(&s->mreplay);
                if (set_diff(&s->mreplay, &want, d, sizeof d))
                    sim_fail(w, "n%d: subscription %llu's replayed metadata of %s differs from "
                                "the node (first = replay): %s",
                             i, (unsigned long long)s->id, sim_scope_name(scope), d);
            }
        }
    }
    for (int i = 0; i < SIM_MAX_NODES; i++)
        set_free(&v[i]);
    set_free(&want);
}

void inv_final(struct sim_world *w)
{
    w->converged = 1;
    struct sim_set views[SIM_MAX_NODES] = {{0}};
    struct sim_set want = {0};
    char d[512];
    for (int s = 0; s < SIM_NSCOPES && !w->failed; s++) {
        int first = -1;
        for (int i = 0; i < w->n && !w->failed; i++) {
            if (!joined(w, i, s) || obs_view(w, i, s, &views[i]) != 0)
                continue;
            check_ghosts(w, i, s, &views[i]);
            check_owners(w, i, s, &views[i]);
            if (w->cluster && first >= 0 && !w->failed &&
                set_diff(&views[first], &views[i], d, sizeof d))
                sim_fail(w, "scope %s: n%d and n%d disagree after convergence (first = n%d): %s",
                         sim_scope_name(s), first, i, first, d);
            if (first < 0)
                first = i;
            expected(w, i, s, &want);
            if (!w->failed && set_diff(&views[i], &want, d, sizeof d))
                sim_fail(w, "scope %s: n%d's state differs from what live clients hold (first "
                            "= node, second = clients; 'only in first' is a ghost or an "
                            "unnotified removal's survivor, 'only in second' a missing "
                            "registration): %s",
                         sim_scope_name(s), i, d);
            check_subscribers(w, i, s, &views[i]);
        }
        if (per_node_scope(w, s)) {
            if (first >= 0 && !w->failed)
                check_per_node_lookups(w, s, &views[first]);
        } else {
            check_tokens(w, s);
        }
        check_meta(w, s);
    }
    for (int i = 0; i < w->n; i++)
        inv_step(w, i, 1);
    check_monitors(w);
    for (int i = 0; i < SIM_MAX_NODES; i++)
        set_free(&views[i]);
    set_free(&want);
}
