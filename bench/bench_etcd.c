/* bench_etcd.c: the reference figures of strong scopes: etcd driven directly by src/etcd
 * against a local 1-member etcd (started here, on free loopback ports, unless
 * ETCD_ENDPOINTS names one). A register-like Txn (create-if-absent with a lease, else read
 * the holder): latency p50/p99 and throughput with 1 and 16 requests in flight; then
 * linearizable and serializable reads. Run: build/bin/bench_etcd */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "etcd/etcd.h"
#include "etcd_harness.h"

static etcd_client *cl;
static int64_t lease;

static etcd_result *wait_one(void)
{
    etcd_result *r = etcd_wait(cl, BU_TIMEOUT_MS);
    if (!r)
        bu_die("etcd: no answer in %d ms", BU_TIMEOUT_MS);
    if (r->status != ETCD_OK)
        bu_die("etcd: %s: %s", etcd_status_name(r->status), r->message);
    return r;
}

static uint64_t submit_register(const char *tag, size_t i)
{
    char key[64];
    int kl = snprintf(key, sizeof(key), "names/%s/%zu", tag, i);
    etcd_compare absent = {.key = key, .key_len = (size_t)kl, .target = ETCD_CMP_VERSION,
                           .result = ETCD_CMP_EQUAL, .number = 0};
    etcd_op put = {.type = ETCD_OP_PUT, .key = key, .key_len = (size_t)kl,
                   .value = "pid=1234 meta=bench", .value_len = 19, .lease = lease};
    etcd_op get = {.type = ETCD_OP_RANGE, .key = key, .key_len = (size_t)kl};
    etcd_op txn = {.type = ETCD_OP_TXN, .cmp = &absent, .n_cmp = 1, .success = &put,
                   .n_success = 1, .failure = &get, .n_failure = 1};
    uint64_t id = etcd_submit(cl, &txn, NULL);
    if (!id)
        bu_die("etcd_submit failed");
    return id;
}

static uint64_t submit_read(size_t i, bool serializable)
{
    char key[64];
    int kl = snprintf(key, sizeof(key), "names/c1/%zu", i);
    etcd_op get = {.type = ETCD_OP_RANGE, .key = key, .key_len = (size_t)kl,
                   .serializable = serializable};
    return etcd_submit(cl, &get, NULL);
}

/* n operations with `depth` in flight; latency from submit to result. */
static void run(const char *label, const char *key, size_t n, size_t depth, int kind)
{
    uint64_t *start = bu_xmalloc(n * sizeof(*start));
    uint64_t first = 0;
    bu_lat lat;
    bu_lat_init(&lat, n);
    size_t sent = 0, done = 0;
    uint64_t t0 = bu_now_ns();
    while (done < n) {
        while (sent < n && sent - done < depth) {
            start[sent] = bu_now_ns();
            uint64_t id = kind == 0 ? submit_register(label, sent) : submit_read(sent, kind == 2);
            if (sent == 0)
                first = id;
            else if (id != first + sent)
                bu_die("ids not consecutive (one submitter only)");
            sent++;
        }
        etcd_result *r = wait_one();
        bu_lat_add(&lat, bu_now_ns() - start[r->id - first]);
        etcd_result_free(r);
        done++;
    }
    uint64_t el = bu_now_ns() - t0;
    char name[96];
    snprintf(name, sizeof(name), "%s, %zu in flight", key, depth);
    bu_lat_sort(&lat);
    bu_print_lat(name, &lat);
    bu_print_rate(name, n, el);
    char rk[96];
    snprintf(rk, sizeof(rk), "etcd_%s_%zu_p50_us", label, depth);
    bu_result(rk, bu_pct_us(&lat, 50));
    snprintf(rk, sizeof(rk), "etcd_%s_%zu_ops", label, depth);
    bu_result(rk, bu_rate(n, el));
    bu_lat_free(&lat);
    free(start);
}

int main(void)
{
    struct eh_cluster ec;
    const char *eps = getenv("ETCD_ENDPOINTS");
    if (!eps) {
        eh_start(&ec, 1);
        eps = ec.endpoints;
    }
    etcd_config cfg = {.endpoints = eps, .prefix = "/roster/bench/", .timeout_ms = 10000};
    const char *err = NULL;
    cl = etcd_client_create(&cfg, &err);
    if (!cl)
        bu_die("%s", err);
    etcd_op grant = {.type = ETCD_OP_LEASE_GRANT, .ttl = 600};
    etcd_submit(cl, &grant, NULL);
    etcd_result *r = wait_one();
    lease = r->lease_id;
    etcd_result_free(r);

    bu_section("etcd directly (src/etcd), 1-member etcd on loopback");
    run("warm", "warm-up txn", bu_count(500), 1, 0);
    run("c1", "register txn (create-if-absent + lease)", bu_count(3000), 1, 0);
    run("c16", "register txn (create-if-absent + lease)", bu_count(20000), 16, 0);
    run("lin", "linearizable read", bu_count(3000), 1, 1);
    run("ser", "serializable read", bu_count(3000), 1, 2);
    etcd_client_destroy(cl);
    if (!getenv("ETCD_ENDPOINTS"))
        eh_stop(&ec);
    return 0;
}
