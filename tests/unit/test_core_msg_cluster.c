/* test_core_msg_cluster.c: messaging across nodes (docs/MESSAGING.md), two or three cores
 * wired by cluster_harness.h: SEND by pid and by name through P_SEND, ordering of many
 * messages, PUBLISH crossing each link once (P_PUBLISH) with cluster-wide and local recipient
 * counts, remote CALL / REPLY through P_REPLY, P_NOPROC for a dead target, a late reply after
 * the timeout, a target dying while the call waits, node down failing pending calls, a
 * multi-call over nodes with a silent member, a dead one and a node going down, and
 * malformed peer frames closing the link; refusals on the target's node (mailbox full, reply
 * too big, link full, proxy cap per origin node) failing the remote call at once. */
#include "cluster_harness.h"

#define A 0
#define B 1
#define C 2
#define INC_A 0xa1ull
#define INC_B 0xb2ull
#define INC_C 0xc3ull

/* c_cfg: node C's configuration (NULL: defaults). */
static void setup_with(struct cluster *c, int three, const struct rs_core_config *c_cfg)
{
    cl_init(c);
    cl_add(c, "a", INC_A, NULL);
    cl_add(c, "b", INC_B, NULL);
    if (three)
        cl_add(c, "c", INC_C, c_cfg);
    cl_connect(c, A, B);
    if (three) {
        cl_connect(c, A, C);
        cl_connect(c, B, C);
    }
    cl_pump(c);
}

static void setup(struct cluster *c, int three) { setup_with(c, three, NULL); }

/* The calls and call proxies of node i's core. */
static struct rs_core_stats stats_of(struct cluster *c, size_t i)
{
    struct rs_core_stats st;
    rs_core_stats(c->n[i].core, &st);
    return st;
}

/* m from client conn of node i, with no reply expected. */
static void cast(struct cluster *c, size_t i, uint64_t conn, struct rs_msg *m)
{
    struct cnode *x = &c->n[i];
    m->req_id = ++x->req_id;
    struct rs_buf b;
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, m), 0);
    struct rs_limits dl = c->lim;
    dl.name_max = 0;
    struct rs_msg d;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &dl, &d), RS_WIRE_OK);
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = conn, .msg = &d};
    cl_apply(c, x, &in);
    rs_buf_fini(&b);
}

/* nmsg counts the pids reached on conn (a MESSAGE names ARG and the serials in PREV). */
static size_t nmsg(const struct cnode *x, uint64_t conn)
{
    size_t n = 0;
    for (size_t k = 0; k < x->nlog; k++)
        if (x->log[k].conn == conn && x->log[k].m.type == RS_MSG_MESSAGE)
            n += 1 + x->log[k].m.prev.len / 8;
    return n;
}

static size_t nframes_msg(const struct cnode *x, uint64_t conn)
{
    size_t n = 0;
    for (size_t k = 0; k < x->nlog; k++)
        n += x->log[k].conn == conn && x->log[k].m.type == RS_MSG_MESSAGE;
    return n;
}

static const struct rs_msg *msg_at(const struct cnode *x, uint64_t conn, size_t idx)
{
    for (size_t k = 0; k < x->nlog; k++)
        if (x->log[k].conn == conn && x->log[k].m.type == RS_MSG_MESSAGE && idx-- == 0)
            return &x->log[k].m;
    test_fail(__FILE__, __LINE__, "message not found on node %s", x->name);
}

static const struct rs_msg *reply_of(const struct cnode *x, uint64_t conn, uint32_t req_id)
{
    for (size_t k = 0; k < x->nlog; k++)
        if (x->log[k].conn == conn && x->log[k].m.flags == RS_F_REPLY &&
            x->log[k].m.req_id == req_id)
            return &x->log[k].m;
    return NULL;
}

/* Frames of type t queued on the link i -> j (not yet delivered). */
static size_t queued(const struct cluster *c, size_t i, size_t j, uint8_t t)
{
    const struct rs_buf *q = &c->n[i].q[j];
    size_t off = 0, n = 0, flen = 0;
    while (off < q->len &&
           rs_wire_frame_next(q->data + off, q->len - off, c->lim.frame_max, &flen) ==
               RS_WIRE_OK) {
        n += q->data[off + 4] == t;
        off += flen;
    }
    return n;
}

