/* scopemeta.c: scope metadata (issue 11 item 11): SCOPE_META_SET / _GET / _DELETE from
 * clients and P_SMETA from peers. Every write (a delete too) is stamped with the node's
 * hybrid logical clock and its node name and merged last writer wins into the table
 * (smeta.c), so two nodes that set one key at once converge on the same value whatever
 * order the writes reach them in. A write that changes the key goes to every up node that
 * shares the scope (P_SMETA), and each node passes on a peer's write that was news to it
 * (metadata outlives its writer); a full sync of the scope (repl.c, after the entries)
 * carries every record, delete markers included. Events (ROSTER_EV_SCOPE_META_SET /
 * _DELETED) follow each change of a key's value on every node, whoever wrote it, and only
 * then: a write that changes nothing, or loses to a newer one, shows nothing. */
#include <string.h>

#include "core/cluster.h"
#include "core/events.h"
#include "core/hlc.h"
#include "core/output.h"
#include "core/repl.h"
#include "core/scope.h"
#include "core/scopemeta.h"
#include "core/scopes.h"
#include "core/smeta.h"
#include "core/util.h"

/* target resolves the request's scope: joined, eventual; replies the error otherwise. */
static struct rs_scope *target(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_joined_of(c, cl, req);
    if (s && s->kv) {
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "scope metadata is for eventual scopes ('%s' is strong)", s->name);
        return NULL;
    }
    return s;
}

static int check_key(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                     struct rs_bytes key)
{
    if (key.len == 0) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "empty key");
        return -1;
    }
    if (key.len > c->lim.name_max) {
        rs_out_error(c, cl, req, ROSTER_ENAMETOOLONG, "key of %u bytes is above name_max %u",
                     (unsigned)key.len, c->lim.name_max);
        return -1;
    }
    return 0;
}

/* merge applies w to s and emits what changed: the events, and the P_SMETA of a write that
 * won to every peer sharing s but the one it came from (from; NULL: a client's write).
 * Metadata outlives its writer, so a node passes on each write that was news to it: a write
 * reaches every node connected to its writer through any path, even if the writer dies or
 * its link to some node is cut, and each node passes one write on once (when it arrives
 * again it is no longer newer). 0, ROSTER_ELIMIT (a new key past the cap), or -1 when out of
 * memory. */
static int merge(struct rs_core *c, struct rs_scope *s, const struct rs_smeta_write *w,
                 const struct rs_node *from)
{
    enum rs_smeta_what what;
    struct rs_bytes prev;
    int had;
    if (rs_smeta_apply(c, s, w, &what, &prev, &had) != 0)
        return -1;
    if (what == RS_SMETA_FULL)
        return ROSTER_ELIMIT;
    if (what == RS_SMETA_CHANGED && rs_events_wanted(c, s)) {
        if (w->deleted)
            rs_events_smeta(c, s, ROSTER_EV_SCOPE_META_DELETED, w->key, prev,
                            rs_bytes_of(NULL, 0), w->node);
        else
            rs_events_smeta(c, s, ROSTER_EV_SCOPE_META_SET, w->key, w->val,
                            had ? prev : rs_bytes_of(NULL, 0), w->node);
    }
    rs_free((void *)prev.ptr);
    if (what != RS_SMETA_OLDER) {
        const struct rs_smeta *e = rs_smeta_find(c, s, w->key);
        if (e)
            rs_repl_smeta(c, NULL, from, s, e);
    }
    return 0;
}

static void local_write(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_bytes key, struct rs_bytes val, int deleted)
{
    struct rs_scope *s = target(c, cl, req);
    if (!s || check_key(c, cl, req, key) != 0)
        return;
    char kb[80];
    rs_fmt_key(kb, sizeof kb, key.ptr, key.len);
    if (val.len > c->lim.meta_max) {
        rs_out_error(c, cl, req, ROSTER_EMETATOOBIG, "value of %u bytes is above meta_max %u",
                     (unsigned)val.len, c->lim.meta_max);
        return;
    }
    const struct rs_smeta *e = rs_smeta_find(c, s, key);
    if (deleted && (!e || e->deleted)) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "scope '%s' has no metadata key '%s'",
                     s->name, kb);
        return;
    }
    if (!deleted && e && !e->deleted && rs_bytes_eq(e->val, e->val_len, val.ptr, val.len)) {
        rs_out_ok(c, cl, req); /* the same value: no write, no event, nothing replicated */
        return;
    }
    if (!deleted && (!e || e->deleted) && rs_smeta_live(s) >= RS_SCOPE_META_MAX) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT, "scope '%s' has %u metadata keys (the limit)",
                     s->name, RS_SCOPE_META_MAX);
        return;
    }
    struct rs_smeta_write w = {key, val, deleted, rs_hlc_stamp(c), rs_bytes_node(c)};
    /* the reply first: the events of the change follow it, as for entries */
    rs_out_ok(c, cl, req);
    merge(c, s, &w, NULL);
}

