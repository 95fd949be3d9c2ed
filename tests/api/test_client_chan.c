/* test_client_chan.c: direct channels between two clients of one node (docs/MESSAGING.md,
 * "Direct channels"), against a real rosterd: order per pair across the switch to a
 * channel (100,000 messages, a receiver that reads and one that reads only at the end),
 * across closes and reopens (--max-channels 1 with two peers), with messages by name and
 * publishes through the node mixed in; a flooding sender slowed with nothing lost; calls,
 * deadlines and late replies over a channel; a receiver killed mid-stream; the cap per
 * client; opting out. The same file runs as nochan_test_client_chan with
 * ROSTER_NO_CHANNELS=1: every guarantee must hold relayed too, and no channel appears. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/client.h"
#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "slowrx.h"
#include "test.h"

static int chans_on(void)
{
    const char *e = getenv("ROSTER_NO_CHANNELS");
    return !(e && *e && strcmp(e, "0") != 0);
}

static roster_channel_info info(roster_client *c)
{
    roster_channel_info st;
    ASSERT_EQ(roster_channel_stats(c, &st), 0);
    return st;
}

/* expect_seq takes the next message of c and checks it carries seq from `from`. */
static void expect_seq(roster_client *c, roster_pid from, uint64_t seq, int line)
{
    roster_event ev;
    int r = roster_wait_event(c, &ev, 20000);
    if (r)
        test_fail(__FILE__, line, "wait_event for message %llu: %s (%s)",
                  (unsigned long long)seq, roster_strerror(r), roster_errdetail(c));
    if (ev.type != ROSTER_EV_MESSAGE)
        test_fail(__FILE__, line, "event %s where message %llu was due",
                  roster_event_type_name(ev.type), (unsigned long long)seq);
    uint64_t got = UINT64_MAX;
    if (ev.meta.len >= 8)
        memcpy(&got, ev.meta.data, 8);
    if (got != seq || !roster_pid_equal(ev.pid, from))
        test_fail(__FILE__, line, "message %llu where %llu was due",
                  (unsigned long long)got, (unsigned long long)seq);
    roster_event_free(&ev);
}
#define EXPECT_SEQ(c, from, seq) expect_seq((c), (from), (seq), __LINE__)

static int send_seq(roster_client *c, roster_pid to, uint64_t seq, unsigned flags)
{
    char buf[64];
    memset(buf, 's', sizeof buf);
    memcpy(buf, &seq, 8);
    return roster_send(c, roster_self(c), to, buf, sizeof buf, flags, 20000);
}

/* 100,000 messages from a plain loop to a receiver that reads as they come (2 us of work
 * each: the sender is faster and gets slowed), all received in order, none lost, most of
 * them on the channel. */
static void test_order_100000_reading_receiver(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    struct slowrx rx;
    slowrx_start(&rx, n.sock, 2000, 0);
    roster_client *a = test_connect(&n);
    enum { N = 100000 };
    ASSERT_U64_EQ(slowrx_feed(a, rx.self, N, 64, 0), 0);
    uint64_t got = 0, bad = 0;
    slowrx_wait(&rx, &got, &bad, 120000);
    roster_channel_info st = info(a);
    printf("  %d messages: %llu received, %llu out of order; on the channel %llu, through "
           "the node instead %llu\n", N, (unsigned long long)got, (unsigned long long)bad,
           (unsigned long long)st.sent, (unsigned long long)st.via_node);
    ASSERT_U64_EQ(got, N);
    ASSERT_U64_EQ(bad, 0);
    ASSERT_U64_EQ(test_stat(a, "messages_dropped"), 0);
    if (chans_on()) {
        ASSERT_U64_EQ(st.opened, 1);
        ASSERT(st.sent > N / 10); /* the node was off the path for many of them */
    } else {
        ASSERT_U64_EQ(st.opened, 0);
        ASSERT_U64_EQ(st.sent, 0);
    }
    roster_close(a);
    test_node_stop_ok(&n);
}

