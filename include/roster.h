/* roster.h: the client library for rosterd, the roster node daemon.
 *
 * roster is a process registry and process-group service: a program connects to its local
 * node (rosterd) over a Unix-domain socket, gets process ids (pids), registers unique names
 * for them, joins groups, looks others up and watches changes.
 *
 * Rules that hold for every function below:
 *
 * - Errors: functions return 0 (ROSTER_OK) or a positive count on success and a negative
 *   ROSTER_E* code on failure. roster_strerror() describes a code; roster_errdetail() gives
 *   the detail of the last failed call on a client (for example which pid holds a name).
 *   Nothing in the library prints, aborts or exits.
 * - Timeouts: every call that waits for the node takes timeout_ms; ROSTER_FOREVER (-1) waits
 *   without limit, 0 fails at once with ROSTER_ETIMEDOUT unless the answer is already there.
 *   A timed-out request is abandoned: its late answer is discarded, never given to a later call.
 *   The request itself may still have been (or still be) carried out by the node: after a
 *   timed-out roster_register, look the name up to know whether it is yours. In a strong
 *   scope the node says the same with ROSTER_EUNKNOWN when etcd left it in doubt (the write
 *   may or may not be applied: read, or retry with the same pid, which is idempotent);
 *   ROSTER_EUNAVAIL there means no etcd quorum answered and nothing was applied
 *   (docs/CONSISTENCY.md).
 * - Threads: a roster_client may be used by one thread at a time. Open one client per thread,
 *   or guard a shared one with a mutex. Different clients are independent. The library keeps
 *   no global mutable state except the allocator set by roster_set_allocator().
 * - Ownership: arguments are borrowed (not retained after the call returns). Everything the
 *   library returns through an out-parameter is owned by the caller and freed with the free
 *   function named in the call's comment (roster_buf_free, roster_entries_free,
 *   roster_event_free, ...). Every free function accepts NULL / empty values.
 * - Names, group names and metadata are byte strings (pointer + length); they may contain
 *   any byte. Scope names are NUL-terminated strings; NULL means the "default" scope.
 * - Signals: the library sets MSG_NOSIGNAL on its writes, so a closed node never raises
 *   SIGPIPE in the caller.
 */
#ifndef ROSTER_H
#define ROSTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ROSTER_VERSION_MAJOR 0
#define ROSTER_VERSION_MINOR 5
#define ROSTER_VERSION_PATCH 0
#define ROSTER_VERSION_NUMBER \
    (ROSTER_VERSION_MAJOR * 10000 + ROSTER_VERSION_MINOR * 100 + ROSTER_VERSION_PATCH)

#define ROSTER_API __attribute__((visibility("default")))

/* Wait without limit. */
#define ROSTER_FOREVER (-1)

/* The one list of error codes: name, value, message. Values are stable and travel on the
 * wire; they are never renumbered, only appended. */
#define ROSTER_ERRNO_MAP(X)                                                              \
    X(OK, 0, "success")                                                                  \
    X(EINVAL, -1, "invalid argument")                                                    \
    X(ENOTFOUND, -2, "not found")                                                        \
    X(ETAKEN, -3, "name is registered to another pid")                                   \
    X(ENOTOWNER, -4, "not the owner of this entry")                                      \
    X(ENOTMEMBER, -5, "pid is not a member of this group")                               \
    X(ENOPROC, -6, "no such process (pid is dead or unknown)")                          \
    X(ETIMEDOUT, -7, "timed out")                                                        \
    X(ECONNECT, -8, "cannot connect to the roster node")                                 \
    X(ECLOSED, -9, "connection to the roster node closed")                               \
    X(ELIMIT, -10, "limit reached (names, groups, pids, subscriptions or monitors)")     \
    X(ETOOBIG, -11, "frame too big")                                                     \
    X(ENAMETOOLONG, -12, "name too long")                                                \
    X(EMETATOOBIG, -13, "metadata too big")                                              \
    X(EPROTO, -14, "protocol error (malformed frame)")                                   \
    X(EVERSION, -15, "protocol version not supported by the node")                       \
    X(ENOMEM, -16, "out of memory")                                                      \
    X(ENOSCOPE, -17, "no such scope")                                                    \
    X(EEXIST, -18, "already exists")                                                     \
    X(EAGAIN, -19, "nothing available now, try again")                                   \
    X(EBUSY, -20, "busy: the node refused (too many connections, or a scope still in use)") \
    X(EUNAVAIL, -21, "service unavailable")                                              \
    X(EAUTH, -22, "authentication failed")                                               \
    X(EINTERNAL, -23, "internal error")                                                  \
    X(EIO, -24, "input/output error")                                                    \
    X(EPERM, -25, "not permitted")                                                       \
    X(ESUBOVERFLOW, -26, "subscription overflowed; resubscribe")                       \
    X(EUNKNOWN, -27, "outcome unknown: the operation may or may not have been applied")  \
    X(ECONFLICT, -28, "compare failed: the current value is not the expected one")       \
    X(ECOMPACTED, -29, "history compacted: the revision asked for is no longer kept")    \
    X(EACCES, -30, "access denied by the node's access rules")                           \
    X(EEXPIRED, -32, "lease expired: leased entries of the pid were removed")            \
    X(ENOCHANNEL, -33, "no direct channel: off, not taken by a client, or another node's pid")

#define ROSTER_ERR_ENUM_(name, value, msg) ROSTER_##name = (value),
enum roster_err { ROSTER_ERRNO_MAP(ROSTER_ERR_ENUM_) };
#undef ROSTER_ERR_ENUM_

/* roster_strerror returns a static message for a code ("unknown error" if none). */
ROSTER_API const char *roster_strerror(int err);
/* roster_err_name returns the code's name without prefix, e.g. "ETAKEN"; "EOTHER" for a
 * value that is not in the map (ROSTER_EUNKNOWN is a real code: "outcome unknown"). */
ROSTER_API const char *roster_err_name(int err);
/* roster_version returns ROSTER_VERSION_NUMBER of the library actually linked. */
ROSTER_API int roster_version(void);

/* --- Values ------------------------------------------------------------------------- */

/* A process id: the node incarnation that created it and a serial. Copy and compare freely.
 * The zero pid {0, 0} is never a valid pid. */
typedef struct roster_pid {
    uint64_t node_inc;
    uint64_t serial;
} roster_pid;

/* Text form of a pid: 16 hex digits of node_inc, '.', decimal serial. */
#define ROSTER_PID_STRLEN 40
/* roster_pid_format writes the text form of pid into buf (at least ROSTER_PID_STRLEN bytes)
 * and returns buf. */
ROSTER_API char *roster_pid_format(roster_pid pid, char *buf);
/* roster_pid_parse parses the text form; returns 0 or ROSTER_EINVAL. */
ROSTER_API int roster_pid_parse(const char *text, roster_pid *out);
/* roster_pid_equal returns 1 when a and b are the same pid. */
ROSTER_API int roster_pid_equal(roster_pid a, roster_pid b);

/* Reasons carried by pid deaths, unregistrations and leaves. */
typedef enum roster_reason {
    ROSTER_REASON_NONE = 0,
    ROSTER_REASON_NORMAL = 1,       /* explicit unregister / leave / pid close */
    ROSTER_REASON_DISCONNECTED = 2, /* owner client's connection closed (exit, crash, kill) */
    ROSTER_REASON_NODE_DOWN = 3,    /* owner's node was declared down */
    ROSTER_REASON_CONFLICT = 4,     /* lost a name conflict */
    ROSTER_REASON_NOPROC = 5,       /* monitored pid was not alive when the monitor started */
    ROSTER_REASON_LEASE_LOST = 6,   /* strong scope: the node could not renew its etcd lease in
                                       time; the holder must assume the name is gone */
    ROSTER_REASON_HANDOFF = 7,      /* strong or eventual: the name was handed to another pid */
    ROSTER_REASON_EXPIRED = 8,      /* the entry's lease (TTL) ran out unrenewed: removed by its
                                       owner's node although its client may still be connected */
    ROSTER_REASON_NODE_LEFT = 9,    /* owner's node left the cluster cleanly (cluster-leave) */
    ROSTER_REASON_EXIT = 10,        /* the pid was closed with an exit reason of the caller's
                                       choosing (roster_pid_exit): the text is the event's
                                       reason_text */
} roster_reason;
/* roster_reason_name returns "normal", "disconnected", ... ("none" for 0). */
ROSTER_API const char *roster_reason_name(int reason);

/* A byte buffer returned by the library. Free with roster_buf_free. */
typedef struct roster_buf {
    uint8_t *data;
    size_t len;
} roster_buf;
ROSTER_API void roster_buf_free(roster_buf *b);

