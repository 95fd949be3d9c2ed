/* internal.h: the client's shared state, between the submitting threads (client.c's queue)
 * and the client thread, which alone touches gRPC calls, streams and timers. */
#ifndef ROSTER_ETCD_INTERNAL_H
#define ROSTER_ETCD_INTERNAL_H

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "etcd/codec.h"
#include "etcd/etcd.h"
#include "etcd/keyspace.h"
#include "etcd/result.h"

/* Every completion-queue tag points at one of these; owner is the req or stream. */
enum etcd_tag_kind { TAG_KICK, TAG_UNARY, TAG_START, TAG_SEND, TAG_RECV, TAG_STATUS, TAG_PROBE };
struct etcd_tag {
    enum etcd_tag_kind kind;
    void *owner;
};

/* A submitted operation: a unary call in flight, a stream to open, or a cancel. */
struct etcd_req {
    struct etcd_req *next;
    struct etcd_req *live_prev, *live_next; /* unary calls in flight (client thread) */
    uint64_t id;
    void *user;
    etcd_op_type type;
    uint64_t cancel_id; /* != 0: this request only cancels that stream */
    /* unary */
    uint8_t *body;
    size_t body_len;
    struct etcd_txn_shape shape;
    bool is_write;
    int64_t deadline_ms; /* monotonic */
    size_t attempts;
    size_t endpoint;
    int64_t retry_at;              /* parked (no call): when to try again (monotonic ms) */
    struct etcd_req *parked_next;  /* in etcd_client.parked */
    struct etcd_tag tag;
    grpc_call *call;
    grpc_byte_buffer *send_bb, *recv_bb;
    grpc_metadata_array md_init, md_trail;
    grpc_status_code status;
    grpc_slice details;
    grpc_metadata hasleader;
    /* stall.c: when this attempt was sent, the raft term its member had then (0: not
     * known yet), and why it was ended early (NULL: it was not) */
    int64_t sent_at;
    uint64_t term;
    const char *stalled;
    /* streams */
    void *key, *end;
    size_t key_len, end_len;
    int64_t revision, lease, ttl;
    bool prev_kv;
};

struct etcd_stream;
/* What a kind of stream (watch.c, lease.c) does at each step of stream.c's life cycle. */
struct etcd_stream_ops {
    const char *method;
    void (*opened)(struct etcd_stream *s);
    void (*message)(struct etcd_stream *s, const uint8_t *p, size_t n);
    void (*closed)(struct etcd_stream *s, grpc_status_code code, const char *why, size_t len);
    void (*timer)(struct etcd_stream *s, int64_t now);
};

struct etcd_stream {
    struct etcd_stream *next;
    struct etcd_client *c;
    const struct etcd_stream_ops *ops;
    struct etcd_req *req; /* what was submitted: key, revision, lease... */
    grpc_call *call;
    size_t endpoint;
    int outstanding; /* batches not completed yet */
    bool send_busy, ended, dead, cancel_asked;
    int64_t timer_at; /* monotonic ms: open a new call then; 0: none */
    int64_t hook_at;  /* monotonic ms: call ops->timer then (lease.c's next send) */
    struct etcd_tag t_start, t_send, t_recv, t_status;
    grpc_byte_buffer *send_bb, *recv_bb;
    grpc_metadata_array md_init, md_trail;
    grpc_status_code status;
    grpc_slice details;
    grpc_metadata hasleader;
    bool first_recv;
    /* watch */
    int64_t next_rev; /* the revision to resume from */
    bool created;
    /* keepalive */
    int64_t ttl_ms, sent_at, lost_at;
};

