/* internal.h: private types and helpers shared by the core's modules.
 *
 * Every table hangs off struct rs_core. Ownership and links:
 *   client --list--> procs (pids) --list--> names, memberships, monitors watching it
 *   scope  --map---> names, groups --list--> members;  scope --list--> subscriptions
 *   core   --map---> clients (by conn), procs (by serial), scopes (by name),
 *                    members (by group id + serial), subs (by id), monitors (by id)
 * Lists are intrusive and doubly linked so that removing any element is O(1) and the death
 * of a pid touches only what it owns.
 *
 * Cluster (docs/CLUSTER.md): every other node is a struct rs_node (core map by incarnation)
 * owning the remote pids it told us about (node map by serial + list), so purging a node
 * walks only its own pids and their entries. A remote pid is a struct rs_proc with
 * client == NULL and node set. Every claim on a unique name is a struct rs_name; the scope
 * map holds the visible one (the winner by policy), the losing claims hang off it by alt in
 * winner order (conflict.c). Peer connections are in the core map peers (by conn). */
#ifndef ROSTER_CORE_INTERNAL_H
#define ROSTER_CORE_INTERNAL_H

#include <roster.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/alloc.h"
#include "../base/map.h"
#include "core.h"

#define RS_CLIENT_NAME_MAX 64 /* client name bytes kept for logs */

/* Intrusive list helpers: head is an lvalue pointer, x the element, p/n its link fields. */
#define RS_LIST_PUSH(head, x, p, n)      \
    do {                                 \
        (x)->p = NULL;                   \
        (x)->n = (head);                 \
        if (head)                        \
            (head)->p = (x);             \
        (head) = (x);                    \
    } while (0)
#define RS_LIST_DEL(head, x, p, n)       \
    do {                                 \
        if ((x)->p)                      \
            (x)->p->n = (x)->n;          \
        else                             \
            (head) = (x)->n;             \
        if ((x)->n)                      \
            (x)->n->p = (x)->p;          \
        (x)->p = (x)->n = NULL;          \
    } while (0)

struct rs_proc;
struct rs_sub;
struct rs_monitor;
struct rs_node;
struct rs_pmon;

struct rs_client {
    uint64_t conn;
    uint64_t unread;     /* bytes emitted in SENDs minus bytes reported flushed */
    uint64_t snap_unread; /* part of unread that is snapshot frames: not held against
                             queue_bytes (a snapshot is what the client asked for) */
    uint64_t n_entries;  /* names + memberships of all its pids */
    int32_t os_pid;
    uint32_t uid;
    uint32_t n_pids;
    uint32_t n_subs;
    uint32_t n_monitors;
    int hello;           /* handshake done */
    int closing;         /* CLOSE emitted: ignore its frames, send it nothing more */
    struct rs_proc *procs;
    struct rs_sub *subs;
    struct rs_monitor *mons;
    struct rs_call *calls; /* its pending calls and multi-calls (calls.c) */
    uint32_t n_calls;
    uint64_t fan_stamp; /* publish fan-out (route.c): == route.fan_stamp while grouping */
    uint32_t fan_slot;
    char name[RS_CLIENT_NAME_MAX + 1];
};

struct rs_name;
struct rs_member;

struct rs_proc {
    uint64_t serial;
    struct rs_client *client;    /* local pid: its client; NULL for a remote pid */
    struct rs_node *node;        /* remote pid: its node; NULL for a local pid */
    struct rs_proc *prev, *next; /* client's list (local) or node's list (remote) */
    struct rs_name *names;       /* names it holds (claims), all scopes */
    struct rs_member *members;   /* its memberships, all scopes */
    struct rs_monitor *mons;     /* local monitors watching it (local pids only) */
    struct rs_pmon *pmons;       /* monitors of other nodes watching it (local pids only) */
    struct rs_slot *slots;       /* calls waiting on it (local pids only; calls.c) */
};

