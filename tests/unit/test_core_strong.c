/* test_core_strong.c: strong scopes in the pure core (issue 9), against fake_etcd: up to three
 * cores share one scripted etcd; every etcd operation a core emits is run by the fake and
 * its result fed back as an RS_IN_KV input, on a clock the test moves. */
#include <roster.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "core/core.h"
#include "fake_etcd.h"
#include "test.h"
#include "wire/query.h"
#include "wire/wire.h"

#define TTL 3000u

struct frame {
    uint64_t conn;
    struct rs_msg m;
    uint8_t *buf;
    int used;
};

struct node {
    struct rs_core *core;
    struct rs_outputs out;
    struct frame *f;
    size_t nf, cap;
    int dead; /* stopped: gets no inputs any more */
    int paused; /* SIGSTOPped: its inputs (etcd results) wait until it continues */
};

struct world {
    struct fake_etcd fe;
    struct node n[3];
    int nn;
    uint64_t now;
    uint32_t req_id;
    struct rs_limits lim;
};

static void collect(struct world *w, struct node *n)
{
    struct rs_limits dl = w->lim;
    dl.name_max = 0;
    for (size_t i = 0; i < n->out.n; i++) {
        const struct rs_output *o = &n->out.v[i];
        if (o->kind != RS_OUT_SEND)
            continue;
        size_t off = 0;
        while (off < o->len) {
            size_t flen = 0;
            ASSERT_EQ(rs_wire_frame_next(n->out.bytes.data + o->off + off, o->len - off,
                                         w->lim.frame_max, &flen),
                      RS_WIRE_OK);
            if (n->nf == n->cap) {
                n->cap = n->cap ? 2 * n->cap : 64;
                n->f = realloc(n->f, n->cap * sizeof *n->f);
                ASSERT(n->f != NULL);
            }
            struct frame *fr = &n->f[n->nf++];
            memset(fr, 0, sizeof *fr);
            fr->conn = o->conn;
            fr->buf = malloc(flen);
            ASSERT(fr->buf != NULL);
            memcpy(fr->buf, n->out.bytes.data + o->off + off, flen);
            ASSERT_EQ(rs_wire_decode(fr->buf, flen, &dl, &fr->m), RS_WIRE_OK);
            off += flen;
        }
    }
}

static void apply(struct world *w, int i, struct rs_input *in)
{
    struct node *n = &w->n[i];
    if (n->dead)
        return;
    in->now_ms = w->now;
    in->wall_ms = 1700000000000ull + w->now;
    rs_outputs_reset(&n->out);
    ASSERT_EQ(rs_core_apply(n->core, in, &n->out), 0);
    collect(w, n);
    fe_take(&w->fe, i, &n->out);
}

static void pump(struct world *w)
{
    for (int round = 0; round < 10000; round++) {
        fe_run(&w->fe);
        int any = 0;
        for (int i = 0; i < w->nn; i++) {
            etcd_result *r;
            while (!w->n[i].paused && (r = fe_next(&w->fe, i))) {
                struct rs_input in = {.kind = RS_IN_KV, .kv = r};
                apply(w, i, &in);
                fe_free(r);
                any = 1;
            }
        }
        if (!any && !w->fe.pending)
            return;
    }
    test_fail(__FILE__, __LINE__, "the cores and the fake etcd never settle");
}

/* tick moves time by ms in steps of 100 (the shell's tick), feeding every core a TICK. */
static void tick(struct world *w, uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t += 100) {
        w->now += 100;
        fe_advance(&w->fe, w->now);
        for (int i = 0; i < w->nn; i++) {
            struct rs_input in = {.kind = RS_IN_TICK};
            if (!w->n[i].paused)
                apply(w, i, &in);
        }
        pump(w);
    }
}

static const char *const names[3] = {"a", "b", "c"};
static unsigned entries_limit; /* a test's entries_per_client (0: the default) */

static void w_init_kv(struct world *w, int nn, int kv)
{
    memset(w, 0, sizeof *w);
    fe_init(&w->fe);
    rs_limits_default(&w->lim);
    if (entries_limit)
        w->lim.entries_per_client = entries_limit;
    w->nn = nn;
    w->now = 1000;
    for (int i = 0; i < nn; i++) {
        struct rs_core_config cfg = {.node_name = names[i],
                                     .incarnation = 0x1000000000000000ull * (uint64_t)(i + 1),
                                     .hash_seed = 0x1234 + (uint64_t)i,
                                     .now_ms = w->now,
                                     .limits = w->lim,
                                     .kv_enabled = kv,
                                     .kv_lease_ttl_ms = TTL,
                                     .kv_timeout_ms = 1000};
        w->n[i].core = rs_core_new(&cfg);
        ASSERT(w->n[i].core != NULL);
        rs_outputs_init(&w->n[i].out);
    }
}

static void w_init(struct world *w, int nn)
{
    w_init_kv(w, nn, 1);
    tick(w, 100); /* the first inputs start each node's etcd session */
}

static void w_fini(struct world *w)
{
    for (int i = 0; i < w->nn; i++) {
        rs_core_free(w->n[i].core);
        rs_outputs_fini(&w->n[i].out);
        for (size_t j = 0; j < w->n[i].nf; j++)
            free(w->n[i].f[j].buf);
        free(w->n[i].f);
    }
    fe_fini(&w->fe);
}

/* req sends m from conn to node i, runs everything it causes, returns its req_id. */
static uint32_t req(struct world *w, int i, uint64_t conn, struct rs_msg *m)
{
    m->req_id = ++w->req_id;
    struct rs_buf b;
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, m), 0);
    struct rs_limits dl = w->lim;
    dl.name_max = 0;
    struct rs_msg d;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &dl, &d), RS_WIRE_OK);
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = conn, .msg = &d};
    apply(w, i, &in);
    rs_buf_fini(&b);
    pump(w);
    return m->req_id;
}

/* send_only applies m from conn without running etcd (requests pile up, as under load) */
static uint32_t send_only(struct world *w, int i, uint64_t conn, struct rs_msg *m)
{
    m->req_id = ++w->req_id;
    struct rs_buf b;
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, m), 0);
    struct rs_limits dl = w->lim;
    dl.name_max = 0;
    struct rs_msg d;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &dl, &d), RS_WIRE_OK);
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = conn, .msg = &d};
    apply(w, i, &in);
    rs_buf_fini(&b);
    return m->req_id;
}

static const struct rs_msg *reply_of(struct world *w, int i, uint32_t id)
{
    for (size_t j = 0; j < w->n[i].nf; j++) {
        struct frame *fr = &w->n[i].f[j];
        if (fr->m.req_id == id && fr->m.flags == RS_F_REPLY)
            return &fr->m;
    }
    return NULL;
}

static const struct rs_msg *must_reply(struct world *w, int i, uint32_t id)
{
    const struct rs_msg *r = reply_of(w, i, id);
    if (!r)
        test_fail(__FILE__, __LINE__, "no reply to request %u on node %s", id, names[i]);
    return r;
}

static int status(struct world *w, int i, uint64_t conn, struct rs_msg *m)
{
    return must_reply(w, i, req(w, i, conn, m))->status;
}

/* next_event takes conn's next unread EVENT on node i (NULL if none). */
static const struct rs_msg *next_event(struct world *w, int i, uint64_t conn)
{
    for (size_t j = 0; j < w->n[i].nf; j++) {
        struct frame *fr = &w->n[i].f[j];
        if (fr->conn == conn && fr->m.type == RS_MSG_EVENT && !fr->used) {
            fr->used = 1;
            return &fr->m;
        }
    }
    return NULL;
}

static size_t items_of(struct world *w, int i, uint32_t id, const struct rs_msg **v, size_t max)
{
    size_t n = 0;
    for (size_t j = 0; j < w->n[i].nf && n < max; j++) {
        struct frame *fr = &w->n[i].f[j];
        if (fr->m.req_id == id && fr->m.flags == RS_F_ITEM)
            v[n++] = &fr->m;
    }
    return n;
}

static int is(struct rs_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0);
}

static int has(struct rs_bytes b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= b.len; i++)
        if (memcmp(b.ptr + i, s, n) == 0)
            return 1;
    return 0;
}

static struct rs_pid hello(struct world *w, int i, uint64_t conn)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = conn, .os_pid = 100, .uid = 1000};
    apply(w, i, &in);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC,
                       .key = rs_bytes_str("t")};
    uint32_t id = req(w, i, conn, &m);
    ASSERT_EQ(must_reply(w, i, id)->status, 0);
    return must_reply(w, i, id)->pid;
}

static void gone(struct world *w, int i, uint64_t conn)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_GONE, .conn = conn};
    apply(w, i, &in);
    pump(w);
}

static int create(struct world *w, int i, uint64_t conn, const char *scope)
{
    struct rs_msg m = {.type = RS_MSG_SCOPE_CREATE, .opts = ROSTER_SCOPE_STRONG,
                       .scope = rs_bytes_str(scope)};
    return status(w, i, conn, &m);
}

static uint32_t reg(struct world *w, int i, uint64_t conn, struct rs_pid pid, const char *name,
                    const char *meta)
{
    struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = pid, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str(name), .meta = rs_bytes_str(meta)};
    return req(w, i, conn, &m);
}

static uint32_t lookup(struct world *w, int i, uint64_t conn, const char *name, uint32_t flags)
{
    struct rs_msg m = {.type = RS_MSG_LOOKUP, .opts = flags, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str(name)};
    return req(w, i, conn, &m);
}

