/* snapshot.c: the loop thread's side of metrics (metrics.h): its counters' life and the
 * snapshot copied out of the core and the connection table for the HTTP thread. */
#include <stdlib.h>
#include <string.h>

#include "node/fair.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/node.h"

int rsd_metrics_start(struct rsd *n)
{
    n->metrics = calloc(1, sizeof *n->metrics);
    if (!n->metrics)
        return -1;
    n->metrics->start_ms = rsd_now(n);
    return 0;
}

void rsd_metrics_free(struct rsd *n)
{
    free(n->metrics);
    n->metrics = NULL;
}

struct take_ctx {
    struct rsd *n;
    struct rs_metrics_snap *s;
    size_t cap;
    int oom;
};

static void copy_name(char *dst, size_t cap, const char *p, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, p, len);
    dst[len] = 0;
}

static void take_scope(void *ctx, const struct rs_core_scope_view *v)
{
    struct take_ctx *t = ctx;
    struct rs_metrics_snap *s = t->s;
    if (s->n_scopes == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        void *p = realloc(s->scopes, nc * sizeof *s->scopes);
        if (!p) {
            t->oom = 1;
            return;
        }
        s->scopes = p;
        t->cap = nc;
    }
    struct rs_metrics_scope *m = &s->scopes[s->n_scopes++];
    copy_name(m->name, sizeof m->name, v->name, v->name_len);
    m->names = v->names;
    m->groups = v->groups;
    m->members = v->members;
    m->subscriptions = v->subscriptions;
}

static void take_node(void *ctx, const struct rs_core_node_view *v)
{
    struct take_ctx *t = ctx;
    struct rs_metrics_snap *s = t->s;
    if (s->n_peers == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 8;
        void *p = realloc(s->peers, nc * sizeof *s->peers);
        if (!p) {
            t->oom = 1;
            return;
        }
        s->peers = p;
        t->cap = nc;
    }
    struct rs_metrics_peer *m = &s->peers[s->n_peers++];
    memset(m, 0, sizeof *m);
    copy_name(m->name, sizeof m->name, v->name, v->name_len);
    m->state = v->state;
    m->rtt_ms = v->rtt_ms;
    m->ups = v->ups;
    m->entries = v->entries;
    m->bytes_in = v->bytes_in;
    m->bytes_out = v->bytes_out;
    m->unread = v->unread;
}

int rs_metrics_snap_take(struct rsd *n, struct rs_metrics_snap *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->node, sizeof s->node, "%s", n->cfg->name);
    rs_core_stats(n->core, &s->core);
    s->conns = n->n_conns;
    rs_core_access_stats(n->core, &s->access);
    struct rsd_fair_stats fs;
    rsd_fair_stats(n, &fs);
    s->fair_deferred = fs.deferred;
    s->fair_throttled = fs.throttled;
    s->log_level = rs_log_get_level();
    if (n->metrics) {
        s->uptime_ms = rsd_now(n) - n->metrics->start_ms;
        s->reloads_ok = n->metrics->reloads_ok;
        s->reloads_failed = n->metrics->reloads_failed;
        s->snaps = n->metrics->snaps;
        s->snap_ns = n->metrics->snap_ns;
        memcpy(s->req, n->metrics->req, sizeof s->req);
    }
    struct take_ctx t = {n, s, 0, 0};
    rs_core_scopes_each(n->core, take_scope, &t);
    t.cap = 0;
    rs_core_nodes_each(n->core, take_node, &t);
    if (t.oom) {
        rs_metrics_snap_free(s);
        return -1;
    }
    return 0;
}

void rs_metrics_snap_free(struct rs_metrics_snap *s)
{
    free(s->scopes);
    free(s->peers);
    s->scopes = NULL;
    s->peers = NULL;
    s->n_scopes = s->n_peers = 0;
}

