/* test_cluster_scope.c: scopes are subclusters: a scope joined by a (rosterd --scope) and
 * b (roster_scope_join) only is replicated between them and never reaches c, which gets
 * ENOSCOPE registering into it; `nodes --scope` lists its members; leaving drops the
 * replicated entries. */
#include <string.h>

#include "cluster.h"
#include "rclient.h"
#include "test.h"

static void test_scope_isolation(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    const char *cookie = cl_cookie(0, "cluster-test-cookie-5f1c2d9e8a7b6c4d\n");
    struct cl_node a, b, c;
    const char *scope_s1[] = {"--scope", "s1", NULL};
    cl_start(&a, 1, "a", NULL, cookie, scope_s1);
    cl_start(&b, 2, "b", a.addr, cookie, NULL);
    cl_start(&c, 3, "c", a.addr, cookie, NULL);
    cl_wait_up(&a, NULL, 3, 10000);
    cl_wait_up(&c, NULL, 3, 10000);
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b), *cc = cl_connect(&c);
    ASSERT_EQ(roster_scope_join(cb, "s1", 5000), 0);
    ASSERT_EQ(roster_scope_join(cb, "s1", 5000), 0); /* joining again is fine */
    cl_wait_up(&a, "s1", 2, 5000);
    cl_wait_up(&b, "s1", 2, 5000);

    /* c has not joined s1: it cannot register there */
    ASSERT_EQ(roster_register(cc, "s1", "x", 1, roster_self(cc), NULL, 0, NULL, 5000),
              ROSTER_ENOSCOPE);
    ASSERT_EQ(roster_join(cc, "s1", "g", 1, roster_self(cc), NULL, 0, 5000), ROSTER_ENOSCOPE);

    /* a registers in s1 and in default; b sees both, c only the default one */
    roster_pid pa = roster_self(ca);
    ASSERT_EQ(roster_register(ca, "s1", "secret", 6, pa, "s", 1, NULL, 5000), 0);
    ASSERT_EQ(roster_join(ca, "s1", "sg", 2, pa, NULL, 0, 5000), 0);
    ASSERT_EQ(roster_register(ca, NULL, "public", 6, pa, NULL, 0, NULL, 5000), 0);
    cl_wait_lookup(&b, "s1", "secret", 0, &pa, 5000);
    cl_wait_members(&b, "s1", "sg", 1, 5000);
    cl_wait_lookup(&c, NULL, "public", 0, &pa, 5000);
    /* the default-scope name reached c after the s1 entries were sent to b; s1 data never
     * reaches c, whatever c asks */
    roster_entry e;
    ASSERT(roster_lookup(cc, "s1", "secret", 6, &e, 5000) != 0);
    roster_entries es;
    ASSERT(roster_members(cc, "s1", "sg", 2, 0, &es, 5000) != 0 || es.n == 0);
    if (es.items)
        roster_entries_free(&es);

    /* b registers in s1 too: a sees it */
    roster_pid pb = roster_self(cb);
    ASSERT_EQ(roster_register(cb, "s1", "from-b", 6, pb, NULL, 0, NULL, 5000), 0);
    cl_wait_lookup(&a, "s1", "from-b", 0, &pb, 5000);

    /* b leaves s1 once its own entries are gone: a's entries disappear from b */
    ASSERT_EQ(roster_unregister(cb, "s1", "from-b", 6, 5000), 0);
    ASSERT_EQ(roster_scope_leave(cb, "s1", 5000), 0);
    ASSERT(roster_lookup(cb, "s1", "secret", 6, &e, 5000) != 0);
    cl_wait_up(&a, "s1", 1, 5000);
    ASSERT_EQ(roster_register(cb, "s1", "again", 5, pb, NULL, 0, NULL, 5000), ROSTER_ENOSCOPE);
    ASSERT_EQ(roster_scope_leave(cb, "default", 5000), ROSTER_EINVAL);

    /* the same through rosterctl: scope-join on c, nodes --scope on a */
    char out[4096];
    const char *join_argv[] = {ROSTERCTL_PATH, "--socket", c.t.sock, "scope-join", "s2", NULL};
    ASSERT_EQ(test_run_cmd(join_argv, out, sizeof out), 0);
    const char *join_a[] = {ROSTERCTL_PATH, "--socket", a.t.sock, "scope-join", "s2", NULL};
    ASSERT_EQ(test_run_cmd(join_a, out, sizeof out), 0);
    cl_wait_up(&a, "s2", 2, 5000);
    const char *nodes_argv[] = {ROSTERCTL_PATH, "--socket", a.t.sock, "--json", "nodes",
                                "--scope", "s2", NULL};
    ASSERT_EQ(test_run_cmd(nodes_argv, out, sizeof out), 0);
    ASSERT(strstr(out, "\"name\":\"a\""));
    ASSERT(strstr(out, "\"name\":\"c\""));
    ASSERT(!strstr(out, "\"name\":\"b\""));
    ASSERT(strstr(out, "\"state\":\"up\""));
    /* a refused leave (c still holds a name in s2) says why and exits 1, not 2 */
    ASSERT_EQ(roster_register(cc, "s2", "held", 4, roster_self(cc), NULL, 0, NULL, 5000), 0);
    const char *busy_argv[] = {ROSTERCTL_PATH, "--socket", c.t.sock, "--json", "scope-leave",
                               "s2", NULL};
    ASSERT_EQ(test_run_cmd(busy_argv, out, sizeof out), 1);
    ASSERT(strstr(out, "\"error\":\"EBUSY\""));
    ASSERT(strstr(out, "still holds names or memberships in scope 's2'"));
    ASSERT(!strstr(out, "connection"));
    ASSERT_EQ(roster_unregister(cc, "s2", "held", 4, 5000), 0);
    const char *leave_argv[] = {ROSTERCTL_PATH, "--socket", c.t.sock, "scope-leave", "s2", NULL};
    ASSERT_EQ(test_run_cmd(leave_argv, out, sizeof out), 0);
    cl_wait_up(&a, "s2", 1, 5000);

    roster_close(ca);
    roster_close(cb);
    roster_close(cc);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

TEST_MAIN(T(test_scope_isolation))
