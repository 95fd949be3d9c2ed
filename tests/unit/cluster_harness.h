/* cluster_harness.h: a few cores wired together in one test process. Each node is a core
 * with its own config; a link i -> j is a byte queue: SEND outputs of node i for its peer
 * connection to j are appended to it, and pumping decodes those frames one by one and feeds
 * them to node j as PEER_MSG. Frames to client connections are decoded and kept (with their
 * own copy of the bytes) in the node's log until the test clears it; CLOSE and DIAL outputs
 * are recorded. Peer connection ids: node i's connection to node j is PEER_CONN + j, or
 * PEER_CONN + CN_GEN * g + j for its g-th connection (cl_peer_up_gen: two connections between
 * one pair, as when both dial at once or one replaces the other; the link carries the
 * frames of the generation both ends are on). Header-only, test code only. */
#ifndef ROSTER_TESTS_CLUSTER_HARNESS_H
#define ROSTER_TESTS_CLUSTER_HARNESS_H

#include <roster.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "core/core.h"
#include "test.h"
#include "wire/wire.h"

#define CN_MAX 4
#define PEER_CONN 1000u
#define CN_LOG_MAX 4096
#define CN_GEN 16u /* conn id stride between generations of one link */

struct cframe {
    uint64_t conn;
    uint8_t *raw;
    struct rs_msg m;
};

struct cnode {
    struct rs_core *core;
    struct rs_outputs out;
    char name[32];
    uint64_t inc;
    struct rs_buf q[CN_MAX]; /* bytes on the way to node j */
    int link[CN_MAX];        /* peer connection to j is up (as the shell sees it) */
    unsigned gen[CN_MAX];    /* generation of the current connection to j */
    struct cframe log[CN_LOG_MAX];
    size_t nlog;
    uint64_t closed[64]; /* conns the core asked to close */
    size_t nclosed;
    char dials[64][300];
    size_t ndials;
    char undials[64][300]; /* RS_OUT_UNDIAL texts */
    size_t nundials;
    char undials_left[16][300]; /* RS_OUT_UNDIAL_LEFT texts (a peer left: seeds stay) */
    size_t nundials_left;
    uint32_t req_id;
    uint32_t last_req;
};

struct cluster {
    struct cnode n[CN_MAX];
    size_t nn;
    struct rs_limits lim;
    uint64_t now;
    uint64_t wall;
};

static inline void cn_clear(struct cnode *x)
{
    for (size_t i = 0; i < x->nlog; i++)
        free(x->log[i].raw);
    x->nlog = 0;
    x->nclosed = 0;
    x->ndials = 0;
    x->nundials = 0;
    x->nundials_left = 0;
}

static inline size_t cl_index(const struct cluster *c, const struct cnode *x)
{
    return (size_t)(x - c->n);
}

static inline void cl_apply(struct cluster *c, struct cnode *x, struct rs_input *in)
{
    in->now_ms = c->now;
    in->wall_ms = c->wall;
    rs_outputs_reset(&x->out);
    ASSERT_EQ(rs_core_apply(x->core, in, &x->out), 0);
    struct rs_limits dl = c->lim;
    dl.name_max = 0;
    for (size_t i = 0; i < x->out.n; i++) {
        const struct rs_output *o = &x->out.v[i];
        const uint8_t *p = x->out.bytes.data + o->off;
        if (o->kind == RS_OUT_SEND && o->conn >= PEER_CONN) {
            size_t j = (size_t)((o->conn - PEER_CONN) % CN_GEN);
            unsigned g = (unsigned)((o->conn - PEER_CONN) / CN_GEN);
            ASSERT(j < c->nn);
            if (g != x->gen[j])
                continue; /* on a connection the test replaced: lost */
            ASSERT(x->link[j]);
            ASSERT_EQ(rs_buf_append(&x->q[j], p, o->len), 0);
        } else if (o->kind == RS_OUT_SEND) {
            size_t off = 0;
            while (off < o->len) {
                size_t flen = 0;
                ASSERT_EQ(rs_wire_frame_next(p + off, o->len - off, c->lim.frame_max, &flen),
                          RS_WIRE_OK);
                ASSERT(x->nlog < CN_LOG_MAX);
                struct cframe *f = &x->log[x->nlog++];
                f->conn = o->conn;
                f->raw = malloc(flen);
                ASSERT(f->raw != NULL);
                memcpy(f->raw, p + off, flen);
                ASSERT_EQ(rs_wire_decode(f->raw, flen, &dl, &f->m), RS_WIRE_OK);
                off += flen;
            }
        } else if (o->kind == RS_OUT_CLOSE) {
            ASSERT(x->nclosed < 64);
            x->closed[x->nclosed++] = o->conn;
            ASSERT(o->len > 0);
        } else if (o->kind == RS_OUT_DIAL) {
            ASSERT(x->ndials < 64);
            size_t n = o->len < 299 ? o->len : 299;
            memcpy(x->dials[x->ndials], p, n);
            x->dials[x->ndials++][n] = 0;
        } else if (o->kind == RS_OUT_UNDIAL) {
            ASSERT(x->nundials < 64);
            size_t n = o->len < 299 ? o->len : 299;
            memcpy(x->undials[x->nundials], p, n);
            x->undials[x->nundials++][n] = 0;
        } else if (o->kind == RS_OUT_UNDIAL_LEFT) {
            ASSERT(x->nundials_left < 16);
            size_t n = o->len < 299 ? o->len : 299;
            memcpy(x->undials_left[x->nundials_left], p, n);
            x->undials_left[x->nundials_left++][n] = 0;
        }
    }
}

