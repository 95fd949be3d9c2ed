/* effects.c: the one place where the core is called and its outputs are performed.
 * rsd_apply queues outputs; rsd_perform delivers them (SEND to a conn's pending
 * output, CLOSE, LOG, LOG_LEVEL), then flushes every conn that got output, which may feed
 * CLIENT_FLUSHED / CLIENT_GONE and queue more outputs: it loops until nothing is left.
 * DIAL outputs go to dial.c; KV and KV_CANCEL go to the etcd bridge (kv.c) right after the
 * apply that made them. Every input gets the wall-clock time here (HLC stamps).
 * Nothing deliver() calls may apply an input: it would append to the outputs being walked
 * (moving them under the walk) and the reset at its end would drop them. Feedback belongs
 * to the flush phase of rsd_perform, which runs between deliveries; an assert holds it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "node/conn.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/node.h"

#define OUTS_KEEP_MAX (16u * 1024u * 1024u)

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void rsd_apply(struct rsd *n, struct rs_input *in)
{
    RS_ASSERT(!n->delivering); /* see the top of this file */
    in->wall_ms = wall_ms();
    size_t first = n->outs.n;
    /* With --http, client requests are counted and one in RS_LAT_SAMPLE of each type is
     * timed from its decoded frame to its queued reply (metrics.h). */
    struct rsd_metrics *m = in->kind == RS_IN_CLIENT_MSG ? n->metrics : NULL;
    uint64_t t0 = m && rsd_metrics_sampled(m, in->msg->type) ? uv_hrtime() : 0;
    if (rs_core_apply(n->core, in, &n->outs) != 0) {
        rs_log(RS_LOG_ERROR, "core out of memory: aborting");
        abort();
    }
    if (t0)
        rsd_metrics_request(m, in->msg->type, uv_hrtime() - t0);
    else if (m)
        rsd_metrics_count(m, in->msg->type);
    rsd_kv_outputs(n, first); /* an etcd op is only valid until the next apply */
}

static void deliver(struct rsd *n)
{
    struct rs_outputs *o = &n->outs;
    struct rs_conn *last = NULL; /* consecutive outputs usually name the same conn */
    n->delivering = 1;
    for (size_t i = 0; i < o->n; i++) {
        const struct rs_output *out = &o->v[i];
        const uint8_t *p = o->bytes.data + out->off;
        switch (out->kind) {
        case RS_OUT_SEND:
        case RS_OUT_CLOSE: {
            struct rs_conn *c = last && last->id == out->conn ? last : rs_conn_find(n, out->conn);
            if (!c)
                break; /* already gone: nothing to do */
            last = c;
            if (out->kind == RS_OUT_SEND)
                rs_conn_send(c, p, out->len);
            else
                rs_conn_request_close(c, RS_LOG_WARN, (const char *)p, out->len);
            break;
        }
        case RS_OUT_LOG:
            rs_log_text(out->level, (const char *)p, out->len);
            break;
        case RS_OUT_DIAL: {
            const char *t = (const char *)p;
            const char *sp = memchr(t, ' ', out->len);
            if (sp)
                rs_dial_keep(n, t, (size_t)(sp - t), sp + 1, out->len - (size_t)(sp - t) - 1);
            else
                rs_dial_keep(n, "", 0, t, out->len);
            break;
        }
        case RS_OUT_UNDIAL:
        case RS_OUT_UNDIAL_LEFT: {
            const char *t = (const char *)p;
            const char *sp = memchr(t, ' ', out->len);
            size_t nl = sp ? (size_t)(sp - t) : out->len;
            rs_dial_forget(n, t, nl, sp ? sp + 1 : "", sp ? out->len - nl - 1 : 0,
                           out->kind == RS_OUT_UNDIAL_LEFT);
            break;
        }
        case RS_OUT_LOG_LEVEL:
            rs_log_set_level(out->level);
            rs_log(RS_LOG_INFO, "log level set to %s", rs_log_level_name(rs_log_get_level()));
            break;
        case RS_OUT_SHM_FD: {
            struct rs_conn *c = rs_conn_find(n, out->conn);
            if (c)
                c->pass_shm = 1; /* the HELLO reply's SEND follows */
            break;
        }
        case RS_OUT_CHANNEL_FD:
            rsd_chan_fd(n, out); /* the CHANNEL frame's SEND follows */
            break;
        case RS_OUT_PAUSE:
        case RS_OUT_RESUME: {
            struct rs_conn *c = rs_conn_find(n, out->conn);
            if (c)
                rs_conn_flow(c, out->kind == RS_OUT_PAUSE);
            break;
        }
        case RS_OUT_KV:
        case RS_OUT_KV_CANCEL:
            break; /* submitted at apply time (rsd_kv_outputs) */
        }
    }
    rs_outputs_reset(o);
    n->delivering = 0;
    if (o->bytes.cap > OUTS_KEEP_MAX) { /* after a huge listing, give the memory back */
        rs_outputs_fini(o);
        rs_outputs_init(o);
    }
}

void rsd_perform(struct rsd *n)
{
    if (n->performing)
        return; /* the running call picks up what was queued */
    n->performing = 1;
    while (n->outs.n || !rs_list_empty(&n->dirty) || rsd_kv_pending(n)) {
        if (n->outs.n)
            deliver(n);
        /* Flushing and refused etcd submits may queue outputs (FLUSHED, GONE, the core's
         * answer to a REJECTED result): they are delivered next round. */
        rsd_kv_feed_rejected(n);
        while (!rs_list_empty(&n->dirty)) {
            struct rs_link *l = n->dirty.next;
            rs_list_del(l);
            rs_conn_flush(RS_CONTAINER(l, struct rs_conn, dirty_link));
        }
    }
    n->performing = 0;
}
