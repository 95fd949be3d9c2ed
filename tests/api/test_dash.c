/* test_dash.c: the dashboard's HTTP side without a browser (tests/browser has the browser):
 * the page is self-contained, the JSON views answer what the node holds (prefix search
 * sorted, a pid's names and groups, bad input refused), the event stream filters on its
 * pattern and ends when the node stops (which waits for no browser), and a stream that is not read loses events with a "dropped" marker while the
 * client path goes on at full speed (the loop never waits for a browser). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node.h"
#include "roster.h"
#include "http.h"
#include "test.h"

/* http_open connects with receive buffer rcvbuf (0: the default) and sends a GET. */
static int http_open(int port, const char *path, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    if (rcvbuf)
        ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    ASSERT_EQ(write(fd, req, (size_t)n), n);
    return fd;
}

/* read_until reads fd into buf (appending at *got) until want appears or ms pass; returns
 * 1 if it appeared. */
static int read_until(int fd, char *buf, size_t cap, size_t *got, const char *want, int ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)ms;
    while (!strstr(buf, want)) {
        if (test_now_ms() >= deadline)
            return 0;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (*got + 1 >= cap) { /* keep the tail: what we wait for comes last */
            memmove(buf, buf + cap / 2, *got - cap / 2);
            *got -= cap / 2;
        }
        ssize_t r = read(fd, buf + *got, cap - 1 - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        *got += (size_t)r;
        buf[*got] = 0;
    }
    return 1;
}

static char g_buf[1 << 20];

static void start(struct test_node *n, int *port)
{
    char addr[64];
    *port = http_free_port();
    snprintf(addr, sizeof addr, "127.0.0.1:%d", *port);
    const char *args[] = {"--name", "d1", "--http", addr, NULL};
    test_node_start(n, args);
    uint64_t deadline = test_now_ms() + 10000;
    while (http_get(*port, "/api/state", g_buf, sizeof g_buf) != 200) {
        ASSERT(test_now_ms() < deadline);
        usleep(20000);
    }
}

static roster_client *client(const struct test_node *n)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n->sock;
    o.client_name = "dash-test";
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), 0);
    return c;
}

static void reg(roster_client *c, const char *name)
{
    ASSERT_EQ(roster_register(c, "default", name, strlen(name), roster_self(c), "m", 1, NULL,
                              5000), 0);
}

static void test_page_and_views(void)
{
    struct test_node n;
    int port;
    start(&n, &port);
    ASSERT_EQ(http_get(port, "/", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "<canvas"));
    ASSERT(strstr(g_buf, "new EventSource(\"/events\""));
    ASSERT(!strstr(g_buf, "http://") && !strstr(g_buf, "https://")); /* nothing external */
    ASSERT(!strstr(g_buf, "innerHTML")); /* names are set as text */

    roster_client *c = client(&n);
    reg(c, "svc.b");
    reg(c, "svc.a");
    reg(c, "db");
    ASSERT_EQ(roster_join(c, "default", "workers", 7, roster_self(c), NULL, 0, 5000), 0);
    char pid[ROSTER_PID_STRLEN];
    roster_pid_format(roster_self(c), pid);

    ASSERT_EQ(http_get(port, "/api/state", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"node\":\"d1\""));
    ASSERT(strstr(g_buf, "{\"name\":\"default\",\"names\":3,\"groups\":1,\"members\":1"));

    ASSERT_EQ(http_get(port, "/api/names?prefix=svc.", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"total\":2"));
    char *a = strstr(g_buf, "\"svc.a\""), *b = strstr(g_buf, "\"svc.b\"");
    ASSERT(a && b && a < b); /* sorted */
    ASSERT(!strstr(g_buf, "\"db\""));
    ASSERT(strstr(g_buf, pid));
    ASSERT_EQ(http_get(port, "/api/names?scope=nope", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"known\":false"));
    ASSERT_EQ(http_get(port, "/api/groups?prefix=w", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "{\"key\":\"workers\",\"members\":1}"));

    ASSERT_EQ(http_get(port, "/api/members?group=workers", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"known\":true,\"total\":1"));
    ASSERT(strstr(g_buf, pid));
    ASSERT_EQ(http_get(port, "/api/members?group=nope", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"known\":false"));

    /* Names are bytes: valid UTF-8 goes through as it is, other bytes as \u00XX. */
    reg(c, "caf\xc3\xa9");
    reg(c, "bad\xff\xc3");
    reg(c, "sur\xed\xa0\x80");
    ASSERT_EQ(http_get(port, "/api/names?prefix=caf", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"key\":\"caf\xc3\xa9\""));
    ASSERT_EQ(http_get(port, "/api/names?prefix=bad", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"key\":\"bad\\u00ff\\u00c3\""));
    ASSERT_EQ(http_get(port, "/api/names?prefix=sur", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"key\":\"sur\\u00ed\\u00a0\\u0080\""));

    char path[128];
    snprintf(path, sizeof path, "/api/pid?pid=%s", pid);
    ASSERT_EQ(http_get(port, path, g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"where\":\"local\",\"names\":6,\"groups\":1"));
    ASSERT(strstr(g_buf, "\"kind\":\"group\",\"scope\":\"default\",\"key\":\"workers\""));
    ASSERT_EQ(http_get(port, "/api/pid?pid=0000000000000001.99", g_buf, sizeof g_buf), 200);
    ASSERT(strstr(g_buf, "\"where\":\"unknown\""));
    static const char *const bad[] = {
        "zz", "0123456789abcdef", "0123456789abcdef.", "0123456789abcdefX1",
        "0123456789abcdef.-1", "0123456789abcdef.1x", "0123456789abcdeg.1",
        "0123456789abcde.12", "%00123456789abcdef.1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "/api/pid?pid=%s", bad[i]);
        ASSERT_EQ(http_get(port, path, g_buf, sizeof g_buf), 400);
    }
    ASSERT_EQ(http_get(port, "/api/pid", g_buf, sizeof g_buf), 400);
    roster_close(c);
    test_node_stop_ok(&n);
}

