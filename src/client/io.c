/* io.c: the client's socket I/O: non-blocking writes of the out buffer, 64 KiB reads into
 * the frame reader (src/wire/reader.h), dispatching whole frames (answers to the blocking call,
 * pipelined answers, events), and the poll loop with a deadline behind every blocking call. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "client/client.h"
#include "wire/chan.h"

int64_t rs_client_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rs_client_deadline(int timeout_ms)
{
    if (timeout_ms < 0)
        return -1;
    return rs_client_now_ms() + timeout_ms;
}

static int read_once(roster_client *c, int *full);

int rs_client_write(roster_client *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->sock, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        int e = n < 0 ? errno : EPIPE;
        /* The node may have said why before closing (a "node full" HELLO): read it first,
         * the first reason recorded wins. */
        while (!c->dead && read_once(c, NULL) > 0) {
        }
        char eb[128];
        rs_client_lose(c, ROSTER_ECLOSED, "write to the node failed: %s",
                       rs_client_errstr(e, eb, sizeof eb));
        return c->dead_err;
    }
    c->out.len = c->out_off = 0;
    return 0;
}

/* dispatch routes one whole frame. Views in the decoded message point into the in buffer
 * and are copied by the receivers before the buffer moves. */
static void dispatch(roster_client *c, const uint8_t *p, size_t n)
{
    struct rs_msg m;
    int r = rs_wire_decode(p, n, &c->dec, &m);
    if (r != RS_WIRE_OK) {
        rs_client_lose(c, ROSTER_EPROTO, "malformed frame from the node: %s",
                       rs_wire_strerror(r));
        return;
    }
    if (m.type == RS_MSG_EVENT || (m.type == RS_MSG_MESSAGE && m.flags == 0)) {
        if (m.type == RS_MSG_MESSAGE &&
            (m.prev.len % 8 != 0 || m.prev.len / 8 >= RS_MSG_TARGETS_MAX)) {
            rs_client_lose(c, ROSTER_EPROTO, "malformed MESSAGE from the node: a receiver "
                           "list of %zu bytes", (size_t)m.prev.len);
            return;
        }
        /* Messages and pipelined answers have frames of their own: an EVENT claiming to be
         * one would be handed out without its fields (no receivers, no request id). */
        unsigned kind = m.opts & 0xffu;
        if (m.type == RS_MSG_EVENT && (kind == ROSTER_EV_MESSAGE || kind == ROSTER_EV_REPLY)) {
            rs_client_lose(c, ROSTER_EPROTO, "malformed EVENT from the node: kind %u (%s)",
                           kind, roster_event_type_name((int)kind));
            return;
        }
        /* a message of a client we have a channel with: in turn with the channel */
        if (m.type == RS_MSG_MESSAGE && (m.opts >> RS_CHAN_TAG_SHIFT) && c->n_chans &&
            rs_client_chan_node_msg(c, p, n, &m))
            return;
        rs_client_evq_push(c, p, n, &m);
        return;
    }
    if (m.flags == 0 && m.req_id == 0 && rs_client_chan_dispatch(c, p, n, &m))
        return; /* direct channels (chan.c) */
    if (m.flags == 0) {
        rs_client_lose(c, ROSTER_EPROTO, "the node sent a request frame (type %u)", m.type);
        return;
    }
    if (m.req_id == 0) {
        /* Unsolicited answer: only the HELLO refusal of a full node exists. */
        if (m.type == RS_MSG_HELLO && (m.flags & RS_F_REPLY))
            rs_client_lose(c, m.status < 0 ? m.status : ROSTER_EBUSY, "%.*s", (int)m.prev.len,
                           m.prev.ptr ? (const char *)m.prev.ptr : "");
        return;
    }
    if ((m.req_id & RS_CLIENT_LONG_BITS) == RS_CLIENT_LONG_BITS) {
        /* a campaign's answer, however late and whatever else is in flight */
        if (m.flags & RS_F_REPLY)
            rs_client_evq_push(c, p, n, NULL);
        return;
    }
    if (m.req_id & RS_CLIENT_INTERNAL_BIT) {
        if (m.flags & RS_F_REPLY)
            rs_client_evq_internal_reply(c, m.req_id);
        return;
    }
    if (m.req_id & RS_CLIENT_ASYNC_BIT) {
        if (!(m.flags & RS_F_REPLY))
            return;
        if (c->async_pending)
            c->async_pending--;
        if (c->collecting) {
            if (m.status != 0)
                c->async_failed++;
        } else {
            rs_client_evq_push(c, p, n, NULL);
        }
        return;
    }
    struct rs_req *call = c->req;
    int in_batch = c->batch_n && m.req_id - c->batch_base < c->batch_n;
    if (in_batch)
        call = &c->batch[m.req_id - c->batch_base];
    if (!call || call->req_id != m.req_id || call->done)
        return; /* answer of an abandoned call */
    if (m.flags & RS_F_ITEM) {
        if (call->on_item && call->err == 0)
            call->err = call->on_item(call, &m);
        return;
    }
    call->done = 1;
    c->batch_done += in_batch;
    call->status = m.status;
    call->opts = m.opts;
    call->arg = m.arg;
    call->arg2 = m.arg2;
    call->pid = m.pid;
    rs_client_copy_str(call->node, sizeof call->node, m.node);
    if (call->want_meta && (m.status == 0 || call->want_meta == 2) && call->err == 0)
        call->err = rs_client_copy_buf(&call->meta, m.meta.ptr, m.meta.len);
    if (call->want_prev && m.status == 0 && call->err == 0)
        call->err = rs_client_copy_buf(&call->prev, m.prev.ptr, m.prev.len);
    if (m.status != 0)
        rs_client_copy_str(c->detail, sizeof c->detail, m.prev);
}

