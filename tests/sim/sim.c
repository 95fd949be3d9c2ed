/* sim.c: the simulated world: nodes (cores with names, incarnations and skewed wall
 * clocks), the shared monotonic clock, the run loop over the event queue, and the shell's
 * job of applying inputs and carrying out every output of a core (frames to clients and
 * peers, closes, dials). One seed decides everything; see sim.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static const char *const scope_names[SIM_NSCOPES] = {"default", "s1"};

const char *sim_scope_name(int s) { return scope_names[s]; }

void sim_fail(struct sim_world *w, const char *fmt, ...)
{
    if (w->failed)
        return;
    w->failed = 1;
    int n = snprintf(w->fail, sizeof w->fail, "t=%llu ms: ", (unsigned long long)w->now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->fail + n, sizeof w->fail - (size_t)n, fmt, ap);
    va_end(ap);
}

void sim_log(struct sim_world *w, const char *fmt, ...)
{
    if (!w->verbose)
        return;
    printf("[%7llu] ", (unsigned long long)w->now);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

void sim_at(struct sim_world *w, uint64_t at, int kind, int node, uint64_t a, uint64_t b,
            uint64_t c)
{
    struct sim_event e = {.at = at, .kind = kind, .node = node, .a = a, .b = b, .c = c};
    queue_push(&w->q, &e);
}

uint64_t sim_new_conn(struct sim_world *w, int kind, int node, size_t idx, int side)
{
    if (w->nconns == w->capconns) {
        w->capconns = w->capconns ? 2 * w->capconns : 64;
        w->conns = realloc(w->conns, w->capconns * sizeof *w->conns);
        if (!w->conns)
            abort();
    }
    struct sim_connref *r = &w->conns[w->nconns++];
    r->kind = kind;
    r->node = node;
    r->idx = idx;
    r->side = side;
    return w->nconns; /* ids start at 1 and are never reused */
}

struct sim_connref *sim_conn(struct sim_world *w, uint64_t conn)
{
    return conn >= 1 && conn <= w->nconns ? &w->conns[conn - 1] : NULL;
}

int sim_node_up(const struct sim_world *w, int i) { return w->nodes[i].core != NULL; }

/* The digest of every output proves replays identical (--twice); 8 bytes per step. */
static void digest(struct sim_world *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = w->digest;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, b + i, 8);
        h = (h ^ x) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    w->digest = h;
}

/* route carries out one output of node i's core. It never applies an input itself (the
 * outputs arena is shared): anything that needs one is scheduled. */
static void route(struct sim_world *w, int i, const struct rs_output *o, const uint8_t *bytes)
{
    uint64_t kind = o->kind;
    digest(w, &kind, sizeof kind);
    digest(w, &o->conn, sizeof o->conn);
    digest(w, bytes + o->off, o->len);
    if (o->kind == RS_OUT_LOG || o->kind == RS_OUT_LOG_LEVEL) {
        if (w->verbose > 1 && o->kind == RS_OUT_LOG)
            sim_log(w, "n%d log: %.*s", i, (int)o->len, (const char *)bytes + o->off);
        return;
    }
    if (o->kind == RS_OUT_DIAL) {
        net_dial_request(w, i, bytes + o->off, o->len);
        return;
    }
    if (o->kind == RS_OUT_UNDIAL || o->kind == RS_OUT_UNDIAL_LEFT) {
        net_undial_request(w, i, bytes + o->off, o->len, o->kind == RS_OUT_UNDIAL_LEFT);
        return;
    }
    struct sim_connref *r = sim_conn(w, o->conn);
    if (!r || r->node != i) {
        sim_fail(w, "n%d: output kind %d for conn %llu, which is not one of its connections", i,
                 (int)o->kind, (unsigned long long)o->conn);
        return;
    }
    if (r->kind == CONN_CLIENT) {
        struct sim_client *c = &w->cl[r->idx];
        if (!c->alive) {
            sim_fail(w, "n%d: output for client conn %llu after it was closed", i,
                     (unsigned long long)o->conn);
            return;
        }
        if (o->kind == RS_OUT_SEND) {
            client_deliver(w, r->idx, bytes + o->off, o->len);
            /* The observer's reads draw nothing from the PRNG: checks never change the
             * schedule, so a seed means the same run whatever checks are enabled. */
            uint64_t later = c->observer ? 0 : sim_below(&w->rng, 3);
            sim_at(w, w->now + later, EV_FLUSHED, i, o->conn, o->len, w->nodes[i].inc);
        } else if (o->kind == RS_OUT_CLOSE) {
            client_closed_by_node(w, r->idx, (const char *)bytes + o->off, o->len);
        }
        return;
    }
    if (o->kind == RS_OUT_SEND) {
        net_send(w, r->idx, r->side, bytes + o->off, o->len);
        sim_at(w, w->now + sim_below(&w->rng, 3), EV_FLUSHED, i, o->conn, o->len,
               w->nodes[i].inc);
    } else if (o->kind == RS_OUT_CLOSE) {
        sim_log(w, "n%d closes peer conn %llu: %.*s", i, (unsigned long long)o->conn,
                (int)o->len, (const char *)bytes + o->off);
        net_close(w, r->idx, r->side);
    }
}

