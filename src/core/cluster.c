/* cluster.c: the peer connections and the life of other nodes (docs/CLUSTER.md): PEER_UP
 * with duplicate-connection and same-name checks, gossip of known nodes (P_NODE) and the
 * DIAL outputs it implies, heartbeats (P_PING / P_PONG) and failure detection on TICK, the
 * declaration of a node down (purge of its entries, DOWN node_down, NODE_DOWN events), the
 * NODES read, and rs_cluster_fail, which every peer-frame validator calls on a malformed or
 * unexpected frame: it closes the connection and declares the node down. The node records
 * themselves are a table (nodes.c); peer frames arrive through peer_in.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "core/calls.h"
#include "core/cluster.h"
#include "core/events.h"
#include "core/flow.h"
#include "core/monitors.h"
#include "core/nodes.h"
#include "core/notices.h"
#include "core/output.h"
#include "core/repl_in.h"
#include "core/resolver.h"
#include "core/scope.h"
#include "core/scopes.h"
#include "core/util.h"


static int peer_eq(const void *item, const void *key)
{
    return ((const struct rs_peer *)item)->conn == *(const uint64_t *)key;
}

static struct rs_peer *peer_find(const struct rs_core *c, uint64_t conn)
{
    return rs_map_get(&c->peers, rs_hash_u64(c->seed, conn), &conn, peer_eq);
}

static int valid_node_name(struct rs_bytes b)
{
    if (b.len == 0 || b.len > RS_NODE_NAME_MAX)
        return 0;
    for (uint32_t i = 0; i < b.len; i++) {
        uint8_t ch = b.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* --- setup and teardown ---------------------------------------------------------------- */

int rs_cluster_init(struct rs_core *c, const struct rs_core_config *cfg)
{
    rs_map_init(&c->nodes);
    rs_map_init(&c->peers);
    c->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms : RS_HEARTBEAT_MS_DEFAULT;
    c->down_after_ms = cfg->down_after_ms ? cfg->down_after_ms : RS_DOWN_AFTER_MS_DEFAULT;
    c->peer_monitors_max =
        cfg->peer_monitors_max ? cfg->peer_monitors_max : RS_PEER_MONITORS_MAX_DEFAULT;
    c->peer_entries_max =
        cfg->peer_entries_max ? cfg->peer_entries_max : RS_PEER_ENTRIES_MAX_DEFAULT;
    if (cfg->policy > RS_POLICY_CUSTOM ||
        (cfg->policy == RS_POLICY_CUSTOM && !cfg->resolver && !cfg->public_resolver))
        return -1;
    c->policy = cfg->policy;
    c->resolver = cfg->resolver;
    if (cfg->listen_addr) {
        size_t n = strlen(cfg->listen_addr);
        if (n > RS_NODE_ADDR_MAX)
            return -1;
        memcpy(c->addr, cfg->listen_addr, n);
        c->addr_len = (uint32_t)n;
    }
    if (cfg->n_priorities) {
        if (!cfg->priorities)
            return -1;
        c->prios = rs_calloc(cfg->n_priorities, sizeof *c->prios);
        if (!c->prios)
            return -1;
        c->n_prios = cfg->n_priorities;
        for (size_t i = 0; i < cfg->n_priorities; i++) {
            const char *nm = cfg->priorities[i].node;
            if (!nm)
                return -1;
            size_t len = strlen(nm);
            char *copy = rs_malloc(len + 1);
            if (!copy)
                return -1;
            memcpy(copy, nm, len + 1);
            c->prios[i].node = copy;
            c->prios[i].priority = cfg->priorities[i].priority;
        }
    }
    for (size_t i = 0; i < cfg->n_scopes; i++) {
        if (!cfg->scopes || !cfg->scopes[i])
            return -1;
        struct rs_bytes nm = rs_bytes_str(cfg->scopes[i]);
        if (nm.len == 0 || nm.len > RS_SCOPE_MAX)
            return -1;
        struct rs_scope *s = rs_scopes_find(c, nm);
        if (!s && !(s = rs_scopes_create(c, nm, ROSTER_SCOPE_EVENTUAL)))
            return -1;
        s->joined = 1;
    }
    return 0;
}

