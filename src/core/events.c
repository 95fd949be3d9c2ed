/* events.c: the events of changes, fanned out to the matching subscriptions of their
 * scope (called by the change pipeline, and by cluster.c for NODE_UP / NODE_DOWN), and the
 * bounded per-connection event queue: a subscription whose connection has more than
 * limits.queue_bytes unread is stopped with one OVERFLOW event instead of blocking the
 * node or growing without bound. */
#include <string.h>

#include "base/check.h"
#include "core/events.h"
#include "core/output.h"
#include "core/subs.h"
#include "core/util.h"

static int matches(const struct rs_sub *s, int group, const uint8_t *key, size_t n);

uint32_t rs_events_families(const struct rs_sub *s)
{
    uint32_t f = s->flags & (ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS);
    if (!f && (s->flags & ROSTER_SUB_SCOPE_META))
        return 0; /* scope metadata only */
    return f ? f : (ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS);
}

int rs_events_match_all(const struct rs_sub *s)
{
    return (s->flags & ROSTER_SUB_ALL) || s->pat_len == 0;
}

int rs_events_matches(const struct rs_sub *s, int group, struct rs_bytes key)
{
    return matches(s, group, key.ptr, key.len);
}

static int matches(const struct rs_sub *s, int group, const uint8_t *key, size_t n)
{
    if (!(rs_events_families(s) & (group ? ROSTER_SUB_GROUPS : ROSTER_SUB_REGISTRY)))
        return 0;
    if (rs_events_match_all(s))
        return 1;
    if (s->flags & ROSTER_SUB_PREFIX)
        return rs_is_prefix(key, n, s->pat, s->pat_len);
    return rs_bytes_eq(key, n, s->pat, s->pat_len);
}

static void overflow(struct rs_core *c, struct rs_sub *s)
{
    struct rs_pid zero = {0, 0};
    c->n_sub_overflows++;
    rs_out_event(c, s->client, ROSTER_EV_OVERFLOW, ROSTER_REASON_NONE, 0, s->id, zero, s->scope,
                 rs_bytes_of(s->pat, s->pat_len), rs_bytes_of(NULL, 0), rs_bytes_of(NULL, 0));
    rs_out_log(c, RS_LOG_INFO,
               "conn %llu: subscription %llu overflowed (%llu bytes unread, queue_bytes %u)",
               (unsigned long long)s->client->conn, (unsigned long long)s->id,
               (unsigned long long)s->client->unread, c->lim.queue_bytes);
    rs_subs_free(c, s);
}

void rs_events_emit(struct rs_core *c, struct rs_scope *s, int group, uint32_t kind,
                    uint32_t reason, struct rs_pid pid, struct rs_bytes key,
                    struct rs_bytes meta, struct rs_bytes prev)
{
    if (c->tap) {
        struct rs_core_tap_event e = {kind, reason, group, s->name, s->name_len, key.ptr,
                                      key.len, pid.inc, pid.serial};
        c->tap(c->tap_ctx, &e);
    }
    struct rs_sub *next;
    for (struct rs_sub *sub = s->subs; sub; sub = next) {
        next = sub->snext;
        if (sub->kv_watch || !matches(sub, group, key.ptr, key.len) || sub->client->closing)
            continue;
        RS_ASSERT(sub->client->snap_unread <= sub->client->unread);
        if (sub->client->unread - sub->client->snap_unread > c->lim.queue_bytes) {
            overflow(c, sub);
            continue;
        }
        rs_out_event(c, sub->client, kind, reason, 0, sub->id, pid, s, key, meta, prev);
        c->n_events_sent++;
    }
}

void rs_events_emit_one(struct rs_core *c, struct rs_sub *sub, int group, uint32_t kind,
                        uint32_t reason, struct rs_pid pid, struct rs_bytes key,
                        struct rs_bytes meta, struct rs_bytes prev)
{
    if (!matches(sub, group, key.ptr, key.len) || sub->client->closing)
        return;
    if (sub->client->unread - sub->client->snap_unread > c->lim.queue_bytes) {
        overflow(c, sub);
        return;
    }
    rs_out_event(c, sub->client, kind, reason, 0, sub->id, pid, sub->scope, key, meta, prev);
}

