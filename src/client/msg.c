/* msg.c: messaging (docs/MESSAGING.md): send to a pid or a name, publish to a group, call
 * and multi-call, and replies to calls received as ROSTER_EV_MESSAGE events.
 *
 * A send without ROSTER_SEND_CONFIRM (and a publish with ROSTER_PUBLISH_NOWAIT) is a frame
 * written into the out buffer and nothing more: no request id is waited on and the node
 * answers nothing. With ROSTER_SEND_NOFLUSH the
 * frame is only queued and the buffer is written once it holds RS_CLIENT_CHUNK bytes, so a
 * pipelining sender makes no syscall and (once the buffer has grown) no allocation per
 * message. Everything that waits for an answer goes through the blocking request engine
 * (request.c), so a timed-out call is abandoned like any other request.
 *
 * The payload limit (--max-message-bytes) comes with the HELLO answer (protocol version 3);
 * a larger message is refused here with ROSTER_ETOOBIG, without a round trip. */
#include <string.h>

#include "client/client.h"
#include "wire/chan.h"

static_assert(ROSTER_PUBLISH_NOWAIT == RS_PUBLISH_NOWAIT &&
                  ROSTER_PUBLISH_LOCAL == RS_PUBLISH_LOCAL &&
                  ROSTER_SEND_CONFIRM == RS_SEND_CONFIRM && ROSTER_SEND_DROP == RS_SEND_DROP,
              "the library's message flags are the wire's");

/* The node stops a multi-call at its timeout and then answers; the library waits this much
 * longer for that answer. */
#define MULTI_CALL_GRACE_MS 2000

/* check_payload makes the local checks shared by every message: a live client, a data
 * pointer, the payload limit. */
static int check_payload(roster_client *c, const void *data, size_t len)
{
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (len && !data)
        return rs_client_fail(c, ROSTER_EINVAL, "message data pointer is NULL");
    if (len > c->msg_max)
        return rs_client_fail(c, ROSTER_ETOOBIG, "message of %zu bytes (limit %u)", len,
                              c->msg_max);
    return 0;
}

/* check_from turns `from` into its serial: one of this client's pids (the zero pid means
 * roster_self). */
static int check_from(roster_client *c, roster_pid from, uint64_t *serial)
{
    if (from.node_inc == 0 && from.serial == 0)
        from = c->self;
    if (from.node_inc != c->self.node_inc)
        return rs_client_fail(c, ROSTER_ENOTOWNER, "sender %016llx.%llu is not a pid of this "
                              "client's node", (unsigned long long)from.node_inc,
                              (unsigned long long)from.serial);
    *serial = from.serial;
    return 0;
}

/* make_room makes sure a frame of `need` bytes can be queued without passing
 * RS_CLIENT_OUT_HIGH, waiting (up to timeout_ms; 0: not at all, ROSTER_EAGAIN) until the
 * queue of unwritten frames is below half of it. A queue that large means the node stopped
 * reading us (flow control: a receiver of ours is behind), so the message is not queued at
 * all unless there is room: an error always means "not sent". */
static int make_room(roster_client *c, size_t need, int timeout_ms)
{
    int r = rs_client_write(c);
    size_t queued = c->out.len - c->out_off;
    if (r || queued == 0 || queued + need <= RS_CLIENT_OUT_HIGH)
        return r;
    if (timeout_ms == 0)
        return rs_client_fail(c, ROSTER_EAGAIN, "not sent: the node is not taking this "
                              "client's messages (a receiver is behind: flow control)");
    size_t low = RS_CLIENT_OUT_HIGH / 2;
    if (need >= low)
        low = 0;
    r = rs_client_wait(c, rs_client_out_below, &low, rs_client_deadline(timeout_ms));
    if (r == ROSTER_ETIMEDOUT)
        return rs_client_fail(c, r, "not sent: the node took none of this client's queued "
                              "messages within %d ms (a receiver is behind: flow control)",
                              timeout_ms);
    return r;
}

/* post queues m (a frame the node does not answer) and writes it unless noflush, or writes
 * the queue once it is large. */
