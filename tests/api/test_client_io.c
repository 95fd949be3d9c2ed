/* test_client_io.c: libroster I/O behaviour against a real rosterd: timeouts (0 ms and
 * short), an abandoned answer never reaching a later call, ECLOSED after the node stops,
 * pipelined registrations with roster_wait_all (and as REPLY events), and allocation
 * failures injected through roster_set_allocator (ENOMEM, no leak). */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "fault.h"
#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

static void test_timeouts_and_abandoned(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    /* socket timeouts: reads from the shared-memory region would answer a stopped node */
    setenv("ROSTER_NO_SHM", "1", 1);
    roster_client *c = test_connect(&n);
    ASSERT_EQ(roster_uses_shm(c), 0);
    roster_pid self = roster_self(c);
    ASSERT_EQ(roster_register(c, NULL, "x", 1, self, "meta-x", 6, NULL, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, "y", 1, self, "meta-y", 6, NULL, 5000), 0);
    kill(n.pid, SIGSTOP);
    uint64_t t0 = test_now_ms();
    ASSERT_EQ(roster_ping(c, 0), ROSTER_ETIMEDOUT);
    ASSERT(test_now_ms() - t0 < 2000); /* at once, not the node's (stopped) answer */
    roster_entry e;
    t0 = test_now_ms();
    ASSERT_EQ(roster_lookup(c, NULL, "x", 1, &e, 150), ROSTER_ETIMEDOUT);
    uint64_t took = test_now_ms() - t0;
    ASSERT(took >= 150 && took < 2000);
    roster_entries l;
    ASSERT_EQ(roster_names(c, NULL, "", 0, (roster_pid){0, 0}, 0, &l, 50), ROSTER_ETIMEDOUT);
    ASSERT(l.n == 0 && l.items == NULL);
    kill(n.pid, SIGCONT);
    /* The late answers for x and the listing are dropped; y's answer is y's. */
    ASSERT_EQ(roster_lookup(c, NULL, "y", 1, &e, 5000), 0);
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "meta-y", 6);
    roster_entry_free(&e);
    ASSERT_EQ(roster_ping(c, 5000), 0);
    roster_event ev;
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_EAGAIN);
    /* a 0 ms call either finds its answer at once or times out; the next one still works */
    int r = roster_lookup(c, NULL, "x", 1, &e, 0);
    ASSERT(r == 0 || r == ROSTER_ETIMEDOUT);
    if (r == 0)
        roster_entry_free(&e);
    ASSERT_EQ(roster_lookup(c, NULL, "y", 1, &e, 5000), 0);
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "meta-y", 6);
    roster_entry_free(&e);
    roster_close(c);
    test_node_stop_ok(&n);
}

static void test_closed(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *c = test_connect(&n);
    ASSERT_EQ(roster_subscribe(c, NULL, "", 0, ROSTER_SUB_ALL, NULL, 5000), 0);
    test_node_stop_ok(&n);
    /* the closed connection wakes an event loop */
    struct pollfd p = {roster_fd(c), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 5000), 1);
    roster_event ev;
    ASSERT_EQ(roster_wait_event(c, &ev, 5000), ROSTER_ECLOSED);
    ASSERT_EQ(roster_ping(c, 5000), ROSTER_ECLOSED);
    ASSERT_EQ(roster_register(c, NULL, "x", 1, roster_self(c), "", 0, NULL, 5000),
              ROSTER_ECLOSED);
    ASSERT_EQ(roster_register_async(c, NULL, "x", 1, roster_self(c), "", 0, NULL),
              ROSTER_ECLOSED);
    ASSERT_EQ(roster_wait_all(c, 1000), ROSTER_ECLOSED);
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_ECLOSED);
    roster_close(c);
}

static void test_closed_during_call(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *c = test_connect(&n);
    kill(n.pid, SIGSTOP);
    pid_t k = fork();
    if (k == 0) {
        /* kill the stopped node while the parent waits for an answer */
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        kill(n.pid, SIGKILL);
        _exit(0);
    }
    ASSERT_EQ(roster_ping(c, 10000), ROSTER_ECLOSED);
    ASSERT_EQ(roster_ping(c, 10000), ROSTER_ECLOSED);
    waitpid(k, NULL, 0);
    roster_close(c);
    test_node_kill(&n, SIGKILL);
    test_node_stop(&n);
}

