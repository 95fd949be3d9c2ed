/* internal.h: the structs every core module shares, and the intrusive list macros.
 * Each module declares its functions in its own header (pids.h, names.h, change.h, ...);
 * docs/ARCHITECTURE.md gives their layers.
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
 * winner order (claims.c). Peer connections are in the core map peers (by conn). */
#ifndef ROSTER_CORE_INTERNAL_H
#define ROSTER_CORE_INTERNAL_H

#include <roster.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/limits.h"
#include "base/map.h"
#include "core/core.h"


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
struct rs_kv;
struct rs_kscope;
struct rs_shm_writer;
struct rs_lease;

/* Flow control (flow.c): a message held back, in its target's FIFO and (when a local
 * client sent it) on that sender's list. frame is the encoded frame to write later. */
struct rs_parked {
    struct rs_parked *next;          /* target FIFO */
    struct rs_parked *sprev, *snext; /* sender's list */
    struct rs_client *sender;        /* charged for it (NULL: from a peer, or sender gone) */
    uint64_t origin;                 /* incarnation of the node it came from (0: local) */
    uint32_t confirm_req;            /* a confirmed SEND's request id, answered on delivery */
    uint32_t pids;                   /* receivers it names (a publish frame names several) */
    uint32_t len;
    uint8_t frame[];
};
struct rs_park {
    struct rs_parked *head, *tail;
    uint64_t bytes;
};
struct rs_smeta_tab;
/* A pid of another node whose messages that node asked us to hold (P_FLOW with a pid). */
struct rs_flow_pid {
    struct rs_flow_pid *next;
    uint64_t serial;
    struct rs_park park;
};
/* A pause this node asked of another node for one of a local client's pids. */
struct rs_flow_ask {
    uint64_t node_inc;
    uint64_t serial;
};

struct rs_client {
    uint64_t conn;
    uint64_t unread;     /* bytes emitted in SENDs minus bytes reported flushed */
    uint64_t snap_unread; /* part of unread that is snapshot frames: not held against
                             queue_bytes (a snapshot is what the client asked for) */
    uint64_t n_entries;  /* names + memberships of all its pids */
    int32_t os_pid;
    uint32_t uid;
    uint32_t gid;        /* SO_PEERCRED, and the supplementary gids: access rules */
    uint32_t n_groups;
    uint32_t groups[RS_CLIENT_GROUPS_MAX];
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
    uint32_t n_kv;        /* its strong-scope operations waiting on etcd (strong.c) */
    uint32_t n_kv_creates; /* ... of them, writes that may add an entry (register, join,
                              campaign): they count toward entries_per_client at once */
    uint64_t fan_stamp; /* publish fan-out (route.c): == route.fan_stamp while grouping */
    uint32_t fan_slot;
    /* flow control (flow.c): messages held for it while its unread output is above the
     * high-water mark; messages it sent that are held anywhere, their bytes, and whether
     * the shell was told to stop reading it */
    struct rs_park park;
    struct rs_parked *held;
    uint64_t held_bytes;
    int paused;
    struct rs_flow_ask *asks; /* pauses asked of other nodes for its pids */
    uint32_t n_asks;
    char name[RS_CLIENT_NAME_MAX + 1];
    struct rs_chan_cl *chan; /* direct channels (chan.c): NULL unless it takes them */
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
    uint64_t owner;              /* remote pid: its holder client's os pid | uid << 32, as
                                    its node replicated it (0: not known; owner.c) */
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
    struct rs_kscope *kv; /* strong scope: the local copy of its etcd state (kvcopy.c) */
    struct rs_smeta_tab *meta; /* the scope's metadata (smeta.c), NULL until first set */
    uint64_t n_local;     /* names + memberships of local pids in it (a scope lease) */
    uint64_t lease_ms;    /* joined with a lease (scopelease.c): left after this long
                             unused; 0: joined for good */
    uint64_t idle_since;  /* leased: now_ms when it was last seen in use */
    uint32_t opts;        /* ROSTER_SCOPE_DUPLICATE_MEMBERS | ROSTER_SCOPE_UNIQUE_PER_NODE:
                             fixed at creation, announced in P_SCOPE (repl_in.c) */
    uint32_t opts_adopt;  /* joined while no peer announced it: the first peer's options
                             are taken while the scope is still empty */
    uint32_t shm_id;      /* its record's id in the shared-memory region (publish.c), 0:
                             not looked up yet: saves a search of the records per write */
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
    uint32_t key_len : 30;
    uint32_t stale : 1; /* held from a snapshot in progress and not yet confirmed */
    uint32_t leased : 1; /* it has a TTL (local claims only; ttl.c finds the lease) */
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
    uint32_t stale : 1;  /* as rs_name.stale */
    uint32_t leased : 1; /* as rs_name.leased */
    uint64_t seq;   /* scope with ROSTER_SCOPE_DUPLICATE_MEMBERS: this node's order of the
                       pid's entries in the group (oldest lowest; keys it in the members
                       map); 0 elsewhere */
};