struct rs_scope {
    uint64_t hash;
    uint32_t mode;
    uint32_t joined; /* this node replicates it (docs/CLUSTER.md) */
    uint32_t name_len;
    struct rs_map names;  /* struct rs_name by key */
    struct rs_map groups; /* struct rs_group by key */
    uint64_t n_members;
    struct rs_sub *subs;  /* live subscriptions of this scope */
    char name[RS_SCOPE_MAX + 1];
};

/* One claim on a name: one allocation with the key inline; meta only when non-empty. The
 * scope's map holds the visible claim; alt chains the hidden ones in winner order. */
struct rs_name {
    struct rs_name *prev, *next; /* owner pid's list */
    struct rs_name *alt;         /* next claim on the same key (hidden), or NULL */
    struct rs_proc *proc;
    struct rs_scope *scope;
    uint64_t hash;
    uint64_t hlc; /* stamp of the claim by its owner node */
    uint8_t *meta;
    uint32_t meta_len;
    uint32_t key_len : 31;
    uint32_t stale : 1; /* held from a snapshot in progress and not yet confirmed */
    uint8_t key[];
};

struct rs_group {
    uint64_t hash;
    uint64_t id; /* unique per core: keys the members map */
    struct rs_scope *scope;
    struct rs_member *members;
    uint64_t n_members;
    uint32_t key_len;
    uint8_t key[];
};

struct rs_member {
    struct rs_member *gprev, *gnext; /* group's list */
    struct rs_member *pprev, *pnext; /* pid's list */
    struct rs_group *group;
    struct rs_proc *proc;
    uint64_t hash;
    uint8_t *meta;
    uint32_t meta_len;
    uint32_t stale; /* as rs_name.stale */
};

struct rs_sub {
    uint64_t id;
    struct rs_client *client;
    struct rs_scope *scope;
    struct rs_sub *sprev, *snext; /* scope's list */
    struct rs_sub *cprev, *cnext; /* client's list */
    uint32_t flags;
    uint32_t pat_len;
    uint8_t pat[];
};

struct rs_monitor {
    uint64_t id;
    struct rs_client *client; /* watcher */
    struct rs_proc *target;   /* local target, or NULL for a remote one */
    struct rs_node *rnode;    /* remote target's node (the monitor id is the P_MONITOR ref) */
    struct rs_pid rpid;       /* remote target */
    struct rs_monitor *tprev, *tnext; /* target's list (or rnode's list) */
    struct rs_monitor *cprev, *cnext; /* watcher's list */
};

/* A monitor another node holds on one of our pids (P_MONITOR). */
struct rs_pmon {
    uint64_t ref;
    struct rs_node *node;
    struct rs_proc *target;
    struct rs_pmon *tprev, *tnext; /* target's list */
    struct rs_pmon *nprev, *nnext; /* node's list */
};

/* A scope a peer node announced it joined. */
struct rs_pscope {
    struct rs_pscope *next;
    uint32_t len;
    char name[];
};

/* Another node of the cluster, as this node knows it. */
struct rs_node {
    uint64_t inc;
    uint64_t conn;       /* current peer connection when up, else 0 */
    int state;           /* ROSTER_NODE_UP / DOWN / CONNECTING */
    int dialed;          /* current connection was dialed by this node */
    uint64_t last_rx_ms; /* last frame received */
    uint64_t last_ping_ms;
    struct rs_map procs;      /* its pids we hold entries of, by serial */
    struct rs_proc *proc_list;
    struct rs_monitor *rmons; /* our monitors of its pids */
    struct rs_pmon *pmons;    /* its monitors of our pids */
    struct rs_slot *slots;    /* our calls waiting on its pids and its calls on ours */
    struct rs_slot *px_head, *px_tail; /* its calls on our pids (proxies), oldest first */
    size_t n_px;
    uint32_t n_rmons;
    uint32_t n_pmons;
    uint64_t unread;          /* bytes sent on conn minus bytes reported flushed */
    int overflow;             /* unread passed outbuf_max: declared down at the apply's end */
    struct rs_pscope *scopes; /* scopes it joined */
    struct rs_scope *sync;    /* scope of the snapshot it is sending (NULL: one we ignore) */
    int sync_active;          /* between its P_SYNC_BEGIN and P_SYNC_END */
    uint32_t sync_len;        /* scope named by that P_SYNC_BEGIN (its END must match) */
    char sync_name[RS_SCOPE_MAX + 1];
    uint64_t n_entries;       /* names + memberships of its pids we hold (all scopes) */
    uint64_t since_ms;        /* record created (a CONNECTING one is forgotten later) */
    uint32_t name_len;
    uint32_t addr_len;
    char name[RS_NODE_NAME_MAX + 1];
    char addr[RS_NODE_NAME_MAX + 1];
};

