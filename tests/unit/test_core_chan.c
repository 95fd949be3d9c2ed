/* test_core_chan.c: the core's side of direct channels (src/core/chan.c, docs/MESSAGING.md
 * "Direct channels"): a channel after 8 messages by pid between two clients that both take
 * channels (RS_OUT_CHANNEL_FD right before each client's CHANNEL frame, so the shell can
 * pass the end with that frame's first byte), none for a client that did not ask, routes
 * told once, relayed messages tagged with the channel, markers relayed to the peer, the
 * channel freed after both ENDs, CLOSE GONE to the survivor, CHANNEL_OPEN's answers. */
#include <stdio.h>
#include <stdlib.h>

#include "base/acl.h"
#include "core_harness.h"
#include "wire/chan.h"

static struct rs_pid hello_uid(struct harness *h, uint64_t conn, uint32_t uid)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = conn, .os_pid = 100 + (int)conn,
                          .uid = uid, .gid = uid};
    ASSERT_EQ(h_apply(h, &in), 0);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION | RS_HELLO_WANT_CHAN,
                       .arg = RS_WIRE_MAGIC, .key = rs_bytes_str("test")};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    return h_reply(h)->pid;
}

static struct rs_acl *rules(const char *text)
{
    struct rs_acl *a = NULL;
    unsigned line = 0;
    char why[256];
    if (rs_acl_parse(text, strlen(text), NULL, &a, &line, why, sizeof why) != 0)
        test_fail(__FILE__, __LINE__, "rules refused at line %u: %s", line, why);
    return a;
}

static struct rs_pid hello_chan(struct harness *h, uint64_t conn, int want)
{
    h_open(h, conn);
    struct rs_msg m = {.type = RS_MSG_HELLO,
                       .opts = RS_WIRE_VERSION | (want ? RS_HELLO_WANT_CHAN : 0),
                       .arg = RS_WIRE_MAGIC, .key = rs_bytes_str("test")};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    return h_reply(h)->pid;
}

static void send_msg(struct harness *h, uint64_t conn, struct rs_pid from, struct rs_pid to)
{
    struct rs_msg m = {.type = RS_MSG_SEND, .arg = from.serial, .pid = to,
                       .meta = rs_bytes_str("x")};
    h_send(h, conn, &m);
}

/* fd_outputs counts RS_OUT_CHANNEL_FD outputs of the last apply, and checks each is
 * followed by a SEND to the same conn whose first frame is a new CHANNEL */
