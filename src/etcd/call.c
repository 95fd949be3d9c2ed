/* call.c: one unary call (Range, Put, DeleteRange, Txn, LeaseGrant, LeaseRevoke) with
 * failover. A call that certainly did not reach etcd's state machine is tried on the next
 * endpoint within the same deadline; a write that may have reached it is never retried and
 * ends ETCD_UNKNOWN, so the caller is never told "not applied" about an applied write. */
#include <stdlib.h>
#include <string.h>

#include "etcd/internal.h"
#include "etcd/result.h"

static const char *method(etcd_op_type t)
{
    switch (t) {
    case ETCD_OP_RANGE: return "/etcdserverpb.KV/Range";
    case ETCD_OP_PUT: return "/etcdserverpb.KV/Put";
    case ETCD_OP_DELETE: return "/etcdserverpb.KV/DeleteRange";
    case ETCD_OP_TXN: return "/etcdserverpb.KV/Txn";
    case ETCD_OP_LEASE_GRANT: return "/etcdserverpb.Lease/LeaseGrant";
    case ETCD_OP_LEASE_REVOKE: return "/etcdserverpb.Lease/LeaseRevoke";
    case ETCD_OP_COMPACT: return "/etcdserverpb.KV/Compact";
    default: return NULL;
    }
}

static bool contains(grpc_slice s, const char *needle)
{
    size_t n = strlen(needle), len = GRPC_SLICE_LENGTH(s);
    const uint8_t *p = GRPC_SLICE_START_PTR(s);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(p + i, needle, n) == 0)
            return true;
    return false;
}

/* True when an UNAVAILABLE call certainly changed nothing: gRPC found no connection to
 * send it on, or etcd refused it up front because the member has no leader (we ask for
 * that refusal with the "hasleader" metadata). Anything else (a connection lost mid-call,
 * "request timed out", "leader changed") may come after the write was proposed. */
static bool never_sent(grpc_slice details)
{
    return contains(details, "failed to connect") || contains(details, "Connection refused") ||
           contains(details, "connections to all backends failing") ||
           contains(details, "etcdserver: no leader") || contains(details, "empty address list");
}

static void release(struct etcd_req *q)
{
    if (q->call)
        grpc_call_unref(q->call);
    q->call = NULL;
    grpc_byte_buffer_destroy(q->send_bb);
    q->send_bb = NULL;
    if (q->recv_bb)
        grpc_byte_buffer_destroy(q->recv_bb);
    q->recv_bb = NULL;
    grpc_metadata_array_destroy(&q->md_init);
    grpc_metadata_array_destroy(&q->md_trail);
    grpc_slice_unref(q->details);
    q->details = grpc_empty_slice();
}

static void finish(struct etcd_client *c, struct etcd_req *q, etcd_result *r)
{
    c->busy--;
    if (q->live_prev)
        q->live_prev->live_next = q->live_next;
    else
        c->calls = q->live_next;
    if (q->live_next)
        q->live_next->live_prev = q->live_prev;
    if (r) {
        r->final = true;
        etcd_post(c, r);
    }
    etcd_req_free(q);
}

void etcd_unary_start(struct etcd_client *c, struct etcd_req *q)
{
    if (q->attempts == 0) {
        c->busy++;
        q->live_next = c->calls;
        if (c->calls)
            c->calls->live_prev = q;
        c->calls = q;
        q->endpoint = c->preferred;
        q->details = grpc_empty_slice();
    }
    q->attempts++;
    q->sent_at = etcd_now_ms();
    q->term = c->probes ? c->probes[q->endpoint].term : 0;
    q->stalled = NULL;
    q->tag.kind = TAG_UNARY;
    q->tag.owner = q;
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)q->body, q->body_len);
    q->send_bb = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);
    grpc_metadata_array_init(&q->md_init);
    grpc_metadata_array_init(&q->md_trail);
    q->call = grpc_channel_create_call(c->ch[q->endpoint], NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                       grpc_slice_from_static_string(method(q->type)), NULL,
                                       etcd_deadline(q->deadline_ms), NULL);
    q->hasleader.key = grpc_slice_from_static_string("hasleader");
    q->hasleader.value = grpc_slice_from_static_string("true");
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = &q->hasleader;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = q->send_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &q->md_init;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &q->recv_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &q->md_trail;
    ops[5].data.recv_status_on_client.status = &q->status;
    ops[5].data.recv_status_on_client.status_details = &q->details;
    if (!q->call || grpc_call_start_batch(q->call, ops, 6, &q->tag, NULL) != GRPC_CALL_OK) {
        release(q);
        etcd_result *r = etcd_result_new(q->id, q->user, q->type);
        if (r)
            etcd_result_fail(r, ETCD_UNAVAILABLE, GRPC_STATUS_INTERNAL, "cannot start call", 17);
        finish(c, q, r);
    }
}