int sim_apply(struct sim_world *w, int i, struct rs_input *in)
{
    struct sim_node *n = &w->nodes[i];
    if (!n->core || w->failed)
        return -1;
    if (w->in_apply) {
        sim_fail(w, "simulator bug: nested apply");
        return -1;
    }
    in->now_ms = w->now;
    in->wall_ms = (uint64_t)((int64_t)(SIM_WALL_BASE + w->now) + n->skew);
    rs_outputs_reset(&w->out);
    w->in_apply = 1;
    int rc = rs_core_apply(n->core, in, &w->out);
    if (rc != 0) {
        w->in_apply = 0;
        sim_fail(w, "n%d: rs_core_apply returned %d (input kind %d)", i, rc, (int)in->kind);
        return -1;
    }
    for (size_t k = 0; k < w->out.n && !w->failed; k++)
        route(w, i, &w->out.v[k], w->out.bytes.data);
    w->in_apply = 0;
    return w->failed ? -1 : 0;
}

/* The custom conflict policy of the simulated cluster: the claim with the smaller metadata
 * wins (a resolver may look at anything in the claims, as long as every node decides alike). */
static int sim_resolve(const struct rs_claim_view *a, const struct rs_claim_view *b)
{
    size_t n = a->meta_len < b->meta_len ? a->meta_len : b->meta_len;
    int r = n ? memcmp(a->meta, b->meta, n) : 0;
    if (r)
        return r;
    return (a->meta_len > b->meta_len) - (a->meta_len < b->meta_len);
}

void sim_node_start(struct sim_world *w, int i)
{
    struct sim_node *n = &w->nodes[i];
    n->inc = sim_next(&w->rng) | 1;
    n->scopes = n->cfg_scopes;
    n->left = 0;
    const char *scopes[SIM_NSCOPES];
    size_t ns = 0;
    for (int s = 1; s < SIM_NSCOPES; s++)
        if ((n->scopes & (1u << s)) && !(s == 1 && w->s1_opts))
            scopes[ns++] = scope_names[s]; /* s1 with options: created below */
    n->s1_made = (n->scopes & 2u) != 0;
    struct rs_core_config cfg = {
        .node_name = n->name,
        .incarnation = n->inc,
        .hash_seed = sim_next(&w->rng),
        .now_ms = w->now,
        .limits = w->lim,
        .listen_addr = n->addr,
        .heartbeat_ms = w->heartbeat_ms,
        .down_after_ms = w->down_after_ms,
        .scopes = scopes,
        .n_scopes = ns,
        .policy = w->policy,
        .resolver = sim_resolve,
        .priorities = w->prio,
        .n_priorities = (size_t)w->n,
        .admin_uid = 1000, /* the observers' user: they ask for cluster-leave / -join */
    };
    free(n->shm); /* a restart publishes into a fresh region, as rosterd does */
    n->shm = region_new();
    cfg.shm_base = n->shm;
    cfg.shm_size = n->shm ? SIM_SHM_BYTES : 0;
    n->core = rs_core_new(&cfg);
    if (!n->core) {
        sim_fail(w, "n%d: rs_core_new failed", i);
        return;
    }
    sim_log(w, "n%d starts: incarnation %016llx skew %lld ms scopes 0x%x", i,
            (unsigned long long)n->inc, (long long)n->skew, n->scopes);
    memset(n->live, 0, sizeof n->live);
    memset(n->dialing, 0, sizeof n->dialing);
    memset(n->want, 0, sizeof n->want);
    memset(n->seedt, 0, sizeof n->seedt);
    n->observer = client_open(w, i, 1);
    if (w->s1_opts && (n->scopes & 2u)) {
        /* a configured scope has no options: create s1 with them, as an operator would */
        struct rs_msg m = {.type = RS_MSG_SCOPE_CREATE, .opts = w->s1_opts,
                           .scope = rs_bytes_str(scope_names[1])};
        w->obs.active = 1;
        w->obs.got_reply = 0;
        client_request(w, n->observer, &m);
        w->obs.active = 0;
        if (!w->failed && (!w->obs.got_reply || w->obs.status != 0))
            sim_fail(w, "n%d: creating s1 with options 0x%x failed", i, (unsigned)w->s1_opts);
    }
    sim_at(w, w->now + sim_range(&w->rng, 1, 100), EV_TICK, i, 0, 0, n->inc);
    if (w->cluster && n->seed >= 0) {
        n->seedt[n->seed] = 1;
        net_want(w, i, n->seed);
    }
}

