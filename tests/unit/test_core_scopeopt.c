/* test_core_scopeopt.c: scope options (issue 11 items 9 and 10) on cores wired by
 * cluster_harness.h: options chosen at creation travel with the scope (a node that joins
 * takes them; a node whose scope of that name has other options does not replicate it),
 * SCOPES lists them, and a scope created with ROSTER_SCOPE_UNIQUE_PER_NODE lets every node
 * hold a name once, with no conflict, lookup answering the local holder and NAMES (exact)
 * every holder. */
#include "cluster_harness.h"

#define A 0
#define B 1
#define C 2
#define PER_NODE ROSTER_SCOPE_UNIQUE_PER_NODE
#define DUPS ROSTER_SCOPE_DUPLICATE_MEMBERS

static void three(struct cluster *c)
{
    cl_init(c);
    cl_add(c, "a", 0xa1, NULL);
    cl_add(c, "b", 0xb2, NULL);
    cl_add(c, "c", 0xc3, NULL);
    cl_connect(c, A, B);
    cl_connect(c, B, C);
    cl_connect(c, A, C);
    cl_pump(c);
}

static int create(struct cluster *c, size_t i, uint64_t conn, const char *scope, uint32_t mode)
{
    struct rs_msg m = {.type = RS_MSG_SCOPE_CREATE, .opts = mode, .scope = rs_bytes_str(scope)};
    return cl_req(c, i, conn, &m)->status;
}

/* scope_opts returns the options SCOPES lists for scope on node i (-1: not listed). */
static long scope_opts(struct cluster *c, size_t i, uint64_t conn, const char *scope)
{
    struct cnode *x = &c->n[i];
    cn_clear(x);
    struct rs_msg m = {.type = RS_MSG_SCOPES};
    cl_req(c, i, conn, &m);
    for (size_t k = 0; k < x->nlog; k++) {
        const struct rs_msg *it = &x->log[k].m;
        if (it->flags == RS_F_ITEM && cl_bytes_is(it->scope, scope))
            return (long)(it->opts & ROSTER_SCOPE_OPTIONS);
    }
    return -1;
}

/* holders lists the holders of name by NAMES with RS_OPT_EXACT on node i: their node names
 * joined by ',' into out; returns how many. */
static size_t holders(struct cluster *c, size_t i, uint64_t conn, const char *scope,
                      const char *name, char *out, size_t cap)
{
    struct cnode *x = &c->n[i];
    cn_clear(x);
    struct rs_msg m = {.type = RS_MSG_NAMES, .opts = RS_OPT_EXACT, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(name)};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    size_t n = 0, at = 0;
    out[0] = 0;
    for (size_t k = 0; k < x->nlog; k++) {
        const struct rs_msg *it = &x->log[k].m;
        if (it->flags != RS_F_ITEM)
            continue;
        ASSERT(cl_bytes_is(it->key, name));
        at += (size_t)snprintf(out + at, cap - at, "%s%.*s", n ? "," : "", (int)it->node.len,
                               (const char *)it->node.ptr);
        n++;
    }
    return n;
}

static void test_options_travel_with_the_scope(void)
{
    struct cluster c;
    three(&c);
    cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    cl_client(&c, C, 1);
    ASSERT_EQ(create(&c, A, 1, "s", PER_NODE | DUPS), 0);
    /* strong scopes take no options; unknown option bits are refused */
    ASSERT_EQ(create(&c, A, 1, "t", ROSTER_SCOPE_STRONG | DUPS), ROSTER_EINVAL);
    ASSERT_EQ(create(&c, A, 1, "t", 0x400), ROSTER_EINVAL);
    ASSERT_EQ(scope_opts(&c, A, 1, "s"), PER_NODE | DUPS);
    cl_pump(&c);
    /* b joins: it takes the options a announced */
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_JOIN, "s"), 0);
    cl_pump(&c);
    ASSERT_EQ(scope_opts(&c, B, 1, "s"), PER_NODE | DUPS);
    struct rs_msg nm = {.type = RS_MSG_NODES, .scope = rs_bytes_str("s")};
    ASSERT_EQ(cl_req(&c, B, 1, &nm)->arg, 2);
    /* c created its own "s" without options: a and b do not replicate it with c */
    ASSERT_EQ(create(&c, C, 1, "s", 0), 0);
    cl_pump(&c);
    struct rs_msg nc = {.type = RS_MSG_NODES, .scope = rs_bytes_str("s")};
    ASSERT_EQ(cl_req(&c, C, 1, &nc)->arg, 1);
    ASSERT_EQ(cl_req(&c, A, 1, &nm)->arg, 2);
    struct rs_pid pc = cl_client(&c, C, 2);
    ASSERT_EQ(cl_register(&c, C, 2, pc, "s", "only-c", ""), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_lookup(&c, A, 1, "s", "only-c", NULL, NULL, NULL), ROSTER_ENOTFOUND);
    ASSERT_EQ(cl_lookup(&c, B, 1, "s", "only-c", NULL, NULL, NULL), ROSTER_ENOTFOUND);
    cl_fini(&c);
}

