/* bench_cluster.c: the cluster figures (C1-C7), on 3 rosterd nodes a, b, c that bench/run.sh
 * starts on 127.0.0.1/2/3 (distinct ports, one cookie, in a private network namespace when
 * it can make one) and describes in the environment:
 *   BENCH_CL_SOCK_A/B/C  client sockets     BENCH_CL_PID_A/B/C  rosterd pids
 *   BENCH_CL_LOG_A/B/C   their logs          BENCH_CL_NETNS=1    run.sh made a private netns
 *
 *   bench_cluster main            C1 TCP floor, C2 convergence latency, C3 100k visible on b
 *                                 and c, C4 aggregate 3-node registration throughput
 *   bench_cluster purge R NR      C5 round R of NR: 100k names on a, kill -9 a, time until b
 *                                 and c purge them (kills node a; run.sh starts a fresh cluster
 *                                 for every round); the last round prints the medians
 *   bench_cluster heal            C6 partition a | b,c with nftables (only inside run.sh's
 *                                 private namespace), 100k names on each side, heal, time to
 *                                 converge
 *   bench_cluster memory          C7 VmRSS of b before/after 1,000,000 names registered on a
 *
 * Placement (see docs/PERFORMANCE.md, "Placement"): on this VM a wake-up across vCPUs costs
 * tens of microseconds, so every figure sets the CPU affinity of the three nodes (every
 * thread of each rosterd, through /proc/PID/task) and of itself explicitly, and says which.
 * Timestamps are CLOCK_MONOTONIC, shared by the forked children. Like the other programs it
 * only reports: it exits non-zero when an operation fails, never because of a timing.
 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>

#define NNODES 3
#define NFT_TABLE "roster_bench_partition"

static const char *const NODE_NAME[NNODES] = {"a", "b", "c"};

/* --- nodes --------------------------------------------------------------------------- */

static const char *node_env(const char *what, int i)
{
    char k[64];
    snprintf(k, sizeof k, "BENCH_CL_%s_%c", what, 'A' + i);
    const char *v = getenv(k);
    if (v == NULL || *v == '\0')
        bu_die("%s is not set (run through bench/run.sh)", k);
    return v;
}

static pid_t node_pid(int i) { return (pid_t)strtol(node_env("PID", i), NULL, 10); }

static roster_client *node_connect(int i, const char *client_name)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = node_env("SOCK", i);
    o.client_name = client_name;
    o.timeout_ms = BU_TIMEOUT_MS;
    roster_client *c = NULL;
    bu_check(NULL, "roster_connect", roster_connect(&c, &o));
    return c;
}

static uint64_t names_of(roster_client *c)
{
    roster_counts cnt;
    bu_check(c, "roster_count", roster_count(c, NULL, NULL, &cnt, BU_TIMEOUT_MS));
    return cnt.names;
}