static void reply(struct cluster *c, size_t i, uint64_t conn, uint64_t ref, const char *p)
{
    struct rs_msg m = {.type = RS_MSG_REPLY, .arg2 = ref, .meta = rs_bytes_str(p)};
    cast(c, i, conn, &m);
}

static void test_send_remote(void)
{
    struct cluster c;
    setup(&c, 0);
    struct rs_pid a = cl_client(&c, A, 1);
    struct rs_pid b = cl_client(&c, B, 1);
    cn_clear(&c.n[B]);
    struct rs_msg m = {.type = RS_MSG_SEND, .opts = RS_SEND_CONFIRM, .arg = a.serial, .pid = b,
                       .meta = rs_bytes_str("hi")};
    ASSERT_EQ(cl_req(&c, A, 1, &m)->status, 0); /* handed to the link */
    ASSERT_EQ(queued(&c, A, B, RS_MSG_P_SEND), 1);
    cl_pump(&c);
    ASSERT_EQ(nmsg(&c.n[B], 1), 1);
    const struct rs_msg *x = msg_at(&c.n[B], 1, 0);
    ASSERT(cl_pid_eq(x->pid, a));
    ASSERT(cl_bytes_is(x->node, "a"));
    ASSERT(cl_bytes_is(x->meta, "hi"));
    ASSERT_U64_EQ(x->arg, b.serial);
    ASSERT_EQ(x->opts, RS_MSGK_SEND);
    /* by a name registered on B, resolved on A */
    ASSERT_EQ(cl_register(&c, B, 1, b, "", "svc", ""), 0);
    cl_pump(&c);
    cn_clear(&c.n[B]);
    struct rs_msg n = {.type = RS_MSG_SEND, .opts = RS_SEND_CONFIRM, .arg = a.serial,
                       .key = rs_bytes_str("svc"), .meta = rs_bytes_str("by name")};
    ASSERT_EQ(cl_req(&c, A, 1, &n)->status, 0);
    cl_pump(&c);
    ASSERT_EQ(nmsg(&c.n[B], 1), 1);
    ASSERT(cl_bytes_is(msg_at(&c.n[B], 1, 0)->key, "svc"));
    ASSERT(cl_bytes_is(msg_at(&c.n[B], 1, 0)->scope, "default"));
    /* a dead pid on B: the sender cannot know; dropped there */
    struct rs_pid dead = {INC_B, 999};
    struct rs_msg d = {.type = RS_MSG_SEND, .arg = a.serial, .pid = dead};
    cast(&c, A, 1, &d);
    cn_clear(&c.n[B]);
    cl_pump(&c);
    ASSERT_EQ(c.n[B].nlog, 0);
    cl_fini(&c);
}

static void test_order_across_nodes(void)
{
    struct cluster c;
    setup(&c, 0);
    struct rs_pid a = cl_client(&c, A, 1);
    struct rs_pid a2 = cl_client(&c, A, 2);
    struct rs_pid b = cl_client(&c, B, 1);
    ASSERT_EQ(cl_join(&c, B, 1, b, "", "g", ""), 0);
    cl_pump(&c);
    cn_clear(&c.n[B]);
    uint32_t next = 0, next2 = 0;
    for (int round = 0; round < 20; round++) {
        for (uint32_t i = 0; i < 150; i++) {
            /* sends and publishes of one sender, interleaved with another sender's */
            char p[16];
            uint32_t v = round * 150 + i;
            int k = snprintf(p, sizeof p, "%u", v);
            struct rs_msg m = {.type = (v % 3 == 0) ? RS_MSG_PUBLISH : RS_MSG_SEND,
                               .arg = a.serial, .pid = b, .key = rs_bytes_str("g"),
                               .meta = rs_bytes_of(p, (size_t)k)};
            if (m.type == RS_MSG_PUBLISH)
                m.pid = (struct rs_pid){0, 0};
            cast(&c, A, 1, &m);
            struct rs_msg o = {.type = RS_MSG_SEND, .arg = a2.serial, .pid = b,
                               .meta = rs_bytes_of(p, (size_t)k)};
            cast(&c, A, 2, &o);
        }
        cl_pump(&c);
        ASSERT_EQ(nmsg(&c.n[B], 1), 300);
        for (size_t k = 0; k < 300; k++) {
            const struct rs_msg *x = msg_at(&c.n[B], 1, k);
            char q[16];
            memcpy(q, x->meta.ptr, x->meta.len);
            q[x->meta.len] = 0;
            uint32_t v = (uint32_t)strtoul(q, NULL, 10);
            if (cl_pid_eq(x->pid, a))
                ASSERT_EQ(v, next++);
            else
                ASSERT_EQ(v, next2++);
        }
        cn_clear(&c.n[A]);
        cn_clear(&c.n[B]);
    }
    ASSERT_EQ(next, 3000);
    ASSERT_EQ(next2, 3000);
    cl_fini(&c);
}

