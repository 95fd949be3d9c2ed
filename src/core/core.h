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

#include "base/buf.h"
#include "base/limits.h"
#include "wire/kv.h"
#include "wire/wire.h"


struct rs_core;

/* A claim on a unique name, as a conflict resolver sees it. */
struct rs_claim_view {
    const char *node; /* owner node name (NUL-terminated) */
    uint64_t node_inc;
    uint64_t serial;
    uint64_t hlc; /* (wall_ms << 16) | logical, stamped by the owner node */
    const uint8_t *meta;
    size_t meta_len;
};

/* rs_resolve_fn returns < 0 if claim a wins over b, > 0 if b wins. It must be a pure,
 * deterministic function (same answer on every node); 0 falls back to the tie-break. */
typedef int (*rs_resolve_fn)(const struct rs_claim_view *a, const struct rs_claim_view *b);

enum rs_conflict_policy {
    RS_POLICY_OLDEST = 0, /* default: smaller hlc wins */
    RS_POLICY_NEWEST = 1,
    RS_POLICY_PRIORITY = 2, /* higher node priority wins, then oldest */
    RS_POLICY_CUSTOM = 3,   /* cfg.resolver */
};

struct rs_node_priority {
    const char *node;
    int priority;
};

struct rs_core_config {
    const char *node_name;   /* copied; <= RS_NODE_NAME_MAX bytes */
    uint64_t incarnation;    /* random at every start (from the shell) */
    uint64_t hash_seed;      /* random (from the shell) */
    uint64_t now_ms;         /* start time (monotonic ms) */
    struct rs_limits limits; /* copied */
    /* --- cluster (docs/CLUSTER.md); zero values give the documented defaults --- */
    const char *listen_addr;         /* "host:port" peers dial; copied; NULL: none */
    uint32_t heartbeat_ms;           /* ping interval; default 500 */
    uint32_t down_after_ms;          /* silence before a peer is declared down; 3000 */
    enum rs_conflict_policy policy;  /* for every eventual scope */
    rs_resolve_fn resolver;          /* RS_POLICY_CUSTOM */
    const struct rs_node_priority *priorities; /* RS_POLICY_PRIORITY; copied */
    size_t n_priorities;
    const char *const *scopes;       /* scopes to join at start besides "default"; copied */
    size_t n_scopes;
    uint32_t peer_monitors_max;      /* monitors one node may hold on this node's pids;
                                        0: 1048576 (must be alike on every node) */
    uint64_t peer_entries_max;       /* names + memberships held of one other node; past
                                        it the node is declared down; 0: 16777216 */
    size_t call_proxies_max;         /* calls of one other node waiting on this node's pids;
                                        past it that node's oldest is failed (ELIMIT);
                                        0: RS_CALL_PROXIES_PER_NODE */
    /* strong scopes (contract) */
    int kv_enabled;          /* strong scopes: the shell has an etcd client (--etcd) */
    uint32_t kv_lease_ttl_ms;/* the node's etcd lease TTL; 0: RS_KV_LEASE_TTL_MS_DEFAULT */
    uint32_t kv_timeout_ms;  /* deadline of one etcd operation; 0: RS_KV_TIMEOUT_MS_DEFAULT */
    /* shared-memory reads (docs/SHM.md): zero-filled memory of shm_size bytes the shell
     * mapped (a memfd) for the core to publish the eventual scopes in; NULL: off */
    void *shm_base;
    size_t shm_size;
    int log_level;           /* the shell's level at start (RS_LOG_*): trace makes the core
                                log every client request (rs_core_set_log_level later) */
    /* runtime membership (docs/CLUSTER.md): cluster-join, cluster-leave and forget are
     * allowed to clients of uid 0 and of this uid (the shell: the node's own) */
    uint32_t admin_uid;
    /* RS_POLICY_CUSTOM through the public resolver API (roster.h, struct roster_resolver),
     * loaded by the shell; takes precedence over resolver. Not copied: lives as long as
     * the core. */
    const struct roster_resolver *public_resolver;
    /* direct channels between two local clients (chan.c, docs/MESSAGING.md) */
    uint32_t max_channels;   /* per client; 0: RS_CHAN_MAX_DEFAULT (64) */
    int no_channels;         /* 1: never hand out channels (rosterd --no-channels) */
};

