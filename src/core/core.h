/* core.h: the roster node core, a pure state machine (sans-I/O).
 *
 * The core owns every table of a node (clients, pids, scopes, names, groups, subscriptions,
 * monitors) and decides every reply and event. It never touches a socket, a clock or a random
 * source: the shell (src/node) turns socket activity and timers into rs_input values, calls
 * rs_core_apply, and performs the rs_output values it gets back, in order. The same core runs
 * unchanged under unit tests and, later, under the cluster simulator.
 *
 * Contract of rs_core_apply(core, input, outputs):
 *   - it appends outputs to *outputs (it does not reset it; the caller does);
 *   - SEND outputs carry whole encoded frames (wire.h) for one client connection; the shell
 *     writes them in order. Consecutive frames for one connection are merged into one SEND;
 *   - a CLOSE output asks the shell to close a connection after writing the SENDs before it;
 *     the shell then feeds RS_IN_CLIENT_GONE for it (as for any other close);
 *   - the shell reports bytes written to the socket with RS_IN_CLIENT_FLUSHED so the core can
 *     bound each client's unread output (slow subscribers overflow, never block the node);
 *   - it returns 0, or -1 when memory ran out (the node cannot go on; rosterd aborts).
 *
 * Data flow: docs/ARCHITECTURE.md.
 */
#ifndef ROSTER_CORE_CORE_H
#define ROSTER_CORE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/limits.h"
#include "../wire/wire.h"

struct rs_core;

struct rs_core_config {
    const char *node_name;   /* copied; <= RS_NODE_NAME_MAX bytes */
    uint64_t incarnation;    /* random at every start (from the shell) */
    uint64_t hash_seed;      /* random (from the shell) */
    uint64_t now_ms;         /* start time (monotonic ms) */
    struct rs_limits limits; /* copied */
};

enum rs_input_kind {
    RS_IN_CLIENT_OPEN = 1,    /* conn accepted: conn, os_pid, uid */
    RS_IN_CLIENT_MSG = 2,     /* one decoded frame from conn: msg (views valid during apply) */
    RS_IN_CLIENT_GONE = 3,    /* conn closed for any reason; its pids die "disconnected" */
    RS_IN_CLIENT_FLUSHED = 4, /* n_bytes of conn's output were written to its socket */
    RS_IN_TICK = 5,           /* time passed (now_ms) */
};

struct rs_input {
    enum rs_input_kind kind;
    uint64_t now_ms;          /* monotonic ms, every input */
    uint64_t conn;            /* connection id chosen by the shell, never reused */
    int32_t os_pid;           /* CLIENT_OPEN: SO_PEERCRED pid */
    uint32_t uid;             /* CLIENT_OPEN: SO_PEERCRED uid */
    const struct rs_msg *msg; /* CLIENT_MSG */
    uint64_t n_bytes;         /* CLIENT_FLUSHED */
};

enum rs_output_kind {
    RS_OUT_SEND = 1,      /* conn; bytes at outputs->bytes.data[off .. off+len) */
    RS_OUT_CLOSE = 2,     /* conn; text at [off, len) is the reason, for the log */
    RS_OUT_LOG = 3,       /* level; text at [off, len) */
    RS_OUT_LOG_LEVEL = 4, /* level: set the shell's log level */
};

struct rs_output {
    enum rs_output_kind kind;
    int level;
    uint64_t conn;
    size_t off;
    size_t len;
};

struct rs_outputs {
    struct rs_output *v;
    size_t n;
    size_t cap;
    struct rs_buf bytes; /* arena for frames and texts referenced by v[i].off/len */
};

void rs_outputs_init(struct rs_outputs *o);
void rs_outputs_fini(struct rs_outputs *o);
void rs_outputs_reset(struct rs_outputs *o);

/* rs_core_new returns a core owned by the caller (free with rs_core_free), or NULL if the
 * config is invalid or memory ran out. The "default" eventual scope exists from the start. */
struct rs_core *rs_core_new(const struct rs_core_config *cfg);
void rs_core_free(struct rs_core *core);

int rs_core_apply(struct rs_core *core, const struct rs_input *in, struct rs_outputs *out);

/* Read-only introspection for tests, the shell's log lines and benchmarks. */
struct rs_core_stats {
    uint64_t clients;
    uint64_t pids;
    uint64_t names;
    uint64_t groups;
    uint64_t members;
    uint64_t subscriptions;
    uint64_t monitors;
    uint64_t scopes;
};
void rs_core_stats(const struct rs_core *core, struct rs_core_stats *st);

#endif
