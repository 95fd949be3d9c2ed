/* bench_lookup.c: figure 3, synchronous lookup latency and throughput through libroster on
 * a registry of 100,000 names (registered pipelined by an owner client that stays
 * connected), looked up in random order by a second client. Also roster_ping (a no-op round
 * trip through the node) as the library + daemon floor, and the ratios to the raw socket
 * round trip measured by bench_socket in the same run; then (3b) the same ratios with the
 * raw socket floor measured in blocks interleaved with the roster calls.
 */
#include "bench_util.h"

/* measure: n synchronous lookups of random names, then absent names and pings, from CPU
 * placement `where`; results stored under "lookup<sfx>_*", ratios against "sock<sfx>". */
static void measure(roster_client *c, roster_pid self, size_t names, size_t n, int where,
                    bu_lat *lat, const char *sfx)
{
    char name[64], key[64];
    roster_entry e;
    uint64_t rnd = 0x9e3779b97f4a7c15ull;
    bu_pin(where);
    bu_line("-- client on %s (%zu lookups)", bu_place_name(where), n);
    for (size_t i = 0; i < n / 20 + 100; i++) { /* warm-up */
        size_t len = bu_name(name, sizeof name, "lk/", (size_t)(bu_rand(&rnd) % names));
        bu_check(c, "roster_lookup", roster_lookup(c, NULL, name, len, &e, BU_TIMEOUT_MS));
        roster_entry_free(&e);
    }
    lat->n = 0;
    bu_cpu cpu;
    bu_cpu_start(&cpu);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < n; i++) {
        size_t len = bu_name(name, sizeof name, "lk/", (size_t)(bu_rand(&rnd) % names));
        uint64_t a = bu_now_ns();
        int rc = roster_lookup(c, NULL, name, len, &e, BU_TIMEOUT_MS);
        uint64_t b = bu_now_ns();
        bu_check(c, "roster_lookup", rc);
        if (!roster_pid_equal(e.pid, self) || e.name.len != len ||
            memcmp(e.name.data, name, len) != 0)
            bu_die("roster_lookup returned a wrong entry for %.*s", (int)len, name);
        roster_entry_free(&e);
        bu_lat_add(lat, b - a);
    }
    uint64_t total = bu_now_ns() - t0;
    bu_lat_sort(lat);
    bu_print_lat("roster_lookup latency", lat);
    bu_print_rate("roster_lookup throughput (1 client)", n, total);
    bu_cpu_print(&cpu, n);
    double lookup_p50 = bu_pct_us(lat, 0.50);
    snprintf(key, sizeof key, "lookup%s_p50_us", sfx);
    bu_result(key, lookup_p50);
    snprintf(key, sizeof key, "lookup%s_p99_us", sfx);
    bu_result(key, bu_pct_us(lat, 0.99));
    snprintf(key, sizeof key, "lookup%s_p999_us", sfx);
    bu_result(key, bu_pct_us(lat, 0.999));
    snprintf(key, sizeof key, "lookup%s_ops", sfx);
    bu_result(key, bu_rate(n, total));

    /* lookups of absent names: the not-found path */
    lat->n = 0;
    for (size_t i = 0; i < n / 5; i++) {
        size_t len = bu_name(name, sizeof name, "nx/", i);
        uint64_t a = bu_now_ns();
        int rc = roster_lookup(c, NULL, name, len, &e, BU_TIMEOUT_MS);
        uint64_t b = bu_now_ns();
        if (rc != ROSTER_ENOTFOUND)
            bu_die("roster_lookup of an absent name returned %s", roster_err_name(rc));
        bu_lat_add(lat, b - a);
    }
    bu_lat_sort(lat);
    bu_print_lat("roster_lookup, absent name", lat);

    lat->n = 0;
    bu_cpu_start(&cpu);
    for (size_t i = 0; i < n / 2; i++) {
        uint64_t a = bu_now_ns();
        int rc = roster_ping(c, BU_TIMEOUT_MS);
        uint64_t b = bu_now_ns();
        bu_check(c, "roster_ping", rc);
        bu_lat_add(lat, b - a);
    }
    bu_lat_sort(lat);
    bu_print_lat("roster_ping (no-op round trip)", lat);
    bu_cpu_print(&cpu, n / 2);
    double ping_p50 = bu_pct_us(lat, 0.50);
    snprintf(key, sizeof key, "ping%s_p50_us", sfx);
    bu_result(key, ping_p50);

    double sock, reg;
    snprintf(key, sizeof key, "sock%s_p50_us", sfx);
    if (bu_result_get(key, &sock) == 0 && sock > 0) {
        bu_line("lookup p50 / raw socket p50   = %6.2f / %6.2f µs = %.2fx (target <= 1.5x)",
                lookup_p50, sock, lookup_p50 / sock);
        snprintf(key, sizeof key, "lookup%s_ratio", sfx);
        bu_result(key, lookup_p50 / sock);
        bu_line("ping p50 / raw socket p50     = %6.2f / %6.2f µs = %.2fx", ping_p50, sock,
                ping_p50 / sock);
        snprintf(key, sizeof key, "reg%s_sync_p50_us", sfx);
        if (bu_result_get(key, &reg) == 0)
            bu_line("register p50 / raw socket p50 = %6.2f / %6.2f µs = %.2fx (target <= 1.5x)",
                    reg, sock, reg / sock);
    } else {
        bu_line("(no raw socket figure in $BENCH_RESULTS: run bench_socket first for ratios)");
    }
}

/* interleaved: the ratios again, with the raw socket floor measured in alternating blocks
 * with the roster calls (same CPU as rosterd), so that both see the same machine state. */
