/* kvread.c: the reads of strong scopes (docs/STRONG.md): lookup, names, count, members,
 * is_member, groups and check_token. By default each is one linearizable etcd range (the
 * reply carries etcd's revision); RS_OPT_STALE answers at once from the local copy with the
 * revision it reflects. Both paths end in the same answer code over a list of items in
 * etcd key order. Subscriptions are kvsub.c. */
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "wire/match.h"
#include "core/kvstate.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/scopes.h"
#include "core/strong.h"
#include "core/subs.h"
#include "core/util.h"

struct kitem {
    const uint8_t *ekey;
    size_t ekey_len;
    struct rs_kvrec rec;
    uint64_t token;
};

/* What a read asks (copied into its op for the linearizable path). */
struct ask {
    int kind;
    struct rs_bytes key;  /* name, prefix or group */
    struct rs_bytes node; /* COUNT: only this node's entries */
    struct rs_pid pid;    /* filter (NAMES, GROUPS), member (IS_MEMBER) */
    uint64_t arg;         /* limit, or CHECK_TOKEN's token */
    uint32_t opts;
    struct rs_bytes filt; /* QUERY, QUERY_COUNT: the metadata filter (wire/query.h) */
};

static int pid_set(struct rs_pid p)
{
    return p.inc || p.serial;
}

/* the etcd key or prefix a read covers (scratch), and whether it is a prefix */
static const struct rs_buf *ask_key(struct rs_core *c, struct rs_scope *s, const struct ask *a,
                                    int *prefix, int second)
{
    struct rs_buf *b = &c->kv->scratch;
    rs_buf_reset(b);
    struct rs_bytes sc = rs_bytes_of(s->name, s->name_len);
    int bad = 0;
    *prefix = 1;
    switch (a->kind) {
    case KV_LOOKUP:
    case KV_CHECK:
        bad = rs_kvk_name(b, sc, a->key);
        *prefix = 0;
        break;
    case KV_NAMES:
        bad = rs_kvk_name(b, sc, a->key);
        break;
    case KV_COUNT:
        bad = second ? rs_kvk_members(b, sc) : rs_kvk_names(b, sc);
        break;
    case KV_MEMBERS:
        bad = rs_kvk_group(b, sc, a->key) || rs_buf_append(b, "/", 1);
        break;
    case KV_IS_MEMBER:
        bad = rs_kvk_member(b, sc, a->key, a->pid);
        *prefix = 0;
        break;
    case KV_GROUPS:
        bad = rs_kvk_group(b, sc, a->key);
        break;
    }
    if (bad) {
        c->oom = 1;
        return NULL;
    }
    return b;
}

static size_t from_range(struct rs_core *c, const etcd_op_result *rg, struct kitem **out)
{
    *out = NULL;
    if (!rg || !rg->n_kvs)
        return 0;
    struct kitem *v = rs_core_alloc(c, rg->n_kvs * sizeof *v);
    if (!v)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < rg->n_kvs; i++) {
        struct rs_scope *s;
        const etcd_kv *kv = &rg->kvs[i];
        if (rs_kvk_kind((const uint8_t *)kv->key, kv->key_len) != RS_KVK_NAME &&
            rs_kvk_kind((const uint8_t *)kv->key, kv->key_len) != RS_KVK_MEMBER)
            continue;
        if (rs_kvcopy_decode(c, kv, &v[n].rec, &s) != 0)
            continue;
        v[n].ekey = (const uint8_t *)kv->key;
        v[n].ekey_len = kv->key_len;
        v[n].token = rs_kvcopy_token(&v[n].rec, kv->mod_revision);
        n++;
    }
    *out = v;
    return n;
}

