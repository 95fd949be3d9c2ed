/* test_cluster_metrics.c: the per-peer metrics of rosterd --http on a real two-node
 * cluster: the peer's state, heartbeat round trip, bytes both ways and entries, then a
 * kill -9 of the peer counted as a node-down declaration with the state turned to down;
 * rosterctl top listing both nodes; and across a partition made with nftables, the
 * conflict over a name registered on both sides and the peer's reconnect counted. (The
 * text format itself: tests/api/test_metrics.) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster.h"
#include "http.h"
#include "test.h"

/* get_metrics fetches /metrics into buf: 0, or -1 if nothing answers yet. */
static int get_metrics(int port, char *buf, size_t cap)
{
    int st = http_get(port, "/metrics", buf, cap);
    if (st < 0)
        return -1;
    ASSERT_EQ(st, 200);
    return 0;
}

/* sample reads the value of the line starting with series ("name{labels}"); -1 if absent. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)); p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

/* wait_sample waits until series equals want (or, with at_least, reaches it). */
static void wait_sample_cmp(int port, const char *series, double want, int at_least, int ms)
{
    static char buf[1 << 18];
    uint64_t deadline = test_now_ms() + (uint64_t)ms;
    for (;;) {
        if (get_metrics(port, buf, sizeof buf) == 0 &&
            (at_least ? sample(buf, series) >= want : sample(buf, series) == want))
            return;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "%s never became %g (last %g)", series, want,
                      sample(buf, series));
        cl_sleep_ms(20);
    }
}

static void wait_sample(int port, const char *series, double want, int ms)
{
    wait_sample_cmp(port, series, want, 0, ms);
}

static void test_peer_metrics(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    const char *cookie = cl_cookie(0, "cluster-metrics-cookie-0b8e7d6c5a4f3e2d\n");
    int port = http_free_port();
    char http[64];
    snprintf(http, sizeof http, "127.0.0.1:%d", port);
    const char *extra[] = {"--http", http, NULL};
    struct cl_node a, b;
    cl_start(&a, 1, "a", NULL, cookie, extra);
    cl_start(&b, 2, "b", a.addr, cookie, NULL);
    cl_wait_up(&a, NULL, 2, 10000);
    roster_client *cb = cl_connect(&b);
    ASSERT_EQ(roster_register(cb, "default", "on-b", 4, roster_self(cb), NULL, 0, NULL, 5000),
              0);
    cl_wait_lookup(&a, "default", "on-b", 0, NULL, 10000);

    wait_sample(port, "roster_peer_state{peer=\"b\",state=\"up\"}", 1, 5000);
    wait_sample(port, "roster_peer_entries{peer=\"b\"}", 1, 5000);
    static char buf[1 << 18];
    /* a few heartbeats (100 ms) later the round trip is known and bytes flowed both ways */
    uint64_t deadline = test_now_ms() + 5000;
    do {
        ASSERT(test_now_ms() < deadline);
        cl_sleep_ms(50);
        ASSERT_EQ(get_metrics(port, buf, sizeof buf), 0);
    } while (sample(buf, "roster_peer_received_bytes_total{peer=\"b\"}") < 200 ||
             sample(buf, "roster_peer_sent_bytes_total{peer=\"b\"}") < 200);
    ASSERT(sample(buf, "roster_peer_rtt_seconds{peer=\"b\"}") >= 0);
    ASSERT(sample(buf, "roster_peer_rtt_seconds{peer=\"b\"}") < 1);
    ASSERT_EQ(sample(buf, "roster_peer_reconnects_total{peer=\"b\"}"), 0);
    ASSERT(sample(buf, "roster_peer_unread_bytes{peer=\"b\"}") >= 0);
    ASSERT_EQ(sample(buf, "roster_node_down_declarations_total"), 0);
    ASSERT_EQ(sample(buf, "roster_peer_state{peer=\"b\",state=\"down\"}"), 0);

    /* rosterctl top on a lists both nodes, up */
    static char out[65536];
    const char *av[] = {ROSTERCTL_PATH, "--socket", a.t.sock, "top", "--once", "--interval",
                        "50", NULL};
    ASSERT_EQ(test_run_cmd(av, out, sizeof out), 0);
    ASSERT(strstr(out, "NODES (2)"));
    ASSERT(strstr(out, " up (self)"));

    roster_close(cb);
    test_node_kill(&b.t, SIGKILL);
    wait_sample(port, "roster_node_down_declarations_total", 1, CL_DOWN_BOUND_MS);
    wait_sample(port, "roster_peer_state{peer=\"b\",state=\"down\"}", 1, 5000);
    wait_sample(port, "roster_peer_state{peer=\"b\",state=\"up\"}", 0, 5000);
    wait_sample(port, "roster_scope_names{scope=\"default\"}", 0, 5000);
    test_node_stop_ok(&a.t);
}

