/* codec.h: etcd's protobuf messages to and from roster's structs. Encoding applies the key
 * prefix; decoding checks every field before it is used (key inside the prefix, enums,
 * counts, the txn's answer matching its request) and copies into the result's arena, so
 * nothing of protobuf-c's memory reaches the caller. */
#ifndef ROSTER_ETCD_CODEC_H
#define ROSTER_ETCD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etcd/etcd.h"
#include "etcd/keyspace.h"

/* The op types of a txn's two branches, to check its answer against. */
struct etcd_txn_shape {
    uint8_t *succ, *fail; /* etcd_op_type values */
    size_t n_succ, n_fail;
    /* per op of a branch, the shape of a nested txn (NULL when the branch has none) */
    struct etcd_txn_shape *sub_succ, *sub_fail;
};

/* How deep txns may nest (the outer txn is depth 1), in requests and in answers: roster
 * needs 2; the bound keeps the recursion of encoding, protobuf-c's unpacking and the
 * checks of decode.c small whatever a server sends. */
#define ETCD_TXN_DEPTH_MAX 4u

/* etcd_encode packs a unary op (range, put, delete, txn, lease grant, lease revoke) into a
 * malloc'd buffer; fills shape for a txn (malloc'd arrays, free with etcd_shape_free) and
 * *is_write. Returns 0, or -1 for a malformed op or no memory. */
int etcd_encode(const struct etcd_keyspace *ks, const etcd_op *op, uint8_t **buf, size_t *len,
                struct etcd_txn_shape *shape, bool *is_write);
void etcd_shape_free(struct etcd_txn_shape *shape);
int etcd_encode_watch_create(const void *key, size_t key_len, const void *end, size_t end_len,
                             int64_t start_revision, bool prev_kv, uint8_t **buf, size_t *len);
int etcd_encode_keepalive(int64_t lease, uint8_t **buf, size_t *len);

/* What a watch response says besides its events. */
struct etcd_watch_info {
    bool created, canceled;
};

/* etcd_decode reads a response of op type `type` into r (revision, kvs, ops, lease, events)
 * and returns ETCD_OK, ETCD_FAILED (txn compare false), ETCD_LEASE_EXPIRED (keepalive TTL
 * <= 0) or ETCD_PROTOCOL. shape is for a txn, wi for a watch (else NULL). */
etcd_status etcd_decode(const struct etcd_keyspace *ks, etcd_op_type type,
                        const struct etcd_txn_shape *shape, const uint8_t *buf, size_t len,
                        etcd_result *r, struct etcd_watch_info *wi);

#endif
