/* test_memory_ceiling.c: rosterd --max-memory. Past the ceiling the node refuses new
 * entries, memberships, messages, subscriptions and pids with ENOMEM and says so in status
 * (memory_full, also in rosterctl --json status), while every existing entry keeps working
 * (lookup, members, unregister), and growth resumes once memory is freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

static roster_client *conn(const struct test_node *n)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n->sock;
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), 0);
    return c;
}

static void test_ceiling(void)
{
    struct test_node n;
    const char *args[] = {"--max-memory", "16777216", NULL};
    test_node_start(&n, args);
    roster_client *c = conn(&n);
    roster_pid me = roster_self(c);
    ASSERT_U64_EQ(test_stat(c, "memory_max"), 16777216);
    ASSERT_U64_EQ(test_stat(c, "memory_full"), 0);
    ASSERT(test_stat(c, "memory_bytes") > 0);
    ASSERT_EQ(roster_join(c, "default", "g", 1, me, NULL, 0, 5000), 0);
    static char meta[60000];
    memset(meta, 'm', sizeof meta);
    char name[32];
    int i, r = 0;
    for (i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        r = roster_register(c, "default", name, strlen(name), me, meta, sizeof meta, NULL, 5000);
        if (r != 0)
            break;
    }
    ASSERT_EQ(r, ROSTER_ENOMEM);
    ASSERT(i > 100); /* ~16 MiB of entries went in first */
    ASSERT(strstr(roster_errdetail(c), "memory ceiling"));
    ASSERT_U64_EQ(test_stat(c, "memory_full"), 1);
    ASSERT(test_stat(c, "memory_refusals") >= 1);
    /* rosterctl status --json says so too */
    char out[8192];
    const char *ctl[] = {ROSTERCTL_PATH, "--socket", n.sock, "--json", "status", NULL};
    ASSERT_EQ(test_run_cmd(ctl, out, sizeof out), 0);
    ASSERT(strstr(out, "\"memory_full\":1"));
    ASSERT(strstr(out, "\"memory_max\":16777216"));
    /* new state is refused ... */
    ASSERT_EQ(roster_join(c, "default", "g2", 2, me, NULL, 0, 5000), ROSTER_ENOMEM);
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(c, "default", NULL, 0, 0, &sub, 5000), ROSTER_ENOMEM);
    ASSERT_EQ(roster_send(c, me, me, "x", 1, ROSTER_SEND_CONFIRM, 5000), ROSTER_ENOMEM);
    roster_pid p2;
    ASSERT_EQ(roster_pid_new(c, &p2, 5000), ROSTER_ENOMEM);
    /* ... what exists keeps working, from another client too */
    roster_client *d = conn(&n);
    roster_entry e;
    ASSERT_EQ(roster_lookup(d, "default", "n0", 2, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, me));
    ASSERT_U64_EQ(e.meta.len, sizeof meta);
    roster_entry_free(&e);
    ASSERT_EQ(roster_is_member(d, "default", "g", 1, me, 5000), 1);
    ASSERT_EQ(roster_register(c, "default", "n0", 2, me, "small", 5, NULL, 5000), 0);
    /* freeing entries lets growth resume */
    for (int k = 0; k < i; k++) {
        snprintf(name, sizeof name, "n%d", k);
        ASSERT_EQ(roster_unregister(c, "default", name, strlen(name), 5000), 0);
    }
    ASSERT_U64_EQ(test_stat(c, "memory_full"), 0);
    ASSERT_EQ(roster_register(c, "default", "again", 5, me, NULL, 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(c, "default", "g2", 2, me, NULL, 0, 5000), 0);
    roster_close(d);
    roster_close(c);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_ceiling))
