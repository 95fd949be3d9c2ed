/* test_fairness.c: a client flooding the node cannot starve another (issue 12 item 5).
 * - bounded turns: while one client writes PING frames as fast as its socket takes them,
 *   another client's consecutive STATUS requests see (through the node's "requests"
 *   counter) how many of the flood's frames the node applied between them: one turn of at
 *   most RSD_FAIR_FRAMES work units per loop iteration. The same run with the bound lifted
 *   (ROSTERD_FAIR_FRAMES, the benchmark's knob) shows the flood applied by the socket-full.
 * - --client-rate / --client-burst: a client's pipelined requests beyond its burst are
 *   applied no faster than the rate (a lower bound on time: safe under any load), while
 *   another client is answered at once. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/buf.h"
#include "node.h"
#include "roster.h"
#include "test.h"
#include "wire/wire.h"

struct flood {
    int fd;
    volatile int stop;
    pthread_t writer, reader;
};

static void *flood_write(void *arg)
{
    struct flood *f = arg;
    struct rs_buf b;
    rs_buf_init(&b);
    for (int i = 0; i < 4096; i++) {
        struct rs_msg m;
        memset(&m, 0, sizeof m);
        m.type = RS_MSG_PING;
        m.req_id = (uint32_t)i + 2;
        rs_wire_encode(&b, &m);
    }
    while (!f->stop) {
        size_t off = 0;
        while (off < b.len && !f->stop) {
            ssize_t w = send(f->fd, b.data + off, b.len - off, MSG_NOSIGNAL);
            if (w <= 0)
                goto out;
            off += (size_t)w;
        }
    }
out:
    rs_buf_fini(&b);
    return NULL;
}

static void *flood_read(void *arg)
{
    struct flood *f = arg;
    static char buf[1 << 16];
    while (read(f->fd, buf, sizeof buf) > 0)
        ;
    return NULL;
}

static void flood_start(struct flood *f, const char *sock)
{
    f->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ASSERT(strlen(sock) < sizeof sa.sun_path);
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    ASSERT_EQ(connect(f->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct rs_buf b;
    rs_buf_init(&b);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_HELLO;
    m.req_id = 1;
    m.opts = RS_WIRE_VERSION;
    m.arg = RS_WIRE_MAGIC;
    ASSERT_EQ(rs_wire_encode(&b, &m), 0);
    ASSERT_EQ(write(f->fd, b.data, b.len), (ssize_t)b.len);
    rs_buf_fini(&b);
    f->stop = 0;
    ASSERT_EQ(pthread_create(&f->reader, NULL, flood_read, f), 0);
    ASSERT_EQ(pthread_create(&f->writer, NULL, flood_write, f), 0);
}

static void flood_stop(struct flood *f)
{
    f->stop = 1;
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->writer, NULL);
    pthread_join(f->reader, NULL);
    close(f->fd);
}

static roster_client *conn(const char *sock)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock;
    o.no_shm = 1;
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), 0);
    return c;
}

static uint64_t requests(roster_client *c)
{
    roster_stats st;
    ASSERT_EQ(roster_status(c, &st, 20000), 0);
    uint64_t v = 0;
    for (size_t i = 0; i < st.n; i++)
        if (!strcmp(st.items[i].key, "requests"))
            v = st.items[i].value;
    roster_stats_free(&st);
    return v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* gaps_of: the counts of the flood's frames applied between two consecutive requests of
 * another client, 41 samples, sorted. */
static void gaps_of(const char *fair_frames, uint64_t gaps[41])
{
    if (fair_frames)
        setenv("ROSTERD_FAIR_FRAMES", fair_frames, 1);
    struct test_node n;
    const char *args[] = {NULL};
    test_node_start(&n, args);
    unsetenv("ROSTERD_FAIR_FRAMES");
    roster_client *c = conn(n.sock);
    struct flood f;
    flood_start(&f, n.sock);
    /* the flood is under way once the node has applied many of its frames */
    uint64_t deadline = test_now_ms() + 20000;
    while (requests(c) < 20000 && test_now_ms() < deadline)
        ;
    for (int i = 0; i < 41; i++) {
        uint64_t a = requests(c);
        uint64_t b = requests(c);
        gaps[i] = b - a - 1; /* the second STATUS itself is not the flood's */
    }
    flood_stop(&f);
    roster_close(c);
    test_node_stop_ok(&n);
    qsort(gaps, 41, sizeof gaps[0], cmp_u64);
    fprintf(stderr, "fair frames %s: gaps min %llu median %llu max %llu\n",
            fair_frames ? fair_frames : "default", (unsigned long long)gaps[0],
            (unsigned long long)gaps[20], (unsigned long long)gaps[40]);
}

static void test_bounded_turns(void)
{
    uint64_t fair[41], unbounded[41];
    gaps_of(NULL, fair);
    gaps_of("100000000", unbounded);
    /* one turn (at most 64 frames) per iteration, a few iterations per round trip of the
     * other client */
    ASSERT(fair[20] < 2000);
    /* without the bound, round trips wait behind whole socket-fulls of the flood (the
     * median can be small: the flood's writer refills the socket in bursts) */
    ASSERT(unbounded[40] > 10 * fair[20]);
}

static void test_client_rate(void)
{
    struct test_node n;
    const char *args[] = {"--client-rate", "200", "--client-burst", "20", NULL};
    test_node_start(&n, args);
    roster_client *slow = conn(n.sock);
    roster_client *other = conn(n.sock);
    /* 120 pipelined requests: 20 from the burst, 100 at 200/s: at least 500 ms */
    uint64_t t0 = test_now_ms();
    roster_pid me = roster_self(slow);
    char name[32];
    for (int i = 0; i < 120; i++) {
        snprintf(name, sizeof name, "r%d", i);
        ASSERT_EQ(roster_register_async(slow, "default", name, strlen(name), me, NULL, 0, NULL), 0);
    }
    ASSERT_EQ(roster_flush(slow, 20000), 0);
    /* meanwhile the other client is served (its own bucket is full) */
    ASSERT_EQ(roster_ping(other, 20000), 0);
    ASSERT_EQ(roster_wait_all(slow, 30000), 0);
    uint64_t took = test_now_ms() - t0;
    if (took < 450)
        test_fail(__FILE__, __LINE__, "120 requests at 200/s after a burst of 20 took %llu ms",
                  (unsigned long long)took);
    roster_entry e;
    ASSERT_EQ(roster_lookup(other, "default", "r119", 4, &e, 20000), 0);
    roster_entry_free(&e);
    roster_close(slow);
    roster_close(other);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_bounded_turns), T(test_client_rate))
