/* result.h: building results (etcd_result plus the arena holding everything it points to)
 * and linking them into the client's result queue. */
#ifndef ROSTER_ETCD_RESULT_H
#define ROSTER_ETCD_RESULT_H

#include "etcd/arena.h"
#include "etcd/etcd.h"

struct etcd_result_box {
    etcd_result pub; /* first: a result pointer is a box pointer */
    struct etcd_arena arena;
    struct etcd_result_box *next;
    uint64_t raft_term; /* the answering member's term (header), 0 if none (stall.c) */
};

etcd_result *etcd_result_new(uint64_t id, void *user, etcd_op_type type);
void *etcd_result_alloc(etcd_result *r, size_t n);
char *etcd_result_dup(etcd_result *r, const void *p, size_t n);
/* etcd_result_fail sets a status other than OK with gRPC's code and text (copied). */
void etcd_result_fail(etcd_result *r, etcd_status s, int grpc_code, const char *msg, size_t len);

#endif
