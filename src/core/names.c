/* names.c: the table of unique names: each claim is one allocation with its key inline, in
 * its scope among its key's claims (claims.c) and in its owner pid's list. Find, insert,
 * remove, update metadata, iterate; counters of names and of each owner's entries. A table:
 * no events, no replication, no output (the change pipeline, change.c, does those). */
#include <string.h>

#include "base/check.h"
#include "core/claims.h"
#include "core/names.h"
#include "core/util.h"

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

struct rs_name *rs_names_find(const struct rs_core *c, const struct rs_scope *s,
                              const uint8_t *key, size_t len)
{
    struct key_view k = {key, len};
    return rs_map_get(&s->names, rs_hash(c->seed, key, len), &k, name_eq);
}

struct rs_name *rs_names_pick(const struct rs_core *c, const struct rs_scope *s,
                              const uint8_t *key, size_t len)
{
    struct rs_name *h = rs_names_find(c, s, key, len);
    if (!(s->opts & ROSTER_SCOPE_UNIQUE_PER_NODE))
        return h;
    for (struct rs_name *x = h; x; x = x->alt)
        if (x->proc->client)
            return x;
    return h;
}

int rs_names_expand(struct rs_core *c, const struct rs_scope *s, struct rs_name ***v,
                    size_t *n)
{
    if (!(s->opts & ROSTER_SCOPE_UNIQUE_PER_NODE))
        return 0;
    size_t total = 0;
    for (size_t i = 0; i < *n; i++)
        for (struct rs_name *x = (*v)[i]; x; x = x->alt)
            total++;
    struct rs_name **w = rs_core_alloc(c, (total + 1) * sizeof *w);
    if (!w)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        for (struct rs_name *x = (*v)[i]; x; x = x->alt)
            w[k++] = x;
    rs_free(*v);
    *v = w;
    *n = total;
    return 0;
}

struct rs_name *rs_names_claim_of(const struct rs_core *c, const struct rs_scope *s,
                                  const struct rs_proc *p, struct rs_bytes key)
{
    for (struct rs_name *n = rs_names_find(c, s, key.ptr, key.len); n; n = n->alt)
        if (n->proc == p)
            return n;
    return NULL;
}

struct rs_name *rs_names_new(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                             struct rs_bytes key, struct rs_bytes meta, uint64_t hlc)
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
    n->hash = rs_hash(c->seed, key.ptr, key.len);
    n->hlc = hlc;
    n->proc = p;
    n->scope = s;
    return n;
}

void rs_names_free(struct rs_name *n)
{
    rs_free(n->meta);
    rs_free(n);
}

/* The entries counter of n's owner: its client's (local pid) or its node's (remote). */
static uint64_t *owner_entries(struct rs_name *n)
{
    return n->proc->client ? &n->proc->client->n_entries : &n->proc->node->n_entries;
}

int rs_names_insert(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh)
{
    struct rs_proc *p = n->proc;
    if (rs_claims_add(c, n, sh) != 0)
        return -1;
    RS_LIST_PUSH(p->names, n, prev, next);
    c->n_names++;
    (*owner_entries(n))++;
    n->scope->n_local += p->client != NULL;
    return 0;
}

void rs_names_remove(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh)
{
    struct rs_proc *p = n->proc;
    rs_claims_del(c, n, sh);
    RS_ASSERT(p->names != NULL);
    RS_LIST_DEL(p->names, n, prev, next);
    uint64_t *owner = owner_entries(n);
    RS_ASSERT(c->n_names > 0 && *owner > 0);
    (*owner)--;
    c->n_names--;
    RS_ASSERT(!p->client || n->scope->n_local > 0);
    n->scope->n_local -= p->client != NULL;
}

void rs_names_move(struct rs_core *c, struct rs_name *n, struct rs_proc *to, uint64_t hlc)
{
    (void)c;
    struct rs_proc *from = n->proc;
    /* a handoff stays on one node: a local claim moves to a local pid, a remote one to a
     * pid of the same node, so only a local claim changes whose budget it counts in */
    RS_ASSERT(from->names != NULL && !from->client == !to->client && from->node == to->node);
    RS_LIST_DEL(from->names, n, prev, next);
    uint64_t *old = owner_entries(n);
    RS_ASSERT(*old > 0);
    (*old)--;
    n->proc = to;
    n->hlc = hlc;
    RS_LIST_PUSH(to->names, n, prev, next);
    (*owner_entries(n))++;
}

int rs_names_set_meta(struct rs_core *c, struct rs_name *n, struct rs_bytes meta,
                      struct rs_bytes *old)
{
    int failed;
    uint8_t *m = rs_core_dup(c, meta, &failed);
    if (failed)
        return -1;
    *old = rs_bytes_of(n->meta, n->meta_len);
    n->meta = m;
    n->meta_len = meta.len;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    const struct rs_name *x = *(const struct rs_name *const *)a;
    const struct rs_name *y = *(const struct rs_name *const *)b;
    return rs_bytes_cmp(x->key, x->key_len, y->key, y->key_len);
}

int rs_names_collect(struct rs_core *c, const struct rs_scope *s, const struct rs_proc *filter,
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

void rs_names_sort(struct rs_name **v, size_t n, size_t limit)
{
    rs_sort_head((void **)v, n, limit, cmp_name);
}

int rs_names_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                      size_t pn, int exact, struct rs_name ***out, size_t *n)
{
    if (exact) {
        struct rs_name **v = rs_core_alloc(c, sizeof *v);
        if (!v)
            return -1;
        struct rs_name *x = rs_names_find(c, s, pre, pn);
        *n = 0;
        if (x)
            v[(*n)++] = x;
        *out = v;
        return rs_names_expand(c, s, out, n);
    }
    if (rs_names_collect(c, s, NULL, pre, pn, out, n) != 0)
        return -1;
    rs_names_sort(*out, *n, 0);
    return rs_names_expand(c, s, out, n);
}