static void test_publish_crosses_once(void)
{
    struct cluster c;
    setup(&c, 1);
    struct rs_pid a = cl_client(&c, A, 1);
    struct rs_pid b = cl_client(&c, B, 1);
    struct rs_pid cc = cl_client(&c, C, 1);
    ASSERT_EQ(cl_join(&c, A, 1, a, "", "g", ""), 0);
    ASSERT_EQ(cl_join(&c, C, 1, cc, "", "g", ""), 0);
    ASSERT_EQ(cl_join(&c, B, 1, b, "", "g", ""), 0);
    for (int i = 0; i < 99; i++) {
        struct rs_msg pn = {.type = RS_MSG_PID_NEW};
        struct rs_pid p = cl_req(&c, B, 1, &pn)->pid;
        ASSERT_EQ(cl_join(&c, B, 1, p, "", "g", ""), 0);
    }
    cl_pump(&c);
    cn_clear(&c.n[A]);
    cn_clear(&c.n[B]);
    cn_clear(&c.n[C]);
    struct rs_msg m = {.type = RS_MSG_PUBLISH, .arg = a.serial, .key = rs_bytes_str("g"),
                       .meta = rs_bytes_str("all")};
    const struct rs_msg *r = cl_req(&c, A, 1, &m);
    ASSERT_EQ(r->status, 0);
    ASSERT_U64_EQ(r->arg, 1 + 100 + 1);
    ASSERT_EQ(queued(&c, A, B, RS_MSG_P_PUBLISH), 1);
    ASSERT_EQ(queued(&c, A, C, RS_MSG_P_PUBLISH), 1);
    ASSERT_EQ(nmsg(&c.n[A], 1), 1);
    cl_pump(&c);
    ASSERT_EQ(nmsg(&c.n[B], 1), 100);
    ASSERT_EQ(nframes_msg(&c.n[B], 1), 1); /* one frame names B's 100 members */
    ASSERT_EQ(nmsg(&c.n[C], 1), 1);
    const struct rs_msg *x = msg_at(&c.n[C], 1, 0);
    ASSERT_EQ(x->opts, RS_MSGK_PUBLISH);
    ASSERT(cl_pid_eq(x->pid, a));
    ASSERT(cl_bytes_is(x->node, "a"));
    ASSERT(cl_bytes_is(x->key, "g"));
    /* B's fan-out does not go on to C */
    ASSERT_EQ(queued(&c, B, C, RS_MSG_P_PUBLISH), 0);
    /* local only */
    cn_clear(&c.n[A]);
    cn_clear(&c.n[B]);
    struct rs_msg l = {.type = RS_MSG_PUBLISH, .opts = RS_PUBLISH_LOCAL, .arg = a.serial,
                       .key = rs_bytes_str("g"), .meta = rs_bytes_str("here")};
    r = cl_req(&c, A, 1, &l);
    ASSERT_U64_EQ(r->arg, 1);
    ASSERT_EQ(queued(&c, A, B, RS_MSG_P_PUBLISH), 0);
    cl_pump(&c);
    ASSERT_EQ(nmsg(&c.n[B], 1), 0);
    /* from B, where A and C each have one member */
    struct rs_msg fb = {.type = RS_MSG_PUBLISH, .arg = b.serial, .key = rs_bytes_str("g")};
    r = cl_req(&c, B, 1, &fb);
    ASSERT_U64_EQ(r->arg, 102);
    ASSERT_EQ(queued(&c, B, A, RS_MSG_P_PUBLISH), 1);
    cl_fini(&c);
}

static uint32_t call(struct cluster *c, size_t i, uint64_t conn, struct rs_pid from,
                     struct rs_pid to, const char *p, uint64_t timeout)
{
    struct rs_msg m = {.type = RS_MSG_CALL, .arg = from.serial, .arg2 = timeout, .pid = to,
                       .meta = rs_bytes_str(p)};
    cast(c, i, conn, &m);
    return m.req_id;
}

