/* registry.c: unique names per scope: REGISTER (take or update), UNREGISTER, LOOKUP, the
 * NAMES listing, removal of a name (explicit or by the death of its pid), and the remote
 * register of a replicated claim. Each claim is one allocation with its key inline, among
 * its key's claims (conflict.c) and in its pid's list. Local writes are replicated (repl.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "cluster.h"
#include "conflict.h"
#include "events.h"
#include "hlc.h"
#include "output.h"
#include "pids.h"
#include "repl.h"
#include "scope.h"
#include "util.h"

struct key_view {
    const uint8_t *p;
    size_t n;
};

static int name_eq(const void *item, const void *key)
{
    const struct rs_name *n = item;
    const struct key_view *k = key;
    return rs_bytes_eq(n->key, n->key_len, k->p, k->n);
}

struct rs_name *rs_registry_find(const struct rs_core *c, const struct rs_scope *s,
                                 const uint8_t *key, size_t len)
{
    struct key_view k = {key, len};
    return rs_map_get(&s->names, rs_hash(c->seed, key, len), &k, name_eq);
}

int rs_check_entry(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                   const char *what)
{
    if (req->key.len == 0) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "empty %s", what);
        return -1;
    }
    if (req->key.len > c->lim.name_max) {
        rs_out_error(c, cl, req, ROSTER_ENAMETOOLONG, "%s of %u bytes is above name_max %u",
                     what, (unsigned)req->key.len, c->lim.name_max);
        return -1;
    }
    if (req->meta.len > c->lim.meta_max) {
        rs_out_error(c, cl, req, ROSTER_EMETATOOBIG,
                     "metadata of %u bytes is above meta_max %u", (unsigned)req->meta.len,
                     c->lim.meta_max);
        return -1;
    }
    return 0;
}

void rs_registry_remove(struct rs_core *c, struct rs_name *n, uint32_t reason)
{
    struct rs_proc *p = n->proc;
    rs_claims_del(c, n, reason);
    RS_LIST_DEL(p->names, n, prev, next);
    if (p->client)
        p->client->n_entries--;
    else
        p->node->n_entries--;
    c->n_names--;
    rs_free(n->meta);
    rs_free(n);
}

struct rs_name *rs_registry_claim_of(const struct rs_core *c, const struct rs_scope *s,
                                     const struct rs_proc *p, struct rs_bytes key)
{
    for (struct rs_name *n = rs_registry_find(c, s, key.ptr, key.len); n; n = n->alt)
        if (n->proc == p)
            return n;
    return NULL;
}

static struct rs_name *name_new(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                                struct rs_bytes key, struct rs_bytes meta, uint64_t hash,
                                uint64_t hlc)
{
    struct rs_name *n = rs_core_alloc(c, sizeof *n + key.len);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    int failed;
    n->meta = rs_core_dup(c, meta, &failed);
    if (failed) {
        rs_free(n);
        return NULL;
    }
    n->meta_len = meta.len;
    n->key_len = key.len;
    memcpy(n->key, key.ptr, key.len);
    n->hash = hash;
    n->hlc = hlc;
    n->proc = p;
    n->scope = s;
    return n;
}

/* Replace n's metadata by meta, with an UPDATED event if n is visible. 0 or -1. */
static int name_update(struct rs_core *c, struct rs_name *n, struct rs_bytes meta)
{
    int failed;
    uint8_t *m = rs_core_dup(c, meta, &failed);
    if (failed)
        return -1;
    uint8_t *old = n->meta;
    uint32_t old_len = n->meta_len;
    n->meta = m;
    n->meta_len = meta.len;
    struct rs_scope *s = n->scope;
    if (s->subs && rs_claims_visible(c, n))
        rs_events_emit(c, s, 0, ROSTER_EV_UPDATED, ROSTER_REASON_NONE, rs_pids_of(c, n->proc),
                       rs_bytes_of(n->key, n->key_len), meta, rs_bytes_of(old, old_len));
    rs_free(old);
    rs_claims_recheck(c, n);
    return 0;
}

