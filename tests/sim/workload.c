/* workload.c: what happens to the cluster, chosen by the seed.
 *
 * Client actions: open, new pids, register / unregister / join / leave over a small name
 * space (so the same names are claimed on different nodes at once and conflicts are
 * frequent), writes for foreign or dead pids and into scopes the node has not joined (the
 * errors are checked), subscriptions with snapshots, monitors of any pid ever seen, pid
 * closes and client deaths; handoffs (mostly to pids of the same node, sometimes with the
 * right or a wrong if_token), compare-and-set updates of names and memberships (with
 * right and wrong expected tokens and metadata) and token checks; scope metadata sets and
 * deletes of a few keys (issue 11 item 11), followed by some subscriptions.
 *
 * Faults: clean partitions (reset or silent), one-way partitions, overlapping partitions
 * (one pair cut, the rest connected), link resets, heals, and node crashes (connections
 * reset, or silent as a machine that vanished) with a restart as a new incarnation, and
 * clean leaves (cluster-leave) followed by a cluster-join. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "wire/query.h"

static size_t pick_client(struct sim_world *w, int node, size_t *count)
{
    size_t n = 0, pick = (size_t)-1;
    for (size_t c = 0; c < w->ncl; c++) {
        const struct sim_client *cl = &w->cl[c];
        if (!cl->alive || cl->observer || cl->node != node)
            continue;
        n++;
        if (sim_below(&w->rng, n) == 0) /* reservoir: uniform, deterministic */
            pick = c;
    }
    *count = n;
    return pick;
}

/* A pid to act for: usually one of the client's own live pids, sometimes any pid ever
 * handed out (another client's, a remote one, a dead one). */
static struct rs_pid pick_pid(struct sim_world *w, const struct sim_client *c)
{
    if (c->npids && !sim_pct(&w->rng, 8))
        return c->pids[sim_below(&w->rng, c->npids)];
    if (w->npids)
        return w->pids[sim_below(&w->rng, w->npids)].pid;
    struct rs_pid zero = {0, 0};
    return zero;
}

static int pick_scope(struct sim_world *w) { return sim_pct(&w->rng, 70) ? 0 : 1; }

static int pick_joined_scope(struct sim_world *w, int node)
{
    int s = pick_scope(w);
    return (w->nodes[node].scopes >> s) & 1u ? s : 0;
}

/* A pid of node's live clients (any client: handoffs go between clients too). */
static struct rs_pid pick_local_pid(struct sim_world *w, int node, const struct sim_client *c)
{
    size_t n = 0;
    struct rs_pid pick = c->npids ? c->pids[0] : (struct rs_pid){0, 0};
    for (size_t o = 0; o < w->ncl; o++) {
        const struct sim_client *x = &w->cl[o];
        if (!x->alive || x->observer || x->node != node)
            continue;
        for (size_t i = 0; i < x->npids; i++)
            if (sim_below(&w->rng, ++n) == 0)
                pick = x->pids[i];
    }
    return pick;
}

/* HANDOFF, UPDATE (a name or a membership) or CHECK_TOKEN into m; key and prev are the
 * caller's buffers. */
