/* test_core_lease.c: per-entry leases (LEASE, RENEW, expiry on TICK) and exit reasons
 * (PID_EXIT) in one core, input by input (issue 11 items 7 and 8); log levels trace and off
 * (item 18). The cluster side (replicas learn the removal, never expire by themselves; the
 * exit reason on other nodes) is test_core_lease_cluster.c. */
#include <time.h>

#include "core_harness.h"

static int h_lease(struct harness *h, uint64_t conn, struct rs_pid pid, uint32_t kind,
                   const char *scope, const char *key, const char *meta, uint64_t ttl)
{
    struct rs_msg m = {.type = RS_MSG_LEASE, .opts = kind, .arg = ttl, .pid = pid,
                       .scope = h_str(scope), .key = h_str(key), .meta = h_str(meta)};
    return h_status(h, conn, &m);
}

static int h_renew(struct harness *h, uint64_t conn, struct rs_pid pid, uint64_t *n)
{
    struct rs_msg m = {.type = RS_MSG_RENEW, .pid = pid};
    int st = h_status(h, conn, &m);
    if (n)
        *n = h_reply(h)->arg;
    return st;
}

static int h_exit(struct harness *h, uint64_t conn, struct rs_pid pid, const char *reason)
{
    struct rs_msg m = {.type = RS_MSG_PID_EXIT, .pid = pid, .meta = h_str(reason)};
    return h_status(h, conn, &m);
}

static uint64_t stat(struct harness *h, const char *name)
{
    struct rs_msg m = {.type = RS_MSG_STATUS};
    ASSERT_EQ(h_status(h, 1, &m), 0);
    for (size_t i = 0; i < h->nf; i++)
        if (h->f[i].m.flags == RS_F_ITEM && h_bytes_is(h->f[i].m.key, name))
            return h->f[i].m.arg;
    test_fail(__FILE__, __LINE__, "no STATUS item %s", name);
}

static void h_tick_at(struct harness *h, uint64_t now)
{
    h->now = now;
    struct rs_input in = {.kind = RS_IN_TICK};
    h_apply(h, &in);
}

static void test_name_expires_while_connected(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    h_subscribe(&h, 2, "", "", 0);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "svc", "m", 500), 0);
    ASSERT(h_reply(&h)->arg2 != 0); /* the grant's token, as REGISTER gives it */
    ASSERT(h_pid_eq(h_reply(&h)->pid, p));
    ASSERT_EQ(h_nevents(&h, 2), 1); /* registered */
    /* 499 ms later: still there */
    h_tick_at(&h, 1499);
    ASSERT_EQ(h.nf, 0);
    ASSERT_EQ(h_lookup(&h, 2, "", "svc"), 0);
    /* at the deadline: removed, with reason expired, the client still connected */
    h_tick_at(&h, 1500);
    ASSERT_EQ(h_nevents(&h, 1), 1); /* the owner's notice, id 0 */
    const struct rs_msg *e = h_event(&h, 1, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_UNREGISTERED | (ROSTER_REASON_EXPIRED << 8));
    ASSERT_U64_EQ(e->arg, 0);
    ASSERT(h_bytes_is(e->key, "svc") && h_bytes_is(e->meta, "m"));
    ASSERT_EQ(h_nevents(&h, 2), 1);
    e = h_event(&h, 2, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_UNREGISTERED | (ROSTER_REASON_EXPIRED << 8));
    ASSERT(h_pid_eq(e->pid, p));
    ASSERT_EQ(h_lookup(&h, 2, "", "svc"), ROSTER_ENOTFOUND);
    ASSERT_U64_EQ(h_stats(&h).names, 0);
    ASSERT_U64_EQ(h_stats(&h).pids, 2); /* the pid lives on */
    /* the next renew says so once, then succeeds */
    uint64_t n = 9;
    ASSERT_EQ(h_renew(&h, 1, p, NULL), ROSTER_EEXPIRED);
    ASSERT_EQ(h_renew(&h, 1, p, &n), 0);
    ASSERT_U64_EQ(n, 0);
    /* nothing more happens later */
    h_tick_at(&h, 100000);
    ASSERT_EQ(h.nf, 0);
    h_fini(&h);
}

