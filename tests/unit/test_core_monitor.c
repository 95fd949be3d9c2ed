/* test_core_monitor.c: monitors of the core: DOWN once with the reason, noproc for pids that
 * are not alive, DEMONITOR, the per-client cap, monitors dropped with their watcher. */
#include "core_harness.h"

static void test_monitor_down_once(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    struct rs_pid q = h_pid_new(&h, 1);
    h_hello(&h, 2);
    uint64_t m1 = h_monitor(&h, 2, q);
    uint64_t m2 = h_monitor(&h, 2, q);
    ASSERT(m1 && m2 && m1 != m2);
    ASSERT_U64_EQ(h_stats(&h).monitors, 2);
    ASSERT_EQ(h_pid_close(&h, 1, q), 0);
    ASSERT_EQ(h_nevents(&h, 2), 2);
    for (size_t i = 0; i < 2; i++) {
        const struct rs_msg *e = h_event(&h, 2, i);
        ASSERT_EQ(e->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NORMAL << 8));
        ASSERT(h_pid_eq(e->pid, q));
        ASSERT(e->arg == m1 || e->arg == m2);
        ASSERT(h_bytes_is(e->node, "node-a"));
    }
    ASSERT_U64_EQ(h_stats(&h).monitors, 0);
    /* a later death of anything sends nothing more */
    h_gone(&h, 1);
    ASSERT_EQ(h_nevents(&h, 2), 0);
    h_fini(&h);
}

static void test_monitor_noproc(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    struct rs_pid cases[3] = {{H_INC, 999}, {H_INC + 5, 1}, {0, 0}};
    for (int i = 0; i < 3; i++) {
        struct rs_msg m = {.type = RS_MSG_MONITOR, .pid = cases[i]};
        ASSERT_EQ(h_status(&h, 1, &m), 0);
        uint64_t id = h_reply(&h)->arg;
        ASSERT(id != 0);
        ASSERT_EQ(h.f[0].m.flags, RS_F_REPLY); /* reply first, then DOWN */
        ASSERT_EQ(h_nevents(&h, 1), 1);
        const struct rs_msg *e = h_event(&h, 1, 0);
        ASSERT_EQ(e->opts, ROSTER_EV_DOWN | (ROSTER_REASON_NOPROC << 8));
        ASSERT_U64_EQ(e->arg, id);
        ASSERT(h_pid_eq(e->pid, cases[i]));
    }
    ASSERT_U64_EQ(h_stats(&h).monitors, 0);
    /* a closed pid is dead too */
    struct rs_pid q = h_pid_new(&h, 1);
    ASSERT_EQ(h_pid_close(&h, 1, q), 0);
    struct rs_msg m = {.type = RS_MSG_MONITOR, .pid = q};
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    ASSERT_EQ(h_ev_reason(h_event(&h, 1, 0)), ROSTER_REASON_NOPROC);
    h_fini(&h);
}

static void test_demonitor(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid q = h_pid_new(&h, 1);
    h_hello(&h, 2);
    uint64_t m = h_monitor(&h, 2, q);
    struct rs_msg d1 = {.type = RS_MSG_DEMONITOR, .arg = m};
    ASSERT_EQ(h_status(&h, 1, &d1), ROSTER_ENOTFOUND); /* not conn 1's */
    struct rs_msg d2 = {.type = RS_MSG_DEMONITOR, .arg = m};
    ASSERT_EQ(h_status(&h, 2, &d2), 0);
    struct rs_msg d3 = {.type = RS_MSG_DEMONITOR, .arg = m};
    ASSERT_EQ(h_status(&h, 2, &d3), ROSTER_ENOTFOUND);
    ASSERT_EQ(h_pid_close(&h, 1, q), 0);
    ASSERT_EQ(h_nevents(&h, 2), 0);
    /* a client may monitor its own pid */
    uint64_t own = h_monitor(&h, 1, p);
    ASSERT_EQ(h_pid_close(&h, 1, p), 0);
    ASSERT_EQ(h_nevents(&h, 1), 1);
    ASSERT_U64_EQ(h_event(&h, 1, 0)->arg, own);
    h_fini(&h);
}

static void test_monitor_cap_and_watcher_gone(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.monitors_per_client = 2;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    h_monitor(&h, 2, p);
    h_monitor(&h, 2, p);
    struct rs_msg m = {.type = RS_MSG_MONITOR, .pid = p};
    ASSERT_EQ(h_status(&h, 2, &m), ROSTER_ELIMIT);
    ASSERT_U64_EQ(h_stats(&h).monitors, 2);
    h_gone(&h, 2);
    ASSERT_U64_EQ(h_stats(&h).monitors, 0);
    ASSERT_EQ(h_pid_close(&h, 1, p), 0);
    ASSERT_EQ(h.nf, 1); /* only the reply */
    h_fini(&h);
}

TEST_MAIN(T(test_monitor_down_once), T(test_monitor_noproc), T(test_demonitor),
          T(test_monitor_cap_and_watcher_gone))
