/* test_client_events.c: libroster events against a real rosterd: subscriptions with a
 * snapshot (entries, then SNAPSHOT_END, then live events; no gap or duplicate under
 * concurrent writes), prefix / exact / groups filters, unsubscribe, events read during a
 * blocking call (queued; roster_fd readable), monitors with their DOWN reasons, and at most
 * one allocation per event taken. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

static void next_ev(roster_client *c, roster_event *ev, int line)
{
    int r = roster_wait_event(c, ev, 5000);
    if (r)
        test_fail(__FILE__, line, "wait_event: %s (%s)", roster_strerror(r),
                  roster_errdetail(c));
}
#define NEXT(c, ev) next_ev((c), (ev), __LINE__)

static int name_is(const roster_event *ev, const char *s)
{
    return ev->name.len == strlen(s) && memcmp(ev->name.data, s, ev->name.len) == 0;
}

static void reg(roster_client *c, const char *name, const char *meta)
{
    int r = roster_register(c, NULL, name, strlen(name), roster_self(c), meta, strlen(meta),
                            NULL, 5000);
    if (r)
        test_fail(__FILE__, __LINE__, "register %s: %s", name, roster_strerror(r));
}

static void test_subscribe_snapshot(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    reg(a, "job.1", "m1");
    reg(a, "job.2", "m2");
    reg(a, "other", "");
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(b, NULL, "job.", 4,
                               ROSTER_SUB_REGISTRY | ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT,
                               &sub, 5000),
              0);
    roster_event ev;
    int seen1 = 0, seen2 = 0;
    for (int i = 0; i < 2; i++) {
        NEXT(b, &ev);
        ASSERT_EQ(ev.type, ROSTER_EV_REGISTERED);
        ASSERT_EQ(ev.snapshot, 1);
        ASSERT_U64_EQ(ev.id, sub);
        ASSERT_STR_EQ(ev.scope, "default");
        ASSERT(roster_pid_equal(ev.pid, roster_self(a)));
        if (name_is(&ev, "job.1")) {
            ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "m1", 2);
            seen1++;
        }
        seen2 += name_is(&ev, "job.2");
        roster_event_free(&ev);
    }
    ASSERT(seen1 == 1 && seen2 == 1);
    NEXT(b, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_SNAPSHOT_END);
    roster_event_free(&ev);

    reg(a, "other.2", "");
    reg(a, "job.3", "m3");
    reg(a, "job.1", "m1b"); /* update */
    ASSERT_EQ(roster_unregister(a, NULL, "job.2", 5, 5000), 0);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_REGISTERED && name_is(&ev, "job.3") && ev.snapshot == 0);
    roster_event_free(&ev);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_UPDATED && name_is(&ev, "job.1"));
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "m1b", 3);
    ASSERT_MEM_EQ(ev.prev_meta.data, ev.prev_meta.len, "m1", 2);
    roster_event_free(&ev);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_UNREGISTERED && name_is(&ev, "job.2"));
    ASSERT_EQ(ev.reason, ROSTER_REASON_NORMAL);
    roster_event_free(&ev);
    ASSERT_EQ(roster_ping(b, 5000), 0);
    ASSERT_EQ(roster_next_event(b, &ev), ROSTER_EAGAIN);

    /* exact match and unsubscribe */
    uint64_t sub2;
    ASSERT_EQ(roster_subscribe(b, NULL, "exact", 5, ROSTER_SUB_REGISTRY, &sub2, 5000), 0);
    ASSERT_EQ(roster_unsubscribe(b, sub, 5000), 0);
    reg(a, "job.4", "");
    reg(a, "exact.not", "");
    reg(a, "exact", "");
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_REGISTERED && name_is(&ev, "exact"));
    ASSERT_U64_EQ(ev.id, sub2);
    roster_event_free(&ev);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* A writer registers names while the subscriber asks for a snapshot: every name must show
 * up exactly once, either in the snapshot or as a live event. */
