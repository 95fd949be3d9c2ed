/* test_core_cluster.c: the cluster protocol of the core, two or three cores wired by the
 * in-test exchange of cluster_harness.h: replication of writes, snapshots on connect, purge
 * on PEER_GONE and on heartbeat silence, restarts with a new incarnation, conflicts under
 * every policy in both arrival orders, hidden claims surfacing, scope isolation, remote
 * monitors, malformed peer frames, replaced and duplicate connections, gossip and redial
 * after restarts, re-resolution on update, HLC skew bound, peer monitor and unread output
 * caps, and the cost of purging 100,000 names. */
#include <time.h>

#include "cluster_harness.h"
#include "fault.h"

#define A 0
#define B 1
#define C 2
#define INC_A 0xa1ull
#define INC_B 0xb2ull
#define INC_C 0xc3ull

static void two(struct cluster *c, const struct rs_core_config *cfg)
{
    cl_init(c);
    cl_add(c, "a", INC_A, cfg);
    cl_add(c, "b", INC_B, cfg);
}

static void test_replicate_writes(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    cl_subscribe(&c, B, 1, "", 0);
    cn_clear(&c.n[B]);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "svc", "m1"), 0);
    cl_pump(&c);
    struct rs_pid got;
    char meta[64], node[64];
    ASSERT_EQ(cl_lookup(&c, B, 1, "", "svc", &got, meta, node), 0);
    ASSERT(cl_pid_eq(got, pa));
    ASSERT_STR_EQ(meta, "m1");
    ASSERT_STR_EQ(node, "a");
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 1);
    const struct rs_msg *e = cl_event(&c.n[B], 1, 0);
    ASSERT_EQ(e->opts & 0xff, ROSTER_EV_REGISTERED);
    ASSERT(cl_bytes_is(e->node, "a"));
    /* B cannot take it, nor unregister it */
    struct rs_pid pb = cl_client(&c, B, 2);
    ASSERT_EQ(cl_register(&c, B, 2, pb, "", "svc", ""), ROSTER_ETAKEN);
    ASSERT_EQ(cl_unregister(&c, B, 2, "", "svc"), ROSTER_ENOTOWNER);
    /* update */
    cn_clear(&c.n[B]);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "svc", "m2"), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 1);
    e = cl_event(&c.n[B], 1, 0);
    ASSERT_EQ(e->opts & 0xff, ROSTER_EV_UPDATED);
    ASSERT(cl_bytes_is(e->meta, "m2") && cl_bytes_is(e->prev, "m1"));
    /* groups: join, update, leave */
    cn_clear(&c.n[B]);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "", "g", "x"), 0);
    ASSERT_EQ(cl_join(&c, B, 2, pb, "", "g", "y"), 0);
    cl_pump(&c);
    for (size_t i = A; i <= B; i++) {
        ASSERT_U64_EQ(cl_stats(&c.n[i]).members, 2);
        ASSERT_U64_EQ(cl_stats(&c.n[i]).groups, 1);
        struct rs_msg m = {.type = RS_MSG_MEMBERS, .key = rs_bytes_str("g")};
        ASSERT_EQ(cl_req(&c, i, 1, &m)->arg, 2);
        struct rs_msg ml = {.type = RS_MSG_MEMBERS, .opts = RS_OPT_LOCAL, .key = rs_bytes_str("g")};
        ASSERT_EQ(cl_req(&c, i, 1, &ml)->arg, 1);
    }
    struct rs_msg im = {.type = RS_MSG_IS_MEMBER, .pid = pa, .key = rs_bytes_str("g")};
    ASSERT_EQ(cl_req(&c, B, 1, &im)->arg, 1);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "", "g", "x2"), 0);
    ASSERT_EQ(cl_leave(&c, B, 2, pb, "", "g"), 0);
    cl_pump(&c);
    ASSERT_U64_EQ(cl_stats(&c.n[A]).members, 1);
    cn_clear(&c.n[B]);
    ASSERT_EQ(cl_leave(&c, A, 1, pa, "", "g"), 0);
    ASSERT_EQ(cl_unregister(&c, A, 1, "", "svc"), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 2);
    ASSERT_EQ(cl_event(&c.n[B], 1, 0)->opts & 0xff, ROSTER_EV_LEFT);
    ASSERT_EQ(cl_event(&c.n[B], 1, 1)->opts, ROSTER_EV_UNREGISTERED | (ROSTER_REASON_NORMAL << 8));
    ASSERT_EQ(cl_lookup(&c, B, 1, "", "svc", NULL, NULL, NULL), ROSTER_ENOTFOUND);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).members, 0);
    /* a pid death is one P_PID_DOWN: names and memberships go on B */
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "n1", ""), 0);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "n2", ""), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "", "g", ""), 0);
    cl_pump(&c);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 2);
    cl_client_gone(&c, A, 1);
    size_t before = c.n[A].q[B].len;
    ASSERT(before > 0);
    struct rs_msg first;
    ASSERT_EQ(rs_wire_decode(c.n[A].q[B].data, before, &c.lim, &first), RS_WIRE_OK);
    ASSERT_EQ(first.type, RS_MSG_P_PID_DOWN);
    cn_clear(&c.n[B]);
    cl_pump(&c);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).members, 0);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 3);
    ASSERT_EQ((cl_event(&c.n[B], 1, 0)->opts >> 8) & 0xff, ROSTER_REASON_DISCONNECTED);
    cl_fini(&c);
}

static void test_snapshot_on_connect(void)
{
    struct cluster c;
    two(&c, NULL);
    struct rs_pid pa = cl_client(&c, A, 1);
    struct rs_pid pb = cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "a1", "x"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "", "grp", "ma"), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "b1", "y"), 0);
    ASSERT_EQ(cl_join(&c, B, 1, pb, "", "grp", "mb"), 0);
    cl_client(&c, B, 2);
    cl_subscribe(&c, B, 2, "", ROSTER_SUB_SNAPSHOT);
    cn_clear(&c.n[B]);
    cl_connect(&c, A, B);
    cl_pump(&c);
    for (size_t i = A; i <= B; i++) {
        ASSERT_U64_EQ(cl_stats(&c.n[i]).names, 2);
        ASSERT_U64_EQ(cl_stats(&c.n[i]).members, 2);
        ASSERT_U64_EQ(cl_stats(&c.n[i]).groups, 1);
    }
    /* B's subscriber: node_up, then exactly A's two entries */
    ASSERT_EQ(cl_nevents(&c.n[B], 2), 3);
    ASSERT_EQ(cl_event(&c.n[B], 2, 0)->opts, ROSTER_EV_NODE_UP);
    ASSERT(cl_bytes_is(cl_event(&c.n[B], 2, 0)->node, "a"));
    ASSERT_EQ(cl_event(&c.n[B], 2, 1)->opts & 0xff, ROSTER_EV_REGISTERED);
    ASSERT_EQ(cl_event(&c.n[B], 2, 2)->opts & 0xff, ROSTER_EV_JOINED);
    /* NODES and COUNT per node */
    struct rs_msg nm = {.type = RS_MSG_NODES};
    ASSERT_EQ(cl_req(&c, B, 1, &nm)->arg, 2);
    struct rs_msg cnt = {.type = RS_MSG_COUNT, .node = rs_bytes_str("a")};
    const struct rs_msg *r = cl_req(&c, B, 1, &cnt);
    ASSERT_EQ(r->status, 0);
    size_t items = 0;
    for (size_t k = 0; k < c.n[B].nlog; k++) {
        const struct cframe *f = &c.n[B].log[k];
        if (f->m.type == RS_MSG_COUNT && f->m.flags == RS_F_ITEM && f->m.req_id == r->req_id) {
            items++;
            ASSERT_U64_EQ(f->m.arg, 1); /* 1 name, 1 group, 1 member of node a */
        }
    }
    ASSERT_EQ(items, 3);
    struct rs_msg cz = {.type = RS_MSG_COUNT, .node = rs_bytes_str("zz")};
    ASSERT_EQ(cl_req(&c, B, 1, &cz)->status, ROSTER_ENOTFOUND);
    cl_fini(&c);
}

