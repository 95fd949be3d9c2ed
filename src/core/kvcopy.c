/* kvcopy.c: the local copy of the strong scopes: what this node last heard from etcd (the
 * load at start, then the watch on the cluster's prefix, in etcd's revision order), and the
 * events every change gives to the scope's subscribers, each carrying its revision. Stale
 * reads and snapshots answer from here. A value that does not decode is logged and
 * ignored; an entry of this node held under a lease it no longer has is not taken in (the
 * node fenced itself: its holders are told lease_lost), and one of a local pid that is dead
 * (another node handed it the name) is removed from etcd. */
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "core/kvstate.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/scopes.h"
#include "core/util.h"

static int ent_eq(const void *item, const void *key)
{
    const struct rs_kent *e = item;
    const struct rs_bytes *k = key;
    return rs_bytes_eq(e->data, e->ekey_len, k->ptr, k->len);
}

struct rs_kscope *rs_kvcopy_new(void)
{
    struct rs_kscope *k = rs_calloc(1, sizeof *k);
    if (k)
        rs_map_init(&k->ents);
    return k;
}

void rs_kvcopy_free(struct rs_kscope *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->ents.cap; i++)
        rs_free(k->ents.slots[i].item);
    rs_map_fini(&k->ents);
    rs_free(k);
}

static int cmp_ent(const void *a, const void *b)
{
    const struct rs_kent *x = *(const struct rs_kent *const *)a;
    const struct rs_kent *y = *(const struct rs_kent *const *)b;
    return rs_bytes_cmp(x->data, x->ekey_len, y->data, y->ekey_len);
}

size_t rs_kvcopy_all(struct rs_core *c, struct rs_scope *s, struct rs_kent ***v)
{
    *v = NULL;
    if (!s->kv)
        return 0;
    struct rs_kent **a = rs_core_alloc(c, (s->kv->ents.n + 1) * sizeof *a);
    if (!a)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < s->kv->ents.cap; i++)
        if (s->kv->ents.slots[i].item)
            a[n++] = s->kv->ents.slots[i].item;
    qsort(a, n, sizeof *a, cmp_ent);
    *v = a;
    return n;
}

struct rs_kent *rs_kvcopy_find(struct rs_core *c, struct rs_scope *s, const uint8_t *ekey,
                               size_t n)
{
    if (!s->kv)
        return NULL;
    struct rs_bytes k = rs_bytes_of(ekey, n);
    return rs_map_get(&s->kv->ents, rs_hash(c->seed, ekey, n), &k, ent_eq);
}

uint64_t rs_kvcopy_token(const struct rs_kvrec *r, int64_t mod_rev)
{
    return r->token ? r->token : (uint64_t)mod_rev;
}

int rs_kvcopy_decode(struct rs_core *c, const etcd_kv *kv, struct rs_kvrec *rec,
                     struct rs_scope **scope)
{
    const uint8_t *key = (const uint8_t *)kv->key;
    char sname[RS_SCOPE_MAX + 1];
    enum rs_kvk_kind kind = rs_kvk_kind(key, kv->key_len);
    int sl = rs_kvk_scope_of(key, kv->key_len, sname);
    const char *bad = NULL;
    if (sl < 0)
        bad = "malformed key";
    else if (rs_kvrec_decode((const uint8_t *)kv->value, kv->value_len, rec) != 0)
        bad = "value does not decode";
    else if (rec->kind != kind)
        bad = "value of another kind";
    else if (!rs_kvrec_matches_key(rec, rs_bytes_of(sname, (size_t)sl), key, kv->key_len,
                                   &c->kv->scratch))
        bad = "value does not match its key";
    if (bad) {
        char kb[80];
        rs_out_log(c, RS_LOG_WARN, "strong scopes: etcd key '%s' ignored: %s",
                   rs_fmt_key(kb, sizeof kb, key, kv->key_len), bad);
        return -1;
    }
    *scope = NULL;
    if (kind != RS_KVK_SCOPE) {
        struct rs_scope *s = rs_scopes_find(c, rs_bytes_of(sname, (size_t)sl));
        if (!s || !s->kv)
            return -1; /* not a strong scope here (yet) */
        *scope = s;
    }
    return 0;
}