/* One registry entry or group member, as returned by lookups and listings. */
typedef struct roster_entry {
    roster_buf name; /* name, or group name */
    roster_pid pid;
    char node[256];  /* name of the node that owns pid, NUL-terminated */
    roster_buf meta;
    uint64_t count;  /* groups listing: member count; scopes listing: number of names */
    uint64_t groups; /* scopes listing: number of groups; otherwise 0 */
    int mode;        /* scopes listing: ROSTER_SCOPE_EVENTUAL or ROSTER_SCOPE_STRONG */
    uint64_t token;    /* lookup: the holder's fencing token (strictly increasing per name
                          across grants; strong: etcd's revision of the grant) */
    uint64_t revision; /* strong scopes: the etcd revision the answer reflects (0: eventual) */
    unsigned options;  /* scopes listing: the scope's ROSTER_SCOPE_* options (0: none) */
} roster_entry;

/* A list of entries. Free with roster_entries_free (frees every entry's buffers too). */
typedef struct roster_entries {
    roster_entry *items;
    size_t n;
} roster_entries;
ROSTER_API void roster_entries_free(roster_entries *list);

/* --- Connecting --------------------------------------------------------------------- */

typedef struct roster_client roster_client;

typedef struct roster_options {
    const char *socket_path; /* NULL: $ROSTER_SOCKET, else roster_default_socket() */
    const char *client_name; /* shown by the node in logs; may be NULL */
    int timeout_ms;          /* connect + handshake timeout; default 5000 */
    size_t event_queue_bytes; /* bound of events read but not yet taken with
                                 roster_next_event; default 64 MiB (see roster_subscribe) */
    int group_messages;       /* 1: each frame of a publish that reaches several pids of
                                 this client is ONE ROSTER_EV_MESSAGE naming them all
                                 (ev->n_to, ev->to_all); a frame names at most 1,024 pids
                                 (fewer under the node's frame and mailbox limits), so a
                                 publish to more arrives as several events whose n_to add
                                 up. 0 (default): one event per receiving pid */
    int no_shm;               /* 1: read over the socket only, never from the node's
                                 shared-memory region (also: environment ROSTER_NO_SHM=1);
                                 0 (default): lookup, members, count and is-member of
                                 eventual scopes read the region (docs/SHM.md) */
    int reconnect;            /* 1: survive a restart of the node (docs/RECONNECT.md): when
                                 the connection is lost the library reconnects with
                                 backoff, queues ROSTER_EV_RECONNECTED, and re-creates the
                                 pids, names, memberships, subscriptions (with a snapshot)
                                 and monitors made by blocking calls on this client and not
                                 undone; each one it cannot re-create is reported by a
                                 ROSTER_EV_RESTORE_FAILED event. 0 (default): a lost
                                 connection is final (ECLOSED) */
    int reconnect_max_ms;     /* reconnect: the longest wait between two attempts (the
                                 first is immediate, then 50 ms doubling up to this);
                                 default 2000 */
    int drop_messages;        /* 1: this client's sends and publishes carry
                                 ROSTER_SEND_DROP (dropped at a full mailbox instead of
                                 waiting), and messages to it past event_queue_bytes are
                                 dropped by the library (counted, ROSTER_EV_OVERFLOW).
                                 0 (default): flow control, nothing is dropped: senders wait
                                 while a receiver is behind (docs/MESSAGING.md) */
    int no_channels;          /* 1: never take a direct channel to another client of the
                                 node: every message and call is relayed by the node (also:
                                 environment ROSTER_NO_CHANNELS=1); 0 (default): messages
                                 and calls by pid between two clients of one node move to a
                                 channel after a few (docs/MESSAGING.md, "Direct channels") */
} roster_options;

/* roster_options_init fills opts with defaults. Always call it before setting fields, so
 * that fields added later get their defaults. */
ROSTER_API void roster_options_init(roster_options *opts);

/* roster_default_socket writes the default socket path into buf (cap bytes): $ROSTER_SOCKET
 * if set, /run/roster.sock for root, else $XDG_RUNTIME_DIR/roster.sock, else
 * /tmp/roster-UID.sock. Returns buf. */
ROSTER_API const char *roster_default_socket(char *buf, size_t cap);

/* roster_connect opens a client connection and performs the versioned handshake. On success
 * *out is a client owned by the caller (release with roster_close) with one pid already
 * created (roster_self). Errors: ECONNECT (no node), EVERSION, EBUSY, ETIMEDOUT, ENOMEM. */
ROSTER_API int roster_connect(roster_client **out, const roster_options *opts);

/* roster_close closes the connection; every pid the client owned dies with reason
 * "disconnected" (use roster_pid_close first for reason "normal"). After messages sent
 * without an answer (pipelined sends and publishes) it waits, up to options.timeout_ms,
 * until the node has read and routed all of them (one ping round trip; longer while the
 * node is slowing this client: flow control); what it has not taken by then is lost.
 * NULL-safe. */
ROSTER_API void roster_close(roster_client *c);

/* roster_errdetail returns a description of the last failed call on c ("" if none). The
 * string is owned by c and valid until the next call on c. */
ROSTER_API const char *roster_errdetail(const roster_client *c);

/* roster_uses_shm returns 1 when the client mapped the node's shared-memory region (its
 * eventual-scope reads then need no system call), 0 when every read uses the socket. */
ROSTER_API int roster_uses_shm(const roster_client *c);

/* roster_self returns the pid created for this client at connect. */
ROSTER_API roster_pid roster_self(const roster_client *c);
/* roster_node_name returns the local node's name (owned by c). */
ROSTER_API const char *roster_node_name(const roster_client *c);
/* roster_node_incarnation returns the local node's incarnation. */
ROSTER_API uint64_t roster_node_incarnation(const roster_client *c);

/* --- Processes ---------------------------------------------------------------------- */

/* roster_pid_new creates another pid owned by this client. ELIMIT past the per-client cap. */
ROSTER_API int roster_pid_new(roster_client *c, roster_pid *out, int timeout_ms);
/* roster_pid_close kills a pid of this client with reason "normal": its names are
 * unregistered and it leaves its groups. ENOTOWNER if it is not this client's pid. */
ROSTER_API int roster_pid_close(roster_client *c, roster_pid pid, int timeout_ms);
/* roster_pid_exit kills a pid of this client like roster_pid_close, with an exit reason of
 * the caller's choosing: every node delivers the UNREGISTERED and LEFT events of its entries
 * and the DOWN events of its monitors with reason ROSTER_REASON_EXIT and reason_text =
 * reason. reason: 1 to ROSTER_EXIT_REASON_MAX bytes, no control bytes (< 0x20, 0x7f), and
 * not one of the built-in reason names (roster_reason_name: "normal", "expired", ...):
 * ROSTER_EINVAL otherwise. ENOTOWNER as roster_pid_close. */
#define ROSTER_EXIT_REASON_MAX 64
ROSTER_API int roster_pid_exit(roster_client *c, roster_pid pid, const char *reason,
                               int timeout_ms);
/* roster_renew renews the lease of every leased entry (roster_register_ttl,
 * roster_join_ttl) of pid, a pid of this client: each runs for its own TTL again from now.
 * *renewed (may be NULL) receives how many were renewed (0 if none has a lease).
 * ROSTER_EEXPIRED if some leased entry of pid expired since the previous renew (the others
 * were renewed all the same; the next renew succeeds); ENOTOWNER, ENOPROC. */
ROSTER_API int roster_renew(roster_client *c, roster_pid pid, uint64_t *renewed,
                            int timeout_ms);

/* --- Scopes ------------------------------------------------------------------------- */

#define ROSTER_SCOPE_EVENTUAL 0
#define ROSTER_SCOPE_STRONG 1
/* Options of an eventual scope, OR'ed into roster_scope_create's mode; fixed for the scope's
 * life, replicated with it (a node that joins it takes them from the peers that announce
 * it; two nodes whose scope of one name has other options do not replicate it: the node
 * logs why), and listed in roster_entry.options by roster_scopes. Scopes with options are
 * read over the socket (never the shared-memory region). EINVAL with ROSTER_SCOPE_STRONG.
 *   DUPLICATE_MEMBERS: each join adds a membership of its own (its own metadata), even
 *     for a pid already in the group; each leave removes that pid's oldest one.
 *   UNIQUE_PER_NODE: a name is unique on each node, but several nodes may each hold it
 *     (no conflict between nodes); roster_lookup answers the local holder, else the holder
 *     of the lowest node name; roster_lookup_all lists every holder. */
