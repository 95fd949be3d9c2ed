/* encode.c: roster's etcd_op to etcd's protobuf request bytes, with the key prefix added
 * (keyspace.c). The protobuf-c structs and prefixed keys live in a temporary arena. */
#include <stdlib.h>
#include <string.h>

#include "etcd/codec.h"
#include "rpc.pb-c.h"

#define MAX_TXN_OPS 128 /* etcd's default --max-txn-ops */

static Etcdserverpb__TxnRequest *txn_req(const struct etcd_keyspace *ks, struct etcd_arena *a,
                                         const etcd_op *op, struct etcd_txn_shape *shape,
                                         bool *is_write, size_t budget, unsigned depth);

static int set_key(const struct etcd_keyspace *ks, struct etcd_arena *a, const etcd_op *op,
                   bool range, ProtobufCBinaryData *key, ProtobufCBinaryData *end)
{
    void *k = NULL, *e = NULL;
    size_t kl = 0, el = 0;
    if (op->key_len && !op->key)
        return -1;
    if (etcd_ks_key(ks, a, op->key, op->key_len, range, &k, &kl, &e, &el) < 0)
        return -1;
    key->data = k;
    key->len = kl;
    if (end) {
        end->data = e;
        end->len = el;
    }
    return 0;
}

static Etcdserverpb__RangeRequest *range_req(const struct etcd_keyspace *ks,
                                             struct etcd_arena *a, const etcd_op *op)
{
    Etcdserverpb__RangeRequest *m = etcd_arena_alloc(a, sizeof(*m));
    if (!m)
        return NULL;
    etcdserverpb__range_request__init(m);
    if (set_key(ks, a, op, op->prefix, &m->key, &m->range_end) < 0 || op->limit < 0 ||
        op->revision < 0)
        return NULL;
    m->limit = op->limit;
    m->revision = op->revision;
    m->serializable = op->serializable;
    return m;
}

static Etcdserverpb__PutRequest *put_req(const struct etcd_keyspace *ks, struct etcd_arena *a,
                                         const etcd_op *op)
{
    Etcdserverpb__PutRequest *m = etcd_arena_alloc(a, sizeof(*m));
    if (!m)
        return NULL;
    etcdserverpb__put_request__init(m);
    if (set_key(ks, a, op, false, &m->key, NULL) < 0 || (op->value_len && !op->value))
        return NULL;
    m->value.data = (uint8_t *)op->value;
    m->value.len = op->value_len;
    m->lease = op->lease;
    m->prev_kv = op->prev_kv;
    return m;
}

static Etcdserverpb__DeleteRangeRequest *del_req(const struct etcd_keyspace *ks,
                                                 struct etcd_arena *a, const etcd_op *op)
{
    Etcdserverpb__DeleteRangeRequest *m = etcd_arena_alloc(a, sizeof(*m));
    if (!m)
        return NULL;
    etcdserverpb__delete_range_request__init(m);
    if (set_key(ks, a, op, op->prefix, &m->key, &m->range_end) < 0)
        return NULL;
    m->prev_kv = op->prev_kv;
    return m;
}

/* branch encodes one branch of a txn; types[i] records each op's type, and subs[i] (made
 * on the first nested txn) the shape of a nested txn, so that the answer can be checked
 * against what was asked. budget: etcd's op allowance left for a nested txn. */
static Etcdserverpb__RequestOp **branch(const struct etcd_keyspace *ks, struct etcd_arena *a,
                                        const etcd_op *ops, size_t n, uint8_t **types,
                                        struct etcd_txn_shape **subs, bool *is_write,
                                        size_t budget, unsigned depth)
{
    Etcdserverpb__RequestOp **v = etcd_arena_alloc(a, (n ? n : 1) * sizeof(*v));
    *types = malloc(n ? n : 1);
    if (!v || !*types || (n && !ops))
        return NULL;
    for (size_t i = 0; i < n; i++)
        (*types)[i] = 0; /* etcd_shape_free reads them on a failure midway */
    for (size_t i = 0; i < n; i++) {
        Etcdserverpb__RequestOp *r = etcd_arena_alloc(a, sizeof(*r));
        if (!r)
            return NULL;
        etcdserverpb__request_op__init(r);
        (*types)[i] = (uint8_t)ops[i].type;
        switch (ops[i].type) {
        case ETCD_OP_RANGE:
            r->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE;
            r->request_range = range_req(ks, a, &ops[i]);
            if (!r->request_range)
                return NULL;
            break;
        case ETCD_OP_PUT:
            r->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
            r->request_put = put_req(ks, a, &ops[i]);
            if (!r->request_put)
                return NULL;
            *is_write = true;
            break;
        case ETCD_OP_DELETE:
            r->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE;
            r->request_delete_range = del_req(ks, a, &ops[i]);
            if (!r->request_delete_range)
                return NULL;
            *is_write = true;
            break;
        case ETCD_OP_TXN:
            if (!*subs && !(*subs = calloc(n, sizeof(**subs))))
                return NULL;
            r->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN;
            r->request_txn = txn_req(ks, a, &ops[i], &(*subs)[i], is_write, budget, depth + 1);
            if (!r->request_txn)
                return NULL;
            break;
        default:
            return NULL;
        }
        v[i] = r;
    }
    return v;
}

