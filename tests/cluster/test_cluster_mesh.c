/* test_cluster_mesh.c: three real nodes joined through one seed: full mesh (rosterctl nodes
 * on each lists 3 up), registrations and groups converge both ways, kill -9 of a node
 * purges what it owned everywhere within the failure-detection bound (events with reason
 * node_down), and a restarted node is a new incarnation whose old entries are gone. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "rclient.h"
#include "test.h"

static const char *cookie;

static void setup(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    cookie = cl_cookie(0, "cluster-test-cookie-5f1c2d9e8a7b6c4d\n");
}

static void start3(struct cl_node *a, struct cl_node *b, struct cl_node *c)
{
    setup();
    cl_start(a, 1, "a", NULL, cookie, NULL);
    cl_start(b, 2, "b", a->addr, cookie, NULL);
    cl_start(c, 3, "c", a->addr, cookie, NULL);
    cl_wait_up(a, NULL, 3, 10000);
    cl_wait_up(b, NULL, 3, 10000);
    cl_wait_up(c, NULL, 3, 10000);
}

/* ctl_nodes_up runs `rosterctl nodes` on n and counts the lines saying "up". */
static int ctl_nodes_up(const struct cl_node *n, int *self_lines)
{
    char out[4096];
    const char *argv[] = {ROSTERCTL_PATH, "--socket", n->t.sock, "nodes", NULL};
    if (test_run_cmd(argv, out, sizeof out) != 0)
        test_fail(__FILE__, __LINE__, "rosterctl nodes failed: %s", out);
    int up = 0;
    *self_lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, " up"))
            up++;
        if (strstr(line, "self"))
            (*self_lines)++;
    }
    return up;
}

static void test_mesh_converges(void)
{
    struct cl_node a, b, c;
    start3(&a, &b, &c);
    /* b and c learned of each other from a: the mesh is full. */
    const struct cl_node *all[] = {&a, &b, &c};
    for (int i = 0; i < 3; i++) {
        int self = 0;
        ASSERT_EQ(ctl_nodes_up(all[i], &self), 3);
        ASSERT_EQ(self, 1);
    }
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b), *cc = cl_connect(&c);
    roster_pid pa = roster_self(ca), pb = roster_self(cb), pc = roster_self(cc);

    /* register on a: visible on b and c, with a's node name */
    ASSERT_EQ(roster_register(ca, NULL, "svc", 3, pa, "m1", 2, NULL, 5000), 0);
    cl_wait_lookup(&b, NULL, "svc", 0, &pa, 5000);
    cl_wait_lookup(&c, NULL, "svc", 0, &pa, 5000);
    roster_entry e;
    ASSERT_EQ(roster_lookup(cc, NULL, "svc", 3, &e, 5000), 0);
    ASSERT_STR_EQ(e.node, "a");
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "m1", 2);
    roster_entry_free(&e);
    /* the name is taken cluster-wide for another pid */
    cl_wait_lookup(&b, NULL, "svc", 0, &pa, 5000);
    roster_pid holder;
    ASSERT_EQ(roster_register(cb, NULL, "svc", 3, pb, "x", 1, &holder, 5000), ROSTER_ETAKEN);
    ASSERT(roster_pid_equal(holder, pa));

    /* groups: join on b and c, members on a */
    ASSERT_EQ(roster_join(cb, NULL, "grp", 3, pb, "b", 1, 5000), 0);
    ASSERT_EQ(roster_join(cc, NULL, "grp", 3, pc, "c", 1, 5000), 0);
    cl_wait_members(&a, NULL, "grp", 2, 5000);
    /* leave on b; c's client goes away: its membership leaves everywhere */
    ASSERT_EQ(roster_leave(cb, NULL, "grp", 3, pb, 5000), 0);
    cl_wait_members(&a, NULL, "grp", 1, 5000);
    roster_close(cc);
    cl_wait_members(&a, NULL, "grp", 0, 5000);
    cl_wait_members(&b, NULL, "grp", 0, 5000);

    /* unregister on a: gone on b and c */
    ASSERT_EQ(roster_unregister(ca, NULL, "svc", 3, 5000), 0);
    cl_wait_lookup(&b, NULL, "svc", ROSTER_ENOTFOUND, NULL, 5000);
    cl_wait_lookup(&c, NULL, "svc", ROSTER_ENOTFOUND, NULL, 5000);
    roster_close(ca);
    roster_close(cb);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

/* wait_event waits on c for an event of type kind about name with reason; fails at the
 * deadline. */
static void wait_event(roster_client *c, int kind, const char *name, int reason, int timeout_ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int left = (int)(deadline - test_now_ms());
        if (left <= 0 || deadline < test_now_ms())
            test_fail(__FILE__, __LINE__, "no %s event for %s (reason %s)",
                      roster_event_type_name(kind), name, roster_reason_name(reason));
        roster_event ev;
        int r = roster_wait_event(c, &ev, left);
        if (r == ROSTER_ETIMEDOUT)
            continue;
        ASSERT_EQ(r, 0);
        int hit = ev.type == kind && ev.reason == reason && ev.name.len == strlen(name) &&
                  memcmp(ev.name.data, name, ev.name.len) == 0;
        roster_event_free(&ev);
        if (hit)
            return;
    }
}