static void test_purge_on_gone_and_silence(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "x", ""), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "", "g", ""), 0);
    cl_pump(&c);
    cl_subscribe(&c, B, 1, "", 0);
    struct rs_msg mon = {.type = RS_MSG_MONITOR, .pid = pa};
    uint64_t mid = cl_req(&c, B, 1, &mon)->arg;
    cl_pump(&c);
    cn_clear(&c.n[B]);
    /* heartbeats keep it up while frames flow */
    for (int k = 0; k < 20; k++) {
        c.now += 400;
        cl_tick(&c, A);
        cl_tick(&c, B);
        cl_pump(&c);
    }
    ASSERT_EQ(c.n[B].nclosed, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 1);
    /* silence: B stops hearing from A */
    c.now += 3100;
    cl_tick(&c, B);
    ASSERT(cl_closed(&c.n[B], PEER_CONN + A));
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).members, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).groups, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).monitors, 0);
    /* DOWN node_down, unregistered/left node_down, NODE_DOWN */
    int down = 0, unreg = 0, left = 0, nd = 0;
    for (size_t k = 0; k < cl_nevents(&c.n[B], 1); k++) {
        const struct rs_msg *e = cl_event(&c.n[B], 1, k);
        uint32_t kind = e->opts & 0xff, reason = (e->opts >> 8) & 0xff;
        if (kind == ROSTER_EV_DOWN && e->arg == mid && reason == ROSTER_REASON_NODE_DOWN)
            down++;
        if (kind == ROSTER_EV_UNREGISTERED && reason == ROSTER_REASON_NODE_DOWN)
            unreg++;
        if (kind == ROSTER_EV_LEFT && reason == ROSTER_REASON_NODE_DOWN)
            left++;
        if (kind == ROSTER_EV_NODE_DOWN && cl_bytes_is(e->node, "a"))
            nd++;
    }
    ASSERT(down == 1 && unreg == 1 && left == 1 && nd == 1);
    /* the shell reports the close: nothing more happens */
    cn_clear(&c.n[B]);
    cl_peer_gone(&c, B, A);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 0);
    struct rs_msg nm = {.type = RS_MSG_NODES};
    cl_req(&c, B, 1, &nm);
    int saw_down = 0;
    for (size_t k = 0; k < c.n[B].nlog; k++) {
        const struct rs_msg *it = &c.n[B].log[k].m;
        if (it->type == RS_MSG_NODES && it->flags == RS_F_ITEM && cl_bytes_is(it->node, "a"))
            saw_down = (it->opts & 0xff) == ROSTER_NODE_DOWN;
    }
    ASSERT(saw_down);
    /* PEER_GONE purges too (and A purges B) */
    cl_peer_gone(&c, A, B);
    cl_connect(&c, A, B);
    cl_pump(&c);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 1);
    cl_disconnect(&c, A, B);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 1);
    cl_fini(&c);
}

static void test_restart_new_incarnation(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "x", ""), 0);
    cl_pump(&c);
    /* a second live "a" with another incarnation is refused while the first is up */
    cl_add(&c, "a", 0xa9ull, NULL);
    cl_peer_up(&c, B, C, 0); /* conn PEER_CONN+2 on B: node "a", inc 0xa9 */
    ASSERT(cl_closed(&c.n[B], PEER_CONN + C));
    c.n[B].link[C] = 0;
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 1);
    /* a restarts: B sees the old connection go, the new incarnation connect */
    cl_peer_gone(&c, B, A);
    cl_restart(&c, A, 0xa5ull);
    cl_connect(&c, A, B);
    cl_pump(&c);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 0);
    struct rs_msg nm = {.type = RS_MSG_NODES};
    ASSERT_EQ(cl_req(&c, B, 1, &nm)->arg, 2); /* b and the new a: the old record is gone */
    struct rs_pid pa2 = cl_client(&c, A, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa2, "", "x", ""), 0);
    cl_pump(&c);
    struct rs_pid got;
    ASSERT_EQ(cl_lookup(&c, B, 1, "", "x", &got, NULL, NULL), 0);
    ASSERT_U64_EQ(got.inc, 0xa5ull);
    /* monitors of the old incarnation's pids: noproc at once */
    struct rs_msg mon = {.type = RS_MSG_MONITOR, .pid = pa};
    cn_clear(&c.n[B]);
    cl_req(&c, B, 1, &mon);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 1);
    ASSERT_EQ(cl_event(&c.n[B], 1, 0)->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NOPROC << 8));
    cl_fini(&c);
}

/* --- conflicts ------------------------------------------------------------------------ */

static int by_meta(const struct rs_claim_view *a, const struct rs_claim_view *b)
{
    /* larger metadata (as text) wins */
    size_t n = a->meta_len < b->meta_len ? a->meta_len : b->meta_len;
    int r = n ? memcmp(b->meta, a->meta, n) : 0;
    return r ? r : (int)b->meta_len - (int)a->meta_len;
}

struct conflict_case {
    enum rs_conflict_policy policy;
    int a_first;   /* a registers first (earlier wall clock) */
    int deliver_a; /* a's frames delivered to b before b's to a */
    size_t winner;
};

