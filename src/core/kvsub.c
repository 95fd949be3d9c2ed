/* kvsub.c: subscriptions to strong scopes (docs/STRONG.md): the snapshot from the local
 * copy (names in name order, then each group's members in pid order), ending with the
 * copy's revision; or, from a revision R, a read at R (ECOMPACTED if etcd no longer has it)
 * and then a watch of the subscription's own from R + 1, whose events (with previous
 * values) go to that subscription alone, exactly once each and in order. */
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "core/kvstate.h"
#include "core/output.h"
#include "core/strong.h"
#include "core/subs.h"
#include "core/util.h"

static int cmp_pid(const void *a, const void *b)
{
    const struct rs_kvrec *x = a, *y = b;
    if (x->pid.inc != y->pid.inc)
        return x->pid.inc < y->pid.inc ? -1 : 1;
    if (x->pid.serial != y->pid.serial)
        return x->pid.serial < y->pid.serial ? -1 : 1;
    return 0;
}


static void snapshot(struct rs_core *c, struct rs_client *cl, struct rs_sub *sub)
{
    struct rs_scope *s = sub->scope;
    struct rs_kent **e;
    size_t n = rs_kvcopy_all(c, s, &e);
    uint64_t before = cl->unread;
    c->ev_kv = 1;
    c->ev_rev = (uint64_t)c->kv->rev;
    /* names first (their keys sort after members': two passes), members by group in pid
     * order */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n && !cl->closing;) {
            const struct rs_kvrec *r = &e[i]->rec;
            int group = r->kind == RS_KVK_MEMBER;
            if (group != pass) {
                i++;
                continue;
            }
            size_t j = i + 1;
            if (group)
                while (j < n && e[j]->rec.kind == RS_KVK_MEMBER &&
                       rs_bytes_eq(e[j]->rec.key.ptr, e[j]->rec.key.len, r->key.ptr,
                                   r->key.len))
                    j++;
            struct rs_kvrec *v = rs_core_alloc(c, (j - i) * sizeof *v);
            if (!v)
                break;
            for (size_t m = i; m < j; m++)
                v[m - i] = e[m]->rec;
            if (group)
                qsort(v, j - i, sizeof *v, cmp_pid);
            for (size_t m = 0; m < j - i && !cl->closing; m++) {
                if (!rs_events_matches(sub, group, v[m].key))
                    continue;
                c->ev_node = rs_bytes_of(v[m].node, v[m].node_len);
                rs_out_event(c, cl, group ? ROSTER_EV_JOINED : ROSTER_EV_REGISTERED,
                             ROSTER_REASON_NONE, 1, sub->id, v[m].pid, s, v[m].key,
                             v[m].meta, rs_bytes_of(NULL, 0));
            }
            rs_free(v);
            i = j;
        }
    }
    struct rs_pid zero = {0, 0};
    c->ev_node = rs_bytes_of(NULL, 0);
    rs_out_event(c, cl, ROSTER_EV_SNAPSHOT_END, ROSTER_REASON_NONE, 1, sub->id, zero, s,
                 rs_bytes_of(sub->pat, sub->pat_len), rs_bytes_of(NULL, 0),
                 rs_bytes_of(NULL, 0));
    c->ev_kv = 0;
    rs_free(e);
    if (cl->unread > before)
        cl->snap_unread += cl->unread - before;
}

int rs_strong_sub_ready(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    return rs_kv_ready(c, cl, req);
}

void rs_strong_subscribe(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                         struct rs_sub *sub)
{
    uint64_t from = rs_msg_subscribe_from_revision(req);
    if (!from) {
        struct rs_msg r;
        memset(&r, 0, sizeof r);
        rs_msg_subscribe_reply_id_set(&r, sub->id);
        rs_out_reply(c, cl, req, &r);
        if (sub->flags & ROSTER_SUB_SNAPSHOT)
            snapshot(c, cl, sub);
        return;
    }
    /* first a read at revision from: etcd says whether it still has it (ECOMPACTED), then
     * a watch of its own from from + 1 */
    struct rs_kvop *o = rs_kv_op_new(c, KV_SUBWATCH, cl, req);
    etcd_op *op = rs_kv_ops(c, 1);
    if (!o || !op)
        return;
    o->arg = sub->id;
    o->token = from;
    sub->kv_watch = o->id;
    op->type = ETCD_OP_RANGE;
    op->key = rs_kv_arena(c, 1);
    op->key_len = 0;
    op->prefix = true;
    op->limit = 1;
    op->revision = (int64_t)from;
    op->timeout_ms = (int)c->kv->timeout_ms;
    o->phase = 1;
    rs_kv_submit(c, o, op);
}

