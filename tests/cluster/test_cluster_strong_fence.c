/* test_cluster_strong_fence.c: self-fencing of a strong-scope holder whose node is cut from
 * etcd by a real packet drop (issue 9 item 6). A 3-member etcd cluster and two rosterd nodes
 * run in the test's own network namespace; node a talks to etcd member 0 only, node b to
 * members 1 and 2. a's client holds a name, b's client keeps trying to register it. An
 * nftables rule then drops every packet to and from member 0's client port: a can no longer
 * renew its lease (etcd keeps its quorum, member 0 included: peer traffic is untouched). The
 * holder must hear `lease_lost` from its node BEFORE b is granted the name (which can only
 * happen once etcd expired a's lease), and the new grant's token must be larger.
 *
 * Skipped (77, with the reason) where namespaces, nftables or etcd are missing, and until
 * the core's part of strong scopes is on the branch. */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "etcd_harness.h"
#include "test.h"

#define TABLE "roster_strong_fence_test"
#define PRE_STRONG_TEXT "strong scopes are not available in this version"
#define TTL_MS 3000

static struct eh_cluster ec;

static void nft_heal(void) { cl_sh("nft delete table inet " TABLE " 2>/dev/null"); }

static void nft_heal_cb(void *arg)
{
    (void)arg;
    nft_heal();
}

/* cut drops every packet to or from TCP port `port` on this namespace's loopback. */
static int cut(int port)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "nft -f - <<'EOF'\n"
             "table inet " TABLE " {\n"
             "  chain out {\n"
             "    type filter hook output priority 0; policy accept;\n"
             "    tcp dport %d drop\n"
             "    tcp sport %d drop\n"
             "  }\n"
             "}\n"
             "EOF",
             port, port);
    return cl_sh(cmd);
}

static void start(struct cl_node *n, int idx, const char *name, const char *join,
                  const char *cookie, const char *endpoints)
{
    const char *extra[] = {"--etcd", endpoints, "--etcd-prefix", "/roster/fence/",
                           "--etcd-lease-ttl-ms", "3000", "--etcd-timeout-ms", "1000", NULL};
    cl_start(n, idx, name, join, cookie, extra);
}

