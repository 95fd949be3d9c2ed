/* test_client_flow.c: flow control through a real node (issue 10 item 3,
 * docs/MESSAGING.md "Flow control"): a receiver spending 5 us on each message, fed 100,000
 * plain sends from another client, gets every one in order (before flow control it lost a
 * third of them at its mailbox bound); a sender stalled on a receiver that never reads
 * gets EAGAIN at timeout 0 and ETIMEDOUT with a timeout, and is released with ENOPROC once
 * that receiver is killed; a dropping sender never waits and its drops are counted; a
 * plain loop of publishes (no recipient count asked) reaches every member. */
#include <stdio.h>
#include <string.h>

#include "node.h"
#include "rclient.h"
#include "slowrx.h"
#include "test.h"

static void test_slow_receiver_gets_everything(void)
{
    struct test_node n;
    /* small bounds (library queue 64 KiB, mailbox 1 MiB): without flow control most of
     * the messages would be dropped. The node's holding is what this test is about, so no
     * direct channel takes the pair off the node (test_client_chan floods a channel). */
    test_node_start(&n, (const char *const[]){"--mailbox-bytes", "1048576", "--no-channels",
                                              NULL});
    struct slowrx rx;
    slowrx_start(&rx, n.sock, 5000, 0);
    roster_client *a = test_connect(&n);
    enum { N = 100000 };
    uint64_t t0 = test_now_ms();
    ASSERT_U64_EQ(slowrx_feed(a, rx.self, N, 64, 0), 0);
    uint64_t got = 0, bad = 0;
    slowrx_wait(&rx, &got, &bad, 120000);
    uint64_t ms = test_now_ms() - t0;
    printf("  %d sends to a 5 us receiver: %llu received, %llu out of order, %llu ms, "
           "held now %llu, ever %llu\n", N, (unsigned long long)got, (unsigned long long)bad,
           (unsigned long long)ms, (unsigned long long)test_stat(a, "messages_held"),
           (unsigned long long)test_stat(a, "messages_held_total"));
    ASSERT_U64_EQ(got, N);
    ASSERT_U64_EQ(bad, 0);
    ASSERT_U64_EQ(test_stat(a, "messages_dropped"), 0);
    ASSERT(test_stat(a, "messages_held_total") > 0); /* the node did hold some back */
    roster_close(a);
    test_node_stop_ok(&n);
}

/* --mailbox-bytes 1 MiB: the mark is 256 KiB, so a receiver that never reads stalls its
 * sender after about 256 KiB + the socket buffers + 1 MiB held + 4 MiB in the library. */
static void test_stalled_sender_released_by_death(void)
{
    struct test_node n;
    test_node_start(&n, (const char *const[]){"--mailbox-bytes", "1048576", NULL});
    struct slowrx rx;
    slowrx_start(&rx, n.sock, 0, 1);
    roster_client *a = test_connect(&n);
    static char m[1024];
    memset(m, 'm', sizeof m);
    uint64_t sent = 0;
    int r = 0;
    while ((r = roster_send(a, roster_self(a), rx.self, m, sizeof m, 0, 0)) == 0) {
        sent++;
        ASSERT(sent < 100000); /* 100 MB: flow control would have stopped it long before */
    }
    ASSERT_EQ(r, ROSTER_EAGAIN);
    printf("  stalled after %llu KiB\n", (unsigned long long)sent);
    ASSERT(sent > 256);
    /* waiting has a deadline, and what timed out was not sent */
    r = roster_send(a, roster_self(a), rx.self, m, sizeof m, ROSTER_SEND_CONFIRM, 200);
    ASSERT_EQ(r, ROSTER_ETIMEDOUT);
    /* the receiver dies: the node drops what it held for it and reads the sender again */
    slowrx_kill(&rx);
    r = roster_send(a, roster_self(a), rx.self, m, sizeof m, ROSTER_SEND_CONFIRM, 30000);
    ASSERT_EQ(r, ROSTER_ENOPROC);
    ASSERT_U64_EQ(test_stat(a, "messages_held"), 0);
    ASSERT_U64_EQ(test_stat(a, "senders_paused"), 0);
    ASSERT(test_stat(a, "messages_dropped") > 0); /* those held for the dead pid */
    roster_close(a);
    test_node_stop_ok(&n);
}

/* A sender that chose dropping is never held for a receiver that never reads: all of its
 * 20,000 sends of 1 KiB go through (a timeout only covers a node slower than the sender),
 * nothing is held, nobody is paused, and the node counts what it dropped. The per-client
 * option does the same. */
