/* conn.c: client connections: accept, read and frame, write and flush accounting, close,
 * stall detection (see conn.h). This is the hot path: a read batch decodes and applies
 * every whole frame it holds, then performs the outputs once. */
#include "node/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/alloc.h"
#include "node/fair.h"
#include "node/log.h"
#include "node/peer.h"
#include "node/tls.h"

#define READ_CHUNK (64u * 1024u)
#define KEEP_BUF_MAX (256u * 1024u) /* larger idle output buffers are freed */

static int conn_eq(const void *item, const void *key)
{
    return ((const struct rs_conn *)item)->id == *(const uint64_t *)key;
}

static uint64_t conn_hash(uint64_t id) { return id * 0x9E3779B97F4A7C15ull; }

struct rs_conn *rs_conn_find(struct rsd *n, uint64_t id)
{
    return rs_map_get(&n->conns, conn_hash(id), &id, conn_eq);
}

static void oom(void)
{
    rs_log(RS_LOG_ERROR, "out of memory");
    abort();
}

static void on_close(uv_handle_t *h)
{
    struct rs_conn *c = (struct rs_conn *)h;
    rsd_chan_conn_fini(c);
    rs_free(c->peer);
    rs_wire_reader_fini(&c->rd);
    rs_buf_fini(&c->out);
    rs_buf_fini(&c->wbuf);
    rs_free(c);
}

void rs_conn_close(struct rs_conn *c, int level, const char *reason)
{
    struct rsd *n = c->node;
    if (c->closing)
        return;
    c->closing = 1;
    if (c->peer)
        rs_log(level, "peer conn %llu (%s): closed: %s", (unsigned long long)c->id,
               rs_peer_label(c), reason);
    else
        rs_log(level, "conn %llu (pid %d): closed: %s", (unsigned long long)c->id,
               (int)c->os_pid, reason);
    rs_list_del(&c->all_link);
    rs_list_del(&c->dirty_link);
    rs_list_del(&c->partial_link);
    rsd_fair_forget(c);
    rs_map_del_item(&n->conns, conn_hash(c->id), c);
    n->n_conns--;
    uv_read_stop(&c->h.stream);
    uv_close((uv_handle_t *)&c->h, on_close);
    if (c->peer) {
        rs_peer_closed(c);
        return;
    }
    struct rs_input in = {.kind = RS_IN_CLIENT_GONE, .now_ms = rsd_now(n), .conn = c->id};
    rsd_apply(n, &in);
}

void rs_conn_free_cb(uv_handle_t *h) { on_close(h); }

static void mark_dirty(struct rs_conn *c)
{
    if (!rs_linked(&c->dirty_link))
        rs_list_push(&c->node->dirty, &c->dirty_link);
}

void rs_conn_send(struct rs_conn *c, const uint8_t *p, size_t len)
{
    if (c->closing)
        return;
    struct rs_buf *plain = rs_peer_plain(c); /* a sealed peer link seals at flush time */
    if (rs_buf_append(plain ? plain : &c->out, p, len) != 0)
        oom();
    c->out_total += len;
    mark_dirty(c);
}

void rs_conn_send_raw(struct rs_conn *c, const uint8_t *p, size_t len)
{
    if (c->closing)
        return;
    if (len && rs_buf_append(&c->out, p, len) != 0)
        oom();
    mark_dirty(c);
}

void rs_conn_request_close(struct rs_conn *c, int level, const char *reason, size_t len)
{
    if (c->closing || c->close_requested)
        return;
    c->close_requested = 1;
    c->close_level = level;
    if (len >= sizeof c->close_reason)
        len = sizeof c->close_reason - 1;
    memcpy(c->close_reason, reason, len);
    c->close_reason[len] = 0;
    /* Nothing more is read from a conn on its way out. */
    uv_read_stop(&c->h.stream);
    rs_list_del(&c->partial_link);
    mark_dirty(c);
}

static void feed_flushed(struct rs_conn *c, size_t nbytes)
{
    if (c->peer && !rs_peer_flushed(c, &nbytes))
        return;
    struct rs_input in = {.kind = RS_IN_CLIENT_FLUSHED,
                          .now_ms = rsd_now(c->node),
                          .conn = c->id,
                          .n_bytes = nbytes};
    rsd_apply(c->node, &in);
}

