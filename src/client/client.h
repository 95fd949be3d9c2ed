/* client.h: private state of a roster_client and the helpers shared by the src/client files
 * (connection, request/reply engine, event queue). Nothing here is exported. */
#ifndef ROSTER_CLIENT_CLIENT_H
#define ROSTER_CLIENT_CLIENT_H

#include <roster.h>

#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/limits.h"
#include "wire/reader.h"
#include "wire/shm.h"
#include "wire/wire.h"

/* Request ids: pipelined requests carry this bit, blocking ones never do. Ids only grow, so
 * an answer whose id is neither pipelined nor the blocking call in flight belongs to a call
 * that was abandoned (timed out) and is dropped. */
#define RS_CLIENT_ASYNC_BIT 0x80000000u
/* Requests the library sends on its own (the unsubscribe after a library-side overflow)
 * carry this bit; their answers are consumed by the library. */
#define RS_CLIENT_INTERNAL_BIT 0x40000000u
/* Both bits: a pipelined request whose answer may come much later (a campaign). It is not
 * counted in async_pending (roster_wait_all does not wait for it) and its answer is always
 * queued as a ROSTER_EV_REPLY event, never consumed or dropped by roster_wait_all. */
#define RS_CLIENT_LONG_BITS (RS_CLIENT_ASYNC_BIT | RS_CLIENT_INTERNAL_BIT)
#define RS_CLIENT_ID_MASK 0x3fffffffu
#define RS_CLIENT_CHUNK (64u * 1024u)         /* read size and pipelined flush threshold */
#define RS_CLIENT_IN_KEEP (4u * RS_CLIENT_CHUNK) /* a larger idle read buffer is freed */
#define RS_CLIENT_OUT_HIGH (4u * 1024u * 1024u) /* pipelined writes block above this */
#define RS_CLIENT_READ_EVERY 64u /* see rs_client_out_drain */
#define RS_CLIENT_DETAIL_MAX 512
#define RS_CLIENT_SHM_SCOPES 8 /* eventual scopes remembered for shared-memory reads */
#define RS_CLIENT_CHAN_FDS 16  /* channel ends received ahead of their CHANNEL frames */
#define RS_CLIENT_POLL_CHANS 64 /* channels one wait polls (the others: at each pump) */

struct pollfd;
struct rs_cchan;
struct rs_u64map;

struct rs_req;
/* An item handler takes one ITEM frame of the call; returns 0 or a ROSTER_E* code (kept in
 * req->err; the remaining items are then skipped). */
typedef int (*rs_item_fn)(struct rs_req *req, const struct rs_msg *m);

/* One blocking request in flight and what its answer carried. */
struct rs_req {
    uint32_t req_id;
    int done;
    int status;
    int err;
    rs_item_fn on_item;
    void *ctx;
    /* reply fields, copied by io.c (read them through rs_req_reply) */
    uint32_t opts;
    uint64_t arg;
    uint64_t arg2;
    struct rs_pid pid;
    char node[RS_NODE_NAME_MAX + 1];
    int want_meta; /* copy the reply's META into meta: 1 on success (lookup), 2 on any
                      status (update: ECONFLICT carries the current metadata) */
    roster_buf meta;
    int want_prev; /* copy an accepted reply's PREV into prev (HELLO: the limits block) */
    roster_buf prev;
};

/* rs_req_reply views the answer fields a request kept as a reply message, for the typed
 * accessors of wire/fields.h: rs_msg_subscribe_reply_id(&rep) rather than req.arg. */
static inline struct rs_msg rs_req_reply(const struct rs_req *q)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.flags = RS_F_REPLY;
    m.req_id = q->req_id;
    m.status = q->status;
    m.opts = q->opts;
    m.arg = q->arg;
    m.arg2 = q->arg2;
    m.pid = q->pid;
    m.node = rs_bytes_of(q->node, strlen(q->node));
    m.prev = rs_bytes_of(q->prev.data, q->prev.len);
    return m;
}