void rs_cluster_free(struct rs_core *c)
{
    for (size_t i = 0; i < c->nodes.cap; i++) {
        struct rs_node *n = c->nodes.slots[i].item;
        if (!n)
            continue;
        /* names and memberships were freed with their scopes */
        for (size_t j = 0; j < n->procs.cap; j++)
            rs_free(n->procs.slots[j].item);
        rs_map_fini(&n->procs);
        rs_nodes_pscopes_free(n);
        rs_free(n);
    }
    for (size_t i = 0; i < c->peers.cap; i++)
        rs_free(c->peers.slots[i].item);
    rs_map_fini(&c->nodes);
    rs_map_fini(&c->peers);
    for (size_t i = 0; i < c->n_prios; i++)
        rs_free((char *)c->prios[i].node);
    rs_free(c->prios);
}

/* --- peer monitors ---------------------------------------------------------------------- */

/* --- node up / down --------------------------------------------------------------------- */

/* node_gone takes up node n down: reason ROSTER_REASON_NODE_DOWN (declared down: its
 * address is redialed) or ROSTER_REASON_NODE_LEFT (it left cleanly, or we did: not
 * redialed, and the shell stops dialing its addresses). */
static void node_gone(struct rs_core *c, struct rs_node *n, int close, const char *why,
                      uint32_t reason)
{
    if (n->state != ROSTER_NODE_UP)
        return;
    int left = reason == ROSTER_REASON_NODE_LEFT;
    struct rs_peer *pr = peer_find(c, n->conn);
    if (pr) {
        rs_map_del_item(&c->peers, rs_hash_u64(c->seed, pr->conn), pr);
        rs_free(pr);
    }
    if (close)
        rs_out_close_conn(c, n->conn, "node %s %s: %s", n->name,
                          left ? "left the cluster" : "declared down", why);
    rs_out_log(c, left ? RS_LOG_INFO : RS_LOG_WARN, "node %s (incarnation %016llx) %s: %s",
               n->name, (unsigned long long)n->inc, left ? "left the cluster" : "declared down",
               why);
    if (!left)
        c->n_nodes_down++;
    /* Keep dialing its address, whoever dialed the lost connection: the node (or its next
     * incarnation) may come back there, and it may not know of us to dial us. A node that
     * left is not dialed again (it comes back by dialing us: cluster-join), except at a
     * --join seed of ours: it may come back by a restart, knowing only its own seeds. */
    if (left)
        rs_out_undial_left(c, "%s %s", n->name, n->addr);
    else if (n->addr_len)
        rs_out_dial(c, "%s %s", n->name, n->addr);
    n->left = left;
    n->state = ROSTER_NODE_DOWN;
    n->conn = 0;
    n->unread = 0;
    n->overflow = 0;
    n->sync = NULL;
    n->sync_active = 0;
    rs_repl_drop(c, n, NULL, reason);
    rs_notices_node_down(c, n, reason);
    rs_calls_node_down(c, n);
    rs_flow_node_down(c, n);
    while (n->pmons)
        rs_pmons_free(c, n->pmons);
    for (struct rs_pscope *x = n->scopes; x; x = x->next) {
        struct rs_scope *s = rs_scopes_find(c, rs_bytes_of(x->name, x->len));
        if (s && s->joined && rs_events_wanted(c, s))
            rs_events_node(c, s, left ? ROSTER_EV_NODE_LEFT : ROSTER_EV_NODE_DOWN,
                           rs_bytes_of(n->name, n->name_len));
    }
    rs_nodes_mark_down(n, c->wall_ms);
}

static void node_down(struct rs_core *c, struct rs_node *n, int close, const char *why)
{
    node_gone(c, n, close, why, ROSTER_REASON_NODE_DOWN);
}

void rs_cluster_node_left(struct rs_core *c, struct rs_node *n, const char *why)
{
    node_gone(c, n, 1, why, ROSTER_REASON_NODE_LEFT);
}

void rs_cluster_fail(struct rs_core *c, struct rs_node *n, const char *fmt, ...)
{
    char text[300];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (k < 0)
        text[0] = 0;
    char why[340];
    snprintf(why, sizeof why, "protocol error: %s", text);
    node_down(c, n, 1, why);
}

