/* test_client_msg.c: libroster messaging against a real rosterd: send by pid and by name,
 * the order of 10,000 pipelined messages, confirmation errors, the payload limit, publish
 * recipients, 10,000 pipelined publishes that do not wait (ROSTER_PUBLISH_NOWAIT), call and
 * reply (timeouts whose late reply never reaches a later call, a target that dies),
 * multi-call with a member that answers and one that never does, message events through
 * roster_fd and poll, and the library's queue bound on messages. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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


static void test_send_by_pid_and_name(void)
{
    struct test_node n;
    test_node_start(&n, (const char *const[]){"--name", "n1", NULL});
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid pa = roster_self(a), pb = roster_self(b);
    ASSERT_EQ(roster_send(a, pa, pb, "hello", 5, 0, 5000), 0);
    roster_event ev;
    NEXT(b, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
    ASSERT_EQ(ev.msg_kind, ROSTER_MSG_SEND);
    ASSERT(roster_pid_equal(ev.pid, pa));
    ASSERT(roster_pid_equal(ev.to, pb));
    ASSERT_STR_EQ(ev.node, "n1");
    ASSERT_U64_EQ(ev.call_ref, 0);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "hello", 5);
    ASSERT_EQ(ev.name.len, 0);
    ASSERT_STR_EQ(roster_event_type_name(ev.type), "message");
    roster_event_free(&ev);

    /* to a second pid of b, by name; the zero pid as sender means roster_self */
    roster_pid pb2;
    ASSERT_EQ(roster_pid_new(b, &pb2, 5000), 0);
    ASSERT_EQ(roster_register(b, NULL, "svc", 3, pb2, "", 0, NULL, 5000), 0);
    roster_pid zero = {0, 0};
    ASSERT_EQ(roster_send_name(a, zero, NULL, "svc", 3, "by name", 7, 0, 5000), 0);
    NEXT(b, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
    ASSERT(roster_pid_equal(ev.pid, pa));
    ASSERT(roster_pid_equal(ev.to, pb2));
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "svc", 3);
    ASSERT_STR_EQ(ev.scope, "default");
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "by name", 7);
    roster_event_free(&ev);
    /* an empty message is a message */
    ASSERT_EQ(roster_send(a, pa, pb, NULL, 0, ROSTER_SEND_CONFIRM, 5000), 0);
    NEXT(b, &ev);
    ASSERT(ev.type == ROSTER_EV_MESSAGE && ev.meta.len == 0);
    roster_event_free(&ev);
    /* a sender that is not ours is refused locally */
    roster_pid other = {pa.node_inc + 1, 1};
    ASSERT_EQ(roster_send(a, other, pb, "x", 1, 0, 5000), ROSTER_ENOTOWNER);
    ASSERT_EQ(roster_send(a, pa, zero, "x", 1, 0, 5000), ROSTER_EINVAL);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_order_of_10000(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    enum { N = 10000 };
    for (int i = 0; i < N; i++) {
        char m[32];
        int len = snprintf(m, sizeof m, "m%d", i);
        ASSERT_EQ(roster_send(a, roster_self(a), roster_self(b), m, (size_t)len,
                              ROSTER_SEND_NOFLUSH, 5000),
                  0);
    }
    ASSERT_EQ(roster_flush(a, 5000), 0);
    for (int i = 0; i < N; i++) {
        roster_event ev;
        NEXT(b, &ev);
        char m[32];
        int len = snprintf(m, sizeof m, "m%d", i);
        ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
        ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, m, (size_t)len);
        roster_event_free(&ev);
    }
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_confirm_errors(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid dead;
    ASSERT_EQ(roster_pid_new(b, &dead, 5000), 0);
    ASSERT_EQ(roster_pid_close(b, dead, 5000), 0);
    ASSERT_EQ(roster_send(a, roster_self(a), dead, "x", 1, ROSTER_SEND_CONFIRM, 5000),
              ROSTER_ENOPROC);
    ASSERT(strlen(roster_errdetail(a)) > 0);
    ASSERT_EQ(roster_send_name(a, roster_self(a), NULL, "nobody", 6, "x", 1,
                               ROSTER_SEND_CONFIRM, 5000),
              ROSTER_ENOTFOUND);
    /* without confirmation the same sends succeed (nothing is said to the sender) */
    ASSERT_EQ(roster_send(a, roster_self(a), dead, "x", 1, 0, 5000), 0);
    ASSERT_EQ(roster_send_name(a, roster_self(a), NULL, "nobody", 6, "x", 1, 0, 5000), 0);
    ASSERT_EQ(roster_send(a, roster_self(a), roster_self(b), "ok", 2, ROSTER_SEND_CONFIRM,
                          5000),
              0);
    roster_event ev;
    NEXT(b, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "ok", 2);
    roster_event_free(&ev);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_too_big(void)
{
    struct test_node n;
    test_node_start(&n, (const char *const[]){"--max-message-bytes", "1000", NULL});
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    static char big[2 * 1024 * 1024];
    memset(big, 'x', sizeof big);
    roster_pid pb = roster_self(b);
    ASSERT_EQ(roster_send(a, roster_self(a), pb, big, 1000, 0, 5000), 0);
    /* refused locally, with or without confirmation: nothing reaches the node */
    ASSERT_EQ(roster_send(a, roster_self(a), pb, big, 1001, 0, 5000), ROSTER_ETOOBIG);
    ASSERT_EQ(roster_send(a, roster_self(a), pb, big, 1001, ROSTER_SEND_CONFIRM, 5000),
              ROSTER_ETOOBIG);
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "g", 1, big, 1001, 0, NULL, 5000),
              ROSTER_ETOOBIG);
    roster_buf reply;
    ASSERT_EQ(roster_call(a, roster_self(a), pb, big, 1001, &reply, NULL, 5000),
              ROSTER_ETOOBIG);
    ASSERT_EQ(test_stat(a, "messages_dropped"), 0);
    roster_event ev;
    NEXT(b, &ev);
    ASSERT_EQ(ev.meta.len, 1000);
    roster_event_free(&ev);
    ASSERT_EQ(roster_wait_event(b, &ev, 200), ROSTER_ETIMEDOUT);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);

    /* default limits: a payload past the frame limit is refused locally too */
    test_node_start(&n, NULL);
    a = test_connect(&n);
    ASSERT_EQ(roster_send(a, roster_self(a), roster_self(a), big, sizeof big, 0, 5000),
              ROSTER_ETOOBIG);
    ASSERT_EQ(roster_send(a, roster_self(a), roster_self(a), big, 1000, 0, 5000), 0);
    NEXT(a, &ev);
    ASSERT(ev.type == ROSTER_EV_MESSAGE && ev.meta.len == 1000);
    roster_event_free(&ev);
    roster_close(a);
    test_node_stop_ok(&n);
}