static void run_conflict(const struct conflict_case *k)
{
    static const struct rs_node_priority prios[] = {{"a", 1}, {"b", 5}};
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = k->policy;
    cfg.resolver = by_meta;
    cfg.priorities = prios;
    cfg.n_priorities = 2;
    struct cluster c;
    two(&c, &cfg);
    struct rs_pid p[2];
    p[A] = cl_client(&c, A, 1);
    p[B] = cl_client(&c, B, 1);
    cl_client(&c, A, 2);
    cl_client(&c, B, 2);
    cl_subscribe(&c, A, 2, "", 0);
    cl_subscribe(&c, B, 2, "", 0);
    cl_connect(&c, A, B);
    cl_pump(&c);
    size_t first = k->a_first ? A : B, second = k->a_first ? B : A;
    ASSERT_EQ(cl_register(&c, first, 1, p[first], "", "k", first == A ? "zz" : "aa"), 0);
    c.wall += 10;
    ASSERT_EQ(cl_register(&c, second, 1, p[second], "", "k", second == A ? "zz" : "aa"), 0);
    cn_clear(&c.n[A]);
    cn_clear(&c.n[B]);
    size_t d1 = k->deliver_a ? A : B, d2 = k->deliver_a ? B : A;
    while (cl_step(&c, d1, d2))
        ;
    while (cl_step(&c, d2, d1))
        ;
    cl_pump(&c);
    size_t loser = k->winner == A ? B : A;
    for (size_t i = A; i <= B; i++) {
        struct rs_pid got;
        ASSERT_EQ(cl_lookup(&c, i, 2, "", "k", &got, NULL, NULL), 0);
        ASSERT(cl_pid_eq(got, p[k->winner]));
        ASSERT_U64_EQ(cl_stats(&c.n[i]).names, 1); /* the losing claim is gone everywhere */
    }
    /* the loser's client: exactly one CONFLICT, naming the winner */
    ASSERT_EQ(cl_nevents(&c.n[loser], 1), 1);
    const struct rs_msg *e = cl_event(&c.n[loser], 1, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_CONFLICT | (ROSTER_REASON_CONFLICT << 8));
    ASSERT(cl_pid_eq(e->pid, p[loser]));
    char wt[ROSTER_PID_STRLEN];
    snprintf(wt, sizeof wt, "%016llx.%llu", (unsigned long long)p[k->winner].inc,
             (unsigned long long)p[k->winner].serial);
    ASSERT(cl_bytes_is(e->prev, wt));
    ASSERT_EQ(cl_nevents(&c.n[k->winner], 1), 0);
    /* subscribers: the loser's node saw its claim leave (conflict) then the winner's; the
     * winner's node saw nothing, or (if the loser's claim arrived first) nothing either */
    ASSERT_EQ(cl_nevents(&c.n[loser], 2), 2);
    ASSERT_EQ(cl_event(&c.n[loser], 2, 0)->opts,
              ROSTER_EV_UNREGISTERED | (ROSTER_REASON_CONFLICT << 8));
    ASSERT_EQ(cl_event(&c.n[loser], 2, 1)->opts & 0xff, ROSTER_EV_REGISTERED);
    ASSERT(cl_pid_eq(cl_event(&c.n[loser], 2, 1)->pid, p[k->winner]));
    ASSERT_EQ(cl_nevents(&c.n[k->winner], 2), 0);
    cl_fini(&c);
}

static void test_conflicts_every_policy_both_orders(void)
{
    /* a's claim: meta "zz", b's: "aa"; priorities a=1 b=5 */
    for (int a_first = 0; a_first <= 1; a_first++) {
        for (int deliver_a = 0; deliver_a <= 1; deliver_a++) {
            size_t older = a_first ? A : B, newer = a_first ? B : A;
            struct conflict_case cases[] = {
                {RS_POLICY_OLDEST, a_first, deliver_a, older},
                {RS_POLICY_NEWEST, a_first, deliver_a, newer},
                {RS_POLICY_PRIORITY, a_first, deliver_a, B},
                {RS_POLICY_CUSTOM, a_first, deliver_a, A},
            };
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                run_conflict(&cases[i]);
        }
    }
}

static void test_hidden_claim_surfaces(void)
{
    struct cluster c;
    cl_init(&c);
    cl_add(&c, "a", INC_A, NULL);
    cl_add(&c, "b", INC_B, NULL);
    cl_add(&c, "c", INC_C, NULL);
    cl_connect(&c, A, C);
    cl_connect(&c, B, C);
    cl_pump(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    struct rs_pid pb = cl_client(&c, B, 1);
    cl_client(&c, C, 1);
    cl_subscribe(&c, C, 1, "", 0);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "k", ""), 0); /* older: wins */
    c.wall += 5;
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "k", ""), 0);
    cn_clear(&c.n[C]);
    cl_pump(&c); /* a and b are not connected: b keeps its claim, c hides it */
    struct rs_pid got;
    ASSERT_EQ(cl_lookup(&c, C, 1, "", "k", &got, NULL, NULL), 0);
    ASSERT(cl_pid_eq(got, pa));
    ASSERT_U64_EQ(cl_stats(&c.n[C]).names, 2);
    ASSERT_EQ(cl_nevents(&c.n[C], 1), 1); /* registered(a) only */
    /* the winner dies: b's claim becomes visible, no live registration is missing */
    cn_clear(&c.n[C]);
    cl_client_gone(&c, A, 1);
    cl_pump(&c);
    ASSERT_EQ(cl_lookup(&c, C, 1, "", "k", &got, NULL, NULL), 0);
    ASSERT(cl_pid_eq(got, pb));
    ASSERT_EQ(cl_nevents(&c.n[C], 1), 2);
    ASSERT_EQ(cl_event(&c.n[C], 1, 0)->opts,
              ROSTER_EV_UNREGISTERED | (ROSTER_REASON_DISCONNECTED << 8));
    ASSERT_EQ(cl_event(&c.n[C], 1, 1)->opts & 0xff, ROSTER_EV_REGISTERED);
    ASSERT(cl_pid_eq(cl_event(&c.n[C], 1, 1)->pid, pb));
    cl_fini(&c);
}

static uint64_t last_op_hlc(const struct cnode *x, size_t to)
{
    const struct rs_buf *q = &x->q[to];
    size_t off = 0, flen = 0;
    uint64_t hlc = 0;
    struct rs_limits l;
    rs_limits_default(&l);
    while (off < q->len && rs_wire_frame_next(q->data + off, q->len - off, l.frame_max, &flen) ==
                               RS_WIRE_OK) {
        struct rs_msg m;
        ASSERT_EQ(rs_wire_decode(q->data + off, flen, &l, &m), RS_WIRE_OK);
        if (m.type == RS_MSG_P_OP)
            hlc = m.arg;
        off += flen;
    }
    return hlc;
}

static void test_hlc_never_below_received(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    struct rs_pid pb = cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "one", ""), 0);
    uint64_t h1 = last_op_hlc(&c.n[A], B);
    ASSERT_U64_EQ(h1 >> 16, c.wall);
    cl_pump(&c);
    c.wall -= 60000; /* b's clock is a minute behind */
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "two", ""), 0);
    uint64_t h2 = last_op_hlc(&c.n[B], A);
    ASSERT(h2 > h1);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "three", ""), 0);
    ASSERT(last_op_hlc(&c.n[B], A) > h2); /* same millisecond: the logical part orders */
    cl_fini(&c);
}

/* --- scopes ---------------------------------------------------------------------------- */

static int queue_has(const struct rs_buf *q, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= q->len; i++)
        if (memcmp(q->data + i, s, n) == 0)
            return 1;
    return 0;
}

