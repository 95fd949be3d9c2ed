/* test_node_basic.c: rosterd against raw frames: handshake and version refusal, malformed
 * input closes only the offending connection (with a logged reason), oversize names and
 * metadata get their error codes, incarnations change across restarts, and flag handling. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "rawclient.h"
#include "roster.h"
#include "test.h"

static void connect_hello(struct rawclient *rc, const struct test_node *n)
{
    ASSERT_EQ(rc_connect(rc, n->sock), 0);
    ASSERT_EQ(rc_hello(rc, RS_WIRE_VERSION, NULL), 0);
}

/* log_has polls the node's log until it holds text (deadline ms). */
static int log_has(const struct test_node *n, const char *text, int ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)ms;
    static char buf[1 << 20];
    do {
        int fd = open(n->log, O_RDONLY);
        if (fd >= 0) {
            ssize_t r = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (r > 0) {
                buf[r] = 0;
                if (strstr(buf, text))
                    return 1;
            }
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    } while (test_now_ms() < deadline);
    return 0;
}

static void test_handshake(void)
{
    struct test_node n;
    const char *args[] = {"--name", "alpha", NULL};
    test_node_start(&n, args);
    struct rawclient a;
    ASSERT_EQ(rc_connect(&a, n.sock), 0);
    struct rs_msg r;
    ASSERT_EQ(rc_hello(&a, RS_WIRE_VERSION, &r), 0);
    ASSERT(r.arg != 0);               /* node incarnation */
    ASSERT_U64_EQ(r.pid.inc, r.arg);  /* the pid names this node's incarnation */
    ASSERT(r.pid.serial != 0);
    ASSERT_MEM_EQ(r.node.ptr, r.node.len, "alpha", 5);
    struct rs_msg ping = {.type = RS_MSG_PING};
    ASSERT_EQ(rc_call(&a, &ping, NULL, 5000), 0);

    /* Another protocol version: EVERSION, then the node closes the connection. */
    struct rawclient b;
    ASSERT_EQ(rc_connect(&b, n.sock), 0);
    ASSERT_EQ(rc_hello(&b, RS_WIRE_VERSION + 1, NULL), ROSTER_EVERSION);
    ASSERT(rc_wait_closed(&b, 5000));
    rc_close(&b);

    /* The node goes on serving old and new clients. */
    struct rawclient c;
    connect_hello(&c, &n);
    ASSERT_EQ(rc_call(&c, &ping, NULL, 5000), 0);
    ASSERT_EQ(rc_call(&a, &ping, NULL, 5000), 0);
    rc_close(&a);
    rc_close(&c);
    test_node_stop_ok(&n);
}

/* One malformed input: the sender is cut off, the keeper's name survives. */
struct bad_case {
    const char *what;
    uint8_t bytes[64];
    size_t len;
    int hello_first;
    int close_after; /* the client closes after sending (truncated frame) */
    const char *log;
};

static size_t ping_frame(uint8_t *p, uint32_t req)
{
    struct rs_msg m = {.type = RS_MSG_PING, .req_id = req};
    struct rs_buf b;
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, &m), 0);
    size_t n = b.len;
    memcpy(p, b.data, n);
    rs_buf_fini(&b);
    return n;
}

/* The node records the client's OS pid and uid from SO_PEERCRED (not from anything the
 * client says): a child process connects, and the log names its pid and our uid. */
static void test_peer_credentials(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        struct rawclient rc;
        if (rc_connect(&rc, n.sock) != 0 || rc_hello(&rc, RS_WIRE_VERSION, NULL) != 0)
            _exit(1);
        rc_close(&rc);
        _exit(0);
    }
    int st;
    ASSERT_EQ(waitpid(child, &st, 0), child);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char want[96];
    snprintf(want, sizeof want, "(os pid %d uid %u) connected", (int)child, (unsigned)getuid());
    ASSERT(log_has(&n, want, 5000));
    test_node_stop_ok(&n);
}

