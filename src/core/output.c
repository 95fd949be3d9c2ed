/* output.c: the outputs of an apply (rs_outputs_*) and the helpers that build them: frames
 * for one connection (consecutive frames to one conn merged into one SEND), replies, items,
 * error replies with a detail text, events, closes and log lines. It also keeps each
 * connection's unread byte count and closes a connection whose unread output passes
 * limits.outbuf_max. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "core/nodes.h"
#include "core/output.h"

void rs_outputs_init(struct rs_outputs *o)
{
    o->v = NULL;
    o->n = 0;
    o->cap = 0;
    rs_buf_init(&o->bytes);
}

void rs_outputs_fini(struct rs_outputs *o)
{
    rs_free(o->v);
    rs_buf_fini(&o->bytes);
    rs_outputs_init(o);
}

void rs_outputs_reset(struct rs_outputs *o)
{
    o->n = 0;
    rs_buf_reset(&o->bytes);
}

static int push(struct rs_core *c, enum rs_output_kind kind, int level, uint64_t conn,
                size_t off, size_t len)
{
    struct rs_outputs *o = c->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct rs_output *v = rs_realloc(o->v, cap * sizeof *v);
        if (!v) {
            c->oom = 1;
            return -1;
        }
        o->v = v;
        o->cap = cap;
    }
    struct rs_output *x = &o->v[o->n++];
    x->kind = kind;
    x->level = level;
    x->conn = conn;
    x->off = off;
    x->len = len;
    x->kv_id = 0;
    x->kv = NULL;
    return 0;
}

/* Encode m at the end of the arena and attach it to a SEND for conn; returns the frame
 * size, or 0 on failure. */
static size_t send_frame(struct rs_core *c, uint64_t conn, const struct rs_msg *m)
{
    struct rs_outputs *o = c->out;
    size_t off = o->bytes.len;
    if (rs_wire_encode(&o->bytes, m) != 0) {
        c->oom = 1;
        return 0;
    }
    size_t len = o->bytes.len - off;
    if (o->n) {
        struct rs_output *last = &o->v[o->n - 1];
        if (last->kind == RS_OUT_SEND && last->conn == conn && last->off + last->len == off) {
            last->len += len;
            return len;
        }
    }
    if (push(c, RS_OUT_SEND, 0, conn, off, len) != 0) {
        o->bytes.len = off;
        return 0;
    }
    return len;
}

int rs_out_frame_conn(struct rs_core *c, uint64_t conn, const struct rs_msg *m)
{
    return send_frame(c, conn, m) ? 0 : -1;
}

int rs_out_frame(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    if (cl->closing)
        return 0;
    size_t n = send_frame(c, cl->conn, m);
    if (!n)
        return -1;
    cl->unread += n;
    RS_ASSERT(cl->unread >= n); /* a byte count, never wrapped */
    if (cl->unread > c->lim.outbuf_max)
        rs_out_close(c, cl, "unread output above %u bytes (client not reading its replies)",
                     c->lim.outbuf_max);
    return 0;
}

int rs_out_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                 struct rs_msg *r)
{
    r->type = req->type;
    r->flags = RS_F_REPLY;
    r->req_id = req->req_id;
    return rs_out_frame(c, cl, r);
}

int rs_out_item(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                struct rs_msg *it)
{
    it->type = req->type;
    it->flags = RS_F_ITEM;
    it->req_id = req->req_id;
    return rs_out_frame(c, cl, it);
}

int rs_out_ok(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    return rs_out_reply(c, cl, req, &r);
}

int rs_out_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req, uint64_t n)
{
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_list_reply_n_set(&r, n);
    return rs_out_reply(c, cl, req, &r);
}

int rs_out_error(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req, int status,
                 const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof text)
        n = sizeof text - 1;
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    r.status = status;
    rs_msg_reply_error_text_set(&r, rs_bytes_of(text, (size_t)n));
    return rs_out_reply(c, cl, req, &r);
}

