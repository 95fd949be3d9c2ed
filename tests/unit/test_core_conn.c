/* test_core_conn.c: connections, handshake, protocol violations, output accounting and the
 * node-level requests (PING, STATUS, NODES, LOG_LEVEL, TICK) of the core. */
#include "core_harness.h"

static void test_hello_ok(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_open(&h, 1);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC,
                       .key = rs_bytes_str("app")};
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    const struct rs_msg *r = h_reply(&h);
    ASSERT_EQ(r->flags, RS_F_REPLY);
    ASSERT_EQ(r->opts, h.lim.name_max);
    ASSERT_U64_EQ(r->arg, H_INC);
    ASSERT_U64_EQ(r->arg2, (uint64_t)h.lim.frame_max | ((uint64_t)h.lim.meta_max << 32));
    ASSERT_U64_EQ(r->pid.inc, H_INC);
    ASSERT_U64_EQ(r->pid.serial, 1);
    ASSERT(h_bytes_is(r->node, "node-a"));
    ASSERT_EQ(h.ncloses, 0);
    struct rs_core_stats st = h_stats(&h);
    ASSERT_U64_EQ(st.clients, 1);
    ASSERT_U64_EQ(st.pids, 1);
    ASSERT_U64_EQ(st.scopes, 1);
    /* a second client gets the next serial */
    struct rs_pid p2 = h_hello(&h, 2);
    ASSERT_U64_EQ(p2.serial, 2);
    h_fini(&h);
}

static void test_hello_bad_version(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_open(&h, 1);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = 7, .arg = RS_WIRE_MAGIC};
    ASSERT_EQ(h_status(&h, 1, &m), ROSTER_EVERSION);
    ASSERT(h_bytes_is(h_reply(&h)->prev, "node speaks protocol version 4, client sent 7"));
    ASSERT(h_closed(&h, 1));
    ASSERT_U64_EQ(h_stats(&h).pids, 0);
    /* after the close, frames are ignored */
    struct rs_msg p = {.type = RS_MSG_PING};
    h_send(&h, 1, &p);
    ASSERT_EQ(h.nf, 0);
    h_gone(&h, 1);
    ASSERT_U64_EQ(h_stats(&h).clients, 0);
    /* bad magic */
    h_open(&h, 2);
    struct rs_msg m2 = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = 99};
    ASSERT_EQ(h_status(&h, 2, &m2), ROSTER_EVERSION);
    ASSERT(h_closed(&h, 2));
    h_fini(&h);
}

static void test_first_frame_must_be_hello(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_open(&h, 1);
    struct rs_msg m = {.type = RS_MSG_PING};
    h_send(&h, 1, &m);
    ASSERT_EQ(h.nf, 0);
    ASSERT(h_closed(&h, 1));
    h_fini(&h);
}

static void test_protocol_violations_close(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC};
    h_send(&h, 1, &m);
    ASSERT(h_closed(&h, 1));
    ASSERT_EQ(h.nf, 0);

    h_hello(&h, 2);
    struct rs_msg r = {.type = RS_MSG_PING, .flags = RS_F_REPLY};
    h_send(&h, 2, &r);
    ASSERT(h_closed(&h, 2));

    h_hello(&h, 3);
    struct rs_msg e = {.type = RS_MSG_EVENT};
    h_send(&h, 3, &e);
    ASSERT(h_closed(&h, 3));

    h_hello(&h, 4);
    struct rs_msg it = {.type = RS_MSG_STATUS, .flags = RS_F_ITEM};
    h_send(&h, 4, &it);
    ASSERT(h_closed(&h, 4));
    h_fini(&h);
}

