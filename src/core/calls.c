/* calls.c: CALL, REPLY and MULTI_CALL (docs/MESSAGING.md).
 *
 * A call is one struct rs_call on the caller's node with one rs_slot per target (one for
 * CALL, one per member for MULTI_CALL), all in one allocation. Each slot has a ref unique on
 * this node (the MESSAGE's call ref, the key of route.slots) and hangs off its target: the
 * local pid's slots list, or the node's slots list for a remote pid. So a target's death, its
 * node going down, the caller's disconnect and the deadline each touch only what they own.
 * Pending calls are in a min-heap by deadline, checked at every TICK.
 *
 * A call from another node to one of our pids is a proxy slot (call NULL) holding the caller
 * node's ref: the receiver's REPLY goes back as P_REPLY; the pid's death and every refusal
 * (mailbox full, too big, link full) as P_NOPROC with the status, so a caller never waits
 * on a proxy that is gone. P_SEND carries no deadline, so proxies of calls nobody answers
 * are bounded by count per origin node (RS_CALL_PROXIES_PER_NODE, route.px_max): past it
 * that node's oldest proxy is failed with ROSTER_ELIMIT. */
#include <string.h>

#include "core/chan.h"
#include "core/calls.h"
#include "core/cluster.h"
#include "core/flow.h"
#include "core/members.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/route.h"
#include "core/scope.h"
#include "core/util.h"

static int slot_eq(const void *item, const void *key)
{
    return ((const struct rs_slot *)item)->ref == *(const uint64_t *)key;
}

static uint64_t slot_hash(const struct rs_core *c, uint64_t ref)
{
    return rs_hash_u64(c->seed, ref);
}

static struct rs_slot *slot_find(const struct rs_core *c, uint64_t ref)
{
    return rs_map_get(&c->route.slots, slot_hash(c, ref), &ref, slot_eq);
}

static int slot_add(struct rs_core *c, struct rs_slot *s)
{
    s->ref = c->route.next_ref++;
    if (rs_map_put(&c->route.slots, slot_hash(c, s->ref), s) != 0) {
        c->oom = 1;
        s->ref = 0;
        return -1;
    }
    return 0;
}

static void attach_proc(struct rs_slot *s, struct rs_proc *p)
{
    s->proc = p;
    RS_LIST_PUSH(p->slots, s, tprev, tnext);
}

static void attach_node(struct rs_slot *s, struct rs_node *n)
{
    s->node = n;
    RS_LIST_PUSH(n->slots, s, nprev, nnext);
}

/* Out of the ref map and the target lists: a reply quoting it from now on is dropped. */
static void slot_detach(struct rs_core *c, struct rs_slot *s)
{
    if (s->ref) {
        rs_map_del_item(&c->route.slots, slot_hash(c, s->ref), s);
        s->ref = 0;
    }
    if (s->proc) {
        RS_LIST_DEL(s->proc->slots, s, tprev, tnext);
        s->proc = NULL;
    }
    if (s->node) {
        RS_LIST_DEL(s->node->slots, s, nprev, nnext);
        s->node = NULL;
    }
}

/* --- deadline heap ------------------------------------------------------------------------ */

static void heap_set(struct rs_route *r, size_t i, struct rs_call *x)
{
    r->heap[i] = x;
    x->heap_idx = i;
}

static void heap_up(struct rs_route *r, size_t i)
{
    struct rs_call *x = r->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (r->heap[p]->deadline <= x->deadline)
            break;
        heap_set(r, i, r->heap[p]);
        i = p;
    }
    heap_set(r, i, x);
}

static void heap_down(struct rs_route *r, size_t i)
{
    struct rs_call *x = r->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        uint64_t best = x->deadline;
        if (l < r->heap_n && r->heap[l]->deadline < best) {
            m = l;
            best = r->heap[l]->deadline;
        }
        if (l + 1 < r->heap_n && r->heap[l + 1]->deadline < best)
            m = l + 1;
        if (m == i)
            break;
        heap_set(r, i, r->heap[m]);
        i = m;
    }
    heap_set(r, i, x);
}