static void cas_request(struct sim_world *w, int node, const struct sim_client *c, int scope,
                        struct rs_msg *m, char *key, char *prev, const char *meta)
{
    unsigned kind = (unsigned)sim_below(&w->rng, 10);
    int group = kind == 7 || kind == 8;
    if (group)
        snprintf(key, SIM_KEY_MAX, "g%d", (int)sim_below(&w->rng, SIM_NGROUPS));
    else
        snprintf(key, SIM_KEY_MAX, "%c", 'a' + (int)sim_below(&w->rng, SIM_NNAMES));
    const struct sim_held *h = held_local(w, node, scope, group, key, NULL, NULL);
    uint64_t token = h ? h->token : 0;
    if (token && sim_pct(&w->rng, 15))
        token += sim_range(&w->rng, 1, 3) * (sim_pct(&w->rng, 50) ? 1 : (uint64_t)-1);
    prev[0] = 0;
    if (kind < 4) {
        m->type = RS_MSG_HANDOFF;
        struct rs_pid to = sim_pct(&w->rng, 85) ? pick_local_pid(w, node, c) : pick_pid(w, c);
        const struct sim_pidinfo *pi = pid_info(w, to);
        if (pi && w->cl[pi->client].observer)
            to = pick_local_pid(w, node, c); /* the observers only read: they hold nothing */
        rs_msg_handoff_to_set(m, to);
        rs_msg_handoff_if_token_set(m, sim_pct(&w->rng, 50) ? token : 0);
    } else if (kind < 9) {
        m->type = RS_MSG_UPDATE;
        m->meta = rs_bytes_str(meta);
        uint32_t flags = group ? RS_UPDATE_MEMBER : 0;
        if (sim_pct(&w->rng, group ? 5 : 50))
            flags |= RS_UPDATE_IF_TOKEN;
        if (sim_pct(&w->rng, 50)) {
            flags |= RS_UPDATE_IF_META;
            if (h && sim_pct(&w->rng, 75))
                snprintf(prev, SIM_META_MAX, "%s", h->meta);
            else
                snprintf(prev, SIM_META_MAX, "m%u", (unsigned)sim_below(&w->rng, 1000));
        }
        rs_msg_update_flags_set(m, flags);
        rs_msg_update_if_token_set(m, token);
        rs_msg_update_if_meta_set(m, rs_bytes_str(prev));
        if (group)
            rs_msg_update_member_set(m, h && sim_pct(&w->rng, 80) ? h->pid : pick_pid(w, c));
    } else {
        m->type = RS_MSG_CHECK_TOKEN;
        rs_msg_check_token_token_set(m, token);
    }
}

/* unmatch_request fills m with an UNMATCH (issue 11 item 6) of c's own entries: names or
 * memberships, one key or every key, of all its pids or one, and maybe a metadata prefix
 * (m->prev carries its text for the reply's check; the encoded filter goes to *fb). 0, or
 * -1 when c has an entry in a handoff's notice window (the model's count would not be
 * exact). */
static int unmatch_request(struct sim_world *w, const struct sim_client *c, struct rs_msg *m,
                           char *key, char *prefix, struct rs_buf *fb)
{
    for (size_t i = 0; i < c->nheld; i++)
        if (c->held[i].notice_due || c->held[i].gone_due)
            return -1;
    int group = sim_pct(&w->rng, 50);
    uint32_t opts = group ? RS_QW_MEMBERS : RS_QW_NAMES;
    if (sim_pct(&w->rng, 60)) {
        opts |= RS_QF_PREFIX;
        key[0] = 0;
    } else if (group) {
        snprintf(key, SIM_KEY_MAX, "g%d", (int)sim_below(&w->rng, SIM_NGROUPS));
    } else {
        snprintf(key, SIM_KEY_MAX, "%c", 'a' + (int)sim_below(&w->rng, SIM_NNAMES));
    }
    m->type = RS_MSG_UNMATCH;
    rs_msg_unmatch_opts_set(m, opts);
    if (c->npids && sim_pct(&w->rng, 40))
        m->pid = c->pids[sim_below(&w->rng, c->npids)];
    prefix[0] = 0;
    if (sim_pct(&w->rng, 50)) {
        snprintf(prefix, SIM_META_MAX, "m%u", (unsigned)sim_below(&w->rng, 10));
        struct rs_qfilter f = {1, {{RS_QOP_PREFIX, rs_bytes_of(NULL, 0), rs_bytes_str(prefix)}}};
        const char *why;
        if (rs_qfilter_encode(fb, &f, &why) != 0)
            abort();
    }
    m->meta = rs_bytes_of(fb->data, fb->len);
    m->prev = rs_bytes_str(prefix);
    return 0;
}