/* The events of one change of an entry, old -> now (either may be NULL). */
void rs_kvcopy_emit(struct rs_core *c, struct rs_scope *s, struct rs_sub *only,
                    const struct rs_kvrec *old, const struct rs_kvrec *now, uint32_t reason,
                    int64_t rev)
{
    const struct rs_kvrec *any = now ? now : old;
    int group = any->kind == RS_KVK_MEMBER;
    c->ev_kv = 1;
    c->ev_rev = (uint64_t)rev;
    struct rs_bytes none = rs_bytes_of(NULL, 0);
#define EMIT(r, kind, why, prev)                                                            \
    do {                                                                                   \
        c->ev_node = rs_bytes_of((r)->node, (r)->node_len);                                \
        if (only)                                                                          \
            rs_events_emit_one(c, only, group, kind, why, (r)->pid, (r)->key, (r)->meta,   \
                               prev);                                                      \
        else if (rs_events_wanted(c, s))                                                   \
            rs_events_emit(c, s, group, kind, why, (r)->pid, (r)->key, (r)->meta, prev);   \
    } while (0)
    if (old && now && rs_pid_eq(old->pid, now->pid)) {
        if (!rs_bytes_eq(old->meta.ptr, old->meta.len, now->meta.ptr, now->meta.len))
            EMIT(now, group ? ROSTER_EV_MEMBER_UPDATED : ROSTER_EV_UPDATED, ROSTER_REASON_NONE,
                 old->meta);
    } else {
        if (old)
            EMIT(old, group ? ROSTER_EV_LEFT : ROSTER_EV_UNREGISTERED,
                 now ? (reason == ROSTER_REASON_HANDOFF ? reason : ROSTER_REASON_CONFLICT)
                     : reason,
                 none);
        if (now)
            EMIT(now, group ? ROSTER_EV_JOINED : ROSTER_EV_REGISTERED,
                 old && reason == ROSTER_REASON_HANDOFF ? reason : ROSTER_REASON_NONE, none);
    }
#undef EMIT
    c->ev_kv = 0;
}

/* tell_holder sends one event about r to the client of r's pid, when it is ours (id 0). */
void rs_kvcopy_tell(struct rs_core *c, struct rs_scope *s, const struct rs_kvrec *r,
                        uint32_t kind, uint32_t reason, int64_t rev)
{
    if (r->pid.inc != c->inc)
        return;
    struct rs_proc *p = rs_pids_find(c, r->pid);
    if (!p || !p->client)
        return;
    c->ev_kv = 1;
    c->ev_rev = (uint64_t)rev;
    c->ev_node = rs_bytes_of(r->node, r->node_len);
    rs_out_event(c, p->client, kind, reason, 0, 0, r->pid, s, r->key, r->meta,
                 rs_bytes_of(NULL, 0));
    c->ev_kv = 0;
}

static struct rs_kent *ent_new(struct rs_core *c, const etcd_kv *kv, const struct rs_kvrec *r)
{
    struct rs_kent *e = rs_core_alloc(c, sizeof *e + kv->key_len + r->key.len + r->meta.len);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->rec = *r;
    e->ekey_len = (uint32_t)kv->key_len;
    uint8_t *p = e->data;
    memcpy(p, kv->key, kv->key_len);
    p += kv->key_len;
    memcpy(p, r->key.ptr, r->key.len);
    e->rec.key = rs_bytes_of(p, r->key.len);
    p += r->key.len;
    if (r->meta.len)
        memcpy(p, r->meta.ptr, r->meta.len);
    e->rec.meta = rs_bytes_of(r->meta.len ? p : NULL, r->meta.len);
    e->hash = rs_hash(c->seed, e->data, e->ekey_len);
    e->mod_rev = kv->mod_revision;
    e->lease = kv->lease;
    e->token = rs_kvcopy_token(r, kv->mod_revision);
    return e;
}