/* admin_request sends m from node i's observer (the node's admin user) and returns the
 * status of its reply. */
static int admin_request(struct sim_world *w, int i, struct rs_msg *m)
{
    w->obs.got_reply = 0;
    client_request(w, w->nodes[i].observer, m);
    if (!w->failed && !w->obs.got_reply)
        sim_fail(w, "n%d did not answer an admin request (type %u) at once", i,
                 (unsigned)m->type);
    return w->obs.status;
}

void sim_node_leave(struct sim_world *w, int i)
{
    struct sim_node *n = &w->nodes[i];
    if (!n->core || n->left)
        return;
    sim_log(w, "n%d leaves the cluster (cluster-leave)", i);
    struct rs_msg m = {.type = RS_MSG_CLUSTER_LEAVE};
    if (admin_request(w, i, &m) != 0 && !w->failed)
        sim_fail(w, "n%d: CLUSTER_LEAVE refused: %d", i, w->obs.status);
    n->left = 1;
    inv_step(w, i, 1);
}

void sim_node_rejoin(struct sim_world *w, int i)
{
    struct sim_node *n = &w->nodes[i];
    int j = (int)sim_below(&w->rng, (uint64_t)w->n - 1);
    if (j >= i)
        j++;
    sim_log(w, "n%d joins the cluster again through n%d (cluster-join)", i, j);
    struct rs_msg m = {.type = RS_MSG_CLUSTER_JOIN};
    rs_msg_cluster_join_addr_set(&m, rs_bytes_str(w->nodes[j].addr));
    if (admin_request(w, i, &m) != 0 && !w->failed)
        sim_fail(w, "n%d: CLUSTER_JOIN refused: %d", i, w->obs.status);
    n->left = 0;
    inv_step(w, i, 1);
}

void sim_node_crash(struct sim_world *w, int i, int silent)
{
    struct sim_node *n = &w->nodes[i];
    if (!n->core)
        return;
    sim_log(w, "n%d crashes (%s)", i, silent ? "silent: peers must time out" : "connections reset");
    rs_core_free(n->core);
    n->core = NULL;
    n->crashed_at = w->now;
    for (size_t c = 0; c < w->ncl; c++)
        if (w->cl[c].alive && w->cl[c].node == i)
            client_node_crashed(w, c);
    net_node_crashed(w, i, silent);
}

