/* events.c: subscriptions (SUBSCRIBE with optional snapshot, UNSUBSCRIBE), matching of
 * registry and group changes against them, and the bounded per-connection event queue: a
 * subscription whose connection has more than limits.queue_bytes unread is stopped with
 * one OVERFLOW event instead of blocking the node or growing without bound. */
#include <string.h>

#include "events.h"
#include "members.h"
#include "names.h"
#include "output.h"
#include "pids.h"
#include "scope.h"
#include "util.h"

#define SUB_FLAGS_ALL                                                                  \
    (ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS | ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT | \
     ROSTER_SUB_ALL)

static int sub_eq(const void *item, const void *key)
{
    return ((const struct rs_sub *)item)->id == *(const uint64_t *)key;
}

static uint32_t families(const struct rs_sub *s)
{
    uint32_t f = s->flags & (ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS);
    return f ? f : (ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS);
}

static int match_all(const struct rs_sub *s)
{
    return (s->flags & ROSTER_SUB_ALL) || s->pat_len == 0;
}

static int matches(const struct rs_sub *s, int group, const uint8_t *key, size_t n)
{
    if (!(families(s) & (group ? ROSTER_SUB_GROUPS : ROSTER_SUB_REGISTRY)))
        return 0;
    if (match_all(s))
        return 1;
    if (s->flags & ROSTER_SUB_PREFIX)
        return rs_is_prefix(key, n, s->pat, s->pat_len);
    return rs_bytes_eq(key, n, s->pat, s->pat_len);
}

static void sub_free(struct rs_core *c, struct rs_sub *s)
{
    rs_map_del_item(&c->subs, rs_hash_u64(c->seed, s->id), s);
    RS_LIST_DEL(s->scope->subs, s, sprev, snext);
    RS_LIST_DEL(s->client->subs, s, cprev, cnext);
    s->client->n_subs--;
    rs_free(s);
}

static void overflow(struct rs_core *c, struct rs_sub *s)
{
    struct rs_pid zero = {0, 0};
    rs_out_event(c, s->client, ROSTER_EV_OVERFLOW, ROSTER_REASON_NONE, 0, s->id, zero, s->scope,
                 rs_bytes_of(s->pat, s->pat_len), rs_bytes_of(NULL, 0), rs_bytes_of(NULL, 0));
    rs_out_log(c, RS_LOG_INFO,
               "conn %llu: subscription %llu overflowed (%llu bytes unread, queue_bytes %u)",
               (unsigned long long)s->client->conn, (unsigned long long)s->id,
               (unsigned long long)s->client->unread, c->lim.queue_bytes);
    sub_free(c, s);
}

void rs_events_emit(struct rs_core *c, struct rs_scope *s, int group, uint32_t kind,
                    uint32_t reason, struct rs_pid pid, struct rs_bytes key,
                    struct rs_bytes meta, struct rs_bytes prev)
{
    struct rs_sub *next;
    for (struct rs_sub *sub = s->subs; sub; sub = next) {
        next = sub->snext;
        if (!matches(sub, group, key.ptr, key.len) || sub->client->closing)
            continue;
        if (sub->client->unread - sub->client->snap_unread > c->lim.queue_bytes) {
            overflow(c, sub);
            continue;
        }
        rs_out_event(c, sub->client, kind, reason, 0, sub->id, pid, s, key, meta, prev);
    }
}

void rs_events_node(struct rs_core *c, struct rs_scope *s, uint32_t kind, struct rs_bytes name)
{
    struct rs_sub *next;
    for (struct rs_sub *sub = s->subs; sub; sub = next) {
        next = sub->snext;
        if (sub->client->closing)
            continue;
        if (sub->client->unread - sub->client->snap_unread > c->lim.queue_bytes) {
            overflow(c, sub);
            continue;
        }
        struct rs_msg m;
        memset(&m, 0, sizeof m);
        m.type = RS_MSG_EVENT;
        m.opts = kind;
        m.arg = sub->id;
        m.scope = rs_bytes_of(s->name, s->name_len);
        m.node = name;
        rs_out_frame(c, sub->client, &m);
    }
}

/* The current matching state as snapshot events, in name order (members in pid order). */
static void snapshot_entries(struct rs_core *c, struct rs_sub *sub);

static void snapshot(struct rs_core *c, struct rs_sub *sub)
{
    uint64_t before = sub->client->unread;
    snapshot_entries(c, sub);
    if (sub->client->unread > before)
        sub->client->snap_unread += sub->client->unread - before;
}

