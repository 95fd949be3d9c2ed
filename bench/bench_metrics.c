/* bench_metrics.c: what a Prometheus scraper costs the client path. It starts its own
 * rosterd (the one beside this program, or argv[1]) with --http on a free loopback port,
 * then runs rounds of pipelined register + unregister (batches of BU_BATCH, one client)
 * for a fixed time each, alternating rounds with a scraper thread that GETs /metrics
 * every 100 ms and rounds without it (ABAB..., so drift in the machine's load hits both
 * sides alike). It prints the median throughput of each side and the difference.
 * It also prints the median ratio of adjacent on/off rounds, which cancels slow drift,
 * and the loop thread's CPU time per operation on each side (schedstat), which the load of
 * a shared machine does not swamp. BENCH_METRICS_NOHTTP=1 starts rosterd without --http
 * (no scraper, no request timing) to show what --http itself costs per operation.
 *   bench_metrics [ROSTERD] [ROUNDS] [ROUND_MS]     (defaults: beside, 20, 1000)
 * Every request (a register or an unregister) counts as one operation. */
#include "bench_util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int g_port;
static volatile int g_scrape; /* 1: the scraper polls; 0: it idles; -1: it ends */
static volatile uint64_t g_scrapes;
static volatile uint64_t g_scrape_bytes;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("bench_metrics: free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* scrape_once GETs /metrics; returns the bytes read, or -1. */
static long scrape_once(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return -1;
    }
    char buf[65536];
    long total = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        total += r;
    close(fd);
    return total;
}