static uint64_t subscribe(struct world *w, int i, uint64_t conn, uint64_t from)
{
    struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_SNAPSHOT * !from,
                       .scope = rs_bytes_str("s"), .arg = from};
    const struct rs_msg *r = must_reply(w, i, req(w, i, conn, &m));
    ASSERT_EQ(r->status, 0);
    return r->arg;
}

static uint32_t ev_kind(const struct rs_msg *e)
{
    return rs_msg_event_opts(e) & 0xff;
}

static uint32_t ev_reason(const struct rs_msg *e)
{
    return (rs_msg_event_opts(e) >> 8) & 0xff;
}

/* a world of nn nodes with strong scope "s" and one client (conn 1) on each */
static void setup(struct world *w, int nn, struct rs_pid *pids)
{
    w_init(w, nn);
    for (int i = 0; i < nn; i++)
        pids[i] = hello(w, i, 1);
    ASSERT_EQ(create(w, 0, 1, "s"), 0);
}

/* --- tests ----------------------------------------------------------------------------- */

static void test_no_etcd(void)
{
    struct world w;
    w_init_kv(&w, 1, 0);
    hello(&w, 0, 1);
    struct rs_msg m = {.type = RS_MSG_SCOPE_CREATE, .opts = ROSTER_SCOPE_STRONG,
                       .scope = rs_bytes_str("s")};
    const struct rs_msg *r = must_reply(&w, 0, req(&w, 0, 1, &m));
    ASSERT_EQ(r->status, ROSTER_EUNAVAIL);
    ASSERT(is(r->prev,
              "strong scopes need an etcd cluster: start rosterd with --etcd URL[,URL...]"));
    ASSERT_EQ(w.fe.ops_run, 0);
    w_fini(&w);
}

static void test_starting(void)
{
    struct world w;
    w_init_kv(&w, 1, 1);
    w.fe.down = 1;
    tick(&w, 300);
    hello(&w, 0, 1);
    struct rs_msg m = {.type = RS_MSG_SCOPE_CREATE, .opts = ROSTER_SCOPE_STRONG,
                       .scope = rs_bytes_str("s")};
    const struct rs_msg *r = must_reply(&w, 0, req(&w, 0, 1, &m));
    ASSERT_EQ(r->status, ROSTER_EUNAVAIL);
    ASSERT(has(r->prev, "strong scopes are starting"));
    w.fe.down = 0;
    tick(&w, 600); /* the grant and the load are retried */
    ASSERT_EQ(create(&w, 0, 1, "s"), 0);
    w_fini(&w);
}

/* A node (re)started while etcd is out of reach does not know its strong scopes yet: a
 * request in one answers EUNAVAIL "starting", never ENOSCOPE (which a client cannot tell
 * from "no such scope"); once the node has read etcd, the scope is there. */
static void test_starting_no_enoscope(void)
{
    struct world w;
    w_init_kv(&w, 2, 1);
    w.fe.cut[1] = 1; /* b cannot read etcd yet */
    tick(&w, 100);
    struct rs_pid pa = hello(&w, 0, 1);
    hello(&w, 1, 1);
    ASSERT_EQ(create(&w, 0, 1, "s"), 0);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, pa, "x", "m"))->status, 0);
    const struct rs_msg *r = must_reply(&w, 1, lookup(&w, 1, 1, "x", 0));
    ASSERT_EQ(r->status, ROSTER_EUNAVAIL);
    ASSERT(has(r->prev, "strong scopes are starting"));
    r = must_reply(&w, 1, lookup(&w, 1, 1, "x", RS_OPT_STALE));
    ASSERT_EQ(r->status, ROSTER_EUNAVAIL);
    w.fe.cut[1] = 0;
    tick(&w, 1000); /* the load is retried */
    ASSERT_EQ(must_reply(&w, 1, lookup(&w, 1, 1, "x", 0))->status, 0);
    /* a scope that does not exist is ENOSCOPE once the node has read etcd */
    struct rs_msg m = {.type = RS_MSG_LOOKUP, .scope = rs_bytes_str("nope"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 1, 1, &m), ROSTER_ENOSCOPE);
    w_fini(&w);
}

static void test_scope_everywhere(void)
{
    struct world w;
    struct rs_pid p[3];
    setup(&w, 3, p);
    for (int i = 0; i < 3; i++) {
        struct rs_msg m = {.type = RS_MSG_SCOPES};
        uint32_t id = req(&w, i, 1, &m);
        const struct rs_msg *it[8];
        size_t n = items_of(&w, i, id, it, 8);
        int found = 0;
        for (size_t j = 0; j < n; j++)
            found |= is(it[j]->scope, "s") && rs_msg_scopes_item_mode(it[j]) == ROSTER_SCOPE_STRONG;
        ASSERT(found);
    }
    ASSERT_EQ(create(&w, 2, 1, "s"), ROSTER_EEXIST);
    /* the scope is one key in etcd, without a lease */
    ASSERT_EQ(fe_count_prefix(&w.fe, "s/"), 1);
    ASSERT_EQ(fe_get(&w.fe, "s/73", 4)->lease, 0);
    w_fini(&w);
}

static void test_register_taken(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    const struct rs_msg *r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m1"));
    ASSERT_EQ(r->status, 0);
    ASSERT(r->pid.inc == p[0].inc && r->pid.serial == p[0].serial);
    uint64_t token = rs_msg_register_reply_token(r);
    ASSERT_EQ(token, (uint64_t)w.fe.rev); /* the grant's revision */
    /* the value is attached to node a's lease */
    const etcd_kv *kv = fe_get(&w.fe, "n/73/x", 6);
    ASSERT(kv != NULL && kv->lease != 0 && fe_lease_alive(&w.fe, kv->lease));
    /* taken, from the other node: ETAKEN naming the holder and its node */
    r = must_reply(&w, 1, reg(&w, 1, 1, p[1], "x", "m2"));
    ASSERT_EQ(r->status, ROSTER_ETAKEN);
    ASSERT(r->pid.inc == p[0].inc && r->pid.serial == p[0].serial);
    ASSERT(has(r->prev, "node 'a'"));
    /* linearizable and stale lookups on b give the holder, its node, meta, token */
    for (int stale = 0; stale < 2; stale++) {
        uint64_t before = w.fe.ops_run;
        r = must_reply(&w, 1, lookup(&w, 1, 1, "x", stale ? RS_OPT_STALE : 0));
        ASSERT_EQ(r->status, 0);
        ASSERT_EQ(w.fe.ops_run - before, stale ? 0 : 1); /* one etcd read, or none */
        ASSERT(r->pid.inc == p[0].inc && r->pid.serial == p[0].serial);
        ASSERT(is(rs_msg_lookup_reply_node(r), "a"));
        ASSERT(is(rs_msg_lookup_reply_meta(r), "m1"));
        ASSERT_EQ(rs_msg_lookup_reply_token(r), token);
        ASSERT_EQ(rs_msg_lookup_reply_revision(r), (uint64_t)w.fe.rev);
    }
    r = must_reply(&w, 1, lookup(&w, 1, 1, "nobody", 0));
    ASSERT_EQ(r->status, ROSTER_ENOTFOUND);
    w_fini(&w);
}

static void test_reregister_keeps_token(void)
{
    struct world w;
    struct rs_pid p[1];
    setup(&w, 1, p);
    hello(&w, 0, 2);
    subscribe(&w, 0, 2, 0);
    const struct rs_msg *r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m1"));
    uint64_t token = rs_msg_register_reply_token(r);
    /* the same request again (a retry after a timeout): no write, same token */
    int64_t rev = w.fe.rev;
    r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m1"));
    ASSERT_EQ(r->status, 0);
    ASSERT_EQ(rs_msg_register_reply_token(r), token);
    ASSERT_EQ(w.fe.rev, rev);
    /* new metadata: one write, the token stays */
    r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m2"));
    ASSERT_EQ(r->status, 0);
    ASSERT_EQ(rs_msg_register_reply_token(r), token);
    ASSERT_EQ(w.fe.rev, rev + 1);
    r = must_reply(&w, 0, lookup(&w, 0, 1, "x", 0));
    ASSERT(is(rs_msg_lookup_reply_meta(r), "m2"));
    ASSERT_EQ(rs_msg_lookup_reply_token(r), token);
    /* events: snapshot end, registered, updated (with the old metadata) */
    const struct rs_msg *e = next_event(&w, 0, 2);
    ASSERT_EQ(ev_kind(e), ROSTER_EV_SNAPSHOT_END);
    e = next_event(&w, 0, 2);
    ASSERT_EQ(ev_kind(e), ROSTER_EV_REGISTERED);
    ASSERT_EQ(rs_msg_event_revision(e), token);
    e = next_event(&w, 0, 2);
    ASSERT_EQ(ev_kind(e), ROSTER_EV_UPDATED);
    ASSERT(is(rs_msg_event_prev_meta(e), "m1") && is(rs_msg_event_meta(e), "m2"));
    ASSERT(next_event(&w, 0, 2) == NULL);
    /* a new grant after unregister has a larger token */
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 0, 1, &u), 0);
    r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m3"));
    ASSERT(rs_msg_register_reply_token(r) > token);
    w_fini(&w);
}

