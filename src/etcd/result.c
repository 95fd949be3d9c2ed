/* result.c: result allocation, the one free function, and status names. */
#include "etcd/result.h"

#include <stdlib.h>
#include <string.h>

etcd_result *etcd_result_new(uint64_t id, void *user, etcd_op_type type)
{
    struct etcd_result_box *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->pub.id = id;
    b->pub.user = user;
    b->pub.type = type;
    b->pub.message = "";
    b->pub.r.type = type;
    return &b->pub;
}

void *etcd_result_alloc(etcd_result *r, size_t n)
{
    return etcd_arena_alloc(&((struct etcd_result_box *)r)->arena, n);
}

char *etcd_result_dup(etcd_result *r, const void *p, size_t n)
{
    return etcd_arena_dup(&((struct etcd_result_box *)r)->arena, p, n);
}

void etcd_result_fail(etcd_result *r, etcd_status s, int grpc_code, const char *msg, size_t len)
{
    r->status = s;
    r->grpc_code = grpc_code;
    if (msg) {
        if (len > 1024)
            len = 1024; /* a server's text is for logs; bound what we keep */
        const char *m = etcd_result_dup(r, msg, len);
        r->message = m ? m : "";
    }
}

void etcd_result_free(etcd_result *r)
{
    if (!r)
        return;
    struct etcd_result_box *b = (struct etcd_result_box *)r;
    etcd_arena_free(&b->arena);
    free(b);
}

const char *etcd_status_name(etcd_status s)
{
    switch (s) {
    case ETCD_OK: return "ok";
    case ETCD_FAILED: return "compare failed";
    case ETCD_UNAVAILABLE: return "unavailable";
    case ETCD_UNKNOWN: return "outcome unknown";
    case ETCD_REJECTED: return "rejected";
    case ETCD_PROTOCOL: return "protocol error";
    case ETCD_COMPACTED: return "compacted";
    case ETCD_CANCELED: return "canceled";
    case ETCD_LEASE_EXPIRED: return "lease expired";
    }
    return "?";
}
