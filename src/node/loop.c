/* loop.c: the node's life cycle: create the core (random incarnation and hash seed), run
 * the libuv loop, the periodic timer (TICK input with monotonic and wall time, stall scan,
 * peer handshake deadlines), SIGTERM/SIGINT handling, SIGHUP (two handlers, as libuv
 * allows: this file's re-reads the cookie files, reload.c's the config file), the HTTP
 * server of --http (http.c) and the clean stop (every conn closed through CLIENT_GONE /
 * PEER_GONE, every dial target and buffer freed, the HTTP thread joined, the etcd client
 * destroyed after the loop). rsd_run tells systemd the node is ready (sdnotify.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/alloc.h"
#include "node/tls.h"
#include "node/access_node.h"
#include "node/fair.h"
#include "node/conn.h"
#include "node/http.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/reload.h"
#include "node/sdnotify.h"
#include "node/node.h"
#include "node/peer.h"

#define SCRATCH_BYTES (64u * 1024u)

static uint64_t random_u64(void)
{
    uint64_t v = 0;
    size_t got = 0;
    while (got < sizeof v) {
        ssize_t r = getrandom((uint8_t *)&v + got, sizeof v - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rs_log(RS_LOG_ERROR, "getrandom failed: %s", strerror(errno));
            abort();
        }
        got += (size_t)r;
    }
    return v;
}

static void on_tick(uv_timer_t *t)
{
    struct rsd *n = t->data;
    struct rs_input in = {.kind = RS_IN_TICK, .now_ms = rsd_now(n)};
    rsd_apply(n, &in);
    if (!rs_list_empty(&n->partial))
        rs_conn_check_stalls(n);
    if (!rs_list_empty(&n->handshaking))
        rs_peer_check_handshakes(n);
    rsd_perform(n);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct rsd *n = s->data;
    rs_log(RS_LOG_INFO, "%s received: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    rsd_stop(n);
}

static void on_hup(uv_signal_t *s, int signum)
{
    (void)signum;
    struct rsd *n = s->data;
    if (n->cfg->cluster) {
        rs_log(RS_LOG_INFO, "SIGHUP received: re-reading the cookie files%s",
               rsd_tls_on(n) ? " and the peer TLS files" : "");
        rs_cookie_reload(n);
        rsd_tls_reload(n);
    } else {
        rs_log(RS_LOG_INFO, "SIGHUP received: nothing to re-read (not clustered)");
    }
}

int rsd_init(struct rsd *n, const struct rsd_config *cfg)
{
    memset(n, 0, sizeof *n);
    n->cfg = cfg;
    rs_list_init(&n->all);
    rs_list_init(&n->dirty);
    rs_list_init(&n->partial);
    rs_list_init(&n->handshaking);
    rs_list_init(&n->dials);
    rs_map_init(&n->conns);
    rs_map_init(&n->kv_live);
    n->kv_rejected_tail = &n->kv_rejected;
    rs_outputs_init(&n->outs);
    n->next_conn_id = 1;
    n->wire_limits = cfg->limits;
    n->wire_limits.name_max = 0; /* the core answers oversize names/metadata with codes */
    n->wire_limits.meta_max = 0;
    do
        n->incarnation = random_u64();
    while (n->incarnation == 0);
    n->scratch_cap = SCRATCH_BYTES;
    n->scratch = rs_malloc(n->scratch_cap);
    if (!n->scratch)
        return -1;
    int r = uv_loop_init(&n->loop);
    if (r < 0) {
        rs_log(RS_LOG_ERROR, "uv_loop_init: %s", uv_strerror(r));
        return -1;
    }
    n->loop_ok = 1;
    rsd_shm_open(n, cfg->shm_bytes);
    struct rs_core_config cc = {
        .node_name = cfg->name,
        .incarnation = n->incarnation,
        .hash_seed = random_u64(),
        .now_ms = uv_now(&n->loop),
        .limits = cfg->limits,
        .listen_addr = cfg->cluster ? cfg->listen_addr : NULL,
        .heartbeat_ms = cfg->heartbeat_ms,
        .down_after_ms = cfg->down_after_ms,
        .policy = cfg->policy,
        .resolver = cfg->resolver_fn,
        .priorities = cfg->priorities,
        .n_priorities = cfg->n_priorities,
        .scopes = cfg->scopes,
        .n_scopes = cfg->n_scopes,
        .kv_enabled = cfg->etcd != NULL,
        .kv_lease_ttl_ms = cfg->etcd_lease_ttl_ms,
        .kv_timeout_ms = cfg->etcd_timeout_ms,
        .shm_base = n->shm_base,
        .shm_size = n->shm_size,
        .log_level = cfg->log_level,
        .admin_uid = (uint32_t)getuid(), /* the node's own user administers it (and root) */
        .public_resolver = cfg->public_resolver,
        .max_channels = cfg->max_channels,
        .no_channels = cfg->max_channels == 0,
    };
    n->core = rs_core_new(&cc);
    uv_signal_init(&n->loop, &n->sig_term);
    uv_signal_init(&n->loop, &n->sig_int);
    uv_signal_init(&n->loop, &n->sig_hup);
    uv_timer_init(&n->loop, &n->tick);
    if (!n->core) {
        rs_log(RS_LOG_ERROR, "cannot create the node core (invalid config or out of memory)");
        return -1;
    }
    rsd_access_start(n);
    if (rsd_fair_start(n) != 0)
        return -1;
    if (cfg->etcd && rsd_kv_start(n) != 0)
        return -1;
    if (rsd_reload_start(n) != 0) {
        rs_log(RS_LOG_ERROR, "cannot install the SIGHUP handler");
        return -1;
    }
    if (cfg->http && (rsd_metrics_start(n) != 0 || rsd_http_start(n) != 0))
        return -1;
    n->sig_term.data = n->sig_int.data = n->sig_hup.data = n;
    uv_signal_start(&n->sig_term, on_signal, SIGTERM);
    uv_signal_start(&n->sig_int, on_signal, SIGINT);
    uv_signal_start(&n->sig_hup, on_hup, SIGHUP);
    n->tick.data = n;
    /* The stall scan runs often enough to close a staller within ~1.25x its limit; the core
     * gets a TICK at least every min(heartbeat / 2, 100) ms for heartbeats and failure
     * detection. */
    uint64_t every = cfg->limits.stall_ms / 4;
    if (every > 1000)
        every = 1000;
    if (every > cfg->heartbeat_ms / 2)
        every = cfg->heartbeat_ms / 2;
    if (every > 100)
        every = 100;
    if (every < 5)
        every = 5;
    n->tick_ms = every;
    uv_timer_start(&n->tick, on_tick, every, every);
    return 0;
}