static void snapshot_entries(struct rs_core *c, struct rs_sub *sub)
{
    struct rs_client *cl = sub->client;
    struct rs_scope *s = sub->scope;
    int all = match_all(sub);
    int exact = !all && !(sub->flags & ROSTER_SUB_PREFIX);
    const uint8_t *pre = all ? NULL : sub->pat;
    size_t pn = all ? 0 : sub->pat_len;
    if (families(sub) & ROSTER_SUB_REGISTRY) {
        struct rs_name **v;
        size_t n;
        if (rs_names_matching(c, s, pre, pn, exact, &v, &n) != 0)
            return;
        for (size_t i = 0; i < n && !cl->closing; i++)
            rs_out_event(c, cl, ROSTER_EV_REGISTERED, ROSTER_REASON_NONE, 1, sub->id,
                         rs_pids_of(c, v[i]->proc), s, rs_bytes_of(v[i]->key, v[i]->key_len),
                         rs_bytes_of(v[i]->meta, v[i]->meta_len), rs_bytes_of(NULL, 0));
        rs_free(v);
    }
    if (families(sub) & ROSTER_SUB_GROUPS) {
        struct rs_group **v;
        size_t n;
        if (rs_members_matching(c, s, pre, pn, exact, &v, &n) != 0)
            return;
        for (size_t i = 0; i < n && !cl->closing; i++) {
            struct rs_member **mv;
            if (rs_members_sorted(c, v[i], &mv) != 0)
                break;
            for (size_t j = 0; j < v[i]->n_members && !cl->closing; j++)
                rs_out_event(c, cl, ROSTER_EV_JOINED, ROSTER_REASON_NONE, 1, sub->id,
                             rs_pids_of(c, mv[j]->proc), s,
                             rs_bytes_of(v[i]->key, v[i]->key_len),
                             rs_bytes_of(mv[j]->meta, mv[j]->meta_len), rs_bytes_of(NULL, 0));
            rs_free(mv);
        }
        rs_free(v);
    }
    struct rs_pid zero = {0, 0};
    rs_out_event(c, cl, ROSTER_EV_SNAPSHOT_END, ROSTER_REASON_NONE, 1, sub->id, zero, s,
                 rs_bytes_of(sub->pat, sub->pat_len), rs_bytes_of(NULL, 0),
                 rs_bytes_of(NULL, 0));
}

void rs_events_on_subscribe(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (req->opts & ~(uint32_t)SUB_FLAGS_ALL) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "unknown subscription flags 0x%x",
                     (unsigned)(req->opts & ~(uint32_t)SUB_FLAGS_ALL));
        return;
    }
    if (req->key.len > c->lim.name_max) {
        rs_out_error(c, cl, req, ROSTER_ENAMETOOLONG, "pattern of %u bytes is above name_max %u",
                     (unsigned)req->key.len, c->lim.name_max);
        return;
    }
    if (cl->n_subs >= c->lim.subs_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "client has %u subscriptions (limit subs_per_client)", cl->n_subs);
        return;
    }
    struct rs_sub *sub = rs_core_alloc(c, sizeof *sub + req->key.len);
    if (!sub)
        return;
    memset(sub, 0, sizeof *sub);
    sub->id = c->next_sub_id;
    sub->client = cl;
    sub->scope = s;
    sub->flags = req->opts;
    sub->pat_len = req->key.len;
    if (req->key.len)
        memcpy(sub->pat, req->key.ptr, req->key.len);
    if (rs_map_put(&c->subs, rs_hash_u64(c->seed, sub->id), sub) != 0) {
        c->oom = 1;
        rs_free(sub);
        return;
    }
    c->next_sub_id++;
    RS_LIST_PUSH(s->subs, sub, sprev, snext);
    RS_LIST_PUSH(cl->subs, sub, cprev, cnext);
    cl->n_subs++;
    rs_out_count(c, cl, req, sub->id);
    if (sub->flags & ROSTER_SUB_SNAPSHOT)
        snapshot(c, sub);
}

void rs_events_on_unsubscribe(struct rs_core *c, struct rs_client *cl,
                              const struct rs_msg *req)
{
    uint64_t id = req->arg;
    struct rs_sub *sub = rs_map_get(&c->subs, rs_hash_u64(c->seed, id), &id, sub_eq);
    if (!sub || sub->client != cl) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "no subscription %llu on this connection",
                     (unsigned long long)id);
        return;
    }
    sub_free(c, sub);
    rs_out_ok(c, cl, req);
}

void rs_events_drop_client(struct rs_core *c, struct rs_client *cl)
{
    while (cl->subs)
        sub_free(c, cl->subs);
}

void rs_events_free_all(struct rs_core *c)
{
    for (size_t i = 0; i < c->subs.cap; i++)
        rs_free(c->subs.slots[i].item);
    rs_map_fini(&c->subs);
}
