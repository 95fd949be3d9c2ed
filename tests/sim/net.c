/* net.c: the simulated network between nodes, modeled on what TCP can and cannot do.
 *
 * A peer connection delivers its frames in order, without loss or duplication, each after a
 * random delay (so frames of different connections interleave in any order). Failures only
 * ever cut a stream short: a broken connection loses what was in flight and both sides get
 * PEER_GONE at independent times. A partition is either a reset (connections break at
 * once) or silent (frames stop flowing, as when packets are dropped, and TCP would deliver
 * them if the partition healed before a failure detector gave up); one-way partitions stall
 * one direction only, so the core's heartbeat timeout is what notices them. Dials follow the
 * shell's rules in docs/CLUSTER.md: keep a connection to every address the core asked for,
 * redial with backoff after failure or PEER_GONE, succeed only across a healed link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "wire/reader.h"

#define STALL_FOREVER 2 /* the sender crashed silently: nothing will ever come */

static int is_heartbeat(uint8_t type) { return type == RS_MSG_P_PING || type == RS_MSG_P_PONG; }

static uint64_t frame_delay(struct sim_world *w)
{
    return sim_pct(&w->rng, 5) ? sim_range(&w->rng, 50, 500) : sim_range(&w->rng, 1, 20);
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a > b ? a : b;
    return m > c ? m : c;
}

static void schedule_dial(struct sim_world *w, int from, int to, uint64_t delay)
{
    uint64_t gen = ++w->nodes[from].dial_gen[to];
    sim_at(w, w->now + delay, EV_DIAL, from, 0, (uint64_t)to, gen);
}

static void dial_later(struct sim_world *w, int from, int to)
{
    struct sim_node *n = &w->nodes[from];
    if (!n->backoff[to])
        n->backoff[to] = 100;
    uint64_t d = n->backoff[to] + sim_below(&w->rng, n->backoff[to] / 2 + 1);
    n->backoff[to] = n->backoff[to] * 2 > 5000 ? 5000 : n->backoff[to] * 2;
    schedule_dial(w, from, to, d);
}

void net_want(struct sim_world *w, int from, int to)
{
    struct sim_node *n = &w->nodes[from];
    if (n->want[to])
        return;
    n->want[to] = 1;
    n->backoff[to] = 100;
    if (!n->live[to] && !n->dialing[to])
        schedule_dial(w, from, to, sim_below(&w->rng, 50));
}

void net_dial_request(struct sim_world *w, int node, const uint8_t *text, size_t len)
{
    char buf[128];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, text, n);
    buf[n] = 0;
    char *sp = strchr(buf, ' ');
    if (!sp) { /* cluster-join: a bare address, the name learned at the handshake */
        for (int j = 0; j < w->n; j++)
            if (j != node && strcmp(w->nodes[j].addr, buf) == 0) {
                sim_log(w, "n%d asks to dial %s", node, buf);
                w->nodes[node].seedt[j] = 1; /* dial.c keeps a bare address as a seed */
                net_want(w, node, j);
                return;
            }
        sim_fail(w, "n%d: DIAL to unknown address '%s'", node, buf);
        return;
    }
    *sp = 0;
    for (int j = 0; j < w->n; j++) {
        if (strcmp(w->nodes[j].addr, sp + 1) != 0)
            continue;
        if (strcmp(w->nodes[j].name, buf) != 0 || j == node) {
            sim_fail(w, "n%d: DIAL %s %s names the wrong node", node, buf, sp + 1);
            return;
        }
        sim_log(w, "n%d asks to dial %s", node, buf);
        net_want(w, node, j);
        return;
    }
    sim_fail(w, "n%d: DIAL to unknown address '%s'", node, sp + 1);
}

void net_undial_request(struct sim_world *w, int node, const uint8_t *text, size_t len,
                        int keep_seeds)
{
    char buf[128];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, text, n);
    buf[n] = 0;
    char *sp = strchr(buf, ' ');
    const char *addr = sp ? sp + 1 : "";
    if (sp)
        *sp = 0;
    struct sim_node *x = &w->nodes[node];
    for (int j = 0; j < w->n; j++) {
        if (j == node || (n && strcmp(w->nodes[j].name, buf) != 0 &&
                          strcmp(w->nodes[j].addr, addr) != 0))
            continue;
        if (keep_seeds && x->seedt[j]) {
            if (x->want[j])
                sim_log(w, "n%d: n%d left, still dialed (a seed)", node, j);
            continue;
        }
        if (x->want[j])
            sim_log(w, "n%d no longer dials n%d", node, j);
        x->want[j] = 0;
        x->seedt[j] = 0;
        x->dial_gen[j]++; /* a dial scheduled for it does nothing */
    }
}

