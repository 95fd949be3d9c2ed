/* test_client_fake.c: libroster against a scripted fake node (a forked process speaking
 * raw frames), for the cases a real node cannot produce on demand: the "node full" HELLO,
 * an event slipped between a request and its reply, a late answer to an abandoned call,
 * a malformed frame, a version refusal, and the local limit checks (nothing is sent; the
 * message limit is learned from HELLO). */
#include "fakenode.h"

static void script_busy(int fd)
{
    struct rs_msg r = {.type = RS_MSG_HELLO, .flags = RS_F_REPLY, .req_id = 0,
                       .status = ROSTER_EBUSY};
    r.prev = rs_bytes_str("too many connections");
    wr(fd, &r);
}

static void test_busy(void)
{
    struct fake f;
    fake_start(&f, script_busy);
    roster_options o;
    roster_options_init(&o);
    o.socket_path = f.sock;
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), ROSTER_EBUSY);
    ASSERT(c == NULL);
    fake_end(&f);
}

static void script_version(int fd)
{
    struct rs_msg m;
    rd(fd, &m);
    reply(fd, RS_MSG_HELLO, m.req_id, ROSTER_EVERSION);
}

static void test_version_refused(void)
{
    struct fake f;
    fake_start(&f, script_version);
    roster_options o;
    roster_options_init(&o);
    o.socket_path = f.sock;
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), ROSTER_EVERSION);
    fake_end(&f);
}

static void script_event_in_call(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m;
    rd(fd, &m);
    if (m.type != RS_MSG_PING)
        die("expected PING");
    struct rs_msg ev = {.type = RS_MSG_EVENT, .req_id = 0};
    ev.opts = ROSTER_EV_REGISTERED | RS_EV_SNAPSHOT_FLAG;
    ev.arg = 7;
    ev.pid.inc = FAKE_INC;
    ev.pid.serial = 9;
    ev.scope = rs_bytes_str("default");
    ev.node = rs_bytes_str("fake");
    ev.key = rs_bytes_str("svc");
    ev.meta = rs_bytes_str("m1");
    /* The event and the reply travel in one write, as a node would batch them. */
    struct rs_buf b;
    rs_buf_init(&b);
    struct rs_msg r = {.type = RS_MSG_PING, .flags = RS_F_REPLY, .req_id = m.req_id};
    if (rs_wire_encode(&b, &ev) || rs_wire_encode(&b, &r))
        die("encode");
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        die("write");
    rs_buf_fini(&b);
    wait_eof(fd);
}

static void test_event_during_call(void)
{
    struct fake f;
    fake_start(&f, script_event_in_call);
    roster_client *c = fake_connect(&f);
    ASSERT_U64_EQ(roster_self(c).node_inc, FAKE_INC);
    ASSERT_STR_EQ(roster_node_name(c), "fake");
    ASSERT_U64_EQ(roster_node_incarnation(c), FAKE_INC);
    ASSERT(!readable(roster_fd(c)));
    ASSERT_EQ(roster_ping(c, 5000), 0);
    /* The event was read with the reply: the socket is empty, yet roster_fd is readable. */
    ASSERT(readable(roster_fd(c)));
    roster_event ev;
    ASSERT_EQ(roster_next_event(c, &ev), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_REGISTERED);
    ASSERT_EQ(ev.snapshot, 1);
    ASSERT_U64_EQ(ev.id, 7);
    ASSERT_U64_EQ(ev.pid.serial, 9);
    ASSERT_STR_EQ(ev.scope, "default");
    ASSERT_STR_EQ(ev.node, "fake");
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "svc", 3);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "m1", 2);
    ASSERT_EQ(ev.prev_meta.len, 0);
    roster_event_free(&ev);
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_EAGAIN);
    ASSERT(!readable(roster_fd(c)));
    roster_close(c);
    fake_end(&f);
}

static void lookup_reply(int fd, uint32_t req_id, const char *meta)
{
    struct rs_msg r = {.type = RS_MSG_LOOKUP, .flags = RS_F_REPLY, .req_id = req_id};
    r.pid.inc = FAKE_INC;
    r.pid.serial = 5;
    r.node = rs_bytes_str("fake");
    r.meta = rs_bytes_str(meta);
    wr(fd, &r);
}

