/* kvbatch.c: group commit of strong registrations and joins (docs/STRONG.md). A new
 * register or join goes at once when no other is in flight; otherwise it waits and
 * goes with the others that came meanwhile, in one transaction: one compare
 * (create_revision == 0) and one put per member, so etcd does one write for many. If any
 * compare fails (a name taken, an idempotent retry) the whole transaction does nothing and
 * each member goes again on its own, with its own read of the key: answers are the same as
 * without batching. Low load sees no added delay; under load the batch grows with it. */
#include <string.h>

#include "core/kvstate.h"
#include "core/output.h"
#include "core/util.h"

static void flush(struct rs_core *c);

/* may_send: nothing in flight, or what is has been out long enough that etcd may be
 * failing over (then waiting behind it would stall every write for the op timeout) */
static int may_send(const struct rs_core *c)
{
    const struct rs_kv *k = c->kv;
    return !k->creates_inflight ||
           (k->creates_inflight < RS_KV_CREATES_MAX &&
            c->now_ms >= k->create_sent + RS_KV_BATCH_STALL_MS);
}

void rs_kvbatch_create(struct rs_core *c, struct rs_kvop *o)
{
    struct rs_kv *k = c->kv;
    o->writing = 1;
    o->qnext = NULL;
    *k->queue_tail = o;
    k->queue_tail = &o->qnext;
    flush(c);
}

void rs_kvbatch_tick(struct rs_core *c)
{
    flush(c);
}

/* settle ends the count of o's create (its result came) and sends what waited */
void rs_kvbatch_settle(struct rs_core *c, struct rs_kvop *o)
{
    if (!o->counted)
        return;
    o->counted = 0;
    c->kv->creates_inflight--;
    flush(c);
}

static void flush(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    if (!k->queue || !may_send(c))
        return;
    k->create_sent = c->now_ms;
    /* take up to RS_KV_BATCH_MAX members with distinct keys (etcd refuses a transaction
     * that puts one key twice); the others wait for the next round */
    struct rs_kvop *m[RS_KV_BATCH_MAX];
    uint32_t n = 0;
    struct rs_kvop **pp = &k->queue;
    struct rs_buf keys[1];
    rs_buf_init(keys);
    size_t offs[RS_KV_BATCH_MAX + 1];
    offs[0] = 0;
    while (*pp && n < RS_KV_BATCH_MAX) {
        struct rs_kvop *o = *pp;
        const struct rs_buf *key = rs_kvwrite_key(c, o);
        int dup = !key;
        for (uint32_t i = 0; i < n && !dup; i++)
            dup = rs_bytes_eq(keys->data + offs[i], offs[i + 1] - offs[i], key->data, key->len);
        if (dup || rs_buf_append(keys, key->data, key->len) != 0) {
            pp = &o->qnext;
            continue;
        }
        offs[n + 1] = keys->len;
        m[n++] = o;
        *pp = o->qnext;
        o->qnext = NULL;
    }
    k->queue_tail = &k->queue;
    while (*k->queue_tail)
        k->queue_tail = &(*k->queue_tail)->qnext;
    if (!k->lease) {
        for (uint32_t i = 0; i < n; i++) {
            etcd_result none = {.status = ETCD_UNAVAILABLE, .message = "no etcd lease"};
            m[i]->writing = 0;
            rs_kv_fail(c, m[i], &none);
            rs_kv_op_free(c, m[i]);
        }
        rs_buf_fini(keys);
        flush(c);
        return;
    }
    if (n == 1) {
        rs_buf_fini(keys);
        k->creates_inflight++;
        m[0]->counted = 1;
        rs_kvwrite_put(c, m[0], 0, 0);
        return;
    }
    struct rs_kvop *b = rs_kv_op_new(c, KV_BATCH, NULL, NULL);
    etcd_op *t = rs_kv_ops(c, 1), *then = rs_kv_ops(c, n);
    etcd_compare *cmp = rs_kv_cmps(c, n);
    struct rs_kvop **v = rs_core_alloc(c, n * sizeof *v);
    if (!b || !t || !then || !cmp || !v) {
        rs_buf_fini(keys);
        rs_free(v);
        return; /* out of memory: the node stops */
    }
    for (uint32_t i = 0; i < n; i++) {
        struct rs_kvrec r;
        rs_kvwrite_rec(c, m[i], 0, &r);
        cmp[i].key = rs_kv_arena_dup(c, keys->data + offs[i], offs[i + 1] - offs[i]);
        cmp[i].key_len = offs[i + 1] - offs[i];
        cmp[i].target = ETCD_CMP_CREATE;
        cmp[i].result = ETCD_CMP_EQUAL;
        then[i].type = ETCD_OP_PUT;
        then[i].key = cmp[i].key;
        then[i].key_len = cmp[i].key_len;
        then[i].lease = k->lease;
        if (rs_kv_rec_value(c, &then[i], &r) != 0)
            break;
        m[i]->lease = k->lease;
        m[i]->token = 0;
        m[i]->phase = 1; /* its own later sends rekey it */
        v[i] = m[i];
    }
    rs_buf_fini(keys);
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = n;
    t->success = then;
    t->n_success = n;
    t->timeout_ms = (int)k->timeout_ms;
    b->batch = v;
    b->n_batch = n;
    b->writing = 1;
    b->counted = 1;
    k->creates_inflight++;
    rs_kv_submit(c, b, t);
}

void rs_kvbatch_on_result(struct rs_core *c, struct rs_kvop *b, const etcd_result *r)
{
    b->done = 1;
    rs_kvbatch_settle(c, b);
    for (uint32_t i = 0; i < b->n_batch; i++) {
        struct rs_kvop *o = b->batch[i];
        if (r->status == ETCD_OK) {
            if (o->kind == KV_REGISTER)
                o->token = (uint64_t)r->revision;
            rs_kv_wait(c, o, r->revision);
        } else if (r->status == ETCD_FAILED) {
            o->phase = 0;
            rs_kvwrite_put(c, o, 0, 0); /* on its own: its read tells taken, retry, or free */
        } else {
            o->writing = 1;
            rs_kv_fail(c, o, r);
            rs_kv_op_free(c, o);
        }
    }
}

