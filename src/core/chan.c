/* chan.c: direct channels between two clients of this node (docs/MESSAGING.md, "Direct
 * channels"). The core decides: it sees every message between its clients, knows both
 * connections, the access rules and the caps. After RS_CHAN_AFTER messages by pid from one
 * client to another (or at once on CHANNEL_OPEN) it asks the shell for a socket pair
 * (RS_OUT_CHANNEL_FD) and sends each client a CHANNEL frame carrying its end; later
 * messages by pid through the node to the other client's pids answer with a CHANNEL route
 * (which pid lives behind which channel). The clients then write to each other; the node
 * only relays the switch markers (CHANNEL_MARK) in each receiver's ordered stream, behind
 * anything held for it, which is what keeps per-pair order across the switch and across a
 * close. No system call here: the shell makes the pair and passes the fds. */
#include <string.h>

#include "core/access.h"
#include "core/chan.h"
#include "core/flow.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/util.h"
#include "wire/chan.h"

struct rs_chan {
    uint64_t id;
    struct rs_client *end[2]; /* 0: the client whose messages opened it */
    uint8_t ended[2];         /* CHANNEL_MARK END relayed from that end */
    uint8_t closing;          /* CHANNEL_CLOSE sent to both ends */
    uint64_t used;            /* last open, route or START: least recently used goes first */
    uint64_t routed[2];       /* the last pid serial routed to that end (no repeats) */
};

struct rs_chan_cl {
    struct rs_chan **v; /* channels it is an end of (open or closing) */
    uint32_t n, cap;
    struct {
        uint64_t peer; /* the other client's conn */
        uint32_t count;
    } recent[RS_CHAN_RECENT];
    unsigned next;
};

struct rs_chans {
    uint64_t next_id, stamp;
    uint32_t max;
    int off;
    int acl_seen; /* the acl pointer last checked against (reloads recheck) */
    const void *acl;
    struct rs_chan_stats st;
};

int rs_chan_init(struct rs_core *c, const struct rs_core_config *cfg)
{
    c->chans = rs_core_alloc(c, sizeof *c->chans);
    if (!c->chans)
        return -1;
    memset(c->chans, 0, sizeof *c->chans);
    c->chans->next_id = 1;
    c->chans->max = cfg->max_channels ? cfg->max_channels : RS_CHAN_MAX_DEFAULT;
    c->chans->off = cfg->no_channels != 0;
    return 0;
}

static void cl_free(struct rs_chan_cl *k)
{
    if (!k)
        return;
    rs_free(k->v);
    rs_free(k);
}

void rs_chan_free_all(struct rs_core *c)
{
    if (!c->chans)
        return;
    for (size_t i = 0; i < c->clients.cap; i++) {
        struct rs_client *cl = c->clients.slots[i].item;
        if (!cl || !cl->chan)
            continue;
        /* a channel is in the arrays of both its ends: first keep it only in end 0's
         * (every channel is still alive here), then free from those */
        uint32_t k = 0;
        for (uint32_t j = 0; j < cl->chan->n; j++)
            if (cl->chan->v[j]->end[0] == cl)
                cl->chan->v[k++] = cl->chan->v[j];
        cl->chan->n = k;
    }
    for (size_t i = 0; i < c->clients.cap; i++) {
        struct rs_client *cl = c->clients.slots[i].item;
        if (cl && cl->chan)
            for (uint32_t j = 0; j < cl->chan->n; j++)
                rs_free(cl->chan->v[j]);
    }
    for (size_t i = 0; i < c->clients.cap; i++) {
        struct rs_client *cl = c->clients.slots[i].item;
        if (cl) {
            cl_free(cl->chan);
            cl->chan = NULL;
        }
    }
    rs_free(c->chans);
    c->chans = NULL;
}

void rs_chan_hello(struct rs_core *c, struct rs_client *cl, uint32_t hello_opts)
{
    if (!c->chans || c->chans->off || !(hello_opts & RS_HELLO_WANT_CHAN) || cl->chan)
        return;
    cl->chan = rs_core_alloc(c, sizeof *cl->chan);
    if (cl->chan)
        memset(cl->chan, 0, sizeof *cl->chan);
    else
        c->oom = 0; /* without it the client is only relayed */
}

static int side_of(const struct rs_chan *ch, const struct rs_client *cl)
{
    return ch->end[1] == cl;
}

static struct rs_chan *find_pair(struct rs_client *a, struct rs_client *b)
{
    for (uint32_t i = 0; i < a->chan->n; i++) {
        struct rs_chan *ch = a->chan->v[i];
        if (ch->end[1 - side_of(ch, a)] == b)
            return ch;
    }
    return NULL;
}

