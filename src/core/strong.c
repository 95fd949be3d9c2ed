/* strong.c: the engine room of strong scopes (docs/STRONG.md): pending etcd operations by
 * id, the local copy's load and watch, replies parked until the copy catches up, and the
 * dispatch of every etcd result (RS_IN_KV) to its handler. The operations given to the
 * shell live in a per-apply arena, freed at the next apply. The lease is kvlease.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "core/kvstate.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/scopes.h"
#include "core/strong.h"
#include "core/util.h"

/* Retry delay of a failed load. */
#define RETRY_MS 500

static int client_eq(const void *item, const void *key)
{
    return ((const struct rs_client *)item)->conn == *(const uint64_t *)key;
}

static int op_eq(const void *item, const void *key)
{
    return ((const struct rs_kvop *)item)->id == *(const uint64_t *)key;
}

static uint64_t op_hash(const struct rs_core *c, uint64_t id)
{
    return rs_hash_u64(c->seed ^ 0x6b76u, id);
}

int rs_strong_init(struct rs_core *c, const struct rs_core_config *cfg)
{
    if (!cfg->kv_enabled)
        return 0;
    struct rs_kv *k = rs_calloc(1, sizeof *k);
    if (!k)
        return -1;
    k->ttl_ms = cfg->kv_lease_ttl_ms ? cfg->kv_lease_ttl_ms : RS_KV_LEASE_TTL_MS_DEFAULT;
    if (k->ttl_ms < 1000)
        k->ttl_ms = 1000;
    k->timeout_ms = cfg->kv_timeout_ms ? cfg->kv_timeout_ms : RS_KV_TIMEOUT_MS_DEFAULT;
    /* The fence comes a sixth of the TTL (at least RS_KV_FENCE_MARGIN_MIN_MS) before the
     * earliest moment etcd may expire the lease by this node's clock. */
    k->margin_ms = k->ttl_ms / 6;
    if (k->margin_ms < RS_KV_FENCE_MARGIN_MIN_MS)
        k->margin_ms = RS_KV_FENCE_MARGIN_MIN_MS;
    k->next_id = 1;
    rs_map_init(&k->ops);
    k->queue_tail = &k->queue;
    rs_map_init(&k->owned);
    rs_buf_init(&k->scratch);
    c->kv = k;
    return 0;
}

static void arena_clear(struct rs_kv *k)
{
    for (size_t i = 0; i < k->arena_n; i++)
        rs_free(k->arena[i]);
    k->arena_n = 0;
}

void rs_strong_free(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    for (size_t i = 0; i < c->scopes.cap; i++) {
        struct rs_scope *s = c->scopes.slots[i].item;
        if (s && s->kv) {
            rs_kvcopy_free(s->kv);
            s->kv = NULL;
        }
    }
    if (!k)
        return;
    for (size_t i = 0; i < k->ops.cap; i++) {
        struct rs_kvop *o = k->ops.slots[i].item;
        if (o) {
            rs_free(o->batch);
            rs_free((void *)o->key.ptr);
            rs_free((void *)o->meta.ptr);
            rs_free((void *)o->prev.ptr);
            rs_free(o);
        }
    }
    rs_map_fini(&k->ops);
    for (size_t i = 0; i < k->owned.cap; i++)
        rs_free(k->owned.slots[i].item);
    rs_map_fini(&k->owned);
    rs_kvunseen_free(c);
    arena_clear(k);
    rs_free(k->arena);
    rs_buf_fini(&k->scratch);
    rs_free(k);
    c->kv = NULL;
}

void *rs_kv_arena(struct rs_core *c, size_t n)
{
    struct rs_kv *k = c->kv;
    if (k->arena_n == k->arena_cap) {
        size_t cap = k->arena_cap ? 2 * k->arena_cap : 32;
        void **v = rs_realloc(k->arena, cap * sizeof *v);
        if (!v) {
            c->oom = 1;
            return NULL;
        }
        k->arena = v;
        k->arena_cap = cap;
    }
    void *p = rs_calloc(1, n ? n : 1);
    if (!p) {
        c->oom = 1;
        return NULL;
    }
    k->arena[k->arena_n++] = p;
    return p;
}