static Etcdserverpb__Compare *compare(const struct etcd_keyspace *ks, struct etcd_arena *a,
                                      const etcd_compare *c)
{
    Etcdserverpb__Compare *m = etcd_arena_alloc(a, sizeof(*m));
    void *k = NULL, *e = NULL;
    size_t kl = 0, el = 0;
    if (!m || (c->key_len && !c->key) ||
        etcd_ks_key(ks, a, c->key, c->key_len, false, &k, &kl, &e, &el) < 0)
        return NULL;
    etcdserverpb__compare__init(m);
    m->key.data = k;
    m->key.len = kl;
    if ((unsigned)c->result > ETCD_CMP_NOT_EQUAL)
        return NULL;
    m->result = (Etcdserverpb__Compare__CompareResult)c->result;
    switch (c->target) {
    case ETCD_CMP_VERSION:
        m->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VERSION;
        m->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION;
        m->version = c->number;
        break;
    case ETCD_CMP_CREATE:
        m->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE;
        m->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION;
        m->create_revision = c->number;
        break;
    case ETCD_CMP_MOD:
        m->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD;
        m->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION;
        m->mod_revision = c->number;
        break;
    case ETCD_CMP_VALUE:
        if (c->value_len && !c->value)
            return NULL;
        m->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE;
        m->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE;
        m->value.data = (uint8_t *)c->value;
        m->value.len = c->value_len;
        break;
    default:
        return NULL;
    }
    return m;
}

/* txn_req encodes a txn, nested or not, under etcd's own rule for --max-txn-ops (its
 * checkTxnRequest): a txn's op count is the largest of its compares, success ops and failure
 * ops, and each txn nested in it may use only what is left of the budget after that count.
 * So N nested txns of one op each fit in one txn when 1 <= 128 - N. A request etcd would
 * refuse is refused here, before it costs a round trip. */
static Etcdserverpb__TxnRequest *txn_req(const struct etcd_keyspace *ks, struct etcd_arena *a,
                                         const etcd_op *op, struct etcd_txn_shape *shape,
                                         bool *is_write, size_t budget, unsigned depth)
{
    size_t opc = op->n_cmp;
    if (op->n_success > opc)
        opc = op->n_success;
    if (op->n_failure > opc)
        opc = op->n_failure;
    if (depth > ETCD_TXN_DEPTH_MAX || opc > budget || (op->n_cmp && !op->cmp))
        return NULL;
    Etcdserverpb__TxnRequest *m = etcd_arena_alloc(a, sizeof(*m));
    Etcdserverpb__Compare **cv = etcd_arena_alloc(a, (op->n_cmp + 1) * sizeof(*cv));
    if (!m || !cv)
        return NULL;
    etcdserverpb__txn_request__init(m);
    for (size_t i = 0; i < op->n_cmp; i++)
        if (!(cv[i] = compare(ks, a, &op->cmp[i])))
            return NULL;
    m->compare = cv;
    m->n_compare = op->n_cmp;
    shape->n_succ = op->n_success;
    m->success = branch(ks, a, op->success, op->n_success, &shape->succ, &shape->sub_succ,
                        is_write, budget - opc, depth);
    m->n_success = op->n_success;
    if (!m->success)
        return NULL;
    shape->n_fail = op->n_failure;
    m->failure = branch(ks, a, op->failure, op->n_failure, &shape->fail, &shape->sub_fail,
                        is_write, budget - opc, depth);
    m->n_failure = op->n_failure;
    if (!m->failure)
        return NULL;
    return m;
}

