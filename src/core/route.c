/* route.c: messaging routes (docs/MESSAGING.md). SEND resolves its target (a pid, or a name
 * on this node) and hands the payload to the owner client's connection as a MESSAGE frame,
 * or to the owner node's peer link as P_SEND; PUBLISH fans out to the local members of a
 * group and sends one P_PUBLISH per other node that has members. Frames are routed in
 * arrival order, so messages of one sender to one receiver keep their order on every hop.
 *
 * Bounds: a payload is at most limits.message_max and its frame must fit frame_max; a
 * receiving client whose unread output would pass limits.mailbox_bytes loses the message,
 * and so does a peer link whose unread output would pass it (never blocking, never growing
 * the node without bound). Every drop is counted (STATUS messages_dropped). Calls (kinds 3
 * and 4) are in calls.c; they deliver through the same two helpers. */
#include <string.h>

#include "core/chan.h"
#include "core/cluster.h"
#include "core/flow.h"
#include "core/members.h"
#include "core/names.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/route.h"
#include "core/scope.h"
#include "core/scopes.h"
#include "core/util.h"

void rs_route_init(struct rs_core *c)
{
    memset(&c->route, 0, sizeof c->route);
    rs_map_init(&c->route.slots);
    c->route.next_ref = 1;
}

void rs_route_free(struct rs_core *c)
{
    struct rs_route *r = &c->route;
    rs_free(r->fan);
    rs_free(r->fan_serials);
    rs_free(r->fan_prev);
    rs_free(r->heap);
    rs_map_fini(&r->slots);
    memset(r, 0, sizeof *r);
}

static int too_big(const struct rs_core *c, const struct rs_msg *m)
{
    return rs_wire_size(m) - 4 > c->lim.frame_max;
}

/* message_frame fills a MESSAGE to serial `to` (more receivers go in PREV). */
static void message_frame(struct rs_msg *m, uint32_t kind, uint64_t to, struct rs_pid from,
                          struct rs_bytes from_node, struct rs_bytes scope, struct rs_bytes key,
                          struct rs_bytes payload, uint64_t ref)
{
    memset(m, 0, sizeof *m);
    m->type = RS_MSG_MESSAGE;
    rs_msg_message_kind_set(m, kind);
    rs_msg_message_to_set(m, to);
    rs_msg_message_call_ref_set(m, ref);
    rs_msg_message_from_set(m, from);
    m->scope = scope;
    rs_msg_message_from_node_set(m, from_node);
    rs_msg_message_key_set(m, key);
    rs_msg_message_payload_set(m, payload);
}

static const struct rs_flow_from no_sender;

int rs_route_deliver(struct rs_core *c, struct rs_proc *to, uint32_t kind, struct rs_pid from,
                     struct rs_bytes from_node, struct rs_bytes scope, struct rs_bytes key,
                     struct rs_bytes payload, uint64_t ref, const struct rs_flow_from *f)
{
    struct rs_client *cl = to->client;
    if (cl->closing) {
        c->route.dropped++;
        return ROSTER_ENOPROC;
    }
    struct rs_msg m;
    message_frame(&m, kind, to->serial, from, from_node, scope, key, payload, ref);
    if (f && f->sender)
        m.opts |= rs_chan_tag(c, f->sender, cl); /* in turn with their channel (chan.c) */
    size_t size = rs_wire_size(&m);
    if (size - 4 > c->lim.frame_max) {
        c->route.dropped++;
        return ROSTER_ETOOBIG;
    }
    return rs_flow_client_put(c, cl, &m, 1, f ? f : &no_sender);
}

/* deliver_many sends one MESSAGE of kind PUBLISH to n >= 1 pids of client cl: serials[0] in
 * ARG, the others in PREV, at most RS_MSG_TARGETS_MAX per frame, fewer if the frame would
 * pass frame_max or the room left in the client's mailbox: like one frame per pid, a
 * publish reaches as many members as the mailbox takes, and the rest are dropped (and
 * counted). Returns the number of pids delivered. */