void *rs_kv_arena_dup(struct rs_core *c, const void *p, size_t n)
{
    void *d = rs_kv_arena(c, n + 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

etcd_op *rs_kv_ops(struct rs_core *c, size_t n)
{
    return rs_kv_arena(c, n * sizeof(etcd_op));
}

etcd_compare *rs_kv_cmps(struct rs_core *c, size_t n)
{
    return rs_kv_arena(c, n * sizeof(etcd_compare));
}

void rs_kv_set_key(struct rs_core *c, etcd_op *op, const struct rs_buf *key)
{
    op->key = rs_kv_arena_dup(c, key->data, key->len);
    op->key_len = key->len;
}

int rs_kv_rec_value(struct rs_core *c, etcd_op *op, const struct rs_kvrec *r)
{
    struct rs_buf v;
    rs_buf_init(&v);
    if (rs_kvrec_encode(&v, r) != 0) {
        rs_buf_fini(&v);
        c->oom = 1;
        return -1;
    }
    op->value = rs_kv_arena_dup(c, v.data, v.len);
    op->value_len = v.len;
    rs_buf_fini(&v);
    return op->value ? 0 : -1;
}

/* A put of w/<node> with the reason of the removals in the same transaction. */
int rs_kv_why_put(struct rs_core *c, etcd_op *op, uint32_t reason)
{
    struct rs_buf *b = &c->kv->scratch;
    rs_buf_reset(b);
    if (rs_kvk_why(b, rs_bytes_node(c)) != 0) {
        c->oom = 1;
        return -1;
    }
    uint8_t v[2] = {RS_KVREC_VERSION, (uint8_t)reason};
    op->type = ETCD_OP_PUT;
    rs_kv_set_key(c, op, b);
    op->value = rs_kv_arena_dup(c, v, 2);
    op->value_len = 2;
    op->lease = c->kv->lease;
    return op->key && op->value ? 0 : -1;
}

struct rs_kvop *rs_kv_op_new(struct rs_core *c, int kind, struct rs_client *cl,
                             const struct rs_msg *req)
{
    if (cl && cl->n_kv >= RS_KV_PENDING_PER_CLIENT) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "client has %u strong-scope requests waiting on etcd (the maximum)",
                     cl->n_kv);
        return NULL;
    }
    struct rs_kvop *o = rs_core_alloc(c, sizeof *o);
    if (!o)
        return NULL;
    memset(o, 0, sizeof *o);
    o->id = c->kv->next_id++;
    o->kind = kind;
    if (cl) {
        cl->n_kv++;
        if (kind == KV_REGISTER || kind == KV_JOIN || kind == KV_CAMPAIGN) {
            cl->n_kv_creates++;
            o->create_counted = 1;
        }
        o->conn = cl->conn;
        o->req_id = req->req_id;
        o->type = req->type;
        o->pid = req->pid;
        if (req->scope.len && req->scope.len <= RS_SCOPE_MAX) {
            memcpy(o->scope, req->scope.ptr, req->scope.len);
            o->scope_len = req->scope.len;
        }
    }
    if (rs_map_put(&c->kv->ops, op_hash(c, o->id), o) != 0) {
        rs_free(o);
        c->oom = 1;
        return NULL;
    }
    return o;
}

struct rs_kvop *rs_kv_op_find(struct rs_core *c, uint64_t id)
{
    return rs_map_get(&c->kv->ops, op_hash(c, id), &id, op_eq);
}

static void unwait(struct rs_kv *k, struct rs_kvop *o)
{
    if (o->wait_rev)
        RS_LIST_DEL(k->waiters, o, wprev, wnext);
    o->wait_rev = 0;
}