static void on_event(struct sim_world *w, const struct sim_event *e)
{
    struct sim_node *n = e->node >= 0 ? &w->nodes[e->node] : NULL;
    switch (e->kind) {
    case EV_TICK: {
        if (!n->core || n->inc != e->c)
            return;
        struct rs_input in = {.kind = RS_IN_TICK};
        sim_apply(w, e->node, &in);
        inv_step(w, e->node, sim_pct(&w->rng, 10));
        sim_at(w, w->now + sim_range(&w->rng, 20, 120), EV_TICK, e->node, 0, 0, n->inc);
        return;
    }
    case EV_FLUSHED: {
        if (!n->core || n->inc != e->c)
            return;
        struct sim_connref *r = sim_conn(w, e->a);
        if (r->kind == CONN_CLIENT && !w->cl[r->idx].alive)
            return;
        if (r->kind == CONN_PEER) {
            struct sim_pconn *p = &w->pc[r->idx];
            if (p->gone[r->side] || p->closed[r->side])
                return;
        }
        struct rs_input in = {.kind = RS_IN_CLIENT_FLUSHED, .conn = e->a, .n_bytes = e->b};
        sim_apply(w, e->node, &in);
        return;
    }
    case EV_CLIENT_GONE: {
        if (!n->core || n->inc != e->c)
            return;
        struct rs_input in = {.kind = RS_IN_CLIENT_GONE, .conn = w->cl[e->a].conn};
        sim_apply(w, e->node, &in);
        inv_step(w, e->node, 1);
        return;
    }
    case EV_ACTION:
        if (w->draining)
            return;
        if (n->core)
            work_action(w, e->node);
        sim_at(w, w->now + sim_range(&w->rng, 5, 60), EV_ACTION, e->node, 0, 0, 0);
        return;
    case EV_FAULT:
        if (w->draining)
            return;
        work_fault(w);
        sim_at(w, w->now + sim_range(&w->rng, 200, 200 + 40u * (101 - w->fault_pct)), EV_FAULT,
               -1, 0, 0, 0);
        return;
    case EV_RESTART:
        if (n->core)
            return;
        n->restarts++;
        if (sim_pct(&w->rng, 30))
            n->skew = (int64_t)sim_range(&w->rng, 0, 6000) - 3000; /* the clock was stepped */
        sim_node_start(w, e->node);
        return;
    case EV_HEAL_LINKS:
        net_heal(w);
        return;
    case EV_REJOIN:
        if (n->core && n->inc == e->a && n->left)
            sim_node_rejoin(w, e->node);
        return;
    default:
        net_on_event(w, e);
        return;
    }
}

int sim_nodes_lo = 3, sim_nodes_hi = 5;

static void setup(struct sim_world *w, uint64_t seed, int verbose, int cluster)
{
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->verbose = verbose;
    w->cluster = cluster;
    w->rng.s = seed * 0x2545f4914f6cdd1dull + 0x1234567;
    w->digest = 0xcbf29ce484222325ull;
    rs_outputs_init(&w->out);
    rs_limits_default(&w->lim);
    w->dlim = w->lim;
    w->dlim.name_max = 0;
    w->now = 1000;
    w->n = (int)sim_range(&w->rng, (uint64_t)sim_nodes_lo, (uint64_t)sim_nodes_hi);
    w->heartbeat_ms = (uint32_t)sim_range(&w->rng, 100, 500);
    w->down_after_ms = w->heartbeat_ms * (uint32_t)sim_range(&w->rng, 4, 8);
    /* A failure detector must outlast the healed network's worst in-order delivery delay
     * (a 500 ms frame plus the frames queued behind it on the same link), or it declares
     * live nodes down forever and nothing can settle (seed 20214 drew 404 ms). */
    if (w->down_after_ms < 1200)
        w->down_after_ms = 1200;
    /* An entry of a dead pid may outlive it by: the failure detector's silence, a tick, and
     * the worst delivery delays of the frames involved, plus slack. */
    w->ghost_bound_ms = w->down_after_ms + 2u * w->heartbeat_ms + 2u * 500u + 1500u;
    w->work_until = w->now + sim_range(&w->rng, 4000, 20000);
    w->fault_pct = (unsigned)sim_below(&w->rng, 101);
    w->policy = (enum rs_conflict_policy)sim_below(&w->rng, 4);
    /* scope s1's options (issue 11 items 9, 10): duplicate members on even seeds, unique
     * per node on one seed in four, none on the others */
    w->s1_opts = seed % 2 == 0   ? ROSTER_SCOPE_DUPLICATE_MEMBERS
                 : seed % 4 == 1 ? ROSTER_SCOPE_UNIQUE_PER_NODE
                                 : 0;
    for (int i = 0; i < w->n; i++) {
        struct sim_node *n = &w->nodes[i];
        snprintf(n->name, sizeof n->name, "n%u", (unsigned)(uint8_t)i); /* i < 20 */
        snprintf(n->addr, sizeof n->addr, "10.0.0.%d:4370", i + 1);
        n->skew = (int64_t)sim_range(&w->rng, 0, 6000) - 3000;
        n->cfg_scopes = 1u | (sim_pct(&w->rng, 60) ? 2u : 0u);
        w->prio[i].node = n->name;
        w->prio[i].priority = (int)sim_below(&w->rng, 3);
        n->seed = cluster ? (i == 0 ? 1 : 0) : -1;
    }
    sim_log(w, "seed %llu: %d nodes, heartbeat %u ms, down after %u ms, workload until %llu ms, "
               "faults %u%%, conflict policy %d",
            (unsigned long long)seed, w->n, w->heartbeat_ms, w->down_after_ms,
            (unsigned long long)w->work_until, w->fault_pct, (int)w->policy);
    for (int i = 0; i < w->n; i++) {
        sim_node_start(w, i);
        sim_at(w, w->now + sim_range(&w->rng, 1, 50), EV_ACTION, i, 0, 0, 0);
    }
    sim_at(w, w->now + sim_range(&w->rng, 300, 3000), EV_FAULT, -1, 0, 0, 0);
}