static uint64_t deliver_many(struct rs_core *c, struct rs_client *cl, const uint64_t *serials,
                             size_t n, struct rs_pid from, struct rs_bytes from_node,
                             struct rs_bytes scope, struct rs_bytes key, struct rs_bytes payload,
                             const struct rs_flow_from *f)
{
    if (cl->closing) {
        c->route.dropped += n;
        return 0;
    }
    struct rs_msg m;
    message_frame(&m, RS_MSGK_PUBLISH, serials[0], from, from_node, scope, key, payload, 0);
    if (f->sender)
        m.opts |= rs_chan_tag(c, f->sender, cl); /* in turn with their channel (chan.c) */
    size_t base = rs_wire_size(&m);
    if (base - 4 > c->lim.frame_max) {
        c->route.dropped += n;
        return 0;
    }
    size_t per = (c->lim.frame_max - (base - 4)) / 8 + 1; /* pids a frame can name */
    if (per > RS_MSG_TARGETS_MAX)
        per = RS_MSG_TARGETS_MAX;
    uint64_t sent = 0;
    size_t i = 0;
    /* Flow control (the default): frames of at most `per` pids, each written or held. */
    while (!f->drop && i < n) {
        if (cl->closing)
            break;
        size_t k = n - i < per ? n - i : per;
        rs_msg_message_set_receivers(&m, c->route.fan_prev, serials + i, k);
        int st = rs_flow_client_put(c, cl, &m, (uint32_t)k, f);
        if (st == 0 || st == RS_FLOW_HELD)
            sent += k;
        i += k;
    }
    /* A dropping sender: cut to the room left in the mailbox, drop the rest (and anything
     * that would overtake held messages). */
    while (f->drop && i < n && !cl->park.head) {
        /* the client may have been closed by the previous frame (its output bound) */
        uint64_t room = cl->unread < c->lim.mailbox_bytes ? c->lim.mailbox_bytes - cl->unread : 0;
        if (cl->closing || room < base)
            break;
        size_t k = n - i < per ? n - i : per;
        if ((room - base) / 8 + 1 < k)
            k = (size_t)((room - base) / 8 + 1);
        rs_msg_message_set_receivers(&m, c->route.fan_prev, serials + i, k);
        if (rs_out_frame(c, cl, &m) != 0) {
            c->route.dropped += k;
        } else { /* counted as rs_route_deliver counts, also if this frame closed cl */
            c->route.delivered += k;
            sent += k;
        }
        i += k;
    }
    c->route.dropped += n - i;
    return sent;
}

/* fan_reserve grows the fan-out scratch for clients and serials; 0 or -1 (oom). */
static int fan_reserve(struct rs_core *c, size_t n)
{
    struct rs_route *r = &c->route;
    if (!r->fan_prev && !(r->fan_prev = rs_core_alloc(c, 8 * (RS_MSG_TARGETS_MAX - 1))))
        return -1;
    if (n > r->fan_cap) {
        size_t cap = n < 16 ? 16 : n * 2;
        struct rs_fan_client *v = rs_core_alloc(c, cap * sizeof *v);
        uint64_t *s = v ? rs_core_alloc(c, cap * sizeof *s) : NULL;
        if (!s) {
            rs_free(v);
            return -1;
        }
        rs_free(r->fan);
        rs_free(r->fan_serials);
        r->fan = v;
        r->fan_serials = s;
        r->fan_cap = cap;
    }
    return 0;
}

/* fan_local delivers a publish to the local members of g: one frame per receiving client
 * naming all of its members, in member-list order (one connection is one ordered stream, so
 * per-pair order holds). Without memory for the grouping it falls back to one frame per pid.
 * Returns the number of pids delivered. It counts the members itself: the scratch is sized
 * by the very list it then walks. */
static uint64_t fan_local(struct rs_core *c, struct rs_group *g, struct rs_pid from,
                          struct rs_bytes from_node, struct rs_bytes scope, struct rs_bytes key,
                          struct rs_bytes payload, const struct rs_flow_from *f)
{
    uint64_t sent = 0;
    size_t n_local = 0;
    for (struct rs_member *m = g->members; m; m = m->gnext)
        n_local += m->proc->client != NULL;
    if (n_local == 0)
        return 0;
    int oom_before = c->oom;
    if (fan_reserve(c, n_local) != 0) {
        c->oom = oom_before; /* handled here: the slow path needs no scratch */
        for (struct rs_member *m = g->members; m; m = m->gnext)
            if (m->proc->client) {
                int st = rs_route_deliver(c, m->proc, RS_MSGK_PUBLISH, from, from_node, scope,
                                          key, payload, 0, f);
                sent += st == 0 || st == RS_FLOW_HELD;
            }
        return sent;
    }
    struct rs_route *r = &c->route;
    uint64_t stamp = ++r->fan_stamp;
    size_t nc = 0;
    for (struct rs_member *m = g->members; m; m = m->gnext) {
        struct rs_client *cl = m->proc->client;
        if (!cl)
            continue;
        if (cl->fan_stamp != stamp) {
            cl->fan_stamp = stamp;
            cl->fan_slot = (uint32_t)nc;
            r->fan[nc].cl = cl;
            r->fan[nc++].n = 0;
        }
        r->fan[cl->fan_slot].n++;
    }
    size_t at = 0;
    for (size_t i = 0; i < nc; i++) {
        r->fan[i].at = at;
        at += r->fan[i].n;
        r->fan[i].n = 0;
    }
    for (struct rs_member *m = g->members; m; m = m->gnext) {
        struct rs_client *cl = m->proc->client;
        if (!cl)
            continue;
        struct rs_fan_client *fc = &r->fan[cl->fan_slot];
        r->fan_serials[fc->at + fc->n++] = m->proc->serial;
    }
    for (size_t i = 0; i < nc; i++)
        sent += deliver_many(c, r->fan[i].cl, r->fan_serials + r->fan[i].at, r->fan[i].n, from,
                             from_node, scope, key, payload, f);
    return sent;
}

