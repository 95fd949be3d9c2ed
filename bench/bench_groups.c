/* bench_groups.c: figures 4 and 5.
 *  4. Join throughput: P pids (roster_pid_new) each join G groups, N = P * G joins, then
 *     leave them all; synchronous (latency of every join recorded) and pipelined (batches
 *     of BU_BATCH closed by roster_wait_all). Groups end up with P members each.
 *  5. Members latency: roster_members of one group of 1,000 members (the P pids).
 */
#include "bench_util.h"

#define PIDS 1000

static roster_pid pids[PIDS];

static size_t group_name(char *buf, size_t cap, const char *prefix, size_t g)
{
    return bu_name(buf, cap, prefix, g);
}

static void joins_sync(roster_client *c, const char *prefix, size_t groups, bu_lat *lj,
                       bu_lat *ll, uint64_t *join_ns, uint64_t *leave_ns)
{
    char g[64];
    uint64_t t0 = bu_now_ns();
    for (size_t k = 0; k < groups; k++) {
        size_t len = group_name(g, sizeof g, prefix, k);
        for (size_t p = 0; p < PIDS; p++) {
            uint64_t a = bu_now_ns();
            int rc = roster_join(c, NULL, g, len, pids[p], NULL, 0, BU_TIMEOUT_MS);
            uint64_t b = bu_now_ns();
            bu_check(c, "roster_join", rc);
            bu_lat_add(lj, b - a);
        }
    }
    uint64_t t1 = bu_now_ns();
    for (size_t k = 0; k < groups; k++) {
        size_t len = group_name(g, sizeof g, prefix, k);
        for (size_t p = 0; p < PIDS; p++) {
            uint64_t a = bu_now_ns();
            int rc = roster_leave(c, NULL, g, len, pids[p], BU_TIMEOUT_MS);
            uint64_t b = bu_now_ns();
            bu_check(c, "roster_leave", rc);
            bu_lat_add(ll, b - a);
        }
    }
    *join_ns = t1 - t0;
    *leave_ns = bu_now_ns() - t1;
}

static void joins_async(roster_client *c, const char *prefix, size_t groups, uint64_t *join_ns,
                        uint64_t *leave_ns)
{
    char g[64];
    size_t q = 0;
    uint64_t t0 = bu_now_ns();
    for (size_t k = 0; k < groups; k++) {
        size_t len = group_name(g, sizeof g, prefix, k);
        for (size_t p = 0; p < PIDS; p++) {
            bu_check(c, "roster_join_async",
                     roster_join_async(c, NULL, g, len, pids[p], NULL, 0, NULL));
            if (++q % BU_BATCH == 0)
                bu_check_wait(c, "roster_wait_all (join)", roster_wait_all(c, BU_TIMEOUT_MS));
        }
    }
    bu_check_wait(c, "roster_wait_all (join)", roster_wait_all(c, BU_TIMEOUT_MS));
    uint64_t t1 = bu_now_ns();
    for (size_t k = 0; k < groups; k++) {
        size_t len = group_name(g, sizeof g, prefix, k);
        for (size_t p = 0; p < PIDS; p++) {
            bu_check(c, "roster_leave_async",
                     roster_leave_async(c, NULL, g, len, pids[p], NULL));
            if (++q % BU_BATCH == 0)
                bu_check_wait(c, "roster_wait_all (leave)", roster_wait_all(c, BU_TIMEOUT_MS));
        }
    }
    bu_check_wait(c, "roster_wait_all (leave)", roster_wait_all(c, BU_TIMEOUT_MS));
    *join_ns = t1 - t0;
    *leave_ns = bu_now_ns() - t1;
}

