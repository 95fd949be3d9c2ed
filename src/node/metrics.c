/* metrics.c: the text format 0.0.4 the HTTP thread writes from a snapshot (names and
 * meanings: docs/METRICS.md). Pure: no node state, so tests link it alone
 * (roster_node_metrics); the loop thread's side is snapshot.c. */
#include "node/metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <roster.h>

/* 1 us .. 1 s: a local request takes microseconds; the tail shows stalls. */
const uint64_t rs_lat_bounds_ns[RS_LAT_BUCKETS] = {
    1000,    2500,    5000,     10000,    25000,    50000,     100000,
    250000,  500000,  1000000,  2500000,  10000000, 100000000, 1000000000,
};

/* --- the text format ------------------------------------------------------------------ */

/* label writes a label value: '\\', '"' and newline escaped as the format wants; other
 * control bytes (never in a valid name, but scope names are bytes) become '?'. */
static void label(FILE *f, const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '"')
            fputs("\\\"", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f)
            fputc('?', f);
        else
            fputc(*p, f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
    head(f, name, type, help);
    fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* seconds prints ns as seconds without losing digits (no float rounding). */
static void seconds(FILE *f, uint64_t ns)
{
    fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static void type_label(char *out, size_t cap, unsigned type)
{
    const char *t = rs_wire_type_name(type);
    size_t i = 0;
    for (; t[i] && i + 1 < cap; i++)
        out[i] = (t[i] >= 'A' && t[i] <= 'Z') ? (char)(t[i] - 'A' + 'a') : t[i];
    out[i] = 0;
}

static void requests(FILE *f, const struct rs_metrics_snap *s)
{
    char t[64];
    head(f, "roster_requests_total", "counter",
         "Client requests handled, by message type.");
    for (unsigned k = 0; k < 256; k++)
        if (s->req[k].count) {
            type_label(t, sizeof t, k);
            fprintf(f, "roster_requests_total{type=\"%s\"} %" PRIu64 "\n", t, s->req[k].count);
        }
    head(f, "roster_request_duration_seconds", "histogram",
         "Time from a decoded client frame to its reply queued, by message type (one "
         "request in 16 of each type is timed).");
    for (unsigned k = 0; k < 256; k++) {
        const struct rs_req_stat *r = &s->req[k];
        if (!r->timed)
            continue;
        type_label(t, sizeof t, k);
        uint64_t cum = 0;
        for (unsigned i = 0; i < RS_LAT_BUCKETS; i++) {
            cum += r->b[i];
            fprintf(f, "roster_request_duration_seconds_bucket{type=\"%s\",le=\"", t);
            seconds(f, rs_lat_bounds_ns[i]);
            fprintf(f, "\"} %" PRIu64 "\n", cum);
        }
        fprintf(f, "roster_request_duration_seconds_bucket{type=\"%s\",le=\"+Inf\"} %" PRIu64
                   "\n", t, r->timed);
        fprintf(f, "roster_request_duration_seconds_sum{type=\"%s\"} ", t);
        seconds(f, r->sum_ns);
        fprintf(f, "\nroster_request_duration_seconds_count{type=\"%s\"} %" PRIu64 "\n", t,
                r->timed);
    }
}

#define SCOPE_GAUGE(field, mname, help)                                                    \
    do {                                                                                  \
        head(f, mname, "gauge", help);                                                     \
        for (size_t i = 0; i < s->n_scopes; i++) {                                        \
            fputs(mname "{scope=\"", f);                                                   \
            label(f, s->scopes[i].name);                                                  \
            fprintf(f, "\"} %" PRIu64 "\n", s->scopes[i].field);                          \
        }                                                                                 \
    } while (0)

#define PEER_SERIES(expr, mname, type, help)                                               \
    do {                                                                                  \
        head(f, mname, type, help);                                                        \
        for (size_t i = 0; i < s->n_peers; i++) {                                         \
            const struct rs_metrics_peer *p = &s->peers[i];                               \
            fputs(mname "{peer=\"", f);                                                    \
            label(f, p->name);                                                            \
            fprintf(f, "\"} %" PRIu64 "\n", (uint64_t)(expr));                            \
        }                                                                                 \
    } while (0)

static void peers(FILE *f, const struct rs_metrics_snap *s)
{
    static const char *const states[] = {"up", "down", "connecting", "left"};
    head(f, "roster_peer_state", "gauge",
         "Other nodes by state: 1 for the state the node is in, 0 for the others.");
    for (size_t i = 0; i < s->n_peers; i++)
        for (int k = 0; k < 4; k++) {
            fputs("roster_peer_state{peer=\"", f);
            label(f, s->peers[i].name);
            fprintf(f, "\",state=\"%s\"} %d\n", states[k], s->peers[i].state == k + 1);
        }
    head(f, "roster_peer_rtt_seconds", "gauge",
         "Last heartbeat round trip to the node (millisecond resolution).");
    for (size_t i = 0; i < s->n_peers; i++) {
        fputs("roster_peer_rtt_seconds{peer=\"", f);
        label(f, s->peers[i].name);
        fputs("\"} ", f);
        seconds(f, s->peers[i].rtt_ms * 1000000u);
        fputc('\n', f);
    }
    PEER_SERIES(p->bytes_in, "roster_peer_received_bytes_total", "counter",
                "Peer protocol bytes received from the node (handshakes excluded).");
    PEER_SERIES(p->bytes_out, "roster_peer_sent_bytes_total", "counter",
                "Peer protocol bytes sent to the node (handshakes excluded).");
    PEER_SERIES(p->unread, "roster_peer_unread_bytes", "gauge",
                "Bytes queued to the node and not yet written: its link's queue (messages to "
                "it are dropped past --mailbox-bytes, the node is declared down past "
                "--outbuf-bytes).");
    PEER_SERIES(p->ups > 1 ? p->ups - 1 : 0, "roster_peer_reconnects_total", "counter",
                "Times the node came up again after its first connection.");
    PEER_SERIES(p->entries, "roster_peer_entries", "gauge",
                "Names and group memberships of the node's pids held here.");
}

int rs_metrics_format(const struct rs_metrics_snap *s, FILE *f)
{
    const struct rs_core_stats *c = &s->core;
    head(f, "roster_build_info", "gauge", "Always 1: the node's name and roster version.");
    fputs("roster_build_info{node=\"", f);
    label(f, s->node);
    fprintf(f, "\",version=\"%d.%d.%d\"} 1\n", ROSTER_VERSION_MAJOR, ROSTER_VERSION_MINOR,
            ROSTER_VERSION_PATCH);
    head(f, "roster_uptime_seconds", "gauge", "Time since the node started.");
    fputs("roster_uptime_seconds ", f);
    seconds(f, s->uptime_ms * 1000000u);
    fputc('\n', f);
    one(f, "roster_connections", "gauge", "Open connections, clients and peers.", s->conns);
    one(f, "roster_clients", "gauge", "Connected clients.", c->clients);
    one(f, "roster_pids", "gauge", "Live local pids.", c->pids);
    one(f, "roster_subscriptions", "gauge", "Subscriptions of local clients.",
        c->subscriptions);
    one(f, "roster_monitors", "gauge", "Monitors held by local clients.", c->monitors);
    one(f, "roster_scopes", "gauge", "Scopes this node knows.", c->scopes);
    SCOPE_GAUGE(names, "roster_scope_names", "Registered unique names, by scope.");
    SCOPE_GAUGE(groups, "roster_scope_groups", "Groups with at least one member, by scope.");
    SCOPE_GAUGE(members, "roster_scope_members", "Group memberships, by scope.");
    SCOPE_GAUGE(subscriptions, "roster_scope_subscriptions", "Subscriptions, by scope.");
    one(f, "roster_calls_pending", "gauge", "Calls of local clients waiting for replies.",
        c->calls_pending);
    one(f, "roster_call_proxies", "gauge", "Calls of other nodes waiting on local pids.",
        c->call_proxies);
    requests(f, s);
    one(f, "roster_events_sent_total", "counter", "Events queued to local subscribers.",
        c->events_sent);
    one(f, "roster_subscription_overflows_total", "counter",
        "Subscriptions ended because their client read too slowly (queue-bytes).",
        c->sub_overflows);
    one(f, "roster_messages_delivered_total", "counter", "Messages delivered to local pids.",
        c->msgs_delivered);
    one(f, "roster_messages_dropped_total", "counter",
        "Messages dropped: mailbox full, too big, or the link to the node full.",
        c->msgs_dropped);
    one(f, "roster_client_unread_bytes", "gauge",
        "Bytes queued to local clients (events, messages, replies) not yet read, all clients.",
        c->unread_bytes);
    one(f, "roster_client_unread_bytes_max", "gauge",
        "Bytes queued and not yet read by the client with the most.", c->unread_max);
    peers(f, s);
    one(f, "roster_conflicts_resolved_total", "counter",
        "Second claims on a unique name settled by the conflict policy.", c->conflicts);
    one(f, "roster_node_down_declarations_total", "counter",
        "Times this node declared another node down.", c->nodes_down);
    one(f, "roster_acl_rules", "gauge", "Access rules in force (0: no --acl).",
        s->access.acl_rules);
    one(f, "roster_acl_refusals_total", "counter",
        "Client requests refused by an access rule (EACCES).", s->access.acl_refusals);
    one(f, "roster_memory_bytes", "gauge",
        "Live bytes of the node's own allocator (tables, queues, buffers).",
        s->access.memory_used);
    one(f, "roster_memory_max_bytes", "gauge", "The memory ceiling, --max-memory (0: none).",
        s->access.memory_max);
    one(f, "roster_memory_refusals_total", "counter",
        "Requests refused with ENOMEM above the memory ceiling.", s->access.memory_refusals);
    one(f, "roster_fair_deferred_total", "counter",
        "Turns a connection ended with frames left to apply (it waited for the next).",
        s->fair_deferred);
    one(f, "roster_fair_throttled_total", "counter",
        "Times a client waited for its --client-rate tokens.", s->fair_throttled);
    one(f, "roster_leases", "gauge", "Entries of local pids with a lease (TTL).", c->leases);
    one(f, "roster_leases_expired_total", "counter",
        "Entries removed because their lease ran out unrenewed.", c->leases_expired);
    head(f, "roster_log_level", "gauge",
         "The log level: 0 error, 1 warn, 2 info, 3 debug, 4 trace, 5 off.");
    fprintf(f, "roster_log_level %d\n", s->log_level);
    one(f, "roster_metrics_snapshots_total", "counter",
        "Snapshots of the node taken on its loop thread for scrapes.", s->snaps);
    head(f, "roster_metrics_snapshot_seconds_total", "counter",
         "Loop thread time spent taking those snapshots (the cost of scraping).");
    fputs("roster_metrics_snapshot_seconds_total ", f);
    seconds(f, s->snap_ns);
    fputc('\n', f);
    head(f, "roster_config_reloads_total", "counter",
         "Config file reloads (SIGHUP), by result.");
    fprintf(f, "roster_config_reloads_total{result=\"ok\"} %" PRIu64 "\n", s->reloads_ok);
    fprintf(f, "roster_config_reloads_total{result=\"error\"} %" PRIu64 "\n",
            s->reloads_failed);
    return ferror(f) ? -1 : 0;
}