static void trim(struct rs_buf *b)
{
    if (b->len == 0 && b->cap > KEEP_BUF_MAX) {
        rs_buf_fini(b);
        rs_buf_init(b);
    }
}

static void on_write(uv_write_t *req, int status)
{
    struct rs_conn *c = req->data;
    c->writing = 0;
    if (c->closing) /* the write was cancelled by uv_close; on_close frees */
        return;
    if (status < 0) {
        char why[96];
        snprintf(why, sizeof why, "write failed: %s", uv_strerror(status));
        rs_conn_close(c, RS_LOG_INFO, why);
    } else {
        c->wbuf.len = 0;
        trim(&c->wbuf);
        feed_flushed(c, c->wlen);
        struct rs_buf *plain = rs_peer_plain(c);
        if (c->out.len || c->close_requested || (plain && plain->len))
            mark_dirty(c);
    }
    rsd_perform(c->node);
}

void rs_conn_flush(struct rs_conn *c)
{
    if (c->closing)
        return;
    if (c->writing) {
        /* A write is stuck or under way: on_write continues, unless the conn must go (a
         * peer that does not read would otherwise hold it open). */
        if (c->close_requested)
            rs_conn_close(c, c->close_level, c->close_reason);
        return;
    }
    if (c->peer)
        rs_peer_seal_pending(c); /* what gathered since the last write: one record */
    size_t len = c->out.len;
    size_t done = 0;
    if (len && c->pass_shm) {
        /* The region's fd rides with the first bytes (the HELLO reply): nothing else of
         * this conn is written before them. */
        ssize_t r = rsd_shm_send(c, c->out.data, len);
        if (r < 0) {
            char why[96];
            snprintf(why, sizeof why, "write failed: %s", strerror((int)-r));
            rs_conn_close(c, RS_LOG_INFO, why);
            return;
        }
        /* Would block (a fresh socket's buffer is empty: not seen): the client goes without
         * the region and reads over the socket. */
        c->pass_shm = 0;
        done = (size_t)r;
    }
    /* Channel ends (chan.c) ride with the byte they were queued at: write up to the next
     * one (limit), send it with its bytes, and so on. */
    size_t limit = len;
    if (c->n_ends) {
        int r = rsd_chan_write(c, &done, &limit);
        if (r < 0) {
            char why[96];
            snprintf(why, sizeof why, "write failed: %s", strerror(-r));
            rs_conn_close(c, RS_LOG_INFO, why);
            return;
        }
        if (r == 1 || (done == limit && limit < len)) {
            /* blocked at an end (the timer comes back), or an end was sent and another
             * waits further on: keep the rest, come back through the dirty list */
            if (done) {
                rs_buf_consume(&c->out, done);
                feed_flushed(c, done);
            }
            if (r == 0)
                mark_dirty(c);
            return;
        }
    }
    if (limit > done) {
        uv_buf_t b = uv_buf_init((char *)c->out.data + done, (unsigned)(limit - done));
        int r = uv_try_write(&c->h.stream, &b, 1);
        if (r >= 0) {
            done += (size_t)r;
        } else if (r != UV_EAGAIN && r != UV_ENOSYS) {
            char why[96];
            snprintf(why, sizeof why, "write failed: %s", uv_strerror(r));
            rs_conn_close(c, RS_LOG_INFO, why);
            return;
        }
    }
    if (done == len) {
        c->out.len = 0;
        trim(&c->out);
        if (done)
            feed_flushed(c, done);
        if (c->close_requested)
            rs_conn_close(c, c->close_level, c->close_reason);
        return;
    }
    if (c->close_requested) {
        /* The peer is not reading: what could not be written now is dropped. */
        rs_conn_close(c, c->close_level, c->close_reason);
        return;
    }
    if (limit < len) {
        /* An end waits further on: hand over only the bytes before it (copied), keep the
         * rest in out; on_write brings us back to it. */
        if (done == limit) {
            rs_buf_consume(&c->out, done);
            feed_flushed(c, done);
            mark_dirty(c);
            return;
        }
        c->wbuf.len = 0;
        if (rs_buf_append(&c->wbuf, c->out.data + done, limit - done) != 0)
            oom();
        rs_buf_consume(&c->out, limit);
        c->wlen = limit - done;
        uv_buf_t b = uv_buf_init((char *)c->wbuf.data, (unsigned)c->wlen);
        c->wreq.data = c;
        int r = uv_write(&c->wreq, &c->h.stream, &b, 1, on_write);
        if (done)
            feed_flushed(c, done);
        if (r < 0) {
            char why[96];
            snprintf(why, sizeof why, "write failed: %s", uv_strerror(r));
            rs_conn_close(c, RS_LOG_INFO, why);
            return;
        }
        c->writing = 1;
        return;
    }
    /* Hand the rest to uv_write from wbuf (owned until on_write); out takes new output. */
    struct rs_buf t = c->wbuf;
    c->wbuf = c->out;
    c->out = t;
    c->out.len = 0;
    c->wlen = len - done;
    uv_buf_t b = uv_buf_init((char *)c->wbuf.data + done, (unsigned)c->wlen);
    c->wreq.data = c;
    int r = uv_write(&c->wreq, &c->h.stream, &b, 1, on_write);
    if (done)
        feed_flushed(c, done);
    if (r < 0) {
        char why[96];
        snprintf(why, sizeof why, "write failed: %s", uv_strerror(r));
        rs_conn_close(c, RS_LOG_INFO, why);
        return;
    }
    c->writing = 1;
}

