/* membership.c: runtime cluster membership (docs/CLUSTER.md, "Runtime membership"): a
 * running node joins a cluster (CLUSTER_JOIN: one dial, as --join would), leaves it
 * cleanly (CLUSTER_LEAVE: P_LEAVE to every up peer, so they take it down with reason
 * node_left and stop dialing it, instead of declaring it down and redialing it forever),
 * and forgets a node gone for good (FORGET). Also the receiving side of P_LEAVE, and the one
 * check point of the node's administration requests (rs_admin_allowed), which these and
 * any later admin request go through, so access rules live in one place. */
#include <string.h>

#include "base/check.h"
#include "core/cluster.h"
#include "core/membership.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/util.h"

int rs_admin_allowed(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    /* The node's administration is for its operator: root, or the user it runs as. Other
     * local users may use the registry, not reshape the cluster. */
    if (cl->uid == 0 || cl->uid == c->admin_uid)
        return 1;
    rs_out_error(c, cl, req, ROSTER_EPERM,
                 "%s is the node's administration: allowed to uid 0 and uid %u (this client "
                 "runs as uid %u)",
                 rs_wire_type_name(req->type), (unsigned)c->admin_uid, (unsigned)cl->uid);
    return 0;
}

/* valid_hostport: "HOST:PORT" (or "[V6]:PORT") with a port 1..65535. The shell resolves the
 * host; the core only refuses what can never be dialed. */
static int valid_hostport(struct rs_bytes a)
{
    if (a.len < 3 || a.len > RS_NODE_ADDR_MAX)
        return 0;
    uint32_t colon = a.len;
    for (uint32_t i = 0; i < a.len; i++) {
        uint8_t ch = a.ptr[i];
        if (ch <= ' ' || ch >= 0x7f)
            return 0;
        if (ch == ':')
            colon = i;
    }
    if (colon == 0 || colon + 1 >= a.len)
        return 0;
    unsigned port = 0;
    for (uint32_t i = colon + 1; i < a.len; i++) {
        if (a.ptr[i] < '0' || a.ptr[i] > '9' || (port = port * 10 + (a.ptr[i] - '0')) > 65535)
            return 0;
    }
    return port > 0;
}

void rs_membership_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    if (!rs_admin_allowed(c, cl, m))
        return;
    struct rs_bytes addr = rs_msg_cluster_join_addr(m);
    if (c->addr_len == 0) {
        rs_out_error(c, cl, m, ROSTER_EINVAL,
                     "this node has no peer listener (started without --listen): it cannot "
                     "be part of a cluster");
        return;
    }
    if (!valid_hostport(addr)) {
        char t[80];
        rs_fmt_key(t, sizeof t, addr.ptr, addr.len);
        rs_out_error(c, cl, m, ROSTER_EINVAL, "'%s' is not HOST:PORT", t);
        return;
    }
    if (rs_bytes_eq(addr.ptr, addr.len, (const uint8_t *)c->addr, c->addr_len)) {
        rs_out_error(c, cl, m, ROSTER_EINVAL, "%s is this node's own address", c->addr);
        return;
    }
    if (c->left)
        rs_out_log(c, RS_LOG_INFO, "rejoining a cluster: peers are accepted again");
    c->left = 0;
    rs_out_log(c, RS_LOG_INFO, "cluster-join: dialing %.*s", (int)addr.len,
               (const char *)addr.ptr);
    /* No name: the shell keeps it as a seed (never dropped for failing), learns the name
     * at the handshake, and the mesh follows by gossip. */
    rs_out_dial(c, "%.*s", (int)addr.len, (const char *)addr.ptr);
    rs_out_ok(c, cl, m);
}

void rs_membership_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    if (!rs_admin_allowed(c, cl, m))
        return;
    /* Stop dialing first: the closes below must not be followed by redials. */
    rs_out_undial(c, "%s", "");
    uint64_t told = 0;
    for (;;) {
        struct rs_node *up = NULL;
        RS_NODES_EACH_UP(c, n)
        {
            if (!up)
                up = n;
        }
        if (!up)
            break;
        struct rs_msg p;
        memset(&p, 0, sizeof p);
        p.type = RS_MSG_P_LEAVE;
        rs_out_peer(c, up, &p); /* written before the close that follows (core.h) */
        rs_cluster_node_left(c, up, "this node left the cluster (cluster-leave)");
        told++;
    }
    /* The records of the others hold nothing now: a node that left keeps no cluster. */
    for (;;) {
        struct rs_node *victim = NULL;
        for (size_t i = 0; i < c->nodes.cap && !victim; i++)
            victim = c->nodes.slots[i].item;
        if (!victim)
            break;
        rs_nodes_free_one(c, victim);
    }
    c->left = 1;
    rs_out_log(c, RS_LOG_INFO, "left the cluster: %llu peers told; peers are refused until "
                               "cluster-join", (unsigned long long)told);
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_cluster_leave_reply_peers_set(&r, told);
    rs_out_reply(c, cl, m, &r);
}

