/* fuzz_core_kv.c: fuzz target for strong scopes in the core: what etcd answers (results of
 * every kind, with any status, key-values and watch events whose keys and values come from
 * the input) is fed back to a core with kv_enabled, interleaved with client requests on a
 * strong scope, ticks and disconnects. Values are either raw bytes or records in the
 * layout of docs/STRONG.md with lengths from the input, so both the bounds checks and the
 * paths past them are reached.
 *
 * Checked: no failure of rs_core_apply, every SEND is whole well-formed frames, every
 * RS_OUT_KV carries an operation; leaks are caught by the sanitizers at rs_core_free. */
#include <roster.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/limits.h"
#include "core/core.h"
#include "wire/kv.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXOPS 64
#define MAXKV 8

struct rd {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct rd *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static size_t take(struct rd *r, size_t want, const uint8_t **out)
{
    if (want > r->n)
        want = r->n;
    *out = r->p;
    r->p += want;
    r->n -= want;
    return want;
}

struct fz {
    struct rs_core *core;
    struct rs_outputs out;
    struct rs_limits lim;
    uint64_t ids[MAXOPS];
    etcd_op_type types[MAXOPS];
    size_t nids;
    uint64_t now;
    int open;
    uint8_t scratch[4096]; /* keys and values of one result */
    size_t used;
};

/* FZ_STATS=1 prints how many operations of each type the core asked for (is the input
 * reaching the write paths?) */
static unsigned long op_count[ETCD_OP_COMPACT + 1];

static void print_stats(void)
{
    for (int i = 1; i <= ETCD_OP_COMPACT; i++)
        fprintf(stderr, "op type %d: %lu\n", i, op_count[i]);
}

static void check(struct fz *f)
{
    struct rs_limits dl = f->lim;
    dl.name_max = 0;
    for (size_t i = 0; i < f->out.n; i++) {
        const struct rs_output *o = &f->out.v[i];
        if (o->kind == RS_OUT_SEND) {
            const uint8_t *p = f->out.bytes.data + o->off;
            size_t off = 0;
            while (off < o->len) {
                size_t flen = 0;
                struct rs_msg m;
                if (rs_wire_frame_next(p + off, o->len - off, f->lim.frame_max, &flen) !=
                        RS_WIRE_OK ||
                    rs_wire_decode(p + off, flen, &dl, &m) != RS_WIRE_OK)
                    abort();
                off += flen;
            }
        } else if (o->kind == RS_OUT_KV) {
            if (!o->kv || o->kv_id == 0)
                abort();
            f->ids[f->nids % MAXOPS] = o->kv_id;
            f->types[f->nids % MAXOPS] = o->kv->type;
            if (o->kv->type <= ETCD_OP_COMPACT)
                op_count[o->kv->type]++;
            f->nids++;
        } else if (o->kind == RS_OUT_CLOSE) {
            f->open = 0;
        }
    }
}

static void apply(struct fz *f, struct rs_input *in)
{
    in->now_ms = f->now;
    rs_outputs_reset(&f->out);
    if (rs_core_apply(f->core, in, &f->out) != 0)
        abort();
    check(f);
}

static void request(struct fz *f, struct rd *r)
{
    static const uint8_t types[] = {RS_MSG_REGISTER, RS_MSG_UNREGISTER, RS_MSG_LOOKUP,
                                    RS_MSG_NAMES,    RS_MSG_JOIN,       RS_MSG_LEAVE,
                                    RS_MSG_MEMBERS,  RS_MSG_COUNT,      RS_MSG_GROUPS,
                                    RS_MSG_SUBSCRIBE, RS_MSG_SCOPE_CREATE, RS_MSG_PID_CLOSE,
                                    RS_MSG_IS_MEMBER, RS_MSG_SCOPES,   RS_MSG_PID_NEW};
    if (!f->open) {
        struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = ++f->open + 100, .uid = 1};
        f->open = (int)in.conn;
        apply(f, &in);
        struct rs_msg h = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC,
                           .req_id = 1};
        struct rs_input hi = {.kind = RS_IN_CLIENT_MSG, .conn = (uint64_t)f->open, .msg = &h};
        apply(f, &hi);
    }
    uint8_t t = u8(r), flags = u8(r);
    const uint8_t *name;
    size_t nl = take(r, u8(r) % 6, &name);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = types[t % sizeof types];
    m.req_id = 2 + u8(r);
    m.opts = (flags & 1) ? RS_OPT_STALE : 0;
    if (m.type == RS_MSG_SCOPE_CREATE || m.type == RS_MSG_SUBSCRIBE)
        m.opts = (flags & 2) ? ROSTER_SCOPE_STRONG : m.opts;
    if (m.type == RS_MSG_SUBSCRIBE) {
        m.opts = ROSTER_SUB_SNAPSHOT * (flags & 1);
        m.arg = (flags & 4) ? u8(r) : 0;
    }
    m.scope = rs_bytes_of("s", 1);
    m.key = rs_bytes_of(name, nl);
    m.meta = rs_bytes_of(name, nl / 2);
    m.pid.inc = 0xfeed000000000000ull * (flags >> 7);
    m.pid.serial = 1 + (flags >> 6 & 1);
    if (flags & 8)
        m.pid.inc = 0x5eed;
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = (uint64_t)f->open, .msg = &m};
    apply(f, &in);
}

