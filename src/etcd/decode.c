/* decode.c: etcd's protobuf responses to roster's result structs. protobuf-c checks the
 * wire format; this file checks what it means before anything is used: keys inside the
 * cluster prefix (stripped here), enum values, non-negative revisions and counts, a txn
 * answer whose ops match the branch that was asked for, and a watch's events in order.
 * Everything is copied into the result's arena. */
#include <string.h>

#include "etcd/codec.h"
#include "etcd/result.h"
#include "rpc.pb-c.h"

#define BAD (-1)

static int64_t header_rev(etcd_result *r, const Etcdserverpb__ResponseHeader *h)
{
    if (h) /* kept for stall.c: a newer term means the leader changed */
        ((struct etcd_result_box *)r)->raft_term = h->raft_term;
    return h && h->revision >= 0 ? h->revision : BAD;
}

static int copy_kv(const struct etcd_keyspace *ks, etcd_result *r, const Mvccpb__KeyValue *m,
                   etcd_kv *out)
{
    const void *k;
    size_t kl;
    if (!m || !etcd_ks_strip(ks, m->key.data, m->key.len, &k, &kl))
        return -1;
    if (m->create_revision < 0 || m->mod_revision < 0 || m->version < 0 || m->lease < 0)
        return -1;
    if (m->value.len && !m->value.data)
        return -1;
    out->key = etcd_result_dup(r, k, kl);
    out->value = etcd_result_dup(r, m->value.data, m->value.len);
    if (!out->key || !out->value)
        return -1;
    out->key_len = kl;
    out->value_len = m->value.len;
    out->create_revision = m->create_revision;
    out->mod_revision = m->mod_revision;
    out->version = m->version;
    out->lease = m->lease;
    return 0;
}

static int copy_kvs(const struct etcd_keyspace *ks, etcd_result *r, Mvccpb__KeyValue **v,
                    size_t n, etcd_op_result *o)
{
    if (n == 0)
        return 0;
    if (!v || n > SIZE_MAX / sizeof(etcd_kv))
        return -1;
    o->kvs = etcd_result_alloc(r, n * sizeof(etcd_kv));
    if (!o->kvs)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (copy_kv(ks, r, v[i], &o->kvs[i]) < 0)
            return -1;
    o->n_kvs = n;
    return 0;
}

static int range_into(const struct etcd_keyspace *ks, etcd_result *r,
                      const Etcdserverpb__RangeResponse *m, etcd_op_result *o)
{
    if (!m || m->count < 0 || (uint64_t)m->count < m->n_kvs)
        return -1;
    o->type = ETCD_OP_RANGE;
    o->count = m->count;
    o->more = m->more;
    return copy_kvs(ks, r, m->kvs, m->n_kvs, o);
}

static int put_into(const struct etcd_keyspace *ks, etcd_result *r,
                    const Etcdserverpb__PutResponse *m, etcd_op_result *o)
{
    if (!m)
        return -1;
    o->type = ETCD_OP_PUT;
    Mvccpb__KeyValue *prev[1] = {m->prev_kv};
    return copy_kvs(ks, r, prev, m->prev_kv ? 1 : 0, o);
}

static int del_into(const struct etcd_keyspace *ks, etcd_result *r,
                    const Etcdserverpb__DeleteRangeResponse *m, etcd_op_result *o)
{
    if (!m || m->deleted < 0 || (uint64_t)m->deleted < m->n_prev_kvs)
        return -1;
    o->type = ETCD_OP_DELETE;
    o->deleted = m->deleted;
    return copy_kvs(ks, r, m->prev_kvs, m->n_prev_kvs, o);
}

/* txn_into checks a txn's answer against the shape of its request (the branch that ran,
 * op by op, nested txns included) and copies it into ops/n_ops. Returns 1 when the
 * compare held, 0 when the failure branch ran, -1 when the answer does not fit. */
