/* test_cluster_lease.c: leases and exit reasons on three real rosterd (issue 11 items 7 and
 * 8). A name and a membership with a TTL, held by a rosterctl on a, are kept on every node
 * while it renews by itself; stopped with SIGSTOP, a removes both and b and c see them go
 * with reason expired (the client is still connected). A pid closed with an exit reason on
 * a reaches b's subscriber and c's monitor with the reason's text. Across a real partition
 * (nftables rules in the test's namespace: a | b,c), a's holder keeps its leased name alive
 * on a while b and c drop it with a (node_down) and get it back after the heal; stopped
 * during a second partition, its name expires on a alone and does not come back anywhere
 * after the heal. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "ctlproc.h"
#include "rclient.h"
#include "test.h"

static int text_is(const roster_buf *b, const char *s)
{
    return b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

/* next event on c of one of the removal kinds, within 10 s */
static void next_removal(roster_client *c, roster_event *ev)
{
    uint64_t t0 = test_now_ms();
    for (;;) {
        int r = roster_wait_event(c, ev, 10000);
        if (r)
            test_fail(__FILE__, __LINE__, "wait_event: %s", roster_strerror(r));
        if (ev->type == ROSTER_EV_UNREGISTERED || ev->type == ROSTER_EV_LEFT ||
            ev->type == ROSTER_EV_DOWN)
            return;
        roster_event_free(ev);
        if (test_now_ms() - t0 > 10000)
            test_fail(__FILE__, __LINE__, "no removal event");
    }
}

static void test_ttl_expires_everywhere(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    const char *cookie = cl_cookie(0, "cluster-test-cookie-5f1c2d9e8a7b6c4d\n");
    struct cl_node a, b, c;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    cl_start(&b, 2, "b", a.addr, cookie, NULL);
    cl_start(&c, 3, "c", a.addr, cookie, NULL);
    cl_wait_up(&a, NULL, 3, 10000);
    cl_wait_up(&b, NULL, 3, 10000);
    cl_wait_up(&c, NULL, 3, 10000);
    roster_client *cb = cl_connect(&b), *cc = cl_connect(&c);
    uint64_t sub;
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(roster_subscribe(i ? cc : cb, NULL, "", 0,
                                   ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS,
                                   &sub, 5000),
                  0);
    struct ctl_proc reg, join;
    const char *rargs[] = {"register", "leader", "--ttl", "500", "--json", NULL};
    const char *jargs[] = {"join", "pool", "--ttl", "500", "--json", NULL};
    ctl_spawn(&reg, a.t.sock, rargs);
    ctl_spawn(&join, a.t.sock, jargs);
    char line[1024];
    ctl_read_line(&reg, line, sizeof line);
    ctl_read_line(&join, line, sizeof line);
    cl_wait_lookup(&b, NULL, "leader", 0, NULL, 10000);
    cl_wait_lookup(&c, NULL, "leader", 0, NULL, 10000);
    cl_wait_members(&c, NULL, "pool", 1, 10000);
    /* renewed by the holders: still everywhere after 6 TTLs */
    cl_sleep_ms(3000);
    cl_wait_lookup(&b, NULL, "leader", 0, NULL, 1000);
    cl_wait_members(&b, NULL, "pool", 1, 1000);
    /* both holders hang: their entries expire on a and leave b and c with reason expired */
    ASSERT_EQ(kill(reg.pid, SIGSTOP), 0);
    ASSERT_EQ(kill(join.pid, SIGSTOP), 0);
    cl_wait_lookup(&b, NULL, "leader", ROSTER_ENOTFOUND, NULL, 15000);
    cl_wait_lookup(&c, NULL, "leader", ROSTER_ENOTFOUND, NULL, 15000);
    cl_wait_members(&b, NULL, "pool", 0, 15000);
    cl_wait_members(&c, NULL, "pool", 0, 15000);
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 2; k++) {
            roster_event ev;
            next_removal(i ? cc : cb, &ev);
            ASSERT_EQ(ev.reason, ROSTER_REASON_EXPIRED);
            ASSERT_STR_EQ(ev.node, "a");
            roster_event_free(&ev);
        }
    }
    /* the holders' connections were open all along; resumed, they report the loss */
    ASSERT_EQ(kill(reg.pid, SIGCONT), 0);
    ASSERT_EQ(kill(join.pid, SIGCONT), 0);
    ASSERT_EQ(ctl_wait_exit(&reg, 10000), 1);
    ASSERT_EQ(ctl_wait_exit(&join, 10000), 1);
    roster_close(cb);
    roster_close(cc);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