static const char *const prefixes[] = {"s/73", "n/73/", "m/73/", "w/fz", "node/", "n/7",
                                       "m/73/67/", "s/", "zz", "h/73/", "h/73/0000000000005eed/"};

/* kv fills one etcd_kv from the input: a key from a known prefix plus input bytes; a value
 * of raw bytes or a record */
static void kv(struct fz *f, struct rd *r, etcd_kv *k)
{
    uint8_t sel = u8(r);
    const char *pre = prefixes[sel % (sizeof prefixes / sizeof prefixes[0])];
    size_t pl = strlen(pre);
    const uint8_t *tail;
    size_t tl = take(r, u8(r) % 40, &tail);
    if (f->used + pl + tl + 200 > sizeof f->scratch) {
        memset(k, 0, sizeof *k);
        k->key = "";
        k->value = "";
        return;
    }
    char *key = (char *)f->scratch + f->used;
    memcpy(key, pre, pl);
    memcpy(key + pl, tail, tl);
    f->used += pl + tl;
    uint8_t *v = f->scratch + f->used;
    size_t vl;
    if (sel & 0x80) {
        const uint8_t *raw;
        vl = take(r, u8(r) % 64, &raw);
        memcpy(v, raw, vl);
    } else {
        /* u8 version, u8 kind, u8 node_len, node, u64 inc, u64 serial, u32 uid, u64 token,
         * u32 key_len, key, u32 meta_len, meta: the lengths from the input */
        size_t at = 0;
        v[at++] = 1;
        v[at++] = (uint8_t)(1 + u8(r) % 3);
        uint8_t nl = u8(r) % 4;
        v[at++] = nl;
        for (uint8_t i = 0; i < nl; i++)
            v[at++] = 'a' + i;
        for (int i = 0; i < 28; i++)
            v[at++] = (i == 0 || i == 8) ? u8(r) : 0;
        uint32_t klen = tl + (u8(r) % 3) - 1;
        rs_put_u32(v + at, klen);
        at += 4;
        memcpy(v + at, tail, tl);
        at += tl;
        uint32_t ml = u8(r) % 8;
        rs_put_u32(v + at, ml);
        at += 4;
        for (uint32_t i = 0; i < ml && at < 190; i++)
            v[at++] = 'm';
        vl = at;
    }
    f->used += vl;
    k->key = key;
    k->key_len = pl + tl;
    k->value = (const char *)v;
    k->value_len = vl;
    k->mod_revision = u8(r);
    k->create_revision = u8(r);
    k->lease = (sel & 0x40) ? 0x7000 : u8(r);
}