static void test_publish_counts(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n), *c = test_connect(&n);
    size_t k = 99;
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, "x", 1, 0, &k, 5000), 0);
    ASSERT_EQ(k, 0);
    ASSERT_EQ(roster_join(b, NULL, "room", 4, roster_self(b), "", 0, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "room", 4, roster_self(c), "", 0, 5000), 0);
    roster_pid c2;
    ASSERT_EQ(roster_pid_new(c, &c2, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "room", 4, c2, "", 0, 5000), 0);
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, "hi", 2, 0, &k, 5000), 0);
    ASSERT_EQ(k, 3);
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, "lo", 2, ROSTER_PUBLISH_LOCAL,
                             &k, 5000),
              0);
    ASSERT_EQ(k, 3);
    roster_event ev;
    NEXT(b, &ev);
    ASSERT_EQ(ev.msg_kind, ROSTER_MSG_PUBLISH);
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "room", 4);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "hi", 2);
    ASSERT(roster_pid_equal(ev.pid, roster_self(a)));
    roster_event_free(&ev);
    int to_self = 0, to_c2 = 0;
    for (int i = 0; i < 4; i++) { /* two publishes, two pids of c */
        NEXT(c, &ev);
        ASSERT_EQ(ev.msg_kind, ROSTER_MSG_PUBLISH);
        to_self += roster_pid_equal(ev.to, roster_self(c));
        to_c2 += roster_pid_equal(ev.to, c2);
        roster_event_free(&ev);
    }
    ASSERT(to_self == 2 && to_c2 == 2);
    roster_close(a);
    roster_close(b);
    roster_close(c);
    test_node_stop_ok(&n);
}