static void parse(roster_client *c)
{
    while (!c->dead) {
        const uint8_t *f;
        size_t fl;
        int r = rs_wire_reader_next(&c->in, &f, &fl);
        if (r == RS_WIRE_NEED_MORE)
            break;
        if (r != RS_WIRE_OK) {
            rs_client_lose(c, ROSTER_EPROTO, "bad frame from the node: %s", rs_wire_strerror(r));
            break;
        }
        dispatch(c, f, fl);
    }
}

/* read_once does one non-blocking recv of up to a chunk (or the rest of a big frame) and
 * dispatches the whole frames. Returns bytes read (> 0), 0 if nothing was there, or an
 * error; *full (if not NULL) says whether the recv filled the room it had (more may be
 * waiting). */
static int read_once(roster_client *c, int *full)
{
    char eb[128];
    uint8_t *room;
    size_t cap;
    int e = rs_wire_reader_room(&c->in, RS_CLIENT_CHUNK, &room, &cap);
    if (e == RS_WIRE_READER_E_NOMEM)
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory for the read buffer");
    if (e != 0) { /* a frame parse() already refused: the connection is lost */
        rs_client_lose(c, ROSTER_EPROTO, "bad frame from the node: %s", rs_wire_strerror(e));
        return c->dead_err;
    }
    for (;;) {
        ssize_t n = rs_client_recv(c, room, cap);
        if (n > 0) {
            if (full)
                *full = (size_t)n == cap;
            rs_wire_reader_commit(&c->in, (size_t)n);
            parse(c);
            return (int)(n > 0x7fffffff ? 0x7fffffff : n);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        rs_client_lose(c, ROSTER_ECLOSED, "the node closed the connection%s%s",
                       n < 0 ? ": " : "", n < 0 ? rs_client_errstr(errno, eb, sizeof eb) : "");
        return ROSTER_ECLOSED;
    }
}

/* read_burst reads what is waiting: chunk after chunk while each recv fills its room, at
 * most 64 chunks so a flood cannot pin us here. A reader that keeps up pays one recv; one
 * that falls behind moves the backlog into its own queue (bounded by event_queue_bytes) in
 * one go, which keeps the node's mailbox for it short. Returns like read_once. */
static int read_burst(roster_client *c)
{
    int r = 0, full = 1;
    for (int i = 0; i < 64 && full && !c->dead; i++) {
        full = 0;
        int k = read_once(c, &full);
        if (k < 0)
            return k;
        if (k == 0)
            break;
        r = k;
    }
    return r;
}

int rs_client_pump(roster_client *c)
{
    if (c->dead)
        return c->dead_err;
    int r = rs_client_write(c);
    if (r)
        return r;
    r = read_burst(c);
    if (r < 0)
        return r;
    if (c->n_chans)
        rs_client_chan_pump(c);
    return c->dead ? c->dead_err : 0;
}

int rs_client_wait(roster_client *c, int (*done)(roster_client *, void *), void *arg,
                   int64_t deadline)
{
    char eb[128];
    for (;;) {
        if (c->n_chans && !c->dead)
            rs_client_chan_flush(c); /* batched sends: a call that waits writes them */
        if (!c->dead && c->out_off < c->out.len)
            rs_client_write(c);
        if (done(c, arg))
            return 0;
        if (c->dead)
            return c->dead_err;
        int tmo = -1;
        if (deadline >= 0) {
            int64_t left = deadline - rs_client_now_ms();
            tmo = left <= 0 ? 0 : (left > 0x7fffffff ? 0x7fffffff : (int)left);
        }
        struct pollfd pv[1 + RS_CLIENT_POLL_CHANS];
        pv[0] = (struct pollfd){c->sock, POLLIN, 0};
        if (c->out_off < c->out.len)
            pv[0].events |= POLLOUT;
        size_t nch = c->n_chans ? rs_client_chan_pollfds(c, pv + 1, RS_CLIENT_POLL_CHANS) : 0;
        int pr = poll(pv, 1 + nch, tmo);
        struct pollfd p = pv[0];
        if (pr > 0 && nch) {
            for (size_t i = 0; i < nch; i++)
                if (pv[1 + i].revents) {
                    rs_client_chan_pump(c);
                    break;
                }
        }
        if (pr < 0 && errno != EINTR)
            return rs_client_fail(c, ROSTER_EIO, "poll: %s",
                                  rs_client_errstr(errno, eb, sizeof eb));
        if (pr > 0) {
            if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
                int r = read_burst(c);
                if (r < 0 && !c->dead)
                    return r; /* ENOMEM */
            }
            if ((p.revents & POLLOUT) && !c->dead)
                rs_client_write(c);
        }
        if (done(c, arg))
            return 0;
        if (c->dead)
            return c->dead_err;
        if (deadline >= 0 && rs_client_now_ms() >= deadline)
            return ROSTER_ETIMEDOUT;
    }
}