static void test_unknown_and_unavail(void)
{
    struct world w;
    struct rs_pid p[1];
    setup(&w, 1, p);
    /* an outcome etcd cannot tell: EUNKNOWN, never a failure */
    w.fe.fail_n = 1;
    w.fe.fail_status = ETCD_UNKNOWN;
    w.fe.fail_apply = 1;
    const struct rs_msg *r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"));
    ASSERT_EQ(r->status, ROSTER_EUNKNOWN);
    /* it was applied: the retry finds it and is idempotent */
    int64_t rev = w.fe.rev;
    r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"));
    ASSERT_EQ(r->status, 0);
    ASSERT_EQ(rs_msg_register_reply_token(r), (uint64_t)rev);
    ASSERT_EQ(w.fe.rev, rev);
    /* not applied, etcd unreachable: EUNAVAIL */
    w.fe.fail_n = 1;
    w.fe.fail_status = ETCD_UNAVAILABLE;
    w.fe.fail_apply = 0;
    r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "y", "m"));
    ASSERT_EQ(r->status, ROSTER_EUNAVAIL);
    ASSERT(fe_get(&w.fe, "n/73/y", 6) == NULL);
    w.fe.down = 1;
    r = must_reply(&w, 0, lookup(&w, 0, 1, "x", 0));
    ASSERT_EQ(r->status, ROSTER_EUNAVAIL);
    /* the local copy still answers stale reads */
    r = must_reply(&w, 0, lookup(&w, 0, 1, "x", RS_OPT_STALE));
    ASSERT_EQ(r->status, 0);
    w_fini(&w);
}

static void test_unregister_owner(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    hello(&w, 0, 2);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", ""))->status, 0);
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 0, 2, &u), ROSTER_ENOTOWNER); /* another client of the node */
    ASSERT_EQ(status(&w, 1, 1, &u), ROSTER_ENOTOWNER); /* a client of another node */
    ASSERT_EQ(status(&w, 0, 1, &u), 0);
    ASSERT_EQ(status(&w, 0, 1, &u), ROSTER_ENOTFOUND);
    ASSERT(fe_get(&w.fe, "n/73/x", 6) == NULL);
    w_fini(&w);
}

/* Every node sees the same events in etcd's revision order, reasons carried through etcd. */
static void test_events_same_order(void)
{
    struct world w;
    struct rs_pid p[3];
    setup(&w, 3, p);
    for (int i = 0; i < 3; i++) {
        hello(&w, i, 9);
        subscribe(&w, i, 9, 0);
    }
    struct rs_pid q = hello(&w, 1, 2);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "1"))->status, 0);
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 2, q, "y", "2"))->status, 0);
    struct rs_msg j = {.type = RS_MSG_JOIN, .pid = p[2], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("g"), .meta = rs_bytes_str("jm")};
    ASSERT_EQ(status(&w, 2, 1, &j), 0);
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 0, 1, &u), 0);
    gone(&w, 1, 2); /* y goes: disconnected */
    struct rs_msg l = {.type = RS_MSG_LEAVE, .pid = p[2], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("g")};
    ASSERT_EQ(status(&w, 2, 1, &l), 0);
    static const uint32_t kinds[] = {ROSTER_EV_SNAPSHOT_END, ROSTER_EV_REGISTERED,
                                     ROSTER_EV_REGISTERED, ROSTER_EV_JOINED,
                                     ROSTER_EV_UNREGISTERED, ROSTER_EV_UNREGISTERED,
                                     ROSTER_EV_LEFT};
    static const uint32_t reasons[] = {0, 0, 0, 0, ROSTER_REASON_NORMAL,
                                       ROSTER_REASON_DISCONNECTED, ROSTER_REASON_NORMAL};
    uint64_t revs[3][7];
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 7; k++) {
            const struct rs_msg *e = next_event(&w, i, 9);
            ASSERT(e != NULL);
            ASSERT_EQ(ev_kind(e), kinds[k]);
            ASSERT_EQ(ev_reason(e), reasons[k]);
            revs[i][k] = rs_msg_event_revision(e);
            if (k > 1)
                ASSERT(revs[i][k] > revs[i][k - 1]);
            if (k == 2)
                ASSERT(is(rs_msg_event_node(e), "b") && is(e->key, "y"));
        }
        ASSERT(next_event(&w, i, 9) == NULL);
        for (int k = 1; k < 7; k++)
            ASSERT_EQ(revs[i][k], revs[0][k]);
    }
    w_fini(&w);
}

static void test_pid_close_one_txn(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    hello(&w, 1, 9);
    subscribe(&w, 1, 9, 0);
    struct rs_msg pn = {.type = RS_MSG_PID_NEW};
    struct rs_pid q = must_reply(&w, 0, req(&w, 0, 1, &pn))->pid;
    for (int k = 0; k < 5; k++) {
        char nm[8];
        snprintf(nm, sizeof nm, "n%d", k);
        ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, q, nm, ""))->status, 0);
    }
    struct rs_msg j = {.type = RS_MSG_JOIN, .pid = q, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("g")};
    ASSERT_EQ(status(&w, 0, 1, &j), 0);
    uint64_t txns = w.fe.txns_run;
    int64_t rev = w.fe.rev;
    struct rs_msg pc = {.type = RS_MSG_PID_CLOSE, .pid = q};
    ASSERT_EQ(status(&w, 0, 1, &pc), 0);
    ASSERT_EQ(w.fe.txns_run, txns + 1);
    ASSERT_EQ(w.fe.rev, rev + 1);
    ASSERT_EQ(fe_count_prefix(&w.fe, "n/"), 0);
    ASSERT_EQ(fe_count_prefix(&w.fe, "m/"), 0);
    size_t unreg = 0, left = 0;
    const struct rs_msg *e;
    while ((e = next_event(&w, 1, 9))) {
        if (ev_kind(e) == ROSTER_EV_UNREGISTERED || ev_kind(e) == ROSTER_EV_LEFT) {
            ASSERT_EQ(ev_reason(e), ROSTER_REASON_NORMAL);
            ASSERT_EQ(rs_msg_event_revision(e), (uint64_t)rev + 1);
            unreg += ev_kind(e) == ROSTER_EV_UNREGISTERED;
            left += ev_kind(e) == ROSTER_EV_LEFT;
        }
    }
    ASSERT_EQ(unreg, 5);
    ASSERT_EQ(left, 1);
    /* a pid without strong entries dies without any etcd operation */
    struct rs_pid q2 = must_reply(&w, 0, req(&w, 0, 1, &pn))->pid;
    uint64_t ops = w.fe.ops_run;
    struct rs_msg pc2 = {.type = RS_MSG_PID_CLOSE, .pid = q2};
    ASSERT_EQ(status(&w, 0, 1, &pc2), 0);
    ASSERT_EQ(w.fe.ops_run, ops);
    w_fini(&w);
}

/* A node whose renewals stop tells its holders lease_lost before etcd can expire the lease;
 * the other node sees node_down only when etcd expires it, and can then take the name. */
/* A pid holding more than one transaction's worth of entries (RS_KV_TXN_OPS_MAX) loses all
 * of them when it dies, in rounds (up to 0.4 only the first round's went; the rest stayed
 * held by a dead pid until the node's lease ended). */
static void test_pid_close_many(void)
{
    struct world w;
    struct rs_pid p[1];
    setup(&w, 1, p);
    struct rs_msg pn = {.type = RS_MSG_PID_NEW};
    struct rs_pid q = must_reply(&w, 0, req(&w, 0, 1, &pn))->pid;
    enum { N = RS_KV_TXN_OPS_MAX + 6 };
    for (int k = 0; k < N; k++) {
        char nm[8];
        snprintf(nm, sizeof nm, "m%d", k);
        ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, q, nm, ""))->status, 0);
    }
    ASSERT_EQ(fe_count_prefix(&w.fe, "n/"), N);
    uint64_t txns = w.fe.txns_run;
    struct rs_msg pc = {.type = RS_MSG_PID_CLOSE, .pid = q};
    ASSERT_EQ(status(&w, 0, 1, &pc), 0);
    pump(&w);
    ASSERT_EQ(fe_count_prefix(&w.fe, "n/"), 0);
    ASSERT_EQ(w.fe.txns_run - txns, 2);
    w_fini(&w);
}

static void test_lease_lost_before_ttl(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    hello(&w, 1, 9);
    subscribe(&w, 1, 9, 0);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", ""))->status, 0);
    int64_t lease = fe_get(&w.fe, "n/73/x", 6)->lease;
    tick(&w, 2 * TTL); /* renewals work: nothing happens */
    ASSERT(fe_get(&w.fe, "n/73/x", 6) != NULL);
    while (next_event(&w, 0, 1))
        ;
    w.fe.cut[0] = 1; /* a is cut from etcd */
    uint64_t fenced = 0, expired = 0;
    for (int k = 0; k < 100 && !expired; k++) {
        tick(&w, 100);
        const struct rs_msg *e = next_event(&w, 0, 1);
        if (e && !fenced) {
            ASSERT_EQ(ev_kind(e), ROSTER_EV_UNREGISTERED);
            ASSERT_EQ(ev_reason(e), ROSTER_REASON_LEASE_LOST);
            ASSERT_EQ(rs_msg_event_id(e), 0);
            ASSERT(fe_lease_alive(&w.fe, lease)); /* before etcd let it go */
            fenced = w.now;
        }
        if (!fe_lease_alive(&w.fe, lease))
            expired = w.now;
    }
    ASSERT(fenced && expired && fenced < expired);
    printf("  lease_lost %llu ms before etcd expired the lease (TTL %u ms)\n",
           (unsigned long long)(expired - fenced), TTL);
    /* b: node_down when etcd deleted it */
    const struct rs_msg *e;
    int seen = 0;
    while ((e = next_event(&w, 1, 9)))
        if (ev_kind(e) == ROSTER_EV_UNREGISTERED) {
            ASSERT_EQ(ev_reason(e), ROSTER_REASON_NODE_DOWN);
            seen = 1;
        }
    ASSERT(seen);
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 1, p[1], "x", ""))->status, 0);
    /* a works again with a new lease once it reaches etcd */
    w.fe.cut[0] = 0;
    tick(&w, 1000);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "z", ""))->status, 0);
    ASSERT(fe_get(&w.fe, "n/73/z", 6)->lease != lease);
    w_fini(&w);
}