static int txn_into(const struct etcd_keyspace *ks, const struct etcd_txn_shape *shape,
                    etcd_result *r, const Etcdserverpb__TxnResponse *m, etcd_op_result **ops,
                    size_t *n_ops, unsigned depth)
{
    if (!m || !shape || depth > ETCD_TXN_DEPTH_MAX)
        return -1;
    const uint8_t *want = m->succeeded ? shape->succ : shape->fail;
    const struct etcd_txn_shape *subs = m->succeeded ? shape->sub_succ : shape->sub_fail;
    size_t n = m->succeeded ? shape->n_succ : shape->n_fail;
    if (m->n_responses != n || (n && (!m->responses || !want)))
        return -1;
    etcd_op_result *v = NULL;
    if (n) {
        if (n > SIZE_MAX / sizeof(*v) || !(v = etcd_result_alloc(r, n * sizeof(*v))))
            return -1;
        memset(v, 0, n * sizeof(*v));
    }
    for (size_t i = 0; i < n; i++) {
        const Etcdserverpb__ResponseOp *o = m->responses[i];
        int rc = -1;
        if (!o)
            return -1;
        switch (o->response_case) {
        case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE:
            rc = want[i] == ETCD_OP_RANGE ? range_into(ks, r, o->response_range, &v[i]) : -1;
            break;
        case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT:
            rc = want[i] == ETCD_OP_PUT ? put_into(ks, r, o->response_put, &v[i]) : -1;
            break;
        case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE:
            rc = want[i] == ETCD_OP_DELETE ? del_into(ks, r, o->response_delete_range, &v[i])
                                           : -1;
            break;
        case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_TXN:
            if (want[i] != ETCD_OP_TXN || !subs)
                break;
            rc = txn_into(ks, &subs[i], r, o->response_txn, &v[i].ops, &v[i].n_ops, depth + 1);
            if (rc >= 0) {
                v[i].type = ETCD_OP_TXN; /* its revision is the outer one's: one commit */
                v[i].succeeded = rc == 1;
            }
            break;
        default:
            break;
        }
        if (rc < 0)
            return -1;
    }
    *ops = v;
    *n_ops = n;
    return m->succeeded ? 1 : 0;
}

/* depth_ok walks the raw bytes of a TxnResponse along the only path that can nest
 * (TxnResponse.responses = 3 -> ResponseOp.response_txn = 4 -> TxnResponse), before
 * protobuf-c unpacks it: protobuf-c recurses without a bound, so a server could otherwise
 * exhaust the stack with a deep enough answer. Anything malformed on the way is refused. */
static int depth_ok(const uint8_t *p, size_t len, int txn, unsigned depth)
{
    if (txn && depth > ETCD_TXN_DEPTH_MAX)
        return 0;
    size_t i = 0;
    while (i < len) {
        uint64_t tag = 0, v = 0;
        for (unsigned sh = 0;; sh += 7) {
            if (i >= len || sh > 63)
                return 0;
            tag |= (uint64_t)(p[i] & 0x7f) << sh;
            if (!(p[i++] & 0x80))
                break;
        }
        switch (tag & 7) {
        case 0:
            for (;;) {
                if (i >= len)
                    return 0;
                if (!(p[i++] & 0x80))
                    break;
            }
            break;
        case 1:
            if (len - i < 8)
                return 0;
            i += 8;
            break;
        case 5:
            if (len - i < 4)
                return 0;
            i += 4;
            break;
        case 2:
            for (unsigned sh = 0;; sh += 7) {
                if (i >= len || sh > 63)
                    return 0;
                v |= (uint64_t)(p[i] & 0x7f) << sh;
                if (!(p[i++] & 0x80))
                    break;
            }
            if (v > len - i)
                return 0;
            if (txn && (tag >> 3) == 3 && !depth_ok(p + i, (size_t)v, 0, depth))
                return 0;
            if (!txn && (tag >> 3) == 4 && !depth_ok(p + i, (size_t)v, 1, depth + 1))
                return 0;
            i += (size_t)v;
            break;
        default:
            return 0; /* groups: proto3 has none */
        }
    }
    return 1;
}

static etcd_status watch(const struct etcd_keyspace *ks, etcd_result *r,
                         const Etcdserverpb__WatchResponse *m, struct etcd_watch_info *wi)
{
    if (m->watch_id < 0 || m->compact_revision < 0 || m->fragment)
        return ETCD_PROTOCOL; /* fragments are never asked for */
    wi->created = m->created;
    wi->canceled = m->canceled;
    r->watch_id = m->watch_id;
    r->compact_revision = m->compact_revision;
    if (m->canceled && m->cancel_reason && m->cancel_reason[0]) {
        const char *msg = etcd_result_dup(r, m->cancel_reason, strnlen(m->cancel_reason, 1024));
        r->message = msg ? msg : "";
    }
    if (m->n_events == 0)
        return ETCD_OK;
    if (!m->events || m->n_events > SIZE_MAX / sizeof(etcd_event))
        return ETCD_PROTOCOL;
    r->events = etcd_result_alloc(r, m->n_events * sizeof(etcd_event));
    if (!r->events)
        return ETCD_PROTOCOL;
    int64_t last = 0;
    for (size_t i = 0; i < m->n_events; i++) {
        const Mvccpb__Event *e = m->events[i];
        etcd_event *o = &r->events[i];
        if (!e || (e->type != MVCCPB__EVENT__EVENT_TYPE__PUT &&
                   e->type != MVCCPB__EVENT__EVENT_TYPE__DELETE))
            return ETCD_PROTOCOL;
        o->is_delete = e->type == MVCCPB__EVENT__EVENT_TYPE__DELETE;
        if (copy_kv(ks, r, e->kv, &o->kv) < 0)
            return ETCD_PROTOCOL;
        /* The revisions a watcher is promised: never going back, never past the header. */
        if (o->kv.mod_revision < last || o->kv.mod_revision > r->revision)
            return ETCD_PROTOCOL;
        last = o->kv.mod_revision;
        if (e->prev_kv) {
            if (copy_kv(ks, r, e->prev_kv, &o->prev) < 0)
                return ETCD_PROTOCOL;
            o->has_prev = true;
        }
    }
    r->n_events = m->n_events;
    return ETCD_OK;
}