/* Forget records of name other than keep that are not up: they hold nothing. */
static void forget_others(struct rs_core *c, struct rs_bytes name, const struct rs_node *keep)
{
    for (;;) {
        struct rs_node *victim = NULL;
        for (size_t i = 0; i < c->nodes.cap && !victim; i++) {
            struct rs_node *n = c->nodes.slots[i].item;
            if (n && n != keep && n->state != ROSTER_NODE_UP && rs_nodes_name_is(n, name))
                victim = n;
        }
        if (!victim)
            return;
        rs_nodes_free_one(c, victim);
    }
}

static void send_p_node(struct rs_core *c, struct rs_node *to, const struct rs_node *about)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_NODE;
    rs_msg_p_node_state_set(&m, ROSTER_NODE_UP);
    rs_msg_p_node_incarnation_set(&m, about->inc);
    rs_msg_p_node_name_set(&m, rs_bytes_of(about->name, about->name_len));
    rs_msg_p_node_addr_set(&m, rs_bytes_of(about->addr, about->addr_len));
    rs_out_peer(c, to, &m);
}

/* What a node tells a peer that just came up: the other nodes it knows and its scopes,
 * those it joined (P_SCOPE 1) and those it does not replicate (P_SCOPE 0): the peer may
 * have kept us up over a replaced connection while a P_SCOPE leave sent on the old one was
 * lost, and would keep our entries there. Scope objects are never deleted, so every scope
 * we ever joined is named one way or the other. */
static void greet(struct rs_core *c, struct rs_node *peer)
{
    rs_resolver_greet(c, peer); /* first: a peer that resolves otherwise is refused */
    RS_NODES_EACH_UP(c, n)
    {
        if (n != peer)
            send_p_node(c, peer, n);
    }
    for (size_t i = 0; i < c->scopes.cap; i++) {
        struct rs_scope *s = c->scopes.slots[i].item;
        if (!s)
            continue;
        struct rs_msg m;
        memset(&m, 0, sizeof m);
        m.type = RS_MSG_P_SCOPE;
        /* strong: etcd's; the options go with the scope (a mismatch is not replicated) */
        rs_msg_p_scope_joined_set(&m, (s->joined && !s->kv ? 1u : 0u) | s->opts);
        m.scope = rs_bytes_of(s->name, s->name_len);
        rs_out_peer(c, peer, &m);
    }
}

static int add_peer(struct rs_core *c, uint64_t conn, struct rs_node *n)
{
    struct rs_peer *pr = rs_core_alloc(c, sizeof *pr);
    if (!pr)
        return -1;
    pr->conn = conn;
    pr->node = n;
    if (rs_map_put(&c->peers, rs_hash_u64(c->seed, conn), pr) != 0) {
        c->oom = 1;
        rs_free(pr);
        return -1;
    }
    return 0;
}

/* refuse_peer closes conn and returns 1 if the peer it reaches may not be a node of this
 * cluster: a bad or our own name or incarnation, an address too long, or a second node of
 * the name of one that is up. */
static int refuse_peer(struct rs_core *c, const struct rs_input *in, const struct rs_node *up)
{
    uint64_t conn = in->conn;
    char nb[80];
    rs_fmt_key(nb, sizeof nb, in->peer_name.ptr, in->peer_name.len);
    if (c->left) {
        rs_out_close_conn(c, conn, "peer '%s' refused: this node left the cluster "
                                   "(cluster-join to come back)", nb);
        return 1;
    }
    if (!valid_node_name(in->peer_name)) {
        rs_out_close_conn(c, conn, "peer refused: invalid node name '%s'", nb);
        return 1;
    }
    if (rs_bytes_eq(in->peer_name.ptr, in->peer_name.len, (const uint8_t *)c->node,
                    c->node_len)) {
        rs_out_close_conn(c, conn, "peer refused: it has this node's name '%s'", nb);
        return 1;
    }
    if (in->peer_inc == 0 || in->peer_inc == c->inc) {
        rs_out_close_conn(c, conn, "peer refused: node '%s' has incarnation %016llx", nb,
                          (unsigned long long)in->peer_inc);
        return 1;
    }
    if (in->peer_addr.len > RS_NODE_ADDR_MAX) {
        rs_out_close_conn(c, conn, "peer refused: listen address of %u bytes",
                          (unsigned)in->peer_addr.len);
        return 1;
    }
    if (up && up->inc != in->peer_inc) {
        rs_out_close_conn(c, conn,
                          "peer refused: node '%s' is already up with incarnation %016llx "
                          "(this one is %016llx)",
                          nb, (unsigned long long)up->inc, (unsigned long long)in->peer_inc);
        rs_out_log(c, RS_LOG_WARN,
                   "refused a second node '%s' (incarnation %016llx) while %016llx is up", nb,
                   (unsigned long long)in->peer_inc, (unsigned long long)up->inc);
        return 1;
    }
    return 0;
}