static inline struct cnode *cl_add(struct cluster *c, const char *name, uint64_t inc,
                                   const struct rs_core_config *base)
{
    ASSERT(c->nn < CN_MAX);
    struct cnode *x = &c->n[c->nn++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->inc = inc;
    struct rs_core_config cfg;
    if (base)
        cfg = *base;
    else
        memset(&cfg, 0, sizeof cfg);
    cfg.node_name = x->name;
    cfg.incarnation = inc;
    cfg.hash_seed = 0x5eed0000ull + inc;
    cfg.now_ms = c->now;
    cfg.limits = c->lim;
    char addr[64];
    snprintf(addr, sizeof addr, "10.0.0.%zu:4369", c->nn);
    cfg.listen_addr = addr;
    x->core = rs_core_new(&cfg);
    ASSERT(x->core != NULL);
    rs_outputs_init(&x->out);
    for (size_t j = 0; j < CN_MAX; j++)
        rs_buf_init(&x->q[j]);
    return x;
}

static inline void cl_init(struct cluster *c)
{
    memset(c, 0, sizeof *c);
    rs_limits_default(&c->lim);
    c->now = 1000;
    c->wall = 1700000000000ull;
}

static inline void cl_fini(struct cluster *c)
{
    for (size_t i = 0; i < c->nn; i++) {
        struct cnode *x = &c->n[i];
        cn_clear(x);
        if (x->core)
            rs_core_free(x->core);
        rs_outputs_fini(&x->out);
        for (size_t j = 0; j < CN_MAX; j++)
            rs_buf_fini(&x->q[j]);
    }
}

/* Replace node i by a fresh core (restart with a new incarnation). */
static inline void cl_restart(struct cluster *c, size_t i, uint64_t inc)
{
    struct cnode *x = &c->n[i];
    cn_clear(x);
    rs_core_free(x->core);
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.node_name = x->name;
    cfg.incarnation = inc;
    cfg.hash_seed = 77 + inc;
    cfg.now_ms = c->now;
    cfg.limits = c->lim;
    x->core = rs_core_new(&cfg);
    ASSERT(x->core != NULL);
    x->inc = inc;
    for (size_t j = 0; j < CN_MAX; j++) {
        x->link[j] = 0;
        x->gen[j] = 0;
        rs_buf_reset(&x->q[j]);
    }
}

static inline uint64_t cl_conn_id(size_t j, unsigned gen)
{
    return PEER_CONN + (uint64_t)CN_GEN * gen + j;
}

/* PEER_UP at node i for its connection of generation gen to node j, which becomes the link's
 * current one (what was queued on the previous one is lost), unless the core closes it at
 * once while the previous one is up (a duplicate it refused). */
static inline void cl_peer_up_gen(struct cluster *c, size_t i, size_t j, int dialed,
                                  unsigned gen)
{
    struct cnode *x = &c->n[i], *y = &c->n[j];
    unsigned old_gen = x->gen[j];
    int old_link = x->link[j];
    struct rs_buf saved = x->q[j];
    if (gen != old_gen)
        rs_buf_init(&x->q[j]);
    x->gen[j] = gen;
    x->link[j] = 1;
    char addr[64];
    snprintf(addr, sizeof addr, "10.0.0.%zu:4369", j + 1);
    struct rs_input in = {.kind = RS_IN_PEER_UP, .conn = cl_conn_id(j, gen),
                          .peer_name = rs_bytes_str(y->name), .peer_inc = y->inc,
                          .peer_addr = rs_bytes_str(addr), .dialed = dialed};
    size_t nc = x->nclosed;
    cl_apply(c, x, &in);
    if (gen == old_gen)
        return;
    int refused = 0;
    for (size_t k = nc; k < x->nclosed; k++)
        refused |= x->closed[k] == cl_conn_id(j, gen);
    if (refused && old_link) {
        rs_buf_fini(&x->q[j]);
        x->q[j] = saved;
        x->gen[j] = old_gen;
    } else {
        rs_buf_fini(&saved);
    }
}

static inline void cl_peer_up(struct cluster *c, size_t i, size_t j, int dialed)
{
    cl_peer_up_gen(c, i, j, dialed, c->n[i].gen[j]);
}

/* PEER_GONE at node i for its connection of generation gen to j (the link goes down only
 * if that is the current one). */
static inline void cl_peer_gone_gen(struct cluster *c, size_t i, size_t j, unsigned gen)
{
    struct cnode *x = &c->n[i];
    if (gen == x->gen[j]) {
        x->link[j] = 0;
        rs_buf_reset(&x->q[j]);
    }
    struct rs_input in = {.kind = RS_IN_PEER_GONE, .conn = cl_conn_id(j, gen)};
    cl_apply(c, x, &in);
}

static inline void cl_peer_gone(struct cluster *c, size_t i, size_t j)
{
    cl_peer_gone_gen(c, i, j, c->n[i].gen[j]);
}

/* Deliver at most one frame queued i -> j; returns 1 if one was delivered. A frame to a
 * link that is down on the receiving side is dropped, and so is one of a generation the
 * receiver has left; one of a generation the receiver has not seen come up waits. */
static inline int cl_step(struct cluster *c, size_t i, size_t j)
{
    struct cnode *x = &c->n[i], *y = &c->n[j];
    if (x->q[j].len == 0 || x->gen[j] > y->gen[i])
        return 0;
    size_t flen = 0;
    ASSERT_EQ(rs_wire_frame_next(x->q[j].data, x->q[j].len, c->lim.frame_max, &flen),
              RS_WIRE_OK);
    uint8_t *frame = malloc(flen);
    ASSERT(frame != NULL);
    memcpy(frame, x->q[j].data, flen);
    memmove(x->q[j].data, x->q[j].data + flen, x->q[j].len - flen);
    x->q[j].len -= flen;
    if (y->link[i] && x->gen[j] == y->gen[i]) {
        struct rs_msg m;
        ASSERT_EQ(rs_wire_decode(frame, flen, &c->lim, &m), RS_WIRE_OK);
        struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = cl_conn_id(i, y->gen[i]),
                              .msg = &m};
        cl_apply(c, y, &in);
    }
    free(frame);
    return 1;
}

