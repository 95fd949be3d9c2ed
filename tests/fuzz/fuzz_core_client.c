/* fuzz_core_client.c: fuzz target for the node core as its clients see it.
 *
 * Input: a stream of client frames. Each frame goes to connection 1 + ((req_id >> 24) & 3)
 * (opened on first use, conns_max 3 so the busy path is hit too); bit 26 of req_id then
 * reports everything sent to that connection as flushed, bit 27 closes it (CLIENT_GONE),
 * bit 28 adds a TICK. A frame that does not decode closes its connection, as the shell does;
 * a CLOSE output is answered with CLIENT_GONE, as the shell does. Small limits make every
 * limit branch reachable.
 *
 * Checked after every apply: no failure, every SEND is a whole number of well-formed frames
 * for an open connection, stats stay coherent; at the end every connection goes away and
 * every table must be empty again (no pid, name, group, member, subscription or monitor
 * survives its owner). Leaks are caught by the sanitizers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/limits.h"
#include "core/core.h"
#include "wire/shm.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONN 4

struct fz {
    struct rs_core *core;
    struct rs_outputs out;
    struct rs_limits lim;
    int open[NCONN + 1];     /* the shell has this connection */
    uint64_t sent[NCONN + 1]; /* bytes sent and not yet reported flushed */
    uint64_t now;
};

static void check_and_react(struct fz *f);

static void apply(struct fz *f, struct rs_input *in)
{
    f->now += 7;
    in->now_ms = f->now;
    rs_outputs_reset(&f->out);
    if (rs_core_apply(f->core, in, &f->out) != 0)
        abort();
    check_and_react(f);
}

static void gone(struct fz *f, uint64_t conn)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_GONE, .conn = conn};
    f->open[conn] = 0;
    f->sent[conn] = 0;
    apply(f, &in);
}

static void check_stats(const struct fz *f)
{
    struct rs_core_stats st;
    rs_core_stats(f->core, &st);
    uint64_t open = 0;
    for (int i = 1; i <= NCONN; i++)
        open += (uint64_t)f->open[i];
    if (st.clients > open || st.clients > f->lim.conns_max)
        abort();
    if (st.pids > st.clients * f->lim.pids_per_client)
        abort();
    if (st.names + st.members > st.clients * (uint64_t)f->lim.entries_per_client)
        abort();
    if (st.groups > st.members || (st.members > 0) != (st.groups > 0))
        abort();
    if ((st.names || st.members) && !st.pids)
        abort();
    if (st.subscriptions > st.clients * f->lim.subs_per_client)
        abort();
    if (st.monitors > st.clients * f->lim.monitors_per_client)
        abort();
    if (st.scopes < 1)
        abort();
}

static void check_and_react(struct fz *f)
{
    struct rs_limits dl = f->lim;
    dl.name_max = 0;
    uint64_t closed[16];
    size_t nclosed = 0;
    for (size_t i = 0; i < f->out.n; i++) {
        const struct rs_output *o = &f->out.v[i];
        if (o->off > f->out.bytes.len || o->len > f->out.bytes.len - o->off)
            abort();
        if (o->kind == RS_OUT_SEND) {
            if (o->conn < 1 || o->conn > NCONN || !f->open[o->conn] || o->len == 0)
                abort();
            for (size_t k = 0; k < nclosed; k++)
                if (closed[k] == o->conn)
                    abort(); /* nothing is sent after a CLOSE */
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
                if (m.flags == 0 && m.type != RS_MSG_EVENT && m.type != RS_MSG_MESSAGE)
                    abort();
                /* a MESSAGE's receivers: ARG plus whole u64 serials in PREV, at most
                 * RS_MSG_TARGETS_MAX in all */
                if (m.type == RS_MSG_MESSAGE &&
                    (m.prev.len % 8 != 0 || m.prev.len / 8 >= RS_MSG_TARGETS_MAX))
                    abort();
                off += flen;
            }
            f->sent[o->conn] += o->len;
        } else if (o->kind == RS_OUT_CLOSE) {
            if (o->conn < 1 || o->conn > NCONN || o->len == 0)
                abort();
            if (nclosed < 16)
                closed[nclosed++] = o->conn;
        } else if (o->kind == RS_OUT_LOG_LEVEL) {
            if (o->level < 0 || o->level > RS_LOG_OFF)
                abort();
        }
    }
    check_stats(f);
    /* The shell closes what the core asked it to close. */
    for (size_t i = 0; i < nclosed; i++)
        if (f->open[closed[i]])
            gone(f, closed[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;
    memset(&f, 0, sizeof f);
    rs_limits_default(&f.lim);
    f.lim.name_max = 64;
    f.lim.meta_max = 256;
    f.lim.frame_max = 4096;
    f.lim.conns_max = 3;
    f.lim.pids_per_client = 8;
    f.lim.entries_per_client = 32;
    f.lim.subs_per_client = 4;
    f.lim.monitors_per_client = 8;
    f.lim.queue_bytes = 2048;
    f.lim.outbuf_max = 16384;
    struct rs_core_config cfg = {.node_name = "fuzz", .incarnation = 0x1122334455667788ull,
                                 .hash_seed = 42, .limits = f.lim};
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
    struct rs_limits dl = f.lim;
    dl.name_max = 0; /* the shell decodes names and metadata unbounded */
    size_t off = 0;
    while (off < size) {
        size_t flen = 0;
        if (rs_wire_frame_next(data + off, size - off, f.lim.frame_max, &flen) != RS_WIRE_OK)
            break;
        uint32_t req_id = rs_get_u32(data + off + 8);
        uint64_t conn = 1 + ((req_id >> 24) & 3);
        if (!f.open[conn]) {
            f.open[conn] = 1;
            struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = conn,
                                  .os_pid = (int32_t)(1000 + conn), .uid = 0};
            apply(&f, &in);
        }
        if (f.open[conn]) {
            struct rs_msg m;
            if (rs_wire_decode(data + off, flen, &dl, &m) == RS_WIRE_OK) {
                struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = conn, .msg = &m};
                apply(&f, &in);
            } else {
                gone(&f, conn);
            }
        }
        if ((req_id >> 26) & 1 && f.open[conn]) {
            struct rs_input in = {.kind = RS_IN_CLIENT_FLUSHED, .conn = conn,
                                  .n_bytes = f.sent[conn]};
            f.sent[conn] = 0;
            apply(&f, &in);
        }
        if ((req_id >> 27) & 1 && f.open[conn])
            gone(&f, conn);
        if ((req_id >> 28) & 1) {
            struct rs_input in = {.kind = RS_IN_TICK};
            apply(&f, &in);
        }
        off += flen;
    }
    for (uint64_t c = 1; c <= NCONN; c++)
        if (f.open[c])
            gone(&f, c);
    struct rs_core_stats st;
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