static void test_remote_call(void)
{
    struct cluster c;
    setup(&c, 0);
    struct rs_pid a = cl_client(&c, A, 1);
    struct rs_pid b = cl_client(&c, B, 1);
    cn_clear(&c.n[B]);
    uint32_t rq = call(&c, A, 1, a, b, "ping", 5000);
    cl_pump(&c);
    ASSERT_EQ(nmsg(&c.n[B], 1), 1);
    const struct rs_msg *x = msg_at(&c.n[B], 1, 0);
    ASSERT_EQ(x->opts, RS_MSGK_CALL);
    ASSERT(x->arg2 != 0);
    ASSERT(cl_pid_eq(x->pid, a));
    reply(&c, B, 1, x->arg2, "pong");
    ASSERT_EQ(queued(&c, B, A, RS_MSG_P_REPLY), 1);
    cl_pump(&c);
    const struct rs_msg *r = reply_of(&c.n[A], 1, rq);
    ASSERT(r != NULL);
    ASSERT_EQ(r->status, 0);
    ASSERT(cl_pid_eq(r->pid, b));
    ASSERT(cl_bytes_is(r->meta, "pong"));
    /* dead target there: P_NOPROC, ENOPROC at once */
    struct rs_pid dead = {INC_B, 999};
    cn_clear(&c.n[A]);
    rq = call(&c, A, 1, a, dead, "x", 5000);
    cl_pump(&c);
    r = reply_of(&c.n[A], 1, rq);
    ASSERT(r != NULL);
    ASSERT_EQ(r->status, ROSTER_ENOPROC);
    /* an unknown node: ENOPROC at once */
    struct rs_pid nowhere = {0xdd, 1};
    struct rs_msg m = {.type = RS_MSG_CALL, .arg = a.serial, .arg2 = 100, .pid = nowhere};
    ASSERT_EQ(cl_req(&c, A, 1, &m)->status, ROSTER_ENOPROC);
    cl_fini(&c);
}

static void test_remote_call_late_reply(void)
{
    struct cluster c;
    setup(&c, 0);
    struct rs_pid a = cl_client(&c, A, 1);
    struct rs_pid b = cl_client(&c, B, 1);
    cn_clear(&c.n[B]);
    uint32_t rq = call(&c, A, 1, a, b, "slow", 200);
    cl_pump(&c);
    uint64_t ref = msg_at(&c.n[B], 1, 0)->arg2;
    c.now += 250;
    cl_tick(&c, A);
    const struct rs_msg *r = reply_of(&c.n[A], 1, rq);
    ASSERT(r != NULL);
    ASSERT_EQ(r->status, ROSTER_ETIMEDOUT);
    cl_tick(&c, B);
    cl_pump(&c);
    /* the next call is pending when the late reply of the first arrives */
    cn_clear(&c.n[A]);
    cn_clear(&c.n[B]);
    uint32_t rq2 = call(&c, A, 1, a, b, "next", 5000);
    cl_pump(&c);
    uint64_t ref2 = msg_at(&c.n[B], 1, 0)->arg2;
    reply(&c, B, 1, ref, "late");
    cl_pump(&c);
    ASSERT(reply_of(&c.n[A], 1, rq2) == NULL);
    reply(&c, B, 1, ref2, "fresh");
    cl_pump(&c);
    r = reply_of(&c.n[A], 1, rq2);
    ASSERT(r != NULL);
    ASSERT(cl_bytes_is(r->meta, "fresh"));
    cl_fini(&c);
}