/* A subscription the library overflowed: its events are dropped until the node answers the
 * unsubscribe the library sent for it (unsub_req), after which none can arrive. */
struct rs_client_ovf {
    uint64_t sub;
    uint32_t unsub_req;
};

/* One item a reconnecting client keeps (keep.c): what the application made with blocking
 * calls and has not undone, re-created on a new incarnation of the node (reconnect.c). */
#define RS_KEEP_PAST 8 /* earlier pids of a kept pid that still map to it */
struct rs_keep {
    int what;                    /* ROSTER_KEEP_* */
    char scope[RS_SCOPE_MAX + 1];
    roster_buf key;              /* name, group or pattern */
    roster_buf meta;
    roster_pid pid;              /* PID: the current one; NAME, MEMBER: the holder; MONITOR:
                                    the watched pid */
    roster_pid past[RS_KEEP_PAST]; /* PID: earlier values, oldest overwritten first */
    unsigned n_past;
    unsigned flags;              /* SUBSCRIPTION: its flags */
    uint32_t ttl_ms;             /* NAME, MEMBER: its lease (0: none), re-created with it */
    uint64_t app_id, node_id;    /* SUBSCRIPTION, MONITOR: the id the application holds and
                                    the node's id on this connection */
};

struct roster_client {
    int sock;
    int epfd; /* roster_fd: watches sock and evfd */
    int evfd; /* readable while the event queue is not empty */
    int dead; /* the connection is gone: every call fails with ECLOSED */
    int dead_err;
    uint32_t next_id;
    uint32_t next_async;
    struct rs_buf out; /* frames not yet written, from out_off */
    size_t out_off;
    struct rs_wire_reader in; /* bytes read, split into frames (io.c) */
    struct rs_limits dec; /* decoder limits: frame_max only */
    uint32_t name_max, meta_max, frame_max;
    struct rs_req *req; /* the blocking request in flight, or NULL */
    /* a blocking batch in flight (rs_client_request_many): requests batch_base ..
     * batch_base + batch_n - 1, answered into batch[i]; batch_done of them so far */
    struct rs_req *batch;
    uint32_t batch_base, batch_n, batch_done;
    /* pipelining */
    uint64_t async_pending;
    int collecting; /* inside roster_wait_all: answers are counted, not queued */
    uint64_t async_failed;
    /* event queue: whole raw frames (EVENT frames and pipelined REPLY frames), in order */
    struct rs_buf evq;
    size_t evq_off;
    uint64_t evq_replies; /* REPLY frames in the queue */
    int evfd_set;
    /* The eventfd is kept in step with the queue only once roster_fd has been asked for
     * (fd_used), and not while roster_wait_event runs (evfd_hold): a process that takes
     * events where they arrive pays no eventfd syscalls. */
    int fd_used;
    int evfd_hold;
    unsigned drains_unread; /* out_drain calls that skipped the read (io.c) */
    uint64_t events_lost; /* frames dropped because memory ran out */
    size_t evq_max;       /* options.event_queue_bytes */
    size_t evq_sub;       /* MESSAGE at evq_off naming several pids: the ones handed out */
    /* that MESSAGE decoded once for all of its pids; views into evq, so any change to the
     * queue's bytes (append, removal) clears head_valid */
    struct rs_msg head;
    int head_valid;
    int group_messages;   /* options.group_messages */
    int drop_messages;    /* options.drop_messages: no flow control (msg.c, events.c) */
    int close_ms;         /* options.timeout_ms: roster_close's wait for queued output */
    int posted;           /* a message was sent without an answer: roster_close syncs */
    struct rs_client_ovf *ovf; /* subscriptions overflowed in the library */
    size_t n_ovf, cap_ovf;
    uint32_t next_internal;
    uint32_t next_long; /* ids of RS_CLIENT_LONG_BITS requests (strong.c) */
    /* strong scopes (strong.c): the read mode of later reads and the revision the last
     * answered read reflected */
    int read_mode;
    uint64_t last_revision;
    /* messages (msg.c): MESSAGE frames the queue bound refused, not yet reported by an
     * OVERFLOW event with id 0; msg_marker: that OVERFLOW event is already queued */
    uint64_t msgs_dropped;
    int msg_marker;
    uint32_t msg_max; /* the node's message payload limit (from HELLO) */
    /* handshake results */
    roster_pid self;
    uint64_t node_inc;
    char node_name[RS_NODE_NAME_MAX + 1];
    char detail[RS_CLIENT_DETAIL_MAX];
    /* shared-memory reads (shm.c): asked for in HELLO; the fd until mapped; the mapping */
    int shm_want;
    int shm_fd;
    struct rs_shm_view shm;
    struct rs_shm_bytes shm_meta;     /* lookup's metadata scratch */
    struct rs_shm_members shm_members; /* members' scratch */
    /* scopes a socket read showed to be eventual (revision 0): their reads use the region */
    char shm_known[RS_CLIENT_SHM_SCOPES][RS_SCOPE_MAX + 1];
    unsigned shm_known_n, shm_known_next;
    /* reconnecting (keep.c, reconnect.c): options.reconnect and what it needs to dial again */
    int recon;
    int recon_max_ms, recon_delay_ms;
    int64_t recon_next;  /* monotonic ms of the next attempt */
    int restoring;       /* inside a restore: calls do not reconnect */
    int tfd;             /* timerfd in epfd: wakes roster_fd's poller for the next attempt */
    char *sock_path, *client_name;
    int connect_timeout_ms;
    uint64_t reconnects;
    struct rs_keep *keep;
    size_t n_keep, cap_keep;
    uint64_t next_app_id;
    uint64_t pending_app_id; /* UNSUBSCRIBE / DEMONITOR in flight: the application's id */
    /* the last scope a region read used and its record (records never move): a repeated
     * read of one scope skips the known-list and scope-list searches */
    char shm_last[RS_SCOPE_MAX + 1];
    size_t shm_last_len;
    uint32_t shm_last_id, shm_last_off;
    /* direct channels (chan.c): asked for in HELLO; ends received and not yet paired with
     * their CHANNEL frame; the channels; routes (peer pid serial -> channel); the one
     * channel call in flight; counters for roster_channel_stats */
    int chan_want;
    int chan_fds[RS_CLIENT_CHAN_FDS];
    unsigned n_chan_fds;
    struct rs_cchan **chans;
    uint32_t n_chans, cap_chans;
    struct rs_u64map *chan_routes;
    size_t chan_parked; /* bytes read from channels waiting for the channel's turn */
    size_t chan_held;   /* bytes from the node waiting for the node's turn (chan.c) */
    uint64_t ccall_ref, ccall_next, ccall_from, ccall_chan;
    int ccall_done, ccall_status;
    roster_buf ccall_reply;
    uint64_t chan_opened, chan_closed, chan_sent, chan_received, chan_overflow, chan_malformed,
        chan_lost;
    char chan_last[160];
};