static int heap_push(struct rs_core *c, struct rs_call *x)
{
    struct rs_route *r = &c->route;
    if (r->heap_n == r->heap_cap) {
        size_t cap = r->heap_cap ? 2 * r->heap_cap : 64;
        struct rs_call **v = rs_realloc(r->heap, cap * sizeof *v);
        if (!v) {
            c->oom = 1;
            return -1;
        }
        r->heap = v;
        r->heap_cap = cap;
    }
    heap_set(r, r->heap_n++, x);
    heap_up(r, r->heap_n - 1);
    return 0;
}

static void heap_del(struct rs_route *r, struct rs_call *x)
{
    size_t i = x->heap_idx;
    struct rs_call *last = r->heap[--r->heap_n];
    if (last == x)
        return;
    heap_set(r, i, last);
    heap_up(r, i);
    heap_down(r, last->heap_idx);
}

/* --- calls -------------------------------------------------------------------------------- */

static struct rs_call *call_new(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                                uint32_t n_slots)
{
    struct rs_call *x = rs_core_alloc(c, sizeof *x + (size_t)n_slots * sizeof x->slots[0]);
    if (!x)
        return NULL;
    memset(x, 0, sizeof *x + (size_t)n_slots * sizeof x->slots[0]);
    uint64_t t = rs_msg_call_timeout(req);
    x->deadline = t >= UINT64_MAX - c->now_ms ? UINT64_MAX : c->now_ms + t;
    x->client = cl;
    x->req_id = req->req_id;
    x->type = req->type;
    x->n_slots = n_slots;
    for (uint32_t i = 0; i < n_slots; i++)
        x->slots[i].call = x;
    if (heap_push(c, x) != 0) {
        rs_free(x);
        return NULL;
    }
    RS_LIST_PUSH(cl->calls, x, cprev, cnext);
    cl->n_calls++;
    return x;
}

static void call_free(struct rs_core *c, struct rs_call *x)
{
    for (uint32_t i = 0; i < x->n_slots; i++) {
        slot_detach(c, &x->slots[i]);
        rs_free(x->slots[i].data);
    }
    heap_del(&c->route, x);
    RS_LIST_DEL(x->client->calls, x, cprev, cnext);
    x->client->n_calls--;
    rs_free(x);
}

static void call_req(const struct rs_call *x, struct rs_msg *q)
{
    memset(q, 0, sizeof *q);
    q->type = x->type;
    q->req_id = x->req_id;
}

/* Answer a CALL: with the slot's reply if status is 0, else the error; then forget it. */
static void call_answer(struct rs_core *c, struct rs_call *x, int status, const char *detail,
                        struct rs_pid responder, struct rs_bytes payload)
{
    struct rs_client *cl = x->client;
    struct rs_msg q;
    call_req(x, &q);
    if (status == 0) {
        struct rs_msg r;
        memset(&r, 0, sizeof r);
        r.type = q.type;
        r.flags = RS_F_REPLY;
        rs_msg_call_reply_responder_set(&r, responder);
        rs_msg_call_reply_payload_set(&r, payload);
        if (rs_wire_size(&r) - 4 > c->lim.frame_max) {
            c->route.dropped++;
            rs_out_error(c, cl, &q, ROSTER_ETOOBIG, "reply of %u bytes does not fit a frame",
                         (unsigned)payload.len);
        } else {
            rs_out_reply(c, cl, &q, &r);
        }
    } else {
        rs_out_error(c, cl, &q, status, "%s", detail);
    }
    call_free(c, x);
}