static void test_remote_target_dies_and_node_down(void)
{
    struct cluster c;
    setup(&c, 0);
    struct rs_pid a = cl_client(&c, A, 1);
    cl_client(&c, B, 1);
    struct rs_msg pn = {.type = RS_MSG_PID_NEW};
    struct rs_pid b2 = cl_req(&c, B, 1, &pn)->pid;
    cl_pump(&c);
    uint32_t rq = call(&c, A, 1, a, b2, "x", 5000);
    cl_pump(&c);
    struct rs_msg pc = {.type = RS_MSG_PID_CLOSE, .pid = b2};
    ASSERT_EQ(cl_req(&c, B, 1, &pc)->status, 0);
    ASSERT_EQ(queued(&c, B, A, RS_MSG_P_NOPROC), 1);
    cl_pump(&c);
    const struct rs_msg *r = reply_of(&c.n[A], 1, rq);
    ASSERT(r != NULL);
    ASSERT_EQ(r->status, ROSTER_ENOPROC);
    /* the target's node goes down with two calls pending */
    struct rs_pid b3 = cl_req(&c, B, 1, &pn)->pid;
    cl_pump(&c);
    cn_clear(&c.n[A]);
    uint32_t r1 = call(&c, A, 1, a, b3, "x", 5000);
    uint32_t r2 = call(&c, A, 1, a, b3, "y", 5000);
    cl_pump(&c);
    cl_disconnect(&c, A, B);
    for (int k = 0; k < 2; k++) {
        r = reply_of(&c.n[A], 1, k ? r2 : r1);
        ASSERT(r != NULL);
        ASSERT_EQ(r->status, ROSTER_ENOPROC);
        ASSERT(r->prev.len == 9 && memcmp(r->prev.ptr, "node down", 9) == 0);
    }
    /* and the calls B held for A are forgotten: answering them sends nothing */
    ASSERT(nmsg(&c.n[B], 1) >= 1);
    cl_fini(&c);
}

static void test_multi_call_across_nodes(void)
{
    struct cluster c;
    setup(&c, 1);
    struct rs_pid a = cl_client(&c, A, 1);
    struct rs_pid b = cl_client(&c, B, 1);
    struct rs_msg pn = {.type = RS_MSG_PID_NEW};
    struct rs_pid b2 = cl_req(&c, B, 1, &pn)->pid;
    struct rs_pid b3 = cl_req(&c, B, 1, &pn)->pid;
    struct rs_pid cc = cl_client(&c, C, 1);
    ASSERT_EQ(cl_join(&c, A, 1, a, "", "g", ""), 0);
    ASSERT_EQ(cl_join(&c, B, 1, b, "", "g", ""), 0);
    ASSERT_EQ(cl_join(&c, B, 1, b2, "", "g", ""), 0);
    ASSERT_EQ(cl_join(&c, B, 1, b3, "", "g", ""), 0);
    ASSERT_EQ(cl_join(&c, C, 1, cc, "", "g", ""), 0);
    cl_pump(&c);
    cn_clear(&c.n[A]);
    cn_clear(&c.n[B]);
    cn_clear(&c.n[C]);
    struct rs_msg m = {.type = RS_MSG_MULTI_CALL, .arg = a.serial, .arg2 = 1000,
                       .key = rs_bytes_str("g"), .meta = rs_bytes_str("vote")};
    cast(&c, A, 1, &m);
    uint32_t rq = m.req_id;
    ASSERT_EQ(nmsg(&c.n[A], 1), 1);
    cl_pump(&c);
    ASSERT_EQ(nmsg(&c.n[B], 1), 3);
    ASSERT_EQ(nmsg(&c.n[C], 1), 1);
    /* a answers itself; b answers; b2 stays silent; b3 dies; C goes down */
    reply(&c, A, 1, msg_at(&c.n[A], 1, 0)->arg2, "a");
    for (size_t k = 0; k < 3; k++) {
        const struct rs_msg *x = msg_at(&c.n[B], 1, k);
        if (x->arg == b.serial)
            reply(&c, B, 1, x->arg2, "b");
    }
    struct rs_msg pc = {.type = RS_MSG_PID_CLOSE, .pid = b3};
    ASSERT_EQ(cl_req(&c, B, 1, &pc)->status, 0);
    cl_pump(&c);
    cl_disconnect(&c, A, C);
    ASSERT(reply_of(&c.n[A], 1, rq) == NULL);
    c.now += 1000;
    cl_tick(&c, A);
    const struct rs_msg *r = reply_of(&c.n[A], 1, rq);
    ASSERT(r != NULL);
    ASSERT_EQ(r->status, 0);
    ASSERT_U64_EQ(r->arg, 2);
    ASSERT_U64_EQ(r->arg2, 3);
    size_t ok = 0, bad = 0;
    for (size_t k = 0; k < c.n[A].nlog; k++) {
        const struct rs_msg *it = &c.n[A].log[k].m;
        if (it->type != RS_MSG_MULTI_CALL || it->flags != RS_F_ITEM)
            continue;
        if (it->opts == 0) {
            ok++;
            ASSERT((cl_pid_eq(it->pid, a) && cl_bytes_is(it->meta, "a")) ||
                   (cl_pid_eq(it->pid, b) && cl_bytes_is(it->meta, "b")));
        } else {
            bad++;
            ASSERT(cl_pid_eq(it->pid, b2) || cl_pid_eq(it->pid, b3) || cl_pid_eq(it->pid, cc));
        }
    }
    ASSERT_EQ(ok, 2);
    ASSERT_EQ(bad, 3);
    cl_fini(&c);
}

