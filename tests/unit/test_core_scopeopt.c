/* test_core_scopeopt.c: scope options (issue 11 items 9 and 10) on cores wired by
 * cluster_harness.h: options chosen at creation travel with the scope (a node that joins
 * takes them; a node whose scope of that name has other options does not replicate it),
 * SCOPES lists them, and a scope created with ROSTER_SCOPE_UNIQUE_PER_NODE lets every node
 * hold a name once, with no conflict, lookup answering the local holder and NAMES (exact)
 * every holder. */
#include "cluster_harness.h"
#include "wire/query.h"

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

static size_t members(struct cluster *c, size_t i, uint64_t conn, const char *scope,
                      const char *group, char *out, size_t cap);

static uint64_t scope_nodes_of(struct cluster *c, size_t i, uint64_t conn, const char *scope)
{
    struct rs_msg m = {.type = RS_MSG_NODES, .scope = rs_bytes_str(scope)};
    return cl_req(c, i, conn, &m)->arg;
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

/* A node that joins a scope while no peer announces it (cut off) creates it without
 * options; the first peer that announces it gives it its options, as long as it is still
 * empty, and the two then replicate it. */
static void test_join_while_cut_off_adopts_options(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    cl_disconnect(&c, A, B);
    cl_disconnect(&c, B, C);
    cl_pump(&c);
    ASSERT_EQ(create(&c, A, 1, "late", DUPS), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "late", "g", "1"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "late", "g", "2"), 0);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_JOIN, "late"), 0);
    ASSERT_EQ(scope_opts(&c, B, 1, "late"), 0);
    cl_connect(&c, A, B);
    cl_pump(&c);
    ASSERT_EQ(scope_opts(&c, B, 1, "late"), DUPS);
    ASSERT_EQ(scope_nodes_of(&c, B, 1, "late"), 2);
    char list[64];
    ASSERT_EQ(members(&c, B, 1, "late", "g", list, sizeof list), 2);
    ASSERT_STR_EQ(list, "1,2");
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
    /* COUNT: distinct names; with a node, that node's (also when not first in the chain) */
    {
        struct rs_msg cn = {.type = RS_MSG_COUNT, .scope = rs_bytes_str("u"),
                            .node = rs_bytes_str("c")};
        cn_clear(&c.n[A]);
        cl_req(&c, A, 1, &cn);
        int found = 0;
        for (size_t k = 0; k < c.n[A].nlog; k++) {
            const struct rs_msg *it = &c.n[A].log[k].m;
            if (it->flags == RS_F_ITEM && cl_bytes_is(it->key, "names")) {
                ASSERT_U64_EQ(it->arg, 1);
                found = 1;
            }
        }
        ASSERT(found);
    }
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
    cl_client(&c, C, 1); /* a new client on c */
    /* c's claim behind b's in the chain (node-name order) still goes in c's snapshot */
    pc = cl_client(&c, C, 5);
    ASSERT_EQ(cl_register(&c, C, 5, pc, "u", "late", ""), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "u", "late", ""), 0);
    cl_pump(&c);
    cl_disconnect(&c, A, C);
    cl_pump(&c);
    ASSERT_EQ(holders(&c, A, 1, "u", "late", list, sizeof list), 1);
    cl_connect(&c, A, C);
    cl_pump(&c);
    ASSERT_EQ(holders(&c, A, 1, "u", "late", list, sizeof list), 2);
    ASSERT_STR_EQ(list, "b,c");
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
    /* an UNMATCH removes the entries its filter picks, here the newer one (m1): its
     * peers remove that one too, not the pid's oldest (m2) (tests/sim/FINDINGS.md 10) */
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "m2"), 0);
    cl_pump(&c);
    struct rs_buf fb;
    rs_buf_init(&fb);
    struct rs_qfilter qf = {1, {{RS_QOP_PREFIX, rs_bytes_of(NULL, 0), rs_bytes_str("m1")}}};
    const char *why;
    ASSERT_EQ(rs_qfilter_encode(&fb, &qf, &why), 0);
    struct rs_msg um = {.type = RS_MSG_UNMATCH, .pid = pa, .scope = rs_bytes_str("d"),
                        .key = rs_bytes_str("g"), .meta = rs_bytes_of(fb.data, fb.len)};
    rs_msg_unmatch_opts_set(&um, RS_QW_MEMBERS);
    const struct rs_msg *ur = cl_req(&c, A, 1, &um);
    ASSERT_EQ(ur->status, 0);
    ASSERT_U64_EQ(rs_msg_unmatch_reply_removed(ur), 1);
    rs_buf_fini(&fb);
    cl_pump(&c);
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(members(&c, i, 1, "d", "g", list, sizeof list), 2);
        ASSERT_STR_EQ(list, "m2,m2");
    }
    ASSERT_EQ(cl_join(&c, A, 1, pa, "d", "g", "m1"), 0); /* back to m2,m2,m1 */
    ASSERT_EQ(cl_leave(&c, A, 1, pa, "d", "g"), 0);      /* the oldest m2 goes */
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