static void test_renew_keeps_every_entry(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "a", "", 300), 0);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "b", "", 1000), 0);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_MEMBER, "", "g", "x", 600), 0);
    ASSERT_EQ(h_register(&h, 1, p, "", "plain", ""), 0); /* no TTL: never expires */
    /* renewing every 200 ms keeps all of them for 10 s */
    for (uint64_t t = 1200; t <= 11000; t += 200) {
        h_tick_at(&h, t);
        ASSERT_EQ(h.nf, 0);
        uint64_t n = 0;
        ASSERT_EQ(h_renew(&h, 1, p, &n), 0);
        ASSERT_U64_EQ(n, 3);
    }
    ASSERT_U64_EQ(h_stats(&h).names, 3);
    ASSERT_U64_EQ(h_stats(&h).members, 1);
    ASSERT_U64_EQ(stat(&h, "leases"), 3);
    ASSERT_U64_EQ(stat(&h, "leases_expired"), 0);
    /* then they go in deadline order, each at its own TTL: a at +300, g at +600, b +1000 */
    h_tick_at(&h, 11299);
    ASSERT_EQ(h.nf, 0);
    h_tick_at(&h, 11300);
    ASSERT_EQ(h_nevents(&h, 1), 1);
    ASSERT(h_bytes_is(h_event(&h, 1, 0)->key, "a"));
    h_tick_at(&h, 11600);
    ASSERT_EQ(h_nevents(&h, 1), 1);
    ASSERT_EQ(h_event(&h, 1, 0)->opts, ROSTER_EV_LEFT | (ROSTER_REASON_EXPIRED << 8));
    ASSERT(h_bytes_is(h_event(&h, 1, 0)->key, "g"));
    ASSERT_U64_EQ(h_stats(&h).members, 0);
    h_tick_at(&h, 50000); /* b, and never "plain" */
    ASSERT_EQ(h_nevents(&h, 1), 1);
    ASSERT(h_bytes_is(h_event(&h, 1, 0)->key, "b"));
    ASSERT_U64_EQ(h_stats(&h).names, 1);
    ASSERT_EQ(h_lookup(&h, 1, "", "plain"), 0);
    ASSERT_U64_EQ(stat(&h, "leases"), 0);
    ASSERT_U64_EQ(stat(&h, "leases_expired"), 3);
    uint64_t n = 0;
    ASSERT_EQ(h_renew(&h, 1, p, &n), ROSTER_EEXPIRED);
    ASSERT(strstr((const char *)h_reply(&h)->prev.ptr, "3 leased entries") != NULL);
    h_fini(&h);
}

static void test_reregister_sets_lease_anew(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "n", "", 200), 0);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_MEMBER, "", "g", "", 200), 0);
    /* a plain register / join of the same entry takes the lease away */
    ASSERT_EQ(h_register(&h, 1, p, "", "n", ""), 0);
    ASSERT_EQ(h_join(&h, 1, p, "", "g", "new"), 0);
    h_tick_at(&h, 5000);
    ASSERT_EQ(h.nf, 0);
    ASSERT_U64_EQ(h_stats(&h).names, 1);
    ASSERT_U64_EQ(h_stats(&h).members, 1);
    uint64_t n = 9;
    ASSERT_EQ(h_renew(&h, 1, p, &n), 0);
    ASSERT_U64_EQ(n, 0);
    /* a lease on an entry held without one; then a longer one replaces a shorter one */
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "n", "", 200), 0);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "n", "", 1000), 0);
    h_tick_at(&h, 5500);
    ASSERT_EQ(h.nf, 0);
    h_tick_at(&h, 6000);
    ASSERT_EQ(h_nevents(&h, 1), 1);
    /* a refused plain register (metadata too big) leaves the lease alone */
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "n", "", 300), 0);
    char big[70000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = p, .key = h_str("n"),
                       .meta = rs_bytes_of(big, h.lim.meta_max + 1)};
    ASSERT_EQ(h_status(&h, 1, &m), ROSTER_EMETATOOBIG);
    h_tick_at(&h, 6300);
    ASSERT_EQ(h_nevents(&h, 1), 1);
    h_fini(&h);
}

static void test_lease_refusals(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid q = h_hello(&h, 2);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "n", "", RS_TTL_MIN_MS - 1), ROSTER_EINVAL);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "n", "", RS_TTL_MAX_MS + 1ull),
              ROSTER_EINVAL);
    ASSERT_EQ(h_lease(&h, 1, p, 3, "", "n", "", 1000), ROSTER_EINVAL);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "nope", "n", "", 1000), ROSTER_ENOSCOPE);
    ASSERT_EQ(h_lease(&h, 1, q, RS_LEASE_NAME, "", "n", "", 1000), ROSTER_ENOTOWNER);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "", "", 1000), ROSTER_EINVAL);
    ASSERT_EQ(h_renew(&h, 1, q, NULL), ROSTER_ENOTOWNER);
    /* another pid's name: ETAKEN with the holder, and its lease is not touched */
    ASSERT_EQ(h_lease(&h, 2, q, RS_LEASE_NAME, "", "n", "", 1000), 0);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "n", "", 100), ROSTER_ETAKEN);
    ASSERT(h_pid_eq(h_reply(&h)->pid, q));
    h_tick_at(&h, 1999);
    ASSERT_EQ(h.nf, 0);
    h_tick_at(&h, 2000);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    ASSERT_U64_EQ(h_stats(&h).names, 0);
    h_fini(&h);
}