static void test_async_pipeline(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *c = test_connect(&n), *o = test_connect(&n);
    roster_pid self = roster_self(c);
    enum { N = 10000 };
    char name[32];
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < N; i++) {
        int len = snprintf(name, sizeof name, "async.%d", i);
        ASSERT_EQ(roster_register_async(c, NULL, name, (size_t)len, self, "m", 1, NULL), 0);
    }
    ASSERT_EQ(roster_wait_all(c, 30000), 0);
    uint64_t ms = test_now_ms() - t0;
    printf("  %d pipelined registrations in %llu ms\n", N, (unsigned long long)ms);
    roster_counts cnt;
    ASSERT_EQ(roster_count(o, NULL, NULL, &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.names, N);
    /* no REPLY event was left behind */
    roster_event ev;
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_EAGAIN);

    /* failures are counted: 100 names held by another client */
    for (int i = 0; i < 100; i++) {
        int len = snprintf(name, sizeof name, "async.%d", i);
        ASSERT_EQ(roster_register_async(o, NULL, name, (size_t)len, roster_self(o), "", 0,
                                        NULL),
                  0);
    }
    ASSERT_EQ(roster_register_async(o, NULL, "fresh", 5, roster_self(o), "", 0, NULL), 0);
    ASSERT_EQ(roster_wait_all(o, 30000), 100);
    ASSERT_EQ(roster_wait_all(o, 0), 0); /* nothing pending */

    /* without wait_all, answers arrive as REPLY events, in order, with their ids */
    uint64_t ids[3];
    ASSERT_EQ(roster_join_async(c, NULL, "ag", 2, self, "", 0, &ids[0]), 0);
    ASSERT_EQ(roster_register_async(c, NULL, "async.0", 7, self, "", 0, &ids[1]), 0);
    ASSERT_EQ(roster_leave_async(c, NULL, "nogroup", 7, self, &ids[2]), 0);
    ASSERT_EQ(roster_flush(c, 5000), 0);
    int want[3] = {0, 0, ROSTER_ENOTMEMBER};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(roster_wait_event(c, &ev, 5000), 0);
        ASSERT_EQ(ev.type, ROSTER_EV_REPLY);
        ASSERT_U64_EQ(ev.req_id, ids[i]);
        ASSERT_EQ(ev.status, want[i]);
        roster_event_free(&ev);
    }
    /* pipelined then blocking: the blocking call sees the pipelined effects */
    ASSERT_EQ(roster_unregister_async(c, NULL, "async.1", 7, NULL), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(c, NULL, "async.1", 7, &e, 5000), ROSTER_ENOTFOUND);
    ASSERT_EQ(roster_wait_all(c, 5000), 0);
    roster_close(c);
    roster_close(o);
    test_node_stop_ok(&n);
}

/* --- allocation failures --- */

static long fail_at; /* the allocation made to fail (1-based), for the messages */

#define OK_OR_NOMEM(expr)                                                                 \
    do {                                                                                  \
        int r_ = (expr);                                                                  \
        if (r_ != 0 && r_ != ROSTER_ENOMEM)                                               \
            test_fail(__FILE__, __LINE__, "%s: %s (fail_at %ld)", #expr, roster_strerror(r_), \
                      fail_at);                                                           \
    } while (0)

/* scenario runs a bit of everything on one client; every step may fail with ENOMEM. */
static void scenario(const struct test_node *n, int k)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n->sock;
    roster_client *c = NULL;
    int r = roster_connect(&c, &o);
    if (r == ROSTER_ENOMEM)
        return;
    ASSERT_EQ(r, 0);
    char name[32];
    snprintf(name, sizeof name, "mem.%d", k);
    roster_pid self = roster_self(c);
    OK_OR_NOMEM(roster_subscribe(c, NULL, name, strlen(name), ROSTER_SUB_REGISTRY, NULL, 5000));
    OK_OR_NOMEM(roster_register(c, NULL, name, strlen(name), self, "meta", 4, NULL, 5000));
    roster_entry e;
    r = roster_lookup(c, NULL, name, strlen(name), &e, 5000);
    ASSERT(r == 0 || r == ROSTER_ENOMEM || r == ROSTER_ENOTFOUND);
    roster_entry_free(&e);
    roster_entries l;
    r = roster_names(c, NULL, "mem.", 4, (roster_pid){0, 0}, 0, &l, 5000);
    ASSERT(r == 0 || r == ROSTER_ENOMEM);
    roster_entries_free(&l);
    roster_stats st;
    OK_OR_NOMEM(roster_status(c, &st, 5000));
    roster_stats_free(&st);
    OK_OR_NOMEM(roster_join_async(c, NULL, "memg", 4, self, "", 0, NULL));
    r = roster_wait_all(c, 5000);
    ASSERT(r >= 0 || r == ROSTER_ENOMEM);
    roster_event ev;
    r = roster_next_event(c, &ev);
    ASSERT(r == 0 || r == ROSTER_EAGAIN || r == ROSTER_ENOMEM);
    roster_event_free(&ev);
    OK_OR_NOMEM(roster_pid_close(c, self, 5000));
    roster_close(c);
}

static void test_allocation_failures(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_set_allocator(fault_malloc, fault_realloc, fault_free);
    for (int k = 1; k < 500; k++) {
        fail_at = k;
        fault_plan(k, 0);
        scenario(&n, k);
        if (fault_live_blocks() != 0)
            test_fail(__FILE__, __LINE__, "%ld blocks leaked with allocation %d failing",
                      fault_live_blocks(), k);
        if (fault_failures() == 0) {
            printf("  every one of %d allocations failed in turn\n", k - 1);
            ASSERT(k > 10);
            break; /* the scenario needs fewer than k allocations: all were tried */
        }
        ASSERT(k < 499);
    }
    roster_set_allocator(NULL, NULL, NULL);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_timeouts_and_abandoned), T(test_closed), T(test_closed_during_call),
          T(test_async_pipeline), T(test_allocation_failures))