static void test_scope_isolation(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    struct rs_pid pb = cl_client(&c, B, 1);
    ASSERT_EQ(cl_scope_op(&c, A, 1, RS_MSG_SCOPE_CREATE, "secret"), 0);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "secret", "hush-name", "hush-meta"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "secret", "hush-group", ""), 0);
    ASSERT(!queue_has(&c.n[A].q[B], "hush"));
    cl_pump(&c);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 0);
    /* b has not joined: writes there are ENOSCOPE (the scope does not even exist on b) */
    ASSERT_EQ(cl_register(&c, B, 1, pb, "secret", "x", ""), ROSTER_ENOSCOPE);
    /* b joins: it gets a's snapshot of the scope */
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_JOIN, "secret"), 0);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_JOIN, "secret"), 0); /* idempotent */
    cl_pump(&c);
    struct rs_pid got;
    ASSERT_EQ(cl_lookup(&c, B, 1, "secret", "hush-name", &got, NULL, NULL), 0);
    ASSERT(cl_pid_eq(got, pa));
    struct rs_msg nm = {.type = RS_MSG_NODES, .scope = rs_bytes_str("secret")};
    ASSERT_EQ(cl_req(&c, B, 1, &nm)->arg, 2);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "secret", "mine", ""), 0);
    cl_pump(&c);
    ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 2);
    /* leaving: busy with local entries; default cannot be left */
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_LEAVE, "secret"), ROSTER_EBUSY);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_LEAVE, ""), ROSTER_EINVAL);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_LEAVE, "nope"), ROSTER_ENOSCOPE);
    ASSERT_EQ(cl_unregister(&c, B, 1, "secret", "mine"), 0);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_LEAVE, "secret"), 0);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 0); /* replicated data dropped */
    ASSERT_U64_EQ(cl_stats(&c.n[B]).members, 0);
    cl_pump(&c);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "secret", "hush-2", ""), 0);
    ASSERT(!queue_has(&c.n[A].q[B], "hush"));
    ASSERT_EQ(cl_register(&c, B, 1, pb, "secret", "x", ""), ROSTER_ENOSCOPE);
    cl_fini(&c);
}

static void test_config_scopes_and_gossip(void)
{
    static const char *const scopes[] = {"s1"};
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.scopes = scopes;
    cfg.n_scopes = 1;
    struct cluster c;
    cl_init(&c);
    cl_add(&c, "a", INC_A, &cfg);
    cl_add(&c, "b", INC_B, &cfg);
    cl_add(&c, "c", INC_C, &cfg);
    cl_connect(&c, A, B);
    cl_pump(&c);
    cl_connect(&c, B, C);
    cn_clear(&c.n[C]);
    cl_pump(&c);
    /* c learns a from b and asks the shell to dial it */
    ASSERT_EQ(c.n[C].ndials, 1);
    ASSERT_STR_EQ(c.n[C].dials[0], "a 10.0.0.1:4369");
    struct rs_pid pa = cl_client(&c, A, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "s1", "n", ""), 0);
    cl_connect(&c, C, A);
    cl_pump(&c);
    struct rs_pid got;
    cl_client(&c, C, 1);
    ASSERT_EQ(cl_lookup(&c, C, 1, "s1", "n", &got, NULL, NULL), 0);
    ASSERT(cl_pid_eq(got, pa));
    cl_fini(&c);
}

/* --- monitors --------------------------------------------------------------------------- */

static void test_remote_monitors(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    cl_client(&c, A, 1);
    struct rs_msg pn = {.type = RS_MSG_PID_NEW};
    struct rs_pid q1 = cl_req(&c, A, 1, &pn)->pid;
    struct rs_msg pn2 = {.type = RS_MSG_PID_NEW};
    struct rs_pid q2 = cl_req(&c, A, 1, &pn2)->pid;
    cl_client(&c, B, 1);
    struct rs_msg m1 = {.type = RS_MSG_MONITOR, .pid = q1};
    uint64_t id1 = cl_req(&c, B, 1, &m1)->arg;
    struct rs_msg m2 = {.type = RS_MSG_MONITOR, .pid = q2};
    uint64_t id2 = cl_req(&c, B, 1, &m2)->arg;
    struct rs_msg d2 = {.type = RS_MSG_DEMONITOR, .arg = id2};
    ASSERT_EQ(cl_req(&c, B, 1, &d2)->status, 0);
    struct rs_pid ghost = {INC_A, 999};
    struct rs_msg m3 = {.type = RS_MSG_MONITOR, .pid = ghost};
    uint64_t id3 = cl_req(&c, B, 1, &m3)->arg;
    cn_clear(&c.n[B]);
    cl_pump(&c);
    /* unknown pid of a known node: noproc from its owner */
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 1);
    ASSERT_EQ(cl_event(&c.n[B], 1, 0)->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NOPROC << 8));
    ASSERT_U64_EQ(cl_event(&c.n[B], 1, 0)->arg, id3);
    cn_clear(&c.n[B]);
    struct rs_msg pc = {.type = RS_MSG_PID_CLOSE, .pid = q1};
    ASSERT_EQ(cl_req(&c, A, 1, &pc)->status, 0);
    struct rs_msg pc2 = {.type = RS_MSG_PID_CLOSE, .pid = q2};
    ASSERT_EQ(cl_req(&c, A, 1, &pc2)->status, 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 1); /* q2 was demonitored */
    const struct rs_msg *e = cl_event(&c.n[B], 1, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NORMAL << 8));
    ASSERT_U64_EQ(e->arg, id1);
    ASSERT(cl_pid_eq(e->pid, q1));
    ASSERT(cl_bytes_is(e->node, "a"));
    ASSERT_U64_EQ(cl_stats(&c.n[B]).monitors, 0);
    /* unknown incarnation: noproc at once */
    cn_clear(&c.n[B]);
    struct rs_pid far = {0x77, 1};
    struct rs_msg m4 = {.type = RS_MSG_MONITOR, .pid = far};
    cl_req(&c, B, 1, &m4);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 1);
    ASSERT_EQ(cl_event(&c.n[B], 1, 0)->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NOPROC << 8));
    /* the watcher's client leaving drops the peer monitor on a */
    struct rs_msg pn3 = {.type = RS_MSG_PID_NEW};
    struct rs_pid q3 = cl_req(&c, A, 1, &pn3)->pid;
    cl_client(&c, B, 2);
    struct rs_msg m5 = {.type = RS_MSG_MONITOR, .pid = q3};
    cl_req(&c, B, 2, &m5);
    cl_pump(&c);
    cl_client_gone(&c, B, 2);
    cl_pump(&c);
    cn_clear(&c.n[A]);
    struct rs_msg pc3 = {.type = RS_MSG_PID_CLOSE, .pid = q3};
    cl_req(&c, A, 1, &pc3);
    ASSERT_EQ(c.n[A].q[B].len, 0); /* no P_DOWN: nobody watches any more */
    cl_fini(&c);
}

/* --- malformed peer frames ---------------------------------------------------------------- */

