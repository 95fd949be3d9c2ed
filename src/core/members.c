/* members.c: the table of process groups and memberships per scope. A membership is in the
 * core's (group id, pid) map, its group's list and its pid's list; a group lives exactly as
 * long as it has members, local or remote. Find, put (join or new metadata), remove,
 * iterate; counters of members and of each owner's entries. A table: no events, no
 * replication, no output (the change pipeline, change.c, does those). */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "core/members.h"
#include "core/pids.h"
#include "core/util.h"

struct key_view {
    const uint8_t *p;
    size_t n;
};

struct member_key {
    uint64_t gid;
    const struct rs_proc *proc;
    uint64_t seq;
};

static int dups(const struct rs_scope *s)
{
    return (s->opts & ROSTER_SCOPE_DUPLICATE_MEMBERS) != 0;
}

static int group_eq(const void *item, const void *key)
{
    const struct rs_group *g = item;
    const struct key_view *k = key;
    return rs_bytes_eq(g->key, g->key_len, k->p, k->n);
}

static int member_eq(const void *item, const void *key)
{
    const struct rs_member *m = item;
    const struct member_key *k = key;
    return m->group->id == k->gid && m->proc == k->proc && m->seq == k->seq;
}

static uint64_t member_hash(const struct rs_core *c, uint64_t gid, const struct rs_proc *p,
                            uint64_t seq)
{
    struct rs_pid pid = rs_pids_of(c, p);
    uint64_t h = rs_hash_u64(c->seed ^ (gid * 0x9e3779b97f4a7c15ull), pid.serial ^ pid.inc);
    return seq ? rs_hash_u64(h, seq) : h;
}

struct rs_group *rs_members_group(const struct rs_core *c, const struct rs_scope *s,
                                const uint8_t *key, size_t len)
{
    struct key_view k = {key, len};
    return rs_map_get(&s->groups, rs_hash(c->seed, key, len), &k, group_eq);
}

static struct rs_member *member_find(const struct rs_core *c, const struct rs_group *g,
                                     const struct rs_proc *p)
{
    if (dups(g->scope)) {
        /* several entries: the oldest (walks the pid's memberships, not the group) */
        struct rs_member *best = NULL;
        for (struct rs_member *m = p->members; m; m = m->pnext)
            if (m->group == g && (!best || m->seq < best->seq))
                best = m;
        return best;
    }
    struct member_key k = {g->id, p, 0};
    return rs_map_get(&c->members, member_hash(c, g->id, p, 0), &k, member_eq);
}

struct rs_member *rs_members_find(const struct rs_core *c, const struct rs_group *g,
                                   const struct rs_proc *p)
{
    return member_find(c, g, p);
}

struct rs_member *rs_members_find_meta(const struct rs_core *c, const struct rs_group *g,
                                       const struct rs_proc *p, struct rs_bytes meta)
{
    if (dups(g->scope)) {
        struct rs_member *best = NULL;
        for (struct rs_member *m = p->members; m; m = m->pnext)
            if (m->group == g && rs_bytes_eq(m->meta, m->meta_len, meta.ptr, meta.len) &&
                (!best || m->seq < best->seq))
                best = m;
        if (best)
            return best;
    }
    return member_find(c, g, p);
}

static void group_delete(struct rs_core *c, struct rs_group *g)
{
    int gone = rs_map_del_item(&g->scope->groups, g->hash, g);
    RS_ASSERT(gone == 0 && c->n_groups > 0);
    c->n_groups--;
    rs_free(g);
}

/* The entries counter of m's owner: its client's (local pid) or its node's (remote). */
static uint64_t *owner_entries(const struct rs_member *m)
{
    return m->proc->client ? &m->proc->client->n_entries : &m->proc->node->n_entries;
}