static void *scraper(void *arg)
{
    (void)arg;
    while (g_scrape >= 0) {
        uint64_t t = bu_now_ns();
        if (g_scrape == 1) {
            long n = scrape_once();
            if (n > 0) {
                g_scrapes++;
                g_scrape_bytes += (uint64_t)n;
            }
        }
        uint64_t spent = bu_now_ns() - t;
        uint64_t wait = spent < 100000000u ? 100000000u - spent : 0;
        struct timespec ts = {0, (long)wait};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* round_ops runs pipelined register + unregister for ms; returns operations per second. */
static double round_ops(roster_client *c, uint64_t ms, size_t *base)
{
    char name[64];
    roster_pid self = roster_self(c);
    uint64_t t0 = bu_now_ns(), end = t0 + ms * 1000000u;
    size_t ops = 0;
    while (bu_now_ns() < end) {
        for (size_t i = 0; i < BU_BATCH; i++) {
            size_t len = bu_name(name, sizeof name, "m", *base + i);
            bu_check(c, "register_async",
                     roster_register_async(c, NULL, name, len, self, NULL, 0, NULL));
        }
        bu_check_wait(c, "wait_all", roster_wait_all(c, BU_TIMEOUT_MS));
        for (size_t i = 0; i < BU_BATCH; i++) {
            size_t len = bu_name(name, sizeof name, "m", *base + i);
            bu_check(c, "unregister_async",
                     roster_unregister_async(c, NULL, name, len, NULL));
        }
        bu_check_wait(c, "wait_all", roster_wait_all(c, BU_TIMEOUT_MS));
        *base += BU_BATCH;
        ops += 2 * BU_BATCH;
    }
    return (double)ops * 1e9 / (double)(bu_now_ns() - t0);
}

/* loop_cpu_ns: CPU time of rosterd's loop thread (its main thread: tid == pid), from
 * schedstat (ns), so the HTTP thread's own work is not counted; 0 if unreadable. */
static uint64_t loop_cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    unsigned long long ns = 0;
    if (f) {
        if (fscanf(f, "%llu", &ns) != 1)
            ns = 0;
        fclose(f);
    }
    return ns;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    char rosterd[PATH_MAX];
    if (argc > 1) {
        snprintf(rosterd, sizeof rosterd, "%s", argv[1]);
    } else {
        ssize_t n = readlink("/proc/self/exe", rosterd, sizeof rosterd - 16);
        if (n <= 0)
            return 2;
        rosterd[n] = 0;
        char *slash = strrchr(rosterd, '/');
        strcpy(slash + 1, "rosterd");
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    uint64_t round_ms = argc > 3 ? (uint64_t)atoll(argv[3]) : 1000;
    if (rounds < 2 || rounds % 2)
        rounds = 20;
    char dir[] = "/tmp/roster-bench-metrics-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char sock[128], http[64];
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    g_port = free_port();
    snprintf(http, sizeof http, "127.0.0.1:%d", g_port);
    const char *nohttp = getenv("BENCH_METRICS_NOHTTP");
    int http_on = !(nohttp && *nohttp && strcmp(nohttp, "0"));
    pid_t d = fork();
    if (d == 0) {
        if (http_on)
            execl(rosterd, rosterd, "--socket", sock, "--http", http, "--log-level", "warn",
                  (char *)NULL);
        else
            execl(rosterd, rosterd, "--socket", sock, "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    setenv("ROSTER_SOCKET", sock, 1);
    uint64_t deadline = bu_now_ns() + 10000000000ull;
    while (http_on ? scrape_once() <= 0 : access(sock, F_OK) != 0) {
        if (bu_now_ns() > deadline) {
            fprintf(stderr, "bench_metrics: rosterd did not start\n");
            kill(d, SIGKILL);
            return 1;
        }
        struct timespec ts = {0, 20000000L};
        nanosleep(&ts, NULL);
    }
    roster_client *c = bu_connect("bench_metrics");
    pthread_t th;
    pthread_create(&th, NULL, scraper, NULL);
    size_t base = 0;
    round_ops(c, round_ms / 2 + 1, &base); /* warm up */
    static double on[256], off[256], ratio[256];
    size_t n_on = 0, n_off = 0, n_ratio = 0;
    if (rounds > 256)
        rounds = 256;
    double prev = 0;
    uint64_t cpu[2] = {0, 0}, ops[2] = {0, 0}; /* [scrape]: loop CPU ns, operations */
    for (int r = 0; r < rounds; r++) {
        int scrape = http_on && (r / 2 + r) % 2; /* off on on off off on ...: ABBA */
        g_scrape = scrape;
        uint64_t c0 = loop_cpu_ns(d), b0 = base, t0 = bu_now_ns();
        double v = round_ops(c, round_ms, &base);
        (void)t0;
        cpu[scrape] += loop_cpu_ns(d) - c0;
        ops[scrape] += 2 * (base - b0);
        if (scrape)
            on[n_on++] = v;
        else
            off[n_off++] = v;
        /* rounds 2k and 2k+1 are one of each: their ratio cancels slow drift */
        if (r % 2)
            ratio[n_ratio++] = scrape ? v / prev : prev / v;
        prev = v;
    }
    g_scrape = -1;
    pthread_join(th, NULL);
    /* the node's own account of what the scrapes cost its loop thread */
    static char text[1 << 20];
    double snaps = 0, snap_s = 0;
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
            size_t got = 0;
            ssize_t r;
            if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1))
                while (got + 1 < sizeof text &&
                       (r = read(fd, text + got, sizeof text - 1 - got)) > 0)
                    got += (size_t)r;
            text[got] = 0;
            const char *p = strstr(text, "\nroster_metrics_snapshots_total ");
            if (p)
                snaps = strtod(p + 32, NULL);
            p = strstr(text, "\nroster_metrics_snapshot_seconds_total ");
            if (p)
                snap_s = strtod(p + 39, NULL);
        }
        if (fd >= 0)
            close(fd);
    }
    if (!http_on) {
        double m_off = median(off, n_off);
        printf("register+unregister, pipelined, one client, %d rounds of %llu ms, no --http\n"
               "  throughput:             %10.0f ops/s (median)\n"
               "  loop CPU per operation: %9.1f ns\n",
               rounds, (unsigned long long)round_ms, m_off, (double)cpu[0] / (double)ops[0]);
        roster_close(c);
        kill(d, SIGTERM);
        waitpid(d, NULL, 0);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd) != 0;
    }
    double m_on = median(on, n_on), m_off = median(off, n_off);
    double m_ratio = median(ratio, n_ratio);
    printf("register+unregister, pipelined, one client, %d rounds of %llu ms (interleaved)\n",
           rounds, (unsigned long long)round_ms);
    printf("  no scraper:             %10.0f ops/s (median of %zu rounds, min %.0f max %.0f)\n",
           m_off, n_off, off[0], off[n_off - 1]);
    printf("  scraper every 100 ms:   %10.0f ops/s (median of %zu rounds, min %.0f max %.0f)\n",
           m_on, n_on, on[0], on[n_on - 1]);
    printf("  difference:             %+9.2f %%  (%llu scrapes, %llu bytes each)\n",
           (m_on - m_off) * 100.0 / m_off, (unsigned long long)g_scrapes,
           (unsigned long long)(g_scrapes ? g_scrape_bytes / g_scrapes : 0));
    printf("  paired rounds:          %+9.2f %%  (median of %zu adjacent on/off ratios - 1)\n",
           (m_ratio - 1) * 100.0, n_ratio);
    if (ops[0] && ops[1])
        printf("  loop CPU per operation: %9.1f ns without, %.1f ns with the scraper (%+.2f %%)\n",
               (double)cpu[0] / (double)ops[0], (double)cpu[1] / (double)ops[1],
               ((double)cpu[1] / (double)ops[1] / ((double)cpu[0] / (double)ops[0]) - 1) *
                   100.0);
    if (snaps > 0)
        printf("  loop time per scrape:   %9.1f us (%.0f snapshots): %.4f %% of the loop at "
               "10 scrapes/s\n", snap_s * 1e6 / snaps, snaps, snap_s / snaps * 10 * 100);
    bu_result("metrics_scrape_off_ops", m_off);
    bu_result("metrics_scrape_on_ops", m_on);
    roster_close(c);
    kill(d, SIGTERM);
    int st;
    waitpid(d, &st, 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
