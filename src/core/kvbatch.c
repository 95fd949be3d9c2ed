/* kvbatch.c: group commit of strong registrations and joins (docs/STRONG.md). A new
 * register or join goes at once when few are in flight; otherwise it waits and goes with
 * the others that came meanwhile, in one etcd transaction whose success branch holds one
 * nested transaction per member (RequestOp.request_txn, etcd >= 3.3): each with its own
 * compare (create_revision == 0), its put, and a read of the key when the compare fails. So
 * etcd does one write for many, each member's outcome is its own (a taken name in the batch
 * takes nothing from the others), and each caller gets the answer it would have had alone:
 * ETAKEN naming the holder, an idempotent retry, or a second round for new metadata, all
 * from its own nested answer. Low load sees no added delay; under load the batch grows with
 * it. */
#include <string.h>

#include "core/kvstate.h"
#include "core/output.h"
#include "core/util.h"

/* what one member costs in the request besides its key (three times: compare, put, read),
 * name and metadata: the record's fixed fields and node name (kvrec.c), protobuf framing */
#define RS_KVREC_OVERHEAD 160u

static void flush(struct rs_core *c);

/* may_send: fewer than RS_KV_BATCH_INFLIGHT in flight (so a batch fills while the others
 * commit, and a client's next write rarely waits a whole round), or what is in flight has
 * been out long enough that etcd may be failing over (then waiting behind it would stall
 * every write for the op timeout) */
static int may_send(const struct rs_core *c)
{
    const struct rs_kv *k = c->kv;
    return k->creates_inflight < RS_KV_BATCH_INFLIGHT ||
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
     * that puts one key twice, nested or not) and at most RS_KV_BATCH_BYTES of keys and
     * metadata (etcd's request limit is 1.5 MiB); the others wait for the next round */
    struct rs_kvop *m[RS_KV_BATCH_MAX];
    uint32_t n = 0;
    size_t bytes = 0;
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
        size_t cost = key ? 3 * key->len + o->key.len + o->meta.len + RS_KVREC_OVERHEAD : 0;
        if (n && bytes + cost > RS_KV_BATCH_BYTES)
            break;
        if (dup || rs_buf_append(keys, key->data, key->len) != 0) {
            pp = &o->qnext;
            continue;
        }
        bytes += cost;
        offs[n + 1] = keys->len;
        m[n++] = o;
        *pp = o->qnext;
        o->qnext = NULL;
    }
    k->queue_tail = &k->queue;
    while (*k->queue_tail)
        k->queue_tail = &(*k->queue_tail)->qnext;
    if (n == 0) {
        rs_buf_fini(keys);
        return;
    }
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
    k->create_sent = c->now_ms;
    if (n == 1) {
        rs_buf_fini(keys);
        k->creates_inflight++;
        m[0]->counted = 1;
        rs_kvwrite_put(c, m[0], 0, 0);
        flush(c); /* another slot may be free */
        return;
    }
    struct rs_kvop *b = rs_kv_op_new(c, KV_BATCH, NULL, NULL);
    etcd_op *t = rs_kv_ops(c, 1), *nested = rs_kv_ops(c, n), *put = rs_kv_ops(c, n),
            *get = rs_kv_ops(c, n);
    etcd_compare *cmp = rs_kv_cmps(c, n);
    struct rs_kvop **v = rs_core_alloc(c, n * sizeof *v);
    if (!b || !t || !nested || !put || !get || !cmp || !v) {
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
        put[i].type = ETCD_OP_PUT;
        put[i].key = cmp[i].key;
        put[i].key_len = cmp[i].key_len;
        put[i].lease = k->lease;
        if (rs_kv_rec_value(c, &put[i], &r) != 0)
            break;
        get[i].type = ETCD_OP_RANGE;
        get[i].key = cmp[i].key;
        get[i].key_len = cmp[i].key_len;
        nested[i].type = ETCD_OP_TXN;
        nested[i].cmp = &cmp[i];
        nested[i].n_cmp = 1;
        nested[i].success = &put[i];
        nested[i].n_success = 1;
        nested[i].failure = &get[i];
        nested[i].n_failure = 1;
        m[i]->lease = k->lease;
        m[i]->token = 0;
        m[i]->writing = 1;
        m[i]->phase = 1; /* its own later sends rekey it */
        v[i] = m[i];
    }
    rs_buf_fini(keys);
    t->type = ETCD_OP_TXN; /* no compare of its own: the success branch always runs */
    t->success = nested;
    t->n_success = n;
    t->timeout_ms = (int)k->timeout_ms;
    b->batch = v;
    b->n_batch = n;
    b->writing = 1;
    b->counted = 1;
    k->creates_inflight++;
    rs_kv_submit(c, b, t);
    flush(c); /* another slot may be free */
}

void rs_kvbatch_on_result(struct rs_core *c, struct rs_kvop *b, const etcd_result *r)
{
    b->done = 1;
    /* an answer that is not one nested answer per member cannot be attributed: the outcome
     * of each is unknown (the decoder already checks this against the request) */
    etcd_result whole = *r;
    if (r->status == ETCD_REJECTED) {
        /* not applied, and perhaps for the batch's sake (an etcd run with a smaller
         * --max-txn-ops or request limit): each member goes again on its own */
        for (uint32_t i = 0; i < b->n_batch; i++) {
            b->batch[i]->phase = 1;
            rs_kvwrite_put(c, b->batch[i], 0, 0);
        }
        rs_kvbatch_settle(c, b);
        return;
    }
    if (r->status == ETCD_OK && r->n_ops != b->n_batch) {
        whole.status = ETCD_PROTOCOL;
        whole.message = "etcd: a group commit's answer does not match its members";
    } else if (r->status == ETCD_FAILED) {
        whole.status = ETCD_PROTOCOL; /* the outer txn has no compare: it cannot fail */
        whole.message = "etcd: a group commit without a compare answered 'failed'";
    }
    for (uint32_t i = 0; i < b->n_batch; i++) {
        struct rs_kvop *o = b->batch[i];
        if (whole.status == ETCD_OK) {
            /* the member's own nested answer, as if it had been its own transaction */
            const etcd_op_result *sub = &r->ops[i];
            etcd_result one;
            memset(&one, 0, sizeof one);
            one.id = r->id;
            one.type = ETCD_OP_TXN;
            one.final = true;
            one.message = "";
            one.revision = r->revision;
            one.status = sub->type == ETCD_OP_TXN ? (sub->succeeded ? ETCD_OK : ETCD_FAILED)
                                                  : ETCD_PROTOCOL;
            one.ops = sub->ops;
            one.n_ops = sub->n_ops;
            if (one.status == ETCD_OK) {
                /* committed: as a single create's success (a pid that died meanwhile has
                 * its key removed again when the wait ends) */
                if (o->kind == KV_REGISTER)
                    o->token = (uint64_t)r->revision;
                rs_kv_wait(c, o, r->revision);
                continue;
            }
            /* its compare failed: its own read says taken, idempotent retry, or a new
             * round; an answer that ends it here (ETAKEN...) leaves it to free */
            uint64_t id = o->id;
            rs_kvwrite_on_result(c, o, &one);
            struct rs_kvop *left = rs_kv_op_find(c, id);
            if (left && !left->wait_rev && left->done)
                rs_kv_op_free(c, left);
        } else {
            o->writing = 1;
            rs_kv_fail(c, o, &whole);
            rs_kv_op_free(c, o);
        }
    }
    rs_kvbatch_settle(c, b); /* after the members: the next round sees their retries */
}