/* A publish reaching three pids of one client arrives as one frame: by default the library
 * hands out one event per pid (each with n_to 1, to_all[0] == to), ordered with the sends
 * around it; with options.group_messages it is one event naming the three. */
static void test_publish_to_many_pids_of_one_client(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *c = test_connect(&n);
    roster_client *g = test_connect_with(&n, 0, 1);
    roster_pid cp[3], gp[3];
    cp[0] = roster_self(c);
    gp[0] = roster_self(g);
    for (int i = 1; i < 3; i++) {
        ASSERT_EQ(roster_pid_new(c, &cp[i], 5000), 0);
        ASSERT_EQ(roster_pid_new(g, &gp[i], 5000), 0);
    }
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(roster_join(c, NULL, "many", 4, cp[i], "", 0, 5000), 0);
        ASSERT_EQ(roster_join(g, NULL, "many", 4, gp[i], "", 0, 5000), 0);
    }
    roster_pid self = roster_self(a);
    size_t k = 0;
    ASSERT_EQ(roster_send(a, self, cp[1], "before", 6, 0, 5000), 0);
    ASSERT_EQ(roster_publish(a, self, NULL, "many", 4, "all", 3, 0, &k, 5000), 0);
    ASSERT_EQ(k, 6);
    ASSERT_EQ(roster_send(a, self, cp[1], "after", 5, 0, 5000), 0);
    ASSERT_EQ(roster_send(a, self, gp[2], "after", 5, ROSTER_SEND_CONFIRM, 5000), 0);
    roster_event ev;
    /* default: before, three publish events (each pid once), after */
    NEXT(c, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "before", 6);
    ASSERT_EQ(ev.n_to, 1);
    roster_event_free(&ev);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        NEXT(c, &ev);
        ASSERT_EQ(ev.msg_kind, ROSTER_MSG_PUBLISH);
        ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "all", 3);
        ASSERT_EQ(ev.n_to, 1);
        ASSERT(ev.to_all != NULL && roster_pid_equal(ev.to_all[0], ev.to));
        for (int j = 0; j < 3; j++)
            seen[j] += roster_pid_equal(ev.to, cp[j]);
        roster_event_free(&ev);
    }
    ASSERT(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    NEXT(c, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "after", 5);
    roster_event_free(&ev);
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_EAGAIN);
    /* grouped: one event for the three, then the send */
    NEXT(g, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "all", 3);
    ASSERT_EQ(ev.n_to, 3);
    ASSERT(roster_pid_equal(ev.to_all[0], ev.to));
    int gseen[3] = {0, 0, 0};
    for (size_t i = 0; i < ev.n_to; i++)
        for (int j = 0; j < 3; j++)
            gseen[j] += roster_pid_equal(ev.to_all[i], gp[j]);
    ASSERT(gseen[0] == 1 && gseen[1] == 1 && gseen[2] == 1);
    roster_event_free(&ev);
    NEXT(g, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "after", 5);
    ASSERT_EQ(ev.n_to, 1);
    ASSERT(roster_pid_equal(ev.to, gp[2]));
    roster_event_free(&ev);
    ASSERT_EQ(roster_next_event(g, &ev), ROSTER_EAGAIN);
    roster_close(a);
    roster_close(c);
    roster_close(g);
    test_node_stop_ok(&n);
}

/* The library decodes a MESSAGE naming several pids once and hands out its pids one by one;
 * events read in the middle (by a blocking call, which grows and moves the queue) must not
 * disturb the rest of that MESSAGE nor their own order. */