static int pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        return -1;
    *len = protobuf_c_message_pack(m, b);
    *buf = b;
    return 0;
}

static const ProtobufCMessage *build(const struct etcd_keyspace *ks, struct etcd_arena *a,
                                     const etcd_op *op, struct etcd_txn_shape *shape,
                                     bool *is_write)
{
    switch (op->type) {
    case ETCD_OP_RANGE:
        return (const ProtobufCMessage *)range_req(ks, a, op);
    case ETCD_OP_PUT:
        *is_write = true;
        return (const ProtobufCMessage *)put_req(ks, a, op);
    case ETCD_OP_DELETE:
        *is_write = true;
        return (const ProtobufCMessage *)del_req(ks, a, op);
    case ETCD_OP_TXN:
        return (const ProtobufCMessage *)txn_req(ks, a, op, shape, is_write, MAX_TXN_OPS, 1);
    case ETCD_OP_LEASE_GRANT: {
        Etcdserverpb__LeaseGrantRequest *m = etcd_arena_alloc(a, sizeof(*m));
        if (!m || op->ttl <= 0)
            return NULL;
        etcdserverpb__lease_grant_request__init(m);
        m->ttl = op->ttl;
        *is_write = true;
        return (const ProtobufCMessage *)m;
    }
    case ETCD_OP_LEASE_REVOKE: {
        Etcdserverpb__LeaseRevokeRequest *m = etcd_arena_alloc(a, sizeof(*m));
        if (!m)
            return NULL;
        etcdserverpb__lease_revoke_request__init(m);
        m->id = op->lease;
        *is_write = true;
        return (const ProtobufCMessage *)m;
    }
    case ETCD_OP_COMPACT: {
        Etcdserverpb__CompactionRequest *m = etcd_arena_alloc(a, sizeof(*m));
        if (!m || op->revision <= 0)
            return NULL;
        etcdserverpb__compaction_request__init(m);
        m->revision = op->revision;
        m->physical = true;
        *is_write = true;
        return (const ProtobufCMessage *)m;
    }
    default:
        return NULL;
    }
}

int etcd_encode(const struct etcd_keyspace *ks, const etcd_op *op, uint8_t **buf, size_t *len,
                struct etcd_txn_shape *shape, bool *is_write)
{
    struct etcd_arena a = {0};
    memset(shape, 0, sizeof(*shape));
    *is_write = false;
    const ProtobufCMessage *m = build(ks, &a, op, shape, is_write);
    int rc = m ? pack(m, buf, len) : -1;
    etcd_arena_free(&a);
    if (rc < 0)
        etcd_shape_free(shape);
    return rc;
}

void etcd_shape_free(struct etcd_txn_shape *shape)
{
    if (shape->sub_succ) {
        for (size_t i = 0; i < shape->n_succ; i++)
            etcd_shape_free(&shape->sub_succ[i]);
        free(shape->sub_succ);
    }
    if (shape->sub_fail) {
        for (size_t i = 0; i < shape->n_fail; i++)
            etcd_shape_free(&shape->sub_fail[i]);
        free(shape->sub_fail);
    }
    free(shape->succ);
    free(shape->fail);
    memset(shape, 0, sizeof(*shape));
}

int etcd_encode_watch_create(const void *key, size_t key_len, const void *end, size_t end_len,
                             int64_t start_revision, bool prev_kv, uint8_t **buf, size_t *len)
{
    Etcdserverpb__WatchCreateRequest c;
    Etcdserverpb__WatchRequest w;
    etcdserverpb__watch_create_request__init(&c);
    etcdserverpb__watch_request__init(&w);
    c.key.data = (uint8_t *)key;
    c.key.len = key_len;
    c.range_end.data = (uint8_t *)end;
    c.range_end.len = end_len;
    c.start_revision = start_revision;
    c.prev_kv = prev_kv;
    c.progress_notify = true;
    w.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
    w.create_request = &c;
    return pack(&w.base, buf, len);
}

int etcd_encode_keepalive(int64_t lease, uint8_t **buf, size_t *len)
{
    Etcdserverpb__LeaseKeepAliveRequest m;
    etcdserverpb__lease_keep_alive_request__init(&m);
    m.id = lease;
    return pack(&m.base, buf, len);
}
