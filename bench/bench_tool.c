/* bench_tool.c: helper of bench/run.sh (not a benchmark itself).
 *   bench_tool ready SOCKET PID TIMEOUT_MS
 *       polls until a roster client can connect to SOCKET and ping the node (exit 0), the
 *       process PID has exited (exit 2) or the deadline has passed (exit 3).
 *   bench_tool mesh SOCKET N TIMEOUT_MS
 *       polls until the node on SOCKET lists N nodes up, itself included (exit 0), or the
 *       deadline has passed (exit 3).
 *   bench_tool report RESULTS_FILE
 *       prints the summary table of the figures the programs wrote into RESULTS_FILE,
 *       beside the targets and the reference figures.
 */
#include "bench_util.h"

#include <signal.h>

static int cmd_ready(const char *sock, pid_t pid, long timeout_ms)
{
    uint64_t deadline = bu_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    int last = 0;
    for (;;) {
        if (pid > 0 && kill(pid, 0) != 0) {
            fprintf(stderr, "bench_tool: rosterd (pid %ld) exited before its socket was ready\n",
                    (long)pid);
            return 2;
        }
        roster_options o;
        roster_options_init(&o);
        o.socket_path = sock;
        o.client_name = "bench-ready";
        o.timeout_ms = 1000;
        roster_client *c = NULL;
        last = roster_connect(&c, &o);
        if (last == 0) {
            last = roster_ping(c, 1000);
            roster_close(c);
            if (last == 0)
                return 0;
        }
        if (bu_now_ns() >= deadline)
            break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "bench_tool: %s not ready after %ld ms (last error %s)\n", sock, timeout_ms,
            roster_err_name(last));
    return 3;
}

static int cmd_mesh(const char *sock, long want, long timeout_ms)
{
    uint64_t deadline = bu_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock;
    o.client_name = "bench-mesh";
    o.timeout_ms = 5000;
    roster_client *c = NULL;
    int rc = roster_connect(&c, &o);
    long up = -1;
    while (rc == 0) {
        roster_nodes ns;
        memset(&ns, 0, sizeof ns);
        rc = roster_nodes_list(c, NULL, &ns, 5000);
        if (rc != 0)
            break;
        up = 0;
        for (size_t i = 0; i < ns.n; i++)
            up += ns.items[i].state == ROSTER_NODE_UP;
        roster_nodes_free(&ns);
        if (up == want) {
            roster_close(c);
            return 0;
        }
        if (bu_now_ns() >= deadline)
            break;
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    roster_close(c);
    fprintf(stderr, "bench_tool: %s: %ld nodes up after %ld ms, want %ld (last error %s)\n",
            sock, up, timeout_ms, want, roster_err_name(rc));
    return 3;
}

/* --- report ----------------------------------------------------------------------------- */

#define MAXKV 1024
static struct {
    char k[64];
    double v;
} kv[MAXKV];
static size_t nkv;

static int get(const char *key, double *v)
{
    for (size_t i = nkv; i-- > 0;)
        if (strcmp(kv[i].k, key) == 0) {
            *v = kv[i].v;
            return 1;
        }
    return 0;
}

/* cell prints s left-aligned in width columns (UTF-8 aware: "µs" is one column). */
static void cell(const char *s, int width, const char *sep)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            cols++;
    fputs(s, stdout);
    for (; cols < width; cols++)
        fputc(' ', stdout);
    fputs(sep, stdout);
}

static void row(const char *figure, const char *ours, const char *target, const char *ref,
                const char *verdict)
{
    fputs("  ", stdout);
    cell(figure, 47, " | ");
    cell(ours, 26, " | ");
    cell(target, 13, " | ");
    cell(ref, 26, " | ");
    printf("%s\n", verdict);
}

/* fmt_num writes v with thousands separators. */
static void fmt_num(char *buf, size_t cap, double v)
{
    char raw[64];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t len = strlen(raw), o = 0;
    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0 && raw[i - 1] != '-')
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
}

static void rate_row(const char *figure, const char *key, const char *target, double min,
                     const char *ref)
{
    double v;
    char ours[64], num[48];
    if (!get(key, &v)) {
        row(figure, "n/a", target, ref, "");
        return;
    }
    fmt_num(num, sizeof num, v);
    snprintf(ours, sizeof ours, "%s ops/s", num);
    row(figure, ours, target, ref, min > 0 ? (v >= min ? "met" : "MISSED") : "");
}

