/* bench_shm.c: figure 8, reads from the node's shared-memory region (docs/SHM.md) beside
 * the raw Unix-socket 64-byte round trip measured in the same run, and beside the same
 * reads over the socket (a client with roster_options.no_shm): roster_lookup p50/p99 and
 * lookups/s on one core and on two (one client per thread, one thread per CPU),
 * roster_members of a 1,000-member group, roster_is_member and roster_count; and
 * registration throughput (sync and pipelined) for the comparison with a node started
 * with --no-shm (`bench_shm register TAG` runs only that part: run.sh runs it on a fresh
 * node of each kind; `bench_shm register TAG NPIPE NSYNC` sets the counts).
 */
#include <pthread.h>

#include "bench_util.h"

static roster_client *connect_mode(const char *name, int no_shm)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = getenv("ROSTER_SOCKET");
    o.client_name = name;
    o.timeout_ms = BU_TIMEOUT_MS;
    o.no_shm = no_shm;
    roster_client *c = NULL;
    bu_check(NULL, "roster_connect", roster_connect(&c, &o));
    return c;
}

/* thread_cpu_ns: this thread's CPU time. A loop's ops per CPU-second is its rate on one
 * core whatever else the machine runs (the wall-clock rate is printed beside it). */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void print_cpu_rate(const char *key, size_t n, uint64_t cpu_ns)
{
    double r = cpu_ns ? (double)n * 1e9 / (double)cpu_ns : 0;
    bu_line("  same loop per CPU-second of its threads: %.0f ops/s (%.3f s of CPU)", r,
            (double)cpu_ns / 1e9);
    bu_result(key, r);
}

/* timer_ns: the cost of one bu_now_ns pair, taken off per-call samples of ~100 ns calls. */
static uint64_t timer_ns(void)
{
    bu_lat l;
    bu_lat_init(&l, 10000);
    for (int i = 0; i < 10000; i++) {
        uint64_t a = bu_now_ns();
        bu_lat_add(&l, bu_now_ns() - a);
    }
    bu_lat_sort(&l);
    uint64_t t = l.v[l.n / 2];
    bu_lat_free(&l);
    return t;
}

static double raw_socket_p50(size_t n)
{
    bu_lat l;
    bu_lat_init(&l, n);
    bu_echo e;
    bu_echo_start(&e, NULL);
    for (size_t i = 0; i < n; i++)
        bu_lat_add(&l, bu_echo_rtt(&e));
    bu_echo_stop(&e);
    bu_lat_sort(&l);
    bu_print_lat("raw Unix-socket 64 B round trip", &l);
    double p = bu_pct_us(&l, 0.5);
    bu_lat_free(&l);
    return p;
}

/* lookups: n random lookups of the fill's names; per-call latency (timer cost taken off)
 * and the rate of the loop without per-call timing. */
static void lookups(roster_client *c, size_t names, size_t n, const char *label,
                    const char *key, double sock, uint64_t tcost)
{
    char name[64];
    roster_entry e;
    uint64_t rnd = 0x9e3779b97f4a7c15ull;
    bu_lat l;
    bu_lat_init(&l, n);
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, "lk/", (size_t)(bu_rand(&rnd) % names));
        uint64_t a = bu_now_ns();
        int rc = roster_lookup(c, NULL, name, len, &e, BU_TIMEOUT_MS);
        uint64_t d = bu_now_ns() - a;
        bu_check(c, "roster_lookup", rc);
        roster_entry_free(&e);
        bu_lat_add(&l, d > tcost ? d - tcost : 0);
    }
    bu_lat_sort(&l);
    bu_print_lat(label, &l);
    uint64_t t0 = bu_now_ns(), c0 = thread_cpu_ns();
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, "lk/", (size_t)(bu_rand(&rnd) % names));
        bu_check(c, "roster_lookup", roster_lookup(c, NULL, name, len, &e, BU_TIMEOUT_MS));
        roster_entry_free(&e);
    }
    uint64_t t = bu_now_ns() - t0, cpu = thread_cpu_ns() - c0;
    bu_print_rate("  same, untimed loop (1 client)", n, t);
    char k[96];
    snprintf(k, sizeof k, "%s_cpu_ops", key);
    print_cpu_rate(k, n, cpu);
    snprintf(k, sizeof k, "%s_p50_us", key);
    bu_result(k, bu_pct_us(&l, 0.5));
    snprintf(k, sizeof k, "%s_p99_us", key);
    bu_result(k, bu_pct_us(&l, 0.99));
    snprintf(k, sizeof k, "%s_ops", key);
    bu_result(k, bu_rate(n, t));
    if (sock > 0) {
        bu_line("  p50 / raw socket p50 = %.3f / %.2f µs = %.3fx", bu_pct_us(&l, 0.5), sock,
                bu_pct_us(&l, 0.5) / sock);
        snprintf(k, sizeof k, "%s_ratio", key);
        bu_result(k, bu_pct_us(&l, 0.5) / sock);
    }
    bu_lat_free(&l);
}