static void test_lease_lost_before_other_grant(void)
{
    char why[200];
    if (!cl_netns(why, sizeof why))
        test_skip("no private network namespace (%s): the cut cannot be made without "
                  "touching the host's network", why);
    if (cl_sh("nft --version >/dev/null 2>&1") != 0)
        test_skip("nft (nftables) is not installed: run scripts/deps.sh");
    if (cut(1) != 0)
        test_skip("nftables rules cannot be installed in this namespace (kernel without "
                  "nf_tables, or not permitted)");
    nft_heal();
    test_on_fail(nft_heal_cb, NULL);

    eh_start(&ec, 3);
    char ea[64], eb[160], e1[64], e2[64];
    snprintf(ea, sizeof ea, "%s", eh_endpoint(&ec, 0, e1, sizeof e1));
    eh_endpoint(&ec, 1, e1, sizeof e1);
    eh_endpoint(&ec, 2, e2, sizeof e2);
    snprintf(eb, sizeof eb, "%s,%s", e1, e2);
    const char *cookie = cl_cookie(0, "strong-fence-test-cookie-7c2e9a\n");
    struct cl_node a, b;
    start(&a, 1, "a", NULL, cookie, ea);
    start(&b, 2, "b", a.addr, cookie, eb);
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b);

    /* the strong scope, created through a and usable on b */
    uint64_t deadline = test_now_ms() + 15000;
    for (;;) {
        int r = roster_scope_create(ca, "f", ROSTER_SCOPE_STRONG, 5000);
        if (r == 0)
            break;
        if (r == ROSTER_EUNAVAIL && strstr(roster_errdetail(ca), PRE_STRONG_TEXT)) {
            roster_close(ca);
            roster_close(cb);
            test_node_stop(&a.t);
            test_node_stop(&b.t);
            eh_stop(&ec);
            test_skip("scope-create --strong answers EUNAVAIL (\"%s\"): the core's part of "
                      "strong scopes (issue 9, helper score) is not on this branch",
                      PRE_STRONG_TEXT);
        }
        ASSERT(r == ROSTER_EUNAVAIL && test_now_ms() < deadline);
        cl_sleep_ms(50);
    }
    for (;;) {
        roster_entry e;
        int r = roster_lookup(cb, "f", "nobody", 6, &e, 5000);
        if (r == ROSTER_ENOTFOUND)
            break;
        ASSERT(test_now_ms() < deadline);
        cl_sleep_ms(50);
    }

    uint64_t ta = 0;
    ASSERT_EQ(roster_register_token(ca, "f", "lock", 4, roster_self(ca), "a", 1, NULL, &ta,
                                    5000),
              0);
    /* b's client keeps trying to register the name: refused while a holds it */
    roster_pid holder;
    ASSERT_EQ(roster_register(cb, "f", "lock", 4, roster_self(cb), "b", 1, &holder, 5000),
              ROSTER_ETAKEN);
    ASSERT(roster_pid_equal(holder, roster_self(ca)));

    ASSERT_EQ(cut(ec.m[0].client_port), 0);
    uint64_t t_cut = test_now_ms(), t_lost = 0, t_grant = 0, tb = 0;
    deadline = t_cut + 20000;
    roster_event ev;
    while ((!t_lost || !t_grant) && test_now_ms() < deadline) {
        struct pollfd p = {roster_fd(ca), POLLIN, 0};
        poll(&p, 1, 20);
        while (!t_lost && roster_next_event(ca, &ev) == 0) {
            if (ev.id == 0 && ev.reason == ROSTER_REASON_LEASE_LOST &&
                ev.type == ROSTER_EV_UNREGISTERED && ev.name.len == 4 &&
                memcmp(ev.name.data, "lock", 4) == 0)
                t_lost = test_now_ms();
            roster_event_free(&ev);
        }
        if (t_grant)
            continue;
        int r = roster_register_token(cb, "f", "lock", 4, roster_self(cb), "b", 1, NULL, &tb,
                                      2000);
        if (r == 0) {
            t_grant = test_now_ms();
            /* the order is the point: the old holder knew first */
            if (!t_lost) {
                /* its notice may be in flight: it must be there at once, not later */
                struct pollfd q = {roster_fd(ca), POLLIN, 0};
                poll(&q, 1, 0);
                while (!t_lost && roster_next_event(ca, &ev) == 0) {
                    if (ev.id == 0 && ev.reason == ROSTER_REASON_LEASE_LOST)
                        t_lost = t_grant;
                    roster_event_free(&ev);
                }
            }
            if (!t_lost)
                test_fail(__FILE__, __LINE__, "b was granted the name %llu ms after the "
                          "cut, and a's holder had not been told lease_lost",
                          (unsigned long long)(t_grant - t_cut));
        } else {
            ASSERT(r == ROSTER_ETAKEN);
        }
    }
    if (!t_lost || !t_grant)
        test_fail(__FILE__, __LINE__, "after 20 s: lease_lost %s, grant on b %s",
                  t_lost ? "seen" : "not seen", t_grant ? "seen" : "not seen");
    ASSERT(t_lost <= t_grant);
    ASSERT(tb > ta);
    ASSERT(t_lost - t_cut < TTL_MS); /* fenced before the TTL, by its own clock */
    printf("  cut -> lease_lost at a's holder %llu ms, cut -> grant on b %llu ms (TTL %d ms)\n",
           (unsigned long long)(t_lost - t_cut), (unsigned long long)(t_grant - t_cut), TTL_MS);

    nft_heal();
    roster_close(ca);
    roster_close(cb);
    test_node_stop_ok(&a.t);
    test_node_stop_ok(&b.t);
    eh_stop(&ec);
}

TEST_MAIN(T(test_lease_lost_before_other_grant))
