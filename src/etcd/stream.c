/* stream.c: the life cycle of a bidirectional stream (Watch, LeaseKeepAlive) shared by
 * watch.c and lease.c: open on an endpoint, one receive and at most one send in flight,
 * end, open again on the next endpoint after a failure, and free once every batch is back. */
#include <stdlib.h>
#include <string.h>

#include "etcd/internal.h"

bool etcd_status_transient(grpc_status_code code)
{
    return code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_DEADLINE_EXCEEDED ||
           code == GRPC_STATUS_INTERNAL || code == GRPC_STATUS_UNKNOWN ||
           code == GRPC_STATUS_CANCELLED;
}

static void start_recv(struct etcd_stream *s)
{
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    size_t n = 0;
    if (s->first_recv) {
        ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[n++].data.recv_initial_metadata.recv_initial_metadata = &s->md_init;
        s->first_recv = false;
    }
    ops[n].op = GRPC_OP_RECV_MESSAGE;
    ops[n++].data.recv_message.recv_message = &s->recv_bb;
    if (grpc_call_start_batch(s->call, ops, n, &s->t_recv, NULL) == GRPC_CALL_OK)
        s->outstanding++;
    else
        grpc_call_cancel(s->call, NULL);
}

static void open_call(struct etcd_stream *s)
{
    struct etcd_client *c = s->c;
    s->ended = false;
    s->first_recv = true;
    grpc_metadata_array_init(&s->md_init);
    grpc_metadata_array_init(&s->md_trail);
    s->details = grpc_empty_slice();
    s->call = grpc_channel_create_call(c->ch[s->endpoint], NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                       grpc_slice_from_static_string(s->ops->method), NULL,
                                       gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    s->hasleader.key = grpc_slice_from_static_string("hasleader");
    s->hasleader.value = grpc_slice_from_static_string("true");
    grpc_op start, status;
    memset(&start, 0, sizeof(start));
    memset(&status, 0, sizeof(status));
    start.op = GRPC_OP_SEND_INITIAL_METADATA;
    start.data.send_initial_metadata.count = 1;
    start.data.send_initial_metadata.metadata = &s->hasleader;
    status.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    status.data.recv_status_on_client.trailing_metadata = &s->md_trail;
    status.data.recv_status_on_client.status = &s->status;
    status.data.recv_status_on_client.status_details = &s->details;
    if (s->call && grpc_call_start_batch(s->call, &start, 1, &s->t_start, NULL) == GRPC_CALL_OK)
        s->outstanding++;
    if (s->call && grpc_call_start_batch(s->call, &status, 1, &s->t_status, NULL) == GRPC_CALL_OK)
        s->outstanding++;
    if (!s->call || s->outstanding < 2) {
        /* Not even started: behave as a lost stream, so the caller hears of it. */
        if (s->call)
            grpc_call_cancel(s->call, NULL);
        else
            etcd_stream_retry(s, 100);
        return;
    }
    start_recv(s);
    s->ops->opened(s);
}

void etcd_stream_start(struct etcd_client *c, struct etcd_req *q)
{
    struct etcd_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        etcd_result *r = etcd_result_new(q->id, q->user, q->type);
        if (r) {
            r->final = true;
            etcd_result_fail(r, ETCD_UNAVAILABLE, 0, "out of memory", 13);
            etcd_post(c, r);
        }
        etcd_req_free(q);
        return;
    }
    s->c = c;
    s->req = q;
    s->ops = q->type == ETCD_OP_WATCH ? &etcd_watch_ops : &etcd_keepalive_ops;
    s->endpoint = c->preferred;
    s->t_start = (struct etcd_tag){TAG_START, s};
    s->t_send = (struct etcd_tag){TAG_SEND, s};
    s->t_recv = (struct etcd_tag){TAG_RECV, s};
    s->t_status = (struct etcd_tag){TAG_STATUS, s};
    s->next = c->streams;
    c->streams = s;
    c->busy++;
    open_call(s);
}

void etcd_stream_send(struct etcd_stream *s, uint8_t *buf, size_t len)
{
    if (!s->call || s->ended || s->send_busy) {
        free(buf);
        return;
    }
    grpc_slice sl = grpc_slice_from_copied_buffer((const char *)buf, len);
    free(buf);
    s->send_bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = s->send_bb;
    if (grpc_call_start_batch(s->call, &op, 1, &s->t_send, NULL) == GRPC_CALL_OK) {
        s->outstanding++;
        s->send_busy = true;
    } else {
        grpc_byte_buffer_destroy(s->send_bb);
        s->send_bb = NULL;
    }
}