int rsd_run(struct rsd *n)
{
    /* rsd_run follows the listeners' start (main.c): the node now serves. */
    rsd_sdnotify_ready(&n->loop);
    return uv_run(&n->loop, UV_RUN_DEFAULT);
}

void rsd_stop(struct rsd *n)
{
    if (n->stopping)
        return;
    n->stopping = 1;
    rs_listen_stop(n);
    rs_peer_listen_stop(n);
    rs_dial_stop(n);
    rsd_kv_stop(n);
    rsd_http_stop(n); /* joins the HTTP thread: nothing reads the node after this */
    rsd_reload_stop(n);
    while (!rs_list_empty(&n->all)) {
        struct rs_conn *c = RS_CONTAINER(n->all.next, struct rs_conn, all_link);
        rs_conn_close(c, RS_LOG_DEBUG, "node stopping");
    }
    rsd_perform(n);
    uv_timer_stop(&n->tick);
    uv_close((uv_handle_t *)&n->tick, NULL);
    uv_signal_stop(&n->sig_term);
    uv_signal_stop(&n->sig_int);
    uv_signal_stop(&n->sig_hup);
    uv_close((uv_handle_t *)&n->sig_term, NULL);
    uv_close((uv_handle_t *)&n->sig_int, NULL);
    uv_close((uv_handle_t *)&n->sig_hup, NULL);
    rsd_chan_fini(n);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void rsd_fini(struct rsd *n)
{
    if (n->loop_ok) {
        if (n->core && !n->stopping)
            rsd_stop(n);
        uv_walk(&n->loop, walk_close, NULL);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        int r = uv_loop_close(&n->loop);
        if (r != 0)
            rs_log(RS_LOG_WARN, "loop close: %s", uv_strerror(r));
    }
    rsd_kv_free(n);
    rsd_metrics_free(n);
    if (n->core)
        rs_core_free(n->core);
    rsd_access_stop();
    rsd_fair_free(n); /* after the loop closed its handles */
    rs_dial_free(n);
    rs_outputs_fini(&n->outs);
    rs_map_fini(&n->conns);
    rs_free(n->scratch);
    rsd_tls_free(n); /* after the loop: every conn's session is gone */
    rsd_shm_close(n); /* after the core: it wrote there */
    memset(n, 0, sizeof *n);
}