static size_t from_copy(struct rs_core *c, struct rs_scope *s, const struct rs_buf *key,
                        int prefix, struct kitem **out)
{
    *out = NULL;
    if (!prefix) {
        /* one key: a map lookup, not a scan (stale lookups are the fast path) */
        struct rs_kent *k = rs_kvcopy_find(c, s, key->data, key->len);
        struct kitem *v = rs_core_alloc(c, sizeof *v);
        if (!v)
            return 0;
        *out = v;
        if (!k)
            return 0;
        v->ekey = k->data;
        v->ekey_len = k->ekey_len;
        v->rec = k->rec;
        v->token = k->token;
        return 1;
    }
    struct rs_kent **e;
    size_t m = rs_kvcopy_all(c, s, &e);
    struct kitem *v = rs_core_alloc(c, (m + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < m; i++) {
        if (prefix ? !rs_is_prefix(e[i]->data, e[i]->ekey_len, key->data, key->len)
                   : !rs_bytes_eq(e[i]->data, e[i]->ekey_len, key->data, key->len))
            continue;
        v[n].ekey = e[i]->data;
        v[n].ekey_len = e[i]->ekey_len;
        v[n].rec = e[i]->rec;
        v[n].token = e[i]->token;
        n++;
    }
    rs_free(e);
    *out = v;
    return n;
}

static int cmp_pid(const void *a, const void *b)
{
    const struct kitem *x = a, *y = b;
    if (x->rec.pid.inc != y->rec.pid.inc)
        return x->rec.pid.inc < y->rec.pid.inc ? -1 : 1;
    if (x->rec.pid.serial != y->rec.pid.serial)
        return x->rec.pid.serial < y->rec.pid.serial ? -1 : 1;
    return 0;
}

static void reply_list(struct rs_core *c, struct rs_client *cl, const struct rs_msg *q,
                       uint64_t n, uint64_t rev)
{
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_list_reply_n_set(&r, n);
    r.arg2 = rev; /* every listing's reply_revision is ARG2 */
    rs_out_reply(c, cl, q, &r);
}

static void item_common(struct rs_msg *it, const struct kitem *k)
{
    memset(it, 0, sizeof *it);
    it->pid = k->rec.pid;
}

/* query_ok: does item k pass a QUERY's key (exact or prefix), pid, node, local and
 * metadata conditions? */
static int query_ok(const struct rs_core *c, const struct ask *a, const struct rs_qfilter *f,
                    const struct kitem *k)
{
    const struct rs_kvrec *r = &k->rec;
    int prefix = (a->opts & RS_QF_PREFIX) != 0;
    if (prefix ? !rs_is_prefix(r->key.ptr, r->key.len, a->key.ptr, a->key.len)
               : !rs_bytes_eq(r->key.ptr, r->key.len, a->key.ptr, a->key.len))
        return 0;
    if (pid_set(a->pid) && !rs_pid_eq(a->pid, r->pid))
        return 0;
    if ((a->opts & RS_QF_LOCAL) && r->pid.inc != c->inc)
        return 0;
    if (a->node.len &&
        !rs_bytes_eq((const uint8_t *)r->node, r->node_len, a->node.ptr, a->node.len))
        return 0;
    return rs_filter_match(f, r->meta.ptr, r->meta.len);
}

/* members in the order of every member listing: group, pid, metadata */
static int cmp_group_pid(const void *a, const void *b)
{
    const struct kitem *x = a, *y = b;
    int r = rs_bytes_cmp(x->rec.key.ptr, x->rec.key.len, y->rec.key.ptr, y->rec.key.len);
    if (r)
        return r;
    r = cmp_pid(a, b);
    return r ? r : rs_bytes_cmp(x->rec.meta.ptr, x->rec.meta.len, y->rec.meta.ptr,
                                y->rec.meta.len);
}

/* answer_query: QUERY and QUERY_COUNT of a strong scope, over what etcd (or the local copy)
 * returned: names and members of the whole range, filtered here as query.c filters the
 * tables of an eventual scope. */
static void answer_query(struct rs_core *c, struct rs_client *cl, const struct rs_msg *q,
                         const struct ask *a, struct kitem *v, size_t n, struct kitem *v2,
                         size_t n2, uint64_t rev)
{
    struct rs_qfilter f;
    const char *why;
    if (rs_qfilter_decode(a->filt.ptr, a->filt.len, &f, &why) != 0) {
        rs_out_error(c, cl, q, ROSTER_EINVAL, "bad metadata filter: %s", why); /* checked */
        return;
    }
    struct rs_msg it;
    if (q->type == RS_MSG_QUERY) {
        if (a->kind == KV_GROUPS && n) /* v is NULL when etcd returned nothing */
            qsort(v, n, sizeof *v, cmp_group_pid);
        size_t sent = 0;
        for (size_t i = 0; i < n && !cl->closing && (!a->arg || sent < a->arg); i++) {
            if (!query_ok(c, a, &f, &v[i]))
                continue;
            item_common(&it, &v[i]);
            rs_msg_query_item_node_set(&it, rs_bytes_of(v[i].rec.node, v[i].rec.node_len));
            rs_msg_query_item_key_set(&it, v[i].rec.key);
            rs_msg_query_item_meta_set(&it, v[i].rec.meta);
            rs_out_item(c, cl, q, &it);
            sent++;
        }
        reply_list(c, cl, q, sent, rev);
        return;
    }
    uint64_t val[3] = {0, 0, 0}; /* names, groups, members */
    if (a->opts & RS_QW_NAMES)
        for (size_t i = 0; i < n; i++)
            val[0] += query_ok(c, a, &f, &v[i]);
    for (size_t i = 0; (a->opts & RS_QW_MEMBERS) && i < n2;) {
        size_t j = i;
        uint64_t k = 0;
        while (j < n2 && rs_bytes_eq(v2[j].rec.key.ptr, v2[j].rec.key.len, v2[i].rec.key.ptr,
                                     v2[i].rec.key.len))
            k += query_ok(c, a, &f, &v2[j++]);
        val[1] += k != 0;
        val[2] += k;
        i = j;
    }
    static const char *const what[3] = {"names", "groups", "members"};
    for (int i = 0; i < 3; i++) {
        memset(&it, 0, sizeof it);
        rs_msg_query_count_item_value_set(&it, val[i]);
        rs_msg_query_count_item_counter_set(&it, rs_bytes_str(what[i]));
        rs_out_item(c, cl, q, &it);
    }
    reply_list(c, cl, q, 3, rev);
}

/* answer replies to q from items v[0..n) (etcd key order), reflecting revision rev */
static void answer(struct rs_core *c, struct rs_client *cl, const struct rs_msg *q,
                   const struct ask *a, struct kitem *v, size_t n, struct kitem *v2, size_t n2,
                   uint64_t rev)
{
    char kb[80];
    struct rs_msg r, it;
    memset(&r, 0, sizeof r);
    if (q->type == RS_MSG_QUERY || q->type == RS_MSG_QUERY_COUNT) {
        answer_query(c, cl, q, a, v, n, v2, n2, rev);
        return;
    }
    switch (a->kind) {
    case KV_LOOKUP:
        if (!n) {
            rs_out_error(c, cl, q, ROSTER_ENOTFOUND, "name '%s' is not registered",
                         rs_fmt_key(kb, sizeof kb, a->key.ptr, a->key.len));
            return;
        }
        rs_msg_lookup_reply_holder_set(&r, v[0].rec.pid);
        rs_msg_lookup_reply_node_set(&r, rs_bytes_of(v[0].rec.node, v[0].rec.node_len));
        rs_msg_lookup_reply_meta_set(&r, v[0].rec.meta);
        rs_msg_lookup_reply_token_set(&r, v[0].token);
        rs_msg_lookup_reply_revision_set(&r, rev);
        rs_out_reply(c, cl, q, &r);
        return;
    case KV_CHECK:
        rs_msg_check_token_reply_current_set(&r, n && v[0].token == a->arg ? 1 : 0);
        rs_msg_check_token_reply_token_set(&r, n ? v[0].token : 0);
        rs_out_reply(c, cl, q, &r);
        return;
    case KV_IS_MEMBER:
        rs_msg_is_member_reply_yes_set(&r, n ? 1 : 0);
        rs_msg_is_member_reply_revision_set(&r, rev);
        rs_out_reply(c, cl, q, &r);
        return;
    case KV_NAMES: {
        size_t sent = 0;
        for (size_t i = 0; i < n && !cl->closing && (!a->arg || sent < a->arg); i++) {
            if (pid_set(a->pid) && !rs_pid_eq(a->pid, v[i].rec.pid))
                continue;
            item_common(&it, &v[i]);
            rs_msg_names_item_node_set(&it, rs_bytes_of(v[i].rec.node, v[i].rec.node_len));
            rs_msg_names_item_name_set(&it, v[i].rec.key);
            rs_msg_names_item_meta_set(&it, v[i].rec.meta);
            rs_out_item(c, cl, q, &it);
            sent++;
        }
        reply_list(c, cl, q, sent, rev);
        return;
    }
    case KV_MEMBERS: {
        if (n) /* v is NULL when etcd returned nothing */
            qsort(v, n, sizeof *v, cmp_pid);
        size_t sent = 0;
        for (size_t i = 0; i < n && !cl->closing; i++) {
            if ((a->opts & RS_OPT_LOCAL) && v[i].rec.pid.inc != c->inc)
                continue;
            item_common(&it, &v[i]);
            rs_msg_members_item_node_set(&it, rs_bytes_of(v[i].rec.node, v[i].rec.node_len));
            rs_msg_members_item_group_set(&it, v[i].rec.key);
            rs_msg_members_item_meta_set(&it, v[i].rec.meta);
            rs_out_item(c, cl, q, &it);
            sent++;
        }
        reply_list(c, cl, q, sent, rev);
        return;
    }
    case KV_GROUPS: {
        /* items are grouped by group (the key's hex group, then '/', sorts together) */
        size_t sent = 0;
        for (size_t i = 0; i < n && !cl->closing && (!a->arg || sent < a->arg);) {
            size_t j = i;
            while (j < n && rs_bytes_eq(v[j].rec.key.ptr, v[j].rec.key.len, v[i].rec.key.ptr,
                                        v[i].rec.key.len))
                j++;
            for (size_t m = i; m < j; m++) {
                if (pid_set(a->pid) && !rs_pid_eq(a->pid, v[m].rec.pid))
                    continue;
                memset(&it, 0, sizeof it);
                rs_msg_groups_item_members_set(&it, j - i);
                rs_msg_groups_item_group_set(&it, v[m].rec.key);
                if (pid_set(a->pid)) {
                    it.pid = v[m].rec.pid;
                    rs_msg_groups_item_node_set(&it,
                                                rs_bytes_of(v[m].rec.node, v[m].rec.node_len));
                    rs_msg_groups_item_meta_set(&it, v[m].rec.meta);
                }
                rs_out_item(c, cl, q, &it);
                sent++;
                break; /* one item per group */
            }
            i = j;
        }
        reply_list(c, cl, q, sent, rev);
        return;
    }
    case KV_COUNT: {
        uint64_t names = 0, groups = 0, members = 0;
        int filter = a->node.len != 0;
        for (size_t i = 0; i < n; i++)
            names += !filter || rs_bytes_eq((const uint8_t *)v[i].rec.node,
                                            v[i].rec.node_len, a->node.ptr, a->node.len);
        for (size_t i = 0; i < n2;) {
            size_t j = i;
            int any = 0;
            while (j < n2 && rs_bytes_eq(v2[j].rec.key.ptr, v2[j].rec.key.len,
                                         v2[i].rec.key.ptr, v2[i].rec.key.len)) {
                int mine = !filter || rs_bytes_eq((const uint8_t *)v2[j].rec.node,
                                                  v2[j].rec.node_len, a->node.ptr,
                                                  a->node.len);
                members += mine;
                any |= mine;
                j++;
            }
            groups += any;
            i = j;
        }
        static const char *const what[3] = {"names", "groups", "members"};
        uint64_t val[3] = {names, groups, members};
        for (int i = 0; i < 3; i++) {
            memset(&it, 0, sizeof it);
            rs_msg_count_item_value_set(&it, val[i]);
            rs_msg_count_item_counter_set(&it, rs_bytes_str(what[i]));
            rs_out_item(c, cl, q, &it);
        }
        reply_list(c, cl, q, 3, rev);
        return;
    }
    }
}

/* read: a stale read answers now; a linearizable one becomes an etcd range (COUNT: a txn
 * of two ranges, one revision). */
static void read(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                 struct rs_scope *s, const struct ask *a, uint32_t flags)
{
    if (!rs_kv_ready(c, cl, req))
        return;
    int prefix;
    if (flags & RS_OPT_STALE) {
        struct kitem *v = NULL, *v2 = NULL;
        const struct rs_buf *key = ask_key(c, s, a, &prefix, 0);
        size_t n = key ? from_copy(c, s, key, prefix, &v) : 0, n2 = 0;
        if (a->kind == KV_COUNT && (key = ask_key(c, s, a, &prefix, 1)))
            n2 = from_copy(c, s, key, prefix, &v2);
        answer(c, cl, req, a, v, n, v2, n2, (uint64_t)c->kv->rev);
        rs_free(v);
        rs_free(v2);
        return;
    }
    struct rs_kvop *o = rs_kv_op_new(c, a->kind, cl, req);
    if (!o)
        return;
    if (rs_kv_op_copy(c, &o->key, a->key) != 0 || rs_kv_op_copy(c, &o->meta, a->node) != 0 ||
        rs_kv_op_copy(c, &o->prev, a->filt) != 0)
        return;
    o->pid2 = a->pid;
    o->arg = a->arg;
    o->opts = a->opts;
    etcd_op *op;
    if (a->kind == KV_COUNT) {
        op = rs_kv_ops(c, 1);
        etcd_op *then = rs_kv_ops(c, 2);
        if (!op || !then)
            return;
        for (int i = 0; i < 2; i++) {
            const struct rs_buf *key = ask_key(c, s, a, &prefix, i);
            if (!key)
                return;
            then[i].type = ETCD_OP_RANGE;
            rs_kv_set_key(c, &then[i], key);
            then[i].prefix = true;
        }
        op->type = ETCD_OP_TXN;
        op->success = then;
        op->n_success = 2;
    } else {
        const struct rs_buf *key = ask_key(c, s, a, &prefix, 0);
        op = rs_kv_ops(c, 1);
        if (!key || !op)
            return;
        op->type = ETCD_OP_RANGE;
        rs_kv_set_key(c, op, key);
        op->prefix = prefix != 0;
    }
    op->timeout_ms = (int)c->kv->timeout_ms;
    rs_kv_submit(c, o, op);
}

void rs_kvread_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    if (o->kind == KV_SUBWATCH) {
        rs_kvsub_on_result(c, o, r);
        return;
    }
    o->done = 1;
    struct rs_client *cl = rs_kv_client(c, o);
    if (!cl)
        return;
    if (r->status != ETCD_OK) {
        o->done = 0;
        rs_kv_fail(c, o, r);
        o->done = 1;
        return;
    }
    struct rs_scope *s = rs_kv_scope(c, o);
    if (!s)
        return;
    struct ask a = {.kind = o->kind, .key = o->key, .node = o->meta, .pid = o->pid2,
                    .arg = o->arg, .opts = o->opts, .filt = o->prev};
    struct kitem *v = NULL, *v2 = NULL;
    size_t n = 0, n2 = 0;
    if (o->kind == KV_COUNT) {
        n = from_range(c, r->n_ops > 0 ? &r->ops[0] : NULL, &v);
        n2 = from_range(c, r->n_ops > 1 ? &r->ops[1] : NULL, &v2);
    } else {
        n = from_range(c, r->type == ETCD_OP_RANGE ? &r->r : NULL, &v);
    }
    struct rs_msg q = rs_kv_req(o);
    answer(c, cl, &q, &a, v, n, v2, n2, (uint64_t)r->revision);
    rs_free(v);
    rs_free(v2);
}