/* The link to n is bounded like a mailbox (flow.c): a flood toward a slow node is held
 * and its senders slowed (or dropped, when they chose that) instead of passing outbuf_max
 * (which would declare the node down). */
int rs_route_forward(struct rs_core *c, struct rs_node *n, uint32_t kind, uint64_t from_serial,
                     struct rs_pid to, struct rs_bytes scope, struct rs_bytes key,
                     struct rs_bytes payload, uint64_t ref, const struct rs_flow_from *f)
{
    if (!n || n->state != ROSTER_NODE_UP || !n->conn || n->overflow)
        return ROSTER_ENOPROC;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_SEND;
    rs_msg_p_send_kind_set(&m, kind);
    rs_msg_p_send_from_set(&m, from_serial);
    rs_msg_p_send_call_ref_set(&m, ref);
    rs_msg_p_send_to_set(&m, to);
    m.scope = scope;
    rs_msg_p_send_name_set(&m, key);
    rs_msg_p_send_payload_set(&m, payload);
    size_t size = rs_wire_size(&m);
    if (size - 4 > c->lim.frame_max) {
        c->route.dropped++;
        return ROSTER_ETOOBIG;
    }
    return rs_flow_peer_put(c, n, &m, 1, f ? f : &no_sender);
}

struct rs_proc *rs_route_sender(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_pid pid = {c->inc, rs_msg_sender_serial(req)};
    struct rs_proc *p = rs_pids_find(c, pid);
    return p && p->client == cl ? p : NULL;
}

int rs_route_resolve(struct rs_core *c, const struct rs_msg *req, struct rs_proc **local,
                     struct rs_node **node, struct rs_pid *to, struct rs_bytes *scope)
{
    *local = NULL;
    *node = NULL;
    *scope = rs_bytes_of(NULL, 0);
    struct rs_pid target = rs_msg_target_pid(req);
    if (target.inc == 0 && target.serial == 0) {
        struct rs_scope *s = rs_scopes_find(c, req->scope);
        if (!s)
            return ROSTER_ENOSCOPE;
        *scope = rs_bytes_of(s->name, s->name_len);
        struct rs_bytes name = rs_msg_target_name(req);
        struct rs_name *n = name.len ? rs_names_pick(c, s, name.ptr, name.len) : NULL;
        if (!n)
            return ROSTER_ENOTFOUND;
        *to = rs_pids_of(c, n->proc);
        if (n->proc->client) {
            *local = n->proc;
            return 0;
        }
        *node = n->proc->node;
        return (*node)->state == ROSTER_NODE_UP ? 0 : ROSTER_ENOPROC;
    }
    *to = target;
    if (target.inc == c->inc) {
        *local = rs_pids_find(c, target);
        return *local ? 0 : ROSTER_ENOPROC;
    }
    *node = rs_nodes_find(c, target.inc);
    return *node && (*node)->state == ROSTER_NODE_UP ? 0 : ROSTER_ENOPROC;
}

static const char *send_detail(int status)
{
    switch (status) {
    case ROSTER_ENOPROC: return "target pid is not alive";
    case ROSTER_ENOTFOUND: return "name is not registered";
    case ROSTER_ENOSCOPE: return "no such scope on this node";
    case ROSTER_EAGAIN: return "mailbox full";
    case ROSTER_ETOOBIG: return "message too big";
    case ROSTER_ENOTOWNER: return "from is not a live pid of this client";
    default: return "message not sent";
    }
}