static int post(roster_client *c, struct rs_msg *m, int noflush, int timeout_ms)
{
    m->flags = 0;
    m->req_id = 0;
    int r = rs_client_check_frame(c, m);
    if (r)
        return r;
    if ((r = make_room(c, rs_wire_size(m), timeout_ms)))
        return r;
    if (rs_wire_encode(&c->out, m) != 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory queuing the message");
    c->posted = 1;
    if (noflush && c->out.len - c->out_off < RS_CLIENT_CHUNK)
        return 0;
    r = rs_client_out_drain(c, rs_client_deadline(timeout_ms), noflush);
    if (r == ROSTER_ETIMEDOUT)
        return rs_client_fail(c, r, "the node did not take the queued messages within %d ms",
                              timeout_ms);
    return r;
}

/* build_target fills the destination of a SEND / CALL: a pid, or (scope, name). */
static int build_target(roster_client *c, struct rs_msg *m, roster_pid to, const char *scope,
                        const void *name, size_t name_len)
{
    int r;
    if (name) {
        if ((r = rs_client_check_scope(c, scope, &m->scope)) ||
            (r = rs_client_check_key(c, name, name_len, "name")))
            return r;
        if (name_len == 0)
            return rs_client_fail(c, ROSTER_EINVAL, "empty name");
        m->key = rs_bytes_of(name, name_len); /* SEND and CALL: the receiving name */
        return 0;
    }
    if (to.node_inc == 0 && to.serial == 0)
        return rs_client_fail(c, ROSTER_EINVAL, "the zero pid is not a destination");
    m->pid.inc = to.node_inc; /* SEND and CALL: the receiving pid */
    m->pid.serial = to.serial;
    return 0;
}

static int send_common(roster_client *c, roster_pid from, roster_pid to, const char *scope,
                       const void *name, size_t name_len, const void *data, size_t len,
                       unsigned flags, int timeout_ms)
{
    int r = check_payload(c, data, len);
    if (r)
        return r;
    if (flags & ~(unsigned)(ROSTER_SEND_CONFIRM | ROSTER_SEND_NOFLUSH | ROSTER_SEND_DROP))
        return rs_client_fail(c, ROSTER_EINVAL, "unknown send flags 0x%x", flags);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_SEND;
    uint32_t wire = flags & (ROSTER_SEND_CONFIRM | ROSTER_SEND_DROP);
    if (c->drop_messages)
        wire |= RS_SEND_DROP;
    /* a confirmed send that would not wait: the node answers EAGAIN instead of holding it */
    if ((flags & ROSTER_SEND_CONFIRM) && timeout_ms == 0)
        wire |= RS_SEND_NOWAIT;
    rs_msg_send_flags_set(&m, wire);
    uint64_t serial = 0;
    if ((r = check_from(c, from, &serial)) ||
        (r = build_target(c, &m, to, scope, name, name_len)))
        return r;
    int rc;
    if (!name && c->n_chans &&
        rs_client_chan_send(c, serial, (struct rs_pid){to.node_inc, to.serial}, data, len, flags,
                            timeout_ms, &rc))
        return rc; /* a direct channel to the receiver's client (chan.c) */
    if (c->n_chans && (name || to.node_inc == c->node_inc)) /* may reach a channel's peer */
        rs_client_chan_node_path(c);
    rs_msg_send_from_set(&m, serial);
    rs_msg_send_payload_set(&m, rs_bytes_of(data, len));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = !(flags & ROSTER_SEND_CONFIRM) ? post(c, &m, (flags & ROSTER_SEND_NOFLUSH) != 0, timeout_ms)
                                       : rs_client_request(c, &m, &req, timeout_ms);
    if (r == 0 && !name && c->n_chans && !(flags & ROSTER_SEND_DROP))
        rs_client_chan_via_node(c, serial, (struct rs_pid){to.node_inc, to.serial});
    return r;
}

int roster_send(roster_client *c, roster_pid from, roster_pid to, const void *data, size_t len,
                unsigned flags, int timeout_ms)
{
    return send_common(c, from, to, NULL, NULL, 0, data, len, flags, timeout_ms);
}

int roster_send_name(roster_client *c, roster_pid from, const char *scope, const void *name,
                     size_t name_len, const void *data, size_t len, unsigned flags,
                     int timeout_ms)
{
    if (c && !name)
        return rs_client_fail(c, ROSTER_EINVAL, "name pointer is NULL");
    return send_common(c, from, (roster_pid){0, 0}, scope, name, name_len, data, len, flags,
                       timeout_ms);
}

int roster_publish(roster_client *c, roster_pid from, const char *scope, const void *group,
                   size_t group_len, const void *data, size_t len, unsigned flags,
                   size_t *recipients, int timeout_ms)
{
    if (recipients)
        *recipients = 0;
    int r = check_payload(c, data, len);
    if (r)
        return r;
    if (flags & ~(unsigned)(ROSTER_PUBLISH_LOCAL | ROSTER_PUBLISH_NOWAIT | ROSTER_SEND_NOFLUSH |
                            ROSTER_SEND_DROP))
        return rs_client_fail(c, ROSTER_EINVAL, "unknown publish flags 0x%x", flags);
    if ((flags & ROSTER_SEND_NOFLUSH) && !(flags & ROSTER_PUBLISH_NOWAIT) && recipients)
        return rs_client_fail(c, ROSTER_EINVAL, "ROSTER_SEND_NOFLUSH needs "
                                                "ROSTER_PUBLISH_NOWAIT on a publish");
    /* Nobody asked for the count: pipelined, like a send (no round trip per publish). */
    if (!recipients)
        flags |= ROSTER_PUBLISH_NOWAIT;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_PUBLISH;
    uint32_t wire = flags & (ROSTER_PUBLISH_LOCAL | ROSTER_PUBLISH_NOWAIT | ROSTER_SEND_DROP);
    if (c->drop_messages)
        wire |= RS_SEND_DROP;
    rs_msg_publish_flags_set(&m, wire);
    uint64_t serial = 0;
    if ((r = check_from(c, from, &serial)) || (r = rs_client_check_scope(c, scope, &m.scope)) ||
        (r = rs_client_check_key(c, group, group_len, "group")))
        return r;
    rs_msg_publish_from_set(&m, serial);
    rs_msg_publish_group_set(&m, rs_bytes_of(group, group_len));
    rs_msg_publish_payload_set(&m, rs_bytes_of(data, len));
    if (c->n_chans)
        rs_client_chan_node_path(c);
    if (flags & ROSTER_PUBLISH_NOWAIT)
        return post(c, &m, (flags & ROSTER_SEND_NOFLUSH) != 0, timeout_ms);
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    if (r == 0 && recipients)
        *recipients = (size_t)rs_msg_publish_reply_recipients(&rep);
    return r;
}

/* node_timeout is the timeout the node applies to a call (ARG2; UINT64_MAX: none). */
static uint64_t node_timeout(int timeout_ms)
{
    return timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms;
}

static int call_common(roster_client *c, roster_pid from, roster_pid to, const char *scope,
                       const void *name, size_t name_len, const void *data, size_t len,
                       roster_buf *reply, roster_pid *responder, int timeout_ms)
{
    if (reply) {
        reply->data = NULL;
        reply->len = 0;
    }
    if (responder)
        memset(responder, 0, sizeof *responder);
    int r = check_payload(c, data, len);
    if (r)
        return r;
    if (!reply)
        return rs_client_fail(c, ROSTER_EINVAL, "reply pointer is NULL");
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CALL;
    rs_msg_call_timeout_ms_set(&m, node_timeout(timeout_ms));
    uint64_t serial = 0;
    if ((r = check_from(c, from, &serial)) ||
        (r = build_target(c, &m, to, scope, name, name_len)))
        return r;
    int rc;
    if (!name && c->n_chans &&
        rs_client_chan_call(c, serial, (struct rs_pid){to.node_inc, to.serial}, data, len, reply,
                            responder, timeout_ms, &rc))
        return rc; /* a direct channel to the callee's client (chan.c) */
    if (c->n_chans && (name || to.node_inc == c->node_inc)) /* may reach a channel's peer */
        rs_client_chan_node_path(c);
    rs_msg_call_from_set(&m, serial);
    rs_msg_call_payload_set(&m, rs_bytes_of(data, len));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.want_meta = 1;
    r = rs_client_request(c, &m, &req, timeout_ms);
    if (r) {
        roster_buf_free(&req.meta);
        return r;
    }
    if (!name && c->n_chans)
        rs_client_chan_via_node(c, serial, (struct rs_pid){to.node_inc, to.serial});
    if (!req.meta.data && (r = rs_client_copy_buf(&req.meta, NULL, 0)))
        return rs_client_fail(c, r, "out of memory for the reply");
    *reply = req.meta;
    struct rs_msg rep = rs_req_reply(&req);
    struct rs_pid who = rs_msg_call_reply_responder(&rep);
    if (responder) {
        responder->node_inc = who.inc;
        responder->serial = who.serial;
    }
    return 0;
}

int roster_call(roster_client *c, roster_pid from, roster_pid to, const void *data, size_t len,
                roster_buf *reply, roster_pid *responder, int timeout_ms)
{
    return call_common(c, from, to, NULL, NULL, 0, data, len, reply, responder, timeout_ms);
}

int roster_call_name(roster_client *c, roster_pid from, const char *scope, const void *name,
                     size_t name_len, const void *data, size_t len, roster_buf *reply,
                     roster_pid *responder, int timeout_ms)
{
    if (c && !name)
        return rs_client_fail(c, ROSTER_EINVAL, "name pointer is NULL");
    return call_common(c, from, (roster_pid){0, 0}, scope, name, name_len, data, len, reply,
                       responder, timeout_ms);
}

int roster_reply(roster_client *c, const roster_event *request, const void *data, size_t len,
                 int timeout_ms)
{
    int r = check_payload(c, data, len);
    if (r)
        return r;
    if (!request || request->type != ROSTER_EV_MESSAGE || request->call_ref == 0)
        return rs_client_fail(c, ROSTER_EINVAL, "not a call: only a message event with a "
                                                "call_ref can be answered");
    if (request->call_ref & RS_CHAN_REF_BIT)
        return rs_client_chan_reply(c, request, data, len, timeout_ms); /* came on a channel */
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_REPLY;
    rs_msg_reply_call_ref_set(&m, request->call_ref);
    rs_msg_reply_payload_set(&m, rs_bytes_of(data, len));
    return post(c, &m, 0, timeout_ms);
}

void roster_multi_result_free(roster_multi_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_replies; i++)
        roster_buf_free(&r->replies[i].data);
    rs_free(r->replies);
    rs_free(r->bad);
    memset(r, 0, sizeof *r);
}