int rs_client_out_below(roster_client *c, void *arg)
{
    return c->out.len - c->out_off <= *(size_t *)arg;
}

int rs_client_out_drain(roster_client *c, int64_t deadline, int read_too)
{
    /* Reading matters when the node could not take all of our output (it may be waiting
     * for us to read); after a complete write of one small frame (a reply, a flushed send)
     * it would mostly be a recv that finds nothing, on the latency path. Such drains still
     * read every RS_CLIENT_READ_EVERY-th time, so that what the node sent keeps moving
     * into the library's queue. */
    int r = rs_client_write(c);
    if (r)
        return r;
    /* Flow control: past options.event_queue_bytes of untaken events a sender's drain
     * leaves the node's messages where they are (blocking waits still read). */
    int full = !c->drop_messages && c->evq.len - c->evq_off + c->chan_held >= c->evq_max;
    if (!full &&
        (read_too || c->out_off < c->out.len || ++c->drains_unread >= RS_CLIENT_READ_EVERY)) {
        c->drains_unread = 0;
        if ((r = read_burst(c)) < 0)
            return r;
        if (c->dead)
            return c->dead_err;
    }
    if (c->out.len - c->out_off > RS_CLIENT_OUT_HIGH) {
        size_t low = RS_CLIENT_OUT_HIGH / 2;
        if ((r = rs_client_wait(c, rs_client_out_below, &low, deadline)))
            return r;
    }
    if (c->out_off > 0 && c->out_off < c->out.len) {
        rs_buf_consume(&c->out, c->out_off);
        c->out_off = 0;
    }
    return 0;
}
