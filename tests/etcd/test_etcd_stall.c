/* test_etcd_stall.c: writes stuck behind a dead etcd leader end early as UNKNOWN (stall.c)
 * instead of at their deadline. The leader is stopped with SIGSTOP, so its connections stay
 * open and nothing but the client's own probing can notice: deterministic, where a kill -9
 * races the write against the connection's reset (PERFORMANCE.md S6). Each write here has
 * a 10 s deadline; before stall.c both waited all of it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "etcd/etcd.h"
#include "etcd_harness.h"
#include "test.h"

#define DEADLINE_MS 10000

static etcd_client *client(const char *endpoints)
{
    etcd_config cfg = {.endpoints = endpoints, .prefix = "/roster/stall/",
                       .timeout_ms = DEADLINE_MS};
    const char *err = NULL;
    etcd_client *c = etcd_client_create(&cfg, &err);
    if (!c)
        test_fail(__FILE__, __LINE__, "etcd_client_create: %s", err ? err : "?");
    return c;
}

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
        etcd_result_free(r);
    }
}

/* A put's status, and how long it took in *ms. */
static etcd_status put(etcd_client *c, const char *k, uint64_t *ms, char *msg, size_t msg_len)
{
    etcd_op op = {.type = ETCD_OP_PUT, .key = k, .key_len = strlen(k), .value = "v",
                  .value_len = 1};
    uint64_t t0 = test_now_ms();
    uint64_t id = etcd_submit(c, &op, NULL);
    ASSERT(id > 0);
    etcd_result *r = result_of(c, id, DEADLINE_MS + 5000);
    if (ms)
        *ms = test_now_ms() - t0;
    etcd_status s = r->status;
    if (msg)
        snprintf(msg, msg_len, "%s", r->message ? r->message : "");
    etcd_result_free(r);
    return s;
}

/* Writes go on after the stop, within the deadline (the surviving two elect a leader). */
static void writes_resume(etcd_client *c, uint64_t t_stop)
{
    for (int i = 0;; i++) {
        ASSERT(test_now_ms() - t_stop < 15000);
        char k[32];
        snprintf(k, sizeof k, "after%d", i);
        etcd_status s = put(c, k, NULL, NULL, 0);
        if (s == ETCD_OK)
            break;
        ASSERT(s == ETCD_UNAVAILABLE || s == ETCD_UNKNOWN);
    }
}

/* The client talks only to a follower: a put it sends just after the leader stops is
 * forwarded to the stopped leader and never answered. The election gives the follower a
 * newer term, which the probe sees. */
static void test_follower_forwards_to_stopped_leader(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 3);
    int leader = eh_leader(&cl);
    ASSERT(leader >= 0);
    int follower = (leader + 1) % cl.n;
    char ep[64];
    etcd_client *c = client(eh_endpoint(&cl, follower, ep, sizeof ep));
    ASSERT_EQ(put(c, "before", NULL, NULL, 0), ETCD_OK); /* the term it was sent under */
    ASSERT_EQ(kill(cl.m[leader].pid, SIGSTOP), 0);
    uint64_t t_stop = test_now_ms();
    uint64_t ms;
    char msg[200];
    etcd_status s = put(c, "during", &ms, msg, sizeof msg);
    printf("  put through the follower: status %d after %llu ms (%s)\n", (int)s,
           (unsigned long long)ms, msg);
    /* never UNAVAILABLE: it was forwarded, and may have been appended before the stop */
    ASSERT(s == ETCD_UNKNOWN || s == ETCD_OK);
    ASSERT(ms < 4000); /* 10 s before stall.c */
    writes_resume(c, t_stop);
    printf("  writes resumed %llu ms after the stop\n",
           (unsigned long long)(test_now_ms() - t_stop));
    ASSERT_EQ(kill(cl.m[leader].pid, SIGCONT), 0);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

/* The client's preferred member is the leader, stopped: the put sits in a connection that
 * nobody reads. The probe gets no answer either, and the put ends as UNKNOWN; the next one
 * goes to another member. */
static void test_write_on_stopped_member(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 3);
    int leader = eh_leader(&cl);
    ASSERT(leader >= 0);
    /* the leader first, so that it is the preferred endpoint */
    char eps[256], a[64], b[64], d[64];
    snprintf(eps, sizeof eps, "%s,%s,%s", eh_endpoint(&cl, leader, a, sizeof a),
             eh_endpoint(&cl, (leader + 1) % 3, b, sizeof b),
             eh_endpoint(&cl, (leader + 2) % 3, d, sizeof d));
    etcd_client *c = client(eps);
    ASSERT_EQ(put(c, "before", NULL, NULL, 0), ETCD_OK);
    ASSERT_EQ(kill(cl.m[leader].pid, SIGSTOP), 0);
    uint64_t t_stop = test_now_ms();
    uint64_t ms;
    char msg[200];
    etcd_status s = put(c, "during", &ms, msg, sizeof msg);
    printf("  put on the stopped leader: status %d after %llu ms (%s)\n", (int)s,
           (unsigned long long)ms, msg);
    ASSERT(s == ETCD_UNKNOWN);
    ASSERT(ms < 6000); /* the probe's 2 s after 0.2 s; 10 s before stall.c */
    writes_resume(c, t_stop);
    printf("  writes resumed %llu ms after the stop\n",
           (unsigned long long)(test_now_ms() - t_stop));
    ASSERT_EQ(kill(cl.m[leader].pid, SIGCONT), 0);
    etcd_client_destroy(c);
    eh_stop(&cl);
}

/* A healthy, idle cluster: probes never end a write (a slow one is not a stuck one). */
static void test_no_false_stall(void)
{
    struct eh_cluster cl;
    eh_start(&cl, 3);
    etcd_client *c = client(cl.endpoints);
    for (int i = 0; i < 200; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%d", i);
        ASSERT_EQ(put(c, k, NULL, NULL, 0), ETCD_OK);
    }
    etcd_client_destroy(c);
    eh_stop(&cl);
}

TEST_MAIN(T(test_follower_forwards_to_stopped_leader), T(test_write_on_stopped_member),
          T(test_no_false_stall))
