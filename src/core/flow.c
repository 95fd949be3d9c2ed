/* flow.c: flow control of messages (docs/MESSAGING.md "Flow control"). A receiver that reads
 * slower than it is sent to used to lose what passed its mailbox bound; now the messages
 * are held on the node and the senders are slowed instead:
 *
 * - A MESSAGE for a client whose unread output is above the high-water mark (or that
 *   already has held messages: nothing may overtake them) is encoded once and held in the
 *   client's FIFO. Each FLUSHED of that client writes what its room takes again.
 * - A held message is charged to its local sender. Past RS_FLOW_SENDER_HELD bytes the
 *   shell is told to stop reading the sender (RS_OUT_PAUSE): its socket fills and its
 *   library's send waits (up to its timeout; EAGAIN when it would not wait), while the node
 *   goes on serving everyone else. Below half of it, reading resumes. Other receivers of
 *   the same sender keep getting its messages until that budget is spent.
 * - Across nodes the same happens on each hop: a message for another node is held here
 *   while that node's link is above the mark or the node asked us to pause, and the
 *   receiving node asks for the pause. Per pid first: once a local client holds more than
 *   half the link budget of messages from another node, that node is asked to hold the
 *   messages for the pid they were sent to (P_FLOW 1 with the pid), so its senders to
 *   other pids are not held; when the client has caught up, P_FLOW 0 with the pid. Per link
 *   as the backstop: past RS_FLOW_LINK_HELD bytes held from one node, P_FLOW 1 without a
 *   pid holds all its messages to us, until half. The link itself never blocks.
 * - A confirmed send is answered when its message is written (or ENOPROC when the receiver
 *   dies first); a sender that chose dropping (RS_SEND_DROP) is never held and loses the
 *   message at limits.mailbox_bytes as before. Every drop is counted. */
#include <string.h>

#include "core/cluster.h"
#include "core/flow.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/util.h"

uint64_t rs_flow_high(const struct rs_core *c)
{
    uint64_t h = c->lim.mailbox_bytes / 4;
    return h ? h : 1;
}

static void park_push(struct rs_park *q, struct rs_parked *p)
{
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    q->bytes += p->len;
}

static struct rs_parked *park_pop(struct rs_park *q)
{
    struct rs_parked *p = q->head;
    if (!p)
        return NULL;
    q->head = p->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= p->len;
    return p;
}

/* charge puts p on its sender's list and pauses the sender past its budget. */
static void charge(struct rs_core *c, struct rs_parked *p)
{
    struct rs_client *s = p->sender;
    if (!s)
        return;
    p->sprev = NULL;
    p->snext = s->held;
    if (s->held)
        s->held->sprev = p;
    s->held = p;
    s->held_bytes += p->len;
    if (!s->paused && s->held_bytes > RS_FLOW_SENDER_HELD && !s->closing) {
        s->paused = 1;
        c->route.paused++;
        rs_out_flow(c, s->conn, 1);
    }
}

/* uncharge takes p off its sender's list and resumes the sender at half its budget. */
static void uncharge(struct rs_core *c, struct rs_parked *p)
{
    struct rs_client *s = p->sender;
    if (!s)
        return;
    if (p->sprev)
        p->sprev->snext = p->snext;
    else
        s->held = p->snext;
    if (p->snext)
        p->snext->sprev = p->sprev;
    p->sprev = p->snext = NULL;
    s->held_bytes -= p->len;
    if (s->paused && s->held_bytes <= RS_FLOW_SENDER_HELD / 2) {
        s->paused = 0;
        c->route.paused--;
        if (!s->closing)
            rs_out_flow(c, s->conn, 0);
    }
}

/* send_p_flow asks n to pause (1) or resume (0) its messages to us: to our pid `serial`,
 * or all of them (serial 0). */
static void send_p_flow(struct rs_core *c, struct rs_node *n, int pause, uint64_t serial)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_FLOW;
    rs_msg_p_flow_pause_set(&m, (uint32_t)pause);
    if (serial)
        rs_msg_p_flow_pid_set(&m, (struct rs_pid){c->inc, serial});
    rs_out_peer(c, n, &m);
}

/* link_held: bytes from one node held here before it is asked to pause (resumed at
 * half), at most a quarter of the mark so that small mailboxes stay small. */
static uint64_t link_held(const struct rs_core *c)
{
    uint64_t h = rs_flow_high(c) / 4;
    return h < RS_FLOW_LINK_HELD ? h : RS_FLOW_LINK_HELD;
}

/* origin_add / origin_sub keep the bytes held here that came from another node, asking it
 * to pause and to resume. */