void rs_kv_op_free(struct rs_core *c, struct rs_kvop *o)
{
    if (o->conn) {
        struct rs_client *cl =
            rs_map_get(&c->clients, rs_hash_u64(c->seed, o->conn), &o->conn, client_eq);
        if (cl && cl->n_kv)
            cl->n_kv--;
        if (cl && o->create_counted && cl->n_kv_creates)
            cl->n_kv_creates--;
    }
    unwait(c->kv, o);
    rs_free(o->batch);
    rs_map_del_item(&c->kv->ops, op_hash(c, o->id), o);
    rs_free((void *)o->key.ptr);
    rs_free((void *)o->meta.ptr);
    rs_free((void *)o->prev.ptr);
    rs_free(o);
}

int rs_kv_op_copy(struct rs_core *c, struct rs_bytes *dst, struct rs_bytes src)
{
    rs_free((void *)dst->ptr);
    *dst = rs_bytes_of(NULL, 0);
    if (!src.len)
        return 0;
    uint8_t *p = rs_core_alloc(c, src.len);
    if (!p)
        return -1;
    memcpy(p, src.ptr, src.len);
    *dst = rs_bytes_of(p, src.len);
    return 0;
}

void rs_kv_submit(struct rs_core *c, struct rs_kvop *o, const etcd_op *op)
{
    rs_out_kv(c, o->id, op);
}

void rs_kv_resubmit(struct rs_core *c, struct rs_kvop *o, const etcd_op *op)
{
    struct rs_kv *k = c->kv;
    rs_map_del_item(&k->ops, op_hash(c, o->id), o);
    o->id = k->next_id++;
    if (rs_map_put(&k->ops, op_hash(c, o->id), o) != 0) {
        c->oom = 1;
        return;
    }
    o->phase++;
    rs_out_kv(c, o->id, op);
}

struct rs_client *rs_kv_client(struct rs_core *c, const struct rs_kvop *o)
{
    if (!o->conn)
        return NULL;
    /* the client table is keyed by conn, with core.c's hash */
    struct rs_client *cl =
        rs_map_get(&c->clients, rs_hash_u64(c->seed, o->conn), &o->conn, client_eq);
    return cl && !cl->closing ? cl : NULL;
}

struct rs_msg rs_kv_req(const struct rs_kvop *o)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = o->type;
    m.req_id = o->req_id;
    return m;
}

struct rs_scope *rs_kv_scope(struct rs_core *c, const struct rs_kvop *o)
{
    return rs_scopes_find(c, rs_bytes_of(o->scope, o->scope_len));
}

void rs_kv_refuse(struct rs_core *c, struct rs_kvop *o, int status, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    o->done = 1;
    struct rs_client *cl = rs_kv_client(c, o);
    if (!cl)
        return;
    struct rs_msg q = rs_kv_req(o);
    rs_out_error(c, cl, &q, status, "%s", text);
}

void rs_kv_fail(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    if (!o->done && o->writing && (r->status == ETCD_UNKNOWN || r->status == ETCD_PROTOCOL) &&
        rs_kvhand_makes_holder(c, o))
        rs_kvunseen_note(c, o, 0); /* its pid may hold under the lease: a fence tells it */
    struct rs_client *cl = rs_kv_client(c, o);
    int was_done = o->done;
    o->done = 1;
    if (!cl || was_done)
        return;
    struct rs_msg q = rs_kv_req(o);
    int status;
    const char *what;
    switch (r->status) {
    case ETCD_UNKNOWN:
    case ETCD_PROTOCOL:
        status = o->writing ? ROSTER_EUNKNOWN : ROSTER_EUNAVAIL;
        what = o->writing ? "outcome unknown" : "no answer to a read";
        break;
    case ETCD_COMPACTED:
        status = ROSTER_ECOMPACTED;
        what = "compacted";
        break;
    default:
        status = ROSTER_EUNAVAIL;
        what = "not applied";
        break;
    }
    rs_out_error(c, cl, &q, status, "etcd: %s (%s): %.200s", what, rs_kv_status_name(r->status),
                 r->message ? r->message : "");
}