/* A peer connection (the node's current one, or a duplicate about to close). */
struct rs_peer {
    uint64_t conn;
    struct rs_node *node;
};

/* --- messaging state (route.c, calls.c; docs/MESSAGING.md) --- */
struct rs_call;

/* One target of a call (ref unique per node, key of rs_route.slots): embedded in its
 * rs_call on the caller's node, or a proxy on the target's node for a caller of another
 * node (call NULL, origin and oref set). */
struct rs_slot {
    uint64_t ref;
    struct rs_call *call;
    struct rs_node *origin;          /* proxy: the caller's node */
    uint64_t oref;                   /* proxy: the caller node's ref */
    struct rs_pid pid;               /* target */
    struct rs_proc *proc;            /* local target (on its slots list), or NULL */
    struct rs_node *node;            /* remote target's node, or the proxy's origin */
    struct rs_slot *tprev, *tnext;   /* proc's list */
    struct rs_slot *nprev, *nnext;   /* node's list */
    struct rs_slot *fprev, *fnext;   /* origin node's proxies, oldest first */
    uint8_t *data;                   /* multi-call: the reply */
    uint32_t len;
    uint32_t state;                  /* RS_SLOT_* */
};
#define RS_SLOT_WAIT 0u
#define RS_SLOT_REPLIED 1u
#define RS_SLOT_BAD 2u

struct rs_call {
    uint64_t deadline; /* now_ms past which it times out (UINT64_MAX: never) */
    struct rs_client *client;
    struct rs_call *cprev, *cnext; /* client's list */
    size_t heap_idx;               /* in rs_route.heap */
    uint32_t req_id;
    uint8_t type;                  /* RS_MSG_CALL or RS_MSG_MULTI_CALL */
    uint32_t n_slots;
    uint32_t n_wait;
    uint32_t n_ok;
    struct rs_slot slots[];
};

struct rs_route {
    struct rs_map slots;     /* struct rs_slot by ref */
    uint64_t next_ref;
    struct rs_call **heap;   /* pending calls, min-heap by deadline */
    size_t heap_n, heap_cap;
    size_t n_px;             /* proxies (calls of other nodes on our pids), all nodes */
    size_t px_max;           /* proxies per origin node (0: RS_CALL_PROXIES_PER_NODE) */
    uint64_t delivered;      /* messages delivered to local pids */
    uint64_t dropped;        /* messages dropped: mailbox full, too big, link full */
    /* publish fan-out scratch (route.c), grown to the largest local fan-out, freed with
     * the core: the receiving clients, and their member serials grouped by client */
    struct rs_fan_client *fan;
    uint64_t *fan_serials;
    size_t fan_cap; /* of both fan and fan_serials */
    uint8_t *fan_prev; /* PREV bytes of one frame: up to RS_MSG_TARGETS_MAX - 1 serials */
    uint64_t fan_stamp;
};