/* Growing arrays of a multi-call result. */
struct multi_acc {
    roster_multi_result *out;
    size_t cap_replies, cap_bad;
};

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = rs_realloc(*v, nc * elem);
    if (!p)
        return ROSTER_ENOMEM;
    *v = p;
    *cap = nc;
    return 0;
}

static int multi_item(struct rs_req *req, const struct rs_msg *m)
{
    struct multi_acc *a = req->ctx;
    roster_multi_result *o = a->out;
    struct rs_pid member = rs_msg_multi_call_item_member(m);
    roster_pid pid = {member.inc, member.serial};
    if (rs_msg_multi_call_item_bad(m) == 1) {
        if (grow((void **)&o->bad, &a->cap_bad, o->n_bad, sizeof *o->bad))
            return ROSTER_ENOMEM;
        o->bad[o->n_bad++] = pid;
        return 0;
    }
    if (grow((void **)&o->replies, &a->cap_replies, o->n_replies, sizeof *o->replies))
        return ROSTER_ENOMEM;
    roster_multi_reply *rep = &o->replies[o->n_replies];
    rep->pid = pid;
    struct rs_bytes answer = rs_msg_multi_call_item_payload(m);
    if (rs_client_copy_buf(&rep->data, answer.ptr, answer.len))
        return ROSTER_ENOMEM;
    o->n_replies++;
    return 0;
}