/* --- the requests ---------------------------------------------------------------------- */

void rs_strong_on_lookup(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                         struct rs_scope *s)
{
    struct ask a = {.kind = KV_LOOKUP, .key = rs_msg_lookup_name(req)};
    read(c, cl, req, s, &a, rs_msg_lookup_flags(req));
}

void rs_strong_on_names(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s)
{
    struct ask a = {.kind = KV_NAMES, .key = rs_msg_names_prefix(req),
                    .pid = rs_msg_names_filter(req), .arg = rs_msg_names_limit(req)};
    read(c, cl, req, s, &a, rs_msg_names_flags(req));
}

void rs_strong_on_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s)
{
    struct ask a = {.kind = KV_COUNT, .node = rs_msg_count_node(req)};
    read(c, cl, req, s, &a, rs_msg_count_flags(req));
}

void rs_strong_on_members(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                          struct rs_scope *s)
{
    uint32_t opts = rs_msg_members_opts(req);
    struct ask a = {.kind = KV_MEMBERS, .key = rs_msg_members_group(req), .opts = opts};
    read(c, cl, req, s, &a, opts);
}

/* QUERY and QUERY_COUNT (query.c parsed and checked them): names through the NAMES range
 * of the key or prefix, members through the GROUPS range of it, counts through COUNT's
 * two ranges of the whole scope; answer_query filters. */