/* Answer a MULTI_CALL: one item per member (replied, or bad), then the counts. */
static void multi_answer(struct rs_core *c, struct rs_call *x)
{
    struct rs_client *cl = x->client;
    struct rs_msg q;
    call_req(x, &q);
    uint64_t ok = 0;
    for (uint32_t i = 0; i < x->n_slots; i++) {
        struct rs_slot *s = &x->slots[i];
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        rs_msg_multi_call_item_member_set(&it, s->pid);
        if (s->state == RS_SLOT_REPLIED) {
            rs_msg_multi_call_item_payload_set(&it, rs_bytes_of(s->data, s->len));
            ok++;
        } else {
            rs_msg_multi_call_item_bad_set(&it, 1);
        }
        rs_out_item(c, cl, &q, &it);
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_multi_call_reply_replies_set(&r, ok);
    rs_msg_multi_call_reply_bad_set(&r, x->n_slots - ok);
    rs_out_reply(c, cl, &q, &r);
    call_free(c, x);
}

/* Target of slot s answered (payload) or failed (status != 0, detail). */
static void slot_done(struct rs_core *c, struct rs_slot *s, int status, const char *detail,
                      struct rs_bytes payload)
{
    struct rs_call *x = s->call;
    if (x->type == RS_MSG_CALL) {
        call_answer(c, x, status, detail, s->pid, payload);
        return;
    }
    slot_detach(c, s);
    if (status == 0 && payload.len) {
        int failed;
        s->data = rs_core_dup(c, payload, &failed);
        if (failed)
            status = ROSTER_ENOMEM;
        s->len = payload.len;
    }
    s->state = status == 0 ? RS_SLOT_REPLIED : RS_SLOT_BAD;
    if (--x->n_wait == 0)
        multi_answer(c, x);
}

static void proxy_free(struct rs_core *c, struct rs_slot *s)
{
    struct rs_node *o = s->origin;
    slot_detach(c, s);
    if (s->fprev)
        s->fprev->fnext = s->fnext;
    else
        o->px_head = s->fnext;
    if (s->fnext)
        s->fnext->fprev = s->fprev;
    else
        o->px_tail = s->fprev;
    o->n_px--;
    c->route.n_px--;
    rs_free(s);
}

/* The call of node n with its ref on our pid failed here (status): it fails there at once. */
static void send_noproc(struct rs_core *c, struct rs_node *n, uint64_t ref, struct rs_pid pid,
                        int status)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_NOPROC;
    rs_msg_p_noproc_status_set(&m, status);
    rs_msg_p_noproc_call_ref_set(&m, ref);
    rs_msg_p_noproc_to_set(&m, pid);
    rs_out_peer(c, n, &m);
}

/* Answer proxy s's caller with status (P_NOPROC) and forget it. */
static void proxy_fail(struct rs_core *c, struct rs_slot *s, int status)
{
    send_noproc(c, s->origin, s->oref, s->pid, status);
    proxy_free(c, s);
}

/* --- requests ----------------------------------------------------------------------------- */

static const char *status_detail(int st)
{
    switch (st) {
    case ROSTER_ENOPROC: return "target pid is not alive";
    case ROSTER_ENOTFOUND: return "name is not registered";
    case ROSTER_ENOSCOPE: return "no such scope on this node";
    case ROSTER_EAGAIN: return "mailbox full";
    case ROSTER_ETOOBIG: return "message too big";
    case ROSTER_ELIMIT: return "too many calls pending on the target's node";
    case ROSTER_ENOMEM: return "out of memory";
    default: return "call failed";
    }
}

/* Common checks of CALL and MULTI_CALL: the sender, the size, the client's call count (META
 * is the request's payload in both). */
static struct rs_proc *call_checks(struct rs_core *c, struct rs_client *cl,
                                   const struct rs_msg *req)
{
    struct rs_proc *from = rs_route_sender(c, cl, req);
    if (!from) {
        rs_out_error(c, cl, req, ROSTER_ENOTOWNER, "from %llu is not a live pid of this client",
                     (unsigned long long)rs_msg_sender_serial(req));
        return NULL;
    }
    if (req->meta.len > c->lim.message_max) {
        c->route.dropped++;
        rs_out_error(c, cl, req, ROSTER_ETOOBIG, "message of %u bytes (limit message_max %u)",
                     (unsigned)req->meta.len, c->lim.message_max);
        return NULL;
    }
    if (cl->n_calls >= RS_CALLS_PER_CLIENT) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT, "client has %u pending calls (limit %u)",
                     cl->n_calls, RS_CALLS_PER_CLIENT);
        return NULL;
    }
    return from;
}