static void test_node_dies(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    hello(&w, 1, 9);
    subscribe(&w, 1, 9, 0);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", ""))->status, 0);
    w.n[0].dead = 1; /* kill -9: no more renewals */
    tick(&w, TTL + 200);
    const struct rs_msg *e;
    int seen = 0;
    while ((e = next_event(&w, 1, 9)))
        if (ev_kind(e) == ROSTER_EV_UNREGISTERED) {
            ASSERT_EQ(ev_reason(e), ROSTER_REASON_NODE_DOWN);
            ASSERT(is(rs_msg_event_node(e), "a"));
            seen = 1;
        }
    ASSERT(seen);
    w_fini(&w);
}

static void test_groups(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    struct rs_msg j = {.type = RS_MSG_JOIN, .pid = p[0], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("g"), .meta = rs_bytes_str("a")};
    ASSERT_EQ(status(&w, 0, 1, &j), 0);
    ASSERT_EQ(status(&w, 0, 1, &j), 0); /* idempotent */
    j.pid = p[1];
    j.meta = rs_bytes_str("b");
    ASSERT_EQ(status(&w, 1, 1, &j), 0);
    j.key = rs_bytes_str("h");
    ASSERT_EQ(status(&w, 1, 1, &j), 0);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", ""))->status, 0);
    for (int stale = 0; stale < 2; stale++) {
        uint32_t o = stale ? RS_OPT_STALE : 0;
        struct rs_msg m = {.type = RS_MSG_MEMBERS, .opts = o, .scope = rs_bytes_str("s"),
                           .key = rs_bytes_str("g")};
        uint32_t id = req(&w, 0, 1, &m);
        const struct rs_msg *it[8];
        ASSERT_EQ(items_of(&w, 0, id, it, 8), 2);
        ASSERT(is(rs_msg_members_item_node(it[0]), "a") && is(it[0]->meta, "a"));
        ASSERT(is(rs_msg_members_item_node(it[1]), "b"));
        ASSERT_EQ(must_reply(&w, 0, id)->arg2, (uint64_t)w.fe.rev);
        struct rs_msg im = {.type = RS_MSG_IS_MEMBER, .opts = o, .pid = p[1],
                            .scope = rs_bytes_str("s"), .key = rs_bytes_str("h")};
        ASSERT_EQ(rs_msg_is_member_reply_yes(must_reply(&w, 0, req(&w, 0, 1, &im))), 1);
        im.pid = p[0];
        ASSERT_EQ(rs_msg_is_member_reply_yes(must_reply(&w, 0, req(&w, 0, 1, &im))), 0);
        struct rs_msg g = {.type = RS_MSG_GROUPS, .opts = o, .scope = rs_bytes_str("s")};
        id = req(&w, 0, 1, &g);
        ASSERT_EQ(items_of(&w, 0, id, it, 8), 2);
        ASSERT(is(it[0]->key, "g") && rs_msg_groups_item_members(it[0]) == 2);
        ASSERT(is(it[1]->key, "h") && rs_msg_groups_item_members(it[1]) == 1);
        struct rs_msg cn = {.type = RS_MSG_COUNT, .opts = o, .scope = rs_bytes_str("s")};
        id = req(&w, 1, 1, &cn);
        ASSERT_EQ(items_of(&w, 1, id, it, 8), 3);
        ASSERT_EQ(rs_msg_count_item_value(it[0]), 1); /* names */
        ASSERT_EQ(rs_msg_count_item_value(it[1]), 2); /* groups */
        ASSERT_EQ(rs_msg_count_item_value(it[2]), 3); /* members */
        struct rs_msg nm = {.type = RS_MSG_NAMES, .opts = o, .scope = rs_bytes_str("s")};
        id = req(&w, 1, 1, &nm);
        ASSERT_EQ(items_of(&w, 1, id, it, 8), 1);
        ASSERT(is(it[0]->key, "x") && is(rs_msg_names_item_node(it[0]), "a"));
    }
    struct rs_msg l = {.type = RS_MSG_LEAVE, .pid = p[0], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("g")};
    ASSERT_EQ(status(&w, 0, 1, &l), 0);
    ASSERT_EQ(status(&w, 0, 1, &l), ROSTER_ENOTMEMBER);
    w_fini(&w);
}

static void test_from_revision(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "1"))->status, 0);
    int64_t r0 = w.fe.rev;
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "y", "2"))->status, 0);
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 0, 1, &u), 0);
    hello(&w, 1, 9);
    subscribe(&w, 1, 9, (uint64_t)r0);
    const struct rs_msg *e = next_event(&w, 1, 9);
    ASSERT(e && ev_kind(e) == ROSTER_EV_REGISTERED && is(e->key, "y"));
    ASSERT_EQ(rs_msg_event_revision(e), (uint64_t)r0 + 1);
    e = next_event(&w, 1, 9);
    ASSERT(e && ev_kind(e) == ROSTER_EV_UNREGISTERED && is(e->key, "x"));
    ASSERT_EQ(ev_reason(e), ROSTER_REASON_NORMAL);
    ASSERT(next_event(&w, 1, 9) == NULL);
    /* live changes keep coming, once each */
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "z", ""))->status, 0);
    e = next_event(&w, 1, 9);
    ASSERT(e && is(e->key, "z"));
    ASSERT(next_event(&w, 1, 9) == NULL);
    /* compacted history: ECOMPACTED */
    fe_compact(&w.fe, w.fe.rev);
    struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .scope = rs_bytes_str("s"), .arg = (uint64_t)r0};
    ASSERT_EQ(status(&w, 1, 9, &m), ROSTER_ECOMPACTED);
    w_fini(&w);
}

static void test_bad_value_ignored(void)
{
    struct world w;
    struct rs_pid p[1];
    setup(&w, 1, p);
    fe_put_raw(&w.fe, "n/73/evil", 9, "\x01\x02garbage", 9);
    /* handoff requests (kvhand.c) that do not decode, or name another key, or answer
     * nothing anyone asked: logged and ignored */
    fe_put_raw(&w.fe, "h/73/zz", 7, "\x01\x02garbage", 9);
    fe_put_raw(&w.fe, "h/73/1000000000000000/78", 24, "\x01R\x00", 3);
    fe_put_raw(&w.fe, "h/73/1000000000000000/78", 24, "\x01A\x00", 3);
    fe_put_raw(&w.fe, "h/", 2, "", 0);
    pump(&w);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "ok", ""))->status, 0);
    const struct rs_msg *r = must_reply(&w, 0, lookup(&w, 0, 1, "evil", 0));
    ASSERT_EQ(r->status, ROSTER_ENOTFOUND);
    r = must_reply(&w, 0, lookup(&w, 0, 1, "evil", RS_OPT_STALE));
    ASSERT_EQ(r->status, ROSTER_ENOTFOUND);
    w_fini(&w);
}

static uint32_t handoff(struct world *w, int i, uint64_t conn, const char *name,
                        struct rs_pid to, uint64_t if_token)
{
    struct rs_msg m = {.type = RS_MSG_HANDOFF, .pid = to, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str(name), .arg2 = if_token};
    return req(w, i, conn, &m);
}

/* Handoff: to a pid of another node, atomically (UNREGISTERED then REGISTERED at one
 * revision, both reason handoff), a new larger token, the new holder's client told (id 0)
 * and owning it from then on; the caller must be the holder's client or its OS user. */
static void test_handoff(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    hello(&w, 0, 9);
    subscribe(&w, 0, 9, 0);
    const struct rs_msg *r = must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"));
    uint64_t t1 = rs_msg_register_reply_token(r);
    /* another OS user may not */
    struct rs_input open = {.kind = RS_IN_CLIENT_OPEN, .conn = 5, .os_pid = 1, .uid = 4242};
    apply(&w, 1, &open);
    struct rs_msg h5 = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC};
    ASSERT_EQ(status(&w, 1, 5, &h5), 0);
    ASSERT_EQ(must_reply(&w, 1, handoff(&w, 1, 5, "x", p[1], 0))->status, ROSTER_ENOTOWNER);
    /* a stale if_token: ECONFLICT */
    r = must_reply(&w, 0, handoff(&w, 0, 1, "x", p[1], t1 + 100));
    ASSERT_EQ(r->status, ROSTER_ECONFLICT);
    ASSERT_EQ(r->arg2, t1); /* the current token */
    ASSERT(r->pid.inc == p[0].inc && r->pid.serial == p[0].serial);
    /* the holder's client hands it to b's pid */
    r = must_reply(&w, 0, handoff(&w, 0, 1, "x", p[1], t1));
    ASSERT_EQ(r->status, 0);
    uint64_t t2 = r->arg2;
    ASSERT(t2 > t1);
    ASSERT(r->pid.inc == p[1].inc && r->pid.serial == p[1].serial);
    const etcd_kv *kv = fe_get(&w.fe, "n/73/x", 6);
    ASSERT(kv != NULL && kv->create_revision < kv->mod_revision); /* never deleted */
    /* watchers: unregistered(a's pid) then registered(b's pid), one revision, handoff */
    const struct rs_msg *e;
    while ((e = next_event(&w, 0, 9)) && ev_kind(e) != ROSTER_EV_UNREGISTERED)
        ;
    ASSERT(e && ev_reason(e) == ROSTER_REASON_HANDOFF && e->pid.inc == p[0].inc);
    const struct rs_msg *e2 = next_event(&w, 0, 9);
    ASSERT(e2 && ev_kind(e2) == ROSTER_EV_REGISTERED && ev_reason(e2) == ROSTER_REASON_HANDOFF);
    ASSERT(e2->pid.inc == p[1].inc && is(rs_msg_event_node(e2), "b"));
    ASSERT_EQ(rs_msg_event_revision(e), rs_msg_event_revision(e2));
    ASSERT_EQ(rs_msg_event_revision(e2), t2);
    /* the new holder's client heard it (id 0), the old one too */
    int told = 0;
    while ((e = next_event(&w, 1, 1)))
        told |= ev_kind(e) == ROSTER_EV_REGISTERED && rs_msg_event_id(e) == 0 &&
                ev_reason(e) == ROSTER_REASON_HANDOFF;
    ASSERT(told);
    told = 0;
    while ((e = next_event(&w, 0, 1)))
        told |= ev_kind(e) == ROSTER_EV_UNREGISTERED && rs_msg_event_id(e) == 0;
    ASSERT(told);
    /* b's client owns it now; a's may not unregister it any more */
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 0, 1, &u), ROSTER_ENOTOWNER);
    /* check_token: the old token is stale, the new one current */
    struct rs_msg ct = {.type = RS_MSG_CHECK_TOKEN, .scope = rs_bytes_str("s"),
                        .key = rs_bytes_str("x"), .arg2 = t1};
    r = must_reply(&w, 0, req(&w, 0, 1, &ct));
    ASSERT_EQ(r->status, 0);
    ASSERT_EQ(rs_msg_check_token_reply_current(r), 0);
    ASSERT_EQ(rs_msg_check_token_reply_token(r), t2);
    ct.arg2 = t2;
    ASSERT_EQ(rs_msg_check_token_reply_current(must_reply(&w, 0, req(&w, 0, 1, &ct))), 1);
    ASSERT_EQ(status(&w, 1, 1, &u), 0);
    w_fini(&w);
}