static int nodes_up(roster_client *c)
{
    roster_nodes ns;
    memset(&ns, 0, sizeof ns);
    bu_check(c, "roster_nodes_list", roster_nodes_list(c, NULL, &ns, BU_TIMEOUT_MS));
    int up = 0;
    for (size_t i = 0; i < ns.n; i++)
        up += ns.items[i].state == ROSTER_NODE_UP;
    roster_nodes_free(&ns);
    return up;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* wait_names polls c (every 200 µs) until its node holds want names; returns the time it
 * first saw them, dies after timeout_s. */
static uint64_t wait_names(roster_client *c, uint64_t want, int timeout_s, const char *what)
{
    uint64_t deadline = bu_now_ns() + (uint64_t)timeout_s * 1000000000ull;
    for (;;) {
        uint64_t have = names_of(c);
        uint64_t t = bu_now_ns();
        if (have == want)
            return t;
        if (t > deadline)
            bu_die("%s: %llu names after %d s, expected %llu", what, (unsigned long long)have,
                   timeout_s, (unsigned long long)want);
        sleep_us(200);
    }
}

/* --- placement ------------------------------------------------------------------------ */

static int ncpu(void) { return (int)sysconf(_SC_NPROCESSORS_ONLN); }

static void set_cpu(cpu_set_t *set, int cpu)
{
    CPU_ZERO(set);
    if (cpu >= 0) {
        CPU_SET(cpu % ncpu(), set);
        return;
    }
    for (int i = 0; i < ncpu() && i < CPU_SETSIZE; i++)
        CPU_SET(i, set);
}

/* pin_process sets the affinity of every thread of pid (0: this process, only the calling
 * thread and the threads it creates later); cpu < 0: every CPU. */
static void pin_process(pid_t pid, int cpu)
{
    cpu_set_t set;
    set_cpu(&set, cpu);
    if (pid == 0) {
        (void)sched_setaffinity(0, sizeof set, &set);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    if (d == NULL) {
        (void)sched_setaffinity(pid, sizeof set, &set);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            (void)sched_setaffinity((pid_t)strtol(e->d_name, NULL, 10), sizeof set, &set);
    closedir(d);
}

/* A placement: the CPU of nodes a, b, c and of this program (and its children): -1 = any. */
typedef struct place {
    int cpu[NNODES];
    int self;
    const char *why;
} place;

static const place ANYWHERE = {{-1, -1, -1}, -1, NULL};

static void place_str(const place *p, char *buf, size_t cap)
{
    if (!bu_pinning()) {
        snprintf(buf, cap, "unpinned (BENCH_NOPIN)");
        return;
    }
    size_t off = 0;
    for (int i = 0; i <= NNODES && off < cap; i++) {
        int cpu = i < NNODES ? p->cpu[i] : p->self;
        const char *who = i < NNODES ? NODE_NAME[i] : "bench clients";
        int w = cpu >= 0 ? snprintf(buf + off, cap - off, "%s%s CPU %d", i ? ", " : "", who, cpu)
                         : snprintf(buf + off, cap - off, "%s%s any", i ? ", " : "", who);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

/* apply places the nodes and this process (and prints the placement if loud). */
static void apply_q(const place *p, int loud)
{
    place eff = bu_pinning() ? *p : ANYWHERE;
    for (int i = 0; i < NNODES; i++)
        pin_process(node_pid(i), eff.cpu[i]);
    pin_process(0, eff.self);
    if (!loud)
        return;
    char s[200];
    place_str(&eff, s, sizeof s);
    bu_line("placement: %s%s%s", s, p->why && bu_pinning() ? " — " : "",
            p->why && bu_pinning() ? p->why : "");
}

static void apply(const place *p) { apply_q(p, 1); }

/* --- forked writers ------------------------------------------------------------------- */

/* A writer is a child process with one client on a node that registers n names
 * "<prefix><i>" pipelined (batches of BU_BATCH closed by roster_wait_all), reports its first
 * request and last acknowledgement times on a pipe, and then holds the names until killed
 * (or until its node dies). With go_fd >= 0 it first reports readiness and waits for a byte
 * on go_fd (a start barrier). */
typedef struct writer {
    pid_t pid;
    int rfd;
    uint64_t t_first, t_ack;
} writer;

enum { W_READY = 1, W_DONE = 2 };

static void writer_start(writer *w, int node, const char *prefix, size_t n, int cpu, int go_fd)
{
    int p[2];
    if (pipe(p) != 0)
        bu_die("pipe: %s", strerror(errno));
    fflush(stdout);
    pid_t parent = getpid();
    w->pid = fork();
    if (w->pid < 0)
        bu_die("fork: %s", strerror(errno));
    if (w->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        close(p[0]);
        if (bu_pinning())
            pin_process(0, cpu);
        roster_client *c = node_connect(node, "bench-cluster-writer");
        roster_pid self = roster_self(c);
        if (go_fd >= 0) {
            uint64_t tag = W_READY;
            char b;
            if (bu_write_full(p[1], &tag, sizeof tag) != 0 || bu_read_full(go_fd, &b, 1) != 0)
                _exit(1);
        }
        char name[96];
        uint64_t t[3] = {W_DONE, bu_now_ns(), 0};
        for (size_t i = 0; i < n; i++) {
            size_t len = bu_name(name, sizeof name, prefix, i);
            bu_check(c, "roster_register_async",
                     roster_register_async(c, NULL, name, len, self, NULL, 0, NULL));
            if ((i + 1) % BU_BATCH == 0 || i + 1 == n)
                bu_check_wait(c, "roster_wait_all", roster_wait_all(c, BU_TIMEOUT_MS));
        }
        t[2] = bu_now_ns();
        if (bu_write_full(p[1], t, sizeof t) != 0)
            _exit(1);
        for (;;)
            pause(); /* holds its names until killed */
    }
    close(p[1]);
    w->rfd = p[0];
    w->t_first = w->t_ack = 0;
}

static void writer_read(writer *w, uint64_t want_tag, int timeout_s)
{
    struct pollfd pfd = {.fd = w->rfd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_s * 1000) <= 0)
        bu_die("a writer did not report within %d s", timeout_s);
    uint64_t tag;
    if (bu_read_full(w->rfd, &tag, sizeof tag) != 0 || tag != want_tag)
        bu_die("a writer failed (see its message above)");
    if (tag == W_DONE) {
        uint64_t t[2];
        if (bu_read_full(w->rfd, t, sizeof t) != 0)
            bu_die("a writer failed (see its message above)");
        w->t_first = t[0];
        w->t_ack = t[1];
    }
}

static void writer_stop(writer *w)
{
    if (w->pid <= 0)
        return;
    kill(w->pid, SIGKILL);
    waitpid(w->pid, NULL, 0);
    close(w->rfd);
    w->pid = 0;
}

/* --- C1: TCP floor ------------------------------------------------------------------- */

static int tcp_socket(const char *ip, struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bu_die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a->sin_addr);
    if (bind(fd, (struct sockaddr *)a, sizeof *a) != 0)
        bu_die("bind %s: %s", ip, strerror(errno));
    socklen_t len = sizeof *a;
    getsockname(fd, (struct sockaddr *)a, &len);
    return fd;
}

static void nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        bu_die("TCP_NODELAY: %s", strerror(errno));
}

/* tcp_pingpong: an echo child on 127.0.0.2 (CPU echo_cpu) and this process on 127.0.0.1
 * (CPU self_cpu) exchange n 64-byte messages over TCP with TCP_NODELAY. */
static void tcp_pingpong(int echo_cpu, int self_cpu, size_t n, bu_lat *lat)
{
    struct sockaddr_in la, ca;
    int lfd = tcp_socket("127.0.0.2", &la);
    if (listen(lfd, 1) != 0)
        bu_die("listen: %s", strerror(errno));
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        bu_die("fork: %s", strerror(errno));
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (bu_pinning())
            pin_process(0, echo_cpu);
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            _exit(1);
        nodelay(fd);
        bu_echo_serve(fd);
    }
    close(lfd);
    if (bu_pinning())
        pin_process(0, self_cpu);
    int fd = tcp_socket("127.0.0.1", &ca);
    if (connect(fd, (struct sockaddr *)&la, sizeof la) != 0)
        bu_die("connect to the TCP echo: %s", strerror(errno));
    nodelay(fd);
    bu_echo e = {fd, child};
    for (size_t i = 0; i < n / 10 + 100; i++) /* warm-up */
        bu_echo_rtt(&e);
    lat->n = 0;
    for (size_t i = 0; i < n; i++)
        bu_lat_add(lat, bu_echo_rtt(&e));
    bu_echo_stop(&e);
    bu_lat_sort(lat);
}

/* --- C2: convergence latency ----------------------------------------------------------- */

static size_t conv_serial; /* names are unique over every placement */

/* converge: n samples of register on a (pipelined request + flush, so that the request is
 * on its way at t0) until b's subscriber, subscribed to the prefix, receives REGISTERED for
 * that name. The acknowledgement from a is collected after each sample. */
static void converge(roster_client *wa, roster_client *sb, size_t n, bu_lat *lat, bu_lat *ack)
{
    roster_pid self = roster_self(wa);
    char name[64];
    lat->n = 0;
    if (ack)
        ack->n = 0;
    for (size_t i = 0; i < n + 50; i++) {
        size_t len = bu_name(name, sizeof name, "cv/", conv_serial++);
        uint64_t t0 = bu_now_ns();
        bu_check(wa, "roster_register_async",
                 roster_register_async(wa, NULL, name, len, self, NULL, 0, NULL));
        bu_check(wa, "roster_flush", roster_flush(wa, BU_TIMEOUT_MS));
        uint64_t t1;
        for (;;) {
            roster_event ev;
            int rc = roster_wait_event(sb, &ev, 10000);
            if (rc == ROSTER_ETIMEDOUT)
                bu_die("no REGISTERED event on b 10 s after registering %s on a", name);
            bu_check(sb, "roster_wait_event", rc);
            t1 = bu_now_ns();
            int hit = ev.type == ROSTER_EV_REGISTERED && ev.name.len == len &&
                      memcmp(ev.name.data, name, len) == 0;
            if (ev.type == ROSTER_EV_OVERFLOW)
                bu_die("b's subscription overflowed");
            roster_event_free(&ev);
            if (hit)
                break;
        }
        bu_check_wait(wa, "roster_wait_all", roster_wait_all(wa, BU_TIMEOUT_MS));
        if (i >= 50) /* the first 50 warm up */
            bu_lat_add(lat, t1 - t0);
        (void)ack;
    }
    bu_lat_sort(lat);
}

/* sync_register: n synchronous registrations on a (the acknowledgement latency in a
 * cluster, for comparison with the single-node figure 2a). */
static void sync_register(roster_client *wa, size_t n, bu_lat *lat)
{
    roster_pid self = roster_self(wa);
    char name[64];
    lat->n = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, "cv/", conv_serial++);
        uint64_t t0 = bu_now_ns();
        bu_check(wa, "roster_register",
                 roster_register(wa, NULL, name, len, self, NULL, 0, NULL, BU_TIMEOUT_MS));
        bu_lat_add(lat, bu_now_ns() - t0);
    }
    bu_lat_sort(lat);
}