static void test_conns_max(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.conns_max = 2;
    struct harness h;
    h_init(&h, &lim);
    h_hello(&h, 1);
    h_open(&h, 2);
    h_open(&h, 3);
    ASSERT_EQ(h.nf, 1);
    ASSERT_EQ(h.f[0].conn, 3);
    ASSERT_EQ(h.f[0].m.type, RS_MSG_HELLO);
    ASSERT_EQ(h.f[0].m.flags, RS_F_REPLY);
    ASSERT_EQ(h.f[0].m.req_id, 0);
    ASSERT_EQ(h.f[0].m.status, ROSTER_EBUSY);
    ASSERT(h.f[0].m.prev.len > 0);
    ASSERT(h_closed(&h, 3));
    /* the close output comes after the send */
    ASSERT_EQ(h.out.v[0].kind, RS_OUT_SEND);
    ASSERT_U64_EQ(h_stats(&h).clients, 2);
    h_gone(&h, 3); /* the shell reports the close: not a client, nothing happens */
    ASSERT_U64_EQ(h_stats(&h).clients, 2);
    h_gone(&h, 2);
    h_open(&h, 4);
    ASSERT(!h_closed(&h, 4));
    ASSERT_U64_EQ(h_stats(&h).clients, 2);
    h_fini(&h);
}

static void test_gone_idempotent(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_gone(&h, 77);
    h_hello(&h, 1);
    h_gone(&h, 1);
    h_gone(&h, 1);
    struct rs_core_stats st = h_stats(&h);
    ASSERT_U64_EQ(st.clients, 0);
    ASSERT_U64_EQ(st.pids, 0);
    /* a frame for an unknown conn is ignored */
    struct rs_msg m = {.type = RS_MSG_PING};
    h_send(&h, 1, &m);
    ASSERT_EQ(h.nf, 0);
    ASSERT_EQ(h.ncloses, 0);
    h_fini(&h);
}

static void test_ping_tick(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    struct rs_msg m = {.type = RS_MSG_PING, .req_id = 4711};
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    ASSERT_EQ(h_reply(&h)->req_id, 4711);
    struct rs_input t = {.kind = RS_IN_TICK};
    ASSERT_EQ(h_apply(&h, &t), 0);
    ASSERT_EQ(h.out.n, 0);
    h_fini(&h);
}

static uint64_t stat_of(struct harness *h, const char *name)
{
    size_t n = h_nframes(h, 1, RS_MSG_STATUS, RS_F_ITEM);
    for (size_t i = 0; i < n; i++) {
        const struct rs_msg *it = h_item(h, 1, RS_MSG_STATUS, i);
        if (h_bytes_is(it->key, name))
            return it->arg;
    }
    test_fail(__FILE__, __LINE__, "no stat %s", name);
}

static void test_status(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "a", ""), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", ""), 0);
    h.now += 1500;
    struct rs_msg m = {.type = RS_MSG_STATUS};
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    size_t n = h_nframes(&h, 1, RS_MSG_STATUS, RS_F_ITEM);
    ASSERT_U64_EQ(h_reply(&h)->arg, n);
    ASSERT_U64_EQ(stat_of(&h, "uptime_ms"), 1500);
    ASSERT_U64_EQ(stat_of(&h, "incarnation"), H_INC);
    ASSERT_U64_EQ(stat_of(&h, "clients"), 1);
    ASSERT_U64_EQ(stat_of(&h, "pids"), 1);
    ASSERT_U64_EQ(stat_of(&h, "names"), 1);
    ASSERT_U64_EQ(stat_of(&h, "groups"), 1);
    ASSERT_U64_EQ(stat_of(&h, "members"), 1);
    ASSERT_U64_EQ(stat_of(&h, "subscriptions"), 0);
    ASSERT_U64_EQ(stat_of(&h, "monitors"), 0);
    ASSERT_U64_EQ(stat_of(&h, "scopes"), 1);
    ASSERT_U64_EQ(stat_of(&h, "limit_name_max"), h.lim.name_max);
    ASSERT_U64_EQ(stat_of(&h, "limit_meta_max"), h.lim.meta_max);
    ASSERT_U64_EQ(stat_of(&h, "limit_frame_max"), h.lim.frame_max);
    ASSERT_U64_EQ(stat_of(&h, "limit_conns_max"), h.lim.conns_max);
    ASSERT_U64_EQ(stat_of(&h, "limit_pids_per_client"), h.lim.pids_per_client);
    ASSERT_U64_EQ(stat_of(&h, "limit_entries_per_client"), h.lim.entries_per_client);
    ASSERT_U64_EQ(stat_of(&h, "limit_subs_per_client"), h.lim.subs_per_client);
    ASSERT_U64_EQ(stat_of(&h, "limit_monitors_per_client"), h.lim.monitors_per_client);
    ASSERT_U64_EQ(stat_of(&h, "limit_queue_bytes"), h.lim.queue_bytes);
    ASSERT_U64_EQ(stat_of(&h, "limit_outbuf_max"), h.lim.outbuf_max);
    /* items and the reply share the request id and merge into one SEND */
    ASSERT_EQ(h_item(&h, 1, RS_MSG_STATUS, 0)->req_id, h.last_req_id);
    ASSERT_EQ(h.nsends, 1);
    h_fini(&h);
}

