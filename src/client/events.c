/* events.c: the event queue (raw frames in arrival order, converted on roster_next_event),
 * the eventfd that keeps roster_fd readable while the queue is not empty, subscriptions
 * and monitors. */
#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"

int rs_client_evq_nonempty(const roster_client *c)
{
    return c->evq_off < c->evq.len || c->events_lost > 0;
}

/* sync_evfd makes the eventfd readable exactly while the queue is not empty. Only the
 * transitions cost a syscall, and only for a client whose roster_fd is in use. */
static void sync_evfd(roster_client *c)
{
    if (!c->fd_used || c->evfd_hold)
        return;
    int want = rs_client_evq_nonempty(c);
    if (want && !c->evfd_set) {
        uint64_t one = 1;
        while (write(c->evfd, &one, sizeof one) < 0 && errno == EINTR) {
        }
        c->evfd_set = 1;
    } else if (!want && c->evfd_set) {
        uint64_t v;
        while (read(c->evfd, &v, sizeof v) < 0 && errno == EINTR) {
        }
        c->evfd_set = 0;
    }
}

void rs_client_evq_sync(roster_client *c) { sync_evfd(c); }

int rs_client_evq_overflowed(const roster_client *c, uint64_t id)
{
    for (size_t i = 0; i < c->n_ovf; i++)
        if (c->ovf[i].sub == id)
            return 1;
    return 0;
}

void rs_client_evq_internal_reply(roster_client *c, uint32_t req_id)
{
    for (size_t i = 0; i < c->n_ovf; i++) {
        if (c->ovf[i].unsub_req == req_id) {
            c->ovf[i] = c->ovf[--c->n_ovf];
            return;
        }
    }
}

/* queue_unsubscribe writes an UNSUBSCRIBE for sub into the output (sent with the next
 * write) and remembers it; 0 or -1 (out of memory). */
static int queue_unsubscribe(roster_client *c, uint64_t sub)
{
    if (c->n_ovf == c->cap_ovf) {
        size_t cap = c->cap_ovf ? c->cap_ovf * 2 : 8;
        struct rs_client_ovf *v = rs_realloc(c->ovf, cap * sizeof *v);
        if (!v)
            return -1;
        c->ovf = v;
        c->cap_ovf = cap;
    }
    uint32_t id = (c->next_internal++ & RS_CLIENT_ID_MASK) | RS_CLIENT_INTERNAL_BIT;
    struct rs_msg u;
    memset(&u, 0, sizeof u);
    u.type = RS_MSG_UNSUBSCRIBE;
    u.req_id = id;
    rs_msg_unsubscribe_id_set(&u, sub);
    if (rs_wire_encode(&c->out, &u) != 0)
        return -1;
    c->ovf[c->n_ovf].sub = sub;
    c->ovf[c->n_ovf].unsub_req = id;
    c->n_ovf++;
    return 0;
}

static void append(roster_client *c, const uint8_t *p, size_t n, int is_reply,
                   uint64_t weight);

/* bounded_message applies the queue bound to a MESSAGE frame: a message that would take the
 * queue past options.event_queue_bytes is dropped and counted, never silently: the first
 * drop of a run queues one OVERFLOW event with id 0 at its place, and that event reports
 * (in dropped) every message dropped until it is taken. Returns 1 if the frame is dropped. */
static int bounded_message(roster_client *c, size_t n, uint64_t pids)
{
    /* An empty queue takes one frame whatever its size: a frame naming many pids may be
     * larger than a small bound, and would otherwise never get through. */
    if (c->evq.len - c->evq_off + n <= c->evq_max || c->evq_off == c->evq.len)
        return 0;
    /* Flow control: a frame read is kept; the library stops reading instead (io.c) and
     * the node slows the senders. */
    if (!c->drop_messages)
        return 0;
    c->msgs_dropped += pids; /* one frame may carry a publish to several of our pids */
    if (c->msg_marker)
        return 1;
    struct rs_msg o;
    memset(&o, 0, sizeof o);
    o.type = RS_MSG_EVENT;
    rs_msg_event_opts_set(&o, rs_msg_event_opts_pack(ROSTER_EV_OVERFLOW, 0, 0));
    struct rs_buf b;
    rs_buf_init(&b);
    if (rs_wire_encode(&b, &o) != 0) {
        c->events_lost++; /* out of memory: reported as lost events */
    } else {
        c->msg_marker = 1;
        append(c, b.data, b.len, 0, 1);
    }
    rs_buf_fini(&b);
    return 1;
}

