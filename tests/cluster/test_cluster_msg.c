/* test_cluster_msg.c: messaging across three real nodes: send by name and by pid to other
 * nodes (in order), publish with members on every node (recipients counted cluster-wide and
 * local-only, every member gets it once), call and multi-call across nodes, and a call
 * waiting on a node that is killed failing with ENOPROC within the failure-detection
 * bound. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "rclient.h"
#include "test.h"

static void start3(struct cl_node *a, struct cl_node *b, struct cl_node *c)
{
    char why[160];
    cl_netns(why, sizeof why);
    const char *cookie = cl_cookie(0, "cluster-msg-cookie-8e41c0a9d2f3b7a6\n");
    cl_start(a, 1, "a", NULL, cookie, NULL);
    cl_start(b, 2, "b", a->addr, cookie, NULL);
    cl_start(c, 3, "c", a->addr, cookie, NULL);
    cl_wait_up(a, NULL, 3, 10000);
    cl_wait_up(b, NULL, 3, 10000);
    cl_wait_up(c, NULL, 3, 10000);
}

static void stop3(struct cl_node *a, struct cl_node *b, struct cl_node *c)
{
    if (c)
        test_node_stop_ok(&c->t);
    test_node_stop_ok(&b->t);
    test_node_stop_ok(&a->t);
}

static void next_ev(roster_client *c, roster_event *ev, int line)
{
    int r = roster_wait_event(c, ev, 5000);
    if (r)
        test_fail(__FILE__, line, "wait_event: %s (%s)", roster_strerror(r),
                  roster_errdetail(c));
    if (ev->type != ROSTER_EV_MESSAGE)
        test_fail(__FILE__, line, "event %s, not a message", roster_event_type_name(ev->type));
}
#define NEXT(c, ev) next_ev((c), (ev), __LINE__)

static void test_send_across_nodes(void)
{
    struct cl_node a, b, c;
    start3(&a, &b, &c);
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b), *cc = cl_connect(&c);
    roster_pid pa = roster_self(ca), pb = roster_self(cb), pc = roster_self(cc);
    ASSERT_EQ(roster_register(cb, NULL, "svc", 3, pb, "", 0, NULL, 5000), 0);
    cl_wait_lookup(&a, NULL, "svc", 0, &pb, 5000);
    ASSERT_EQ(roster_send_name(ca, pa, NULL, "svc", 3, "to b", 4, ROSTER_SEND_CONFIRM, 5000), 0);
    roster_event ev;
    NEXT(cb, &ev);
    ASSERT(roster_pid_equal(ev.pid, pa));
    ASSERT(roster_pid_equal(ev.to, pb));
    ASSERT_STR_EQ(ev.node, "a");
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "svc", 3);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "to b", 4);
    roster_event_free(&ev);
    /* by pid, pipelined: the order of one sender to one receiver holds across nodes */
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        char m[16];
        int len = snprintf(m, sizeof m, "%d", i);
        ASSERT_EQ(roster_send(ca, pa, pc, m, (size_t)len, ROSTER_SEND_NOFLUSH, 5000), 0);
    }
    ASSERT_EQ(roster_flush(ca, 5000), 0);
    for (int i = 0; i < N; i++) {
        char m[16];
        int len = snprintf(m, sizeof m, "%d", i);
        NEXT(cc, &ev);
        ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, m, (size_t)len);
        ASSERT_STR_EQ(ev.node, "a");
        roster_event_free(&ev);
    }
    /* a pid of a node nobody knows, confirmed: ENOPROC */
    roster_pid nowhere = {pc.node_inc ^ 0x5a5a5a5aULL, 1};
    ASSERT_EQ(roster_send(ca, pa, nowhere, "x", 1, ROSTER_SEND_CONFIRM, 5000), ROSTER_ENOPROC);
    roster_close(ca);
    roster_close(cb);
    roster_close(cc);
    stop3(&a, &b, &c);
}