void work_action(struct sim_world *w, int node)
{
    size_t count;
    size_t ci = pick_client(w, node, &count);
    if (count == 0 || (count < 4 && sim_pct(&w->rng, 5))) {
        ci = client_open(w, node, 0);
        sim_log(w, "n%d: client %zu opens", node, ci);
        return;
    }
    struct sim_client *c = &w->cl[ci];
    char key[SIM_KEY_MAX], meta[SIM_META_MAX];
    snprintf(meta, sizeof meta, "m%u", (unsigned)sim_below(&w->rng, 1000));
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    unsigned op = (unsigned)sim_below(&w->rng, 100);
    int scope = pick_scope(w);
    m.scope = rs_bytes_str(sim_scope_name(scope));
    char prev[SIM_META_MAX];
    if (sim_pct(&w->rng, 15)) {
        cas_request(w, node, c, scope, &m, key, prev, meta);
    } else if (sim_pct(&w->rng, 12) && lease_request(w, c, &m, key, meta)) {
        /* LEASE, RENEW or PID_EXIT (lease.c) */
    } else if (sim_pct(&w->rng, 6)) {
        /* scope metadata: a few keys, so that writes on several nodes meet */
        snprintf(key, sizeof key, "%c", 'x' + (int)sim_below(&w->rng, 3));
        m.type = sim_pct(&w->rng, 75) ? RS_MSG_SCOPE_META_SET : RS_MSG_SCOPE_META_DELETE;
        if (m.type == RS_MSG_SCOPE_META_SET)
            m.meta = rs_bytes_str(meta);
    } else if (op < 28) {
        snprintf(key, sizeof key, "%c", 'a' + (int)sim_below(&w->rng, SIM_NNAMES));
        m.type = RS_MSG_REGISTER;
        m.pid = pick_pid(w, c);
        m.meta = rs_bytes_str(meta);
    } else if (op < 37) {
        if (sim_pct(&w->rng, 20)) {
            char prefix[SIM_META_MAX];
            struct rs_buf fb;
            rs_buf_init(&fb);
            if (unmatch_request(w, c, &m, key, prefix, &fb) == 0) {
                m.key = rs_bytes_str(key);
                sim_log(w, "n%d: client %zu: unmatch %s/%s opts %x meta prefix '%s'", node, ci,
                        sim_scope_name(scope), key, (unsigned)m.opts, prefix);
                client_request(w, ci, &m);
                inv_step(w, node, 1);
            }
            rs_buf_fini(&fb);
            return;
        }
        snprintf(key, sizeof key, "%c", 'a' + (int)sim_below(&w->rng, SIM_NNAMES));
        m.type = RS_MSG_UNREGISTER;
    } else if (op < 54) {
        snprintf(key, sizeof key, "g%d", (int)sim_below(&w->rng, SIM_NGROUPS));
        m.type = RS_MSG_JOIN;
        m.pid = pick_pid(w, c);
        m.meta = rs_bytes_str(meta);
    } else if (op < 62) {
        snprintf(key, sizeof key, "g%d", (int)sim_below(&w->rng, SIM_NGROUPS));
        m.type = RS_MSG_LEAVE;
        m.pid = pick_pid(w, c);
    } else if (op < 70) {
        m.type = RS_MSG_PID_NEW;
        key[0] = 0;
    } else if (op < 75) {
        m.type = RS_MSG_PID_CLOSE;
        m.pid = pick_pid(w, c);
        key[0] = 0;
    } else if (op < 80) {
        static const uint32_t kinds[] = {
            ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS,
            ROSTER_SUB_REGISTRY,
            ROSTER_SUB_GROUPS | ROSTER_SUB_PREFIX,
            ROSTER_SUB_REGISTRY,
        };
        unsigned k = (unsigned)sim_below(&w->rng, 4);
        m.type = RS_MSG_SUBSCRIBE;
        rs_msg_subscribe_flags_set(&m, kinds[k] | ROSTER_SUB_SNAPSHOT |
                                           (sim_pct(&w->rng, 40) ? ROSTER_SUB_SCOPE_META : 0));
        if (k == 2)
            snprintf(key, sizeof key, "g%d", (int)sim_below(&w->rng, 2));
        else if (k == 3)
            snprintf(key, sizeof key, "%c", 'a' + (int)sim_below(&w->rng, SIM_NNAMES));
        else
            key[0] = 0;
        scope = pick_joined_scope(w, node);
        m.scope = rs_bytes_str(sim_scope_name(scope));
    } else if (op < 82) {
        if (!c->nsubs)
            return;
        m.type = RS_MSG_UNSUBSCRIBE;
        rs_msg_unsubscribe_id_set(&m, c->subs[sim_below(&w->rng, c->nsubs)].id);
        key[0] = 0;
    } else if (op < 92) {
        m.type = RS_MSG_MONITOR;
        m.pid = pick_pid(w, c);
        key[0] = 0;
    } else if (op < 93) {
        if (!c->nmons)
            return;
        m.type = RS_MSG_DEMONITOR;
        rs_msg_demonitor_id_set(&m, c->mons[sim_below(&w->rng, c->nmons)].id);
        key[0] = 0;
    } else if (op < 95) {
        m.type = (w->nodes[node].scopes & 2u) ? RS_MSG_SCOPE_LEAVE : RS_MSG_SCOPE_JOIN;
        if (m.type == RS_MSG_SCOPE_JOIN && w->s1_opts && !w->nodes[node].s1_made) {
            /* the node never had s1: joining would make it without options if no peer
             * announces it now; create it with the cluster's options instead */
            m.type = RS_MSG_SCOPE_CREATE;
            m.opts = w->s1_opts;
        }
        scope = 1;
        m.scope = rs_bytes_str(sim_scope_name(1));
        key[0] = 0;
    } else if (op < 97) {
        sim_log(w, "n%d: client %zu dies", node, ci);
        client_close(w, ci);
        inv_step(w, node, 1);
        return;
    } else {
        ci = client_open(w, node, 0);
        sim_log(w, "n%d: client %zu opens", node, ci);
        return;
    }
    m.key = rs_bytes_str(key);
    if (w->verbose)
        sim_log(w, "n%d: client %zu: request %u %s/%s pid %016llx.%llu meta %s", node, ci,
                (unsigned)m.type, sim_scope_name(scope), key, (unsigned long long)m.pid.inc,
                (unsigned long long)m.pid.serial, meta);
    client_request(w, ci, &m);
    inv_step(w, node, 1);
}