/* Deliver everything queued i -> j (and what that provokes back and forth on that link). */
static inline void cl_pump_link(struct cluster *c, size_t i, size_t j)
{
    while (cl_step(c, i, j) || cl_step(c, j, i))
        ;
}

/* Deliver everything everywhere until quiet. */
static inline void cl_pump(struct cluster *c)
{
    int any = 1;
    while (any) {
        any = 0;
        for (size_t i = 0; i < c->nn; i++)
            for (size_t j = 0; j < c->nn; j++)
                while (cl_step(c, i, j))
                    any = 1;
    }
}

static inline void cl_connect(struct cluster *c, size_t i, size_t j)
{
    cl_peer_up(c, i, j, 1);
    cl_peer_up(c, j, i, 0);
}

static inline void cl_disconnect(struct cluster *c, size_t i, size_t j)
{
    cl_peer_gone(c, i, j);
    cl_peer_gone(c, j, i);
}

static inline void cl_tick(struct cluster *c, size_t i)
{
    struct rs_input in = {.kind = RS_IN_TICK};
    cl_apply(c, &c->n[i], &in);
}

/* --- clients ------------------------------------------------------------------------- */

/* cl_req sends m from client conn of node i and returns its reply (valid until cn_clear). */
static inline const struct rs_msg *cl_req(struct cluster *c, size_t i, uint64_t conn,
                                          struct rs_msg *m)
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
    size_t before = x->nlog;
    cl_apply(c, x, &in);
    rs_buf_fini(&b);
    for (size_t k = before; k < x->nlog; k++)
        if (x->log[k].conn == conn && x->log[k].m.flags == RS_F_REPLY &&
            x->log[k].m.req_id == m->req_id)
            return &x->log[k].m;
    test_fail(__FILE__, __LINE__, "no reply from node %s", x->name);
}