static void test_publish_across_nodes(void)
{
    struct cl_node a, b, c;
    start3(&a, &b, &c);
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b), *cc = cl_connect(&c);
    roster_pid c2;
    ASSERT_EQ(roster_pid_new(cc, &c2, 5000), 0);
    ASSERT_EQ(roster_join(ca, NULL, "g", 1, roster_self(ca), "", 0, 5000), 0);
    ASSERT_EQ(roster_join(cb, NULL, "g", 1, roster_self(cb), "", 0, 5000), 0);
    ASSERT_EQ(roster_join(cc, NULL, "g", 1, roster_self(cc), "", 0, 5000), 0);
    ASSERT_EQ(roster_join(cc, NULL, "g", 1, c2, "", 0, 5000), 0);
    cl_wait_members(&a, NULL, "g", 4, 5000);
    size_t n = 0;
    ASSERT_EQ(roster_publish(ca, roster_self(ca), NULL, "g", 1, "all", 3, 0, &n, 5000), 0);
    ASSERT_EQ(n, 4);
    ASSERT_EQ(roster_publish(ca, roster_self(ca), NULL, "g", 1, "local", 5,
                             ROSTER_PUBLISH_LOCAL, &n, 5000),
              0);
    ASSERT_EQ(n, 1);
    roster_event ev;
    NEXT(ca, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "all", 3);
    roster_event_free(&ev);
    NEXT(ca, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "local", 5);
    roster_event_free(&ev);
    NEXT(cb, &ev);
    ASSERT_EQ(ev.msg_kind, ROSTER_MSG_PUBLISH);
    ASSERT_STR_EQ(ev.node, "a");
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "g", 1);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "all", 3);
    roster_event_free(&ev);
    int to_self = 0, to_c2 = 0;
    for (int i = 0; i < 2; i++) {
        NEXT(cc, &ev);
        ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "all", 3);
        to_self += roster_pid_equal(ev.to, roster_self(cc));
        to_c2 += roster_pid_equal(ev.to, c2);
        roster_event_free(&ev);
    }
    ASSERT(to_self == 1 && to_c2 == 1);
    /* nobody got anything twice, and the local publish stayed on a */
    ASSERT_EQ(roster_wait_event(cb, &ev, 300), ROSTER_ETIMEDOUT);
    ASSERT_EQ(roster_wait_event(cc, &ev, 100), ROSTER_ETIMEDOUT);
    roster_close(ca);
    roster_close(cb);
    roster_close(cc);
    stop3(&a, &b, &c);
}

/* serve runs a server in a child process connected to n: it registers name, joins group
 * (if not NULL) and answers calls with "<node>:" + data, except "never" (not answered). */
static pid_t serve(const struct cl_node *n, const char *name, const char *group)
{
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid > 0)
        return pid;
    roster_client *c = cl_connect(n);
    if (group)
        ASSERT_EQ(roster_join(c, NULL, group, strlen(group), roster_self(c), "", 0, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, name, strlen(name), roster_self(c), "", 0, NULL, 5000),
              0);
    for (;;) {
        roster_event ev;
        if (roster_wait_event(c, &ev, ROSTER_FOREVER) != 0)
            _exit(0);
        if (ev.type == ROSTER_EV_MESSAGE && ev.call_ref &&
            !(ev.meta.len == 5 && memcmp(ev.meta.data, "never", 5) == 0)) {
            char out[256];
            int len = snprintf(out, sizeof out, "%s:%.*s", roster_node_name(c),
                               (int)ev.meta.len, (char *)ev.meta.data);
            roster_reply(c, &ev, out, (size_t)len, 5000);
        }
        roster_event_free(&ev);
    }
}

static roster_pid lookup(roster_client *c, const char *name)
{
    roster_entry e;
    ASSERT_EQ(roster_lookup(c, NULL, name, strlen(name), &e, 5000), 0);
    roster_pid p = e.pid;
    roster_entry_free(&e);
    return p;
}