void rs_calls_on_call(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_proc *from = call_checks(c, cl, req);
    if (!from)
        return;
    struct rs_proc *local;
    struct rs_node *node;
    struct rs_pid to;
    struct rs_bytes scope, key = {0};
    int st = rs_route_resolve(c, req, &local, &node, &to, &scope);
    if (st != 0) {
        rs_out_error(c, cl, req, st, "%s", status_detail(st));
        return;
    }
    struct rs_call *x = call_new(c, cl, req, 1);
    if (!x)
        return;
    struct rs_slot *s = &x->slots[0];
    s->pid = to;
    if (slot_add(c, s) != 0) {
        call_free(c, x);
        return;
    }
    x->n_wait = 1;
    if (scope.len)
        key = rs_msg_call_name(req);
    struct rs_bytes payload = rs_msg_call_payload(req);
    /* A call waits for room like a send (it keeps its place behind held messages); its
     * deadline still runs. */
    struct rs_flow_from f = {.sender = cl};
    if (local) {
        attach_proc(s, local);
        st = rs_route_deliver(c, local, RS_MSGK_CALL, rs_pids_of(c, from), rs_bytes_node(c),
                              scope, key, payload, s->ref, &f);
    } else {
        attach_node(s, node);
        st = rs_route_forward(c, node, RS_MSGK_CALL, from->serial, to, scope, key, payload,
                              s->ref, &f);
    }
    if (st != 0 && st != RS_FLOW_HELD) {
        rs_out_error(c, cl, req, st, "%s", status_detail(st));
        call_free(c, x);
    } else if (local && !scope.len) {
        rs_chan_after_deliver(c, cl, from->serial, local); /* by pid: channels */
    }
}

void rs_calls_on_multi(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_proc *from = call_checks(c, cl, req);
    if (!from)
        return;
    struct rs_scope *sc = rs_scope_of(c, cl, req);
    if (!sc)
        return;
    struct rs_bytes group = rs_msg_multi_call_group(req);
    struct rs_bytes payload = rs_msg_multi_call_payload(req);
    struct rs_group *g = group.len ? rs_members_group(c, sc, group.ptr, group.len) : NULL;
    int local_only = (rs_msg_multi_call_flags(req) & RS_PUBLISH_LOCAL) != 0;
    uint32_t n = 0;
    for (struct rs_member *m = g ? g->members : NULL; m; m = m->gnext)
        if (m->proc->client || !local_only)
            n++;
    if (n == 0) {
        struct rs_msg r;
        memset(&r, 0, sizeof r);
        rs_out_reply(c, cl, req, &r);
        return;
    }
    struct rs_call *x = call_new(c, cl, req, n);
    if (!x)
        return;
    struct rs_pid fpid = rs_pids_of(c, from);
    struct rs_bytes sname = rs_bytes_of(sc->name, sc->name_len);
    uint32_t i = 0;
    for (struct rs_member *m = g->members; m && i < n; m = m->gnext) {
        struct rs_proc *p = m->proc;
        if (!p->client && local_only)
            continue;
        struct rs_slot *s = &x->slots[i++];
        s->pid = rs_pids_of(c, p);
        s->state = RS_SLOT_BAD;
        if (slot_add(c, s) != 0)
            continue;
        int st;
        struct rs_flow_from f = {.sender = cl};
        if (p->client) {
            attach_proc(s, p);
            st = rs_route_deliver(c, p, RS_MSGK_MULTI_CALL, fpid, rs_bytes_node(c), sname,
                                  group, payload, s->ref, &f);
        } else {
            attach_node(s, p->node);
            st = rs_route_forward(c, p->node, RS_MSGK_MULTI_CALL, from->serial, s->pid,
                                  sname, group, payload, s->ref, &f);
        }
        if (st != 0 && st != RS_FLOW_HELD) {
            slot_detach(c, s);
            continue;
        }
        s->state = RS_SLOT_WAIT;
        x->n_wait++;
    }
    if (x->n_wait == 0)
        multi_answer(c, x);
}

