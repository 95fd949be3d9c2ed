/* chan.c: libroster's direct channels (docs/MESSAGING.md, "Direct channels"). When two
 * clients of one node message each other by pid, the node hands each one end of a socket
 * pair (a CHANNEL frame carrying the fd, SCM_RIGHTS) and tells each which of the other's
 * pids live behind it (routes); sends, calls and replies between them then go client to
 * client, without the node.
 *
 * Order per (sender, receiver) pair holds across the switch because of markers: before its
 * first message to a pid on a channel, the sender writes CHANNEL_MARK START (channel, pid)
 * on its node socket, behind everything it sent that pid through the node; the node relays
 * it in the receiver's ordered stream, behind anything it holds for it. The receiver reads
 * the channel at once but holds what it reads for a pid (`parked`) until that pid's START
 * came: nothing sent through the node before the switch is overtaken. Closing is the
 * mirror: the sender writes out what it queued on the channel, shuts its side down, and
 * writes CHANNEL_MARK END on its node socket; the receiver, at that END, reads the channel
 * to its end before it takes anything that follows from the node.
 *
 * A channel's bytes come from another client: each frame is checked (wire/chan.c, fuzzed)
 * and a bad one ends the channel (the reason is kept for roster_channel_stats), the rest of
 * that client's messages come through the node. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client.h"
#include "wire/chan.h"

#define CHAN_RECORD (64u * 1024u) /* a batch, and the largest message a channel carries */
#define CHAN_HEADROOM 8192        /* of the send buffer, always left for a TURN */
#define CHAN_ROUTES_MAX 65536u              /* routes of one channel before it is renewed */
#define CHAN_GRACE_MS 20 /* a blocking send waits this long for room before the node path */

/* A set of u64 keys (non-zero), open addressing; with vals: a map to pointers. */
struct rs_u64map {
    uint64_t *k;
    void **v;
    size_t cap, n;
};

struct rs_cchan {
    uint64_t id;
    int fd;               /* -1: none (the node could not make one) */
    uint8_t bad;          /* not usable: asked the node to close it */
    uint8_t closing;      /* the node asked: finish our side once our queue is written */
    uint8_t ended_out;    /* we shut our side and sent END (or never will write) */
    uint8_t ended_in;     /* the peer's END (or its death) was taken */
    uint8_t broken;       /* the peer wrote a bad frame: the rest is read and dropped */
    uint8_t gone;         /* the peer is gone */
    uint8_t grace;        /* the send in progress may wait CHAN_GRACE_MS for room */
    uint8_t stalled;      /* a grace ran out: no more waiting until the peer has read */
    uint8_t eof;          /* read returned its end */
    uint8_t path_chan;    /* sending: our messages to the peer go on the channel now */
    uint8_t turn_chan;    /* receiving: the peer's messages are taken from the channel now
                             (after its START), else from the node (after its TURN) */
    struct rs_buf out;    /* a batch of whole frames (ROSTER_SEND_NOFLUSH sends) not yet
                             written: written whole when it fits, else through the node */
    size_t out_off;
    int sndbuf;           /* the socket's send buffer (SO_SNDBUF) */
    size_t wbound;        /* an upper bound of its accounting now (fits()) */
    struct rs_wire_reader in;
    struct rs_buf parked; /* channel frames waiting for the channel's turn, from parked_off */
    size_t parked_off;
    struct rs_buf held;   /* the peer's frames from the node (tagged MESSAGEs, START, END)
                             waiting for the node's turn, from held_off */
    size_t held_off;
    uint32_t n_routes;
    /* Who may write as whom (the peer is another client: it could name any pid of this
     * node as the sender). peers: the peer's pids the node vouched for on this channel
     * (its NEW and route frames, the sender of each MESSAGE it relayed to us tagged with
     * this channel); a channel frame from any other pid ends the channel. mine: our pids
     * that sent the peer a message through the node since we hold this channel, so the
     * peer has them in its peers before it reads them here; the others go through the
     * node once first. */
    struct rs_u64map peers, mine;
};

static void begin_close(roster_client *c, struct rs_cchan *ch);
static int chan_write(roster_client *c, struct rs_cchan *ch);
static void finish_out(roster_client *c, struct rs_cchan *ch);