static void test_unique_per_node(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid pa = cl_client(&c, A, 1), pb = cl_client(&c, B, 1), pc = cl_client(&c, C, 1);
    ASSERT_EQ(create(&c, B, 1, "u", PER_NODE), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_scope_op(&c, A, 1, RS_MSG_SCOPE_JOIN, "u"), 0);
    ASSERT_EQ(cl_scope_op(&c, C, 1, RS_MSG_SCOPE_JOIN, "u"), 0);
    cl_pump(&c);
    cl_client(&c, A, 9);
    cl_subscribe(&c, A, 9, "u", ROSTER_SUB_REGISTRY | ROSTER_SUB_ALL);
    uint64_t conflicts = cl_stats(&c.n[A]).conflicts;
    /* every node takes "svc": no conflict, no loser */
    ASSERT_EQ(cl_register(&c, C, 1, pc, "u", "svc", "mc"), 0);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "u", "svc", "ma"), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "u", "svc", "mb"), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[A], 9), 3); /* three REGISTERED, no UNREGISTERED */
    for (size_t k = 0; k < 3; k++)
        ASSERT_EQ(cl_event(&c.n[A], 9, k)->opts & 0xff, ROSTER_EV_REGISTERED);
    /* but only once per node */
    struct rs_pid pa2 = cl_client(&c, A, 2);
    ASSERT_EQ(cl_register(&c, A, 2, pa2, "u", "svc", ""), ROSTER_ETAKEN);
    char list[128], meta[64], node[64];
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(holders(&c, i, 1, "u", "svc", list, sizeof list), 3);
        ASSERT_STR_EQ(list, "a,b,c");
        ASSERT_U64_EQ(cl_stats(&c.n[i]).names, 3);
        struct rs_pid got;
        ASSERT_EQ(cl_lookup(&c, i, 1, "u", "svc", &got, meta, node), 0);
        ASSERT_STR_EQ(node, c.n[i].name); /* the local holder */
    }
    ASSERT_U64_EQ(cl_stats(&c.n[A]).conflicts, conflicts);
    /* NAMES lists every holder, ordered by name then node */
    ASSERT_EQ(cl_register(&c, B, 1, pb, "u", "alpha", ""), 0);
    cl_pump(&c);
    cn_clear(&c.n[C]);
    struct rs_msg ln = {.type = RS_MSG_NAMES, .scope = rs_bytes_str("u")};
    ASSERT_EQ(cl_req(&c, C, 1, &ln)->arg, 4);
    /* lookup --local: the local holder only */
    struct rs_pid got;
    struct rs_msg ll = {.type = RS_MSG_LOOKUP, .opts = RS_OPT_LOCAL, .scope = rs_bytes_str("u"),
                        .key = rs_bytes_str("alpha")};
    ASSERT_EQ(cl_req(&c, A, 1, &ll)->status, ROSTER_ENOTFOUND);
    ASSERT_EQ(cl_req(&c, B, 1, &ll)->status, 0);
    ASSERT_EQ(cl_lookup(&c, A, 1, "u", "alpha", &got, NULL, node), 0); /* b's, the only one */
    ASSERT_STR_EQ(node, "b");
    /* a's unregister removes a's claim only, everywhere */
    cn_clear(&c.n[A]);
    ASSERT_EQ(cl_unregister(&c, A, 1, "u", "svc"), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[A], 9), 1);
    ASSERT_EQ(cl_event(&c.n[A], 9, 0)->opts, ROSTER_EV_UNREGISTERED | (ROSTER_REASON_NORMAL << 8));
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(holders(&c, i, 1, "u", "svc", list, sizeof list), 2);
        ASSERT_STR_EQ(list, "b,c");
    }
    ASSERT_EQ(cl_lookup(&c, A, 1, "u", "svc", &got, NULL, node), 0);
    ASSERT_STR_EQ(node, "b"); /* no local holder: the first by node name */
    /* c's death takes its claim only */
    cl_client_gone(&c, C, 1);
    cl_pump(&c);
    for (size_t i = A; i <= B; i++) {
        ASSERT_EQ(holders(&c, i, 1, "u", "svc", list, sizeof list), 1);
        ASSERT_STR_EQ(list, "b");
    }
    cl_client(&c, C, 1); /* a new client on c (reads only) */
    /* a partition and a resync keep every node's claim */
    ASSERT_EQ(cl_register(&c, A, 1, pa, "u", "svc", "again"), 0);
    cl_disconnect(&c, A, B);
    cl_disconnect(&c, A, C);
    ASSERT_EQ(cl_unregister(&c, B, 1, "u", "svc"), 0);
    cl_pump(&c);
    cl_connect(&c, A, B);
    cl_connect(&c, A, C);
    cl_pump(&c);
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(holders(&c, i, 1, "u", "svc", list, sizeof list), 1);
        ASSERT_STR_EQ(list, "a");
    }
    cl_fini(&c);
}