/* ---- read path ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct rs_conn *c = (struct rs_conn *)h;
    struct rsd *n = c->node;
    if (c->peer && c->peer->tls) {
        /* TLS records: read anywhere, they are fed to SSL at once (tls.c) */
        if (!n->scratch_busy) {
            n->scratch_busy = 1;
            *buf = uv_buf_init((char *)n->scratch, (unsigned)n->scratch_cap);
        } else {
            size_t cap;
            uint8_t *p = rs_tls_read_buf(c, &cap);
            *buf = uv_buf_init((char *)p, (unsigned)cap);
        }
        return;
    }
    if (rs_wire_reader_buffered(&c->rd) == 0 && !n->scratch_busy) {
        n->scratch_busy = 1;
        *buf = uv_buf_init((char *)n->scratch, (unsigned)n->scratch_cap);
        return;
    }
    /* Room for a chunk, or for the whole rest of the incomplete frame (its length was
     * judged when it was buffered). */
    uint8_t *p;
    size_t len;
    int r = rs_wire_reader_room(&c->rd, READ_CHUNK, &p, &len);
    if (r == RS_WIRE_READER_E_NOMEM)
        oom();
    if (r != 0) { /* not reached: process() stops reading at a refused frame */
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init((char *)p, (unsigned)len);
}

/* fail logs a bad-input close at warn and closes after what is already queued. */
static void fail(struct rs_conn *c, const char *what)
{
    char why[160];
    int len = snprintf(why, sizeof why, "bad frame: %s", what);
    if (len < 0)
        len = 0;
    if ((size_t)len >= sizeof why)
        len = (int)sizeof why - 1;
    rs_conn_request_close(c, RS_LOG_WARN, why, (size_t)len);
}

/* apply feeds one decoded frame; -1 if the core asked to close this conn (e.g. a refused
 * HELLO): reading stops at once. */
static int apply(struct rsd *n, struct rs_conn *c, struct rs_input *in)
{
    size_t before = n->outs.n;
    rsd_apply(n, in);
    for (size_t i = before; i < n->outs.n; i++)
        if (n->outs.v[i].kind == RS_OUT_CLOSE && n->outs.v[i].conn == c->id)
            return -1;
    return 0;
}

/* apply_opened applies the frames of an opened sealed record p[*off, pn) one at a time,
 * each one unit of the fair turn like a frame of an unsealed link (a record of 16 KiB holds
 * a hundred frames or more: counted as one unit, it let a peer apply thousands of frames a
 * turn while clients got 64, and its frames went in bursts). 1 when the turn ended inside
 * the record (the rest is at *off), 0 at its end, -1 if reading must stop. */