static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static size_t map_slot(const struct rs_u64map *m, uint64_t key)
{
    size_t i = (size_t)mix(key) & (m->cap - 1);
    while (m->k[i] && m->k[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int map_grow(struct rs_u64map *m, int vals)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    struct rs_u64map n = {rs_malloc(cap * sizeof *n.k), vals ? rs_malloc(cap * sizeof(void *)) : NULL,
                          cap, 0};
    if (!n.k || (vals && !n.v)) {
        rs_free(n.k);
        rs_free(n.v);
        return -1;
    }
    memset(n.k, 0, cap * sizeof *n.k);
    for (size_t i = 0; i < m->cap; i++)
        if (m->k[i]) {
            size_t j = map_slot(&n, m->k[i]);
            n.k[j] = m->k[i];
            if (vals)
                n.v[j] = m->v[i];
            n.n++;
        }
    rs_free(m->k);
    rs_free(m->v);
    *m = n;
    return 0;
}

static void **map_find(const struct rs_u64map *m, uint64_t key)
{
    if (!m->cap || !key)
        return NULL;
    size_t i = map_slot(m, key);
    return m->k[i] ? (m->v ? &m->v[i] : (void **)&m->k[i]) : NULL;
}

static int map_put(struct rs_u64map *m, uint64_t key, void *val, int vals)
{
    if ((m->n + 1) * 4 > m->cap * 3 && map_grow(m, vals) != 0)
        return -1;
    size_t i = map_slot(m, key);
    if (!m->k[i]) {
        m->k[i] = key;
        m->n++;
    }
    if (vals)
        m->v[i] = val;
    return 0;
}

static void map_fini(struct rs_u64map *m)
{
    rs_free(m->k);
    rs_free(m->v);
    memset(m, 0, sizeof *m);
}

/* ---- channels of this client ---------------------------------------------------------- */

static struct rs_cchan *chan_by_id(roster_client *c, uint64_t id)
{
    for (uint32_t i = 0; i < c->n_chans; i++)
        if (c->chans[i]->id == id)
            return c->chans[i];
    return NULL;
}

/* drop_routes forgets the routes through ch (rebuilds the table without them). */
static void drop_routes(roster_client *c, struct rs_cchan *ch)
{
    struct rs_u64map *rt = c->chan_routes;
    if (!rt || !ch->n_routes)
        return;
    struct rs_u64map keep = {0};
    for (size_t i = 0; i < rt->cap; i++) {
        if (!rt->k[i] || (struct rs_cchan *)rt->v[i] == ch)
            continue;
        if (map_put(&keep, rt->k[i], rt->v[i], 1) != 0)
            break; /* out of memory: those not kept go through the node (unordered with
                      what went on the channel only if another channel opens later) */
    }
    map_fini(rt);
    *rt = keep;
    ch->n_routes = 0;
}

static void note(roster_client *c, const char *what, unsigned long long id, const char *why)
{
    snprintf(c->chan_last, sizeof c->chan_last, "channel %llu %s: %s", id, what, why);
}

/* queue_node puts a frame the node does not answer on the node socket's queue. */
static void queue_node(roster_client *c, struct rs_msg *m)
{
    m->flags = 0;
    m->req_id = 0;
    if (rs_wire_encode(&c->out, m) != 0)
        c->chan_lost++;
    c->posted = 1;
}

static void ask_close(roster_client *c, struct rs_cchan *ch)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CHANNEL_CLOSE;
    rs_msg_channel_close_id_set(&m, ch->id);
    queue_node(c, &m);
}

static void fail_call(roster_client *c, const struct rs_cchan *ch)
{
    if (c->ccall_chan == ch->id && c->ccall_ref && !c->ccall_done) {
        c->ccall_done = 1;
        c->ccall_status = ROSTER_ENOPROC;
    }
}

static void chan_free(roster_client *c, struct rs_cchan *ch)
{
    drop_routes(c, ch);
    if (ch->fd >= 0) {
        if (c->epfd >= 0)
            epoll_ctl(c->epfd, EPOLL_CTL_DEL, ch->fd, NULL);
        close(ch->fd);
    }
    map_fini(&ch->peers);
    map_fini(&ch->mine);
    rs_buf_fini(&ch->out);
    rs_buf_fini(&ch->parked);
    rs_buf_fini(&ch->held);
    rs_wire_reader_fini(&ch->in);
    for (uint32_t i = 0; i < c->n_chans; i++)
        if (c->chans[i] == ch) {
            c->chans[i] = c->chans[--c->n_chans];
            break;
        }
    if (ch->gone)
        fail_call(c, ch);
    c->chan_closed++;
    rs_free(ch);
}

static void maybe_free(roster_client *c, struct rs_cchan *ch)
{
    if (ch->ended_out && ch->ended_in)
        chan_free(c, ch);
}

static void count_parked(roster_client *c)
{
    c->chan_parked = c->chan_held = 0;
    for (uint32_t i = 0; i < c->n_chans; i++) {
        struct rs_cchan *ch = c->chans[i];
        c->chan_parked += ch->parked.len - ch->parked_off;
        c->chan_held += ch->held.len - ch->held_off;
    }
}

/* room_for_input: the channels are read while the queue and what waits for the node's
 * turn leave room (what waits for the channel's turn does not count: it is the channel
 * that lets it through) */
static int room_for_input(const roster_client *c)
{
    return c->drop_messages || c->evq.len - c->evq_off + c->chan_parked < c->evq_max;
}

static void chan_read(roster_client *c, struct rs_cchan *ch, int force);
static void finish_out(roster_client *c, struct rs_cchan *ch);

/* take_front removes the first frame of q (from *off) into *m; 0 when q is empty. */
static size_t take_front(roster_client *c, struct rs_buf *q, size_t *off, struct rs_msg *m,
                         const uint8_t **f)
{
    if (*off + 4 > q->len)
        return 0;
    size_t n = (size_t)rs_get_u32(q->data + *off) + 4;
    *f = q->data + *off;
    *off += n;
    if (rs_wire_decode(*f, n, &c->dec, m) != RS_WIRE_OK)
        m->type = 0; /* checked when queued: cannot happen */
    return n;
}

static void compact(struct rs_buf *q, size_t *off)
{
    if (*off == q->len) {
        q->len = *off = 0;
    } else if (*off >= RS_CLIENT_CHUNK && *off * 2 >= q->len) {
        rs_buf_consume(q, *off);
        *off = 0;
    }
}

/* peer_ended: the peer's END came in its turn: it wrote all it will on the channel (its
 * TURN before the END made the node's turn); read what is left, let anything out of turn
 * through, and close our side too. */
/* vouch: the node said pid (of this node) lives behind ch */
static void vouch(roster_client *c, struct rs_cchan *ch, struct rs_pid pid)
{
    if (pid.inc != c->node_inc || !pid.serial || map_find(&ch->peers, pid.serial))
        return;
    /* past the cap a new pid stays unknown: its frames end the channel, the pair goes
     * back to the node and a new channel starts with an empty set */
    if (ch->peers.n < CHAN_ROUTES_MAX)
        (void)map_put(&ch->peers, pid.serial, NULL, 0);
}

/* take_msg queues a MESSAGE read from ch in its turn, if its sender is one the node
 * vouched for; else the channel ends (the frame, and what follows it there, dropped). */
static void take_msg(roster_client *c, struct rs_cchan *ch, const uint8_t *f, size_t n,
                     const struct rs_msg *m)
{
    if (ch->broken)
        return;
    struct rs_pid from = rs_msg_message_from(m);
    if (from.inc == c->node_inc && map_find(&ch->peers, from.serial)) {
        rs_client_evq_push(c, f, n, m);
        return;
    }
    ch->broken = 1;
    c->chan_malformed++;
    char why[96];
    snprintf(why, sizeof why, "pid %llu is not behind this channel (a forged sender)",
             (unsigned long long)from.serial);
    note(c, "closed, refused a frame from the peer", (unsigned long long)ch->id, why);
    ask_close(c, ch);
}

static void peer_ended(roster_client *c, struct rs_cchan *ch)
{
    chan_read(c, ch, 1);
    const uint8_t *f;
    struct rs_msg m;
    while (take_front(c, &ch->parked, &ch->parked_off, &m, &f))
        if (m.type == RS_MSG_MESSAGE)
            take_msg(c, ch, f, (size_t)rs_get_u32(f) + 4, &m);
    ch->ended_in = 1; /* on_mark closes our side */
}

/* advance takes what the turns allow: the channel's frames while it is the channel's turn
 * (up to a TURN), the node's frames of this peer while it is the node's (up to a START). */
static void advance(roster_client *c, struct rs_cchan *ch)
{
    const uint8_t *f;
    struct rs_msg m;
    size_t n;
    for (;;) {
        if (ch->turn_chan) {
            if (!(n = take_front(c, &ch->parked, &ch->parked_off, &m, &f))) {
                if (!ch->eof)
                    break;
                ch->turn_chan = 0; /* the peer's end: its TURN */
                continue;
            }
            if (m.type == RS_MSG_CHANNEL_MARK)
                ch->turn_chan = 0;
            else if (m.type == RS_MSG_MESSAGE)
                take_msg(c, ch, f, n, &m);
        } else {
            if (!(n = take_front(c, &ch->held, &ch->held_off, &m, &f)))
                break;
            if (m.type == RS_MSG_CHANNEL_MARK) {
                if (rs_msg_channel_mark_kind(&m) == RS_CHAN_MARK_START)
                    ch->turn_chan = 1;
                else if (!ch->ended_in)
                    peer_ended(c, ch);
            } else if (m.type == RS_MSG_MESSAGE) {
                rs_client_evq_push(c, f, n, &m);
            }
        }
    }
    compact(&ch->parked, &ch->parked_off);
    compact(&ch->held, &ch->held_off);
    count_parked(c);
}

/* flush_all hands out everything queued on ch, in turn order as far as it goes (the peer
 * is gone: nothing more will come to decide the rest). */
static void flush_all(roster_client *c, struct rs_cchan *ch)
{
    for (int i = 0; i < 1000000; i++) {
        advance(c, ch);
        if (ch->parked_off == ch->parked.len && ch->held_off == ch->held.len)
            break;
        ch->turn_chan = !ch->turn_chan;
    }
}

static void on_frame(roster_client *c, struct rs_cchan *ch, const uint8_t *p, size_t n)
{
    if (ch->broken)
        return;
    struct rs_chan_limits l = {c->frame_max, c->msg_max, c->node_inc,
                               (const uint8_t *)c->node_name, strlen(c->node_name)};
    struct rs_msg m;
    const char *why = rs_chan_check(p, n, &l, &m);
    if (why) {
        ch->broken = 1;
        c->chan_malformed++;
        note(c, "closed, malformed frame from the peer", (unsigned long long)ch->id, why);
        ask_close(c, ch);
        return;
    }
    c->chan_received++;
    if (m.type == RS_MSG_REPLY) {
        uint64_t ref = rs_msg_reply_call_ref(&m);
        if (c->ccall_ref == ref && !c->ccall_done) {
            struct rs_bytes pl = rs_msg_reply_payload(&m);
            c->ccall_done = 1;
            c->ccall_status = rs_client_copy_buf(&c->ccall_reply, pl.ptr, pl.len);
        }
        return; /* a late reply (its call timed out) is dropped */
    }
    if (ch->turn_chan && ch->parked_off == ch->parked.len) { /* the common case */
        if (m.type == RS_MSG_MESSAGE)
            take_msg(c, ch, p, n, &m);
        else
            advance(c, (ch->turn_chan = 0, ch)); /* TURN: the node's frames now */
        return;
    }
    if (rs_buf_append(&ch->parked, p, n) != 0) {
        c->events_lost++;
        return;
    }
    c->chan_parked += n;
}

int rs_client_chan_node_msg(roster_client *c, const uint8_t *p, size_t n, const struct rs_msg *m)
{
    uint64_t id = m->opts >> RS_CHAN_TAG_SHIFT;
    struct rs_cchan *ch = id ? chan_by_id(c, id) : NULL;
    if (ch) /* the node relayed it from the peer client: its sender is the peer's own */
        vouch(c, ch, rs_msg_message_from(m));
    if (!ch || (!ch->turn_chan && ch->held_off == ch->held.len))
        return 0; /* its turn, or not of a channel we have: queue it now */
    if (rs_buf_append(&ch->held, p, n) != 0)
        c->events_lost++;
    else
        c->chan_held += n;
    return 1;
}

/* chan_read reads what ch has while the queue bound allows (force: to the end, for a
 * peer that ended or went away). */
static void chan_read(roster_client *c, struct rs_cchan *ch, int force)
{
    while (ch->fd >= 0 && !ch->eof && (force || room_for_input(c))) {
        uint8_t *room;
        size_t cap;
        if (rs_wire_reader_room(&ch->in, RS_CLIENT_CHUNK, &room, &cap) != 0) {
            if (!ch->broken) {
                ch->broken = 1;
                c->chan_malformed++;
                note(c, "closed", (unsigned long long)ch->id,
                     "a frame the peer declared impossible (or out of memory)");
                ask_close(c, ch);
            }
            rs_wire_reader_reset(&ch->in);
            if (rs_wire_reader_room(&ch->in, RS_CLIENT_CHUNK, &room, &cap) != 0)
                return;
        }
        ssize_t r = recv(ch->fd, room, cap, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            /* The end: the peer shut its side down (its END follows on the node stream;
             * the end counts as its TURN) or went away (CLOSE GONE follows). Nothing more
             * to wait for on it: roster_fd's poller must not wake for it again. */
            ch->eof = 1;
            if (c->epfd >= 0)
                epoll_ctl(c->epfd, EPOLL_CTL_DEL, ch->fd, NULL);
            if (ch->turn_chan)
                advance(c, ch);
            return;
        }
        if (ch->broken) {
            rs_wire_reader_reset(&ch->in); /* read and dropped until the channel ends */
            continue;
        }
        rs_wire_reader_commit(&ch->in, (size_t)r);
        for (;;) {
            const uint8_t *f;
            size_t fl;
            int k = rs_wire_reader_next(&ch->in, &f, &fl);
            if (k == RS_WIRE_NEED_MORE)
                break;
            if (k != RS_WIRE_OK) {
                ch->broken = 1;
                c->chan_malformed++;
                note(c, "closed, bad frame from the peer", (unsigned long long)ch->id,
                     rs_wire_strerror(k));
                ask_close(c, ch);
                rs_wire_reader_reset(&ch->in);
                break;
            }
            on_frame(c, ch, f, fl);
            if (ch->broken) {
                rs_wire_reader_reset(&ch->in);
                break;
            }
        }
        if (ch->turn_chan && ch->parked_off < ch->parked.len)
            advance(c, ch);
        if ((size_t)r < cap && !force)
            return;
    }
}

/* fits: the socket takes len more bytes without passing its send buffer less the room
 * kept for a TURN (a bound of the kernel's accounting), so a write is one allocation that
 * is never cut inside a frame, and a TURN can always follow. */
static size_t est(size_t len)
{
    /* a write of up to 64 KiB is one skb; its truesize is at most twice the bytes (page
     * chunks) plus the skb's own overhead */
    return 2 * len + 4096;
}

static int fits(struct rs_cchan *ch, size_t len)
{
    size_t need = est(len) + CHAN_HEADROOM;
    /* wbound bounds the socket's accounting from above (the peer's reads only lower it):
     * the ioctl is needed only when the bound says no */
    if (ch->wbound + need <= (size_t)ch->sndbuf)
        return 1;
    int q = 0;
    if (ioctl(ch->fd, SIOCOUTQ, &q) != 0 || q < 0)
        return 0;
    ch->wbound = (size_t)q;
    return ch->wbound + need <= (size_t)ch->sndbuf;
}

static void peer_gone_on_write(roster_client *c, struct rs_cchan *ch)
{
    /* The peer closed its end before our END: it went away. What we wrote is lost with
     * it, as messages to a dead pid are; its pids' messages go to the node (which knows
     * them dead), and the node's CLOSE GONE lets the channel go. */
    ch->out.len = ch->out_off = 0;
    ch->gone = 1;
    ch->ended_out = 1;
    drop_routes(c, ch);
    fail_call(c, ch);
}

/* raw_write writes p[0, n) whole (fits() said it would go); 0, or ROSTER_ENOPROC. */
static int raw_write(roster_client *c, struct rs_cchan *ch, const uint8_t *p, size_t n)
{
    size_t at = 0;
    ch->wbound += est(n);
    while (at < n) {
        ssize_t k = send(ch->fd, p + at, n - at, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            at += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Not expected (fits() bounds the kernel's accounting): the rest of a frame
             * must follow, so wait for the peer to read, up to 5 s; a peer that reads
             * nothing for that long loses this channel: our side ends here (the end is its
             * TURN) and what follows goes through the node. */
            struct pollfd pf = {ch->fd, POLLOUT, 0};
            if (poll(&pf, 1, 5000) == 0) {
                note(c, "ended", (unsigned long long)ch->id,
                     "the peer read nothing for 5 s in the middle of a frame");
                ch->out.len = ch->out_off = 0;
                ch->path_chan = 0;
                ask_close(c, ch);
                finish_out(c, ch); /* shut down, END on the node stream */
                return ROSTER_ENOPROC;
            }
            continue;
        }
        peer_gone_on_write(c, ch);
        return ROSTER_ENOPROC;
    }
    return 0;
}

static void turn(roster_client *c, struct rs_cchan *ch)
{
    struct rs_msg t;
    memset(&t, 0, sizeof t);
    t.type = RS_MSG_CHANNEL_MARK;
    rs_msg_channel_mark_kind_set(&t, RS_CHAN_MARK_TURN);
    struct rs_buf e;
    rs_buf_init(&e);
    if (rs_wire_encode(&e, &t) == 0)
        raw_write(c, ch, e.data, e.len);
    else
        c->chan_lost++;
    rs_buf_fini(&e);
    ch->path_chan = 0;
}

/* to_node sends the batch through the node (after a TURN on the channel): the channel
 * cannot take it now. */
static void to_node(roster_client *c, struct rs_cchan *ch)
{
    if (ch->path_chan && !ch->ended_out)
        turn(c, ch);
    const uint8_t *f;
    struct rs_msg q;
    while (take_front(c, &ch->out, &ch->out_off, &q, &f)) {
        if (q.type != RS_MSG_MESSAGE || rs_msg_message_kind(&q) != RS_MSGK_SEND)
            continue; /* only sends are batched */
        struct rs_msg snd;
        memset(&snd, 0, sizeof snd);
        snd.type = RS_MSG_SEND;
        rs_msg_send_from_set(&snd, rs_msg_message_from(&q).serial);
        snd.pid.inc = c->node_inc;
        snd.pid.serial = rs_msg_message_to(&q);
        rs_msg_send_payload_set(&snd, rs_msg_message_payload(&q));
        queue_node(c, &snd);
        c->chan_overflow++;
    }
    ch->out.len = ch->out_off = 0;
}

/* chan_write writes ch's batch whole, or sends it through the node when the channel
 * cannot take it now (nothing waits in the library for a receiver that does not read);
 * 0, or ROSTER_ENOPROC when the peer is gone. */
/* room: fits(), or, for a blocking send, fits() within CHAN_GRACE_MS. A receiver that is
 * only a little behind (it reads, the buffer is full) is then waited for here, like the
 * node's flow control would hold the sender, instead of the switch to the node and back
 * (TURN, START, the batch rewritten as node sends: about 20% of a 1 -> 1 stream went that
 * way, measured). A grace that runs out marks the channel stalled: later sends turn to the
 * node at once until the peer has read (nothing waits long for a receiver that does not
 * read). The socket says POLLOUT only below a quarter of its buffer, so the room is
 * checked every millisecond. */
static int room(struct rs_cchan *ch, size_t n)
{
    if (fits(ch, n)) {
        ch->stalled = 0;
        return 1;
    }
    if (!ch->grace || ch->stalled)
        return 0;
    int64_t until = rs_client_now_ms() + CHAN_GRACE_MS;
    do {
        struct pollfd pf = {ch->fd, POLLOUT, 0};
        (void)poll(&pf, 1, 1);
        if (pf.revents & (POLLERR | POLLHUP))
            return 0;
        if (fits(ch, n))
            return 1;
    } while (rs_client_now_ms() < until);
    ch->stalled = 1;
    return 0;
}

static int chan_write(roster_client *c, struct rs_cchan *ch)
{
    if (ch->fd >= 0 && !ch->ended_out && ch->out_off < ch->out.len) {
        size_t n = ch->out.len - ch->out_off;
        if (room(ch, n)) {
            if (raw_write(c, ch, ch->out.data + ch->out_off, n) != 0)
                return ROSTER_ENOPROC;
        } else {
            to_node(c, ch);
        }
    }
    ch->out.len = ch->out_off = 0;
    if (ch->gone)
        return ROSTER_ENOPROC;
    if (ch->closing && !ch->ended_out)
        finish_out(c, ch);
    return 0;
}

/* finish_out ends our side once everything queued on it is written: shut down, END. */
static void finish_out(roster_client *c, struct rs_cchan *ch)
{
    if (ch->ended_out || ch->out_off < ch->out.len)
        return;
    if (ch->fd >= 0)
        shutdown(ch->fd, SHUT_WR);
    ch->ended_out = 1;
    drop_routes(c, ch);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CHANNEL_MARK;
    rs_msg_channel_mark_kind_set(&m, RS_CHAN_MARK_END);
    rs_msg_channel_mark_id_set(&m, ch->id);
    queue_node(c, &m);
    rs_client_write(c);
}

/* ---- frames from the node --------------------------------------------------------------- */

static int take_fd(roster_client *c)
{
    if (!c->n_chan_fds)
        return -1;
    int fd = c->chan_fds[0];
    memmove(c->chan_fds, c->chan_fds + 1, --c->n_chan_fds * sizeof *c->chan_fds);
    return fd;
}

void rs_client_chan_take_fd(roster_client *c, int fd)
{
    if (!c->chan_want || c->n_chan_fds == RS_CLIENT_CHAN_FDS) {
        close(fd);
        return;
    }
    c->chan_fds[c->n_chan_fds++] = fd;
}

static void add_route(roster_client *c, struct rs_cchan *ch, struct rs_pid pid)
{
    if (pid.inc != c->node_inc || !pid.serial || ch->bad || ch->closing || ch->ended_out)
        return;
    if (!c->chan_routes) {
        c->chan_routes = rs_malloc(sizeof *c->chan_routes);
        if (!c->chan_routes)
            return;
        memset(c->chan_routes, 0, sizeof *c->chan_routes);
    }
    void **v = map_find(c->chan_routes, pid.serial);
    if (v) {
        *v = ch; /* the peer's newer channel (the old one is closing) */
        return;
    }
    if (ch->n_routes >= CHAN_ROUTES_MAX) {
        /* too many pids behind one channel: renew it (a new one starts with no routes) */
        ask_close(c, ch);
        begin_close(c, ch);
        return;
    }
    if (map_put(c->chan_routes, pid.serial, ch, 1) == 0)
        ch->n_routes++;
}

static void on_channel(roster_client *c, const struct rs_msg *m)
{
    uint64_t id = rs_msg_channel_id(m);
    struct rs_cchan *ch = chan_by_id(c, id);
    if (!(rs_msg_channel_flags(m) & RS_CHAN_NEW)) {
        if (ch) {
            vouch(c, ch, rs_msg_channel_route(m));
            add_route(c, ch, rs_msg_channel_route(m));
        }
        return;
    }
    int fd = take_fd(c);
    if (ch || c->n_chans == c->cap_chans) {
        size_t cap = c->cap_chans ? c->cap_chans * 2 : 8;
        struct rs_cchan **v = ch ? NULL : rs_realloc(c->chans, cap * sizeof *v);
        if (!v) {
            if (fd >= 0)
                close(fd);
            c->chan_lost++;
            return; /* a second NEW for one id, or no memory: stay relayed */
        }
        c->chans = v;
        c->cap_chans = (uint32_t)cap;
    }
    ch = rs_malloc(sizeof *ch);
    if (!ch) {
        if (fd >= 0)
            close(fd);
        return;
    }
    memset(ch, 0, sizeof *ch);
    ch->id = id;
    ch->fd = fd;
    rs_buf_init(&ch->out);
    rs_buf_init(&ch->parked);
    rs_wire_reader_init(&ch->in, c->frame_max, RS_CLIENT_IN_KEEP);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        /* no end, or the node's placeholder (it could not make a pair): give it up */
        ch->bad = 1;
        ch->closing = 1;
        if (fd >= 0)
            close(fd);
        ch->fd = -1;
        note(c, "given up", (unsigned long long)id,
             fd < 0 ? "its end did not arrive" : "the node could not make it");
        ask_close(c, ch);
    } else {
        socklen_t sl = sizeof ch->sndbuf;
        if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &ch->sndbuf, &sl) != 0)
            ch->sndbuf = 0; /* fits() then says no: everything goes through the node */
    }
    if (ch->fd >= 0 && c->epfd >= 0) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    c->chans[c->n_chans++] = ch;
    c->chan_opened++;
    vouch(c, ch, rs_msg_channel_route(m));
    add_route(c, ch, rs_msg_channel_route(m));
}