/* 100,000 messages to a receiver that reads only at the end: the channel fills, the sender
 * turns to the node (its mailbox and flow control), and back; order holds across every
 * turn. Every 100th message is a batch boundary (ROSTER_SEND_NOFLUSH otherwise). */
static void test_order_100000_across_turns(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    enum { N = 100000 };
    roster_pid pb = roster_self(b);
    for (uint64_t i = 0; i < N; i++)
        ASSERT_EQ(send_seq(a, pb, i, i % 100 == 99 ? 0 : ROSTER_SEND_NOFLUSH), 0);
    ASSERT_EQ(roster_flush(a, 20000), 0);
    for (uint64_t i = 0; i < N; i++)
        EXPECT_SEQ(b, roster_self(a), i);
    roster_channel_info st = info(a);
    printf("  on the channel %llu, through the node instead %llu\n",
           (unsigned long long)st.sent, (unsigned long long)st.via_node);
    if (chans_on()) {
        ASSERT(st.sent > 0);
        ASSERT(st.via_node > 0); /* b read nothing meanwhile: the channel filled */
        ASSERT(info(b).received > 0);
    }
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* Messages by pid (the channel) mixed with messages by name and publishes (always through
 * the node) from one pid to one pid: one ordered stream at the receiver. */
static void test_mixed_paths_keep_order(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid pa = roster_self(a), pb = roster_self(b);
    ASSERT_EQ(roster_register(b, NULL, "bee", 3, pb, "", 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(b, NULL, "hive", 4, pb, "", 0, 5000), 0);
    ASSERT_EQ(roster_channel_open(a, pb, 5000), chans_on() ? 0 : ROSTER_ENOCHANNEL);
    enum { N = 30000 };
    char buf[64];
    memset(buf, 'x', sizeof buf);
    uint64_t next = 0;
    for (uint64_t i = 0; i < N; i++) {
        memcpy(buf, &i, 8);
        int r;
        switch (i % 7) {
        case 3:
            r = roster_send_name(a, pa, NULL, "bee", 3, buf, sizeof buf, 0, 20000);
            break;
        case 5:
            r = roster_publish(a, pa, NULL, "hive", 4, buf, sizeof buf, 0, NULL, 20000);
            break;
        default:
            r = roster_send(a, pa, pb, buf, sizeof buf, i % 11 ? ROSTER_SEND_NOFLUSH : 0,
                            20000);
        }
        ASSERT_EQ(r, 0);
        if (i % 5000 == 4999) { /* b reads some meanwhile: turns happen both ways */
            ASSERT_EQ(roster_flush(a, 20000), 0);
            while (next < i - 2000)
                EXPECT_SEQ(b, pa, next++);
        }
    }
    roster_close(a); /* with messages still batched: close hands them over */
    while (next < N)
        EXPECT_SEQ(b, pa, next++);
    if (chans_on())
        ASSERT(info(b).received > 0);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* --max-channels 1: a talks to b, then c (b's channel closes: least recently used), then b
 * again (a new channel), ten times; 100,000 messages in all, each pair in order. */
static void test_close_and_reopen_keep_order(void)
{
    struct test_node n;
    test_node_start(&n, (const char *const[]){"--max-channels", "1", NULL});
    roster_client *a = test_connect(&n), *b = test_connect(&n), *c = test_connect(&n);
    roster_pid pa = roster_self(a);
    roster_client *rx[2] = {b, c};
    uint64_t sent[2] = {0, 0}, read[2] = {0, 0};
    enum { ROUNDS = 10, PER = 5000 };
    for (int round = 0; round < ROUNDS; round++) {
        for (int j = 0; j < 2; j++) {
            for (int i = 0; i < PER; i++)
                ASSERT_EQ(send_seq(a, roster_self(rx[j]), sent[j]++,
                                   i % 50 ? ROSTER_SEND_NOFLUSH : 0),
                          0);
            /* the receivers read part of it as it goes: the rest at the end */
            ASSERT_EQ(roster_flush(a, 20000), 0);
            for (int k = 0; k < PER / 2; k++)
                EXPECT_SEQ(rx[j], pa, read[j]++);
        }
    }
    ASSERT_EQ(roster_flush(a, 20000), 0);
    for (int j = 0; j < 2; j++)
        while (read[j] < sent[j])
            EXPECT_SEQ(rx[j], pa, read[j]++);
    uint64_t closed = test_stat(a, "channels_closed"), opened = test_stat(a, "channels_opened");
    printf("  channels opened %llu, closed %llu (a: opened %llu)\n", (unsigned long long)opened,
           (unsigned long long)closed, (unsigned long long)info(a).opened);
    if (chans_on()) {
        ASSERT(opened >= 3);
        ASSERT(closed >= 2);
        ASSERT(test_stat(a, "channels_open") <= 1);
    } else {
        ASSERT_U64_EQ(opened, 0);
    }
    roster_close(a);
    roster_close(b);
    roster_close(c);
    test_node_stop_ok(&n);
}

/* --max-channels 2 and one client talking to four: never more than 2 open for it; every
 * message still arrives, in order. */
static void test_cap_per_client(void)
{
    struct test_node n;
    test_node_start(&n, (const char *const[]){"--max-channels", "2", NULL});
    roster_client *a = test_connect(&n), *p[4];
    for (int j = 0; j < 4; j++)
        p[j] = test_connect(&n);
    roster_pid pa = roster_self(a);
    uint64_t max_open = 0;
    for (int round = 0; round < 3; round++)
        for (int j = 0; j < 4; j++) {
            for (uint64_t i = 0; i < 40; i++)
                ASSERT_EQ(send_seq(a, roster_self(p[j]), (uint64_t)round * 40 + i, 0), 0);
            ASSERT_EQ(roster_flush(a, 20000), 0);
            for (uint64_t i = 0; i < 40; i++)
                EXPECT_SEQ(p[j], pa, (uint64_t)round * 40 + i);
            uint64_t open = test_stat(a, "channels_open");
            if (open > max_open)
                max_open = open;
        }
    printf("  most channels open at once: %llu, closed %llu\n", (unsigned long long)max_open,
           (unsigned long long)test_stat(a, "channels_closed"));
    ASSERT(max_open <= 2);
    if (chans_on()) {
        ASSERT(max_open >= 1);
        ASSERT(test_stat(a, "channels_closed") >= 1);
    }
    roster_close(a);
    for (int j = 0; j < 4; j++)
        roster_close(p[j]);
    test_node_stop_ok(&n);
}

/* A responder thread: answers each call with "re:" + payload; a payload "slow" waits
 * 400 ms first (its caller has given up by then: the late reply must reach nobody). */
struct responder {
    roster_client *c;
    volatile int stop;
    uint64_t answered;
};

static void *respond(void *arg)
{
    struct responder *r = arg;
    while (!r->stop) {
        roster_event ev;
        if (roster_wait_event(r->c, &ev, 100) != 0)
            continue;
        if (ev.type == ROSTER_EV_MESSAGE && ev.call_ref) {
            if (ev.meta.len == 4 && memcmp(ev.meta.data, "slow", 4) == 0)
                usleep(400000);
            char out[80];
            int k = snprintf(out, sizeof out, "re:%.*s", (int)ev.meta.len,
                             (const char *)ev.meta.data);
            roster_reply(r->c, &ev, out, (size_t)k, 5000);
            r->answered++;
        }
        roster_event_free(&ev);
    }
    return NULL;
}

static void test_calls_over_channel(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid pb = roster_self(b);
    ASSERT_EQ(roster_channel_open(a, pb, 5000), chans_on() ? 0 : ROSTER_ENOCHANNEL);
    struct responder rs = {b, 0, 0};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, respond, &rs), 0);
    for (int i = 0; i < 2000; i++) {
        char q[32];
        int k = snprintf(q, sizeof q, "q%d", i);
        roster_buf rep;
        roster_pid who;
        ASSERT_EQ(roster_call(a, roster_self(a), pb, q, (size_t)k, &rep, &who, 5000), 0);
        char want[40];
        int w = snprintf(want, sizeof want, "re:q%d", i);
        ASSERT_MEM_EQ(rep.data, rep.len, want, (size_t)w);
        ASSERT(roster_pid_equal(who, pb));
        roster_buf_free(&rep);
    }
    /* a deadline: the slow answer comes after it, and never to the next call */
    roster_buf rep;
    ASSERT_EQ(roster_call(a, roster_self(a), pb, "slow", 4, &rep, NULL, 100), ROSTER_ETIMEDOUT);
    ASSERT_EQ(roster_call(a, roster_self(a), pb, "next", 4, &rep, NULL, 5000), 0);
    ASSERT_MEM_EQ(rep.data, rep.len, "re:next", 7);
    roster_buf_free(&rep);
    roster_channel_info st = info(a);
    printf("  calls: %llu frames on the channel, %llu read from it\n",
           (unsigned long long)st.sent, (unsigned long long)st.received);
    if (chans_on()) {
        ASSERT(st.sent >= 2000);
        ASSERT(st.received >= 2000); /* the replies came on the channel */
    }
    rs.stop = 1;
    pthread_join(th, NULL);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* A receiver killed in the middle of a stream on a channel: the sender's sends and calls to
 * it then behave as to a dead pid (confirmed: ENOPROC), and its monitor says DOWN. */
static void test_receiver_killed_midstream(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    struct slowrx rx;
    slowrx_start(&rx, n.sock, 20000, 0); /* 20 us a message: it is behind when killed */
    roster_client *a = test_connect(&n);
    uint64_t mon = 0;
    ASSERT_EQ(roster_monitor(a, rx.self, &mon, 5000), 0);
    ASSERT_EQ(roster_channel_open(a, rx.self, 5000), chans_on() ? 0 : ROSTER_ENOCHANNEL);
    for (uint64_t i = 0; i < 20000; i++)
        ASSERT_EQ(send_seq(a, rx.self, i, 0), 0);
    if (chans_on())
        ASSERT(info(a).sent > 0);
    slowrx_kill(&rx);
    /* plain sends go on (to a dead pid: not an error), confirmed ones say ENOPROC */
    uint64_t deadline = test_now_ms() + 20000;
    int r;
    while ((r = send_seq(a, rx.self, 1, ROSTER_SEND_CONFIRM)) == 0 && test_now_ms() < deadline)
        ASSERT_EQ(send_seq(a, rx.self, 2, 0), 0);
    ASSERT_EQ(r, ROSTER_ENOPROC);
    ASSERT_EQ(send_seq(a, rx.self, 3, 0), 0);
    roster_buf rep;
    ASSERT_EQ(roster_call(a, roster_self(a), rx.self, "x", 1, &rep, NULL, 5000), ROSTER_ENOPROC);
    roster_event ev;
    for (;;) {
        ASSERT_EQ(roster_wait_event(a, &ev, 10000), 0);
        int down = ev.type == ROSTER_EV_DOWN;
        if (down)
            ASSERT_U64_EQ(ev.id, mon);
        roster_event_free(&ev);
        if (down)
            break;
    }
    roster_close(a);
    test_node_stop_ok(&n);
}

/* Opting out: options.no_channels (the client), --no-channels (the node); argument checks
 * of roster_channel_open. */
static void test_opt_out(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n.sock;
    o.no_channels = 1;
    roster_client *a = NULL;
    ASSERT_EQ(roster_connect(&a, &o), 0);
    roster_client *b = test_connect(&n);
    for (uint64_t i = 0; i < 1000; i++)
        ASSERT_EQ(send_seq(a, roster_self(b), i, 0), 0);
    ASSERT_EQ(roster_flush(a, 20000), 0); /* a plain send is written as far as it goes */
    for (uint64_t i = 0; i < 1000; i++)
        EXPECT_SEQ(b, roster_self(a), i);
    ASSERT_U64_EQ(info(a).opened, 0);
    ASSERT_U64_EQ(info(b).opened, 0);
    ASSERT_EQ(roster_channel_open(a, roster_self(b), 5000), ROSTER_ENOCHANNEL);
    /* b takes channels, a does not: the node says so */
    ASSERT_EQ(roster_channel_open(b, roster_self(a), 5000), ROSTER_ENOCHANNEL);
    if (chans_on()) {
        ASSERT_EQ(roster_channel_open(b, roster_self(b), 5000), ROSTER_EINVAL);
        roster_pid dead = {roster_self(b).node_inc, 999999};
        ASSERT_EQ(roster_channel_open(b, dead, 5000), ROSTER_ENOPROC);
        roster_pid remote = {roster_self(b).node_inc + 1, 1};
        ASSERT_EQ(roster_channel_open(b, remote, 5000), ROSTER_ENOCHANNEL);
    }
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);

    test_node_start(&n, (const char *const[]){"--no-channels", NULL});
    a = test_connect(&n);
    b = test_connect(&n);
    ASSERT_EQ(roster_channel_open(a, roster_self(b), 5000), ROSTER_ENOCHANNEL);
    for (uint64_t i = 0; i < 100; i++)
        ASSERT_EQ(send_seq(a, roster_self(b), i, 0), 0);
    ASSERT_EQ(roster_flush(a, 20000), 0);
    for (uint64_t i = 0; i < 100; i++)
        EXPECT_SEQ(b, roster_self(a), i);
    ASSERT_U64_EQ(info(a).opened, 0);
    ASSERT_U64_EQ(test_stat(a, "channels_opened"), 0);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* A peer that writes a malformed frame on a channel: the receiver ends that channel with the
 * reason kept (roster_channel_stats), the two go back to the node, and what follows arrives
 * in order. (The bad bytes are written on a's end directly, as a misbehaving client would.) */
static void test_malformed_frame_falls_back(void)
{
    if (!chans_on())
        return;
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n);
    roster_pid pa = roster_self(a), pb = roster_self(b);
    ASSERT_EQ(roster_channel_open(a, pb, 5000), 0);
    for (uint64_t i = 0; i < 10; i++)
        ASSERT_EQ(send_seq(a, pb, i, 0), 0);
    for (uint64_t i = 0; i < 10; i++)
        EXPECT_SEQ(b, pa, i);
    ASSERT(info(a).sent > 0);
    int fd = rs_client_chan_fd_of(a, 0);
    ASSERT(fd >= 0);
    /* a frame of a type no channel carries (a REGISTER request) */
    static const uint8_t bad[] = {12, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ(write(fd, bad, sizeof bad), (ssize_t)sizeof bad);
    uint64_t deadline = test_now_ms() + 20000;
    while (info(b).malformed == 0 && test_now_ms() < deadline) {
        roster_event ev;
        if (roster_wait_event(b, &ev, 50) == 0)
            roster_event_free(&ev);
    }
    roster_channel_info st = info(b);
    printf("  b: %s\n", st.last_error);
    ASSERT_U64_EQ(st.malformed, 1);
    ASSERT(strstr(st.last_error, "malformed") != NULL);
    /* the node closes the channel for both; a's next messages go through the node */
    while (info(a).open > 0 && test_now_ms() < deadline) {
        ASSERT_EQ(roster_ping(a, 5000), 0);
        roster_event ev;
        if (roster_wait_event(b, &ev, 20) == 0)
            roster_event_free(&ev);
    }
    ASSERT_U64_EQ(info(a).open, 0);
    for (uint64_t i = 1000; i < 1100; i++)
        ASSERT_EQ(send_seq(a, pb, i, 0), 0);
    ASSERT_EQ(roster_flush(a, 5000), 0);
    for (uint64_t i = 1000; i < 1100; i++)
        EXPECT_SEQ(b, pa, i);
    roster_close(a);
    roster_close(b);
    test_node_stop_ok(&n);
}

/* write_forged writes on a's channel end, as a misbehaving client could, a well-formed send
 * to `to` that names `from` as its sender. */
static void write_forged(roster_client *a, roster_pid from, roster_pid to, uint64_t seq)
{
    int fd = rs_client_chan_fd_of(a, 0);
    ASSERT(fd >= 0);
    char buf[64];
    memset(buf, 'f', sizeof buf);
    memcpy(buf, &seq, 8);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_MESSAGE;
    rs_msg_message_kind_set(&m, RS_MSGK_SEND);
    rs_msg_message_to_set(&m, to.serial);
    rs_msg_message_from_set(&m, (struct rs_pid){from.node_inc, from.serial});
    rs_msg_message_from_node_set(&m, rs_bytes_of(a->node_name, strlen(a->node_name)));
    rs_msg_message_payload_set(&m, rs_bytes_of(buf, sizeof buf));
    struct rs_buf e;
    rs_buf_init(&e);
    ASSERT_EQ(rs_wire_encode(&e, &m), 0);
    ASSERT_EQ(write(fd, e.data, e.len), (ssize_t)e.len);
    rs_buf_fini(&e);
}

/* The receiving library takes a message on a channel only from a pid the node vouched for
 * behind it: a pid a creates later reaches b (through the node first, then on the channel),
 * but a frame a writes on its end naming c's pid as the sender is refused, the channel
 * ends with the reason kept, and a's later messages come through the node in order. */
static void test_forged_sender_refused(void)
{
    if (!chans_on())
        return;
    struct test_node n;
    test_node_start(&n, NULL);
    roster_client *a = test_connect(&n), *b = test_connect(&n), *c = test_connect(&n);
    roster_pid pa = roster_self(a), pb = roster_self(b), pc = roster_self(c);
    ASSERT_EQ(roster_channel_open(a, pb, 5000), 0);
    for (uint64_t i = 0; i < 10; i++)
        ASSERT_EQ(send_seq(a, pb, i, 0), 0);
    for (uint64_t i = 0; i < 10; i++)
        EXPECT_SEQ(b, pa, i);
    uint64_t sent = info(a).sent;
    ASSERT(sent >= 8); /* the first went through the node, the rest on the channel */
    roster_pid pa2;
    ASSERT_EQ(roster_pid_new(a, &pa2, 5000), 0);
    char buf[64];
    for (uint64_t i = 100; i < 110; i++) {
        memset(buf, 's', sizeof buf);
        memcpy(buf, &i, 8);
        ASSERT_EQ(roster_send(a, pa2, pb, buf, sizeof buf, 0, 5000), 0);
    }
    for (uint64_t i = 100; i < 110; i++)
        EXPECT_SEQ(b, pa2, i);
    ASSERT(info(a).sent >= sent + 8); /* a's new pid took the channel once the node told b */
    ASSERT_U64_EQ(info(b).malformed, 0);

    write_forged(a, pc, pb, 666);
    uint64_t deadline = test_now_ms() + 20000;
    while (info(b).malformed == 0 && test_now_ms() < deadline) {
        roster_event ev;
        if (roster_wait_event(b, &ev, 50) == 0) {
            ASSERT(!roster_pid_equal(ev.pid, pc)); /* the forged message never arrives */
            roster_event_free(&ev);
        }
    }
    roster_channel_info st = info(b);
    printf("  b: %s\n", st.last_error);
    ASSERT_U64_EQ(st.malformed, 1);
    ASSERT(strstr(st.last_error, "forged") != NULL);
    while (info(a).open > 0 && test_now_ms() < deadline) {
        ASSERT_EQ(roster_ping(a, 5000), 0);
        roster_event ev;
        if (roster_wait_event(b, &ev, 20) == 0) {
            ASSERT(!roster_pid_equal(ev.pid, pc));
            roster_event_free(&ev);
        }
    }
    ASSERT_U64_EQ(info(a).open, 0);
    for (uint64_t i = 1000; i < 1100; i++)
        ASSERT_EQ(send_seq(a, pb, i, 0), 0);
    ASSERT_EQ(roster_flush(a, 5000), 0);
    for (uint64_t i = 1000; i < 1100; i++)
        EXPECT_SEQ(b, pa, i);
    roster_close(a);
    roster_close(b);
    roster_close(c);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_forged_sender_refused), T(test_malformed_frame_falls_back), T(test_order_100000_reading_receiver), T(test_order_100000_across_turns),
          T(test_mixed_paths_keep_order), T(test_close_and_reopen_keep_order),
          T(test_cap_per_client), T(test_calls_over_channel),
          T(test_receiver_killed_midstream), T(test_opt_out))