/* --- main: C1-C4 ---------------------------------------------------------------------- */

static void fig_floor(void)
{
    size_t n = bu_count(20000), nx = bu_count(5000);
    bu_section("C1. Floor: raw loopback TCP 64-byte ping-pong, 127.0.0.1 -> 127.0.0.2, "
               "TCP_NODELAY, two processes");
    bu_lat lat;
    bu_lat_init(&lat, n > nx ? n : nx);
    tcp_pingpong(0, 0, n, &lat);
    bu_print_lat(bu_pinning() ? "TCP round trip, same CPU" : "TCP round trip, unpinned", &lat);
    bu_result("cl_tcp_p50_us", bu_pct_us(&lat, 0.5));
    bu_result("cl_tcp_p99_us", bu_pct_us(&lat, 0.99));
    if (bu_pinning()) {
        tcp_pingpong(0, 1, nx, &lat);
        bu_print_lat("TCP round trip, across CPUs", &lat);
        bu_result("cl_tcpx_p50_us", bu_pct_us(&lat, 0.5));
        bu_result("cl_tcpx_p99_us", bu_pct_us(&lat, 0.99));
    }
    bu_lat_free(&lat);
}

static void fig_converge(void)
{
    size_t n = bu_count(2000);
    if (n < 1000 && !bu_quick())
        n = 1000;
    char title[200];
    snprintf(title, sizeof title,
             "C2. Convergence: register on a (pipelined request, flushed) until b's subscriber "
             "(prefix) receives REGISTERED; %zu samples per placement",
             n);
    bu_section(title);
    roster_client *wa = node_connect(0, "bench-conv-a");
    roster_client *sb = node_connect(1, "bench-conv-b");
    bu_check(sb, "roster_subscribe",
             roster_subscribe(sb, NULL, "cv/", 3, ROSTER_SUB_REGISTRY | ROSTER_SUB_PREFIX, NULL,
                              BU_TIMEOUT_MS));
    bu_lat lat, ack;
    bu_lat_init(&lat, n);
    bu_lat_init(&ack, n);
    double tcp50 = 0, tcp99 = 0, tcpx50 = 0;
    bu_result_get("cl_tcp_p50_us", &tcp50);
    bu_result_get("cl_tcp_p99_us", &tcp99);
    bu_result_get("cl_tcpx_p50_us", &tcpx50);

    static const struct {
        place p;
        const char *label, *key;
    } variants[] = {
        {{{0, 0, 0}, 0, "every process on one vCPU: no cross-vCPU wake-up on the path (the "
                        "headline; compare with the same-CPU floor)"},
         "a -> b, all on CPU 0",
         "cl_conv"},
        {{{0, 0, 1}, 0, "c (not on the measured path) gets the other vCPU"},
         "a -> b, c on CPU 1",
         "cl_conv_c1"},
        {{{0, 1, 1}, 0, "b on the other vCPU: two cross-vCPU hops (a -> b, b -> subscriber)"},
         "a -> b, b and c on CPU 1",
         "cl_conv_x"},
        {{{-1, -1, -1}, -1, NULL}, "a -> b, unpinned", "cl_conv_any"},
    };
    size_t nv = bu_pinning() ? sizeof variants / sizeof variants[0] : 1;
    for (size_t v = 0; v < nv; v++) {
        apply(bu_pinning() ? &variants[v].p : &ANYWHERE);
        uint64_t cpu0[NNODES + 1];
        for (int i = 0; i < NNODES; i++)
            cpu0[i] = bu_cpu_ns(node_pid(i));
        cpu0[NNODES] = bu_cpu_ns(0);
        converge(wa, sb, n, &lat, NULL);
        double cpu_us[NNODES + 1];
        for (int i = 0; i < NNODES; i++)
            cpu_us[i] = (double)(bu_cpu_ns(node_pid(i)) - cpu0[i]) / 1e3 / (double)(n + 50);
        cpu_us[NNODES] = (double)(bu_cpu_ns(0) - cpu0[NNODES]) / 1e3 / (double)(n + 50);
        bu_print_lat(bu_pinning() ? variants[v].label : "a -> b, unpinned", &lat);
        bu_line("%-40s a %5.1f µs, b %5.1f µs, c %5.1f µs, bench (both clients) %5.1f µs: "
                "total %.1f µs",
                "  CPU time per sample:", cpu_us[0], cpu_us[1], cpu_us[2], cpu_us[NNODES],
                cpu_us[0] + cpu_us[1] + cpu_us[2] + cpu_us[NNODES]);
        char k[64];
        snprintf(k, sizeof k, "%s_p50_us", variants[v].key);
        bu_result(k, bu_pct_us(&lat, 0.5));
        snprintf(k, sizeof k, "%s_p99_us", variants[v].key);
        bu_result(k, bu_pct_us(&lat, 0.99));
        sync_register(wa, n, &ack);
        bu_print_lat("  register ack on a (sync), same place", &ack);
        snprintf(k, sizeof k, "%s_ack_p50_us", variants[v].key);
        bu_result(k, bu_pct_us(&ack, 0.5));
        snprintf(k, sizeof k, "%s_ack_p99_us", variants[v].key);
        bu_result(k, bu_pct_us(&ack, 0.99));
        if (v == 0) {
            double p50 = bu_pct_us(&lat, 0.5), p99 = bu_pct_us(&lat, 0.99);
            bu_line("%-40s p50 %.2fx the TCP floor p50 (%.1f µs; target <= 2 round trips), "
                    "p99 %.1f µs (target < 500 µs); syn 355 / 710 µs",
                    "", tcp50 > 0 ? p50 / tcp50 : 0, tcp50, p99);
            bu_result("cl_conv_ratio", tcp50 > 0 ? p50 / tcp50 : 0);
            if (tcpx50 > 0) {
                bu_line("%-40s p50 %.2fx the across-CPU TCP floor p50 (%.1f µs)", "",
                        p50 / tcpx50, tcpx50);
                bu_result("cl_conv_ratio_x", p50 / tcpx50);
            }
        } else if (v == 2 && tcpx50 > 0) {
            bu_line("%-40s p50 %.2fx the across-CPU TCP floor p50", "",
                    bu_pct_us(&lat, 0.5) / tcpx50);
        }
    }
    (void)tcp99;
    bu_lat_free(&lat);
    bu_lat_free(&ack);
    roster_close(sb);
    roster_close(wa); /* its names are unregistered everywhere */
}

