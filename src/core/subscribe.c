/* subscribe.c: the requests on subscriptions: SUBSCRIBE (with an optional snapshot of the
 * current matching state, in name order and members in pid order) and UNSUBSCRIBE. The
 * table is subs.c; the events that follow are events.c. */
#include <string.h>

#include "core/events.h"
#include "core/members.h"
#include "core/names.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/scope.h"
#include "core/scopemeta.h"
#include "core/strong.h"
#include "core/subs.h"
#include "core/subscribe.h"
#include "core/util.h"

#define SUB_FLAGS_ALL                                                                  \
    (ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS | ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT | \
     ROSTER_SUB_ALL | ROSTER_SUB_SCOPE_META)

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
    int all = rs_events_match_all(sub);
    int exact = !all && !(sub->flags & ROSTER_SUB_PREFIX);
    const uint8_t *pre = all ? NULL : sub->pat;
    size_t pn = all ? 0 : sub->pat_len;
    if (rs_events_families(sub) & ROSTER_SUB_REGISTRY) {
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
    if (rs_events_families(sub) & ROSTER_SUB_GROUPS) {
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
    rs_scopemeta_snapshot(c, sub); /* ROSTER_SUB_SCOPE_META: the scope's keys */
    struct rs_pid zero = {0, 0};
    rs_out_event(c, cl, ROSTER_EV_SNAPSHOT_END, ROSTER_REASON_NONE, 1, sub->id, zero, s,
                 rs_bytes_of(sub->pat, sub->pat_len), rs_bytes_of(NULL, 0),
                 rs_bytes_of(NULL, 0));
}

void rs_subscribe_on_subscribe(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    uint32_t flags = rs_msg_subscribe_flags(req);
    struct rs_bytes pattern = rs_msg_subscribe_pattern(req);
    if (flags & ~(uint32_t)SUB_FLAGS_ALL) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "unknown subscription flags 0x%x",
                     (unsigned)(flags & ~(uint32_t)SUB_FLAGS_ALL));
        return;
    }
    if (pattern.len > c->lim.name_max) {
        rs_out_error(c, cl, req, ROSTER_ENAMETOOLONG, "pattern of %u bytes is above name_max %u",
                     (unsigned)pattern.len, c->lim.name_max);
        return;
    }
    if (cl->n_subs >= c->lim.subs_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "client has %u subscriptions (limit subs_per_client)", cl->n_subs);
        return;
    }
    if (s->kv && !rs_strong_sub_ready(c, cl, req))
        return;
    if (!s->kv && rs_msg_subscribe_from_revision(req)) {
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "from_revision is for strong scopes (scope '%s' is eventual)", s->name);
        return;
    }
    struct rs_sub *sub = rs_core_alloc(c, sizeof *sub + pattern.len);
    if (!sub)
        return;
    memset(sub, 0, sizeof *sub);
    sub->id = c->next_sub_id;
    sub->client = cl;
    sub->scope = s;
    sub->flags = flags;
    sub->pat_len = pattern.len;
    if (pattern.len)
        memcpy(sub->pat, pattern.ptr, pattern.len);
    if (rs_subs_add(c, sub) != 0) {
        rs_free(sub);
        return;
    }
    c->next_sub_id++;
    if (s->kv) {
        rs_strong_subscribe(c, cl, req, sub);
        return;
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_subscribe_reply_id_set(&r, sub->id);
    rs_out_reply(c, cl, req, &r);
    if (sub->flags & ROSTER_SUB_SNAPSHOT)
        snapshot(c, sub);
}

void rs_subscribe_on_unsubscribe(struct rs_core *c, struct rs_client *cl,
                              const struct rs_msg *req)
{
    uint64_t id = rs_msg_unsubscribe_id(req);
    struct rs_sub *sub = rs_subs_find(c, id);
    if (!sub || sub->client != cl) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "no subscription %llu on this connection",
                     (unsigned long long)id);
        return;
    }
    rs_strong_sub_gone(c, sub);
    rs_subs_free(c, sub);
    rs_out_ok(c, cl, req);
}