int rs_registry_put_remote(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                           struct rs_bytes key, struct rs_bytes meta, uint64_t hlc)
{
    struct rs_name *n = rs_registry_claim_of(c, s, p, key);
    if (n) {
        n->stale = 0;
        if (rs_bytes_eq(n->meta, n->meta_len, meta.ptr, meta.len))
            return 0;
        return name_update(c, n, meta);
    }
    /* A node holds one claim per key: a claim of another pid of the same node is replaced
     * (its owner already gave it up). */
    for (struct rs_name *x = rs_registry_find(c, s, key.ptr, key.len); x; x = x->alt) {
        if (x->proc->node == p->node) {
            struct rs_proc *old = x->proc;
            rs_registry_remove(c, x, ROSTER_REASON_NORMAL);
            rs_pids_release(c, old);
            break;
        }
    }
    n = name_new(c, s, p, key, meta, rs_hash(c->seed, key.ptr, key.len), hlc);
    if (!n)
        return -1;
    RS_LIST_PUSH(p->names, n, prev, next);
    c->n_names++;
    if (rs_claims_add(c, n) != 0) {
        RS_LIST_DEL(p->names, n, prev, next);
        c->n_names--;
        rs_free(n->meta);
        rs_free(n);
        return -1;
    }
    p->node->n_entries++;
    return 0;
}

static void reply_holder(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                         struct rs_pid pid)
{
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    r.pid = pid;
    rs_out_reply(c, cl, req, &r);
}

void rs_registry_on_register(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (rs_check_entry(c, cl, req, "name") != 0)
        return;
    struct rs_scope *s = rs_scope_joined_of(c, cl, req);
    if (!s)
        return;
    struct rs_proc *p = rs_pids_owned(c, cl, req);
    if (!p)
        return;
    uint64_t h = rs_hash(c->seed, req->key.ptr, req->key.len);
    struct key_view k = {req->key.ptr, req->key.len};
    struct rs_name *n = rs_map_get(&s->names, h, &k, name_eq);
    if (n && n->proc == p) {
        /* Reply first, as before: the event follows the reply. */
        int failed;
        uint8_t *meta = rs_core_dup(c, req->meta, &failed);
        if (failed)
            return;
        uint8_t *old = n->meta;
        uint32_t old_len = n->meta_len;
        n->meta = meta;
        n->meta_len = req->meta.len;
        reply_holder(c, cl, req, rs_pids_of(c, p));
        if (s->subs)
            rs_events_emit(c, s, 0, ROSTER_EV_UPDATED, ROSTER_REASON_NONE, rs_pids_of(c, p),
                           req->key, req->meta, rs_bytes_of(old, old_len));
        rs_free(old);
        rs_repl_op(c, s, RS_POP_REGISTER, ROSTER_REASON_NONE, n->hlc, rs_pids_of(c, p),
                   req->key, req->meta);
        rs_claims_recheck(c, n);
        return;
    }
    if (n) {
        char kb[80], pb[ROSTER_PID_STRLEN];
        struct rs_pid holder = rs_pids_of(c, n->proc);
        struct rs_msg r;
        memset(&r, 0, sizeof r);
        char text[200];
        int tn = snprintf(text, sizeof text, "name '%s' is held by pid %s",
                          rs_fmt_key(kb, sizeof kb, req->key.ptr, req->key.len),
                          rs_fmt_pid(pb, holder));
        r.status = ROSTER_ETAKEN;
        r.pid = holder;
        r.prev = rs_bytes_of(text, tn > 0 ? (size_t)tn : 0);
        rs_out_reply(c, cl, req, &r);
        return;
    }
    if (cl->n_entries >= c->lim.entries_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "client holds %llu names and memberships (limit entries_per_client)",
                     (unsigned long long)cl->n_entries);
        return;
    }
    n = name_new(c, s, p, req->key, req->meta, h, 0);
    if (!n)
        return;
    if (rs_map_put(&s->names, h, n) != 0) {
        c->oom = 1;
        rs_free(n->meta);
        rs_free(n);
        return;
    }
    n->hlc = rs_hlc_stamp(c);
    RS_LIST_PUSH(p->names, n, prev, next);
    cl->n_entries++;
    c->n_names++;
    reply_holder(c, cl, req, rs_pids_of(c, p));
    if (s->subs)
        rs_events_emit(c, s, 0, ROSTER_EV_REGISTERED, ROSTER_REASON_NONE, rs_pids_of(c, p),
                       req->key, req->meta, rs_bytes_of(NULL, 0));
    rs_repl_op(c, s, RS_POP_REGISTER, ROSTER_REASON_NONE, n->hlc, rs_pids_of(c, p), req->key,
               req->meta);
}

