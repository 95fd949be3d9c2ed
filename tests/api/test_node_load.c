/* test_node_load.c: rosterd under many clients and misbehaving ones: 1,000 concurrent
 * clients, the connection limit, SIGKILLed clients, a stalled half frame, a subscriber that
 * never reads, descriptor exhaustion. Raw frames only; deadlines, never sleeps. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

static void nap_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

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
        nap_ms(10);
    } while (test_now_ms() < deadline);
    return 0;
}

/* wait_names polls the names count until it equals want (deadline ms). */
static int wait_names(struct rawclient *rc, int64_t want, int ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)ms;
    for (;;) {
        int64_t c = rc_count_names(rc);
        if (c == want)
            return 1;
        if (test_now_ms() >= deadline) {
            fprintf(stderr, "  names: %lld, want %lld\n", (long long)c, (long long)want);
            return 0;
        }
        nap_ms(5);
    }
}

static void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    if (rl.rlim_cur < want)
        test_fail(__FILE__, __LINE__, "RLIMIT_NOFILE hard limit %llu < %llu",
                  (unsigned long long)rl.rlim_max, (unsigned long long)want);
}

#define N_CLIENTS 1000

static void test_thousand_clients(void)
{
    raise_nofile(N_CLIENTS + 64);
    struct test_node n;
    test_node_start(&n, NULL);
    struct rawclient *cl = calloc(N_CLIENTS, sizeof *cl);
    ASSERT(cl);
    /* All connect, then all handshake at once, then all register at once. */
    for (int i = 0; i < N_CLIENTS; i++)
        ASSERT_EQ(rc_connect(&cl[i], n.sock), 0);
    uint32_t ids[N_CLIENTS];
    for (int i = 0; i < N_CLIENTS; i++) {
        struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC};
        ids[i] = rc_send(&cl[i], &m);
        ASSERT(ids[i]);
    }
    for (int i = 0; i < N_CLIENTS; i++) {
        struct rs_msg r;
        ASSERT_EQ(rc_recv(&cl[i], &r, 10000), 1);
        ASSERT_EQ(r.type, RS_MSG_HELLO);
        ASSERT_EQ(r.req_id, ids[i]);
        ASSERT_EQ(r.status, 0);
        cl[i].pid = r.pid;
    }
    for (int i = 0; i < N_CLIENTS; i++) {
        char name[32];
        int len = snprintf(name, sizeof name, "client-%04d", i);
        struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = cl[i].pid};
        m.scope = rs_bytes_str("default");
        m.key = rs_bytes_of(name, (size_t)len);
        ids[i] = rc_send(&cl[i], &m);
        ASSERT(ids[i]);
    }
    for (int i = 0; i < N_CLIENTS; i++) {
        struct rs_msg r;
        ASSERT_EQ(rc_recv(&cl[i], &r, 10000), 1);
        ASSERT_EQ(r.req_id, ids[i]);
        ASSERT_EQ(r.status, 0);
    }
    struct rawclient obs;
    connect_hello(&obs, &n);
    ASSERT_EQ(rc_count_names(&obs), N_CLIENTS);
    for (int i = 0; i < N_CLIENTS; i += 97) {
        char name[32];
        snprintf(name, sizeof name, "client-%04d", i);
        struct rs_pid p;
        ASSERT_EQ(rc_lookup(&obs, name, &p), 0);
        ASSERT_U64_EQ(p.serial, cl[i].pid.serial);
    }
    for (int i = 0; i < N_CLIENTS; i++)
        rc_close(&cl[i]);
    ASSERT(wait_names(&obs, 0, 10000));
    ASSERT_EQ(rc_lookup(&obs, "client-0000", NULL), ROSTER_ENOTFOUND);
    rc_close(&obs);
    free(cl);
    test_node_stop_ok(&n);
}

static void test_max_connections(void)
{
    struct test_node n;
    const char *args[] = {"--max-connections", "10", NULL};
    test_node_start(&n, args);
    struct rawclient cl[10];
    for (int i = 0; i < 10; i++) {
        connect_hello(&cl[i], &n);
        char name[16];
        int len = snprintf(name, sizeof name, "mc-%d", i);
        ASSERT_EQ(rc_register(&cl[i], name, (size_t)len, NULL, 0), 0);
    }
    /* The 11th is refused with EBUSY (an unsolicited HELLO reply), then closed. */
    struct rawclient extra;
    ASSERT_EQ(rc_connect(&extra, n.sock), 0);
    struct rs_msg r;
    ASSERT_EQ(rc_recv(&extra, &r, 5000), 1);
    ASSERT_EQ(r.type, RS_MSG_HELLO);
    ASSERT_EQ(r.status, ROSTER_EBUSY);
    ASSERT(rc_wait_closed(&extra, 5000));
    rc_close(&extra);
    ASSERT(log_has(&n, "too many connections", 5000));
    /* The first ten keep working. */
    for (int i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof name, "mc-%d", (i + 3) % 10);
        ASSERT_EQ(rc_lookup(&cl[i], name, NULL), 0);
    }
    /* A freed slot is usable again. */
    rc_close(&cl[0]);
    uint64_t deadline = test_now_ms() + 5000;
    for (;;) {
        ASSERT_EQ(rc_connect(&extra, n.sock), 0);
        struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC};
        ASSERT(rc_send(&extra, &m));
        ASSERT_EQ(rc_recv(&extra, &r, 5000), 1);
        if (r.status == 0)
            break;
        ASSERT_EQ(r.status, ROSTER_EBUSY);
        rc_close(&extra);
        ASSERT(test_now_ms() < deadline);
        nap_ms(5);
    }
    rc_close(&extra);
    for (int i = 1; i < 10; i++)
        rc_close(&cl[i]);
    test_node_stop_ok(&n);
}