static int up_count(const struct sim_world *w)
{
    int n = 0;
    for (int i = 0; i < w->n; i++)
        n += w->nodes[i].core != NULL;
    return n;
}

static void pick_pair(struct sim_world *w, int *a, int *b)
{
    *a = (int)sim_below(&w->rng, (uint64_t)w->n);
    *b = (int)sim_below(&w->rng, (uint64_t)w->n - 1);
    if (*b >= *a)
        (*b)++;
}

void work_fault(struct sim_world *w)
{
    if (!sim_pct(&w->rng, w->fault_pct))
        return;
    w->n_faults++;
    unsigned f = (unsigned)sim_below(&w->rng, 100);
    int a, b;
    if (!w->cluster)
        f = 90; /* without peers, only crashes matter */
    if (f < 15) {
        uint32_t all = (1u << w->n) - 1;
        uint32_t g = (uint32_t)sim_range(&w->rng, 1, all - 1);
        net_partition_clean(w, g, sim_pct(&w->rng, 50));
    } else if (f < 27) {
        pick_pair(w, &a, &b);
        net_partition_oneway(w, a, b);
    } else if (f < 39) {
        pick_pair(w, &a, &b);
        net_cut_pair(w, a, b, sim_pct(&w->rng, 50) ? 2 : 1);
    } else if (f < 52) {
        pick_pair(w, &a, &b);
        net_cut_pair(w, a, b, 0);
    } else if (f < 76) {
        sim_at(w, w->now, EV_HEAL_LINKS, -1, 0, 0, 0);
    } else if (f < 79) {
        /* A node leaves the cluster cleanly and joins again later (cluster-leave, then
         * cluster-join through any node): peers drop its entries with reason node_left and
         * do not redial it meanwhile. */
        a = (int)sim_below(&w->rng, (uint64_t)w->n);
        /* One leave per seed: two nodes out at once may rejoin through each other and make
         * a cluster of their own, which is what those commands ask for (seed 5735), not
         * the single cluster the final checks expect. */
        if (!w->nodes[a].core || w->nodes[a].left || up_count(w) < 2 || w->leaves)
            return;
        w->leaves++;
        sim_node_leave(w, a);
        sim_at(w, w->now + sim_range(&w->rng, 100, 5000), EV_REJOIN, a, w->nodes[a].inc, 0,
               0);
    } else if (f < 82) {
        /* A wall clock is stepped (NTP): HLC stamps must not depend on it being monotonic. */
        a = (int)sim_below(&w->rng, (uint64_t)w->n);
        w->nodes[a].skew += (int64_t)sim_range(&w->rng, 0, 6000) - 3000;
        sim_log(w, "n%d's wall clock steps to skew %lld ms", a, (long long)w->nodes[a].skew);
    } else {
        a = (int)sim_below(&w->rng, (uint64_t)w->n);
        if (!w->nodes[a].core || up_count(w) < 2)
            return;
        sim_node_crash(w, a, w->cluster && sim_pct(&w->rng, 40));
        sim_at(w, w->now + sim_range(&w->rng, 100, 5000), EV_RESTART, a, 0, 0, 0);
    }
}
