/* fuzz_core_peer.c: fuzz target for the node core as its peers see it.
 *
 * Setup: a core "fz" with one client (a pid holding a name and a membership, a snapshot
 * subscription, a monitor of a pid of the peer) and one peer node "peer" up on a peer
 * connection. Input: a stream of frames, each fed to the core as PEER_MSG from that peer
 * (req_id forced to 0 unless its bit 31 is set, so the rejection of a req_id is reached
 * too); req_id bit 24 adds a TICK one second later, bit 25 a CLIENT_FLUSHED; a frame that
 * does not decode is a PEER_GONE, as the shell does. A CLOSE of the peer connection is
 * answered with PEER_GONE, and the peer comes back on a new connection (with a new
 * incarnation when req_id bit 26 is set).
 *
 * Checked after every apply: no failure; every SEND is whole well-formed frames for an open
 * connection; frames to the peer are peer frames (type >= 64, flags 0, req_id 0); stats
 * stay coherent. At the end the peer goes away, then the client: every table must be
 * empty (no remote entry survives its node, no local one its client). Leaks are caught by
 * the sanitizers. */
#include <roster.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/limits.h"
#include "core/core.h"
#include "wire/shm.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CLIENT 1u
#define SELF_INC 0x1122334455667788ull
#define PEER_INC0 0x00000000000000b2ull

struct fz {
    struct rs_core *core;
    struct rs_outputs out;
    struct rs_limits lim;
    uint64_t peer_conn; /* current peer connection, 0 if none */
    uint64_t next_conn;
    uint64_t peer_inc;
    int client_open;
    int peer_closed; /* the core asked to close the peer connection */
    uint64_t sent;   /* bytes to the client not yet reported flushed */
    uint64_t now;
};

static void apply(struct fz *f, struct rs_input *in);

static void check(struct fz *f)
{
    struct rs_limits dl = f->lim;
    dl.name_max = 0;
    for (size_t i = 0; i < f->out.n; i++) {
        const struct rs_output *o = &f->out.v[i];
        if (o->off > f->out.bytes.len || o->len > f->out.bytes.len - o->off)
            abort();
        if (o->kind == RS_OUT_SEND) {
            int to_peer = f->peer_conn && o->conn == f->peer_conn;
            if (!to_peer && !(o->conn == CLIENT && f->client_open))
                abort();
            if (o->len == 0)
                abort();
            const uint8_t *p = f->out.bytes.data + o->off;
            size_t off = 0;
            while (off < o->len) {
                size_t flen = 0;
                if (rs_wire_frame_next(p + off, o->len - off, f->lim.frame_max, &flen) !=
                    RS_WIRE_OK)
                    abort();
                struct rs_msg m;
                if (rs_wire_decode(p + off, flen, &dl, &m) != RS_WIRE_OK)
                    abort();
                if (to_peer && (m.type < RS_MSG_PEER_MIN || m.flags || m.req_id))
                    abort();
                if (!to_peer && m.type >= RS_MSG_PEER_MIN)
                    abort();
                /* a MESSAGE's receivers: ARG plus whole u64 serials in PREV, at most
                 * RS_MSG_TARGETS_MAX in all */
                if (m.type == RS_MSG_MESSAGE &&
                    (m.prev.len % 8 != 0 || m.prev.len / 8 >= RS_MSG_TARGETS_MAX))
                    abort();
                off += flen;
            }
            if (!to_peer)
                f->sent += o->len;
        } else if (o->kind == RS_OUT_CLOSE) {
            if (o->len == 0)
                abort();
            if (f->peer_conn && o->conn == f->peer_conn)
                f->peer_closed = 1;
            else if (o->conn == CLIENT)
                abort(); /* nothing this client does warrants a close */
        } else if (o->kind == RS_OUT_DIAL) {
            if (o->len == 0)
                abort();
        }
    }
    struct rs_core_stats st;
    rs_core_stats(f->core, &st);
    if (st.clients > 1 || st.pids > 2 || st.subscriptions > 1 || st.monitors > 1)
        abort();
    if (st.groups > st.members || (st.members > 0) != (st.groups > 0))
        abort();
}

static void apply(struct fz *f, struct rs_input *in)
{
    f->now += 3;
    in->now_ms = f->now;
    in->wall_ms = 1700000000000ull + f->now;
    rs_outputs_reset(&f->out);
    if (rs_core_apply(f->core, in, &f->out) != 0)
        abort();
    check(f);
}

static void peer_up(struct fz *f)
{
    f->peer_conn = f->next_conn++;
    f->peer_closed = 0;
    struct rs_input in = {.kind = RS_IN_PEER_UP, .conn = f->peer_conn,
                          .peer_name = rs_bytes_str("peer"), .peer_inc = f->peer_inc,
                          .peer_addr = rs_bytes_str("127.0.0.1:7001"), .dialed = 1};
    apply(f, &in);
}

static void peer_gone(struct fz *f)
{
    struct rs_input in = {.kind = RS_IN_PEER_GONE, .conn = f->peer_conn};
    apply(f, &in);
    f->peer_conn = 0;
}