static void test_nodes(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    struct rs_msg m = {.type = RS_MSG_NODES};
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    ASSERT_U64_EQ(h_reply(&h)->arg, 1);
    const struct rs_msg *it = h_item(&h, 1, RS_MSG_NODES, 0);
    ASSERT_EQ(it->opts, ROSTER_NODE_UP | (1u << 8));
    ASSERT_U64_EQ(it->arg, H_INC);
    ASSERT(h_bytes_is(it->node, "node-a"));
    struct rs_msg m2 = {.type = RS_MSG_NODES, .scope = rs_bytes_str("nope")};
    ASSERT_EQ(h_status(&h, 1, &m2), ROSTER_ENOSCOPE);
    h_fini(&h);
}

static void test_log_level(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    struct rs_msg m = {.type = RS_MSG_LOG_LEVEL, .opts = RS_LOG_DEBUG};
    ASSERT_EQ(h_status(&h, 1, &m), 0);
    ASSERT_EQ(h.log_level, RS_LOG_DEBUG);
    h.log_level = -1;
    struct rs_msg bad = {.type = RS_MSG_LOG_LEVEL, .opts = RS_LOG_OFF + 1};
    ASSERT_EQ(h_status(&h, 1, &bad), ROSTER_EINVAL);
    ASSERT_EQ(h.log_level, -1);
    h_fini(&h);
}

static void test_outbuf_max_closes(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.outbuf_max = 4096;
    lim.queue_bytes = 4096;
    struct harness h;
    h_init(&h, &lim);
    h_hello(&h, 1);
    h_hello(&h, 2);
    /* conn 1 pipelines pings and never reads */
    int closed = 0;
    for (int i = 0; i < 1000 && !closed; i++) {
        struct rs_msg m = {.type = RS_MSG_PING};
        h_send(&h, 1, &m);
        closed = h_closed(&h, 1);
    }
    ASSERT(closed);
    /* conn 2 reads (flushes) and is never closed */
    for (int i = 0; i < 1000; i++) {
        struct rs_msg m = {.type = RS_MSG_PING};
        h_send(&h, 2, &m);
        ASSERT(!h_closed(&h, 2));
        h_flushed(&h, 2, h.out.v[0].len);
    }
    /* the closed one gets nothing more */
    struct rs_msg m = {.type = RS_MSG_PING};
    h_send(&h, 1, &m);
    ASSERT_EQ(h.nf, 0);
    h_fini(&h);
}

static void test_logs_on_connect(void)
{
    struct harness h;
    h_init(&h, NULL);
    h_hello(&h, 1);
    ASSERT(h.nlogs >= 1);
    h_gone(&h, 1);
    ASSERT(h.nlogs >= 1);
    h_fini(&h);
}

TEST_MAIN(T(test_hello_ok), T(test_hello_bad_version), T(test_first_frame_must_be_hello),
          T(test_protocol_violations_close), T(test_conns_max), T(test_gone_idempotent),
          T(test_ping_tick), T(test_status), T(test_nodes), T(test_log_level),
          T(test_outbuf_max_closes), T(test_logs_on_connect))
