/* test_core_groups.c: process groups of the core: JOIN, LEAVE, MEMBERS, IS_MEMBER, GROUPS,
 * empty groups deleted, validation. */
#include "core_harness.h"

static size_t members(struct harness *h, const char *group, uint32_t opts)
{
    struct rs_msg m = {.type = RS_MSG_MEMBERS, .opts = opts, .key = rs_bytes_str(group)};
    ASSERT_EQ(h_status(h, 1, &m), 0);
    size_t n = h_nframes(h, 1, RS_MSG_MEMBERS, RS_F_ITEM);
    ASSERT_U64_EQ(h_reply(h)->arg, n);
    return n;
}

static int is_member(struct harness *h, struct rs_pid pid, const char *group)
{
    struct rs_msg m = {.type = RS_MSG_IS_MEMBER, .pid = pid, .key = rs_bytes_str(group)};
    ASSERT_EQ(h_status(h, 1, &m), 0);
    return (int)h_reply(h)->arg;
}

static void test_join_members(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid o = h_hello(&h, 2);
    struct rs_pid q = h_pid_new(&h, 1);
    ASSERT_EQ(h_join(&h, 1, q, NULL, "workers", "q"), 0);
    ASSERT_EQ(h_join(&h, 2, o, NULL, "workers", "o"), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "workers", "p"), 0);
    ASSERT_EQ(members(&h, "workers", 0), 3);
    /* sorted by pid: p (1), o (2), q (3) */
    ASSERT(h_pid_eq(h_item(&h, 1, RS_MSG_MEMBERS, 0)->pid, p));
    ASSERT(h_pid_eq(h_item(&h, 1, RS_MSG_MEMBERS, 1)->pid, o));
    ASSERT(h_pid_eq(h_item(&h, 1, RS_MSG_MEMBERS, 2)->pid, q));
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_MEMBERS, 2)->meta, "q"));
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_MEMBERS, 2)->key, "workers"));
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_MEMBERS, 2)->node, "node-a"));
    ASSERT_EQ(members(&h, "workers", RS_OPT_LOCAL), 3);
    ASSERT_EQ(members(&h, "nope", 0), 0);
    /* re-join updates metadata, no duplicate */
    ASSERT_EQ(h_join(&h, 1, q, NULL, "workers", "q2"), 0);
    ASSERT_EQ(members(&h, "workers", 0), 3);
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_MEMBERS, 2)->meta, "q2"));
    struct rs_core_stats st = h_stats(&h);
    ASSERT_U64_EQ(st.groups, 1);
    ASSERT_U64_EQ(st.members, 3);
    ASSERT_EQ(is_member(&h, p, "workers"), 1);
    ASSERT_EQ(is_member(&h, p, "other"), 0);
    struct rs_pid dead = {H_INC, 99};
    ASSERT_EQ(is_member(&h, dead, "workers"), 0);
    h_fini(&h);
}

static void test_leave_deletes_empty_group(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid o = h_hello(&h, 2);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", ""), 0);
    ASSERT_EQ(h_join(&h, 2, o, NULL, "g", ""), 0);
    ASSERT_EQ(h_leave(&h, 1, o, NULL, "g"), ROSTER_ENOTOWNER);
    ASSERT_EQ(h_leave(&h, 1, p, NULL, "h"), ROSTER_ENOTMEMBER);
    ASSERT_EQ(h_leave(&h, 1, p, "nope", "g"), ROSTER_ENOSCOPE);
    ASSERT_EQ(h_leave(&h, 1, p, NULL, "g"), 0);
    ASSERT_EQ(h_leave(&h, 1, p, NULL, "g"), ROSTER_ENOTMEMBER);
    ASSERT_U64_EQ(h_stats(&h).groups, 1);
    ASSERT_EQ(h_leave(&h, 2, o, NULL, "g"), 0);
    struct rs_core_stats st = h_stats(&h);
    ASSERT_U64_EQ(st.groups, 0);
    ASSERT_U64_EQ(st.members, 0);
    ASSERT_EQ(members(&h, "g", 0), 0);
    struct rs_msg m = {.type = RS_MSG_GROUPS};
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    ASSERT_U64_EQ(h_reply(&h)->arg, 0);
    h_fini(&h);
}

static void test_join_validation(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.name_max = 4;
    lim.meta_max = 4;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid o = h_hello(&h, 2);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "", ""), ROSTER_EINVAL);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "12345", ""), ROSTER_ENAMETOOLONG);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", "12345"), ROSTER_EMETATOOBIG);
    ASSERT_EQ(h_join(&h, 1, o, NULL, "g", ""), ROSTER_ENOTOWNER);
    struct rs_pid dead = {H_INC, 42};
    ASSERT_EQ(h_join(&h, 1, dead, NULL, "g", ""), ROSTER_ENOPROC);
    ASSERT_EQ(h_join(&h, 1, p, "x", "g", ""), ROSTER_ENOSCOPE);
    ASSERT_U64_EQ(h_stats(&h).groups, 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "1234", "1234"), 0);
    h_fini(&h);
}

