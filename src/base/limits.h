/* limits.h: every default limit of roster in one place. The node's limits are configurable
 * at run time (rosterd flags); these are the defaults and the hard ceilings. Documented in
 * docs/LIMITS.md; tests/unit/test_core_*.c and tests/api/test_node_*.c prove each one. */
#ifndef ROSTER_BASE_LIMITS_H
#define ROSTER_BASE_LIMITS_H

#include <assert.h>

#define RS_FRAME_HEADER 12u                  /* bytes of every frame header */
#define RS_SCOPE_MAX 255u                    /* scope name bytes (not configurable) */
#define RS_NODE_NAME_MAX 64u                 /* node name bytes (not configurable) */
#define RS_NAME_MAX_DEFAULT 1024u            /* name / group name bytes */
#define RS_META_MAX_DEFAULT (64u * 1024u)    /* metadata bytes */
#define RS_FRAME_MAX_DEFAULT (2u * 1024u * 1024u) /* frame bytes after the length prefix:
                                                     holds a message of message_max */
#define RS_FRAME_MAX_CEILING (64u * 1024u * 1024u)
#define RS_FRAME_MIN 4096u
#define RS_CONNS_MAX_DEFAULT 4096u           /* client connections */
#define RS_PIDS_PER_CLIENT_DEFAULT 65536u    /* live pids per client */
#define RS_ENTRIES_PER_CLIENT_DEFAULT (4u * 1024u * 1024u) /* names + memberships */
#define RS_SUBS_PER_CLIENT_DEFAULT 1024u     /* subscriptions per client */
#define RS_MONITORS_PER_CLIENT_DEFAULT 65536u
#define RS_QUEUE_BYTES_DEFAULT (32u * 1024u * 1024u) /* unread event bytes per client */
#define RS_OUTBUF_MAX_DEFAULT (256u * 1024u * 1024u) /* unread bytes of any kind per client */
#define RS_OUTBUF_MAX_CEILING (1024u * 1024u * 1024u)
#define RS_STALL_MS_DEFAULT 30000u           /* a started frame must complete within this */
#define RS_MESSAGE_MAX_DEFAULT (1024u * 1024u) /* message payload bytes (docs/MESSAGING.md) */
#define RS_MAILBOX_BYTES_DEFAULT (64u * 1024u * 1024u) /* unread bytes per receiving client
                                                          above which messages are dropped */
/* A MESSAGE names at most this many receiving pids (ARG + PREV): a publish reaches the
 * members one client holds in frames of up to this many. */
#define RS_MSG_TARGETS_MAX 1024u
#define RS_CALLS_PER_CLIENT 65536u           /* pending calls + multi-calls per client */
#define RS_CALL_PROXIES_PER_NODE (256u * 1024u) /* calls of one other node waiting on our
                                                   pids; past it that node's oldest is
                                                   failed (P_NOPROC ELIMIT) */

/* node defaults */
#define RS_HEARTBEAT_MS_DEFAULT 500u         /* peer ping interval (rosterd --heartbeat-ms) */
#define RS_DOWN_AFTER_MS_DEFAULT 3000u       /* peer silence before it is declared down
                                                (--down-after-ms) */

/* strong scopes */
#define RS_KV_LEASE_TTL_MS_DEFAULT 10000u /* the node's etcd lease TTL (--etcd-lease-ttl-ms) */
#define RS_KV_TIMEOUT_MS_DEFAULT 5000u    /* deadline of one etcd operation (--etcd-timeout-ms) */
#define RS_KV_FENCE_MARGIN_MIN_MS 200u    /* self-fence at least this long before the lease
                                             may expire (and at least TTL / 6 before) */
#define RS_KV_TXN_OPS_MAX 64u             /* removals in one etcd transaction (etcd's default
                                             --max-txn-ops is 128) */
#define RS_KV_RETRIES_MAX 8u              /* compare-and-retry rounds of one strong write */
#define RS_KV_PENDING_PER_CLIENT 1024u    /* strong operations of one client waiting on etcd */
#define RS_KV_BATCH_MAX 127u              /* registrations and joins in one group-commit
                                             transaction (each a nested txn of one compare,
                                             one put, one read: etcd's --max-txn-ops 128
                                             allows 127 of them, see src/etcd/encode.c) */
#define RS_KV_BATCH_BYTES (1024u * 1024u)  /* ... and at most this much of keys and records
                                             (etcd refuses requests over 1.5 MiB) */
#define RS_KV_BATCH_INFLIGHT 1u           /* creates (single or batched) in flight before
                                             new ones wait to go together */
#define RS_KV_BATCH_STALL_MS 20u          /* a create in flight this long no longer holds
                                             the others back (etcd failing over) */
#define RS_KV_CREATES_MAX 8u              /* creates (single or batched) in flight at once */