static void test_split_message_survives_queue_growth(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *c = test_connect(&n);
    roster_pid cp[3];
    cp[0] = roster_self(c);
    for (int i = 1; i < 3; i++)
        ASSERT_EQ(roster_pid_new(c, &cp[i], 5000), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(roster_join(c, NULL, "grow", 4, cp[i], "", 0, 5000), 0);
    roster_pid self = roster_self(a);
    size_t k = 0;
    ASSERT_EQ(roster_publish(a, self, NULL, "grow", 4, "first", 5, 0, &k, 5000), 0);
    ASSERT_EQ(k, 3);
    roster_event ev;
    NEXT(c, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "first", 5);
    roster_pid got[3];
    got[0] = ev.to;
    roster_event_free(&ev);
    /* 4 MiB of messages behind it, read into the queue by a blocking call of c */
    enum { BIG = 4096, COUNT = 1024 };
    static char big[BIG];
    for (int i = 0; i < COUNT; i++) {
        memset(big, 'a' + i % 26, sizeof big);
        ASSERT_EQ(roster_send(a, self, cp[2], big, sizeof big, ROSTER_SEND_NOFLUSH, 5000), 0);
    }
    ASSERT_EQ(roster_send(a, self, cp[2], "end", 3, ROSTER_SEND_CONFIRM, 5000), 0);
    ASSERT_EQ(roster_ping(c, 5000), 0);
    for (int i = 1; i < 3; i++) {
        NEXT(c, &ev);
        ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "first", 5);
        ASSERT_EQ(ev.msg_kind, ROSTER_MSG_PUBLISH);
        got[i] = ev.to;
        roster_event_free(&ev);
    }
    for (int j = 0; j < 3; j++) {
        int hits = 0;
        for (int i = 0; i < 3; i++)
            hits += roster_pid_equal(got[i], cp[j]);
        ASSERT_EQ(hits, 1);
    }
    for (int i = 0; i < COUNT; i++) {
        NEXT(c, &ev);
        ASSERT_EQ(ev.meta.len, BIG);
        ASSERT_EQ(ev.meta.data[0], 'a' + i % 26);
        ASSERT_EQ(ev.meta.data[BIG - 1], 'a' + i % 26);
        roster_event_free(&ev);
    }
    NEXT(c, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "end", 3);
    roster_event_free(&ev);
    roster_close(a);
    roster_close(c);
    test_node_stop_ok(&n);
}

/* A frame naming many pids can be larger than a small event_queue_bytes: an empty library
 * queue still takes it (whole), so such a publish is never refused outright; behind it, the
 * bound applies again and drops are counted per pid (found by review). */
static void test_small_queue_takes_one_big_frame(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    /* a client that chose dropping (flow control would keep the second frame) */
    roster_client *a = test_connect(&n), *c = test_connect_opt(&n, 1024, 0, 1);
    enum { PIDS = 300 };
    roster_pid p = roster_self(c);
    ASSERT_EQ(roster_join(c, NULL, "wide", 4, p, "", 0, 5000), 0);
    for (int i = 1; i < PIDS; i++) {
        ASSERT_EQ(roster_pid_new(c, &p, 5000), 0);
        ASSERT_EQ(roster_join(c, NULL, "wide", 4, p, "", 0, 5000), 0);
    }
    size_t k = 0;
    roster_pid self = roster_self(a);
    ASSERT_EQ(roster_publish(a, self, NULL, "wide", 4, "one", 3, 0, &k, 5000), 0);
    ASSERT_EQ(k, PIDS);
    ASSERT_EQ(roster_publish(a, self, NULL, "wide", 4, "two", 3, 0, &k, 5000), 0);
    ASSERT_EQ(roster_ping(c, 5000), 0); /* both frames read during the call: the second is
                                           over the bound behind the first */
    roster_event ev;
    for (int i = 0; i < PIDS; i++) {
        NEXT(c, &ev);
        ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
        ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "one", 3);
        roster_event_free(&ev);
    }
    NEXT(c, &ev);
    ASSERT_EQ(ev.type, ROSTER_EV_OVERFLOW);
    ASSERT_U64_EQ(ev.id, 0);
    ASSERT_U64_EQ(ev.dropped, PIDS);
    roster_event_free(&ev);
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_EAGAIN);
    roster_close(a);
    roster_close(c);
    test_node_stop_ok(&n);
}