void rs_route_on_send(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint32_t flags = rs_msg_send_flags(req);
    int confirm = (flags & RS_SEND_CONFIRM) != 0;
    struct rs_flow_from f = {.sender = cl,
                             .confirm_req = confirm ? req->req_id : 0,
                             .drop = (flags & RS_SEND_DROP) != 0,
                             .nowait = confirm && (flags & RS_SEND_NOWAIT) != 0};
    int st;
    struct rs_proc *from = rs_route_sender(c, cl, req);
    if (!from) {
        st = ROSTER_ENOTOWNER;
        rs_out_log(c, RS_LOG_DEBUG, "conn %llu: SEND from %llu, not a live pid of the client",
                   (unsigned long long)cl->conn, (unsigned long long)rs_msg_send_from(req));
        c->route.dropped++;
    } else if (rs_msg_send_payload(req).len > c->lim.message_max) {
        st = ROSTER_ETOOBIG;
        c->route.dropped++;
    } else {
        struct rs_proc *local;
        struct rs_node *node;
        struct rs_pid to;
        struct rs_bytes scope, key = {0};
        st = rs_route_resolve(c, req, &local, &node, &to, &scope);
        /* The name it was sent to travels with the message (empty when sent to a pid). */
        if (scope.len)
            key = rs_msg_send_name(req);
        struct rs_bytes payload = rs_msg_send_payload(req);
        if (st == 0 && local) {
            st = rs_route_deliver(c, local, RS_MSGK_SEND, rs_pids_of(c, from),
                                  rs_bytes_node(c), scope, key, payload, 0, &f);
            if ((st == 0 || st == RS_FLOW_HELD) && !scope.len)
                rs_chan_after_deliver(c, cl, from->serial, local); /* by pid: channels */
        }
        else if (st == 0)
            st = rs_route_forward(c, node, RS_MSGK_SEND, from->serial, to, scope, key,
                                  payload, 0, &f);
    }
    /* held: a confirmed send is answered when its message is written (flow.c) */
    if (!confirm || st == ROSTER_ENOMEM || st == RS_FLOW_HELD)
        return;
    if (st == 0)
        rs_out_ok(c, cl, req);
    else
        rs_out_error(c, cl, req, st, "%s", send_detail(st));
}

/* Distinct nodes of a publish's remote members, with their member counts. */
struct pub_node {
    struct rs_node *node;
    uint64_t members;
};

/* pub_nodes collects the nodes of g's remote members into *nodes (small, or a larger
 * allocation the caller frees when *nodes != small); returns how many. Out of memory, it
 * stops at those it has. */
static size_t pub_nodes(struct rs_core *c, const struct rs_group *g, struct pub_node *small,
                        size_t cap, struct pub_node **out)
{
    struct pub_node *nodes = small;
    size_t nn = 0;
    for (struct rs_member *m = g ? g->members : NULL; m; m = m->gnext) {
        struct rs_proc *p = m->proc;
        if (p->client)
            continue;
        size_t i = 0;
        while (i < nn && nodes[i].node != p->node)
            i++;
        if (i == nn) {
            if (nn == cap) {
                struct pub_node *v = rs_core_alloc(c, 2 * cap * sizeof *v);
                if (!v)
                    break;
                memcpy(v, nodes, nn * sizeof *v);
                if (nodes != small)
                    rs_free(nodes);
                nodes = v;
                cap *= 2;
            }
            nodes[nn].node = p->node;
            nodes[nn++].members = 0;
        }
        nodes[i].members++;
    }
    *out = nodes;
    return nn;
}

/* publish_remote sends one P_PUBLISH per node of nodes that can take it; returns the
 * members reached (a node's count when its frame goes out). */
static uint64_t publish_remote(struct rs_core *c, const struct pub_node *nodes, size_t nn,
                               uint64_t from_serial, struct rs_bytes sname,
                               const struct rs_msg *req, const struct rs_flow_from *f)
{
    uint64_t sent = 0;
    for (size_t i = 0; i < nn; i++) {
        struct rs_node *n = nodes[i].node;
        if (n->state != ROSTER_NODE_UP || !n->conn || n->overflow)
            continue;
        struct rs_msg pm;
        memset(&pm, 0, sizeof pm);
        pm.type = RS_MSG_P_PUBLISH;
        rs_msg_p_publish_from_set(&pm, from_serial);
        pm.scope = sname;
        rs_msg_p_publish_group_set(&pm, rs_msg_publish_group(req));
        rs_msg_p_publish_payload_set(&pm, rs_msg_publish_payload(req));
        if (too_big(c, &pm)) {
            c->route.dropped++;
            continue;
        }
        int st = rs_flow_peer_put(c, n, &pm, (uint32_t)nodes[i].members, f);
        if (st == 0 || st == RS_FLOW_HELD)
            sent += nodes[i].members;
    }
    return sent;
}