static void script_abandoned(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg a, b, c;
    rd(fd, &a); /* abandoned by the client: answered late */
    uint32_t a_id = a.req_id;
    rd(fd, &b);
    uint32_t b_id = b.req_id;
    if (a.type != RS_MSG_NAMES || b.type != RS_MSG_LOOKUP || a_id == b_id)
        die("expected NAMES then LOOKUP");
    /* late items + reply of the abandoned listing, then the live answer */
    struct rs_msg it = {.type = RS_MSG_NAMES, .flags = RS_F_ITEM, .req_id = a_id};
    it.key = rs_bytes_str("stale");
    wr(fd, &it);
    reply(fd, RS_MSG_NAMES, a_id, 0);
    lookup_reply(fd, b_id, "fresh");
    rd(fd, &c);
    if (c.type != RS_MSG_NAMES)
        die("expected NAMES");
    it.req_id = c.req_id;
    it.key = rs_bytes_str("live");
    wr(fd, &it);
    reply(fd, RS_MSG_NAMES, c.req_id, 0);
    wait_eof(fd);
}

static void test_abandoned_answer_dropped(void)
{
    struct fake f;
    fake_start(&f, script_abandoned);
    roster_client *c = fake_connect(&f);
    roster_entries l;
    roster_pid none = {0, 0};
    uint64_t t0 = test_now_ms();
    ASSERT_EQ(roster_names(c, NULL, "", 0, none, 0, &l, 100), ROSTER_ETIMEDOUT);
    ASSERT(test_now_ms() - t0 >= 100);
    ASSERT(l.n == 0 && l.items == NULL);
    ASSERT(strstr(roster_errdetail(c), "100 ms") != NULL);
    roster_entry e;
    ASSERT_EQ(roster_lookup(c, NULL, "x", 1, &e, 5000), 0);
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "fresh", 5);
    ASSERT_MEM_EQ(e.name.data, e.name.len, "x", 1);
    roster_entry_free(&e);
    ASSERT_EQ(roster_names(c, NULL, "", 0, none, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 1);
    ASSERT_MEM_EQ(l.items[0].name.data, l.items[0].name.len, "live", 4);
    roster_entries_free(&l);
    roster_event ev;
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_EAGAIN);
    roster_close(c);
    fake_end(&f);
}

static void script_malformed(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m;
    rd(fd, &m);
    uint8_t junk[16] = {12, 0, 0, 0, 99, RS_F_REPLY, 0, 0};
    rs_put_u32(junk + 8, m.req_id);
    if (write(fd, junk, 16) != 16)
        die("write");
    wait_eof(fd);
}

static void test_malformed_frame(void)
{
    struct fake f;
    fake_start(&f, script_malformed);
    roster_client *c = fake_connect(&f);
    ASSERT_EQ(roster_ping(c, 5000), ROSTER_EPROTO);
    ASSERT(strstr(roster_errdetail(c), "malformed") != NULL);
    ASSERT_EQ(roster_ping(c, 5000), ROSTER_ECLOSED);
    roster_event ev;
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_ECLOSED);
    roster_close(c);
    fake_end(&f);
}

/* A MESSAGE whose receiver list (PREV) is not a whole number of 8-byte serials is a
 * protocol error: the connection is lost with a reason, nothing is handed out. */
static void script_bad_receivers(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m;
    rd(fd, &m);
    struct rs_msg msg = {.type = RS_MSG_MESSAGE, .opts = ROSTER_MSG_PUBLISH, .arg = 1};
    msg.pid.inc = FAKE_INC;
    msg.pid.serial = 2;
    msg.key = rs_bytes_str("g");
    msg.meta = rs_bytes_str("payload");
    msg.prev = rs_bytes_of("12345", 5);
    wr(fd, &msg); /* no answer after it: the client drops the connection on this frame */
    wait_eof(fd);
}

/* An EVENT frame claiming the kind of a message or of a pipelined answer (which have frames
 * of their own) is a protocol error too, not an event with missing fields. */
static void script_event_kind_message(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m;
    rd(fd, &m);
    struct rs_msg e = {.type = RS_MSG_EVENT, .opts = ROSTER_EV_MESSAGE, .arg = 1};
    e.key = rs_bytes_str("g");
    wr(fd, &e); /* no answer after it: the client drops the connection on this frame */
    wait_eof(fd);
}

static void test_event_claiming_message_kind(void)
{
    struct fake f;
    fake_start(&f, script_event_kind_message);
    roster_client *c = fake_connect(&f);
    ASSERT_EQ(roster_ping(c, 5000), ROSTER_EPROTO);
    ASSERT(strstr(roster_errdetail(c), "kind 14 (message)") != NULL);
    roster_event ev;
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_ECLOSED);
    roster_close(c);
    fake_end(&f);
}