static void unlink_stream(struct etcd_client *c, struct etcd_stream *s)
{
    for (struct etcd_stream **p = &c->streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
}

/* Called when a batch comes back: once the call is over and nothing is in flight, the
 * call goes; the stream goes too once it has given its final result. */
static void settle(struct etcd_stream *s)
{
    if (s->outstanding > 0 || !s->ended || !s->call)
        return;
    grpc_call_unref(s->call);
    s->call = NULL;
    grpc_metadata_array_destroy(&s->md_init);
    grpc_metadata_array_destroy(&s->md_trail);
    grpc_slice_unref(s->details);
    s->details = grpc_empty_slice();
    if (s->dead) {
        struct etcd_client *c = s->c;
        unlink_stream(c, s);
        c->busy--;
        etcd_req_free(s->req);
        free(s);
    } else if (s->timer_at == 0) {
        etcd_stream_retry(s, 100);
    }
}

void etcd_stream_finish(struct etcd_stream *s, etcd_result *r)
{
    if (s->dead) {
        etcd_result_free(r);
        return;
    }
    s->dead = true;
    s->timer_at = 0;
    if (r) {
        r->final = true;
        etcd_post(s->c, r);
    }
    /* With no call (waiting to reconnect) the stream is freed by the next timer pass, never
     * here: callers may still hold it. */
    if (s->call && !s->ended)
        grpc_call_cancel(s->call, NULL);
}

void etcd_stream_retry(struct etcd_stream *s, int64_t delay_ms)
{
    if (s->dead)
        return;
    s->timer_at = etcd_now_ms() + delay_ms;
    if (s->call && !s->ended)
        grpc_call_cancel(s->call, NULL);
}

void etcd_stream_event(struct etcd_client *c, struct etcd_tag *t, bool ok)
{
    (void)c;
    struct etcd_stream *s = t->owner;
    s->outstanding--;
    switch (t->kind) {
    case TAG_SEND:
        s->send_busy = false;
        grpc_byte_buffer_destroy(s->send_bb);
        s->send_bb = NULL;
        break;
    case TAG_RECV:
        if (ok && s->recv_bb) {
            grpc_byte_buffer_reader rd;
            if (grpc_byte_buffer_reader_init(&rd, s->recv_bb)) {
                grpc_slice sl = grpc_byte_buffer_reader_readall(&rd);
                grpc_byte_buffer_reader_destroy(&rd);
                if (!s->dead && !s->timer_at)
                    s->ops->message(s, GRPC_SLICE_START_PTR(sl), GRPC_SLICE_LENGTH(sl));
                grpc_slice_unref(sl);
            }
            grpc_byte_buffer_destroy(s->recv_bb);
            s->recv_bb = NULL;
            if (!s->ended && !s->dead && !s->timer_at)
                start_recv(s);
        } else if (s->recv_bb) {
            grpc_byte_buffer_destroy(s->recv_bb);
            s->recv_bb = NULL;
        }
        break;
    case TAG_STATUS:
        s->ended = true;
        if (!s->dead && !s->timer_at)
            s->ops->closed(s, s->status, (const char *)GRPC_SLICE_START_PTR(s->details),
                           GRPC_SLICE_LENGTH(s->details));
        break;
    default:
        break;
    }
    settle(s);
}

void etcd_stream_cancel(struct etcd_client *c, uint64_t id)
{
    for (struct etcd_stream *s = c->streams; s; s = s->next)
        if (s->req->id == id && !s->dead) {
            etcd_result *r = etcd_result_new(id, s->req->user, s->req->type);
            if (r)
                etcd_result_fail(r, ETCD_CANCELED, 0, "canceled", 8);
            etcd_stream_finish(s, r);
            return;
        }
}

int64_t etcd_streams_timers(struct etcd_client *c, int64_t now)
{
    int64_t wake = 0;
    struct etcd_stream *s = c->streams;
    while (s) {
        struct etcd_stream *n = s->next;
        if (!s->dead)
            s->ops->timer(s, now);
        if (s->dead && !s->call) { /* finished while it had no call: free it now */
            unlink_stream(c, s);
            c->busy--;
            etcd_req_free(s->req);
            free(s);
            s = n;
            continue;
        }
        if (!s->dead && s->timer_at && s->timer_at <= now && !s->call) {
            s->timer_at = 0;
            s->endpoint = (s->endpoint + 1) % c->n_ch;
            open_call(s);
        }
        if (!s->dead && s->timer_at && (wake == 0 || s->timer_at < wake))
            wake = s->timer_at;
        if (!s->dead && s->hook_at && (wake == 0 || s->hook_at < wake))
            wake = s->hook_at;
        s = n;
    }
    return wake;
}

void etcd_streams_stop(struct etcd_client *c)
{
    struct etcd_stream *s = c->streams;
    while (s) {
        struct etcd_stream *n = s->next;
        etcd_result *r = etcd_result_new(s->req->id, s->req->user, s->req->type);
        if (r)
            etcd_result_fail(r, ETCD_CANCELED, 0, "client closing", 14);
        etcd_stream_finish(s, r);
        s = n;
    }
}