uint64_t rs_client_evq_take_dropped(roster_client *c)
{
    uint64_t n = c->msgs_dropped;
    c->msgs_dropped = 0;
    c->msg_marker = 0;
    return n;
}

/* bounded_event applies the library's queue bound to a subscription event frame: returns 1
 * if the frame is to be dropped (after queueing the one OVERFLOW event that replaces it). */
static int bounded_event(roster_client *c, size_t n, const struct rs_msg *ev)
{
    if (ev->type == RS_MSG_MESSAGE)
        return bounded_message(c, n, rs_msg_message_receivers(ev));
    /* Monitors' DOWN events, conflict notices (addressed to a pid's owner, not to a
     * subscription) and a subscription's snapshot (the state the application asked for,
     * ending with SNAPSHOT_END) are never dropped. Event kinds this library does not know
     * yet are handed out as they are (roster_event_type_name says "unknown"). */
    unsigned kind = rs_msg_event_kind(ev);
    uint64_t sub = rs_msg_event_id(ev);
    /* Id 0 is a notice to a pid's owner, not a subscription's event (a handoff that made
     * it the holder, a lost lease): never dropped either. */
    if (kind == ROSTER_EV_DOWN || kind == ROSTER_EV_CONFLICT || rs_msg_event_snapshot(ev) ||
        sub == 0 || kind == ROSTER_EV_RECONNECTED || kind == ROSTER_EV_RESTORE_FAILED)
        return 0;
    if (c->n_ovf && rs_client_evq_overflowed(c, sub))
        return 1;
    if (c->evq.len - c->evq_off + n <= c->evq_max)
        return 0;
    /* Over the bound: the subscription ends here, on the node too, as a node-side overflow
     * would end it. */
    if (queue_unsubscribe(c, sub) != 0) {
        c->events_lost++;
        return 1;
    }
    struct rs_msg o;
    memset(&o, 0, sizeof o);
    o.type = RS_MSG_EVENT;
    rs_msg_event_opts_set(&o, rs_msg_event_opts_pack(ROSTER_EV_OVERFLOW, 0, 0));
    rs_msg_event_id_set(&o, sub);
    o.scope = ev->scope;
    rs_msg_event_node_set(&o, rs_msg_event_node(ev));
    struct rs_buf b;
    rs_buf_init(&b);
    if (rs_wire_encode(&b, &o) != 0)
        c->events_lost++;
    else
        append(c, b.data, b.len, 0, 1);
    rs_buf_fini(&b);
    return 1;
}

void rs_client_evq_push(roster_client *c, const uint8_t *p, size_t n, const struct rs_msg *ev)
{
    if (ev && bounded_event(c, n, ev))
        return;
    /* a MESSAGE lost for want of memory counts every pid it names */
    uint64_t weight = ev && ev->type == RS_MSG_MESSAGE ? rs_msg_message_receivers(ev) : 1;
    append(c, p, n, ev == NULL, weight);
}

/* append queues a raw frame; weight = the events it stands for, counted as lost if memory
 * runs out. */
static void append(roster_client *c, const uint8_t *p, size_t n, int is_reply,
                   uint64_t weight)
{
    c->head_valid = 0; /* the buffer may move */
    if (c->evq_off == c->evq.len) {
        c->evq.len = c->evq_off = 0;
    } else if (c->evq_off >= RS_CLIENT_CHUNK && c->evq_off * 2 >= c->evq.len) {
        rs_buf_consume(&c->evq, c->evq_off);
        c->evq_off = 0;
    }
    if (rs_buf_append(&c->evq, p, n) != 0) {
        c->events_lost += weight;
    } else {
        if (is_reply)
            c->evq_replies++;
        else if (c->recon) /* ids in the application's terms (keep.c) */
            rs_client_keep_event(c, c->evq.data + c->evq.len - n, n);
    }
    sync_evfd(c);
}