#define ROSTER_SCOPE_DUPLICATE_MEMBERS 0x100
#define ROSTER_SCOPE_UNIQUE_PER_NODE 0x200
#define ROSTER_SCOPE_OPTIONS (ROSTER_SCOPE_DUPLICATE_MEMBERS | ROSTER_SCOPE_UNIQUE_PER_NODE)
/* roster_scope_create creates a scope. EEXIST if it already exists (with any mode). */
ROSTER_API int roster_scope_create(roster_client *c, const char *scope, int mode,
                                   int timeout_ms);
/* roster_scope_join makes the node join an existing-or-new eventual scope: the node then
 * replicates it with the other nodes that joined it (docs/CLUSTER.md). Joining a scope the
 * node already joined is a success. Registering or joining groups in a scope the node has
 * not joined fails with ROSTER_ENOSCOPE. "default" is always joined. */
ROSTER_API int roster_scope_join(roster_client *c, const char *scope, int timeout_ms);
/* roster_scope_leave makes the node leave a scope: the entries it replicated from other
 * nodes in that scope are dropped locally (with events) and peers stop sending them.
 * ROSTER_EBUSY while local pids still hold names or memberships in it; ROSTER_EINVAL for
 * "default"; ROSTER_ENOSCOPE if the node has not joined it. */
ROSTER_API int roster_scope_leave(roster_client *c, const char *scope, int timeout_ms);
/* roster_scopes lists scopes: each entry's name is the scope, count its number of names,
 * groups its number of groups, mode its ROSTER_SCOPE_* mode; pid and meta are empty. Free *out with roster_entries_free. */
ROSTER_API int roster_scopes(roster_client *c, roster_entries *out, int timeout_ms);
/* Scope metadata: key-value pairs attached to an eventual scope, replicated to every node
 * that joined it, with events (ROSTER_EV_SCOPE_META_SET / _DELETED to subscriptions with
 * ROSTER_SUB_SCOPE_META). Keys are 1..name_max bytes, values up to meta_max bytes, at most
 * 1,024 keys per scope (ELIMIT past it). Writes made on two nodes at once converge: the
 * write with the higher hybrid-logical-clock stamp wins on every node, ties going to the
 * higher node name (a delete is a write too). ENOSCOPE if the node has not joined the
 * scope, EINVAL in a strong scope. */
/* roster_scope_meta_set sets key to value (an event only if the value changes). */
ROSTER_API int roster_scope_meta_set(roster_client *c, const char *scope, const void *key,
                                     size_t key_len, const void *value, size_t value_len,
                                     int timeout_ms);
/* roster_scope_meta_get reads key's value into *value (free with roster_buf_free);
 * ENOTFOUND if the key has none. */
ROSTER_API int roster_scope_meta_get(roster_client *c, const char *scope, const void *key,
                                     size_t key_len, roster_buf *value, int timeout_ms);
/* roster_scope_meta_list lists the scope's keys starting with prefix (prefix_len 0: all),
 * sorted: name = key, meta = value, node = the node that last wrote it, token = that
 * write's stamp. Free *out with roster_entries_free. */
ROSTER_API int roster_scope_meta_list(roster_client *c, const char *scope, const void *prefix,
                                      size_t prefix_len, roster_entries *out, int timeout_ms);
/* roster_scope_meta_delete deletes key; ENOTFOUND if it has no value. */
ROSTER_API int roster_scope_meta_delete(roster_client *c, const char *scope, const void *key,
                                        size_t key_len, int timeout_ms);
/* roster_scope_join_ttl joins an eventual scope (as roster_scope_join) with a lease: the
 * node leaves it by itself once it has been unused for ttl_ms (1 ms .. 7 days) - no name or
 * membership of a local pid in it, no subscription of it, and when the time is up no local
 * monitor of a pid holding an entry in it (one renews the lease) - so that it stops
 * receiving data nobody on it needs. Calling it again sets
 * a new lease; roster_scope_join makes the join permanent. EINVAL for "default" and strong
 * scopes. */
ROSTER_API int roster_scope_join_ttl(roster_client *c, const char *scope, int ttl_ms,
                                     int timeout_ms);

/* --- Registry ----------------------------------------------------------------------- */

/* roster_register registers name for pid (a pid of this client) with metadata. Registering
 * again with the same pid replaces the metadata. ETAKEN if another pid holds it
 * (*holder, if not NULL, receives that pid). ENOTOWNER if pid is not this client's,
 * ENAMETOOLONG, EMETATOOBIG, ELIMIT, ENOSCOPE. */
ROSTER_API int roster_register(roster_client *c, const char *scope, const void *name,
                               size_t name_len, roster_pid pid, const void *meta,
                               size_t meta_len, roster_pid *holder, int timeout_ms);
/* roster_register_token is roster_register that also gives the grant's fencing token
 * (*token, if not NULL): a number that strictly increases per name across grants, so a
 * resource that remembers the highest token it saw can refuse an older holder. In a strong
 * scope it is etcd's revision of the grant; re-registering with new metadata keeps it. */
ROSTER_API int roster_register_token(roster_client *c, const char *scope, const void *name,
                                     size_t name_len, roster_pid pid, const void *meta,
                                     size_t meta_len, roster_pid *holder, uint64_t *token,
                                     int timeout_ms);
/* roster_check_token says whether token is name's current one: 1 current, 0 stale (the
 * name was granted again since, or is free), or a negative error. Linearizable in a strong
 * scope; answered by the owner's node in an eventual one. *current_token (if not NULL)
 * receives the current token (0: not registered). */
ROSTER_API int roster_check_token(roster_client *c, const char *scope, const void *name,
                                  size_t name_len, uint64_t token, uint64_t *current_token,
                                  int timeout_ms);
/* roster_handoff re-points name from its holder to the live pid to, atomically: the name is
 * never free in between, and to's client is told (ROSTER_EV_REGISTERED with reason
 * ROSTER_REASON_HANDOFF, id 0) and owns it from then on. The caller must be the holder's
 * client, or a client of the same OS user (ENOTOWNER otherwise). if_token (0: any) makes it
 * conditional (ECONFLICT). *token receives the new grant's token. Strong scopes; in an
 * eventual scope, between pids of the holder's node only (EINVAL otherwise). */
ROSTER_API int roster_handoff(roster_client *c, const char *scope, const void *name,
                              size_t name_len, roster_pid to, uint64_t if_token,
                              uint64_t *token, int timeout_ms);

/* What roster_update compares before it writes. */
typedef struct roster_update_cond {
    int if_token;          /* compare the token with token */
    uint64_t token;
    int if_meta;           /* compare the metadata, byte for byte, with meta */
    const void *meta;
    size_t meta_len;
    roster_pid member;     /* a membership of member in the group name; zero pid: a name */
} roster_update_cond;
/* roster_update replaces a name's (or, with cond->member, a membership's) metadata only if
 * what cond names matches (cond NULL, or neither if_token nor if_meta: unconditionally):
 * ECONFLICT otherwise, with the current metadata in *current and the current token in
 * *token (both may be NULL; free *current with roster_buf_free; on success *current is
 * left empty and *token is the token now). The caller must be the holder's client or a
 * client of the same OS user. Strong scopes, and eventual scopes on the owner's node. */
ROSTER_API int roster_update(roster_client *c, const char *scope, const void *name,
                             size_t name_len, const void *meta, size_t meta_len,
                             const roster_update_cond *cond, uint64_t *token,
                             roster_buf *current, int timeout_ms);
/* roster_update_fn computes the next metadata from the current one: fill *next (its memory
 * stays the callback's until the next call or the end of roster_update_with); return 0 to
 * write it, or a non-zero value to stop (roster_update_with returns that value). */
typedef int (*roster_update_fn)(void *arg, const roster_buf *current, roster_buf *next);
/* roster_update_with runs a read-modify-write loop on name's metadata: read it (one
 * lookup), call fn, compare-and-set with the token AND the metadata read, and on ECONFLICT
 * call fn again on the value the conflict returned, until it succeeds or timeout_ms has
 * passed (ETIMEDOUT). *token (if not NULL) receives the token after the write. */
ROSTER_API int roster_update_with(roster_client *c, const char *scope, const void *name,
                                  size_t name_len, roster_update_fn fn, void *arg,
                                  uint64_t *token, int timeout_ms);
/* roster_campaign waits until pid holds name (leader election in a strong scope), in
 * first-come order among the candidates, then answers like roster_register_token. The
 * candidacy ends (and the name is resigned) when pid closes or the client goes; resign
 * explicitly with roster_unregister. timeout_ms -1 waits without limit. After ETIMEDOUT the
 * candidacy stays on the node until pid closes (the late answer is dropped): campaign with
 * a pid made for it and close that pid to withdraw. EINVAL in an eventual scope. */