static void teardown(struct sim_world *w)
{
    for (int i = 0; i < w->n; i++) {
        rs_core_free(w->nodes[i].core);
        free(w->nodes[i].shm);
        w->nodes[i].shm = NULL;
    }
    for (size_t c = 0; c < w->ncl; c++)
        client_free(&w->cl[c]);
    free(w->cl);
    net_free(w);
    free(w->conns);
    free(w->pids);
    free(w->pidx);
    free(w->expiries);
    set_free(&w->obs.items);
    set_free(&w->scratch_view);
    set_free(&w->scratch_groups);
    set_free(&w->mwrites);
    queue_free(&w->q);
    rs_outputs_fini(&w->out);
}

static void begin_drain(struct sim_world *w)
{
    w->draining = 1;
    sim_log(w, "workload ends: heal everything, restart crashed nodes, drain");
    net_heal(w);
    for (int i = 0; i < w->n; i++) {
        if (!w->nodes[i].core)
            sim_at(w, w->now + sim_range(&w->rng, 0, 200), EV_RESTART, i, 0, 0, 0);
        else if (w->nodes[i].left)
            sim_at(w, w->now + sim_range(&w->rng, 0, 200), EV_REJOIN, i, w->nodes[i].inc, 0,
                   0);
    }
}

int sim_run(uint64_t seed, int verbose, int cluster, uint64_t *digest_out)
{
    struct sim_world *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    setup(w, seed, verbose, cluster);
    uint64_t drain_at = 0, next_check = 0, converged = 0;
    struct sim_event e;
    while (!w->failed && queue_pop(&w->q, &e)) {
        if (e.at > w->now)
            w->now = e.at;
        w->steps++;
        if (!w->draining && w->now >= w->work_until) {
            begin_drain(w);
            drain_at = w->now;
            next_check = w->now + 1000;
        }
        on_event(w, &e);
        if (w->failed || !w->draining || w->now < next_check)
            continue;
        next_check = w->now + 250;
        if (inv_converged(w)) {
            converged = 1;
            break;
        }
        if (w->now > drain_at + 120000)
            sim_fail(w, "no convergence within 120 s of healing: %s", w->why);
    }
    if (!w->failed && !converged)
        sim_fail(w, "event queue ran dry before convergence");
    if (!w->failed)
        inv_final(w);
    int failed = w->failed;
    if (failed) {
        char nodes[32] = "";
        if (sim_nodes_lo != 3 || sim_nodes_hi != 5)
            snprintf(nodes, sizeof nodes, " --nodes %d-%d", sim_nodes_lo, sim_nodes_hi);
        printf("seed %llu FAILED: %s\n  replay: build/bin/roster_sim --seed %llu%s%s --verbose\n",
               (unsigned long long)seed, w->fail, (unsigned long long)seed,
               cluster ? "" : " --no-cluster", nodes);
    } else if (verbose) {
        printf("seed %llu passed: %llu steps, %llu ms simulated, %llu peer frames, %llu "
               "conflict notices, %llu handoffs, %llu updates, %llu scope metadata writes, "
               "%llu dial races, %llu faults, digest %016llx\n",
               (unsigned long long)seed, (unsigned long long)w->steps,
               (unsigned long long)w->now, (unsigned long long)w->n_peer_frames,
               (unsigned long long)w->n_conflicts, (unsigned long long)w->n_handoffs,
               (unsigned long long)w->n_updates, (unsigned long long)w->n_meta_writes,
               (unsigned long long)w->n_races,
               (unsigned long long)w->n_faults, (unsigned long long)w->digest);
        printf("  leases %llu, expiries %llu, renews %llu, exit reasons seen %llu\n",
               (unsigned long long)w->n_leases, (unsigned long long)w->n_expiries,
               (unsigned long long)w->n_renews, (unsigned long long)w->n_exits);
    }
    if (digest_out)
        *digest_out = w->digest;
    teardown(w);
    free(w);
    return failed;
}
