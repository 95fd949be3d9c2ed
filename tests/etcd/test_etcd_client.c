/* test_etcd_client.c: src/etcd against real etcd-server members: KV round trips, txn
 * compares, prefix isolation, leases and keepalive, watch order and compaction, dead
 * endpoints, failover and a leader killed under a 3-member cluster. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "etcd/etcd.h"
#include "etcd_harness.h"
#include "test.h"

static etcd_client *client(const char *endpoints, const char *prefix, int timeout_ms)
{
    etcd_config cfg = {.endpoints = endpoints, .prefix = prefix, .timeout_ms = timeout_ms};
    const char *err = NULL;
    etcd_client *c = etcd_client_create(&cfg, &err);
    if (!c)
        test_fail(__FILE__, __LINE__, "etcd_client_create: %s", err ? err : "?");
    return c;
}

/* The next result of id, waiting up to timeout_ms; the test fails without one. */
static etcd_result *result_of(etcd_client *c, uint64_t id, int timeout_ms)
{
    uint64_t until = test_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int left = (int)(until - test_now_ms());
        if (left <= 0)
            test_fail(__FILE__, __LINE__, "no result for request %llu in %d ms",
                      (unsigned long long)id, timeout_ms);
        etcd_result *r = etcd_wait(c, left);
        if (!r)
            continue;
        if (r->id == id)
            return r;
        etcd_result_free(r); /* an older stream's leftovers */
    }
}

static etcd_result *run(etcd_client *c, const etcd_op *op)
{
    uint64_t id = etcd_submit(c, op, NULL);
    ASSERT(id > 0);
    etcd_result *r = result_of(c, id, 15000);
    ASSERT(r->final);
    return r;
}

static etcd_status put(etcd_client *c, const char *k, const char *v, int64_t lease,
                       int64_t *rev)
{
    etcd_op op = {.type = ETCD_OP_PUT, .key = k, .key_len = strlen(k), .value = v,
                  .value_len = strlen(v), .lease = lease};
    etcd_result *r = run(c, &op);
    etcd_status s = r->status;
    if (rev)
        *rev = r->revision;
    etcd_result_free(r);
    return s;
}

static etcd_result *get(etcd_client *c, const char *k, bool prefix, bool serializable)
{
    etcd_op op = {.type = ETCD_OP_RANGE, .key = k, .key_len = strlen(k), .prefix = prefix,
                  .serializable = serializable};
    etcd_result *r = run(c, &op);
    ASSERT_EQ(r->status, ETCD_OK);
    return r;
}

