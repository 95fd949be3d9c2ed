/* test_core_member.c: the core's side of issue 11 items 13, 15 and 16, input by input on
 * cores wired by cluster_harness.h: CLUSTER_LEAVE (P_LEAVE to every peer, reason node_left,
 * NODE_LEFT events, UNDIAL instead of a redial, state left, peers refused until
 * CLUSTER_JOIN), FORGET, the admin check (EPERM), OWNER of local and replicated pids (by
 * P_OP and by snapshot), the public resolver API (a winner picked by metadata, answers that
 * break the rules refused and counted, the default policy deciding), and P_POLICY
 * (different policies refuse each other). */
#include "cluster_harness.h"

#define A 0
#define B 1
#define C 2

static void three(struct cluster *c, const struct rs_core_config *cfg)
{
    cl_init(c);
    cl_add(c, "a", 0xa1, cfg);
    cl_add(c, "b", 0xb2, cfg);
    cl_add(c, "c", 0xc3, cfg);
    cl_connect(c, A, B);
    cl_connect(c, A, C);
    cl_connect(c, B, C);
    cl_pump(c);
}

/* client opens client conn on node i as OS pid os_pid, uid uid; its first pid. */
static struct rs_pid client_as(struct cluster *c, size_t i, uint64_t conn, int32_t os_pid,
                               uint32_t uid)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = conn, .os_pid = os_pid,
                          .uid = uid};
    cl_apply(c, &c->n[i], &in);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC,
                       .key = rs_bytes_str("t")};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    return r->pid;
}

/* node_state: the state NODES on node i gives node name (0: not listed). */
static uint32_t node_state(struct cluster *c, size_t i, const char *name)
{
    struct cnode *x = &c->n[i];
    cn_clear(x);
    struct rs_msg m = {.type = RS_MSG_NODES};
    ASSERT_EQ(cl_req(c, i, 1, &m)->status, 0);
    for (size_t k = 0; k < x->nlog; k++) {
        const struct rs_msg *it = &x->log[k].m;
        if (it->type == RS_MSG_NODES && (it->flags & RS_F_ITEM) &&
            cl_bytes_is(rs_msg_nodes_item_node(it), name))
            return rs_msg_nodes_item_opts(it) & 0xff;
    }
    return 0;
}

static int has_text(char (*v)[300], size_t n, const char *s)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(v[k], s) == 0)
            return 1;
    return 0;
}

static int dials_name(const struct cnode *x, const char *name)
{
    for (size_t k = 0; k < x->ndials; k++)
        if (strncmp(x->dials[k], name, strlen(name)) == 0 && x->dials[k][strlen(name)] == ' ')
            return 1;
    return 0;
}

static int view_state;
static void view_of_a(void *ctx, const struct rs_core_node_view *v)
{
    (void)ctx;
    if (v->name_len == 1 && v->name[0] == 'a')
        view_state = v->state;
}