ROSTER_API int roster_campaign(roster_client *c, const char *scope, const void *name,
                               size_t name_len, roster_pid pid, const void *meta,
                               size_t meta_len, uint64_t *token, int timeout_ms);

/* roster_campaign_async sends the same request without waiting: the answer arrives, however
 * late, as a ROSTER_EV_REPLY event with req_id = *req_out, status, pid = the holder and token
 * = the fencing token. It is not a pipelined write: roster_wait_all neither waits for it nor
 * consumes its answer, and blocking calls may be made while it is pending. The request is
 * written at once. To give up, close pid (or the client). */
ROSTER_API int roster_campaign_async(roster_client *c, const char *scope, const void *name,
                                     size_t name_len, roster_pid pid, const void *meta,
                                     size_t meta_len, uint64_t *req_out);

/* Read modes for strong scopes. By default every lookup and listing of a strong scope is
 * linearizable (one etcd read). ROSTER_READ_STALE answers from the node's local copy (kept
 * current by an etcd watch); entry.revision (and roster_last_revision) says which etcd
 * revision the answer reflects. Eventual scopes ignore the mode. */
#define ROSTER_READ_LINEARIZABLE 0
#define ROSTER_READ_STALE 1
/* roster_set_read_mode sets the mode of this client's later reads; returns the old one. */
ROSTER_API int roster_set_read_mode(roster_client *c, int mode);
/* roster_last_revision is the revision the last answered read in a strong scope reflected. */
ROSTER_API uint64_t roster_last_revision(const roster_client *c);

/* roster_unregister removes a name registered by one of this client's pids. ENOTFOUND if
 * it is not registered, ENOTOWNER if another client's pid holds it. */
ROSTER_API int roster_unregister(roster_client *c, const char *scope, const void *name,
                                 size_t name_len, int timeout_ms);
/* roster_lookup finds name. On success *out holds the entry; free it with
 * roster_entry_free. ENOTFOUND when nobody holds it. */
ROSTER_API int roster_lookup(roster_client *c, const char *scope, const void *name,
                             size_t name_len, roster_entry *out, int timeout_ms);
ROSTER_API void roster_entry_free(roster_entry *e);
/* roster_names lists names starting with prefix (prefix_len 0: all), sorted by name, at
 * most limit entries (0: no limit). If pid is not the zero pid, only that pid's names.
 * Free *out with roster_entries_free. */
ROSTER_API int roster_names(roster_client *c, const char *scope, const void *prefix,
                            size_t prefix_len, roster_pid pid, size_t limit,
                            roster_entries *out, int timeout_ms);

/* Counts of a scope. node: NULL for the whole scope, or a node name: only the entries of that
 * node's pids (ENOTFOUND if the node is not known). */
typedef struct roster_counts {
    uint64_t names;
    uint64_t groups;
    uint64_t members;
    uint64_t revision; /* strong scopes: the etcd revision counted (0: eventual) */
} roster_counts;
ROSTER_API int roster_count(roster_client *c, const char *scope, const char *node,
                            roster_counts *out, int timeout_ms);
/* roster_register_ttl is roster_register_token with a lease: unless pid renews it
 * (roster_renew) within ttl_ms, the owner's node removes the name everywhere with reason
 * ROSTER_REASON_EXPIRED, even though the client is still connected (a hung process holding
 * a name). The node keeps the time (other nodes never expire it by their own clocks); the
 * removal happens within one node tick (at most 100 ms) after the lease ran out, and pid's
 * client hears it as an UNREGISTERED event with id 0 and reason expired. Registering again
 * (with or without a TTL) sets the entry's lease anew: roster_register leaves it without
 * one. ttl_ms: ROSTER_TTL_MIN_MS to ROSTER_TTL_MAX_MS, else ROSTER_EINVAL; eventual scopes
 * only (a strong scope's names live by the node's etcd lease: ROSTER_EINVAL). Other errors
 * as roster_register. */
#define ROSTER_TTL_MIN_MS 100u
#define ROSTER_TTL_MAX_MS 604800000u
ROSTER_API int roster_register_ttl(roster_client *c, const char *scope, const void *name,
                                   size_t name_len, roster_pid pid, const void *meta,
                                   size_t meta_len, uint32_t ttl_ms, roster_pid *holder,
                                   uint64_t *token, int timeout_ms);

/* A lookup's answer that owns no memory (roster_lookup_into). */
typedef struct roster_found {
    roster_pid pid;
    uint64_t token;    /* as roster_entry.token */
    uint64_t revision; /* as roster_entry.revision */
    size_t meta_len;   /* the metadata's full length; more than meta_cap: it was cut */
} roster_found;
/* roster_lookup_into is roster_lookup for a program that looks names up per request: it
 * allocates nothing. It fills *out and copies the first min(meta_len, meta_cap) bytes of the
 * metadata into meta (which may be NULL when meta_cap is 0); the holder's node name is not
 * returned (roster_lookup has it). Answered from the shared-memory region (docs/SHM.md) it
 * makes no system call either. ENOTFOUND when nobody holds name (then meta's bytes are
 * unspecified). */
ROSTER_API int roster_lookup_into(roster_client *c, const char *scope, const void *name,
                                  size_t name_len, roster_found *out, void *meta,
                                  size_t meta_cap, int timeout_ms);

/* roster_lookup_local is roster_lookup answered with this node's holder only (ENOTFOUND
 * when the name is held by a pid of another node, or by nobody): in a scope with
 * ROSTER_SCOPE_UNIQUE_PER_NODE, the local holder. */
ROSTER_API int roster_lookup_local(roster_client *c, const char *scope, const void *name,
                                   size_t name_len, roster_entry *out, int timeout_ms);
/* roster_lookup_all lists every holder of name, ordered by node name: one entry at most
 * in a plain scope, one per node that holds it in a scope with
 * ROSTER_SCOPE_UNIQUE_PER_NODE (an empty list when nobody holds it). Free *out with
 * roster_entries_free. */
ROSTER_API int roster_lookup_all(roster_client *c, const char *scope, const void *name,
                                 size_t name_len, roster_entries *out, int timeout_ms);

/* --- Groups ------------------------------------------------------------------------- */

/* roster_join adds pid (a pid of this client) to group with metadata; joining again
 * replaces the metadata. ENOTOWNER, ENAMETOOLONG, EMETATOOBIG, ELIMIT, ENOSCOPE. */
ROSTER_API int roster_join(roster_client *c, const char *scope, const void *group,
                           size_t group_len, roster_pid pid, const void *meta,
                           size_t meta_len, int timeout_ms);
/* roster_leave removes pid from group. ENOTMEMBER when it is not a member. */
ROSTER_API int roster_leave(roster_client *c, const char *scope, const void *group,
                            size_t group_len, roster_pid pid, int timeout_ms);
/* roster_members lists the members of group (local_only: only pids of this node), sorted
 * by pid. Free *out with roster_entries_free. An unknown group has no members (returns 0). */
ROSTER_API int roster_members(roster_client *c, const char *scope, const void *group,
                              size_t group_len, int local_only, roster_entries *out,
                              int timeout_ms);
/* roster_is_member returns 1 if pid is in group, 0 if not, or a negative error. */
ROSTER_API int roster_is_member(roster_client *c, const char *scope, const void *group,
                                size_t group_len, roster_pid pid, int timeout_ms);
/* roster_groups lists groups whose name starts with prefix (sorted; each entry's count is
 * its member count, pid is zero, node empty). If pid is not the zero pid, only groups it belongs to,
 * with its metadata. At most limit entries (0: no limit). Free with roster_entries_free. */
ROSTER_API int roster_groups(roster_client *c, const char *scope, const void *prefix,
                             size_t prefix_len, roster_pid pid, size_t limit,
                             roster_entries *out, int timeout_ms);
/* roster_members_into writes the pids of group's members (local_only: only pids of this
 * node), sorted by pid, into pids[0, min(*n_out, cap)) and sets *n_out to the number of
 * members; it allocates nothing (pids may be NULL when cap is 0; metadata: roster_members).
 * *n_out > cap means the list was cut: call again with room for *n_out. An unknown group
 * has no members (0, *n_out = 0). From the shared-memory region it reads the group's
 * records in one pass, without a system call. */
ROSTER_API int roster_members_into(roster_client *c, const char *scope, const void *group,
                                   size_t group_len, int local_only, roster_pid *pids,
                                   size_t cap, size_t *n_out, int timeout_ms);

/* --- Queries on metadata (docs/API.md, "Queries") ---------------------------------- */