static void inject(struct cluster *c, size_t at, size_t from, const struct rs_msg *m)
{
    struct rs_buf b;
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, m), 0);
    struct rs_msg d;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &c->lim, &d), RS_WIRE_OK);
    struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = cl_conn_id(from, c->n[at].gen[from]),
                          .msg = &d};
    cl_apply(c, &c->n[at], &in);
    rs_buf_fini(&b);
}

static void test_malformed_peer_frames(void)
{
    const struct rs_msg bad[] = {
        {.type = RS_MSG_P_SEND, .opts = 9, .arg = 1, .pid = {INC_B, 1}},
        {.type = RS_MSG_P_SEND, .opts = RS_MSGK_PUBLISH, .arg = 1, .pid = {INC_B, 1}},
        {.type = RS_MSG_P_SEND, .opts = RS_MSGK_CALL, .arg = 1, .pid = {INC_B, 1}},
        {.type = RS_MSG_P_SEND, .opts = RS_MSGK_SEND, .arg = 1, .arg2 = 5, .pid = {INC_B, 1}},
        {.type = RS_MSG_P_SEND, .opts = RS_MSGK_SEND, .arg = 0, .pid = {INC_B, 1}},
        {.type = RS_MSG_P_PUBLISH, .arg = 1},
        {.type = RS_MSG_P_REPLY, .arg2 = 0, .pid = {INC_A, 1}},
        {.type = RS_MSG_P_REPLY, .arg2 = 3, .pid = {INC_B, 1}},
        {.type = RS_MSG_P_NOPROC, .arg2 = 3, .pid = {INC_C, 1}},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct cluster c;
        setup(&c, 0);
        cl_client(&c, B, 1);
        cn_clear(&c.n[B]);
        inject(&c, B, A, &bad[k]);
        ASSERT(cl_closed(&c.n[B], cl_conn_id(A, c.n[B].gen[A])));
        cl_fini(&c);
    }
    /* well-formed but stale: ignored, link kept */
    struct cluster c;
    setup(&c, 0);
    cl_client(&c, B, 1);
    struct rs_msg ok = {.type = RS_MSG_P_REPLY, .arg2 = 12345, .pid = {INC_A, 1}};
    inject(&c, B, A, &ok);
    struct rs_msg np = {.type = RS_MSG_P_NOPROC, .arg2 = 12345, .pid = {INC_A, 1}};
    inject(&c, B, A, &np);
    struct rs_msg pp = {.type = RS_MSG_P_PUBLISH, .arg = 1, .scope = rs_bytes_str("nope"),
                        .key = rs_bytes_str("g")};
    inject(&c, B, A, &pp);
    ASSERT_EQ(c.n[B].nclosed, 0);
    cl_fini(&c);
}

static const struct rs_msg *call_wait(struct cluster *c, size_t i, uint64_t conn,
                                      uint32_t rq)
{
    cl_pump(c);
    return reply_of(&c->n[i], conn, rq); /* no tick: a refusal must come back by itself */
}