static int apply_opened(struct rs_conn *c, struct rs_input *in, struct rs_msg *msg,
                        const uint8_t *p, size_t pn, size_t *off, long budget, long *frames,
                        size_t *out0)
{
    struct rsd *n = c->node;
    for (;;) {
        if (n->outs.bytes.len < *out0)
            *out0 = n->outs.bytes.len;
        long cost = *frames + (long)((n->outs.bytes.len - *out0) / RSD_FAIR_OUT_UNIT);
        if (cost >= budget && *off < pn)
            return 1;
        const uint8_t *g;
        size_t gn;
        int k = rs_seal_next(p, pn, off, n->cfg->limits.frame_max, &g, &gn);
        if (k == 1)
            return 0;
        if (k != RS_SEAL_OK) {
            fail(c, rs_seal_strerror(k));
            return -1;
        }
        int r = rs_wire_decode(g, gn, &n->wire_limits, msg);
        if (r != RS_WIRE_OK) {
            fail(c, rs_wire_strerror(r));
            return -1;
        }
        if (apply(n, c, in) != 0)
            return -1;
        (*frames)++;
    }
}

/* process applies the whole frames the reader holds, at most budget of them (*more set
 * when it stopped there); returns how many, or -1 if the connection must stop reading (bad
 * input or closing). The handshake of a peer is never cut short. */
static long process(struct rs_conn *c, long budget, int *more)
{
    struct rsd *n = c->node;
    struct rs_input in = {.kind = rs_peer_is_up(c) ? RS_IN_PEER_MSG : RS_IN_CLIENT_MSG,
                          .now_ms = rsd_now(n),
                          .conn = c->id};
    struct rs_msg msg;
    in.msg = &msg;
    long frames = 0;
    size_t out0 = n->outs.bytes.len; /* a frame's outputs count toward its turn too */
    *more = 0;
    struct rsd_peer *pe = c->peer && c->peer->sealed ? c->peer : NULL;
    if (pe && pe->rx_off < pe->rx_rest.len) {
        /* the rest of a record whose turn ended inside it comes first */
        int k = apply_opened(c, &in, &msg, pe->rx_rest.data, pe->rx_rest.len, &pe->rx_off,
                             budget, &frames, &out0);
        if (k < 0)
            return -1;
        if (k == 1) {
            *more = 1;
            return frames;
        }
        pe->rx_rest.len = 0;
        pe->rx_off = 0;
    }
    for (;; frames++) {
        if (n->outs.bytes.len < out0)
            out0 = n->outs.bytes.len;
        long cost = frames + (long)((n->outs.bytes.len - out0) / RSD_FAIR_OUT_UNIT);
        if (cost >= budget && (!c->peer || rs_peer_is_up(c))) {
            *more = 1;
            return frames;
        }
        const uint8_t *f = NULL;
        size_t flen = 0;
        int r = rs_wire_reader_next(&c->rd, &f, &flen);
        if (r == RS_WIRE_READER_E_NOMEM)
            oom();
        if (c->peer && !rs_peer_is_up(c)) {
            /* The handshake first: its frames go to peer.c until it completes. */
            if (rs_peer_handshake(c, r, f, flen) != 0)
                return -1;
            if (r == RS_WIRE_NEED_MORE)
                return frames;
            in.kind = RS_IN_PEER_MSG;
            continue;
        }
        if (r == RS_WIRE_NEED_MORE)
            return frames;
        if (c->peer && c->peer->sealed && r == RS_WIRE_OK) {
            /* A sealed record (peer.c, seal.h): opened in place (f is in the node's own
             * buffer: the scratch or the reader's), then its frames are applied one by one. */
            uint8_t *pl;
            size_t pn, off = 0;
            if (rs_peer_open(c, (uint8_t *)f, flen, &pl, &pn) != 0)
                return -1;
            int k = apply_opened(c, &in, &msg, pl, pn, &off, budget, &frames, &out0);
            if (k < 0)
                return -1;
            if (k == 1) {
                /* pl may be in the shared scratch buffer: the rest waits in a copy (pe is
                 * set again: the handshake may have completed in this call) */
                pe = c->peer;
                pe->rx_rest.len = 0;
                pe->rx_off = 0;
                if (rs_buf_append(&pe->rx_rest, pl + off, pn - off) != 0)
                    oom();
                *more = 1;
                return frames;
            }
            if (pn > 0) /* its frames were counted; an empty record costs one unit */
                frames--;
            continue;
        }
        if (r == RS_WIRE_OK)
            r = rs_wire_decode(f, flen, &n->wire_limits, &msg);
        if (r != RS_WIRE_OK) {
            fail(c, rs_wire_strerror(r));
            return -1;
        }
        if (apply(n, c, &in) != 0)
            return -1;
    }
}

