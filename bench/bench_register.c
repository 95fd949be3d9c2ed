/* bench_register.c: figure 2, register + unregister throughput.
 *  (a) one client, synchronous: roster_register of N names, then roster_unregister of them,
 *      one call at a time (latency of every call recorded);
 *  (b) one client, pipelined: roster_register_async / roster_unregister_async in batches of
 *      BU_BATCH, each batch closed by roster_wait_all;
 *  (c) two clients in parallel (two processes started together, one on rosterd's CPU, one on
 *      the other), synchronous and pipelined, each for a fixed time (2 s and 1 s) in
 *      batches of BU_BATCH registers then BU_BATCH unregisters; total requests per second.
 * Every request (a register or an unregister) counts as one operation.
 */
#include "bench_util.h"

#include <sys/wait.h>

struct phase_result {
    uint64_t reg_ns;
    uint64_t unreg_ns;
    size_t names;
    double reg_p50_us;
    double reg_p99_us;
};

/* run_sync registers then unregisters n names "<prefix><i>" one call at a time. */
static void run_sync(roster_client *c, const char *prefix, size_t n, bu_lat *lreg,
                     bu_lat *lunreg, struct phase_result *r)
{
    char name[64];
    roster_pid self = roster_self(c);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, prefix, i);
        uint64_t a = bu_now_ns();
        int rc = roster_register(c, NULL, name, len, self, NULL, 0, NULL, BU_TIMEOUT_MS);
        uint64_t b = bu_now_ns();
        bu_check(c, "roster_register", rc);
        if (lreg)
            bu_lat_add(lreg, b - a);
    }
    uint64_t t1 = bu_now_ns();
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, prefix, i);
        uint64_t a = bu_now_ns();
        int rc = roster_unregister(c, NULL, name, len, BU_TIMEOUT_MS);
        uint64_t b = bu_now_ns();
        bu_check(c, "roster_unregister", rc);
        if (lunreg)
            bu_lat_add(lunreg, b - a);
    }
    uint64_t t2 = bu_now_ns();
    r->reg_ns = t1 - t0;
    r->unreg_ns = t2 - t1;
    r->names = n;
}

/* run_async does the same with pipelined requests, batches of BU_BATCH. */
static void run_async(roster_client *c, const char *prefix, size_t n, struct phase_result *r)
{
    char name[64];
    roster_pid self = roster_self(c);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, prefix, i);
        bu_check(c, "roster_register_async",
                 roster_register_async(c, NULL, name, len, self, NULL, 0, NULL));
        if ((i + 1) % BU_BATCH == 0 || i + 1 == n)
            bu_check_wait(c, "roster_wait_all (register)", roster_wait_all(c, BU_TIMEOUT_MS));
    }
    uint64_t t1 = bu_now_ns();
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, prefix, i);
        bu_check(c, "roster_unregister_async",
                 roster_unregister_async(c, NULL, name, len, NULL));
        if ((i + 1) % BU_BATCH == 0 || i + 1 == n)
            bu_check_wait(c, "roster_wait_all (unregister)",
                          roster_wait_all(c, BU_TIMEOUT_MS));
    }
    uint64_t t2 = bu_now_ns();
    r->reg_ns = t1 - t0;
    r->unreg_ns = t2 - t1;
    r->names = n;
}

/* One parallel worker: until its time is up, register a batch of BU_BATCH names, then
 * unregister them (one call at a time, or pipelined with one roster_wait_all per batch);
 * counts completed requests. */
struct par_result {
    uint64_t ops;
    uint64_t ns;
    double reg_p50_us;
    double reg_p99_us;
};

static void run_for(roster_client *c, const char *prefix, int pipelined, uint64_t dur_ns,
                    struct par_result *r)
{
    char name[64];
    roster_pid self = roster_self(c);
    bu_lat lreg;
    bu_lat_init(&lreg, pipelined ? 1 : 2000000);
    uint64_t t0 = bu_now_ns(), end = t0 + dur_ns;
    size_t ops = 0;
    while (bu_now_ns() < end) {
        for (size_t i = 0; i < BU_BATCH; i++) {
            size_t len = bu_name(name, sizeof name, prefix, i);
            if (pipelined) {
                bu_check(c, "roster_register_async",
                         roster_register_async(c, NULL, name, len, self, NULL, 0, NULL));
            } else {
                uint64_t a = bu_now_ns();
                int rc = roster_register(c, NULL, name, len, self, NULL, 0, NULL, BU_TIMEOUT_MS);
                bu_lat_add(&lreg, bu_now_ns() - a);
                bu_check(c, "roster_register", rc);
            }
        }
        if (pipelined)
            bu_check_wait(c, "roster_wait_all (register)", roster_wait_all(c, BU_TIMEOUT_MS));
        for (size_t i = 0; i < BU_BATCH; i++) {
            size_t len = bu_name(name, sizeof name, prefix, i);
            if (pipelined)
                bu_check(c, "roster_unregister_async",
                         roster_unregister_async(c, NULL, name, len, NULL));
            else
                bu_check(c, "roster_unregister",
                         roster_unregister(c, NULL, name, len, BU_TIMEOUT_MS));
        }
        if (pipelined)
            bu_check_wait(c, "roster_wait_all (unregister)", roster_wait_all(c, BU_TIMEOUT_MS));
        ops += 2 * BU_BATCH;
    }
    r->ops = ops;
    r->ns = bu_now_ns() - t0;
    bu_lat_sort(&lreg);
    r->reg_p50_us = bu_pct_us(&lreg, 0.50);
    r->reg_p99_us = bu_pct_us(&lreg, 0.99);
    bu_lat_free(&lreg);
}