static void result(struct fz *f, struct rd *r)
{
    if (!f->nids)
        return;
    size_t at = u8(r) % (f->nids < MAXOPS ? f->nids : MAXOPS);
    etcd_kv kvs[MAXKV], kvs2[MAXKV];
    etcd_event ev[MAXKV];
    etcd_op_result ops[2];
    memset(ops, 0, sizeof ops);
    f->used = 0;
    etcd_result res;
    memset(&res, 0, sizeof res);
    res.user = (void *)(uintptr_t)f->ids[at];
    res.type = f->types[at];
    uint8_t st = u8(r);
    res.status = (etcd_status)(st % 9);
    if (st & 0x80)
        res.status = ETCD_OK;
    res.final = (st & 0x40) == 0;
    res.message = "fuzz";
    res.revision = u8(r);
    size_t n = u8(r) % MAXKV, n2 = u8(r) % MAXKV;
    for (size_t i = 0; i < n; i++)
        kv(f, r, &kvs[i]);
    for (size_t i = 0; i < n2; i++)
        kv(f, r, &kvs2[i]);
    res.r.type = ETCD_OP_RANGE;
    res.r.kvs = kvs;
    res.r.n_kvs = n;
    if (res.type == ETCD_OP_TXN) {
        ops[0].type = ETCD_OP_RANGE;
        ops[0].kvs = kvs;
        ops[0].n_kvs = n;
        ops[1].type = ETCD_OP_RANGE;
        ops[1].kvs = kvs2;
        ops[1].n_kvs = n2;
        res.ops = ops;
        res.n_ops = u8(r) % 3;
    }
    res.lease_id = (st & 0x20) ? 0x7000 : u8(r);
    res.ttl = u8(r) % 4;
    for (size_t i = 0; i < n; i++) {
        memset(&ev[i], 0, sizeof ev[i]);
        ev[i].is_delete = kvs[i].mod_revision & 1;
        ev[i].kv = kvs[i];
        ev[i].kv.mod_revision = res.revision + (int64_t)i / 2;
        if (i < n2) {
            ev[i].has_prev = true;
            ev[i].prev = kvs2[i];
        }
    }
    res.events = ev;
    res.n_events = res.type == ETCD_OP_WATCH ? n : 0;
    struct rs_input in = {.kind = RS_IN_KV, .kv = &res};
    apply(f, &in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once++ && getenv("FZ_STATS"))
        atexit(print_stats);
    struct fz f;
    memset(&f, 0, sizeof f);
    rs_limits_default(&f.lim);
    f.now = 1000;
    struct rs_core_config cfg = {.node_name = "fz", .incarnation = 0x5eed, .hash_seed = 7,
                                 .now_ms = f.now, .limits = f.lim, .kv_enabled = 1,
                                 .kv_lease_ttl_ms = 2000, .kv_timeout_ms = 500};
    f.core = rs_core_new(&cfg);
    if (!f.core)
        abort();
    rs_outputs_init(&f.out);
    struct rs_input tick = {.kind = RS_IN_TICK};
    apply(&f, &tick);
    /* a ready node first (lease granted, strong scope "s" loaded), unless the input's first
     * byte says to start cold */
    if (size && !(data[0] & 1)) {
        etcd_result g = {.user = (void *)(uintptr_t)f.ids[0], .type = ETCD_OP_LEASE_GRANT,
                         .final = true, .message = "", .revision = 1, .lease_id = 0x7000,
                         .ttl = 2};
        struct rs_input in = {.kind = RS_IN_KV, .kv = &g};
        apply(&f, &in);
        static const uint8_t scope_rec[] = {1, 1, 2, 'f', 'z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, 1, 0, 0, 0, 's', 0, 0, 0, 0};
        etcd_kv sk = {.key = "s/73", .key_len = 4, .value = (const char *)scope_rec,
                      .value_len = sizeof scope_rec, .create_revision = 2, .mod_revision = 2};
        etcd_result l = {.user = (void *)(uintptr_t)f.ids[1], .type = ETCD_OP_RANGE,
                         .final = true, .message = "", .revision = 2,
                         .r = {.type = ETCD_OP_RANGE, .kvs = &sk, .n_kvs = 1, .count = 1}};
        in.kv = &l;
        apply(&f, &in);
    }
    struct rd r = {data, size};
    while (r.n) {
        switch (u8(&r) % 5) {
        case 0:
            request(&f, &r);
            break;
        case 1:
        case 2:
            result(&f, &r);
            break;
        case 3: {
            f.now += u8(&r) * 10;
            struct rs_input t = {.kind = RS_IN_TICK};
            apply(&f, &t);
            break;
        }
        case 4:
            if (f.open) {
                struct rs_input g = {.kind = RS_IN_CLIENT_GONE, .conn = (uint64_t)f.open};
                f.open = 0;
                apply(&f, &g);
            }
            break;
        }
    }
    rs_core_free(f.core);
    rs_outputs_fini(&f.out);
    return 0;
}