/* begin_close: the node asked (or the peer ended): our later messages to the peer go
 * through the node; our side ends (the end is our TURN) once the batch is out. */
static void begin_close(roster_client *c, struct rs_cchan *ch)
{
    if (ch->closing)
        return;
    ch->closing = 1;
    drop_routes(c, ch);
    ch->path_chan = 0;
    if (chan_write(c, ch) == 0)
        finish_out(c, ch);
}

static void on_mark(roster_client *c, const uint8_t *p, size_t n, const struct rs_msg *m)
{
    struct rs_cchan *ch = chan_by_id(c, rs_msg_channel_mark_id(m));
    if (!ch)
        return;
    /* START and END are the peer's node-side frames: in turn with its tagged messages */
    if (rs_buf_append(&ch->held, p, n) != 0) {
        c->chan_lost++;
        return;
    }
    c->chan_held += n;
    if (!ch->turn_chan)
        advance(c, ch);
    if (ch->turn_chan)
        chan_read(c, ch, 0);
    if (ch->ended_in) {
        begin_close(c, ch);
        maybe_free(c, ch);
    }
}

static void on_close(roster_client *c, const struct rs_msg *m)
{
    struct rs_cchan *ch = chan_by_id(c, rs_msg_channel_close_id(m));
    if (!ch)
        return;
    if (rs_msg_channel_close_reason(m) == RS_CHAN_CLOSE_GONE) {
        /* the peer is gone: take what it wrote before it went, then let the channel go */
        ch->gone = 1;
        chan_read(c, ch, 1);
        flush_all(c, ch);
        ch->ended_in = ch->ended_out = 1;
        chan_free(c, ch);
        return;
    }
    begin_close(c, ch);
    maybe_free(c, ch);
}