static void test_client_sigkill(void)
{
    struct test_node n;
    test_node_start(&n, NULL);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        struct rawclient c;
        if (rc_connect(&c, n.sock) != 0 || rc_hello(&c, RS_WIRE_VERSION, NULL) != 0)
            _exit(1);
        for (int i = 0; i < 5; i++) {
            char name[16];
            int len = snprintf(name, sizeof name, "doomed-%d", i);
            if (rc_register(&c, name, (size_t)len, "meta", 4) != 0)
                _exit(1);
        }
        if (write(p[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char ch;
    ASSERT_EQ(read(p[0], &ch, 1), 1);
    close(p[0]);
    struct rawclient obs;
    connect_hello(&obs, &n);
    ASSERT_EQ(rc_lookup(&obs, "doomed-3", NULL), 0);
    ASSERT_EQ(rc_count_names(&obs), 5);
    kill(child, SIGKILL);
    int st;
    ASSERT_EQ(waitpid(child, &st, 0), child);
    ASSERT(wait_names(&obs, 0, 5000));
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "doomed-%d", i);
        ASSERT_EQ(rc_lookup(&obs, name, NULL), ROSTER_ENOTFOUND);
    }
    rc_close(&obs);
    test_node_stop_ok(&n);
}

static void test_stall(void)
{
    struct test_node n;
    const char *args[] = {"--stall-timeout-ms", "300", NULL};
    test_node_start(&n, args);
    struct rawclient staller, other;
    connect_hello(&staller, &n);
    connect_hello(&other, &n);
    ASSERT_EQ(rc_register(&other, "other", 5, NULL, 0), 0);
    /* Half a frame: the length prefix and part of the header. */
    uint8_t half[6] = {8, 0, 0, 0, RS_MSG_PING, 0};
    uint64_t t0 = test_now_ms();
    ASSERT_EQ(rc_send_raw(&staller, half, sizeof half), 0);
    uint64_t worst = 0;
    int requests = 0;
    int closed = 0;
    while (!closed && test_now_ms() - t0 < 5000) {
        uint64_t a = test_now_ms();
        ASSERT_EQ(rc_lookup(&other, "other", NULL), 0);
        uint64_t d = test_now_ms() - a;
        worst = d > worst ? d : worst;
        requests++;
        closed = rc_wait_closed(&staller, 10);
    }
    uint64_t elapsed = test_now_ms() - t0;
    ASSERT(closed);
    ASSERT(elapsed >= 290);   /* not before the limit */
    ASSERT(elapsed < 3000);   /* and not much after */
    ASSERT(requests >= 5);    /* the other client was served meanwhile */
    if (worst > 250) /* below the 300 ms stall limit: the staller never blocked us */
        test_fail(__FILE__, __LINE__, "a request took %llu ms during the stall",
                  (unsigned long long)worst);
    ASSERT(log_has(&n, "stalled", 5000));
    ASSERT_EQ(rc_lookup(&other, "other", NULL), 0);
    rc_close(&staller);
    rc_close(&other);
    test_node_stop_ok(&n);
}

static long vm_rss_kb(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0)
        return -1;
    buf[r] = 0;
    char *p = strstr(buf, "VmRSS:");
    return p ? strtol(p + 6, NULL, 10) : -1;
}