static int meta_set(struct cluster *c, size_t i, uint64_t conn, const char *scope,
                    const char *key, const char *val)
{
    struct rs_msg m = {.type = RS_MSG_SCOPE_META_SET, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(key), .meta = rs_bytes_str(val)};
    return cl_req(c, i, conn, &m)->status;
}

static int meta_del(struct cluster *c, size_t i, uint64_t conn, const char *scope,
                    const char *key)
{
    struct rs_msg m = {.type = RS_MSG_SCOPE_META_DELETE, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(key)};
    return cl_req(c, i, conn, &m)->status;
}

/* meta_get reads key on node i into out ("" and ENOTFOUND when it has no value). */
static int meta_get(struct cluster *c, size_t i, uint64_t conn, const char *scope,
                    const char *key, char *out, size_t cap)
{
    struct cnode *x = &c->n[i];
    cn_clear(x);
    struct rs_msg m = {.type = RS_MSG_SCOPE_META_GET, .opts = 1, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(key)};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    int st = r->status;
    out[0] = 0;
    for (size_t k = 0; k < x->nlog; k++) {
        const struct rs_msg *it = &x->log[k].m;
        if (it->flags == RS_F_ITEM)
            snprintf(out, cap, "%.*s", (int)it->meta.len,
                     it->meta.len ? (const char *)it->meta.ptr : "");
    }
    return st;
}

static void test_scope_meta_converges(void)
{
    struct cluster c;
    three(&c);
    for (size_t i = A; i <= C; i++)
        cl_client(&c, i, 1);
    cl_client(&c, B, 9);
    uint64_t sub = 0;
    {
        struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_SCOPE_META | ROSTER_SUB_ALL};
        const struct rs_msg *r = cl_req(&c, B, 9, &m);
        ASSERT_EQ(r->status, 0);
        sub = r->arg;
    }
    char v[64];
    ASSERT_EQ(meta_set(&c, A, 1, "", "color", "blue"), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[B], 9), 1);
    const struct rs_msg *e = cl_event(&c.n[B], 9, 0);
    ASSERT_EQ(e->opts & 0xff, ROSTER_EV_SCOPE_META_SET);
    ASSERT_U64_EQ(e->arg, sub);
    ASSERT(cl_bytes_is(e->key, "color") && cl_bytes_is(e->meta, "blue") &&
           cl_bytes_is(e->node, "a") && cl_bytes_is(e->prev, ""));
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(meta_get(&c, i, 1, "", "color", v, sizeof v), 0);
        ASSERT_STR_EQ(v, "blue");
    }
    /* the same value again: no write, nothing replicated, no event */
    cn_clear(&c.n[B]);
    ASSERT_EQ(meta_set(&c, C, 1, "", "color", "blue"), 0);
    ASSERT_EQ(c.n[C].q[A].len + c.n[C].q[B].len, 0);
    /* concurrent sets on both sides of a partition converge on one value, the same whatever
     * the stamps: the later stamp (c's clock runs ahead) wins on every node */
    cl_disconnect(&c, A, C);
    cl_disconnect(&c, B, C);
    ASSERT_EQ(meta_set(&c, A, 1, "", "k", "from-a"), 0);
    c.wall += 5;
    ASSERT_EQ(meta_set(&c, C, 1, "", "k", "from-c"), 0);
    ASSERT_EQ(meta_del(&c, C, 1, "", "color"), 0); /* a delete on one side ... */
    c.wall -= 5;
    ASSERT_EQ(meta_set(&c, B, 1, "", "color", "red"), 0); /* ... an older set on the other */
    cl_pump(&c);
    ASSERT_EQ(meta_get(&c, A, 1, "", "k", v, sizeof v), 0);
    ASSERT_STR_EQ(v, "from-a");
    cl_connect(&c, A, C);
    cl_connect(&c, B, C);
    cl_pump(&c);
    for (size_t i = A; i <= C; i++) {
        ASSERT_EQ(meta_get(&c, i, 1, "", "k", v, sizeof v), 0);
        ASSERT_STR_EQ(v, "from-c");
        ASSERT_EQ(meta_get(&c, i, 1, "", "color", v, sizeof v), ROSTER_ENOTFOUND);
    }
    /* deleting a key with no value is ENOTFOUND */
    ASSERT_EQ(meta_del(&c, A, 1, "", "color"), ROSTER_ENOTFOUND);
    ASSERT_EQ(meta_del(&c, A, 1, "", "k"), 0);
    cl_pump(&c);
    ASSERT_EQ(meta_get(&c, C, 1, "", "k", v, sizeof v), ROSTER_ENOTFOUND);
    cl_fini(&c);
}