static void test_exit_reason_everywhere(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    const char *cookie = cl_cookie(0, "cluster-test-cookie-5f1c2d9e8a7b6c4d\n");
    struct cl_node a, b, c;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    cl_start(&b, 2, "b", a.addr, cookie, NULL);
    cl_start(&c, 3, "c", a.addr, cookie, NULL);
    cl_wait_up(&a, NULL, 3, 10000);
    cl_wait_up(&b, NULL, 3, 10000);
    cl_wait_up(&c, NULL, 3, 10000);
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b), *cc = cl_connect(&c);
    roster_pid p;
    ASSERT_EQ(roster_pid_new(ca, &p, 5000), 0);
    ASSERT_EQ(roster_register(ca, NULL, "worker-1", 8, p, NULL, 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(ca, NULL, "workers", 7, p, NULL, 0, 5000), 0);
    cl_wait_lookup(&b, NULL, "worker-1", 0, &p, 10000);
    cl_wait_members(&b, NULL, "workers", 1, 10000);
    cl_wait_lookup(&c, NULL, "worker-1", 0, &p, 10000);
    uint64_t sub, mon;
    ASSERT_EQ(roster_subscribe(cb, NULL, "", 0,
                               ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS, &sub,
                               5000),
              0);
    ASSERT_EQ(roster_monitor(cc, p, &mon, 5000), 0);
    cl_sleep_ms(300); /* the monitor's P_MONITOR reaches a (a DOWN is owed either way) */
    ASSERT_EQ(roster_pid_exit(ca, p, "evicted: disk full", 5000), 0);
    for (int k = 0; k < 2; k++) {
        roster_event ev;
        next_removal(cb, &ev);
        ASSERT_EQ(ev.reason, ROSTER_REASON_EXIT);
        ASSERT(text_is(&ev.reason_text, "evicted: disk full"));
        roster_event_free(&ev);
    }
    roster_event ev;
    next_removal(cc, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_DOWN);
    ASSERT_U64_EQ(ev.id, mon);
    ASSERT_EQ(ev.reason, ROSTER_REASON_EXIT);
    ASSERT(text_is(&ev.reason_text, "evicted: disk full"));
    roster_event_free(&ev);
    cl_wait_lookup(&c, NULL, "worker-1", ROSTER_ENOTFOUND, NULL, 5000);
    roster_close(ca);
    roster_close(cb);
    roster_close(cc);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

#define TABLE "roster_lease_test"
#define RULES "    ip saddr 127.0.0.1 ip daddr { 127.0.0.2, 127.0.0.3 } drop\n"\
              "    ip saddr { 127.0.0.2, 127.0.0.3 } ip daddr 127.0.0.1 drop"

static void test_ttl_across_partitions(void)
{
    cl_nft_ready(TABLE, RULES);
    const char *cookie = cl_cookie(0, "cluster-test-cookie-5f1c2d9e8a7b6c4d\n");
    struct cl_node a, b, c;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    cl_start(&b, 2, "b", a.addr, cookie, NULL);
    cl_start(&c, 3, "c", a.addr, cookie, NULL);
    cl_wait_up(&a, NULL, 3, 10000);
    cl_wait_up(&b, NULL, 3, 10000);
    cl_wait_up(&c, NULL, 3, 10000);
    struct ctl_proc h;
    const char *args[] = {"register", "leader", "--ttl", "1000", "--json", NULL};
    ctl_spawn(&h, a.t.sock, args);
    char line[1024];
    ctl_read_line(&h, line, sizeof line);
    cl_wait_lookup(&c, NULL, "leader", 0, NULL, 10000);

    /* a | b,c: b and c drop a's entries (node_down); a's holder renews on its side */
    ASSERT_EQ(cl_nft_drop(TABLE, RULES), 0);
    cl_wait_up(&b, NULL, 2, 15000);
    cl_wait_up(&a, NULL, 1, 15000);
    cl_wait_lookup(&b, NULL, "leader", ROSTER_ENOTFOUND, NULL, 10000);
    cl_sleep_ms(2500); /* 2.5 leases */
    cl_wait_lookup(&a, NULL, "leader", 0, NULL, 1000);
    cl_nft_heal(TABLE);
    cl_wait_up(&a, NULL, 3, 20000);
    cl_wait_lookup(&b, NULL, "leader", 0, NULL, 15000);
    cl_wait_lookup(&c, NULL, "leader", 0, NULL, 15000);

    /* again, and the holder hangs meanwhile: a alone expires the name */
    ASSERT_EQ(cl_nft_drop(TABLE, RULES), 0);
    cl_wait_up(&a, NULL, 1, 15000);
    ASSERT_EQ(kill(h.pid, SIGSTOP), 0);
    cl_wait_lookup(&a, NULL, "leader", ROSTER_ENOTFOUND, NULL, 15000);
    cl_nft_heal(TABLE);
    cl_wait_up(&a, NULL, 3, 20000);
    cl_wait_up(&b, NULL, 3, 20000);
    cl_wait_up(&c, NULL, 3, 20000);
    cl_sleep_ms(1000); /* resyncs done: nothing brings the name back */
    cl_wait_lookup(&b, NULL, "leader", ROSTER_ENOTFOUND, NULL, 1000);
    cl_wait_lookup(&c, NULL, "leader", ROSTER_ENOTFOUND, NULL, 1000);
    ASSERT_EQ(kill(h.pid, SIGCONT), 0);
    ASSERT_EQ(ctl_wait_exit(&h, 10000), 1);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

TEST_MAIN(T(test_ttl_expires_everywhere), T(test_exit_reason_everywhere),
          T(test_ttl_across_partitions))