/* Without the option two nodes' claims on one name conflict: the test above fails there. */
static void test_plain_scope_still_conflicts(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid pa = cl_client(&c, A, 1), pb = cl_client(&c, B, 1);
    cl_client(&c, C, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "svc", ""), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "svc", ""), 0);
    cl_pump(&c);
    char list[128];
    ASSERT_EQ(holders(&c, C, 1, "", "svc", list, sizeof list), 1);
    ASSERT_U64_EQ(cl_stats(&c.n[C]).names, 1);
    cl_fini(&c);
}

/* members lists group's entries on node i: their metadata joined by ',' into out. */
static size_t members(struct cluster *c, size_t i, uint64_t conn, const char *scope,
                      const char *group, char *out, size_t cap)
{
    struct cnode *x = &c->n[i];
    cn_clear(x);
    struct rs_msg m = {.type = RS_MSG_MEMBERS, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(group)};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    size_t n = 0, at = 0;
    out[0] = 0;
    for (size_t k = 0; k < x->nlog; k++) {
        const struct rs_msg *it = &x->log[k].m;
        if (it->flags != RS_F_ITEM)
            continue;
        at += (size_t)snprintf(out + at, cap - at, "%s%.*s", n ? "," : "", (int)it->meta.len,
                               it->meta.len ? (const char *)it->meta.ptr : "");
        n++;
    }
    ASSERT_EQ(r->arg, n);
    return n;
}

static void test_duplicate_members(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    cl_client(&c, C, 1);
    ASSERT_EQ(create(&c, A, 1, "d", DUPS), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_JOIN, "d"), 0);
    ASSERT_EQ(cl_scope_op(&c, C, 1, RS_MSG_SCOPE_JOIN, "d"), 0);
    cl_pump(&c);
    cl_client(&c, B, 9);
    cl_subscribe(&c, B, 9, "d", ROSTER_SUB_GROUPS | ROSTER_SUB_ALL);
    /* each join adds an entry with its own metadata, even the same metadata again */
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "m1"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "m2"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "m1"), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[B], 9), 3);
    for (size_t k = 0; k < 3; k++)
        ASSERT_EQ(cl_event(&c.n[B], 9, k)->opts & 0xff, ROSTER_EV_JOINED);
    char list[256];
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(members(&c, i, 1, "d", "g", list, sizeof list), 3);
        ASSERT_STR_EQ(list, "m1,m2,m1");
        ASSERT_U64_EQ(cl_stats(&c.n[i]).members, 3);
    }
    /* each leave removes the pid's oldest entry, on every node */
    ASSERT_EQ(cl_leave(&c, A, 1, pa, "d", "g"), 0);
    cl_pump(&c);
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(members(&c, i, 1, "d", "g", list, sizeof list), 2);
        ASSERT_STR_EQ(list, "m2,m1");
    }
    /* no compare-and-set of one of several entries */
    struct rs_msg up = {.type = RS_MSG_UPDATE, .opts = RS_UPDATE_MEMBER, .pid = pa,
                        .scope = rs_bytes_str("d"), .key = rs_bytes_str("g"),
                        .meta = rs_bytes_str("x")};
    ASSERT_EQ(cl_req(&c, A, 1, &up)->status, ROSTER_EINVAL);
    /* a partition: a leaves once (m2) and joins twice more; b resyncs to a's order */
    cl_disconnect(&c, A, B);
    cl_disconnect(&c, A, C);
    cl_pump(&c);
    ASSERT_EQ(members(&c, B, 1, "d", "g", list, sizeof list), 0);
    ASSERT_EQ(cl_leave(&c, A, 1, pa, "d", "g"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "m3"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "m1"), 0);
    cl_connect(&c, A, B);
    cl_connect(&c, A, C);
    cl_pump(&c);
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(members(&c, i, 1, "d", "g", list, sizeof list), 3);
        ASSERT_STR_EQ(list, "m1,m3,m1");
    }
    ASSERT_EQ(cl_leave(&c, A, 1, pa, "d", "g"), 0);
    cl_pump(&c);
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(members(&c, i, 1, "d", "g", list, sizeof list), 2);
        ASSERT_STR_EQ(list, "m3,m1");
    }
    /* a pid's death takes all its entries */
    cl_client_gone(&c, A, 1);
    cl_pump(&c);
    for (size_t i = B; i <= C; i++)
        ASSERT_EQ(members(&c, i, 1, "d", "g", list, sizeof list), 0);
    cl_fini(&c);
}