static void test_update(void)
{
    struct world w;
    struct rs_pid p[1];
    setup(&w, 1, p);
    uint64_t t = rs_msg_register_reply_token(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "v1")));
    struct rs_msg m = {.type = RS_MSG_UPDATE, .opts = RS_UPDATE_IF_META, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x"), .meta = rs_bytes_str("v2"),
                       .prev = rs_bytes_str("nope")};
    const struct rs_msg *r = must_reply(&w, 0, req(&w, 0, 1, &m));
    ASSERT_EQ(r->status, ROSTER_ECONFLICT);
    ASSERT(is(r->meta, "v1"));
    ASSERT_EQ(r->arg2, t);
    m.prev = rs_bytes_str("v1");
    r = must_reply(&w, 0, req(&w, 0, 1, &m));
    ASSERT_EQ(r->status, 0);
    ASSERT_EQ(r->arg2, t); /* the grant goes on */
    struct rs_msg mt = {.type = RS_MSG_UPDATE, .opts = RS_UPDATE_IF_TOKEN, .arg2 = t + 1,
                        .scope = rs_bytes_str("s"), .key = rs_bytes_str("x"),
                        .meta = rs_bytes_str("v3")};
    ASSERT_EQ(must_reply(&w, 0, req(&w, 0, 1, &mt))->status, ROSTER_ECONFLICT);
    mt.arg2 = t;
    ASSERT_EQ(must_reply(&w, 0, req(&w, 0, 1, &mt))->status, 0);
    mt.arg2 = 0;
    ASSERT_EQ(must_reply(&w, 0, req(&w, 0, 1, &mt))->status, ROSTER_EINVAL);
    r = must_reply(&w, 0, lookup(&w, 0, 1, "x", 0));
    ASSERT(is(rs_msg_lookup_reply_meta(r), "v3"));
    ASSERT_EQ(rs_msg_lookup_reply_token(r), t);
    /* a membership's metadata */
    struct rs_msg j = {.type = RS_MSG_JOIN, .pid = p[0], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("g"), .meta = rs_bytes_str("a")};
    ASSERT_EQ(status(&w, 0, 1, &j), 0);
    struct rs_msg um = {.type = RS_MSG_UPDATE, .opts = RS_UPDATE_MEMBER | RS_UPDATE_IF_META,
                        .pid = p[0], .scope = rs_bytes_str("s"), .key = rs_bytes_str("g"),
                        .meta = rs_bytes_str("b"), .prev = rs_bytes_str("a")};
    ASSERT_EQ(must_reply(&w, 0, req(&w, 0, 1, &um))->status, 0);
    ASSERT_EQ(must_reply(&w, 0, req(&w, 0, 1, &um))->status, ROSTER_ECONFLICT);
    w_fini(&w);
}

static uint32_t campaign(struct world *w, int i, uint64_t conn, struct rs_pid pid)
{
    struct rs_msg m = {.type = RS_MSG_CAMPAIGN, .pid = pid, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("lead"), .meta = rs_bytes_str("me")};
    return req(w, i, conn, &m);
}

/* Leader election: the first candidate holds the name at once; the others wait in
 * first-come order; the leader's death elects the next. */
static void test_campaign(void)
{
    struct world w;
    struct rs_pid p[3];
    setup(&w, 3, p);
    uint32_t c0 = campaign(&w, 0, 1, p[0]);
    const struct rs_msg *r = must_reply(&w, 0, c0);
    ASSERT_EQ(r->status, 0);
    ASSERT(r->arg2 > 0);
    uint32_t c2 = campaign(&w, 2, 1, p[2]);
    uint32_t c1 = campaign(&w, 1, 1, p[1]);
    tick(&w, 300);
    ASSERT(reply_of(&w, 1, c1) == NULL && reply_of(&w, 2, c2) == NULL);
    gone(&w, 0, 1); /* the leader dies: c (the older candidacy) wins, b waits */
    tick(&w, 300);
    r = reply_of(&w, 2, c2);
    ASSERT(r != NULL && r->status == 0);
    ASSERT(reply_of(&w, 1, c1) == NULL);
    struct rs_msg pc = {.type = RS_MSG_PID_CLOSE, .pid = p[2]};
    ASSERT_EQ(status(&w, 2, 1, &pc), 0);
    tick(&w, 300);
    r = reply_of(&w, 1, c1);
    ASSERT(r != NULL && r->status == 0);
    r = must_reply(&w, 1, lookup(&w, 1, 1, "lead", 0));
    ASSERT(r->pid.inc == p[1].inc && r->pid.serial == p[1].serial);
    ASSERT_EQ(fe_count_prefix(&w.fe, "c/"), 0); /* no candidacy left */
    w_fini(&w);
}

/* A node whose watch ended reads everything again: what changed meanwhile becomes events,
 * and its copy (stale reads) matches etcd again. */
static void test_watch_lost_reload(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    hello(&w, 0, 9);
    subscribe(&w, 0, 9, 0);
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 1, p[1], "x", ""))->status, 0);
    fe_end_watches(&w.fe, 0, ETCD_UNAVAILABLE);
    pump(&w);
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 1, p[1], "y", ""))->status, 0);
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 1, 1, &u), 0);
    ASSERT_EQ(must_reply(&w, 0, lookup(&w, 0, 1, "y", RS_OPT_STALE))->status, ROSTER_ENOTFOUND);
    tick(&w, 1000); /* the reload */
    ASSERT_EQ(must_reply(&w, 0, lookup(&w, 0, 1, "y", RS_OPT_STALE))->status, 0);
    ASSERT_EQ(must_reply(&w, 0, lookup(&w, 0, 1, "x", RS_OPT_STALE))->status, ROSTER_ENOTFOUND);
    int reg_y = 0, unreg_x = 0;
    const struct rs_msg *e;
    while ((e = next_event(&w, 0, 9))) {
        reg_y |= ev_kind(e) == ROSTER_EV_REGISTERED && is(e->key, "y");
        unreg_x |= ev_kind(e) == ROSTER_EV_UNREGISTERED && is(e->key, "x");
    }
    ASSERT(reg_y && unreg_x);
    /* and the new watch goes on */
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 1, p[1], "z", ""))->status, 0);
    ASSERT_EQ(must_reply(&w, 0, lookup(&w, 0, 1, "z", RS_OPT_STALE))->status, 0);
    w_fini(&w);
}

/* A register in flight when the node fences itself: committed under the old lease, so the
 * answer is EUNKNOWN (it holds until etcd expires the lease), never OK nor EUNAVAIL. */
static void test_fence_in_flight(void)
{
    struct world w;
    struct rs_pid p[1];
    setup(&w, 1, p);
    w.fe.hold_keepalive = 1;
    tick(&w, TTL - 700); /* just before the fence */
    struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = p[0], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x"), .req_id = ++w.req_id};
    struct rs_buf b;
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, &m), 0);
    struct rs_limits dl = w.lim;
    dl.name_max = 0;
    struct rs_msg d;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &dl, &d), RS_WIRE_OK);
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = 1, .msg = &d};
    apply(&w, 0, &in); /* the txn is submitted, not run yet */
    rs_buf_fini(&b);
    w.now += 400; /* the fence comes before the answer */
    struct rs_input t = {.kind = RS_IN_TICK};
    apply(&w, 0, &t);
    pump(&w);
    const struct rs_msg *r = must_reply(&w, 0, m.req_id);
    ASSERT_EQ(r->status, ROSTER_EUNKNOWN);
    ASSERT(has(r->prev, "lost its etcd lease"));
    w_fini(&w);
}

/* What grows with a client's requests is bounded: its strong entries count toward
 * entries_per_client, and its requests waiting on etcd toward RS_KV_PENDING_PER_CLIENT. */