void rs_scopemeta_on_set(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    local_write(c, cl, req, rs_msg_scope_meta_set_key(req), rs_msg_scope_meta_set_value(req),
                0);
}

void rs_scopemeta_on_delete(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    local_write(c, cl, req, rs_msg_scope_meta_delete_key(req), rs_bytes_of(NULL, 0), 1);
}

static void item(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                 const struct rs_smeta *e)
{
    struct rs_msg it;
    memset(&it, 0, sizeof it);
    rs_msg_scope_meta_get_item_stamp_set(&it, e->hlc);
    rs_msg_scope_meta_get_item_node_set(&it, rs_bytes_of(e->node, e->node_len));
    rs_msg_scope_meta_get_item_key_set(&it, rs_bytes_of(e->key, e->key_len));
    rs_msg_scope_meta_get_item_value_set(&it, rs_bytes_of(e->val, e->val_len));
    rs_out_item(c, cl, req, &it);
}

void rs_scopemeta_on_get(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = target(c, cl, req);
    if (!s)
        return;
    struct rs_bytes key = rs_msg_scope_meta_get_key(req);
    uint32_t one = rs_msg_scope_meta_get_one(req);
    if (one > 1) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "unknown SCOPE_META_GET option %u",
                     (unsigned)one);
        return;
    }
    if (one) {
        if (check_key(c, cl, req, key) != 0)
            return;
        const struct rs_smeta *e = rs_smeta_find(c, s, key);
        if (!e || e->deleted) {
            char kb[80];
            rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "scope '%s' has no metadata key '%s'",
                         s->name, rs_fmt_key(kb, sizeof kb, key.ptr, key.len));
            return;
        }
        item(c, cl, req, e);
        rs_out_count(c, cl, req, 1);
        return;
    }
    struct rs_smeta **v;
    size_t n, sent = 0;
    if (rs_smeta_sorted(c, s, 0, &v, &n) != 0)
        return;
    for (size_t i = 0; i < n && !cl->closing; i++) {
        if (!rs_is_prefix(v[i]->key, v[i]->key_len, key.ptr, key.len))
            continue;
        item(c, cl, req, v[i]);
        sent++;
    }
    rs_free(v);
    rs_out_count(c, cl, req, sent);
}

void rs_scopemeta_on_p_smeta(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint32_t op = rs_msg_p_smeta_op(m);
    struct rs_bytes key = rs_msg_p_smeta_key(m), val = rs_msg_p_smeta_value(m);
    struct rs_bytes node = rs_msg_p_smeta_node(m);
    const char *bad = NULL;
    if (op != RS_SMETA_SET && op != RS_SMETA_DELETE)
        bad = "unknown op";
    else if (m->scope.len == 0 || m->scope.len > RS_SCOPE_MAX)
        bad = "scope length out of bounds";
    else if (key.len == 0 || key.len > c->lim.name_max)
        bad = "key length out of bounds";
    else if (val.len > c->lim.meta_max || (op == RS_SMETA_DELETE && val.len))
        bad = "value length out of bounds";
    else if (node.len == 0 || node.len > RS_NODE_NAME_MAX)
        bad = "node name length out of bounds";
    if (bad) {
        rs_cluster_fail(c, n, "P_SMETA: %s", bad);
        return;
    }
    struct rs_scope *s = rs_scopes_find(c, m->scope);
    if (!s || !rs_repl_shared(n, s))
        return; /* crossed our leave of the scope */
    uint64_t hlc = rs_msg_p_smeta_hlc(m);
    rs_hlc_recv(c, hlc);
    struct rs_smeta_write w = {key, val, op == RS_SMETA_DELETE, hlc, node};
    if (merge(c, s, &w, n) == ROSTER_ELIMIT) {
        char kb[80];
        rs_out_log(c, RS_LOG_WARN,
                   "scope '%s': metadata key '%s' from node '%s' dropped: the scope has %u "
                   "keys (the limit)", s->name, rs_fmt_key(kb, sizeof kb, key.ptr, key.len),
                   n->name, RS_SCOPE_META_MAX);
    }
}

void rs_scopemeta_snapshot(struct rs_core *c, struct rs_sub *sub)
{
    struct rs_smeta **v;
    size_t n;
    if (!(sub->flags & ROSTER_SUB_SCOPE_META) || !sub->scope->meta ||
        rs_smeta_sorted(c, sub->scope, 0, &v, &n) != 0)
        return;
    for (size_t i = 0; i < n && !sub->client->closing; i++)
        rs_events_smeta_snapshot(c, sub, rs_bytes_of(v[i]->key, v[i]->key_len),
                                 rs_bytes_of(v[i]->val, v[i]->val_len),
                                 rs_bytes_of(v[i]->node, v[i]->node_len));
    rs_free(v);
}
