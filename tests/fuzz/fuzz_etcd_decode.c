/* fuzz_etcd_decode.c: fuzz target for what comes back from etcd (src/etcd/decode.c on top
 * of protobuf-c). Input: byte 0 picks the response type (range, put, delete, txn, lease
 * grant, revoke, keepalive, watch), byte 1 the op types of a txn's two branches (bit 7:
 * every success op is a nested txn shaped like a group commit's member: compare, put, else
 * range), the rest is the serialized response. Whatever is accepted must be whole: every key inside the
 * prefix, every string readable to its length, watch events in revision order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/codec.h"
#include "etcd/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const etcd_op_type types[] = {ETCD_OP_RANGE,       ETCD_OP_PUT,          ETCD_OP_DELETE,
                                     ETCD_OP_TXN,         ETCD_OP_LEASE_GRANT,  ETCD_OP_LEASE_REVOKE,
                                     ETCD_OP_KEEPALIVE,   ETCD_OP_WATCH,        ETCD_OP_COMPACT};

static volatile unsigned sink;

static void touch(const char *p, size_t n)
{
    if (!p || p[n] != 0)
        abort(); /* every string is NUL-terminated after its length */
    for (size_t i = 0; i < n; i++)
        sink += (unsigned char)p[i];
}

static void check_kvs(const etcd_kv *kv, size_t n)
{
    if (n && !kv)
        abort();
    for (size_t i = 0; i < n; i++) {
        touch(kv[i].key, kv[i].key_len);
        touch(kv[i].value, kv[i].value_len);
        if (kv[i].mod_revision < 0 || kv[i].create_revision < 0 || kv[i].version < 0)
            abort();
    }
}

static void check_op(const etcd_op_result *o)
{
    check_kvs(o->kvs, o->n_kvs);
    if (o->count < 0 || o->deleted < 0)
        abort();
}

/* a nested txn's answer: the branch that ran, op by op, as its shape asked */
static void check_nested(const etcd_op_result *o, const struct etcd_txn_shape *sh)
{
    if (o->type != ETCD_OP_TXN)
        abort();
    size_t want = o->succeeded ? sh->n_succ : sh->n_fail;
    const uint8_t *wt = o->succeeded ? sh->succ : sh->fail;
    if (o->n_ops != want || (want && !o->ops))
        abort();
    for (size_t i = 0; i < o->n_ops; i++) {
        if (o->ops[i].type != (etcd_op_type)wt[i])
            abort();
        check_op(&o->ops[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct etcd_keyspace ks = {(char *)"/r/", 3};
    etcd_op_type type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
    uint8_t succ[3], fail[3];
    struct etcd_txn_shape shape = {succ, fail, data[1] & 3, (data[1] >> 2) & 3, NULL, NULL};
    for (size_t i = 0; i < 3; i++) {
        succ[i] = (uint8_t)(ETCD_OP_RANGE + ((data[1] >> (4 + i)) & 1) + (i == 2));
        fail[i] = (uint8_t)(ETCD_OP_RANGE + i);
    }
    uint8_t put[1] = {ETCD_OP_PUT}, range[1] = {ETCD_OP_RANGE};
    struct etcd_txn_shape member = {put, range, 1, 1, NULL, NULL};
    struct etcd_txn_shape subs[3] = {member, member, member};
    if (data[1] & 0x80) {
        for (size_t i = 0; i < 3; i++)
            succ[i] = ETCD_OP_TXN;
        shape.sub_succ = subs;
    }
    etcd_result *r = etcd_result_new(1, NULL, type);
    if (!r)
        return 0;
    struct etcd_watch_info wi;
    etcd_status st = etcd_decode(&ks, type, &shape, data + 2, size - 2, r, &wi);
    if (st == ETCD_OK || st == ETCD_FAILED || st == ETCD_LEASE_EXPIRED) {
        if (r->revision < 0)
            abort();
        check_op(&r->r);
        if (type == ETCD_OP_TXN) {
            size_t want = st == ETCD_OK ? shape.n_succ : shape.n_fail;
            const uint8_t *wt = st == ETCD_OK ? succ : fail;
            if (r->n_ops != want)
                abort();
            for (size_t i = 0; i < r->n_ops; i++) {
                if (r->ops[i].type != (etcd_op_type)wt[i])
                    abort();
                check_op(&r->ops[i]);
                if (wt[i] == ETCD_OP_TXN)
                    check_nested(&r->ops[i], &subs[i]);
            }
        }
        int64_t last = 0;
        for (size_t i = 0; i < r->n_events; i++) {
            check_kvs(&r->events[i].kv, 1);
            if (r->events[i].has_prev)
                check_kvs(&r->events[i].prev, 1);
            if (r->events[i].kv.mod_revision < last || r->events[i].kv.mod_revision > r->revision)
                abort();
            last = r->events[i].kv.mod_revision;
        }
        touch(r->message, strlen(r->message));
    } else if (st != ETCD_PROTOCOL) {
        abort();
    }
    etcd_result_free(r);
    return 0;
}