static void test_limits(void)
{
    struct world w;
    struct rs_pid p[1];
    entries_limit = 2;
    setup(&w, 1, p);
    entries_limit = 0;
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "a", ""))->status, 0);
    struct rs_msg j = {.type = RS_MSG_JOIN, .pid = p[0], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("g")};
    ASSERT_EQ(status(&w, 0, 1, &j), 0);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "b", ""))->status, ROSTER_ELIMIT);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "a", "new"))->status, 0); /* an update */
    ASSERT_EQ(status(&w, 0, 1, &j), 0);
    /* writes still in flight count too: a client cannot pass the limit by not waiting */
    {
        struct rs_pid q = hello(&w, 0, 7);
        uint32_t ids[4];
        for (int i = 0; i < 4; i++) {
            char nm[8];
            snprintf(nm, sizeof nm, "f%d", i);
            struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = q, .scope = rs_bytes_str("s"),
                               .key = rs_bytes_str(nm)};
            ids[i] = send_only(&w, 0, 7, &m); /* etcd has answered none yet */
        }
        ASSERT_EQ(must_reply(&w, 0, ids[2])->status, ROSTER_ELIMIT);
        ASSERT_EQ(must_reply(&w, 0, ids[3])->status, ROSTER_ELIMIT);
        pump(&w);
        ASSERT_EQ(must_reply(&w, 0, ids[0])->status, 0);
        ASSERT_EQ(must_reply(&w, 0, ids[1])->status, 0);
        gone(&w, 0, 7);
    }
    /* requests waiting on etcd: past the bound, ELIMIT at once */
    uint32_t last = 0;
    for (unsigned i = 0; i <= RS_KV_PENDING_PER_CLIENT; i++) {
        struct rs_msg m = {.type = RS_MSG_LOOKUP, .scope = rs_bytes_str("s"),
                           .key = rs_bytes_str("a"), .req_id = ++w.req_id};
        struct rs_buf b;
        rs_buf_init(&b);
        ASSERT_EQ(rs_wire_encode(&b, &m), 0);
        struct rs_limits dl = w.lim;
        dl.name_max = 0;
        struct rs_msg d;
        ASSERT_EQ(rs_wire_decode(b.data, b.len, &dl, &d), RS_WIRE_OK);
        struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = 1, .msg = &d};
        apply(&w, 0, &in); /* no pump: etcd has not answered yet */
        rs_buf_fini(&b);
        last = m.req_id;
    }
    ASSERT_EQ(must_reply(&w, 0, last)->status, ROSTER_ELIMIT);
    pump(&w);
    ASSERT_EQ(must_reply(&w, 0, last - 1)->status, 0);
    ASSERT_EQ(must_reply(&w, 0, lookup(&w, 0, 1, "a", 0))->status, 0); /* room again */
    w_fini(&w);
}

/* A subscription from a revision has an etcd watch of its own: unsubscribing ends it at
 * once, not at the watch's next event (which may never come). */
static void test_unsubscribe_ends_watch(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "e1", "m"))->status, 0);
    hello(&w, 1, 9);
    /* unsubscribing a subscription from a revision cancels its etcd watch at once */
    uint64_t sid = subscribe(&w, 1, 9, (uint64_t)w.fe.rev);
    pump(&w);
    size_t live = fe_live_watches(&w.fe, 1);
    ASSERT_EQ(live, 2); /* the node's own and the subscription's */
    struct rs_msg un = {.type = RS_MSG_UNSUBSCRIBE, .scope = rs_bytes_str("s"), .arg = sid};
    ASSERT_EQ(status(&w, 1, 9, &un), 0);
    pump(&w);
    ASSERT_EQ(fe_live_watches(&w.fe, 1), 1); /* no event came since: ended all the same */
    /* and when its client goes */
    subscribe(&w, 1, 9, (uint64_t)w.fe.rev);
    pump(&w);
    ASSERT_EQ(fe_live_watches(&w.fe, 1), 2);
    gone(&w, 1, 9);
    ASSERT_EQ(fe_live_watches(&w.fe, 1), 1);
    w_fini(&w);
}

/* Group commit: registrations that come while one is in flight go together in one
 * transaction; answers are what they would be one by one (taken, idempotent, granted). */
static void test_group_commit(void)
{
    struct world w;
    struct rs_pid p[1];
    setup(&w, 1, p);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "held", ""))->status, 0);
    struct rs_pid q[12];
    for (int i = 0; i < 12; i++)
        q[i] = hello(&w, 0, 10 + (uint64_t)i);
    uint64_t txns = w.fe.txns_run;
    uint32_t id[12];
    char nm[12][8];
    for (int i = 0; i < 12; i++) {
        snprintf(nm[i], sizeof nm[i], "g%d", i);
        struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = q[i], .scope = rs_bytes_str("s"),
                           .key = rs_bytes_str(nm[i])};
        id[i] = send_only(&w, 0, 10 + (uint64_t)i, &m);
    }
    pump(&w);
    /* the first RS_KV_BATCH_INFLIGHT alone, the ten others together */
    ASSERT_EQ(w.fe.txns_run - txns, RS_KV_BATCH_INFLIGHT + 1);
    uint64_t tok = 0;
    for (int i = 0; i < 12; i++) {
        const struct rs_msg *r = must_reply(&w, 0, id[i]);
        ASSERT_EQ(r->status, 0);
        if (i > (int)RS_KV_BATCH_INFLIGHT)
            ASSERT_EQ(rs_msg_register_reply_token(r), tok); /* one revision */
        tok = rs_msg_register_reply_token(r);
    }
    /* a batch with a taken name, an idempotent retry of a name its pid already holds, and
     * a duplicate: each member has its own compare (a nested txn), so the taken one takes
     * nothing from the others and every answer comes from the one commit, as if alone */
    struct rs_pid q2[7];
    for (int i = 0; i < 7; i++)
        q2[i] = hello(&w, 0, 40 + (uint64_t)i);
    static const char *const names2[7] = {"w1", "w2", "first", "held", "g3", "dup", "dup"};
    uint32_t id2[7];
    txns = w.fe.txns_run;
    for (int i = 0; i < 7; i++) {
        struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = i == 4 ? q[3] : q2[i],
                           .scope = rs_bytes_str("s"), .key = rs_bytes_str(names2[i])};
        id2[i] = send_only(&w, 0, i == 4 ? 13 : 40 + (uint64_t)i, &m);
    }
    pump(&w);
    /* w1, w2 alone; {first, held, g3, dup} in one; the second dup (same key) alone after */
    ASSERT_EQ(w.fe.txns_run - txns, RS_KV_BATCH_INFLIGHT + 2);
    ASSERT_EQ(must_reply(&w, 0, id2[2])->status, 0);
    ASSERT_EQ(must_reply(&w, 0, id2[3])->status, ROSTER_ETAKEN);
    ASSERT(must_reply(&w, 0, id2[3])->pid.serial == p[0].serial);
    ASSERT_EQ(must_reply(&w, 0, id2[4])->status, 0); /* q[3] holds g3 already: idempotent */
    ASSERT_EQ(rs_msg_register_reply_token(must_reply(&w, 0, id2[4])), tok);
    int ok = (must_reply(&w, 0, id2[5])->status == 0) + (must_reply(&w, 0, id2[6])->status == 0);
    int taken = (must_reply(&w, 0, id2[5])->status == ROSTER_ETAKEN) +
                (must_reply(&w, 0, id2[6])->status == ROSTER_ETAKEN);
    ASSERT_EQ(ok, 1);
    ASSERT_EQ(taken, 1);
    ASSERT_EQ(fe_count_prefix(&w.fe, "n/"), 17);
    /* creates that etcd has not answered for 20 ms no longer hold the next one back; one
     * just sent does */
    enum { NSLOW = RS_KV_BATCH_INFLIGHT + 2 };
    uint32_t sid[NSLOW];
    txns = w.fe.txns_run;
    for (int i = 0; i < NSLOW; i++) {
        char sn[16];
        snprintf(sn, sizeof sn, "slow%d", i);
        struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = q[i], .scope = rs_bytes_str("s"),
                           .key = rs_bytes_str(sn)};
        if (i == (int)RS_KV_BATCH_INFLIGHT)
            w.now += RS_KV_BATCH_STALL_MS;
        sid[i] = send_only(&w, 0, 10 + (uint64_t)i, &m);
    }
    fe_run(&w.fe); /* etcd runs what it was given so far */
    ASSERT_EQ(w.fe.txns_run - txns, RS_KV_BATCH_INFLIGHT + 1);
    pump(&w);
    for (int i = 0; i < NSLOW; i++)
        ASSERT_EQ(must_reply(&w, 0, sid[i])->status, 0);
    w_fini(&w);
}

/* A name handed (by another node) to a pid of a node that is stopped (SIGSTOP) is put
 * under that node's lease; when the node continues past its fence time, the holder learns
 * it lost the name (lease_lost), whether etcd already expired the lease (stop longer than
 * the TTL) or the node's own revocation of the old lease removes it. */
/* A handoff to a pid of a node that does not answer (stopped, or cut from etcd) fails
 * cleanly once the asking node withdraws its request (EUNAVAIL), and the name stays with
 * its holder: no name is ever put under the lease of a node that may not know of it. */
