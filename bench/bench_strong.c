/* bench_strong.c: strong scopes measured beside their reference in the same run (issue 9,
 * item 10). A 3-member etcd on loopback (started here), two rosterd nodes A and B started
 * with --etcd, and etcd driven directly by src/etcd as the reference:
 *   S1 register latency, 1 client (p50/p99)  vs a direct etcd txn with a lease, 1 in flight
 *   S2 register throughput, 1/16/64 clients  vs direct etcd txns with 1/16/64 in flight
 *   S3 linearizable lookup                   vs a direct linearizable etcd range
 *   S4 stale lookup                          vs a raw Unix-socket round trip (the floor)
 *   S5 register on A until visible in B's stale read
 *   S6 time for writes to resume after the etcd leader is killed (election timeout 500 ms)
 * Targets (issue 9): S1 p50 <= 1.25x etcd; S2 with 64 clients >= 4x etcd; S3 <= 1.25x etcd;
 * S4 <= 1.5x the socket; S6 within 2 election timeouts. Run: build/bin/bench_strong
 * (BENCH_QUICK=1: a smoke run). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "etcd/etcd.h"
#include "etcd_harness.h"
#include "node.h"

#define SCOPE "bench"
#define ELECTION_MS 500 /* the harness's --election-timeout */

/* Diagnostics for S1's share of etcd's watch fan-out (docs/PERFORMANCE.md), off by default:
 * BENCH_STRONG_NO_B=1 starts no node B (and skips S5); BENCH_STRONG_REF_WATCH=N opens N
 * watches on the reference's keys, drained by a thread, so that the reference pays for the
 * same fan-out as a strong register (2 = one per node). */
static int no_b, ref_watches;
static etcd_client *wcl;
static atomic_int wstop;

static void *drain_watches(void *arg)
{
    (void)arg;
    while (!atomic_load(&wstop)) {
        etcd_result *r = etcd_wait(wcl, 100);
        if (r)
            etcd_result_free(r);
    }
    return NULL;
}

static struct eh_cluster ec;
static struct test_node na, nb;
static etcd_client *ecl;
static int64_t lease;

static roster_client *connect_sock(const char *sock)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock;
    o.timeout_ms = 10000;
    roster_client *c = NULL;
    bu_check(NULL, "connect", roster_connect(&c, &o));
    return c;
}

static etcd_result *etcd_one(void)
{
    etcd_result *r = etcd_wait(ecl, BU_TIMEOUT_MS);
    if (!r)
        bu_die("etcd: no answer in %d ms", BU_TIMEOUT_MS);
    if (r->status != ETCD_OK && r->status != ETCD_FAILED)
        bu_die("etcd: %s: %s", etcd_status_name(r->status), r->message);
    return r;
}

/* etcd_register submits the reference operation: create-if-absent with the lease, else read
 * the holder (what a strong register does in one txn). */
static void etcd_register(const char *tag, size_t i)
{
    char key[64];
    int kl = snprintf(key, sizeof key, "ref/%s/%zu", tag, i);
    etcd_compare absent = {.key = key, .key_len = (size_t)kl, .target = ETCD_CMP_CREATE,
                           .result = ETCD_CMP_EQUAL, .number = 0};
    etcd_op put = {.type = ETCD_OP_PUT, .key = key, .key_len = (size_t)kl,
                   .value = "holder=0123456789abcdef.1 meta=bench", .value_len = 36,
                   .lease = lease};
    etcd_op get = {.type = ETCD_OP_RANGE, .key = key, .key_len = (size_t)kl};
    etcd_op txn = {.type = ETCD_OP_TXN, .cmp = &absent, .n_cmp = 1, .success = &put,
                   .n_success = 1, .failure = &get, .n_failure = 1};
    if (!etcd_submit(ecl, &txn, NULL))
        bu_die("etcd_submit failed");
}

/* etcd_run: n operations with depth in flight; fills lat (if not NULL); returns ops/s. */
static double etcd_run(const char *tag, size_t n, size_t depth, int read, bu_lat *lat)
{
    uint64_t *start = bu_xmalloc(n * sizeof *start);
    size_t sent = 0, done = 0;
    uint64_t first = 0;
    uint64_t t0 = bu_now_ns();
    while (done < n) {
        while (sent < n && sent - done < depth) {
            start[sent] = bu_now_ns();
            if (read) {
                char key[64];
                int kl = snprintf(key, sizeof key, "ref/%s/%zu", tag, sent % 100);
                etcd_op get = {.type = ETCD_OP_RANGE, .key = key, .key_len = (size_t)kl};
                uint64_t id = etcd_submit(ecl, &get, NULL);
                if (sent == 0)
                    first = id;
            } else {
                etcd_register(tag, sent);
            }
            sent++;
        }
        etcd_result *r = etcd_one();
        if (lat)
            bu_lat_add(lat, bu_now_ns() - start[first ? r->id - first : done]);
        etcd_result_free(r);
        done++;
    }
    double rate = bu_rate(n, bu_now_ns() - t0);
    free(start);
    return rate;
}