struct etcd_client {
    struct etcd_keyspace ks;
    int timeout_ms;
    size_t max_response;
    size_t n_ch;
    grpc_channel **ch;
    grpc_channel *lame; /* its calls fail at once: the way to wake the thread */
    grpc_completion_queue *cq;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct etcd_req *sub_head, *sub_tail;     /* under mu */
    struct etcd_result_box *res_head, *res_tail; /* under mu */
    bool stopping;                            /* under mu */
    int efd;
    atomic_int kick_pending;
    atomic_uint_fast64_t next_id;
    struct etcd_tag kick_tag;
    /* client thread only */
    size_t preferred;
    struct etcd_stream *streams;
    struct etcd_req *calls; /* unary calls in flight (parked ones too) */
    struct etcd_req *parked; /* unary calls waiting to be tried again (call.c) */
    size_t busy;            /* unary calls and streams alive */
    struct etcd_probe *probes; /* stall.c: one per endpoint (n_ch) */
};

/* stall.c: the probe of one endpoint, checking writes that wait on it for too long. */
struct etcd_probe {
    struct etcd_tag tag;
    size_t endpoint;
    uint64_t term;    /* the highest raft term this endpoint's answers carried */
    int64_t started;  /* the probe in flight was sent then (0: none in flight) */
    int64_t next_at;  /* not probed again before this (monotonic ms) */
    grpc_call *call;
    uint8_t *body;
    size_t body_len;
    grpc_byte_buffer *send_bb, *recv_bb;
    grpc_metadata_array md_init, md_trail;
    grpc_status_code status;
    grpc_slice details;
};

int64_t etcd_now_ms(void);
gpr_timespec etcd_deadline(int64_t at_ms);
/* etcd_post queues a result for the caller and signals the eventfd. */
void etcd_post(struct etcd_client *c, etcd_result *r);
void etcd_req_free(struct etcd_req *q);

/* endpoints.c */
int etcd_channels_open(struct etcd_client *c, const etcd_config *cfg, const char **err);
void etcd_channels_close(struct etcd_client *c);

/* call.c: unary calls with failover */
void etcd_unary_start(struct etcd_client *c, struct etcd_req *q);
void etcd_unary_done(struct etcd_client *c, struct etcd_req *q, bool ok);
/* etcd_unary_retry_due starts the parked calls whose pause is over; returns when the next
 * one is due (0: none parked). etcd_unary_fail_parked ends them all (shutdown). */
int64_t etcd_unary_retry_due(struct etcd_client *c, int64_t now);
void etcd_unary_fail_parked(struct etcd_client *c);
/* etcd_unary_cancel_all ends every call in flight (client shutdown). */
void etcd_unary_cancel_all(struct etcd_client *c);

/* stall.c: writes stuck behind a dead leader (see the file's comment) */
int etcd_stall_init(struct etcd_client *c);
void etcd_stall_free(struct etcd_client *c);
void etcd_stall_note_term(struct etcd_client *c, size_t endpoint, uint64_t term);
int64_t etcd_stall_timers(struct etcd_client *c, int64_t now);
void etcd_stall_probe_done(struct etcd_client *c, struct etcd_probe *p, bool ok);
void etcd_stall_cancel_all(struct etcd_client *c);

/* stream.c */
void etcd_stream_start(struct etcd_client *c, struct etcd_req *q);
void etcd_stream_event(struct etcd_client *c, struct etcd_tag *t, bool ok);
void etcd_stream_send(struct etcd_stream *s, uint8_t *buf, size_t len);
/* etcd_stream_finish posts r as the stream's final result and ends its call. */
void etcd_stream_finish(struct etcd_stream *s, etcd_result *r);
/* etcd_stream_retry ends the call and opens a new one on the next endpoint after delay. */
void etcd_stream_retry(struct etcd_stream *s, int64_t delay_ms);
void etcd_stream_cancel(struct etcd_client *c, uint64_t id);
int64_t etcd_streams_timers(struct etcd_client *c, int64_t now);
void etcd_streams_stop(struct etcd_client *c);
/* a transient gRPC status: the stream may be opened again elsewhere */
bool etcd_status_transient(grpc_status_code code);

extern const struct etcd_stream_ops etcd_watch_ops;
extern const struct etcd_stream_ops etcd_keepalive_ops;

#endif