/* lookups_into: the same random lookups through roster_lookup_into (caller's buffers, no
 * allocation): per-call latency, then the untimed loop's rate. */
static void lookups_into(roster_client *c, size_t names, size_t n, double sock, uint64_t tcost)
{
    char name[64], meta[64];
    roster_found f;
    uint64_t rnd = 0x9e3779b97f4a7c15ull;
    bu_lat l;
    bu_lat_init(&l, n);
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, "lk/", (size_t)(bu_rand(&rnd) % names));
        uint64_t a = bu_now_ns();
        int rc = roster_lookup_into(c, NULL, name, len, &f, meta, sizeof meta, BU_TIMEOUT_MS);
        uint64_t d = bu_now_ns() - a;
        bu_check(c, "roster_lookup_into", rc);
        if (f.meta_len != 1 || meta[0] != 'm')
            bu_die("roster_lookup_into: wrong metadata");
        bu_lat_add(&l, d > tcost ? d - tcost : 0);
    }
    bu_lat_sort(&l);
    bu_print_lat("roster_lookup_into (shared memory)", &l);
    uint64_t t0 = bu_now_ns(), c0 = thread_cpu_ns();
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, "lk/", (size_t)(bu_rand(&rnd) % names));
        bu_check(c, "roster_lookup_into",
                 roster_lookup_into(c, NULL, name, len, &f, meta, sizeof meta, BU_TIMEOUT_MS));
    }
    uint64_t t = bu_now_ns() - t0, cpu = thread_cpu_ns() - c0;
    bu_print_rate("  same, untimed loop (1 client)", n, t);
    print_cpu_rate("shm_lookup_into_cpu_ops", n, cpu);
    bu_line("  p50 / raw socket p50 = %.3f / %.2f µs = %.3fx", bu_pct_us(&l, 0.5), sock,
            bu_pct_us(&l, 0.5) / sock);
    bu_result("shm_lookup_into_p50_us", bu_pct_us(&l, 0.5));
    bu_result("shm_lookup_into_p99_us", bu_pct_us(&l, 0.99));
    bu_result("shm_lookup_into_ops", bu_rate(n, t));
    bu_result("shm_lookup_into_ratio", bu_pct_us(&l, 0.5) / sock);
    bu_lat_free(&l);
}

struct par {
    size_t names, n;
    int cpu;
    int into;
    uint64_t ns, cpu_ns;
};

static void *par_run(void *arg)
{
    struct par *p = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(p->cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    roster_client *c = connect_mode("bench-shm-par", 0);
    char name[64], meta[64];
    roster_entry e;
    roster_found f;
    uint64_t rnd = 0x2545f4914f6cdd1dull ^ (uint64_t)p->cpu;
    uint64_t t0 = bu_now_ns(), c0 = thread_cpu_ns();
    for (size_t i = 0; i < p->n; i++) {
        size_t len = bu_name(name, sizeof name, "lk/", (size_t)(bu_rand(&rnd) % p->names));
        if (p->into) {
            bu_check(c, "roster_lookup_into",
                     roster_lookup_into(c, NULL, name, len, &f, meta, sizeof meta,
                                        BU_TIMEOUT_MS));
            continue;
        }
        bu_check(c, "roster_lookup", roster_lookup(c, NULL, name, len, &e, BU_TIMEOUT_MS));
        roster_entry_free(&e);
    }
    p->ns = bu_now_ns() - t0;
    p->cpu_ns = thread_cpu_ns() - c0;
    roster_close(c);
    return NULL;
}

static void two_cores(size_t names, size_t n, int into)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 2) {
        bu_line("(one CPU: no two-core figure)");
        return;
    }
    struct par p[2] = {{names, n, 0, into, 0, 0}, {names, n, 1, into, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, par_run, &p[i]) != 0)
            bu_die("pthread_create");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    uint64_t slow = p[0].ns > p[1].ns ? p[0].ns : p[1].ns;
    bu_print_rate(into ? "roster_lookup_into, 2 clients on 2 CPUs, total"
                       : "roster_lookup, 2 clients on 2 CPUs, total",
                  2 * n, slow);
    bu_result(into ? "shm_lookup_into2_ops" : "shm_lookup2_ops", bu_rate(2 * n, slow));
    print_cpu_rate(into ? "shm_lookup_into2_cpu_ops" : "shm_lookup2_cpu_ops", 2 * n,
                   p[0].cpu_ns + p[1].cpu_ns);
}

