/* watch.c: a Watch stream for one key or prefix. Events come back in revision order with
 * the revision each happened at; a lost stream is opened again on the next endpoint from
 * the revision after the last one seen, so no event is missed or repeated; a start
 * revision that etcd has compacted away ends the watch with ETCD_COMPACTED. */
#include <stdlib.h>

#include "etcd/internal.h"

static void send_create(struct etcd_stream *s)
{
    struct etcd_req *q = s->req;
    uint8_t *buf;
    size_t len;
    if (!s->created)
        s->next_rev = q->revision;
    /* progress_notify: a quiet watch still learns how far it is, so a resume after a
     * long silence does not start from a revision compacted since */
    if (etcd_encode_watch_create(q->key, q->key_len, q->end, q->end_len, s->next_rev,
                                 q->prev_kv, &buf, &len) == 0)
        etcd_stream_send(s, buf, len);
}

static void message(struct etcd_stream *s, const uint8_t *p, size_t n)
{
    struct etcd_req *q = s->req;
    etcd_result *r = etcd_result_new(q->id, q->user, q->type);
    if (!r)
        return;
    struct etcd_watch_info wi = {0};
    etcd_status st = etcd_decode(&s->c->ks, ETCD_OP_WATCH, NULL, p, n, r, &wi);
    if (st != ETCD_OK) {
        etcd_result_fail(r, st, 0, "malformed watch response", 24);
        etcd_stream_finish(s, r);
        return;
    }
    if (wi.canceled) {
        if (r->compact_revision > 0)
            r->status = ETCD_COMPACTED;
        else
            etcd_result_fail(r, ETCD_REJECTED, 0, NULL, 0);
        etcd_stream_finish(s, r);
        return;
    }
    bool first = wi.created && !s->created;
    if (wi.created) {
        /* Watching "from now": from here on, resume after the revision it started at. */
        if (s->next_rev == 0)
            s->next_rev = r->revision + 1;
        s->created = true;
    }
    if (r->n_events)
        s->next_rev = r->events[r->n_events - 1].kv.mod_revision + 1;
    else if (!wi.created && r->revision + 1 > s->next_rev)
        s->next_rev = r->revision + 1; /* progress notice: nothing of ours up to there */
    if (first || r->n_events)
        etcd_post(s->c, r); /* the first creation tells the caller the watch is live */
    else
        etcd_result_free(r);
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
    /* Tell the caller (it may log it), then resume elsewhere. */
    if (r) {
        etcd_result_fail(r, ETCD_UNAVAILABLE, (int)code, why, len);
        r->revision = s->next_rev;
        etcd_post(s->c, r);
    }
    etcd_stream_retry(s, 100);
}

static void timer(struct etcd_stream *s, int64_t now)
{
    (void)s;
    (void)now;
}

const struct etcd_stream_ops etcd_watch_ops = {
    .method = "/etcdserverpb.Watch/Watch",
    .opened = send_create,
    .message = message,
    .closed = closed,
    .timer = timer,
};