/* A node that joins the scope later gets its metadata by the full sync; a scope the node has
 * not joined refuses; a strong scope is EINVAL; malformed P_SMETA fails the peer. */
static void test_scope_meta_sync_and_errors(void)
{
    struct cluster c;
    three(&c);
    for (size_t i = A; i <= C; i++)
        cl_client(&c, i, 1);
    ASSERT_EQ(create(&c, A, 1, "sm", 0), 0);
    ASSERT_EQ(meta_set(&c, A, 1, "sm", "x", "1"), 0);
    ASSERT_EQ(meta_set(&c, A, 1, "sm", "y", "2"), 0);
    cl_pump(&c);
    char v[64];
    ASSERT_EQ(meta_get(&c, B, 1, "sm", "x", v, sizeof v), ROSTER_ENOSCOPE);
    ASSERT_EQ(meta_set(&c, B, 1, "sm", "x", "b"), ROSTER_ENOSCOPE);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_JOIN, "sm"), 0);
    cl_pump(&c);
    ASSERT_EQ(meta_get(&c, B, 1, "sm", "y", v, sizeof v), 0);
    ASSERT_STR_EQ(v, "2");
    /* the listing: every key, sorted */
    cn_clear(&c.n[B]);
    struct rs_msg all = {.type = RS_MSG_SCOPE_META_GET, .scope = rs_bytes_str("sm")};
    ASSERT_EQ(cl_req(&c, B, 1, &all)->arg, 2);
    /* bounds */
    ASSERT_EQ(meta_set(&c, A, 1, "sm", "", "v"), ROSTER_EINVAL);
    char *big = malloc(c.lim.name_max + 2);
    ASSERT(big != NULL);
    memset(big, 'k', c.lim.name_max + 1);
    big[c.lim.name_max + 1] = 0;
    ASSERT_EQ(meta_set(&c, A, 1, "sm", big, "v"), ROSTER_ENAMETOOLONG);
    free(big);
    /* the key cap */
    for (unsigned k = 0; k < RS_SCOPE_META_MAX - 2; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%u", k);
        ASSERT_EQ(meta_set(&c, A, 1, "sm", key, "v"), 0);
        cn_clear(&c.n[A]);
    }
    ASSERT_EQ(meta_set(&c, A, 1, "sm", "one-more", "v"), ROSTER_ELIMIT);
    ASSERT_EQ(meta_set(&c, A, 1, "sm", "x", "new value of a key it has"), 0);
    cl_pump(&c);
    /* malformed P_SMETA: an unknown op fails the sender */
    struct rs_msg bad = {.type = RS_MSG_P_SMETA, .opts = 9, .scope = rs_bytes_str("sm"),
                         .node = rs_bytes_str("a"), .key = rs_bytes_str("x")};
    struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = PEER_CONN + A, .msg = &bad};
    cl_apply(&c, &c.n[B], &in);
    ASSERT(cl_closed(&c.n[B], PEER_CONN + A));
    cl_fini(&c);
}

/* advance moves time ms forward in heartbeat-sized steps, ticking and pumping every node. */
static void advance(struct cluster *c, uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t += 50) {
        c->now += 50;
        c->wall += 50;
        for (size_t i = 0; i < c->nn; i++)
            cl_tick(c, i);
        cl_pump(c);
    }
}

static int lease(struct cluster *c, size_t i, uint64_t conn, const char *scope, uint64_t ttl)
{
    struct rs_msg m = {.type = RS_MSG_SCOPE_LEASE, .arg = ttl, .scope = rs_bytes_str(scope)};
    return cl_req(c, i, conn, &m)->status;
}

