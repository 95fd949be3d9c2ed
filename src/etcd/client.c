/* client.c: the client's life cycle and its two queues. Submitting threads encode an op
 * and queue it under a mutex, then wake the client thread (a call on a lame channel, which
 * fails at once onto the completion queue). The client thread owns every gRPC call; its
 * results come back through a second queue and an eventfd. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "etcd/internal.h"

#define DEFAULT_MAX_RESPONSE (4u << 20)
#define DEFAULT_TIMEOUT_MS 5000

int64_t etcd_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

gpr_timespec etcd_deadline(int64_t at_ms)
{
    int64_t left = at_ms - etcd_now_ms();
    if (left < 0)
        left = 0;
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(left, GPR_TIMESPAN));
}

void etcd_post(struct etcd_client *c, etcd_result *r)
{
    struct etcd_result_box *b = (struct etcd_result_box *)r;
    b->next = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->res_tail)
        c->res_tail->next = b;
    else
        c->res_head = b;
    c->res_tail = b;
    pthread_cond_broadcast(&c->cond);
    uint64_t one = 1; /* under mu, so etcd_next never leaves the fd set with nothing queued */
    while (write(c->efd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
    pthread_mutex_unlock(&c->mu);
}

void etcd_req_free(struct etcd_req *q)
{
    if (!q)
        return;
    free(q->body);
    free(q->key);
    free(q->end);
    etcd_shape_free(&q->shape);
    free(q);
}

/* The client thread sleeps in the completion queue; a call on the lame channel completes
 * at once with an error, which wakes it. One wake-up in flight is enough. */
static void kick(struct etcd_client *c)
{
    if (atomic_exchange(&c->kick_pending, 1))
        return;
    grpc_call *call = grpc_channel_create_call(c->lame, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                               grpc_slice_from_static_string("/kick"), NULL,
                                               gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_INITIAL_METADATA;
    if (!call || grpc_call_start_batch(call, &op, 1, &c->kick_tag, NULL) != GRPC_CALL_OK)
        atomic_store(&c->kick_pending, 0); /* the thread's 1 s tick still drains the queue */
    if (call)
        grpc_call_unref(call);
}

static void enqueue(struct etcd_client *c, struct etcd_req *q)
{
    pthread_mutex_lock(&c->mu);
    if (c->sub_tail)
        c->sub_tail->next = q;
    else
        c->sub_head = q;
    c->sub_tail = q;
    pthread_mutex_unlock(&c->mu);
    kick(c);
}

static void start(struct etcd_client *c, struct etcd_req *q)
{
    if (q->cancel_id) {
        etcd_stream_cancel(c, q->cancel_id);
        etcd_req_free(q);
    } else if (q->type == ETCD_OP_WATCH || q->type == ETCD_OP_KEEPALIVE) {
        etcd_stream_start(c, q);
    } else {
        etcd_unary_start(c, q);
    }
}

static void dispatch(struct etcd_client *c, grpc_event ev)
{
    struct etcd_tag *t = ev.tag;
    switch (t->kind) {
    case TAG_KICK:
        atomic_store(&c->kick_pending, 0);
        break;
    case TAG_UNARY:
        etcd_unary_done(c, t->owner, ev.success != 0);
        break;
    case TAG_PROBE:
        etcd_stall_probe_done(c, t->owner, ev.success != 0);
        break;
    default:
        etcd_stream_event(c, t, ev.success != 0);
        break;
    }
}

static void *thread_main(void *arg)
{
    struct etcd_client *c = arg;
    bool stopping = false;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        struct etcd_req *q = c->sub_head;
        c->sub_head = c->sub_tail = NULL;
        bool stop_now = c->stopping && !stopping;
        pthread_mutex_unlock(&c->mu);
        if (stop_now) {
            stopping = true;
            etcd_streams_stop(c); /* posts results: outside mu */
            etcd_unary_cancel_all(c);
        }
        while (q) {
            struct etcd_req *n = q->next;
            q->next = NULL;
            if (stopping && q->cancel_id) {
                etcd_req_free(q); /* its stream is being ended anyway */
            } else if (stopping) {
                etcd_result *r = etcd_result_new(q->id, q->user, q->type);
                if (r) {
                    r->final = true;
                    etcd_result_fail(r, ETCD_CANCELED, 0, "client closing", 14);
                    etcd_post(c, r);
                }
                etcd_req_free(q);
            } else {
                start(c, q);
            }
            q = n;
        }
        int64_t now = etcd_now_ms();
        int64_t wake = etcd_streams_timers(c, now); /* also frees streams ended just now */
        if (stopping) {
            etcd_unary_fail_parked(c); /* parked after the cancel: never tried again */
        } else {
            int64_t due = etcd_unary_retry_due(c, now);
            if (due && (wake == 0 || due < wake))
                wake = due;
            due = etcd_stall_timers(c, now);
            if (due && (wake == 0 || due < wake))
                wake = due;
        }
        if (stopping && c->busy == 0 && !atomic_load(&c->kick_pending))
            break;
        if (wake == 0 || wake > now + 1000)
            wake = now + 1000;
        grpc_event ev = grpc_completion_queue_next(c->cq, etcd_deadline(wake), NULL);
        if (ev.type == GRPC_OP_COMPLETE)
            dispatch(c, ev);
    }
    return NULL;
}

etcd_client *etcd_client_create(const etcd_config *cfg, const char **err)
{
    static const char *dummy;
    if (!err)
        err = &dummy;
    *err = "etcd: out of memory";
    struct etcd_client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->efd = -1;
    const char *p = cfg->prefix ? cfg->prefix : "";
    c->ks.len = strlen(p);
    c->ks.prefix = strdup(p);
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->max_response = cfg->max_response ? cfg->max_response : DEFAULT_MAX_RESPONSE;
    if (c->max_response > (1u << 30))
        c->max_response = 1u << 30;
    c->kick_tag.kind = TAG_KICK;
    atomic_init(&c->kick_pending, 0);
    atomic_init(&c->next_id, 1);
    if (!c->ks.prefix) {
        free(c);
        return NULL;
    }
    grpc_init();
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    c->cq = grpc_completion_queue_create_for_next(NULL);
    c->lame = grpc_lame_client_channel_create("kick", GRPC_STATUS_UNAVAILABLE, "wake-up");
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    bool ok = c->efd >= 0 && c->cq && c->lame && etcd_channels_open(c, cfg, err) == 0 &&
              etcd_stall_init(c) == 0;
    if (ok && pthread_create(&c->thread, NULL, thread_main, c) != 0) {
        *err = "etcd: cannot start the client thread";
        ok = false;
    }
    if (!ok) {
        etcd_stall_free(c);
        etcd_channels_close(c);
        if (c->lame)
            grpc_channel_destroy(c->lame);
        if (c->cq) {
            grpc_completion_queue_shutdown(c->cq);
            while (grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
                       .type != GRPC_QUEUE_SHUTDOWN) {
            }
            grpc_completion_queue_destroy(c->cq);
        }
        if (c->efd >= 0)
            close(c->efd);
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cond);
        free(c->ks.prefix);
        free(c);
        grpc_shutdown();
        return NULL;
    }
    *err = NULL;
    return c;
}