static void origin_add(struct rs_core *c, uint64_t origin, uint32_t len)
{
    struct rs_node *n = origin ? rs_nodes_find(c, origin) : NULL;
    if (!n)
        return;
    n->held_from += len;
    if (!n->flow_asked && n->held_from > link_held(c) && n->state == ROSTER_NODE_UP) {
        n->flow_asked = 1;
        send_p_flow(c, n, 1, 0);
    }
}

static void origin_sub(struct rs_core *c, uint64_t origin, uint32_t len)
{
    struct rs_node *n = origin ? rs_nodes_find(c, origin) : NULL;
    if (!n)
        return;
    /* a node that went down and came back started again from 0 */
    n->held_from = len >= n->held_from ? 0 : n->held_from - len;
    if (n->flow_asked && n->held_from <= link_held(c) / 2) {
        n->flow_asked = 0;
        send_p_flow(c, n, 0, 0);
    }
}

/* ask_held: bytes a client may hold before other nodes are asked to hold the messages for
 * its pids (a quarter of the link budget, so that pid pauses come first). */
static uint64_t ask_held(const struct rs_core *c)
{
    return link_held(c) / 4;
}

/* ask_pause asks node `origin` to hold its messages to our pid `serial` of client cl
 * (once; past RS_FLOW_ASKS_MAX pids the link pause is the backstop). */
static int asked(const struct rs_client *cl, uint64_t origin, uint64_t serial)
{
    for (uint32_t i = 0; i < cl->n_asks; i++)
        if (cl->asks[i].node_inc == origin && cl->asks[i].serial == serial)
            return 1;
    return 0;
}

static void ask_pause(struct rs_core *c, struct rs_client *cl, uint64_t origin, uint64_t serial)
{
    if (asked(cl, origin, serial) || cl->n_asks == RS_FLOW_ASKS_MAX)
        return;
    struct rs_node *n = rs_nodes_find(c, origin);
    if (!n || n->state != ROSTER_NODE_UP)
        return;
    if (!cl->asks) {
        int oom = c->oom;
        cl->asks = rs_core_alloc(c, RS_FLOW_ASKS_MAX * sizeof *cl->asks);
        c->oom = oom; /* without it, the link pause still bounds what is held */
        if (!cl->asks)
            return;
    }
    cl->asks[cl->n_asks].node_inc = origin;
    cl->asks[cl->n_asks++].serial = serial;
    send_p_flow(c, n, 1, serial);
    /* What the client already holds from that node no longer counts against the link:
     * a client that never reads would otherwise keep the whole link paused (its bytes
     * never drain), holding that node's messages to every other pid too. */
    for (struct rs_parked *p = cl->park.head; p; p = p->next)
        if (p->origin == origin) {
            origin_sub(c, origin, p->len);
            p->origin = 0;
        }
}

/* lift_asks lifts every pause asked for cl's pids. */
static void lift_asks(struct rs_core *c, struct rs_client *cl)
{
    for (uint32_t i = 0; i < cl->n_asks; i++) {
        struct rs_node *n = rs_nodes_find(c, cl->asks[i].node_inc);
        if (n && n->state == ROSTER_NODE_UP)
            send_p_flow(c, n, 0, cl->asks[i].serial);
    }
    cl->n_asks = 0;
}

static struct rs_flow_pid *pid_find(const struct rs_node *n, uint64_t serial)
{
    struct rs_flow_pid *fp = n->paused_pids;
    while (fp && fp->serial != serial)
        fp = fp->next;
    return fp;
}

/* hold encodes m into a new held message of queue q; 0 or ROSTER_ENOMEM. */
static int hold(struct rs_core *c, struct rs_park *q, const struct rs_msg *m, uint32_t pids,
                const struct rs_flow_from *f)
{
    struct rs_buf *arena = &c->out->bytes; /* encoded at its end, copied, then cut off */
    size_t off = arena->len;
    if (rs_wire_encode(arena, m) != 0) {
        c->oom = 1;
        return ROSTER_ENOMEM;
    }
    size_t len = arena->len - off;
    struct rs_parked *p = rs_core_alloc(c, sizeof *p + len);
    if (!p) {
        arena->len = off;
        return ROSTER_ENOMEM;
    }
    memcpy(p->frame, arena->data + off, len);
    arena->len = off;
    p->len = (uint32_t)len;
    p->pids = pids;
    p->sender = f->sender;
    p->origin = f->origin;
    p->confirm_req = f->confirm_req;
    p->sprev = p->snext = NULL;
    park_push(q, p);
    c->route.held_msgs++;
    c->route.held_bytes += len;
    c->route.held_total++;
    charge(c, p);
    origin_add(c, p->origin, p->len);
    return RS_FLOW_HELD;
}