uint64_t rs_client_evq_drop_replies(roster_client *c)
{
    uint64_t failed = 0, kept = 0;
    if (c->evq_replies == 0)
        return 0;
    c->head_valid = 0;
    size_t r = c->evq_off, w = c->evq_off;
    while (r < c->evq.len) {
        const uint8_t *f = c->evq.data + r;
        size_t n = (size_t)rs_get_u32(f) + 4;
        uint32_t id = rs_get_u32(f + 8);
        if ((f[5] & RS_F_REPLY) && (id & RS_CLIENT_LONG_BITS) != RS_CLIENT_LONG_BITS) {
            if (rs_get_u32(f + RS_FRAME_HEADER) != 0)
                failed++;
        } else {
            if (f[5] & RS_F_REPLY)
                kept++; /* a campaign's answer stays for the application */
            if (w != r)
                memmove(c->evq.data + w, f, n);
            w += n;
        }
        r += n;
    }
    c->evq.len = w;
    c->evq_replies = kept;
    sync_evfd(c);
    return failed;
}

/* fill_bufs copies an event's byte fields into ONE allocation, in the order name, meta,
 * prev_meta, each NUL-terminated, and points the roster_bufs into it. A field the event kind
 * does not carry (want_* 0) stays {NULL, 0}, so the first non-NULL pointer in that order is
 * always the start of the block: roster_event_free frees that one. 0 or ENOMEM (ev's buffers
 * left empty). */
static int fill_bufs(roster_event *ev, int want_name, struct rs_bytes name, int want_meta,
                     struct rs_bytes meta, int want_prev, struct rs_bytes prev, size_t npids,
                     roster_pid **pids)
{
    size_t total = (want_name ? name.len + 1 : 0) + (want_meta ? meta.len + 1 : 0) +
                   (want_prev ? prev.len + 1 : 0);
    if (total == 0)
        return 0;
    /* pids (a MESSAGE's receivers) go after the bytes, aligned */
    size_t pids_at = (total + _Alignof(roster_pid) - 1) & ~(size_t)(_Alignof(roster_pid) - 1);
    if (npids)
        total = pids_at + npids * sizeof(roster_pid);
    uint8_t *block = rs_malloc(total), *at = block;
    if (!block)
        return ROSTER_ENOMEM;
    if (npids)
        *pids = (roster_pid *)(void *)(block + pids_at);
    roster_buf *dst[3] = {&ev->name, &ev->meta, &ev->prev_meta};
    const struct rs_bytes *src[3] = {&name, &meta, &prev};
    const int want[3] = {want_name, want_meta, want_prev};
    for (int i = 0; i < 3; i++) {
        if (!want[i])
            continue;
        if (src[i]->len)
            memcpy(at, src[i]->ptr, src[i]->len);
        at[src[i]->len] = 0;
        dst[i]->data = at;
        dst[i]->len = src[i]->len;
        at += src[i]->len + 1;
    }
    return 0;
}

/* convert_message fills ev for receivers [first, first + n) of a MESSAGE. */
static int convert_message(const roster_client *c, const struct rs_msg *m, size_t first,
                           size_t n, roster_event *ev)
{
    ev->type = ROSTER_EV_MESSAGE;
    ev->msg_kind = (int)(rs_msg_message_kind(m) & 0xffu); /* above: a channel's tag */
    ev->to.node_inc = c->self.node_inc;
    ev->to.serial = rs_msg_message_receiver(m, first);
    ev->call_ref = rs_msg_message_call_ref(m);
    struct rs_pid from = rs_msg_message_from(m);
    ev->pid.node_inc = from.inc;
    ev->pid.serial = from.serial;
    rs_client_copy_str(ev->scope, sizeof ev->scope, m->scope);
    rs_client_copy_str(ev->node, sizeof ev->node, rs_msg_message_from_node(m));
    roster_pid *pids = NULL;
    int r = fill_bufs(ev, 1, rs_msg_message_key(m), 1, rs_msg_message_payload(m), 0,
                      rs_bytes_of(NULL, 0), n, &pids);
    if (r)
        return r;
    for (size_t i = 0; i < n; i++) {
        pids[i].node_inc = c->self.node_inc;
        pids[i].serial = rs_msg_message_receiver(m, first + i);
    }
    ev->n_to = n;
    ev->to_all = pids;
    return 0;
}

/* convert fills ev from a decoded queued frame other than a MESSAGE; 0 or ENOMEM (ev left
 * empty). */
