/* core_harness.h: a small driver for core unit tests. It owns one core, sends requests as
 * the shell would (encode, then decode with unbounded name/meta limits), applies them, and
 * decodes every SEND output into a list of frames (h->f) kept until the next apply, plus the
 * CLOSE outputs (h->closes) and the other outputs' counts. Header-only, test code only. */
#ifndef ROSTER_TESTS_CORE_HARNESS_H
#define ROSTER_TESTS_CORE_HARNESS_H

#include <roster.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "core/core.h"
#include "test.h"
#include "wire/wire.h"

#define H_INC 0x00ab00cd00ef0012ull
#define H_MAX_CLOSES 64

struct hframe {
    uint64_t conn;
    struct rs_msg m;
};

struct hclose {
    uint64_t conn;
    char reason[256];
};

struct harness {
    struct rs_core *core;
    struct rs_outputs out;
    struct rs_limits lim;
    uint8_t *bytes; /* copy of the last apply's arena: frames point into it */
    struct hframe *f;
    size_t nf;
    struct hclose closes[H_MAX_CLOSES];
    size_t ncloses;
    size_t nsends;
    size_t nlogs;
    int log_level; /* last RS_OUT_LOG_LEVEL, or -1 */
    int rc;        /* last rs_core_apply result */
    uint64_t now;
    uint32_t req_id;
    uint32_t last_req_id;
};

static inline void h_init(struct harness *h, const struct rs_limits *lim)
{
    memset(h, 0, sizeof *h);
    if (lim)
        h->lim = *lim;
    else
        rs_limits_default(&h->lim);
    struct rs_core_config cfg = {.node_name = "node-a", .incarnation = H_INC,
                                 .hash_seed = 0x1234567887654321ull, .now_ms = 1000,
                                 .limits = h->lim};
    h->core = rs_core_new(&cfg);
    ASSERT(h->core != NULL);
    rs_outputs_init(&h->out);
    h->now = 1000;
    h->log_level = -1;
}

static inline void h_fini(struct harness *h)
{
    rs_core_free(h->core);
    rs_outputs_fini(&h->out);
    free(h->bytes);
    free(h->f);
    memset(h, 0, sizeof *h);
}

static inline int h_apply(struct harness *h, struct rs_input *in)
{
    in->now_ms = h->now;
    rs_outputs_reset(&h->out);
    h->rc = rs_core_apply(h->core, in, &h->out);
    free(h->bytes);
    free(h->f);
    h->bytes = malloc(h->out.bytes.len + 1);
    ASSERT(h->bytes != NULL);
    if (h->out.bytes.len)
        memcpy(h->bytes, h->out.bytes.data, h->out.bytes.len);
    h->f = NULL;
    h->nf = 0;
    h->ncloses = 0;
    h->nsends = 0;
    h->nlogs = 0;
    size_t cap = 0;
    struct rs_limits dl = h->lim;
    dl.name_max = 0; /* decode whatever the node sends */
    uint64_t last_conn = 0;
    int last_send = 0;
    for (size_t i = 0; i < h->out.n; i++) {
        const struct rs_output *o = &h->out.v[i];
        if (o->kind == RS_OUT_SEND) {
            /* Consecutive SENDs to one connection must have been merged. */
            ASSERT(!(last_send && last_conn == o->conn));
            h->nsends++;
            size_t off = 0;
            while (off < o->len) {
                size_t flen = 0;
                ASSERT_EQ(rs_wire_frame_next(h->bytes + o->off + off, o->len - off,
                                             h->lim.frame_max, &flen),
                          RS_WIRE_OK);
                if (h->nf == cap) {
                    cap = cap ? 2 * cap : 64;
                    h->f = realloc(h->f, cap * sizeof *h->f);
                    ASSERT(h->f != NULL);
                }
                struct hframe *fr = &h->f[h->nf++];
                fr->conn = o->conn;
                ASSERT_EQ(rs_wire_decode(h->bytes + o->off + off, flen, &dl, &fr->m),
                          RS_WIRE_OK);
                off += flen;
            }
        } else if (o->kind == RS_OUT_CLOSE) {
            ASSERT(h->ncloses < H_MAX_CLOSES);
            struct hclose *c = &h->closes[h->ncloses++];
            c->conn = o->conn;
            size_t n = o->len < sizeof c->reason - 1 ? o->len : sizeof c->reason - 1;
            memcpy(c->reason, h->bytes + o->off, n);
            c->reason[n] = 0;
            ASSERT(n > 0);
        } else if (o->kind == RS_OUT_LOG) {
            h->nlogs++;
        } else if (o->kind == RS_OUT_LOG_LEVEL) {
            h->log_level = o->level;
        }
        last_send = o->kind == RS_OUT_SEND;
        last_conn = o->conn;
    }
    return h->rc;
}