static void on_node_reply(roster_client *c, const struct rs_msg *m)
{
    uint64_t ref = rs_msg_channel_reply_ref(m);
    struct rs_pid caller = rs_msg_channel_reply_caller(m);
    if (c->ccall_ref != ref || c->ccall_done || caller.serial != c->ccall_from)
        return;
    struct rs_bytes pl = rs_msg_channel_reply_payload(m);
    c->ccall_done = 1;
    c->ccall_status = rs_client_copy_buf(&c->ccall_reply, pl.ptr, pl.len);
}

int rs_client_chan_dispatch(roster_client *c, const uint8_t *p, size_t n, const struct rs_msg *m)
{
    switch (m->type) {
    case RS_MSG_CHANNEL:
        on_channel(c, m);
        return 1;
    case RS_MSG_CHANNEL_MARK:
        on_mark(c, p, n, m);
        return 1;
    case RS_MSG_CHANNEL_CLOSE:
        on_close(c, m);
        return 1;
    case RS_MSG_CHANNEL_REPLY:
        on_node_reply(c, m);
        return 1;
    default:
        return 0;
    }
}

/* ---- polling ------------------------------------------------------------------------------ */

size_t rs_client_chan_pollfds(roster_client *c, struct pollfd *p, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < c->n_chans && n < cap; i++) {
        struct rs_cchan *ch = c->chans[i];
        if (ch->fd < 0)
            continue;
        short ev = 0;
        if (!ch->eof && room_for_input(c))
            ev |= POLLIN;
        if (!ev)
            continue;
        p[n].fd = ch->fd;
        p[n].events = ev;
        p[n].revents = 0;
        n++;
    }
    return n;
}

