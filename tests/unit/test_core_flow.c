/* test_core_flow.c: flow control of messages in the core (src/core/flow.c,
 * docs/MESSAGING.md "Flow control"): a receiver above the high-water mark gets its messages
 * later instead of losing them, in order; the sender is paused past its budget and resumed;
 * a confirmed send is answered on delivery or with ENOPROC when the receiver dies; a
 * dropping sender still drops and counts; a publish holds only the slow client's frame. */
#include <stdio.h>
#include <stdlib.h>

#include "core_harness.h"

static void send_msg(struct harness *h, uint64_t conn, struct rs_pid from, struct rs_pid to,
                     const char *payload, uint32_t flags)
{
    struct rs_msg m = {.type = RS_MSG_SEND, .opts = flags, .arg = from.serial, .pid = to,
                       .meta = h_str(payload)};
    h_send(h, conn, &m);
}

static uint64_t stat_of(struct harness *h, uint64_t conn, const char *name)
{
    struct rs_msg m = {.type = RS_MSG_STATUS};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    size_t n = h_nframes(h, conn, RS_MSG_STATUS, RS_F_ITEM);
    for (size_t i = 0; i < n; i++) {
        const struct rs_msg *it = h_item(h, conn, RS_MSG_STATUS, i);
        if (h_bytes_is(it->key, name))
            return it->arg;
    }
    test_fail(__FILE__, __LINE__, "no stat %s", name);
}

/* the one reply frame of the last apply, whichever request it answers */
static const struct rs_msg *any_reply(const struct harness *h)
{
    const struct rs_msg *r = NULL;
    for (size_t i = 0; i < h->nf; i++)
        if (h->f[i].m.flags == RS_F_REPLY) {
            ASSERT(r == NULL);
            r = &h->f[i].m;
        }
    ASSERT(r != NULL);
    return r;
}

static size_t outputs_of(const struct harness *h, enum rs_output_kind kind, uint64_t conn)
{
    size_t n = 0;
    for (size_t i = 0; i < h->out.n; i++)
        n += h->out.v[i].kind == kind && h->out.v[i].conn == conn;
    return n;
}

/* The payloads of the MESSAGE frames to conn in the last apply, checked to continue the
 * sequence "m<next>": returns how many. */
static size_t take_in_order(struct harness *h, uint64_t conn, int *next)
{
    size_t k = h_nframes(h, conn, RS_MSG_MESSAGE, 0);
    for (size_t i = 0; i < k; i++) {
        const struct rs_msg *m = h_nth(h, conn, RS_MSG_MESSAGE, 0, i);
        char want[32];
        int n = snprintf(want, sizeof want, "m%06d", (*next)++);
        ASSERT_MEM_EQ(m->meta.ptr, m->meta.len, want, (size_t)n);
    }
    return k;
}

/* 3,000 sends to a receiver whose mailbox bound is 16 KB (mark 4 KB): none is dropped, all arrive in order as the receiver reads, the sender is paused past 1 MiB held
 * and resumed at half of it. */
static void test_held_not_dropped(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.mailbox_bytes = 16384;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid a = h_hello(&h, 1), b = h_hello(&h, 2);
    enum { N = 3000 };
    static char payload[1024];
    int next = 0, paused_at = -1;
    size_t got = 0;
    for (int i = 0; i < N; i++) {
        snprintf(payload, sizeof payload, "m%06d", i);
        send_msg(&h, 1, a, b, payload, 0);
        got += take_in_order(&h, 2, &next);
        if (paused_at < 0 && outputs_of(&h, RS_OUT_PAUSE, 1))
            paused_at = i;
    }
    ASSERT(got > 0 && got < 200); /* the receiver read nothing: some fit under the mark */
    ASSERT(paused_at < 0);    /* 7-byte messages: 3,000 of them stay under the budget */
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_dropped"), 0);
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_held"), N - got);
    /* the receiver reads: everything comes, in order */
    while (got < N) {
        h_flushed(&h, 2, 1u << 20);
        size_t k = take_in_order(&h, 2, &next);
        ASSERT(k > 0);
        got += k;
    }
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_held"), 0);
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_delivered"), N);

    /* big messages: the sender is paused past 1 MiB held, resumed at half */
    static char big[8001];
    memset(big, 'y', 8000);
    int paused = 0, resumed = 0;
    for (int i = 0; i < 200 && !paused; i++) {
        send_msg(&h, 1, a, b, big, 0);
        paused = outputs_of(&h, RS_OUT_PAUSE, 1) > 0;
    }
    ASSERT(paused);
    ASSERT_U64_EQ(stat_of(&h, 1, "senders_paused"), 1);
    for (int i = 0; i < 1000 && !resumed; i++) {
        h_flushed(&h, 2, 1u << 20);
        resumed = outputs_of(&h, RS_OUT_RESUME, 1) > 0;
    }
    ASSERT(resumed);
    ASSERT_U64_EQ(stat_of(&h, 1, "senders_paused"), 0);
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_dropped"), 0);
    h_fini(&h);
}

/* A confirmed send that is held is answered when written; one whose receiver dies first is
 * answered ENOPROC; a confirmed send asking not to wait is answered EAGAIN at once. */
