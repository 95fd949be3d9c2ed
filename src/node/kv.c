/* kv.c: the bridge between the core and the etcd client (strong scopes, --etcd). The shell
 * adds no meaning here: an RS_OUT_KV operation goes to etcd_submit with the core's kv_id as
 * the user pointer, every etcd result comes back to the core as one RS_IN_KV input and is
 * freed after it, and RS_OUT_KV_CANCEL ends the stream the core started as kv_id. The
 * client runs in a thread of its own; the loop polls its eventfd.
 *
 * Operations are submitted right after the rs_core_apply that produced them, not when
 * rsd_perform walks the outputs: an operation points into the core's memory only until
 * the next apply, and a read batch applies several frames before it performs. A submit
 * that fails is answered at once with a result of status ETCD_REJECTED, fed in the flush
 * phase of rsd_perform (never inside an apply), so that the core never waits forever. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/map.h"
#include "etcd/etcd.h"
#include "node/log.h"
#include "node/node.h"

/* Results taken per wake-up of the loop; the eventfd stays readable while more wait. */
#define KV_BATCH 64

/* An operation in flight: what RS_OUT_KV_CANCEL needs to name it to the client. */
struct kv_live {
    uint64_t kv_id;
    uint64_t etcd_id;
};

/* A submit the client refused, waiting to be answered as ETCD_REJECTED. */
struct kv_reject {
    struct kv_reject *next;
    uint64_t kv_id;
    etcd_op_type type;
};

static void oom(void)
{
    rs_log(RS_LOG_ERROR, "out of memory in the etcd bridge: aborting");
    abort();
}

static int live_eq(const void *item, const void *key)
{
    return ((const struct kv_live *)item)->kv_id == *(const uint64_t *)key;
}

static uint64_t live_hash(const struct rsd *n, uint64_t kv_id)
{
    return rs_hash_u64(n->incarnation, kv_id);
}

static void forget(struct rsd *n, uint64_t kv_id)
{
    rs_free(rs_map_del(&n->kv_live, live_hash(n, kv_id), &kv_id, live_eq));
}

/* ended forgets the operation whose final result came, unless the core has since reused its
 * kv_id for a newer one (which then stays cancellable). */
static void ended(struct rsd *n, uint64_t kv_id, uint64_t etcd_id)
{
    struct kv_live *l = rs_map_get(&n->kv_live, live_hash(n, kv_id), &kv_id, live_eq);
    if (l && l->etcd_id == etcd_id)
        forget(n, kv_id);
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    struct rsd *n = p->data;
    (void)events;
    if (status < 0) {
        rs_log(RS_LOG_ERROR, "etcd client: polling its descriptor failed: %s",
               uv_strerror(status));
        return;
    }
    /* etcd's answers carry the lease's fate: read the clock afresh for them, so a loop turn
     * that ran long (or a process stopped in the middle of one) never makes the core judge
     * its lease by a time it has already passed. Client frames keep the turn's cached time. */
    uv_update_time(&n->loop);
    for (int i = 0; i < KV_BATCH; i++) {
        etcd_result *r = etcd_next(n->kv);
        if (!r)
            break;
        if (r->final)
            ended(n, (uint64_t)(uintptr_t)r->user, r->id);
        struct rs_input in = {.kind = RS_IN_KV, .now_ms = rsd_now(n), .kv = r};
        rsd_apply(n, &in);
        etcd_result_free(r);
    }
    rsd_perform(n);
}