void rs_client_chan_pump(roster_client *c)
{
    for (uint32_t i = 0; i < c->n_chans;) {
        struct rs_cchan *ch = c->chans[i];
        uint32_t before = c->n_chans;
        if (ch->out_off < ch->out.len)
            chan_write(c, ch);
        if (c->n_chans == before && c->chans[i] == ch) {
            chan_read(c, ch, 0);
            if (ch->closing)
                finish_out(c, ch);
        }
        if (c->n_chans == before && c->chans[i] == ch) {
            if (ch->ended_in && ch->ended_out) {
                chan_free(c, ch);
                continue;
            }
            i++;
        }
    }
}

int rs_client_chan_out_empty(const roster_client *c)
{
    for (uint32_t i = 0; i < c->n_chans; i++)
        if (c->chans[i]->out_off < c->chans[i]->out.len)
            return 0;
    return 1;
}

void rs_client_chan_reset(roster_client *c)
{
    while (c->n_chans)
        chan_free(c, c->chans[c->n_chans - 1]);
    rs_free(c->chans);
    c->chans = NULL;
    c->cap_chans = 0;
    if (c->chan_routes) {
        map_fini(c->chan_routes);
        rs_free(c->chan_routes);
        c->chan_routes = NULL;
    }
    while (c->n_chan_fds)
        close(take_fd(c));
    c->chan_parked = c->chan_held = 0;
}

