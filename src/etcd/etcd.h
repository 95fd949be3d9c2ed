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

#include "wire/kv.h"

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