static void test_bad_receiver_list(void)
{
    struct fake f;
    fake_start(&f, script_bad_receivers);
    roster_client *c = fake_connect(&f);
    ASSERT_EQ(roster_ping(c, 5000), ROSTER_EPROTO);
    ASSERT(strstr(roster_errdetail(c), "receiver list of 5 bytes") != NULL);
    roster_event ev;
    ASSERT_EQ(roster_next_event(c, &ev), ROSTER_ECLOSED);
    roster_close(c);
    fake_end(&f);
}

static void script_limits(int fd)
{
    hello(fd, 8, 8192, RS_FRAME_MIN);
    struct rs_msg m;
    rd(fd, &m); /* the first frame after the refused calls must be the ping */
    reply(fd, RS_MSG_PING, m.req_id, m.type == RS_MSG_PING ? 0 : ROSTER_EINTERNAL);
    wait_eof(fd);
}

static void test_local_limits(void)
{
    struct fake f;
    fake_start(&f, script_limits);
    roster_client *c = fake_connect(&f);
    roster_pid self = roster_self(c);
    static char meta[9000];
    memset(meta, 'm', sizeof meta);
    ASSERT_EQ(roster_register(c, NULL, "123456789", 9, self, "", 0, NULL, 1000),
              ROSTER_ENAMETOOLONG);
    ASSERT(strstr(roster_errdetail(c), "limit 8") != NULL);
    ASSERT_EQ(roster_join(c, NULL, "123456789", 9, self, "", 0, 1000), ROSTER_ENAMETOOLONG);
    ASSERT_EQ(roster_register(c, NULL, "n", 1, self, meta, 8193, NULL, 1000),
              ROSTER_EMETATOOBIG);
    ASSERT_EQ(roster_register(c, NULL, "n", 1, self, meta, 5000, NULL, 1000), ROSTER_ETOOBIG);
    ASSERT_EQ(roster_register_async(c, NULL, "n", 1, self, meta, 8193, NULL),
              ROSTER_EMETATOOBIG);
    char scope[300];
    memset(scope, 's', sizeof scope - 1);
    scope[sizeof scope - 1] = 0;
    ASSERT_EQ(roster_lookup(c, scope, "n", 1, &(roster_entry){0}, 1000), ROSTER_ENAMETOOLONG);
    ASSERT_EQ(roster_subscribe(c, NULL, "123456789", 9, ROSTER_SUB_PREFIX, NULL, 1000),
              ROSTER_ENAMETOOLONG);
    ASSERT_EQ(roster_log_level(c, "loud", 1000), ROSTER_EINVAL);
    ASSERT_EQ(roster_ping(c, 5000), 0);
    roster_close(c);
    fake_end(&f);
}

/* The message limit comes with HELLO: a larger message is refused without asking the node
 * (no STATUS request: the first frame after the handshake is the ping). */
static void script_message_max(int fd)
{
    hello_limits(fd, 1024, 65536, 1 << 20, 100);
    struct rs_msg m;
    rd(fd, &m);
    reply(fd, RS_MSG_PING, m.req_id, m.type == RS_MSG_PING ? 0 : ROSTER_EINTERNAL);
    wait_eof(fd);
}

static void test_message_max_from_hello(void)
{
    struct fake f;
    fake_start(&f, script_message_max);
    roster_client *c = fake_connect(&f);
    roster_pid self = roster_self(c);
    static char data[101];
    ASSERT_EQ(roster_send(c, self, self, data, 101, 0, 1000), ROSTER_ETOOBIG);
    ASSERT(strstr(roster_errdetail(c), "limit 100") != NULL);
    ASSERT_EQ(roster_publish(c, self, NULL, "g", 1, data, 101, 0, NULL, 1000), ROSTER_ETOOBIG);
    roster_buf rep;
    ASSERT_EQ(roster_call(c, self, self, data, 101, &rep, NULL, 1000), ROSTER_ETOOBIG);
    ASSERT_EQ(roster_ping(c, 5000), 0);
    roster_close(c);
    fake_end(&f);
}

TEST_MAIN(T(test_busy), T(test_bad_receiver_list), T(test_event_claiming_message_kind), T(test_version_refused), T(test_event_during_call),
          T(test_abandoned_answer_dropped), T(test_malformed_frame), T(test_local_limits),
          T(test_message_max_from_hello))