static void members(roster_client *c, size_t n, const char *label, const char *key,
                    double sock, uint64_t tcost)
{
    bu_lat l;
    bu_lat_init(&l, n);
    roster_entries out;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = bu_now_ns();
        int rc = roster_members(c, NULL, "g1000", 5, 0, &out, BU_TIMEOUT_MS);
        uint64_t d = bu_now_ns() - a;
        bu_check(c, "roster_members", rc);
        if (out.n != 1000)
            bu_die("roster_members: %zu members, expected 1000", out.n);
        roster_entries_free(&out);
        bu_lat_add(&l, d > tcost ? d - tcost : 0);
    }
    bu_lat_sort(&l);
    bu_print_lat(label, &l);
    char k[96];
    snprintf(k, sizeof k, "%s_p50_us", key);
    bu_result(k, bu_pct_us(&l, 0.5));
    snprintf(k, sizeof k, "%s_p99_us", key);
    bu_result(k, bu_pct_us(&l, 0.99));
    if (sock > 0)
        bu_line("  p50 / raw socket p50 = %.2fx", bu_pct_us(&l, 0.5) / sock);
    bu_lat_free(&l);
}

/* members_into: roster_members_into of the 1,000-member group into the caller's array. */
static void members_into(roster_client *c, size_t n, double sock, uint64_t tcost)
{
    bu_lat l;
    bu_lat_init(&l, n);
    static roster_pid pids[1024];
    for (size_t i = 0; i < n; i++) {
        size_t got = 0;
        uint64_t a = bu_now_ns();
        int rc = roster_members_into(c, NULL, "g1000", 5, 0, pids, 1024, &got, BU_TIMEOUT_MS);
        uint64_t d = bu_now_ns() - a;
        bu_check(c, "roster_members_into", rc);
        if (got != 1000)
            bu_die("roster_members_into: %zu members, expected 1000", got);
        bu_lat_add(&l, d > tcost ? d - tcost : 0);
    }
    bu_lat_sort(&l);
    bu_print_lat("roster_members_into of 1,000 (shared memory)", &l);
    bu_line("  p50 / raw socket p50 = %.3fx", bu_pct_us(&l, 0.5) / sock);
    bu_result("shm_members_into_p50_us", bu_pct_us(&l, 0.5));
    bu_result("shm_members_into_p99_us", bu_pct_us(&l, 0.99));
    bu_lat_free(&l);
}

/* small: is-member and count, region only (a few hundred ns each). */
static void small_reads(roster_client *c, roster_pid member, size_t n, uint64_t tcost)
{
    bu_lat l;
    bu_lat_init(&l, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t a = bu_now_ns();
        int rc = roster_is_member(c, NULL, "g1000", 5, member, BU_TIMEOUT_MS);
        uint64_t d = bu_now_ns() - a;
        if (rc != 1)
            bu_die("roster_is_member: %d", rc);
        bu_lat_add(&l, d > tcost ? d - tcost : 0);
    }
    bu_lat_sort(&l);
    bu_print_lat("roster_is_member (shared memory)", &l);
    bu_result("shm_is_member_p50_us", bu_pct_us(&l, 0.5));
    l.n = 0;
    roster_counts cn;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = bu_now_ns();
        bu_check(c, "roster_count", roster_count(c, NULL, NULL, &cn, BU_TIMEOUT_MS));
        uint64_t d = bu_now_ns() - a;
        bu_lat_add(&l, d > tcost ? d - tcost : 0);
    }
    bu_lat_sort(&l);
    bu_print_lat("roster_count (shared memory)", &l);
    bu_result("shm_count_p50_us", bu_pct_us(&l, 0.5));
    bu_lat_free(&l);
}