/* ROSTER_PUBLISH_NOWAIT: 10,000 pipelined publishes (queued with NOFLUSH, then flushed)
 * reach every member, each in order; *recipients is left at 0; NOFLUSH needs NOWAIT; a
 * blocking publish afterwards still gets its count (no stray answer is waiting). */
static void test_publish_nowait_pipelined(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n), *c = test_connect(&n);
    ASSERT_EQ(roster_join(b, NULL, "room", 4, roster_self(b), "", 0, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "room", 4, roster_self(c), "", 0, 5000), 0);
    size_t k = 99;
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, "x", 1, ROSTER_SEND_NOFLUSH,
                             &k, 5000),
              ROSTER_EINVAL);
    enum { N = 10000 };
    for (int i = 0; i < N; i++) {
        char m[32];
        int len = snprintf(m, sizeof m, "p%d", i);
        k = 99;
        unsigned fl = ROSTER_PUBLISH_NOWAIT | (i % 2 ? ROSTER_SEND_NOFLUSH : 0u);
        ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, m, (size_t)len, fl, &k,
                                 5000),
                  0);
        ASSERT_EQ(k, 0);
    }
    ASSERT_EQ(roster_flush(a, 5000), 0);
    roster_client *members[2] = {b, c};
    for (int w = 0; w < 2; w++) {
        for (int i = 0; i < N; i++) {
            roster_event ev;
            NEXT(members[w], &ev);
            char m[32];
            int len = snprintf(m, sizeof m, "p%d", i);
            ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
            ASSERT_EQ(ev.msg_kind, ROSTER_MSG_PUBLISH);
            ASSERT(roster_pid_equal(ev.pid, roster_self(a)));
            ASSERT_MEM_EQ(ev.name.data, ev.name.len, "room", 4);
            ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, m, (size_t)len);
            roster_event_free(&ev);
        }
    }
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, "end", 3, 0, &k, 5000), 0);
    ASSERT_EQ(k, 2);
    roster_event ev;
    ASSERT_EQ(roster_next_event(a, &ev), ROSTER_EAGAIN);
    roster_close(a);
    roster_close(b);
    roster_close(c);
    test_node_stop_ok(&n);
}

/* serve runs a server in a child process: pid `name` answers calls with "re:" + data;
 * "slow" is answered after 400 ms, "never" not at all, "die" makes the child exit. It joins
 * group too, if not NULL. */
static pid_t serve(const struct test_node *n, const char *name, const char *group)
{
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid > 0)
        return pid;
    roster_client *c = test_connect(n);
    if (group)
        ASSERT_EQ(roster_join(c, NULL, group, strlen(group), roster_self(c), "", 0, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, name, strlen(name), roster_self(c), "", 0, NULL, 5000),
              0);
    for (;;) {
        roster_event ev;
        int r = roster_wait_event(c, &ev, ROSTER_FOREVER);
        if (r)
            _exit(0);
        if (ev.type != ROSTER_EV_MESSAGE || ev.call_ref == 0) {
            roster_event_free(&ev);
            continue;
        }
        if (ev.meta.len == 3 && memcmp(ev.meta.data, "die", 3) == 0)
            _exit(0);
        if (ev.meta.len == 5 && memcmp(ev.meta.data, "never", 5) == 0) {
            roster_event_free(&ev);
            continue;
        }
        if (ev.meta.len == 4 && memcmp(ev.meta.data, "slow", 4) == 0)
            poll(NULL, 0, 400);
        char out[256];
        int len = snprintf(out, sizeof out, "re:%.*s", (int)ev.meta.len, (char *)ev.meta.data);
        ASSERT_EQ(roster_reply(c, &ev, out, (size_t)len, 5000), 0);
        roster_event_free(&ev);
    }
}