/* With scope options: a leased name in a scope unique per node is this node's claim even when
 * another node's claim is first in the key's chain; a leased join in a scope with duplicate
 * members is refused (which entry would it mean?). */
static void test_leases_and_scope_options(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_msg dup = {.type = RS_MSG_SCOPE_CREATE, .opts = ROSTER_SCOPE_DUPLICATE_MEMBERS,
                         .scope = h_str("d")};
    ASSERT_EQ(h_status(&h, 1, &dup), 0);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_MEMBER, "d", "g", "", 1000), ROSTER_EINVAL);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "d", "n", "", 1000), 0); /* names: as anywhere */
    struct rs_msg upn = {.type = RS_MSG_SCOPE_CREATE, .opts = ROSTER_SCOPE_UNIQUE_PER_NODE,
                         .scope = h_str("u")};
    ASSERT_EQ(h_status(&h, 1, &upn), 0);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "u", "n", "", 1000), 0);
    uint64_t n = 0;
    ASSERT_EQ(h_renew(&h, 1, p, &n), 0);
    ASSERT_U64_EQ(n, 2); /* both names hold a lease */
    h_fini(&h);
}

static void test_pid_death_drops_leases(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid p2 = h_pid_new(&h, 1);
    ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", "a", "", 200), 0);
    ASSERT_EQ(h_lease(&h, 1, p2, RS_LEASE_MEMBER, "", "g", "", 200), 0);
    ASSERT_EQ(h_pid_close(&h, 1, p2), 0);
    h_gone(&h, 1);
    ASSERT_U64_EQ(h_stats(&h).names, 0);
    h_tick_at(&h, 9000); /* no lease is left to fire on freed entries (ASan would say) */
    ASSERT_EQ(h.nf, 0);
    /* a handoff leaves the name without a lease: the new holder asked for none */
    struct rs_pid a = h_hello(&h, 3);
    struct rs_pid b = h_pid_new(&h, 3);
    ASSERT_EQ(h_lease(&h, 3, a, RS_LEASE_NAME, "", "h", "", 200), 0);
    struct rs_msg m = {.type = RS_MSG_HANDOFF, .pid = b, .key = h_str("h")};
    ASSERT_EQ(h_status(&h, 3, &m), 0);
    h_tick_at(&h, 20000);
    ASSERT_EQ(h.nf, 0);
    ASSERT_EQ(h_lookup(&h, 3, "", "h"), 0);
    h_fini(&h);
}

static void test_many_leases_in_order(void)
{
    /* 2,000 leases with scattered TTLs expire exactly at their deadlines (the heap) */
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    char key[32];
    uint64_t ttl[2000];
    for (int i = 0; i < 2000; i++) {
        ttl[i] = RS_TTL_MIN_MS + (uint64_t)((i * 7919) % 5000);
        snprintf(key, sizeof key, "k%d", i);
        ASSERT_EQ(h_lease(&h, 1, p, i % 2 ? RS_LEASE_MEMBER : RS_LEASE_NAME, "", key, "",
                          ttl[i]),
                  0);
    }
    size_t gone = 0;
    for (uint64_t t = 1000; t <= 1000 + RS_TTL_MIN_MS + 5000; t += 50) {
        h_tick_at(&h, t);
        size_t due = 0;
        for (int i = 0; i < 2000; i++)
            if (1000 + ttl[i] <= t && 1000 + ttl[i] > t - 50)
                due++;
        ASSERT_EQ(h_nevents(&h, 1), due);
        gone += due;
    }
    ASSERT_EQ(gone, 2000);
    ASSERT_U64_EQ(h_stats(&h).names + h_stats(&h).members, 0);
    h_fini(&h);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_cost_of_100k_leases(void)
{
    /* 100,000 leased names of one pid: registering, one RENEW of all, and their expiry in
     * one tick; printed (not asserted: the machine may be loaded). Every lease goes. */
    enum { N = 100000 };
    struct rs_limits lim;
    rs_limits_default(&lim);
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p = h_hello(&h, 1);
    char key[32];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "lease-%d", i);
        ASSERT_EQ(h_lease(&h, 1, p, RS_LEASE_NAME, "", key, "", 1000 + (uint64_t)(i % 977)), 0);
    }
    double reg = ms_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t n = 0;
    ASSERT_EQ(h_renew(&h, 1, p, &n), 0);
    double ren = ms_since(&t0);
    ASSERT_U64_EQ(n, N);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    h_tick_at(&h, 1000000);
    double exp = ms_since(&t0);
    ASSERT_EQ(h_nevents(&h, 1), N);
    ASSERT_U64_EQ(h_stats(&h).names, 0);
    fprintf(stderr, "100000 leases: register %.0f ms (%.2f us each, harness included), renew "
                    "all %.1f ms, expire all in one tick %.0f ms\n",
            reg, reg * 1e3 / N, ren, exp);
    h_fini(&h);
}