static void test_kill9_purges(void)
{
    struct cl_node a, b, c;
    start3(&a, &b, &c);
    roster_client *cc = cl_connect(&c), *wa = cl_connect(&a);
    ASSERT_EQ(roster_subscribe(wa, NULL, "", 0, ROSTER_SUB_ALL, NULL, 5000), 0);
    roster_pid pc = roster_self(cc);
    ASSERT_EQ(roster_register(cc, NULL, "c-svc", 5, pc, NULL, 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(cc, NULL, "c-grp", 5, pc, NULL, 0, 5000), 0);
    cl_wait_lookup(&a, NULL, "c-svc", 0, &pc, 5000);
    cl_wait_lookup(&b, NULL, "c-svc", 0, &pc, 5000);
    cl_wait_members(&b, NULL, "c-grp", 1, 5000);

    uint64_t t0 = test_now_ms();
    test_node_kill(&c.t, SIGKILL);
    cl_wait_lookup(&a, NULL, "c-svc", ROSTER_ENOTFOUND, NULL, CL_DOWN_BOUND_MS);
    cl_wait_lookup(&b, NULL, "c-svc", ROSTER_ENOTFOUND, NULL, CL_DOWN_BOUND_MS);
    cl_wait_members(&a, NULL, "c-grp", 0, CL_DOWN_BOUND_MS);
    cl_wait_members(&b, NULL, "c-grp", 0, CL_DOWN_BOUND_MS);
    printf("  names of the killed node gone everywhere after %llu ms\n",
           (unsigned long long)(test_now_ms() - t0));
    wait_event(wa, ROSTER_EV_UNREGISTERED, "c-svc", ROSTER_REASON_NODE_DOWN, 5000);
    cl_wait_up(&a, NULL, 2, CL_DOWN_BOUND_MS);
    cl_wait_up(&b, NULL, 2, CL_DOWN_BOUND_MS);
    /* no empty group lingers */
    roster_client *ca = cl_connect(&a);
    roster_entries gs;
    ASSERT_EQ(roster_groups(ca, NULL, "c-", 2, (roster_pid){0, 0}, 0, &gs, 5000), 0);
    ASSERT_EQ(gs.n, 0);
    roster_entries_free(&gs);
    /* nodes lists the dead node as down, with when it went down (by the wall clock) */
    roster_nodes nl;
    ASSERT_EQ(roster_nodes_list(ca, NULL, &nl, 5000), 0);
    int listed = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t wall = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    for (size_t i = 0; i < nl.n; i++) {
        if (strcmp(nl.items[i].name, "c") == 0) {
            listed = 1;
            ASSERT_EQ(nl.items[i].state, ROSTER_NODE_DOWN);
            ASSERT(nl.items[i].down_since_ms > 0 && nl.items[i].down_since_ms <= wall);
            ASSERT(wall - nl.items[i].down_since_ms < 60000);
        } else {
            ASSERT_EQ(nl.items[i].down_since_ms, 0);
        }
    }
    ASSERT(listed);
    roster_nodes_free(&nl);
    roster_close(ca);
    roster_close(wa);
    roster_close(cc);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

static void test_restart_is_new_incarnation(void)
{
    struct cl_node a, b, c;
    start3(&a, &b, &c);
    roster_client *ca = cl_connect(&a), *cc = cl_connect(&c);
    ASSERT_EQ(roster_register(ca, NULL, "on-a", 4, roster_self(ca), NULL, 0, NULL, 5000), 0);
    roster_pid old = roster_self(cc);
    ASSERT_EQ(roster_register(cc, NULL, "old", 3, old, NULL, 0, NULL, 5000), 0);
    cl_wait_lookup(&a, NULL, "old", 0, &old, 5000);
    cl_wait_lookup(&b, NULL, "old", 0, &old, 5000);
    uint64_t inc_before = 0;
    ASSERT_EQ(cl_count_up(ca, NULL, "c", &inc_before), 3);
    ASSERT_U64_EQ(inc_before, old.node_inc);

    /* kill and restart at once, same name and address */
    test_node_kill(&c.t, SIGKILL);
    roster_close(cc);
    cl_start(&c, 3, "c", a.addr, cookie, NULL);
    cc = cl_connect(&c);
    uint64_t inc_after = roster_node_incarnation(cc);
    ASSERT(inc_after != inc_before);
    uint64_t deadline = test_now_ms() + 10000;
    for (;;) {
        uint64_t seen = 0;
        if (cl_count_up(ca, NULL, "c", &seen) == 3 && seen == inc_after)
            break;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "a does not see c's new incarnation");
        cl_sleep_ms(10);
    }
    cl_wait_lookup(&a, NULL, "old", ROSTER_ENOTFOUND, NULL, 5000);
    cl_wait_lookup(&b, NULL, "old", ROSTER_ENOTFOUND, NULL, 5000);
    /* the new c gets what the others hold, and replicates its own */
    cl_wait_lookup(&c, NULL, "on-a", 0, NULL, 5000);
    roster_pid np = roster_self(cc);
    ASSERT_EQ(roster_register(cc, NULL, "new", 3, np, NULL, 0, NULL, 5000), 0);
    cl_wait_lookup(&b, NULL, "new", 0, &np, 5000);
    roster_close(cc);
    roster_close(ca);
    test_node_stop_ok(&c.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

TEST_MAIN(T(test_mesh_converges), T(test_kill9_purges), T(test_restart_is_new_incarnation))