static void interleaved(roster_client *c, size_t names, size_t rounds)
{
    enum { B = 500 };
    bu_lat ls, ll, lr, lu;
    bu_lat_init(&ls, rounds * B);
    bu_lat_init(&ll, rounds * B);
    bu_lat_init(&lr, rounds * B);
    bu_lat_init(&lu, rounds * B);
    bu_pin(BU_SAME);
    bu_echo e;
    bu_echo_start(&e, NULL);
    roster_pid self = roster_self(c);
    uint64_t rnd = 0x2545f4914f6cdd1dull;
    char name[64];
    roster_entry ent;
    for (size_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < B; i++)
            bu_lat_add(&ls, bu_echo_rtt(&e));
        for (size_t i = 0; i < B; i++) {
            size_t len = bu_name(name, sizeof name, "lk/", (size_t)(bu_rand(&rnd) % names));
            uint64_t a = bu_now_ns();
            int rc = roster_lookup(c, NULL, name, len, &ent, BU_TIMEOUT_MS);
            bu_lat_add(&ll, bu_now_ns() - a);
            bu_check(c, "roster_lookup", rc);
            roster_entry_free(&ent);
        }
        for (size_t i = 0; i < B; i++) {
            size_t len = bu_name(name, sizeof name, "ilv/", r * B + i);
            uint64_t a = bu_now_ns();
            int rc = roster_register(c, NULL, name, len, self, NULL, 0, NULL, BU_TIMEOUT_MS);
            bu_lat_add(&lr, bu_now_ns() - a);
            bu_check(c, "roster_register", rc);
        }
        for (size_t i = 0; i < B; i++) {
            size_t len = bu_name(name, sizeof name, "ilv/", r * B + i);
            uint64_t a = bu_now_ns();
            int rc = roster_unregister(c, NULL, name, len, BU_TIMEOUT_MS);
            bu_lat_add(&lu, bu_now_ns() - a);
            bu_check(c, "roster_unregister", rc);
        }
    }
    bu_echo_stop(&e);
    bu_lat_sort(&ls);
    bu_lat_sort(&ll);
    bu_lat_sort(&lr);
    bu_lat_sort(&lu);
    bu_print_lat("raw socket round trip", &ls);
    bu_print_lat("roster_lookup", &ll);
    bu_print_lat("roster_register", &lr);
    bu_print_lat("roster_unregister", &lu);
    double s = bu_pct_us(&ls, 0.5), l = bu_pct_us(&ll, 0.5), g = bu_pct_us(&lr, 0.5),
           u = bu_pct_us(&lu, 0.5);
    bu_line("lookup p50 / raw socket p50   = %6.2f / %6.2f µs = %.2fx (target <= 1.5x)", l, s,
            l / s);
    bu_line("register p50 / raw socket p50 = %6.2f / %6.2f µs = %.2fx (target <= 1.5x)", g, s,
            g / s);
    bu_line("unregister p50 / raw socket p50 = %4.2f / %6.2f µs = %.2fx", u, s, u / s);
    bu_result("ilv_sock_p50_us", s);
    bu_result("ilv_lookup_p50_us", l);
    bu_result("ilv_reg_p50_us", g);
    bu_result("ilv_lookup_ratio", l / s);
    bu_result("ilv_reg_ratio", g / s);
    bu_lat_free(&ls);
    bu_lat_free(&ll);
    bu_lat_free(&lr);
    bu_lat_free(&lu);
}

int main(void)
{
    /* This figure is the read over the socket; figure 8 (bench_shm) is the shared-memory
     * region's, which libroster uses by default. */
    setenv("ROSTER_NO_SHM", "1", 1);
    size_t names = bu_count(100000);
    size_t n = bu_count(50000);
    char title[200];
    snprintf(title, sizeof title,
             "3. Lookup: synchronous roster_lookup on a registry of %zu names "
             "(random names)",
             names);
    bu_section(title);

    roster_client *owner = bu_connect("bench-lookup-owner");
    roster_client *c = bu_connect("bench-lookup");
    roster_pid self = roster_self(owner);
    char name[64];
    bu_pin(BU_OTHER);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < names; i++) {
        size_t len = bu_name(name, sizeof name, "lk/", i);
        bu_check(owner, "roster_register_async",
                 roster_register_async(owner, NULL, name, len, self, "m", 1, NULL));
        if ((i + 1) % BU_BATCH == 0 || i + 1 == names)
            bu_check_wait(owner, "roster_wait_all", roster_wait_all(owner, BU_TIMEOUT_MS));
    }
    uint64_t fill = bu_now_ns() - t0;
    roster_counts cnt;
    bu_check(c, "roster_count", roster_count(c, NULL, NULL, &cnt, BU_TIMEOUT_MS));
    bu_line("registry filled: %zu names pipelined in %.3f s; roster_count reports %llu names",
            names, (double)fill / 1e9, (unsigned long long)cnt.names);
    if (cnt.names < names)
        bu_die("roster_count reports %llu names, expected at least %zu",
               (unsigned long long)cnt.names, names);

    bu_result("lookup_names", (double)names);
    bu_lat lat;
    bu_lat_init(&lat, n);
    measure(c, self, names, n, BU_SAME, &lat, "");
    if (bu_pinning())
        measure(c, self, names, bu_count(20000), BU_OTHER, &lat, "x");
    size_t rounds = bu_count(20);
    char title2[200];
    snprintf(title2, sizeof title2,
             "3b. Ratios, interleaved: %zu rounds of 500 raw socket round trips, 500 lookups, "
             "500 registers, 500 unregisters (client on rosterd's CPU)",
             rounds);
    bu_section(title2);
    interleaved(c, names, rounds);
    bu_lat_free(&lat);
    roster_close(c);
    roster_close(owner);
    return 0;
}