static int owned_eq(const void *item, const void *key)
{
    return ((const struct rs_kowned *)item)->serial == *(const uint64_t *)key;
}

uint64_t rs_kvcopy_owned(struct rs_core *c, uint64_t serial)
{
    const struct rs_kowned *o =
        rs_map_get(&c->kv->owned, rs_hash_u64(c->seed, serial), &serial, owned_eq);
    return o ? o->n : 0;
}

struct rs_kent *rs_kvcopy_owned_list(struct rs_core *c, uint64_t serial)
{
    const struct rs_kowned *o =
        rs_map_get(&c->kv->owned, rs_hash_u64(c->seed, serial), &serial, owned_eq);
    return o ? o->ents : NULL;
}

static void count(struct rs_core *c, struct rs_scope *s, const struct rs_kent *e, int d)
{
    if (e->rec.kind == RS_KVK_NAME)
        s->kv->n_names += (uint64_t)(int64_t)d;
    else
        s->kv->n_members += (uint64_t)(int64_t)d;
    if (e->rec.pid.inc != c->inc)
        return;
    uint64_t serial = e->rec.pid.serial, h = rs_hash_u64(c->seed, serial);
    struct rs_kowned *o = rs_map_get(&c->kv->owned, h, &serial, owned_eq);
    if (!o && d > 0) {
        o = rs_core_alloc(c, sizeof *o);
        if (!o)
            return;
        o->serial = serial;
        o->n = 0;
        o->ents = NULL;
        if (rs_map_put(&c->kv->owned, h, o) != 0) {
            rs_free(o);
            c->oom = 1;
            return;
        }
    }
    if (!o)
        return;
    struct rs_kent *x = (struct rs_kent *)e;
    if (d > 0 && !x->linked) {
        RS_LIST_PUSH(o->ents, x, oprev, onext);
        x->linked = 1;
    } else if (d < 0 && x->linked) {
        RS_LIST_DEL(o->ents, x, oprev, onext);
        x->linked = 0;
    }
    o->n += (uint64_t)(int64_t)d;
    if (o->n == 0) {
        rs_map_del_item(&c->kv->owned, h, o);
        rs_free(o);
    }
}

static void scope_put(struct rs_core *c, const etcd_kv *kv)
{
    struct rs_kvrec r;
    struct rs_scope *unused;
    if (rs_kvcopy_decode(c, kv, &r, &unused) != 0)
        return;
    struct rs_scope *s = rs_scopes_find(c, r.key);
    if (s) {
        if (!s->kv)
            rs_out_log(c, RS_LOG_WARN, "strong scope '%s' in etcd: this node has an eventual "
                       "scope of that name; the strong one is ignored here", s->name);
        return;
    }
    s = rs_scopes_create(c, r.key, ROSTER_SCOPE_STRONG);
    if (!s)
        return;
    s->joined = 1;
    s->kv = rs_kvcopy_new();
    if (!s->kv)
        c->oom = 1;
    rs_out_log(c, RS_LOG_INFO, "strong scope '%s' (created on node '%s')", s->name, r.node);
}