static void test_put_range_delete(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    etcd_client *c = client(cl.endpoints, "/roster/t1/", 3000);
    int64_t r1, r2;
    ASSERT_EQ(put(c, "names/a", "1", 0, &r1), ETCD_OK);
    ASSERT_EQ(put(c, "names/b", "2", 0, &r2), ETCD_OK);
    ASSERT(r2 > r1);
    ASSERT_EQ(put(c, "other", "x", 0, NULL), ETCD_OK);

    etcd_result *r = get(c, "names/a", false, false);
    ASSERT_EQ(r->r.n_kvs, 1);
    ASSERT_STR_EQ(r->r.kvs[0].key, "names/a");
    ASSERT_STR_EQ(r->r.kvs[0].value, "1");
    ASSERT_EQ(r->r.kvs[0].mod_revision, r1);
    ASSERT_EQ(r->r.kvs[0].version, 1);
    etcd_result_free(r);

    r = get(c, "names/", true, true); /* serializable: the member's own copy */
    ASSERT_EQ(r->r.n_kvs, 2);
    ASSERT_EQ(r->r.count, 2);
    ASSERT_STR_EQ(r->r.kvs[0].key, "names/a");
    ASSERT_STR_EQ(r->r.kvs[1].key, "names/b");
    etcd_result_free(r);

    etcd_op del = {.type = ETCD_OP_DELETE, .key = "names/", .key_len = 6, .prefix = true,
                   .prev_kv = true};
    r = run(c, &del);
    ASSERT_EQ(r->status, ETCD_OK);
    ASSERT_EQ(r->r.deleted, 2);
    ASSERT_EQ(r->r.n_kvs, 2);
    ASSERT_STR_EQ(r->r.kvs[1].value, "2");
    etcd_result_free(r);

    r = get(c, "names/", true, false);
    ASSERT_EQ(r->r.n_kvs, 0);
    ASSERT_EQ(r->r.count, 0);
    etcd_result_free(r);
    r = get(c, "other", false, false);
    ASSERT_EQ(r->r.n_kvs, 1);
    etcd_result_free(r);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

static void test_txn_compare(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    etcd_client *c = client(cl.endpoints, "/roster/t2/", 3000);
    /* create-if-absent: version == 0, else read the holder */
    etcd_compare absent = {.key = "n", .key_len = 1, .target = ETCD_CMP_VERSION,
                           .result = ETCD_CMP_EQUAL, .number = 0};
    etcd_op put1 = {.type = ETCD_OP_PUT, .key = "n", .key_len = 1, .value = "alice",
                    .value_len = 5};
    etcd_op put2 = {.type = ETCD_OP_PUT, .key = "n", .key_len = 1, .value = "bob",
                    .value_len = 3};
    etcd_op read = {.type = ETCD_OP_RANGE, .key = "n", .key_len = 1};
    etcd_op txn = {.type = ETCD_OP_TXN, .cmp = &absent, .n_cmp = 1, .success = &put1,
                   .n_success = 1, .failure = &read, .n_failure = 1};
    etcd_result *r = run(c, &txn);
    ASSERT_EQ(r->status, ETCD_OK);
    ASSERT_EQ(r->n_ops, 1);
    ASSERT_EQ(r->ops[0].type, ETCD_OP_PUT);
    int64_t created = r->revision;
    etcd_result_free(r);

    txn.success = &put2;
    r = run(c, &txn);
    ASSERT_EQ(r->status, ETCD_FAILED);
    ASSERT_EQ(r->n_ops, 1);
    ASSERT_EQ(r->ops[0].type, ETCD_OP_RANGE);
    ASSERT_EQ(r->ops[0].n_kvs, 1);
    ASSERT_STR_EQ(r->ops[0].kvs[0].value, "alice");
    ASSERT_EQ(r->ops[0].kvs[0].create_revision, created);
    etcd_result_free(r);

    /* compare-and-set on the value, then on mod_revision and create_revision */
    etcd_compare is_alice = {.key = "n", .key_len = 1, .target = ETCD_CMP_VALUE,
                             .result = ETCD_CMP_EQUAL, .value = "alice", .value_len = 5};
    etcd_op cas = {.type = ETCD_OP_TXN, .cmp = &is_alice, .n_cmp = 1, .success = &put2,
                   .n_success = 1};
    r = run(c, &cas);
    ASSERT_EQ(r->status, ETCD_OK);
    int64_t modrev = r->revision;
    etcd_result_free(r);
    r = run(c, &cas);
    ASSERT_EQ(r->status, ETCD_FAILED);
    ASSERT_EQ(r->n_ops, 0);
    etcd_result_free(r);

    etcd_compare at[2] = {
        {.key = "n", .key_len = 1, .target = ETCD_CMP_MOD, .result = ETCD_CMP_EQUAL,
         .number = modrev},
        {.key = "n", .key_len = 1, .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL,
         .number = created},
    };
    etcd_op del = {.type = ETCD_OP_DELETE, .key = "n", .key_len = 1};
    etcd_op cad = {.type = ETCD_OP_TXN, .cmp = at, .n_cmp = 2, .success = &del, .n_success = 1};
    at[0].number = modrev - 1;
    r = run(c, &cad);
    ASSERT_EQ(r->status, ETCD_FAILED);
    etcd_result_free(r);
    at[0].number = modrev;
    r = run(c, &cad);
    ASSERT_EQ(r->status, ETCD_OK);
    ASSERT_EQ(r->ops[0].type, ETCD_OP_DELETE);
    ASSERT_EQ(r->ops[0].deleted, 1);
    etcd_result_free(r);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

static void test_prefix_isolation(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    etcd_client *a = client(cl.endpoints, "/roster/a/", 3000);
    etcd_client *b = client(cl.endpoints, "/roster/ab/", 3000);
    ASSERT_EQ(put(a, "k", "from-a", 0, NULL), ETCD_OK);
    ASSERT_EQ(put(b, "k", "from-b", 0, NULL), ETCD_OK);
    ASSERT_EQ(put(b, "k2", "from-b", 0, NULL), ETCD_OK);
    etcd_result *r = get(a, "", true, false); /* everything of cluster a */
    ASSERT_EQ(r->r.n_kvs, 1);
    ASSERT_STR_EQ(r->r.kvs[0].key, "k");
    ASSERT_STR_EQ(r->r.kvs[0].value, "from-a");
    etcd_result_free(r);
    etcd_op wipe = {.type = ETCD_OP_DELETE, .key = "", .key_len = 0, .prefix = true};
    r = run(a, &wipe);
    ASSERT_EQ(r->r.deleted, 1);
    etcd_result_free(r);
    r = get(b, "", true, false);
    ASSERT_EQ(r->r.n_kvs, 2);
    ASSERT_STR_EQ(r->r.kvs[0].value, "from-b");
    etcd_result_free(r);
    etcd_client_destroy(a);
    etcd_client_destroy(b);
    eh_stop(&cl);
}

static bool key_exists(etcd_client *c, const char *k)
{
    etcd_result *r = get(c, k, false, false);
    bool e = r->r.n_kvs == 1;
    etcd_result_free(r);
    return e;
}

static void test_lease(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    etcd_client *c = client(cl.endpoints, "/roster/t4/", 3000);
    etcd_client *k = client(cl.endpoints, "/roster/t4/", 3000);
    etcd_op grant = {.type = ETCD_OP_LEASE_GRANT, .ttl = 2};
    etcd_result *r = run(c, &grant);
    ASSERT_EQ(r->status, ETCD_OK);
    int64_t lease = r->lease_id;
    ASSERT(lease > 0);
    ASSERT_EQ(r->ttl, 2);
    etcd_result_free(r);
    ASSERT_EQ(put(c, "held", "x", lease, NULL), ETCD_OK);

    /* kept alive past its TTL: renewals keep coming and the key stays */
    etcd_op ka = {.type = ETCD_OP_KEEPALIVE, .lease = lease, .ttl = 2};
    uint64_t kid = etcd_submit(k, &ka, NULL);
    ASSERT(kid > 0);
    int renewals = 0;
    uint64_t until = test_now_ms() + 3500;
    while (test_now_ms() < until) {
        etcd_result *x = etcd_wait(k, 200);
        if (!x)
            continue;
        ASSERT_EQ(x->id, kid);
        ASSERT_EQ(x->status, ETCD_OK);
        ASSERT(!x->final);
        ASSERT_EQ(x->lease_id, lease);
        ASSERT(x->ttl >= 1);
        renewals++;
        etcd_result_free(x);
    }
    ASSERT(renewals >= 3); /* one at once, then every TTL/3 */
    ASSERT(key_exists(c, "held"));
    etcd_cancel(k, kid);
    r = result_of(k, kid, 2000);
    ASSERT(r->final);
    ASSERT_EQ(r->status, ETCD_CANCELED);
    etcd_result_free(r);

    /* no more renewals: the lease expires and takes its key */
    uint64_t t0 = test_now_ms();
    while (key_exists(c, "held")) {
        ASSERT(test_now_ms() - t0 < 6000);
        poll(NULL, 0, 100);
    }
    printf("  key gone %llu ms after the last renewal stopped\n",
           (unsigned long long)(test_now_ms() - t0));

    /* a keepalive of that expired lease ends at once */
    kid = etcd_submit(k, &ka, NULL);
    r = result_of(k, kid, 3000);
    ASSERT(r->final);
    ASSERT_EQ(r->status, ETCD_LEASE_EXPIRED);
    etcd_result_free(r);

    /* revoke takes its keys at once; a second revoke is refused */
    r = run(c, &grant);
    lease = r->lease_id;
    etcd_result_free(r);
    ASSERT_EQ(put(c, "held2", "y", lease, NULL), ETCD_OK);
    etcd_op revoke = {.type = ETCD_OP_LEASE_REVOKE, .lease = lease};
    r = run(c, &revoke);
    ASSERT_EQ(r->status, ETCD_OK);
    etcd_result_free(r);
    ASSERT(!key_exists(c, "held2"));
    r = run(c, &revoke);
    ASSERT_EQ(r->status, ETCD_REJECTED);
    ASSERT(strstr(r->message, "lease not found") != NULL);
    etcd_result_free(r);
    etcd_client_destroy(k);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

static void test_watch(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    etcd_client *c = client(cl.endpoints, "/roster/t5/", 3000);
    etcd_client *w = client(cl.endpoints, "/roster/t5/", 3000);
    int64_t r0, r1, r2, r3;
    ASSERT_EQ(put(c, "s/x", "old", 0, &r0), ETCD_OK);
    ASSERT_EQ(put(c, "s/y", "1", 0, &r1), ETCD_OK);
    ASSERT_EQ(put(c, "outside", "z", 0, NULL), ETCD_OK);
    ASSERT_EQ(put(c, "s/x", "new", 0, &r2), ETCD_OK);
    etcd_op del = {.type = ETCD_OP_DELETE, .key = "s/y", .key_len = 3};
    etcd_result *r = run(c, &del);
    r3 = r->revision;
    etcd_result_free(r);

    /* from r1: exactly the later events of the prefix, in order, with prev_kv */
    etcd_op wop = {.type = ETCD_OP_WATCH, .key = "s/", .key_len = 2, .prefix = true,
                   .prev_kv = true, .revision = r1};
    uint64_t wid = etcd_submit(w, &wop, NULL);
    int64_t want_rev[] = {r1, r2, r3};
    const char *want_key[] = {"s/y", "s/x", "s/y"};
    bool want_del[] = {false, false, true};
    size_t seen = 0;
    uint64_t until = test_now_ms() + 5000;
    while (seen < 3) {
        ASSERT(test_now_ms() < until);
        etcd_result *x = etcd_wait(w, 200);
        if (!x)
            continue;
        ASSERT_EQ(x->id, wid);
        ASSERT_EQ(x->status, ETCD_OK);
        ASSERT(!x->final);
        for (size_t i = 0; i < x->n_events; i++, seen++) {
            ASSERT(seen < 3);
            ASSERT_EQ(x->events[i].kv.mod_revision, want_rev[seen]);
            ASSERT_STR_EQ(x->events[i].kv.key, want_key[seen]);
            ASSERT_EQ(x->events[i].is_delete, want_del[seen]);
        }
        if (seen >= 2 && x->n_events) {
            /* the update of s/x carries what it replaced */
            for (size_t i = 0; i < x->n_events; i++)
                if (x->events[i].kv.mod_revision == r2) {
                    ASSERT(x->events[i].has_prev);
                    ASSERT_STR_EQ(x->events[i].prev.value, "old");
                }
        }
        etcd_result_free(x);
    }
    int64_t r4;
    ASSERT_EQ(put(c, "s/z", "live", 0, &r4), ETCD_OK);
    r = result_of(w, wid, 3000);
    ASSERT_EQ(r->n_events, 1);
    ASSERT_EQ(r->events[0].kv.mod_revision, r4);
    ASSERT_STR_EQ(r->events[0].kv.value, "live");
    etcd_result_free(r);
    etcd_cancel(w, wid);
    r = result_of(w, wid, 2000);
    ASSERT(r->final);
    ASSERT_EQ(r->status, ETCD_CANCELED);
    etcd_result_free(r);

    /* compaction: a watch from a compacted revision ends with ETCD_COMPACTED */
    etcd_op compact = {.type = ETCD_OP_COMPACT, .revision = r3};
    r = run(c, &compact);
    ASSERT_EQ(r->status, ETCD_OK);
    etcd_result_free(r);
    wid = etcd_submit(w, &wop, NULL);
    for (;;) {
        r = result_of(w, wid, 3000);
        if (r->final)
            break;
        ASSERT_EQ(r->n_events, 0); /* only the creation */
        etcd_result_free(r);
    }
    ASSERT_EQ(r->status, ETCD_COMPACTED);
    ASSERT_EQ(r->compact_revision, r3);
    etcd_result_free(r);
    etcd_client_destroy(w);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

static void test_dead_endpoint(void)
{
    char ep[64];
    snprintf(ep, sizeof(ep), "127.0.0.1:%d", eh_free_port());
    etcd_client *c = client(ep, "/roster/t6/", 1500);
    for (int i = 0; i < 2; i++) {
        uint64_t t0 = test_now_ms();
        etcd_op op = {.type = i ? ETCD_OP_PUT : ETCD_OP_RANGE, .key = "k", .key_len = 1,
                      .value = "v", .value_len = 1};
        etcd_result *r = run(c, &op);
        uint64_t took = test_now_ms() - t0;
        ASSERT_EQ(r->status, ETCD_UNAVAILABLE); /* never sent: a write too */
        ASSERT(took <= 1500 + 250);
        printf("  %s to a dead endpoint: unavailable in %llu ms\n", i ? "put" : "range",
               (unsigned long long)took);
        etcd_result_free(r);
    }
    etcd_client_destroy(c);
}

static void test_failover(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    char eps[128], live[64];
    snprintf(eps, sizeof(eps), "127.0.0.1:%d,%s", eh_free_port(),
             eh_endpoint(&cl, 0, live, sizeof(live)));
    etcd_client *c = client(eps, "/roster/t7/", 3000);
    ASSERT_EQ(put(c, "k", "v", 0, NULL), ETCD_OK);
    etcd_result *r = get(c, "k", false, false);
    ASSERT_EQ(r->r.n_kvs, 1);
    etcd_result_free(r);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

static void test_leader_kill(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 3);
    /* short deadlines: the time to resume is measured to within one of them */
    etcd_client *c = client(cl.endpoints, "/roster/t8/", 300);
    etcd_client *w = client(cl.endpoints, "/roster/t8/", 300);
    int64_t rev;
    ASSERT_EQ(put(c, "before", "1", 0, &rev), ETCD_OK);
    etcd_op wop = {.type = ETCD_OP_WATCH, .key = "", .key_len = 0, .prefix = true,
                   .revision = rev + 1};
    uint64_t wid = etcd_submit(w, &wop, NULL);
    int leader = eh_leader(&cl);
    ASSERT(leader >= 0);
    uint64_t t0 = test_now_ms();
    eh_kill(&cl, leader);
    int tries = 0, unknown = 0;
    int64_t after = 0;
    for (;;) {
        ASSERT(test_now_ms() - t0 < 15000);
        etcd_op op = {.type = ETCD_OP_PUT, .key = "after", .key_len = 5, .value = "2",
                      .value_len = 1};
        etcd_result *r = run(c, &op);
        tries++;
        etcd_status s = r->status;
        after = r->revision;
        etcd_result_free(r);
        if (s == ETCD_OK)
            break;
        ASSERT(s == ETCD_UNAVAILABLE || s == ETCD_UNKNOWN);
        unknown += s == ETCD_UNKNOWN;
    }
    uint64_t took = test_now_ms() - t0;
    printf("  writes resumed %llu ms after the leader was killed (%d tries, %d unknown)\n",
           (unsigned long long)took, tries, unknown);
    ASSERT(took < 10000);
    /* the watch, moved to a surviving member, still delivers the write exactly once */
    uint64_t until = test_now_ms() + 5000;
    int got = 0;
    while (test_now_ms() < until && !got) {
        etcd_result *x = etcd_wait(w, 200);
        if (!x)
            continue;
        ASSERT_EQ(x->id, wid);
        for (size_t i = 0; i < x->n_events; i++) {
            if (strcmp(x->events[i].kv.key, "after") == 0 &&
                x->events[i].kv.mod_revision == after)
                got++;
        }
        etcd_result_free(x);
    }
    ASSERT_EQ(got, 1);
    etcd_client_destroy(w);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

/* The member a watch and a keepalive stream are on dies: both move to another member,
 * the watch without losing or repeating an event, the lease without lapsing. */
static void test_streams_move(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 3);
    char e1[64], e2[64], others[160];
    snprintf(others, sizeof(others), "%s,%s", eh_endpoint(&cl, 1, e1, sizeof(e1)),
             eh_endpoint(&cl, 2, e2, sizeof(e2)));
    etcd_client *c = client(others, "/roster/t12/", 1000);
    etcd_client *w = client(cl.endpoints, "/roster/t12/", 1000); /* member 0 first */
    etcd_op grant = {.type = ETCD_OP_LEASE_GRANT, .ttl = 3};
    etcd_result *r = run(c, &grant);
    int64_t lease = r->lease_id;
    etcd_result_free(r);
    ASSERT_EQ(put(c, "held", "x", lease, NULL), ETCD_OK);
    etcd_op ka = {.type = ETCD_OP_KEEPALIVE, .lease = lease, .ttl = 3};
    etcd_op wop = {.type = ETCD_OP_WATCH, .key = "e/", .key_len = 2, .prefix = true};
    uint64_t wid = etcd_submit(w, &wop, NULL), kid = etcd_submit(w, &ka, NULL);
    int renewed = 0, created = 0;
    uint64_t until = test_now_ms() + 5000;
    while (!(renewed && created)) { /* both streams up on member 0 */
        ASSERT(test_now_ms() < until);
        etcd_result *x = etcd_wait(w, 200);
        if (!x)
            continue;
        ASSERT_EQ(x->status, ETCD_OK);
        renewed += x->id == kid;
        created += x->id == wid;
        etcd_result_free(x);
    }
    char k[16];
    for (int i = 0; i < 3; i++) {
        snprintf(k, sizeof(k), "e/%d", i);
        ASSERT_EQ(put(c, k, "before", 0, NULL), ETCD_OK);
    }
    eh_kill(&cl, 0);
    int64_t last = 0;
    for (int i = 3; i < 10; i++) {
        snprintf(k, sizeof(k), "e/%d", i);
        etcd_status st;
        while ((st = put(c, k, "after", 0, &last)) != ETCD_OK)
            ASSERT(st == ETCD_UNAVAILABLE || st == ETCD_UNKNOWN);
    }
    int seen = 0, renewals_after = 0;
    until = test_now_ms() + 8000;
    while (test_now_ms() < until && (seen < 10 || renewals_after < 3)) {
        etcd_result *x = etcd_wait(w, 200);
        if (!x)
            continue;
        ASSERT(!x->final);
        if (x->id == wid && x->status == ETCD_OK) {
            for (size_t i = 0; i < x->n_events; i++, seen++) {
                snprintf(k, sizeof(k), "e/%d", seen);
                ASSERT_STR_EQ(x->events[i].kv.key, k); /* each once, in order */
            }
        } else if (x->id == kid && x->status == ETCD_OK) {
            renewals_after++;
        } else {
            ASSERT_EQ(x->status, ETCD_UNAVAILABLE); /* a stream lost, moving on */
        }
        etcd_result_free(x);
    }
    ASSERT_EQ(seen, 10);
    ASSERT(renewals_after >= 3); /* past the TTL of 3 s since the kill */
    ASSERT(key_exists(c, "held"));
    etcd_client_destroy(w);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

/* etcd stops answering (SIGSTOP) or dies (SIGKILL: the stream keeps reconnecting): the
 * keepalive reports the lease lost by the local clock, before its TTL has passed since the
 * last renewal was asked for. */
static void lease_lost_locally(int sig)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    etcd_client *c = client(cl.endpoints, "/roster/t13/", 2000);
    etcd_op grant = {.type = ETCD_OP_LEASE_GRANT, .ttl = 3};
    etcd_result *r = run(c, &grant);
    int64_t lease = r->lease_id;
    etcd_result_free(r);
    etcd_op ka = {.type = ETCD_OP_KEEPALIVE, .lease = lease, .ttl = 3};
    uint64_t kid = etcd_submit(c, &ka, NULL);
    r = result_of(c, kid, 3000);
    ASSERT_EQ(r->status, ETCD_OK);
    etcd_result_free(r);
    uint64_t last_ok = test_now_ms(); /* an upper bound of the renewal's send time */
    if (sig == SIGKILL)
        eh_kill(&cl, 0);
    else
        kill(cl.m[0].pid, sig);
    for (;;) {
        r = result_of(c, kid, 5000);
        if (r->final)
            break;
        if (r->status == ETCD_OK)
            last_ok = test_now_ms();
        etcd_result_free(r);
    }
    uint64_t lost = test_now_ms();
    ASSERT_EQ(r->status, ETCD_LEASE_EXPIRED);
    etcd_result_free(r);
    printf("  lease reported lost %llu ms after the last renewal (TTL 3000 ms)\n",
           (unsigned long long)(lost - last_ok));
    ASSERT(lost - last_ok < 3000);
    if (sig == SIGSTOP)
        kill(cl.m[0].pid, SIGCONT);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

static void test_lease_lost_etcd_stopped(void)
{
    lease_lost_locally(SIGSTOP);
}

static void test_lease_lost_etcd_killed(void)
{
    lease_lost_locally(SIGKILL);
}

static void test_no_quorum(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 3);
    etcd_client *c = client(cl.endpoints, "/roster/t9/", 1500);
    ASSERT_EQ(put(c, "k", "v", 0, NULL), ETCD_OK);
    eh_kill(&cl, 0);
    eh_kill(&cl, 1);
    /* Once the survivor knows it has no leader, a write is refused: not applied. Before
     * that it may be proposed and time out: unknown. Each within its deadline. */
    bool refused = false;
    uint64_t t0 = test_now_ms();
    while (!refused && test_now_ms() - t0 < 10000) {
        uint64_t s = test_now_ms();
        etcd_op op = {.type = ETCD_OP_PUT, .key = "k", .key_len = 1, .value = "w",
                      .value_len = 1};
        etcd_result *r = run(c, &op);
        ASSERT(r->status == ETCD_UNAVAILABLE || r->status == ETCD_UNKNOWN);
        ASSERT(test_now_ms() - s <= 1500 + 250);
        refused = r->status == ETCD_UNAVAILABLE;
        etcd_result_free(r);
    }
    ASSERT(refused);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

#define SUBMITTERS 4
#define PER_THREAD 250

struct submitter {
    etcd_client *c;
    int n;
    uint64_t ids[PER_THREAD];
};

static void *submit_many(void *arg)
{
    struct submitter *t = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char k[32];
        int kl = snprintf(k, sizeof(k), "t%d/%d", t->n, i);
        etcd_op op = {.type = ETCD_OP_PUT, .key = k, .key_len = (size_t)kl, .value = k,
                      .value_len = (size_t)kl};
        t->ids[i] = etcd_submit(t->c, &op, t);
    }
    return NULL;
}

/* Several threads submit at once; every request gets exactly one result, through the fd. */
static void test_threads_and_fd(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    etcd_client *c = client(cl.endpoints, "/roster/t14/", 10000);
    /* the fresh channel connects first (a put before that may fail fast, unavailable, on a
     * loaded machine): this test is about many threads, not about the first connection */
    uint64_t ready_by = test_now_ms() + 20000;
    while (put(c, "warm", "1", 0, NULL) != ETCD_OK) {
        ASSERT(test_now_ms() < ready_by);
        poll(NULL, 0, 50);
    }
    static struct submitter t[SUBMITTERS];
    pthread_t th[SUBMITTERS];
    for (int i = 0; i < SUBMITTERS; i++) {
        t[i].c = c;
        t[i].n = i;
        ASSERT_EQ(pthread_create(&th[i], NULL, submit_many, &t[i]), 0);
    }
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(th[i], NULL);
    static bool seen[SUBMITTERS * PER_THREAD + 16];
    int got = 0;
    uint64_t until = test_now_ms() + 20000;
    struct pollfd p = {etcd_client_fd(c), POLLIN, 0};
    while (got < SUBMITTERS * PER_THREAD) {
        ASSERT(test_now_ms() < until);
        if (poll(&p, 1, 200) <= 0)
            continue;
        etcd_result *r;
        while ((r = etcd_next(c))) {
            ASSERT_EQ(r->status, ETCD_OK);
            ASSERT(r->final);
            struct submitter *s = r->user;
            ASSERT(s >= t && s < t + SUBMITTERS);
            ASSERT(r->id > 0 && r->id < SUBMITTERS * PER_THREAD + 16);
            ASSERT(!seen[r->id]);
            seen[r->id] = true;
            got++;
            etcd_result_free(r);
        }
    }
    for (int i = 0; i < SUBMITTERS; i++)
        for (int j = 0; j < PER_THREAD; j++)
            ASSERT(seen[t[i].ids[j]]);
    ASSERT_EQ(poll(&p, 1, 0), 0); /* drained: the fd is quiet */
    etcd_result *r = get(c, "t", true, false);
    ASSERT_EQ(r->r.count, SUBMITTERS * PER_THREAD); /* "t..." keys: not "warm" */
    etcd_result_free(r);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

static void test_response_bound(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 1);
    etcd_config cfg = {.endpoints = cl.endpoints, .prefix = "/roster/t10/", .max_response = 1024};
    etcd_client *c = etcd_client_create(&cfg, NULL);
    ASSERT(c != NULL);
    static char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    ASSERT_EQ(put(c, "small", "v", 0, NULL), ETCD_OK);
    ASSERT_EQ(put(c, "big", big, 0, NULL), ETCD_OK); /* requests are not bounded */
    etcd_result *r = get(c, "small", false, false);
    etcd_result_free(r);
    etcd_op op = {.type = ETCD_OP_RANGE, .key = "big", .key_len = 3};
    r = run(c, &op);
    ASSERT_EQ(r->status, ETCD_PROTOCOL); /* a read over the bound is refused */
    etcd_result_free(r);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

static void test_tls_client_cert(void)
{
    char dir[] = "/tmp/roster-etcd-tls-XXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    eh_make_certs(dir);
    struct eh_cluster cl;
    eh_start_tls(&cl, 1, dir);
    char ca[300], cert[300], key[300];
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(cert, sizeof(cert), "%s/client.crt", dir);
    snprintf(key, sizeof(key), "%s/client.key", dir);
    etcd_config cfg = {.endpoints = cl.endpoints, .prefix = "/roster/t11/", .ca_file = ca,
                       .cert_file = cert, .key_file = key, .timeout_ms = 3000};
    const char *err = NULL;
    etcd_client *c = etcd_client_create(&cfg, &err);
    ASSERT(c != NULL);
    ASSERT_EQ(put(c, "k", "over tls", 0, NULL), ETCD_OK);
    etcd_result *r = get(c, "k", false, false);
    ASSERT_STR_EQ(r->r.kvs[0].value, "over tls");
    etcd_result_free(r);
    etcd_client_destroy(c);
    /* without a client certificate, or without TLS, the member refuses: never applied */
    cfg.cert_file = cfg.key_file = NULL;
    cfg.timeout_ms = 2000;
    for (int i = 0; i < 2; i++) {
        if (i)
            cfg.ca_file = NULL;
        c = etcd_client_create(&cfg, &err);
        ASSERT(c != NULL);
        etcd_op op = {.type = ETCD_OP_RANGE, .key = "k", .key_len = 1};
        r = run(c, &op);
        ASSERT(r->status == ETCD_UNAVAILABLE || r->status == ETCD_UNKNOWN);
        etcd_result_free(r);
        etcd_client_destroy(c);
    }
    /* a key without its certificate is a configuration error */
    cfg.ca_file = ca;
    cfg.key_file = key;
    ASSERT(etcd_client_create(&cfg, &err) == NULL);
    ASSERT(err != NULL);
    eh_stop(&cl);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
}

TEST_MAIN(T(test_put_range_delete), T(test_txn_compare), T(test_prefix_isolation),
          T(test_lease), T(test_watch), T(test_dead_endpoint), T(test_failover),
          T(test_leader_kill), T(test_streams_move), T(test_lease_lost_etcd_stopped),
          T(test_lease_lost_etcd_killed),
          T(test_no_quorum), T(test_threads_and_fd), T(test_response_bound),
          T(test_tls_client_cert))