/* registers: sync and pipelined registration throughput on this node, results under tag. */
static void registers(const char *tag, size_t n, size_t np)
{
    roster_client *c = connect_mode("bench-shm-reg", 1);
    roster_pid self = roster_self(c);
    char name[64], k[96];
    bu_pin(BU_SAME);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, "rs/", i);
        bu_check(c, "roster_register",
                 roster_register(c, NULL, name, len, self, "m", 1, NULL, BU_TIMEOUT_MS));
    }
    uint64_t t = bu_now_ns() - t0;
    bu_line("%s:", tag);
    if (n) {
        bu_print_rate("  register, 1 client sync", n, t);
        snprintf(k, sizeof k, "%s_reg_sync_ops", tag);
        bu_result(k, bu_rate(n, t));
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, "rs/", i);
        bu_check(c, "roster_unregister_async",
                 roster_unregister_async(c, NULL, name, len, NULL));
        if ((i + 1) % BU_BATCH == 0 || i + 1 == n)
            bu_check_wait(c, "roster_wait_all", roster_wait_all(c, BU_TIMEOUT_MS));
    }
    bu_pin(BU_OTHER);
    bu_cpu cpu;
    bu_cpu_start(&cpu);
    t0 = bu_now_ns();
    for (size_t i = 0; i < np; i++) {
        size_t len = bu_name(name, sizeof name, "rp/", i);
        bu_check(c, "roster_register_async",
                 roster_register_async(c, NULL, name, len, self, "m", 1, NULL));
        if ((i + 1) % BU_BATCH == 0 || i + 1 == np)
            bu_check_wait(c, "roster_wait_all", roster_wait_all(c, BU_TIMEOUT_MS));
    }
    t = bu_now_ns() - t0;
    bu_print_rate("  register, 1 client pipelined", np, t);
    bu_cpu_print(&cpu, np); /* CPU per op: steadier than the rate on a busy machine */
    snprintf(k, sizeof k, "%s_reg_pipe_ops", tag);
    bu_result(k, bu_rate(np, t));
    roster_close(c);
    bu_pin(BU_ANY);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "register") == 0) {
        /* optional counts: pipelined, then sync (0 skips it): a long pipelined run alone
         * is what a profile of the node's publishing wants */
        size_t np = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : bu_count(200000);
        size_t n = argc > 4 ? (size_t)strtoull(argv[4], NULL, 10) : bu_count(100000);
        registers(argc > 2 ? argv[2] : "noshm", n, np);
        return 0;
    }
    size_t names = bu_count(100000), n = bu_count(200000);
    bu_section("8. Shared-memory reads (docs/SHM.md): lookups and listings without a system "
               "call, beside the socket");
    roster_client *owner = connect_mode("bench-shm-owner", 0);
    roster_client *r = connect_mode("bench-shm", 0), *s = connect_mode("bench-shm-sock", 1);
    if (!roster_uses_shm(r))
        bu_die("the node gave no shared-memory region (started with --no-shm?)");
    roster_pid self = roster_self(owner);
    char name[64];
    bu_pin(BU_OTHER);
    for (size_t i = 0; i < names; i++) {
        size_t len = bu_name(name, sizeof name, "lk/", i);
        bu_check(owner, "roster_register_async",
                 roster_register_async(owner, NULL, name, len, self, "m", 1, NULL));
        if ((i + 1) % BU_BATCH == 0 || i + 1 == names)
            bu_check_wait(owner, "roster_wait_all", roster_wait_all(owner, BU_TIMEOUT_MS));
    }
    roster_pid first = self;
    for (int i = 0; i < 1000; i++) {
        roster_pid p;
        bu_check(owner, "roster_pid_new", roster_pid_new(owner, &p, BU_TIMEOUT_MS));
        if (i == 0)
            first = p;
        bu_check(owner, "roster_join_async",
                 roster_join_async(owner, NULL, "g1000", 5, p, "member-meta", 11, NULL));
    }
    bu_check_wait(owner, "roster_wait_all", roster_wait_all(owner, BU_TIMEOUT_MS));
    bu_line("filled: %zu names, a group of 1,000 members", names);

    bu_pin(BU_SAME);
    uint64_t tcost = timer_ns();
    bu_line("timer pair cost %llu ns (taken off each per-call sample below)",
            (unsigned long long)tcost);
    double sock = raw_socket_p50(bu_count(50000));
    bu_result("shm_sock_p50_us", sock);
    lookups(r, names, n, "roster_lookup (shared memory)", "shm_lookup", sock, tcost);
    lookups_into(r, names, n, sock, tcost);
    lookups(s, names, bu_count(50000), "roster_lookup (socket, no_shm)", "shm_sockpath_lookup",
            sock, tcost);
    bu_pin(BU_ANY);
    two_cores(names, n, 0);
    two_cores(names, n, 1);
    bu_pin(BU_SAME);
    members(r, bu_count(5000), "roster_members of 1,000 (shared memory)", "shm_members", sock,
            tcost);
    members_into(r, bu_count(5000), sock, tcost);
    members(s, bu_count(2000), "roster_members of 1,000 (socket, no_shm)", "shm_sockpath_members",
            sock, tcost);
    small_reads(r, first, bu_count(100000), tcost);
    bu_pin(BU_ANY);
    roster_close(r);
    roster_close(s);
    roster_close(owner);
    return 0;
}
