/* metrics.h: what rosterd measures for Prometheus (docs/METRICS.md) and the text it serves.
 * The loop thread counts requests (rsd_metrics_request, on the client path: a few adds),
 * and on demand copies everything else out of the core and the connection table into a
 * snapshot (rs_metrics_snap_take); the HTTP thread formats a snapshot (rs_metrics_format)
 * without ever touching the core. Formatting is pure, so tests check it directly. */
#ifndef ROSTER_NODE_METRICS_H
#define ROSTER_NODE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/limits.h"
#include "core/core.h"

struct rsd;

/* Request latency buckets, upper bounds in ns (the +Inf bucket is the count). */
#define RS_LAT_BUCKETS 14
extern const uint64_t rs_lat_bounds_ns[RS_LAT_BUCKETS];
/* One request in RS_LAT_SAMPLE of each type is timed (the 1st, the 17th, ...): two clock
 * reads cost about 40 ns, a quarter of a pipelined register's whole time in the loop;
 * sampled, the histograms cost the client path about 3 ns a request. */
#define RS_LAT_SAMPLE 16u

struct rs_req_stat {
    uint64_t count;             /* requests handled */
    uint64_t timed;             /* of which timed (the histogram's _count) */
    uint64_t sum_ns;            /* their total time */
    uint64_t b[RS_LAT_BUCKETS]; /* b[i]: timed requests in (bound[i-1], bound[i]] */
};

/* The loop thread's own counters (struct rsd.metrics; NULL without --http). */
struct rsd_metrics {
    struct rs_req_stat req[256]; /* by message type */
    uint64_t start_ms;           /* loop time at start */
    uint64_t reloads_ok, reloads_failed;
    uint64_t snaps, snap_ns; /* snapshots taken for scrapes, and the loop time they took */
};

/* rsd_metrics_sampled says whether the next request of type is to be timed. */
static inline int rsd_metrics_sampled(const struct rsd_metrics *m, unsigned type)
{
    return (m->req[type & 255u].count & (RS_LAT_SAMPLE - 1)) == 0;
}

/* rsd_metrics_count counts a request that was not timed. */
static inline void rsd_metrics_count(struct rsd_metrics *m, unsigned type)
{
    m->req[type & 255u].count++;
}

/* rsd_metrics_request counts a timed request that took ns. */
static inline void rsd_metrics_request(struct rsd_metrics *m, unsigned type, uint64_t ns)
{
    struct rs_req_stat *r = &m->req[type & 255u];
    r->count++;
    r->timed++;
    r->sum_ns += ns;
    unsigned i = 0;
    while (i < RS_LAT_BUCKETS && ns > rs_lat_bounds_ns[i])
        i++;
    if (i < RS_LAT_BUCKETS)
        r->b[i]++;
}

struct rs_metrics_scope {
    char name[RS_SCOPE_MAX + 1];
    uint64_t names, groups, members, subscriptions;
};

struct rs_metrics_peer {
    char name[RS_NODE_NAME_MAX + 1];
    int state; /* ROSTER_NODE_UP / DOWN / CONNECTING */
    uint64_t rtt_ms, ups, entries;
    uint64_t bytes_in, bytes_out; /* peer protocol bytes, all its connections */
    uint64_t unread;              /* queued to it, not yet written */
};

struct rs_metrics_snap {
    char node[RS_NODE_NAME_MAX + 1];
    uint64_t uptime_ms;
    struct rs_core_stats core;
    uint64_t conns;     /* open connections, clients and peers */
    int log_level;
    uint64_t reloads_ok, reloads_failed;
    uint64_t snaps, snap_ns;
    struct rs_req_stat req[256];
    struct rs_metrics_scope *scopes;
    size_t n_scopes;
    struct rs_metrics_peer *peers;
    size_t n_peers;
    /* access rules, memory ceiling, fairness (docs/SECURITY.md, docs/PERFORMANCE.md) */
    struct rs_core_access_stats access;
    uint64_t fair_deferred, fair_throttled;
};

/* rsd_metrics_start allocates n->metrics; rsd_metrics_free frees it. */
int rsd_metrics_start(struct rsd *n);
void rsd_metrics_free(struct rsd *n);
/* rs_metrics_snap_take fills *s from the node (loop thread only); 0 or -1 (memory). */
int rs_metrics_snap_take(struct rsd *n, struct rs_metrics_snap *s);
void rs_metrics_snap_free(struct rs_metrics_snap *s);
/* rs_metrics_format writes s in the Prometheus text format 0.0.4 to f; 0 or -1. */
int rs_metrics_format(const struct rs_metrics_snap *s, FILE *f);

#endif