static void test_stream_filters(void)
{
    struct test_node n;
    int port;
    start(&n, &port);
    static char sb[1 << 16];
    size_t got = 0;
    sb[0] = 0;
    int fd = http_open(port, "/events?pattern=ev.*", 0);
    ASSERT(fd >= 0);
    ASSERT(read_until(fd, sb, sizeof sb, &got, "event: hello", 10000));
    ASSERT(strstr(sb, "text/event-stream"));
    roster_client *c = client(&n);
    reg(c, "other");
    reg(c, "ev.1");
    ASSERT(read_until(fd, sb, sizeof sb, &got, "\"key\":\"ev.1\"", 10000));
    ASSERT(strstr(sb, "\"kind\":\"registered\""));
    ASSERT(!strstr(sb, "\"key\":\"other\""));
    /* The node stops cleanly with the stream still open (its thread is waiting for events),
     * and the stream ends. */
    roster_close(c);
    test_node_stop_ok(&n);
    char tail[256];
    uint64_t deadline = test_now_ms() + 10000;
    for (;;) {
        ASSERT(test_now_ms() < deadline);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0 && read(fd, tail, sizeof tail) <= 0)
            break;
    }
    close(fd);
}

static void test_slow_stream_drops(void)
{
    struct test_node n;
    int port;
    start(&n, &port);
    static char sb[1 << 16];
    size_t got = 0;
    sb[0] = 0;
    /* A browser that stops reading: a tiny receive window, and nothing read after hello. */
    int fd = http_open(port, "/events", 2048);
    ASSERT(fd >= 0);
    ASSERT(read_until(fd, sb, sizeof sb, &got, "event: hello", 10000));
    roster_client *c = client(&n);
    enum { ROUNDS = 20000 };
    char name[32];
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < ROUNDS; i++) { /* 2 events each: far more than ring + buffers */
        snprintf(name, sizeof name, "load.%d", i);
        reg(c, name);
        ASSERT_EQ(roster_unregister(c, "default", name, strlen(name), 5000), 0);
    }
    uint64_t ms = test_now_ms() - t0;
    printf("  %d register + unregister with a stalled stream: %llu ms\n", ROUNDS,
           (unsigned long long)ms);
    /* Now read: the stream skipped what it could not hold and says so. */
    ASSERT(read_until(fd, sb, sizeof sb, &got, "event: dropped", 20000));
    unsigned long long dropped = 0;
    char *d = strstr(sb, "event: dropped\ndata: {\"dropped\":");
    ASSERT(d && sscanf(d, "event: dropped\ndata: {\"dropped\":%llu", &dropped) == 1);
    ASSERT(dropped > 0);
    close(fd);
    ASSERT_EQ(http_get(port, "/api/state", g_buf, sizeof g_buf), 200);
    ASSERT(!strstr(g_buf, "\"stream_dropped\":0"));
    roster_close(c);
    test_node_stop_ok(&n);
}

/* A stream whose pattern matches none of a steady flow of events still writes a comment
 * line every 5 s (how a browser that left is noticed and its thread ends). */
static void test_filtered_stream_pings(void)
{
    struct test_node n;
    int port;
    start(&n, &port);
    static char sb[1 << 16];
    size_t got = 0;
    sb[0] = 0;
    int fd = http_open(port, "/events?pattern=nothing.matches", 0);
    ASSERT(fd >= 0);
    ASSERT(read_until(fd, sb, sizeof sb, &got, "event: hello", 10000));
    roster_client *c = client(&n);
    uint64_t deadline = test_now_ms() + 9000;
    int pinged = 0;
    while (!pinged && test_now_ms() < deadline) {
        reg(c, "busy");
        ASSERT_EQ(roster_unregister(c, "default", "busy", 4, 5000), 0);
        pinged = read_until(fd, sb, sizeof sb, &got, ": ping", 20);
    }
    ASSERT(pinged);
    ASSERT(!strstr(sb, "\"key\":\"busy\""));
    close(fd);
    roster_close(c);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_page_and_views), T(test_stream_filters), T(test_slow_stream_drops),
          T(test_filtered_stream_pings))
