/* fakenode.h: a scripted fake node for libroster tests: a forked process that accepts one
 * connection on a temporary socket and speaks raw frames (the script), for what a real node
 * cannot produce on demand. Header-only (static functions) so each test file that includes
 * it is one executable, as tests/CMakeLists.txt builds them. */
#ifndef ROSTER_TESTS_API_FAKENODE_H
#define ROSTER_TESTS_API_FAKENODE_H

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

static inline void die(const char *what)
{
    fprintf(stderr, "  fake node: %s\n", what);
    _exit(3);
}

static inline void read_exact(int fd, uint8_t *p, size_t n)
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
static inline void rd(int fd, struct rs_msg *m)
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

static inline void wr(int fd, const struct rs_msg *m)
{
    struct rs_buf b;
    rs_buf_init(&b);
    if (rs_wire_encode(&b, m) != 0)
        die("encode");
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        die("write");
    rs_buf_fini(&b);
}

static inline void reply(int fd, uint8_t type, uint32_t req_id, int status)
{
    struct rs_msg m = {.type = type, .flags = RS_F_REPLY, .req_id = req_id, .status = status};
    wr(fd, &m);
}

/* hello_limits answers the handshake with the given limits. */
static inline void hello_limits(int fd, unsigned name_max, unsigned meta_max, unsigned frame_max,
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

static inline void hello(int fd, unsigned name_max, unsigned meta_max, unsigned frame_max)
{
    hello_limits(fd, name_max, meta_max, frame_max, RS_MESSAGE_MAX_DEFAULT);
}

static inline void wait_eof(int fd)
{
    char c;
    while (read(fd, &c, 1) > 0) {
    }
}

/* --- the test's side --- */

static inline void fake_start(struct fake *f, void (*script)(int fd))
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
static inline void fake_end(struct fake *f)
{
    int st;
    ASSERT_EQ(waitpid(f->pid, &st, 0), f->pid);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(f->lfd);
    unlink(f->sock);
    rmdir(f->dir);
}

/* fake_connect_opts connects with opts (its socket_path is set to the fake's). */
static inline roster_client *fake_connect_opts(struct fake *f, roster_options o)
{
    o.socket_path = f->sock;
    roster_client *c = NULL;
    int r = roster_connect(&c, &o);
    if (r)
        test_fail(__FILE__, __LINE__, "connect: %s", roster_strerror(r));
    return c;
}

static inline roster_client *fake_connect(struct fake *f)
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

static inline int readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

#endif