static int fd_outputs(struct harness *h)
{
    int n = 0;
    for (size_t i = 0; i < h->out.n; i++) {
        const struct rs_output *o = &h->out.v[i];
        if (o->kind != RS_OUT_CHANNEL_FD)
            continue;
        n++;
        ASSERT(i + 1 < h->out.n);
        const struct rs_output *s = &h->out.v[i + 1];
        ASSERT_EQ(s->kind, RS_OUT_SEND);
        ASSERT_U64_EQ(s->conn, o->conn);
        size_t fl = 0;
        ASSERT_EQ(rs_wire_frame_next(h->bytes + s->off, s->len, h->lim.frame_max, &fl),
                  RS_WIRE_OK);
        struct rs_msg m;
        struct rs_limits dl = h->lim;
        dl.name_max = 0;
        ASSERT_EQ(rs_wire_decode(h->bytes + s->off, fl, &dl, &m), RS_WIRE_OK);
        ASSERT_EQ(m.type, RS_MSG_CHANNEL);
        ASSERT_EQ(rs_msg_channel_flags(&m), RS_CHAN_NEW);
        ASSERT_U64_EQ(rs_msg_channel_id(&m), o->kv_id);
        ASSERT_EQ(o->level, n == 1 ? 0 : 1);
    }
    return n;
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

static void test_after_eight_and_routes(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid a = hello_chan(&h, 1, 1), b = hello_chan(&h, 2, 1);
    for (int i = 0; i < 7; i++) {
        send_msg(&h, 1, a, b);
        ASSERT_EQ(fd_outputs(&h), 0);
        ASSERT_EQ(h_nframes(&h, 2, RS_MSG_MESSAGE, 0), 1);
        ASSERT_EQ(h_nth(&h, 2, RS_MSG_MESSAGE, 0, 0)->opts, RS_MSGK_SEND); /* untagged */
    }
    send_msg(&h, 1, a, b);
    ASSERT_EQ(fd_outputs(&h), 2);
    const struct rs_msg *ca = h_nth(&h, 1, RS_MSG_CHANNEL, 0, 0);
    const struct rs_msg *cb = h_nth(&h, 2, RS_MSG_CHANNEL, 0, 0);
    ASSERT(h_pid_eq(rs_msg_channel_route(ca), b)); /* a learns b, b learns a */
    ASSERT(h_pid_eq(rs_msg_channel_route(cb), a));
    uint64_t id = rs_msg_channel_id(ca);
    ASSERT_U64_EQ(rs_msg_channel_id(cb), id);
    /* relayed messages between them now carry the channel's id */
    send_msg(&h, 1, a, b);
    ASSERT_EQ(h_nth(&h, 2, RS_MSG_MESSAGE, 0, 0)->opts, RS_MSGK_SEND | (uint32_t)(id << 8));
    ASSERT_EQ(h_nframes(&h, 1, RS_MSG_CHANNEL, 0), 0); /* b's route: told once */
    /* another pid of b: one route, once */
    struct rs_pid b2 = h_pid_new(&h, 2);
    send_msg(&h, 1, a, b2);
    ASSERT_EQ(h_nframes(&h, 1, RS_MSG_CHANNEL, 0), 1);
    ASSERT(h_pid_eq(rs_msg_channel_route(h_nth(&h, 1, RS_MSG_CHANNEL, 0, 0)), b2));
    ASSERT_EQ(rs_msg_channel_flags(h_nth(&h, 1, RS_MSG_CHANNEL, 0, 0)), 0);
    send_msg(&h, 1, a, b2);
    ASSERT_EQ(h_nframes(&h, 1, RS_MSG_CHANNEL, 0), 0);
    ASSERT_U64_EQ(stat_of(&h, 1, "channels_open"), 1);
    /* START from a reaches b; END from both frees the channel */
    struct rs_msg mk = {.type = RS_MSG_CHANNEL_MARK, .opts = RS_CHAN_MARK_START, .arg = id,
                        .pid = b};
    h_send(&h, 1, &mk);
    ASSERT_EQ(h_nframes(&h, 2, RS_MSG_CHANNEL_MARK, 0), 1);
    mk.opts = RS_CHAN_MARK_END;
    h_send(&h, 1, &mk);
    ASSERT_EQ(h_nframes(&h, 2, RS_MSG_CHANNEL_MARK, 0), 1);
    ASSERT_EQ(h_nframes(&h, 2, RS_MSG_CHANNEL_CLOSE, 0), 1); /* b closes its side too */
    ASSERT_U64_EQ(stat_of(&h, 1, "channels_open"), 0);
    mk.pid = a;
    h_send(&h, 2, &mk);
    ASSERT_EQ(h_nframes(&h, 1, RS_MSG_CHANNEL_MARK, 0), 1);
    ASSERT_U64_EQ(stat_of(&h, 1, "channels_closed"), 1);
    /* freed: relayed messages are no longer tagged, and 8 more make a new channel */
    send_msg(&h, 1, a, b);
    ASSERT_EQ(h_nth(&h, 2, RS_MSG_MESSAGE, 0, 0)->opts, RS_MSGK_SEND);
    h_fini(&h);
}

static void test_not_asked_and_open(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid a = hello_chan(&h, 1, 1), b = hello_chan(&h, 2, 0), c = hello_chan(&h, 3, 1);
    for (int i = 0; i < 20; i++) {
        send_msg(&h, 1, a, b);
        ASSERT_EQ(fd_outputs(&h), 0);
    }
    struct rs_msg o = {.type = RS_MSG_CHANNEL_OPEN, .pid = b};
    ASSERT_EQ(h_status(&h, 1, &o), ROSTER_ENOCHANNEL);
    o.pid = a;
    ASSERT_EQ(h_status(&h, 1, &o), ROSTER_EINVAL);
    o.pid = (struct rs_pid){a.inc, 999};
    ASSERT_EQ(h_status(&h, 1, &o), ROSTER_ENOPROC);
    o.pid = (struct rs_pid){a.inc + 1, 1};
    ASSERT_EQ(h_status(&h, 1, &o), ROSTER_ENOCHANNEL);
    o.pid = c;
    ASSERT_EQ(h_status(&h, 1, &o), 0);
    ASSERT_EQ(fd_outputs(&h), 2);
    uint64_t id = rs_msg_channel_open_reply_id(h_reply(&h));
    ASSERT(id != 0);
    ASSERT_EQ(h_status(&h, 1, &o), 0); /* already: the same channel */
    ASSERT_U64_EQ(rs_msg_channel_open_reply_id(h_reply(&h)), id);
    /* a client gone: its peer is told, behind what is held for it */
    h_gone(&h, 3);
    ASSERT_EQ(h_nframes(&h, 1, RS_MSG_CHANNEL_CLOSE, 0), 1);
    const struct rs_msg *cl = h_nth(&h, 1, RS_MSG_CHANNEL_CLOSE, 0, 0);
    ASSERT_EQ(rs_msg_channel_close_reason(cl), RS_CHAN_CLOSE_GONE);
    ASSERT_U64_EQ(rs_msg_channel_close_id(cl), id);
    ASSERT_U64_EQ(stat_of(&h, 1, "channels_open"), 0);
    /* a client may not send a node's frame */
    struct rs_msg bad = {.type = RS_MSG_CHANNEL, .arg = 1};
    h_send(&h, 1, &bad);
    ASSERT(h_closed(&h, 1));
    h_fini(&h);
}

/* The access rules: a channel carries sends and calls both ways, unseen by the node, so
 * both clients must be allowed both to a pid of the other's uid; a reload closes what the
 * new rules refuse. */
static void test_access_rules(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_acl *a1 = rules("deny user=1001 op=send\nallow *\n");
    rs_core_set_acl(h.core, a1);
    struct rs_pid a = hello_uid(&h, 1, 1000), b = hello_uid(&h, 2, 1001),
                  c = hello_uid(&h, 3, 1002);
    for (int i = 0; i < 16; i++) { /* a may send to b, but b may not send to a: relayed */
        send_msg(&h, 1, a, b);
        ASSERT_EQ(fd_outputs(&h), 0);
        ASSERT_EQ(h_nframes(&h, 2, RS_MSG_MESSAGE, 0), 1);
    }
    ASSERT_U64_EQ(stat_of(&h, 1, "channels_refused"), 2);
    struct rs_msg o = {.type = RS_MSG_CHANNEL_OPEN, .pid = b};
    ASSERT_EQ(h_status(&h, 1, &o), ROSTER_EACCES);
    o.pid = c; /* 1000 and 1002 may */
    ASSERT_EQ(h_status(&h, 1, &o), 0);
    ASSERT_EQ(fd_outputs(&h), 2);
    uint64_t id = rs_msg_channel_open_reply_id(h_reply(&h));
    /* new rules: 1002 may no longer call: the channel is closed at the next input */
    struct rs_acl *a2 = rules("deny user=1002 op=call\nallow *\n");
    rs_core_set_acl(h.core, a2);
    rs_acl_free(a1);
    ASSERT_U64_EQ(stat_of(&h, 1, "channels_open"), 0);
    h_send(&h, 1, &(struct rs_msg){.type = RS_MSG_PING});
    (void)id;
    rs_core_set_acl(h.core, NULL);
    rs_acl_free(a2);
    h_fini(&h);
}

/* The close on reload reaches both ends with reason ACL. */
static void test_access_reload_closes(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid a = hello_uid(&h, 1, 1000), c = hello_uid(&h, 3, 1002);
    (void)a;
    struct rs_msg o = {.type = RS_MSG_CHANNEL_OPEN, .pid = c};
    ASSERT_EQ(h_status(&h, 1, &o), 0);
    uint64_t id = rs_msg_channel_open_reply_id(h_reply(&h));
    struct rs_acl *r = rules("deny user=1002 op=call\nallow *\n");
    rs_core_set_acl(h.core, r);
    h_send(&h, 1, &(struct rs_msg){.type = RS_MSG_PING}); /* the next input rechecks */
    ASSERT_EQ(h_nframes(&h, 1, RS_MSG_CHANNEL_CLOSE, 0), 1);
    ASSERT_EQ(h_nframes(&h, 3, RS_MSG_CHANNEL_CLOSE, 0), 1);
    const struct rs_msg *cl = h_nth(&h, 3, RS_MSG_CHANNEL_CLOSE, 0, 0);
    ASSERT_EQ(rs_msg_channel_close_reason(cl), RS_CHAN_CLOSE_ACL);
    ASSERT_U64_EQ(rs_msg_channel_close_id(cl), id);
    rs_core_set_acl(h.core, NULL);
    rs_acl_free(r);
    h_fini(&h);
}

TEST_MAIN(T(test_after_eight_and_routes), T(test_not_asked_and_open), T(test_access_rules),
          T(test_access_reload_closes))
