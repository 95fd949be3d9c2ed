/* registry.c: the requests on unique names: REGISTER (take or update), UNREGISTER, LOOKUP
 * and the NAMES listing. Each validates, reads or changes the name table (names.c),
 * replies, and hands every change to the change pipeline (change.c), which emits its
 * events and replicates it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "core/change.h"
#include "core/claims.h"
#include "core/hlc.h"
#include "core/life.h"
#include "core/names.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/publish.h"
#include "core/registry.h"
#include "core/scope.h"
#include "core/strong.h"
#include "core/util.h"

int rs_check_entry(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                   const char *what)
{
    struct rs_bytes key = rs_msg_entry_key(req);
    if (key.len == 0) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "empty %s", what);
        return -1;
    }
    if (key.len > c->lim.name_max) {
        rs_out_error(c, cl, req, ROSTER_ENAMETOOLONG, "%s of %u bytes is above name_max %u",
                     what, (unsigned)key.len, c->lim.name_max);
        return -1;
    }
    struct rs_bytes meta = rs_msg_entry_meta(req);
    if (meta.len > c->lim.meta_max) {
        rs_out_error(c, cl, req, ROSTER_EMETATOOBIG,
                     "metadata of %u bytes is above meta_max %u", (unsigned)meta.len,
                     c->lim.meta_max);
        return -1;
    }
    return 0;
}

/* A grant's reply: the holder and the name's fencing token (its claim's stamp, cas.c). */
static void reply_holder(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                         struct rs_pid pid, uint64_t token)
{
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_register_reply_holder_set(&r, pid);
    rs_msg_register_reply_token_set(&r, token);
    rs_out_reply(c, cl, req, &r);
}

void rs_registry_on_register(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (rs_check_entry(c, cl, req, "name") != 0)
        return;
    struct rs_scope *s = rs_scope_joined_of(c, cl, req);
    if (!s)
        return;
    struct rs_proc *p = rs_life_owned(c, cl, req);
    if (!p)
        return;
    if (s->kv) {
        rs_strong_on_register(c, cl, req, s);
        return;
    }
    struct rs_bytes name = rs_msg_register_name(req), meta = rs_msg_register_meta(req);
    rs_pub_prefetch_name(c, s, name);
    struct rs_name *n = rs_names_pick(c, s, name.ptr, name.len);
    if (n && n->proc->node && (s->opts & ROSTER_SCOPE_UNIQUE_PER_NODE))
        n = NULL; /* unique per node: only this node's claim takes the name here */
    if (n && n->proc == p && rs_bytes_eq(n->meta, n->meta_len, meta.ptr, meta.len)) {
        /* A write that changes nothing: no event and no replication, so no node shows one
         * (docs/CLUSTER.md). */
        reply_holder(c, cl, req, rs_pids_of(c, p), n->hlc);
        return;
    }
    if (n && n->proc == p) {
        /* The reply goes first: the event follows it. */
        struct rs_change ch = {.kind = RS_CH_NAME_UPDATE, .source = RS_SRC_LOCAL,
                               .applied = 1, .scope = s, .proc = p, .key = name,
                               .meta = meta, .name = n};
        if (rs_names_set_meta(c, n, meta, &ch.prev) != 0)
            return;
        reply_holder(c, cl, req, rs_pids_of(c, p), n->hlc);
        rs_change_apply(c, &ch);
        rs_free((void *)ch.prev.ptr);
        return;
    }
    if (n) {
        char kb[80], pb[ROSTER_PID_STRLEN];
        struct rs_pid holder = rs_pids_of(c, n->proc);
        struct rs_msg r;
        memset(&r, 0, sizeof r);
        char text[200];
        int tn = snprintf(text, sizeof text, "name '%s' is held by pid %s",
                          rs_fmt_key(kb, sizeof kb, name.ptr, name.len),
                          rs_fmt_pid(pb, holder));
        r.status = ROSTER_ETAKEN;
        rs_msg_register_reply_holder_set(&r, holder);
        rs_msg_reply_error_text_set(&r, rs_bytes_of(text, tn > 0 ? (size_t)tn : 0));
        rs_out_reply(c, cl, req, &r);
        return;
    }
    if (cl->n_entries >= c->lim.entries_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "client holds %llu names and memberships (limit entries_per_client)",
                     (unsigned long long)cl->n_entries);
        return;
    }
    n = rs_names_new(c, s, p, name, meta, 0);
    if (!n)
        return;
    struct rs_claims_shift sh;
    if (rs_names_insert(c, n, &sh) != 0) {
        rs_names_free(n);
        return;
    }
    RS_ASSERT(sh.shown == n && !sh.hidden); /* the key was free */
    n->hlc = rs_hlc_stamp(c);
    reply_holder(c, cl, req, rs_pids_of(c, p), n->hlc);
    struct rs_change ch = {.kind = RS_CH_NAME_PUT, .source = RS_SRC_LOCAL, .applied = 1,
                           .scope = s, .proc = p, .key = name, .meta = meta, .name = n};
    rs_change_apply(c, &ch);
}