static void feed(struct cluster *c, size_t to, size_t from, const struct rs_msg *m)
{
    struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = PEER_CONN + from, .msg = m};
    cl_apply(c, &c->n[to], &in);
}

static void test_malformed_peer_frames(void)
{
    struct rs_msg bad[12];
    memset(bad, 0, sizeof bad);
    size_t nb = 0;
    bad[nb++] = (struct rs_msg){.type = RS_MSG_REGISTER}; /* a client frame */
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_PING, .flags = RS_F_REPLY};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_OP, .opts = RS_POP_REGISTER,
                                .pid = {INC_A, 1}, .scope = rs_bytes_str("default"),
                                .key = rs_bytes_str("k")}; /* pid of another node */
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_OP, .opts = 9, .pid = {INC_B, 1},
                                .scope = rs_bytes_str("default"), .key = rs_bytes_str("k")};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_OP, .opts = 1, .pid = {INC_B, 1},
                                .scope = rs_bytes_str("default")}; /* empty key */
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_ENTRY, .opts = 1, .pid = {INC_B, 1},
                                .scope = rs_bytes_str("default"), .key = rs_bytes_str("k")};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_SYNC_END, .scope = rs_bytes_str("default")};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_SCOPE, .opts = 7, .scope = rs_bytes_str("x")};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_NODE, .opts = 1, .arg = 5,
                                .node = rs_bytes_str("bad name!")};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_PID_DOWN, .opts = 1, .pid = {INC_C, 3}};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_DOWN, .opts = 0, .arg = 1, .pid = {INC_B, 1}};
    for (size_t i = 0; i < nb; i++) {
        struct cluster c;
        two(&c, NULL);
        cl_connect(&c, A, B);
        cl_pump(&c);
        struct rs_pid pb = cl_client(&c, B, 1);
        ASSERT_EQ(cl_register(&c, B, 1, pb, "", "keep", ""), 0);
        cl_pump(&c);
        ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 1);
        cn_clear(&c.n[A]);
        feed(&c, A, B, &bad[i]);
        if (!cl_closed(&c.n[A], PEER_CONN + B))
            test_fail(__FILE__, __LINE__, "bad frame %zu did not close the peer", i);
        ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 0); /* b declared down: purged */
        /* later frames on that connection and its PEER_GONE change nothing */
        struct rs_msg ping = {.type = RS_MSG_P_PING, .arg = 1};
        feed(&c, A, B, &ping);
        cl_peer_gone(&c, A, B);
        cl_fini(&c);
    }
}

/* --- connections replaced, mesh after restarts, duplicates ------------------------------- */

static int has_dial(const struct cnode *x, const char *text)
{
    for (size_t k = 0; k < x->ndials; k++)
        if (strcmp(x->dials[k], text) == 0)
            return 1;
    return 0;
}

static uint64_t monitor(struct cluster *c, size_t i, uint64_t conn, struct rs_pid pid)
{
    struct rs_msg m = {.type = RS_MSG_MONITOR, .pid = pid};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    return r->arg;
}

static struct rs_pid new_pid(struct cluster *c, size_t i, uint64_t conn)
{
    struct rs_msg m = {.type = RS_MSG_PID_NEW};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    return r->pid;
}

static void close_pid(struct cluster *c, size_t i, uint64_t conn, struct rs_pid pid)
{
    struct rs_msg m = {.type = RS_MSG_PID_CLOSE, .pid = pid};
    ASSERT_EQ(cl_req(c, i, conn, &m)->status, 0);
}

/* FINDINGS.md 1: b declares a down when the link resets and redials; a sees the new
 * connection before the old one's PEER_GONE and replaces it. a's monitors of b's pids must
 * still fire: it asks again on the new connection. */
static void test_monitor_survives_replaced_connection(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, B, A); /* b dialed */
    cl_pump(&c);
    cl_client(&c, B, 1);
    struct rs_pid q1 = new_pid(&c, B, 1), q2 = new_pid(&c, B, 1);
    cl_client(&c, A, 1);
    uint64_t id1 = monitor(&c, A, 1, q1), id2 = monitor(&c, A, 1, q2);
    cl_pump(&c);
    cl_peer_gone_gen(&c, B, A, 0); /* b: old connection lost, a declared down */
    close_pid(&c, B, 1, q2);       /* dies while b knows no monitor of it */
    cl_peer_up_gen(&c, B, A, 1, 1);
    cn_clear(&c.n[A]);
    cl_peer_up_gen(&c, A, B, 0, 1); /* a: the new one first, the old one is replaced */
    ASSERT(cl_closed(&c.n[A], cl_conn_id(B, 0)));
    cl_peer_gone_gen(&c, A, B, 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[A], 1), 1); /* q2: noproc from its owner */
    const struct rs_msg *e = cl_event(&c.n[A], 1, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NOPROC << 8));
    ASSERT_U64_EQ(e->arg, id2);
    close_pid(&c, B, 1, q1);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[A], 1), 2);
    e = cl_event(&c.n[A], 1, 1);
    ASSERT_EQ(e->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NORMAL << 8));
    ASSERT_U64_EQ(e->arg, id1);
    ASSERT(cl_pid_eq(e->pid, q1));
    ASSERT_U64_EQ(cl_stats(&c.n[A]).monitors, 0);
    cl_fini(&c);
}

/* A replaced connection also drops the monitors the peer held through it (a DEMONITOR
 * lost on the old connection leaks nothing): only those asked again are kept. */
static void test_replaced_connection_resets_peer_monitors(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, B, A);
    cl_pump(&c);
    cl_client(&c, B, 1);
    struct rs_pid q1 = new_pid(&c, B, 1), q2 = new_pid(&c, B, 1);
    cl_client(&c, A, 1);
    monitor(&c, A, 1, q1);
    uint64_t id2 = monitor(&c, A, 1, q2);
    cl_pump(&c);
    struct rs_msg d = {.type = RS_MSG_DEMONITOR, .arg = id2};
    ASSERT_EQ(cl_req(&c, A, 1, &d)->status, 0);
    /* both sides switch to a new connection; the P_DEMONITOR was lost with the old one */
    cl_peer_up_gen(&c, B, A, 1, 1);
    cl_peer_up_gen(&c, A, B, 0, 1);
    ASSERT(cl_closed(&c.n[A], cl_conn_id(B, 0)));
    ASSERT(cl_closed(&c.n[B], cl_conn_id(A, 0)));
    cl_peer_gone_gen(&c, A, B, 0);
    cl_peer_gone_gen(&c, B, A, 0);
    cl_pump(&c);
    cn_clear(&c.n[B]);
    close_pid(&c, B, 1, q2);
    ASSERT_EQ(c.n[B].q[A].len, 0); /* nobody watches q2 any more */
    cn_clear(&c.n[A]);
    close_pid(&c, B, 1, q1);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[A], 1), 1); /* q1 still watched, once */
    ASSERT_EQ(cl_event(&c.n[A], 1, 0)->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NORMAL << 8));
    cl_fini(&c);
}

