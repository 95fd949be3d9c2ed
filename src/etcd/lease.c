/* lease.c: a LeaseKeepAlive stream that renews one lease every third of its TTL, reports
 * each renewal, and reports the lease lost (ETCD_LEASE_EXPIRED, final) either when etcd
 * says it is gone or when the local monotonic clock says it may be: a lease counts as lost
 * once 5/6 of its TTL has passed since the send of the last request that renewed it, so
 * the holder hears it before etcd can let it expire. A lost stream is opened again on the
 * next endpoint while the lease may still be alive. */
#include <stdlib.h>

#include "etcd/internal.h"

static void send_keepalive(struct etcd_stream *s, int64_t now)
{
    uint8_t *buf;
    size_t len;
    s->hook_at = now + s->ttl_ms / 3;
    if (s->send_busy || !s->call || s->ended)
        return;
    if (etcd_encode_keepalive(s->req->lease, &buf, &len) == 0) {
        etcd_stream_send(s, buf, len);
        if (s->send_busy && s->sent_at == 0)
            s->sent_at = now; /* the oldest unanswered request bounds the renewal */
    }
}

static void opened(struct etcd_stream *s)
{
    int64_t now = etcd_now_ms();
    if (s->ttl_ms == 0) {
        s->ttl_ms = s->req->ttl * 1000;
        s->lost_at = now + s->ttl_ms * 5 / 6;
    }
    s->sent_at = 0;
    send_keepalive(s, now);
}

static void message(struct etcd_stream *s, const uint8_t *p, size_t n)
{
    struct etcd_req *q = s->req;
    etcd_result *r = etcd_result_new(q->id, q->user, q->type);
    if (!r)
        return;
    etcd_status st = etcd_decode(&s->c->ks, ETCD_OP_KEEPALIVE, NULL, p, n, r, NULL);
    if (st == ETCD_OK && r->lease_id != q->lease)
        st = ETCD_PROTOCOL;
    if (st != ETCD_OK) {
        if (st == ETCD_PROTOCOL)
            etcd_result_fail(r, st, 0, "malformed keepalive response", 28);
        else
            etcd_result_fail(r, st, 0, "etcd: lease not found", 21);
        etcd_stream_finish(s, r);
        return;
    }
    if (s->sent_at) {
        s->ttl_ms = r->ttl * 1000;
        s->lost_at = s->sent_at + s->ttl_ms * 5 / 6;
        s->sent_at = 0;
    }
    etcd_post(s->c, r);
}

static void closed(struct etcd_stream *s, grpc_status_code code, const char *why, size_t len)
{
    struct etcd_req *q = s->req;
    etcd_result *r = etcd_result_new(q->id, q->user, q->type);
    if (!etcd_status_transient(code)) {
        /* over max_response: a bound, not etcd's refusal */
        etcd_status st = code == GRPC_STATUS_RESOURCE_EXHAUSTED ? ETCD_PROTOCOL : ETCD_REJECTED;
        if (r)
            etcd_result_fail(r, st, (int)code, why, len);
        etcd_stream_finish(s, r);
        return;
    }
    if (r) {
        etcd_result_fail(r, ETCD_UNAVAILABLE, (int)code, why, len);
        etcd_post(s->c, r);
    }
    s->hook_at = 0;
    etcd_stream_retry(s, 100);
}

static void timer(struct etcd_stream *s, int64_t now)
{
    if (s->lost_at && now >= s->lost_at) {
        etcd_result *r = etcd_result_new(s->req->id, s->req->user, s->req->type);
        if (r) {
            etcd_result_fail(r, ETCD_LEASE_EXPIRED, 0, "not renewed in time", 19);
            r->lease_id = s->req->lease;
        }
        etcd_stream_finish(s, r);
        return;
    }
    if (s->hook_at && now >= s->hook_at)
        send_keepalive(s, now);
    /* wake at the local expiry too, even with nothing to send */
    if (s->lost_at && (s->hook_at == 0 || s->lost_at < s->hook_at))
        s->hook_at = s->lost_at;
}

const struct etcd_stream_ops etcd_keepalive_ops = {
    .method = "/etcdserverpb.Lease/LeaseKeepAlive",
    .opened = opened,
    .message = message,
    .closed = closed,
    .timer = timer,
};