static void confirm(struct rs_core *c, struct rs_parked *p, int status)
{
    if (!p->confirm_req || !p->sender || p->sender->closing)
        return;
    struct rs_msg q;
    memset(&q, 0, sizeof q);
    q.type = RS_MSG_SEND;
    q.req_id = p->confirm_req;
    if (status == 0)
        rs_out_ok(c, p->sender, &q);
    else
        rs_out_error(c, p->sender, &q, status, "%s", status == ROSTER_ENOPROC
                     ? "the receiver (or its node) went away while the message waited "
                       "for room"
                     : "the message could not be written (out of memory)");
}

/* release ends a held message p (already out of its queue): written or dropped. */
static void release(struct rs_core *c, struct rs_parked *p, int status)
{
    c->route.held_msgs--;
    c->route.held_bytes -= p->len;
    if (status == 0)
        c->route.delivered += p->pids;
    else
        c->route.dropped += p->pids;
    confirm(c, p, status);
    uncharge(c, p);
    origin_sub(c, p->origin, p->len);
    rs_free(p);
}

static int fits(uint64_t unread, size_t len, uint64_t high)
{
    return unread == 0 || unread + len <= high; /* one frame always goes to an empty pipe */
}

int rs_flow_client_put(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m,
                       uint32_t pids, const struct rs_flow_from *f)
{
    if (cl->closing) {
        c->route.dropped += pids;
        return ROSTER_ENOPROC;
    }
    size_t size = rs_wire_size(m);
    if (f->drop) {
        if (cl->park.head || cl->unread + size > c->lim.mailbox_bytes) {
            c->route.dropped += pids;
            return ROSTER_EAGAIN;
        }
    } else if (cl->park.head || !fits(cl->unread, size, rs_flow_high(c))) {
        if (f->nowait) {
            c->route.dropped += pids;
            return ROSTER_EAGAIN;
        }
        /* No cap here: a local sender is paused past its budget, another node past
         * link_held(), so what is held is bounded by those budgets plus what was in
         * flight on each link when its pause went out. */
        int per_pid = f->origin && (rs_msg_message_kind(m) & 0xffu) != RS_MSGK_PUBLISH;
        uint64_t to = rs_msg_message_to(m);
        if (per_pid && asked(cl, f->origin, to)) {
            /* in flight when the pid's pause went out: not held against the link, or one
             * slow client would pause its node's messages to every other pid too */
            struct rs_flow_from g = *f;
            g.origin = 0;
            return hold(c, &cl->park, m, pids, &g);
        }
        int st = hold(c, &cl->park, m, pids, f);
        if (st == RS_FLOW_HELD && per_pid && cl->park.bytes > ask_held(c))
            ask_pause(c, cl, f->origin, to);
        return st;
    }
    if (rs_out_frame(c, cl, m) != 0)
        return ROSTER_ENOMEM;
    c->route.delivered += pids;
    return 0;
}

int rs_flow_peer_put(struct rs_core *c, struct rs_node *n, const struct rs_msg *m,
                     uint32_t members, const struct rs_flow_from *f)
{
    if (n->state != ROSTER_NODE_UP || !n->conn || n->overflow)
        return ROSTER_ENOPROC;
    (void)members;
    if (n->paused_pids && m->type == RS_MSG_P_SEND) {
        /* n asked us to hold what goes to this pid of its own */
        struct rs_flow_pid *fp = pid_find(n, rs_msg_p_send_to(m).serial);
        if (fp) {
            if (f->drop || f->nowait) {
                c->route.dropped++;
                return ROSTER_EAGAIN;
            }
            return hold(c, &fp->park, m, 1, f);
        }
    }
    size_t size = rs_wire_size(m);
    int waiting = n->park.head || n->flow_paused;
    if (f->drop) {
        if (waiting || n->unread + size > c->lim.mailbox_bytes) {
            c->route.dropped++;
            return ROSTER_EAGAIN;
        }
    } else if (waiting || !fits(n->unread, size, rs_flow_high(c))) {
        if (f->nowait) {
            c->route.dropped++;
            return ROSTER_EAGAIN;
        }
        return hold(c, &n->park, m, 1, f);
    }
    rs_out_peer(c, n, m);
    return 0;
}

void rs_flow_client_flushed(struct rs_core *c, struct rs_client *cl)
{
    uint64_t high = rs_flow_high(c);
    while (cl->park.head && !cl->closing && fits(cl->unread, cl->park.head->len, high)) {
        struct rs_parked *p = park_pop(&cl->park);
        if (rs_out_bytes(c, cl, p->frame, p->len) != 0) {
            release(c, p, ROSTER_ENOMEM);
            continue;
        }
        release(c, p, 0);
    }
    if (cl->n_asks && cl->park.bytes <= ask_held(c) / 2)
        lift_asks(c, cl);
}