/* replace_conn handles a second connection to up node up: one of the two is closed. */
static void replace_conn(struct rs_core *c, const struct rs_input *in, struct rs_node *up)
{
    uint64_t conn = in->conn;
    /* Two connections to one node: keep the one dialed by the node whose name sorts
     * lower (both sides decide alike); with two alike, the newer. */
    int self_lower = rs_bytes_cmp((const uint8_t *)c->node, c->node_len,
                                  (const uint8_t *)up->name, up->name_len) < 0;
    int new_pref = (in->dialed != 0) == self_lower;
    int old_pref = (up->dialed != 0) == self_lower;
    if (!new_pref && old_pref) {
        rs_out_close_conn(c, conn, "duplicate connection to node %s (keeping conn %llu)",
                          up->name, (unsigned long long)up->conn);
        return;
    }
    if (add_peer(c, conn, up) != 0) {
        /* no record of conn: it must not stay open (its frames would be ignored) */
        rs_out_close_conn(c, conn, "duplicate connection to node %s: out of memory",
                          up->name);
        return;
    }
    struct rs_peer *old = peer_find(c, up->conn);
    if (old) {
        rs_map_del_item(&c->peers, rs_hash_u64(c->seed, old->conn), old);
        rs_free(old);
    }
    rs_out_close_conn(c, up->conn, "duplicate connection to node %s (keeping conn %llu)",
                      up->name, (unsigned long long)conn);
    up->conn = conn;
    up->dialed = in->dialed != 0;
    up->sync = NULL;
    up->sync_active = 0;
    up->unread = 0;
    up->overflow = 0;
    up->last_rx_ms = up->last_ping_ms = c->now_ms;
    /* The peer may have declared us down meanwhile (and forgotten our monitors), and
     * frames on the replaced connection may be lost: monitors start afresh on the new
     * one. It drops ours alike and asks again for those it still waits on. */
    while (up->pmons)
        rs_pmons_free(c, up->pmons);
    greet(c, up);
    rs_notices_ask_again(c, up);
}

/* first_contact brings up a node that was not up: its record (new or gossiped) takes
 * the connection, and it and the other up nodes learn of each other. */
static void first_contact(struct rs_core *c, const struct rs_input *in)
{
    uint64_t conn = in->conn;
    struct rs_node *n = rs_nodes_find(c, in->peer_inc);
    if (n && !rs_nodes_name_is(n, in->peer_name)) {
        rs_out_close_conn(c, conn, "peer refused: incarnation %016llx belongs to node %s",
                          (unsigned long long)in->peer_inc, n->name);
        return;
    }
    if (!n && !(n = rs_nodes_new(c, in->peer_name, in->peer_inc)))
        return;
    if (add_peer(c, conn, n) != 0)
        return;
    forget_others(c, in->peer_name, n);
    rs_nodes_mark_up(n);
    n->state = ROSTER_NODE_UP;
    n->left = 0;
    n->conn = conn;
    n->n_up++;
    n->dialed = in->dialed != 0;
    n->last_rx_ms = n->last_ping_ms = c->now_ms;
    rs_nodes_set_addr(n, in->peer_addr);
    rs_out_log(c, RS_LOG_INFO, "node %s (incarnation %016llx, %s) up on conn %llu", n->name,
               (unsigned long long)n->inc, n->addr_len ? n->addr : "no listen address",
               (unsigned long long)conn);
    greet(c, n);
    /* And tell the nodes we already know about it: it may know none of them yet. */
    RS_NODES_EACH_UP(c, x)
    {
        if (x != n)
            send_p_node(c, x, n);
    }
}

void rs_cluster_on_up(struct rs_core *c, const struct rs_input *in)
{
    /* conn ids are never reused: a second PEER_UP is a shell bug */
    if (RS_NEVER(peer_find(c, in->conn) != NULL))
        return;
    struct rs_node *up = rs_nodes_named(c, in->peer_name);
    if (up && up->state != ROSTER_NODE_UP)
        up = NULL;
    if (refuse_peer(c, in, up))
        return;
    if (up)
        replace_conn(c, in, up);
    else
        first_contact(c, in);
}