static void test_leave_forget_rejoin(void)
{
    struct cluster c;
    three(&c, NULL);
    struct rs_pid pa = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    cl_client(&c, C, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "x", "m"), 0);
    ASSERT_EQ(cl_join(&c, A, 1, pa, "", "g", ""), 0);
    cl_pump(&c);
    cl_subscribe(&c, B, 1, "", ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS);
    cl_client(&c, C, 2);
    struct rs_msg mon = {.type = RS_MSG_MONITOR, .pid = pa}; /* c watches a's pid */
    ASSERT_EQ(cl_req(&c, C, 2, &mon)->status, 0);
    cl_pump(&c);
    for (size_t i = 0; i < 3; i++)
        cn_clear(&c.n[i]);

    struct rs_msg lv = {.type = RS_MSG_CLUSTER_LEAVE};
    const struct rs_msg *r = cl_req(&c, A, 1, &lv);
    ASSERT_EQ(r->status, 0);
    ASSERT_U64_EQ(rs_msg_cluster_leave_reply_peers(r), 2);
    ASSERT(has_text(c.n[A].undials, c.n[A].nundials, "")); /* every target */
    ASSERT(cl_closed(&c.n[A], cl_conn_id(B, 0)) && cl_closed(&c.n[A], cl_conn_id(C, 0)));
    ASSERT_EQ(c.n[A].ndials, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 1); /* its own entry stays */
    cl_pump(&c); /* P_LEAVE reaches b and c */
    for (size_t i = B; i <= C; i++) {
        ASSERT_U64_EQ(cl_stats(&c.n[i]).names, 0);
        ASSERT_U64_EQ(cl_stats(&c.n[i]).members, 0);
        /* not redialed, but as UNDIAL_LEFT: a --join seed at that address stays dialed
         * (a leaver that restarts knows only its own seeds: FINDINGS.md 4, seed 3) */
        ASSERT(has_text(c.n[i].undials_left, c.n[i].nundials_left, "a 10.0.0.1:4369"));
        ASSERT(!has_text(c.n[i].undials, c.n[i].nundials, "a 10.0.0.1:4369"));
        ASSERT(!dials_name(&c.n[i], "a"));
        ASSERT(cl_closed(&c.n[i], cl_conn_id(A, 0)));
        ASSERT_U64_EQ(cl_stats(&c.n[i]).nodes_down, 0); /* a leave is not a failure */
    }
    /* b's subscriber: x and g leave with reason node_left, then NODE_LEFT */
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 3);
    ASSERT_EQ(cl_event(&c.n[B], 1, 0)->opts & 0xffff,
              ROSTER_EV_UNREGISTERED | (ROSTER_REASON_NODE_LEFT << 8));
    ASSERT_EQ(cl_event(&c.n[B], 1, 1)->opts & 0xffff,
              ROSTER_EV_LEFT | (ROSTER_REASON_NODE_LEFT << 8));
    ASSERT_EQ(cl_event(&c.n[B], 1, 2)->opts & 0xff, ROSTER_EV_NODE_LEFT);
    ASSERT(cl_bytes_is(cl_event(&c.n[B], 1, 2)->node, "a"));
    /* c's monitor of a's pid fires, with reason node_left */
    ASSERT_EQ(cl_nevents(&c.n[C], 2), 1);
    ASSERT_EQ(cl_event(&c.n[C], 2, 0)->opts & 0xffff,
              ROSTER_EV_DOWN | (ROSTER_REASON_NODE_LEFT << 8));
    cl_peer_gone(&c, B, A);
    cl_peer_gone(&c, C, A);
    cl_peer_gone(&c, A, B);
    cl_peer_gone(&c, A, C);
    ASSERT_EQ(node_state(&c, B, "a"), ROSTER_NODE_LEFT);
    view_state = 0;
    rs_core_nodes_each(c.n[B].core, view_of_a, NULL); /* metrics and dashboard see it too */
    ASSERT_EQ(view_state, ROSTER_NODE_LEFT);
    ASSERT_EQ(node_state(&c, A, "b"), 0); /* the leaver keeps no cluster */
    /* silence from a for longer than down_after (b and c keep each other alive): still
     * left, never dialed */
    cn_clear(&c.n[B]);
    for (int k = 0; k < 20; k++) {
        c.now += 400;
        cl_tick(&c, B);
        cl_tick(&c, C);
        cl_pump(&c);
    }
    ASSERT(!dials_name(&c.n[B], "a"));
    ASSERT_EQ(node_state(&c, B, "c"), ROSTER_NODE_UP);
    ASSERT_EQ(node_state(&c, B, "a"), ROSTER_NODE_LEFT);
    /* the leaver refuses peers until CLUSTER_JOIN */
    cn_clear(&c.n[A]);
    cl_peer_up_gen(&c, A, B, 0, 1);
    ASSERT(cl_closed(&c.n[A], cl_conn_id(B, 1)));
    ASSERT_EQ(node_state(&c, A, "b"), 0);

    /* FORGET on b: a goes; c is up (EBUSY); zz unknown */
    struct rs_msg fg = {.type = RS_MSG_FORGET, .node = rs_bytes_str("a")};
    cn_clear(&c.n[B]);
    r = cl_req(&c, B, 1, &fg);
    ASSERT_EQ(r->status, 0);
    ASSERT_U64_EQ(rs_msg_forget_reply_records(r), 1);
    ASSERT(has_text(c.n[B].undials, c.n[B].nundials, "a 10.0.0.1:4369"));
    ASSERT_EQ(node_state(&c, B, "a"), 0);
    fg.node = rs_bytes_str("c");
    ASSERT_EQ(cl_req(&c, B, 1, &fg)->status, ROSTER_EBUSY);
    fg.node = rs_bytes_str("zz");
    ASSERT_EQ(cl_req(&c, B, 1, &fg)->status, ROSTER_ENOTFOUND);
    fg.node = rs_bytes_str("b");
    ASSERT_EQ(cl_req(&c, B, 1, &fg)->status, ROSTER_EINVAL);
    /* by address: a seed that never answered has no name */
    struct rs_msg fa = {.type = RS_MSG_FORGET, .key = rs_bytes_str("10.9.9.9:1")};
    cn_clear(&c.n[B]);
    r = cl_req(&c, B, 1, &fa);
    ASSERT_EQ(r->status, 0);
    ASSERT_U64_EQ(rs_msg_forget_reply_records(r), 0);
    ASSERT(has_text(c.n[B].undials, c.n[B].nundials, " 10.9.9.9:1"));
    fa.key = rs_bytes_str("10.0.0.3:4369"); /* c's: up */
    ASSERT_EQ(cl_req(&c, B, 1, &fa)->status, ROSTER_EBUSY);
    fa.key = rs_bytes_str("10.0.0.2:4369"); /* b's own */
    ASSERT_EQ(cl_req(&c, B, 1, &fa)->status, ROSTER_EINVAL);
    fa.node = rs_bytes_str("c"); /* both */
    fa.key = rs_bytes_str("10.9.9.9:1");
    ASSERT_EQ(cl_req(&c, B, 1, &fa)->status, ROSTER_EINVAL);

    /* CLUSTER_JOIN on a: one dial of the bare address; peers accepted again */
    struct rs_msg jn = {.type = RS_MSG_CLUSTER_JOIN, .key = rs_bytes_str("10.0.0.2:4369")};
    cn_clear(&c.n[A]);
    ASSERT_EQ(cl_req(&c, A, 1, &jn)->status, 0);
    ASSERT_EQ(c.n[A].ndials, 1);
    ASSERT_STR_EQ(c.n[A].dials[0], "10.0.0.2:4369");
    const char *bad[] = {"nohost", ":1", "h:", "h:0", "h:65536", "h:12x", "a b:1",
                         "10.0.0.1:4369"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        jn.key = rs_bytes_str(bad[k]);
        ASSERT_EQ(cl_req(&c, A, 1, &jn)->status, ROSTER_EINVAL);
    }
    cl_peer_up_gen(&c, A, B, 1, 2);
    cl_peer_up_gen(&c, B, A, 0, 2);
    cl_pump(&c);
    ASSERT_EQ(node_state(&c, B, "a"), ROSTER_NODE_UP);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 1); /* a's snapshot */
    cl_fini(&c);
}