void rs_members_remove(struct rs_core *c, struct rs_member *m)
{
    struct rs_group *g = m->group;
    struct rs_proc *p = m->proc;
    struct rs_scope *s = g->scope;
    int gone = rs_map_del_item(&c->members, m->hash, m);
    RS_ASSERT(gone == 0 && g->members != NULL && p->members != NULL);
    RS_LIST_DEL(g->members, m, gprev, gnext);
    RS_LIST_DEL(p->members, m, pprev, pnext);
    uint64_t *owner = owner_entries(m);
    RS_ASSERT(g->n_members > 0 && s->n_members > 0 && c->n_members > 0 && *owner > 0);
    g->n_members--;
    s->n_members--;
    c->n_members--;
    (*owner)--;
    RS_ASSERT(!p->client || s->n_local > 0);
    s->n_local -= p->client != NULL;
}

void rs_members_free(struct rs_core *c, struct rs_member *m)
{
    struct rs_group *g = m->group;
    rs_free(m->meta);
    rs_free(m);
    if (g->n_members == 0)
        group_delete(c, g);
}

/* group_new adds empty group key (hash h) to s; NULL when out of memory. */
static struct rs_group *group_new(struct rs_core *c, struct rs_scope *s, struct rs_bytes key,
                                  uint64_t h)
{
    struct rs_group *g = rs_core_alloc(c, sizeof *g + key.len);
    if (!g)
        return NULL;
    memset(g, 0, sizeof *g);
    g->hash = h;
    g->id = c->next_group_id++;
    g->scope = s;
    g->key_len = key.len;
    memcpy(g->key, key.ptr, key.len);
    if (rs_map_put(&s->groups, h, g) != 0) {
        c->oom = 1;
        rs_free(g);
        return NULL;
    }
    c->n_groups++;
    return g;
}

/* member_new adds p to g (indexed, not yet on the lists); NULL when out of memory. */
static struct rs_member *member_new(struct rs_core *c, struct rs_group *g, struct rs_proc *p,
                                    struct rs_bytes meta)
{
    int failed;
    struct rs_member *m = rs_core_alloc(c, sizeof *m);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->meta = rs_core_dup(c, meta, &failed);
    if (failed) {
        rs_free(m);
        return NULL;
    }
    m->meta_len = meta.len;
    m->group = g;
    m->proc = p;
    m->seq = dups(g->scope) ? ++c->next_member_seq : 0;
    m->hash = member_hash(c, g->id, p, m->seq);
    if (rs_map_put(&c->members, m->hash, m) != 0) {
        c->oom = 1;
        rs_free(m->meta);
        rs_free(m);
        return NULL;
    }
    return m;
}

/* member_update gives existing membership m new metadata (out: what changed). */
static int member_update(struct rs_core *c, struct rs_member *m, struct rs_bytes meta,
                         struct rs_members_put *out)
{
    m->stale = 0;
    out->what = RS_MEMBERS_SAME;
    if (rs_bytes_eq(m->meta, m->meta_len, meta.ptr, meta.len))
        return 0; /* a snapshot confirming what we hold, or a re-join that changes nothing */
    int failed;
    uint8_t *nm = rs_core_dup(c, meta, &failed);
    if (failed)
        return -1;
    out->old = rs_bytes_of(m->meta, m->meta_len);
    m->meta = nm;
    m->meta_len = meta.len;
    out->what = RS_MEMBERS_UPDATED;
    return 0;
}

int rs_members_put(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                   struct rs_bytes key, struct rs_bytes meta, struct rs_members_put *out)
{
    uint64_t h = rs_hash(c->seed, key.ptr, key.len);
    struct key_view k = {key.ptr, key.len};
    struct rs_group *g = rs_map_get(&s->groups, h, &k, group_eq);
    /* duplicate members: every put is an entry of its own */
    struct rs_member *m = g && !dups(s) ? member_find(c, g, p) : NULL;
    out->member = m;
    out->old = rs_bytes_of(NULL, 0);
    if (m)
        return member_update(c, m, meta, out);
    int created = !g;
    if (created && !(g = group_new(c, s, key, h)))
        return -1;
    if (!(m = member_new(c, g, p, meta))) {
        if (created)
            group_delete(c, g);
        return -1;
    }
    RS_LIST_PUSH(g->members, m, gprev, gnext);
    RS_LIST_PUSH(p->members, m, pprev, pnext);
    g->n_members++;
    s->n_members++;
    c->n_members++;
    (*owner_entries(m))++;
    s->n_local += p->client != NULL;
    out->member = m;
    out->what = RS_MEMBERS_JOINED;
    return 0;
}