/* keep_partial keeps the conn on the node's list of conns inside a frame (stall check). */
static void keep_partial(struct rs_conn *c, int new_frame)
{
    if (rs_wire_reader_buffered(&c->rd) == 0) {
        rs_list_del(&c->partial_link);
        return;
    }
    if (!rs_linked(&c->partial_link)) {
        rs_list_push(&c->node->partial, &c->partial_link);
        c->partial_since = rsd_now(c->node);
    } else if (new_frame) {
        c->partial_since = rsd_now(c->node);
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct rs_conn *c = (struct rs_conn *)s;
    struct rsd *n = c->node;
    int from_scratch = buf->base == (char *)n->scratch;
    if (from_scratch)
        n->scratch_busy = 0;
    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        size_t held = rs_wire_reader_buffered(&c->rd);
        if (nread == UV_EOF && held == 0) {
            rs_conn_close(c, c->peer ? RS_LOG_INFO : RS_LOG_DEBUG, "peer closed");
        } else if (nread == UV_EOF) {
            char why[96];
            snprintf(why, sizeof why, "peer closed inside a frame (%zu bytes of it received)",
                     held);
            rs_conn_close(c, RS_LOG_WARN, why);
        } else {
            char why[96];
            snprintf(why, sizeof why, "read failed: %s", uv_strerror((int)nread));
            rs_conn_close(c, RS_LOG_INFO, why);
        }
        rsd_perform(n);
        return;
    }
    if (c->close_requested) /* a read that was already under way */
        return;
    if (c->peer && !c->peer->sniffed &&
        rs_peer_sniff(c, (const uint8_t *)buf->base, (size_t)nread) != 0) {
        rsd_perform(n);
        return;
    }
    if (c->peer && c->peer->tls) {
        if (rs_tls_input(c, (const uint8_t *)buf->base, (size_t)nread) == 0)
            rs_conn_pump(c, 1);
        rsd_perform(n);
        return;
    }
    if (from_scratch)
        rs_wire_reader_lend(&c->rd, n->scratch, (size_t)nread);
    else
        rs_wire_reader_commit(&c->rd, (size_t)nread);
    rs_conn_pump(c, from_scratch);
    rsd_perform(n);
}

void rs_conn_pump(struct rs_conn *c, int fresh)
{
    if (c->closing || c->close_requested)
        return;
    int more = 0;
    long budget = rsd_fair_budget(c);
    long frames = budget > 0 ? process(c, budget, &more) : 0;
    if (budget <= 0)
        more = rs_wire_reader_buffered(&c->rd) > 0 ||
               (c->peer && c->peer->sealed && c->peer->rx_off < c->peer->rx_rest.len);
    if (frames < 0) {
        rs_wire_reader_reset(&c->rd); /* nothing more is read: drop the rest, lent or not */
        return;
    }
    rsd_fair_spent(c, frames);
    if (more) {
        rsd_fair_defer(c); /* the rest waits for its next turn, unread */
    } else if (c->deferred) {
        c->deferred = 0;
        if (!c->flow_paused) /* flow control resumes it (rs_conn_flow) */
            rs_conn_start_reading(c);
    }
    keep_partial(c, fresh || frames > 0);
}