void rs_registry_on_unregister(struct rs_core *c, struct rs_client *cl,
                               const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    char kb[80], pb[ROSTER_PID_STRLEN];
    struct rs_name *n = rs_registry_find(c, s, req->key.ptr, req->key.len);
    if (!n) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "name '%s' is not registered",
                     rs_fmt_key(kb, sizeof kb, req->key.ptr, req->key.len));
        return;
    }
    if (n->proc->client != cl) {
        rs_out_error(c, cl, req, ROSTER_ENOTOWNER,
                     "name '%s' is held by pid %s of another %s",
                     rs_fmt_key(kb, sizeof kb, req->key.ptr, req->key.len),
                     rs_fmt_pid(pb, rs_pids_of(c, n->proc)), n->proc->node ? "node" : "client");
        return;
    }
    rs_out_ok(c, cl, req);
    rs_repl_op(c, s, RS_POP_UNREGISTER, ROSTER_REASON_NORMAL, n->hlc, rs_pids_of(c, n->proc),
               req->key, rs_bytes_of(NULL, 0));
    rs_registry_remove(c, n, ROSTER_REASON_NORMAL);
}

void rs_registry_on_lookup(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    struct rs_name *n = rs_registry_find(c, s, req->key.ptr, req->key.len);
    if (!n) {
        char kb[80];
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "name '%s' is not registered",
                     rs_fmt_key(kb, sizeof kb, req->key.ptr, req->key.len));
        return;
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    r.pid = rs_pids_of(c, n->proc);
    r.node = rs_cluster_name_of(c, r.pid.inc);
    r.meta = rs_bytes_of(n->meta, n->meta_len);
    rs_out_reply(c, cl, req, &r);
}

static int cmp_name(const void *a, const void *b)
{
    const struct rs_name *x = *(const struct rs_name *const *)a;
    const struct rs_name *y = *(const struct rs_name *const *)b;
    return rs_bytes_cmp(x->key, x->key_len, y->key, y->key_len);
}

static int collect(struct rs_core *c, const struct rs_scope *s, const struct rs_proc *filter,
                   const uint8_t *pre, size_t pn, struct rs_name ***out, size_t *count)
{
    size_t cap = filter ? 16 : s->names.n + 1, n = 0;
    struct rs_name **v = rs_core_alloc(c, cap * sizeof *v);
    if (!v)
        return -1;
    if (filter) {
        for (struct rs_name *x = filter->names; x; x = x->next) {
            if (x->scope != s || !rs_is_prefix(x->key, x->key_len, pre, pn) ||
                !rs_claims_visible(c, x))
                continue;
            if (n == cap) {
                struct rs_name **w = rs_realloc(v, 2 * cap * sizeof *v);
                if (!w) {
                    rs_free(v);
                    c->oom = 1;
                    return -1;
                }
                v = w;
                cap *= 2;
            }
            v[n++] = x;
        }
    } else {
        for (size_t i = 0; i < s->names.cap; i++) {
            struct rs_name *x = s->names.slots[i].item;
            if (x && rs_is_prefix(x->key, x->key_len, pre, pn))
                v[n++] = x;
        }
    }
    *out = v;
    *count = n;
    return 0;
}

int rs_registry_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                         size_t pn, int exact, struct rs_name ***out, size_t *n)
{
    if (exact) {
        struct rs_name **v = rs_core_alloc(c, sizeof *v);
        if (!v)
            return -1;
        struct rs_name *x = rs_registry_find(c, s, pre, pn);
        *n = 0;
        if (x)
            v[(*n)++] = x;
        *out = v;
        return 0;
    }
    if (collect(c, s, NULL, pre, pn, out, n) != 0)
        return -1;
    rs_sort_head((void **)*out, *n, 0, cmp_name);
    return 0;
}

void rs_registry_on_names(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    const struct rs_proc *filter = NULL;
    if (req->pid.inc || req->pid.serial) {
        filter = rs_pids_any(c, req->pid);
        if (!filter) {
            rs_out_count(c, cl, req, 0);
            return;
        }
    }
    struct rs_name **v;
    size_t n;
    if (collect(c, s, filter, req->key.ptr, req->key.len, &v, &n) != 0)
        return;
    size_t limit = req->arg && req->arg < n ? (size_t)req->arg : n;
    rs_sort_head((void **)v, n, limit, cmp_name);
    for (size_t i = 0; i < limit && !cl->closing; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        it.pid = rs_pids_of(c, v[i]->proc);
        it.node = rs_cluster_name_of(c, it.pid.inc);
        it.key = rs_bytes_of(v[i]->key, v[i]->key_len);
        it.meta = rs_bytes_of(v[i]->meta, v[i]->meta_len);
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, limit);
    rs_free(v);
}