void rs_cluster_on_gone(struct rs_core *c, uint64_t conn)
{
    struct rs_peer *pr = peer_find(c, conn);
    if (!pr)
        return;
    struct rs_node *n = pr->node;
    if (n->conn == conn) {
        node_down(c, n, 0, "connection closed");
        return;
    }
    rs_map_del_item(&c->peers, rs_hash_u64(c->seed, conn), pr);
    rs_free(pr);
}

int rs_cluster_on_flushed(struct rs_core *c, uint64_t conn, uint64_t nbytes)
{
    struct rs_peer *pr = peer_find(c, conn);
    if (!pr)
        return 0;
    struct rs_node *n = pr->node;
    if (n->conn == conn)
        n->unread = nbytes >= n->unread ? 0 : n->unread - nbytes;
    n->bytes_out += nbytes;
    if (n->park.head)
        rs_flow_peer_flushed(c, n);
    return 1;
}

void rs_cluster_end_apply(struct rs_core *c)
{
    if (!c->peer_overflow)
        return;
    c->peer_overflow = 0;
    for (;;) {
        struct rs_node *victim = NULL;
        RS_NODES_EACH_UP(c, n)
        {
            if (n->overflow && !victim)
                victim = n;
        }
        if (!victim)
            return;
        char why[96];
        snprintf(why, sizeof why, "unread output above %u bytes (peer not reading)",
                 c->lim.outbuf_max);
        node_down(c, victim, 1, why);
    }
}

/* Records of gossiped nodes we never reached (CONNECTING) hold nothing: forget them after
 * RS_NODE_FORGET_MS, so gossip of names that never answer does not pile up. The shell keeps
 * dialing their addresses; a connection that comes up makes a record again. */
static void forget_unreached(struct rs_core *c)
{
    for (;;) {
        struct rs_node *victim = NULL;
        for (size_t i = 0; i < c->nodes.cap && !victim; i++) {
            struct rs_node *n = c->nodes.slots[i].item;
            if (n && n->state == ROSTER_NODE_CONNECTING &&
                c->now_ms - n->since_ms >= RS_NODE_FORGET_MS)
                victim = n;
        }
        if (!victim)
            return;
        rs_out_log(c, RS_LOG_DEBUG,
                   "forgetting node %s (incarnation %016llx): not reached in %u ms",
                   victim->name, (unsigned long long)victim->inc, RS_NODE_FORGET_MS);
        rs_nodes_free_one(c, victim);
    }
}

void rs_cluster_on_tick(struct rs_core *c)
{
    forget_unreached(c);
    RS_NODES_EACH_UP(c, n)
    {
        uint64_t quiet = c->now_ms > n->last_rx_ms ? c->now_ms - n->last_rx_ms : 0;
        if (quiet >= c->down_after_ms) {
            char why[96];
            snprintf(why, sizeof why, "nothing received for %llu ms (down after %u ms)",
                     (unsigned long long)quiet, c->down_after_ms);
            node_down(c, n, 1, why);
            continue;
        }
        if (c->now_ms >= n->last_ping_ms + c->heartbeat_ms) {
            struct rs_msg m;
            memset(&m, 0, sizeof m);
            m.type = RS_MSG_P_PING;
            rs_msg_p_ping_time_set(&m, c->now_ms);
            rs_out_peer(c, n, &m);
            n->last_ping_ms = c->now_ms;
        }
    }
}