struct rs_core {
    uint64_t inc;
    uint64_t seed;
    uint64_t start_ms;
    uint64_t now_ms;
    struct rs_limits lim;
    struct rs_map clients; /* by conn */
    struct rs_map procs;   /* live pids, by serial */
    struct rs_map scopes;  /* by name */
    struct rs_map members; /* by (group id, serial) */
    struct rs_map subs;    /* by id */
    struct rs_map mons;    /* by id */
    struct rs_scope *dflt;
    uint64_t next_serial;
    uint64_t next_sub_id;
    uint64_t next_mon_id;
    uint64_t next_group_id;
    uint64_t n_names;
    uint64_t n_groups;
    uint64_t n_members;
    struct rs_outputs *out; /* during rs_core_apply */
    int oom;                /* memory ran out during this apply */
    uint32_t node_len;
    char node[RS_NODE_NAME_MAX + 1];
    /* cluster */
    uint64_t wall_ms;         /* of the current input */
    uint64_t hlc;             /* last stamp issued or received */
    struct rs_map nodes;      /* struct rs_node by incarnation */
    struct rs_map peers;      /* struct rs_peer by conn */
    struct rs_map pmons;      /* struct rs_pmon by (node inc, ref) */
    uint32_t heartbeat_ms;
    uint32_t down_after_ms;
    uint32_t peer_monitors_max; /* monitors one node may hold on our pids (and we on its) */
    uint64_t peer_entries_max;  /* names + memberships we hold of one node */
    int nodes_full_logged;      /* gossip ignored at RS_NODES_MAX records: logged once */
    int peer_overflow;          /* some node has overflow set */
    enum rs_conflict_policy policy;
    rs_resolve_fn resolver;
    struct rs_node_priority *prios; /* copied, names owned */
    size_t n_prios;
    uint32_t addr_len;
    char addr[RS_NODE_NAME_MAX + 1];
    struct rs_route route; /* messaging (route.c, calls.c) */
};