static struct rs_chan *find_id(struct rs_client *cl, uint64_t id)
{
    if (!cl->chan)
        return NULL;
    for (uint32_t i = 0; i < cl->chan->n; i++)
        if (cl->chan->v[i]->id == id)
            return cl->chan->v[i];
    return NULL;
}

static int arr_add(struct rs_core *c, struct rs_chan_cl *k, struct rs_chan *ch)
{
    if (k->n == k->cap) {
        uint32_t cap = k->cap ? k->cap * 2 : 4;
        struct rs_chan **v = rs_core_alloc(c, cap * sizeof *v);
        if (!v)
            return -1;
        if (k->n)
            memcpy(v, k->v, k->n * sizeof *v);
        rs_free(k->v);
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = ch;
    return 0;
}

static void arr_del(struct rs_chan_cl *k, struct rs_chan *ch)
{
    for (uint32_t i = 0; i < k->n; i++)
        if (k->v[i] == ch) {
            k->v[i] = k->v[--k->n];
            return;
        }
}

static void chan_free(struct rs_core *c, struct rs_chan *ch)
{
    for (int s = 0; s < 2; s++)
        if (ch->end[s] && ch->end[s]->chan)
            arr_del(ch->end[s]->chan, ch);
    if (!ch->closing)
        c->chans->st.open--;
    c->chans->st.closed++;
    rs_free(ch);
}

/* to_client sends a CHANNEL_* frame to cl in its ordered stream: behind what is held for
 * it (flow.c), never dropped while cl lives. */
static void to_client(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    static const struct rs_flow_from none;
    if (cl && !cl->closing)
        (void)rs_flow_client_put(c, cl, m, 0, &none);
}

static void send_close(struct rs_core *c, struct rs_chan *ch, uint32_t reason)
{
    if (ch->closing)
        return;
    ch->closing = 1;
    c->chans->st.open--;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CHANNEL_CLOSE;
    rs_msg_channel_close_reason_set(&m, reason);
    rs_msg_channel_close_id_set(&m, ch->id);
    for (int s = 0; s < 2; s++)
        to_client(c, ch->end[s], &m);
    rs_out_log(c, RS_LOG_DEBUG, "channel %llu (conn %llu, conn %llu) closing: reason %u",
               (unsigned long long)ch->id, (unsigned long long)ch->end[0]->conn,
               (unsigned long long)ch->end[1]->conn, (unsigned)reason);
}

/* make_room closes cl's least recently used open channel when cl is at the cap; 0 when
 * there is room (a closing channel still counts until both ends are done with it). */
static int make_room(struct rs_core *c, struct rs_client *cl)
{
    if (cl->chan->n < c->chans->max)
        return 0;
    struct rs_chan *lru = NULL;
    for (uint32_t i = 0; i < cl->chan->n; i++) {
        struct rs_chan *ch = cl->chan->v[i];
        if (!ch->closing && (!lru || ch->used < lru->used))
            lru = ch;
    }
    if (lru)
        send_close(c, lru, RS_CHAN_CLOSE_CAP);
    return -1; /* the room comes when the closing one is done: stay relayed until then */
}

/* new_id: ids travel in 24 bits (RS_CHAN_TAG_SHIFT); one that wrapped onto a channel of
 * either client still open is skipped */
static uint64_t new_id(struct rs_core *c, struct rs_client *a, struct rs_client *b)
{
    for (;;) {
        uint64_t id = c->chans->next_id++;
        if (c->chans->next_id > RS_CHAN_ID_MAX)
            c->chans->next_id = 1;
        if (!find_id(a, id) && !find_id(b, id))
            return id;
    }
}

static void route(struct rs_core *c, struct rs_chan *ch, int side, uint64_t serial)
{
    ch->used = ++c->chans->stamp;
    if (ch->routed[side] == serial)
        return;
    ch->routed[side] = serial;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CHANNEL;
    rs_msg_channel_id_set(&m, ch->id);
    rs_msg_channel_route_set(&m, (struct rs_pid){c->inc, serial});
    (void)rs_out_frame(c, ch->end[side], &m);
}

/* open makes a channel between a and b (routes: b_serial for a, a_serial for b); returns
 * it, or NULL with *why set (refused: the two stay relayed). */
static struct rs_chan *open_chan(struct rs_core *c, struct rs_client *a, struct rs_client *b,
                                 uint64_t b_serial, uint64_t a_serial, int *why)
{
    *why = ROSTER_ENOCHANNEL;
    if (!a->chan || !b->chan || a->closing || b->closing || a == b)
        return NULL;
    if (!rs_access_channel(c, a, b)) {
        c->chans->st.refused++;
        *why = ROSTER_EACCES;
        return NULL;
    }
    int ra = make_room(c, a), rb = make_room(c, b);
    if (ra || rb) {
        *why = ROSTER_ELIMIT;
        return NULL;
    }
    struct rs_chan *ch = rs_core_alloc(c, sizeof *ch);
    if (!ch) {
        *why = ROSTER_ENOMEM;
        return NULL;
    }
    memset(ch, 0, sizeof *ch);
    ch->id = new_id(c, a, b);
    ch->end[0] = a;
    ch->end[1] = b;
    ch->used = ++c->chans->stamp;
    if (arr_add(c, a->chan, ch) != 0) {
        rs_free(ch);
        *why = ROSTER_ENOMEM;
        return NULL;
    }
    if (arr_add(c, b->chan, ch) != 0) {
        arr_del(a->chan, ch);
        rs_free(ch);
        *why = ROSTER_ENOMEM;
        return NULL;
    }
    c->chans->st.open++;
    c->chans->st.opened++;
    ch->routed[0] = b_serial;
    ch->routed[1] = a_serial;
    for (int s = 0; s < 2; s++) {
        struct rs_msg m;
        memset(&m, 0, sizeof m);
        m.type = RS_MSG_CHANNEL;
        rs_msg_channel_flags_set(&m, RS_CHAN_NEW);
        rs_msg_channel_id_set(&m, ch->id);
        rs_msg_channel_route_set(&m, (struct rs_pid){c->inc, s ? a_serial : b_serial});
        /* the end rides with this frame's first byte: nothing may merge in front of it */
        if (rs_out_channel_fd(c, ch->end[s]->conn, s, ch->id) != 0)
            return ch;
        (void)rs_out_frame(c, ch->end[s], &m);
    }
    rs_out_log(c, RS_LOG_DEBUG, "channel %llu opened between conn %llu and conn %llu",
               (unsigned long long)ch->id, (unsigned long long)a->conn,
               (unsigned long long)b->conn);
    return ch;
}

void rs_chan_after_deliver(struct rs_core *c, struct rs_client *cl, uint64_t from_serial,
                           struct rs_proc *to)
{
    struct rs_client *b = to->client;
    if (!c->chans || c->chans->off || !cl->chan || !b || !b->chan || b == cl)
        return;
    struct rs_chan *ch = find_pair(cl, b);
    if (ch) {
        if (!ch->closing)
            route(c, ch, side_of(ch, cl), to->serial);
        return;
    }
    struct rs_chan_cl *k = cl->chan;
    unsigned i = 0;
    while (i < RS_CHAN_RECENT && k->recent[i].peer != b->conn)
        i++;
    if (i == RS_CHAN_RECENT) {
        i = k->next++ % RS_CHAN_RECENT;
        k->recent[i].peer = b->conn;
        k->recent[i].count = 0;
    }
    if (++k->recent[i].count < RS_CHAN_AFTER)
        return;
    k->recent[i].count = 0; /* refused (cap, ACL): try again after as many more */
    int why;
    (void)open_chan(c, cl, b, to->serial, from_serial, &why);
}

uint32_t rs_chan_tag(const struct rs_core *c, struct rs_client *a, struct rs_client *b)
{
    (void)c;
    if (!a->chan || !b->chan || a == b || !a->chan->n)
        return 0;
    struct rs_chan *ch = find_pair(a, b);
    return ch ? (uint32_t)ch->id << RS_CHAN_TAG_SHIFT : 0;
}

void rs_chan_on_open(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    struct rs_pid to = rs_msg_channel_open_to(m);
    struct rs_proc *p = to.inc == c->inc ? rs_pids_find(c, to) : NULL;
    if (to.inc != c->inc) {
        rs_out_error(c, cl, m, ROSTER_ENOCHANNEL, "pid %llu is not a pid of this node: "
                     "channels join two clients of one node", (unsigned long long)to.serial);
        return;
    }
    if (!p || !p->client) {
        rs_out_error(c, cl, m, ROSTER_ENOPROC, "target pid is not alive");
        return;
    }
    if (p->client == cl) {
        rs_out_error(c, cl, m, ROSTER_EINVAL, "the pid is this client's own");
        return;
    }
    if (!c->chans || c->chans->off || !cl->chan || !p->client->chan) {
        rs_out_error(c, cl, m, ROSTER_ENOCHANNEL, "%s",
                     !c->chans || c->chans->off ? "channels are off on this node (--no-channels)"
                     : !cl->chan ? "this client did not ask for channels"
                                 : "the pid's client does not take channels");
        return;
    }
    struct rs_chan *ch = find_pair(cl, p->client);
    if (ch && ch->closing) {
        rs_out_error(c, cl, m, ROSTER_EBUSY, "the previous channel to that client is still "
                     "closing: try again");
        return;
    }
    if (ch) {
        route(c, ch, side_of(ch, cl), p->serial);
    } else {
        int why;
        struct rs_pid self = {c->inc, cl->procs ? cl->procs->serial : 0};
        ch = open_chan(c, cl, p->client, p->serial, self.serial, &why);
        if (!ch) {
            rs_out_error(c, cl, m, why, "%s",
                         why == ROSTER_EACCES ? "the access rules do not allow a channel "
                                                "between these clients"
                         : why == ROSTER_ELIMIT ? "a client is at --max-channels: its least "
                                                  "recently used channel is closing, try again"
                                                : "no channel could be made");
            return;
        }
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_channel_open_reply_id_set(&r, ch->id);
    rs_out_reply(c, cl, m, &r);
}

void rs_chan_on_mark(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    struct rs_chan *ch = find_id(cl, rs_msg_channel_mark_id(m));
    if (!ch)
        return; /* a channel already gone (its peer died): nothing to relay */
    int s = side_of(ch, cl);
    uint32_t kind = rs_msg_channel_mark_kind(m);
    if (kind != RS_CHAN_MARK_START && kind != RS_CHAN_MARK_END) {
        rs_out_close(c, cl, "protocol error: CHANNEL_MARK kind %u", (unsigned)kind);
        return;
    }
    struct rs_msg f;
    memset(&f, 0, sizeof f);
    f.type = RS_MSG_CHANNEL_MARK;
    rs_msg_channel_mark_kind_set(&f, kind);
    rs_msg_channel_mark_id_set(&f, ch->id);
    rs_msg_channel_mark_to_set(&f, rs_msg_channel_mark_to(m));
    to_client(c, ch->end[1 - s], &f);
    if (kind == RS_CHAN_MARK_START) {
        ch->used = ++c->chans->stamp;
        return;
    }
    ch->ended[s] = 1;
    send_close(c, ch, RS_CHAN_CLOSE_ASKED); /* an end shut down on its own: close it all */
    if (ch->ended[0] && ch->ended[1])
        chan_free(c, ch);
}

void rs_chan_on_close(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    struct rs_chan *ch = find_id(cl, rs_msg_channel_close_id(m));
    if (ch)
        send_close(c, ch, RS_CHAN_CLOSE_ASKED);
}

void rs_chan_on_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    (void)cl;
    struct rs_pid to = rs_msg_channel_reply_caller(m);
    struct rs_proc *p = to.inc == c->inc ? rs_pids_find(c, to) : NULL;
    if (!p || !p->client || rs_msg_channel_reply_payload(m).len > c->lim.message_max)
        return; /* the caller is gone: a reply nobody waits for is dropped */
    struct rs_msg f;
    memset(&f, 0, sizeof f);
    f.type = RS_MSG_CHANNEL_REPLY;
    rs_msg_channel_reply_ref_set(&f, rs_msg_channel_reply_ref(m));
    rs_msg_channel_reply_caller_set(&f, to);
    rs_msg_channel_reply_payload_set(&f, rs_msg_channel_reply_payload(m));
    (void)rs_out_frame(c, p->client, &f);
}

void rs_chan_client_gone(struct rs_core *c, struct rs_client *cl)
{
    if (!cl->chan)
        return;
    while (cl->chan->n) {
        struct rs_chan *ch = cl->chan->v[cl->chan->n - 1];
        struct rs_client *peer = ch->end[1 - side_of(ch, cl)];
        if (!ch->ended[1 - side_of(ch, cl)]) {
            /* behind what is held for the peer: it reads what the gone client wrote on
             * the channel (up to its end) before it lets the channel go */
            struct rs_msg m;
            memset(&m, 0, sizeof m);
            m.type = RS_MSG_CHANNEL_CLOSE;
            rs_msg_channel_close_reason_set(&m, RS_CHAN_CLOSE_GONE);
            rs_msg_channel_close_id_set(&m, ch->id);
            to_client(c, peer, &m);
        }
        chan_free(c, ch);
    }
    cl_free(cl->chan);
    cl->chan = NULL;
}

void rs_chan_recheck(struct rs_core *c)
{
    if (!c->chans || c->chans->acl == (const void *)c->access.acl)
        return;
    c->chans->acl = c->access.acl;
    if (!c->access.acl)
        return;
    for (size_t i = 0; i < c->clients.cap; i++) {
        struct rs_client *cl = c->clients.slots[i].item;
        if (!cl || !cl->chan)
            continue;
        for (uint32_t j = 0; j < cl->chan->n; j++) {
            struct rs_chan *ch = cl->chan->v[j];
            if (ch->end[0] == cl && !ch->closing && !rs_access_channel(c, ch->end[0], ch->end[1]))
                send_close(c, ch, RS_CHAN_CLOSE_ACL);
        }
    }
}

void rs_chan_stats(const struct rs_core *c, struct rs_chan_stats *st)
{
    if (c->chans)
        *st = c->chans->st;
    else
        memset(st, 0, sizeof *st);
}