const char *rs_kv_status_name(int s)
{
    static const char *const names[] = {"OK", "FAILED", "UNAVAILABLE", "UNKNOWN", "REJECTED",
                                        "PROTOCOL", "COMPACTED", "CANCELED", "LEASE_EXPIRED"};
    return s >= 0 && (size_t)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int rs_kv_ready(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_kv *k = c->kv;
    if (!k) {
        rs_out_error(c, cl, req, ROSTER_EUNAVAIL,
                     "strong scopes need an etcd cluster: start rosterd with --etcd URL[,URL...]");
        return 0;
    }
    if (!k->loaded || !k->lease) {
        rs_out_error(c, cl, req, ROSTER_EUNAVAIL,
                     "strong scopes are starting: %s",
                     !k->loaded ? "the node has not read etcd yet"
                                : "the node holds no etcd lease (etcd unreachable?)");
        return 0;
    }
    return 1;
}

int rs_strong_starting(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (!c->kv || c->kv->loaded)
        return 0;
    rs_out_error(c, cl, req, ROSTER_EUNAVAIL,
                 "strong scopes are starting: the node has not read etcd yet (scope '%.*s' "
                 "may be a strong scope)",
                 (int)(req->scope.len > RS_SCOPE_MAX ? RS_SCOPE_MAX : req->scope.len),
                 (const char *)req->scope.ptr);
    return 1;
}

/* --- waiting for the local copy ------------------------------------------------------- */

void rs_kv_wait(struct rs_core *c, struct rs_kvop *o, int64_t rev)
{
    struct rs_kv *k = c->kv;
    /* A second answer for an op already waiting (a confused or hostile etcd stream) must
     * not link it into the list twice: the cycle made release() free it twice (fuzz_core_kv). */
    unwait(k, o);
    if (rev <= k->rev) {
        rs_kvwrite_finish(c, o);
        return;
    }
    o->wait_rev = rev;
    o->deadline = c->now_ms + k->timeout_ms;
    RS_LIST_PUSH(k->waiters, o, wprev, wnext);
}

/* release replies to the waiters the copy has caught up with (or whose wait timed out: the
 * write is committed, only the local echo is late). */
static void release(struct rs_core *c, int timed)
{
    struct rs_kv *k = c->kv;
    struct rs_kvop *next;
    for (struct rs_kvop *o = k->waiters; o; o = next) {
        next = o->wnext;
        if (o->wait_rev <= k->rev || (timed && c->now_ms >= o->deadline)) {
            if (o->wait_rev > k->rev && rs_kvhand_makes_holder(c, o))
                rs_kvunseen_note(c, o, o->wait_rev); /* answered before the copy shows it */
            unwait(k, o);
            rs_kvwrite_finish(c, o);
        }
    }
}

/* --- the lease ------------------------------------------------------------------------ */

static struct rs_kvop *node_op(struct rs_core *c, int kind)
{
    return rs_kv_op_new(c, kind, NULL, NULL);
}


static void load(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    struct rs_kvop *o = node_op(c, KV_LOAD);
    etcd_op *op = rs_kv_ops(c, 1);
    if (!o || !op)
        return;
    op->type = ETCD_OP_RANGE;
    op->key = rs_kv_arena(c, 1);
    op->key_len = 0;
    op->prefix = true;
    op->timeout_ms = (int)k->timeout_ms;
    k->load_id = o->id;
    rs_kv_submit(c, o, op);
}

static void watch(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    struct rs_kvop *o = node_op(c, KV_WATCH);
    etcd_op *op = rs_kv_ops(c, 1);
    if (!o || !op)
        return;
    op->type = ETCD_OP_WATCH;
    op->key = rs_kv_arena(c, 1);
    op->key_len = 0;
    op->prefix = true;
    op->revision = k->rev + 1;
    k->watch_id = o->id;
    rs_kv_submit(c, o, op);
}

void rs_strong_begin(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    if (!k)
        return;
    arena_clear(k);
    if (!k->started) {
        k->started = 1;
        rs_kvlease_grant(c);
        load(c);
    }
    rs_kvlease_check(c);
}

void rs_strong_tick(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    if (!k)
        return;
    rs_kvlease_tick(c);
    if (!k->loaded && !k->load_id && c->now_ms >= k->reload_at)
        load(c);
    if (k->loaded && !k->watch_id && !k->load_id && c->now_ms >= k->reload_at)
        load(c);
    if (c->now_ms >= k->poke_at) {
        k->poke_at = c->now_ms + 1000; /* waiting campaigns look again, in case a wake-up
                                         was missed */
        rs_kvelect_poke(c);
    }
    release(c, 1);
    rs_kvhand_tick(c);
    rs_kvbatch_tick(c);
}

/* --- results -------------------------------------------------------------------------- */

/* apply_kvs applies a load's key-values: scopes first (their keys sort last). */
static void apply_load(struct rs_core *c, const etcd_result *r)
{
    struct rs_kv *k = c->kv;
    const etcd_kv *v = r->r.kvs;
    size_t n = r->r.n_kvs;
    /* entries the load no longer has went while we were not watching */
    for (size_t i = 0; i < n; i++)
        if (rs_kvk_kind((const uint8_t *)v[i].key, v[i].key_len) == RS_KVK_SCOPE)
            rs_kvcopy_put(c, &v[i], r->revision, 0);
    for (size_t i = 0; i < c->scopes.cap; i++) {
        struct rs_scope *s = c->scopes.slots[i].item;
        if (!s || !s->kv)
            continue;
        for (size_t j = 0; j < s->kv->ents.cap; j++) {
            struct rs_kent *e = s->kv->ents.slots[j].item;
            if (e)
                e->lease = -1; /* unseen mark */
        }
    }
    for (size_t i = 0; i < n; i++) {
        enum rs_kvk_kind kind = rs_kvk_kind((const uint8_t *)v[i].key, v[i].key_len);
        if (kind == RS_KVK_HAND)
            rs_kvhand_event(c, &v[i], 0);
        else if (kind != RS_KVK_SCOPE)
            rs_kvcopy_put(c, &v[i], r->revision, 0);
    }
    for (size_t i = 0; i < c->scopes.cap; i++) {
        struct rs_scope *s = c->scopes.slots[i].item;
        if (!s || !s->kv)
            continue;
        struct rs_kent **e;
        size_t m = rs_kvcopy_all(c, s, &e);
        for (size_t j = 0; j < m; j++)
            if (e[j]->lease == -1) {
                /* gone while we were not watching; a live local holder must hear of it */
                int ours = e[j]->rec.pid.inc == c->inc;
                rs_kvcopy_remove(c, s, e[j],
                                 ours ? ROSTER_REASON_LEASE_LOST : ROSTER_REASON_NODE_DOWN,
                                 r->revision, ours);
            }
        rs_free(e);
    }
    if (r->revision > k->rev)
        k->rev = r->revision;
    rs_kvunseen_caught_up(c);
    rs_kvhand_reloaded(c);
}

static void on_load(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    struct rs_kv *k = c->kv;
    (void)o;
    k->load_id = 0;
    if (r->status != ETCD_OK) {
        k->reload_at = c->now_ms + RETRY_MS;
        rs_out_log(c, RS_LOG_DEBUG, "strong scopes: reading etcd failed (%s): retrying",
                   rs_kv_status_name(r->status));
        return;
    }
    apply_load(c, r);
    if (!k->loaded)
        rs_out_log(c, RS_LOG_INFO, "strong scopes: local copy loaded at etcd revision %lld",
                   (long long)k->rev);
    k->loaded = 1;
    watch(c);
    release(c, 0);
}

/* why_of gives the reason of the changes at revision rev: a w/ put in the same revision
 * (the same transaction), or 0 (a removal without one is a lease's expiry: node_down). */
uint32_t rs_kv_why_of(const etcd_result *r, size_t from, int64_t rev)
{
    for (size_t i = from; i < r->n_events && r->events[i].kv.mod_revision == rev; i++) {
        const etcd_event *e = &r->events[i];
        uint32_t reason;
        if (!e->is_delete &&
            rs_kvk_kind((const uint8_t *)e->kv.key, e->kv.key_len) == RS_KVK_WHY &&
            rs_kvwhy_decode((const uint8_t *)e->kv.value, e->kv.value_len, &reason) == 0)
            return reason;
    }
    return 0;
}

static void on_watch(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    struct rs_kv *k = c->kv;
    if (k->watch_id != o->id)
        return;
    if (r->status != ETCD_OK) {
        if (r->final) {
            /* the watch ended (compacted, or etcd lost for good): read everything again */
            rs_out_log(c, RS_LOG_WARN, "strong scopes: etcd watch ended (%s): reloading",
                       rs_kv_status_name(r->status));
            k->watch_id = 0;
            k->reload_at = c->now_ms + (r->status == ETCD_COMPACTED ? 0 : RETRY_MS);
        }
        return;
    }
    size_t i = 0;
    while (i < r->n_events) {
        int64_t rev = r->events[i].kv.mod_revision;
        uint32_t why = rs_kv_why_of(r, i, rev);
        for (; i < r->n_events && r->events[i].kv.mod_revision == rev; i++) {
            const etcd_event *e = &r->events[i];
            if (rs_kvk_kind((const uint8_t *)e->kv.key, e->kv.key_len) == RS_KVK_HAND)
                rs_kvhand_event(c, &e->kv, e->is_delete);
            else if (e->is_delete)
                rs_kvcopy_del(c, &e->kv, why ? why : ROSTER_REASON_NODE_DOWN, rev);
            else
                rs_kvcopy_put(c, &e->kv, rev, why);
        }
        if (rev > k->rev)
            k->rev = rev;
        release(c, 0);
    }
    if (r->n_events)
        rs_kvunseen_caught_up(c);
    if (r->n_events)
        rs_kvelect_poke(c);
    if (r->final) {
        k->watch_id = 0;
        k->reload_at = c->now_ms + RETRY_MS;
    }
}

void rs_strong_on_kv(struct rs_core *c, const etcd_result *r)
{
    struct rs_kv *k = c->kv;
    if (!k || !r)
        return;
    uint64_t id = (uint64_t)(uintptr_t)r->user;
    struct rs_kvop *o = rs_kv_op_find(c, id);
    if (!o)
        return;
    switch (o->kind) {
    case KV_GRANT:
    case KV_KEEPALIVE:
        rs_kvlease_on_result(c, o, r);
        break;
    case KV_LOAD:
        on_load(c, o, r);
        break;
    case KV_WATCH:
        on_watch(c, o, r);
        break;
    case KV_REVOKE:
    case KV_NODEKEY:
    case KV_CLEANUP:
        if (r->status != ETCD_OK)
            rs_out_log(c, RS_LOG_DEBUG, "strong scopes: etcd %s failed (%s)",
                       o->kind == KV_REVOKE ? "lease revoke" : "node key put",
                       rs_kv_status_name(r->status));
        break;
    case KV_LOOKUP:
    case KV_NAMES:
    case KV_COUNT:
    case KV_MEMBERS:
    case KV_IS_MEMBER:
    case KV_GROUPS:
    case KV_CHECK:
    case KV_SUBWATCH:
        rs_kvread_on_result(c, o, r);
        break;
    default:
        rs_kvwrite_on_result(c, o, r);
        break;
    }
    /* a handler may have freed o or parked it (waiting); a stream lives until final */
    o = rs_kv_op_find(c, id);
    if (o && r->final && !o->wait_rev && (o->done || o->kind <= KV_WATCH || !o->conn))
        rs_kv_op_free(c, o);
}