static void test_snapshot_no_gap_no_dup(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    enum { N = 2000 };
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    pid_t w = fork();
    ASSERT(w >= 0);
    if (w == 0) {
        close(go[1]);
        roster_client *a = test_connect(&n);
        char ch;
        if (read(go[0], &ch, 1) != 1)
            _exit(3);
        char name[32];
        for (int i = 0; i < N; i++) {
            snprintf(name, sizeof name, "k.%d", i);
            if (roster_register(a, NULL, name, strlen(name), roster_self(a), "", 0, NULL,
                                5000))
                _exit(4);
        }
        /* stay connected until the parent has checked */
        if (read(go[0], &ch, 1) < 0)
            _exit(5);
        roster_close(a);
        _exit(0);
    }
    close(go[0]);
    roster_client *b = test_connect(&n);
    ASSERT_EQ(write(go[1], "x", 1), 1);
    /* let the writer get going before the snapshot */
    roster_counts cnt;
    uint64_t deadline = test_now_ms() + 5000;
    do
        ASSERT_EQ(roster_count(b, NULL, NULL, &cnt, 5000), 0);
    while (cnt.names < 50 && test_now_ms() < deadline);
    ASSERT_EQ(roster_subscribe(b, NULL, "k.", 2,
                               ROSTER_SUB_REGISTRY | ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT,
                               NULL, 5000),
              0);
    static unsigned char seen[N];
    int total = 0, ends = 0, snap = 0, after_end_snapshot = 0;
    while (total < N) {
        roster_event ev;
        NEXT(b, &ev);
        if (ev.type == ROSTER_EV_SNAPSHOT_END) {
            ends++;
        } else {
            ASSERT_EQ(ev.type, ROSTER_EV_REGISTERED);
            int i = atoi((const char *)ev.name.data + 2);
            ASSERT(i >= 0 && i < N);
            ASSERT_EQ(seen[i], 0);
            seen[i] = 1;
            total++;
            snap += ev.snapshot;
            if (ends && ev.snapshot)
                after_end_snapshot++;
            if (!ends && !ev.snapshot)
                after_end_snapshot++;
        }
        roster_event_free(&ev);
    }
    ASSERT_EQ(ends, 1);
    ASSERT_EQ(after_end_snapshot, 0);
    ASSERT(snap >= 50);
    close(go[1]);
    int st;
    ASSERT_EQ(waitpid(w, &st, 0), w);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_group_events(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    ASSERT_EQ(roster_subscribe(b, NULL, "", 0, ROSTER_SUB_GROUPS | ROSTER_SUB_ALL, NULL, 5000),
              0);
    reg(a, "not-a-group-event", "");
    ASSERT_EQ(roster_join(a, NULL, "g", 1, roster_self(a), "v1", 2, 5000), 0);
    ASSERT_EQ(roster_join(a, NULL, "g", 1, roster_self(a), "v2", 2, 5000), 0);
    ASSERT_EQ(roster_leave(a, NULL, "g", 1, roster_self(a), 5000), 0);
    ASSERT_EQ(roster_join(a, NULL, "h", 1, roster_self(a), "", 0, 5000), 0);
    roster_event ev;
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_JOINED && name_is(&ev, "g"));
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "v1", 2);
    roster_event_free(&ev);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_MEMBER_UPDATED && name_is(&ev, "g"));
    ASSERT_MEM_EQ(ev.prev_meta.data, ev.prev_meta.len, "v1", 2);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "v2", 2);
    roster_event_free(&ev);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_LEFT && name_is(&ev, "g"));
    ASSERT_EQ(ev.reason, ROSTER_REASON_NORMAL);
    roster_event_free(&ev);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_JOINED && name_is(&ev, "h"));
    roster_event_free(&ev);
    roster_close(a);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_LEFT && name_is(&ev, "h"));
    ASSERT_EQ(ev.reason, ROSTER_REASON_DISCONNECTED);
    roster_event_free(&ev);
    roster_close(b);
    test_node_stop_ok(&n);
}

static int fd_readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