void rs_events_node(struct rs_core *c, struct rs_scope *s, uint32_t kind, struct rs_bytes name)
{
    if (c->tap) {
        struct rs_core_tap_event e = {kind, 0, 0, s->name, s->name_len, name.ptr, name.len,
                                      0, 0};
        c->tap(c->tap_ctx, &e);
    }
    struct rs_sub *next;
    for (struct rs_sub *sub = s->subs; sub; sub = next) {
        next = sub->snext;
        if (sub->client->closing)
            continue;
        RS_ASSERT(sub->client->snap_unread <= sub->client->unread);
        if (sub->client->unread - sub->client->snap_unread > c->lim.queue_bytes) {
            overflow(c, sub);
            continue;
        }
        struct rs_msg m;
        memset(&m, 0, sizeof m);
        m.type = RS_MSG_EVENT;
        rs_msg_event_opts_set(&m, rs_msg_event_opts_pack(kind, 0, 0));
        rs_msg_event_id_set(&m, sub->id);
        m.scope = rs_bytes_of(s->name, s->name_len);
        rs_msg_event_node_set(&m, name); /* NODE_UP / NODE_DOWN: the node itself */
        rs_out_frame(c, sub->client, &m);
        c->n_events_sent++;
    }
}

/* smeta_frame sends one scope-metadata event to sub: the node is the writer's, not a
 * pid's. */
static void smeta_frame(struct rs_core *c, struct rs_sub *sub, uint32_t kind, int snapshot,
                        struct rs_bytes key, struct rs_bytes val, struct rs_bytes prev,
                        struct rs_bytes node)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_EVENT;
    rs_msg_event_opts_set(&m, rs_msg_event_opts_pack(kind, 0, snapshot));
    rs_msg_event_id_set(&m, sub->id);
    m.scope = rs_bytes_of(sub->scope->name, sub->scope->name_len);
    rs_msg_event_node_set(&m, node);
    rs_msg_event_key_set(&m, key);
    rs_msg_event_meta_set(&m, val);
    rs_msg_event_prev_meta_set(&m, prev);
    rs_out_frame(c, sub->client, &m);
}

static int smeta_matches(const struct rs_sub *sub, struct rs_bytes key)
{
    if (!(sub->flags & ROSTER_SUB_SCOPE_META) || sub->kv_watch || sub->client->closing)
        return 0;
    if (rs_events_match_all(sub))
        return 1;
    if (sub->flags & ROSTER_SUB_PREFIX)
        return rs_is_prefix(key.ptr, key.len, sub->pat, sub->pat_len);
    return rs_bytes_eq(key.ptr, key.len, sub->pat, sub->pat_len);
}

void rs_events_smeta(struct rs_core *c, struct rs_scope *s, uint32_t kind, struct rs_bytes key,
                     struct rs_bytes val, struct rs_bytes prev, struct rs_bytes node)
{
    if (c->tap) {
        struct rs_core_tap_event e = {kind, 0, 0, s->name, s->name_len, key.ptr, key.len, 0, 0};
        c->tap(c->tap_ctx, &e);
    }
    struct rs_sub *next;
    for (struct rs_sub *sub = s->subs; sub; sub = next) {
        next = sub->snext;
        if (!smeta_matches(sub, key))
            continue;
        RS_ASSERT(sub->client->snap_unread <= sub->client->unread);
        if (sub->client->unread - sub->client->snap_unread > c->lim.queue_bytes) {
            overflow(c, sub);
            continue;
        }
        smeta_frame(c, sub, kind, 0, key, val, prev, node);
        c->n_events_sent++;
    }
}

void rs_events_smeta_snapshot(struct rs_core *c, struct rs_sub *sub, struct rs_bytes key,
                              struct rs_bytes val, struct rs_bytes node)
{
    if (smeta_matches(sub, key))
        smeta_frame(c, sub, ROSTER_EV_SCOPE_META_SET, 1, key, val, rs_bytes_of(NULL, 0), node);
}