static size_t new_pconn(struct sim_world *w)
{
    if (w->npc == w->cappc) {
        w->cappc = w->cappc ? 2 * w->cappc : 32;
        w->pc = realloc(w->pc, w->cappc * sizeof *w->pc);
        if (!w->pc)
            abort();
    }
    memset(&w->pc[w->npc], 0, sizeof w->pc[w->npc]);
    return w->npc++;
}

static void establish(struct sim_world *w, int from, int to)
{
    size_t k = new_pconn(w);
    struct sim_pconn *p = &w->pc[k];
    p->node[0] = from;
    p->node[1] = to;
    for (int s = 0; s < 2; s++) {
        p->inc[s] = w->nodes[p->node[s]].inc;
        p->id[s] = sim_new_conn(w, CONN_PEER, p->node[s], k, s);
        p->up_at[s] = w->now + sim_range(&w->rng, 1, 30); /* handshake */
    }
    /* No frame reaches a side before its shell has reported PEER_UP. */
    p->d[0].last_at = p->up_at[1];
    p->d[1].last_at = p->up_at[0];
    w->nodes[from].dialing[to] = 1;
    if (w->nodes[to].dialing[from])
        w->n_races++;
    sim_log(w, "n%d dials n%d: conn %llu/%llu", from, to, (unsigned long long)p->id[0],
            (unsigned long long)p->id[1]);
    sim_at(w, p->up_at[1], EV_PEER_UP, -1, k, 1, 0);
    sim_at(w, p->up_at[0], EV_PEER_UP, -1, k, 0, 0);
}

static void on_dial(struct sim_world *w, int from, int to, uint64_t gen)
{
    struct sim_node *n = &w->nodes[from];
    if (!n->core || gen != n->dial_gen[to] || !n->want[to] || n->live[to] || n->dialing[to])
        return;
    if (sim_node_up(w, to) && !w->cut[from][to] && !w->cut[to][from])
        establish(w, from, to);
    else
        dial_later(w, from, to);
}

static void schedule_gone(struct sim_world *w, size_t k, int s, uint64_t at)
{
    struct sim_pconn *p = &w->pc[k];
    if (p->gone_sched[s] || p->gone[s])
        return;
    p->gone_sched[s] = 1;
    sim_at(w, at > p->up_at[s] ? at : p->up_at[s], EV_PEER_GONE, -1, k, (uint64_t)s, 0);
}

/* A side whose node is not the incarnation the connection was made with never hears of it. */
static int side_live(struct sim_world *w, struct sim_pconn *p, int s)
{
    return w->nodes[p->node[s]].core && w->nodes[p->node[s]].inc == p->inc[s] && !p->gone[s];
}

static void on_peer_up(struct sim_world *w, size_t k, int s)
{
    struct sim_pconn *p = &w->pc[k];
    int self = p->node[s], other = p->node[1 - s];
    if (p->broken || p->closed[s] || !side_live(w, p, s)) {
        /* The handshake did not complete on this side. */
        if (s == 0 && w->nodes[self].inc == p->inc[0] && w->nodes[self].dialing[other]) {
            w->nodes[self].dialing[other] = 0;
            dial_later(w, self, other);
        }
        return;
    }
    p->up[s] = 1;
    w->nodes[self].live[other]++;
    if (s == 0) {
        w->nodes[self].dialing[other] = 0;
        w->nodes[self].backoff[other] = 100;
    }
    struct sim_node *o = &w->nodes[other];
    struct rs_input in = {.kind = RS_IN_PEER_UP,
                          .conn = p->id[s],
                          .peer_name = rs_bytes_str(o->name),
                          .peer_inc = p->inc[1 - s],
                          .peer_addr = rs_bytes_str(o->addr),
                          .dialed = s == 0};
    sim_log(w, "n%d PEER_UP conn %llu: n%d inc %016llx%s", self, (unsigned long long)p->id[s],
            other, (unsigned long long)p->inc[1 - s], s == 0 ? " (dialed)" : "");
    sim_apply(w, self, &in);
    inv_step(w, self, 1);
}