static void test_call_across_nodes(void)
{
    struct cl_node a, b, c;
    start3(&a, &b, &c);
    pid_t kb = serve(&b, "sb", "workers"), kc = serve(&c, "sc", "workers");
    cl_wait_members(&a, NULL, "workers", 2, 10000);
    cl_wait_lookup(&a, NULL, "sb", 0, NULL, 5000);
    cl_wait_lookup(&a, NULL, "sc", 0, NULL, 5000);
    roster_client *ca = cl_connect(&a);
    roster_pid sc = lookup(ca, "sc");
    roster_buf reply;
    roster_pid who;
    ASSERT_EQ(roster_call_name(ca, roster_self(ca), NULL, "sb", 2, "x", 1, &reply, &who, 5000),
              0);
    ASSERT_MEM_EQ(reply.data, reply.len, "b:x", 3);
    roster_buf_free(&reply);
    ASSERT_EQ(roster_call(ca, roster_self(ca), sc, "y", 1, &reply, &who, 5000), 0);
    ASSERT_MEM_EQ(reply.data, reply.len, "c:y", 3);
    ASSERT(roster_pid_equal(who, sc));
    roster_buf_free(&reply);
    /* a remote call that times out; its late absence does not disturb the next call */
    ASSERT_EQ(roster_call(ca, roster_self(ca), sc, "never", 5, &reply, NULL, 200),
              ROSTER_ETIMEDOUT);
    ASSERT_EQ(roster_call(ca, roster_self(ca), sc, "z", 1, &reply, NULL, 5000), 0);
    ASSERT_MEM_EQ(reply.data, reply.len, "c:z", 3);
    roster_buf_free(&reply);
    /* multi-call across nodes */
    roster_multi_result res;
    ASSERT_EQ(roster_multi_call(ca, roster_self(ca), NULL, "workers", 7, "m", 1, 0, &res, 3000),
              0);
    ASSERT_EQ(res.n_replies, 2);
    ASSERT_EQ(res.n_bad, 0);
    int got_b = 0, got_c = 0;
    for (size_t i = 0; i < res.n_replies; i++) {
        got_b += res.replies[i].data.len == 3 && memcmp(res.replies[i].data.data, "b:m", 3) == 0;
        got_c += res.replies[i].data.len == 3 && memcmp(res.replies[i].data.data, "c:m", 3) == 0;
    }
    ASSERT(got_b == 1 && got_c == 1);
    roster_multi_result_free(&res);
    ASSERT_EQ(roster_multi_call(ca, roster_self(ca), NULL, "workers", 7, "m", 1,
                                ROSTER_PUBLISH_LOCAL, &res, 3000),
              0);
    ASSERT(res.n_replies == 0 && res.n_bad == 0);
    roster_multi_result_free(&res);

    /* the node of a called pid goes down: the waiting call fails with ENOPROC */
    pid_t killer = fork();
    ASSERT(killer >= 0);
    if (killer == 0) {
        poll(NULL, 0, 300);
        kill(c.t.pid, SIGKILL);
        _exit(0);
    }
    uint64_t t0 = test_now_ms();
    ASSERT_EQ(roster_call(ca, roster_self(ca), sc, "never", 5, &reply, NULL, 20000),
              ROSTER_ENOPROC);
    uint64_t took = test_now_ms() - t0;
    printf("  call failed %llu ms after the call began (node killed at 300 ms)\n",
           (unsigned long long)took);
    ASSERT(took < 300 + CL_DOWN_BOUND_MS);
    waitpid(killer, NULL, 0);
    test_node_kill(&c.t, SIGKILL);
    waitpid(kc, NULL, 0);
    kill(kb, SIGKILL);
    waitpid(kb, NULL, 0);
    roster_close(ca);
    stop3(&a, &b, NULL);
}

TEST_MAIN(T(test_send_across_nodes), T(test_publish_across_nodes), T(test_call_across_nodes))
