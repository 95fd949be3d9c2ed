/* stall.c: writes stuck behind a dead leader. A write that reaches a follower just as the
 * leader dies is forwarded to the dead leader and lost: raft does not propose it again and
 * etcd never answers it, so the call would hold until its deadline (--etcd-timeout-ms, 5 s
 * by default) while rosterd's writes queued behind it wait too (measured: PERFORMANCE.md
 * S6). gRPC cannot see it: the follower's connection is healthy.
 *
 * So a write that waits longer than STALL_MS gets its endpoint probed: a serializable
 * Range (answered by the member itself, without raft) whose header carries the member's
 * raft term. Every answer from an endpoint records its term; a probe reporting a newer term
 * than the write was sent under means the leader changed since, and a member that does not
 * answer the probe within PROBE_MS is stopped or cut off. Either way the write is ended at
 * once, as UNKNOWN: what it was anyway (it may have been applied), only said seconds
 * earlier, so the caller can resolve it and go on. One probe per endpoint at a time serves
 * every write waiting there, so the probes' cost does not grow with the writes. */
#include <stdlib.h>
#include <string.h>

#include "etcd/codec.h"
#include "etcd/internal.h"
#include "etcd/result.h"

#define STALL_MS 200  /* a healthy write takes a few ms; an election at least 100s */
#define PERIOD_MS 100 /* probes of one endpoint at most this often */
#define PROBE_MS 2000 /* a live member answers a local read well within this, even loaded */

int etcd_stall_init(struct etcd_client *c)
{
    c->probes = calloc(c->n_ch ? c->n_ch : 1, sizeof(*c->probes));
    if (!c->probes)
        return -1;
    for (size_t i = 0; i < c->n_ch; i++) {
        c->probes[i].tag.kind = TAG_PROBE;
        c->probes[i].tag.owner = &c->probes[i];
        c->probes[i].endpoint = i;
        c->probes[i].details = grpc_empty_slice();
    }
    return 0;
}

void etcd_stall_free(struct etcd_client *c)
{
    free(c->probes);
    c->probes = NULL;
}

void etcd_stall_note_term(struct etcd_client *c, size_t endpoint, uint64_t term)
{
    if (c->probes && endpoint < c->n_ch && term > c->probes[endpoint].term)
        c->probes[endpoint].term = term;
}

static void probe_release(struct etcd_probe *p)
{
    if (p->call)
        grpc_call_unref(p->call);
    p->call = NULL;
    grpc_byte_buffer_destroy(p->send_bb);
    p->send_bb = NULL;
    if (p->recv_bb)
        grpc_byte_buffer_destroy(p->recv_bb);
    p->recv_bb = NULL;
    grpc_metadata_array_destroy(&p->md_init);
    grpc_metadata_array_destroy(&p->md_trail);
    grpc_slice_unref(p->details);
    p->details = grpc_empty_slice();
    free(p->body);
    p->body = NULL;
    p->started = 0;
}

static bool probe_start(struct etcd_client *c, struct etcd_probe *p, int64_t now)
{
    /* any key will do: only the header is read; the limit keeps the answer small */
    etcd_op op = {.type = ETCD_OP_RANGE, .key = "\x01stall-probe", .key_len = 12,
                  .serializable = true, .limit = 1};
    struct etcd_txn_shape shape;
    memset(&shape, 0, sizeof(shape));
    bool is_write;
    if (etcd_encode(&c->ks, &op, &p->body, &p->body_len, &shape, &is_write) != 0)
        return false;
    etcd_shape_free(&shape);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)p->body, p->body_len);
    p->send_bb = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);
    grpc_metadata_array_init(&p->md_init);
    grpc_metadata_array_init(&p->md_trail);
    p->call = grpc_channel_create_call(c->ch[p->endpoint], NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                       grpc_slice_from_static_string("/etcdserverpb.KV/Range"),
                                       NULL, etcd_deadline(now + PROBE_MS), NULL);
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = p->send_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &p->md_init;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &p->recv_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &p->md_trail;
    ops[5].data.recv_status_on_client.status = &p->status;
    ops[5].data.recv_status_on_client.status_details = &p->details;
    p->started = now;
    if (!p->call || grpc_call_start_batch(p->call, ops, 6, &p->tag, NULL) != GRPC_CALL_OK) {
        probe_release(p);
        return false;
    }
    c->busy++;
    return true;
}

int64_t etcd_stall_timers(struct etcd_client *c, int64_t now)
{
    if (!c->probes)
        return 0;
    int64_t wake = 0;
    for (struct etcd_req *q = c->calls; q; q = q->live_next) {
        if (!q->call || !q->is_write || q->stalled)
            continue;
        struct etcd_probe *p = &c->probes[q->endpoint];
        if (p->started)
            continue; /* its answer will come */
        int64_t due = q->sent_at + STALL_MS;
        if (due < p->next_at)
            due = p->next_at;
        if (due <= now) {
            p->next_at = now + PERIOD_MS;
            if (probe_start(c, p, now))
                continue;
            due = p->next_at;
        }
        if (wake == 0 || due < wake)
            wake = due;
    }
    return wake;
}

/* Ends the writes sent to p's endpoint before the probe was: they complete CANCELLED,
 * which call.c reports as UNKNOWN with `why`. */
static void end_writes(struct etcd_client *c, struct etcd_probe *p, uint64_t term,
                       const char *why)
{
    for (struct etcd_req *q = c->calls; q; q = q->live_next) {
        if (!q->call || !q->is_write || q->stalled || q->endpoint != p->endpoint ||
            q->sent_at > p->started)
            continue;
        if (term) {
            if (q->term == 0) {
                q->term = term; /* sent before any answer from there: this is its baseline */
                continue;
            }
            if (term <= q->term)
                continue;
        }
        q->stalled = why;
        grpc_call_cancel(q->call, NULL);
    }
}

void etcd_stall_probe_done(struct etcd_client *c, struct etcd_probe *p, bool ok)
{
    c->busy--;
    if (ok && p->status == GRPC_STATUS_OK && p->recv_bb) {
        etcd_result *r = etcd_result_new(0, NULL, ETCD_OP_RANGE);
        grpc_byte_buffer_reader rd;
        if (r && grpc_byte_buffer_reader_init(&rd, p->recv_bb)) {
            grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
            grpc_byte_buffer_reader_destroy(&rd);
            uint64_t term = 0;
            if (etcd_decode(&c->ks, ETCD_OP_RANGE, NULL, GRPC_SLICE_START_PTR(s),
                            GRPC_SLICE_LENGTH(s), r, NULL) == ETCD_OK)
                term = ((struct etcd_result_box *)r)->raft_term;
            grpc_slice_unref(s);
            if (term) {
                etcd_stall_note_term(c, p->endpoint, term);
                end_writes(c, p, term,
                           "the etcd leader changed while the write waited for its answer");
            }
        }
        if (r)
            etcd_result_free(r);
    } else if (ok && (p->status == GRPC_STATUS_DEADLINE_EXCEEDED ||
                      p->status == GRPC_STATUS_UNAVAILABLE)) {
        end_writes(c, p, 0, "the etcd member holding the write stopped answering");
    }
    probe_release(p);
}

void etcd_stall_cancel_all(struct etcd_client *c)
{
    for (size_t i = 0; c->probes && i < c->n_ch; i++)
        if (c->probes[i].call)
            grpc_call_cancel(c->probes[i].call, NULL);
}