static void on_peer_gone(struct sim_world *w, size_t k, int s)
{
    struct sim_pconn *p = &w->pc[k];
    if (!side_live(w, p, s))
        return;
    p->gone[s] = 1;
    if (!p->up[s])
        return;
    int self = p->node[s], other = p->node[1 - s];
    struct sim_node *n = &w->nodes[self];
    n->live[other]--;
    sim_log(w, "n%d PEER_GONE conn %llu (n%d)", self, (unsigned long long)p->id[s], other);
    struct rs_input in = {.kind = RS_IN_PEER_GONE, .conn = p->id[s]};
    sim_apply(w, self, &in);
    inv_step(w, self, 1);
    if (n->core && n->want[other] && !n->live[other] && !n->dialing[other])
        dial_later(w, self, other);
}

void net_send(struct sim_world *w, size_t k, int s, const uint8_t *bytes, size_t len)
{
    struct sim_pconn *p = &w->pc[k];
    if (p->gone[s] || p->closed[s] || !p->up[s]) {
        sim_fail(w, "n%d sent on peer conn %llu after closing it or after PEER_GONE",
                 p->node[s], (unsigned long long)p->id[s]);
        return;
    }
    struct sim_dir *d = &p->d[s];
    /* A SEND carries whole frames: split them with the node's frame reader, in place. */
    struct rs_wire_reader rd;
    rs_wire_reader_init(&rd, w->lim.frame_max, 0);
    rs_wire_reader_lend(&rd, bytes, len);
    const uint8_t *fr;
    size_t flen;
    int res;
    while ((res = rs_wire_reader_next(&rd, &fr, &flen)) == RS_WIRE_OK) {
        uint8_t type = fr[4];
        w->n_peer_frames++;
        if (!is_heartbeat(type))
            w->last_busy = w->now;
        if (p->broken || d->stalled == STALL_FOREVER)
            continue; /* lost with the connection */
        if (d->n == d->cap) {
            d->cap = d->cap ? 2 * d->cap : 16;
            d->v = realloc(d->v, d->cap * sizeof *d->v);
            if (!d->v)
                abort();
        }
        struct sim_frame *f = &d->v[d->n++];
        f->p = malloc(flen);
        if (!f->p)
            abort();
        memcpy(f->p, fr, flen);
        f->len = (uint32_t)flen;
        f->at = max3(d->last_at, w->now + frame_delay(w), 0);
        d->last_at = f->at;
        if (!d->stalled)
            sim_at(w, f->at, EV_PUMP, -1, k, (uint64_t)s, 0);
    }
    if (res != RS_WIRE_NEED_MORE || rs_wire_reader_buffered(&rd) != 0)
        sim_fail(w, "n%d sent a partial or oversized peer frame", p->node[s]);
    rs_wire_reader_reset(&rd);
    rs_wire_reader_fini(&rd);
}

static void drop_frames(struct sim_dir *d)
{
    for (size_t i = d->head; i < d->n; i++)
        free(d->v[i].p);
    d->head = d->n = 0;
}

static void on_pump(struct sim_world *w, size_t k, int dir)
{
    int r = 1 - dir;
    for (;;) {
        struct sim_pconn *p = &w->pc[k];
        struct sim_dir *d = &p->d[dir];
        if (p->broken) {
            drop_frames(d);
            return;
        }
        if (d->stalled || d->head == d->n || d->v[d->head].at > w->now)
            return;
        struct sim_frame f = d->v[d->head++];
        if (d->head == d->n)
            d->head = d->n = 0;
        if (p->closed[r] || !p->up[r] || !side_live(w, p, r)) {
            free(f.p);
            continue;
        }
        struct rs_msg m;
        int rc = rs_wire_decode(f.p, f.len, &w->dlim, &m);
        if (rc != RS_WIRE_OK) {
            sim_fail(w, "n%d sent a peer frame that does not decode: %s", p->node[dir],
                     rs_wire_strerror(rc));
            free(f.p);
            return;
        }
        if (!is_heartbeat(m.type))
            w->last_busy = w->now;
        if (w->verbose > 1 || (w->verbose && !is_heartbeat(m.type)))
            sim_log(w, "n%d <- n%d frame type %u (%u bytes)", p->node[r], p->node[dir],
                    (unsigned)m.type, f.len);
        int node = p->node[r];
        struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = p->id[r], .msg = &m};
        sim_apply(w, node, &in);
        free(f.p);
        inv_step(w, node, !is_heartbeat(m.type));
        if (w->failed)
            return;
    }
}

