/* kvlease.c: the node's one etcd lease (docs/STRONG.md, "Lease, renewal and
 * self-fencing"). The core renews it itself every TTL/3 (a keepalive stream opened for one
 * renewal, then closed), so the send time of every renewal is bounded by the core's own
 * monotonic clock; when no renewal has been confirmed for TTL - margin after the last
 * confirmed one was sent, the node fences itself: its holders hear lease_lost and its
 * entries leave the local copy before etcd can expire the lease and grant the names to
 * someone else. Then a new lease as soon as etcd answers, and the old one is revoked. */
#include <stdio.h>
#include <string.h>

#include "core/kvstate.h"
#include "core/output.h"
#include "core/strong.h"
#include "core/util.h"

/* Renewals per TTL: one every third of it, so two may fail before the fence. */
#define RENEWALS_PER_TTL 3
/* Retry delay of a failed lease grant. */
#define RETRY_MS 500

static struct rs_kvop *node_op(struct rs_core *c, int kind)
{
    return rs_kv_op_new(c, kind, NULL, NULL);
}

void rs_kvlease_grant(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    struct rs_kvop *o = node_op(c, KV_GRANT);
    etcd_op *op = rs_kv_ops(c, 1);
    if (!o || !op)
        return;
    op->type = ETCD_OP_LEASE_GRANT;
    op->ttl = (k->ttl_ms + 999) / 1000;
    op->timeout_ms = (int)k->timeout_ms;
    k->grant_id = o->id;
    k->grant_sent = c->now_ms;
    rs_kv_submit(c, o, op);
}

/* The node/<inc> key: this node's lease and name, for a handoff to one of its pids. */
static void node_key(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    struct rs_kvop *o = node_op(c, KV_NODEKEY);
    etcd_op *op = rs_kv_ops(c, 1);
    if (!o || !op)
        return;
    char inc[17];
    snprintf(inc, sizeof inc, "%016llx", (unsigned long long)c->inc);
    rs_buf_reset(&k->scratch);
    if (rs_kvk_node(&k->scratch, rs_bytes_of(inc, 16)) != 0) {
        c->oom = 1;
        return;
    }
    op->type = ETCD_OP_PUT;
    rs_kv_set_key(c, op, &k->scratch);
    struct rs_kvrec r;
    memset(&r, 0, sizeof r);
    r.kind = RS_KVK_NAME; /* a record: node, inc; token = the lease id */
    memcpy(r.node, c->node, c->node_len);
    r.node_len = (uint8_t)c->node_len;
    r.pid.inc = c->inc;
    r.token = (uint64_t)k->lease;
    r.key = rs_bytes_of(inc, 16);
    if (rs_kv_rec_value(c, op, &r) != 0)
        return;
    op->lease = k->lease;
    op->timeout_ms = (int)k->timeout_ms;
    rs_kv_submit(c, o, op);
}

static void revoke(struct rs_core *c, int64_t lease)
{
    struct rs_kvop *o = node_op(c, KV_REVOKE);
    etcd_op *op = rs_kv_ops(c, 1);
    if (!o || !op)
        return;
    op->type = ETCD_OP_LEASE_REVOKE;
    op->lease = lease;
    op->timeout_ms = (int)c->kv->timeout_ms;
    rs_kv_submit(c, o, op);
}

static void renew(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    struct rs_kvop *o = node_op(c, KV_KEEPALIVE);
    etcd_op *op = rs_kv_ops(c, 1);
    if (!o || !op)
        return;
    op->type = ETCD_OP_KEEPALIVE;
    op->lease = k->lease;
    op->ttl = (k->ttl_ms + 999) / 1000;
    o->lease = k->lease;
    k->ka_id = o->id;
    k->ka_sent = c->now_ms;
    rs_kv_submit(c, o, op);
}