static void lat_row(const char *figure, const char *k50, const char *k99, const char *ref)
{
    double a, b;
    char ours[64];
    if (!get(k50, &a) || !get(k99, &b)) {
        row(figure, "n/a", "", ref, "");
        return;
    }
    snprintf(ours, sizeof ours, "%.1f / %.1f µs", a, b);
    row(figure, ours, "", ref, "");
}

/* max_row: a figure that must stay <= max (max < 0: informational, no verdict). */
static void max_row(const char *figure, const char *key, const char *unit, double max,
                    const char *target, const char *ref)
{
    double v;
    char ours[64];
    if (!get(key, &v)) {
        row(figure, "n/a", target, ref, "");
        return;
    }
    snprintf(ours, sizeof ours, "%.2f%s", v, unit);
    row(figure, ours, target, ref, max < 0 ? "" : v <= max ? "met" : "MISSED");
}

/* ms_row: "v ms" of key with a verdict against max (max < 0: none). */
static void ms_row(const char *figure, const char *key, double max, const char *target,
                   const char *ref)
{
    max_row(figure, key, " ms", max, target, ref);
}

/* Figure 8: reads from the shared-memory region (bench_shm) and what publishing costs. */
static void report_shm(void)
{
    double v, w;
    char ours[64];
    if (get("shm_lookup_p50_us", &v) && get("shm_lookup_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.3f / %.3f µs", v, w);
        row("8. lookup, shared memory, p50 / p99", ours, "", "syn 2.6 µs (in-VM)", "");
    }
    max_row("   lookup p50 / raw socket p50 (same run)", "shm_lookup_ratio", "x", 0.03,
            "<= 0.03x", "");
    rate_row("   lookups/s, 1 client", "shm_lookup_ops", ">= 5,000,000", 5000000, "");
    rate_row("   lookups/s, 1 client, per CPU-second", "shm_lookup_cpu_ops", "-", 0, "");
    rate_row("   lookups/s, 2 clients on 2 CPUs", "shm_lookup2_ops", "-", 0, "");
    if (get("shm_lookup_into_p50_us", &v) && get("shm_lookup_into_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.3f / %.3f µs", v, w);
        row("   roster_lookup_into (no allocation)", ours, "", "", "");
    }
    max_row("   lookup_into p50 / raw socket p50", "shm_lookup_into_ratio", "x", 0.03,
            "<= 0.03x", "");
    rate_row("   lookup_into/s, 1 client", "shm_lookup_into_ops", ">= 5,000,000", 5000000, "");
    rate_row("   lookup_into/s, 1 client, per CPU-second", "shm_lookup_into_cpu_ops", "-", 0,
             "");
    rate_row("   lookup_into/s, 2 clients on 2 CPUs", "shm_lookup_into2_ops", "-", 0, "");
    lat_row("   lookup over the socket (no_shm)", "shm_sockpath_lookup_p50_us",
            "shm_sockpath_lookup_p99_us", "");
    max_row("   members of 1,000, shared memory, p50", "shm_members_p50_us", " µs", 10,
            "< 10 µs", ":pg 10.5 µs");
    max_row("   members_into of 1,000 (pids), p50", "shm_members_into_p50_us", " µs", 10,
            "< 10 µs", ":pg 10.5 µs");
    lat_row("   members of 1,000 over the socket", "shm_sockpath_members_p50_us",
            "shm_sockpath_members_p99_us", "");
    if (get("shm_reg_pipe_ops", &v) && get("noshm_reg_pipe_ops", &w) && w > 0) {
        snprintf(ours, sizeof ours, "%.0f%% of --no-shm's", 100.0 * v / w);
        row("   pipelined register with publishing", ours, ">= 90%", "", v >= 0.9 * w ? "met" : "MISSED");
    }
    if (get("shm_reg_sync_ops", &v) && get("noshm_reg_sync_ops", &w) && w > 0) {
        snprintf(ours, sizeof ours, "%.0f%% of --no-shm's", 100.0 * v / w);
        row("   sync register with publishing", ours, ">= 90%", "", v >= 0.9 * w ? "met" : "MISSED");
    }
}