#define TABLE "roster_metrics_test"

/* partition drops every packet between 127.0.0.1 and 127.0.0.2, both ways. */
#define RULES "    ip saddr 127.0.0.1 ip daddr 127.0.0.2 drop\n"\
              "    ip saddr 127.0.0.2 ip daddr 127.0.0.1 drop"

static int partition(void) { return cl_nft_drop(TABLE, RULES); }

/* A partition: b declared down on a; one name registered on both sides; after the heal
 * the conflict is settled (counted on a), and b, the same incarnation, came up again (one
 * reconnect). */
static void test_partition_counters(void)
{
    cl_nft_ready(TABLE, RULES);
    const char *cookie = cl_cookie(0, "cluster-metrics-cookie-0b8e7d6c5a4f3e2d\n");
    int port = http_free_port();
    char http[64];
    snprintf(http, sizeof http, "127.0.0.1:%d", port);
    const char *extra[] = {"--http", http, NULL};
    struct cl_node a, b;
    cl_start(&a, 1, "a", NULL, cookie, extra);
    cl_start(&b, 2, "b", a.addr, cookie, NULL);
    cl_wait_up(&a, NULL, 2, 10000);
    cl_wait_up(&b, NULL, 2, 10000);
    wait_sample(port, "roster_conflicts_resolved_total", 0, 5000);
    static char buf[1 << 18];
    ASSERT_EQ(get_metrics(port, buf, sizeof buf), 0);
    double in_before = sample(buf, "roster_peer_received_bytes_total{peer=\"b\"}");
    ASSERT(in_before > 0);

    ASSERT_EQ(partition(), 0);
    cl_wait_up(&a, NULL, 1, 10000);
    cl_wait_up(&b, NULL, 1, 10000);
    wait_sample(port, "roster_node_down_declarations_total", 1, 5000);
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b);
    ASSERT_EQ(roster_register(cb, "default", "dup", 3, roster_self(cb), NULL, 0, NULL, 5000),
              0);
    ASSERT_EQ(roster_register(ca, "default", "dup", 3, roster_self(ca), NULL, 0, NULL, 5000),
              0);
    cl_nft_heal(TABLE);
    cl_wait_up(&a, NULL, 2, 20000);
    /* a settled the second claim on "dup" (b's, arriving with the heal's resync) */
    wait_sample_cmp(port, "roster_conflicts_resolved_total", 1, 1, 10000);
    wait_sample(port, "roster_peer_reconnects_total{peer=\"b\"}", 1, 5000);
    wait_sample(port, "roster_peer_state{peer=\"b\",state=\"up\"}", 1, 5000);
    wait_sample(port, "roster_scope_names{scope=\"default\"}", 1, 5000);
    /* the byte counters run on across the reconnect (they are the node's, not a
     * connection's) */
    ASSERT_EQ(get_metrics(port, buf, sizeof buf), 0);
    ASSERT(sample(buf, "roster_peer_received_bytes_total{peer=\"b\"}") > in_before);
    roster_close(ca);
    roster_close(cb);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

TEST_MAIN(T(test_peer_metrics), T(test_partition_counters))
