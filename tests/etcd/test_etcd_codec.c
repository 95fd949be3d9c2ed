/* test_etcd_codec.c: src/etcd's codec without an etcd: the key prefix (range ends, strip),
 * requests it refuses to encode, and responses decode.c must refuse (keys outside the
 * prefix, a txn answer not matching its request, watch events out of order, negative
 * counts), built with protobuf-c as a misbehaving server would send them. */
#include <stdlib.h>
#include <string.h>

#include "etcd/codec.h"
#include "etcd/result.h"
#include "rpc.pb-c.h"
#include "test.h"

static struct etcd_keyspace ks = {(char *)"/p/", 3};

static void range_end_of(const struct etcd_keyspace *k, const char *key, size_t kl,
                         const char *want, size_t wl)
{
    struct etcd_arena a = {0};
    void *out, *end;
    size_t ol, el;
    ASSERT_EQ(etcd_ks_key(k, &a, key, kl, true, &out, &ol, &end, &el), 0);
    ASSERT_EQ(el, wl);
    ASSERT(memcmp(end, want, wl) == 0);
    etcd_arena_free(&a);
}

static void test_keyspace(void)
{
    range_end_of(&ks, "ab", 2, "/p/ac", 5);
    range_end_of(&ks, "a\xff\xff", 3, "/p/b", 4);
    range_end_of(&ks, "", 0, "/p0", 3); /* the whole cluster: '/' + 1 */
    struct etcd_keyspace none = {(char *)"", 0};
    range_end_of(&none, "\xff", 1, "\0", 1); /* etcd's "to the end" */
    const void *rest;
    size_t rl;
    ASSERT(etcd_ks_strip(&ks, "/p/x", 4, &rest, &rl));
    ASSERT_EQ(rl, 1);
    ASSERT(!etcd_ks_strip(&ks, "/q/x", 4, &rest, &rl));
    ASSERT(!etcd_ks_strip(&ks, "/p", 2, &rest, &rl));
}

static void test_encode_refuses(void)
{
    uint8_t *buf;
    size_t len;
    struct etcd_txn_shape sh;
    bool w;
    etcd_op bad_ttl = {.type = ETCD_OP_LEASE_GRANT, .ttl = 0};
    ASSERT_EQ(etcd_encode(&ks, &bad_ttl, &buf, &len, &sh, &w), -1);
    etcd_op null_key = {.type = ETCD_OP_PUT, .key = NULL, .key_len = 3};
    ASSERT_EQ(etcd_encode(&ks, &null_key, &buf, &len, &sh, &w), -1);
    etcd_op watch_here = {.type = ETCD_OP_WATCH}; /* a stream, not a unary op */
    ASSERT_EQ(etcd_encode(&ks, &watch_here, &buf, &len, &sh, &w), -1);
    etcd_op nested = {.type = ETCD_OP_TXN};
    etcd_op txn = {.type = ETCD_OP_TXN, .success = &nested, .n_success = 1};
    ASSERT_EQ(etcd_encode(&ks, &txn, &buf, &len, &sh, &w), -1);
    etcd_op rd = {.type = ETCD_OP_RANGE, .key = "k", .key_len = 1};
    etcd_op ok = {.type = ETCD_OP_TXN, .success = &rd, .n_success = 1};
    ASSERT_EQ(etcd_encode(&ks, &ok, &buf, &len, &sh, &w), 0);
    ASSERT(!w); /* a txn of reads is a read */
    ASSERT_EQ(sh.n_succ, 1);
    ASSERT_EQ(sh.succ[0], ETCD_OP_RANGE);
    free(buf);
    etcd_shape_free(&sh);
}

static etcd_status decode(etcd_op_type t, const ProtobufCMessage *m,
                          const struct etcd_txn_shape *sh)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(n + 1);
    protobuf_c_message_pack(m, b);
    etcd_result *r = etcd_result_new(1, NULL, t);
    struct etcd_watch_info wi;
    etcd_status st = etcd_decode(&ks, t, sh, b, n, r, &wi);
    etcd_result_free(r);
    free(b);
    return st;
}