struct rs_sub {
    uint64_t id;
    struct rs_client *client;
    struct rs_scope *scope;
    struct rs_sub *sprev, *snext; /* scope's list */
    struct rs_sub *cprev, *cnext; /* client's list */
    uint32_t flags;
    uint64_t kv_watch; /* strong, from a revision: fed by its own etcd watch (this kv_id),
                          not by the scope's events */
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
    uint32_t opts; /* the scope's options as that node announced them */
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
    /* flow control (flow.c): messages to it held here; it asked us to pause (P_FLOW);
     * bytes it sent that are held here, and whether we asked it to pause */
    struct rs_park park;
    int flow_paused;
    uint64_t held_from;
    int flow_asked;
    struct rs_flow_pid *paused_pids; /* its pids it asked us to hold messages for */
    uint32_t n_paused_pids;
    int overflow;             /* unread passed outbuf_max: declared down at the apply's end */
    struct rs_pscope *scopes; /* scopes it joined */
    struct rs_pscope *down_scopes; /* DOWN: the scopes it had joined (NODES of a scope lists
                                      it as down) */
    uint64_t down_wall_ms;    /* DOWN: wall clock (ms) when it was declared down */
    struct rs_scope *sync;    /* scope of the snapshot it is sending (NULL: one we ignore) */
    int sync_active;          /* between its P_SYNC_BEGIN and P_SYNC_END */
    uint32_t sync_len;        /* scope named by that P_SYNC_BEGIN (its END must match) */
    char sync_name[RS_SCOPE_MAX + 1];
    uint64_t n_entries;       /* names + memberships of its pids we hold (all scopes) */
    uint64_t since_ms;        /* record created (a CONNECTING one is forgotten later) */
    uint64_t rtt_ms;          /* last heartbeat round trip (P_PONG), for metrics */
    uint64_t n_up;            /* times it came up (PEER_UP accepted): reconnects + 1 */
    uint64_t bytes_in;        /* frames received from it, all its connections */
    uint64_t bytes_out;       /* bytes sent to it that reached the socket (FLUSHED) */
    int left;                 /* DOWN because it left cleanly (P_LEAVE): not redialed */
    uint32_t name_len;
    uint32_t addr_len;
    char name[RS_NODE_NAME_MAX + 1];
    char addr[RS_NODE_ADDR_MAX + 1];
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

struct rs_fan_client {
    struct rs_client *cl;
    size_t n, at; /* its serials: route.fan_serials[at .. at + n) */
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
    /* flow control (flow.c): messages held now and their bytes; messages ever held;
     * senders paused now */
    uint64_t held_msgs, held_bytes, held_total;
    uint64_t paused;
    /* publish fan-out scratch (route.c), grown to the largest local fan-out, freed with
     * the core: the receiving clients, and their member serials grouped by client */
    struct rs_fan_client *fan;
    uint64_t *fan_serials;
    size_t fan_cap; /* of both fan and fan_serials */
    uint8_t *fan_prev; /* PREV bytes of one frame: up to RS_MSG_TARGETS_MAX - 1 serials */
    uint64_t fan_stamp;
};

/* The admission point's state (access.c). */
struct rs_access {
    const struct rs_acl *acl; /* the shell's rules, not owned; NULL: all allowed */
    uint64_t acl_refused;
    uint64_t mem_max;         /* 0: no memory ceiling */
    uint64_t mem_refused;
    uint64_t log_window_ms;   /* refusal log lines: LOG_BURST a second */
    uint32_t logged;
    uint64_t suppressed;
    int recheck;              /* new rules: subscriptions are judged again (next apply) */
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
    uint64_t next_member_seq; /* rs_member.seq of duplicate-member scopes */
    uint32_t n_leased;        /* scopes joined with a lease (scopelease.c) */
    uint64_t n_names;
    uint64_t n_groups;
    uint64_t n_members;
    struct rs_outputs *out; /* during rs_core_apply */
    int oom;                /* memory ran out during this apply */
    uint32_t node_len;
    char node[RS_NODE_NAME_MAX + 1];
    void (*tap)(void *ctx, const struct rs_core_tap_event *e); /* dashboard (view.c) */
    void *tap_ctx;
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
    char addr[RS_NODE_ADDR_MAX + 1];
    struct rs_route route; /* messaging (route.c, calls.c) */
    /* strong scopes (strong.c): NULL without kv_enabled */
    struct rs_kv *kv;
    int ev_kv;               /* rs_out_event: a strong scope's event (node, revision below) */
    struct rs_bytes ev_node;
    uint64_t ev_rev;
    /* counters for metrics (rs_core_stats) */
    uint64_t n_requests;      /* client frames handled (STATUS "requests": rates for top) */
    uint64_t n_events_sent;   /* EVENT frames queued to subscribers */
    uint64_t n_sub_overflows; /* subscriptions ended by an OVERFLOW event */
    uint64_t n_conflicts;     /* a second claim on a unique name, settled by the policy */
    uint64_t n_nodes_down;    /* other nodes declared down */
    /* shared-memory reads (publish.c): NULL when off */
    struct rs_shm_writer *shm;
    struct rs_access access; /* access rules and memory ceiling (access.c) */
    /* leases (ttl.c: min-heap by deadline) and the exit reason of the pid dying now
     * (lease.c, change.c: carried by its events and notices; empty otherwise) */
    struct {
        struct rs_lease **v;
        size_t n, cap;
        struct rs_map by;   /* struct rs_lease by its entry's address */
        struct rs_map pids; /* struct rs_ttl_pid by its pid's address: the pids with
                               leases or expiries not yet told (ttl.c) */
    } ttl;
    struct rs_bytes exit_text;
    int trace; /* the shell logs at level trace: one line per client request */
    /* runtime membership (membership.c) */
    int left;                 /* cluster-leave: peers refused until cluster-join */
    uint32_t admin_uid;       /* besides uid 0, the uid allowed the node's administration */
    /* conflict resolver (resolver.c) */
    const struct roster_resolver *rsv; /* RS_POLICY_CUSTOM through the public API, or NULL */
    uint64_t n_resolver_refused; /* answers of the resolver refused (default policy used) */
    uint64_t n_resolver_logged;  /* refusals already logged (resolver.c) */
    const char *rsv_why;         /* the last refusal: why, and of which scope and name */
    const char *rsv_scope;
    uint32_t rsv_key_len;
    uint8_t rsv_key[64];
    uint64_t n_leases_expired; /* entries removed because their lease ran out (lease.c) */
    struct rs_chans *chans;    /* direct channels between local clients (chan.c) */
};

#endif