static size_t groups(struct harness *h, uint64_t limit, struct rs_pid filter, const char *pre)
{
    struct rs_msg m = {.type = RS_MSG_GROUPS, .arg = limit, .pid = filter,
                       .key = rs_bytes_str(pre)};
    ASSERT_EQ(h_status(h, 1, &m), 0);
    size_t n = h_nframes(h, 1, RS_MSG_GROUPS, RS_F_ITEM);
    ASSERT_U64_EQ(h_reply(h)->arg, n);
    return n;
}

static void test_groups_listing(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid q = h_pid_new(&h, 1);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "web", "pw"), 0);
    ASSERT_EQ(h_join(&h, 1, q, NULL, "web", "qw"), 0);
    ASSERT_EQ(h_join(&h, 1, q, NULL, "db", "qd"), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "wal", "pa"), 0);
    struct rs_pid zero = {0, 0};
    ASSERT_EQ(groups(&h, 0, zero, ""), 3);
    const struct rs_msg *it = h_item(&h, 1, RS_MSG_GROUPS, 0);
    ASSERT(h_bytes_is(it->key, "db"));
    ASSERT_U64_EQ(it->arg, 1);
    ASSERT(h_pid_eq(it->pid, zero));
    ASSERT_EQ(it->meta.len, 0);
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_GROUPS, 1)->key, "wal"));
    it = h_item(&h, 1, RS_MSG_GROUPS, 2);
    ASSERT(h_bytes_is(it->key, "web"));
    ASSERT_U64_EQ(it->arg, 2);
    ASSERT_EQ(groups(&h, 0, zero, "w"), 2);
    ASSERT_EQ(groups(&h, 1, zero, "w"), 1);
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_GROUPS, 0)->key, "wal"));
    /* filtered by pid: its groups with its metadata */
    ASSERT_EQ(groups(&h, 0, q, ""), 2);
    it = h_item(&h, 1, RS_MSG_GROUPS, 0);
    ASSERT(h_bytes_is(it->key, "db"));
    ASSERT(h_bytes_is(it->meta, "qd"));
    ASSERT(h_pid_eq(it->pid, q));
    it = h_item(&h, 1, RS_MSG_GROUPS, 1);
    ASSERT(h_bytes_is(it->key, "web"));
    ASSERT(h_bytes_is(it->meta, "qw"));
    ASSERT_U64_EQ(it->arg, 2);
    ASSERT_EQ(groups(&h, 0, q, "we"), 1);
    struct rs_pid dead = {H_INC, 77};
    ASSERT_EQ(groups(&h, 0, dead, ""), 0);
    h_fini(&h);
}

static void test_groups_per_scope(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_msg c = {.type = RS_MSG_SCOPE_CREATE, .scope = rs_bytes_str("s2")};
    ASSERT_EQ(h_status(&h, 1, &c), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", "d"), 0);
    ASSERT_EQ(h_join(&h, 1, p, "s2", "g", "s"), 0);
    ASSERT_U64_EQ(h_stats(&h).groups, 2);
    ASSERT_EQ(h_leave(&h, 1, p, "s2", "g"), 0);
    ASSERT_EQ(members(&h, "g", 0), 1);
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_MEMBERS, 0)->meta, "d"));
    h_fini(&h);
}

static void test_many_members(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    struct rs_pid pids[200];
    for (int i = 0; i < 200; i++)
        pids[i] = h_pid_new(&h, 1);
    for (int i = 199; i >= 0; i--)
        ASSERT_EQ(h_join(&h, 1, pids[i], NULL, "big", ""), 0);
    ASSERT_EQ(members(&h, "big", 0), 200);
    for (int i = 0; i < 200; i++)
        ASSERT(h_pid_eq(h_item(&h, 1, RS_MSG_MEMBERS, (size_t)i)->pid, pids[i]));
    for (int i = 0; i < 200; i += 2)
        ASSERT_EQ(h_leave(&h, 1, pids[i], NULL, "big"), 0);
    ASSERT_EQ(members(&h, "big", 0), 100);
    ASSERT_EQ(is_member(&h, pids[0], "big"), 0);
    ASSERT_EQ(is_member(&h, pids[1], "big"), 1);
    h_fini(&h);
}

TEST_MAIN(T(test_join_members), T(test_leave_deletes_empty_group), T(test_join_validation),
          T(test_groups_listing), T(test_groups_per_scope), T(test_many_members))
