/* bench_memory.c: figure 7, memory per registered name. Reads rosterd's VmRSS
 * (/proc/$ROSTERD_PID/status) before and after registering 1,000,000 names of 18 bytes with
 * empty metadata (pipelined, one client), and reports the delta per name, and the same
 * minus the name bytes themselves (metadata is empty). run.sh runs it on a fresh node so
 * that memory freed by earlier figures cannot be reused and hide the cost.
 */
#include "bench_util.h"

#define NAME_FMT "mem.%014zu" /* 18 bytes */
#define NAME_LEN 18

static void fill(roster_client *c, size_t n, int unregister)
{
    roster_pid self = roster_self(c);
    char name[64];
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(name, sizeof name, NAME_FMT, i);
        int rc = unregister
                     ? roster_unregister_async(c, NULL, name, (size_t)len, NULL)
                     : roster_register_async(c, NULL, name, (size_t)len, self, NULL, 0, NULL);
        bu_check(c, unregister ? "roster_unregister_async" : "roster_register_async", rc);
        if ((i + 1) % BU_BATCH == 0 || i + 1 == n)
            bu_check_wait(c, "roster_wait_all", roster_wait_all(c, BU_TIMEOUT_MS));
    }
}

static void print_stats(roster_client *c)
{
    roster_stats st;
    if (roster_status(c, &st, BU_TIMEOUT_MS) < 0)
        return;
    char line[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < st.n; i++) {
        const char *k = st.items[i].key;
        if (strstr(k, "names") || strstr(k, "mem") || strstr(k, "bytes") || strstr(k, "rss")) {
            int w = snprintf(line + off, sizeof line - off, "%s%s=%llu", off ? ", " : "", k,
                             (unsigned long long)st.items[i].value);
            if (w < 0 || (size_t)w >= sizeof line - off)
                break;
            off += (size_t)w;
        }
    }
    if (off)
        bu_line("roster_status: %s", line);
    roster_stats_free(&st);
}

int main(void)
{
    size_t n = bu_count(1000000);
    char title[200];
    snprintf(title, sizeof title,
             "7. Memory: rosterd VmRSS before/after registering %zu names (%d bytes, empty "
             "metadata, pipelined)",
             n, NAME_LEN);
    bu_section(title);
    pid_t d = bu_rosterd_pid();
    if (d <= 0)
        bu_die("ROSTERD_PID is not set (run through bench/run.sh)");

    roster_client *c = bu_connect("bench-memory");
    bu_pin(BU_OTHER);
    roster_counts cnt;
    bu_check(c, "roster_count", roster_count(c, NULL, NULL, &cnt, BU_TIMEOUT_MS));
    uint64_t base = cnt.names;
    long rss0 = bu_rss_kb(d);
    if (rss0 < 0)
        bu_die("cannot read VmRSS of rosterd pid %ld", (long)d);

    bu_cpu cpu;
    bu_cpu_start(&cpu);
    uint64_t t0 = bu_now_ns();
    fill(c, n, 0);
    uint64_t t = bu_now_ns() - t0;
    long rss1 = bu_rss_kb(d);
    bu_check(c, "roster_count", roster_count(c, NULL, NULL, &cnt, BU_TIMEOUT_MS));
    if (cnt.names != base + n)
        bu_die("roster_count reports %llu names, expected %llu",
               (unsigned long long)cnt.names, (unsigned long long)(base + n));
    print_stats(c);
    bu_cpu_print(&cpu, n);

    double per = (double)(rss1 - rss0) * 1024.0 / (double)n;
    bu_line("registered %zu names in %.3f s (%.0f/s pipelined)", n, (double)t / 1e9,
            bu_rate(n, t));
    bu_line("rosterd VmRSS: before %ld KiB, after %ld KiB, delta %ld KiB", rss0, rss1,
            rss1 - rss0);
    bu_line("%-34s %8.1f bytes (delta / %zu)", "memory per name", per, n);
    bu_line("%-34s %8.1f bytes (minus %d name bytes, 0 metadata; target <= 200; syn ~580 "
            "per name)",
            "beyond name + metadata", per - NAME_LEN, NAME_LEN);
    bu_result("mem_names", (double)n);
    bu_result("mem_per_name", per);
    bu_result("mem_beyond", per - NAME_LEN);

    t0 = bu_now_ns();
    fill(c, n, 1);
    t = bu_now_ns() - t0;
    long rss2 = bu_rss_kb(d);
    bu_line("unregistered them in %.3f s (%.0f/s pipelined); VmRSS after: %ld KiB "
            "(informational: what the allocator kept)",
            (double)t / 1e9, bu_rate(n, t), rss2);
    roster_close(c);
    return 0;
}