static void test_confirm_held(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.mailbox_bytes = 8000;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid a = h_hello(&h, 1), b = h_hello(&h, 2);
    static char p[1501];
    memset(p, 'p', 1500);
    /* fill past the mark (2,000 bytes): the second one is held */
    send_msg(&h, 1, a, b, p, 0);
    send_msg(&h, 1, a, b, p, 0);
    ASSERT_EQ(h_nframes(&h, 2, RS_MSG_MESSAGE, 0), 0);
    struct rs_msg m = {.type = RS_MSG_SEND, .opts = RS_SEND_CONFIRM, .arg = a.serial,
                       .pid = b, .meta = h_str("c")};
    h_send(&h, 1, &m);
    uint32_t rq = m.req_id;
    ASSERT(!h_has_reply(&h)); /* held: no answer yet */
    struct rs_msg nw = {.type = RS_MSG_SEND, .opts = RS_SEND_CONFIRM | RS_SEND_NOWAIT,
                        .arg = a.serial, .pid = b, .meta = h_str("n")};
    ASSERT_EQ(h_status(&h, 1, &nw), ROSTER_EAGAIN);
    h_flushed(&h, 2, 1u << 20);
    ASSERT_EQ(h_nframes(&h, 2, RS_MSG_MESSAGE, 0), 2);
    const struct rs_msg *r = any_reply(&h);
    ASSERT_EQ(r->req_id, rq);
    ASSERT_EQ(r->status, 0);
    /* held again, then the receiver dies */
    send_msg(&h, 1, a, b, p, 0);
    send_msg(&h, 1, a, b, p, 0);
    send_msg(&h, 1, a, b, p, 0);
    h_send(&h, 1, &m);
    rq = m.req_id;
    ASSERT(!h_has_reply(&h));
    h_gone(&h, 2);
    r = any_reply(&h);
    ASSERT_EQ(r->req_id, rq);
    ASSERT_EQ(r->status, ROSTER_ENOPROC);
    ASSERT(stat_of(&h, 1, "messages_dropped") >= 1);
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_held"), 0);
    h_fini(&h);
}

/* A receiver dying releases a paused sender (RESUME), and a sender dying leaves its held
 * messages to be delivered. */
static void test_deaths(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.mailbox_bytes = 8000;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid a = h_hello(&h, 1), b = h_hello(&h, 2);
    h_hello(&h, 3);
    static char big[8001];
    memset(big, 'y', 8000);
    int paused = 0;
    for (int i = 0; i < 300 && !paused; i++) {
        send_msg(&h, 1, a, b, big, 0);
        paused = outputs_of(&h, RS_OUT_PAUSE, 1) > 0;
    }
    ASSERT(paused);
    h_gone(&h, 2);
    ASSERT_EQ(outputs_of(&h, RS_OUT_RESUME, 1), 1);
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_held"), 0);

    /* sender 1 holds messages for client 4, then goes away: they still arrive */
    struct rs_pid d = h_hello(&h, 4);
    for (int i = 0; i < 5; i++)
        send_msg(&h, 1, a, d, big, 0);
    uint64_t held = stat_of(&h, 3, "messages_held");
    ASSERT(held >= 4);
    h_gone(&h, 1);
    size_t got = 0;
    for (int i = 0; i < 10 && got < held; i++) {
        h_flushed(&h, 4, 1u << 20);
        got += h_nframes(&h, 4, RS_MSG_MESSAGE, 0);
    }
    ASSERT_EQ(got, held);
    h_fini(&h);
}

/* A dropping sender still drops (and counts) at the mailbox bound, never waits; a publish
 * holds only the frame of the slow client, the fast one gets it at once. */
static void test_drop_and_publish(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.mailbox_bytes = 8000;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid a = h_hello(&h, 1), b = h_hello(&h, 2), c = h_hello(&h, 3);
    static char p[1501];
    memset(p, 'p', 1500);
    for (int i = 0; i < 10; i++)
        send_msg(&h, 1, a, b, p, RS_SEND_DROP);
    uint64_t dropped = stat_of(&h, 1, "messages_dropped");
    ASSERT(dropped >= 4 && dropped <= 6);
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_held"), 0);
    ASSERT_EQ(outputs_of(&h, RS_OUT_PAUSE, 1), 0);

    ASSERT_EQ(h_join(&h, 2, b, NULL, "g", ""), 0);
    ASSERT_EQ(h_join(&h, 3, c, NULL, "g", ""), 0);
    struct rs_msg pm = {.type = RS_MSG_PUBLISH, .arg = a.serial, .key = h_str("g"),
                        .meta = h_str("hello")};
    ASSERT_EQ(h_status(&h, 1, &pm), 0);
    ASSERT_U64_EQ(h_reply(&h)->arg, 2); /* held counts as a recipient */
    ASSERT_EQ(h_nframes(&h, 3, RS_MSG_MESSAGE, 0), 1);
    ASSERT_EQ(h_nframes(&h, 2, RS_MSG_MESSAGE, 0), 0);
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_held"), 1);
    ASSERT_U64_EQ(stat_of(&h, 1, "messages_dropped"), dropped);
    h_flushed(&h, 2, 1u << 20);
    ASSERT_EQ(h_nframes(&h, 2, RS_MSG_MESSAGE, 0), 1);
    h_fini(&h);
}

TEST_MAIN(T(test_held_not_dropped), T(test_confirm_held), T(test_deaths),
          T(test_drop_and_publish))
