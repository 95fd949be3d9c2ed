/* test_core_lease_cluster.c: leases and exit reasons across three cores wired by
 * cluster_harness.h (issue 11 items 7 and 8): the owner's node alone keeps a lease's time
 * and its expiry reaches every node as a removal with reason expired; a replica whose clock
 * runs far ahead never removes a live entry; an expiry during a partition is settled by the
 * resync after the heal; a pid's exit reason reaches the events and the monitors of every
 * node (P_PID_EXIT, P_DOWN_EXIT); malformed frames of the new kinds fail the link. */
#include "cluster_harness.h"

#define A 0
#define B 1
#define C 2
#define INC_A 0xa1ull
#define INC_B 0xb2ull
#define INC_C 0xc3ull

static void three(struct cluster *c)
{
    cl_init(c);
    cl_add(c, "a", INC_A, NULL);
    cl_add(c, "b", INC_B, NULL);
    cl_add(c, "c", INC_C, NULL);
    cl_connect(c, A, B);
    cl_connect(c, A, C);
    cl_connect(c, B, C);
    cl_pump(c);
}

static int lease(struct cluster *c, size_t i, uint64_t conn, struct rs_pid pid, uint32_t kind,
                 const char *key, uint64_t ttl)
{
    struct rs_msg m = {.type = RS_MSG_LEASE, .opts = kind, .arg = ttl, .pid = pid,
                       .scope = rs_bytes_str(""), .key = rs_bytes_str(key),
                       .meta = rs_bytes_str("m")};
    return cl_req(c, i, conn, &m)->status;
}

static int renew(struct cluster *c, size_t i, uint64_t conn, struct rs_pid pid)
{
    struct rs_msg m = {.type = RS_MSG_RENEW, .pid = pid};
    return cl_req(c, i, conn, &m)->status;
}

/* tick every node at time t, then deliver everything */
static void tick_all(struct cluster *c, uint64_t t)
{
    c->now = t;
    for (size_t i = 0; i < c->nn; i++)
        cl_tick(c, i);
    cl_pump(c);
}

static void test_expiry_reaches_every_node(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid p = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    cl_client(&c, C, 1);
    cl_subscribe(&c, B, 1, "", 0);
    cl_subscribe(&c, C, 1, "", 0);
    ASSERT_EQ(lease(&c, A, 1, p, RS_LEASE_NAME, "svc", 1000), 0);
    ASSERT_EQ(lease(&c, A, 1, p, RS_LEASE_MEMBER, "grp", 1000), 0);
    cl_pump(&c);
    for (size_t i = B; i <= C; i++) {
        ASSERT_EQ(cl_lookup(&c, i, 1, "", "svc", NULL, NULL, NULL), 0);
        cn_clear(&c.n[i]);
    }
    /* renewed on a's clock: kept across the heartbeats of 3 s */
    for (uint64_t t = 1200; t <= 4000; t += 200) {
        tick_all(&c, t);
        ASSERT_EQ(renew(&c, A, 1, p), 0);
    }
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 0);
    /* a stops renewing (its client hung): at 5000 a removes both, everywhere */
    tick_all(&c, 4999);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 0);
    tick_all(&c, 5000);
    for (size_t i = B; i <= C; i++) {
        ASSERT_EQ(cl_nevents(&c.n[i], 1), 2);
        for (size_t k = 0; k < 2; k++) {
            const struct rs_msg *e = cl_event(&c.n[i], 1, k);
            ASSERT_EQ((e->opts >> 8) & 0xff, ROSTER_REASON_EXPIRED);
            ASSERT(cl_pid_eq(e->pid, p));
            ASSERT(cl_bytes_is(e->node, "a"));
        }
        ASSERT_EQ(cl_lookup(&c, i, 1, "", "svc", NULL, NULL, NULL), ROSTER_ENOTFOUND);
        ASSERT_U64_EQ(cl_stats(&c.n[i]).members, 0);
    }
    /* a's client is still connected and told once on renew */
    ASSERT_EQ(renew(&c, A, 1, p), ROSTER_EEXPIRED);
    ASSERT_EQ(renew(&c, A, 1, p), 0);
    cl_fini(&c);
}

static void test_replica_never_expires_by_its_clock(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid p = cl_client(&c, A, 1);
    cl_client(&c, B, 2);
    ASSERT_EQ(lease(&c, A, 1, p, RS_LEASE_NAME, "svc", 500), 0);
    cl_pump(&c);
    /* b's wall clock runs an hour ahead and its monotonic clock passes the deadline (not
     * the failure detector's 3 s): b still holds the name, since only a keeps the time */
    c.wall += 3600 * 1000;
    c.now = 1000 + 2000;
    cl_tick(&c, B);
    cl_tick(&c, C);
    ASSERT_EQ(cl_lookup(&c, B, 2, "", "svc", NULL, NULL, NULL), 0);
    ASSERT_U64_EQ(cl_stats(&c.n[C]).names, 1);
    /* a's tick removes it, and b learns it from a */
    cl_tick(&c, A);
    cl_pump(&c);
    ASSERT_EQ(cl_lookup(&c, B, 2, "", "svc", NULL, NULL, NULL), ROSTER_ENOTFOUND);
    ASSERT_U64_EQ(cl_stats(&c.n[C]).names, 0);
    cl_fini(&c);
}

