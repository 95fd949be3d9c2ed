/* bench_util.h: helpers shared by the benchmark programs (header-only, static inline).
 *
 * - Clock: bu_now_ns() reads CLOCK_MONOTONIC in nanoseconds.
 * - Counts: bu_count(n) is n, or n / 10 when BENCH_QUICK=1 (smoke runs).
 * - Latency samples: bu_lat collects nanoseconds; after bu_lat_sort, bu_pct_us gives a
 *   percentile (nearest rank) in microseconds.
 * - Printing: bu_section / bu_line / bu_print_lat / bu_print_rate write the report.
 * - Results: bu_result(key, value) appends "key value" to the file named by $BENCH_RESULTS,
 *   so that later programs (ratios) and the final summary can use earlier figures.
 * - Placement: run.sh pins rosterd to one CPU and exports BENCH_DAEMON_CPU; bu_pin(BU_SAME)
 *   puts the calling process on the daemon's CPU, bu_pin(BU_OTHER) on another one,
 *   bu_pin(BU_ANY) lets the scheduler choose. (On this VM a wake-up across CPUs costs tens of
 *   microseconds, so latency figures are reported per placement.) BENCH_NOPIN=1 in run.sh
 *   disables every pin.
 * - Node: bu_connect() opens a client on $ROSTER_SOCKET; bu_check() exits 1 with the error
 *   when an operation fails (benchmarks never assert timing, only success).
 */
#ifndef ROSTER_BENCH_UTIL_H
#define ROSTER_BENCH_UTIL_H

#include <roster.h>

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Timeout of every blocking call of the benchmarks: long, but never forever. */
#define BU_TIMEOUT_MS 30000
/* Requests queued between two roster_wait_all calls in pipelined figures. */
#define BU_BATCH 1000

static inline uint64_t bu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int bu_quick(void)
{
    const char *q = getenv("BENCH_QUICK");
    return q != NULL && *q != '\0' && strcmp(q, "0") != 0;
}

static inline size_t bu_count(size_t full)
{
    if (!bu_quick())
        return full;
    return full / 10 ? full / 10 : 1;
}

/* --- failures ------------------------------------------------------------------------- */

__attribute__((format(printf, 1, 2), noreturn)) static inline void bu_die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("bench: FAILED: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* bu_check exits 1 if rc is a roster error (negative). */
static inline void bu_check(const roster_client *c, const char *what, int rc)
{
    if (rc < 0)
        bu_die("%s: %s (%s)%s%s", what, roster_err_name(rc), roster_strerror(rc),
               c ? ": " : "", c ? roster_errdetail(c) : "");
}

/* bu_check_wait checks a roster_wait_all result: negative error or failed requests. */
static inline void bu_check_wait(const roster_client *c, const char *what, int rc)
{
    bu_check(c, what, rc);
    if (rc > 0)
        bu_die("%s: %d pipelined requests failed%s%s", what, rc, c ? ": " : "",
               c ? roster_errdetail(c) : "");
}

static inline void *bu_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        bu_die("out of memory (%zu bytes)", n);
    return p;
}

/* --- latency samples ------------------------------------------------------------------ */

typedef struct bu_lat {
    uint64_t *v;
    size_t n;
    size_t cap;
} bu_lat;

static inline void bu_lat_init(bu_lat *l, size_t cap)
{
    l->v = bu_xmalloc(cap * sizeof *l->v);
    l->n = 0;
    l->cap = cap;
}

static inline void bu_lat_add(bu_lat *l, uint64_t ns)
{
    if (l->n < l->cap)
        l->v[l->n++] = ns;
}

static inline int bu_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static inline void bu_lat_sort(bu_lat *l) { qsort(l->v, l->n, sizeof *l->v, bu_cmp_u64); }

/* bu_pct_us: percentile p (0..1) of sorted samples, nearest rank, in microseconds. */
static inline double bu_pct_us(const bu_lat *l, double p)
{
    if (l->n == 0)
        return 0;
    size_t i = (size_t)(p * (double)l->n + 0.5);
    if (i > 0)
        i--;
    if (i >= l->n)
        i = l->n - 1;
    return (double)l->v[i] / 1000.0;
}

