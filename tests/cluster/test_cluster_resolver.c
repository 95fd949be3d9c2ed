/* test_cluster_resolver.c: the public conflict resolver API (roster.h, roster_resolver;
 * issue 11, item 15) on real nodes. Two nodes each grant the same name while apart (each
 * started alone), then one joins the other with cluster-join, which makes a conflict:
 *   - with tests/cluster/resolver.c ("greater-meta") on every node, the claim with the
 *     greater metadata wins on all three nodes although it is the newer one (the default
 *     policy would pick the older), and the loser's owner gets the conflict notice;
 *   - with resolver_bad.c ("first-arg": another winner for swapped arguments) the node
 *     refuses its answers, logs why, counts them (STATUS resolver_refused) and the
 *     default policy decides: the older claim wins;
 *   - nodes with different resolvers (first-arg v1 and v2) refuse each other, logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "rclient.h"
#include "test.h"

static const char *cookie;

static uint64_t stat_of(roster_client *c, const char *name)
{
    roster_stats st;
    ASSERT_EQ(roster_status(c, &st, 5000), 0);
    uint64_t v = UINT64_MAX;
    for (size_t i = 0; i < st.n; i++)
        if (strcmp(st.items[i].key, name) == 0)
            v = st.items[i].value;
    roster_stats_free(&st);
    return v;
}

/* conflict starts a and b (not joined) with resolver so, registers "x" on a (meta "aaa",
 * the older grant) then on b (meta "zzz"), joins b to a's cluster (a and c), and checks
 * that every node shows the expected winner (want_newer: b's) and the loser is told. */
static void conflict(const char *so, int want_newer, int want_refused)
{
    char why[160];
    cl_netns(why, sizeof why);
    cookie = cl_cookie(0, "cluster-test-cookie-resolver-61f0a3\n");
    const char *extra[] = {"--resolver", so, NULL};
    struct cl_node a, b, c;
    cl_start(&a, 1, "a", NULL, cookie, extra);
    cl_start(&b, 2, "b", NULL, cookie, extra);
    cl_start(&c, 3, "c", a.addr, cookie, extra);
    cl_wait_up(&a, NULL, 2, 10000);
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b), *cc = cl_connect(&c);
    roster_pid pa = roster_self(ca), pb = roster_self(cb);
    ASSERT_EQ(roster_register(ca, NULL, "x", 1, pa, "aaa", 3, NULL, 5000), 0);
    cl_wait_lookup(&c, NULL, "x", 0, &pa, 5000);
    ASSERT_EQ(roster_register(cb, NULL, "x", 1, pb, "zzz", 3, NULL, 5000), 0);
    ASSERT_EQ(roster_cluster_join(cb, a.addr, 5000), 0);
    cl_wait_up(&a, NULL, 3, 10000);
    cl_wait_up(&b, NULL, 3, 10000);
    roster_pid win = want_newer ? pb : pa;
    cl_wait_lookup(&a, NULL, "x", 0, &win, 5000);
    cl_wait_lookup(&b, NULL, "x", 0, &win, 5000);
    cl_wait_lookup(&c, NULL, "x", 0, &win, 5000);
    /* the loser's own client is told, and gives the name up everywhere */
    roster_client *lost = want_newer ? ca : cb;
    roster_event ev;
    ASSERT_EQ(roster_wait_event(lost, &ev, 10000), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_CONFLICT);
    roster_event_free(&ev);
    if (want_refused) {
        /* told at start already, by a probe */
        ASSERT(cl_log_has(&a, "conflict resolver first-arg v1 breaks the rules (probe at "
                              "start: it picked another winner for the swapped arguments)"));
        cl_wait_log(&a, "conflict resolver first-arg v1 refused", 5000);
        cl_wait_log(&a, "picked another winner for the swapped arguments", 5000);
        ASSERT(stat_of(ca, "resolver_refused") > 0);
    } else {
        ASSERT(!cl_log_has(&a, "breaks the rules"));
        ASSERT_EQ(stat_of(ca, "resolver_refused"), 0);
        ASSERT_EQ(stat_of(cb, "resolver_refused"), 0);
    }
    roster_close(ca);
    roster_close(cb);
    roster_close(cc);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

static void test_custom_resolver_decides(void) { conflict(RESOLVER_PATH, 1, 0); }

static void test_rule_breaking_resolver_refused(void) { conflict(BAD_RESOLVER_PATH, 0, 1); }

static void test_different_resolvers_refused(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    cookie = cl_cookie(0, "cluster-test-cookie-resolver-61f0a3\n");
    const char *v1[] = {"--resolver", BAD_RESOLVER_PATH, NULL};
    const char *v2[] = {"--resolver", BAD2_RESOLVER_PATH, NULL};
    struct cl_node a, b;
    cl_start(&a, 1, "a", NULL, cookie, v1);
    cl_start(&b, 2, "b", a.addr, cookie, v2);
    cl_wait_log(&a, "every node must run the same policy and resolver", 10000);
    cl_wait_log(&b, "every node must run the same policy and resolver", 10000);
    cl_wait_log(&a, "conflict policy differs (custom first-arg v1 here, custom first-arg v2 "
                    "there)", 5000);
    /* and a node without the resolver (policy oldest) is refused alike */
    struct cl_node c;
    cl_start(&c, 3, "c", a.addr, cookie, NULL);
    cl_wait_log(&c, "resolves name conflicts with policy custom resolver first-arg v1, this "
                    "node with oldest", 10000);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

TEST_MAIN(T(test_custom_resolver_decides), T(test_rule_breaking_resolver_refused),
          T(test_different_resolvers_refused))