static uint64_t scope_nodes(struct cluster *c, size_t i, uint64_t conn, const char *scope)
{
    struct rs_msg m = {.type = RS_MSG_NODES, .scope = rs_bytes_str(scope)};
    return cl_req(c, i, conn, &m)->arg;
}

static void test_scope_lease(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid pa = cl_client(&c, A, 1), pc = cl_client(&c, C, 1);
    cl_client(&c, C, 9);
    ASSERT_EQ(create(&c, A, 1, "ls", 0), 0);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "ls", "svc", ""), 0);
    ASSERT_EQ(lease(&c, C, 1, "ls", 0), ROSTER_EINVAL);
    ASSERT_EQ(lease(&c, C, 1, "", 1000), ROSTER_EINVAL); /* default is never left */
    ASSERT_EQ(lease(&c, C, 1, "ls", 1000), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_lookup(&c, C, 1, "ls", "svc", NULL, NULL, NULL), 0);
    ASSERT_EQ(scope_nodes(&c, A, 1, "ls"), 2);
    /* a subscription keeps it */
    uint64_t sub = cl_subscribe(&c, C, 9, "ls", ROSTER_SUB_ALL);
    advance(&c, 3000);
    ASSERT_EQ(cl_lookup(&c, C, 1, "ls", "svc", NULL, NULL, NULL), 0);
    struct rs_msg un = {.type = RS_MSG_UNSUBSCRIBE, .arg = sub};
    ASSERT_EQ(cl_req(&c, C, 9, &un)->status, 0);
    advance(&c, 500);
    ASSERT_EQ(cl_lookup(&c, C, 1, "ls", "svc", NULL, NULL, NULL), 0);
    /* unused for its lease: c leaves, drops a's entry and a stops counting it */
    advance(&c, 1000);
    ASSERT_EQ(cl_lookup(&c, C, 1, "ls", "svc", NULL, NULL, NULL), ROSTER_ENOTFOUND);
    ASSERT_EQ(cl_register(&c, C, 1, pc, "ls", "x", ""), ROSTER_ENOSCOPE);
    ASSERT_EQ(scope_nodes(&c, A, 1, "ls"), 1);
    /* a local entry keeps it; once it goes, the lease runs out again */
    ASSERT_EQ(lease(&c, C, 1, "ls", 1000), 0);
    ASSERT_EQ(cl_register(&c, C, 1, pc, "ls", "mine", ""), 0);
    advance(&c, 3000);
    ASSERT_EQ(scope_nodes(&c, A, 1, "ls"), 2);
    ASSERT_EQ(cl_unregister(&c, C, 1, "ls", "mine"), 0);
    advance(&c, 1500);
    ASSERT_EQ(scope_nodes(&c, A, 1, "ls"), 1);
    /* a monitor of a pid holding an entry in it keeps it */
    ASSERT_EQ(lease(&c, C, 1, "ls", 1000), 0);
    cl_pump(&c);
    struct rs_msg mon = {.type = RS_MSG_MONITOR, .pid = pa};
    const struct rs_msg *mr = cl_req(&c, C, 9, &mon);
    ASSERT_EQ(mr->status, 0);
    uint64_t mid = mr->arg;
    advance(&c, 3000);
    ASSERT_EQ(scope_nodes(&c, A, 1, "ls"), 2);
    struct rs_msg dm = {.type = RS_MSG_DEMONITOR, .arg = mid};
    ASSERT_EQ(cl_req(&c, C, 9, &dm)->status, 0);
    advance(&c, 1500);
    ASSERT_EQ(scope_nodes(&c, A, 1, "ls"), 1);
    /* a plain join makes it permanent */
    ASSERT_EQ(lease(&c, C, 1, "ls", 1000), 0);
    ASSERT_EQ(cl_scope_op(&c, C, 1, RS_MSG_SCOPE_JOIN, "ls"), 0);
    advance(&c, 3000);
    ASSERT_EQ(scope_nodes(&c, A, 1, "ls"), 2);
    cl_fini(&c);
}

TEST_MAIN(T(test_join_while_cut_off_adopts_options), T(test_scope_lease), T(test_scope_meta_converges), T(test_scope_meta_sync_and_errors),
          T(test_options_travel_with_the_scope), T(test_unique_per_node),
          T(test_plain_scope_still_conflicts), T(test_duplicate_members),
          T(test_duplicate_members_resync_order), T(test_plain_scope_rejoin_updates))