static int convert(const struct rs_msg *m_in, roster_event *ev)
{
    const struct rs_msg m = *m_in;
    if (m.type != RS_MSG_EVENT) {
        ev->type = ROSTER_EV_REPLY;
        ev->req_id = m.req_id;
        ev->status = m.status;
        ev->pid.node_inc = m.pid.inc;
        ev->pid.serial = m.pid.serial;
        ev->token = m.arg2; /* REGISTER, CAMPAIGN: the grant's fencing token */
        /* a pipelined answer: its PREV (error detail) is handed out as meta */
        return fill_bufs(ev, 0, m.key, 1, m.prev, 0, m.prev, 0, NULL);
    }
    ev->type = (int)rs_msg_event_kind(&m);
    ev->reason = (int)rs_msg_event_reason(&m);
    ev->snapshot = rs_msg_event_snapshot(&m);
    ev->id = rs_msg_event_id(&m);
    ev->revision = rs_msg_event_revision(&m);
    ev->pid.node_inc = m.pid.inc;
    ev->pid.serial = m.pid.serial;
    rs_client_copy_str(ev->scope, sizeof ev->scope, m.scope);
    rs_client_copy_str(ev->node, sizeof ev->node, rs_msg_event_node(&m));
    rs_client_recon_convert(ev); /* the library's own reconnect events */
    int r = fill_bufs(ev, 1, rs_msg_event_key(&m), 1, rs_msg_event_meta(&m), 1,
                      rs_msg_event_prev_meta(&m), 0, NULL);
    if (r == 0 && ev->reason == ROSTER_REASON_EXIT &&
        (ev->type == ROSTER_EV_UNREGISTERED || ev->type == ROSTER_EV_LEFT ||
         ev->type == ROSTER_EV_DOWN)) {
        /* a removal has no previous metadata: PREV carries the pid's exit reason (the
         * block still starts at name, which is always set) */
        ev->reason_text = ev->prev_meta;
        ev->prev_meta.data = NULL;
        ev->prev_meta.len = 0;
    }
    return r;
}

int roster_next_event(roster_client *c, roster_event *ev)
{
    if (!c || !ev)
        return ROSTER_EINVAL;
    memset(ev, 0, sizeof *ev);
    if (!rs_client_evq_nonempty(c) && !c->dead) {
        int r = rs_client_pump(c);
        if (r == ROSTER_ENOMEM)
            return rs_client_fail(c, r, "out of memory reading from the node");
    }
    if (c->events_lost) {
        uint64_t lost = c->events_lost;
        c->events_lost = 0;
        sync_evfd(c);
        return rs_client_fail(c, ROSTER_ENOMEM, "%llu events lost: out of memory",
                              (unsigned long long)lost);
    }
    if (c->evq_off < c->evq.len) {
        const uint8_t *f = c->evq.data + c->evq_off;
        size_t n = (size_t)rs_get_u32(f) + 4;
        struct rs_msg m;
        int cached = c->evq_sub > 0 && c->head_valid;
        if (cached)
            m = c->head; /* the rest of a MESSAGE's pids: decoded already */
        else if (rs_wire_decode(f, n, &c->dec, &m) != RS_WIRE_OK)
            return rs_client_fail(c, ROSTER_EPROTO, "queued frame does not decode");
        int r;
        if (m.type == RS_MSG_MESSAGE) {
            /* one event per receiving pid (the frame stays at the head until its last
             * one), or one for all of them */
            size_t pids = rs_msg_message_receivers(&m);
            size_t k = c->group_messages ? pids - c->evq_sub : 1;
            if ((r = convert_message(c, &m, c->evq_sub, k, ev)) != 0)
                return rs_client_fail(c, r, "out of memory converting an event");
            c->evq_sub += k;
            if (c->evq_sub < pids) {
                if (!cached) {
                    c->head = m;
                    c->head_valid = 1;
                }
                sync_evfd(c);
                return 0;
            }
            c->evq_sub = 0;
            c->head_valid = 0;
        } else if ((r = convert(&m, ev)) != 0) {
            return rs_client_fail(c, r, "out of memory converting an event");
        }
        if (ev->type == ROSTER_EV_REPLY && c->evq_replies)
            c->evq_replies--;
        if (ev->type == ROSTER_EV_OVERFLOW && ev->id == 0)
            ev->dropped = rs_client_evq_take_dropped(c);
        c->evq_off += n;
        if (c->evq_off == c->evq.len)
            c->evq.len = c->evq_off = 0;
        sync_evfd(c);
        return 0;
    }
    if (c->dead && c->recon) {
        /* reconnecting: nothing now (roster_fd wakes the poller for the next attempt), or
         * connected again with the RECONNECTED event queued */
        if (rs_client_reconnect(c) == 0 && rs_client_evq_nonempty(c))
            return roster_next_event(c, ev);
        return ROSTER_EAGAIN;
    }
    if (c->dead)
        return rs_client_fail(c, ROSTER_ECLOSED, "connection to the node is closed");
    return ROSTER_EAGAIN;
}

