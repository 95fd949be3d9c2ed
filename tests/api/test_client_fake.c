/* test_client_fake.c: libroster against a scripted fake node (a forked process speaking
 * raw frames), for the cases a real node cannot produce on demand: the "node full" HELLO,
 * an event slipped between a request and its reply, a late answer to an abandoned call,
 * a malformed frame, a version refusal, and the local limit checks (nothing is sent; the
 * message limit is learned from HELLO). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roster.h"
#include "test.h"
#include "wire/shm.h"
#include "wire/wire.h"

#define FAKE_INC 0x1122334455667788ull

struct fake {
    char dir[64];
    char sock[128];
    int lfd;
    pid_t pid;
};

/* --- the fake node's side (runs in the child; exits 0 if the script went as expected) --- */

static void die(const char *what)
{
    fprintf(stderr, "  fake node: %s\n", what);
    _exit(3);
}

static void read_exact(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            die("short read");
        p += r;
        n -= (size_t)r;
    }
}

static uint8_t rbuf[1 << 20];

/* rd reads one frame into rbuf and decodes it into m. */
static void rd(int fd, struct rs_msg *m)
{
    read_exact(fd, rbuf, 4);
    uint32_t n = rs_get_u32(rbuf);
    if (n + 4 > sizeof rbuf)
        die("frame too big");
    read_exact(fd, rbuf + 4, n);
    struct rs_limits lim = {0};
    lim.frame_max = RS_FRAME_MAX_CEILING;
    if (rs_wire_decode(rbuf, n + 4, &lim, m) != RS_WIRE_OK)
        die("bad frame from the client");
}

static void wr(int fd, const struct rs_msg *m)
{
    struct rs_buf b;
    rs_buf_init(&b);
    if (rs_wire_encode(&b, m) != 0)
        die("encode");
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        die("write");
    rs_buf_fini(&b);
}

static void reply(int fd, uint8_t type, uint32_t req_id, int status)
{
    struct rs_msg m = {.type = type, .flags = RS_F_REPLY, .req_id = req_id, .status = status};
    wr(fd, &m);
}

/* hello_limits answers the handshake with the given limits. */
static void hello_limits(int fd, unsigned name_max, unsigned meta_max, unsigned frame_max,
                         unsigned message_max)
{
    struct rs_msg m;
    rd(fd, &m);
    /* the client may ask for the shared-memory region above the version: a fake has none */
    if (m.type != RS_MSG_HELLO ||
        (rs_msg_hello_version(&m) & RS_HELLO_VERSION_MASK) != RS_WIRE_VERSION ||
        rs_msg_hello_magic(&m) != RS_WIRE_MAGIC)
        die("expected HELLO");
    struct rs_msg r = {.type = RS_MSG_HELLO, .flags = RS_F_REPLY, .req_id = m.req_id};
    rs_msg_hello_reply_name_max_set(&r, name_max);
    rs_msg_hello_reply_incarnation_set(&r, FAKE_INC);
    rs_msg_hello_reply_sizes_set(&r, rs_msg_hello_sizes_pack(frame_max, meta_max));
    rs_msg_hello_reply_pid_set(&r, (struct rs_pid){FAKE_INC, 1});
    rs_msg_hello_reply_node_set(&r, rs_bytes_str("fake"));
    uint8_t limits[RS_HELLO_LIMITS_LEN];
    rs_msg_hello_reply_set_message_max(&r, limits, message_max);
    wr(fd, &r);
}

static void hello(int fd, unsigned name_max, unsigned meta_max, unsigned frame_max)
{
    hello_limits(fd, name_max, meta_max, frame_max, RS_MESSAGE_MAX_DEFAULT);
}

static void wait_eof(int fd)
{
    char c;
    while (read(fd, &c, 1) > 0) {
    }
}

/* --- the test's side --- */

static void fake_start(struct fake *f, void (*script)(int fd))
{
    snprintf(f->dir, sizeof f->dir, "/tmp/roster-fake-XXXXXX");
    ASSERT(mkdtemp(f->dir) != NULL);
    snprintf(f->sock, sizeof f->sock, "%s/fake.sock", f->dir);
    f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, f->sock);
    ASSERT_EQ(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(listen(f->lfd, 4), 0);
    f->pid = fork();
    ASSERT(f->pid >= 0);
    if (f->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            die("accept");
        script(fd);
        close(fd);
        _exit(0);
    }
}

/* fake_end waits for the script to finish and checks it went as planned. */
static void fake_end(struct fake *f)
{
    int st;
    ASSERT_EQ(waitpid(f->pid, &st, 0), f->pid);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(f->lfd);
    unlink(f->sock);
    rmdir(f->dir);
}

static roster_client *fake_connect(struct fake *f)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = f->sock;
    roster_client *c = NULL;
    int r = roster_connect(&c, &o);
    if (r)
        test_fail(__FILE__, __LINE__, "connect: %s", roster_strerror(r));
    return c;
}

static int readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

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