/* The one order of members on every node (docs/API.md): by pid (incarnation, then serial),
 * ties (several entries of one pid) by join order, then metadata bytes. Not "local first": two nodes must
 * answer the same query with the same bytes. Sorted as (pid, member) pairs so the compare
 * needs no core (a local pid's incarnation is the core's). */
struct member_key_sort {
    uint64_t inc, serial;
    struct rs_member *m;
};

static int cmp_member(const void *a, const void *b)
{
    const struct member_key_sort *x = a, *y = b;
    if (x->inc != y->inc)
        return x->inc < y->inc ? -1 : 1;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    /* a pid's entries (ROSTER_SCOPE_DUPLICATE_MEMBERS), oldest first: every node numbers
     * them in the order they were joined */
    if (x->m->seq != y->m->seq)
        return x->m->seq < y->m->seq ? -1 : 1;
    return rs_bytes_cmp(x->m->meta, x->m->meta_len, y->m->meta, y->m->meta_len);
}

struct rs_member *rs_members_match_stale(const struct rs_group *g, const struct rs_proc *p,
                                         struct rs_bytes meta)
{
    uint64_t after = 0;
    for (const struct rs_member *m = p->members; m; m = m->pnext)
        if (m->group == g && !m->stale && m->seq > after)
            after = m->seq;
    struct rs_member *best = NULL;
    for (struct rs_member *m = p->members; m; m = m->pnext)
        if (m->group == g && m->stale && m->seq > after &&
            rs_bytes_eq(m->meta, m->meta_len, meta.ptr, meta.len) && (!best || m->seq < best->seq))
            best = m;
    return best;
}

int rs_members_sorted(struct rs_core *c, const struct rs_group *g,
                             struct rs_member ***out)
{
    struct rs_member **v = rs_core_alloc(c, (g->n_members + 1) * sizeof *v);
    struct member_key_sort *k = rs_core_alloc(c, (g->n_members + 1) * sizeof *k);
    if (!v || !k) {
        rs_free(v);
        rs_free(k);
        return -1;
    }
    size_t n = 0;
    for (struct rs_member *m = g->members; m; m = m->gnext, n++) {
        struct rs_pid pid = rs_pids_of(c, m->proc);
        k[n].inc = pid.inc;
        k[n].serial = pid.serial;
        k[n].m = m;
    }
    qsort(k, n, sizeof *k, cmp_member);
    for (size_t i = 0; i < n; i++)
        v[i] = k[i].m;
    rs_free(k);
    *out = v;
    return 0;
}

static int cmp_group(const void *a, const void *b)
{
    const struct rs_group *x = *(const struct rs_group *const *)a;
    const struct rs_group *y = *(const struct rs_group *const *)b;
    return rs_bytes_cmp(x->key, x->key_len, y->key, y->key_len);
}

void rs_members_sort_groups(struct rs_group **v, size_t n, size_t limit)
{
    rs_sort_head((void **)v, n, limit, cmp_group);
}

int rs_members_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                       size_t pn, int exact, struct rs_group ***out, size_t *count)
{
    size_t n = 0;
    struct rs_group **v = rs_core_alloc(c, (exact ? 1 : s->groups.n + 1) * sizeof *v);
    if (!v)
        return -1;
    if (exact) {
        struct rs_group *g = rs_members_group(c, s, pre, pn);
        if (g)
            v[n++] = g;
    } else {
        for (size_t i = 0; i < s->groups.cap; i++) {
            struct rs_group *g = s->groups.slots[i].item;
            if (g && rs_is_prefix(g->key, g->key_len, pre, pn))
                v[n++] = g;
        }
        rs_members_sort_groups(v, n, 0);
    }
    *out = v;
    *count = n;
    return 0;
}