enum rs_input_kind {
    RS_IN_CLIENT_OPEN = 1,    /* conn accepted: conn, os_pid, uid */
    RS_IN_CLIENT_MSG = 2,     /* one decoded frame from conn: msg (views valid during apply) */
    RS_IN_CLIENT_GONE = 3,    /* conn closed for any reason; its pids die "disconnected" */
    RS_IN_CLIENT_FLUSHED = 4, /* n_bytes of conn's output were written to its socket */
    RS_IN_TICK = 5,           /* time passed (now_ms, wall_ms): heartbeats, failure detection */
    RS_IN_PEER_UP = 6,        /* authenticated connection conn to node (peer_name,
                                 peer_inc) listening on peer_addr; dialed = we dialed it */
    RS_IN_PEER_MSG = 7,       /* one decoded frame from peer conn: msg */
    RS_IN_PEER_GONE = 8,      /* peer conn closed for any reason */
    RS_IN_KV = 9,             /* strong scopes (contract): one etcd result: in->kv */
};

struct rs_input {
    enum rs_input_kind kind;
    uint64_t now_ms;          /* monotonic ms, every input */
    uint64_t wall_ms;         /* wall-clock ms (for HLC stamps), every input */
    uint64_t conn;            /* connection id chosen by the shell, never reused; clients
                                 and peers share one id space */
    int32_t os_pid;           /* CLIENT_OPEN: SO_PEERCRED pid */
    uint32_t uid;             /* CLIENT_OPEN: SO_PEERCRED uid */
    const struct rs_msg *msg; /* CLIENT_MSG, PEER_MSG */
    uint64_t n_bytes;         /* CLIENT_FLUSHED (also for peer conns) */
    struct rs_bytes peer_name; /* PEER_UP */
    uint64_t peer_inc;         /* PEER_UP */
    struct rs_bytes peer_addr; /* PEER_UP: the peer's listen address "host:port" */
    int dialed;                /* PEER_UP: 1 if this node dialed the connection */
    const etcd_result *kv;     /* strong scopes (contract): RS_IN_KV; valid during apply */
    /* access rules (core/access.c): CLIENT_OPEN: SO_PEERCRED gid and the supplementary
     * gids (SO_PEERGROUPS; at most RS_CLIENT_GROUPS_MAX kept) */
    uint32_t gid;
    const uint32_t *groups;
    size_t n_groups;
};

enum rs_output_kind {
    RS_OUT_SEND = 1,      /* conn (client or peer); bytes at outputs->bytes.data[off, +len) */
    RS_OUT_CLOSE = 2,     /* conn; text at [off, len) is the reason, for the log */
    RS_OUT_LOG = 3,       /* level; text at [off, len) */
    RS_OUT_LOG_LEVEL = 4, /* level: set the shell's log level */
    RS_OUT_DIAL = 5,      /* text at [off, len) is "NAME HOST:PORT": keep a connection to
                             that node's address (the shell dials and redials with backoff
                             until a PEER_UP for it, and again after a PEER_GONE) */
    RS_OUT_KV = 6,        /* strong scopes (contract): perform kv, answered as kv_id */
    RS_OUT_KV_CANCEL = 7, /* strong scopes (contract): cancel the stream started as kv_id */
    RS_OUT_SHM_FD = 8,    /* conn: pass the region's fd with the next bytes written to it
                             (SCM_RIGHTS); comes right before the HELLO reply's SEND */
    RS_OUT_PAUSE = 9,     /* flow control: stop reading client conn (its messages are held
                             for slow receivers); frames already read are still applied */
    RS_OUT_RESUME = 10,   /* flow control: read conn again */
    RS_OUT_UNDIAL = 11,   /* text at [off, len) is "NAME ADDR", "NAME" or "" (every
                             target): stop dialing the addresses of that node (seeds
                             included), or every address (cluster-leave) */
    RS_OUT_UNDIAL_LEFT = 12, /* text "NAME ADDR": that node left the cluster (P_LEAVE):
                             stop dialing its addresses, but keep dialing a --join seed
                             among them (the operator's configuration, not the peer's:
                             the node refuses it while out, and the link forms again
                             once it rejoins or restarts; without it a node whose seeds
                             all left and came back by a restart stays alone forever,
                             tests/sim/FINDINGS.md 4) */
    RS_OUT_CHANNEL_FD = 13, /* conn: pass one end of channel kv_id's socket pair with the
                             next bytes written to it (SCM_RIGHTS); level 0: make the pair
                             and pass its first end, level 1: pass its second end. The
                             CHANNEL frame's SEND follows each (chan.c) */
};