static void end_keepalive(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    if (!k->ka_id)
        return;
    struct rs_kvop *o = rs_kv_op_find(c, k->ka_id);
    if (o)
        o->done = 1; /* its final result (CANCELED) frees it */
    rs_out_kv_cancel(c, k->ka_id);
    k->ka_id = 0;
}

/* fence: the lease may expire at etcd before we hear from it again. Our holders are told
 * now (reason lease_lost) and our entries leave the local copy, so that no local holder
 * goes on believing it owns a name etcd may give to another node. */
static void fence(struct rs_core *c, const char *why)
{
    struct rs_kv *k = c->kv;
    if (!k->lease)
        return;
    rs_out_log(c, RS_LOG_WARN, "strong scopes: etcd lease %llx may expire (%s): "
               "this node's strong names and memberships are dropped (lease_lost)",
               (unsigned long long)k->lease, why);
    k->old_lease = k->lease;
    k->lease = 0;
    end_keepalive(c);
    /* first what etcd may hold under the lease that the copy does not show: writes in
     * flight or answered ahead of the copy, names taken over for another node's handoff */
    rs_kvunseen_fence(c, k->old_lease);
    for (size_t i = 0; i < c->scopes.cap; i++) {
        struct rs_scope *s = c->scopes.slots[i].item;
        if (!s || !s->kv)
            continue;
        struct rs_kent **v;
        size_t n = rs_kvcopy_all(c, s, &v);
        for (size_t j = 0; j < n; j++)
            if (v[j]->rec.pid.inc == c->inc)
                rs_kvcopy_remove(c, s, v[j], ROSTER_REASON_LEASE_LOST, k->rev, 1);
        rs_free(v);
    }
    rs_kvelect_fence(c);
    k->grant_at = c->now_ms; /* a new lease as soon as etcd answers */
}

void rs_kvlease_check(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    if (k->lease && c->now_ms + k->margin_ms >= k->confirmed + k->ttl_ms)
        fence(c, "no renewal confirmed in time by this node's clock");
}

void rs_kvlease_tick(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    if (k->lease && !k->ka_id && c->now_ms >= k->renew_at)
        renew(c);
    if (!k->lease && !k->grant_id && c->now_ms >= k->grant_at)
        rs_kvlease_grant(c);
}

static void on_grant(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    struct rs_kv *k = c->kv;
    (void)o;
    k->grant_id = 0;
    if (r->status != ETCD_OK || r->lease_id == 0) {
        k->grant_at = c->now_ms + RETRY_MS;
        rs_out_log(c, RS_LOG_DEBUG, "strong scopes: etcd lease grant failed (%s): retrying",
                   rs_kv_status_name(r->status));
        return;
    }
    k->lease = r->lease_id;
    k->confirmed = k->grant_sent;
    k->renew_at = c->now_ms + k->ttl_ms / RENEWALS_PER_TTL;
    rs_out_log(c, RS_LOG_INFO, "strong scopes: etcd lease %llx granted (TTL %u ms)",
               (unsigned long long)k->lease, k->ttl_ms);
    node_key(c);
    if (k->old_lease) {
        revoke(c, k->old_lease);
        k->old_lease = 0;
    }
}

static void on_keepalive(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    struct rs_kv *k = c->kv;
    if (o->done || o->lease != k->lease || k->ka_id != o->id)
        return;
    if (r->status == ETCD_OK && r->ttl > 0) {
        if (k->ka_sent > k->confirmed)
            k->confirmed = k->ka_sent;
        k->renew_at = c->now_ms + k->ttl_ms / RENEWALS_PER_TTL;
        end_keepalive(c);
        return;
    }
    if (r->status == ETCD_LEASE_EXPIRED || r->status == ETCD_REJECTED) {
        fence(c, "etcd says the lease is gone");
        return;
    }
    if (r->final) {
        k->ka_id = 0;
        k->renew_at = c->now_ms + RETRY_MS / 5;
    }
}

void rs_kvlease_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    if (o->kind == KV_GRANT)
        on_grant(c, o, r);
    else
        on_keepalive(c, o, r);
}
