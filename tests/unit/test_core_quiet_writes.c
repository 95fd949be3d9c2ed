/* test_core_quiet_writes.c: a write that changes nothing (re-registering a name, or
 * re-joining a group, with the metadata it already has) gives no event on any node and
 * sends nothing to the peers, while a real change still gives its event everywhere
 * (issue 11 item 1). Two cores wired by cluster_harness.h. */
#include "cluster_harness.h"

#define A 0
#define B 1

static struct cluster cl;

static void setup(void)
{
    cl_init(&cl);
    cl_add(&cl, "a", 0xa1ull, NULL);
    cl_add(&cl, "b", 0xb2ull, NULL);
    cl_connect(&cl, A, B);
    cl_pump(&cl);
}

static void clear_logs(void)
{
    cn_clear(&cl.n[A]);
    cn_clear(&cl.n[B]);
}

static void test_reregister_same_meta(void)
{
    setup();
    struct rs_pid p = cl_client(&cl, A, 1);
    cl_client(&cl, A, 2);
    cl_client(&cl, B, 2);
    cl_subscribe(&cl, A, 2, "", ROSTER_SUB_ALL);
    cl_subscribe(&cl, B, 2, "", ROSTER_SUB_ALL);
    struct rs_msg r1 = {.type = RS_MSG_REGISTER, .pid = p, .key = rs_bytes_str("db"),
                        .meta = rs_bytes_str("m")};
    const struct rs_msg *r = cl_req(&cl, A, 1, &r1);
    ASSERT_EQ(r->status, 0);
    uint64_t token = rs_msg_register_reply_token(r);
    cl_pump(&cl);
    clear_logs();
    /* the same metadata: the reply (same holder and token), nothing else anywhere */
    struct rs_msg r2 = r1;
    r = cl_req(&cl, A, 1, &r2);
    ASSERT_EQ(r->status, 0);
    ASSERT(cl_pid_eq(r->pid, p));
    ASSERT_U64_EQ(rs_msg_register_reply_token(r), token);
    ASSERT_EQ(cl.n[A].q[B].len, 0); /* nothing replicated */
    cl_pump(&cl);
    ASSERT_EQ(cl_nevents(&cl.n[A], 2), 0);
    ASSERT_EQ(cl_nevents(&cl.n[B], 2), 0);
    /* other metadata: UPDATED on both nodes */
    struct rs_msg r3 = r1;
    r3.meta = rs_bytes_str("m2");
    ASSERT_EQ(cl_req(&cl, A, 1, &r3)->status, 0);
    cl_pump(&cl);
    for (size_t i = 0; i < 2; i++) {
        ASSERT_EQ(cl_nevents(&cl.n[i], 2), 1);
        const struct rs_msg *e = cl_event(&cl.n[i], 2, 0);
        ASSERT_EQ(rs_msg_event_kind(e), ROSTER_EV_UPDATED);
        ASSERT(cl_bytes_is(rs_msg_event_prev_meta(e), "m"));
        ASSERT(cl_bytes_is(rs_msg_event_meta(e), "m2"));
    }
    cl_fini(&cl);
}

static void test_rejoin_same_meta(void)
{
    setup();
    struct rs_pid p = cl_client(&cl, A, 1);
    cl_client(&cl, A, 2);
    cl_client(&cl, B, 2);
    cl_subscribe(&cl, A, 2, "", ROSTER_SUB_ALL);
    cl_subscribe(&cl, B, 2, "", ROSTER_SUB_ALL);
    ASSERT_EQ(cl_join(&cl, A, 1, p, "", "g", "m"), 0);
    cl_pump(&cl);
    clear_logs();
    ASSERT_EQ(cl_join(&cl, A, 1, p, "", "g", "m"), 0);
    ASSERT_EQ(cl.n[A].q[B].len, 0);
    cl_pump(&cl);
    ASSERT_EQ(cl_nevents(&cl.n[A], 2), 0);
    ASSERT_EQ(cl_nevents(&cl.n[B], 2), 0);
    /* empty metadata again is the same too */
    ASSERT_EQ(cl_join(&cl, A, 1, p, "", "g", ""), 0);
    cl_pump(&cl);
    clear_logs();
    ASSERT_EQ(cl_join(&cl, A, 1, p, "", "g", ""), 0);
    cl_pump(&cl);
    ASSERT_EQ(cl_nevents(&cl.n[A], 2), 0);
    ASSERT_EQ(cl_nevents(&cl.n[B], 2), 0);
    /* a change: MEMBER_UPDATED on both */
    ASSERT_EQ(cl_join(&cl, A, 1, p, "", "g", "x"), 0);
    cl_pump(&cl);
    for (size_t i = 0; i < 2; i++) {
        ASSERT_EQ(cl_nevents(&cl.n[i], 2), 1);
        ASSERT_EQ(rs_msg_event_kind(cl_event(&cl.n[i], 2, 0)), ROSTER_EV_MEMBER_UPDATED);
    }
    struct rs_core_stats st = cl_stats(&cl.n[B]);
    ASSERT_U64_EQ(st.members, 1);
    cl_fini(&cl);
}

TEST_MAIN(T(test_reregister_same_meta), T(test_rejoin_same_meta))
