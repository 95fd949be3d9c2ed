/* test_cluster_auth.c: the peer port of a real rosterd: a node with another cookie is
 * refused (reason logged on both sides) and the node keeps serving; garbage, an oversized
 * or foreign frame, and a silent connection are closed with a logged reason before
 * anything reaches the core; after a correct handshake a malformed peer frame closes that
 * connection (PEER_GONE: the intruder is down) and nothing else; a second live node with a
 * taken name is refused; the cluster flags (--join works, bad --resolver exits 2). A node of
 * cluster protocol 1 (before sealed links) is refused with the reason on both sides. After
 * a correct handshake the link is sealed: the node's records open with the keys the intruder
 * derived, and a plaintext peer frame, or a sealed record holding a malformed frame, closes
 * the link with its reason. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/auth.h"
#include "node/seal.h"
#include "cluster.h"
#include "rclient.h"
#include "test.h"

#define COOKIE "cluster-test-cookie-5f1c2d9e8a7b6c4d"

static const char *cookie;

static void setup(void)
{
    char why[160];
    cl_netns(why, sizeof why);
    cookie = cl_cookie(0, COOKIE "\n");
}

/* still_serves checks that n answers a client: register, lookup, unregister. */
static void still_serves(const struct cl_node *n)
{
    roster_client *c = cl_connect(n);
    ASSERT_EQ(roster_register(c, NULL, "alive", 5, roster_self(c), NULL, 0, NULL, 5000), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(c, NULL, "alive", 5, &e, 5000), 0);
    roster_entry_free(&e);
    ASSERT_EQ(roster_unregister(c, NULL, "alive", 5, 5000), 0);
    roster_close(c);
}

static int tcp_connect(const struct cl_node *n)
{
    char host[64];
    snprintf(host, sizeof host, "%s", n->addr);
    char *colon = strrchr(host, ':');
    *colon = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fd >= 0);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* wait_closed reads (and drops) until the node closes fd; fails after timeout_ms. */
static void wait_closed(int fd, int timeout_ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    char buf[4096];
    for (;;) {
        int left = (int)(deadline - test_now_ms());
        if (test_now_ms() >= deadline)
            test_fail(__FILE__, __LINE__, "connection not closed within %d ms", timeout_ms);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            continue;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            break;
    }
    close(fd);
}

static void send_all(int fd, const void *p, size_t n)
{
    ASSERT_EQ(write(fd, p, n), (ssize_t)n);
}

static void test_wrong_cookie_refused(void)
{
    setup();
    const char *other = cl_cookie(1, "another-cookie-entirely-0000000000\n");
    struct cl_node a, x;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    cl_start(&x, 2, "x", a.addr, other, NULL);
    cl_wait_log(&a, "hold different cookies", 10000);
    cl_wait_log(&x, "refused by the peer: authentication failed", 10000);
    still_serves(&a);
    still_serves(&x);
    roster_client *c = cl_connect(&a);
    ASSERT_EQ(cl_count_up(c, NULL, NULL, NULL), 1);
    roster_close(c);
    test_node_stop_ok(&x.t);
    test_node_stop_ok(&a.t);
}

static void test_garbage_rejected(void)
{
    setup();
    struct cl_node a;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    /* text: its first four bytes read as a huge length */
    int fd = tcp_connect(&a);
    const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, http, sizeof http - 1);
    wait_closed(fd, 5000);
    cl_wait_log(&a, "handshake frame too big", 5000);
    /* a declared length of 4 GiB */
    fd = tcp_connect(&a);
    send_all(fd, "\xff\xff\xff\xff\xf0", 5);
    wait_closed(fd, 5000);
    /* a frame of the right size but not a handshake frame: a client HELLO */
    fd = tcp_connect(&a);
    uint8_t hello[16] = {12, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    send_all(fd, hello, sizeof hello);
    wait_closed(fd, 5000);
    cl_wait_log(&a, "not a handshake frame (type 1)", 5000);
    /* a HELLO with a bad body */
    fd = tcp_connect(&a);
    uint8_t bad[60] = {56, 0, 0, 0, RS_HS_HELLO, 0, 0, 0, 'x', 'x', 'x', 'x'};
    send_all(fd, bad, sizeof bad);
    wait_closed(fd, 5000);
    cl_wait_log(&a, "HELLO with a bad magic", 5000);
    still_serves(&a);
    test_node_stop_ok(&a.t);
}

static void test_silent_peer_times_out(void)
{
    setup();
    struct cl_node a;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    int fd = tcp_connect(&a);
    send_all(fd, "\x10\x00", 2); /* half a length prefix, then nothing */
    uint64_t t0 = test_now_ms();
    wait_closed(fd, 9000);
    ASSERT(test_now_ms() - t0 >= 4000);
    cl_wait_log(&a, "handshake timed out", 1000);
    still_serves(&a);
    test_node_stop_ok(&a.t);
}

/* handshake authenticates fd to the node as dialer "intruder" (a real handshake with the
 * right cookie); returns the bytes that followed the acceptor's proof in *rest. */