/* A node that left a scope while its P_SCOPE leave was lost with a replaced connection: the
 * peer that kept it up learns it from the greeting on the new connection (P_SCOPE 0 for
 * every scope not replicated) and drops its entries there. (Simulator seed 614.) */
static void test_scope_left_while_connection_replaced(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, B, A);
    cl_pump(&c);
    cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    ASSERT_EQ(cl_scope_op(&c, A, 1, RS_MSG_SCOPE_JOIN, "s1"), 0);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_JOIN, "s1"), 0);
    struct rs_pid q = new_pid(&c, B, 1);
    ASSERT_EQ(cl_join(&c, B, 1, q, "s1", "g", "m"), 0);
    cl_pump(&c);
    struct rs_msg mm = {.type = RS_MSG_MEMBERS, .scope = rs_bytes_str("s1"),
                        .key = rs_bytes_str("g")};
    ASSERT_U64_EQ(cl_req(&c, A, 1, &mm)->arg, 1);
    cl_peer_gone_gen(&c, B, A, 0); /* b declares a down; a does not notice yet */
    close_pid(&c, B, 1, q);
    ASSERT_EQ(cl_scope_op(&c, B, 1, RS_MSG_SCOPE_LEAVE, "s1"), 0);
    cl_peer_up_gen(&c, B, A, 1, 1);
    cl_peer_up_gen(&c, A, B, 0, 1); /* a replaces the old connection */
    cl_peer_gone_gen(&c, A, B, 0);
    cl_pump(&c);
    ASSERT_U64_EQ(cl_req(&c, A, 1, &mm)->arg, 0);
    cl_fini(&c);
}

/* FINDINGS.md 2: a node that comes up is announced to the nodes already up (not only they
 * to it), and the address of a node declared down is dialed again even if it had dialed
 * us. */
static void test_mesh_gossip_and_redial(void)
{
    struct cluster c;
    cl_init(&c);
    cl_add(&c, "a", INC_A, NULL);
    cl_add(&c, "b", INC_B, NULL);
    cl_add(&c, "c", INC_C, NULL);
    cl_connect(&c, C, A); /* c dialed a */
    cl_pump(&c);
    ASSERT_EQ(c.n[A].ndials, 0);
    cl_connect(&c, B, A); /* b dialed a */
    cl_pump(&c);
    ASSERT(has_dial(&c.n[B], "c 10.0.0.3:4369")); /* a told b about c */
    ASSERT(has_dial(&c.n[C], "b 10.0.0.2:4369")); /* and c about b */
    cn_clear(&c.n[A]);
    cl_peer_gone(&c, A, C);
    ASSERT(has_dial(&c.n[A], "c 10.0.0.3:4369"));
    cl_fini(&c);
}

/* Both ends dial at once, the PEER_UPs arriving in every order: exactly one connection
 * survives, the same on both sides (the one dialed by the node whose name sorts lower), and
 * replication then works over it. */
static void test_duplicate_connections(void)
{
    for (int order = 0; order < 4; order++) {
        struct cluster c;
        two(&c, NULL);
        /* generation 0: dialed by a; generation 1: dialed by b */
        if (order & 1) {
            cl_peer_up_gen(&c, A, B, 0, 1);
            cl_peer_up_gen(&c, A, B, 1, 0);
        } else {
            cl_peer_up_gen(&c, A, B, 1, 0);
            cl_peer_up_gen(&c, A, B, 0, 1);
        }
        if (order & 2) {
            cl_peer_up_gen(&c, B, A, 1, 1);
            cl_peer_up_gen(&c, B, A, 0, 0);
        } else {
            cl_peer_up_gen(&c, B, A, 0, 0);
            cl_peer_up_gen(&c, B, A, 1, 1);
        }
        ASSERT_EQ(c.n[A].nclosed, 1);
        ASSERT_EQ(c.n[B].nclosed, 1);
        ASSERT_U64_EQ(c.n[A].closed[0], cl_conn_id(B, 1));
        ASSERT_U64_EQ(c.n[B].closed[0], cl_conn_id(A, 1));
        ASSERT_EQ(c.n[A].gen[B], 0);
        ASSERT_EQ(c.n[B].gen[A], 0);
        cl_peer_gone_gen(&c, A, B, 1);
        cl_peer_gone_gen(&c, B, A, 1);
        cl_pump(&c);
        struct rs_pid pa = cl_client(&c, A, 1);
        struct rs_pid pb = cl_client(&c, B, 1);
        ASSERT_EQ(cl_register(&c, A, 1, pa, "", "from-a", ""), 0);
        ASSERT_EQ(cl_register(&c, B, 1, pb, "", "from-b", ""), 0);
        cl_pump(&c);
        struct rs_pid got;
        ASSERT_EQ(cl_lookup(&c, B, 1, "", "from-a", &got, NULL, NULL), 0);
        ASSERT(cl_pid_eq(got, pa));
        ASSERT_EQ(cl_lookup(&c, A, 1, "", "from-b", &got, NULL, NULL), 0);
        ASSERT(cl_pid_eq(got, pb));
        cl_fini(&c);
    }
}

/* FINDINGS.md 3: with a custom resolver that reads metadata, an update can change which
 * claim wins; every node resolves the name again. */
static int smaller_meta_wins(const struct rs_claim_view *a, const struct rs_claim_view *b)
{
    size_t n = a->meta_len < b->meta_len ? a->meta_len : b->meta_len;
    int r = n ? memcmp(a->meta, b->meta, n) : 0;
    if (r)
        return r;
    return (a->meta_len > b->meta_len) - (a->meta_len < b->meta_len);
}

static void test_custom_resolver_update_resolves_again(void)
{
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = RS_POLICY_CUSTOM;
    cfg.resolver = smaller_meta_wins;
    struct cluster c;
    two(&c, &cfg);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    struct rs_pid pb = cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "f", "m777"), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "f", "m807"), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "f", "m413"), 0); /* b's update: now it wins */
    cl_pump(&c);
    for (size_t i = 0; i < 2; i++) {
        struct rs_pid got;
        char meta[16];
        ASSERT_EQ(cl_lookup(&c, i, 1, "", "f", &got, meta, NULL), 0);
        ASSERT(cl_pid_eq(got, pb));
        ASSERT_STR_EQ(meta, "m413");
    }
    int conflict = 0;
    for (size_t k = 0; k < cl_nevents(&c.n[A], 1); k++)
        conflict |= (cl_event(&c.n[A], 1, k)->opts & 0xff) == ROSTER_EV_CONFLICT;
    ASSERT(conflict);
    /* a visible claim updated into a loser gives way to the hidden one */
    struct rs_pid pa2 = new_pid(&c, A, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa2, "", "g", "m100"), 0);
    cl_pump(&c);
    struct rs_pid pb2 = new_pid(&c, B, 1);
    ASSERT_EQ(cl_register(&c, B, 1, pb2, "", "h", "m500"), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_register(&c, A, 1, pa2, "", "g", "m900"), 0); /* still the only claim */
    cl_pump(&c);
    struct rs_pid got;
    ASSERT_EQ(cl_lookup(&c, B, 1, "", "g", &got, NULL, NULL), 0);
    ASSERT(cl_pid_eq(got, pa2));
    cl_fini(&c);
}

