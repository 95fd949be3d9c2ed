/* test_core_registry.c: names (REGISTER, UNREGISTER, LOOKUP, NAMES, COUNT) and scopes
 * (SCOPE_CREATE, SCOPES, unknown scopes) of the core. */
#include "core_harness.h"

static void test_register_lookup(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", "m1"), 0);
    ASSERT(h_pid_eq(h_reply(&h)->pid, p));
    ASSERT_EQ(h_lookup(&h, 1, NULL, "db"), 0);
    const struct rs_msg *r = h_reply(&h);
    ASSERT(h_pid_eq(r->pid, p));
    ASSERT(h_bytes_is(r->node, "node-a"));
    ASSERT(h_bytes_is(r->meta, "m1"));
    /* "default" spelled out is the same scope */
    ASSERT_EQ(h_lookup(&h, 1, "default", "db"), 0);
    ASSERT_EQ(h_lookup(&h, 1, NULL, "nope"), ROSTER_ENOTFOUND);
    ASSERT_U64_EQ(h_stats(&h).names, 1);
    /* update by the same pid */
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", "m2"), 0);
    ASSERT_EQ(h_lookup(&h, 1, NULL, "db"), 0);
    ASSERT(h_bytes_is(h_reply(&h)->meta, "m2"));
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", ""), 0);
    ASSERT_EQ(h_lookup(&h, 1, NULL, "db"), 0);
    ASSERT_EQ(h_reply(&h)->meta.len, 0);
    ASSERT_U64_EQ(h_stats(&h).names, 1);
    h_fini(&h);
}

static void test_register_taken(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p1 = h_hello(&h, 1);
    struct rs_pid p2 = h_hello(&h, 2);
    struct rs_pid p1b = h_pid_new(&h, 1);
    ASSERT_EQ(h_register(&h, 1, p1, NULL, "db", ""), 0);
    ASSERT_EQ(h_register(&h, 2, p2, NULL, "db", ""), ROSTER_ETAKEN);
    const struct rs_msg *r = h_reply(&h);
    ASSERT(h_pid_eq(r->pid, p1));
    ASSERT(h_bytes_is(r->prev, "name 'db' is held by pid 00ab00cd00ef0012.1"));
    /* another pid of the same client also gets ETAKEN */
    ASSERT_EQ(h_register(&h, 1, p1b, NULL, "db", ""), ROSTER_ETAKEN);
    h_fini(&h);
}

static void test_register_validation(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.name_max = 8;
    lim.meta_max = 16;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p1 = h_hello(&h, 1);
    struct rs_pid p2 = h_hello(&h, 2);
    ASSERT_EQ(h_register(&h, 1, p1, NULL, "", ""), ROSTER_EINVAL);
    ASSERT_EQ(h_register(&h, 1, p1, NULL, "123456789", ""), ROSTER_ENAMETOOLONG);
    ASSERT_EQ(h_register(&h, 1, p1, NULL, "12345678", ""), 0);
    ASSERT_EQ(h_register(&h, 1, p1, NULL, "a", "12345678901234567"), ROSTER_EMETATOOBIG);
    ASSERT_EQ(h_register(&h, 1, p1, NULL, "a", "1234567890123456"), 0);
    ASSERT_EQ(h_register(&h, 1, p2, NULL, "b", ""), ROSTER_ENOTOWNER);
    struct rs_pid dead = {H_INC, 999};
    ASSERT_EQ(h_register(&h, 1, dead, NULL, "b", ""), ROSTER_ENOPROC);
    /* another node's pid is not the caller's, alive or not: ENOTOWNER, as roster.h says */
    struct rs_pid other = {H_INC + 1, 1};
    ASSERT_EQ(h_register(&h, 1, other, NULL, "b", ""), ROSTER_ENOTOWNER);
    ASSERT_EQ(h_register(&h, 1, p1, "nope", "b", ""), ROSTER_ENOSCOPE);
    ASSERT_U64_EQ(h_stats(&h).names, 2);
    h_fini(&h);
}