static void test_bad_input(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    struct rawclient keeper;
    connect_hello(&keeper, &n);
    ASSERT_EQ(rc_register(&keeper, "keeper", 6, "m", 1), 0);

    struct bad_case cases[6];
    memset(cases, 0, sizeof cases);
    int k = 0;
    /* 1. text instead of frames: "GET " read as a length is far above the frame limit */
    cases[k].what = "garbage";
    memcpy(cases[k].bytes, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    cases[k].len = 27;
    cases[k].log = "declared frame length above the frame limit";
    k++;
    /* 2. length 0xFFFFFFFF (4 GiB) */
    cases[k].what = "4 GiB length";
    cases[k].len = ping_frame(cases[k].bytes, 7);
    rs_put_u32(cases[k].bytes, 0xFFFFFFFFu);
    cases[k].hello_first = 1;
    cases[k].log = "declared frame length above the frame limit";
    k++;
    /* 3. unknown type */
    cases[k].what = "unknown type";
    cases[k].len = ping_frame(cases[k].bytes, 8);
    cases[k].bytes[4] = 200;
    cases[k].hello_first = 1;
    cases[k].log = "unknown message type or flags";
    k++;
    /* 4. reserved bits */
    cases[k].what = "reserved bits";
    cases[k].len = ping_frame(cases[k].bytes, 9);
    cases[k].bytes[7] = 0x80;
    cases[k].hello_first = 1;
    cases[k].log = "reserved header bits set";
    k++;
    /* 5. declared length below the header */
    cases[k].what = "short length";
    rs_put_u32(cases[k].bytes, 3);
    cases[k].len = 12;
    cases[k].log = "declared frame length below the header size";
    k++;
    /* 6. a truncated frame, then the client closes */
    cases[k].what = "truncated then close";
    cases[k].len = ping_frame(cases[k].bytes, 10) - 5;
    cases[k].hello_first = 1;
    cases[k].close_after = 1;
    cases[k].log = "peer closed inside a frame";
    k++;

    for (int i = 0; i < k; i++) {
        struct rawclient b;
        ASSERT_EQ(rc_connect(&b, n.sock), 0);
        if (cases[i].hello_first)
            ASSERT_EQ(rc_hello(&b, RS_WIRE_VERSION, NULL), 0);
        ASSERT_EQ(rc_send_raw(&b, cases[i].bytes, cases[i].len), 0);
        if (cases[i].close_after) {
            rc_close(&b);
        } else {
            if (!rc_wait_closed(&b, 5000))
                test_fail(__FILE__, __LINE__, "case '%s': connection not closed", cases[i].what);
            rc_close(&b);
        }
        if (!log_has(&n, cases[i].log, 5000))
            test_fail(__FILE__, __LINE__, "case '%s': log lacks \"%s\"", cases[i].what,
                      cases[i].log);
        /* The keeper is unaffected and its name is intact. */
        struct rs_pid pid;
        ASSERT_EQ(rc_lookup(&keeper, "keeper", &pid), 0);
        ASSERT_U64_EQ(pid.serial, keeper.pid.serial);
        struct rawclient c;
        connect_hello(&c, &n);
        ASSERT_EQ(rc_lookup(&c, "keeper", NULL), 0);
        rc_close(&c);
    }
    ASSERT(log_has(&n, "warn conn", 100)); /* closes for bad input are warnings */
    rc_close(&keeper);
    test_node_stop_ok(&n);
}

static void test_name_meta_limits(void)
{
    struct test_node n;
    const char *args[] = {"--max-name-bytes", "64", "--max-meta-bytes", "128", NULL};
    test_node_start(&n, args);
    struct rawclient a;
    connect_hello(&a, &n);
    char name[200];
    memset(name, 'n', sizeof name);
    char meta[300];
    memset(meta, 'm', sizeof meta);
    ASSERT_EQ(rc_register(&a, name, 65, "x", 1), ROSTER_ENAMETOOLONG);
    ASSERT_EQ(rc_register(&a, name, 200, "x", 1), ROSTER_ENAMETOOLONG);
    ASSERT_EQ(rc_register(&a, "ok-name", 7, meta, 129), ROSTER_EMETATOOBIG);
    ASSERT_EQ(rc_register(&a, "ok-name", 7, meta, 300), ROSTER_EMETATOOBIG);
    /* The connection stays usable, and the limits are inclusive. */
    ASSERT_EQ(rc_register(&a, name, 64, meta, 128), 0);
    ASSERT_EQ(rc_register(&a, "ok-name", 7, meta, 10), 0);
    ASSERT_EQ(rc_lookup(&a, "ok-name", NULL), 0);
    rc_close(&a);
    test_node_stop_ok(&n);
}

static void test_restart_new_incarnation(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    struct rawclient a;
    connect_hello(&a, &n);
    struct rs_pid p1 = a.pid;
    rc_close(&a);
    test_node_stop_ok(&n);
    test_node_start(&n, NULL);
    connect_hello(&a, &n);
    ASSERT(a.pid.inc != 0);
    ASSERT(a.pid.inc != p1.inc); /* the same serial can recur, the pid cannot */
    rc_close(&a);
    test_node_stop_ok(&n);
}

/* run_sh runs a shell command line with rosterd's stderr merged into out; exit status. */
static int run_sh(const char *line, char *out, size_t cap)
{
    const char *argv[] = {"/bin/sh", "-c", line, NULL};
    return test_run_cmd(argv, out, cap);
}

static void test_flags(void)
{
    char out[16384], line[1024];
    snprintf(line, sizeof line, "%s --no-such-flag 2>&1", ROSTERD_PATH);
    ASSERT_EQ(run_sh(line, out, sizeof out), 2);
    ASSERT(strstr(out, "--no-such-flag"));

    /* --join is validated (the cluster tests in tests/cluster run it for real) */
    snprintf(line, sizeof line, "%s --join nonsense 2>&1", ROSTERD_PATH);
    ASSERT_EQ(run_sh(line, out, sizeof out), 2);
    ASSERT(strstr(out, "--join"));

    snprintf(line, sizeof line, "%s --help 2>&1", ROSTERD_PATH);
    ASSERT_EQ(run_sh(line, out, sizeof out), 0);
    ASSERT(strstr(out, "--listen"));
    ASSERT(strstr(out, "--max-frame-bytes"));
    ASSERT(strstr(out, "--join"));
    ASSERT(strstr(out, "--cookie-file"));
    ASSERT(strstr(out, "opens no TCP socket"));

    snprintf(line, sizeof line, "%s --version 2>&1", ROSTERD_PATH);
    ASSERT_EQ(run_sh(line, out, sizeof out), 0);
    ASSERT(strstr(out, "rosterd"));

    static const char *const bad[] = {
        "--listen nonsense",         "--listen 1.2.3.4:99999",
        "--log-level loud",          "--max-frame-bytes 100",
        "--max-name-bytes 0",        "--max-meta-bytes 4000000",
        "--max-connections -1",      "--max-connections 12x",
        "--stall-timeout-ms",        "--cookie-file /nonexistent/cookie",
        "--data-dir /nonexistent/d", "--name ''",
        "positional",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "%s --socket /nonexistent/x.sock %s 2>&1", ROSTERD_PATH,
                 bad[i]);
        int st = run_sh(line, out, sizeof out);
        if (st != 2)
            test_fail(__FILE__, __LINE__, "'%s' exited %d, not 2: %s", bad[i], st, out);
        ASSERT(strlen(out) > 0); /* a message says why */
    }

    /* A second node on a live socket refuses to start; the first keeps working. */
    struct test_node n;
    test_node_start(&n, NULL);
    struct rawclient a;
    connect_hello(&a, &n);
    snprintf(line, sizeof line, "%s --socket %s 2>&1", ROSTERD_PATH, n.sock);
    int st = run_sh(line, out, sizeof out);
    ASSERT(st != 0 && st != -1);
    ASSERT(strstr(out, "live"));
    struct rs_msg ping = {.type = RS_MSG_PING};
    ASSERT_EQ(rc_call(&a, &ping, NULL, 5000), 0);
    struct rawclient b;
    connect_hello(&b, &n);
    rc_close(&b);
    rc_close(&a);
    test_node_stop_ok(&n);
}