static etcd_status classify(const struct etcd_req *q, grpc_status_code code, bool *retry)
{
    *retry = false;
    switch (code) {
    case GRPC_STATUS_UNAVAILABLE:
        if (!q->is_write || never_sent(q->details)) {
            *retry = true;
            return ETCD_UNAVAILABLE;
        }
        return ETCD_UNKNOWN;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_CANCELLED:
        return ETCD_UNKNOWN;
    case GRPC_STATUS_RESOURCE_EXHAUSTED: /* the answer was over max_response */
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_UNIMPLEMENTED:
    case GRPC_STATUS_DATA_LOSS:
        return q->is_write && code != GRPC_STATUS_UNIMPLEMENTED ? ETCD_UNKNOWN : ETCD_PROTOCOL;
    default:
        return ETCD_REJECTED;
    }
}

void etcd_unary_done(struct etcd_client *c, struct etcd_req *q, bool ok)
{
    etcd_result *r = etcd_result_new(q->id, q->user, q->type);
    if (!ok || !r) {
        release(q);
        if (r)
            etcd_result_fail(r, q->is_write ? ETCD_UNKNOWN : ETCD_UNAVAILABLE,
                             GRPC_STATUS_INTERNAL, "batch failed", 12);
        finish(c, q, r);
        return;
    }
    if (q->status == GRPC_STATUS_OK) {
        etcd_status st = ETCD_PROTOCOL;
        if (q->recv_bb) {
            grpc_byte_buffer_reader rd;
            if (grpc_byte_buffer_reader_init(&rd, q->recv_bb)) {
                grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
                grpc_byte_buffer_reader_destroy(&rd);
                st = etcd_decode(&c->ks, q->type, &q->shape, GRPC_SLICE_START_PTR(s),
                                 GRPC_SLICE_LENGTH(s), r, NULL);
                grpc_slice_unref(s);
            }
        }
        r->status = st;
        if (st == ETCD_PROTOCOL)
            r->message = "malformed response";
        etcd_stall_note_term(c, q->endpoint, ((struct etcd_result_box *)r)->raft_term);
        c->preferred = q->endpoint;
        release(q);
        finish(c, q, r);
        return;
    }
    bool retry;
    etcd_status st = classify(q, q->status, &retry);
    int64_t now = etcd_now_ms();
    if (retry && now < q->deadline_ms) {
        /* Never sent: the next endpoint at once; once every endpoint failed in this round,
         * the same again after a pause, while the deadline leaves room. A channel still
         * connecting (a fresh client, a member restarting, a loaded host) thus gets the
         * call's whole timeout instead of failing it at the first refusal. */
        int64_t pause = 0;
        if (q->attempts % c->n_ch == 0) {
            size_t round = q->attempts / c->n_ch; /* 1, 2, ... */
            pause = round >= 4 ? 400 : 50 << (round - 1);
        }
        if (now + pause < q->deadline_ms) {
            etcd_result_free(r);
            release(q);
            q->endpoint = (q->endpoint + 1) % c->n_ch;
            c->preferred = q->endpoint;
            if (pause == 0) {
                etcd_unary_start(c, q);
            } else {
                q->retry_at = now + pause;
                q->parked_next = c->parked;
                c->parked = q;
            }
            return;
        }
    }
    if (q->stalled) {
        /* ended by stall.c: the member it waits on is not where writes go any more. The
         * next call starts on another endpoint (a follower after an election is fine, but
         * a stopped member is not). */
        etcd_result_fail(r, ETCD_UNKNOWN, (int)q->status, q->stalled, strlen(q->stalled));
        if (c->preferred == q->endpoint && c->n_ch > 1)
            c->preferred = (q->endpoint + 1) % c->n_ch;
    } else {
        etcd_result_fail(r, st, (int)q->status, (const char *)GRPC_SLICE_START_PTR(q->details),
                         GRPC_SLICE_LENGTH(q->details));
    }
    release(q);
    finish(c, q, r);
}

int64_t etcd_unary_retry_due(struct etcd_client *c, int64_t now)
{
    int64_t wake = 0;
    struct etcd_req **pp = &c->parked;
    while (*pp) {
        struct etcd_req *q = *pp;
        if (q->retry_at <= now) {
            *pp = q->parked_next;
            q->parked_next = NULL;
            etcd_unary_start(c, q);
            continue;
        }
        if (wake == 0 || q->retry_at < wake)
            wake = q->retry_at;
        pp = &q->parked_next;
    }
    return wake;
}

void etcd_unary_fail_parked(struct etcd_client *c)
{
    while (c->parked) {
        struct etcd_req *q = c->parked;
        c->parked = q->parked_next;
        etcd_result *r = etcd_result_new(q->id, q->user, q->type);
        if (r)
            etcd_result_fail(r, ETCD_CANCELED, 0, "client closing", 14);
        finish(c, q, r);
    }
}

void etcd_unary_cancel_all(struct etcd_client *c)
{
    etcd_unary_fail_parked(c);
    etcd_stall_cancel_all(c);
    for (struct etcd_req *q = c->calls; q; q = q->live_next)
        if (q->call)
            grpc_call_cancel(q->call, NULL);
}