static int has_event(roster_client *c, void *arg)
{
    (void)arg;
    return rs_client_evq_nonempty(c);
}

/* wait_event: roster_wait_event with the eventfd held (see client.h). An empty queue goes
 * straight to the poll, which returns at once if the socket has data: a non-blocking read
 * first would only cost a syscall on the path where latency matters. */
static int wait_event(roster_client *c, roster_event *ev, int timeout_ms)
{
    int64_t deadline = 0;
    for (int waited = 0;; waited = 1) {
        if (rs_client_evq_nonempty(c) || (c->dead && !c->recon))
            return roster_next_event(c, ev);
        if (!waited) /* the clock is read only when there is something to wait for */
            deadline = rs_client_deadline(timeout_ms);
        if (c->dead) { /* reconnecting: attempt when due, else wait for that moment */
            if (rs_client_reconnect(c) == 0)
                continue;
            int64_t left = deadline < 0 ? 0x7fffffff : deadline - rs_client_now_ms();
            if (left <= 0)
                return rs_client_fail(c, ROSTER_ETIMEDOUT, "no event within %d ms "
                                      "(reconnecting)", timeout_ms);
            int w = rs_client_recon_wait_ms(c);
            poll(NULL, 0, w < left ? w : (int)left);
            continue;
        }
        int r = rs_client_wait(c, has_event, NULL, deadline);
        if (r == ROSTER_ETIMEDOUT)
            return rs_client_fail(c, r, "no event within %d ms", timeout_ms);
        if (r && r != ROSTER_ECLOSED && r != ROSTER_EPROTO)
            return r;
        /* on ECLOSED, hand out what is queued, then ECLOSED */
    }
}

int roster_wait_event(roster_client *c, roster_event *ev, int timeout_ms)
{
    if (!c || !ev)
        return ROSTER_EINVAL;
    c->evfd_hold = 1;
    int r = wait_event(c, ev, timeout_ms);
    c->evfd_hold = 0;
    sync_evfd(c);
    return r;
}

void roster_event_free(roster_event *ev)
{
    if (!ev)
        return;
    /* One block (see fill_bufs): it starts at the first buffer that is set. */
    uint8_t *block = ev->name.data ? ev->name.data
                     : ev->meta.data ? ev->meta.data
                                     : ev->prev_meta.data;
    rs_free(block);
    ev->name.data = ev->meta.data = ev->prev_meta.data = NULL;
    ev->name.len = ev->meta.len = ev->prev_meta.len = 0;
    ev->reason_text.data = NULL; /* in the block too */
    ev->reason_text.len = 0;
    ev->to_all = NULL; /* it was in the block */
    ev->n_to = 0;
}

const char *roster_event_type_name(int type)
{
    switch (type) {
    case ROSTER_EV_REGISTERED: return "registered";
    case ROSTER_EV_UNREGISTERED: return "unregistered";
    case ROSTER_EV_UPDATED: return "updated";
    case ROSTER_EV_JOINED: return "joined";
    case ROSTER_EV_LEFT: return "left";
    case ROSTER_EV_MEMBER_UPDATED: return "member_updated";
    case ROSTER_EV_SNAPSHOT_END: return "snapshot_end";
    case ROSTER_EV_OVERFLOW: return "overflow";
    case ROSTER_EV_DOWN: return "down";
    case ROSTER_EV_REPLY: return "reply";
    case ROSTER_EV_CONFLICT: return "conflict";
    case ROSTER_EV_NODE_UP: return "node_up";
    case ROSTER_EV_NODE_DOWN: return "node_down";
    case ROSTER_EV_MESSAGE: return "message";
    case ROSTER_EV_RECONNECTED: return "reconnected";
    case ROSTER_EV_RESTORE_FAILED: return "restore_failed";
    case ROSTER_EV_SCOPE_META_SET: return "scope_meta_set";
    case ROSTER_EV_SCOPE_META_DELETED: return "scope_meta_deleted";
    case ROSTER_EV_NODE_LEFT: return "node_left";
    default: return "unknown";
    }
}