/* --- roster side ------------------------------------------------------------------- */

struct reg_worker {
    int idx;
    int blk;
    size_t n;
    uint64_t elapsed_ns;
    pthread_barrier_t *go;
};

static void *reg_thread(void *arg)
{
    struct reg_worker *w = arg;
    roster_client *c = connect_sock(na.sock);
    pthread_barrier_wait(w->go);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < w->n; i++) {
        char name[64];
        int nl = snprintf(name, sizeof name, "t%d/%d/%zu/%zu", w->idx, w->blk, w->n, i);
        bu_check(c, "strong register",
                 roster_register(c, SCOPE, name, (size_t)nl, roster_self(c), "m", 1, NULL,
                                 BU_TIMEOUT_MS));
    }
    w->elapsed_ns = bu_now_ns() - t0;
    roster_close(c);
    return NULL;
}

/* roster_throughput: clients threads, per_client registrations each; returns the elapsed
 * ns from the common start to the last one's end (blk keeps the names of blocks apart) */
static uint64_t roster_throughput(int clients, size_t per_client, int blk)
{
    pthread_t th[64];
    struct reg_worker ws[64];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)clients + 1);
    for (int i = 0; i < clients; i++) {
        ws[i] = (struct reg_worker){.idx = i, .blk = blk, .n = per_client, .go = &go};
        if (pthread_create(&th[i], NULL, reg_thread, &ws[i]) != 0)
            bu_die("pthread_create");
    }
    pthread_barrier_wait(&go);
    uint64_t t0 = bu_now_ns();
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    uint64_t el = bu_now_ns() - t0;
    pthread_barrier_destroy(&go);
    return el;
}

static void print_ratio(const char *what, double ours, double ref, const char *target)
{
    printf("  %-52s %.2fx  (target %s)\n", what, ref > 0 ? ours / ref : 0.0, target);
}

static void start_nodes(void)
{
    const char *aa[] = {"--name", "a", "--etcd", ec.endpoints, "--etcd-prefix", "/bench/", NULL};
    const char *ab[] = {"--name", "b", "--etcd", ec.endpoints, "--etcd-prefix", "/bench/", NULL};
    test_node_start(&na, aa);
    if (!no_b)
        test_node_start(&nb, ab);
}

static void wait_ready(roster_client *c)
{
    uint64_t deadline = bu_now_ns() + 20000000000ull;
    for (;;) {
        roster_entry e;
        memset(&e, 0, sizeof e);
        int rc = roster_lookup(c, SCOPE, "nobody", 6, &e, 2000);
        if (rc == ROSTER_ENOTFOUND)
            return;
        if (rc == ROSTER_OK)
            roster_entry_free(&e);
        if (bu_now_ns() > deadline)
            bu_die("strong scope not ready: %s", roster_err_name(rc));
        usleep(50000);
    }
}