int main(void)
{
    /* This figure is the read over the socket; figure 8 (bench_shm) is the shared-memory
     * region's, which libroster uses by default. */
    setenv("ROSTER_NO_SHM", "1", 1);
    size_t n_sync = bu_count(100000);
    size_t n_async = bu_count(200000);
    size_t g_sync = n_sync / PIDS ? n_sync / PIDS : 1;
    size_t g_async = n_async / PIDS ? n_async / PIDS : 1;
    n_sync = g_sync * PIDS;
    n_async = g_async * PIDS;
    char title[200];
    snprintf(title, sizeof title,
             "4. Join + leave throughput (%d pids x %zu groups = %zu joins sync; x %zu groups = "
             "%zu joins pipelined, batches of %d)",
             PIDS, g_sync, n_sync, g_async, n_async, BU_BATCH);
    bu_section(title);

    roster_client *c = bu_connect("bench-groups");
    bu_pin(BU_SAME);
    bu_line("sync calls and members: client on %s; pipelined: client on %s",
            bu_place_name(BU_SAME), bu_place_name(BU_OTHER));
    bu_lat lat;
    bu_lat_init(&lat, PIDS);
    for (size_t p = 0; p < PIDS; p++) {
        uint64_t a = bu_now_ns();
        int rc = roster_pid_new(c, &pids[p], BU_TIMEOUT_MS);
        uint64_t b = bu_now_ns();
        bu_check(c, "roster_pid_new", rc);
        bu_lat_add(&lat, b - a);
    }
    bu_lat_sort(&lat);
    bu_print_lat("roster_pid_new latency", &lat);
    bu_lat_free(&lat);

    bu_lat lj, ll;
    bu_lat_init(&lj, n_sync);
    bu_lat_init(&ll, n_sync);
    uint64_t jns, lns;
    bu_cpu cpu;
    bu_cpu_start(&cpu);
    joins_sync(c, "gs/", g_sync, &lj, &ll, &jns, &lns);
    bu_print_rate("1 client sync join", n_sync, jns);
    bu_print_rate("1 client sync leave", n_sync, lns);
    bu_cpu_print(&cpu, 2 * n_sync);
    bu_lat_sort(&lj);
    bu_lat_sort(&ll);
    bu_print_lat("roster_join latency", &lj);
    bu_print_lat("roster_leave latency", &ll);
    bu_result("join_sync_ops", bu_rate(n_sync, jns));
    bu_result("leave_sync_ops", bu_rate(n_sync, lns));
    bu_result("join_sync_p50_us", bu_pct_us(&lj, 0.50));
    bu_result("join_sync_p99_us", bu_pct_us(&lj, 0.99));
    bu_lat_free(&lj);
    bu_lat_free(&ll);

    bu_pin(BU_OTHER);
    bu_cpu_start(&cpu);
    joins_async(c, "ga/", g_async, &jns, &lns);
    bu_pin(BU_SAME);
    bu_print_rate("1 client pipelined join", n_async, jns);
    bu_print_rate("1 client pipelined leave", n_async, lns);
    bu_cpu_print(&cpu, 2 * n_async);
    bu_result("join_async_ops", bu_rate(n_async, jns));
    bu_result("leave_async_ops", bu_rate(n_async, lns));

    /* --- 5. members of a group of 1,000 --- */
    size_t n_mem = bu_count(5000);
    snprintf(title, sizeof title,
             "5. Members: roster_members of a group of %d members (pids from roster_pid_new), "
             "%zu calls",
             PIDS, n_mem);
    bu_section(title);
    const char *big = "members/big";
    size_t big_len = strlen(big);
    for (size_t p = 0; p < PIDS; p++)
        bu_check(c, "roster_join_async",
                 roster_join_async(c, NULL, big, big_len, pids[p], "member-meta", 11, NULL));
    bu_check_wait(c, "roster_wait_all (join big)", roster_wait_all(c, BU_TIMEOUT_MS));

    roster_entries out;
    for (size_t i = 0; i < n_mem / 20 + 10; i++) {
        bu_check(c, "roster_members",
                 roster_members(c, NULL, big, big_len, 0, &out, BU_TIMEOUT_MS));
        roster_entries_free(&out);
    }
    bu_lat_init(&lat, n_mem);
    bu_cpu_start(&cpu);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < n_mem; i++) {
        uint64_t a = bu_now_ns();
        int rc = roster_members(c, NULL, big, big_len, 0, &out, BU_TIMEOUT_MS);
        uint64_t b = bu_now_ns();
        bu_check(c, "roster_members", rc);
        if (out.n != PIDS)
            bu_die("roster_members returned %zu members, expected %d", out.n, PIDS);
        roster_entries_free(&out);
        bu_lat_add(&lat, b - a);
    }
    uint64_t total = bu_now_ns() - t0;
    bu_lat_sort(&lat);
    bu_print_lat("roster_members latency (1,000)", &lat);
    bu_print_rate("roster_members calls", n_mem, total);
    bu_cpu_print(&cpu, n_mem);
    bu_line("%-40s %10.0f members/s", "", bu_rate(n_mem * PIDS, total));
    bu_result("members_p50_us", bu_pct_us(&lat, 0.50));
    bu_result("members_p99_us", bu_pct_us(&lat, 0.99));
    bu_lat_free(&lat);

    roster_close(c);
    return 0;
}