static void test_entries_limit(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.entries_per_client = 3;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid q = h_pid_new(&h, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "a", ""), 0);
    ASSERT_EQ(h_join(&h, 1, q, NULL, "g", ""), 0);
    ASSERT_EQ(h_register(&h, 1, q, NULL, "b", ""), 0);
    ASSERT_EQ(h_register(&h, 1, q, NULL, "c", ""), ROSTER_ELIMIT);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", ""), ROSTER_ELIMIT);
    /* updates do not count */
    ASSERT_EQ(h_register(&h, 1, q, NULL, "b", "x"), 0);
    ASSERT_EQ(h_join(&h, 1, q, NULL, "g", "x"), 0);
    /* freeing one makes room */
    ASSERT_EQ(h_unregister(&h, 1, NULL, "a"), 0);
    ASSERT_EQ(h_register(&h, 1, q, NULL, "c", ""), 0);
    /* another client has its own budget */
    struct rs_pid r = h_hello(&h, 2);
    ASSERT_EQ(h_register(&h, 2, r, NULL, "d", ""), 0);
    h_fini(&h);
}

static void test_unregister(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p1 = h_hello(&h, 1);
    h_hello(&h, 2);
    ASSERT_EQ(h_register(&h, 1, p1, NULL, "db", ""), 0);
    ASSERT_EQ(h_unregister(&h, 2, NULL, "db"), ROSTER_ENOTOWNER);
    ASSERT_EQ(h_unregister(&h, 1, NULL, "nope"), ROSTER_ENOTFOUND);
    ASSERT_EQ(h_unregister(&h, 1, "nope", "db"), ROSTER_ENOSCOPE);
    ASSERT_EQ(h_unregister(&h, 1, NULL, "db"), 0);
    ASSERT_EQ(h_lookup(&h, 1, NULL, "db"), ROSTER_ENOTFOUND);
    ASSERT_EQ(h_unregister(&h, 1, NULL, "db"), ROSTER_ENOTFOUND);
    ASSERT_U64_EQ(h_stats(&h).names, 0);
    /* free again: another client may take it */
    struct rs_pid p2 = h_pid_new(&h, 2);
    ASSERT_EQ(h_register(&h, 2, p2, NULL, "db", ""), 0);
    h_fini(&h);
}

static size_t names(struct harness *h, uint64_t limit, struct rs_pid filter, const char *prefix)
{
    struct rs_msg m = {.type = RS_MSG_NAMES, .arg = limit, .pid = filter,
                       .key = rs_bytes_str(prefix)};
    ASSERT_EQ(h_status(h, 1, &m), 0);
    size_t n = h_nframes(h, 1, RS_MSG_NAMES, RS_F_ITEM);
    ASSERT_U64_EQ(h_reply(h)->arg, n);
    return n;
}

static void test_names_listing(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid q = h_pid_new(&h, 1);
    const char *all[] = {"b", "ab", "a", "abc", "c", "ba", "aa"};
    for (int i = 0; i < 7; i++)
        ASSERT_EQ(h_register(&h, 1, i % 2 ? q : p, NULL, all[i], all[i]), 0);
    struct rs_pid zero = {0, 0};
    ASSERT_EQ(names(&h, 0, zero, ""), 7);
    const char *sorted[] = {"a", "aa", "ab", "abc", "b", "ba", "c"};
    for (int i = 0; i < 7; i++) {
        const struct rs_msg *it = h_item(&h, 1, RS_MSG_NAMES, (size_t)i);
        ASSERT(h_bytes_is(it->key, sorted[i]));
        ASSERT(h_bytes_is(it->meta, sorted[i]));
        ASSERT(h_bytes_is(it->node, "node-a"));
    }
    ASSERT_EQ(names(&h, 0, zero, "a"), 4);
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_NAMES, 3)->key, "abc"));
    ASSERT_EQ(names(&h, 0, zero, "ab"), 2);
    ASSERT_EQ(names(&h, 0, zero, "zz"), 0);
    ASSERT_EQ(names(&h, 2, zero, ""), 2);
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_NAMES, 0)->key, "a"));
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_NAMES, 1)->key, "aa"));
    /* pid filter: q holds ab, abc, ba (odd indexes) */
    ASSERT_EQ(names(&h, 0, q, ""), 3);
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_NAMES, 0)->key, "ab"));
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_NAMES, 1)->key, "abc"));
    ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_NAMES, 2)->key, "ba"));
    ASSERT(h_pid_eq(h_item(&h, 1, RS_MSG_NAMES, 2)->pid, q));
    ASSERT_EQ(names(&h, 1, q, "b"), 1);
    struct rs_pid dead = {H_INC, 999};
    ASSERT_EQ(names(&h, 0, dead, ""), 0);
    h_fini(&h);
}

