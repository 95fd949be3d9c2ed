/* node.h: struct rsd, the daemon's one state object (owned by main.c): the libuv loop,
 * the core, the connection table, timers and signal handles. loop.c runs it; listen.c,
 * conn.c and effects.c work on it. Everything here runs on the loop thread; the HTTP
 * server's thread (http.c) only ever sees snapshots the loop hands it. */
#ifndef ROSTER_NODE_NODE_H
#define ROSTER_NODE_NODE_H

#include <stdint.h>
#include <uv.h>

#include "node/auth.h"
#include "base/map.h"
#include "node/config.h"
#include "core/core.h"

struct rs_conn;
struct rsd_metrics;
struct rsd_http;
struct rsd_dash;
struct rsd_reload;
struct etcd_client;
struct kv_reject;

/* An intrusive doubly-linked list link. */
struct rs_link {
    struct rs_link *prev, *next;
};

struct rsd {
    uv_loop_t loop;
    int loop_ok; /* loop initialised: fini must close it */
    const struct rsd_config *cfg;
    struct rs_core *core;
    struct rs_outputs outs; /* outputs of rs_core_apply, performed by rsd_perform */
    int performing;         /* rsd_perform is running (it loops until outs is empty) */
    int delivering;         /* deliver() walks outs: rsd_apply must not append to it now */

    uv_pipe_t listener;
    int listening;
    int socket_bound; /* we created cfg->socket_path: unlink it at exit */
    uint64_t accept_errors_logged_ms;

    uv_signal_t sig_term, sig_int;
    uv_signal_t sig_hup; /* re-read the cookie files (a rotation, docs/SECURITY.md) */
    uv_timer_t tick;  /* TICK input and stall scan */
    int stopping;

    struct rs_map conns;      /* conn id -> struct rs_conn */
    uint64_t next_conn_id;    /* starts at 1, never reused */
    uint64_t n_conns;
    struct rs_link all;       /* every open conn */
    struct rs_link dirty;     /* conns with output to flush */
    struct rs_link partial;   /* conns holding an incomplete frame */

    uint8_t *scratch; /* shared read buffer for conns with no partial frame */
    size_t scratch_cap;
    int scratch_busy;

    struct rs_limits wire_limits; /* decoding limits: frame_max, name/meta checks off */
    uint64_t incarnation;

    /* --- cluster (peer.c, dial.c) --- */
    uv_tcp_t peer_listener;
    int peer_listening;
    struct rs_auth_keys keys;   /* from the cookie */
    struct rs_link handshaking; /* peer conns connecting or authenticating (deadline) */
    size_t n_handshaking;
    struct rs_link dials;       /* struct rs_dial: addresses to keep a connection to */
    uint64_t peer_refused_logged_ms;
    uint64_t tick_ms;           /* TICK period */

    /* --- strong scopes: the etcd bridge (kv.c); kv is NULL without --etcd --- */
    struct etcd_client *kv;
    uv_poll_t kv_poll;        /* the client's eventfd: results waiting */
    int kv_polling;           /* kv_poll initialised: rsd_kv_stop closes it */
    struct rs_map kv_live;    /* kv_id -> struct kv_live: operations in flight */
    struct kv_reject *kv_rejected, **kv_rejected_tail; /* refused submits, to answer */

    /* --- operations (docs/OPERATIONS.md): metrics (metrics.c; NULL without --http), the
     * HTTP server (http.c), the SIGHUP reload of the config file (reload.c) --- */
    struct rsd_metrics *metrics;
    struct rsd_http *http;
    struct rsd_dash *dash; /* the dashboard's event hub (dash_hub.c; NULL without --http) */
    struct rsd_reload *reload;
    struct rsd_fair *fair; /* bounded turns per connection, rate limits (fair.c) */
    /* --- shared-memory reads (shm.c): the region's memfd (-1: none) and its mapping --- */
    int shm_fd;
    void *shm_base;
    size_t shm_size;
    /* --- TLS on peer links (tls.c): the SSL_CTX new peer conns use (NULL: no TLS) --- */
    void *tls_ctx;
    struct rsd_chan *chan; /* direct channels' socket pairs (chan.c); NULL until the first */
};

/* loop.c */
int rsd_init(struct rsd *n, const struct rsd_config *cfg);
int rsd_run(struct rsd *n);
void rsd_fini(struct rsd *n);
void rsd_stop(struct rsd *n);
static inline uint64_t rsd_now(struct rsd *n) { return uv_now(&n->loop); }

/* listen.c: binds cfg->socket_path (refusing a live one) and starts accepting.
 * Returns 0, or -1 with a logged reason; *live is set when another node owns the socket. */