/* Re-time the frames waiting in a direction that was silent and may flow again. */
static void unstall(struct sim_world *w, size_t k, int dir)
{
    struct sim_pconn *p = &w->pc[k];
    struct sim_dir *d = &p->d[dir];
    if (d->stalled != 1)
        return;
    d->stalled = 0;
    if (p->broken)
        return;
    d->last_at = w->now;
    for (size_t i = d->head; i < d->n; i++) {
        d->v[i].at = max3(d->last_at, w->now + frame_delay(w), 0);
        d->last_at = d->v[i].at;
        sim_at(w, d->v[i].at, EV_PUMP, -1, k, (uint64_t)dir, 0);
    }
    if (p->closed[dir]) /* its FIN follows the frames */
        schedule_gone(w, k, 1 - dir, d->last_at + sim_range(&w->rng, 1, 10));
}

void net_close(struct sim_world *w, size_t k, int s)
{
    struct sim_pconn *p = &w->pc[k];
    if (p->closed[s])
        return;
    p->closed[s] = 1;
    schedule_gone(w, k, s, w->now);
    int o = 1 - s;
    if (!p->broken && !p->d[s].stalled)
        schedule_gone(w, k, o, max3(p->d[s].last_at, w->now, 0) + sim_range(&w->rng, 1, 10));
}

static void break_conn(struct sim_world *w, size_t k)
{
    struct sim_pconn *p = &w->pc[k];
    if (p->broken)
        return;
    p->broken = 1;
    for (int s = 0; s < 2; s++)
        if (p->up[s])
            schedule_gone(w, k, s, w->now + sim_below(&w->rng, 300));
}

static int conn_between(const struct sim_pconn *p, int a, int b)
{
    return (p->node[0] == a && p->node[1] == b) || (p->node[0] == b && p->node[1] == a);
}

static int conn_done(struct sim_world *w, const struct sim_pconn *p)
{
    (void)w;
    return p->broken || ((p->gone[0] || p->closed[0]) && (p->gone[1] || p->closed[1]));
}

/* Cut traffic from a to b on every connection between them: stall or break. */
static void cut_dir(struct sim_world *w, int a, int b, int silent)
{
    w->cut[a][b] = 1;
    for (size_t k = 0; k < w->npc; k++) {
        struct sim_pconn *p = &w->pc[k];
        if (!conn_between(p, a, b) || conn_done(w, p))
            continue;
        if (!silent) {
            break_conn(w, k);
            continue;
        }
        int dir = p->node[0] == a ? 0 : 1;
        if (!p->d[dir].stalled)
            p->d[dir].stalled = 1;
    }
}

void net_cut_pair(struct sim_world *w, int a, int b, int mode)
{
    if (mode == 0) { /* a reset: connections break, nothing stays cut */
        sim_log(w, "link n%d-n%d resets", a, b);
        for (size_t k = 0; k < w->npc; k++)
            if (conn_between(&w->pc[k], a, b) && !conn_done(w, &w->pc[k]))
                break_conn(w, k);
        return;
    }
    sim_log(w, "link n%d-n%d cut (%s)", a, b, mode == 2 ? "silent" : "reset");
    cut_dir(w, a, b, mode == 2);
    cut_dir(w, b, a, mode == 2);
}

void net_partition_clean(struct sim_world *w, uint32_t group_a, int silent)
{
    sim_log(w, "partition {%s%s%s%s%s} | rest (%s)", group_a & 1 ? "n0 " : "",
            group_a & 2 ? "n1 " : "", group_a & 4 ? "n2 " : "", group_a & 8 ? "n3 " : "",
            group_a & 16 ? "n4 " : "", silent ? "silent" : "reset");
    for (int i = 0; i < w->n; i++)
        for (int j = 0; j < w->n; j++)
            if (((group_a >> i) & 1) && !((group_a >> j) & 1)) {
                cut_dir(w, i, j, silent);
                cut_dir(w, j, i, silent);
            }
}