/* --- errors (conn.c) --- */
/* rs_client_fail sets the error detail (printf format) and returns err. */
int rs_client_fail(roster_client *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* rs_client_lose marks the connection dead (first reason wins). */
void rs_client_lose(roster_client *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- keep.c: what a reconnecting client re-creates; ids and pids across incarnations --- */
/* rs_client_keep_before maps the request's own old pids to current ones and the
 * application's subscription / monitor ids to the node's; ENOTFOUND for an unknown id. */
int rs_client_keep_before(roster_client *c, struct rs_msg *m);
/* rs_client_keep_after records what an answered request made or undid (status r), and
 * puts the application's id in the answer of SUBSCRIBE and MONITOR. */
void rs_client_keep_after(roster_client *c, const struct rs_msg *m, struct rs_req *req, int r);
/* rs_client_keep_event maps an EVENT frame's id (subscription or monitor) to the
 * application's, in place, and forgets what the event ends. p is the queued frame. */
void rs_client_keep_event(roster_client *c, uint8_t *p, size_t n);
int rs_client_keep_add_pid(roster_client *c, roster_pid pid);
void rs_client_keep_free(roster_client *c);

/* --- reconnect.c --- */
/* rs_client_reconnect makes the connection again if it is lost, options.reconnect is on
 * and an attempt is due, and re-creates what is kept. 0 when connected. */
int rs_client_reconnect(roster_client *c);
/* rs_client_recon_convert turns the fields of a RECONNECTED or RESTORE_FAILED event as they
 * travel in the library's EVENT frame into the event's own (no-op for other events). */
void rs_client_recon_convert(roster_event *ev);
/* rs_client_recon_wait_ms: ms until the next attempt (0: due now). */
int rs_client_recon_wait_ms(const roster_client *c);

/* --- conn.c --- */
/* rs_client_redial closes the lost socket, opens a new one and performs the handshake
 * (the queued events stay); 0 or the error of the attempt. */
int rs_client_redial(roster_client *c, int64_t deadline);
/* rs_client_recon_setup turns options.reconnect on for a connected client. */
int rs_client_recon_setup(roster_client *c, const char *path, const roster_options *opts);
/* rs_client_drop_socket closes a lost connection's socket (epoll forgets it). */
void rs_client_drop_socket(roster_client *c);
/* rs_client_errstr describes errno e in buf (thread-safe, unlike strerror); returns the text. */
const char *rs_client_errstr(int e, char *buf, size_t cap);
/* rs_client_open_fd performs the handshake over an already connected non-blocking stream
 * socket (taken: closed on failure) and returns the client in *out, with default options.
 * Only the client-side fuzz target uses it, over a socketpair; roster_connect does not (it
 * runs the same steps itself, on the socket it opened, with the caller's options). */
int rs_client_open_fd(roster_client **out, int fd, const char *client_name, int timeout_ms);

/* --- io.c: socket I/O, frame parsing and dispatch --- */
int64_t rs_client_now_ms(void);
/* rs_client_deadline turns a timeout into an absolute monotonic deadline (-1: none). */
int64_t rs_client_deadline(int timeout_ms);
/* rs_client_wait writes pending output and reads/dispatches input until done(c, arg) is
 * true (0), the deadline passes (ETIMEDOUT) or the connection dies (its error). */
int rs_client_wait(roster_client *c, int (*done)(roster_client *, void *), void *arg,
                   int64_t deadline);
/* rs_client_pump does what can be done without blocking: write, read, dispatch.
 * Returns 0 or an error (the connection's, or ENOMEM). */
int rs_client_pump(roster_client *c);
/* rs_client_write writes pending output without blocking; 0 or ECLOSED. */
int rs_client_write(roster_client *c);

/* --- request.c: the blocking request engine and local checks --- */
/* rs_client_request sends m as a request and waits for its answer. Returns 0, the node's
 * status, or a local error; the detail is set on failure. */
int rs_client_request(roster_client *c, struct rs_msg *m, struct rs_req *req, int timeout_ms);
/* rs_client_request_many sends msgs[0..n) in one write and waits for their n answers
 * (reqs[i] the answer of msgs[i], as rs_client_request fills it). Returns 0 once all are
 * answered (each its own status), or an error of the whole batch (ETIMEDOUT, ECLOSED: the
 * unanswered ones have done == 0). */
int rs_client_request_many(roster_client *c, struct rs_msg *msgs, struct rs_req *reqs, size_t n,
                           int timeout_ms);
/* rs_client_begin checks the client can take a call (not dead); 0 or ECLOSED/EINVAL. */
int rs_client_begin(roster_client *c);
/* Local argument checks (set the detail). */
int rs_client_check_scope(roster_client *c, const char *scope, struct rs_bytes *out);
int rs_client_check_key(roster_client *c, const void *p, size_t n, const char *what);
int rs_client_check_meta(roster_client *c, size_t n);
int rs_client_check_frame(roster_client *c, const struct rs_msg *m);
/* rs_client_list_entries runs a listing request whose items are entries (listing.c): each
 * entry gets the reply's revision (ARG2). */
int rs_client_list_entries(roster_client *c, struct rs_msg *m, roster_entries *out,
                           int timeout_ms);
/* rs_client_build_write fills a REGISTER / UNREGISTER / JOIN / LEAVE / IS_MEMBER request
 * after the local checks (registry.c). */
int rs_client_build_write(roster_client *c, struct rs_msg *m, uint8_t type, const char *scope,
                          const void *key, size_t key_len, roster_pid pid, const void *meta,
                          size_t meta_len);
/* rs_client_read_opts is the RS_OPT_STALE bit of the client's read mode (strong.c). */
uint32_t rs_client_read_opts(const roster_client *c);
/* rs_client_saw_revision records the revision a read's reply reflected (0: eventual scope,
 * ignored) for roster_last_revision. */
void rs_client_saw_revision(roster_client *c, uint64_t revision);
/* rs_client_copy_buf copies n bytes into a new NUL-terminated roster_buf; 0 or ENOMEM. */
int rs_client_copy_buf(roster_buf *dst, const uint8_t *p, size_t n);
/* rs_client_copy_str copies a byte view into a fixed char array (truncating). */
void rs_client_copy_str(char *dst, size_t cap, struct rs_bytes b);

/* --- shm.c: reads from the node's shared-memory region --- */
/* rs_client_shm_want decides from the options and ROSTER_NO_SHM whether to ask for it. */
void rs_client_shm_want(roster_client *c, const roster_options *opts);
/* rs_client_recv is recv, or recvmsg taking the region's fd while one is expected. */
ssize_t rs_client_recv(roster_client *c, void *room, size_t cap);
/* rs_client_shm_map ends the handshake's fd taking (the fd is mapped on first use). */
void rs_client_shm_map(roster_client *c);
/* rs_client_shm_saw records what a socket read of scope answered at revision (0: the
 * scope is eventual, so later reads of it may use the region). */
void rs_client_shm_saw(roster_client *c, const char *scope, uint64_t revision);
void rs_client_shm_unmap(roster_client *c);
/* Each returns 1 when the region answered (*rc: the call's result, out filled), 0 when the
 * caller must ask the node over the socket. Arguments are checked by the caller first. */
int rs_client_shm_lookup(roster_client *c, const char *scope, const void *name, size_t name_len,
                         roster_entry *out, int *rc);
int rs_client_shm_members(roster_client *c, const char *scope, const void *group,
                          size_t group_len, int local_only, roster_entries *out, int *rc);
int rs_client_shm_is_member(roster_client *c, const char *scope, const void *group,
                            size_t group_len, roster_pid pid, int *rc);
int rs_client_shm_count(roster_client *c, const char *scope, const char *node,
                        roster_counts *out);
/* The allocation-free reads (readinto.c): same contract, caller's buffers. */
int rs_client_shm_lookup_into(roster_client *c, const char *scope, const void *name,
                              size_t name_len, roster_found *out, void *meta, size_t meta_cap,
                              int *rc);
int rs_client_shm_member_pids(roster_client *c, const char *scope, const void *group,
                              size_t group_len, int local_only, roster_pid *pids, size_t cap,
                              size_t *n, int *rc);

/* --- events.c: the event queue --- */
/* rs_client_evq_push appends a raw frame to the queue: an EVENT frame (ev = its decoded
 * form, subject to the queue bound) or a pipelined REPLY frame (ev = NULL). Counts it lost
 * if out of memory. */
void rs_client_evq_push(roster_client *c, const uint8_t *p, size_t n, const struct rs_msg *ev);
int rs_client_evq_nonempty(const roster_client *c);
/* rs_client_evq_sync makes the eventfd readable exactly while the queue is not empty (a
 * no-op until roster_fd has been asked for). */
void rs_client_evq_sync(roster_client *c);
/* rs_client_evq_internal_reply consumes the answer to a request the library sent itself. */
void rs_client_evq_internal_reply(roster_client *c, uint32_t req_id);
/* rs_client_evq_overflowed returns 1 if the library overflowed subscription id and has not
 * yet had the node's answer to its unsubscribe. */
int rs_client_evq_overflowed(const roster_client *c, uint64_t id);
/* rs_client_evq_drop_replies removes queued pipelined REPLY frames; returns how many of
 * them carried a failure. */
uint64_t rs_client_evq_drop_replies(roster_client *c);
/* rs_client_evq_take_dropped returns the messages dropped since the last report and resets
 * the count (the OVERFLOW event with id 0 that reports them is being handed out). */
uint64_t rs_client_evq_take_dropped(roster_client *c);

/* --- io.c: output --- */
/* rs_client_out_below: a rs_client_wait condition, out has at most *(size_t *)arg bytes. */
int rs_client_out_below(roster_client *c, void *arg);
/* rs_client_out_drain writes queued output and reads what the node sent (read_too: always;
 * otherwise only if the write was short, or every RS_CLIENT_READ_EVERY-th drain); above
 * RS_CLIENT_OUT_HIGH it waits (until the deadline) for the node to take half of it.
 * 0, ETIMEDOUT or the connection's error. */
int rs_client_out_drain(roster_client *c, int64_t deadline, int read_too);

/* --- chan.c: direct channels to other clients of the node --- */
/* rs_client_chan_take_fd keeps a channel end received with the node's bytes (SCM_RIGHTS). */
void rs_client_chan_take_fd(roster_client *c, int fd);
/* rs_client_chan_dispatch takes a CHANNEL_* frame from the node: 1 if it was one. */
int rs_client_chan_dispatch(roster_client *c, const uint8_t *p, size_t n, const struct rs_msg *m);
/* rs_client_chan_node_msg: a MESSAGE from the node tagged with a channel of ours waits
 * for its turn there (1), or is for the queue now (0). */
int rs_client_chan_node_msg(roster_client *c, const uint8_t *p, size_t n, const struct rs_msg *m);
/* rs_client_chan_node_path: a message is about to go through the node: TURN on channels. */
void rs_client_chan_node_path(roster_client *c);
/* rs_client_chan_flush writes the channels' batches (or sends them through the node). */
void rs_client_chan_flush(roster_client *c);
/* rs_client_chan_pollfds fills up to cap pollfds for the channels (what each waits for). */
size_t rs_client_chan_pollfds(roster_client *c, struct pollfd *p, size_t cap);
/* rs_client_chan_pump writes and reads the channels without blocking. */
void rs_client_chan_pump(roster_client *c);
int rs_client_chan_out_empty(const roster_client *c);
/* rs_client_chan_reset closes every channel (connection lost or closed). */
void rs_client_chan_reset(roster_client *c);
/* rs_client_chan_handover ends our side of every channel at close: what the peers have not
 * taken yet is sent through the node (which keeps it once we are gone). */
void rs_client_chan_handover(roster_client *c);
/* rs_client_chan_fd_of: channel i's end (-1: none); for white-box tests only. */
int rs_client_chan_fd_of(const roster_client *c, unsigned i);
/* Each returns 1 when the message went (or failed: *rc) on a channel, 0 when the caller
 * sends it through the node (no channel to that pid). */
int rs_client_chan_send(roster_client *c, uint64_t from, struct rs_pid to, const void *data,
                        size_t len, unsigned flags, int timeout_ms, int *rc);
int rs_client_chan_call(roster_client *c, uint64_t from, struct rs_pid to, const void *data,
                        size_t len, roster_buf *reply, roster_pid *responder, int timeout_ms,
                        int *rc);
/* rs_client_chan_via_node: pid `from` sent `to` a message through the node (relayed tagged
 * with the channel, so the peer now knows the pid): its next ones may take the channel. */
void rs_client_chan_via_node(roster_client *c, uint64_t from, struct rs_pid to);
/* rs_client_chan_reply answers a call that came on a channel (call_ref has RS_CHAN_REF_BIT). */
int rs_client_chan_reply(roster_client *c, const roster_event *request, const void *data,
                         size_t len, int timeout_ms);

#endif