void rs_kvcopy_put(struct rs_core *c, const etcd_kv *kv, int64_t rev, uint32_t why)
{
    enum rs_kvk_kind kind = rs_kvk_kind((const uint8_t *)kv->key, kv->key_len);
    if (kind == RS_KVK_SCOPE) {
        scope_put(c, kv);
        return;
    }
    if (kind != RS_KVK_NAME && kind != RS_KVK_MEMBER)
        return;
    struct rs_kvrec r;
    struct rs_scope *s;
    if (rs_kvcopy_decode(c, kv, &r, &s) != 0)
        return;
    struct rs_kent *old = rs_kvcopy_find(c, s, (const uint8_t *)kv->key, kv->key_len);
    if (r.pid.inc == c->inc && kv->lease != c->kv->lease) {
        /* held under a lease this node gave up: not ours any more, it goes when etcd
         * expires (or this node revokes) that lease. Its holder is told lease_lost, also
         * when another node just handed it the name under that lease (nobody else would
         * tell it); the previous holder of a handoff is told handoff. */
        int same = old && rs_pid_eq(old->rec.pid, r.pid);
        if (old)
            rs_kvcopy_remove(c, s, old,
                             !same && why == ROSTER_REASON_HANDOFF ? ROSTER_REASON_HANDOFF
                                                                   : ROSTER_REASON_LEASE_LOST,
                             rev, 1);
        if (!same)
            rs_kvcopy_tell(c, s, &r,
                        r.kind == RS_KVK_MEMBER ? ROSTER_EV_LEFT : ROSTER_EV_UNREGISTERED,
                        ROSTER_REASON_LEASE_LOST, rev);
        return;
    }
    if (old && !why && (old->rec.pid.inc != r.pid.inc || old->rec.pid.serial != r.pid.serial))
        why = ROSTER_REASON_HANDOFF; /* seen by a reload: only a handoff re-points a name */
    struct rs_kent *e = ent_new(c, kv, &r);
    if (!e)
        return;
    if (old) {
        rs_map_del_item(&s->kv->ents, old->hash, old);
        count(c, s, old, -1);
    }
    if (rs_map_put(&s->kv->ents, e->hash, e) != 0) {
        c->oom = 1;
        rs_free(e);
        rs_free(old);
        return;
    }
    count(c, s, e, 1);
    rs_kvcopy_emit(c, s, NULL, old ? &old->rec : NULL, &e->rec, why, rev);
    if (old && why == ROSTER_REASON_HANDOFF &&
        (old->rec.pid.inc != r.pid.inc || old->rec.pid.serial != r.pid.serial)) {
        rs_kvcopy_tell(c, s, &old->rec, ROSTER_EV_UNREGISTERED, ROSTER_REASON_HANDOFF, rev);
        rs_kvcopy_tell(c, s, &e->rec, ROSTER_EV_REGISTERED, ROSTER_REASON_HANDOFF, rev);
    }
    rs_free(old);
    if (r.pid.inc == c->inc && c->kv->lease && !rs_pids_find(c, r.pid))
        rs_kvwrite_orphan(c, kv, r.pid);
}

void rs_kvcopy_remove(struct rs_core *c, struct rs_scope *s, struct rs_kent *e,
                      uint32_t reason, int64_t rev, int to_holder)
{
    rs_map_del_item(&s->kv->ents, e->hash, e);
    count(c, s, e, -1);
    rs_kvcopy_emit(c, s, NULL, &e->rec, NULL, reason, rev);
    if (to_holder)
        rs_kvcopy_tell(c, s, &e->rec,
                    e->rec.kind == RS_KVK_MEMBER ? ROSTER_EV_LEFT : ROSTER_EV_UNREGISTERED,
                    reason, rev);
    rs_free(e);
}

void rs_kvcopy_del(struct rs_core *c, const etcd_kv *kv, uint32_t reason, int64_t rev)
{
    enum rs_kvk_kind kind = rs_kvk_kind((const uint8_t *)kv->key, kv->key_len);
    if (kind != RS_KVK_NAME && kind != RS_KVK_MEMBER)
        return;
    char sname[RS_SCOPE_MAX + 1];
    int sl = rs_kvk_scope_of((const uint8_t *)kv->key, kv->key_len, sname);
    if (sl < 0)
        return;
    struct rs_scope *s = rs_scopes_find(c, rs_bytes_of(sname, (size_t)sl));
    if (!s || !s->kv)
        return;
    struct rs_kent *e = rs_kvcopy_find(c, s, (const uint8_t *)kv->key, kv->key_len);
    if (!e)
        return;
    if (e->rec.pid.inc == c->inc && reason == ROSTER_REASON_NODE_DOWN) {
        /* etcd expired this node's own lease before the node fenced itself (it was stopped
         * or starved past the TTL): its holders still believe they hold, so tell them */
        rs_kvcopy_remove(c, s, e, ROSTER_REASON_LEASE_LOST, rev, 1);
        return;
    }
    rs_kvcopy_remove(c, s, e, reason, rev, 0);
}