/* Two workers in parallel: each a child process with its own client, client 1 on rosterd's
 * CPU and client 2 on the other. The parent releases both at once (one byte each on the go
 * pipe); both run for the same time; the figure is the sum of their completed requests
 * over the longer of their run times. */
static void run_parallel(int pipelined, uint64_t dur_ns, struct par_result res[2])
{
    int ready[2], go[2], done[2];
    if (pipe(ready) || pipe(go) || pipe(done))
        bu_die("pipe: %s", strerror(errno));
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] < 0)
            bu_die("fork: %s", strerror(errno));
        if (kids[k] == 0) {
            close(ready[0]);
            close(go[1]);
            close(done[0]);
            bu_pin(k == 0 ? BU_SAME : BU_OTHER);
            roster_client *c = bu_connect(pipelined ? "bench-par-async" : "bench-par-sync");
            char prefix[32];
            snprintf(prefix, sizeof prefix, "par%d/%c/", k, pipelined ? 'a' : 's');
            char b = 'r';
            if (bu_write_full(ready[1], &b, 1) || bu_read_full(go[0], &b, 1))
                _exit(1);
            struct par_result r;
            run_for(c, prefix, pipelined, dur_ns, &r);
            if (bu_write_full(done[1], &r, sizeof r))
                _exit(1);
            roster_close(c);
            _exit(0);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(done[1]);
    char b[2];
    if (bu_read_full(ready[0], b, 2))
        bu_die("a parallel worker failed to start");
    if (bu_write_full(go[1], "gg", 2))
        bu_die("go pipe: %s", strerror(errno));
    int bad = 0;
    for (int k = 0; k < 2; k++)
        if (bu_read_full(done[0], &res[k], sizeof res[k]))
            bad = 1;
    for (int k = 0; k < 2; k++) {
        int st;
        if (waitpid(kids[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad = 1;
    }
    close(ready[0]);
    close(go[1]);
    close(done[0]);
    if (bad)
        bu_die("a parallel worker failed (see its message above)");
}

static void print_parallel(const char *what, const struct par_result res[2], int pipelined,
                           const char *key)
{
    uint64_t ns = res[0].ns > res[1].ns ? res[0].ns : res[1].ns;
    char label[64], k[64];
    for (int i = 0; i < 2; i++) {
        snprintf(label, sizeof label, "%s, client %d", what, i + 1);
        bu_print_rate(label, (size_t)res[i].ops, res[i].ns);
    }
    snprintf(label, sizeof label, "%s, total", what);
    bu_print_rate(label, (size_t)(res[0].ops + res[1].ops), ns);
    if (!pipelined)
        bu_line("  %-38s p50 %8.2f / %.2f µs   p99 %8.2f / %.2f µs (client 1 / client 2)",
                "roster_register latency", res[0].reg_p50_us, res[1].reg_p50_us,
                res[0].reg_p99_us, res[1].reg_p99_us);
    snprintf(k, sizeof k, "%s_ops", key);
    bu_result(k, bu_rate((size_t)(res[0].ops + res[1].ops), ns));
}

static void print_phase(const char *what, const struct phase_result *r, const char *key)
{
    char label[64], k[64];
    snprintf(label, sizeof label, "%s register", what);
    bu_print_rate(label, r->names, r->reg_ns);
    snprintf(label, sizeof label, "%s unregister", what);
    bu_print_rate(label, r->names, r->unreg_ns);
    snprintf(label, sizeof label, "%s register+unregister", what);
    bu_print_rate(label, 2 * r->names, r->reg_ns + r->unreg_ns);
    snprintf(k, sizeof k, "%s_reg_ops", key);
    bu_result(k, bu_rate(r->names, r->reg_ns));
    snprintf(k, sizeof k, "%s_unreg_ops", key);
    bu_result(k, bu_rate(r->names, r->unreg_ns));
    snprintf(k, sizeof k, "%s_ops", key);
    bu_result(k, bu_rate(2 * r->names, r->reg_ns + r->unreg_ns));
}

int main(void)
{
    size_t n_sync = bu_count(100000);
    size_t n_async = bu_count(200000);
    char title[200];
    snprintf(title, sizeof title,
             "2. Register + unregister throughput (sync: %zu names = %zu ops; pipelined: "
             "%zu names = %zu ops, batches of %d)",
             n_sync, 2 * n_sync, n_async, 2 * n_async, BU_BATCH);
    bu_section(title);

    roster_client *c = bu_connect("bench-register");
    struct phase_result r;
    bu_lat lreg, lunreg;
    bu_lat_init(&lreg, n_sync);
    bu_lat_init(&lunreg, n_sync);

    /* warm-up: a few synchronous calls so the connection and allocator are warm */
    run_sync(c, "warm/", bu_count(2000), NULL, NULL, &r);

    bu_pin(BU_SAME);
    bu_line("(a) one client, synchronous, %s", bu_place_name(BU_SAME));
    bu_cpu cpu;
    bu_cpu_start(&cpu);
    run_sync(c, "sync/", n_sync, &lreg, &lunreg, &r);
    print_phase("  1 client sync", &r, "reg_sync");
    bu_cpu_print(&cpu, 2 * n_sync);
    bu_lat_sort(&lreg);
    bu_lat_sort(&lunreg);
    bu_print_lat("  roster_register latency", &lreg);
    bu_print_lat("  roster_unregister latency", &lunreg);
    bu_result("reg_sync_p50_us", bu_pct_us(&lreg, 0.50));
    bu_result("reg_sync_p99_us", bu_pct_us(&lreg, 0.99));
    bu_result("unreg_sync_p50_us", bu_pct_us(&lunreg, 0.50));
    bu_result("unreg_sync_p99_us", bu_pct_us(&lunreg, 0.99));
    double sock;
    if (bu_result_get("sock_p50_us", &sock) == 0 && sock > 0) {
        bu_line("  register p50 / raw socket p50 = %.2f / %.2f µs = %.2fx (target <= 1.5x)",
                bu_pct_us(&lreg, 0.50), sock, bu_pct_us(&lreg, 0.50) / sock);
        bu_result("reg_ratio", bu_pct_us(&lreg, 0.50) / sock);
    }

    if (bu_pinning()) {
        size_t nx = bu_count(20000);
        bu_pin(BU_OTHER);
        bu_line("(a') one client, synchronous, %s (%zu names)", bu_place_name(BU_OTHER), nx);
        lreg.n = lunreg.n = 0;
        run_sync(c, "syncx/", nx, &lreg, &lunreg, &r);
        print_phase("  1 client sync", &r, "regx_sync");
        bu_lat_sort(&lreg);
        bu_lat_sort(&lunreg);
        bu_print_lat("  roster_register latency", &lreg);
        bu_print_lat("  roster_unregister latency", &lunreg);
        bu_result("regx_sync_p50_us", bu_pct_us(&lreg, 0.50));
        bu_result("regx_sync_p99_us", bu_pct_us(&lreg, 0.99));
        if (bu_result_get("sockx_p50_us", &sock) == 0 && sock > 0) {
            bu_line("  register p50 / raw socket p50 (other CPU) = %.2f / %.2f µs = %.2fx",
                    bu_pct_us(&lreg, 0.50), sock, bu_pct_us(&lreg, 0.50) / sock);
            bu_result("regx_ratio", bu_pct_us(&lreg, 0.50) / sock);
        }
    }

    bu_pin(BU_OTHER);
    bu_line("(b) one client, pipelined, %s", bu_place_name(BU_OTHER));
    bu_cpu_start(&cpu);
    run_async(c, "async/", n_async, &r);
    print_phase("  1 client pipelined", &r, "reg_async");
    bu_cpu_print(&cpu, 2 * n_async);
    roster_close(c);

    bu_line("(c) two clients in parallel, time-boxed (2 processes: client 1 on %s, client 2 "
            "on %s)",
            bu_place_name(BU_SAME), bu_place_name(BU_OTHER));
    struct par_result pr[2];
    run_parallel(0, (uint64_t)(bu_quick() ? 0.3e9 : 2e9), pr);
    print_parallel("  2 clients sync", pr, 0, "reg2_sync");
    run_parallel(1, (uint64_t)(bu_quick() ? 0.1e9 : 1e9), pr);
    print_parallel("  2 clients pipelined", pr, 1, "reg2_async");

    bu_lat_free(&lreg);
    bu_lat_free(&lunreg);
    return 0;
}
