/* test_core_events.c: subscriptions of the core: matching (all, prefix, exact, families),
 * event fields, snapshots, unsubscribe, the per-client cap and overflow of slow readers. */
#include "core_harness.h"

static void test_event_fields(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    uint64_t sub = h_subscribe(&h, 2, NULL, "", ROSTER_SUB_ALL);
    ASSERT_U64_EQ(sub, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", "m1"), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    const struct rs_msg *e = h_event(&h, 2, 0);
    ASSERT_EQ(e->flags, 0);
    ASSERT_EQ(e->req_id, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_REGISTERED);
    ASSERT_U64_EQ(e->arg, sub);
    ASSERT(h_pid_eq(e->pid, p));
    ASSERT(h_bytes_is(e->scope, "default"));
    ASSERT(h_bytes_is(e->node, "node-a"));
    ASSERT(h_bytes_is(e->key, "db"));
    ASSERT(h_bytes_is(e->meta, "m1"));
    ASSERT_EQ(e->prev.len, 0);
    /* update carries the previous metadata */
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", "m2"), 0);
    e = h_event(&h, 2, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_UPDATED);
    ASSERT(h_bytes_is(e->meta, "m2"));
    ASSERT(h_bytes_is(e->prev, "m1"));
    ASSERT_EQ(h_unregister(&h, 1, NULL, "db"), 0);
    e = h_event(&h, 2, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_UNREGISTERED | (ROSTER_REASON_NORMAL << 8));
    ASSERT(h_bytes_is(e->meta, "m2"));
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", "j1"), 0);
    e = h_event(&h, 2, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_JOINED);
    ASSERT(h_bytes_is(e->key, "g"));
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", "j2"), 0);
    e = h_event(&h, 2, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_MEMBER_UPDATED);
    ASSERT(h_bytes_is(e->prev, "j1"));
    ASSERT(h_bytes_is(e->meta, "j2"));
    ASSERT_EQ(h_leave(&h, 1, p, NULL, "g"), 0);
    e = h_event(&h, 2, 0);
    ASSERT_EQ(e->opts, ROSTER_EV_LEFT | (ROSTER_REASON_NORMAL << 8));
    ASSERT(h_bytes_is(e->meta, "j2"));
    /* failures produce no event */
    ASSERT_EQ(h_unregister(&h, 1, NULL, "db"), ROSTER_ENOTFOUND);
    ASSERT_EQ(h_nevents(&h, 2), 0);
    h_fini(&h);
}

static void test_matching(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    uint64_t s_exact = h_subscribe(&h, 2, NULL, "db", 0);
    uint64_t s_prefix = h_subscribe(&h, 2, NULL, "d", ROSTER_SUB_PREFIX);
    uint64_t s_reg = h_subscribe(&h, 2, NULL, "", ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY);
    uint64_t s_grp = h_subscribe(&h, 2, NULL, "x", ROSTER_SUB_ALL | ROSTER_SUB_GROUPS);
    ASSERT(s_exact != s_prefix && s_reg != s_grp);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 3); /* exact, prefix, registry */
    int seen_exact = 0, seen_prefix = 0, seen_reg = 0;
    for (size_t i = 0; i < 3; i++) {
        uint64_t id = h_event(&h, 2, i)->arg;
        seen_exact += id == s_exact;
        seen_prefix += id == s_prefix;
        seen_reg += id == s_reg;
    }
    ASSERT(seen_exact == 1 && seen_prefix == 1 && seen_reg == 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "dbx", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 2); /* prefix, registry */
    ASSERT_EQ(h_register(&h, 1, p, NULL, "zz", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    ASSERT_U64_EQ(h_event(&h, 2, 0)->arg, s_reg);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "db", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 3); /* exact, prefix (both families), groups */
    ASSERT_EQ(h_join(&h, 1, p, NULL, "q", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    ASSERT_U64_EQ(h_event(&h, 2, 0)->arg, s_grp);
    /* other scopes do not leak in */
    struct rs_msg c = {.type = RS_MSG_SCOPE_CREATE, .scope = rs_bytes_str("s2")};
    ASSERT_EQ(h_status(&h, 1, &c), 0);
    ASSERT_EQ(h_register(&h, 1, p, "s2", "db", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 0);
    h_fini(&h);
}

static void test_snapshot(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_pid q = h_pid_new(&h, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "b", "mb"), 0);
    ASSERT_EQ(h_register(&h, 1, q, NULL, "a", "ma"), 0);
    ASSERT_EQ(h_register(&h, 1, q, NULL, "zz", ""), 0);
    ASSERT_EQ(h_join(&h, 1, q, NULL, "g", "gq"), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", "gp"), 0);
    h_hello(&h, 2);
    struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_ALL | ROSTER_SUB_SNAPSHOT};
    ASSERT_EQ(h_status(&h, 2, &m), 0);
    uint64_t id = h_reply(&h)->arg;
    /* the reply comes first */
    ASSERT_EQ(h.f[0].m.flags, RS_F_REPLY);
    ASSERT_EQ(h_nevents(&h, 2), 6);
    const char *keys[] = {"a", "b", "zz", "g", "g"};
    const uint32_t kinds[] = {ROSTER_EV_REGISTERED, ROSTER_EV_REGISTERED, ROSTER_EV_REGISTERED,
                              ROSTER_EV_JOINED, ROSTER_EV_JOINED};
    for (size_t i = 0; i < 5; i++) {
        const struct rs_msg *e = h_event(&h, 2, i);
        ASSERT_EQ(h_ev_kind(e), kinds[i]);
        ASSERT(h_ev_snapshot(e));
        ASSERT_U64_EQ(e->arg, id);
        ASSERT(h_bytes_is(e->key, keys[i]));
    }
    ASSERT(h_bytes_is(h_event(&h, 2, 0)->meta, "ma"));
    ASSERT(h_pid_eq(h_event(&h, 2, 3)->pid, p)); /* members by pid */
    ASSERT(h_bytes_is(h_event(&h, 2, 3)->meta, "gp"));
    const struct rs_msg *end = h_event(&h, 2, 5);
    ASSERT_EQ(h_ev_kind(end), ROSTER_EV_SNAPSHOT_END);
    ASSERT_U64_EQ(end->arg, id);
    /* live events afterwards are not snapshot events */
    ASSERT_EQ(h_register(&h, 1, p, NULL, "c", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    ASSERT(!h_ev_snapshot(h_event(&h, 2, 0)));

    /* exact and prefix snapshots select the matching state only */
    struct rs_msg e1 = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_SNAPSHOT | ROSTER_SUB_REGISTRY,
                        .key = rs_bytes_str("b")};
    ASSERT_EQ(h_status(&h, 2, &e1), 0);
    ASSERT_EQ(h_nevents(&h, 2), 2);
    ASSERT(h_bytes_is(h_event(&h, 2, 0)->key, "b"));
    struct rs_msg e2 = {.type = RS_MSG_SUBSCRIBE,
                        .opts = ROSTER_SUB_SNAPSHOT | ROSTER_SUB_PREFIX | ROSTER_SUB_GROUPS,
                        .key = rs_bytes_str("g")};
    ASSERT_EQ(h_status(&h, 2, &e2), 0);
    ASSERT_EQ(h_nevents(&h, 2), 3);
    ASSERT_EQ(h_ev_kind(h_event(&h, 2, 0)), ROSTER_EV_JOINED);
    struct rs_msg e3 = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_SNAPSHOT,
                        .key = rs_bytes_str("nothing")};
    ASSERT_EQ(h_status(&h, 2, &e3), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    ASSERT_EQ(h_ev_kind(h_event(&h, 2, 0)), ROSTER_EV_SNAPSHOT_END);
    h_fini(&h);
}

static void test_unsubscribe_and_cap(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.subs_per_client = 2;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    uint64_t a = h_subscribe(&h, 2, NULL, "", ROSTER_SUB_ALL);
    uint64_t b = h_subscribe(&h, 2, NULL, "", ROSTER_SUB_ALL);
    ASSERT(b > a);
    struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_ALL};
    ASSERT_EQ(h_status(&h, 2, &m), ROSTER_ELIMIT);
    struct rs_msg bad = {.type = RS_MSG_SUBSCRIBE, .opts = 0x8000}; /* 0x100: SCOPE_META */
    ASSERT_EQ(h_status(&h, 1, &bad), ROSTER_EINVAL);
    struct rs_msg ns = {.type = RS_MSG_SUBSCRIBE, .scope = rs_bytes_str("x")};
    ASSERT_EQ(h_status(&h, 1, &ns), ROSTER_ENOSCOPE);
    struct rs_msg u1 = {.type = RS_MSG_UNSUBSCRIBE, .arg = a};
    ASSERT_EQ(h_status(&h, 1, &u1), ROSTER_ENOTFOUND); /* not conn 1's */
    struct rs_msg u2 = {.type = RS_MSG_UNSUBSCRIBE, .arg = a};
    ASSERT_EQ(h_status(&h, 2, &u2), 0);
    struct rs_msg u3 = {.type = RS_MSG_UNSUBSCRIBE, .arg = a};
    ASSERT_EQ(h_status(&h, 2, &u3), ROSTER_ENOTFOUND);
    ASSERT_U64_EQ(h_stats(&h).subscriptions, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "x", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    ASSERT_U64_EQ(h_event(&h, 2, 0)->arg, b);
    uint64_t c = h_subscribe(&h, 2, NULL, "", ROSTER_SUB_ALL);
    ASSERT(c > b);
    h_fini(&h);
}

static void test_overflow(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.queue_bytes = 1000;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    h_hello(&h, 3);
    h_flushed(&h, 2, 1000000);
    h_flushed(&h, 3, 1000000);
    uint64_t slow = h_subscribe(&h, 2, NULL, "", ROSTER_SUB_ALL);
    uint64_t fast = h_subscribe(&h, 3, NULL, "", ROSTER_SUB_ALL);
    h_flushed(&h, 3, 1000000);
    char key[32];
    size_t got = 0, overflows = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "name-%03d", i);
        ASSERT_EQ(h_register(&h, 1, p, NULL, key, "0123456789"), 0);
        for (size_t k = 0; k < h_nevents(&h, 2); k++) {
            const struct rs_msg *e = h_event(&h, 2, k);
            ASSERT_U64_EQ(e->arg, slow);
            if (h_ev_kind(e) == ROSTER_EV_OVERFLOW)
                overflows++;
            else
                got++;
        }
        /* the fast reader flushes everything and sees every event */
        ASSERT_EQ(h_nevents(&h, 3), 1);
        ASSERT_U64_EQ(h_event(&h, 3, 0)->arg, fast);
        h_flushed(&h, 3, 1000000);
    }
    ASSERT_EQ(overflows, 1);
    ASSERT(got > 5 && got < 50);
    ASSERT(!h_closed(&h, 2));
    ASSERT_U64_EQ(h_stats(&h).subscriptions, 1);
    /* resubscribe with a snapshot once caught up: the snapshot is not limited */
    h_flushed(&h, 2, 1000000);
    struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_ALL | ROSTER_SUB_SNAPSHOT};
    ASSERT_EQ(h_status(&h, 2, &m), 0);
    ASSERT_EQ(h_nevents(&h, 2), 101);
    h_fini(&h);
}

/* A snapshot larger than queue_bytes is not held against the subscriber: the first live
 * events after it are delivered, not replaced by an overflow. */
static void test_snapshot_not_counted(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.queue_bytes = 1000;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    h_flushed(&h, 2, 1000000);
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "name-%03d", i);
        ASSERT_EQ(h_register(&h, 1, p, NULL, key, "0123456789"), 0);
    }
    struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_ALL | ROSTER_SUB_SNAPSHOT};
    ASSERT_EQ(h_status(&h, 2, &m), 0);
    ASSERT_EQ(h_nevents(&h, 2), 101); /* 100 entries + SNAPSHOT_END, well over 1000 bytes */
    /* nothing flushed yet: live events within queue_bytes still arrive */
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "live-%d", i);
        ASSERT_EQ(h_register(&h, 1, p, NULL, key, "x"), 0);
        ASSERT_EQ(h_nevents(&h, 2), 1);
        ASSERT_EQ(h_ev_kind(h_event(&h, 2, 0)), ROSTER_EV_REGISTERED);
    }
    /* and the live backlog itself is still bounded */
    size_t overflows = 0;
    for (int i = 0; i < 100 && !overflows; i++) {
        snprintf(key, sizeof key, "more-%03d", i);
        ASSERT_EQ(h_register(&h, 1, p, NULL, key, "0123456789"), 0);
        for (size_t k = 0; k < h_nevents(&h, 2); k++)
            overflows += h_ev_kind(h_event(&h, 2, k)) == ROSTER_EV_OVERFLOW;
    }
    ASSERT_EQ(overflows, 1);
    h_fini(&h);
}

TEST_MAIN(T(test_event_fields), T(test_matching), T(test_snapshot), T(test_unsubscribe_and_cap),
          T(test_overflow), T(test_snapshot_not_counted))