/* --- output.c: frames, replies, events, closes and logs --------------------------- */
/* Every helper sets core->oom on allocation failure and returns -1; handlers may carry on. */
int rs_out_frame(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
int rs_out_frame_conn(struct rs_core *c, uint64_t conn, const struct rs_msg *m);
/* rs_out_reply sends r as the reply to req (type, flags, req_id are set here). */
int rs_out_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                 struct rs_msg *r);
int rs_out_item(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                struct rs_msg *it);
/* rs_out_ok replies STATUS 0 with no other field. */
int rs_out_ok(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
int rs_out_error(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req, int status,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* rs_out_count replies STATUS 0 ARG=n (end of a listing). */
int rs_out_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req, uint64_t n);
int rs_out_close(struct rs_core *c, struct rs_client *cl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rs_out_close_conn(struct rs_core *c, uint64_t conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rs_out_log(struct rs_core *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* rs_out_dial asks the shell to keep a connection to a node ("NAME HOST:PORT"). */
int rs_out_dial(struct rs_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* rs_out_event sends one EVENT frame to cl. */
int rs_out_event(struct rs_core *c, struct rs_client *cl, uint32_t kind, uint32_t reason,
                 int snapshot, uint64_t id, struct rs_pid pid, const struct rs_scope *sc,
                 struct rs_bytes key, struct rs_bytes meta, struct rs_bytes prev);
/* Text helpers for details: printable, truncated forms of keys and pids. */
const char *rs_fmt_key(char *buf, size_t cap, const uint8_t *p, size_t n);
const char *rs_fmt_pid(char *buf, struct rs_pid pid);

/* --- core.c ------------------------------------------------------------------------ */
void *rs_core_alloc(struct rs_core *c, size_t n); /* rs_malloc that sets oom */
uint8_t *rs_core_dup(struct rs_core *c, struct rs_bytes b, int *failed);
static inline struct rs_bytes rs_bytes_node(const struct rs_core *c)
{
    return rs_bytes_of(c->node, c->node_len);
}
static inline int rs_bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || __builtin_memcmp(a, b, an) == 0);
}
/* rs_bytes_cmp orders byte strings: memcmp over the common length, shorter first. */
int rs_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* rs_sort_head sorts v[0..n) enough that its first min(n, limit) elements are the smallest,
 * in order (limit 0: sort all); selection by a bounded heap so a small limit over a large
 * listing costs O(n log limit). */
void rs_sort_head(void **v, size_t n, size_t limit, int (*cmp)(const void *, const void *));
static inline int rs_is_prefix(const uint8_t *s, size_t n, const uint8_t *pre, size_t pn)
{
    return pn <= n && (pn == 0 || __builtin_memcmp(s, pre, pn) == 0);
}

/* --- pids.c ------------------------------------------------------------------------ */
struct rs_proc *rs_pids_find(const struct rs_core *c, struct rs_pid pid);
struct rs_proc *rs_pids_create(struct rs_core *c, struct rs_client *cl);
/* rs_pids_any finds a live local pid or a remote pid this node holds entries of. */
struct rs_proc *rs_pids_any(const struct rs_core *c, struct rs_pid pid);
static inline struct rs_pid rs_pids_of(const struct rs_core *c, const struct rs_proc *p)
{
    struct rs_pid pid = {p->node ? p->node->inc : c->inc, p->serial};
    return pid;
}
/* rs_pids_remote returns node's pid serial, created (empty) if new; NULL if out of memory. */
struct rs_proc *rs_pids_remote(struct rs_core *c, struct rs_node *n, uint64_t serial);
/* rs_pids_release frees remote pid p once it holds nothing. */
void rs_pids_release(struct rs_core *c, struct rs_proc *p);
/* rs_pids_kill_remote removes every entry of remote pid p (reason) and frees it. */
void rs_pids_kill_remote(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_pids_kill runs the death cascade of p (names, groups, monitors) and frees it. */
void rs_pids_kill(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_pids_owned checks that req's PID is a live pid of cl; else sends the error reply
 * (ENOPROC / ENOTOWNER) and returns NULL. */
struct rs_proc *rs_pids_owned(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_pids_on_new(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_pids_on_close(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

/* --- scope.c ----------------------------------------------------------------------- */
struct rs_scope *rs_scope_find(const struct rs_core *c, struct rs_bytes name);
struct rs_scope *rs_scope_create(struct rs_core *c, struct rs_bytes name, uint32_t mode);
/* rs_scope_of resolves req's SCOPE (empty = default) or replies ENOSCOPE and returns NULL. */
struct rs_scope *rs_scope_of(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_free(struct rs_scope *s);
void rs_scope_on_create(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_on_list(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_scope_joined_of is rs_scope_of for writes: the scope must also be joined. */
struct rs_scope *rs_scope_joined_of(struct rs_core *c, struct rs_client *cl,
                                    const struct rs_msg *req);

/* --- registry.c -------------------------------------------------------------------- */
/* rs_check_entry validates KEY / META of a register or join request; 0 or error sent. */
int rs_check_entry(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                   const char *what);
struct rs_name *rs_registry_find(const struct rs_core *c, const struct rs_scope *s,
                                 const uint8_t *key, size_t len);
void rs_registry_remove(struct rs_core *c, struct rs_name *n, uint32_t reason);
void rs_registry_on_register(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_registry_on_unregister(struct rs_core *c, struct rs_client *cl,
                               const struct rs_msg *req);
void rs_registry_on_lookup(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_registry_on_names(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_registry_put_remote applies a remote register (or update) of key by remote pid p.
 * 0, or -1 when out of memory. */
int rs_registry_put_remote(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                           struct rs_bytes key, struct rs_bytes meta, uint64_t hlc);
/* rs_registry_claim_of returns p's claim on key in s, or NULL. */
struct rs_name *rs_registry_claim_of(const struct rs_core *c, const struct rs_scope *s,
                                     const struct rs_proc *p, struct rs_bytes key);
/* rs_registry_matching collects the names of s whose key starts with pre (all if exact is
 * 0) or equals it (exact 1), sorted by key. Caller frees *out. -1 when out of memory. */
int rs_registry_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                         size_t pn, int exact, struct rs_name ***out, size_t *n);

/* --- groups.c ---------------------------------------------------------------------- */
struct rs_group *rs_groups_find(const struct rs_core *c, const struct rs_scope *s,
                                const uint8_t *key, size_t len);
void rs_groups_remove_member(struct rs_core *c, struct rs_member *m, uint32_t reason);
void rs_groups_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_members(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_is_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_groups(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_groups_put adds p to group key of s or updates its metadata (events); 0 or -1. */
int rs_groups_put(struct rs_core *c, struct rs_scope *s, struct rs_proc *p, struct rs_bytes key,
                  struct rs_bytes meta);
struct rs_member *rs_groups_member(const struct rs_core *c, const struct rs_group *g,
                                   const struct rs_proc *p);
int rs_groups_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                       size_t pn, int exact, struct rs_group ***out, size_t *n);
/* rs_groups_sorted_members returns g's members sorted by pid. Caller frees *out. */
int rs_groups_sorted_members(struct rs_core *c, const struct rs_group *g,
                             struct rs_member ***out);

/* --- events.c ---------------------------------------------------------------------- */
/* rs_events_emit fans one registry (group = 0) or group (group = 1) event out to the
 * matching subscriptions of s, stopping those whose connection is too far behind. */
void rs_events_emit(struct rs_core *c, struct rs_scope *s, int group, uint32_t kind,
                    uint32_t reason, struct rs_pid pid, struct rs_bytes key,
                    struct rs_bytes meta, struct rs_bytes prev);
void rs_events_on_subscribe(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_events_on_unsubscribe(struct rs_core *c, struct rs_client *cl,
                              const struct rs_msg *req);
void rs_events_drop_client(struct rs_core *c, struct rs_client *cl);
/* rs_events_node sends NODE_UP / NODE_DOWN (kind) about node name to every subscription of
 * s. */
void rs_events_node(struct rs_core *c, struct rs_scope *s, uint32_t kind, struct rs_bytes name);
void rs_events_free_all(struct rs_core *c);

/* --- monitor.c --------------------------------------------------------------------- */
void rs_monitor_on_monitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_monitor_on_demonitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_monitor_fire delivers DOWN for every monitor on p and removes them. */
void rs_monitor_fire(struct rs_core *c, struct rs_proc *p, uint32_t reason);
void rs_monitor_drop_client(struct rs_core *c, struct rs_client *cl);
void rs_monitor_free_all(struct rs_core *c);
/* rs_monitor_on_p_down delivers a P_DOWN from node n for one of our remote monitors. */
void rs_monitor_on_p_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_monitor_node_down fires DOWN node_down for every monitor of n's pids. */
void rs_monitor_node_down(struct rs_core *c, struct rs_node *n);
/* rs_monitor_resend asks n again (P_MONITOR) for every monitor we hold on its pids: on a
 * new connection to n, which forgot what it held for the replaced one. */
void rs_monitor_resend(struct rs_core *c, struct rs_node *n);

/* --- hlc.c ------------------------------------------------------------------------- */
#define RS_HLC_SKEW_MAX_MS (3600u * 1000u) /* a received stamp moves our clock this far at most */
/* rs_hlc_stamp returns a new stamp above every stamp issued or received. */
uint64_t rs_hlc_stamp(struct rs_core *c);
void rs_hlc_recv(struct rs_core *c, uint64_t hlc);

/* --- conflict.c -------------------------------------------------------------------- */
/* rs_claims_cmp < 0 when claim a wins over b under the node's policy (total order). */
int rs_claims_cmp(const struct rs_core *c, const struct rs_name *a, const struct rs_name *b);
/* rs_claims_add puts claim n (not yet in its scope) among the claims on its key, emits the
 * events of a visible-holder change, and makes a local claim that loses give up the name
 * (reason conflict). 0, or -1 when out of memory (n is then not added). */
int rs_claims_add(struct rs_core *c, struct rs_name *n);
/* rs_claims_del takes claim n out of its scope, surfacing the next claim if n was visible;
 * events of the visible-holder change with reason. */
void rs_claims_del(struct rs_core *c, struct rs_name *n, uint32_t reason);
/* rs_claims_visible returns 1 if n is its key's visible claim. */
int rs_claims_visible(const struct rs_core *c, const struct rs_name *n);
/* rs_claims_recheck puts claim n, whose metadata just changed, back in winner order (a
 * custom resolver may read metadata): events of a visible-holder change, and a local claim
 * that now loses gives the name up. */
void rs_claims_recheck(struct rs_core *c, struct rs_name *n);

/* --- cluster.c --------------------------------------------------------------------- */
int rs_cluster_init(struct rs_core *c, const struct rs_core_config *cfg);
void rs_cluster_free(struct rs_core *c);
void rs_cluster_on_up(struct rs_core *c, const struct rs_input *in);
void rs_cluster_on_msg(struct rs_core *c, uint64_t conn, const struct rs_msg *m);
void rs_cluster_on_gone(struct rs_core *c, uint64_t conn);
void rs_cluster_on_tick(struct rs_core *c);
/* rs_cluster_on_flushed accounts n bytes written on peer conn (0 if conn is no peer). */
int rs_cluster_on_flushed(struct rs_core *c, uint64_t conn, uint64_t n);
/* rs_cluster_end_apply declares down the nodes whose unread output overflowed. */
void rs_cluster_end_apply(struct rs_core *c);
void rs_cluster_on_nodes(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
struct rs_node *rs_cluster_node(const struct rs_core *c, uint64_t inc);
/* rs_cluster_node_named finds the node called name (the up one first), or NULL. */
struct rs_node *rs_cluster_node_named(const struct rs_core *c, struct rs_bytes name);
/* rs_cluster_name_of is the name of the node owning pids of incarnation inc. */
struct rs_bytes rs_cluster_name_of(const struct rs_core *c, uint64_t inc);
int rs_cluster_joined(const struct rs_node *n, const struct rs_scope *s);
/* rs_cluster_fail closes n's connection for a protocol error and declares n down. */
void rs_cluster_fail(struct rs_core *c, struct rs_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rs_cluster_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_cluster_each_up calls fn for every up node (in no particular order). */
#define RS_CLUSTER_EACH_UP(c, n)                                                         \
    for (size_t n##_i = 0; n##_i < (c)->nodes.cap; n##_i++)                             \
        for (struct rs_node *n = (c)->nodes.slots[n##_i].item;                         \
             n && n->state == ROSTER_NODE_UP; n = NULL)
/* rs_cluster_pmons_fire sends P_DOWN for every peer monitor of local pid p. */
void rs_cluster_pmons_fire(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_cluster_count_node counts node (NULL = this node) entries in s. */
void rs_cluster_count_node(const struct rs_core *c, const struct rs_scope *s,
                           const struct rs_node *n, uint64_t *names, uint64_t *groups,
                           uint64_t *members);

/* --- route.c: SEND, PUBLISH, MESSAGE delivery, P_SEND, P_PUBLISH ------------------- */
struct rs_fan_client {
    struct rs_client *cl;
    size_t n, at; /* its serials: route.fan_serials[at .. at + n) */
};
void rs_route_init(struct rs_core *c);
void rs_route_free(struct rs_core *c);
void rs_route_on_send(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_route_on_publish(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_route_deliver sends one MESSAGE to local pid to: 0, ROSTER_EAGAIN (mailbox full),
 * ROSTER_ETOOBIG (frame too big) or ROSTER_ENOPROC (its client is closing); drops are
 * counted. */
int rs_route_deliver(struct rs_core *c, struct rs_proc *to, uint32_t kind, struct rs_pid from,
                     struct rs_bytes from_node, struct rs_bytes scope, struct rs_bytes key,
                     struct rs_bytes payload, uint64_t ref);
/* rs_route_forward sends P_SEND to up node n: 0, ROSTER_EAGAIN (link full, counted),
 * ROSTER_ETOOBIG (frame too big, counted) or ROSTER_ENOPROC (node not up). */
int rs_route_forward(struct rs_core *c, struct rs_node *n, uint32_t kind, uint64_t from_serial,
                     struct rs_pid to, struct rs_bytes scope, struct rs_bytes key,
                     struct rs_bytes payload, uint64_t ref);
/* rs_route_resolve finds the target of a SEND / CALL: *local for a live local pid, else
 * *node for a pid of an up node (that node decides whether it is alive); *to is the pid.
 * 0, ROSTER_ENOPROC, ROSTER_ENOTFOUND (name not registered) or ROSTER_ENOSCOPE. *scope is
 * the scope's name when sent by name (it travels with the message), else empty. */
int rs_route_resolve(struct rs_core *c, const struct rs_msg *req, struct rs_proc **local,
                     struct rs_node **node, struct rs_pid *to, struct rs_bytes *scope);
/* rs_route_sender checks that serial ARG of req is a live pid of cl: the pid, or NULL. */
struct rs_proc *rs_route_sender(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_route_on_peer applies P_SEND / P_PUBLISH / P_REPLY / P_NOPROC from up node n. */
void rs_route_on_peer(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);

/* --- calls.c: CALL, REPLY, MULTI_CALL, timeouts ------------------------------------- */
void rs_calls_on_call(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_calls_on_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_calls_on_multi(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_calls_on_p_send keeps a proxy for a call of node n to local pid to and delivers it. */
void rs_calls_on_p_send(struct rs_core *c, struct rs_node *n, const struct rs_msg *m,
                        struct rs_proc *to);
void rs_calls_on_p_reply(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
void rs_calls_on_p_noproc(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_calls_tick answers the calls past their deadline (ETIMEDOUT / bad members). */
void rs_calls_tick(struct rs_core *c);
/* rs_calls_pid_dead fails the calls waiting on local pid p (it is dying). */
void rs_calls_pid_dead(struct rs_core *c, struct rs_proc *p);
/* rs_calls_node_down fails our calls waiting on n's pids and forgets n's calls on ours. */
void rs_calls_node_down(struct rs_core *c, struct rs_node *n);
/* rs_calls_drop_client forgets cl's calls (it is gone). */
void rs_calls_drop_client(struct rs_core *c, struct rs_client *cl);
void rs_calls_free_all(struct rs_core *c);
uint64_t rs_calls_pending(const struct rs_core *c);

/* --- repl.c ------------------------------------------------------------------------ */
/* rs_repl_op sends one P_OP to every up node that joined s. */
void rs_repl_op(struct rs_core *c, const struct rs_scope *s, uint32_t op, uint32_t reason,
                uint64_t hlc, struct rs_pid pid, struct rs_bytes key, struct rs_bytes meta);
/* rs_repl_pid_down sends one P_PID_DOWN for local pid p to every up node sharing a scope
 * in which p holds entries. */
void rs_repl_pid_down(struct rs_core *c, const struct rs_proc *p, uint32_t reason);
/* rs_repl_snapshot sends our own entries of s to n (P_SYNC_BEGIN, P_ENTRY..., END). */
void rs_repl_snapshot(struct rs_core *c, struct rs_node *n, struct rs_scope *s);
/* rs_repl_on_frame applies a replication frame of up node n (P_SCOPE .. P_PID_DOWN). */
void rs_repl_on_frame(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_repl_drop drops the entries of node n (every node if NULL) in scope s (every scope
 * if NULL), with reason. */
void rs_repl_drop(struct rs_core *c, struct rs_node *n, const struct rs_scope *s,
                  uint32_t reason);
/* rs_repl_announce tells every up node that we joined (1) or left (0) s, and sends our
 * snapshot of s to those that joined it. */
void rs_repl_announce(struct rs_core *c, struct rs_scope *s, int joined);

#endif