void rs_calls_on_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint64_t ref = rs_msg_reply_call_ref(req);
    struct rs_bytes payload = rs_msg_reply_payload(req);
    struct rs_slot *s = ref ? slot_find(c, ref) : NULL;
    /* Only the target's own client answers; anything else (late, unknown, someone else's
     * ref) is dropped like a late reply. */
    if (!s || !s->proc || s->proc->client != cl || s->state != RS_SLOT_WAIT) {
        rs_out_log(c, RS_LOG_DEBUG, "conn %llu: REPLY to call ref %llu dropped (not pending)",
                   (unsigned long long)cl->conn, (unsigned long long)ref);
        return;
    }
    if (payload.len > c->lim.message_max) {
        c->route.dropped++;
        if (!s->call) {
            proxy_fail(c, s, ROSTER_ETOOBIG);
            return;
        }
        slot_done(c, s, ROSTER_ETOOBIG, "reply too big (limit message_max)", payload);
        return;
    }
    if (!s->call) {
        struct rs_msg m;
        memset(&m, 0, sizeof m);
        m.type = RS_MSG_P_REPLY;
        rs_msg_p_reply_call_ref_set(&m, s->oref);
        rs_msg_p_reply_responder_set(&m, s->pid);
        rs_msg_p_reply_payload_set(&m, payload);
        int st = 0;
        if (rs_wire_size(&m) - 4 > c->lim.frame_max)
            st = ROSTER_ETOOBIG;
        else if (s->node->unread + rs_wire_size(&m) > c->lim.mailbox_bytes)
            st = ROSTER_EAGAIN;
        if (st != 0) {
            c->route.dropped++;
            proxy_fail(c, s, st);
            return;
        }
        rs_out_peer(c, s->node, &m);
        proxy_free(c, s);
        return;
    }
    slot_done(c, s, 0, NULL, payload);
}

/* --- from other nodes --------------------------------------------------------------------- */

void rs_calls_on_p_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint64_t ref = rs_msg_p_send_call_ref(m);
    struct rs_pid pid = rs_msg_p_send_to(m);
    struct rs_proc *to = rs_pids_find(c, pid); /* NULL also for another incarnation's */
    if (!to) {
        send_noproc(c, n, ref, pid, ROSTER_ENOPROC);
        return;
    }
    struct rs_route *r = &c->route;
    size_t cap = r->px_max ? r->px_max : RS_CALL_PROXIES_PER_NODE;
    while (n->n_px >= cap && n->px_head)
        proxy_fail(c, n->px_head, ROSTER_ELIMIT); /* n's own oldest, never another node's */
    struct rs_slot *s = rs_core_alloc(c, sizeof *s);
    if (!s) {
        send_noproc(c, n, ref, pid, ROSTER_ENOMEM);
        return;
    }
    memset(s, 0, sizeof *s);
    s->origin = n;
    s->oref = ref;
    s->pid = pid;
    if (slot_add(c, s) != 0) {
        rs_free(s);
        send_noproc(c, n, ref, pid, ROSTER_ENOMEM);
        return;
    }
    attach_proc(s, to);
    attach_node(s, n);
    s->fprev = n->px_tail;
    if (n->px_tail)
        n->px_tail->fnext = s;
    else
        n->px_head = s;
    n->px_tail = s;
    n->n_px++;
    r->n_px++;
    struct rs_pid from = {n->inc, rs_msg_p_send_from(m)};
    struct rs_flow_from f = {.origin = n->inc};
    int st = rs_route_deliver(c, to, rs_msg_p_send_kind(m), from,
                              rs_bytes_of(n->name, n->name_len), m->scope, rs_msg_p_send_name(m),
                              rs_msg_p_send_payload(m), s->ref, &f);
    if (st != 0 && st != RS_FLOW_HELD)
        proxy_fail(c, s, st); /* mailbox full, too big, closing: the caller fails at once */
}

/* Our slot for ref waiting on node n's pid, or NULL (late, forgotten). */
static struct rs_slot *remote_slot(struct rs_core *c, struct rs_node *n, uint64_t ref,
                                   struct rs_pid pid)
{
    struct rs_slot *s = slot_find(c, ref);
    if (!s || !s->call || s->node != n || s->state != RS_SLOT_WAIT ||
        s->pid.serial != pid.serial || s->pid.inc != pid.inc)
        return NULL;
    return s;
}