/* wait_name waits until name is registered; returns its pid. */
static roster_pid wait_name(roster_client *c, const char *name)
{
    uint64_t deadline = test_now_ms() + 5000;
    for (;;) {
        roster_entry e;
        if (roster_lookup(c, NULL, name, strlen(name), &e, 5000) == 0) {
            roster_pid p = e.pid;
            roster_entry_free(&e);
            return p;
        }
        ASSERT(test_now_ms() < deadline);
        poll(NULL, 0, 10);
    }
}

static void test_call_and_reply(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    pid_t kid = serve(&n, "echo", NULL);
    roster_client *a = test_connect(&n);
    roster_pid srv = wait_name(a, "echo");
    roster_buf reply;
    roster_pid who;
    ASSERT_EQ(roster_call(a, roster_self(a), srv, "ping", 4, &reply, &who, 5000), 0);
    ASSERT_MEM_EQ(reply.data, reply.len, "re:ping", 7);
    ASSERT(roster_pid_equal(who, srv));
    roster_buf_free(&reply);
    ASSERT_EQ(roster_call_name(a, roster_self(a), NULL, "echo", 4, "n", 1, &reply, &who, 5000),
              0);
    ASSERT_MEM_EQ(reply.data, reply.len, "re:n", 4);
    roster_buf_free(&reply);
    ASSERT_EQ(roster_call_name(a, roster_self(a), NULL, "nobody", 6, "n", 1, &reply, &who,
                               5000),
              ROSTER_ENOTFOUND);
    ASSERT(reply.data == NULL);
    /* a timed-out call: its late reply is dropped, never given to the next call */
    uint64_t t0 = test_now_ms();
    ASSERT_EQ(roster_call(a, roster_self(a), srv, "slow", 4, &reply, NULL, 100),
              ROSTER_ETIMEDOUT);
    ASSERT(test_now_ms() - t0 < 2000);
    ASSERT_EQ(roster_call(a, roster_self(a), srv, "next", 4, &reply, NULL, 5000), 0);
    ASSERT_MEM_EQ(reply.data, reply.len, "re:next", 7);
    roster_buf_free(&reply);
    /* nothing of it is left as an event either */
    roster_event ev;
    ASSERT_EQ(roster_wait_event(a, &ev, 300), ROSTER_ETIMEDOUT);
    /* replying to something that is not a call */
    ASSERT_EQ(roster_reply(a, &ev, "x", 1, 5000), ROSTER_EINVAL);
    /* a dead pid: ENOPROC at once; a target that dies while called: ENOPROC */
    roster_pid dead;
    ASSERT_EQ(roster_pid_new(a, &dead, 5000), 0);
    ASSERT_EQ(roster_pid_close(a, dead, 5000), 0);
    ASSERT_EQ(roster_call(a, roster_self(a), dead, "x", 1, &reply, NULL, 5000), ROSTER_ENOPROC);
    t0 = test_now_ms();
    ASSERT_EQ(roster_call(a, roster_self(a), srv, "die", 3, &reply, NULL, 5000),
              ROSTER_ENOPROC);
    ASSERT(test_now_ms() - t0 < 3000);
    waitpid(kid, NULL, 0);
    roster_close(a);
    test_node_stop_ok(&n);
}

static void test_multi_call(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    pid_t kid = serve(&n, "m1", "workers");
    roster_client *a = test_connect(&n), *mute = test_connect(&n);
    roster_pid m1 = wait_name(a, "m1");
    /* a member that never answers: its client does not even read */
    ASSERT_EQ(roster_join(mute, NULL, "workers", 7, roster_self(mute), "", 0, 5000), 0);
    roster_multi_result res;
    uint64_t t0 = test_now_ms();
    ASSERT_EQ(roster_multi_call(a, roster_self(a), NULL, "workers", 7, "q", 1, 0, &res, 300),
              0);
    ASSERT(test_now_ms() - t0 >= 250);
    ASSERT_EQ(res.n_replies, 1);
    ASSERT(roster_pid_equal(res.replies[0].pid, m1));
    ASSERT_MEM_EQ(res.replies[0].data.data, res.replies[0].data.len, "re:q", 4);
    ASSERT_EQ(res.n_bad, 1);
    ASSERT(roster_pid_equal(res.bad[0], roster_self(mute)));
    roster_multi_result_free(&res);
    roster_multi_result_free(&res); /* freeing twice is harmless */
    /* an empty group: nothing to wait for */
    ASSERT_EQ(roster_multi_call(a, roster_self(a), NULL, "none", 4, "q", 1, 0, &res, 5000), 0);
    ASSERT(res.n_replies == 0 && res.n_bad == 0);
    roster_multi_result_free(&res);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    roster_close(a);
    roster_close(mute);
    test_node_stop_ok(&n);
}