void rs_strong_on_query(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s)
{
    struct ask a = {.key = req->key, .node = req->node, .pid = req->pid, .filt = req->meta,
                    .opts = req->opts};
    if (req->type == RS_MSG_QUERY) {
        a.kind = (req->opts & RS_QW_NAMES) ? KV_NAMES : KV_GROUPS;
        a.arg = rs_msg_query_limit(req);
    } else {
        a.kind = KV_COUNT;
    }
    read(c, cl, req, s, &a, req->opts & RS_QF_STALE);
}

void rs_strong_on_is_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                            struct rs_scope *s)
{
    struct ask a = {.kind = KV_IS_MEMBER, .key = rs_msg_is_member_group(req), .pid = req->pid};
    read(c, cl, req, s, &a, rs_msg_is_member_flags(req));
}

void rs_strong_on_groups(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                         struct rs_scope *s)
{
    struct ask a = {.kind = KV_GROUPS, .key = rs_msg_groups_prefix(req),
                    .pid = rs_msg_groups_filter(req), .arg = rs_msg_groups_limit(req)};
    read(c, cl, req, s, &a, rs_msg_groups_flags(req));
}

void rs_strong_on_check_token(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scopes_find(c, req->scope);
    if (!s || !s->kv) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "not a strong scope");
        return;
    }
    struct ask a = {.kind = KV_CHECK, .key = rs_msg_check_token_name(req),
                    .arg = rs_msg_check_token_token(req)};
    read(c, cl, req, s, &a, 0);
}

void rs_strong_counts(struct rs_core *c, struct rs_scope *s, uint64_t *names,
                      uint64_t *groups)
{
    *names = s->kv ? s->kv->n_names : 0;
    *groups = 0;
    struct rs_kent **v;
    size_t n = rs_kvcopy_all(c, s, &v);
    const struct rs_kent *last = NULL;
    for (size_t i = 0; i < n; i++) {
        if (v[i]->rec.kind != RS_KVK_MEMBER)
            continue;
        if (!last || !rs_bytes_eq(last->rec.key.ptr, last->rec.key.len, v[i]->rec.key.ptr,
                                  v[i]->rec.key.len))
            ++*groups;
        last = v[i];
    }
    rs_free(v);
}