static void test_decode_refuses(void)
{
    Etcdserverpb__ResponseHeader h = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    h.revision = 10;
    Mvccpb__KeyValue kv = MVCCPB__KEY_VALUE__INIT;
    kv.key.data = (uint8_t *)"/p/a";
    kv.key.len = 4;
    kv.mod_revision = 5;
    Mvccpb__KeyValue *kvs[] = {&kv};
    Etcdserverpb__RangeResponse rr = ETCDSERVERPB__RANGE_RESPONSE__INIT;
    rr.header = &h;
    rr.kvs = kvs;
    rr.n_kvs = 1;
    rr.count = 1;
    ASSERT_EQ(decode(ETCD_OP_RANGE, &rr.base, NULL), ETCD_OK);
    kv.key.data = (uint8_t *)"/q/a"; /* another cluster's key */
    ASSERT_EQ(decode(ETCD_OP_RANGE, &rr.base, NULL), ETCD_PROTOCOL);
    kv.key.data = (uint8_t *)"/p/a";
    rr.count = 0; /* fewer than returned */
    ASSERT_EQ(decode(ETCD_OP_RANGE, &rr.base, NULL), ETCD_PROTOCOL);
    rr.count = 1;
    kv.mod_revision = -1;
    ASSERT_EQ(decode(ETCD_OP_RANGE, &rr.base, NULL), ETCD_PROTOCOL);
    kv.mod_revision = 5;
    rr.header = NULL; /* etcd always sends one */
    ASSERT_EQ(decode(ETCD_OP_RANGE, &rr.base, NULL), ETCD_PROTOCOL);
    rr.header = &h;

    /* txn: the answer must have the ops of the branch that ran, of the types asked */
    uint8_t succ[] = {ETCD_OP_PUT}, fail[] = {ETCD_OP_RANGE};
    struct etcd_txn_shape sh = {succ, fail, 1, 1};
    Etcdserverpb__PutResponse pr = ETCDSERVERPB__PUT_RESPONSE__INIT;
    pr.header = &h;
    Etcdserverpb__ResponseOp op = ETCDSERVERPB__RESPONSE_OP__INIT;
    op.response_case = ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT;
    op.response_put = &pr;
    Etcdserverpb__ResponseOp *ops[] = {&op};
    Etcdserverpb__TxnResponse tr = ETCDSERVERPB__TXN_RESPONSE__INIT;
    tr.header = &h;
    tr.succeeded = 1;
    tr.responses = ops;
    tr.n_responses = 1;
    ASSERT_EQ(decode(ETCD_OP_TXN, &tr.base, &sh), ETCD_OK);
    tr.succeeded = 0; /* failure branch asked for a range, got a put */
    ASSERT_EQ(decode(ETCD_OP_TXN, &tr.base, &sh), ETCD_PROTOCOL);
    tr.succeeded = 1;
    tr.n_responses = 0;
    ASSERT_EQ(decode(ETCD_OP_TXN, &tr.base, &sh), ETCD_PROTOCOL);

    /* watch: events in revision order, none past the header */
    Mvccpb__KeyValue k1 = kv, k2 = kv;
    k1.mod_revision = 7;
    k2.mod_revision = 6;
    Mvccpb__Event e1 = MVCCPB__EVENT__INIT, e2 = MVCCPB__EVENT__INIT;
    e1.kv = &k1;
    e2.kv = &k2;
    Mvccpb__Event *evs[] = {&e1, &e2};
    Etcdserverpb__WatchResponse wr = ETCDSERVERPB__WATCH_RESPONSE__INIT;
    wr.header = &h;
    wr.events = evs;
    wr.n_events = 2;
    ASSERT_EQ(decode(ETCD_OP_WATCH, &wr.base, NULL), ETCD_PROTOCOL);
    k2.mod_revision = 8;
    ASSERT_EQ(decode(ETCD_OP_WATCH, &wr.base, NULL), ETCD_OK);
    k2.mod_revision = 11;
    ASSERT_EQ(decode(ETCD_OP_WATCH, &wr.base, NULL), ETCD_PROTOCOL);
    k2.mod_revision = 8;
    e2.kv = NULL;
    ASSERT_EQ(decode(ETCD_OP_WATCH, &wr.base, NULL), ETCD_PROTOCOL);
    e2.kv = &k2;
    wr.fragment = 1;
    ASSERT_EQ(decode(ETCD_OP_WATCH, &wr.base, NULL), ETCD_PROTOCOL);

    /* truncated bytes */
    size_t n = protobuf_c_message_get_packed_size(&rr.base);
    uint8_t *b = malloc(n);
    protobuf_c_message_pack(&rr.base, b);
    etcd_result *r = etcd_result_new(1, NULL, ETCD_OP_RANGE);
    ASSERT_EQ(etcd_decode(&ks, ETCD_OP_RANGE, NULL, b, n - 1, r, NULL), ETCD_PROTOCOL);
    etcd_result_free(r);
    free(b);
}

TEST_MAIN(T(test_keyspace), T(test_encode_refuses), T(test_decode_refuses))
