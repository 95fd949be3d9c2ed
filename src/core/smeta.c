/* smeta.c: the table of one scope's metadata (issue 11 item 11): key -> value records with
 * the hybrid-logical-clock stamp and the node of the write that made them, merged last
 * writer wins so that every node that replicates the scope converges whatever order the
 * writes arrive in. A delete leaves a marker (the write's stamp) so that an older set
 * arriving later cannot bring the value back; markers beyond RS_SCOPE_META_MAX are forgotten
 * oldest first. A table: no events, no replication, no output (scopemeta.c does those). */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "core/smeta.h"
#include "core/util.h"

struct rs_smeta_tab {
    struct rs_map map;
    uint32_t live;    /* records with a value */
    uint32_t markers; /* delete markers */
};

static int key_eq(const void *item, const void *key)
{
    const struct rs_smeta *e = item;
    const struct rs_bytes *k = key;
    return rs_bytes_eq(e->key, e->key_len, k->ptr, k->len);
}

int rs_smeta_newer(const struct rs_smeta *e, uint64_t hlc, struct rs_bytes node)
{
    if (hlc != e->hlc)
        return hlc > e->hlc;
    return rs_bytes_cmp(node.ptr, node.len, (const uint8_t *)e->node, e->node_len) > 0;
}

struct rs_smeta *rs_smeta_find(const struct rs_core *c, const struct rs_scope *s,
                               struct rs_bytes key)
{
    if (!s->meta)
        return NULL;
    return rs_map_get(&s->meta->map, rs_hash(c->seed, key.ptr, key.len), &key, key_eq);
}

static void record_free(struct rs_smeta *e)
{
    rs_free(e->val);
    rs_free(e);
}

/* forget_oldest_marker drops the delete marker with the lowest stamp (a full table). */
static void forget_oldest_marker(struct rs_scope *s)
{
    struct rs_smeta *old = NULL;
    for (size_t i = 0; i < s->meta->map.cap; i++) {
        struct rs_smeta *e = s->meta->map.slots[i].item;
        if (e && e->deleted && (!old || e->hlc < old->hlc))
            old = e;
    }
    if (!old)
        return;
    int r = rs_map_del_item(&s->meta->map, old->hash, old);
    RS_ASSERT(r == 0 && s->meta->markers > 0);
    s->meta->markers--;
    record_free(old);
}

static void stamp(struct rs_smeta *e, const struct rs_smeta_write *w)
{
    size_t n = w->node.len <= RS_NODE_NAME_MAX ? w->node.len : RS_NODE_NAME_MAX;
    memcpy(e->node, w->node.ptr, n);
    e->node[n] = 0;
    e->node_len = (uint32_t)n;
    e->hlc = w->hlc;
}

int rs_smeta_apply(struct rs_core *c, struct rs_scope *s, const struct rs_smeta_write *w,
                   enum rs_smeta_what *what, struct rs_bytes *prev, int *had_value)
{
    *what = RS_SMETA_OLDER;
    *prev = rs_bytes_of(NULL, 0);
    *had_value = 0;
    if (!s->meta) {
        if (!(s->meta = rs_core_alloc(c, sizeof *s->meta)))
            return -1;
        memset(s->meta, 0, sizeof *s->meta);
        rs_map_init(&s->meta->map);
    }
    struct rs_smeta *e = rs_smeta_find(c, s, w->key);
    if (e && !rs_smeta_newer(e, w->hlc, w->node))
        return 0;
    if (!e) {
        if (w->deleted ? s->meta->markers >= RS_SCOPE_META_MAX
                       : s->meta->live >= RS_SCOPE_META_MAX) {
            if (!w->deleted) {
                *what = RS_SMETA_FULL;
                return 0;
            }
            forget_oldest_marker(s);
        }
        int failed = 0;
        if (!(e = rs_core_alloc(c, sizeof *e + w->key.len)))
            return -1;
        memset(e, 0, sizeof *e);
        e->val = w->deleted ? NULL : rs_core_dup(c, w->val, &failed);
        if (failed) {
            rs_free(e);
            return -1;
        }
        e->val_len = w->deleted ? 0 : (uint32_t)w->val.len;
        e->deleted = w->deleted ? 1u : 0u;
        e->key_len = (uint32_t)w->key.len;
        memcpy(e->key, w->key.ptr, w->key.len);
        e->hash = rs_hash(c->seed, w->key.ptr, w->key.len);
        stamp(e, w);
        if (rs_map_put(&s->meta->map, e->hash, e) != 0) {
            c->oom = 1;
            record_free(e);
            return -1;
        }
        if (w->deleted) {
            s->meta->markers++;
            *what = RS_SMETA_RESTAMPED; /* a marker for a key we never saw: nothing shows */
        } else {
            s->meta->live++;
            *what = RS_SMETA_CHANGED;
        }
        return 0;
    }
    int same = w->deleted ? e->deleted
                          : !e->deleted && rs_bytes_eq(e->val, e->val_len, w->val.ptr, w->val.len);
    if (same) {
        stamp(e, w);
        *what = RS_SMETA_RESTAMPED;
        return 0;
    }
    if (!w->deleted && e->deleted && s->meta->live >= RS_SCOPE_META_MAX) {
        *what = RS_SMETA_FULL;
        return 0;
    }
    int failed = 0;
    uint8_t *nv = w->deleted ? NULL : rs_core_dup(c, w->val, &failed);
    if (failed)
        return -1;
    *had_value = !e->deleted;
    *prev = rs_bytes_of(e->val, e->val_len);
    if (e->deleted != (uint32_t)(w->deleted != 0)) {
        if (w->deleted) {
            s->meta->live--;
            s->meta->markers++;
        } else {
            s->meta->markers--;
            s->meta->live++;
        }
    }
    e->val = nv;
    e->val_len = w->deleted ? 0 : (uint32_t)w->val.len;
    e->deleted = w->deleted ? 1u : 0u;
    stamp(e, w);
    *what = RS_SMETA_CHANGED;
    if (w->deleted && s->meta->markers > RS_SCOPE_META_MAX)
        forget_oldest_marker(s); /* possibly e itself: callers keep no pointer to it */
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    const struct rs_smeta *x = *(const struct rs_smeta *const *)a;
    const struct rs_smeta *y = *(const struct rs_smeta *const *)b;
    return rs_bytes_cmp(x->key, x->key_len, y->key, y->key_len);
}

int rs_smeta_sorted(struct rs_core *c, const struct rs_scope *s, int markers,
                    struct rs_smeta ***out, size_t *n)
{
    size_t cap = s->meta ? s->meta->map.n : 0, k = 0;
    struct rs_smeta **v = rs_core_alloc(c, (cap + 1) * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; s->meta && i < s->meta->map.cap; i++) {
        struct rs_smeta *e = s->meta->map.slots[i].item;
        if (e && (markers || !e->deleted))
            v[k++] = e;
    }
    qsort(v, k, sizeof *v, cmp_key);
    *out = v;
    *n = k;
    return 0;
}

uint32_t rs_smeta_live(const struct rs_scope *s)
{
    return s->meta ? s->meta->live : 0;
}

void rs_smeta_free(struct rs_scope *s)
{
    if (!s->meta)
        return;
    for (size_t i = 0; i < s->meta->map.cap; i++)
        if (s->meta->map.slots[i].item)
            record_free(s->meta->map.slots[i].item);
    rs_map_fini(&s->meta->map);
    rs_free(s->meta);
    s->meta = NULL;
}