static void test_admin_check(void)
{
    struct cluster c;
    cl_init(&c);
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.admin_uid = 1000;
    cl_add(&c, "a", 0xa1, &cfg);
    client_as(&c, A, 1, 11, 1000); /* the node's own user */
    client_as(&c, A, 2, 12, 0);    /* root */
    client_as(&c, A, 3, 13, 1001); /* someone else */
    struct rs_msg jn = {.type = RS_MSG_CLUSTER_JOIN, .key = rs_bytes_str("10.9.9.9:1")};
    struct rs_msg fg = {.type = RS_MSG_FORGET, .node = rs_bytes_str("zz")};
    struct rs_msg lv = {.type = RS_MSG_CLUSTER_LEAVE};
    ASSERT_EQ(cl_req(&c, A, 3, &jn)->status, ROSTER_EPERM);
    ASSERT_EQ(cl_req(&c, A, 3, &fg)->status, ROSTER_EPERM);
    ASSERT_EQ(cl_req(&c, A, 3, &lv)->status, ROSTER_EPERM);
    ASSERT_EQ(c.n[A].ndials, 0);
    ASSERT_EQ(cl_req(&c, A, 1, &jn)->status, 0);
    ASSERT_EQ(cl_req(&c, A, 2, &fg)->status, ROSTER_ENOTFOUND);
    ASSERT_EQ(cl_req(&c, A, 2, &lv)->status, 0);
    cl_fini(&c);
}