int rsd_kv_start(struct rsd *n)
{
    const struct rsd_config *cfg = n->cfg;
    etcd_config ec = {
        .endpoints = cfg->etcd,
        .prefix = cfg->etcd_prefix,
        .ca_file = cfg->etcd_ca,
        .cert_file = cfg->etcd_cert,
        .key_file = cfg->etcd_key,
        .timeout_ms = (int)cfg->etcd_timeout_ms,
    };
    const char *why = NULL;
    n->kv = etcd_client_create(&ec, &why);
    if (!n->kv) {
        rs_log(RS_LOG_ERROR, "cannot start the etcd client for --etcd %s: %s", cfg->etcd,
               why ? why : "unknown reason");
        return -1;
    }
    int r = uv_poll_init(&n->loop, &n->kv_poll, etcd_client_fd(n->kv));
    if (r == 0) {
        n->kv_poll.data = n;
        r = uv_poll_start(&n->kv_poll, UV_READABLE, on_readable);
        n->kv_polling = 1; /* initialised: rsd_kv_stop closes it */
    }
    if (r < 0) {
        rs_log(RS_LOG_ERROR, "cannot poll the etcd client: %s", uv_strerror(r));
        return -1;
    }
    rs_log(RS_LOG_INFO, "strong scopes: etcd %s, prefix %s, %s, lease TTL %u ms, "
           "operation timeout %u ms", cfg->etcd, cfg->etcd_prefix,
           !cfg->etcd_ca ? "plaintext" : cfg->etcd_cert ? "TLS with a client certificate" : "TLS",
           cfg->etcd_lease_ttl_ms, cfg->etcd_timeout_ms);
    return 0;
}

static void submit(struct rsd *n, const struct rs_output *out)
{
    uint64_t id = n->kv ? etcd_submit(n->kv, out->kv, (void *)(uintptr_t)out->kv_id) : 0;
    if (id) {
        struct kv_live *l = rs_malloc(sizeof *l);
        if (!l)
            oom();
        l->kv_id = out->kv_id;
        l->etcd_id = id;
        forget(n, out->kv_id); /* a kv_id the core reuses names its newest operation */
        if (rs_map_put(&n->kv_live, live_hash(n, out->kv_id), l) != 0)
            oom();
        return;
    }
    struct kv_reject *j = rs_malloc(sizeof *j);
    if (!j)
        oom();
    *j = (struct kv_reject){.kv_id = out->kv_id, .type = out->kv ? out->kv->type : 0};
    *n->kv_rejected_tail = j;
    n->kv_rejected_tail = &j->next;
}

static void cancel(struct rsd *n, uint64_t kv_id)
{
    struct kv_live *l = rs_map_get(&n->kv_live, live_hash(n, kv_id), &kv_id, live_eq);
    if (l && n->kv)
        etcd_cancel(n->kv, l->etcd_id); /* its final result (CANCELED) forgets it */
}

void rsd_kv_outputs(struct rsd *n, size_t first)
{
    for (size_t i = first; i < n->outs.n; i++) {
        const struct rs_output *out = &n->outs.v[i];
        if (out->kind == RS_OUT_KV)
            submit(n, out);
        else if (out->kind == RS_OUT_KV_CANCEL)
            cancel(n, out->kv_id);
    }
}

int rsd_kv_pending(const struct rsd *n)
{
    return n->kv_rejected != NULL;
}

void rsd_kv_feed_rejected(struct rsd *n)
{
    while (n->kv_rejected) {
        struct kv_reject *j = n->kv_rejected;
        n->kv_rejected = j->next;
        if (!n->kv_rejected)
            n->kv_rejected_tail = &n->kv_rejected;
        etcd_result r = {
            .user = (void *)(uintptr_t)j->kv_id,
            .type = j->type,
            .status = ETCD_REJECTED,
            .final = true,
            .message = "the etcd client refused the operation (malformed, or out of memory)",
        };
        rs_free(j);
        struct rs_input in = {.kind = RS_IN_KV, .now_ms = rsd_now(n), .kv = &r};
        rsd_apply(n, &in);
    }
}

void rsd_kv_stop(struct rsd *n)
{
    if (n->kv_polling) {
        uv_poll_stop(&n->kv_poll);
        uv_close((uv_handle_t *)&n->kv_poll, NULL);
        n->kv_polling = 0;
    }
}

void rsd_kv_free(struct rsd *n)
{
    /* Streams still open are cancelled and results not taken are freed by the client. */
    etcd_client_destroy(n->kv);
    n->kv = NULL;
    for (size_t i = 0; i < n->kv_live.cap; i++)
        rs_free(n->kv_live.slots[i].item);
    rs_map_fini(&n->kv_live);
    while (n->kv_rejected) {
        struct kv_reject *j = n->kv_rejected;
        n->kv_rejected = j->next;
        rs_free(j);
    }
    n->kv_rejected_tail = &n->kv_rejected;
}