static void handoff_to_paused(uint64_t pause_ms)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"))->status, 0);
    int64_t lease_a = fe_get(&w.fe, "n/73/x", 6)->lease;
    while (next_event(&w, 1, 1))
        ;
    w.n[1].paused = 1;
    tick(&w, 300);
    uint32_t id = handoff(&w, 0, 1, "x", p[1], 0);
    ASSERT(reply_of(&w, 0, id) == NULL); /* waits for b */
    tick(&w, 1200);                      /* a's timeout (1000 ms): withdrawn */
    const struct rs_msg *r = must_reply(&w, 0, id);
    ASSERT_EQ(r->status, ROSTER_EUNAVAIL);
    ASSERT(has(r->prev, "did not take over"));
    ASSERT_EQ(fe_count_prefix(&w.fe, "h/"), 0);
    tick(&w, pause_ms);
    w.n[1].paused = 0;
    tick(&w, 500);
    const etcd_kv *kv = fe_get(&w.fe, "n/73/x", 6);
    ASSERT(kv != NULL && kv->lease == lease_a); /* still a's holder's */
    const struct rs_msg *e;
    while ((e = next_event(&w, 1, 1)))
        ASSERT(!is(e->key, "x")); /* b's pid never held it, and is told nothing */
    w_fini(&w);
}

static void test_handoff_to_paused_node(void)
{
    handoff_to_paused(TTL - 300);  /* resumes past its fence time, before etcd's expiry */
    handoff_to_paused(2 * TTL);    /* resumes after etcd expired its lease */
}

/* issue 9 item 6, the gap of 0.4: a name handed to a pid of a node cut from etcd must never
 * be put under that node's lease without the node knowing. The handoff fails (EUNAVAIL),
 * the name stays with its holder through b's fence and lease expiry; once b is back, the
 * same handoff works and b's pid is told. */
static void test_handoff_to_cut_node(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"))->status, 0);
    while (next_event(&w, 1, 1))
        ;
    w.fe.cut[1] = 1; /* b's node key (and lease) still alive in etcd for a while */
    uint32_t id = handoff(&w, 0, 1, "x", p[1], 0);
    ASSERT(reply_of(&w, 0, id) == NULL);
    tick(&w, 1200);
    ASSERT_EQ(must_reply(&w, 0, id)->status, ROSTER_EUNAVAIL);
    tick(&w, 2 * TTL); /* b fences; etcd expires b's lease */
    const etcd_kv *kv = fe_get(&w.fe, "n/73/x", 6);
    ASSERT(kv != NULL);
    ASSERT(fe_lease_alive(&w.fe, kv->lease));
    const struct rs_msg *e;
    while ((e = next_event(&w, 1, 1)))
        ASSERT(!is(e->key, "x"));
    w.fe.cut[1] = 0;
    tick(&w, 1500); /* b: a new lease, its node key again */
    const struct rs_msg *r = must_reply(&w, 0, handoff(&w, 0, 1, "x", p[1], 0));
    ASSERT_EQ(r->status, 0);
    ASSERT(r->pid.inc == p[1].inc && r->pid.serial == p[1].serial);
    int told = 0;
    while ((e = next_event(&w, 1, 1)))
        told |= ev_kind(e) == ROSTER_EV_REGISTERED && ev_reason(e) == ROSTER_REASON_HANDOFF &&
                is(e->key, "x");
    ASSERT(told);
    w_fini(&w);
}

/* The pid's node took the name over (its transaction committed) and was cut from etcd
 * before its copy showed it: its fence still tells the new holder lease_lost, before etcd
 * can expire the lease; the asking node's caller got OK. */
static void test_take_then_cut(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"))->status, 0);
    while (next_event(&w, 1, 1))
        ;
    struct rs_msg m = {.type = RS_MSG_HANDOFF, .pid = p[1], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    uint32_t id = send_only(&w, 0, 1, &m);
    int took = 0;
    for (int round = 0; round < 100 && !took; round++) {
        fe_run(&w.fe);
        etcd_result *r;
        while ((r = fe_next(&w.fe, 0))) {
            struct rs_input in = {.kind = RS_IN_KV, .kv = r};
            apply(&w, 0, &in);
            fe_free(r);
        }
        while (!took && (r = fe_next(&w.fe, 1))) {
            int is_take = r->type == ETCD_OP_TXN && r->status == ETCD_OK;
            struct rs_input in = {.kind = RS_IN_KV, .kv = r};
            apply(&w, 1, &in);
            fe_free(r);
            took = is_take;
        }
    }
    ASSERT(took);
    etcd_result *lost;
    while ((lost = fe_next(&w.fe, 1))) /* b never gets its watch's news: cut */
        fe_free(lost);
    w.fe.cut[1] = 1;
    const etcd_kv *kv = fe_get(&w.fe, "n/73/x", 6);
    ASSERT(kv != NULL && rs_get_u64((const uint8_t *)kv->value + 4 + 1) != 0);
    int64_t lease_b = kv->lease;
    pump(&w);
    ASSERT_EQ(must_reply(&w, 0, id)->status, 0); /* a saw b's write */
    uint64_t told = 0;
    for (int k = 0; k < 60 && fe_lease_alive(&w.fe, lease_b); k++) {
        tick(&w, 100);
        const struct rs_msg *e;
        while ((e = next_event(&w, 1, 1)))
            if (ev_kind(e) == ROSTER_EV_UNREGISTERED && is(e->key, "x") &&
                ev_reason(e) == ROSTER_REASON_LEASE_LOST && !told) {
                ASSERT(fe_lease_alive(&w.fe, lease_b));
                told = w.now;
            }
    }
    ASSERT(told);
    ASSERT(!fe_lease_alive(&w.fe, lease_b));
    w_fini(&w);
}

/* The asking node answers from the pid's node's answer, not from the name: here b's pid
 * gives the name up before a reads again, and a's caller must still hear OK (the handoff
 * happened), not ENOTFOUND (test_chaos found this). */
static void test_handoff_answer_kept(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"))->status, 0);
    struct rs_msg m = {.type = RS_MSG_HANDOFF, .pid = p[1], .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    uint32_t id = send_only(&w, 0, 1, &m);
    /* run a until its request is put (its second transaction answered), then hold it */
    int txn_ok = 0;
    for (int round = 0; round < 100 && txn_ok < 2; round++) {
        fe_run(&w.fe);
        etcd_result *r;
        while (txn_ok < 2 && (r = fe_next(&w.fe, 0))) {
            txn_ok += r->type == ETCD_OP_TXN && r->status == ETCD_OK;
            struct rs_input in = {.kind = RS_IN_KV, .kv = r};
            apply(&w, 0, &in);
            fe_free(r);
        }
    }
    ASSERT_EQ(txn_ok, 2);
    w.n[0].paused = 1;
    pump(&w); /* b takes the name over */
    const etcd_kv *kv = fe_get(&w.fe, "n/73/x", 6);
    ASSERT(kv != NULL);
    int64_t granted = kv->mod_revision;
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 1, 1, &u), 0); /* b's pid gives it up at once */
    w.n[0].paused = 0;
    pump(&w);
    const struct rs_msg *r = must_reply(&w, 0, id);
    ASSERT_EQ(r->status, 0);
    ASSERT(r->pid.inc == p[1].inc && r->pid.serial == p[1].serial);
    ASSERT_EQ(r->arg2, (uint64_t)granted);
    ASSERT_EQ(fe_count_prefix(&w.fe, "h/"), 0); /* the answered request was deleted */
    w_fini(&w);
}

/* A handoff may not take the new holder's client past entries_per_client (its node checks,
 * and refuses: ELIMIT), except between pids of one client, where the count stays. */
static void test_handoff_limit(void)
{
    struct world w;
    struct rs_pid p[2];
    entries_limit = 1;
    setup(&w, 2, p);
    entries_limit = 0;
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", ""))->status, 0);
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 1, p[1], "y", ""))->status, 0);
    const struct rs_msg *r = must_reply(&w, 0, handoff(&w, 0, 1, "x", p[1], 0));
    ASSERT_EQ(r->status, ROSTER_ELIMIT);
    ASSERT(has(r->prev, "on node 'b'"));
    ASSERT_EQ(fe_count_prefix(&w.fe, "h/"), 0);
    /* still p[0]'s: a may unregister it */
    struct rs_msg u = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str("s"),
                       .key = rs_bytes_str("x")};
    ASSERT_EQ(status(&w, 0, 1, &u), 0);
    /* between two pids of b's client: allowed at the limit */
    struct rs_msg pn = {.type = RS_MSG_PID_NEW};
    struct rs_pid q = must_reply(&w, 1, req(&w, 1, 1, &pn))->pid;
    ASSERT_EQ(must_reply(&w, 1, handoff(&w, 1, 1, "y", q, 0))->status, 0);
    /* ... and from another node to b's other pid, the same client */
    ASSERT_EQ(must_reply(&w, 0, handoff(&w, 0, 1, "y", p[1], 0))->status, 0);
    w_fini(&w);
}

/* A register answered after the wait for the copy timed out (the watch had ended, and the
 * node was then cut): the copy never shows it, but the fence still tells the holder. */
static void test_unseen_register_told(void)
{
    struct world w;
    struct rs_pid p[1];
    setup(&w, 1, p);
    while (next_event(&w, 0, 1))
        ;
    fe_end_watches(&w.fe, 0, ETCD_UNAVAILABLE);
    pump(&w);
    uint32_t id = reg(&w, 0, 1, p[0], "x", "");
    const etcd_kv *kv = fe_get(&w.fe, "n/73/x", 6);
    ASSERT(kv != NULL);
    int64_t lease = kv->lease;
    w.fe.cut[0] = 1;
    tick(&w, 1100);
    ASSERT_EQ(must_reply(&w, 0, id)->status, 0); /* committed; the copy is behind */
    uint64_t told = 0;
    for (int k = 0; k < 60 && fe_lease_alive(&w.fe, lease); k++) {
        tick(&w, 100);
        const struct rs_msg *e;
        while ((e = next_event(&w, 0, 1)))
            if (ev_kind(e) == ROSTER_EV_UNREGISTERED && is(e->key, "x") &&
                ev_reason(e) == ROSTER_REASON_LEASE_LOST) {
                ASSERT(fe_lease_alive(&w.fe, lease));
                told = w.now;
            }
    }
    ASSERT(told);
    w_fini(&w);
}

