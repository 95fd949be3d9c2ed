/* kv.h: etcd's v3 data model as plain C values (operations, compares, key-values, events,
 * results), shared by the etcd client (src/etcd, which speaks gRPC) and the pure core (which
 * builds operations for strong scopes and reads their results as inputs). No behaviour
 * here: the meaning of each field is etcd's (docs/STRONG.md). */
#ifndef ROSTER_WIRE_KV_H
#define ROSTER_WIRE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The outcome of an operation. For a write, only ETCD_OK, ETCD_FAILED, ETCD_UNAVAILABLE
 * and ETCD_REJECTED say for sure whether it was applied: ETCD_UNKNOWN and ETCD_PROTOCOL
 * mean it may or may not have been. */
typedef enum etcd_status {
    ETCD_OK = 0,
    ETCD_FAILED,        /* a txn's compare was false: the failure branch ran */
    ETCD_UNAVAILABLE,   /* no endpoint reachable or no leader: not applied */
    ETCD_UNKNOWN,       /* deadline passed or connection lost once sent: outcome unknown */
    ETCD_REJECTED,      /* etcd refused it (lease not found, bad argument...): not applied */
    ETCD_PROTOCOL,      /* the answer broke the protocol or a bound (too large, malformed) */
    ETCD_COMPACTED,     /* watch: start revision compacted; see compact_revision */
    ETCD_CANCELED,      /* stream ended by etcd_cancel or by the client's shutdown */
    ETCD_LEASE_EXPIRED, /* keepalive: the lease is gone, or could not be renewed in time */
} etcd_status;

typedef enum etcd_op_type {
    ETCD_OP_RANGE = 1,
    ETCD_OP_PUT,
    ETCD_OP_DELETE,
    ETCD_OP_TXN,
    ETCD_OP_LEASE_GRANT,
    ETCD_OP_LEASE_REVOKE,
    ETCD_OP_KEEPALIVE,
    ETCD_OP_WATCH,
    ETCD_OP_COMPACT, /* drop history before revision (tests, maintenance) */
} etcd_op_type;

typedef enum etcd_cmp_target {
    ETCD_CMP_VERSION = 0,
    ETCD_CMP_CREATE = 1,
    ETCD_CMP_MOD = 2,
    ETCD_CMP_VALUE = 3,
} etcd_cmp_target;

typedef enum etcd_cmp_result {
    ETCD_CMP_EQUAL = 0,
    ETCD_CMP_GREATER = 1,
    ETCD_CMP_LESS = 2,
    ETCD_CMP_NOT_EQUAL = 3,
} etcd_cmp_result;

typedef struct etcd_compare {
    const void *key;
    size_t key_len;
    etcd_cmp_target target;
    etcd_cmp_result result;
    int64_t number; /* version, create or mod revision */
    const void *value;
    size_t value_len;
} etcd_compare;

/* One operation. Only the fields of its type are read; etcd_submit copies what it needs. */
typedef struct etcd_op {
    etcd_op_type type;
    const void *key;
    size_t key_len;
    const void *value; /* put */
    size_t value_len;
    bool prefix;       /* range, delete, watch: every key that starts with key */
    bool serializable; /* range: the member's local answer, not linearizable */
    bool prev_kv;      /* put, delete, watch: also return the value before */
    int64_t lease;     /* put: attach to lease; revoke, keepalive: the lease */
    int64_t ttl;       /* lease grant: seconds */
    int64_t limit;     /* range: at most this many keys (0: all) */
    int64_t revision;  /* range: read at; watch: first wanted; compact: keep from */
    const etcd_compare *cmp; /* txn */
    size_t n_cmp;
    const struct etcd_op *success; /* txn: range, put, delete or (nested) txn ops */
    size_t n_success;
    const struct etcd_op *failure;
    size_t n_failure;
    int timeout_ms; /* 0: the client's default; streams have none */
} etcd_op;

typedef struct etcd_kv {
    const char *key; /* without the client's prefix; NUL-terminated for convenience */
    size_t key_len;
    const char *value;
    size_t value_len;
    int64_t create_revision, mod_revision, version, lease;
} etcd_kv;

typedef struct etcd_event {
    bool is_delete;
    etcd_kv kv; /* for a delete: the key, and mod_revision the deletion's revision */
    bool has_prev;
    etcd_kv prev;
} etcd_event;

/* What one range, put, delete or nested txn gave, alone or inside a txn. */
typedef struct etcd_op_result {
    etcd_op_type type;
    etcd_kv *kvs; /* range: the keys; put, delete with prev_kv: the values before */
    size_t n_kvs;
    int64_t count;   /* range: keys in the range (may exceed n_kvs with a limit) */
    bool more;       /* range: more keys than returned */
    int64_t deleted; /* delete: keys deleted */
    /* a txn nested in a txn (RequestOp.request_txn, etcd >= 3.3): whether its own compare
     * held, and one result per op of the branch that ran */
    bool succeeded;
    struct etcd_op_result *ops;
    size_t n_ops;
} etcd_op_result;

/* A result; all its memory belongs to the caller and goes with one etcd_result_free. */
typedef struct etcd_result {
    uint64_t id; /* what etcd_submit returned */
    void *user;  /* what was given to etcd_submit */
    etcd_op_type type;
    etcd_status status;
    bool final;          /* the last result of this id (streams give many) */
    int grpc_code;       /* gRPC status when not OK (0 otherwise) */
    const char *message; /* why, when not OK ("" otherwise) */
    int64_t revision;    /* etcd's store revision when it answered */
    etcd_op_result r;    /* range, put, delete */
    etcd_op_result *ops; /* txn: one per op of the branch that ran */
    size_t n_ops;
    int64_t lease_id, ttl; /* lease grant and each keepalive renewal */
    int64_t watch_id, compact_revision;
    etcd_event *events; /* watch: in revision order */
    size_t n_events;
} etcd_result;

#endif