struct rs_output {
    enum rs_output_kind kind;
    int level;
    uint64_t conn;
    size_t off;
    size_t len;
    /* strong scopes (contract) */
    uint64_t kv_id;
    const etcd_op *kv;
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
    uint64_t calls_pending; /* calls and multi-calls of local clients waiting */
    uint64_t call_proxies;  /* calls of other nodes waiting on local pids */
    /* for metrics (src/node/metrics.c): counters since start, then gauges */
    uint64_t events_sent;   /* EVENT frames queued to local subscribers */
    uint64_t sub_overflows; /* subscriptions ended by an OVERFLOW event */
    uint64_t conflicts;     /* second claims on a unique name settled by the policy */
    uint64_t nodes_down;    /* other nodes declared down */
    uint64_t msgs_delivered;/* messages delivered to local pids */
    uint64_t msgs_dropped;  /* messages dropped (mailbox full, too big, link full) */
    uint64_t unread_bytes;  /* bytes queued to local clients and not yet read, all clients */
    uint64_t unread_max;    /* the same, of the client with the most */
    uint64_t leases;         /* entries of local pids with a TTL now (ttl.c) */
    uint64_t leases_expired; /* entries removed because their lease ran out, since start */
};
void rs_core_stats(const struct rs_core *core, struct rs_core_stats *st);

/* Per scope and per node views for metrics, called back once each (views valid during
 * the call; names not NUL-terminated). */
struct rs_core_scope_view {
    const char *name;
    size_t name_len;
    uint64_t names, groups, members, subscriptions;
};
struct rs_core_node_view {
    const char *name;
    size_t name_len;
    uint64_t incarnation;
    int state;          /* ROSTER_NODE_UP / DOWN / CONNECTING / LEFT */
    uint64_t conn;      /* its peer connection when up, else 0 */
    uint64_t rtt_ms;    /* last heartbeat round trip */
    uint64_t ups;       /* times it came up: reconnects + 1 */
    uint64_t entries;   /* its names + memberships held here */
    uint64_t bytes_in;  /* peer protocol bytes received from it, all its connections */
    uint64_t bytes_out; /* and sent to it (reached the socket); handshakes excluded */
    uint64_t unread;    /* bytes queued to it not yet written (its link's queue) */
};
void rs_core_scopes_each(const struct rs_core *core,
                         void (*fn)(void *ctx, const struct rs_core_scope_view *v), void *ctx);
void rs_core_nodes_each(const struct rs_core *core,
                        void (*fn)(void *ctx, const struct rs_core_node_view *v), void *ctx);

/* rs_core_raise_limits raises, to l's values, the per-client limits that may grow while
 * clients are connected (connections, pids, entries, subscriptions, monitors, queue,
 * outbuf and mailbox bytes): a field of l below the current value is left alone, and so
 * are the sizes clients learned at HELLO. l must pass rs_limits_check. Returns a bit set
 * of the fields raised (1 << index in the order above). Called between applies. */
unsigned rs_core_raise_limits(struct rs_core *core, const struct rs_limits *l);

/* rs_core_set_log_level tells the core the shell's log level changed (a config reload):
 * at RS_LOG_TRACE it logs one line per client request. */
void rs_core_set_log_level(struct rs_core *core, int level);


/* --- Read-only views for the dashboard (src/node/dash*.c; core/view.c) ---------------- */