int rs_listen_start(struct rsd *n, int *live);
void rs_listen_stop(struct rsd *n);

/* peer.c: the peer TCP listener (cfg->listen_host:port); 0, or -1 with a logged reason. */
int rs_peer_listen_start(struct rsd *n);
void rs_peer_listen_stop(struct rsd *n);
/* peer.c: closes peer conns whose connect or handshake outlived its deadline. */
void rs_peer_check_handshakes(struct rsd *n);

/* dial.c: keep a connection to addr ("host:port"); name (may be empty) is the node expected
 * there. Dials at once if nothing is under way, then redials with backoff. */
void rs_dial_keep(struct rsd *n, const char *name, size_t name_len, const char *addr,
                  size_t addr_len);
/* rs_dial_forget stops dialing the targets of node name (name_len 0 and addr_len 0: every
 * target, --join seeds included) and the target at addr; a connection they made stays.
 * keep_seeds (RS_OUT_UNDIAL_LEFT: that node left the cluster): --join seeds stay. */
void rs_dial_forget(struct rsd *n, const char *name, size_t name_len, const char *addr,
                    size_t addr_len, int keep_seeds);
void rs_dial_stop(struct rsd *n);
void rs_dial_free(struct rsd *n);

/* effects.c: feed one input to the core (its outputs are queued), then perform everything
 * queued, flushing connections, until nothing is left. */
void rsd_apply(struct rsd *n, struct rs_input *in);
void rsd_perform(struct rsd *n);

/* kv.c: the etcd bridge (strong scopes). rsd_kv_start creates the client from the --etcd
 * flags and polls it (0, or -1 with a logged reason: the node cannot start).
 * rsd_kv_outputs submits the RS_OUT_KV / RS_OUT_KV_CANCEL outputs from outs.v[first] on;
 * rsd_apply calls it after every apply. rsd_kv_feed_rejected answers refused submits
 * (rsd_perform's flush phase); rsd_kv_pending says whether any wait. rsd_kv_stop stops the
 * polling (rsd_stop); rsd_kv_free destroys the client after the loop (rsd_fini). */
int rsd_kv_start(struct rsd *n);
void rsd_kv_outputs(struct rsd *n, size_t first);
int rsd_kv_pending(const struct rsd *n);
void rsd_kv_feed_rejected(struct rsd *n);
void rsd_kv_stop(struct rsd *n);
void rsd_kv_free(struct rsd *n);

/* shm.c: rsd_shm_open creates the region of size bytes (0: none; a failure is logged and
 * leaves the node without one) and returns 0; rsd_shm_close unmaps and closes it.
 * rsd_shm_send writes bytes to conn c with the region's fd attached (SCM_RIGHTS): bytes
 * written (0: would block, try later), or -errno. */
int rsd_shm_open(struct rsd *n, size_t size);
void rsd_shm_close(struct rsd *n);
struct rs_conn;
ssize_t rsd_shm_send(struct rs_conn *c, const void *p, size_t len);
/* rsd_send_fd writes bytes to the non-blocking socket sock with fd attached (SCM_RIGHTS;
 * fd < 0: none), as rsd_shm_send and the channels' hand-over do: bytes written, 0 when the
 * socket is full, or -errno. */
ssize_t rsd_send_fd(int sock, const void *p, size_t len, int fd);

/* chan.c: direct channels. rsd_chan_fd performs RS_OUT_CHANNEL_FD (make the pair, queue
 * an end on the conn at its next output byte); rsd_chan_write writes c's output from
 * *done up to the next queued end (*limit), sending the ends whose byte comes now: 0, 1
 * when the socket is full at an end (a timer tries again), or -errno; rsd_chan_conn_fini
 * closes what a closing conn still holds; rsd_chan_fini frees the rest. */
struct rs_output;
void rsd_chan_fd(struct rsd *n, const struct rs_output *out);
int rsd_chan_write(struct rs_conn *c, size_t *done, size_t *limit);
void rsd_chan_conn_fini(struct rs_conn *c);
void rsd_chan_fini(struct rsd *n);

/* list helpers */
static inline void rs_list_init(struct rs_link *l) { l->prev = l->next = l; }
static inline int rs_list_empty(const struct rs_link *l) { return l->next == l; }
static inline int rs_linked(const struct rs_link *e) { return e->next != NULL; }
static inline void rs_list_push(struct rs_link *l, struct rs_link *e)
{
    e->prev = l->prev;
    e->next = l;
    l->prev->next = e;
    l->prev = e;
}
static inline void rs_list_del(struct rs_link *e)
{
    if (!e->next)
        return;
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->next = e->prev = NULL;
}
#define RS_CONTAINER(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
