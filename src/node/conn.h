/* conn.h: one connection: a local client on the Unix socket, or a peer node over TCP
 * (peer.c adds the handshake and the peer inputs; everything else is shared). It owns its read buffer (frames are
 * split and decoded here and fed to the core one by one), its output (a pending buffer the
 * core's SENDs append to, flushed once per read batch with uv_try_write, the rest through
 * uv_write from a second buffer owned until the write callback), and the bookkeeping the
 * core relies on: CLIENT_OPEN on accept, CLIENT_FLUSHED for bytes that reached the socket,
 * CLIENT_GONE exactly once when it closes. For a peer: FLUSHED only for bytes the core
 * queued (not handshake bytes), PEER_MSG for its frames and PEER_GONE exactly once at close,
 * both only once PEER_UP was fed. */
#ifndef ROSTER_NODE_CONN_H
#define ROSTER_NODE_CONN_H

#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "wire/reader.h"
#include "node/node.h"

struct rsd_peer;

struct rs_conn {
    union {
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } h; /* first: the handle's address is the conn's */
    struct rsd *node;
    struct rsd_peer *peer; /* NULL for a local client */
    uint64_t id;
    int32_t os_pid;
    uint32_t uid;
    struct rs_link all_link, dirty_link, partial_link;

    /* The frame reader: it keeps the bytes of an incomplete frame between reads. A conn with
     * nothing buffered reads into the node's shared scratch buffer instead, lent to the
     * reader, so whole frames are decoded where the kernel put them. */
    struct rs_wire_reader rd;
    uint64_t partial_since; /* ms when the incomplete frame started */

    struct rs_buf out;  /* pending output, not yet handed to the socket */
    struct rs_buf wbuf; /* output handed to uv_write, owned until write_cb */
    size_t wlen;        /* bytes of wbuf in the in-flight write */
    uv_write_t wreq;
    uint8_t writing;
    uint8_t close_requested; /* close once pending output is written (or cannot be) */
    uint8_t closing;         /* uv_close called, CLIENT_GONE fed */
    uint8_t pass_shm;        /* the next bytes written carry the region's fd (shm.c) */
    uint8_t flow_paused;     /* flow control: not read until the core resumes it (flow.c) */
    /* direct channels (chan.c): bytes ever queued to out, and the channel ends waiting to
     * ride with the byte at their position */
    uint64_t out_total;
    struct rsd_chan_end *ends;
    uint32_t n_ends, cap_ends;
    int close_level;
    char close_reason[160];
    /* fairness (fair.c): waiting for a turn (reading paused), its rate tokens */
    struct rs_link fair_link;
    uint8_t deferred, fair_init;
    uint64_t tokens;    /* milli-requests left in its bucket */
    uint64_t tokens_ms; /* when they were last refilled */
};

/* rs_conn_accept accepts one connection from the listener and feeds CLIENT_OPEN. */
void rs_conn_accept(struct rsd *n);
/* rs_conn_add gives c (handle initialised, node set) a fresh id and enters it in the
 * node's tables. */
void rs_conn_add(struct rsd *n, struct rs_conn *c);
/* rs_conn_start_reading starts the read path of c. */
void rs_conn_start_reading(struct rs_conn *c);
/* rs_conn_pump applies the frames c's reader holds, as many as its turn allows (fair.h),
 * then reads again, or waits for its next turn. fresh: the bytes just arrived. */
void rs_conn_pump(struct rs_conn *c, int fresh);
/* rs_conn_flow pauses (1) or resumes (0) reading c for flow control: a paused client's
 * socket fills and its library's sends wait, the node goes on with everyone else. */
void rs_conn_flow(struct rs_conn *c, int pause);
/* rs_conn_free_cb is the uv_close callback that frees a conn. */
void rs_conn_free_cb(uv_handle_t *h);
struct rs_conn *rs_conn_find(struct rsd *n, uint64_t id);
/* rs_conn_send queues bytes for the conn (flushed by rsd_perform). */
void rs_conn_send(struct rs_conn *c, const uint8_t *p, size_t len);
/* rs_conn_send_raw queues bytes for the socket itself, past a peer link's sealing or TLS
 * (tls.c: TLS records; peer.c: a REFUSE to a peer that does not speak TLS). */
void rs_conn_send_raw(struct rs_conn *c, const uint8_t *p, size_t len);
/* rs_conn_request_close closes c after writing what is queued; level/reason go to the log. */
void rs_conn_request_close(struct rs_conn *c, int level, const char *reason, size_t len);
/* rs_conn_flush writes pending output (called by rsd_perform for dirty conns). */
void rs_conn_flush(struct rs_conn *c);
/* rs_conn_close closes now: logs, stops reading, feeds CLIENT_GONE, frees on close. */
void rs_conn_close(struct rs_conn *c, int level, const char *reason);
/* rs_conn_check_stalls closes conns whose incomplete frame is older than stall_ms. */
void rs_conn_check_stalls(struct rsd *n);

#endif