static void fig_visible(void)
{
    size_t n = bu_count(100000);
    char title[200];
    snprintf(title, sizeof title,
             "C3. %zu names registered on a (one client, pipelined, batches of %d) until all "
             "are visible on b and c (roster_count polled every 200 µs)",
             n, BU_BATCH);
    bu_section(title);
    static const place p = {{0, 1, 1}, 1,
                            "a and its writer on CPU 0, b, c and the pollers on CPU 1: the "
                            "sender and the two receivers work in parallel"};
    apply(&p);
    roster_client *cb = node_connect(1, "bench-vis-b"), *cc = node_connect(2, "bench-vis-c");
    roster_client *ca = node_connect(0, "bench-vis-a");
    uint64_t base_b = names_of(cb), base_c = names_of(cc), base_a = names_of(ca);
    writer w;
    writer_start(&w, 0, "vis/", n, 0, -1);
    uint64_t tb = 0, tc = 0, deadline = bu_now_ns() + 120ull * 1000000000ull;
    while (tb == 0 || tc == 0) {
        if (tb == 0 && names_of(cb) == base_b + n)
            tb = bu_now_ns();
        if (tc == 0 && names_of(cc) == base_c + n)
            tc = bu_now_ns();
        if (bu_now_ns() > deadline)
            bu_die("the names were not all visible on b and c after 120 s");
        sleep_us(200);
    }
    writer_read(&w, W_DONE, 60);
    uint64_t tmax = tb > tc ? tb : tc;
    double reg_s = (double)(w.t_ack - w.t_first) / 1e9;
    bu_line("a acknowledged all %zu in %.3f s (%.0f registrations/s)", n, reg_s,
            (double)n / reg_s);
    bu_line("%-40s b %8.2f ms   c %8.2f ms   both %8.2f ms (target <= 200 ms)",
            "last ack on a -> all visible", ((double)tb - (double)w.t_ack) / 1e6,
            ((double)tc - (double)w.t_ack) / 1e6, ((double)tmax - (double)w.t_ack) / 1e6);
    bu_line("%-40s b %8.2f ms   c %8.2f ms   both %8.2f ms", "first request -> all visible",
            (double)(tb - w.t_first) / 1e6, (double)(tc - w.t_first) / 1e6,
            (double)(tmax - w.t_first) / 1e6);
    bu_result("cl_vis_names", (double)n);
    bu_result("cl_vis_after_ack_ms", ((double)tmax - (double)w.t_ack) / 1e6);
    bu_result("cl_vis_after_first_ms", (double)(tmax - w.t_first) / 1e6);
    bu_result("cl_vis_reg_ops", (double)n / reg_s);
    writer_stop(&w);
    uint64_t t0 = bu_now_ns();
    wait_names(cb, base_b, 60, "b after the writer's exit");
    wait_names(cc, base_c, 60, "c after the writer's exit");
    wait_names(ca, base_a, 60, "a after the writer's exit");
    bu_line("(writer killed: its %zu names gone from a, b and c after %.1f ms)", n,
            (double)(bu_now_ns() - t0) / 1e6);
    roster_close(ca);
    roster_close(cb);
    roster_close(cc);
}

static void fig_throughput_run(const place *p, size_t n, const char *tag, const char *key)
{
    apply(p);
    roster_client *c[NNODES];
    uint64_t base[NNODES];
    for (int i = 0; i < NNODES; i++) {
        c[i] = node_connect(i, "bench-tp-count");
        base[i] = names_of(c[i]);
    }
    int go[2];
    if (pipe(go) != 0)
        bu_die("pipe: %s", strerror(errno));
    writer w[NNODES];
    for (int i = 0; i < NNODES; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "tp/%s/%s/", tag, NODE_NAME[i]);
        writer_start(&w[i], i, prefix, n, p->cpu[i], go[0]);
    }
    for (int i = 0; i < NNODES; i++)
        writer_read(&w[i], W_READY, 30);
    if (bu_write_full(go[1], "xxx", NNODES) != 0)
        bu_die("start barrier: %s", strerror(errno));
    for (int i = 0; i < NNODES; i++)
        writer_read(&w[i], W_DONE, 120);
    uint64_t t_all = 0;
    for (int i = 0; i < NNODES; i++) {
        uint64_t t = wait_names(c[i], base[i] + NNODES * n, 120, "replicated names");
        t_all = t > t_all ? t : t_all;
    }
    uint64_t t0 = w[0].t_first, t1 = w[0].t_ack;
    for (int i = 1; i < NNODES; i++) {
        t0 = w[i].t_first < t0 ? w[i].t_first : t0;
        t1 = w[i].t_ack > t1 ? w[i].t_ack : t1;
    }
    double total = bu_rate(NNODES * n, t1 - t0);
    bu_line("%-40s %10.0f registrations/s acknowledged   (%zu in %.3f s; per node %.0f / %.0f / "
            "%.0f)",
            "3 nodes at once, total", total, NNODES * n, (double)(t1 - t0) / 1e9,
            bu_rate(n, w[0].t_ack - w[0].t_first), bu_rate(n, w[1].t_ack - w[1].t_first),
            bu_rate(n, w[2].t_ack - w[2].t_first));
    bu_line("%-40s %10.0f registrations/s replicated     (all %zu on every node after %.3f s)",
            "", bu_rate(NNODES * n, t_all - t0), NNODES * n, (double)(t_all - t0) / 1e9);
    char k[64];
    snprintf(k, sizeof k, "%s_ops", key);
    bu_result(k, total);
    snprintf(k, sizeof k, "%s_repl_ops", key);
    bu_result(k, bu_rate(NNODES * n, t_all - t0));
    for (int i = 0; i < NNODES; i++)
        writer_stop(&w[i]);
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < NNODES; i++) {
        wait_names(c[i], base[i], 60, "after the writers' exit");
        roster_close(c[i]);
    }
}