static inline struct rs_pid cl_client(struct cluster *c, size_t i, uint64_t conn)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = conn, .os_pid = 1, .uid = 0};
    cl_apply(c, &c->n[i], &in);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC,
                       .key = rs_bytes_str("t")};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    return r->pid;
}

static inline void cl_client_gone(struct cluster *c, size_t i, uint64_t conn)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_GONE, .conn = conn};
    cl_apply(c, &c->n[i], &in);
}

static inline int cl_register(struct cluster *c, size_t i, uint64_t conn, struct rs_pid pid,
                              const char *scope, const char *name, const char *meta)
{
    struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = pid, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(name), .meta = rs_bytes_str(meta)};
    return cl_req(c, i, conn, &m)->status;
}

static inline int cl_unregister(struct cluster *c, size_t i, uint64_t conn, const char *scope,
                                const char *name)
{
    struct rs_msg m = {.type = RS_MSG_UNREGISTER, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(name)};
    return cl_req(c, i, conn, &m)->status;
}

static inline int cl_join(struct cluster *c, size_t i, uint64_t conn, struct rs_pid pid,
                          const char *scope, const char *group, const char *meta)
{
    struct rs_msg m = {.type = RS_MSG_JOIN, .pid = pid, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(group), .meta = rs_bytes_str(meta)};
    return cl_req(c, i, conn, &m)->status;
}

static inline int cl_leave(struct cluster *c, size_t i, uint64_t conn, struct rs_pid pid,
                           const char *scope, const char *group)
{
    struct rs_msg m = {.type = RS_MSG_LEAVE, .pid = pid, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(group)};
    return cl_req(c, i, conn, &m)->status;
}

static inline int cl_scope_op(struct cluster *c, size_t i, uint64_t conn, uint8_t type,
                              const char *scope)
{
    struct rs_msg m = {.type = type, .scope = rs_bytes_str(scope)};
    return cl_req(c, i, conn, &m)->status;
}

/* cl_lookup: status; *pid and *meta (copied into metabuf) when found. */
static inline int cl_lookup(struct cluster *c, size_t i, uint64_t conn, const char *scope,
                            const char *name, struct rs_pid *pid, char *metabuf,
                            char *nodebuf)
{
    struct rs_msg m = {.type = RS_MSG_LOOKUP, .scope = rs_bytes_str(scope),
                       .key = rs_bytes_str(name)};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    if (r->status == 0) {
        if (pid)
            *pid = r->pid;
        if (metabuf) {
            memcpy(metabuf, r->meta.ptr ? (const char *)r->meta.ptr : "", r->meta.len);
            metabuf[r->meta.len] = 0;
        }
        if (nodebuf) {
            memcpy(nodebuf, r->node.ptr, r->node.len);
            nodebuf[r->node.len] = 0;
        }
    }
    return r->status;
}

static inline uint64_t cl_subscribe(struct cluster *c, size_t i, uint64_t conn,
                                    const char *scope, uint32_t flags)
{
    struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .opts = flags, .scope = rs_bytes_str(scope)};
    const struct rs_msg *r = cl_req(c, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    return r->arg;
}

/* Events for conn in node i's log, in order. */
static inline size_t cl_nevents(const struct cnode *x, uint64_t conn)
{
    size_t n = 0;
    for (size_t k = 0; k < x->nlog; k++)
        if (x->log[k].conn == conn && x->log[k].m.type == RS_MSG_EVENT)
            n++;
    return n;
}

static inline const struct rs_msg *cl_event(const struct cnode *x, uint64_t conn, size_t idx)
{
    for (size_t k = 0; k < x->nlog; k++)
        if (x->log[k].conn == conn && x->log[k].m.type == RS_MSG_EVENT && idx-- == 0)
            return &x->log[k].m;
    test_fail(__FILE__, __LINE__, "event not found on node %s", x->name);
}

static inline int cl_closed(const struct cnode *x, uint64_t conn)
{
    for (size_t k = 0; k < x->nclosed; k++)
        if (x->closed[k] == conn)
            return 1;
    return 0;
}

static inline int cl_bytes_is(struct rs_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0);
}

static inline int cl_pid_eq(struct rs_pid a, struct rs_pid b)
{
    return a.inc == b.inc && a.serial == b.serial;
}

static inline struct rs_core_stats cl_stats(const struct cnode *x)
{
    struct rs_core_stats st;
    rs_core_stats(x->core, &st);
    return st;
}

#endif