void rs_flow_peer_flushed(struct rs_core *c, struct rs_node *n)
{
    uint64_t high = rs_flow_high(c);
    while (n->park.head && !n->flow_paused && n->state == ROSTER_NODE_UP && !n->overflow &&
           fits(n->unread, n->park.head->len, high)) {
        struct rs_parked *p = park_pop(&n->park);
        rs_out_peer_bytes(c, n, p->frame, p->len);
        /* "delivered" counts local receivers only: a forwarded message is counted there */
        p->pids = 0;
        release(c, p, 0);
    }
}

void rs_flow_client_gone(struct rs_core *c, struct rs_client *cl)
{
    struct rs_parked *p;
    while ((p = park_pop(&cl->park)))
        release(c, p, ROSTER_ENOPROC);
    /* What it sent and is held elsewhere is still delivered, as a message a process sent
     * before it died would be; only its answers and its charge go. */
    while ((p = cl->held)) {
        cl->held = p->snext;
        p->sprev = p->snext = NULL;
        p->sender = NULL;
        p->confirm_req = 0;
    }
    cl->held_bytes = 0;
    if (cl->paused) {
        cl->paused = 0;
        c->route.paused--;
    }
    /* the other nodes send what they held for its pids: dropped there as to a dead pid,
     * and their senders go on */
    lift_asks(c, cl);
    rs_free(cl->asks);
    cl->asks = NULL;
}

void rs_flow_node_down(struct rs_core *c, struct rs_node *n)
{
    struct rs_parked *p;
    while ((p = park_pop(&n->park)))
        release(c, p, ROSTER_ENOPROC);
    struct rs_flow_pid *fp;
    while ((fp = n->paused_pids)) {
        n->paused_pids = fp->next;
        while ((p = park_pop(&fp->park)))
            release(c, p, ROSTER_ENOPROC);
        rs_free(fp);
    }
    n->n_paused_pids = 0;
    n->flow_paused = 0;
    n->held_from = 0;
    n->flow_asked = 0;
}

void rs_flow_on_p_flow(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    int pause = rs_msg_p_flow_pause(m) != 0;
    struct rs_pid pid = rs_msg_p_flow_pid(m);
    if (pid.inc == 0 && pid.serial == 0) { /* the whole link */
        n->flow_paused = pause;
        if (!pause)
            rs_flow_peer_flushed(c, n);
        return;
    }
    if (pid.inc != n->inc || pid.serial == 0) {
        rs_cluster_fail(c, n, "malformed P_FLOW: a pid not of the sending node");
        return;
    }
    struct rs_flow_pid *fp = pid_find(n, pid.serial);
    if (pause) {
        if (fp || n->n_paused_pids >= RS_FLOW_PIDS_MAX)
            return; /* past the cap, its link pause is the backstop */
        int oom = c->oom;
        fp = rs_core_alloc(c, sizeof *fp);
        c->oom = oom;
        if (!fp)
            return;
        memset(fp, 0, sizeof *fp);
        fp->serial = pid.serial;
        fp->next = n->paused_pids;
        n->paused_pids = fp;
        n->n_paused_pids++;
        return;
    }
    if (!fp)
        return;
    struct rs_flow_pid **pp = &n->paused_pids;
    while (*pp != fp)
        pp = &(*pp)->next;
    *pp = fp->next;
    n->n_paused_pids--;
    /* Behind whatever already waits for the link: all of it is older than these. */
    struct rs_parked *p;
    while ((p = park_pop(&fp->park)))
        park_push(&n->park, p);
    rs_free(fp);
    rs_flow_peer_flushed(c, n);
}

static void park_free(struct rs_park *q)
{
    struct rs_parked *p;
    while ((p = park_pop(q)))
        rs_free(p);
}

void rs_flow_free_all(struct rs_core *c)
{
    for (size_t i = 0; i < c->clients.cap; i++) {
        struct rs_client *cl = c->clients.slots[i].item;
        if (cl) {
            park_free(&cl->park);
            rs_free(cl->asks);
        }
    }
    for (size_t i = 0; i < c->nodes.cap; i++) {
        struct rs_node *n = c->nodes.slots[i].item;
        if (!n)
            continue;
        park_free(&n->park);
        struct rs_flow_pid *fp;
        while ((fp = n->paused_pids)) {
            n->paused_pids = fp->next;
            park_free(&fp->park);
            rs_free(fp);
        }
    }
}