/* A holder whose name was handed away while its node was not watching (the watch ended,
 * the node reads everything again) is told, as if it had seen the handoff. */
static void test_reload_tells_holder(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 1, p[1], "y", "m"))->status, 0);
    while (next_event(&w, 1, 1))
        ;
    fe_end_watches(&w.fe, 1, ETCD_UNAVAILABLE);
    pump(&w);
    /* a's client, of the same OS user, acts for the holder */
    ASSERT_EQ(must_reply(&w, 0, handoff(&w, 0, 1, "y", p[0], 0))->status, 0);
    tick(&w, 1000); /* b's reload */
    const struct rs_msg *e;
    int told = 0;
    while ((e = next_event(&w, 1, 1)))
        told |= ev_kind(e) == ROSTER_EV_UNREGISTERED && ev_reason(e) == ROSTER_REASON_HANDOFF &&
                is(e->key, "y");
    ASSERT(told);
    w_fini(&w);
}

/* A name handed by another node to a pid that is dead (its node is alive) is refused by
 * that node (ENOPROC): the name stays with its holder. */
static void test_handoff_to_dead_pid(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    struct rs_pid dead = hello(&w, 1, 2);
    gone(&w, 1, 2);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"))->status, 0);
    const struct rs_msg *r = must_reply(&w, 0, handoff(&w, 0, 1, "x", dead, 0));
    ASSERT_EQ(r->status, ROSTER_ENOPROC);
    ASSERT(has(r->prev, "not alive on node 'b'"));
    pump(&w);
    const etcd_kv *kv = fe_get(&w.fe, "n/73/x", 6);
    ASSERT(kv != NULL);
    ASSERT_EQ(fe_count_prefix(&w.fe, "h/"), 0); /* the refused request was cleaned up */
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "x", "m"))->status, 0); /* still a's */
    w_fini(&w);
}

/* issue 11: metadata queries of a strong scope: filtered after the linearizable etcd read
 * and on the local copy (RS_QF_STALE) alike, in the one order of listings; UNMATCH refused */
static void test_query(void)
{
    struct world w;
    struct rs_pid p[2];
    setup(&w, 2, p);
    ASSERT_EQ(must_reply(&w, 0, reg(&w, 0, 1, p[0], "svc/a", "{\"role\":\"admin\"}"))->status, 0);
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 1, p[1], "svc/b", "{\"role\":\"user\"}"))->status, 0);
    ASSERT_EQ(must_reply(&w, 1, reg(&w, 1, 1, p[1], "other", "{\"role\":\"admin\"}"))->status,
              0);
    const char *groups[3] = {"chat/2", "chat/1", "misc"};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 2; i++) {
            struct rs_msg j = {.type = RS_MSG_JOIN, .pid = p[i], .scope = rs_bytes_str("s"),
                               .key = rs_bytes_str(groups[k]),
                               .meta = rs_bytes_str(i ? "lang=fr" : "lang=en")};
            ASSERT_EQ(status(&w, i, 1, &j), 0);
        }
    struct rs_buf f;
    rs_buf_init(&f);
    const char *why;
    struct rs_qfilter admin = {1, {{RS_QOP_FIELD, rs_bytes_str("role"), rs_bytes_str("admin")}}};
    ASSERT_EQ(rs_qfilter_encode(&f, &admin, &why), 0);
    struct rs_buf g;
    rs_buf_init(&g);
    struct rs_qfilter fr = {1, {{RS_QOP_GLOB, rs_bytes_str(""), rs_bytes_str("*=fr")}}};
    ASSERT_EQ(rs_qfilter_encode(&g, &fr, &why), 0);
    for (int stale = 0; stale < 2; stale++) {
        uint32_t o = stale ? RS_QF_STALE : 0;
        const struct rs_msg *it[8];
        /* names under svc/ whose role is admin: only svc/a */
        struct rs_msg q = {.type = RS_MSG_QUERY, .opts = o | RS_QW_NAMES | RS_QF_PREFIX,
                           .scope = rs_bytes_str("s"), .key = rs_bytes_str("svc/"),
                           .meta = rs_bytes_of(f.data, f.len)};
        uint32_t id = req(&w, 1, 1, &q);
        ASSERT_EQ(must_reply(&w, 1, id)->status, 0);
        ASSERT_EQ(items_of(&w, 1, id, it, 8), 1);
        ASSERT(is(it[0]->key, "svc/a") && is(rs_msg_query_item_node(it[0]), "a"));
        ASSERT_EQ(must_reply(&w, 1, id)->arg2, (uint64_t)w.fe.rev);
        /* every admin, any key, from node b only */
        q.key = rs_bytes_str("");
        q.node = rs_bytes_str("b");
        id = req(&w, 0, 1, &q);
        ASSERT_EQ(items_of(&w, 0, id, it, 8), 1);
        ASSERT(is(it[0]->key, "other"));
        q.node = rs_bytes_of(NULL, 0);
        /* members of every group under chat/ that match *=fr: by group, then pid */
        struct rs_msg m = {.type = RS_MSG_QUERY, .opts = o | RS_QW_MEMBERS | RS_QF_PREFIX,
                           .scope = rs_bytes_str("s"), .key = rs_bytes_str("chat/"),
                           .meta = rs_bytes_of(g.data, g.len)};
        id = req(&w, 0, 1, &m);
        ASSERT_EQ(items_of(&w, 0, id, it, 8), 2);
        ASSERT(is(it[0]->key, "chat/1") && is(it[1]->key, "chat/2"));
        ASSERT(is(it[0]->meta, "lang=fr") && rs_pid_eq(it[0]->pid, p[1]));
        m.meta = rs_bytes_of(NULL, 0); /* unfiltered: 4, by group then pid */
        id = req(&w, 0, 1, &m);
        ASSERT_EQ(items_of(&w, 0, id, it, 8), 4);
        ASSERT(is(it[0]->key, "chat/1") && is(it[1]->key, "chat/1") && is(it[2]->key, "chat/2"));
        ASSERT((it[0]->pid.inc < it[1]->pid.inc) ==
               (p[0].inc < p[1].inc ? rs_pid_eq(it[0]->pid, p[0]) : rs_pid_eq(it[0]->pid, p[1])));
        m.opts |= RS_QF_LOCAL; /* this node's pids only */
        id = req(&w, 0, 1, &m);
        ASSERT_EQ(items_of(&w, 0, id, it, 8), 2);
        ASSERT(rs_pid_eq(it[0]->pid, p[0]) && rs_pid_eq(it[1]->pid, p[0]));
        /* counts: one exact key; and groups holding a matching member */
        struct rs_msg c = {.type = RS_MSG_QUERY_COUNT,
                           .opts = o | RS_QW_NAMES | RS_QW_MEMBERS,
                           .scope = rs_bytes_str("s"), .key = rs_bytes_str("misc")};
        id = req(&w, 1, 1, &c);
        ASSERT_EQ(items_of(&w, 1, id, it, 8), 3);
        ASSERT_EQ(rs_msg_query_count_item_value(it[0]), 0); /* names */
        ASSERT_EQ(rs_msg_query_count_item_value(it[1]), 1); /* groups */
        ASSERT_EQ(rs_msg_query_count_item_value(it[2]), 2); /* members */
        c.opts |= RS_QF_PREFIX;
        c.key = rs_bytes_str("");
        c.meta = rs_bytes_of(g.data, g.len);
        id = req(&w, 1, 1, &c);
        ASSERT_EQ(items_of(&w, 1, id, it, 8), 3);
        ASSERT_EQ(rs_msg_query_count_item_value(it[0]), 0);
        ASSERT_EQ(rs_msg_query_count_item_value(it[1]), 3);
        ASSERT_EQ(rs_msg_query_count_item_value(it[2]), 3);
        c.meta = rs_bytes_of(f.data, f.len);
        id = req(&w, 1, 1, &c);
        ASSERT_EQ(items_of(&w, 1, id, it, 8), 3);
        ASSERT_EQ(rs_msg_query_count_item_value(it[0]), 2);
        ASSERT_EQ(rs_msg_query_count_item_value(it[2]), 0);
    }
    struct rs_msg u = {.type = RS_MSG_UNMATCH, .opts = RS_QW_NAMES | RS_QF_PREFIX,
                       .scope = rs_bytes_str("s")};
    ASSERT_EQ(status(&w, 0, 1, &u), ROSTER_EINVAL);
    rs_buf_fini(&f);
    rs_buf_fini(&g);
    w_fini(&w);
}

TEST_MAIN(T(test_no_etcd), T(test_starting), T(test_starting_no_enoscope), T(test_scope_everywhere), T(test_register_taken),
          T(test_reregister_keeps_token), T(test_unknown_and_unavail), T(test_unregister_owner),
          T(test_events_same_order), T(test_pid_close_one_txn), T(test_pid_close_many), T(test_lease_lost_before_ttl),
          T(test_node_dies), T(test_groups), T(test_from_revision), T(test_bad_value_ignored),
          T(test_handoff), T(test_update), T(test_campaign),
          T(test_watch_lost_reload), T(test_fence_in_flight), T(test_limits),
          T(test_group_commit), T(test_unsubscribe_ends_watch), T(test_handoff_to_paused_node), T(test_reload_tells_holder),
          T(test_handoff_to_dead_pid), T(test_handoff_to_cut_node), T(test_take_then_cut),
          T(test_unseen_register_told), T(test_handoff_answer_kept), T(test_handoff_limit),
          T(test_query))