/* One condition on an entry's metadata (roster_match.op). */
#define ROSTER_MATCH_EQ 1     /* the metadata is value, byte for byte */
#define ROSTER_MATCH_PREFIX 2 /* the metadata starts with value */
#define ROSTER_MATCH_GLOB 3   /* the metadata matches the glob pattern value ('*', '?',
                                 "[a-z]", "[!x]", '\' quotes; at most 256 bytes) */
#define ROSTER_MATCH_FIELD 4  /* the metadata is a JSON object whose top-level member
                                 `field` equals value: a string by its unescaped bytes,
                                 a number, true, false, null, object or array by its text
                                 as written ("8080", "true"); not JSON: no match */
typedef struct roster_match {
    int op;            /* ROSTER_MATCH_* */
    const char *field; /* ROSTER_MATCH_FIELD: the member name (1..256 bytes), else NULL */
    const void *value;
    size_t value_len;
} roster_match;

/* What a query selects: every field must hold. Fill with roster_query_init first. */
typedef struct roster_query {
    const void *key;   /* a name or group; with prefix = 1 a prefix of them ("": all) */
    size_t key_len;
    int prefix;
    roster_pid pid;    /* only this pid's entries (zero pid: any) */
    const char *node;  /* only entries of this node's pids (NULL: any; ENOTFOUND if the
                          node is not known) */
    int local_only;    /* only entries of pids of the node this client is connected to */
    size_t limit;      /* listings: at most this many entries (0: no limit) */
    const roster_match *match; /* conditions on the metadata, all must hold (at most 8) */
    size_t n_match;
} roster_query;
/* roster_query_init sets *q to "every entry" (prefix "", no condition). */
ROSTER_API void roster_query_init(roster_query *q);
/* roster_query_names lists the names q selects, sorted by name. The node filters in
 * place over its table (the scope is not copied). Free *out with roster_entries_free.
 * EINVAL for a malformed condition. Strong scopes: one linearizable etcd read filtered by
 * the node, or the local copy with ROSTER_READ_STALE. Always over the socket (the
 * shared-memory region serves unfiltered reads only). */
ROSTER_API int roster_query_names(roster_client *c, const char *scope, const roster_query *q,
                                  roster_entries *out, int timeout_ms);
/* roster_query_members lists the memberships q selects (q->key: a group, or with prefix
 * the groups under it), sorted by group, then pid, then metadata; entry.name is the
 * group. Free *out with roster_entries_free. */
ROSTER_API int roster_query_members(roster_client *c, const char *scope,
                                    const roster_query *q, roster_entries *out,
                                    int timeout_ms);
/* roster_query_count counts what roster_query_names and roster_query_members would list:
 * out->names, out->members, and out->groups = groups holding a selected membership. With
 * an exact key: the name key (0 or 1) and the members of group key. q->limit is ignored. */
ROSTER_API int roster_query_count(roster_client *c, const char *scope, const roster_query *q,
                                  roster_counts *out, int timeout_ms);
/* roster_unregister_match unregisters the names q selects among this client's own (q->pid
 * zero: all its pids; or one pid of this client or of another client of the same OS user
 * on this node: ENOTOWNER otherwise, ENOPROC if it is not alive here), each as one
 * roster_unregister would (one UNREGISTERED event each, reason normal). Returns how many it
 * removed (0: none matched). q->node, local_only and limit are ignored. EINVAL in a strong
 * scope. */
ROSTER_API int roster_unregister_match(roster_client *c, const char *scope,
                                       const roster_query *q, int timeout_ms);
/* roster_leave_match is roster_unregister_match for memberships (one LEFT event each). */
ROSTER_API int roster_leave_match(roster_client *c, const char *scope, const roster_query *q,
                                  int timeout_ms);
/* roster_join_ttl is roster_join with a lease, as roster_register_ttl: unless pid renews
 * within ttl_ms, the membership leaves everywhere with reason ROSTER_REASON_EXPIRED (pid's
 * client hears a LEFT event with id 0). Joining again sets the lease anew. */
ROSTER_API int roster_join_ttl(roster_client *c, const char *scope, const void *group,
                               size_t group_len, roster_pid pid, const void *meta,
                               size_t meta_len, uint32_t ttl_ms, int timeout_ms);

/* --- Pipelined (asynchronous) writes ------------------------------------------------ */

/* These queue a request and return at once with its request id in *req_out (may be NULL);
 * the frame is written when the queue is large or on roster_flush / roster_wait_all. Each
 * answer arrives as a ROSTER_EV_REPLY event (req_id, status) unless ignored with
 * roster_wait_all. Do not mix with blocking calls without calling roster_wait_all first. */
ROSTER_API int roster_register_async(roster_client *c, const char *scope, const void *name,
                                     size_t name_len, roster_pid pid, const void *meta,
                                     size_t meta_len, uint64_t *req_out);
ROSTER_API int roster_unregister_async(roster_client *c, const char *scope, const void *name,
                                       size_t name_len, uint64_t *req_out);
ROSTER_API int roster_join_async(roster_client *c, const char *scope, const void *group,
                                 size_t group_len, roster_pid pid, const void *meta,
                                 size_t meta_len, uint64_t *req_out);
ROSTER_API int roster_leave_async(roster_client *c, const char *scope, const void *group,
                                  size_t group_len, roster_pid pid, uint64_t *req_out);
/* roster_flush writes queued requests. */
ROSTER_API int roster_flush(roster_client *c, int timeout_ms);
/* roster_wait_all flushes and waits until every pipelined request is answered. It returns
 * the number of requests that failed (0 = all succeeded) or a negative error; the answers
 * are consumed, not queued as events. */
ROSTER_API int roster_wait_all(roster_client *c, int timeout_ms);

/* --- Batches ------------------------------------------------------------------------ */

/* One entry of a batch: what to register or join (in), and how it went (out). */
typedef struct roster_batch_item {
    const void *key;      /* in: the name or group */
    size_t key_len;
    roster_pid pid;       /* in: a pid of this client */
    const void *meta;     /* in: its metadata */
    size_t meta_len;
    int status;           /* out: 0 or the entry's ROSTER_E* code */
    roster_pid holder;    /* out, register: the name's holder (also on ETAKEN) */
    uint64_t token;       /* out, register: the grant's fencing token */
} roster_batch_item;
/* roster_register_many registers items[0..n) in scope in one round trip: the requests are
 * written together, the node applies them in order, each exactly as roster_register would
 * (its own result in items[i].status, its own event), and the answers are read together.
 * Not atomic: entries before a failed one stay. Returns the number of items that failed
 * (0: all done), or a negative error for the batch as a whole (EINVAL for a bad argument:
 * nothing was sent; ETIMEDOUT or ECLOSED: the status of unanswered items is EUNKNOWN). At
 * most ROSTER_BATCH_MAX items. */
#define ROSTER_BATCH_MAX 4096
ROSTER_API int roster_register_many(roster_client *c, const char *scope,
                                    roster_batch_item *items, size_t n, int timeout_ms);
/* roster_join_many is the same for group memberships (roster_join). */
ROSTER_API int roster_join_many(roster_client *c, const char *scope, roster_batch_item *items,
                                size_t n, int timeout_ms);

/* --- Events ------------------------------------------------------------------------- */