static void test_events_during_blocking_call(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    ASSERT_EQ(roster_subscribe(b, NULL, "", 0, ROSTER_SUB_ALL, NULL, 5000), 0);
    ASSERT(!fd_readable(roster_fd(b), 0));
    reg(a, "e1", "");
    reg(a, "e2", "");
    reg(a, "e3", "");
    /* The events were sent to b before the answer to this call: the call reads them and
     * queues them. */
    ASSERT_EQ(roster_ping(b, 5000), 0);
    ASSERT(fd_readable(roster_fd(b), 0));
    roster_event ev;
    const char *want[] = {"e1", "e2", "e3"};
    for (int i = 0; i < 3; i++) {
        ASSERT(fd_readable(roster_fd(b), 0));
        ASSERT_EQ(roster_next_event(b, &ev), 0);
        ASSERT(ev.type == ROSTER_EV_REGISTERED && name_is(&ev, want[i]));
        roster_event_free(&ev);
    }
    ASSERT_EQ(roster_next_event(b, &ev), ROSTER_EAGAIN);
    ASSERT(!fd_readable(roster_fd(b), 0));
    /* live: the fd wakes an event loop when a new event comes */
    reg(a, "e4", "");
    ASSERT(fd_readable(roster_fd(b), 5000));
    ASSERT_EQ(roster_next_event(b, &ev), 0);
    ASSERT(name_is(&ev, "e4"));
    roster_event_free(&ev);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* The eventfd behind roster_fd is only kept in step once roster_fd has been asked for (a
 * process that takes events where they arrive pays no syscalls for it): events queued
 * before that first call, and events roster_wait_event leaves behind, must still make the
 * descriptor readable. */
static void test_fd_asked_late(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    ASSERT_EQ(roster_subscribe(b, NULL, "", 0, ROSTER_SUB_ALL, NULL, 5000), 0);
    reg(a, "l1", "");
    reg(a, "l2", "");
    reg(a, "l3", "");
    ASSERT_EQ(roster_ping(b, 5000), 0); /* reads and queues the three events */
    roster_event ev;
    ASSERT_EQ(roster_wait_event(b, &ev, 5000), 0);
    ASSERT(name_is(&ev, "l1"));
    roster_event_free(&ev);
    int fd = roster_fd(b); /* asked for now, with two events queued */
    ASSERT(fd_readable(fd, 0));
    ASSERT_EQ(roster_wait_event(b, &ev, 5000), 0);
    ASSERT(name_is(&ev, "l2"));
    roster_event_free(&ev);
    ASSERT(fd_readable(fd, 0)); /* one left */
    ASSERT_EQ(roster_wait_event(b, &ev, 5000), 0);
    ASSERT(name_is(&ev, "l3"));
    roster_event_free(&ev);
    ASSERT(!fd_readable(fd, 0));
    /* roster_wait_event reads a batch of several events and hands out one */
    reg(a, "l4", "");
    reg(a, "l5", "");
    ASSERT_EQ(roster_ping(a, 5000), 0);
    ASSERT(fd_readable(fd, 5000));
    ASSERT_EQ(roster_wait_event(b, &ev, 5000), 0);
    ASSERT(name_is(&ev, "l4"));
    roster_event_free(&ev);
    ASSERT(fd_readable(fd, 5000)); /* l5: queued, or still on the socket */
    ASSERT_EQ(roster_next_event(b, &ev), 0);
    ASSERT(name_is(&ev, "l5"));
    roster_event_free(&ev);
    ASSERT_EQ(roster_next_event(b, &ev), ROSTER_EAGAIN);
    ASSERT(!fd_readable(fd, 0));
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_monitor_down(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n), *d = test_connect(&n);
    roster_pid p;
    ASSERT_EQ(roster_pid_new(a, &p, 5000), 0);
    uint64_t m1, m2, m3, m4;
    roster_event ev;

    /* pid close: reason normal */
    ASSERT_EQ(roster_monitor(b, p, &m1, 5000), 0);
    ASSERT_EQ(roster_pid_close(a, p, 5000), 0);
    NEXT(b, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_DOWN);
    ASSERT_U64_EQ(ev.id, m1);
    ASSERT(roster_pid_equal(ev.pid, p));
    ASSERT_EQ(ev.reason, ROSTER_REASON_NORMAL);
    roster_event_free(&ev);

    /* already dead: noproc, at once */
    ASSERT_EQ(roster_monitor(b, p, &m2, 5000), 0);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_DOWN && ev.id == m2 && ev.reason == ROSTER_REASON_NOPROC);
    roster_event_free(&ev);

    /* demonitor: no DOWN for it afterwards */
    roster_pid q;
    ASSERT_EQ(roster_pid_new(a, &q, 5000), 0);
    ASSERT_EQ(roster_monitor(b, q, &m3, 5000), 0);
    ASSERT_EQ(roster_demonitor(b, m3, 5000), 0);
    ASSERT_EQ(roster_pid_close(a, q, 5000), 0);

    /* client killed (connection closed): disconnected */
    ASSERT_EQ(roster_monitor(b, roster_self(d), &m4, 5000), 0);
    pid_t k = fork();
    if (k == 0)
        _exit(0);
    waitpid(k, NULL, 0);
    roster_close(d);
    NEXT(b, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_DOWN);
    ASSERT_U64_EQ(ev.id, m4); /* not m3 */
    ASSERT_EQ(ev.reason, ROSTER_REASON_DISCONNECTED);
    roster_event_free(&ev);
    ASSERT_EQ(roster_next_event(b, &ev), ROSTER_EAGAIN);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* A monitored client process killed with SIGKILL: DOWN with reason disconnected. */
static void test_monitor_killed_process(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *b = test_connect(&n);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t k = fork();
    ASSERT(k >= 0);
    if (k == 0) {
        roster_client *c = test_connect(&n);
        roster_pid self = roster_self(c);
        if (write(p[1], &self, sizeof self) != sizeof self)
            _exit(3);
        pause();
        _exit(0);
    }
    roster_pid victim;
    ASSERT_EQ(read(p[0], &victim, sizeof victim), (long)sizeof victim);
    uint64_t mon;
    ASSERT_EQ(roster_monitor(b, victim, &mon, 5000), 0);
    kill(k, SIGKILL);
    waitpid(k, NULL, 0);
    roster_event ev;
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_DOWN && ev.id == mon);
    ASSERT(roster_pid_equal(ev.pid, victim));
    ASSERT_EQ(ev.reason, ROSTER_REASON_DISCONNECTED);
    roster_event_free(&ev);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* An application that makes blocking calls without taking events: the library's own queue
 * is bounded; past it the subscription's events are replaced by one OVERFLOW event, other
 * subscriptions' events and monitors still arrive, and a resubscription with a snapshot
 * recovers the whole state. */
static void test_library_queue_bound(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *sub = test_connect_with(&n, 8192, 0);
    roster_client *w = test_connect(&n);
    uint64_t sid = 0, mid = 0;
    ASSERT_EQ(roster_subscribe(sub, NULL, "", 0, ROSTER_SUB_ALL, &sid, 5000), 0);
    roster_pid victim;
    ASSERT_EQ(roster_pid_new(w, &victim, 5000), 0);
    ASSERT_EQ(roster_monitor(sub, victim, &mid, 5000), 0);
    enum { N = 1000 };
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "bulk-%04d", i);
        ASSERT_EQ(roster_register_async(w, NULL, name, strlen(name), roster_self(w), "", 0,
                                        NULL), 0);
    }
    ASSERT_EQ(roster_wait_all(w, 5000), 0);
    ASSERT_EQ(roster_pid_close(w, victim, 5000), 0);
    /* Blocking calls read every event into the library without the application taking any;
     * ping until the DOWN of the monitor (sent last) has been read. */
    roster_counts cnt;
    ASSERT_EQ(roster_count(sub, NULL, NULL, &cnt, 5000), 0);
    ASSERT_U64_EQ(cnt.names, N);
    int registered = 0, overflow = 0, down = 0;
    roster_event ev;
    uint64_t deadline = test_now_ms() + 5000;
    while (!down && test_now_ms() < deadline) {
        ASSERT_EQ(roster_ping(sub, 5000), 0);
        while (roster_next_event(sub, &ev) == 0) {
            if (ev.type == ROSTER_EV_REGISTERED) {
                ASSERT_EQ(overflow, 0); /* nothing of the subscription after its OVERFLOW */
                registered++;
            } else if (ev.type == ROSTER_EV_OVERFLOW) {
                ASSERT_U64_EQ(ev.id, sid);
                overflow++;
            } else if (ev.type == ROSTER_EV_DOWN) {
                ASSERT_U64_EQ(ev.id, mid);
                down++;
            }
            roster_event_free(&ev);
        }
    }
    ASSERT_EQ(overflow, 1);
    ASSERT_EQ(down, 1);
    ASSERT(registered > 0 && registered < N);
    /* The library ended the subscription on the node too (no more events streamed for
     * nothing, no slot held): after a round trip the node has no subscription left, and
     * unsubscribing is not needed. */
    ASSERT_EQ(roster_ping(sub, 5000), 0);
    roster_stats st;
    ASSERT_EQ(roster_status(sub, &st, 5000), 0);
    int subs = -1;
    for (size_t i = 0; i < st.n; i++)
        if (strcmp(st.items[i].key, "subscriptions") == 0)
            subs = (int)st.items[i].value;
    roster_stats_free(&st);
    ASSERT_EQ(subs, 0);
    ASSERT_EQ(roster_unsubscribe(sub, sid, 5000), ROSTER_ENOTFOUND);
    /* Resubscribe with a snapshot: the whole state comes back. */
    ASSERT_EQ(roster_subscribe(sub, NULL, "bulk-", 5, ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT,
                               &sid, 5000), 0);
    int snap = 0;
    for (;;) {
        NEXT(sub, &ev);
        int t = ev.type;
        if (t == ROSTER_EV_REGISTERED && ev.snapshot)
            snap++;
        roster_event_free(&ev);
        if (t == ROSTER_EV_SNAPSHOT_END)
            break;
    }
    ASSERT_EQ(snap, N);
    roster_close(w);
    roster_close(sub);
    test_node_stop_ok(&n);
}