static void test_owner_replicated(void)
{
    struct cluster c;
    cl_init(&c);
    cl_add(&c, "a", 0xa1, NULL);
    cl_add(&c, "b", 0xb2, NULL);
    struct rs_pid p1 = client_as(&c, A, 1, 4242, 77);
    struct rs_pid p2 = client_as(&c, A, 2, 5151, 0);
    cl_client(&c, B, 1);
    /* before the link: p1's entry reaches b by snapshot (P_ENTRY) */
    ASSERT_EQ(cl_register(&c, A, 1, p1, "", "n1", ""), 0);
    cl_connect(&c, A, B);
    cl_pump(&c);
    /* after: p2's by P_OP */
    ASSERT_EQ(cl_join(&c, A, 2, p2, "", "g", ""), 0);
    cl_pump(&c);
    struct { struct rs_pid pid; uint64_t os_pid, uid; } want[] = {{p1, 4242, 77}, {p2, 5151, 0}};
    for (size_t i = A; i <= B; i++)
        for (size_t k = 0; k < 2; k++) {
            struct rs_msg m = {.type = RS_MSG_OWNER, .pid = want[k].pid};
            const struct rs_msg *r = cl_req(&c, i, 1, &m);
            ASSERT_EQ(r->status, 0);
            ASSERT_U64_EQ(rs_msg_owner_reply_os_pid(r), want[k].os_pid);
            ASSERT_U64_EQ(rs_msg_owner_reply_uid(r), want[k].uid);
            ASSERT(cl_bytes_is(rs_msg_owner_reply_node(r), "a"));
        }
    /* a pid b holds nothing of: ENOPROC; once p2 left, b frees its record */
    ASSERT_EQ(cl_leave(&c, A, 2, p2, "", "g"), 0);
    cl_pump(&c);
    struct rs_msg m = {.type = RS_MSG_OWNER, .pid = p2};
    ASSERT_EQ(cl_req(&c, B, 1, &m)->status, ROSTER_ENOPROC);
    ASSERT_EQ(cl_req(&c, A, 1, &m)->status, 0); /* its own node still knows it */
    cl_fini(&c);
}

/* --- the public resolver API --------------------------------------------------------- */

static int calls;

/* the claim whose metadata is "win" wins; else the older grant */
static const roster_claim *by_meta(const roster_conflict *x)
{
    calls++;
    ASSERT_EQ(x->abi, ROSTER_RESOLVER_ABI);
    ASSERT_STR_EQ(x->scope, "default");
    ASSERT(x->name_len == 1 && memcmp(x->name, "k", 1) == 0);
    ASSERT(x->a->node && x->b->node && x->a->clock && x->b->clock);
    int wa = x->a->meta_len == 3 && memcmp(x->a->meta, "win", 3) == 0;
    int wb = x->b->meta_len == 3 && memcmp(x->b->meta, "win", 3) == 0;
    if (wa != wb)
        return wa ? x->a : x->b;
    return x->a->clock <= x->b->clock ? x->a : x->b;
}
static const roster_resolver good = {ROSTER_RESOLVER_ABI, "by-meta", 3, by_meta};

static const roster_claim *first_arg(const roster_conflict *x) { return x->a; }
static const roster_resolver swapped = {ROSTER_RESOLVER_ABI, "first-arg", 1, first_arg};

static roster_claim stray;
static const roster_claim *neither(const roster_conflict *x)
{
    (void)x;
    return &stray;
}
static const roster_resolver bogus = {ROSTER_RESOLVER_ABI, "neither", 1, neither};

static uint64_t status_of(struct cluster *c, size_t i, const char *key)
{
    struct cnode *x = &c->n[i];
    cn_clear(x);
    struct rs_msg m = {.type = RS_MSG_STATUS};
    ASSERT_EQ(cl_req(c, i, 1, &m)->status, 0);
    for (size_t k = 0; k < x->nlog; k++)
        if (x->log[k].m.type == RS_MSG_STATUS && (x->log[k].m.flags & RS_F_ITEM) &&
            cl_bytes_is(rs_msg_status_item_stat(&x->log[k].m), key))
            return rs_msg_status_item_value(&x->log[k].m);
    test_fail(__FILE__, __LINE__, "no stat %s", key);
}