static void test_exit_reason(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    ASSERT_EQ(h_register(&h, 1, p, "", "svc", "m"), 0);
    ASSERT_EQ(h_join(&h, 1, p, "", "g", "x"), 0);
    h_subscribe(&h, 2, "", "", 0);
    uint64_t mon = h_monitor(&h, 2, p);
    /* refused: empty, too long, control bytes, built-in names; the pid stays alive */
    const char *bad[] = {"", "normal", "expired", "exit", "disconnected", "node_down",
                         "handoff", "a\nb", "tab\there"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ(h_exit(&h, 1, p, bad[i]), ROSTER_EINVAL);
    char longr[RS_EXIT_REASON_MAX + 2];
    memset(longr, 'r', sizeof longr - 1);
    longr[sizeof longr - 1] = 0;
    ASSERT_EQ(h_exit(&h, 1, p, longr), ROSTER_EINVAL);
    longr[RS_EXIT_REASON_MAX] = 0; /* exactly the limit is fine */
    ASSERT_EQ(h_lookup(&h, 2, "", "svc"), 0);
    ASSERT_EQ(h_exit(&h, 2, p, "x"), ROSTER_ENOTOWNER);
    ASSERT_EQ(h_exit(&h, 1, p, "shutdown: deploy 42"), 0);
    ASSERT_EQ(h_nevents(&h, 2), 3); /* unregistered, left, down */
    for (size_t i = 0; i < 3; i++) {
        const struct rs_msg *e = h_event(&h, 2, i);
        ASSERT_EQ(h_ev_reason(e), ROSTER_REASON_EXIT);
        ASSERT(h_bytes_is(e->prev, "shutdown: deploy 42"));
    }
    ASSERT_EQ(h_ev_kind(h_event(&h, 2, 0)), ROSTER_EV_UNREGISTERED);
    ASSERT_EQ(h_ev_kind(h_event(&h, 2, 1)), ROSTER_EV_LEFT);
    ASSERT_EQ(h_ev_kind(h_event(&h, 2, 2)), ROSTER_EV_DOWN);
    ASSERT_U64_EQ(h_event(&h, 2, 2)->arg, mon);
    ASSERT_U64_EQ(h_stats(&h).names, 0);
    /* the text does not leak into later deaths */
    struct rs_pid q = h_pid_new(&h, 1);
    ASSERT_EQ(h_register(&h, 1, q, "", "svc2", ""), 0);
    ASSERT_EQ(h_exit(&h, 1, q, longr), 0);
    ASSERT(h_bytes_is(h_event(&h, 2, 0)->prev, longr));
    struct rs_pid r = h_pid_new(&h, 1);
    ASSERT_EQ(h_register(&h, 1, r, "", "svc3", ""), 0);
    ASSERT_EQ(h_pid_close(&h, 1, r), 0);
    ASSERT_EQ(h_ev_reason(h_event(&h, 2, 0)), ROSTER_REASON_NORMAL);
    ASSERT_EQ(h_event(&h, 2, 0)->prev.len, 0);
    h_fini(&h);
}

static void test_log_levels_trace_and_off(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    struct rs_msg m = {.type = RS_MSG_PING};
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    ASSERT_EQ(h.nlogs, 0); /* info: a request logs nothing */
    struct rs_msg lv = {.type = RS_MSG_LOG_LEVEL, .opts = RS_LOG_TRACE};
    ASSERT_EQ(h_status(&h, 1, &lv), 0);
    ASSERT_EQ(h.log_level, RS_LOG_TRACE);
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    ASSERT_EQ(h.nlogs, 1); /* trace: one line per request */
    lv.opts = RS_LOG_OFF;
    ASSERT_EQ(h_status(&h, 1, &lv), 0);
    ASSERT_EQ(h.log_level, RS_LOG_OFF);
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    ASSERT_EQ(h.nlogs, 0);
    lv.opts = RS_LOG_OFF + 1;
    ASSERT_EQ(h_status(&h, 1, &lv), ROSTER_EINVAL);
    h_fini(&h);
}

TEST_MAIN(T(test_name_expires_while_connected), T(test_renew_keeps_every_entry),
          T(test_reregister_sets_lease_anew), T(test_lease_refusals), T(test_leases_and_scope_options),
          T(test_pid_death_drops_leases), T(test_many_leases_in_order),
          T(test_cost_of_100k_leases), T(test_exit_reason),
          T(test_log_levels_trace_and_off))