static void fig_throughput(void)
{
    size_t n = bu_count(200000);
    char title[200];
    snprintf(title, sizeof title,
             "C4. Aggregate registration: one pipelined client per node (batches of %d), %zu "
             "distinct names each, all 3 at once (start barrier)",
             BU_BATCH, n);
    bu_section(title);
    static const place spread = {{0, 1, -1}, -1,
                                 "a on CPU 0, b on CPU 1, c and the writers anywhere: c's load "
                                 "balanced by the scheduler"};
    fig_throughput_run(&spread, n, "s", "cl_tp");
    if (bu_pinning()) {
        fig_throughput_run(&ANYWHERE, n, "u", "cl_tp_any");
    }
}

static int cmd_main(void)
{
    fig_floor();
    fig_converge();
    fig_visible();
    fig_throughput();
    return 0;
}

/* --- C5: purge ------------------------------------------------------------------------ */

struct poller {
    roster_client *c[2];
    uint64_t want[2];
    uint64_t t[2];
    volatile int stop;
};

static void *poll_thread(void *arg)
{
    struct poller *p = arg;
    uint64_t deadline = bu_now_ns() + 60ull * 1000000000ull;
    while ((p->t[0] == 0 || p->t[1] == 0) && !p->stop && bu_now_ns() < deadline) {
        for (int i = 0; i < 2; i++)
            if (p->t[i] == 0 && names_of(p->c[i]) == p->want[i])
                p->t[i] = bu_now_ns();
        sleep_us(200);
    }
    return NULL;
}

/* log_ms finds the first line of a node's log that contains both a and b and returns its
 * wall-clock time in ms since the epoch (the log's millisecond timestamps), or 0; rest
 * receives what follows b on that line. */
static double log_ms(const char *log, const char *a, const char *b, char *rest, size_t cap)
{
    rest[0] = '\0';
    FILE *f = fopen(log, "r");
    if (f == NULL)
        return 0;
    char line[1024];
    double ms = 0;
    while (ms == 0 && fgets(line, sizeof line, f) != NULL) {
        char *d = strstr(line, b);
        if (strstr(line, a) == NULL || d == NULL)
            continue;
        snprintf(rest, cap, "%s", d + strlen(b));
        rest[strcspn(rest, "\n")] = '\0';
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        int msec = 0;
        if (sscanf(line, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec) == 7) {
            tm.tm_year -= 1900;
            tm.tm_mon -= 1;
            ms = (double)timegm(&tm) * 1000.0 + msec;
        }
    }
    fclose(f);
    return ms;
}

static double real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* values_of collects every value written for key in $BENCH_RESULTS; returns how many. */
static size_t values_of(const char *key, double *out, size_t cap)
{
    const char *path = getenv("BENCH_RESULTS");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f == NULL)
        return 0;
    char k[128];
    double v;
    size_t n = 0;
    while (n < cap && fscanf(f, "%127s %lf", k, &v) == 2)
        if (strcmp(k, key) == 0)
            out[n++] = v;
    fclose(f);
    return n;
}

static void median_line(const char *label, const char *key, const char *target)
{
    double v[64];
    size_t n = values_of(key, v, 64);
    if (n == 0)
        return;
    qsort(v, n, sizeof v[0], cmp_double);
    bu_line("%-44s median %8.2f ms   min %8.2f   max %8.2f   (%zu rounds)%s%s", label,
            v[n / 2], v[0], v[n - 1], n, target ? " " : "", target ? target : "");
    char k[80];
    snprintf(k, sizeof k, "%s_med", key);
    bu_result(k, v[n / 2]);
    snprintf(k, sizeof k, "%s_max", key);
    bu_result(k, v[n - 1]);
}

/* kill_floor: the kernel's share of "kill -> connection closed". A child on CPU cpu touches
 * rss_kb KiB (node a's VmRSS) and holds a TCP connection (127.0.0.1 -> 127.0.0.3) to this
 * process; it is killed with SIGKILL, and the time until this end reads EOF is returned (ms).
 * A process's memory is torn down before its descriptors are closed, so this is the least
 * time any peer can take to notice a kill -9 by connection loss. */