/* conflict: a registers k (older, meta ma), b registers k (newer, meta mb), then they meet;
 * returns the node whose pid holds k on both (0 = a, 1 = b). */
static size_t conflict(const roster_resolver *r, const char *ma, const char *mb,
                       uint64_t *refused)
{
    struct cluster c;
    cl_init(&c);
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = RS_POLICY_CUSTOM;
    cfg.public_resolver = r;
    cl_add(&c, "a", 0xa1, &cfg);
    cl_add(&c, "b", 0xb2, &cfg);
    struct rs_pid pa = cl_client(&c, A, 1), pb = cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, A, 1, pa, "", "k", ma), 0);
    c.wall += 5;
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "k", mb), 0);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid ha, hb;
    ASSERT_EQ(cl_lookup(&c, A, 1, "", "k", &ha, NULL, NULL), 0);
    ASSERT_EQ(cl_lookup(&c, B, 1, "", "k", &hb, NULL, NULL), 0);
    ASSERT(cl_pid_eq(ha, hb));
    *refused = status_of(&c, A, "resolver_refused") + status_of(&c, B, "resolver_refused");
    size_t w = cl_pid_eq(ha, pa) ? 0 : 1;
    cl_fini(&c);
    return w;
}

static void test_public_resolver(void)
{
    uint64_t refused;
    calls = 0;
    ASSERT_EQ(conflict(&good, "ma", "win", &refused), 1); /* newer, but it says win */
    ASSERT_U64_EQ(refused, 0);
    ASSERT(calls >= 2); /* asked both ways round */
    ASSERT_EQ(conflict(&good, "win", "mb", &refused), 0);
    ASSERT_EQ(conflict(&good, "ma", "mb", &refused), 0); /* its own fallback: older */
    /* rule breakers: refused, counted, and the default policy (oldest: a) decides */
    ASSERT_EQ(conflict(&swapped, "ma", "win", &refused), 0);
    ASSERT(refused > 0);
    ASSERT_EQ(conflict(&bogus, "ma", "win", &refused), 0);
    ASSERT(refused > 0);
    /* a bad resolver struct is a bad config */
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.node_name = "a";
    cfg.incarnation = 1;
    rs_limits_default(&cfg.limits);
    cfg.policy = RS_POLICY_CUSTOM;
    roster_resolver r = good;
    r.name = "has space";
    cfg.public_resolver = &r;
    ASSERT(rs_core_new(&cfg) == NULL);
    r = good;
    r.abi = 99;
    ASSERT(rs_core_new(&cfg) == NULL);
    cfg.public_resolver = &good;
    cfg.policy = RS_POLICY_OLDEST;
    ASSERT(rs_core_new(&cfg) == NULL); /* a resolver without the custom policy */
}

static void test_policy_must_agree(void)
{
    struct cluster c;
    cl_init(&c);
    struct rs_core_config ca, cb;
    memset(&ca, 0, sizeof ca);
    memset(&cb, 0, sizeof cb);
    ca.policy = RS_POLICY_CUSTOM;
    ca.public_resolver = &good;
    cb.policy = RS_POLICY_CUSTOM;
    cb.public_resolver = &swapped;
    cl_add(&c, "a", 0xa1, &ca);
    cl_add(&c, "b", 0xb2, &cb);
    cl_add(&c, "c", 0xc3, &ca);
    cl_client(&c, A, 1);
    cl_connect(&c, A, B);
    cl_connect(&c, A, C);
    cl_pump(&c);
    ASSERT(cl_closed(&c.n[A], cl_conn_id(B, 0)));
    ASSERT(cl_closed(&c.n[B], cl_conn_id(A, 0)));
    ASSERT(!cl_closed(&c.n[A], cl_conn_id(C, 0))); /* the same resolver: fine */
    ASSERT_EQ(node_state(&c, A, "c"), ROSTER_NODE_UP);
    ASSERT(node_state(&c, A, "b") != ROSTER_NODE_UP);
    cl_fini(&c);
}

TEST_MAIN(T(test_leave_forget_rejoin), T(test_admin_check), T(test_owner_replicated),
          T(test_public_resolver), T(test_policy_must_agree))
