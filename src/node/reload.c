/* reload.c: SIGHUP: read the config file again and apply what may change at run time
 * (reload.h). Runs on the loop thread, between applies. */
#include "node/reload.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "node/access_node.h"
#include "node/config.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/node.h"

struct rsd_reload {
    uv_signal_t hup; /* first: the handle's address is the struct's */
    struct rs_limits limits; /* in force: the start's, raised by reloads */
};

/* The limits that may grow while clients are connected: those rs_core_raise_limits
 * raises. The sizes clients learned at HELLO (frame, name, meta, message) and the stall
 * timeout need a restart. */
static int growable(size_t off)
{
    return off == offsetof(struct rs_limits, conns_max) ||
           off == offsetof(struct rs_limits, pids_per_client) ||
           off == offsetof(struct rs_limits, entries_per_client) ||
           off == offsetof(struct rs_limits, subs_per_client) ||
           off == offsetof(struct rs_limits, monitors_per_client) ||
           off == offsetof(struct rs_limits, queue_bytes) ||
           off == offsetof(struct rs_limits, outbuf_max) ||
           off == offsetof(struct rs_limits, mailbox_bytes);
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void restart(const char *key, int *n_restart)
{
    rs_log(RS_LOG_WARN, "config reload: %s changed: needs a restart (not applied)", key);
    (*n_restart)++;
}

/* compare_static logs each setting that only a restart applies. */
static void compare_static(const struct rsd_config *a, const struct rsd_config *b, int *nr)
{
    if (strcmp(a->name, b->name))
        restart("name", nr);
    if (strcmp(a->socket_path, b->socket_path))
        restart("socket", nr);
    if (a->cluster != b->cluster || strcmp(a->listen_addr, b->listen_addr))
        restart("listen", nr);
    int seeds = a->n_seeds != b->n_seeds;
    for (size_t i = 0; !seeds && i < a->n_seeds; i++)
        seeds = strcmp(a->seeds[i], b->seeds[i]) != 0;
    if (seeds)
        restart("join", nr);
    if (!str_eq(a->cookie_file, b->cookie_file))
        restart("cookie-file", nr);
    if (!str_eq(a->data_dir, b->data_dir))
        restart("data-dir", nr);
    int scopes = a->n_scopes != b->n_scopes;
    for (size_t i = 0; !scopes && i < a->n_scopes; i++)
        scopes = strcmp(a->scopes[i], b->scopes[i]) != 0;
    if (scopes)
        restart("scope", nr);
    if (a->heartbeat_ms != b->heartbeat_ms)
        restart("heartbeat-ms", nr);
    if (a->down_after_ms != b->down_after_ms)
        restart("down-after-ms", nr);
    if (a->policy != b->policy)
        restart("conflict-policy", nr);
    int prio = a->n_priorities != b->n_priorities;
    for (size_t i = 0; !prio && i < a->n_priorities; i++)
        prio = strcmp(a->prio_names[i], b->prio_names[i]) ||
               a->priorities[i].priority != b->priorities[i].priority;
    if (prio)
        restart("priority", nr);
    if (!str_eq(a->resolver, b->resolver))
        restart("resolver", nr);
    if (!str_eq(a->etcd, b->etcd))
        restart("etcd", nr);
    if (!str_eq(a->etcd_prefix, b->etcd_prefix))
        restart("etcd-prefix", nr);
    if (!str_eq(a->peer_tls_cert, b->peer_tls_cert) || !str_eq(a->peer_tls_key, b->peer_tls_key) ||
        !str_eq(a->peer_tls_ca, b->peer_tls_ca))
        restart("peer-tls-cert, peer-tls-key or peer-tls-ca", nr);
    if (a->peer_tls_names_strict != b->peer_tls_names_strict)
        restart("peer-tls-names", nr);
    if (!str_eq(a->etcd_ca, b->etcd_ca))
        restart("etcd-ca", nr);
    if (!str_eq(a->etcd_cert, b->etcd_cert))
        restart("etcd-cert", nr);
    if (!str_eq(a->etcd_key, b->etcd_key))
        restart("etcd-key", nr);
    if (a->etcd_lease_ttl_ms != b->etcd_lease_ttl_ms)
        restart("etcd-lease-ttl-ms", nr);
    if (a->etcd_timeout_ms != b->etcd_timeout_ms)
        restart("etcd-timeout-ms", nr);
    if (a->http != b->http || strcmp(a->http_host, b->http_host) ||
        a->http_port != b->http_port)
        restart("http", nr);
}

/* apply_limits raises the growable limits that grew, and logs every other change. */
static int apply_limits(struct rsd *n, const struct rs_limits *want, int *nr)
{
    struct rs_limits *cur = &n->reload->limits;
    struct rs_limits raise = *cur;
    int changed = 0;
    const char *name;
    size_t off;
    for (size_t i = 0; rs_config_limit(i, &name, &off) == 0; i++) {
        unsigned *c = (unsigned *)((char *)cur + off);
        unsigned w = *(const unsigned *)((const char *)want + off);
        if (w == *c)
            continue;
        if (growable(off) && w > *c) {
            rs_log(RS_LOG_INFO, "config reload: %s: %u -> %u", name, *c, w);
            *(unsigned *)((char *)&raise + off) = w;
            changed++;
        } else {
            rs_log(RS_LOG_WARN, "config reload: %s: %u -> %u: %s (not applied)", name, *c, w,
                   growable(off) ? "a limit only grows while the node runs: lowering it "
                                   "needs a restart"
                                 : "needs a restart");
            (*nr)++;
        }
    }
    if (changed) {
        rs_core_raise_limits(n->core, &raise);
        *cur = raise;
    }
    return changed;
}

void rsd_reload(struct rsd *n)
{
    const struct rsd_config *cfg = n->cfg;
    struct rsd_config *fresh = calloc(1, sizeof *fresh);
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *err = open_memstream(&msg, &msg_len);
    if (!fresh || !err) {
        rs_log(RS_LOG_ERROR, "config reload: out of memory: nothing changed");
        free(fresh);
        if (err)
            fclose(err);
        free(msg);
        return;
    }
    rs_log(RS_LOG_INFO, "SIGHUP received: reloading %s",
           cfg->config_path[0] ? cfg->config_path : "the config (no config file at start)");
    int r = rs_config_parse(fresh, cfg->argc, cfg->argv, err, err);
    fclose(err);
    if (r != RS_CONFIG_OK) {
        /* One log line: the parser's messages joined. */
        for (char *p = msg; p && *p; p++)
            if (*p == '\n')
                *p = p[1] ? ' ' : 0;
        rs_log(RS_LOG_ERROR, "config reload failed, nothing changed: %s",
               msg && *msg ? msg : "invalid configuration");
        free(msg);
        free(fresh);
        if (n->metrics)
            n->metrics->reloads_failed++;
        return;
    }
    free(msg);
    int applied = 0, need_restart = 0;
    if (strcmp(cfg->config_path, fresh->config_path))
        rs_log(RS_LOG_INFO, "config reload: now reading %s",
               fresh->config_path[0] ? fresh->config_path : "no config file");
    int level = rs_log_get_level();
    if (fresh->log_level != level) {
        rs_log_set_level(fresh->log_level);
        rs_core_set_log_level(n->core, fresh->log_level);
        /* at info, or at the new level if that is quieter, so the line is always seen */
        rs_log(fresh->log_level < RS_LOG_INFO ? fresh->log_level : RS_LOG_INFO,
               "config reload: log-level: %s -> %s", rs_log_level_name(level),
               rs_log_level_name(fresh->log_level));
        applied++;
    }
    int format = rs_log_get_format();
    if (fresh->log_format != format) {
        rs_log_set_format(fresh->log_format);
        rs_log(RS_LOG_INFO, "config reload: log-format: %s -> %s", rs_log_format_name(format),
               rs_log_format_name(fresh->log_format));
        applied++;
    }
    applied += apply_limits(n, &fresh->limits, &need_restart);
    applied += rsd_access_reload(n, fresh);
    compare_static(cfg, fresh, &need_restart);
    rs_log(RS_LOG_INFO, "config reload done: %d change(s) applied, %d need a restart", applied,
           need_restart);
    if (n->metrics)
        n->metrics->reloads_ok++;
    rs_config_free(fresh);
    free(fresh);
}

static void on_hup(uv_signal_t *s, int signum)
{
    (void)signum;
    rsd_reload(s->data);
}

int rsd_reload_start(struct rsd *n)
{
    struct rsd_reload *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->limits = n->cfg->limits;
    if (uv_signal_init(&n->loop, &r->hup) != 0) {
        free(r);
        return -1;
    }
    n->reload = r;
    r->hup.data = n;
    uv_signal_start(&r->hup, on_hup, SIGHUP);
    return 0;
}

static void on_closed(uv_handle_t *h) { free(h); }

void rsd_reload_stop(struct rsd *n)
{
    if (!n->reload)
        return;
    uv_signal_stop(&n->reload->hup);
    uv_close((uv_handle_t *)&n->reload->hup, on_closed);
    n->reload = NULL;
}
