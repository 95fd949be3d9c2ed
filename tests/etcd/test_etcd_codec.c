/* test_etcd_codec.c: src/etcd's codec without an etcd: the key prefix (range ends, strip),
 * requests it refuses to encode, and responses decode.c must refuse (keys outside the
 * prefix, a txn answer not matching its request, watch events out of order, negative
 * counts), built with protobuf-c as a misbehaving server would send them. */
#include <stdio.h>
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
    /* nesting deeper than ETCD_TXN_DEPTH_MAX */
    etcd_op deep[ETCD_TXN_DEPTH_MAX + 1];
    for (size_t i = 0; i <= ETCD_TXN_DEPTH_MAX; i++)
        deep[i] = (etcd_op){.type = ETCD_OP_TXN, .success = i < ETCD_TXN_DEPTH_MAX ? &deep[i + 1] : NULL,
                            .n_success = i < ETCD_TXN_DEPTH_MAX};
    ASSERT_EQ(etcd_encode(&ks, &deep[0], &buf, &len, &sh, &w), -1);
    ASSERT_EQ(etcd_encode(&ks, &deep[1], &buf, &len, &sh, &w), 0); /* exactly the bound */
    free(buf);
    etcd_shape_free(&sh);
    etcd_op rd = {.type = ETCD_OP_RANGE, .key = "k", .key_len = 1};
    etcd_op ok = {.type = ETCD_OP_TXN, .success = &rd, .n_success = 1};
    ASSERT_EQ(etcd_encode(&ks, &ok, &buf, &len, &sh, &w), 0);
    ASSERT(!w); /* a txn of reads is a read */
    ASSERT_EQ(sh.n_succ, 1);
    ASSERT_EQ(sh.succ[0], ETCD_OP_RANGE);
    free(buf);
    etcd_shape_free(&sh);
}

/* etcd's --max-txn-ops rule with nesting: a txn counts the largest of its compares and
 * branches, and a nested txn gets only what is left: 127 one-op nested txns fit in 128,
 * 128 do not; a nested txn of 2 ops beside 127 others does not either. */