int roster_multi_call(roster_client *c, roster_pid from, const char *scope, const void *group,
                      size_t group_len, const void *data, size_t len, unsigned flags,
                      roster_multi_result *out, int timeout_ms)
{
    if (out)
        memset(out, 0, sizeof *out);
    int r = check_payload(c, data, len);
    if (r)
        return r;
    if (!out)
        return rs_client_fail(c, ROSTER_EINVAL, "result pointer is NULL");
    if (flags & ~(unsigned)ROSTER_PUBLISH_LOCAL)
        return rs_client_fail(c, ROSTER_EINVAL, "unknown multi-call flags 0x%x", flags);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_MULTI_CALL;
    rs_msg_multi_call_flags_set(&m, flags);
    rs_msg_multi_call_timeout_ms_set(&m, node_timeout(timeout_ms));
    uint64_t serial = 0;
    if ((r = check_from(c, from, &serial)) || (r = rs_client_check_scope(c, scope, &m.scope)) ||
        (r = rs_client_check_key(c, group, group_len, "group")))
        return r;
    rs_msg_multi_call_from_set(&m, serial);
    rs_msg_multi_call_group_set(&m, rs_bytes_of(group, group_len));
    rs_msg_multi_call_payload_set(&m, rs_bytes_of(data, len));
    if (c->n_chans)
        rs_client_chan_node_path(c);
    struct multi_acc acc = {out, 0, 0};
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.on_item = multi_item;
    req.ctx = &acc;
    int wait_ms = timeout_ms < 0 ? timeout_ms
                  : timeout_ms > 0x7fffffff - MULTI_CALL_GRACE_MS
                      ? 0x7fffffff
                      : timeout_ms + MULTI_CALL_GRACE_MS;
    r = rs_client_request(c, &m, &req, wait_ms);
    if (r)
        roster_multi_result_free(out);
    return r;
}