/* P_NODE: a node our peer knows. Learn it and ask the shell to connect to it. */
void rs_cluster_on_p_node(struct rs_core *c, struct rs_node *from, const struct rs_msg *m)
{
    struct rs_bytes name = rs_msg_p_node_name(m), addr = rs_msg_p_node_addr(m);
    uint64_t inc = rs_msg_p_node_incarnation(m);
    uint32_t state = rs_msg_p_node_state(m);
    if (!valid_node_name(name) || inc == 0 || state < ROSTER_NODE_UP ||
        state > ROSTER_NODE_CONNECTING || addr.len > RS_NODE_ADDR_MAX) {
        rs_cluster_fail(c, from, "malformed P_NODE");
        return;
    }
    if (state != ROSTER_NODE_UP || inc == c->inc ||
        rs_bytes_eq(name.ptr, name.len, (const uint8_t *)c->node, c->node_len))
        return;
    struct rs_node *x = rs_nodes_find(c, inc);
    if (x) {
        if (rs_nodes_name_is(x, name) && x->addr_len == 0)
            rs_nodes_set_addr(x, addr);
        /* A node we saw leave is up for the gossiper: it came back (cluster-join through
         * another node), and it may not know of us to dial us. Dial it again. */
        if (x->left && x->state != ROSTER_NODE_UP && rs_nodes_name_is(x, name) &&
            x->addr_len) {
            x->left = 0;
            rs_out_dial(c, "%s %s", x->name, x->addr);
        }
        return;
    }
    struct rs_node *named = rs_nodes_named(c, name);
    if (named && named->state == ROSTER_NODE_UP)
        return;
    forget_others(c, name, NULL);
    if (c->nodes.n >= RS_NODES_MAX) {
        if (!c->nodes_full_logged)
            rs_out_log(c, RS_LOG_WARN,
                       "%u nodes known: ignoring gossip of new nodes (first: %.*s from %s)",
                       RS_NODES_MAX, (int)name.len, (const char *)name.ptr, from->name);
        c->nodes_full_logged = 1;
        return;
    }
    c->nodes_full_logged = 0;
    struct rs_node *n = rs_nodes_new(c, name, inc);
    if (!n)
        return;
    rs_nodes_set_addr(n, addr);
    if (n->addr_len)
        rs_out_dial(c, "%s %s", n->name, n->addr);
}

/* --- reads ------------------------------------------------------------------------------ */

struct node_item {
    const char *name;
    uint32_t len;
    uint32_t state;
    int self;
    uint64_t inc;
    uint64_t down_since; /* DOWN: wall clock ms of the declaration */
};

static int cmp_node_item(const void *a, const void *b)
{
    const struct node_item *x = a, *y = b;
    int r = rs_bytes_cmp((const uint8_t *)x->name, x->len, (const uint8_t *)y->name, y->len);
    return r ? r : (x->inc > y->inc) - (x->inc < y->inc);
}

void rs_cluster_on_nodes(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    const struct rs_scope *s = NULL;
    if (req->scope.len && !(s = rs_scope_of(c, cl, req)))
        return;
    struct node_item *v = rs_core_alloc(c, (c->nodes.n + 1) * sizeof *v);
    if (!v)
        return;
    size_t n = 0;
    if (!s || s->joined)
        v[n++] = (struct node_item){c->node, c->node_len, ROSTER_NODE_UP, 1, c->inc, 0};
    for (size_t i = 0; i < c->nodes.cap; i++) {
        struct rs_node *x = c->nodes.slots[i].item;
        /* a down node is listed under the scopes it had joined, with when it went down */
        if (x && (!s || rs_nodes_joined(x, s) ||
                  (x->state == ROSTER_NODE_DOWN && rs_nodes_was_joined(x, s))))
            v[n++] = (struct node_item){x->name, x->name_len,
                                        x->left ? ROSTER_NODE_LEFT : (uint32_t)x->state, 0,
                                        x->inc,
                                        x->state == ROSTER_NODE_DOWN ? x->down_wall_ms : 0};
    }
    qsort(v, n, sizeof *v, cmp_node_item);
    for (size_t i = 0; i < n; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        rs_msg_nodes_item_opts_set(&it, rs_msg_nodes_item_pack(v[i].state, v[i].self));
        rs_msg_nodes_item_incarnation_set(&it, v[i].inc);
        rs_msg_nodes_item_down_since_set(&it, v[i].down_since);
        rs_msg_nodes_item_node_set(&it, rs_bytes_of(v[i].name, v[i].len));
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, n);
    rs_free(v);
}

struct rs_node *rs_cluster_peer(const struct rs_core *c, uint64_t conn)
{
    struct rs_peer *pr = peer_find(c, conn);
    if (!pr)
        return NULL;
    struct rs_node *n = pr->node;
    if (n->conn != conn || n->state != ROSTER_NODE_UP)
        return NULL; /* a duplicate connection being closed */
    return n;
}

void rs_cluster_on_p_ping(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    r.type = RS_MSG_P_PONG;
    rs_msg_p_pong_time_set(&r, rs_msg_p_ping_time(m));
    rs_out_peer(c, n, &r);
}