static inline double bu_mean_us(const bu_lat *l)
{
    if (l->n == 0)
        return 0;
    double s = 0;
    for (size_t i = 0; i < l->n; i++)
        s += (double)l->v[i];
    return s / (double)l->n / 1000.0;
}

static inline void bu_lat_free(bu_lat *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* --- printing ------------------------------------------------------------------------- */

static inline void bu_section(const char *title)
{
    printf("\n== %s%s\n", title, bu_quick() ? " [BENCH_QUICK: counts / 10]" : "");
    fflush(stdout);
}

__attribute__((format(printf, 1, 2))) static inline void bu_line(const char *fmt, ...)
{
    va_list ap;
    fputs("   ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* bu_print_lat prints p50/p99/p999/mean of sorted samples. */
static inline void bu_print_lat(const char *label, const bu_lat *l)
{
    bu_line("%-40s p50 %8.2f µs   p99 %8.2f µs   p999 %8.2f µs   mean %8.2f µs   (n=%zu)",
            label, bu_pct_us(l, 0.50), bu_pct_us(l, 0.99), bu_pct_us(l, 0.999), bu_mean_us(l),
            l->n);
}

static inline double bu_rate(size_t ops, uint64_t ns)
{
    return ns ? (double)ops * 1e9 / (double)ns : 0;
}

static inline void bu_print_rate(const char *label, size_t ops, uint64_t ns)
{
    bu_line("%-40s %10.0f ops/s   (%zu ops in %.3f s)", label, bu_rate(ops, ns), ops,
            (double)ns / 1e9);
}

/* --- results file ---------------------------------------------------------------------- */

static inline void bu_result(const char *key, double value)
{
    const char *path = getenv("BENCH_RESULTS");
    if (path == NULL || *path == '\0')
        return;
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return;
    fprintf(f, "%s %.6f\n", key, value);
    fclose(f);
}

/* bu_result_get finds the last value written for key; returns 0, or -1 if absent. */
static inline int bu_result_get(const char *key, double *out)
{
    const char *path = getenv("BENCH_RESULTS");
    if (path == NULL || *path == '\0')
        return -1;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char k[128];
    double v;
    int found = -1;
    while (fscanf(f, "%127s %lf", k, &v) == 2) {
        if (strcmp(k, key) == 0) {
            *out = v;
            found = 0;
        }
    }
    fclose(f);
    return found;
}

/* --- placement ------------------------------------------------------------------------ */

enum { BU_ANY = 0, BU_SAME = 1, BU_OTHER = 2 };

/* bu_daemon_cpu returns the CPU rosterd is pinned to, or -1 when nothing is pinned. */
static inline int bu_daemon_cpu(void)
{
    const char *s = getenv("BENCH_DAEMON_CPU");
    if (s == NULL || *s == '\0' || sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return -1;
    return (int)strtol(s, NULL, 10);
}

static inline int bu_pinning(void) { return bu_daemon_cpu() >= 0; }

/* bu_pin places the calling process (inherited by children forked later). */
static inline void bu_pin(int where)
{
    int d = bu_daemon_cpu();
    if (d < 0)
        return;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (where == BU_SAME) {
        CPU_SET(d, &set);
    } else if (where == BU_OTHER) {
        CPU_SET((int)((d + 1) % ncpu), &set);
    } else {
        for (long i = 0; i < ncpu && i < CPU_SETSIZE; i++)
            CPU_SET((int)i, &set);
    }
    (void)sched_setaffinity(0, sizeof set, &set);
}

static inline const char *bu_place_name(int where)
{
    if (!bu_pinning())
        return "unpinned";
    return where == BU_SAME ? "same CPU as rosterd" : where == BU_OTHER ? "other CPU" : "any CPU";
}

/* --- node ------------------------------------------------------------------------------ */

static inline roster_client *bu_connect(const char *client_name)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = getenv("ROSTER_SOCKET");
    o.client_name = client_name;
    o.timeout_ms = BU_TIMEOUT_MS;
    roster_client *c = NULL;
    int rc = roster_connect(&c, &o);
    bu_check(NULL, "roster_connect", rc);
    return c;
}

/* bu_rosterd_pid returns $ROSTERD_PID (set by run.sh), or 0. */
static inline pid_t bu_rosterd_pid(void)
{
    const char *s = getenv("ROSTERD_PID");
    return s ? (pid_t)strtol(s, NULL, 10) : 0;
}

/* bu_rss_kb returns VmRSS of process pid in KiB, or -1. */
static inline long bu_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* --- CPU time: who pays for a figure ---------------------------------------------------- */

/* bu_cpu_ns returns the CPU time (user + system) consumed so far by process pid (0: this
 * process), in ns, or 0 if it cannot be read. */
static inline uint64_t bu_cpu_ns(pid_t pid)
{
    clockid_t id = CLOCK_PROCESS_CPUTIME_ID;
    if (pid > 0 && clock_getcpuclockid(pid, &id) != 0)
        return 0;
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct bu_cpu {
    uint64_t daemon;
    uint64_t self;
} bu_cpu;

static inline void bu_cpu_start(bu_cpu *c)
{
    c->daemon = bu_cpu_ns(bu_rosterd_pid());
    c->self = bu_cpu_ns(0);
}

/* bu_cpu_print prints the CPU time per operation spent by rosterd and by this client since
 * bu_cpu_start (skipped when rosterd's pid is unknown). */
static inline void bu_cpu_print(const bu_cpu *c, size_t ops)
{
    pid_t d = bu_rosterd_pid();
    if (d <= 0 || c->daemon == 0 || ops == 0)
        return;
    double dn = (double)(bu_cpu_ns(d) - c->daemon), sn = (double)(bu_cpu_ns(0) - c->self);
    bu_line("%-40s rosterd %6.2f µs/op, this client %6.2f µs/op", "  CPU time per op:",
            dn / 1000.0 / (double)ops, sn / 1000.0 / (double)ops);
}

/* bu_name formats "<prefix><i, 10 digits>" into buf and returns its length. */
static inline size_t bu_name(char *buf, size_t cap, const char *prefix, size_t i)
{
    int n = snprintf(buf, cap, "%s%010zu", prefix, i);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* bu_rand: xorshift64, deterministic. */
static inline uint64_t bu_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* --- processes ------------------------------------------------------------------------- */

static inline int bu_read_full(int fd, void *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t r = read(fd, (char *)buf + off, n - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        off += (size_t)r;
    }
    return 0;
}

static inline int bu_write_full(int fd, const void *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t r = write(fd, (const char *)buf + off, n - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        off += (size_t)r;
    }
    return 0;
}

/* --- raw socket echo: the floor ------------------------------------------------------- */

/* A forked child on rosterd's CPU echoes BU_MSG-byte messages over a socketpair; the
 * parent times round trips. bench_socket measures the floor with it, bench_lookup
 * interleaves it with roster calls so that both see the same machine conditions. */
#define BU_MSG 64

typedef struct bu_echo {
    int fd;
    pid_t pid;
} bu_echo;

/* bu_echo_serve: the blocking echo loop (child side); exits when the parent closes. */
static inline void bu_echo_serve(int fd)
{
    char b[BU_MSG];
    while (bu_read_full(fd, b, BU_MSG) == 0)
        if (bu_write_full(fd, b, BU_MSG) != 0)
            break;
    _exit(0);
}

/* bu_echo_start forks a child on rosterd's CPU running serve (bu_echo_serve if NULL). */
static inline void bu_echo_start(bu_echo *e, void (*serve)(int))
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        bu_die("socketpair: %s", strerror(errno));
    fflush(stdout);
    e->pid = fork();
    if (e->pid < 0)
        bu_die("fork: %s", strerror(errno));
    if (e->pid == 0) {
        close(sv[0]);
        bu_pin(BU_SAME);
        (serve ? serve : bu_echo_serve)(sv[1]);
        _exit(0);
    }
    close(sv[1]);
    e->fd = sv[0];
}

/* bu_echo_rtt performs one round trip and returns its duration in ns. */
static inline uint64_t bu_echo_rtt(bu_echo *e)
{
    char out[BU_MSG], in[BU_MSG];
    memset(out, 'x', sizeof out);
    uint64_t a = bu_now_ns();
    if (bu_write_full(e->fd, out, BU_MSG) != 0 || bu_read_full(e->fd, in, BU_MSG) != 0)
        bu_die("raw socket ping-pong failed");
    return bu_now_ns() - a;
}

static inline void bu_echo_stop(bu_echo *e)
{
    close(e->fd);
    waitpid(e->pid, NULL, 0);
}

#endif
