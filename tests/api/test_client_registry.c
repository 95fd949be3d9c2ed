/* test_client_registry.c: libroster against a real rosterd: handshake, register / lookup /
 * unregister, ETAKEN with the holder, metadata update, names by prefix and by pid, pids
 * (new, close, ownership), and that the name / metadata limits are checked locally. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

static void test_handshake(void)
{
    struct test_node n;
    const char *args[] = {"--name", "alpha", NULL};
    test_node_start(&n, args);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    ASSERT_STR_EQ(roster_node_name(a), "alpha");
    ASSERT(roster_node_incarnation(a) != 0);
    ASSERT_U64_EQ(roster_self(a).node_inc, roster_node_incarnation(a));
    ASSERT(roster_self(a).serial != 0);
    ASSERT(!roster_pid_equal(roster_self(a), roster_self(b)));
    ASSERT_EQ(roster_ping(a, 5000), 0);
    ASSERT(roster_fd(a) >= 0);
    ASSERT_STR_EQ(roster_errdetail(a), "");
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_register_lookup(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid pa = roster_self(a), holder;
    /* binary-safe names and metadata */
    const char name[] = "svc\0bin";
    ASSERT_EQ(roster_register(a, NULL, name, sizeof name - 1, pa, "v1", 2, &holder, 5000), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(b, "default", name, sizeof name - 1, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, pa));
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "v1", 2);
    ASSERT_MEM_EQ(e.name.data, e.name.len, name, sizeof name - 1);
    ASSERT_STR_EQ(e.node, roster_node_name(a));
    roster_entry_free(&e);
    ASSERT_EQ(roster_lookup(b, NULL, "svc", 3, &e, 5000), ROSTER_ENOTFOUND);
    ASSERT(e.name.data == NULL && e.meta.data == NULL);

    /* taken: another pid gets ETAKEN and learns the holder */
    memset(&holder, 0, sizeof holder);
    ASSERT_EQ(roster_register(b, NULL, name, sizeof name - 1, roster_self(b), "x", 1, &holder,
                              5000),
              ROSTER_ETAKEN);
    ASSERT(roster_pid_equal(holder, pa));
    ASSERT(strlen(roster_errdetail(b)) > 0);

    /* the same pid again updates the metadata */
    ASSERT_EQ(roster_register(a, NULL, name, sizeof name - 1, pa, "v2", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_lookup(b, NULL, name, sizeof name - 1, &e, 5000), 0);
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "v2", 2);
    roster_entry_free(&e);

    /* only the owner's client may unregister */
    ASSERT_EQ(roster_unregister(b, NULL, name, sizeof name - 1, 5000), ROSTER_ENOTOWNER);
    ASSERT_EQ(roster_unregister(a, NULL, name, sizeof name - 1, 5000), 0);
    ASSERT_EQ(roster_unregister(a, NULL, name, sizeof name - 1, 5000), ROSTER_ENOTFOUND);
    ASSERT_EQ(roster_lookup(b, NULL, name, sizeof name - 1, &e, 5000), ROSTER_ENOTFOUND);
    /* a pid of another client cannot be used */
    ASSERT_EQ(roster_register(a, NULL, "y", 1, roster_self(b), "", 0, NULL, 5000),
              ROSTER_ENOTOWNER);
    /* unknown scope */
    ASSERT_EQ(roster_register(a, "nosuch", "y", 1, pa, "", 0, NULL, 5000), ROSTER_ENOSCOPE);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_names_listing(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n);
    roster_pid p1 = roster_self(a), p2;
    ASSERT_EQ(roster_pid_new(a, &p2, 5000), 0);
    ASSERT(!roster_pid_equal(p1, p2));
    ASSERT_U64_EQ(p2.node_inc, p1.node_inc);
    const char *mine[] = {"web.3", "web.1", "db.1", "web.2"};
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(roster_register(a, NULL, mine[i], strlen(mine[i]), i == 3 ? p2 : p1, mine[i],
                                  strlen(mine[i]), NULL, 5000),
                  0);
    roster_entries l;
    roster_pid none = {0, 0};
    ASSERT_EQ(roster_names(a, NULL, "web.", 4, none, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 3);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "web.1", 5); /* sorted */
    ASSERT_MEM_EQ(l.items[1].name.data, l.items[1].name.len, "web.2", 5);
    ASSERT_MEM_EQ(l.items[2].name.data, l.items[2].name.len, "web.3", 5);
    ASSERT_MEM_EQ(l.items[1].meta.data, l.items[1].meta.len, "web.2", 5);
    ASSERT(roster_pid_equal(l.items[1].pid, p2));
    roster_entries_free(&l);
    ASSERT(l.items == NULL && l.n == 0);
    ASSERT_EQ(roster_names(a, NULL, "", 0, none, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 4);
    roster_entries_free(&l);
    ASSERT_EQ(roster_names(a, NULL, "", 0, none, 2, &l, 5000), 0);
    ASSERT_EQ(l.n, 2);
    roster_entries_free(&l);
    ASSERT_EQ(roster_names(a, NULL, "", 0, p2, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "web.2", 5);
    roster_entries_free(&l);
    ASSERT_EQ(roster_names(a, NULL, "zzz", 3, none, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 0);
    roster_entries_free(&l);
    roster_close(a);
    test_node_stop_ok(&n);
}

static void test_pid_new_close(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid p;
    ASSERT_EQ(roster_pid_new(a, &p, 5000), 0);
    ASSERT_EQ(roster_register(a, NULL, "worker", 6, p, "", 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(a, NULL, "pool", 4, p, "", 0, 5000), 0);
    ASSERT_EQ(roster_pid_close(b, p, 5000), ROSTER_ENOTOWNER);
    ASSERT_EQ(roster_pid_close(a, p, 5000), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(b, NULL, "worker", 6, &e, 5000), ROSTER_ENOTFOUND);
    ASSERT_EQ(roster_is_member(b, NULL, "pool", 4, p, 5000), 0);
    /* a closed pid is dead: it cannot register again */
    int r = roster_register(a, NULL, "worker", 6, p, "", 0, NULL, 5000);
    ASSERT(r == ROSTER_ENOPROC || r == ROSTER_ENOTOWNER);
    /* the first pid still works */
    ASSERT_EQ(roster_register(a, NULL, "worker", 6, roster_self(a), "", 0, NULL, 5000), 0);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_limits_checked_locally(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n);
    roster_stats st;
    ASSERT_EQ(roster_status(a, &st, 5000), 0);
    uint64_t name_max = 0, meta_max = 0;
    for (size_t i = 0; i < st.n; i++) {
        if (strcmp(st.items[i].key, "limit_name_max") == 0)
            name_max = st.items[i].value;
        if (strcmp(st.items[i].key, "limit_meta_max") == 0)
            meta_max = st.items[i].value;
    }
    roster_stats_free(&st);
    ASSERT(name_max > 0 && meta_max > 0);
    char *big = malloc(meta_max + 2);
    memset(big, 'a', meta_max + 1);
    /* With the node stopped, a request that was sent could only time out: the immediate
     * error proves the check is local. */
    kill(n.pid, SIGSTOP);
    uint64_t t0 = test_now_ms();
    ASSERT_EQ(roster_register(a, NULL, big, name_max + 1, roster_self(a), "", 0, NULL, 3000),
              ROSTER_ENAMETOOLONG);
    ASSERT_EQ(roster_register(a, NULL, "n", 1, roster_self(a), big, meta_max + 1, NULL, 3000),
              ROSTER_EMETATOOBIG);
    ASSERT_EQ(roster_join(a, NULL, big, name_max + 1, roster_self(a), "", 0, 3000),
              ROSTER_ENAMETOOLONG);
    ASSERT_EQ(roster_names(a, NULL, big, name_max + 1, roster_self(a), 0,
                           &(roster_entries){0}, 3000),
              ROSTER_ENAMETOOLONG);
    ASSERT(test_now_ms() - t0 < 2500); /* local checks: the node is stopped */
    kill(n.pid, SIGCONT);
    /* at the limit it is accepted */
    ASSERT_EQ(roster_register(a, NULL, big, name_max, roster_self(a), big, meta_max, NULL, 5000),
              0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(a, NULL, big, name_max, &e, 5000), 0);
    ASSERT_EQ(e.meta.len, meta_max);
    roster_entry_free(&e);
    free(big);
    roster_close(a);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_handshake), T(test_register_lookup), T(test_names_listing),
          T(test_pid_new_close), T(test_limits_checked_locally))