static inline void h_open_cred(struct harness *h, uint64_t conn, int32_t os_pid)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = conn, .os_pid = os_pid, .uid = 0};
    ASSERT_EQ(h_apply(h, &in), 0);
}

static inline void h_open(struct harness *h, uint64_t conn) { h_open_cred(h, conn, 4242); }

static inline void h_gone(struct harness *h, uint64_t conn)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_GONE, .conn = conn};
    ASSERT_EQ(h_apply(h, &in), 0);
}

static inline void h_flushed(struct harness *h, uint64_t conn, uint64_t n)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_FLUSHED, .conn = conn, .n_bytes = n};
    ASSERT_EQ(h_apply(h, &in), 0);
}

/* h_send sends m as a request from conn (req_id assigned unless m->req_id is set). */
static inline void h_send(struct harness *h, uint64_t conn, struct rs_msg *m)
{
    if (!m->req_id)
        m->req_id = ++h->req_id;
    h->last_req_id = m->req_id;
    struct rs_buf b;
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, m), 0);
    struct rs_limits dl = h->lim;
    dl.name_max = 0;
    struct rs_msg d;
    ASSERT_EQ(rs_wire_decode(b.data, b.len, &dl, &d), RS_WIRE_OK);
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = conn, .msg = &d};
    h_apply(h, &in);
    rs_buf_fini(&b);
    ASSERT_EQ(h->rc, 0);
}

/* h_reply returns the one reply frame of the last apply (for the last request). */
static inline const struct rs_msg *h_reply(struct harness *h)
{
    const struct rs_msg *r = NULL;
    for (size_t i = 0; i < h->nf; i++) {
        if (h->f[i].m.flags == RS_F_REPLY) {
            ASSERT(r == NULL);
            r = &h->f[i].m;
        }
    }
    ASSERT(r != NULL);
    ASSERT_EQ(r->req_id, h->last_req_id);
    return r;
}

static inline int h_has_reply(const struct harness *h)
{
    for (size_t i = 0; i < h->nf; i++)
        if (h->f[i].m.flags == RS_F_REPLY)
            return 1;
    return 0;
}

/* h_status sends m and returns the reply's STATUS; an error reply must carry a detail. */
static inline int h_status(struct harness *h, uint64_t conn, struct rs_msg *m)
{
    h_send(h, conn, m);
    const struct rs_msg *r = h_reply(h);
    ASSERT_EQ(r->type, m->type);
    if (r->status != 0)
        ASSERT(r->prev.len > 0);
    return r->status;
}

/* h_hello opens conn and shakes hands; returns the client's first pid. */
static inline struct rs_pid h_hello(struct harness *h, uint64_t conn)
{
    h_open(h, conn);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC,
                       .key = rs_bytes_str("test")};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    return h_reply(h)->pid;
}

static inline int h_closed(const struct harness *h, uint64_t conn)
{
    for (size_t i = 0; i < h->ncloses; i++)
        if (h->closes[i].conn == conn)
            return 1;
    return 0;
}

/* Frames of the last apply for conn with the given type and flags. */
static inline size_t h_nframes(const struct harness *h, uint64_t conn, uint8_t type,
                               uint8_t flags)
{
    size_t n = 0;
    for (size_t i = 0; i < h->nf; i++)
        if (h->f[i].conn == conn && h->f[i].m.type == type && h->f[i].m.flags == flags)
            n++;
    return n;
}

static inline const struct rs_msg *h_nth(const struct harness *h, uint64_t conn, uint8_t type,
                                         uint8_t flags, size_t k)
{
    for (size_t i = 0; i < h->nf; i++)
        if (h->f[i].conn == conn && h->f[i].m.type == type && h->f[i].m.flags == flags &&
            k-- == 0)
            return &h->f[i].m;
    test_fail(__FILE__, __LINE__, "frame %zu of type %u not found", k, (unsigned)type);
}