typedef enum roster_event_type {
    ROSTER_EV_REGISTERED = 1,   /* name, pid, meta */
    ROSTER_EV_UNREGISTERED = 2, /* name, pid, meta, reason */
    ROSTER_EV_UPDATED = 3,      /* name, pid, meta, prev_meta */
    ROSTER_EV_JOINED = 4,       /* name = group, pid, meta */
    ROSTER_EV_LEFT = 5,         /* name = group, pid, meta, reason */
    ROSTER_EV_MEMBER_UPDATED = 6, /* name = group, pid, meta, prev_meta */
    ROSTER_EV_SNAPSHOT_END = 7, /* end of a subscription's snapshot */
    ROSTER_EV_OVERFLOW = 8,     /* the subscription fell behind and was stopped; with id 0:
                                   messages were dropped by the library's queue bound
                                   (their number in dropped; see roster_send) */
    ROSTER_EV_DOWN = 9,         /* monitored pid died: pid, reason; id = monitor id */
    ROSTER_EV_REPLY = 10,       /* answer to a pipelined request: req_id, status; pid =
                                   the holder for a refused register, meta = the node's
                                   error detail text */
    ROSTER_EV_CONFLICT = 11,    /* to the owner of a pid that lost a name conflict on an
                                   eventual scope: name, scope, pid = the loser, meta = its
                                   metadata, prev_meta = the winner's pid as text; the name
                                   was unregistered (reason conflict) */
    ROSTER_EV_NODE_UP = 12,     /* a node sharing a subscribed scope came up: node; id =
                                   subscription id */
    ROSTER_EV_NODE_DOWN = 13,   /* a node sharing a subscribed scope was declared down (its
                                   entries leave with reason node_down): node; id =
                                   subscription id */
    ROSTER_EV_MESSAGE = 14,     /* a message for one of this client's pids: pid = sender,
                                   to = receiver, node = sender's node, meta = payload,
                                   msg_kind, call_ref (answer calls with roster_reply), name
                                   = the name or group it was sent to (may be empty) */
    ROSTER_EV_SCOPE_META_SET = 15,     /* a key of the scope's metadata got a value (new or
                                          changed), to subscriptions with
                                          ROSTER_SUB_SCOPE_META: name = key, meta = value,
                                          prev_meta = the value before (empty if none),
                                          node = the node that wrote it */
    ROSTER_EV_SCOPE_META_DELETED = 16, /* a key of the scope's metadata was deleted: name =
                                          key, meta = the value it had, node = the node
                                          that deleted it */
    ROSTER_EV_NODE_LEFT = 17,   /* a node sharing a subscribed scope left the cluster
                                   cleanly (its entries leave with reason node_left): node;
                                   id = subscription id */
    ROSTER_EV_RECONNECTED = 19, /* options.reconnect: the connection was lost and made again
                                   to a new incarnation of the node: old_incarnation,
                                   new_incarnation, pid = the new roster_self(), node. Every
                                   pid of the old incarnation is gone; the kept ones have new
                                   pids (roster_pid_current) and their entries were
                                   re-created before this event was handed out, except those
                                   reported by the RESTORE_FAILED events that follow it */
    ROSTER_EV_RESTORE_FAILED = 20, /* options.reconnect: one kept item could not be
                                   re-created: what (ROSTER_KEEP_*), status (why: ETAKEN for a
                                   name taken meanwhile, ...), scope, name (the name, group or
                                   pattern), pid (the new pid it was for), meta (its
                                   metadata), prev_meta (the node's detail), id (the
                                   subscription's or monitor's id). It is no longer kept */
} roster_event_type;
/* roster_event_type_name returns "registered", "unregistered", ... */
ROSTER_API const char *roster_event_type_name(int type);

typedef struct roster_event {
    int type;          /* roster_event_type */
    int snapshot;      /* 1 for entries delivered as part of a subscription snapshot */
    uint64_t id;       /* subscription id, monitor id, or 0 */
    uint64_t req_id;   /* ROSTER_EV_REPLY only */
    int status;        /* ROSTER_EV_REPLY only */
    int reason;        /* roster_reason */
    char scope[256];
    roster_buf name;
    roster_pid pid;
    char node[256];
    roster_buf meta;
    roster_buf prev_meta;
    /* ROSTER_EV_MESSAGE only (appended fields) */
    roster_pid to;      /* the receiving pid (one of this client's) */
    int msg_kind;       /* ROSTER_MSG_SEND, _PUBLISH, _CALL or _MULTI_CALL */
    uint64_t call_ref;  /* non-zero for calls: pass the event to roster_reply */
    uint64_t dropped;   /* ROSTER_EV_OVERFLOW with id 0 only: messages the library dropped
                           (its event queue bound) since the previous such event */
    /* ROSTER_EV_MESSAGE only: the receiving pids to_all[0 .. n_to), to_all[0] == to. n_to is
     * 1 unless options.group_messages is set and one publish reached several of this
     * client's pids (one event per frame: see group_messages). to_all is part of the
     * event's allocation (roster_event_free clears both). */
    size_t n_to;
    const roster_pid *to_all;
    /* strong scopes: the etcd revision of the change (SNAPSHOT_END: of the snapshot), to
     * resume from with roster_subscribe_from; 0 in eventual scopes */
    uint64_t revision;
    /* ROSTER_EV_REPLY of a pipelined register or of roster_campaign_async: the grant's
     * fencing token (0 otherwise) */
    uint64_t token;
    /* ROSTER_EV_RECONNECTED: the node incarnations before and after */
    uint64_t old_incarnation;
    uint64_t new_incarnation;
    /* ROSTER_EV_RESTORE_FAILED: what could not be re-created (ROSTER_KEEP_*) */
    int what;
    /* UNREGISTERED, LEFT and DOWN with reason ROSTER_REASON_EXIT: the pid's exit reason
     * (roster_pid_exit), on every node; {NULL, 0} otherwise. Part of the event's allocation
     * (roster_event_free clears it). */
    roster_buf reason_text;
} roster_event;
#define ROSTER_KEEP_PID 1
#define ROSTER_KEEP_NAME 2
#define ROSTER_KEEP_MEMBER 3
#define ROSTER_KEEP_SUBSCRIPTION 4
#define ROSTER_KEEP_MONITOR 5
/* roster_event_free frees the buffers of an event filled by roster_next_event. An event's
 * name, meta and prev_meta share one allocation (one per event; a field the event kind does
 * not carry is {NULL, 0}): free them only through roster_event_free, never one of them with
 * roster_buf_free, and copy what must outlive the event. It clears the buffers, so a second
 * call is harmless. */
ROSTER_API void roster_event_free(roster_event *ev);

/* Subscription flags. */
#define ROSTER_SUB_REGISTRY 0x1  /* registry events */
#define ROSTER_SUB_GROUPS 0x2    /* group events */
#define ROSTER_SUB_PREFIX 0x4    /* pattern is a prefix (default: exact; empty + no flag: all) */
#define ROSTER_SUB_SNAPSHOT 0x8  /* start with the current matching state, then SNAPSHOT_END */
#define ROSTER_SUB_ALL 0x10      /* match every name (pattern ignored) */
#define ROSTER_SUB_SCOPE_META 0x100 /* the scope's metadata events (SCOPE_META_SET / _DELETED)
                                       for keys matching the pattern; alone, it follows no
                                       registry or group event; with SNAPSHOT the current
                                       keys come first (as SCOPE_META_SET, snapshot = 1) */

/* roster_subscribe subscribes to events of scope whose name (or group) matches pattern.
 * With ROSTER_SUB_SNAPSHOT the current matching entries arrive first as REGISTERED/JOINED
 * events with snapshot=1, then one SNAPSHOT_END, atomically: no change falls between.
 * Events are read with roster_next_event. If the client reads too slowly the node stops the
 * subscription with one OVERFLOW event; subscribe again (with a snapshot) to resume. The
 * library bounds its own queue the same way: when more than options.event_queue_bytes of
 * events wait in it (an application doing blocking calls without taking events), the
 * subscription ends the same way: one OVERFLOW event, and the library unsubscribes it on the
 * node. After an OVERFLOW of either kind the subscription no longer exists (unsubscribing it
 * gives ENOTFOUND): subscribe again. Snapshots, DOWN and REPLY events are never dropped
 * (they are bounded by what the application asked for).
 * *sub_out receives the subscription id. */
ROSTER_API int roster_subscribe(roster_client *c, const char *scope, const void *pattern,
                                size_t pattern_len, unsigned flags, uint64_t *sub_out,
                                int timeout_ms);
/* roster_subscribe_from subscribes to a strong scope's events after etcd revision
 * from_revision (an event's revision field), exactly once each and in order, with no
 * snapshot; ROSTER_ECOMPACTED if etcd no longer keeps them. */
ROSTER_API int roster_subscribe_from(roster_client *c, const char *scope, const void *pattern,
                                     size_t pattern_len, unsigned flags, uint64_t from_revision,
                                     uint64_t *sub_out, int timeout_ms);
ROSTER_API int roster_unsubscribe(roster_client *c, uint64_t sub, int timeout_ms);

/* roster_monitor watches pid anywhere: its death arrives once as a DOWN event with the
 * reason; if pid is already dead, the DOWN event (reason noproc) arrives at once. */
ROSTER_API int roster_monitor(roster_client *c, roster_pid pid, uint64_t *mon_out,
                              int timeout_ms);
ROSTER_API int roster_demonitor(roster_client *c, uint64_t mon, int timeout_ms);

/* roster_fd returns a descriptor that polls readable whenever roster_next_event may have an
 * event (data on the socket, or events already buffered by the library). It is an epoll
 * descriptor watching the socket and an eventfd; from the first roster_fd call on, the
 * library writes the eventfd when its event queue becomes non-empty (also while a blocking
 * call reads events that arrive before its answer) and drains it when the queue becomes
 * empty, so a level-triggered poll/epoll/libuv watcher never misses queued events (a client
 * that never asks for the descriptor pays no eventfd syscalls). When it polls readable,
 * call roster_next_event until ROSTER_EAGAIN. Do not read from it or close it. */
ROSTER_API int roster_fd(roster_client *c);