static void test_slow_subscriber(void)
{
    struct test_node n;
    const char *args[] = {"--queue-bytes", "65536", NULL};
    test_node_start(&n, args);
    struct rawclient sub, writer, other;
    connect_hello(&sub, &n);
    connect_hello(&writer, &n);
    connect_hello(&other, &n);
    struct rs_msg s = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_REGISTRY | ROSTER_SUB_ALL};
    s.scope = rs_bytes_str("default");
    ASSERT_EQ(rc_call(&sub, &s, NULL, 5000), 0);
    long rss0 = vm_rss_kb(n.pid);
    /* ~8 MB of events for a subscriber that does not read. */
    enum { NAMES = 20000, BATCH = 500, META = 400 };
    char meta[META];
    memset(meta, 'e', sizeof meta);
    uint64_t worst = 0;
    for (int b = 0; b < NAMES / BATCH; b++) {
        for (int i = 0; i < BATCH; i++) {
            char name[32];
            int len = snprintf(name, sizeof name, "burst-%06d", b * BATCH + i);
            struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = writer.pid};
            m.scope = rs_bytes_str("default");
            m.key = rs_bytes_of(name, (size_t)len);
            m.meta = rs_bytes_of(meta, sizeof meta);
            ASSERT(rc_send(&writer, &m));
        }
        for (int i = 0; i < BATCH; i++) {
            struct rs_msg r;
            ASSERT_EQ(rc_recv(&writer, &r, 10000), 1);
            ASSERT_EQ(r.status, 0);
        }
        uint64_t a = test_now_ms();
        struct rs_msg ping = {.type = RS_MSG_PING};
        ASSERT_EQ(rc_call(&other, &ping, NULL, 5000), 0);
        uint64_t d = test_now_ms() - a;
        worst = d > worst ? d : worst;
    }
    if (worst > 500)
        test_fail(__FILE__, __LINE__, "a ping took %llu ms", (unsigned long long)worst);
    long rss1 = vm_rss_kb(n.pid);
    /* The names themselves cost memory; undelivered events must not (8 MB+ of them). */
    fprintf(stderr, "  rosterd rss %ld kB -> %ld kB\n", rss0, rss1);
    ASSERT(rss1 > 0 && rss1 - rss0 < 96 * 1024);
    /* Now the subscriber reads: a bounded amount of events, then OVERFLOW. */
    size_t got = 0;
    int overflow = 0;
    struct rs_msg e;
    while (!overflow && rc_recv(&sub, &e, 5000) == 1) {
        got += rs_wire_size(&e);
        if (e.type == RS_MSG_EVENT && (e.opts & 0xffu) == ROSTER_EV_OVERFLOW)
            overflow = 1;
    }
    fprintf(stderr, "  subscriber read %zu bytes before OVERFLOW\n", got);
    ASSERT(overflow);
    ASSERT(got < 4u * 1024 * 1024);
    /* The node is still fine. */
    ASSERT_EQ(rc_count_names(&other), NAMES);
    rc_close(&sub);
    rc_close(&writer);
    ASSERT(wait_names(&other, 0, 10000));
    rc_close(&other);
    test_node_stop_ok(&n);
}

/* With its descriptors exhausted the node refuses the excess, keeps serving, and does not
 * spin. The daemon's descriptor limit is lowered from outside (prlimit) once it runs. */
static void test_fd_exhaustion(void)
{
    raise_nofile(256);
    struct test_node n;
    test_node_start(&n, NULL);
    struct rlimit rl = {32, 32};
    ASSERT_EQ(prlimit(n.pid, RLIMIT_NOFILE, &rl, NULL), 0);
    struct rawclient keeper;
    connect_hello(&keeper, &n);
    ASSERT_EQ(rc_register(&keeper, "keeper", 6, NULL, 0), 0);
    enum { MANY = 50 };
    struct rawclient cl[MANY];
    int opened = 0;
    for (int i = 0; i < MANY; i++) {
        if (rc_connect(&cl[i], n.sock) != 0)
            break;
        opened++;
    }
    ASSERT_EQ(opened, MANY);
    /* Some are closed by the node (no descriptor for them) ... */
    int served = 0, refused = 0;
    for (int i = 0; i < opened; i++) {
        struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC};
        if (!rc_send(&cl[i], &m)) {
            refused++;
            continue;
        }
        struct rs_msg r;
        int got = rc_recv(&cl[i], &r, 3000);
        if (got == 1 && r.status == 0)
            served++;
        else
            refused++;
    }
    fprintf(stderr, "  served %d, refused %d\n", served, refused);
    ASSERT(refused > 0);
    ASSERT(served > 0);
    /* ... the node is not spinning on the listener ... */
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)n.pid);
    long ticks[2];
    for (int k = 0; k < 2; k++) {
        int fd = open(path, O_RDONLY);
        ASSERT(fd >= 0);
        ssize_t r = read(fd, buf, sizeof buf - 1);
        close(fd);
        ASSERT(r > 0);
        buf[r] = 0;
        char *p = strrchr(buf, ')');
        ASSERT(p);
        long utime = 0, stime = 0;
        /* fields after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt
         * cmajflt utime stime */
        ASSERT_EQ(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime,
                         &stime),
                  2);
        ticks[k] = utime + stime;
        if (k == 0) {
            uint64_t until = test_now_ms() + 500;
            while (test_now_ms() < until) /* measure CPU over half a second */
                nap_ms(50);
        }
    }
    ASSERT(ticks[1] - ticks[0] < 25); /* < 50% of one CPU (100 ticks/s) */
    /* ... and frees capacity when clients leave. */
    ASSERT_EQ(rc_lookup(&keeper, "keeper", NULL), 0);
    for (int i = 0; i < opened; i++)
        rc_close(&cl[i]);
    uint64_t deadline = test_now_ms() + 5000;
    for (;;) {
        struct rawclient c;
        if (rc_connect(&c, n.sock) == 0) {
            int32_t st = rc_hello(&c, RS_WIRE_VERSION, NULL);
            rc_close(&c);
            if (st == 0)
                break;
        }
        ASSERT(test_now_ms() < deadline);
        nap_ms(10);
    }
    rc_close(&keeper);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_thousand_clients), T(test_max_connections), T(test_client_sigkill),
          T(test_stall), T(test_slow_subscriber), T(test_fd_exhaustion))