void rs_strong_sub_gone(struct rs_core *c, struct rs_sub *sub)
{
    if (!c->kv || !sub->kv_watch)
        return;
    struct rs_kvop *o = rs_kv_op_find(c, sub->kv_watch);
    sub->kv_watch = 0;
    if (!o || o->done)
        return;
    /* a watch streaming (phase 2) ends now, not at its next event; the read of phase 1
     * ends by itself and finds no subscription. The final result frees o. */
    if (o->phase == 2)
        rs_out_kv_cancel(c, o->id);
    o->done = 1;
}

/* the subscription's own watch gave r */
void rs_kvsub_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    struct rs_sub *sub = rs_subs_find(c, o->arg);
    struct rs_client *cl = rs_kv_client(c, o);
    if (!sub || sub->kv_watch != o->id || !cl) {
        if (o->phase == 2 && !o->done && !r->final)
            rs_out_kv_cancel(c, o->id);
        o->done = 1;
        return;
    }
    if (o->phase == 1) {
        struct rs_msg q = rs_kv_req(o);
        if (r->status != ETCD_OK) {
            rs_subs_free(c, sub);
            rs_kv_fail(c, o, r);
            o->done = 1;
            return;
        }
        struct rs_msg rep;
        memset(&rep, 0, sizeof rep);
        rs_msg_subscribe_reply_id_set(&rep, sub->id);
        rs_out_reply(c, cl, &q, &rep);
        etcd_op *op = rs_kv_ops(c, 1);
        if (!op)
            return;
        op->type = ETCD_OP_WATCH;
        op->key = rs_kv_arena(c, 1);
        op->key_len = 0;
        op->prefix = true;
        op->prev_kv = true;
        op->revision = (int64_t)o->token + 1;
        rs_kv_resubmit(c, o, op); /* phase 2 */
        sub->kv_watch = o->id;
        return;
    }
    if (r->status != ETCD_OK) {
        if (r->final) {
            /* the history is gone (or etcd ended the watch): the subscriber must start
             * again, as after any overflow */
            struct rs_pid zero = {0, 0};
            rs_out_event(c, cl, ROSTER_EV_OVERFLOW, ROSTER_REASON_NONE, 0, sub->id, zero,
                         sub->scope, rs_bytes_of(sub->pat, sub->pat_len),
                         rs_bytes_of(NULL, 0), rs_bytes_of(NULL, 0));
            rs_subs_free(c, sub);
            o->done = 1;
        }
        return;
    }
    struct rs_scope *s = sub->scope;
    for (size_t i = 0; i < r->n_events && rs_subs_find(c, o->arg) == sub; i++) {
        const etcd_event *e = &r->events[i];
        int64_t rev = e->kv.mod_revision;
        enum rs_kvk_kind kind = rs_kvk_kind((const uint8_t *)e->kv.key, e->kv.key_len);
        if (kind != RS_KVK_NAME && kind != RS_KVK_MEMBER)
            continue;
        struct rs_kvrec now, old;
        struct rs_scope *es = NULL, *ps = NULL;
        int has_now = !e->is_delete && rs_kvcopy_decode(c, &e->kv, &now, &es) == 0;
        int has_old = e->has_prev && rs_kvcopy_decode(c, &e->prev, &old, &ps) == 0;
        if ((has_now ? es : ps) != s || (!has_now && !has_old))
            continue;
        size_t g = i; /* the why put comes first in its transaction */
        while (g > 0 && r->events[g - 1].kv.mod_revision == rev)
            g--;
        uint32_t why = rs_kv_why_of(r, g, rev);
        if (e->is_delete && !why)
            why = ROSTER_REASON_NODE_DOWN;
        rs_kvcopy_emit(c, s, sub, has_old ? &old : NULL, has_now ? &now : NULL, why, rev);
    }
    if (!rs_subs_find(c, o->arg) && !r->final && !o->done) {
        /* the subscription overflowed on these events: its watch ends now */
        rs_out_kv_cancel(c, o->id);
        o->done = 1;
    }
}