int main(void)
{
    no_b = getenv("BENCH_STRONG_NO_B") && atoi(getenv("BENCH_STRONG_NO_B"));
    ref_watches = getenv("BENCH_STRONG_REF_WATCH") ? atoi(getenv("BENCH_STRONG_REF_WATCH")) : 0;
    eh_start(&ec, 3);
    start_nodes();
    etcd_config cfg = {.endpoints = ec.endpoints, .prefix = "/ref/", .timeout_ms = 10000};
    const char *err = NULL;
    ecl = etcd_client_create(&cfg, &err);
    if (!ecl)
        bu_die("%s", err);
    etcd_op grant = {.type = ETCD_OP_LEASE_GRANT, .ttl = 600};
    etcd_submit(ecl, &grant, NULL);
    etcd_result *gr = etcd_one();
    lease = gr->lease_id;
    etcd_result_free(gr);
    pthread_t drainer;
    if (ref_watches > 0) {
        wcl = etcd_client_create(&cfg, &err);
        if (!wcl)
            bu_die("%s", err);
        for (int i = 0; i < ref_watches; i++) {
            etcd_op w = {.type = ETCD_OP_WATCH, .key = "ref/", .key_len = 4, .prefix = true};
            if (!etcd_submit(wcl, &w, NULL))
                bu_die("etcd_submit (watch) failed");
        }
        if (pthread_create(&drainer, NULL, drain_watches, NULL) != 0)
            bu_die("pthread_create");
        printf("  (diagnostic: %d watches on the reference's keys)\n", ref_watches);
    }
    if (no_b)
        printf("  (diagnostic: no node B; S5 skipped)\n");

    roster_client *a = connect_sock(na.sock), *b = no_b ? NULL : connect_sock(nb.sock);
    int rc;
    uint64_t until = bu_now_ns() + 20000000000ull;
    while ((rc = roster_scope_create(a, SCOPE, ROSTER_SCOPE_STRONG, 5000)) != ROSTER_OK) {
        if (rc != ROSTER_EUNAVAIL || bu_now_ns() > until)
            bu_check(a, "scope-create --strong", rc);
        usleep(50000);
    }
    wait_ready(a);
    if (b)
        wait_ready(b);

    bu_section("S1 strong register latency, 1 client (3-member etcd on loopback)");
    size_t n1 = bu_count(2000);
    etcd_run("warm", bu_count(300), 1, 0, NULL);
    bu_lat le, lr;
    bu_lat_init(&le, n1);
    bu_lat_init(&lr, n1);
    /* interleaved in blocks so both see the same machine conditions */
    for (size_t blk = 0; blk < 10; blk++) {
        etcd_run("s1", n1 / 10, 1, 0, &le);
        for (size_t i = 0; i < n1 / 10; i++) {
            char name[64];
            int nl = snprintf(name, sizeof name, "s1/%zu/%zu", blk, i);
            uint64_t t = bu_now_ns();
            bu_check(a, "strong register",
                     roster_register(a, SCOPE, name, (size_t)nl, roster_self(a), "m", 1, NULL,
                                     BU_TIMEOUT_MS));
            bu_lat_add(&lr, bu_now_ns() - t);
        }
    }
    bu_lat_sort(&le);
    bu_lat_sort(&lr);
    bu_print_lat("etcd txn (create-if-absent + lease), direct", &le);
    bu_print_lat("roster strong register", &lr);
    print_ratio("register p50 / etcd txn p50", bu_pct_us(&lr, 0.50), bu_pct_us(&le, 0.50), "<= 1.25x");
    bu_result("strong_register_p50_us", bu_pct_us(&lr, 0.50));
    bu_result("strong_register_p99_us", bu_pct_us(&lr, 0.99));
    bu_result("etcd_txn_p50_us", bu_pct_us(&le, 0.50));

    bu_section("S2 strong register throughput (clients = etcd requests in flight)");
    static const int conc[] = {1, 16, 64};
    /* interleaved in blocks, like S1: the machine's load drifts (other work on 2 vCPUs),
     * and a ratio of two runs a minute apart measured the drift more than roster */
    enum { S2_BLOCKS = 6 };
    for (size_t k = 0; k < 3; k++) {
        int c = conc[k];
        size_t total = bu_count(c == 1 ? 2000 : 12000);
        size_t per_blk = total / S2_BLOCKS / (size_t)c * (size_t)c;
        if (per_blk == 0)
            per_blk = (size_t)c;
        uint64_t t_ref = 0, t_ours = 0;
        for (int blk = 0; blk < S2_BLOCKS; blk++) {
            char tag[24];
            snprintf(tag, sizeof tag, "s2_%d_%d", c, blk);
            uint64_t t0 = bu_now_ns();
            etcd_run(tag, per_blk, (size_t)c, 0, NULL);
            t_ref += bu_now_ns() - t0;
            t_ours += roster_throughput(c, per_blk / (size_t)c, blk);
        }
        double ref = bu_rate(per_blk * S2_BLOCKS, t_ref);
        double ours = bu_rate(per_blk * S2_BLOCKS, t_ours);
        printf("  %2d: etcd direct %9.0f/s   roster %9.0f/s   (%d interleaved blocks of %zu)\n", c,
               ref, ours, S2_BLOCKS, per_blk);
        char what[64];
        snprintf(what, sizeof what, "roster / etcd with %d clients", c);
        print_ratio(what, ours, ref, c == 64 ? ">= 4x" : "report");
        char key[64];
        snprintf(key, sizeof key, "strong_register_%d_ops", c);
        bu_result(key, ours);
        snprintf(key, sizeof key, "etcd_txn_%d_ops", c);
        bu_result(key, ref);
    }

    bu_section("S3/S4 lookups");
    size_t n3 = bu_count(2000);
    bu_lat ler, lrl, lrs, lsock;
    bu_lat_init(&ler, n3);
    bu_lat_init(&lrl, n3);
    bu_lat_init(&lrs, n3);
    bu_lat_init(&lsock, n3);
    etcd_run("s1", 100, 1, 0, NULL); /* the keys the reads look at */
    bu_echo echo;
    bu_echo_start(&echo, NULL);
    for (size_t blk = 0; blk < 10; blk++) {
        etcd_run("s1", n3 / 10, 1, 1, &ler);
        for (int mode = 0; mode < 2; mode++) {
            roster_set_read_mode(a, mode ? ROSTER_READ_STALE : ROSTER_READ_LINEARIZABLE);
            for (size_t i = 0; i < n3 / 10; i++) {
                char name[64];
                int nl = snprintf(name, sizeof name, "s1/0/%zu", i % 100);
                roster_entry e;
                uint64_t t = bu_now_ns();
                bu_check(a, "strong lookup", roster_lookup(a, SCOPE, name, (size_t)nl, &e,
                                                           BU_TIMEOUT_MS));
                bu_lat_add(mode ? &lrs : &lrl, bu_now_ns() - t);
                roster_entry_free(&e);
            }
        }
        for (size_t i = 0; i < n3 / 10; i++)
            bu_lat_add(&lsock, bu_echo_rtt(&echo));
    }
    bu_echo_stop(&echo);
    roster_set_read_mode(a, ROSTER_READ_LINEARIZABLE);
    bu_lat_sort(&ler);
    bu_lat_sort(&lrl);
    bu_lat_sort(&lrs);
    bu_lat_sort(&lsock);
    bu_print_lat("etcd linearizable range, direct", &ler);
    bu_print_lat("roster linearizable lookup", &lrl);
    bu_print_lat("raw Unix-socket round trip (floor)", &lsock);
    bu_print_lat("roster stale lookup", &lrs);
    print_ratio("linearizable lookup p50 / etcd read p50", bu_pct_us(&lrl, 0.50), bu_pct_us(&ler, 0.50),
                "<= 1.25x");
    print_ratio("stale lookup p50 / socket round trip p50", bu_pct_us(&lrs, 0.50),
                bu_pct_us(&lsock, 0.50), "<= 1.5x");
    bu_result("strong_lookup_lin_p50_us", bu_pct_us(&lrl, 0.50));
    bu_result("strong_lookup_stale_p50_us", bu_pct_us(&lrs, 0.50));
    bu_result("etcd_read_p50_us", bu_pct_us(&ler, 0.50));
    bu_result("socket_rtt_p50_us", bu_pct_us(&lsock, 0.50));

    bu_section("S5 register on A until visible in B's stale read");
    size_t n5 = b ? bu_count(300) : 0;
    bu_lat lv;
    bu_lat_init(&lv, n5);
    if (b)
        roster_set_read_mode(b, ROSTER_READ_STALE);
    for (size_t i = 0; i < n5; i++) {
        char name[64];
        int nl = snprintf(name, sizeof name, "s5/%zu", i);
        uint64_t t = bu_now_ns();
        bu_check(a, "strong register", roster_register(a, SCOPE, name, (size_t)nl, roster_self(a),
                                                       "m", 1, NULL, BU_TIMEOUT_MS));
        for (;;) {
            roster_entry e;
            rc = roster_lookup(b, SCOPE, name, (size_t)nl, &e, BU_TIMEOUT_MS);
            if (rc == ROSTER_OK) {
                roster_entry_free(&e);
                break;
            }
            if (rc != ROSTER_ENOTFOUND)
                bu_check(b, "stale lookup on B", rc);
            if (bu_now_ns() - t > 10000000000ull)
                bu_die("a name registered on A not visible on B after 10 s");
        }
        bu_lat_add(&lv, bu_now_ns() - t);
    }
    if (n5) {
        bu_lat_sort(&lv);
        bu_print_lat("register on A -> visible on B (stale read)", &lv);
        bu_result("strong_visible_p50_us", bu_pct_us(&lv, 0.50));
    }

    bu_section("S6 writes resume after the etcd leader is killed");
    int leader = eh_leader(&ec);
    if (leader < 0)
        bu_die("no etcd leader");
    eh_kill(&ec, leader);
    uint64_t t_kill = bu_now_ns();
    size_t tries = 0;
    for (;;) {
        char name[64];
        int nl = snprintf(name, sizeof name, "s6/%zu", tries++);
        /* short tries: the figure is not rounded up to one try's timeout */
        rc = roster_register(a, SCOPE, name, (size_t)nl, roster_self(a), "m", 1, NULL, 100);
        if (rc == ROSTER_OK)
            break;
        if (bu_now_ns() - t_kill > 30000000000ull)
            bu_check(a, "register after the leader's death", rc);
    }
    double resume_ms = (double)(bu_now_ns() - t_kill) / 1e6;
    printf("  writes resumed %.0f ms after the leader was killed (%zu tries; target <= %d ms)\n",
           resume_ms, tries, 2 * ELECTION_MS);
    bu_result("strong_resume_ms", resume_ms);

    roster_close(a);
    if (b)
        roster_close(b);
    if (wcl) {
        atomic_store(&wstop, 1);
        pthread_join(drainer, NULL);
        etcd_client_destroy(wcl);
    }
    etcd_client_destroy(ecl);
    test_node_stop(&na);
    if (!no_b)
        test_node_stop(&nb);
    eh_stop(&ec);
    return 0;
}