/* forget_addr: FORGET by address, for a target whose name was never learned (a --join
 * seed or a cluster-join address that never answered): the records at that address that
 * are not up go, and the shell stops dialing it. */
static void forget_addr(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m,
                        struct rs_bytes addr)
{
    char ab[80];
    rs_fmt_key(ab, sizeof ab, addr.ptr, addr.len);
    if (!valid_hostport(addr) ||
        rs_bytes_eq(addr.ptr, addr.len, (const uint8_t *)c->addr, c->addr_len)) {
        rs_out_error(c, cl, m, ROSTER_EINVAL, "'%s' is not another node's HOST:PORT", ab);
        return;
    }
    uint64_t n = 0;
    for (;;) {
        struct rs_node *victim = NULL;
        for (size_t i = 0; i < c->nodes.cap && !victim; i++) {
            struct rs_node *x = c->nodes.slots[i].item;
            if (x && rs_bytes_eq((const uint8_t *)x->addr, x->addr_len, addr.ptr, addr.len)) {
                if (x->state == ROSTER_NODE_UP) {
                    rs_out_error(c, cl, m, ROSTER_EBUSY,
                                 "node %s is up at %s: run cluster-leave on it (or stop it) "
                                 "first", x->name, ab);
                    return;
                }
                victim = x;
            }
        }
        if (!victim)
            break;
        rs_nodes_free_one(c, victim);
        n++;
    }
    rs_out_undial(c, " %.*s", (int)addr.len, (const char *)addr.ptr);
    rs_out_log(c, RS_LOG_INFO, "forgot address %s (%llu records): no longer dialed", ab,
               (unsigned long long)n);
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_forget_reply_records_set(&r, n);
    rs_out_reply(c, cl, m, &r);
}

void rs_membership_on_forget(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    if (!rs_admin_allowed(c, cl, m))
        return;
    struct rs_bytes name = rs_msg_forget_node(m), addr = rs_msg_forget_addr(m);
    if (addr.len && !name.len) {
        forget_addr(c, cl, m, addr);
        return;
    }
    char nb[80];
    rs_fmt_key(nb, sizeof nb, name.ptr, name.len);
    if (name.len == 0 || addr.len ||
        rs_bytes_eq(name.ptr, name.len, (const uint8_t *)c->node, c->node_len)) {
        rs_out_error(c, cl, m, ROSTER_EINVAL,
                     addr.len ? "a node name or an address, not both"
                     : name.len ? "'%s' is this node" : "no node named", nb);
        return;
    }
    struct rs_node *up = rs_nodes_named(c, name);
    if (up && up->state == ROSTER_NODE_UP) {
        rs_out_error(c, cl, m, ROSTER_EBUSY,
                     "node %s is up: run cluster-leave on it (or stop it) first", nb);
        return;
    }
    uint64_t n = 0;
    for (;;) {
        struct rs_node *victim = rs_nodes_named(c, name);
        if (!victim)
            break;
        RS_ASSERT(victim->state != ROSTER_NODE_UP);
        /* one UNDIAL per address it was known at; records hold nothing when not up */
        rs_out_undial(c, "%s %s", victim->name, victim->addr);
        rs_nodes_free_one(c, victim);
        n++;
    }
    if (n == 0) {
        /* No record (never reached, or already forgotten): its dial targets may still
         * exist; stop them by name all the same. A seed never reached has no name yet:
         * forget it by address. */
        rs_out_undial(c, "%.*s", (int)name.len, (const char *)name.ptr);
        rs_out_error(c, cl, m, ROSTER_ENOTFOUND,
                     "no node %s known here (a seed that never answered: forget HOST:PORT)",
                     nb);
        return;
    }
    rs_out_log(c, RS_LOG_INFO, "forgot node %s (%llu records): no longer dialed", nb,
               (unsigned long long)n);
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_forget_reply_records_set(&r, n);
    rs_out_reply(c, cl, m, &r);
}

void rs_membership_on_p_leave(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    (void)m;
    rs_cluster_node_left(c, n, "it left the cluster (P_LEAVE)");
}