etcd_status etcd_decode(const struct etcd_keyspace *ks, etcd_op_type type,
                        const struct etcd_txn_shape *shape, const uint8_t *buf, size_t len,
                        etcd_result *r, struct etcd_watch_info *wi)
{
    const ProtobufCMessageDescriptor *d;
    switch (type) {
    case ETCD_OP_RANGE: d = &etcdserverpb__range_response__descriptor; break;
    case ETCD_OP_PUT: d = &etcdserverpb__put_response__descriptor; break;
    case ETCD_OP_DELETE: d = &etcdserverpb__delete_range_response__descriptor; break;
    case ETCD_OP_TXN: d = &etcdserverpb__txn_response__descriptor; break;
    case ETCD_OP_LEASE_GRANT: d = &etcdserverpb__lease_grant_response__descriptor; break;
    case ETCD_OP_LEASE_REVOKE: d = &etcdserverpb__lease_revoke_response__descriptor; break;
    case ETCD_OP_KEEPALIVE: d = &etcdserverpb__lease_keep_alive_response__descriptor; break;
    case ETCD_OP_WATCH: d = &etcdserverpb__watch_response__descriptor; break;
    case ETCD_OP_COMPACT: d = &etcdserverpb__compaction_response__descriptor; break;
    default: return ETCD_PROTOCOL;
    }
    if (type == ETCD_OP_TXN && !depth_ok(buf, len, 1, 1))
        return ETCD_PROTOCOL;
    ProtobufCMessage *pm = protobuf_c_message_unpack(d, NULL, len, buf);
    if (!pm)
        return ETCD_PROTOCOL;
    etcd_status st = ETCD_PROTOCOL;
    int64_t rev = BAD;
    switch (type) {
    case ETCD_OP_RANGE: {
        Etcdserverpb__RangeResponse *m = (void *)pm;
        if ((rev = header_rev(r, m->header)) != BAD && range_into(ks, r, m, &r->r) == 0)
            st = ETCD_OK;
        break;
    }
    case ETCD_OP_PUT: {
        Etcdserverpb__PutResponse *m = (void *)pm;
        if ((rev = header_rev(r, m->header)) != BAD && put_into(ks, r, m, &r->r) == 0)
            st = ETCD_OK;
        break;
    }
    case ETCD_OP_DELETE: {
        Etcdserverpb__DeleteRangeResponse *m = (void *)pm;
        if ((rev = header_rev(r, m->header)) != BAD && del_into(ks, r, m, &r->r) == 0)
            st = ETCD_OK;
        break;
    }
    case ETCD_OP_TXN: {
        Etcdserverpb__TxnResponse *m = (void *)pm;
        if ((rev = header_rev(r, m->header)) != BAD && shape) {
            int ok = txn_into(ks, shape, r, m, &r->ops, &r->n_ops, 1);
            st = ok < 0 ? ETCD_PROTOCOL : ok ? ETCD_OK : ETCD_FAILED;
        }
        break;
    }
    case ETCD_OP_LEASE_GRANT: {
        Etcdserverpb__LeaseGrantResponse *m = (void *)pm;
        if ((rev = header_rev(r, m->header)) != BAD && m->id > 0 && m->ttl > 0) {
            r->lease_id = m->id;
            r->ttl = m->ttl;
            st = ETCD_OK;
        }
        break;
    }
    case ETCD_OP_LEASE_REVOKE:
        if ((rev = header_rev(r, ((Etcdserverpb__LeaseRevokeResponse *)pm)->header)) != BAD)
            st = ETCD_OK;
        break;
    case ETCD_OP_COMPACT:
        if ((rev = header_rev(r, ((Etcdserverpb__CompactionResponse *)pm)->header)) != BAD)
            st = ETCD_OK;
        break;
    case ETCD_OP_KEEPALIVE: {
        Etcdserverpb__LeaseKeepAliveResponse *m = (void *)pm;
        if ((rev = header_rev(r, m->header)) != BAD && m->id > 0) {
            r->lease_id = m->id;
            r->ttl = m->ttl > 0 ? m->ttl : 0;
            st = m->ttl > 0 ? ETCD_OK : ETCD_LEASE_EXPIRED;
        }
        break;
    }
    case ETCD_OP_WATCH: {
        Etcdserverpb__WatchResponse *m = (void *)pm;
        struct etcd_watch_info dummy;
        if ((rev = header_rev(r, m->header)) != BAD) {
            r->revision = rev;
            st = watch(ks, r, m, wi ? wi : &dummy);
        }
        break;
    }
    default:
        break;
    }
    if (rev != BAD)
        r->revision = rev;
    protobuf_c_message_free_unpacked(pm, NULL);
    return st;
}