/* A socket file nobody listens on (a crashed node's) is replaced; a clean stop removes it. */
static void test_stale_socket(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    test_node_kill(&n, SIGKILL); /* leaves n.sock behind */
    struct stat st;
    ASSERT_EQ(lstat(n.sock, &st), 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        execl(ROSTERD_PATH, ROSTERD_PATH, "--socket", n.sock, (char *)NULL);
        _exit(127);
    }
    n.pid = pid;
    uint64_t deadline = test_now_ms() + 10000;
    struct rawclient a;
    while (rc_connect(&a, n.sock) != 0) {
        ASSERT(test_now_ms() < deadline);
        int ws;
        ASSERT(waitpid(pid, &ws, WNOHANG) == 0);
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ASSERT_EQ(rc_hello(&a, RS_WIRE_VERSION, NULL), 0);
    rc_close(&a);
    kill(pid, SIGTERM);
    int ws;
    ASSERT_EQ(waitpid(pid, &ws, 0), pid);
    n.pid = 0;
    ASSERT(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    ASSERT(lstat(n.sock, &st) != 0 && errno == ENOENT);
    test_node_stop(&n);
}


/* A stop with busy clients (names, a subscription with unread output stuck in the socket, a
 * half frame) is still clean: exit 0 (leak-free under ASan), socket file removed. */
static void test_stop_with_clients(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    struct rawclient sub, writer, half;
    connect_hello(&sub, &n);
    connect_hello(&writer, &n);
    connect_hello(&half, &n);
    struct rs_msg s = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_REGISTRY | ROSTER_SUB_ALL};
    s.scope = rs_bytes_str("default");
    ASSERT_EQ(rc_call(&sub, &s, NULL, 5000), 0);
    char meta[2000];
    memset(meta, 'x', sizeof meta);
    for (int i = 0; i < 2000; i++) {
        char name[32];
        int len = snprintf(name, sizeof name, "busy-%d", i);
        ASSERT_EQ(rc_register(&writer, name, (size_t)len, meta, sizeof meta), 0);
    }
    uint8_t part[5] = {40, 0, 0, 0, RS_MSG_REGISTER};
    ASSERT_EQ(rc_send_raw(&half, part, sizeof part), 0);
    struct rs_msg ping = {.type = RS_MSG_PING};
    ASSERT_EQ(rc_call(&writer, &ping, NULL, 5000), 0);
    /* SIGTERM by hand, to look at the socket path before the directory goes. */
    pid_t pid = n.pid;
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    int ws;
    ASSERT_EQ(waitpid(pid, &ws, 0), pid);
    n.pid = 0;
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        test_fail(__FILE__, __LINE__, "rosterd did not exit 0 after SIGTERM (status 0x%x)", ws);
    struct stat st;
    ASSERT(lstat(n.sock, &st) != 0 && errno == ENOENT);
    ASSERT(log_has(&n, "stopped", 1000));
    test_node_stop(&n);
    ASSERT(rc_wait_closed(&writer, 5000));
    rc_close(&sub);
    rc_close(&writer);
    rc_close(&half);
}

/* LOG_LEVEL (rosterctl log-level) changes the daemon's level at run time. */
static void test_log_level(void)
{
    struct test_node n;
    test_node_start(&n, NULL); /* --log-level info */
    struct rawclient a, b;
    connect_hello(&a, &n);
    struct rs_msg m = {.type = RS_MSG_LOG_LEVEL, .opts = RS_LOG_DEBUG};
    ASSERT_EQ(rc_call(&a, &m, NULL, 5000), 0);
    ASSERT(log_has(&n, "log level set to debug", 5000));
    connect_hello(&b, &n); /* a connection is logged at debug only */
    ASSERT(log_has(&n, ": open", 5000));
    rc_close(&b);
    rc_close(&a);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_log_level), T(test_stop_with_clients), T(test_handshake), T(test_peer_credentials), T(test_bad_input), T(test_name_meta_limits),
          T(test_restart_new_incarnation), T(test_flags), T(test_stale_socket))