/* Append formatted text to the arena; returns its offset or SIZE_MAX. */
__attribute__((format(printf, 3, 0))) static size_t put_text(struct rs_core *c, size_t *len,
                                                               const char *fmt, va_list ap)
{
    char text[512];
    int n = vsnprintf(text, sizeof text, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof text)
        n = sizeof text - 1;
    size_t off = c->out->bytes.len;
    if (rs_buf_append(&c->out->bytes, text, (size_t)n) != 0) {
        c->oom = 1;
        return SIZE_MAX;
    }
    *len = (size_t)n;
    return off;
}

__attribute__((format(printf, 3, 0))) static int vclose_conn(struct rs_core *c, uint64_t conn,
                                                              const char *fmt, va_list ap)
{
    size_t len = 0;
    size_t off = put_text(c, &len, fmt, ap);
    if (off == SIZE_MAX)
        return -1;
    return push(c, RS_OUT_CLOSE, RS_LOG_INFO, conn, off, len);
}

int rs_out_close_conn(struct rs_core *c, uint64_t conn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vclose_conn(c, conn, fmt, ap);
    va_end(ap);
    return r;
}

int rs_out_close(struct rs_core *c, struct rs_client *cl, const char *fmt, ...)
{
    if (cl->closing)
        return 0;
    cl->closing = 1;
    va_list ap;
    va_start(ap, fmt);
    int r = vclose_conn(c, cl->conn, fmt, ap);
    va_end(ap);
    return r;
}

/* An output whose payload is formatted text (a log line, a dial target). */
__attribute__((format(printf, 4, 0))) static int push_text(struct rs_core *c,
                                                           enum rs_output_kind kind, int level,
                                                           const char *fmt, va_list ap)
{
    size_t len = 0;
    size_t off = put_text(c, &len, fmt, ap);
    if (off == SIZE_MAX)
        return -1;
    return push(c, kind, level, 0, off, len);
}

int rs_out_log(struct rs_core *c, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = push_text(c, RS_OUT_LOG, level, fmt, ap);
    va_end(ap);
    return r;
}

int rs_out_log_level(struct rs_core *c, int level)
{
    return push(c, RS_OUT_LOG_LEVEL, level, 0, 0, 0);
}

int rs_out_dial(struct rs_core *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = push_text(c, RS_OUT_DIAL, RS_LOG_INFO, fmt, ap);
    va_end(ap);
    return r;
}

int rs_out_undial(struct rs_core *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = push_text(c, RS_OUT_UNDIAL, RS_LOG_INFO, fmt, ap);
    va_end(ap);
    return r;
}

int rs_out_undial_left(struct rs_core *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = push_text(c, RS_OUT_UNDIAL_LEFT, RS_LOG_INFO, fmt, ap);
    va_end(ap);
    return r;
}

int rs_out_event(struct rs_core *c, struct rs_client *cl, uint32_t kind, uint32_t reason,
                 int snapshot, uint64_t id, struct rs_pid pid, const struct rs_scope *sc,
                 struct rs_bytes key, struct rs_bytes meta, struct rs_bytes prev)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_EVENT;
    rs_msg_event_opts_set(&m, rs_msg_event_opts_pack(kind, reason, snapshot));
    rs_msg_event_id_set(&m, id);
    m.pid = pid;
    if (sc)
        m.scope = rs_bytes_of(sc->name, sc->name_len);
    if (c->ev_kv) {
        /* strong scopes: the holder's node comes from etcd, not from the peer tables */
        rs_msg_event_node_set(&m, c->ev_node);
        rs_msg_event_revision_set(&m, c->ev_rev);
    } else {
        rs_msg_event_node_set(&m, rs_nodes_name_of(c, pid.inc));
    }
    rs_msg_event_key_set(&m, key);
    rs_msg_event_meta_set(&m, meta);
    if (reason == ROSTER_REASON_EXIT && prev.len == 0)
        prev = c->exit_text; /* a pid's exit reason (change.c pid_down) */
    rs_msg_event_prev_meta_set(&m, prev);
    return rs_out_frame(c, cl, &m);
}

int rs_out_kv(struct rs_core *c, uint64_t kv_id, const etcd_op *op)
{
    if (push(c, RS_OUT_KV, 0, 0, 0, 0) != 0)
        return -1;
    c->out->v[c->out->n - 1].kv_id = kv_id;
    c->out->v[c->out->n - 1].kv = op;
    return 0;
}