/* --- hardening ------------------------------------------------------------------------- */

/* A peer's stamp far in the future moves our clock at most RS_HLC_SKEW_MAX_MS (1 h). */
static void test_hlc_clamps_peer_skew(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pa = cl_client(&c, A, 1);
    uint64_t far = (c.wall + 10ull * 3600 * 1000) << 16;
    struct rs_msg op = {.type = RS_MSG_P_OP, .opts = RS_POP_REGISTER, .arg = far,
                        .pid = {INC_B, 5}, .scope = rs_bytes_str("default"),
                        .key = rs_bytes_str("future")};
    feed(&c, A, B, &op);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "now", ""), 0);
    uint64_t h = last_op_hlc(&c.n[A], B);
    ASSERT(h > (c.wall << 16));
    ASSERT(h <= ((c.wall + 3600ull * 1000) << 16) + 0x10000u);
    /* a stamp within the bound still orders our next claims after it */
    c.wall += 9ull * 3600 * 1000; /* nine hours later: the far stamp is within the bound */
    op.key = rs_bytes_str("future2");
    feed(&c, A, B, &op);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "later", ""), 0);
    ASSERT(last_op_hlc(&c.n[A], B) > far);
    cl_fini(&c);
}

/* Monitors one node holds on another's pids are capped (peer_monitors_max): the watcher's
 * node answers ELIMIT past it, and a peer that sends more anyway is declared down. */
static void test_peer_monitor_cap(void)
{
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.peer_monitors_max = 2;
    struct cluster c;
    two(&c, &cfg);
    cl_connect(&c, A, B);
    cl_pump(&c);
    cl_client(&c, A, 1);
    struct rs_pid q[3];
    for (int i = 0; i < 3; i++)
        q[i] = new_pid(&c, A, 1);
    cl_client(&c, B, 1);
    monitor(&c, B, 1, q[0]);
    monitor(&c, B, 1, q[1]);
    struct rs_msg m = {.type = RS_MSG_MONITOR, .pid = q[2]};
    ASSERT_EQ(cl_req(&c, B, 1, &m)->status, ROSTER_ELIMIT);
    cl_pump(&c);
    ASSERT_EQ(c.n[A].nclosed, 0);
    struct rs_msg pm = {.type = RS_MSG_P_MONITOR, .arg = 999, .pid = q[2]};
    feed(&c, A, B, &pm);
    ASSERT(cl_closed(&c.n[A], PEER_CONN + B));
    cl_fini(&c);
}

/* A peer that does not read its output is declared down past outbuf_max; one that reads
 * (FLUSHED) is not. */
static void test_peer_unread_output_cap(void)
{
    for (int reads = 0; reads < 2; reads++) {
        struct cluster c;
        cl_init(&c);
        c.lim.outbuf_max = 64 * 1024;
        c.lim.queue_bytes = 32 * 1024;
        ASSERT_EQ(rs_limits_check(&c.lim), 0);
        cl_add(&c, "a", INC_A, NULL);
        cl_add(&c, "b", INC_B, NULL);
        cl_connect(&c, A, B);
        cl_pump(&c);
        struct rs_pid pa = cl_client(&c, A, 1);
        char key[32];
        int i;
        int closed = 0;
        for (i = 0; i < 4000 && !closed; i++) {
            snprintf(key, sizeof key, "name-%d", i);
            ASSERT_EQ(cl_register(&c, A, 1, pa, "", key, "0123456789"), 0);
            closed = cl_closed(&c.n[A], PEER_CONN + B);
            struct rs_input fc = {.kind = RS_IN_CLIENT_FLUSHED, .conn = 1, .n_bytes = 1 << 20};
            cl_apply(&c, &c.n[A], &fc); /* the client reads its replies */
            cn_clear(&c.n[A]);
            if (reads) {
                struct rs_input in = {.kind = RS_IN_CLIENT_FLUSHED, .conn = PEER_CONN + B,
                                      .n_bytes = c.n[A].q[B].len};
                rs_buf_reset(&c.n[A].q[B]);
                cl_apply(&c, &c.n[A], &in);
            }
        }
        if (reads) {
            ASSERT_EQ(i, 4000);
            ASSERT(!closed);
        } else {
            ASSERT(i < 4000);
            ASSERT(closed);
            ASSERT(c.n[A].q[B].len <= 64 * 1024 + 200);
        }
        cl_fini(&c);
    }
}

/* --- caps on what one peer makes this node hold -------------------------------------------- */

/* A peer may announce at most 1,024 joined scopes; the next one declares it down. */
static void test_peer_scope_cap(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    cn_clear(&c.n[A]);
    char name[32];
    for (unsigned i = 0; i < 1023; i++) { /* and default, from b's greeting */
        snprintf(name, sizeof name, "s%u", i);
        struct rs_msg m = {.type = RS_MSG_P_SCOPE, .opts = 1, .scope = rs_bytes_str(name)};
        feed(&c, A, B, &m);
    }
    /* re-announcing one of them is no news */
    struct rs_msg again = {.type = RS_MSG_P_SCOPE, .opts = 1, .scope = rs_bytes_str("s7")};
    feed(&c, A, B, &again);
    ASSERT_EQ(c.n[A].nclosed, 0);
    struct rs_msg more = {.type = RS_MSG_P_SCOPE, .opts = 1, .scope = rs_bytes_str("s-more")};
    feed(&c, A, B, &more);
    ASSERT(cl_closed(&c.n[A], PEER_CONN + B));
    cl_fini(&c);
}

/* Past peer_entries_max names + memberships of one node, it is declared down; updating
 * one it holds at the cap is not a new entry. */
static void test_peer_entries_cap(void)
{
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.peer_entries_max = 3;
    struct cluster c;
    two(&c, &cfg);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pb = cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "n1", ""), 0);
    ASSERT_EQ(cl_join(&c, B, 1, pb, "", "g1", ""), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "n2", ""), 0);
    cl_pump(&c);
    ASSERT_EQ(cl_unregister(&c, B, 1, "", "n2"), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "n3", ""), 0);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "n1", "new meta"), 0);
    cl_pump(&c);
    ASSERT_EQ(c.n[A].nclosed, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 2);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "n4", ""), 0);
    cl_pump(&c);
    ASSERT(cl_closed(&c.n[A], PEER_CONN + B));
    ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 0);
    cl_fini(&c);
}