static void test_expiry_during_partition(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid p = cl_client(&c, A, 1);
    cl_client(&c, C, 2);
    ASSERT_EQ(lease(&c, A, 1, p, RS_LEASE_NAME, "svc", 400), 0);
    cl_pump(&c);
    /* a is cut from b (not from c); the lease runs out on a */
    cl_disconnect(&c, A, B);
    cl_pump(&c);
    tick_all(&c, 1400);
    ASSERT_EQ(cl_lookup(&c, C, 2, "", "svc", NULL, NULL, NULL), ROSTER_ENOTFOUND);
    /* the heal's resync tells b */
    cl_connect(&c, A, B);
    cl_pump(&c);
    tick_all(&c, 1500);
    ASSERT_U64_EQ(cl_stats(&c.n[B]).names, 0);
    ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 0);
    cl_fini(&c);
}

static void test_exit_reason_everywhere(void)
{
    struct cluster c;
    three(&c);
    struct rs_pid p = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    cl_client(&c, C, 1);
    ASSERT_EQ(cl_register(&c, A, 1, p, "", "svc", ""), 0);
    ASSERT_EQ(cl_join(&c, A, 1, p, "", "grp", ""), 0);
    cl_pump(&c);
    cl_subscribe(&c, B, 1, "", 0);
    struct rs_msg mon = {.type = RS_MSG_MONITOR, .pid = p};
    uint64_t mid = cl_req(&c, C, 1, &mon)->arg;
    cl_pump(&c);
    cn_clear(&c.n[B]);
    cn_clear(&c.n[C]);
    struct rs_msg ex = {.type = RS_MSG_PID_EXIT, .pid = p, .meta = rs_bytes_str("oom-killed")};
    ASSERT_EQ(cl_req(&c, A, 1, &ex)->status, 0);
    cl_pump(&c);
    ASSERT_EQ(cl_nevents(&c.n[B], 1), 2);
    for (size_t k = 0; k < 2; k++) {
        const struct rs_msg *e = cl_event(&c.n[B], 1, k);
        ASSERT_EQ((e->opts >> 8) & 0xff, ROSTER_REASON_EXIT);
        ASSERT(cl_bytes_is(e->prev, "oom-killed"));
    }
    ASSERT_EQ(cl_nevents(&c.n[C], 1), 1);
    const struct rs_msg *d = cl_event(&c.n[C], 1, 0);
    ASSERT_EQ(d->opts, ROSTER_EV_DOWN | (ROSTER_REASON_EXIT << 8));
    ASSERT_U64_EQ(d->arg, mid);
    ASSERT(cl_bytes_is(d->prev, "oom-killed"));
    for (size_t i = 0; i < 3; i++)
        ASSERT_U64_EQ(cl_stats(&c.n[i]).names, 0);
    cl_fini(&c);
}

static void feed(struct cluster *c, size_t to, size_t from, const struct rs_msg *m)
{
    struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = PEER_CONN + from, .msg = m};
    cl_apply(c, &c->n[to], &in);
}

static void test_malformed_exit_frames(void)
{
    struct rs_msg bad[6];
    size_t nb = 0;
    memset(bad, 0, sizeof bad);
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_PID_EXIT, .opts = ROSTER_REASON_EXIT,
                                .pid = {INC_B, 1}, .meta = rs_bytes_str("normal")};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_PID_EXIT, .opts = ROSTER_REASON_NORMAL,
                                .pid = {INC_B, 1}, .meta = rs_bytes_str("x")};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_PID_EXIT, .opts = ROSTER_REASON_EXIT,
                                .pid = {INC_C, 1}, .meta = rs_bytes_str("x")};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_DOWN_EXIT, .opts = ROSTER_REASON_EXIT,
                                .arg = 1, .pid = {INC_B, 1}};
    bad[nb++] = (struct rs_msg){.type = RS_MSG_P_OP,
                                .opts = RS_POP_REGISTER | (ROSTER_REASON_EXPIRED << 8),
                                .pid = {INC_B, 1}, .scope = rs_bytes_str("default"),
                                .key = rs_bytes_str("k")};
    for (size_t i = 0; i < nb; i++) {
        struct cluster c;
        cl_init(&c);
        cl_add(&c, "a", INC_A, NULL);
        cl_add(&c, "b", INC_B, NULL);
        cl_connect(&c, A, B);
        cl_pump(&c);
        struct rs_pid pb = cl_client(&c, B, 1);
        ASSERT_EQ(cl_register(&c, B, 1, pb, "", "keep", ""), 0);
        cl_pump(&c);
        cn_clear(&c.n[A]);
        feed(&c, A, B, &bad[i]);
        if (!cl_closed(&c.n[A], PEER_CONN + B))
            test_fail(__FILE__, __LINE__, "bad frame %zu did not close the peer", i);
        cl_fini(&c);
    }
    /* a well-formed expired removal is accepted */
    struct cluster c;
    cl_init(&c);
    cl_add(&c, "a", INC_A, NULL);
    cl_add(&c, "b", INC_B, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid pb = cl_client(&c, B, 1);
    ASSERT_EQ(cl_register(&c, B, 1, pb, "", "keep", ""), 0);
    cl_pump(&c);
    struct rs_msg ok = {.type = RS_MSG_P_OP,
                        .opts = RS_POP_UNREGISTER | (ROSTER_REASON_EXPIRED << 8), .pid = pb,
                        .scope = rs_bytes_str("default"), .key = rs_bytes_str("keep")};
    feed(&c, A, B, &ok);
    ASSERT(!cl_closed(&c.n[A], PEER_CONN + B));
    ASSERT_U64_EQ(cl_stats(&c.n[A]).names, 0);
    cl_fini(&c);
}

TEST_MAIN(T(test_expiry_reaches_every_node), T(test_replica_never_expires_by_its_clock),
          T(test_expiry_during_partition), T(test_exit_reason_everywhere),
          T(test_malformed_exit_frames))