/* ---- sending ------------------------------------------------------------------------------ */

/* route_of returns the channel a message to `to` takes, or NULL. */
static struct rs_cchan *route_of(roster_client *c, struct rs_pid to)
{
    if (!c->chan_routes || to.inc != c->node_inc)
        return NULL;
    void **v = map_find(c->chan_routes, to.serial);
    if (!v)
        return NULL;
    struct rs_cchan *ch = (struct rs_cchan *)*v;
    if (ch->fd < 0 || ch->bad || ch->closing || ch->ended_out || ch->gone)
        return NULL;
    return ch;
}

/* start: our next frames to the peer go on ch; the START marker on the node socket,
 * behind everything sent the peer through the node, gives the channel its turn there. */
static void start(roster_client *c, struct rs_cchan *ch, struct rs_pid to)
{
    if (ch->path_chan)
        return;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CHANNEL_MARK;
    rs_msg_channel_mark_kind_set(&m, RS_CHAN_MARK_START);
    rs_msg_channel_mark_id_set(&m, ch->id);
    rs_msg_channel_mark_to_set(&m, to);
    queue_node(c, &m);
    ch->path_chan = 1;
    rs_client_write(c); /* the peer takes nothing of the channel before it */
}

void rs_client_chan_node_path(roster_client *c)
{
    /* A message about to go through the node may reach a peer we were writing to on a
     * channel (a publish, a name, a pid without a route yet): the batch goes first, then
     * a TURN makes the peer take the node's message after what came on the channel. */
    for (uint32_t i = 0; i < c->n_chans; i++) {
        struct rs_cchan *ch = c->chans[i];
        if (!ch->path_chan || ch->fd < 0 || ch->ended_out)
            continue;
        if (chan_write(c, ch) == 0 && ch->path_chan)
            turn(c, ch);
    }
}

