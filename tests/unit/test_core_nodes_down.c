/* test_core_nodes_down.c: NODES lists a peer that was declared down as down, with when it
 * went down (item ARG2, wall clock ms), also when the listing names a scope the peer had
 * joined, and as up again (time 0) once it is back (issue 11 item 5). Cores wired by
 * cluster_harness.h. */
#include "cluster_harness.h"

#define A 0
#define B 1

static struct cluster cl;

struct item {
    char name[16];
    uint32_t state;
    uint64_t inc, down_since;
};

/* NODES from client conn of node i (scope NULL: no SCOPE field); returns the item count. */
static size_t nodes(size_t i, uint64_t conn, const char *scope, struct item *v, size_t max)
{
    struct rs_msg m = {.type = RS_MSG_NODES, .scope = rs_bytes_str(scope ? scope : "")};
    size_t before = cl.n[i].nlog;
    const struct rs_msg *r = cl_req(&cl, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    size_t n = 0;
    for (size_t k = before; k < cl.n[i].nlog; k++) {
        const struct rs_msg *it = &cl.n[i].log[k].m;
        if (cl.n[i].log[k].conn != conn || it->type != RS_MSG_NODES || it->flags != RS_F_ITEM)
            continue;
        ASSERT(n < max);
        struct rs_bytes nm = rs_msg_nodes_item_node(it);
        ASSERT(nm.len < sizeof v[n].name);
        memcpy(v[n].name, nm.ptr, nm.len);
        v[n].name[nm.len] = 0;
        v[n].state = rs_msg_nodes_item_state(it);
        v[n].inc = rs_msg_nodes_item_incarnation(it);
        v[n].down_since = rs_msg_nodes_item_down_since(it);
        n++;
    }
    ASSERT_U64_EQ(rs_msg_nodes_reply_n(r), n);
    return n;
}

static void test_down_peer_listed_with_time(void)
{
    static const char *const s1[] = {"s1"};
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.scopes = s1;
    cfg.n_scopes = 1;
    cl_init(&cl);
    cl_add(&cl, "a", 0xa1ull, &cfg);
    cl_add(&cl, "b", 0xb2ull, &cfg);
    cl_add(&cl, "c", 0xc3ull, NULL); /* not in s1 */
    cl_connect(&cl, A, B);
    cl_connect(&cl, A, 2);
    cl_connect(&cl, B, 2);
    cl_pump(&cl);
    cl_client(&cl, A, 1);
    struct item v[8];
    ASSERT_EQ(nodes(A, 1, "default", v, 8), 3);
    for (size_t k = 0; k < 3; k++) {
        ASSERT_EQ(v[k].state, ROSTER_NODE_UP);
        ASSERT_U64_EQ(v[k].down_since, 0);
    }
    /* b's link to a breaks: a declares b down at wall time T */
    cl.wall += 5000;
    uint64_t t = cl.wall;
    cl_disconnect(&cl, A, B);
    cl.wall += 7000;
    ASSERT_EQ(nodes(A, 1, "default", v, 8), 3);
    ASSERT_STR_EQ(v[1].name, "b");
    ASSERT_EQ(v[1].state, ROSTER_NODE_DOWN);
    ASSERT_U64_EQ(v[1].inc, 0xb2ull);
    ASSERT_U64_EQ(v[1].down_since, t);
    ASSERT_EQ(v[2].state, ROSTER_NODE_UP);
    ASSERT_U64_EQ(v[2].down_since, 0);
    /* without a scope, and under the scope b had joined; not under one it had not */
    ASSERT_EQ(nodes(A, 1, NULL, v, 8), 3);
    ASSERT_EQ(v[1].state, ROSTER_NODE_DOWN);
    ASSERT_EQ(nodes(A, 1, "s1", v, 8), 2);
    ASSERT_STR_EQ(v[1].name, "b");
    ASSERT_EQ(v[1].state, ROSTER_NODE_DOWN);
    ASSERT_U64_EQ(v[1].down_since, t);
    struct rs_msg join = {.type = RS_MSG_SCOPE_JOIN, .scope = rs_bytes_str("s2")};
    ASSERT_EQ(cl_req(&cl, A, 1, &join)->status, 0);
    ASSERT_EQ(nodes(A, 1, "s2", v, 8), 1); /* only a itself */
    /* b comes back (same incarnation): up, no time */
    cl_connect(&cl, A, B);
    cl_pump(&cl);
    ASSERT_EQ(nodes(A, 1, "s1", v, 8), 2);
    ASSERT_EQ(v[1].state, ROSTER_NODE_UP);
    ASSERT_U64_EQ(v[1].down_since, 0);
    cl_fini(&cl);
}

TEST_MAIN(T(test_down_peer_listed_with_time))