static void client_req(struct fz *f, struct rs_msg *m)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = CLIENT, .msg = m};
    apply(f, &in);
}

static void setup_client(struct fz *f)
{
    struct rs_input open = {.kind = RS_IN_CLIENT_OPEN, .conn = CLIENT, .os_pid = 7};
    f->client_open = 1;
    apply(f, &open);
    struct rs_msg hello = {.type = RS_MSG_HELLO, .req_id = 1, .opts = RS_WIRE_VERSION,
                           .arg = RS_WIRE_MAGIC, .key = rs_bytes_str("fz")};
    client_req(f, &hello);
    struct rs_pid me = {SELF_INC, 1};
    struct rs_msg reg = {.type = RS_MSG_REGISTER, .req_id = 2, .pid = me,
                         .key = rs_bytes_str("a"), .meta = rs_bytes_str("m")};
    client_req(f, &reg);
    struct rs_msg join = {.type = RS_MSG_JOIN, .req_id = 3, .pid = me, .key = rs_bytes_str("g")};
    client_req(f, &join);
    struct rs_msg sub = {.type = RS_MSG_SUBSCRIBE, .req_id = 4, .opts = ROSTER_SUB_SNAPSHOT};
    client_req(f, &sub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;
    memset(&f, 0, sizeof f);
    rs_limits_default(&f.lim);
    f.lim.name_max = 64;
    f.lim.meta_max = 256;
    f.lim.frame_max = 4096;
    f.lim.queue_bytes = 1u << 20;
    f.lim.outbuf_max = 1u << 30;
    struct rs_core_config cfg = {.node_name = "fz", .incarnation = SELF_INC, .hash_seed = 9,
                                 .limits = f.lim, .heartbeat_ms = 500, .down_after_ms = 3000};
    /* the core publishes into a shared-memory region too (docs/SHM.md): emptied at the end */
    uint8_t *shm = calloc(1, RS_SHM_MIN_SIZE);
    if (!shm)
        return 0;
    cfg.shm_base = shm;
    cfg.shm_size = RS_SHM_MIN_SIZE;
    f.core = rs_core_new(&cfg);
    if (!f.core)
        abort();
    rs_outputs_init(&f.out);
    f.next_conn = 100;
    f.peer_inc = PEER_INC0;
    setup_client(&f);
    peer_up(&f);
    struct rs_pid theirs = {PEER_INC0, 1};
    struct rs_msg mon = {.type = RS_MSG_MONITOR, .req_id = 5, .pid = theirs};
    client_req(&f, &mon);
    size_t off = 0;
    while (off < size) {
        size_t flen = 0;
        if (rs_wire_frame_next(data + off, size - off, f.lim.frame_max, &flen) != RS_WIRE_OK)
            break;
        uint32_t req_id = rs_get_u32(data + off + 8);
        if (!f.peer_conn) {
            if ((req_id >> 26) & 1)
                f.peer_inc++;
            peer_up(&f);
        }
        struct rs_msg m;
        if (rs_wire_decode(data + off, flen, &f.lim, &m) == RS_WIRE_OK) {
            if (!(req_id >> 31))
                m.req_id = 0;
            struct rs_input in = {.kind = RS_IN_PEER_MSG, .conn = f.peer_conn, .msg = &m};
            apply(&f, &in);
        } else {
            peer_gone(&f);
        }
        if (f.peer_conn && f.peer_closed)
            peer_gone(&f);
        if ((req_id >> 24) & 1) {
            f.now += 1000;
            struct rs_input in = {.kind = RS_IN_TICK};
            apply(&f, &in);
            if (f.peer_conn && f.peer_closed)
                peer_gone(&f);
        }
        if ((req_id >> 25) & 1) {
            struct rs_input in = {.kind = RS_IN_CLIENT_FLUSHED, .conn = CLIENT,
                                  .n_bytes = f.sent};
            f.sent = 0;
            apply(&f, &in);
        }
        off += flen;
    }
    if (f.peer_conn)
        peer_gone(&f);
    struct rs_core_stats st;
    rs_core_stats(f.core, &st);
    if (st.names > 1 || st.members > 1) /* only the client's own entries remain */
        abort();
    struct rs_input gone = {.kind = RS_IN_CLIENT_GONE, .conn = CLIENT};
    apply(&f, &gone);
    f.client_open = 0;
    rs_core_stats(f.core, &st);
    if (st.clients || st.pids || st.names || st.groups || st.members || st.subscriptions ||
        st.monitors)
        abort();
    struct rs_shm_view v = {shm, RS_SHM_MIN_SIZE};
    struct rs_shm_scope_info si;
    if (rs_shm_view_check(&v) != 0 ||
        (rs_shm_find_scope(&v, "default", 7, &si) == RS_SHM_FOUND &&
         (si.names || si.groups || si.members)))
        abort(); /* every entry left the node: the region must show none */
    rs_outputs_fini(&f.out);
    rs_core_free(f.core);
    free(shm);
    return 0;
}