static void test_names_large_with_limit(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    char key[32];
    for (int i = 999; i >= 0; i--) {
        snprintf(key, sizeof key, "k%04d", (i * 7919) % 1000);
        ASSERT_EQ(h_register(&h, 1, p, NULL, key, ""), 0);
    }
    struct rs_pid zero = {0, 0};
    ASSERT_EQ(names(&h, 10, zero, "k"), 10);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%04d", i);
        ASSERT(h_bytes_is(h_item(&h, 1, RS_MSG_NAMES, (size_t)i)->key, key));
    }
    ASSERT_EQ(names(&h, 0, zero, "k09"), 100);
    h_fini(&h);
}

static uint64_t count_of(struct harness *h, const char *node, const char *what)
{
    struct rs_msg m = {.type = RS_MSG_COUNT, .node = rs_bytes_str(node)};
    ASSERT_EQ(h_status(h, 1, &m), 0);
    ASSERT_U64_EQ(h_reply(h)->arg, 3);
    ASSERT_EQ(h_nframes(h, 1, RS_MSG_COUNT, RS_F_ITEM), 3);
    for (size_t i = 0; i < 3; i++) {
        const struct rs_msg *it = h_item(h, 1, RS_MSG_COUNT, i);
        if (h_bytes_is(it->key, what))
            return it->arg;
    }
    test_fail(__FILE__, __LINE__, "no counter %s", what);
}

static void test_count(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid q = h_pid_new(&h, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "a", ""), 0);
    ASSERT_EQ(h_register(&h, 1, q, NULL, "b", ""), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", ""), 0);
    ASSERT_EQ(h_join(&h, 1, q, NULL, "g", ""), 0);
    ASSERT_EQ(h_join(&h, 1, q, NULL, "h", ""), 0);
    ASSERT_U64_EQ(count_of(&h, "", "names"), 2);
    ASSERT_U64_EQ(count_of(&h, "", "groups"), 2);
    ASSERT_U64_EQ(count_of(&h, "", "members"), 3);
    ASSERT_U64_EQ(count_of(&h, "node-a", "members"), 3);
    struct rs_msg m = {.type = RS_MSG_COUNT, .scope = rs_bytes_str("x")};
    ASSERT_EQ(h_status(&h, 1, &m), ROSTER_ENOSCOPE);
    /* a node that is not known */
    struct rs_msg other = {.type = RS_MSG_COUNT, .node = rs_bytes_str("node-b")};
    ASSERT_EQ(h_status(&h, 1, &other), ROSTER_ENOTFOUND);
    h_fini(&h);
}