int rs_out_kv_cancel(struct rs_core *c, uint64_t kv_id)
{
    if (push(c, RS_OUT_KV_CANCEL, 0, 0, 0, 0) != 0)
        return -1;
    c->out->v[c->out->n - 1].kv_id = kv_id;
    c->out->v[c->out->n - 1].kv = NULL;
    return 0;
}

int rs_out_shm_fd(struct rs_core *c, uint64_t conn)
{
    return push(c, RS_OUT_SHM_FD, 0, conn, 0, 0);
}

const char *rs_fmt_key(char *buf, size_t cap, const uint8_t *p, size_t n)
{
    size_t max = 64, w = 0;
    for (size_t i = 0; i < n && i < max && w + 1 < cap; i++)
        buf[w++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    if (n > max && w + 4 < cap) {
        memcpy(buf + w, "...", 3);
        w += 3;
    }
    buf[w] = 0;
    return buf;
}

const char *rs_fmt_pid(char *buf, struct rs_pid pid)
{
    snprintf(buf, ROSTER_PID_STRLEN, "%016" PRIx64 ".%" PRIu64, pid.inc, pid.serial);
    return buf;
}

/* A peer that does not read what we send is declared down once its unread output passes
 * outbuf_max, like a client; not here (callers walk tables the purge would change) but at
 * the end of the apply. Nothing more is sent to it meanwhile. */
void rs_out_peer(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    if (n->state != ROSTER_NODE_UP || !n->conn || n->overflow)
        return;
    size_t before = c->out->bytes.len;
    if (rs_out_frame_conn(c, n->conn, m) != 0)
        return;
    n->unread += c->out->bytes.len - before;
    if (n->unread > c->lim.outbuf_max) {
        n->overflow = 1;
        c->peer_overflow = 1;
    }
}

/* --- flow control (flow.c): frames encoded when they were held --------------------------- */

/* send_bytes appends p to the arena as (part of) a SEND to conn; returns len or 0. */
static size_t send_bytes(struct rs_core *c, uint64_t conn, const uint8_t *p, size_t len)
{
    struct rs_outputs *o = c->out;
    size_t off = o->bytes.len;
    if (rs_buf_append(&o->bytes, p, len) != 0) {
        c->oom = 1;
        return 0;
    }
    if (o->n) {
        struct rs_output *last = &o->v[o->n - 1];
        if (last->kind == RS_OUT_SEND && last->conn == conn && last->off + last->len == off) {
            last->len += len;
            return len;
        }
    }
    if (push(c, RS_OUT_SEND, 0, conn, off, len) != 0) {
        o->bytes.len = off;
        return 0;
    }
    return len;
}

int rs_out_bytes(struct rs_core *c, struct rs_client *cl, const uint8_t *p, size_t len)
{
    if (cl->closing)
        return 0;
    if (!send_bytes(c, cl->conn, p, len))
        return -1;
    cl->unread += len;
    if (cl->unread > c->lim.outbuf_max)
        rs_out_close(c, cl, "unread output above %u bytes (client not reading its replies)",
                     c->lim.outbuf_max);
    return 0;
}

void rs_out_peer_bytes(struct rs_core *c, struct rs_node *n, const uint8_t *p, size_t len)
{
    if (n->state != ROSTER_NODE_UP || !n->conn || n->overflow)
        return;
    if (!send_bytes(c, n->conn, p, len))
        return;
    n->unread += len;
    if (n->unread > c->lim.outbuf_max) {
        n->overflow = 1;
        c->peer_overflow = 1;
    }
}

int rs_out_flow(struct rs_core *c, uint64_t conn, int pause)
{
    return push(c, pause ? RS_OUT_PAUSE : RS_OUT_RESUME, 0, conn, 0, 0);
}

int rs_out_channel_fd(struct rs_core *c, uint64_t conn, int level, uint64_t id)
{
    if (push(c, RS_OUT_CHANNEL_FD, level, conn, 0, 0) != 0)
        return -1;
    c->out->v[c->out->n - 1].kv_id = id;
    return 0;
}