static inline size_t h_nevents(const struct harness *h, uint64_t conn)
{
    return h_nframes(h, conn, RS_MSG_EVENT, 0);
}
static inline const struct rs_msg *h_event(const struct harness *h, uint64_t conn, size_t k)
{
    return h_nth(h, conn, RS_MSG_EVENT, 0, k);
}
static inline const struct rs_msg *h_item(const struct harness *h, uint64_t conn, uint8_t type,
                                          size_t k)
{
    return h_nth(h, conn, type, RS_F_ITEM, k);
}

static inline int h_bytes_is(struct rs_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0);
}

/* Request shortcuts (scope NULL = default, given as an empty SCOPE field). */
static inline struct rs_bytes h_str(const char *s) { return rs_bytes_str(s ? s : ""); }

static inline int h_register(struct harness *h, uint64_t conn, struct rs_pid pid,
                             const char *scope, const char *name, const char *meta)
{
    struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = pid, .scope = h_str(scope),
                       .key = h_str(name), .meta = h_str(meta)};
    return h_status(h, conn, &m);
}

static inline int h_unregister(struct harness *h, uint64_t conn, const char *scope,
                               const char *name)
{
    struct rs_msg m = {.type = RS_MSG_UNREGISTER, .scope = h_str(scope), .key = h_str(name)};
    return h_status(h, conn, &m);
}

static inline int h_lookup(struct harness *h, uint64_t conn, const char *scope, const char *name)
{
    struct rs_msg m = {.type = RS_MSG_LOOKUP, .scope = h_str(scope), .key = h_str(name)};
    return h_status(h, conn, &m);
}

static inline int h_join(struct harness *h, uint64_t conn, struct rs_pid pid, const char *scope,
                         const char *group, const char *meta)
{
    struct rs_msg m = {.type = RS_MSG_JOIN, .pid = pid, .scope = h_str(scope),
                       .key = h_str(group), .meta = h_str(meta)};
    return h_status(h, conn, &m);
}

static inline int h_leave(struct harness *h, uint64_t conn, struct rs_pid pid, const char *scope,
                          const char *group)
{
    struct rs_msg m = {.type = RS_MSG_LEAVE, .pid = pid, .scope = h_str(scope),
                       .key = h_str(group)};
    return h_status(h, conn, &m);
}

static inline struct rs_pid h_pid_new(struct harness *h, uint64_t conn)
{
    struct rs_msg m = {.type = RS_MSG_PID_NEW};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    return h_reply(h)->pid;
}

static inline int h_pid_close(struct harness *h, uint64_t conn, struct rs_pid pid)
{
    struct rs_msg m = {.type = RS_MSG_PID_CLOSE, .pid = pid};
    return h_status(h, conn, &m);
}

static inline uint64_t h_subscribe(struct harness *h, uint64_t conn, const char *scope,
                                   const char *pattern, uint32_t flags)
{
    struct rs_msg m = {.type = RS_MSG_SUBSCRIBE, .opts = flags, .scope = h_str(scope),
                       .key = h_str(pattern)};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    return h_reply(h)->arg;
}

static inline uint64_t h_monitor(struct harness *h, uint64_t conn, struct rs_pid pid)
{
    struct rs_msg m = {.type = RS_MSG_MONITOR, .pid = pid};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    return h_reply(h)->arg;
}

static inline struct rs_core_stats h_stats(const struct harness *h)
{
    struct rs_core_stats st;
    rs_core_stats(h->core, &st);
    return st;
}

static inline int h_pid_eq(struct rs_pid a, struct rs_pid b)
{
    return a.inc == b.inc && a.serial == b.serial;
}

static inline uint32_t h_ev_kind(const struct rs_msg *e) { return e->opts & 0xffu; }
static inline uint32_t h_ev_reason(const struct rs_msg *e) { return (e->opts >> 8) & 0xffu; }
static inline int h_ev_snapshot(const struct rs_msg *e)
{
    return (e->opts & RS_EV_SNAPSHOT_FLAG) != 0;
}

#endif