/* shared-memory reads (docs/SHM.md): the region's size. The file is sized once and filled
 * as entries come (its pages cost memory only once written); 0 (--no-shm): no region */
#define RS_SHM_BYTES_DEFAULT (1024u * 1024u * 1024u)

/* node caps */
#define RS_HANDSHAKE_TIMEOUT_MS 5000u /* a peer connection must connect and authenticate
                                         within this */
#define RS_HANDSHAKES_MAX 64u /* pending peer handshakes; more connections are closed at once */
#define RS_SEEDS_MAX 32              /* --join seeds */
#define RS_CONFIG_SCOPES_MAX 64      /* --scope flags */
#define RS_PRIORITIES_MAX 64         /* --priority flags */
#define RS_ETCD_PREFIX_MAX 256       /* bytes of --etcd-prefix */
#define RS_ETCD_ENDPOINTS_MAX 16     /* endpoints in --etcd (the etcd client's bound) */

/* client defaults */
#define RS_CLIENT_EVQ_DEFAULT (64u * 1024u * 1024u) /* libroster's event queue bytes
                                                       (options.event_queue_bytes = 0) */

/* metadata queries (QUERY, QUERY_COUNT, UNMATCH: wire/query.h, wire/match.c) */
#define RS_QUERY_CONDS_MAX 8u    /* conditions in one filter (all must hold) */
#define RS_QUERY_GLOB_MAX 256u   /* bytes of a glob pattern: matching costs at most
                                    pattern x metadata steps per entry */
#define RS_QUERY_FIELD_MAX 256u  /* bytes of a --where field name */
#define RS_QUERY_JSON_DEPTH 64u  /* nesting a --where scan follows; deeper metadata does
                                    not match */

/* core caps */
#define RS_NODE_ADDR_MAX 255u                /* a node's listen address "host:port" bytes */
#define RS_CLIENT_NAME_MAX 64u               /* client name bytes kept for logs */
#define RS_NODES_MAX 1024u                   /* node records; past it gossip of new names
                                                is ignored */
#define RS_NODE_FORGET_MS 60000u             /* a gossiped node never up this long is
                                                forgotten */
#define RS_SCOPE_META_MAX 1024u              /* keys of one scope's metadata (and as many
                                                delete markers, oldest forgotten first) */
#define RS_SCOPE_LEASE_MAX_MS (7u * 24u * 3600u * 1000u) /* scope-join --ttl: at most a
                                                week */
#define RS_PEER_SCOPES_MAX 1024u             /* scopes one node may announce as joined;
                                                past it the node is declared down */
#define RS_PEER_MONITORS_MAX_DEFAULT (1u << 20) /* monitors one node may hold on our pids */
#define RS_PEER_ENTRIES_MAX_DEFAULT (1ull << 24) /* names + memberships held of one node */
#define RS_HLC_SKEW_MAX_MS (3600u * 1000u)   /* a received stamp moves our clock this far
                                                at most */
/* leases and exit reasons (issue 11 items 7 and 8; docs/API.md, docs/LIMITS.md) */
#define RS_TTL_MIN_MS 100u                   /* shortest lease: expiry is checked on the
                                                node's tick (at most 100 ms apart) */
#define RS_TTL_MAX_MS (7u * 24u * 3600u * 1000u) /* longest lease: one week */
#define RS_EXIT_REASON_MAX 64u               /* bytes of a caller's exit reason */

/* A frame must be able to carry the largest name and metadata twice (events carry the
 * previous metadata too) plus a scope, node name and fixed fields. */
static_assert(RS_FRAME_MIN >= RS_FRAME_HEADER + 2 * RS_SCOPE_MAX + 128, "frame min");
static_assert(RS_FRAME_MAX_DEFAULT >=
                  RS_FRAME_HEADER + RS_NAME_MAX_DEFAULT + 2 * RS_META_MAX_DEFAULT +
                      RS_SCOPE_MAX + RS_NODE_NAME_MAX + 128,
              "default frame max must hold the largest event");

/* Limits in force on one node (and enforced by the codec when decoding). */
struct rs_limits {
    unsigned name_max;
    unsigned meta_max;
    unsigned frame_max;
    unsigned conns_max;
    unsigned pids_per_client;
    unsigned entries_per_client;
    unsigned subs_per_client;
    unsigned monitors_per_client;
    unsigned queue_bytes;
    unsigned outbuf_max;
    unsigned stall_ms;
    unsigned message_max;  /* message payload bytes */
    unsigned mailbox_bytes; /* a receiving client's unread bytes before messages drop */
};

void rs_limits_default(struct rs_limits *l);
/* rs_limits_check returns 0 if l is coherent (frame_max holds the largest event), else -1. */
int rs_limits_check(const struct rs_limits *l);

#endif