static void test_remote_call_refused_fails_at_once(void)
{
    struct cluster c;
    cl_init(&c);
    c.lim.mailbox_bytes = 8192;
    cl_add(&c, "a", INC_A, NULL);
    cl_add(&c, "b", INC_B, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    struct rs_pid a = cl_client(&c, A, 1);
    struct rs_pid b = cl_client(&c, B, 1);
    /* B's client reads nothing: fill its mailbox with a local send to itself */
    static char fill[7000];
    memset(fill, 'f', sizeof fill - 1);
    struct rs_msg sm = {.type = RS_MSG_SEND, .arg = b.serial, .pid = b,
                        .meta = rs_bytes_of(fill, sizeof fill - 1)};
    cast(&c, B, 1, &sm);
    cn_clear(&c.n[B]);
    static char big[1500];
    memset(big, 'x', sizeof big - 1);
    struct rs_msg cm = {.type = RS_MSG_CALL, .arg = a.serial, .arg2 = 60000, .pid = b,
                        .meta = rs_bytes_of(big, sizeof big - 1)};
    cast(&c, A, 1, &cm);
    ASSERT_EQ(queued(&c, A, B, RS_MSG_P_SEND), 1);
    /* flow control: the call waits on B for room (its deadline runs on A), and is
     * delivered once B's client reads */
    const struct rs_msg *r = call_wait(&c, A, 1, cm.req_id);
    ASSERT(r == NULL);
    ASSERT_EQ(nmsg(&c.n[B], 1), 0);
    ASSERT_U64_EQ(stats_of(&c, A).calls_pending, 1);
    struct rs_input fl = {.kind = RS_IN_CLIENT_FLUSHED, .conn = 1, .n_bytes = 1u << 20};
    cl_apply(&c, &c.n[B], &fl);
    ASSERT_EQ(nmsg(&c.n[B], 1), 1);
    cl_fini(&c);

    /* a reply above message_max on the target's node: ETOOBIG on the caller */
    cl_init(&c);
    c.lim.message_max = 100;
    cl_add(&c, "a", INC_A, NULL);
    cl_add(&c, "b", INC_B, NULL);
    cl_connect(&c, A, B);
    cl_pump(&c);
    a = cl_client(&c, A, 1);
    b = cl_client(&c, B, 1);
    cn_clear(&c.n[B]);
    uint32_t rq = call(&c, A, 1, a, b, "q", 60000);
    cl_pump(&c);
    ASSERT_EQ(nmsg(&c.n[B], 1), 1);
    char huge[201];
    memset(huge, 'r', 200);
    huge[200] = 0;
    reply(&c, B, 1, msg_at(&c.n[B], 1, 0)->arg2, huge);
    ASSERT_EQ(queued(&c, B, A, RS_MSG_P_REPLY), 0);
    r = call_wait(&c, A, 1, rq);
    ASSERT(r != NULL);
    ASSERT_EQ(r->status, ROSTER_ETOOBIG);
    cl_fini(&c);
}

static void test_remote_proxy_cap_per_node(void)
{
    struct cluster c;
    struct rs_core_config cfg_c = {.call_proxies_max = 2}; /* a small proxy cap */
    setup_with(&c, 1, &cfg_c);
    struct rs_pid a = cl_client(&c, A, 1);
    struct rs_pid b = cl_client(&c, B, 1);
    struct rs_pid t = cl_client(&c, C, 1);
    cn_clear(&c.n[C]);
    uint32_t rb = call(&c, B, 1, b, t, "b", 60000);
    cl_pump(&c);
    uint32_t ra[3];
    for (int k = 0; k < 3; k++) {
        ra[k] = call(&c, A, 1, a, t, "a", 60000);
        cl_pump(&c);
    }
    ASSERT_EQ(nmsg(&c.n[C], 1), 4);
    /* A floods: its own oldest proxy goes (ELIMIT at once), B's stays */
    const struct rs_msg *r = reply_of(&c.n[A], 1, ra[0]);
    ASSERT(r != NULL);
    ASSERT_EQ(r->status, ROSTER_ELIMIT);
    ASSERT(reply_of(&c.n[A], 1, ra[1]) == NULL && reply_of(&c.n[A], 1, ra[2]) == NULL);
    ASSERT(reply_of(&c.n[B], 1, rb) == NULL);
    ASSERT_EQ(stats_of(&c, C).call_proxies, 3);
    for (size_t k = 0; k < 4; k++)
        reply(&c, C, 1, msg_at(&c.n[C], 1, k)->arg2, "ok");
    cl_pump(&c);
    r = reply_of(&c.n[B], 1, rb);
    ASSERT(r != NULL);
    ASSERT_EQ(r->status, 0);
    ASSERT(cl_bytes_is(r->meta, "ok"));
    for (int k = 1; k < 3; k++) {
        r = reply_of(&c.n[A], 1, ra[k]);
        ASSERT(r != NULL);
        ASSERT_EQ(r->status, 0);
    }
    ASSERT_EQ(stats_of(&c, C).call_proxies, 0);
    cl_fini(&c);
}

TEST_MAIN(T(test_send_remote), T(test_order_across_nodes), T(test_publish_crosses_once),
          T(test_remote_call), T(test_remote_call_late_reply),
          T(test_remote_target_dies_and_node_down), T(test_multi_call_across_nodes),
          T(test_malformed_peer_frames), T(test_remote_call_refused_fails_at_once),
          T(test_remote_proxy_cap_per_node))