static void test_dropping_sender_drops(void)
{
    struct test_node n;
    test_node_start(&n, (const char *const[]){"--mailbox-bytes", "1048576", NULL});
    struct slowrx rx;
    slowrx_start(&rx, n.sock, 0, 1);
    roster_client *a = test_connect(&n), *d = test_connect_opt(&n, 0, 0, 1);
    static char m[1024];
    memset(m, 'm', sizeof m);
    for (int i = 0; i < 20000; i++)
        ASSERT_EQ(roster_send(a, roster_self(a), rx.self, m, sizeof m, ROSTER_SEND_DROP,
                              30000),
                  0);
    ASSERT_EQ(roster_flush(a, 30000), 0);
    for (int i = 0; i < 20000; i++)
        ASSERT_EQ(roster_send(d, roster_self(d), rx.self, m, sizeof m, 0, 30000), 0);
    ASSERT_EQ(roster_flush(d, 30000), 0);
    uint64_t dropped = test_stat(a, "messages_dropped");
    printf("  dropped %llu of 40000\n", (unsigned long long)dropped);
    ASSERT(dropped > 30000); /* 1 MiB of mailbox takes ~1,000 of them, the socket a few */
    ASSERT_U64_EQ(test_stat(a, "messages_held"), 0);
    ASSERT_U64_EQ(test_stat(a, "senders_paused"), 0);
    /* a confirmed dropping send says so */
    ASSERT_EQ(roster_send(a, roster_self(a), rx.self, m, sizeof m,
                          ROSTER_SEND_CONFIRM | ROSTER_SEND_DROP, 5000),
              ROSTER_EAGAIN);
    slowrx_kill(&rx);
    roster_close(a);
    roster_close(d);
    test_node_stop_ok(&n);
}

/* A plain loop of publishes (recipients NULL: pipelined, no round trip each) to 10 members
 * in 10 clients reaches every member with every message. */
static void test_publish_loop_pipelined(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *m[10];
    for (int i = 0; i < 10; i++) {
        m[i] = test_connect(&n);
        ASSERT_EQ(roster_join(m[i], NULL, "room", 4, roster_self(m[i]), "", 0, 5000), 0);
    }
    enum { N = 20000 };
    for (uint64_t i = 0; i < N; i++)
        ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, &i, 8, 0, NULL, 5000), 0);
    /* the recipient count, when asked, still comes (after everything before it) */
    size_t k = 0;
    uint64_t end = SLOWRX_END;
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, &end, 8, 0, &k, 30000), 0);
    ASSERT_EQ(k, 10);
    for (int j = 0; j < 10; j++) {
        uint64_t next = 0;
        for (;;) {
            roster_event ev;
            ASSERT_EQ(roster_wait_event(m[j], &ev, 30000), 0);
            ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
            uint64_t seq;
            ASSERT_EQ(ev.meta.len, 8);
            memcpy(&seq, ev.meta.data, 8);
            roster_event_free(&ev);
            if (seq == SLOWRX_END)
                break;
            ASSERT_U64_EQ(seq, next);
            next++;
        }
        ASSERT_U64_EQ(next, N);
        roster_close(m[j]);
    }
    ASSERT_U64_EQ(test_stat(a, "messages_dropped"), 0);
    roster_close(a);
    test_node_stop_ok(&n);
}

/* Pipelined messages are the caller's sends: roster_close right after a plain loop of
 * publishes and sends still delivers every one (it writes the queue before closing). */
static void test_close_delivers_queued(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *m = test_connect(&n);
    ASSERT_EQ(roster_join(m, NULL, "room", 4, roster_self(m), "", 0, 5000), 0);
    enum { N = 50000 };
    static char pad[200];
    for (uint64_t i = 0; i < N; i++) {
        memcpy(pad, &i, 8);
        if (i % 2)
            ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "room", 4, pad, sizeof pad, 0,
                                     NULL, 5000),
                      0);
        else
            ASSERT_EQ(roster_send(a, roster_self(a), roster_self(m), pad, sizeof pad,
                                  ROSTER_SEND_NOFLUSH, 5000),
                      0);
    }
    roster_close(a);
    for (uint64_t i = 0; i < N; i++) {
        roster_event ev;
        ASSERT_EQ(roster_wait_event(m, &ev, 30000), 0);
        ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
        uint64_t seq;
        memcpy(&seq, ev.meta.data, 8);
        ASSERT_U64_EQ(seq, i);
        roster_event_free(&ev);
    }
    roster_close(m);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_close_delivers_queued), T(test_slow_receiver_gets_everything), T(test_stalled_sender_released_by_death),
          T(test_dropping_sender_drops), T(test_publish_loop_pipelined))