static void test_scopes(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_msg c1 = {.type = RS_MSG_SCOPE_CREATE, .scope = rs_bytes_str("zeta")};
    ASSERT_EQ(h_status(&h, 1, &c1), 0);
    struct rs_msg c2 = {.type = RS_MSG_SCOPE_CREATE, .scope = rs_bytes_str("zeta")};
    ASSERT_EQ(h_status(&h, 1, &c2), ROSTER_EEXIST);
    struct rs_msg c3 = {.type = RS_MSG_SCOPE_CREATE, .scope = rs_bytes_str("default")};
    ASSERT_EQ(h_status(&h, 1, &c3), ROSTER_EEXIST);
    struct rs_msg c4 = {.type = RS_MSG_SCOPE_CREATE, .opts = 1, .scope = rs_bytes_str("raft")};
    ASSERT_EQ(h_status(&h, 1, &c4), ROSTER_EUNAVAIL);
    ASSERT(h_bytes_is(h_reply(&h)->prev,
                     "strong scopes need an etcd cluster: start rosterd with --etcd URL[,URL...]"));
    struct rs_msg c5 = {.type = RS_MSG_SCOPE_CREATE};
    ASSERT_EQ(h_status(&h, 1, &c5), ROSTER_EINVAL);
    struct rs_msg c6 = {.type = RS_MSG_SCOPE_CREATE, .opts = 9, .scope = rs_bytes_str("q")};
    ASSERT_EQ(h_status(&h, 1, &c6), ROSTER_EINVAL);
    struct rs_msg c7 = {.type = RS_MSG_SCOPE_CREATE, .scope = rs_bytes_str("alpha")};
    ASSERT_EQ(h_status(&h, 1, &c7), 0);
    ASSERT_U64_EQ(h_stats(&h).scopes, 3);
    /* scopes are separate namespaces */
    ASSERT_EQ(h_register(&h, 1, p, "zeta", "db", ""), 0);
    ASSERT_EQ(h_register(&h, 1, p, "alpha", "db", ""), 0);
    ASSERT_EQ(h_join(&h, 1, p, "alpha", "g", ""), 0);
    ASSERT_EQ(h_lookup(&h, 1, NULL, "db"), ROSTER_ENOTFOUND);
    struct rs_msg l = {.type = RS_MSG_SCOPES};
    ASSERT_EQ(h_status(&h, 1, &l), 0);
    ASSERT_U64_EQ(h_reply(&h)->arg, 3);
    const char *order[] = {"alpha", "default", "zeta"};
    for (size_t i = 0; i < 3; i++) {
        const struct rs_msg *it = h_item(&h, 1, RS_MSG_SCOPES, i);
        ASSERT(h_bytes_is(it->scope, order[i]));
        ASSERT_EQ(it->opts, 0);
    }
    ASSERT_U64_EQ(h_item(&h, 1, RS_MSG_SCOPES, 0)->arg, 1);
    ASSERT_U64_EQ(h_item(&h, 1, RS_MSG_SCOPES, 0)->arg2, 1);
    ASSERT_U64_EQ(h_item(&h, 1, RS_MSG_SCOPES, 1)->arg, 0);
    /* the death of the pid cleans every scope */
    ASSERT_EQ(h_pid_close(&h, 1, p), 0);
    ASSERT_U64_EQ(h_stats(&h).names, 0);
    ASSERT_U64_EQ(h_stats(&h).groups, 0);
    h_fini(&h);
}

static void test_binary_names(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    const uint8_t k1[] = {0, 1, 2, 0xff};
    const uint8_t k2[] = {0, 1, 2};
    struct rs_msg m1 = {.type = RS_MSG_REGISTER, .pid = p, .key = rs_bytes_of(k1, 4)};
    ASSERT_EQ(h_status(&h, 1, &m1), 0);
    struct rs_msg m2 = {.type = RS_MSG_REGISTER, .pid = p, .key = rs_bytes_of(k2, 3)};
    ASSERT_EQ(h_status(&h, 1, &m2), 0);
    struct rs_msg l = {.type = RS_MSG_NAMES};
    ASSERT_EQ(h_status(&h, 1, &l), 0);
    ASSERT_EQ(h_item(&h, 1, RS_MSG_NAMES, 0)->key.len, 3); /* shorter first */
    ASSERT_EQ(h_item(&h, 1, RS_MSG_NAMES, 1)->key.len, 4);
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .key = rs_bytes_of(k1, 4)};
    ASSERT_EQ(h_status(&h, 1, &u), 0);
    ASSERT_U64_EQ(h_stats(&h).names, 1);
    h_fini(&h);
}

TEST_MAIN(T(test_register_lookup), T(test_register_taken), T(test_register_validation),
          T(test_entries_limit), T(test_unregister), T(test_names_listing),
          T(test_names_large_with_limit), T(test_count), T(test_scopes), T(test_binary_names))
