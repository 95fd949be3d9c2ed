/* test_client_groups.c: libroster groups against a real rosterd: join / leave / members /
 * is_member / groups (prefix, pid filter, member counts) and the scope counts. */
#include <string.h>
#include <sys/wait.h>

#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

static void test_join_leave_members(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid pa = roster_self(a), pb = roster_self(b), pa2;
    ASSERT_EQ(roster_pid_new(a, &pa2, 5000), 0);
    ASSERT_EQ(roster_join(a, NULL, "workers", 7, pa, "a1", 2, 5000), 0);
    ASSERT_EQ(roster_join(a, NULL, "workers", 7, pa2, "a2", 2, 5000), 0);
    ASSERT_EQ(roster_join(b, NULL, "workers", 7, pb, "b1", 2, 5000), 0);
    ASSERT_EQ(roster_join(b, NULL, "other", 5, pb, "", 0, 5000), 0);
    ASSERT_EQ(roster_is_member(b, NULL, "workers", 7, pa2, 5000), 1);
    ASSERT_EQ(roster_is_member(b, NULL, "other", 5, pa, 5000), 0);
    ASSERT_EQ(roster_join(a, NULL, "workers", 7, pb, "", 0, 5000), ROSTER_ENOTOWNER);

    roster_entries l;
    ASSERT_EQ(roster_members(b, NULL, "workers", 7, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 3);
    int seen = 0;
    for (size_t i = 0; i < l.n; i++) {
        ASSERT_MEM_EQ(l.items[i].name.data, l.items[i].name.len, "workers", 7);
        ASSERT_STR_EQ(l.items[i].node, roster_node_name(a));
        if (roster_pid_equal(l.items[i].pid, pa2)) {
            ASSERT_MEM_EQ(l.items[i].meta.data, l.items[i].meta.len, "a2", 2);
            seen++;
        }
        if (i > 0) /* sorted by pid */
            ASSERT(l.items[i - 1].pid.serial < l.items[i].pid.serial ||
                   l.items[i - 1].pid.node_inc < l.items[i].pid.node_inc);
    }
    ASSERT_EQ(seen, 1);
    roster_entries_free(&l);
    ASSERT_EQ(roster_members(b, NULL, "workers", 7, 1, &l, 5000), 0);
    ASSERT_EQ(l.n, 3); /* all local on one node */
    roster_entries_free(&l);
    ASSERT_EQ(roster_members(b, NULL, "nosuch", 6, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 0);
    roster_entries_free(&l);

    /* re-join updates the metadata */
    ASSERT_EQ(roster_join(a, NULL, "workers", 7, pa, "a1-new", 6, 5000), 0);
    ASSERT_EQ(roster_members(b, NULL, "workers", 7, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 3);
    for (size_t i = 0; i < l.n; i++)
        if (roster_pid_equal(l.items[i].pid, pa))
            ASSERT_MEM_EQ(l.items[i].meta.data, l.items[i].meta.len, "a1-new", 6);
    roster_entries_free(&l);

    ASSERT_EQ(roster_leave(a, NULL, "workers", 7, pa2, 5000), 0);
    ASSERT_EQ(roster_leave(a, NULL, "workers", 7, pa2, 5000), ROSTER_ENOTMEMBER);
    ASSERT_EQ(roster_is_member(b, NULL, "workers", 7, pa2, 5000), 0);

    /* groups listing: counts, prefix, pid filter with metadata */
    ASSERT_EQ(roster_groups(a, NULL, "", 0, (roster_pid){0, 0}, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 2);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "other", 5);
    ASSERT_U64_EQ(l.items[0].count, 1);
    ASSERT_MEM_EQ(l.items[1].name.data, l.items[1].name.len, "workers", 7);
    ASSERT_U64_EQ(l.items[1].count, 2);
    roster_entries_free(&l);
    ASSERT_EQ(roster_groups(a, NULL, "wor", 3, (roster_pid){0, 0}, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    roster_entries_free(&l);
    ASSERT_EQ(roster_groups(a, NULL, "", 0, pb, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 2);
    ASSERT_MEM_EQ(l.items[1].meta.data, l.items[1].meta.len, "b1", 2);
    roster_entries_free(&l);

    /* counts, whole scope and per node */
    roster_counts cnt;
    ASSERT_EQ(roster_register(a, NULL, "n1", 2, pa, "", 0, NULL, 5000), 0);
    ASSERT_EQ(roster_count(a, NULL, NULL, &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.names, 1);
    ASSERT_U64_EQ(cnt.groups, 2);
    ASSERT_U64_EQ(cnt.members, 3);
    ASSERT_EQ(roster_count(a, NULL, roster_node_name(a), &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.members, 3);
    ASSERT_EQ(roster_count(a, NULL, "no-such-node", &cnt, 5000), ROSTER_ENOTFOUND);

    /* a client's close takes its memberships away */
    roster_close(b);
    uint64_t deadline = test_now_ms() + 5000;
    for (;;) { /* the node learns of the close asynchronously */
        ASSERT_EQ(roster_members(a, NULL, "workers", 7, 0, &l, 5000), 0);
        size_t count = l.n;
        roster_entries_free(&l);
        if (count == 1)
            break;
        ASSERT_EQ(count, 2);
        ASSERT(test_now_ms() < deadline);
    }
    roster_close(a);
    test_node_stop_ok(&n);
}

static void test_scopes(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n);
    ASSERT_EQ(roster_scope_create(a, "tenant1", ROSTER_SCOPE_EVENTUAL, 5000), 0);
    ASSERT_EQ(roster_scope_create(a, "tenant1", ROSTER_SCOPE_EVENTUAL, 5000), ROSTER_EEXIST);
    ASSERT_EQ(roster_register(a, "tenant1", "x", 1, roster_self(a), "", 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(a, "tenant1", "g", 1, roster_self(a), "", 0, 5000), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(a, NULL, "x", 1, &e, 5000), ROSTER_ENOTFOUND);
    roster_entries l;
    ASSERT_EQ(roster_scopes(a, &l, 5000), 0);
    ASSERT_EQ(l.n, 2);
    int found = 0;
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].name.len == 7 && memcmp(l.items[i].name.data, "tenant1", 7) == 0) {
            ASSERT_U64_EQ(l.items[i].count, 1);
            ASSERT_U64_EQ(l.items[i].groups, 1);
            ASSERT_EQ(l.items[i].mode, ROSTER_SCOPE_EVENTUAL);
            found = 1;
        }
    ASSERT(found);
    roster_entries_free(&l);
    roster_nodes nodes;
    ASSERT_EQ(roster_nodes_list(a, NULL, &nodes, 5000), 0);
    ASSERT_EQ(nodes.n, 1);
    ASSERT_EQ(nodes.items[0].self, 1);
    ASSERT_EQ(nodes.items[0].state, ROSTER_NODE_UP);
    ASSERT_U64_EQ(nodes.items[0].incarnation, roster_node_incarnation(a));
    ASSERT_STR_EQ(nodes.items[0].name, roster_node_name(a));
    roster_nodes_free(&nodes);
    ASSERT_EQ(roster_log_level(a, "debug", 5000), 0);
    ASSERT_EQ(roster_log_level(a, "info", 5000), 0);
    roster_close(a);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_join_leave_members), T(test_scopes))