/* A name or a group as the dashboard lists it (views valid during the call). */
struct rs_core_entry_view {
    const char *key;
    size_t key_len;
    uint64_t pid_inc, pid_serial; /* names: the holder (visible claim); groups: 0 */
    const char *node;             /* names: the holder's node name; groups: NULL */
    size_t node_len;
    uint64_t members;             /* groups: members; names: 0 */
    size_t meta_len;
};
/* rs_core_names_view calls fn for up to limit names of scope whose key starts with pre,
 * in no particular order; returns how many names match in all (beyond limit too), or -1
 * if the scope is unknown. rs_core_groups_view is the same for groups. */
long rs_core_names_view(const struct rs_core *core, const char *scope, size_t scope_len,
                        const char *pre, size_t pn, size_t limit,
                        void (*fn)(void *ctx, const struct rs_core_entry_view *v), void *ctx);
long rs_core_groups_view(const struct rs_core *core, const char *scope, size_t scope_len,
                         const char *pre, size_t pn, size_t limit,
                         void (*fn)(void *ctx, const struct rs_core_entry_view *v), void *ctx);

/* rs_core_members_view calls fn for up to limit members of group in scope (pid, its node;
 * key is the group); returns the group's member count, or -1 if the scope or the group is
 * unknown. */
long rs_core_members_view(const struct rs_core *core, const char *scope, size_t scope_len,
                          const char *group, size_t group_len, size_t limit,
                          void (*fn)(void *ctx, const struct rs_core_entry_view *v), void *ctx);

/* What one pid holds, as rs_core_pid_view reports it: kind 'n' a name, 'g' a membership,
 * 'm' a monitor a local client holds on it. scope/key are the entry's (for 'm': key is
 * empty and id the monitor id). */
struct rs_core_pid_item {
    char kind;
    const char *scope;
    size_t scope_len;
    const char *key;
    size_t key_len;
    uint64_t id;
};
/* rs_core_pid_view reports pid's names, memberships and monitors; returns 1 for a local
 * pid, 2 for a remote pid held here, 0 if this node knows no such pid. */
int rs_core_pid_view(const struct rs_core *core, uint64_t inc, uint64_t serial,
                     void (*fn)(void *ctx, const struct rs_core_pid_item *it), void *ctx);

/* An event of the registry as the dashboard's stream shows it: every registry and group
 * change of every scope, and NODE_UP / NODE_DOWN, whether or not a client subscribed. */
struct rs_core_tap_event {
    uint32_t kind;   /* ROSTER_EV_* */
    uint32_t reason; /* ROSTER_REASON_* */
    int group;       /* 1 for a group event */
    const char *scope;
    size_t scope_len;
    const uint8_t *key; /* name, group or node name */
    size_t key_len;
    uint64_t pid_inc, pid_serial;
};
/* rs_core_set_tap makes the core call fn for each such event during rs_core_apply (fn must
 * not call the core); NULL turns it off. One pointer test per event when off. */
void rs_core_set_tap(struct rs_core *core,
                     void (*fn)(void *ctx, const struct rs_core_tap_event *e), void *ctx);


/* --- Access rules and the memory ceiling (core/access.c, docs/SECURITY.md) ------------- */

#define RS_CLIENT_GROUPS_MAX 32 /* supplementary gids of a client the rules see */

struct rs_acl;
/* rs_core_set_acl makes acl (base/acl.h, parsed by the shell, which keeps it alive and
 * frees the one it replaces after this call) decide every later client request; NULL:
 * every request is allowed. Called between applies (start, SIGHUP). */
void rs_core_set_acl(struct rs_core *core, const struct rs_acl *acl);
/* rs_core_set_memory_max sets the memory ceiling: while base/alloc.h counts more live
 * bytes than this, requests that add state are refused with ENOMEM; 0: none. */
void rs_core_set_memory_max(struct rs_core *core, uint64_t bytes);
struct rs_core_access_stats {
    uint64_t acl_rules;       /* rules in force (0: no --acl) */
    uint64_t acl_refusals;    /* requests refused by a rule since start */
    uint64_t memory_used;     /* live bytes of the node's allocator (0: not counted) */
    uint64_t memory_max;      /* --max-memory (0: none) */
    uint64_t memory_refusals; /* requests refused above the ceiling since start */
    int memory_full;          /* above the ceiling now */
};
void rs_core_access_stats(const struct rs_core *core, struct rs_core_access_stats *st);

#endif
