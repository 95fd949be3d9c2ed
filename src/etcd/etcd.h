/* etcd.h: roster's client for etcd's v3 gRPC API (KV, Txn, Lease, Watch), the engine of
 * strong scopes. The client runs in its own thread: a caller submits operations from any
 * thread (etcd_submit never blocks on the network) and collects results from a queue whose
 * eventfd (etcd_client_fd) becomes readable when a result is waiting, so a libuv loop can
 * poll it. Every key given or returned is relative to the client's key prefix (one etcd
 * cluster serves several roster clusters); the prefix is added and checked in one place. */
#ifndef ROSTER_ETCD_ETCD_H
#define ROSTER_ETCD_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct etcd_client etcd_client;

typedef struct etcd_config {
    const char *endpoints;   /* "host:port[,host:port...]"; http:// or https:// accepted */
    const char *prefix;      /* key prefix of this roster cluster, e.g. "/roster/c1/" */
    const char *ca_file;     /* TLS: PEM roots; NULL for plaintext */
    const char *cert_file;   /* TLS client certificate (PEM), with key_file; optional */
    const char *key_file;
    size_t max_response;     /* largest response accepted, bytes; 0: 4 MiB */
    int timeout_ms;          /* deadline of an operation without its own; 0: 5000 */
} etcd_config;

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
    const struct etcd_op *success; /* txn: range, put or delete ops */
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

/* What one range, put or delete gave, alone or inside a txn. */
typedef struct etcd_op_result {
    etcd_op_type type;
    etcd_kv *kvs; /* range: the keys; put, delete with prev_kv: the values before */
    size_t n_kvs;
    int64_t count;   /* range: keys in the range (may exceed n_kvs with a limit) */
    bool more;       /* range: more keys than returned */
    int64_t deleted; /* delete: keys deleted */
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

const char *etcd_status_name(etcd_status s);

/* etcd_client_create starts the client thread; NULL with *err set (static text) when the
 * configuration is unusable. Connections are made lazily, on first use. */
etcd_client *etcd_client_create(const etcd_config *cfg, const char **err);
/* etcd_client_destroy cancels what is in flight, joins the thread and frees every result
 * not collected. */
void etcd_client_destroy(etcd_client *c);

/* etcd_submit queues op; returns its id (> 0), or 0 when op is malformed or memory ran out.
 * A watch or keepalive goes on giving results (final = false) until etcd_cancel or until
 * it fails for good. */
uint64_t etcd_submit(etcd_client *c, const etcd_op *op, void *user);
/* etcd_cancel ends the watch or keepalive id; its final result says ETCD_CANCELED. */
void etcd_cancel(etcd_client *c, uint64_t id);

/* An eventfd, readable while results are waiting. */
int etcd_client_fd(const etcd_client *c);
/* etcd_next takes the oldest waiting result, or NULL when there is none. Never blocks. */
etcd_result *etcd_next(etcd_client *c);
/* etcd_wait blocks up to timeout_ms for a result (for tests and tools, not for a loop). */
etcd_result *etcd_wait(etcd_client *c, int timeout_ms);
void etcd_result_free(etcd_result *r);

#endif