void rs_calls_on_p_reply(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint64_t ref = rs_msg_p_reply_call_ref(m);
    struct rs_pid responder = rs_msg_p_reply_responder(m);
    struct rs_bytes payload = rs_msg_p_reply_payload(m);
    if (ref == 0 || responder.inc != n->inc) {
        rs_cluster_fail(c, n, "malformed P_REPLY");
        return;
    }
    struct rs_slot *s = remote_slot(c, n, ref, responder);
    if (!s)
        return;
    if (payload.len > c->lim.message_max) {
        c->route.dropped++;
        slot_done(c, s, ROSTER_ETOOBIG, "reply too big (limit message_max)", payload);
        return;
    }
    slot_done(c, s, 0, NULL, payload);
}

void rs_calls_on_p_noproc(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint64_t ref = rs_msg_p_noproc_call_ref(m);
    struct rs_pid callee = rs_msg_p_noproc_to(m);
    if (ref == 0 || callee.inc != n->inc) {
        rs_cluster_fail(c, n, "malformed P_NOPROC");
        return;
    }
    struct rs_slot *s = remote_slot(c, n, ref, callee);
    if (!s)
        return;
    int st = rs_msg_p_noproc_status(m);
    if (st != ROSTER_EAGAIN && st != ROSTER_ETOOBIG && st != ROSTER_ELIMIT && st != ROSTER_ENOMEM)
        st = ROSTER_ENOPROC; /* the target is not alive (or a status we do not know) */
    slot_done(c, s, st, status_detail(st), rs_bytes_of(NULL, 0));
}

/* --- deaths, deadlines, teardown ------------------------------------------------------------ */

void rs_calls_pid_dead(struct rs_core *c, struct rs_proc *p)
{
    while (p->slots) {
        struct rs_slot *s = p->slots;
        if (!s->call) {
            proxy_fail(c, s, ROSTER_ENOPROC);
        } else {
            slot_done(c, s, ROSTER_ENOPROC, "target pid died", rs_bytes_of(NULL, 0));
        }
    }
}

void rs_calls_node_down(struct rs_core *c, struct rs_node *n)
{
    while (n->slots) {
        struct rs_slot *s = n->slots;
        if (!s->call)
            proxy_free(c, s);
        else
            slot_done(c, s, ROSTER_ENOPROC, "node down", rs_bytes_of(NULL, 0));
    }
}

void rs_calls_drop_client(struct rs_core *c, struct rs_client *cl)
{
    while (cl->calls)
        call_free(c, cl->calls);
}

void rs_calls_tick(struct rs_core *c)
{
    struct rs_route *r = &c->route;
    while (r->heap_n && r->heap[0]->deadline <= c->now_ms) {
        struct rs_call *x = r->heap[0];
        if (x->type == RS_MSG_CALL) {
            call_answer(c, x, ROSTER_ETIMEDOUT, "no reply in time", x->slots[0].pid,
                        rs_bytes_of(NULL, 0));
            continue;
        }
        for (uint32_t i = 0; i < x->n_slots; i++)
            if (x->slots[i].state == RS_SLOT_WAIT) {
                slot_detach(c, &x->slots[i]);
                x->slots[i].state = RS_SLOT_BAD;
            }
        multi_answer(c, x);
    }
}

uint64_t rs_calls_pending(const struct rs_core *c)
{
    return c->route.heap_n;
}

void rs_calls_free_all(struct rs_core *c)
{
    struct rs_route *r = &c->route;
    /* proxies first: the map also holds slots of the calls freed below */
    for (size_t i = 0; i < r->slots.cap; i++) {
        struct rs_slot *s = r->slots.slots[i].item;
        if (s && !s->call)
            rs_free(s); /* a proxy (call slots are in their calls) */
    }
    for (size_t i = 0; i < r->heap_n; i++) {
        struct rs_call *x = r->heap[i];
        for (uint32_t j = 0; j < x->n_slots; j++)
            rs_free(x->slots[j].data);
        rs_free(x);
    }
    r->heap_n = 0; /* the heap array and the ref map itself are route.c's */
}