static void test_encode_nested_budget(void)
{
    static etcd_op nested[128];
    static etcd_compare cmp[128];
    static etcd_op put[128], rd[128];
    static char keys[128][8];
    for (size_t i = 0; i < 128; i++) {
        int kl = snprintf(keys[i], sizeof keys[i], "k%zu", i);
        cmp[i] = (etcd_compare){.key = keys[i], .key_len = (size_t)kl, .target = ETCD_CMP_CREATE};
        put[i] = (etcd_op){.type = ETCD_OP_PUT, .key = keys[i], .key_len = (size_t)kl, .value = "v",
                           .value_len = 1};
        rd[i] = (etcd_op){.type = ETCD_OP_RANGE, .key = keys[i], .key_len = (size_t)kl};
        nested[i] = (etcd_op){.type = ETCD_OP_TXN, .cmp = &cmp[i], .n_cmp = 1, .success = &put[i],
                              .n_success = 1, .failure = &rd[i], .n_failure = 1};
    }
    uint8_t *buf;
    size_t len;
    struct etcd_txn_shape sh;
    bool w;
    etcd_op outer = {.type = ETCD_OP_TXN, .success = nested, .n_success = 127};
    ASSERT_EQ(etcd_encode(&ks, &outer, &buf, &len, &sh, &w), 0);
    ASSERT(w); /* nested puts make it a write */
    ASSERT_EQ(sh.n_succ, 127);
    ASSERT(sh.sub_succ != NULL);
    ASSERT_EQ(sh.succ[5], ETCD_OP_TXN);
    ASSERT_EQ(sh.sub_succ[5].n_succ, 1);
    ASSERT_EQ(sh.sub_succ[5].succ[0], ETCD_OP_PUT);
    ASSERT_EQ(sh.sub_succ[5].fail[0], ETCD_OP_RANGE);
    /* the bytes are etcd's: protobuf-c reads them back as a txn of nested txns */
    Etcdserverpb__TxnRequest *tr = etcdserverpb__txn_request__unpack(NULL, len, buf);
    ASSERT(tr != NULL);
    ASSERT_EQ(tr->n_success, 127);
    ASSERT_EQ(tr->success[3]->request_case, ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN);
    ASSERT_EQ(tr->success[3]->request_txn->n_compare, 1);
    ASSERT_EQ(tr->success[3]->request_txn->compare[0]->key.len, 5); /* "/p/k3" */
    ASSERT(memcmp(tr->success[3]->request_txn->compare[0]->key.data, "/p/k3", 5) == 0);
    etcdserverpb__txn_request__free_unpacked(tr, NULL);
    free(buf);
    etcd_shape_free(&sh);
    outer.n_success = 128;
    ASSERT_EQ(etcd_encode(&ks, &outer, &buf, &len, &sh, &w), -1);
    outer.n_success = 127;
    nested[126].n_success = 0; /* still one op: fits */
    ASSERT_EQ(etcd_encode(&ks, &outer, &buf, &len, &sh, &w), 0);
    free(buf);
    etcd_shape_free(&sh);
    etcd_op two[2] = {put[0], put[1]};
    nested[126].success = two;
    nested[126].n_success = 2; /* 2 > 128 - 127 */
    ASSERT_EQ(etcd_encode(&ks, &outer, &buf, &len, &sh, &w), -1);
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
    struct etcd_txn_shape sh = {succ, fail, 1, 1, NULL, NULL};
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

    /* nested txns: each answer checked against its own shape; results per member */
    {
        uint8_t osucc[] = {ETCD_OP_TXN, ETCD_OP_TXN};
        struct etcd_txn_shape subs[2] = {sh, sh};
        struct etcd_txn_shape outer = {osucc, NULL, 2, 0, subs, NULL};
        Mvccpb__KeyValue holder = kv;
        Mvccpb__KeyValue *hv[] = {&holder};
        Etcdserverpb__RangeResponse hr = ETCDSERVERPB__RANGE_RESPONSE__INIT;
        hr.kvs = hv;
        hr.n_kvs = 1;
        hr.count = 1;
        Etcdserverpb__ResponseOp rop = ETCDSERVERPB__RESPONSE_OP__INIT;
        rop.response_case = ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE;
        rop.response_range = &hr;
        Etcdserverpb__ResponseOp *rops[] = {&rop};
        Etcdserverpb__TxnResponse n1 = ETCDSERVERPB__TXN_RESPONSE__INIT, n2 = n1;
        n1.succeeded = 1;
        n1.responses = ops; /* the put */
        n1.n_responses = 1;
        n2.succeeded = 0;
        n2.responses = rops; /* the holder */
        n2.n_responses = 1;
        Etcdserverpb__ResponseOp o1 = ETCDSERVERPB__RESPONSE_OP__INIT, o2 = o1;
        o1.response_case = o2.response_case = ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_TXN;
        o1.response_txn = &n1;
        o2.response_txn = &n2;
        Etcdserverpb__ResponseOp *ov[] = {&o1, &o2};
        Etcdserverpb__TxnResponse t = ETCDSERVERPB__TXN_RESPONSE__INIT;
        t.header = &h;
        t.succeeded = 1;
        t.responses = ov;
        t.n_responses = 2;
        size_t n = protobuf_c_message_get_packed_size(&t.base);
        uint8_t *b = malloc(n);
        protobuf_c_message_pack(&t.base, b);
        etcd_result *r = etcd_result_new(1, NULL, ETCD_OP_TXN);
        ASSERT_EQ(etcd_decode(&ks, ETCD_OP_TXN, &outer, b, n, r, NULL), ETCD_OK);
        ASSERT_EQ(r->revision, 10);
        ASSERT_EQ(r->n_ops, 2);
        ASSERT_EQ(r->ops[0].type, ETCD_OP_TXN);
        ASSERT(r->ops[0].succeeded);
        ASSERT_EQ(r->ops[0].n_ops, 1);
        ASSERT_EQ(r->ops[0].ops[0].type, ETCD_OP_PUT);
        ASSERT(!r->ops[1].succeeded);
        ASSERT_EQ(r->ops[1].n_ops, 1);
        ASSERT_EQ(r->ops[1].ops[0].type, ETCD_OP_RANGE);
        ASSERT_EQ(r->ops[1].ops[0].n_kvs, 1);
        ASSERT_EQ(r->ops[1].ops[0].kvs[0].key_len, 1);
        ASSERT(memcmp(r->ops[1].ops[0].kvs[0].key, "a", 1) == 0);
        etcd_result_free(r);
        free(b);
        n2.responses = ops; /* the failure branch asked for a range, got a put */
        ASSERT_EQ(decode(ETCD_OP_TXN, &t.base, &outer), ETCD_PROTOCOL);
        n2.responses = rops;
        outer.sub_succ = NULL; /* a nested answer where none was asked */
        ASSERT_EQ(decode(ETCD_OP_TXN, &t.base, &outer), ETCD_PROTOCOL);
        outer.sub_succ = subs;
        ASSERT_EQ(decode(ETCD_OP_TXN, &t.base, &outer), ETCD_OK);

        /* nested deeper than the bound: refused from the raw bytes, before protobuf-c
         * recurses into them (a server could otherwise exhaust the stack) */
        Etcdserverpb__TxnResponse lv[ETCD_TXN_DEPTH_MAX + 1];
        Etcdserverpb__ResponseOp lo[ETCD_TXN_DEPTH_MAX + 1], *lp[ETCD_TXN_DEPTH_MAX + 1];
        for (size_t i = 0; i <= ETCD_TXN_DEPTH_MAX; i++) {
            etcdserverpb__txn_response__init(&lv[i]);
            etcdserverpb__response_op__init(&lo[i]);
            lv[i].header = &h;
            lv[i].succeeded = 1;
            lp[i] = &lo[i];
            if (i < ETCD_TXN_DEPTH_MAX) {
                lo[i].response_case = ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_TXN;
                lo[i].response_txn = &lv[i + 1];
                lv[i].responses = &lp[i];
                lv[i].n_responses = 1;
            }
        }
        ASSERT_EQ(decode(ETCD_OP_TXN, &lv[0].base, &outer), ETCD_PROTOCOL);
    }

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

TEST_MAIN(T(test_keyspace), T(test_encode_refuses), T(test_encode_nested_budget),
          T(test_decode_refuses))
