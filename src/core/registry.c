/* registry.c: unique names per scope: REGISTER (take or update), UNREGISTER, LOOKUP, the
 * NAMES listing, and removal of a name (explicit or by the death of its pid). Each name is
 * one allocation with its key inline, in its scope's map and in its pid's list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
    struct rs_scope *s = n->scope;
    struct rs_proc *p = n->proc;
    rs_map_del_item(&s->names, n->hash, n);
    RS_LIST_DEL(p->names, n, prev, next);
    p->client->n_entries--;
    c->n_names--;
    if (s->subs)
        rs_events_emit(c, s, 0, ROSTER_EV_UNREGISTERED, reason, rs_pids_of(c, p),
                       rs_bytes_of(n->key, n->key_len), rs_bytes_of(n->meta, n->meta_len),
                       rs_bytes_of(NULL, 0));
    rs_free(n->meta);
    rs_free(n);
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
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    struct rs_proc *p = rs_pids_owned(c, cl, req);
    if (!p)
        return;
    uint64_t h = rs_hash(c->seed, req->key.ptr, req->key.len);
    struct key_view k = {req->key.ptr, req->key.len};
    struct rs_name *n = rs_map_get(&s->names, h, &k, name_eq);
    int failed;
    if (n && n->proc == p) {
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
    n = rs_core_alloc(c, sizeof *n + req->key.len);
    if (!n)
        return;
    memset(n, 0, sizeof *n);
    n->meta = rs_core_dup(c, req->meta, &failed);
    if (failed) {
        rs_free(n);
        return;
    }
    n->meta_len = req->meta.len;
    n->key_len = req->key.len;
    memcpy(n->key, req->key.ptr, req->key.len);
    n->hash = h;
    n->proc = p;
    n->scope = s;
    if (rs_map_put(&s->names, h, n) != 0) {
        c->oom = 1;
        rs_free(n->meta);
        rs_free(n);
        return;
    }
    RS_LIST_PUSH(p->names, n, prev, next);
    cl->n_entries++;
    c->n_names++;
    reply_holder(c, cl, req, rs_pids_of(c, p));
    if (s->subs)
        rs_events_emit(c, s, 0, ROSTER_EV_REGISTERED, ROSTER_REASON_NONE, rs_pids_of(c, p),
                       req->key, req->meta, rs_bytes_of(NULL, 0));
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
                     "name '%s' is held by pid %s of another client",
                     rs_fmt_key(kb, sizeof kb, req->key.ptr, req->key.len),
                     rs_fmt_pid(pb, rs_pids_of(c, n->proc)));
        return;
    }
    rs_out_ok(c, cl, req);
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
    r.node = rs_bytes_node(c);
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
            if (x->scope != s || !rs_is_prefix(x->key, x->key_len, pre, pn))
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
        filter = rs_pids_find(c, req->pid);
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
        it.node = rs_bytes_node(c);
        it.key = rs_bytes_of(v[i]->key, v[i]->key_len);
        it.meta = rs_bytes_of(v[i]->meta, v[i]->meta_len);
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, limit);
    rs_free(v);
}