void net_partition_oneway(struct sim_world *w, int from, int to)
{
    sim_log(w, "one-way partition: frames n%d -> n%d dropped", from, to);
    cut_dir(w, from, to, 1);
}

void net_heal(struct sim_world *w)
{
    sim_log(w, "heal all links");
    memset(w->cut, 0, sizeof w->cut);
    for (size_t k = 0; k < w->npc; k++)
        for (int dir = 0; dir < 2; dir++)
            unstall(w, k, dir);
    /* Sometimes make both ends of a missing link dial at the same moment. */
    for (int i = 0; i < w->n; i++)
        for (int j = i + 1; j < w->n; j++) {
            struct sim_node *a = &w->nodes[i], *b = &w->nodes[j];
            if (!a->core || !b->core || !a->want[j] || !b->want[i] || a->live[j] ||
                b->live[i] || a->dialing[j] || b->dialing[i] || !sim_pct(&w->rng, 40))
                continue;
            uint64_t t = sim_below(&w->rng, 5);
            schedule_dial(w, i, j, t);
            schedule_dial(w, j, i, t + sim_below(&w->rng, 3));
        }
}

void net_node_crashed(struct sim_world *w, int node, int silent)
{
    uint64_t inc = w->nodes[node].inc;
    for (size_t k = 0; k < w->npc; k++) {
        struct sim_pconn *p = &w->pc[k];
        for (int s = 0; s < 2; s++) {
            if (p->node[s] != node || p->inc[s] != inc || conn_done(w, p))
                continue;
            p->closed[s] = 1;
            p->gone[s] = 1;
            drop_frames(&p->d[1 - s]);
            if (silent) {
                drop_frames(&p->d[s]);
                p->d[s].stalled = STALL_FOREVER;
            } else {
                p->broken = 1;
                if (p->up[1 - s])
                    schedule_gone(w, k, 1 - s, w->now + sim_range(&w->rng, 1, 100));
            }
        }
    }
    struct sim_node *n = &w->nodes[node];
    memset(n->live, 0, sizeof n->live);
    memset(n->dialing, 0, sizeof n->dialing);
    memset(n->want, 0, sizeof n->want);
    memset(n->seedt, 0, sizeof n->seedt);
    for (int j = 0; j < w->n; j++)
        n->dial_gen[j]++;
}

void net_on_event(struct sim_world *w, const struct sim_event *e)
{
    switch (e->kind) {
    case EV_PUMP:
        on_pump(w, (size_t)e->a, (int)e->b);
        break;
    case EV_PEER_UP:
        on_peer_up(w, (size_t)e->a, (int)e->b);
        break;
    case EV_PEER_GONE:
        on_peer_gone(w, (size_t)e->a, (int)e->b);
        break;
    case EV_DIAL:
        on_dial(w, e->node, (int)e->b, e->c);
        break;
    default:
        sim_fail(w, "simulator bug: unknown event kind %d", e->kind);
    }
}

int net_in_flight(const struct sim_world *w)
{
    for (int i = 0; i < w->n; i++)
        for (int j = 0; j < w->n; j++)
            if (w->nodes[i].dialing[j])
                return 1;
    for (size_t k = 0; k < w->npc; k++) {
        const struct sim_pconn *p = &w->pc[k];
        if (p->broken)
            continue;
        for (int dir = 0; dir < 2; dir++) {
            const struct sim_dir *d = &p->d[dir];
            if (p->closed[1 - dir] || p->gone[1 - dir])
                continue;
            for (size_t i = d->head; i < d->n; i++)
                if (!is_heartbeat(d->v[i].p[4]))
                    return 1;
        }
    }
    return 0;
}

void net_free(struct sim_world *w)
{
    for (size_t k = 0; k < w->npc; k++)
        for (int dir = 0; dir < 2; dir++) {
            drop_frames(&w->pc[k].d[dir]);
            free(w->pc[k].d[dir].v);
        }
    free(w->pc);
}