void rs_conn_accept(struct rsd *n)
{
    struct rs_conn *c = rs_calloc(1, sizeof *c);
    if (!c)
        oom();
    uv_pipe_init(&n->loop, &c->h.pipe, 0);
    c->node = n;
    int r = uv_accept((uv_stream_t *)&n->listener, &c->h.stream);
    if (r < 0) {
        rs_log(RS_LOG_WARN, "accept failed: %s", uv_strerror(r));
        c->closing = 1;
        uv_close((uv_handle_t *)&c->h, on_close);
        return;
    }
    uv_os_fd_t fd = -1;
    struct ucred cred = {0, 0, 0};
    socklen_t cl = sizeof cred;
    if (uv_fileno((uv_handle_t *)&c->h, &fd) == 0)
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
    else
        fd = -1;
    c->os_pid = cred.pid;
    c->uid = cred.uid;
    /* The supplementary groups too, for group= rules (Linux >= 4.13). */
    gid_t groups[RS_CLIENT_GROUPS_MAX];
    socklen_t gl = sizeof groups;
    uint32_t gids[RS_CLIENT_GROUPS_MAX];
    size_t n_gids = 0;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) == 0)
        for (size_t i = 0; i < gl / sizeof groups[0]; i++)
            gids[n_gids++] = (uint32_t)groups[i];
    rs_conn_add(n, c);
    rs_log(RS_LOG_DEBUG, "conn %llu (pid %d, uid %u): open", (unsigned long long)c->id,
           (int)c->os_pid, (unsigned)c->uid);
    struct rs_input in = {.kind = RS_IN_CLIENT_OPEN,
                          .now_ms = rsd_now(n),
                          .conn = c->id,
                          .os_pid = cred.pid,
                          .uid = cred.uid,
                          .gid = cred.gid,
                          .groups = gids,
                          .n_groups = n_gids};
    rsd_apply(n, &in);
    if (!c->close_requested)
        rs_conn_start_reading(c);
}

void rs_conn_add(struct rsd *n, struct rs_conn *c)
{
    c->id = n->next_conn_id++;
    rs_wire_reader_init(&c->rd, n->cfg->limits.frame_max, READ_CHUNK + 4);
    rs_buf_init(&c->out);
    rs_buf_init(&c->wbuf);
    if (rs_map_put(&n->conns, conn_hash(c->id), c) != 0)
        oom();
    rs_list_push(&n->all, &c->all_link);
    n->n_conns++;
}

void rs_conn_start_reading(struct rs_conn *c)
{
    int r = uv_read_start(&c->h.stream, on_alloc, on_read);
    if (r < 0) {
        char why[96];
        snprintf(why, sizeof why, "cannot read: %s", uv_strerror(r));
        rs_conn_close(c, RS_LOG_WARN, why);
    }
}

void rs_conn_flow(struct rs_conn *c, int pause)
{
    if (c->closing || c->close_requested || c->flow_paused == (pause != 0))
        return;
    c->flow_paused = pause != 0;
    if (pause) {
        uv_read_stop(&c->h.stream);
        return;
    }
    /* the time spent paused is ours, not a stall of the client's frame */
    c->partial_since = rsd_now(c->node);
    if (c->deferred)
        return; /* its fair turn comes first (fair.c), and starts reading after it */
    /* called while outputs are delivered: a failure may only request the close */
    if (uv_read_start(&c->h.stream, on_alloc, on_read) < 0)
        rs_conn_request_close(c, RS_LOG_WARN, "cannot read", 11);
}

void rs_conn_check_stalls(struct rsd *n)
{
    uint64_t now = rsd_now(n);
    uint64_t limit = n->cfg->limits.stall_ms;
    struct rs_link *l = n->partial.next;
    while (l != &n->partial) {
        struct rs_link *next = l->next;
        struct rs_conn *c = RS_CONTAINER(l, struct rs_conn, partial_link);
        if (!c->flow_paused && now - c->partial_since >= limit) {
            char why[128];
            snprintf(why, sizeof why,
                     "stalled: incomplete frame for %llu ms (%zu bytes buffered, limit %llu ms)",
                     (unsigned long long)(now - c->partial_since),
                     rs_wire_reader_buffered(&c->rd),
                     (unsigned long long)limit);
            rs_conn_close(c, RS_LOG_WARN, why);
        }
        l = next;
    }
}