static double kill_floor(long rss_kb, int cpu)
{
    struct sockaddr_in la, ca;
    int lfd = tcp_socket("127.0.0.3", &la);
    if (listen(lfd, 1) != 0)
        bu_die("listen: %s", strerror(errno));
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        bu_die("fork: %s", strerror(errno));
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(lfd);
        if (bu_pinning())
            pin_process(0, cpu);
        size_t bytes = (size_t)(rss_kb > 0 ? rss_kb : 1) * 1024;
        char *mem = malloc(bytes);
        if (mem == NULL)
            _exit(1);
        for (size_t i = 0; i < bytes; i += 4096)
            mem[i] = (char)i;
        int fd = tcp_socket("127.0.0.1", &ca);
        if (connect(fd, (struct sockaddr *)&la, sizeof la) != 0 || write(fd, "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    int fd = accept(lfd, NULL, NULL);
    close(lfd);
    char b;
    if (fd < 0 || bu_read_full(fd, &b, 1) != 0)
        bu_die("the kill-floor child did not connect");
    uint64_t t0 = bu_now_ns();
    kill(child, SIGKILL);
    while (read(fd, &b, 1) > 0)
        ;
    uint64_t t1 = bu_now_ns();
    close(fd);
    waitpid(child, NULL, 0);
    return (double)(t1 - t0) / 1e6;
}

static int cmd_purge(int round, int rounds)
{
    size_t n = bu_count(100000);
    if (round == 1) {
        char title[240];
        snprintf(title, sizeof title,
                 "C5. Purge: %zu names registered on a, kill -9 a; time until b and c purge "
                 "them (%d rounds, a fresh cluster each)",
                 n, rounds);
        bu_section(title);
    }
    static const place p = {{0, 1, 0}, 0,
                            "b alone on CPU 1 (it purges and encodes the 100k events); c, b's "
                            "subscriber and the pollers on CPU 0, where a was"};
    apply_q(&p, round == 1);
    roster_client *sb = node_connect(1, "bench-purge-sub-b");
    roster_client *cb = node_connect(1, "bench-purge-count-b");
    roster_client *cc = node_connect(2, "bench-purge-count-c");
    uint64_t base_b = names_of(cb), base_c = names_of(cc);
    bu_check(sb, "roster_subscribe",
             roster_subscribe(sb, NULL, "pg/", 3, ROSTER_SUB_REGISTRY | ROSTER_SUB_PREFIX, NULL,
                              BU_TIMEOUT_MS));
    writer w;
    writer_start(&w, 0, "pg/", n, p.cpu[0], -1);
    writer_read(&w, W_DONE, 120);
    wait_names(cb, base_b + n, 60, "b before the kill");
    wait_names(cc, base_c + n, 60, "c before the kill");
    /* take the n REGISTERED events b's subscriber received */
    for (size_t got = 0; got < n;) {
        roster_event ev;
        int rc = roster_wait_event(sb, &ev, 20000);
        bu_check(sb, "roster_wait_event (registered)", rc);
        if (ev.type == ROSTER_EV_OVERFLOW)
            bu_die("b's subscription overflowed");
        got += ev.type == ROSTER_EV_REGISTERED;
        roster_event_free(&ev);
    }

    long rss_a = bu_rss_kb(node_pid(0));
    double floor_ms = kill_floor(rss_a, p.cpu[0]);
    bu_result("cl_purge_kill_floor_ms", floor_ms);

    struct poller pl = {{cb, cc}, {base_b, base_c}, {0, 0}, 0};
    pthread_t th;
    pid_t a = node_pid(0);
    uint64_t cpu_b0 = bu_cpu_ns(node_pid(1)), cpu_c0 = bu_cpu_ns(node_pid(2));
    double kill_real = real_ms();
    uint64_t t0 = bu_now_ns();
    if (kill(a, SIGKILL) != 0)
        bu_die("kill -9 a (pid %ld): %s", (long)a, strerror(errno));
    if (pthread_create(&th, NULL, poll_thread, &pl) != 0)
        bu_die("pthread_create failed");
    uint64_t t_first = 0, t_last = 0, t_nd = 0;
    size_t got = 0, node_down = 0;
    while (got < n || t_nd == 0) {
        roster_event ev;
        int rc = roster_wait_event(sb, &ev, 20000);
        if (rc == ROSTER_ETIMEDOUT)
            bu_die("b: %zu of %zu UNREGISTERED events and %s NODE_DOWN after 20 s of silence",
                   got, n, t_nd ? "a" : "no");
        bu_check(sb, "roster_wait_event", rc);
        uint64_t t = bu_now_ns();
        if (ev.type == ROSTER_EV_OVERFLOW)
            bu_die("b's subscription overflowed after %zu events", got);
        if (ev.type == ROSTER_EV_UNREGISTERED) {
            if (got++ == 0)
                t_first = t;
            t_last = t;
            node_down += ev.reason == ROSTER_REASON_NODE_DOWN;
        } else if (ev.type == ROSTER_EV_NODE_DOWN && t_nd == 0) {
            t_nd = t;
        }
        roster_event_free(&ev);
    }
    pthread_join(th, NULL);
    writer_stop(&w);
    if (pl.t[0] == 0 || pl.t[1] == 0)
        bu_die("b or c still counts a's names 60 s after the kill");
    uint64_t cpu_b = bu_cpu_ns(node_pid(1)) - cpu_b0, cpu_c = bu_cpu_ns(node_pid(2)) - cpu_c0;
    /* The shell logs "peer conn N (node a at ...): closed: peer closed" when it reads EOF and
     * then feeds PEER_GONE, on which the core declares a down and purges its entries in the
     * same step; the core's "declared down" line is written once that step is over. */
    char why_b[200], why_c[200], rest[200];
    double det_b = log_ms(node_env("LOG", 1), "(node a at", "closed: ", rest, sizeof rest);
    double det_c = log_ms(node_env("LOG", 2), "(node a at", "closed: ", rest, sizeof rest);
    double decl = log_ms(node_env("LOG", 1), "node a (incarnation", "declared down: ", why_b,
                         sizeof why_b);
    double decl_c = log_ms(node_env("LOG", 2), "node a (incarnation", "declared down: ", why_c,
                           sizeof why_c);
    double d_first = (double)(t_first - t0) / 1e6, d_last = (double)(t_last - t0) / 1e6;
    double d_nd = (double)(t_nd - t0) / 1e6;
    double d_cb = (double)(pl.t[0] - t0) / 1e6, d_cc = (double)(pl.t[1] - t0) / 1e6;
    double d_gone = d_cb > d_cc ? d_cb : d_cc;
    bu_line("round %d: kill -> b's first node_down UNREGISTERED %.2f ms, last of %zu %.2f ms "
            "(%zu node_down), NODE_DOWN event %.2f ms; roster_count back to base: b %.2f ms, "
            "c %.2f ms",
            round, d_first, got, d_last, node_down, d_nd, d_cb, d_cc);
    bu_line("         logs (1 ms): connection to a closed on b %.0f ms / c %.0f ms after the kill; "
            "'declared down' (%s) written after the purge step: b %.0f ms, c %.0f ms",
            det_b > 0 ? det_b - kill_real : -1, det_c > 0 ? det_c - kill_real : -1, why_b,
            decl > 0 ? decl - kill_real : -1, decl_c > 0 ? decl_c - kill_real : -1);
    bu_line("         CPU time of the purge: b %.1f ms (and its subscriber's events), c "
            "%.1f ms; kernel floor: kill -9 of a %ld KiB process -> EOF on its TCP peer %.2f ms",
            (double)cpu_b / 1e6, (double)cpu_c / 1e6, rss_a, floor_ms);
    bu_result("cl_purge_first_ms", d_first);
    bu_result("cl_purge_last_ms", d_last);
    bu_result("cl_purge_nd_ms", d_nd);
    bu_result("cl_purge_gone_ms", d_gone);
    bu_result("cl_purge_decl_last_ms", d_last - d_first);
    bu_result("cl_purge_decl_gone_ms", d_gone - d_first);
    bu_result("cl_purge_decl_nd_ms", d_nd - d_first);
    if (det_b > 0 && det_c > 0) {
        double det = det_b > det_c ? det_b : det_c;
        double det_ms = det - kill_real; /* both have declared a down */
        bu_result("cl_purge_log_decl_ms", det_ms);
        bu_result("cl_purge_det_gone_ms", d_gone - det_ms);
        bu_result("cl_purge_det_last_ms", d_last - (det_b - kill_real));
    }
    bu_result("cl_purge_cpu_b_ms", (double)cpu_b / 1e6);
    bu_result("cl_purge_cpu_c_ms", (double)cpu_c / 1e6);
    roster_close(sb);
    roster_close(cb);
    roster_close(cc);
    if (round == rounds) {
        bu_result("cl_purge_names", (double)n);
        median_line("kill -> first node_down event on b", "cl_purge_first_ms", NULL);
        median_line("kill -> last event on b", "cl_purge_last_ms", "(syn, :pg ~210-230 ms)");
        median_line("kill -> NODE_DOWN event on b", "cl_purge_nd_ms", NULL);
        median_line("kill -> count back to base on b and c", "cl_purge_gone_ms", NULL);
        median_line("declaration (first event) -> last event", "cl_purge_decl_last_ms",
                    "(target <= 50 ms)");
        median_line("declaration (first event) -> NODE_DOWN", "cl_purge_decl_nd_ms", NULL);
        median_line("declaration (first event) -> counts at base", "cl_purge_decl_gone_ms",
                    "(target <= 50 ms)");
        median_line("kill -> connection closed (b, c logs, 1 ms)", "cl_purge_log_decl_ms",
                    NULL);
        median_line("  that declaration -> counts at base", "cl_purge_det_gone_ms",
                    "(target <= 50 ms)");
        median_line("  that declaration -> last event on b", "cl_purge_det_last_ms",
                    "(target <= 50 ms)");
        median_line("CPU time of b for the purge (+events)", "cl_purge_cpu_b_ms", NULL);
        median_line("CPU time of c for the purge", "cl_purge_cpu_c_ms", NULL);
        median_line("kernel floor: kill -9 -> EOF on a TCP peer", "cl_purge_kill_floor_ms",
                    NULL);
    }
    return 0;
}

/* --- C6: heal ------------------------------------------------------------------------- */

static int sh(const char *cmd)
{
    fflush(stdout);
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int nft_partition(void)
{
    return sh("nft -f - <<'EOF'\n"
              "table inet " NFT_TABLE " {\n"
              "  chain out {\n"
              "    type filter hook output priority 0; policy accept;\n"
              "    ip saddr 127.0.0.1 ip daddr { 127.0.0.2, 127.0.0.3 } drop\n"
              "    ip saddr { 127.0.0.2, 127.0.0.3 } ip daddr 127.0.0.1 drop\n"
              "  }\n"
              "}\n"
              "EOF");
}

static int nft_heal(void) { return sh("nft delete table inet " NFT_TABLE " 2>/dev/null"); }

static void wait_up(roster_client *c, int want, int timeout_s, const char *who)
{
    uint64_t deadline = bu_now_ns() + (uint64_t)timeout_s * 1000000000ull;
    int up;
    while ((up = nodes_up(c)) != want) {
        if (bu_now_ns() > deadline)
            bu_die("%s: %d nodes up after %d s, want %d", who, up, timeout_s, want);
        sleep_us(1000);
    }
}

static int cmd_heal(void)
{
    size_t n = bu_count(100000);
    char title[240];
    snprintf(title, sizeof title,
             "C6. Heal: partition a | b,c (nftables drop rules), %zu names registered on each "
             "side, heal; time until every node holds all %zu",
             n, 2 * n);
    bu_section(title);
    const char *ns = getenv("BENCH_CL_NETNS");
    if (ns == NULL || strcmp(ns, "1") != 0) {
        bu_line("skipped: no private network namespace (BENCH_NO_NETNS=1, or unshare --net as "
                "root was not possible), and this benchmark does not touch the host's "
                "firewall");
        return 0;
    }
    if (sh("nft --version >/dev/null 2>&1") != 0) {
        bu_line("skipped: nft (nftables) is not installed");
        return 0;
    }
    static const place p = {{0, 1, 1}, -1,
                            "a on CPU 0, b and c on CPU 1 (the two sides), clients anywhere"};
    apply(&p);
    roster_client *c[NNODES];
    uint64_t base[NNODES];
    for (int i = 0; i < NNODES; i++) {
        c[i] = node_connect(i, "bench-heal");
        base[i] = names_of(c[i]);
    }
    uint64_t tp = bu_now_ns();
    if (nft_partition() != 0) {
        bu_line("skipped: nftables rules cannot be installed here");
        return 0;
    }
    wait_up(c[0], 1, 30, "a after the partition");
    wait_up(c[1], 2, 30, "b after the partition");
    wait_up(c[2], 2, 30, "c after the partition");
    bu_line("partition declared on both sides %.0f ms after the rules went in (heartbeats)",
            (double)(bu_now_ns() - tp) / 1e6);
    writer wa, wb;
    writer_start(&wa, 0, "hl/a/", n, p.cpu[0], -1);
    writer_start(&wb, 1, "hl/b/", n, p.cpu[1], -1);
    writer_read(&wa, W_DONE, 120);
    writer_read(&wb, W_DONE, 120);
    wait_names(c[0], base[0] + n, 60, "a during the partition");
    wait_names(c[1], base[1] + n, 60, "b during the partition");
    wait_names(c[2], base[2] + n, 60, "c during the partition");
    bu_line("during the partition: a holds its %zu, b and c hold b's %zu", n, n);

    uint64_t t0 = bu_now_ns();
    if (nft_heal() != 0)
        bu_die("cannot delete the nftables table " NFT_TABLE);
    uint64_t t_mesh = 0, t_conv[NNODES] = {0, 0, 0};
    uint64_t deadline = t0 + 60ull * 1000000000ull;
    for (;;) {
        int done = 1;
        if (t_mesh == 0) {
            if (nodes_up(c[0]) == 3 && nodes_up(c[1]) == 3 && nodes_up(c[2]) == 3)
                t_mesh = bu_now_ns();
            else
                done = 0;
        }
        for (int i = 0; i < NNODES; i++) {
            if (t_conv[i] == 0 && names_of(c[i]) == base[i] + 2 * n)
                t_conv[i] = bu_now_ns();
            done = done && t_conv[i] != 0;
        }
        if (done)
            break;
        if (bu_now_ns() > deadline)
            bu_die("not converged 60 s after the heal (mesh %s)", t_mesh ? "up" : "not up");
        sleep_us(500);
    }
    uint64_t t_all = t_conv[0];
    for (int i = 1; i < NNODES; i++)
        t_all = t_conv[i] > t_all ? t_conv[i] : t_all;
    double d_mesh = (double)(t_mesh - t0) / 1e6, d_all = (double)(t_all - t0) / 1e6;
    bu_line("%-44s %8.2f ms", "heal -> every node sees 3 up", d_mesh);
    bu_line("%-44s %8.2f ms   (a %.2f, b %.2f, c %.2f)", "heal -> every node holds all names",
            d_all, (double)(t_conv[0] - t0) / 1e6, (double)(t_conv[1] - t0) / 1e6,
            (double)(t_conv[2] - t0) / 1e6);
    bu_line("%-44s %8.2f ms", "  of which after the mesh was up", d_all - d_mesh);
    bu_result("cl_heal_names", (double)n);
    bu_result("cl_heal_mesh_ms", d_mesh);
    bu_result("cl_heal_conv_ms", d_all);
    bu_result("cl_heal_after_mesh_ms", d_all - d_mesh);
    writer_stop(&wa);
    writer_stop(&wb);
    for (int i = 0; i < NNODES; i++)
        roster_close(c[i]);
    return 0;
}

/* --- C7: memory ----------------------------------------------------------------------- */

#define MEM_FMT "mem.%014zu" /* 18 bytes, as in figure 7 */
#define MEM_LEN 18

static int cmd_memory(void)
{
    size_t n = bu_count(1000000);
    char title[240];
    snprintf(title, sizeof title,
             "C7. Memory: VmRSS of b before/after %zu names (%d bytes, empty metadata) "
             "registered on a and replicated",
             n, MEM_LEN);
    bu_section(title);
    static const place p = {{0, 1, 1}, 0, "a and its writer on CPU 0, b and c on CPU 1"};
    apply(&p);
    roster_client *c[NNODES];
    uint64_t base[NNODES];
    long rss0[NNODES], rss1[NNODES];
    for (int i = 0; i < NNODES; i++) {
        c[i] = node_connect(i, "bench-memory");
        base[i] = names_of(c[i]);
        rss0[i] = bu_rss_kb(node_pid(i));
        if (rss0[i] < 0)
            bu_die("cannot read VmRSS of node %s", NODE_NAME[i]);
    }
    roster_pid self = roster_self(c[0]);
    char name[64];
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(name, sizeof name, MEM_FMT, i);
        bu_check(c[0], "roster_register_async",
                 roster_register_async(c[0], NULL, name, (size_t)len, self, NULL, 0, NULL));
        if ((i + 1) % BU_BATCH == 0 || i + 1 == n)
            bu_check_wait(c[0], "roster_wait_all", roster_wait_all(c[0], BU_TIMEOUT_MS));
    }
    uint64_t t_ack = bu_now_ns();
    uint64_t tb = wait_names(c[1], base[1] + n, 120, "b");
    uint64_t tc = wait_names(c[2], base[2] + n, 120, "c");
    for (int i = 0; i < NNODES; i++)
        rss1[i] = bu_rss_kb(node_pid(i));
    bu_line("a acknowledged %zu in %.3f s (%.0f/s); all on b after %.3f s, on c after %.3f s",
            n, (double)(t_ack - t0) / 1e9, bu_rate(n, t_ack - t0), (double)(tb - t0) / 1e9,
            (double)(tc - t0) / 1e9);
    for (int i = 0; i < NNODES; i++) {
        double per = (double)(rss1[i] - rss0[i]) * 1024.0 / (double)n;
        bu_line("%s VmRSS %7ld -> %7ld KiB: %6.1f bytes per %s name (%.1f beyond the %d name "
                "bytes)",
                NODE_NAME[i], rss0[i], rss1[i], per, i == 0 ? "local" : "replicated",
                per - MEM_LEN, MEM_LEN);
    }
    double per_b = (double)(rss1[1] - rss0[1]) * 1024.0 / (double)n;
    double per_a = (double)(rss1[0] - rss0[0]) * 1024.0 / (double)n;
    bu_result("cl_mem_names", (double)n);
    bu_result("cl_mem_per_name_b", per_b);
    bu_result("cl_mem_beyond_b", per_b - MEM_LEN);
    bu_result("cl_mem_per_name_a", per_a);
    for (int i = 0; i < NNODES; i++)
        roster_close(c[i]);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "main") == 0)
        return cmd_main();
    if (argc == 4 && strcmp(argv[1], "purge") == 0)
        return cmd_purge(atoi(argv[2]), atoi(argv[3]));
    if (argc == 2 && strcmp(argv[1], "heal") == 0)
        return cmd_heal();
    if (argc == 2 && strcmp(argv[1], "memory") == 0)
        return cmd_memory();
    fprintf(stderr, "usage: bench_cluster main | purge ROUND ROUNDS | heal | memory\n");
    return 2;
}