/* A resync against entries held from before a partition keeps the owner's order: b held
 * [x, y], a now holds [y, x] (leave x, join x): a greedy match of y then x on b's held
 * entries would keep b at [x, y]; the order-keeping match gives [y, x]. */
static void test_duplicate_members_resync_order(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    ASSERT_EQ(create(&c, A, 1, "d", DUPS), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_JOIN, "d"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "x"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "y"), 0);
    cl_pump(&c);
    /* a's ops to b are lost (the link's queue is cut), but b does not declare a down */
    ASSERT_EQ(cl_leave(&c, A, 1, pa, "d", "g"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "x"), 0);
    rs_buf_reset(&c.n[A].q[B]);
    char list[256];
    ASSERT_EQ(members(&c, B, 1, "d", "g", list, sizeof list), 2);
    ASSERT_STR_EQ(list, "x,y");
    /* b announces d again (as after a lost leave): a answers with its snapshot of d, which
     * b applies over what it holds */
    struct rs_msg again = {.type = RS_MSG_P_SCOPE, .opts = 1u | DUPS, .scope = rs_bytes_str("d")};
    struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = PEER_CONN + B, .msg = &again};
    cl_apply(&c, &c.n[A], &in);
    cn_clear(&c.n[B]);
    cl_client(&c, B, 9);
    cl_subscribe(&c, B, 9, "d", ROSTER_SUB_GROUPS | ROSTER_SUB_ALL);
    cl_pump(&c);
    /* the diff: x (the oldest) left, x joined at the end */
    ASSERT_EQ(cl_nevents(&c.n[B], 9), 2);
    ASSERT_EQ(cl_event(&c.n[B], 9, 0)->opts & 0xff, ROSTER_EV_JOINED);
    ASSERT_EQ(cl_event(&c.n[B], 9, 1)->opts & 0xff, ROSTER_EV_LEFT);
    ASSERT_EQ(members(&c, B, 1, "d", "g", list, sizeof list), 2);
    ASSERT_STR_EQ(list, "y,x");
    ASSERT_EQ(cl_leave(&c, A, 1, pa, "d", "g"), 0);
    cl_pump(&c);
    ASSERT_EQ(members(&c, B, 1, "d", "g", list, sizeof list), 1);
    ASSERT_STR_EQ(list, "x");
    cl_fini(&c);
}

static void test_plain_scope_rejoin_updates(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "", "g", "m1"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "", "g", "m2"), 0);
    char list[64];
    ASSERT_EQ(members(&c, A, 1, "", "g", list, sizeof list), 1);
    ASSERT_STR_EQ(list, "m2");
    cl_fini(&c);
}

TEST_MAIN(T(test_options_travel_with_the_scope), T(test_unique_per_node),
          T(test_plain_scope_still_conflicts), T(test_duplicate_members),
          T(test_duplicate_members_resync_order), T(test_plain_scope_rejoin_updates))