static void test_events_through_fd(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_event ev;
    ASSERT_EQ(roster_next_event(b, &ev), ROSTER_EAGAIN);
    struct pollfd p = {roster_fd(b), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 100), 0);
    ASSERT_EQ(roster_send(a, roster_self(a), roster_self(b), "fd", 2, 0, 5000), 0);
    ASSERT_EQ(poll(&p, 1, 5000), 1);
    ASSERT_EQ(roster_next_event(b, &ev), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "fd", 2);
    roster_event_free(&ev);
    ASSERT_EQ(roster_next_event(b, &ev), ROSTER_EAGAIN);
    /* messages read during a blocking call are queued; the fd stays readable */
    ASSERT_EQ(roster_send(a, roster_self(a), roster_self(b), "q1", 2, ROSTER_SEND_CONFIRM, 5000),
              0);
    ASSERT_EQ(roster_ping(b, 5000), 0);
    ASSERT_EQ(poll(&p, 1, 0), 1);
    ASSERT_EQ(roster_next_event(b, &ev), 0);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "q1", 2);
    roster_event_free(&ev);
    ASSERT_EQ(roster_next_event(b, &ev), ROSTER_EAGAIN);
    ASSERT_EQ(poll(&p, 1, 0), 0);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

static void test_queue_bound_counts_drops(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    /* a receiver that chose dropping at its library's bound */
    roster_client *a = test_connect(&n), *b = test_connect_opt(&n, 4096, 0, 1);
    static char m[200];
    memset(m, 'm', sizeof m);
    enum { N = 100 };
    for (int i = 0; i < N; i++)
        ASSERT_EQ(roster_send(a, roster_self(a), roster_self(b), m, sizeof m,
                              ROSTER_SEND_NOFLUSH, 5000),
                  0);
    ASSERT_EQ(roster_send(a, roster_self(a), roster_self(a), "end", 3, ROSTER_SEND_CONFIRM,
                          5000),
              0);
    /* b reads everything during a blocking call without taking events */
    ASSERT_EQ(roster_ping(b, 5000), 0);
    roster_event ev;
    uint64_t got = 0, dropped = 0, overflows = 0;
    while (roster_next_event(b, &ev) == 0) {
        if (ev.type == ROSTER_EV_MESSAGE) {
            got++;
        } else {
            ASSERT_EQ(ev.type, ROSTER_EV_OVERFLOW);
            ASSERT_U64_EQ(ev.id, 0);
            dropped += ev.dropped;
            overflows++;
        }
        roster_event_free(&ev);
    }
    ASSERT(got > 0 && got < N);
    ASSERT_EQ(overflows, 1);
    ASSERT_U64_EQ(got + dropped, N);
    /* once there is room again, messages are queued again */
    ASSERT_EQ(roster_send(a, roster_self(a), roster_self(b), "again", 5, ROSTER_SEND_CONFIRM,
                          5000),
              0);
    NEXT(b, &ev);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "again", 5);
    roster_event_free(&ev);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_send_by_pid_and_name), T(test_publish_to_many_pids_of_one_client),
          T(test_split_message_survives_queue_growth),
          T(test_small_queue_takes_one_big_frame), T(test_order_of_10000), T(test_confirm_errors),
          T(test_too_big), T(test_publish_counts), T(test_publish_nowait_pipelined),
          T(test_call_and_reply), T(test_multi_call),
          T(test_events_through_fd), T(test_queue_bound_counts_drops))
