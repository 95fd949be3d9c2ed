/* test_cluster_query.c: listings and metadata queries on three real nodes (issue 11 items
 * 2, 6 and 12). Every node answers the same listing (names, members, groups, members
 * --prefix, filtered names and counts) with the same bytes (before, each node listed its
 * own pids first), and libroster's members read from the shared-memory region in that same
 * order as over the socket; `member`
 * answers 0 / 1 for a remote pid on every node; `unregister --match` on one node removes
 * exactly the matching entries of one pid, one event each, seen on every node. */
#include <string.h>

#include "cluster.h"
#include "rclient.h"
#include "test.h"

#define OUT 65536

/* ctl runs rosterctl --json on node n with args (NULL-terminated, at most 12) into out and
 * returns its exit status. */
static int ctl(const struct cl_node *n, char *out, const char *const *args)
{
    const char *argv[20] = {ROSTERCTL_PATH, "--socket", n->t.sock, "--json"};
    int k = 4;
    for (int i = 0; args[i] && k < 19; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    return test_run_cmd(argv, out, OUT);
}

/* same_everywhere polls until args answer with exit 0 and the same bytes on the three
 * nodes, holding `want` (a substring that the
 * converged answer has, or NULL) and not `unwanted`; fails the test at the deadline. */
static void same_everywhere(struct cl_node *ns, const char *const *args, const char *want,
                            const char *unwanted)
{
    static char out[3][OUT];
    uint64_t deadline = test_now_ms() + 15000;
    for (;;) {
        int ok = 1;
        for (int i = 0; i < 3; i++) {
            ok &= ctl(&ns[i], out[i], args) == 0;
            ok &= strcmp(out[i], out[0]) == 0;
        }
        ok &= !want || strstr(out[0], want) != NULL;
        ok &= !unwanted || strstr(out[0], unwanted) == NULL;
        if (ok)
            return;
        if (test_now_ms() > deadline) {
            for (int i = 0; i < 3; i++)
                fprintf(stderr, "node %s: %s", ns[i].name, out[i]);
            test_fail(__FILE__, __LINE__, "%s %s: the nodes answer differently", args[0],
                      args[1] ? args[1] : "");
        }
        cl_sleep_ms(20);
    }
}

static void test_same_answers_on_every_node(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    const char *cookie = cl_cookie(0, "cluster-test-cookie-0a1b2c3d4e5f6a7b\n");
    struct cl_node ns[3];
    cl_start(&ns[0], 1, "a", NULL, cookie, NULL);
    cl_start(&ns[1], 2, "b", ns[0].addr, cookie, NULL);
    cl_start(&ns[2], 3, "c", ns[0].addr, cookie, NULL);
    for (int i = 0; i < 3; i++)
        cl_wait_up(&ns[i], NULL, 3, 10000);

    /* every node: two pids in chat/room and in workers, a name each, JSON metadata */
    roster_client *cs[3];
    roster_pid ps[3][2];
    static const char *const langs[3] = {"en", "fr", "de"};
    for (int i = 0; i < 3; i++) {
        cs[i] = cl_connect(&ns[i]);
        ps[i][0] = roster_self(cs[i]);
        ASSERT_EQ(roster_pid_new(cs[i], &ps[i][1], 5000), 0);
        for (int k = 0; k < 2; k++) {
            char meta[64], name[32];
            int ml = snprintf(meta, sizeof meta, "{\"lang\":\"%s\",\"k\":%d}", langs[i], k);
            ASSERT_EQ(roster_join(cs[i], NULL, "chat/room", 9, ps[i][k], meta, (size_t)ml,
                                  5000), 0);
            ASSERT_EQ(roster_join(cs[i], NULL, "workers", 7, ps[i][k], meta, (size_t)ml, 5000),
                      0);
            int nl = snprintf(name, sizeof name, "svc/%s%d", ns[i].name, k);
            ASSERT_EQ(roster_register(cs[i], NULL, name, (size_t)nl, ps[i][k], meta,
                                      (size_t)ml, NULL, 5000), 0);
        }
        ASSERT_EQ(roster_join(cs[i], NULL, "chat/lobby", 10, ps[i][0], "x", 1, 5000), 0);
    }
    for (int i = 0; i < 3; i++) {
        cl_wait_members(&ns[i], NULL, "workers", 6, 10000);
        cl_wait_members(&ns[i], NULL, "chat/room", 6, 10000);
        cl_wait_members(&ns[i], NULL, "chat/lobby", 3, 10000);
    }

    /* item 2: one order everywhere (members by pid, not the answering node's first) */
    const char *members[] = {"members", "workers", NULL};
    same_everywhere(ns, members, "\"node\":\"c\"", NULL);
    const char *names[] = {"names", NULL};
    same_everywhere(ns, names, "svc/c1", NULL);
    const char *groups[] = {"groups", NULL};
    same_everywhere(ns, groups, "\"members\":6", NULL);
    /* libroster: the region (a client's second read of a scope) and the socket agree */
    roster_pid first[6];
    for (int i = 0; i < 3; i++) {
        roster_options o;
        roster_options_init(&o);
        o.socket_path = ns[i].t.sock;
        for (int shm = 0; shm < 2; shm++) {
            o.no_shm = !shm;
            roster_client *r = NULL;
            ASSERT_EQ(roster_connect(&r, &o), 0);
            roster_entries l;
            for (int k = 0; k < 1 + shm; k++) { /* the first read tells the scope's mode */
                ASSERT_EQ(roster_members(r, NULL, "workers", 7, 0, &l, 5000), 0);
                if (k < shm)
                    roster_entries_free(&l);
            }
            if (shm)
                ASSERT_EQ(roster_uses_shm(r), 1);
            ASSERT_EQ(l.n, 6);
            for (size_t k = 0; k < 6; k++) {
                if (i == 0 && shm == 0)
                    first[k] = l.items[k].pid;
                ASSERT(roster_pid_equal(l.items[k].pid, first[k]));
                if (k)
                    ASSERT(l.items[k - 1].pid.node_inc < l.items[k].pid.node_inc ||
                           (l.items[k - 1].pid.node_inc == l.items[k].pid.node_inc &&
                            l.items[k - 1].pid.serial < l.items[k].pid.serial));
            }
            roster_entries_free(&l);
            /* groups: no node's name in them (it would differ from node to node) */
            ASSERT_EQ(roster_groups(r, NULL, "", 0, (roster_pid){0, 0}, 0, &l, 5000), 0);
            ASSERT_EQ(l.n, 3); /* chat/lobby, chat/room, workers */
            for (size_t k = 0; k < l.n; k++)
                ASSERT_STR_EQ(l.items[k].node, "");
            roster_entries_free(&l);
            roster_close(r);
        }
    }
    /* item 12: members of every group under a prefix, and counts of one key */
    const char *prefix[] = {"members", "--prefix", "chat/", NULL};
    same_everywhere(ns, prefix, "chat/lobby", NULL);
    const char *count_key[] = {"count", "chat/room", NULL};
    same_everywhere(ns, count_key, "{\"key\":\"chat/room\",\"names\":0,\"groups\":1,\"members\":6}",
                    NULL);
    const char *count_name[] = {"count", "svc/b1", NULL};
    same_everywhere(ns, count_name, "\"names\":1,\"groups\":0,\"members\":0", NULL);
    /* item 6: filters run on each node over its copy, with the same answer */
    const char *where[] = {"names", "--where", "lang=fr", NULL};
    same_everywhere(ns, where, "svc/b1", "svc/a0");
    const char *glob[] = {"members", "--prefix", "", "--meta-glob", "*\"k\":1}", NULL};
    same_everywhere(ns, glob, "\"k\\\":1}", "\"k\\\":0}");
    const char *count_f[] = {"count", "--where", "k=0", "--meta-prefix", "{\"lang\":\"de\"",
                             NULL};
    same_everywhere(ns, count_f, "\"names\":1,\"groups\":2,\"members\":2", NULL);

    /* member GROUP PID: a pid of node b, asked on every node */
    char out[OUT], pid[ROSTER_PID_STRLEN], other[ROSTER_PID_STRLEN];
    roster_pid_format(ps[1][1], pid);
    roster_pid_format(ps[2][1], other);
    for (int i = 0; i < 3; i++) {
        const char *yes[] = {"member", "workers", pid, NULL};
        ASSERT_EQ(ctl(&ns[i], out, yes), 0);
        ASSERT(strstr(out, "\"member\":true"));
        const char *no[] = {"member", "chat/lobby", other, NULL};
        ASSERT_EQ(ctl(&ns[i], out, no), 1);
        ASSERT(strstr(out, "\"member\":false"));
    }

    /* unregister --match on b: only ps[1][1]'s matching names go, one event each, seen
     * on every node */
    roster_client *w = cl_connect(&ns[2]);
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(w, NULL, "svc/", 4, ROSTER_SUB_PREFIX | ROSTER_SUB_REGISTRY,
                               &sub, 5000), 0);
    const char *um[] = {"unregister", "--match", "--pid", pid, "--prefix", "svc/", "--where",
                        "lang=fr", NULL};
    ASSERT_EQ(ctl(&ns[1], out, um), 0);
    ASSERT_STR_EQ(out, "{\"removed\":1}\n");
    ASSERT_EQ(ctl(&ns[1], out, um), 1); /* nothing left to match */
    ASSERT_STR_EQ(out, "{\"removed\":0}\n");
    roster_event ev;
    ASSERT_EQ(roster_wait_event(w, &ev, 10000), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_UNREGISTERED);
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "svc/b1", 6);
    roster_event_free(&ev);
    same_everywhere(ns, names, "svc/b0", "svc/b1");
    const char *lm[] = {"leave", "--match", "--pid", pid, "--prefix", "", NULL};
    ASSERT_EQ(ctl(&ns[1], out, lm), 0);
    ASSERT_STR_EQ(out, "{\"removed\":2}\n");
    const char *count_b[] = {"count", "--node", "b", NULL};
    same_everywhere(ns, count_b, "\"names\":1,\"groups\":3,\"members\":3", NULL);
    ASSERT_EQ(roster_wait_event(w, &ev, 300), ROSTER_ETIMEDOUT); /* no other registry event */

    roster_close(w);
    for (int i = 0; i < 3; i++)
        roster_close(cs[i]);
    for (int i = 2; i >= 0; i--)
        test_node_stop_ok(&ns[i].t);
}

TEST_MAIN(T(test_same_answers_on_every_node))