void etcd_client_destroy(etcd_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_mutex_unlock(&c->mu);
    kick(c);
    pthread_join(c->thread, NULL);
    grpc_completion_queue_shutdown(c->cq);
    while (grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(c->cq);
    etcd_stall_free(c);
    etcd_channels_close(c);
    grpc_channel_destroy(c->lame);
    while (c->res_head) {
        struct etcd_result_box *n = c->res_head->next;
        etcd_result_free(&c->res_head->pub);
        c->res_head = n;
    }
    close(c->efd);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cond);
    free(c->ks.prefix);
    free(c);
    grpc_shutdown();
}

static int copy_bytes(void **dst, const void *src, size_t n)
{
    *dst = malloc(n ? n : 1);
    if (!*dst)
        return -1;
    if (n)
        memcpy(*dst, src, n);
    return 0;
}

uint64_t etcd_submit(etcd_client *c, const etcd_op *op, void *user)
{
    if (!c || !op)
        return 0;
    struct etcd_req *q = calloc(1, sizeof(*q));
    if (!q)
        return 0;
    q->type = op->type;
    q->user = user;
    int rc = 0;
    if (op->type == ETCD_OP_WATCH) {
        struct etcd_arena a = {0};
        void *k = NULL, *e = NULL;
        size_t kl = 0, el = 0;
        rc = op->revision < 0 || (op->key_len && !op->key) ? -1
             : etcd_ks_key(&c->ks, &a, op->key, op->key_len, op->prefix, &k, &kl, &e, &el);
        if (rc == 0)
            rc = copy_bytes(&q->key, k, kl) | copy_bytes(&q->end, e, el);
        q->key_len = kl;
        q->end_len = el;
        q->revision = op->revision;
        q->prev_kv = op->prev_kv;
        etcd_arena_free(&a);
    } else if (op->type == ETCD_OP_KEEPALIVE) {
        rc = op->lease > 0 && op->ttl > 0 ? 0 : -1;
        q->lease = op->lease;
        q->ttl = op->ttl;
    } else {
        rc = etcd_encode(&c->ks, op, &q->body, &q->body_len, &q->shape, &q->is_write);
        q->deadline_ms = etcd_now_ms() + (op->timeout_ms > 0 ? op->timeout_ms : c->timeout_ms);
    }
    if (rc != 0) {
        etcd_req_free(q);
        return 0;
    }
    q->id = atomic_fetch_add(&c->next_id, 1);
    uint64_t id = q->id;
    enqueue(c, q);
    return id;
}

void etcd_cancel(etcd_client *c, uint64_t id)
{
    struct etcd_req *q = calloc(1, sizeof(*q));
    if (!q)
        return;
    q->cancel_id = id;
    enqueue(c, q);
}

int etcd_client_fd(const etcd_client *c)
{
    return c->efd;
}

static etcd_result *take(struct etcd_client *c)
{
    struct etcd_result_box *b = c->res_head;
    if (b) {
        c->res_head = b->next;
        if (!c->res_head)
            c->res_tail = NULL;
    }
    return b ? &b->pub : NULL;
}

etcd_result *etcd_next(etcd_client *c)
{
    uint64_t v;
    pthread_mutex_lock(&c->mu);
    etcd_result *r = take(c);
    if (!c->res_head) /* drained: the fd goes quiet until the next post */
        while (read(c->efd, &v, sizeof(v)) < 0 && errno == EINTR) {
        }
    pthread_mutex_unlock(&c->mu);
    return r;
}

etcd_result *etcd_wait(etcd_client *c, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&c->mu);
    while (!c->res_head)
        if (pthread_cond_timedwait(&c->cond, &c->mu, &until) != 0)
            break;
    pthread_mutex_unlock(&c->mu);
    return etcd_next(c);
}