void rs_registry_on_unregister(struct rs_core *c, struct rs_client *cl,
                               const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (s->kv) {
        rs_strong_on_unregister(c, cl, req, s);
        return;
    }
    char kb[80], pb[ROSTER_PID_STRLEN];
    struct rs_bytes name = rs_msg_unregister_name(req);
    rs_pub_prefetch_name(c, s, name);
    struct rs_name *n = rs_names_pick(c, s, name.ptr, name.len);
    if (!n) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "name '%s' is not registered",
                     rs_fmt_key(kb, sizeof kb, name.ptr, name.len));
        return;
    }
    if (n->proc->client != cl) {
        rs_out_error(c, cl, req, ROSTER_ENOTOWNER,
                     "name '%s' is held by pid %s of another %s",
                     rs_fmt_key(kb, sizeof kb, name.ptr, name.len),
                     rs_fmt_pid(pb, rs_pids_of(c, n->proc)), n->proc->node ? "node" : "client");
        return;
    }
    rs_out_ok(c, cl, req);
    struct rs_change ch = {.kind = RS_CH_NAME_REMOVE, .source = RS_SRC_LOCAL,
                           .reason = ROSTER_REASON_NORMAL, .scope = s, .proc = n->proc,
                           .name = n};
    rs_change_apply(c, &ch);
}

void rs_registry_on_lookup(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (s->kv) {
        rs_strong_on_lookup(c, cl, req, s);
        return;
    }
    struct rs_bytes name = rs_msg_lookup_name(req);
    struct rs_name *n = rs_names_pick(c, s, name.ptr, name.len);
    if (n && n->proc->node && (rs_msg_lookup_flags(req) & RS_OPT_LOCAL))
        n = NULL; /* --local: this node's holder only */
    if (!n) {
        char kb[80];
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "name '%s' is not registered",
                     rs_fmt_key(kb, sizeof kb, name.ptr, name.len));
        return;
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    struct rs_pid holder = rs_pids_of(c, n->proc);
    rs_msg_lookup_reply_holder_set(&r, holder);
    rs_msg_lookup_reply_node_set(&r, rs_nodes_name_of(c, holder.inc));
    rs_msg_lookup_reply_meta_set(&r, rs_bytes_of(n->meta, n->meta_len));
    rs_msg_lookup_reply_token_set(&r, n->hlc);
    rs_out_reply(c, cl, req, &r);
}

void rs_registry_on_names(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (s->kv) {
        rs_strong_on_names(c, cl, req, s);
        return;
    }
    const struct rs_proc *filter = NULL;
    struct rs_pid of_pid = rs_msg_names_filter(req);
    if (of_pid.inc || of_pid.serial) {
        filter = rs_pids_any(c, of_pid);
        if (!filter) {
            rs_out_count(c, cl, req, 0);
            return;
        }
    }
    struct rs_name **v;
    size_t n;
    struct rs_bytes prefix = rs_msg_names_prefix(req);
    uint64_t max = rs_msg_names_limit(req);
    if (rs_msg_names_flags(req) & RS_OPT_EXACT) {
        /* one name, every holder (roster_lookup_all) */
        if (rs_names_matching(c, s, prefix.ptr, prefix.len, 1, &v, &n) != 0)
            return;
    } else {
        if (rs_names_collect(c, s, filter, prefix.ptr, prefix.len, &v, &n) != 0)
            return;
        /* per node: every holder of each name, after the names are in order */
        rs_names_sort(v, n, max && max < n ? (size_t)max : n);
        if (!filter && rs_names_expand(c, s, &v, &n) != 0)
            return;
    }
    size_t limit = max && max < n ? (size_t)max : n;
    for (size_t i = 0; i < limit && !cl->closing; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        it.pid = rs_pids_of(c, v[i]->proc);
        rs_msg_names_item_node_set(&it, rs_nodes_name_of(c, it.pid.inc));
        rs_msg_names_item_name_set(&it, rs_bytes_of(v[i]->key, v[i]->key_len));
        rs_msg_names_item_meta_set(&it, rs_bytes_of(v[i]->meta, v[i]->meta_len));
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, limit);
    rs_free(v);
}