/* A PUBLISH with RS_PUBLISH_NOWAIT is answered by nothing, like a SEND without CONFIRM: the
 * publisher does not wait, so a refused publish (not its pid, too big, no such scope) is only
 * counted as dropped. */
void rs_route_on_publish(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint32_t flags = rs_msg_publish_flags(req);
    int nowait = (flags & RS_PUBLISH_NOWAIT) != 0;
    struct rs_flow_from f = {.sender = cl, .drop = (flags & RS_SEND_DROP) != 0};
    struct rs_bytes group = rs_msg_publish_group(req), payload = rs_msg_publish_payload(req);
    struct rs_proc *from = rs_route_sender(c, cl, req);
    if (!from) {
        c->route.dropped++;
        if (!nowait)
            rs_out_error(c, cl, req, ROSTER_ENOTOWNER, "%s", send_detail(ROSTER_ENOTOWNER));
        return;
    }
    if (payload.len > c->lim.message_max) {
        c->route.dropped++;
        if (!nowait)
            rs_out_error(c, cl, req, ROSTER_ETOOBIG, "message of %u bytes (limit message_max "
                         "%u)", (unsigned)payload.len, c->lim.message_max);
        return;
    }
    struct rs_scope *s = nowait ? rs_scopes_find(c, req->scope) : rs_scope_of(c, cl, req);
    if (!s) {
        if (nowait)
            c->route.dropped++;
        return;
    }
    struct rs_group *g = group.len ? rs_members_group(c, s, group.ptr, group.len) : NULL;
    struct pub_node small[16], *nodes = small;
    size_t nn = 0;
    if (!(flags & RS_PUBLISH_LOCAL))
        nn = pub_nodes(c, g, small, sizeof small / sizeof small[0], &nodes);
    struct rs_bytes sname = rs_bytes_of(s->name, s->name_len);
    uint64_t sent = 0;
    if (g)
        sent += fan_local(c, g, rs_pids_of(c, from), rs_bytes_node(c), sname, group, payload,
                          &f);
    sent += publish_remote(c, nodes, nn, from->serial, sname, req, &f);
    if (nodes != small)
        rs_free(nodes);
    if (nowait)
        return;
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_publish_reply_recipients_set(&r, sent);
    rs_out_reply(c, cl, req, &r);
}

/* --- from other nodes ------------------------------------------------------------------ */

int rs_route_p_send_is_call(const struct rs_msg *m)
{
    uint32_t kind = rs_msg_p_send_kind(m);
    return kind == RS_MSGK_CALL || kind == RS_MSGK_MULTI_CALL;
}

int rs_route_check_p_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    int call = rs_route_p_send_is_call(m);
    uint32_t kind = rs_msg_p_send_kind(m);
    if (kind < RS_MSGK_SEND || kind > RS_MSGK_MULTI_CALL || kind == RS_MSGK_PUBLISH ||
        (call != (rs_msg_p_send_call_ref(m) != 0)) || rs_msg_p_send_from(m) == 0) {
        rs_cluster_fail(c, n, "malformed P_SEND");
        return 0;
    }
    return 1;
}

void rs_route_on_p_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    /* NULL also for another incarnation's pid */
    struct rs_proc *to = rs_pids_find(c, rs_msg_p_send_to(m));
    if (!to)
        return;
    struct rs_pid from = {n->inc, rs_msg_p_send_from(m)};
    struct rs_flow_from f = {.origin = n->inc};
    rs_route_deliver(c, to, rs_msg_p_send_kind(m), from, rs_bytes_of(n->name, n->name_len),
                     m->scope, rs_msg_p_send_name(m), rs_msg_p_send_payload(m), 0, &f);
}

void rs_route_on_p_publish(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint64_t from_serial = rs_msg_p_publish_from(m);
    struct rs_bytes group = rs_msg_p_publish_group(m);
    if (from_serial == 0 || group.len == 0) {
        rs_cluster_fail(c, n, "malformed P_PUBLISH");
        return;
    }
    struct rs_scope *s = rs_scopes_find(c, m->scope);
    if (!s || !s->joined)
        return;
    struct rs_group *g = rs_members_group(c, s, group.ptr, group.len);
    if (!g)
        return;
    struct rs_pid from = {n->inc, from_serial};
    struct rs_flow_from f = {.origin = n->inc};
    fan_local(c, g, from, rs_bytes_of(n->name, n->name_len), m->scope, group,
              rs_msg_p_publish_payload(m), &f);
}