const char *roster_reason_name(int reason)
{
    switch (reason) {
    case ROSTER_REASON_NONE: return "none";
    case ROSTER_REASON_NORMAL: return "normal";
    case ROSTER_REASON_DISCONNECTED: return "disconnected";
    case ROSTER_REASON_NODE_DOWN: return "node_down";
    case ROSTER_REASON_CONFLICT: return "conflict";
    case ROSTER_REASON_NOPROC: return "noproc";
    case ROSTER_REASON_LEASE_LOST: return "lease_lost";
    case ROSTER_REASON_HANDOFF: return "handoff";
    case ROSTER_REASON_EXPIRED: return "expired";
    case ROSTER_REASON_NODE_LEFT: return "node_left";
    case ROSTER_REASON_EXIT: return "exit";
    default: return "unknown";
    }
}

int roster_subscribe(roster_client *c, const char *scope, const void *pattern,
                     size_t pattern_len, unsigned flags, uint64_t *sub_out, int timeout_ms)
{
    return roster_subscribe_from(c, scope, pattern, pattern_len, flags, 0, sub_out,
                                 timeout_ms);
}

int roster_subscribe_from(roster_client *c, const char *scope, const void *pattern,
                          size_t pattern_len, unsigned flags, uint64_t from_revision,
                          uint64_t *sub_out, int timeout_ms)
{
    int r = rs_client_begin(c);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    if (r || (r = rs_client_check_scope(c, scope, &m.scope)) ||
        (r = rs_client_check_key(c, pattern, pattern_len, "pattern")))
        return r;
    if (flags & ~(unsigned)(ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS | ROSTER_SUB_PREFIX |
                            ROSTER_SUB_SNAPSHOT | ROSTER_SUB_ALL | ROSTER_SUB_SCOPE_META))
        return rs_client_fail(c, ROSTER_EINVAL, "unknown subscription flags 0x%x", flags);
    /* Resuming replays exactly the changes after the revision: a snapshot would repeat
     * state the subscriber already has. */
    if (from_revision && (flags & ROSTER_SUB_SNAPSHOT))
        return rs_client_fail(c, ROSTER_EINVAL,
                              "a subscription from a revision takes no snapshot");
    if (!(flags & (ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS | ROSTER_SUB_SCOPE_META)))
        flags |= ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS;
    m.type = RS_MSG_SUBSCRIBE;
    rs_msg_subscribe_flags_set(&m, flags);
    rs_msg_subscribe_from_revision_set(&m, from_revision);
    rs_msg_subscribe_pattern_set(&m, rs_bytes_of(pattern, pattern_len));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    if (r == 0 && sub_out)
        *sub_out = rs_msg_subscribe_reply_id(&rep);
    return r;
}

static int by_id(roster_client *c, uint8_t type, uint64_t id, int timeout_ms)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    if (type == RS_MSG_UNSUBSCRIBE)
        rs_msg_unsubscribe_id_set(&m, id);
    else
        rs_msg_demonitor_id_set(&m, id);
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}

int roster_unsubscribe(roster_client *c, uint64_t sub, int timeout_ms)
{
    if (c && rs_client_evq_overflowed(c, sub))
        return rs_client_fail(c, ROSTER_ENOTFOUND, "subscription %llu overflowed and ended",
                              (unsigned long long)sub);
    return by_id(c, RS_MSG_UNSUBSCRIBE, sub, timeout_ms);
}

int roster_monitor(roster_client *c, roster_pid pid, uint64_t *mon_out, int timeout_ms)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_MONITOR;
    m.pid.inc = pid.node_inc;
    m.pid.serial = pid.serial;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    int r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    if (r == 0 && mon_out)
        *mon_out = rs_msg_monitor_reply_id(&rep);
    return r;
}

int roster_demonitor(roster_client *c, uint64_t mon, int timeout_ms)
{
    return by_id(c, RS_MSG_DEMONITOR, mon, timeout_ms);
}