/* take_counted takes one queued event and returns the allocations it cost. */
static size_t take_counted(roster_client *c, roster_event *ev)
{
    fault_plan(0, 0); /* count only */
    roster_set_allocator(fault_malloc, fault_realloc, fault_free);
    int r = roster_next_event(c, ev);
    roster_set_allocator(NULL, NULL, NULL);
    ASSERT_EQ(r, 0);
    return (size_t)fault_calls();
}

/* roster_next_event makes at most one allocation per event (name, meta and prev_meta share
 * one block), and every buffer is NUL-terminated; roster_event_free frees the block (valgrind
 * and ASan check the rest). */
static void test_one_allocation_per_event(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    ASSERT_EQ(roster_subscribe(b, NULL, "k", 1, ROSTER_SUB_PREFIX, NULL, 5000), 0);
    reg(a, "key", "v1");
    reg(a, "key", "value-2"); /* UPDATED: name, meta and prev_meta */
    ASSERT_EQ(roster_send(a, roster_self(a), roster_self(b), "payload", 7, ROSTER_SEND_CONFIRM,
                          5000),
              0);
    reg(a, "k0", "");
    ASSERT_EQ(roster_register_async(b, NULL, "key", 3, roster_self(b), "x", 1, NULL), 0);
    ASSERT_EQ(roster_flush(b, 5000), 0);
    ASSERT_EQ(roster_ping(b, 5000), 0); /* everything above is queued in b now */
    roster_event ev;
    ASSERT(take_counted(b, &ev) <= 1);
    ASSERT(ev.type == ROSTER_EV_REGISTERED && name_is(&ev, "key"));
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "v1", 2);
    roster_event_free(&ev);
    ASSERT(ev.name.data == NULL && ev.meta.data == NULL && ev.prev_meta.data == NULL);
    ASSERT(take_counted(b, &ev) <= 1);
    ASSERT(ev.type == ROSTER_EV_UPDATED && name_is(&ev, "key"));
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "value-2", 7);
    ASSERT_MEM_EQ(ev.prev_meta.data, ev.prev_meta.len, "v1", 2);
    ASSERT(ev.name.data[3] == 0 && ev.meta.data[7] == 0 && ev.prev_meta.data[2] == 0);
    roster_event_free(&ev);
    ASSERT(take_counted(b, &ev) <= 1);
    ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "payload", 7);
    ASSERT_EQ(ev.name.len, 0);
    ASSERT(ev.meta.data[7] == 0);
    roster_event_free(&ev);
    ASSERT(take_counted(b, &ev) <= 1);
    ASSERT(ev.type == ROSTER_EV_REGISTERED && name_is(&ev, "k0") && ev.meta.len == 0);
    ASSERT(ev.meta.data != NULL && ev.meta.data[0] == 0);
    roster_event_free(&ev);
    ASSERT(take_counted(b, &ev) <= 1);
    ASSERT_EQ(ev.type, ROSTER_EV_REPLY);
    ASSERT(ev.status < 0 && ev.meta.len > 0);
    roster_event_free(&ev);
    roster_event_free(&ev); /* freeing twice is harmless: the buffers were cleared */
    ASSERT_EQ(roster_next_event(b, &ev), ROSTER_EAGAIN);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_library_queue_bound), T(test_subscribe_snapshot), T(test_snapshot_no_gap_no_dup), T(test_group_events), T(test_fd_asked_late),
          T(test_events_during_blocking_call), T(test_monitor_down),
          T(test_monitor_killed_process), T(test_one_allocation_per_event))