/* roster_next_event returns the next event without blocking: 0 and *ev filled (free it with
 * roster_event_free), ROSTER_EAGAIN if none is available now, or an error (ECLOSED). */
ROSTER_API int roster_next_event(roster_client *c, roster_event *ev);
/* roster_wait_event waits up to timeout_ms for the next event (ETIMEDOUT if none). */
ROSTER_API int roster_wait_event(roster_client *c, roster_event *ev, int timeout_ms);

/* --- Messaging (docs/MESSAGING.md) --------------------------------------------------- */
/* Delivery is at most once and ordered per (sender pid, receiver pid), across nodes too.
 * Messages arrive as ROSTER_EV_MESSAGE events. `from` is always one of this client's pids. */

#define ROSTER_MSG_SEND 1
#define ROSTER_MSG_PUBLISH 2
#define ROSTER_MSG_CALL 3
#define ROSTER_MSG_MULTI_CALL 4

#define ROSTER_SEND_CONFIRM 0x1 /* wait for the node: ENOPROC / ENOTFOUND / EAGAIN (mailbox
                                   full) instead of silently dropping */
#define ROSTER_PUBLISH_LOCAL 0x2 /* publish / multi-call: local members only */
#define ROSTER_SEND_NOFLUSH 0x4 /* queue without writing (batching); written by the next call
                                   that writes, roster_flush, or when the queue is large */
#define ROSTER_PUBLISH_NOWAIT 0x8 /* publish: do not wait for the node (it answers nothing);
                                     *recipients is not filled, errors other than local ones
                                     are not reported (see roster_publish) */
#define ROSTER_SEND_DROP 0x10 /* send / publish: drop (and count) the message when the
                                 receiver's mailbox is full, instead of waiting for room
                                 (flow control, the default; docs/MESSAGING.md) */

/* roster_send sends data to pid `to`. Without ROSTER_SEND_CONFIRM it does not wait and
 * reports no delivery error (like Erlang's send); timeout_ms bounds the wait for the write
 * and, with CONFIRM, for the node's answer. A payload over the node's message limit
 * (learned from roster_status at the client's first message) is ROSTER_ETOOBIG, not sent.
 * `from` may be the zero pid: roster_self(c).
 * Flow control (the default): while the receiver is behind (its node holds more than a
 * quarter of --mailbox-bytes unread for it) the message waits on the node and, once this
 * client has enough messages waiting there, the node stops reading it: roster_send then
 * waits up to timeout_ms for room (ETIMEDOUT, not sent) or, with timeout_ms 0, returns
 * ROSTER_EAGAIN at once (not sent). With CONFIRM the answer comes when the message is
 * written to the receiver (ENOPROC if it died first; with timeout_ms 0, EAGAIN instead of
 * waiting). ROSTER_SEND_DROP (or options.drop_messages) drops instead, as before.
 * Received messages count against options.event_queue_bytes: past it the library stops
 * reading messages from the node (which then slows their senders); with
 * options.drop_messages a message past it is dropped and counted, and one
 * ROSTER_EV_OVERFLOW event with id 0 reports how many (dropped). */
ROSTER_API int roster_send(roster_client *c, roster_pid from, roster_pid to, const void *data,
                           size_t len, unsigned flags, int timeout_ms);
/* roster_send_name sends to the pid holding name in scope (resolved on the local node). */
ROSTER_API int roster_send_name(roster_client *c, roster_pid from, const char *scope,
                                const void *name, size_t name_len, const void *data,
                                size_t len, unsigned flags, int timeout_ms);
/* roster_publish sends data to every member of group (ROSTER_PUBLISH_LOCAL: local members
 * only); *recipients (may be NULL) receives the number of members it was sent to.
 * With ROSTER_PUBLISH_NOWAIT it only writes the frame (adding ROSTER_SEND_NOFLUSH: only
 * queues it, like roster_send; NOFLUSH without NOWAIT is EINVAL) and returns without an answer from the node: *recipients is
 * set to 0, not to the number of members, and a publish the node refuses (sender not a live
 * pid, no such scope, over the node's limit) is dropped and counted (roster_status
 * messages_dropped), like a send without ROSTER_SEND_CONFIRM. recipients == NULL is the
 * same as ROSTER_PUBLISH_NOWAIT: a plain loop of publishes is pipelined, and only a caller
 * that asks for the count waits for the node. Flow control and ROSTER_SEND_DROP apply as
 * for roster_send, per receiving client. */
ROSTER_API int roster_publish(roster_client *c, roster_pid from, const char *scope,
                              const void *group, size_t group_len, const void *data,
                              size_t len, unsigned flags, size_t *recipients, int timeout_ms);
/* roster_call sends a request to pid `to` and waits up to timeout_ms for its reply. On
 * success *reply owns the reply bytes (free with roster_buf_free) and *responder (may be
 * NULL) the replying pid. ETIMEDOUT when no reply came in time (a later reply is dropped),
 * ENOPROC when the pid is dead or its node went down. */
ROSTER_API int roster_call(roster_client *c, roster_pid from, roster_pid to, const void *data,
                           size_t len, roster_buf *reply, roster_pid *responder,
                           int timeout_ms);
/* roster_call_name calls the pid holding name in scope (ENOTFOUND if nobody does). */
ROSTER_API int roster_call_name(roster_client *c, roster_pid from, const char *scope,
                                const void *name, size_t name_len, const void *data,
                                size_t len, roster_buf *reply, roster_pid *responder,
                                int timeout_ms);
/* roster_reply answers a ROSTER_EV_MESSAGE event whose call_ref is non-zero (a call or
 * multi-call), with data. The event itself is borrowed. Replying after the caller's
 * timeout is harmless (the reply is dropped). */
ROSTER_API int roster_reply(roster_client *c, const roster_event *request, const void *data,
                            size_t len, int timeout_ms);

/* The outcome of a multi-call: the replies with their pids, and the members that did not
 * answer in time or were dead (bad). Free with roster_multi_result_free. */
typedef struct roster_multi_reply {
    roster_pid pid;
    roster_buf data;
} roster_multi_reply;
typedef struct roster_multi_result {
    roster_multi_reply *replies;
    size_t n_replies;
    roster_pid *bad;
    size_t n_bad;
} roster_multi_result;
ROSTER_API void roster_multi_result_free(roster_multi_result *r);
/* roster_multi_call calls every member of group and waits up to timeout_ms (the node stops
 * waiting then and reports whoever did not answer as bad). */
ROSTER_API int roster_multi_call(roster_client *c, roster_pid from, const char *scope,
                                 const void *group, size_t group_len, const void *data,
                                 size_t len, unsigned flags, roster_multi_result *out,
                                 int timeout_ms);

/* Direct channels (docs/MESSAGING.md, "Direct channels"): messages and calls by pid between
 * two clients of one node go client to client, without the node, once the node has handed
 * both a channel (after a few messages, or at once with roster_channel_open). Nothing
 * changes for the caller: the same calls, answers, order and flow control. */

/* roster_channel_open asks the node for a channel to the client owning `to` now, instead
 * of after a few messages. 0 when there is one (the sends that follow may still go through
 * the node until this client has read the node's CHANNEL frame: order is kept either way).
 * ENOCHANNEL: channels are off (rosterd --no-channels, options.no_channels, either client
 * opted out) or `to` is another node's pid; EACCES: the access rules do not allow one;
 * ELIMIT: a client is at --max-channels (its least recently used is closing: try again);
 * ENOPROC: `to` is not alive; EINVAL: `to` is this client's own pid. */
ROSTER_API int roster_channel_open(roster_client *c, roster_pid to, int timeout_ms);

/* What this client's channels did (counters since connect). */
typedef struct roster_channel_info {
    uint64_t open;      /* channels now */
    uint64_t opened;    /* channels received from the node */
    uint64_t closed;    /* channels ended (closed by either side, cap, access rules, peer gone) */
    uint64_t sent;      /* messages, calls and replies written to a channel */
    uint64_t received;  /* frames read from channels */
    uint64_t via_node;  /* messages to a pid behind a channel sent through the node instead:
                           the channel had 256 KiB unread (the receiver is behind: the node's
                           mailbox and flow control take over) or the message was above
                           64 KiB. Dropping sends (ROSTER_SEND_DROP, drop_messages) always
                           go through the node, which counts drops (STATUS messages_dropped) */
    uint64_t malformed; /* channels ended for a bad frame from the peer */
    uint64_t routes;    /* peer pids known to be behind a channel */
    char last_error[160]; /* why the last channel was ended or given up ("" if none) */
} roster_channel_info;
ROSTER_API int roster_channel_stats(const roster_client *c, roster_channel_info *out);

/* --- Node administration ------------------------------------------------------------ */