void rs_client_chan_flush(roster_client *c)
{
    for (uint32_t i = 0; i < c->n_chans; i++)
        if (c->chans[i]->out_off < c->chans[i]->out.len)
            chan_write(c, c->chans[i]);
}

/* put sends frame m on ch: batched (NOFLUSH) or written now; 0 when it went (or went
 * through the node with the batch), 1 when it must go through the node itself (too big, or
 * the channel full: the node's mailbox and flow control take over), ROSTER_ENOPROC when
 * the peer is gone, ENOMEM. */
static int put(roster_client *c, struct rs_cchan *ch, const struct rs_msg *m, int flush,
               struct rs_pid to)
{
    size_t need = rs_wire_size(m);
    if (need > CHAN_RECORD)
        return 1;
    if (m->type != RS_MSG_MESSAGE || rs_msg_message_kind(m) != RS_MSGK_SEND) {
        /* a call or a reply is never batched (a batch the channel cannot take goes
         * through the node as sends): the batch first, then it alone, now or never */
        if (chan_write(c, ch) != 0)
            return ROSTER_ENOPROC;
        if (ch->ended_out || !fits(ch, need))
            return 1;
        if (m->type == RS_MSG_MESSAGE)
            start(c, ch, to);
        struct rs_buf e;
        rs_buf_init(&e);
        int r = rs_wire_encode(&e, m) == 0 ? raw_write(c, ch, e.data, e.len) : ROSTER_ENOMEM;
        rs_buf_fini(&e);
        if (r == 0)
            c->chan_sent++;
        return r;
    }
    if (ch->out.len - ch->out_off + need > CHAN_RECORD && chan_write(c, ch) != 0)
        return ROSTER_ENOPROC;
    if (ch->ended_out || ch->gone)
        return 1;
    if (!ch->path_chan || ch->out.len == ch->out_off) {
        /* nothing batched: it goes now or through the node */
        if (!room(ch, need)) {
            c->chan_overflow++;
            return 1;
        }
    }
    start(c, ch, to);
    if (rs_wire_encode(&ch->out, m) != 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory queuing the message");
    c->chan_sent++;
    if (!flush && ch->out.len - ch->out_off < RS_CLIENT_CHUNK)
        return 0;
    return chan_write(c, ch);
}

static void message(roster_client *c, struct rs_msg *m, uint32_t kind, uint64_t from,
                    struct rs_pid to, uint64_t ref, const void *data, size_t len)
{
    memset(m, 0, sizeof *m);
    m->type = RS_MSG_MESSAGE;
    rs_msg_message_kind_set(m, kind);
    rs_msg_message_to_set(m, to.serial);
    rs_msg_message_call_ref_set(m, ref);
    rs_msg_message_from_set(m, (struct rs_pid){c->node_inc, from});
    rs_msg_message_from_node_set(m, rs_bytes_of(c->node_name, strlen(c->node_name)));
    rs_msg_message_payload_set(m, rs_bytes_of(data, len));
}

int rs_client_chan_send(roster_client *c, uint64_t from, struct rs_pid to, const void *data,
                        size_t len, unsigned flags, int timeout_ms, int *rc)
{
    struct rs_cchan *ch = route_of(c, to);
    if (!ch || c->drop_messages || (flags & ROSTER_SEND_DROP))
        return 0; /* dropping is the node's (counted in its STATUS) */
    if (!map_find(&ch->mine, from))
        return 0; /* the peer does not know this pid of ours yet: the node tells it */
    int confirm = (flags & ROSTER_SEND_CONFIRM) != 0;
    if (confirm) {
        /* "delivered to a live pid": the node says whether it is alive, then we write */
        struct rs_msg q;
        memset(&q, 0, sizeof q);
        q.type = RS_MSG_OWNER;
        q.pid = to;
        struct rs_req req;
        memset(&req, 0, sizeof req);
        int r = rs_client_request(c, &q, &req, timeout_ms);
        if (r == ROSTER_ENOPROC) {
            *rc = rs_client_fail(c, r, "target pid is not alive");
            return 1;
        }
        if (r == ROSTER_ETIMEDOUT || r == ROSTER_ECLOSED) {
            *rc = r;
            return 1;
        }
        if (!(ch = route_of(c, to)))
            return 0;
    }
    struct rs_msg m;
    message(c, &m, RS_MSGK_SEND, from, to, 0, data, len);
    ch->grace = timeout_ms != 0;
    int r = put(c, ch, &m, !(flags & ROSTER_SEND_NOFLUSH), to);
    ch->grace = 0;
    if (r == 1)
        return 0; /* through the node: too big, or the receiver is behind */
    if (r == ROSTER_ENOPROC) /* its client went away: a send to a dead pid */
        *rc = confirm ? rs_client_fail(c, r, "target pid is not alive (its client is gone)") : 0;
    else
        *rc = r;
    return 1;
}

void rs_client_chan_via_node(roster_client *c, uint64_t from, struct rs_pid to)
{
    struct rs_cchan *ch = route_of(c, to);
    if (ch && !map_find(&ch->mine, from))
        (void)map_put(&ch->mine, from, NULL, 0); /* out of memory: it keeps the node path */
}

/* new_ref: a channel call's ref. A reply may come back through the node (CHANNEL_REPLY),
 * which any client could send naming us: refs are drawn from a random sequence so that
 * only the callee, who saw the ref, can answer it. */
static uint64_t new_ref(roster_client *c)
{
    if (!c->ccall_next && getrandom(&c->ccall_next, sizeof c->ccall_next, 0) !=
                              (ssize_t)sizeof c->ccall_next)
        c->ccall_next = (uint64_t)rs_client_now_ms() * 0x9E3779B97F4A7C15ull;
    uint64_t z = (c->ccall_next += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    z |= RS_CHAN_REF_BIT;
    return z == RS_CHAN_REF_BIT ? RS_CHAN_REF_BIT | 1 : z;
}

static int call_done(roster_client *c, void *arg)
{
    (void)arg;
    return c->ccall_done;
}

int rs_client_chan_call(roster_client *c, uint64_t from, struct rs_pid to, const void *data,
                        size_t len, roster_buf *reply, roster_pid *responder, int timeout_ms,
                        int *rc)
{
    struct rs_cchan *ch = route_of(c, to);
    if (!ch || !map_find(&ch->mine, from))
        return 0; /* no channel, or the peer does not know this pid of ours yet */
    int64_t deadline = rs_client_deadline(timeout_ms);
    uint64_t ref = new_ref(c);
    struct rs_msg m;
    message(c, &m, RS_MSGK_CALL, from, to, ref, data, len);
    c->ccall_ref = ref;
    c->ccall_from = from;
    c->ccall_chan = ch->id;
    c->ccall_done = 0;
    c->ccall_status = 0;
    memset(&c->ccall_reply, 0, sizeof c->ccall_reply);
    int r = put(c, ch, &m, 1, to);
    if (r) {
        c->ccall_ref = 0;
        if (r == 1)
            return 0; /* through the node */
        *rc = r == ROSTER_ENOPROC ? rs_client_fail(c, r, "target pid is not alive (its "
                                                          "client is gone)")
                                  : r;
        return 1;
    }
    r = rs_client_wait(c, call_done, NULL, deadline);
    c->ccall_ref = 0; /* from here a reply to it is late: dropped */
    if (r == 0 && c->ccall_status) {
        roster_buf_free(&c->ccall_reply);
        r = c->ccall_status == ROSTER_ENOPROC
                ? rs_client_fail(c, ROSTER_ENOPROC, "target pid is not alive (its client is "
                                                    "gone)")
                : rs_client_fail(c, c->ccall_status, "out of memory for the reply");
        *rc = r;
        return 1;
    }
    if (r == ROSTER_ETIMEDOUT)
        r = rs_client_fail(c, r, "no reply within %d ms", timeout_ms);
    if (r) {
        roster_buf_free(&c->ccall_reply);
        *rc = r;
        return 1;
    }
    if (!c->ccall_reply.data && (r = rs_client_copy_buf(&c->ccall_reply, NULL, 0)))
        return (*rc = rs_client_fail(c, r, "out of memory for the reply")), 1;
    *reply = c->ccall_reply;
    memset(&c->ccall_reply, 0, sizeof c->ccall_reply);
    if (responder)
        *responder = (roster_pid){to.inc, to.serial};
    *rc = 0;
    return 1;
}

int rs_client_chan_reply(roster_client *c, const roster_event *request, const void *data,
                         size_t len, int timeout_ms)
{
    struct rs_pid caller = {request->pid.node_inc, request->pid.serial};
    struct rs_cchan *ch = route_of(c, caller);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    if (ch) {
        m.type = RS_MSG_REPLY;
        rs_msg_reply_call_ref_set(&m, request->call_ref);
        rs_msg_reply_payload_set(&m, rs_bytes_of(data, len));
        int r = put(c, ch, &m, 1, caller);
        if (r != 1)
            return r == ROSTER_ENOPROC ? 0 : r; /* a gone caller: its reply is dropped */
    }
    /* no usable channel (closed since, or never routed): the node relays it */
    m.type = RS_MSG_CHANNEL_REPLY;
    rs_msg_channel_reply_ref_set(&m, request->call_ref);
    rs_msg_channel_reply_caller_set(&m, caller);
    rs_msg_channel_reply_payload_set(&m, rs_bytes_of(data, len));
    queue_node(c, &m);
    return rs_client_out_drain(c, rs_client_deadline(timeout_ms), 0);
}

void rs_client_chan_handover(roster_client *c)
{
    for (uint32_t i = 0; i < c->n_chans; i++) {
        struct rs_cchan *ch = c->chans[i];
        if (ch->fd < 0 || ch->ended_out || ch->gone)
            continue;
        /* the batch (written, or through the node), then our end: the end is our TURN,
         * END follows on the node stream */
        if (chan_write(c, ch) != 0 || ch->ended_out)
            continue;
        ch->path_chan = 0;
        finish_out(c, ch);
    }
}

int rs_client_chan_fd_of(const roster_client *c, unsigned i)
{
    return i < c->n_chans ? c->chans[i]->fd : -1;
}

/* ---- the public calls ------------------------------------------------------------------- */

int roster_channel_open(roster_client *c, roster_pid to, int timeout_ms)
{
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (!c->chan_want)
        return rs_client_fail(c, ROSTER_ENOCHANNEL, "this client does not take channels "
                              "(options.no_channels or ROSTER_NO_CHANNELS)");
    if (route_of(c, (struct rs_pid){to.node_inc, to.serial}))
        return 0;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CHANNEL_OPEN;
    rs_msg_channel_open_to_set(&m, (struct rs_pid){to.node_inc, to.serial});
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}

int roster_channel_stats(const roster_client *c, roster_channel_info *st)
{
    if (!c || !st)
        return ROSTER_EINVAL;
    memset(st, 0, sizeof *st);
    st->open = c->n_chans;
    st->opened = c->chan_opened;
    st->closed = c->chan_closed;
    st->sent = c->chan_sent;
    st->received = c->chan_received;
    st->via_node = c->chan_overflow;
    st->malformed = c->chan_malformed;
    st->routes = c->chan_routes ? c->chan_routes->n : 0;
    snprintf(st->last_error, sizeof st->last_error, "%s", c->chan_last);
    return 0;
}