static void report_cluster(void)
{
    double v, w, x;
    char ours[96], label[96], num[48];
    printf("\n== Cluster summary (3 nodes on this machine; placements as printed above; p50 / "
           "p99)\n");
    row("figure", "ours (this run)", "target", "reference (owner, 2 cores)", "verdict");
    static const char dashes[] = "--------------------------------------------------";
    printf("  %.47s-+-%.26s-+-%.13s-+-%.26s-+--------\n", dashes, dashes, dashes, dashes);
    if (get("cl_tcp_p50_us", &v) && get("cl_tcp_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("C1. loopback TCP round trip, same CPU", ours, "(the floor)", "", "");
    }
    if (get("cl_tcpx_p50_us", &v) && get("cl_tcpx_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("    same, across CPUs", ours, "(the floor)", "60-70 µs p50 across cores", "");
    }
    if (get("cl_conv_p50_us", &v) && get("cl_conv_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("C2. converge a -> b, all on one CPU", ours, "", "syn 355 / 710 µs", "");
        if (get("cl_tcp_p50_us", &x)) {
            snprintf(ours, sizeof ours, "%.2f round trips", v / x);
            row("    p50 / same-CPU TCP floor p50", ours, "<= 2", "",
                v / x <= 2 ? "met" : "MISSED");
        }
        snprintf(ours, sizeof ours, "%.1f µs", w);
        row("    p99", ours, "< 500 µs", "syn 710 µs", w < 500 ? "met" : "MISSED");
    }
    if (get("cl_conv_c1_p50_us", &v) && get("cl_conv_c1_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("    a, b on CPU 0, c on CPU 1", ours, "", "", "");
    }
    if (get("cl_conv_x_p50_us", &v) && get("cl_conv_x_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("    b (and c) on the other CPU", ours, "", "", "");
        if (get("cl_tcpx_p50_us", &x)) {
            snprintf(ours, sizeof ours, "%.2f round trips", v / x);
            row("    p50 / across-CPU TCP floor p50", ours, "<= 2", "",
                v / x <= 2 ? "met" : "MISSED");
        }
        snprintf(ours, sizeof ours, "%.1f µs", w);
        row("    p99", ours, "< 500 µs", "", w < 500 ? "met" : "MISSED");
    }
    if (get("cl_conv_any_p50_us", &v) && get("cl_conv_any_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("    unpinned", ours, "", "", "");
    }
    if (get("cl_conv_ack_p50_us", &v) && get("cl_conv_ack_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("    sync register ack on a, all on one CPU", ours, "", "", "");
    }
    fmt_num(num, sizeof num, get("cl_vis_names", &w) ? w : 0);
    snprintf(label, sizeof label, "C3. %s names on a: last ack -> on b, c", num);
    ms_row(label, "cl_vis_after_ack_ms", 200, "<= 200 ms", "");
    ms_row("    first request -> on b and c", "cl_vis_after_first_ms", -1, "", "");
    rate_row("C4. 3 nodes registering at once, total", "cl_tp_ops", ">= 300,000/s", 300000,
             "syn ~42,000/s");
    rate_row("    same, replicated on every node", "cl_tp_repl_ops", "", 0, "");
    rate_row("    same, unpinned", "cl_tp_any_ops", "", 0, "");
    fmt_num(num, sizeof num, get("cl_purge_names", &w) ? w : 0);
    snprintf(label, sizeof label, "C5. kill -9 a (%s names): -> last event, b", num);
    ms_row(label, "cl_purge_last_ms_med", -1, "", "syn, :pg ~210-230 ms");
    ms_row("    kill -> counts at base on b and c", "cl_purge_gone_ms_med", -1, "",
           "syn, :pg ~210-230 ms");
    ms_row("    first node_down event -> last event", "cl_purge_decl_last_ms_med", 50,
           "<= 50 ms", "");
    ms_row("    first node_down event -> counts at base", "cl_purge_decl_gone_ms_med", 50,
           "<= 50 ms", "");
    ms_row("    kill -> connection closed (logs)", "cl_purge_log_decl_ms_med", -1, "", "");
    ms_row("    that declaration -> counts at base", "cl_purge_det_gone_ms_med", 50,
           "<= 50 ms", "");
    ms_row("    that declaration -> last event on b", "cl_purge_det_last_ms_med", 50,
           "<= 50 ms", "");
    fmt_num(num, sizeof num, get("cl_heal_names", &w) ? w : 0);
    snprintf(label, sizeof label, "C6. heal, %s names per side: -> converged", num);
    ms_row(label, "cl_heal_conv_ms", -1, "", "");
    ms_row("    heal -> mesh up again", "cl_heal_mesh_ms", -1, "", "");
    ms_row("    mesh up -> converged", "cl_heal_after_mesh_ms", -1, "", "");
    fmt_num(num, sizeof num, get("cl_mem_names", &w) ? w : 0);
    snprintf(label, sizeof label, "C7. b's memory per replicated name (%s)", num);
    if (get("cl_mem_per_name_b", &v) && get("cl_mem_beyond_b", &w))
        snprintf(ours, sizeof ours, "%.1f B (%.1f beyond name)", v, w);
    else
        snprintf(ours, sizeof ours, "n/a");
    row(label, ours, "", "syn ~580 bytes (1 node)", "");
    if (get("cl_mem_per_name_a", &v)) {
        snprintf(ours, sizeof ours, "%.1f bytes", v);
        row("    a's memory per local name", ours, "", "", "");
    }
    if (get("cl_purge_names", &v) && v < 100000)
        printf("  (BENCH_QUICK run: counts are 10x smaller than the full run's)\n");
}

static int cmd_report(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "bench_tool: cannot open %s\n", path);
        return 1;
    }
    while (nkv < MAXKV && fscanf(f, "%63s %lf", kv[nkv].k, &kv[nkv].v) == 2)
        nkv++;
    fclose(f);

    double v, w;
    char ours[96];
    if (!get("sock_p50_us", &v))
        goto cluster;
    /* Unpinned, the forked echo child shares its parent's CPU while rosterd usually runs on
     * the other one: the ratios then compare unlike placements and get no verdict. */
    int pinned = get("placement_pinned", &v) && v > 0;
    double rmax = pinned ? 1.5 : -1;
    const char *rtarget = pinned ? "<= 1.5x" : "(unpinned)";
    printf("\n== Summary (µs = microseconds; p50 / p99; every register, unregister, join or "
           "leave counts as one op)\n");
    if (get("placement_pinned", &v) && v > 0)
        printf("  (latency rows: client on rosterd's CPU unless marked \"other CPU\"; "
               "pipelined rows: other CPU)\n");
    row("figure", "ours (this run)", "target", "reference (owner, 2 cores)", "verdict");
    static const char dashes[] = "--------------------------------------------------";
    printf("  %.47s-+-%.26s-+-%.13s-+-%.26s-+--------\n", dashes, dashes, dashes, dashes);
    if (get("sock_p50_us", &v) && get("sock_p99_us", &w))
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
    else
        snprintf(ours, sizeof ours, "n/a");
    row("1. raw Unix-socket round trip (floor)", ours, "-", "~13 µs p50", "");
    if (get("sockx_p50_us", &v) && get("sockx_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("   same, client on the other CPU", ours, "-", "", "");
    }
    if (get("sock_epoll_p50_us", &v) && get("sock_epoll_p99_us", &w)) {
        snprintf(ours, sizeof ours, "%.1f / %.1f µs", v, w);
        row("   same, epoll echo server (info)", ours, "-", "", "");
    }
    rate_row("2a. register, 1 client sync", "reg_sync_reg_ops", "-", 0, "syn 40,000/s");
    rate_row("    register+unregister, 1 client sync", "reg_sync_ops", "-", 0, "");
    lat_row("    roster_register latency", "reg_sync_p50_us", "reg_sync_p99_us", "syn 44 µs call");
    max_row("    register p50 / socket p50 (figure 1)", "reg_ratio", "x", rmax, rtarget, "");
    max_row("    register p50 / socket p50 (interleaved)", "ilv_reg_ratio", "x", rmax, rtarget,
            "");
    if (get("regx_ratio", &v)) {
        lat_row("    roster_register latency, other CPU", "regx_sync_p50_us", "regx_sync_p99_us",
                "");
        max_row("    same / socket p50, other CPU", "regx_ratio", "x", -1, "(info)", "");
    }
    rate_row("2b. register, 1 client pipelined", "reg_async_reg_ops", ">= 500,000/s", 500000,
             "Elixir Registry 373,000/s");
    rate_row("    register+unregister, pipelined", "reg_async_ops", "-", 0, "");
    rate_row("2c. reg+unreg, 2 clients sync (total)", "reg2_sync_ops", "-", 0, "");
    rate_row("    reg+unreg, 2 clients pipelined (total)", "reg2_async_ops", "-", 0, "");
    if (get("lookup_p50_us", &v) && get("lookup_p99_us", &w)) {
        double x = 0;
        get("lookup_p999_us", &x);
        snprintf(ours, sizeof ours, "%.1f / %.1f / %.1f µs", v, w, x);
    } else {
        snprintf(ours, sizeof ours, "n/a");
    }
    char label[96], num[48];
    fmt_num(num, sizeof num, get("lookup_names", &w) ? w : 0);
    snprintf(label, sizeof label, "3. lookup p50 / p99 / p999 (%s names)", num);
    row(label, ours, "", "", "");
    rate_row("   lookup throughput, 1 client sync", "lookup_ops", "-", 0, "");
    max_row("   lookup p50 / socket p50 (figure 1)", "lookup_ratio", "x", rmax, rtarget, "");
    max_row("   lookup p50 / socket p50 (interleaved)", "ilv_lookup_ratio", "x", rmax, rtarget,
            "");
    if (get("lookupx_p50_us", &v) && get("lookupx_p99_us", &w)) {
        double x = 0;
        get("lookupx_p999_us", &x);
        snprintf(ours, sizeof ours, "%.1f / %.1f / %.1f µs", v, w, x);
        row("   lookup, client on the other CPU", ours, "", "", "");
        max_row("   same / socket p50, other CPU", "lookupx_ratio", "x", -1, "(info)", "");
    }
    rate_row("4. join, 1 client sync", "join_sync_ops", "-", 0, "");
    lat_row("   roster_join latency", "join_sync_p50_us", "join_sync_p99_us", "");
    rate_row("   join, 1 client pipelined", "join_async_ops", "-", 0, "");
    lat_row("5. members of a 1,000-member group", "members_p50_us", "members_p99_us", "");
    fmt_num(num, sizeof num, get("cleanup_names", &w) ? w : 0);
    snprintf(label, sizeof label, "6. kill -> last of %s UNREGISTERED events", num);
    max_row(label, "cleanup_events_ms", " ms", 100, "<= 100 ms", "syn ~4 s (100k)");
    snprintf(label, sizeof label, "   kill -> roster_count shows %s gone", num);
    max_row(label, "cleanup_count_ms", " ms", 100, "<= 100 ms", "syn ~4 s (100k)");
    fmt_num(num, sizeof num, get("mem_names", &w) ? w : 0);
    snprintf(label, sizeof label, "7. rosterd memory per name (%s names)", num);
    if (get("mem_per_name", &v))
        snprintf(ours, sizeof ours, "%.0f bytes", v);
    else
        snprintf(ours, sizeof ours, "n/a");
    row(label, ours, "", "syn ~580 bytes", "");
    max_row("   beyond the 18 name bytes (meta empty)", "mem_beyond", " bytes", 200, "<= 200 B",
            "");
    report_shm();
    if (get("cleanup_names", &v) && v < 100000)
        printf("  (BENCH_QUICK run: counts are 10x smaller than the full run's)\n");
cluster:
    if (get("cl_tcp_p50_us", &v) || get("cl_purge_names", &v) || get("cl_mem_names", &v))
        report_cluster();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "ready") == 0)
        return cmd_ready(argv[2], (pid_t)strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
    if (argc == 5 && strcmp(argv[1], "mesh") == 0)
        return cmd_mesh(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "report") == 0)
        return cmd_report(argv[2]);
    fprintf(stderr, "usage: bench_tool ready SOCKET PID TIMEOUT_MS | mesh SOCKET N TIMEOUT_MS | "
                    "report RESULTS_FILE\n");
    return 2;
}