/* A statistic of the node, as reported by roster_status. */
typedef struct roster_stat {
    char key[64];
    uint64_t value;
} roster_stat;
typedef struct roster_stats {
    roster_stat *items;
    size_t n;
} roster_stats;
ROSTER_API void roster_stats_free(roster_stats *s);
/* roster_status returns node statistics (uptime_ms, clients, pids, names, groups, members,
 * subscriptions, monitors, the configured limits, ...). Free *out with roster_stats_free. */
ROSTER_API int roster_status(roster_client *c, roster_stats *out, int timeout_ms);

/* A node of the cluster. */
typedef struct roster_node_info {
    char name[256];
    uint64_t incarnation;
    int state; /* ROSTER_NODE_UP, ROSTER_NODE_DOWN, ROSTER_NODE_CONNECTING */
    int self;  /* 1 for the local node */
    uint64_t down_since_ms; /* ROSTER_NODE_DOWN: when this node declared it down, wall-clock
                               ms since the epoch (0 otherwise, or not known) */
} roster_node_info;
#define ROSTER_NODE_UP 1
#define ROSTER_NODE_DOWN 2
#define ROSTER_NODE_CONNECTING 3
#define ROSTER_NODE_LEFT 4 /* left the cluster cleanly: not redialed; down_since_ms is when */
typedef struct roster_nodes {
    roster_node_info *items;
    size_t n;
} roster_nodes;
ROSTER_API void roster_nodes_free(roster_nodes *n);
ROSTER_API int roster_nodes_list(roster_client *c, const char *scope, roster_nodes *out,
                                 int timeout_ms);

/* roster_log_level sets the node's log level: "off" (no line at all), "error", "warn",
 * "info", "debug" or "trace" (debug plus one line per client request and per lease
 * expiry). */
ROSTER_API int roster_log_level(roster_client *c, const char *level, int timeout_ms);

/* roster_ping round-trips a no-op request through the node. */
ROSTER_API int roster_ping(roster_client *c, int timeout_ms);

/* --- Reconnecting (options.reconnect; docs/RECONNECT.md) ------------------------------ */

/* roster_pid_current returns the pid that stands for pid now: after a reconnect, a pid of
 * this client from an earlier incarnation maps to its re-created pid; any other pid is
 * returned as it is. Calls that take one of the client's own pids (register, join,
 * unregister, leave, pid close, monitor, update, handoff) map it themselves. */
ROSTER_API roster_pid roster_pid_current(const roster_client *c, roster_pid pid);
/* roster_reconnects returns how many times the client reconnected (0 without
 * options.reconnect). */
ROSTER_API uint64_t roster_reconnects(const roster_client *c);

/* Runtime cluster membership (docs/CLUSTER.md). These are the node's administration: the
 * node allows them to a client of uid 0 or of the node's own uid (EPERM otherwise). */
/* roster_cluster_join makes the node join the cluster of the node listening at addr
 * ("HOST:PORT"), as if started with --join addr: it dials it (with backoff, until it is up)
 * and the mesh follows by gossip. Answers once the dial is under way; watch
 * roster_nodes_list for the nodes coming up. EINVAL if the node has no peer listener
 * (started without --listen) or addr is not HOST:PORT. Also ends a roster_cluster_leave. */
ROSTER_API int roster_cluster_join(roster_client *c, const char *addr, int timeout_ms);
/* roster_cluster_leave makes the node leave its cluster cleanly: every up peer is told
 * (they drop its entries with reason node_left, deliver ROSTER_EV_NODE_LEFT, list it as
 * ROSTER_NODE_LEFT and do not redial it), the links are closed, this node stops dialing and
 * refuses peers until roster_cluster_join, and drops the other nodes' entries (reason
 * node_left). Its own clients and entries stay. *peers (may be NULL) receives how many up
 * peers were told. */
ROSTER_API int roster_cluster_leave(roster_client *c, size_t *peers, int timeout_ms);
/* roster_forget forgets node, a node that is not up (down, left or never reached): its
 * records go (roster_nodes_list no longer lists it) and its addresses are no longer
 * dialed, --join seeds included. EBUSY if it is up (make it leave, or stop it, first);
 * ENOTFOUND if the node knows no such node. node may also be "HOST:PORT" (node names have
 * no ':'): that address is no longer dialed (a seed that never answered has no name), and
 * the records of nodes at it go. *records (may be NULL): records forgotten. */
ROSTER_API int roster_forget(roster_client *c, const char *node, size_t *records,
                             int timeout_ms);

/* Who holds a pid: the OS process and user of the client that owns it (SO_PEERCRED on its
 * node's socket), known on every node that holds one of its entries (replicated with
 * them). */
typedef struct roster_owner {
    int32_t os_pid; /* 0: not known (the pid holds no entry here, or its node predates it) */
    uint32_t uid;
    char node[256]; /* the pid's node */
} roster_owner;
/* roster_pid_owner asks the local node who owns pid. ENOPROC if the node knows no such
 * live pid (a remote pid is known while it holds a name or membership of a scope the node
 * replicates). */
ROSTER_API int roster_pid_owner(roster_client *c, roster_pid pid, roster_owner *out,
                                int timeout_ms);
/* roster_pid_owners does the same for pids[0..n) in one round trip; status[i] (may be NULL)
 * receives each one's result (out[i] is zeroed when it failed). Returns the number that
 * failed, or a negative error for the whole call. */
ROSTER_API int roster_pid_owners(roster_client *c, const roster_pid *pids, size_t n,
                                 roster_owner *out, int *status, int timeout_ms);

/* --- Conflict resolvers (rosterd --resolver FILE.so) ----------------------------------- */

/* When two nodes granted one name of an eventual scope (a partition), every node picks the
 * same winner with the scope's policy (docs/CLUSTER.md). A custom policy is a shared object
 * given to rosterd --resolver FILE.so, exporting
 *
 *     const roster_resolver roster_conflict_resolver = {ROSTER_RESOLVER_ABI, "my-rule", 1,
 *                                                       my_resolve};
 *
 * Every node of the cluster must load the same resolver: nodes exchange its name and
 * version when they connect and refuse a peer whose conflict policy, resolver name or
 * version differs (logged on both sides). resolve must be a pure function of the conflict
 * (no clock, no randomness, no state: every node must compute the same answer at any time)
 * that returns a pointer to the winning claim, c->a or c->b, whichever order they come in,
 * and orders claims consistently (if a beats b and b beats c, a beats c). The node calls it
 * with the arguments both ways round; an answer that is neither claim, or a different
 * winner for the swapped arguments, is refused (logged, counted in STATUS
 * "resolver_refused") and the default policy (oldest grant wins) decides that comparison.
 * It runs on the node's event loop: keep it quick, and do not call libroster from it. */
#define ROSTER_RESOLVER_ABI 1u
#define ROSTER_RESOLVER_SYMBOL "roster_conflict_resolver"
/* One claim on the name, as the resolver sees it (valid during the call). */
typedef struct roster_claim {
    roster_pid pid;       /* the holder */
    const char *node;     /* the holder's node name, NUL-terminated */
    const void *meta;     /* the holder's metadata */
    size_t meta_len;
    uint64_t clock;       /* the grant's hybrid logical clock stamp, (wall_ms << 16) |
                             logical, by the holder's node: its fencing token */
} roster_claim;
/* A conflict: two claims on one name of one scope (valid during the call). */
typedef struct roster_conflict {
    uint32_t abi;         /* ROSTER_RESOLVER_ABI of the node that calls */
    const char *scope;    /* NUL-terminated */
    const void *name;
    size_t name_len;
    const roster_claim *a;
    const roster_claim *b;
} roster_conflict;
typedef const roster_claim *(*roster_resolve_fn)(const roster_conflict *c);
/* What the shared object exports as ROSTER_RESOLVER_SYMBOL. */
typedef struct roster_resolver {
    uint32_t abi;               /* ROSTER_RESOLVER_ABI the resolver was built against */
    const char *name;           /* 1-64 bytes [A-Za-z0-9._-]: compared between nodes */
    uint32_t version;           /* the resolver's own version: compared between nodes */
    roster_resolve_fn resolve;  /* returns c->a or c->b */
} roster_resolver;

/* --- Memory ------------------------------------------------------------------------- */

/* roster_set_allocator replaces malloc/realloc/free for everything the library allocates
 * (NULL restores the C library's). Call it before any other roster call; not thread-safe. */
ROSTER_API void roster_set_allocator(void *(*malloc_fn)(size_t),
                                     void *(*realloc_fn)(void *, size_t),
                                     void (*free_fn)(void *));

#ifdef __cplusplus
}
#endif
#endif /* ROSTER_H */