static void handshake_rest(int fd, struct rs_auth *au, struct rs_auth_keys *keys,
                           uint8_t *rest, size_t *rest_len)
{
    ASSERT(sodium_init() >= 0);
    rs_auth_keys_derive(keys, (const uint8_t *)COOKIE, strlen(COOKIE));
    uint8_t nonce[RS_PEER_NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    struct rs_buf out;
    rs_buf_init(&out);
    ASSERT_EQ(rs_auth_start(au, 1, keys, "intruder", 0x1234567887654321ull, "127.0.0.9:9",
                            nonce, &out),
              0);
    send_all(fd, out.data, out.len);
    out.len = 0;
    uint8_t in[4096];
    size_t have = 0;
    uint64_t deadline = test_now_ms() + 5000;
    while (au->state != RS_AUTH_DONE) {
        ASSERT(au->state != RS_AUTH_FAILED);
        ASSERT(test_now_ms() < deadline);
        ssize_t r = read(fd, in + have, sizeof in - have);
        ASSERT(r > 0);
        have += (size_t)r;
        size_t used = rs_auth_input(au, in, have, &out);
        ASSERT(used != (size_t)-1);
        memmove(in, in + used, have - used);
        have -= used;
        if (out.len) {
            send_all(fd, out.data, out.len);
            out.len = 0;
        }
    }
    rs_buf_fini(&out);
    if (rest) {
        memcpy(rest, in, have);
        *rest_len = have;
    }
}

static void handshake(int fd, struct rs_auth *au, struct rs_auth_keys *keys)
{
    handshake_rest(fd, au, keys, NULL, NULL);
}

static void test_bad_frame_after_auth(void)
{
    setup();
    struct cl_node a;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    int fd = tcp_connect(&a);
    struct rs_auth au;
    struct rs_auth_keys keys;
    handshake(fd, &au, &keys);
    ASSERT_STR_EQ(au.peer_name, "a");
    cl_wait_log(&a, "authenticated node intruder", 5000);
    /* a frame declaring more than the frame limit */
    send_all(fd, "\xff\xff\xff\x7f\x40\x00\x00\x00", 8);
    wait_closed(fd, 5000);
    cl_wait_log(&a, "bad frame", 5000);
    roster_client *c = cl_connect(&a);
    uint64_t deadline = test_now_ms() + 5000;
    while (cl_count_up(c, NULL, NULL, NULL) != 1) {
        ASSERT(test_now_ms() < deadline);
        cl_sleep_ms(10);
    }
    roster_close(c);
    still_serves(&a);
    test_node_stop_ok(&a.t);
}

/* read_until_closed reads what the node sends until it closes fd (deadline timeout_ms). */
static size_t read_until_closed(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    size_t have = 0;
    for (;;) {
        ASSERT(test_now_ms() < deadline);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(fd, buf + have, cap - have);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            break;
        ASSERT(r > 0);
        have += (size_t)r;
        ASSERT(have < cap);
    }
    close(fd);
    return have;
}

static int mem_has(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            return 1;
    return 0;
}

static void test_old_version_refused(void)
{
    setup();
    struct cl_node a;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    /* an older node's HELLO: the same layout, version 2 (before owners, P_LEAVE, P_POLICY) */
    uint8_t hello[RS_PEER_FRAME_MAX], nonce[RS_PEER_NONCE_BYTES] = {1};
    size_t n = rs_hs_hello_encode(hello, nonce, 0x77, "old", "127.0.0.9:9");
    rs_put_u16(hello + RS_HS_HEADER + 4, 2);
    int fd = tcp_connect(&a);
    send_all(fd, hello, n);
    uint8_t got[2048];
    size_t have = read_until_closed(fd, got, sizeof got, 5000);
    ASSERT(mem_has(got, have, "cluster protocol version 2 is not supported (this node speaks 3)"));
    cl_wait_log(&a, "cluster protocol version 2 is not supported (this node speaks 3)", 5000);
    still_serves(&a);
    test_node_stop_ok(&a.t);
}

/* sealed_session authenticates a fresh connection as "intruder" and opens the first record
 * the node sends (the link keys agree); returns fd, with s ready to seal and open. */
static int sealed_session(const struct cl_node *a, struct rs_seal *s)
{
    int fd = tcp_connect(a);
    struct rs_auth au;
    struct rs_auth_keys keys;
    uint8_t buf[70000];
    size_t have = 0;
    handshake_rest(fd, &au, &keys, buf, &have); /* what followed the node's proof */
    rs_seal_init(s, au.aead, au.tx_key, au.rx_key);
    /* the node's first sealed record (its scopes, its pings) opens with our keys */
    uint64_t deadline = test_now_ms() + 5000;
    while (have < 4 || have < 4u + rs_get_u32(buf)) {
        ASSERT(test_now_ms() < deadline);
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        ASSERT(r > 0);
        have += (size_t)r;
    }
    size_t rn = 4u + rs_get_u32(buf);
    ASSERT_EQ(buf[4], RS_SEAL_TYPE);
    uint8_t *pl;
    size_t pn;
    ASSERT_EQ(rs_seal_open(s, buf, rn, &pl, &pn), RS_SEAL_OK);
    ASSERT(pn >= 8 && pl[4] >= 64); /* peer frames inside */
    return fd;
}

static void test_sealed_after_auth(void)
{
    setup();
    struct cl_node a;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    /* a plaintext peer frame (a P_PING) where a sealed record must be */
    struct rs_seal s;
    int fd = sealed_session(&a, &s);
    uint8_t ping[24] = {20, 0, 0, 0, 71};
    send_all(fd, ping, sizeof ping);
    wait_closed(fd, 5000);
    cl_wait_log(&a, "closed: sealed link: not a sealed record", 5000);
    /* an authentic record holding a malformed frame (a length running past the record) */
    fd = sealed_session(&a, &s);
    uint8_t bad[12] = {200, 0, 0, 0, 71};
    struct rs_buf out;
    rs_buf_init(&out);
    ASSERT(rs_seal_frames(&s, bad, sizeof bad, &out) > 0);
    send_all(fd, out.data, out.len);
    wait_closed(fd, 5000);
    cl_wait_log(&a, "malformed frames inside an authentic sealed record", 5000);
    /* a record sealed under the node's own direction key (reflected) */
    fd = sealed_session(&a, &s);
    struct rs_seal back;
    rs_seal_init(&back, s.aead, s.rx.key, s.tx.key);
    out.len = 0;
    ASSERT(rs_seal_frames(&back, ping, sizeof ping, &out) > 0);
    send_all(fd, out.data, out.len);
    wait_closed(fd, 5000);
    cl_wait_log(&a, "closed: sealed link: sealed record failed authentication", 5000);
    rs_buf_fini(&out);
    still_serves(&a);
    test_node_stop_ok(&a.t);
}

static void test_second_live_name_refused(void)
{
    setup();
    struct cl_node a, b, b2;
    cl_start(&a, 1, "a", NULL, cookie, NULL);
    cl_start(&b, 2, "b", a.addr, cookie, NULL);
    cl_wait_up(&a, NULL, 2, 10000);
    roster_client *ca = cl_connect(&a), *cb = cl_connect(&b);
    uint64_t inc_b = roster_node_incarnation(cb);
    cl_start(&b2, 3, "b", a.addr, cookie, NULL);
    roster_client *cb2 = cl_connect(&b2);
    /* b2 reaches a, which refuses it while b is up (the core logs why and closes) */
    cl_wait_log(&b2, "authenticated node a", 10000);
    cl_wait_log(&b2, "closed", 10000);
    uint64_t seen = 0;
    ASSERT_EQ(cl_count_up(ca, NULL, "b", &seen), 2);
    ASSERT_U64_EQ(seen, inc_b);
    ASSERT_EQ(cl_count_up(cb2, NULL, NULL, NULL), 1);
    still_serves(&b2);
    still_serves(&a);
    roster_close(ca);
    roster_close(cb);
    roster_close(cb2);
    test_node_stop_ok(&b2.t);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

static int run_rosterd(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --socket /nonexistent/x.sock %s >/dev/null 2>&1", ROSTERD_PATH,
             args);
    return cl_sh(cmd);
}

static void test_cluster_flags(void)
{
    setup();
    char args[512];
    ASSERT_EQ(run_rosterd("--resolver /nonexistent/r.so"), 2);
    snprintf(args, sizeof args, "--resolver %s", LIBROSTER_PATH); /* no roster_conflict_resolver */
    ASSERT_EQ(run_rosterd(args), 2);
    ASSERT_EQ(run_rosterd("--conflict-policy custom"), 2);
    ASSERT_EQ(run_rosterd("--conflict-policy loudest"), 2);
    ASSERT_EQ(run_rosterd("--priority a"), 2);
    ASSERT_EQ(run_rosterd("--priority a=x"), 2);
    ASSERT_EQ(run_rosterd("--heartbeat-ms 1000 --down-after-ms 1500"), 2);
    ASSERT_EQ(run_rosterd("--join nonsense"), 2);
    ASSERT_EQ(run_rosterd("--name 'bad name'"), 2);
    ASSERT_EQ(run_rosterd("--scope ''"), 2);
    /* a node with a custom resolver, priorities and scopes starts and clusters */
    struct cl_node a, b;
    snprintf(args, sizeof args, "%s", RESOLVER_PATH);
    const char *extra[] = {"--resolver", args, "--priority", "a=5", "--scope", "s1", NULL};
    cl_start(&a, 1, "a", NULL, cookie, extra);
    cl_start(&b, 2, "b", a.addr, cookie, extra);
    cl_wait_up(&a, "s1", 2, 10000);
    cl_wait_log(&a, "conflict policy custom", 1000);
    test_node_stop_ok(&b.t);
    test_node_stop_ok(&a.t);
}

TEST_MAIN(T(test_wrong_cookie_refused), T(test_garbage_rejected), T(test_silent_peer_times_out),
          T(test_bad_frame_after_auth), T(test_old_version_refused), T(test_sealed_after_auth),
          T(test_second_live_name_refused),
          T(test_cluster_flags))