/* P_SYNC_END must name the scope of its P_SYNC_BEGIN, also for a scope this node ignores. */
static void test_sync_end_must_match_begin(void)
{
    for (int match = 0; match < 2; match++) {
        struct cluster c;
        two(&c, NULL);
        cl_connect(&c, A, B);
        cl_pump(&c);
        cn_clear(&c.n[A]);
        struct rs_msg b = {.type = RS_MSG_P_SYNC_BEGIN, .scope = rs_bytes_str("unknown")};
        struct rs_msg e = {.type = RS_MSG_P_SYNC_END,
                           .scope = rs_bytes_str(match ? "unknown" : "default")};
        feed(&c, A, B, &b);
        feed(&c, A, B, &e);
        ASSERT_EQ(cl_closed(&c.n[A], PEER_CONN + B), !match);
        cl_fini(&c);
    }
}

/* Gossip of new node names stops making records (and DIALs) at 1,024 records; a gossiped
 * node never reached is forgotten after 60 s, which makes room again. */
static size_t gossip(struct cluster *c, unsigned from, unsigned count)
{
    size_t dials = 0;
    for (unsigned i = from; i < from + count; i++) {
        char name[32], addr[48];
        snprintf(name, sizeof name, "g%u", i);
        snprintf(addr, sizeof addr, "10.9.%u.%u:4369", i / 256, i % 256);
        struct rs_msg m = {.type = RS_MSG_P_NODE, .opts = ROSTER_NODE_UP,
                           .arg = 0x9000000000ull + i, .node = rs_bytes_str(name),
                           .key = rs_bytes_str(addr)};
        feed(c, A, B, &m);
        dials += c->n[A].ndials;
        cn_clear(&c->n[A]);
    }
    return dials;
}

static void test_gossip_node_cap_and_forget(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    cn_clear(&c.n[A]);
    ASSERT_EQ(gossip(&c, 0, 1100), 1023); /* b's record is the 1,024th */
    ASSERT_EQ(c.n[A].nclosed, 0);
    /* heartbeats keep b up while the gossiped records age */
    for (int k = 0; k < 61; k++) {
        c.now += 1000;
        cl_tick(&c, A);
        cl_tick(&c, B);
        cl_pump(&c);
    }
    cn_clear(&c.n[A]);
    ASSERT_EQ(gossip(&c, 2000, 5), 5);
    ASSERT_EQ(gossip(&c, 3000, 2000), 1018); /* b and those 5 */
    cl_fini(&c);
}

/* Out of memory recording a preferred duplicate connection: it is closed, not left open
 * without a record (the one already up stays). */
static void test_duplicate_connection_oom(void)
{
    struct cluster c;
    two(&c, NULL);
    cl_peer_up_gen(&c, A, B, 0, 0); /* dialed by b */
    struct cnode *x = &c.n[A];
    struct rs_input in = {.kind = RS_IN_PEER_UP, .conn = cl_conn_id(B, 1),
                          .peer_name = rs_bytes_str("b"), .peer_inc = INC_B,
                          .peer_addr = rs_bytes_str("10.0.0.2:4369"), .dialed = 1,
                          .now_ms = c.now, .wall_ms = c.wall};
    rs_outputs_reset(&x->out);
    rs_alloc_set(fault_malloc, fault_realloc, fault_free);
    fault_plan(1, 0); /* the next allocation fails */
    ASSERT_EQ(rs_core_apply(x->core, &in, &x->out), -1);
    rs_alloc_set(NULL, NULL, NULL);
    ASSERT_EQ(fault_failures(), 1);
    int closed = 0;
    for (size_t i = 0; i < x->out.n; i++)
        closed |= x->out.v[i].kind == RS_OUT_CLOSE && x->out.v[i].conn == cl_conn_id(B, 1);
    ASSERT(closed);
    cl_fini(&c);
}

/* --- purge cost ----------------------------------------------------------------------------- */

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_purge_100k_names(void)
{
    enum { N = 100000 };
    rs_alloc_set(fault_malloc, fault_realloc, fault_free);
    struct cluster c;
    two(&c, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pb = cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "local-name", ""), 0);
    cl_pump(&c);
    /* a's snapshot of 100,000 names (one pid each, 16-byte keys, 8-byte metadata) */
    struct rs_msg b = {.type = RS_MSG_P_SYNC_BEGIN, .scope = rs_bytes_str("default")};
    feed(&c, B, A, &b);
    long long before = fault_live_bytes();
    char key[32];
    for (uint64_t i = 0; i < N; i++) {
        snprintf(key, sizeof key, "name-%011llu", (unsigned long long)i);
        struct rs_msg e = {.type = RS_MSG_P_ENTRY, .opts = RS_PENTRY_NAME, .arg = i + 1,
                           .pid = {INC_A, i + 1}, .scope = rs_bytes_str("default"),
                           .key = rs_bytes_str(key), .meta = rs_bytes_str("metadata")};
        struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = PEER_CONN + A, .msg = &e};
        rs_outputs_reset(&c.n[B].out);
        ASSERT_EQ(rs_core_apply(c.n[B].core, &in, &c.n[B].out), 0);
    }
    struct rs_msg e = {.type = RS_MSG_P_SYNC_END, .scope = rs_bytes_str("default")};
    feed(&c, B, A, &e);
    long long used = fault_live_bytes() - before;
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, N + 1);
    double per = (double)used / N;
    /* beyond key (16) + meta (8): name record, pid record (one pid per name: the worst
     * case), two map slots, and the allocator's rounding of each block */
    fprintf(stderr, "replicated name: %.0f heap bytes each (key 16 + meta 8 included)\n", per);
    ASSERT(per - 24 <= 260);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct rs_input in = {.kind = RS_IN_PEER_GONE, .conn = PEER_CONN + A};
    rs_outputs_reset(&c.n[B].out);
    ASSERT_EQ(rs_core_apply(c.n[B].core, &in, &c.n[B].out), 0);
    double ms = ms_since(&t0);
    fprintf(stderr, "purge of %d names of a node declared down: %.1f ms\n", N, ms);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 1);
    /* The time is reported, not asserted (bench/ measures the purge): a loaded CI machine
     * must not fail a correct build. */
    cl_fini(&c);
    rs_alloc_set(NULL, NULL, NULL);
}

TEST_MAIN(T(test_replicate_writes), T(test_snapshot_on_connect),
          T(test_purge_on_gone_and_silence), T(test_restart_new_incarnation),
          T(test_conflicts_every_policy_both_orders), T(test_hidden_claim_surfaces),
          T(test_hlc_never_below_received),
          T(test_scope_isolation), T(test_config_scopes_and_gossip), T(test_remote_monitors),
          T(test_malformed_peer_frames), T(test_monitor_survives_replaced_connection),
          T(test_replaced_connection_resets_peer_monitors),
          T(test_scope_left_while_connection_replaced), T(test_mesh_gossip_and_redial),
          T(test_duplicate_connections), T(test_custom_resolver_update_resolves_again),
          T(test_hlc_clamps_peer_skew), T(test_peer_monitor_cap),
          T(test_peer_unread_output_cap), T(test_peer_scope_cap), T(test_peer_entries_cap),
          T(test_sync_end_must_match_begin), T(test_duplicate_connection_oom),
          T(test_gossip_node_cap_and_forget),
          T(test_purge_100k_names))
