/* groups.c: process groups per scope: JOIN (add or update metadata), LEAVE, MEMBERS,
 * IS_MEMBER, the GROUPS listing, removal of a membership (explicit or by the death of its
 * pid), and rs_groups_put for local and replicated joins. A membership is in the core's
 * (group id, pid) map, its group's list and its pid's list; a group lives exactly as long
 * as it has members, local or remote. Local writes are replicated (repl.c). */
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "cluster.h"
#include "events.h"
#include "hlc.h"
#include "output.h"
#include "pids.h"
#include "registry.h"
#include "repl.h"
#include "scope.h"
#include "util.h"

struct key_view {
    const uint8_t *p;
    size_t n;
};

struct member_key {
    uint64_t gid;
    const struct rs_proc *proc;
};

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
    return m->group->id == k->gid && m->proc == k->proc;
}

static uint64_t member_hash(const struct rs_core *c, uint64_t gid, const struct rs_proc *p)
{
    struct rs_pid pid = rs_pids_of(c, p);
    return rs_hash_u64(c->seed ^ (gid * 0x9e3779b97f4a7c15ull), pid.serial ^ pid.inc);
}

struct rs_group *rs_groups_find(const struct rs_core *c, const struct rs_scope *s,
                                const uint8_t *key, size_t len)
{
    struct key_view k = {key, len};
    return rs_map_get(&s->groups, rs_hash(c->seed, key, len), &k, group_eq);
}

static struct rs_member *member_find(const struct rs_core *c, const struct rs_group *g,
                                     const struct rs_proc *p)
{
    struct member_key k = {g->id, p};
    return rs_map_get(&c->members, member_hash(c, g->id, p), &k, member_eq);
}

struct rs_member *rs_groups_member(const struct rs_core *c, const struct rs_group *g,
                                   const struct rs_proc *p)
{
    return member_find(c, g, p);
}

static void group_delete(struct rs_core *c, struct rs_group *g)
{
    rs_map_del_item(&g->scope->groups, g->hash, g);
    c->n_groups--;
    rs_free(g);
}

void rs_groups_remove_member(struct rs_core *c, struct rs_member *m, uint32_t reason)
{
    struct rs_group *g = m->group;
    struct rs_proc *p = m->proc;
    struct rs_scope *s = g->scope;
    rs_map_del_item(&c->members, m->hash, m);
    RS_LIST_DEL(g->members, m, gprev, gnext);
    RS_LIST_DEL(p->members, m, pprev, pnext);
    g->n_members--;
    s->n_members--;
    c->n_members--;
    if (p->client)
        p->client->n_entries--;
    else
        p->node->n_entries--;
    if (s->subs)
        rs_events_emit(c, s, 1, ROSTER_EV_LEFT, reason, rs_pids_of(c, p),
                       rs_bytes_of(g->key, g->key_len), rs_bytes_of(m->meta, m->meta_len),
                       rs_bytes_of(NULL, 0));
    rs_free(m->meta);
    rs_free(m);
    if (g->n_members == 0)
        group_delete(c, g);
}

int rs_groups_put(struct rs_core *c, struct rs_scope *s, struct rs_proc *p, struct rs_bytes key,
                  struct rs_bytes meta)
{
    uint64_t h = rs_hash(c->seed, key.ptr, key.len);
    struct key_view k = {key.ptr, key.len};
    struct rs_group *g = rs_map_get(&s->groups, h, &k, group_eq);
    struct rs_member *m = g ? member_find(c, g, p) : NULL;
    int failed;
    if (m) {
        m->stale = 0;
        if (p->node && rs_bytes_eq(m->meta, m->meta_len, meta.ptr, meta.len))
            return 0; /* a snapshot confirming what we hold */
        uint8_t *nm = rs_core_dup(c, meta, &failed);
        if (failed)
            return -1;
        uint8_t *old = m->meta;
        uint32_t old_len = m->meta_len;
        m->meta = nm;
        m->meta_len = meta.len;
        if (s->subs)
            rs_events_emit(c, s, 1, ROSTER_EV_MEMBER_UPDATED, ROSTER_REASON_NONE,
                           rs_pids_of(c, p), key, meta, rs_bytes_of(old, old_len));
        rs_free(old);
        return 0;
    }
    int created = 0;
    if (!g) {
        g = rs_core_alloc(c, sizeof *g + key.len);
        if (!g)
            return -1;
        memset(g, 0, sizeof *g);
        g->hash = h;
        g->id = c->next_group_id++;
        g->scope = s;
        g->key_len = key.len;
        memcpy(g->key, key.ptr, key.len);
        if (rs_map_put(&s->groups, h, g) != 0) {
            c->oom = 1;
            rs_free(g);
            return -1;
        }
        c->n_groups++;
        created = 1;
    }
    m = rs_core_alloc(c, sizeof *m);
    if (m) {
        memset(m, 0, sizeof *m);
        m->meta = rs_core_dup(c, meta, &failed);
        if (failed) {
            rs_free(m);
            m = NULL;
        }
    }
    if (m) {
        m->meta_len = meta.len;
        m->group = g;
        m->proc = p;
        m->hash = member_hash(c, g->id, p);
        if (rs_map_put(&c->members, m->hash, m) != 0) {
            c->oom = 1;
            rs_free(m->meta);
            rs_free(m);
            m = NULL;
        }
    }
    if (!m) {
        if (created)
            group_delete(c, g);
        return -1;
    }
    RS_LIST_PUSH(g->members, m, gprev, gnext);
    RS_LIST_PUSH(p->members, m, pprev, pnext);
    g->n_members++;
    s->n_members++;
    c->n_members++;
    if (p->client)
        p->client->n_entries++;
    else
        p->node->n_entries++;
    if (s->subs)
        rs_events_emit(c, s, 1, ROSTER_EV_JOINED, ROSTER_REASON_NONE, rs_pids_of(c, p), key,
                       meta, rs_bytes_of(NULL, 0));
    return 0;
}

void rs_groups_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (rs_check_entry(c, cl, req, "group name") != 0)
        return;
    struct rs_scope *s = rs_scope_joined_of(c, cl, req);
    if (!s)
        return;
    struct rs_proc *p = rs_pids_owned(c, cl, req);
    if (!p)
        return;
    struct rs_group *g = rs_groups_find(c, s, req->key.ptr, req->key.len);
    if (!(g && member_find(c, g, p)) && cl->n_entries >= c->lim.entries_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "client holds %llu names and memberships (limit entries_per_client)",
                     (unsigned long long)cl->n_entries);
        return;
    }
    /* The reply goes before the event, as a subscriber on the same connection expects (out
     * of memory fails the whole apply: the node stops). */
    rs_out_ok(c, cl, req);
    if (rs_groups_put(c, s, p, req->key, req->meta) != 0)
        return;
    rs_repl_op(c, s, RS_POP_JOIN, ROSTER_REASON_NONE, rs_hlc_stamp(c), rs_pids_of(c, p),
               req->key, req->meta);
}

void rs_groups_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    struct rs_proc *p = rs_pids_owned(c, cl, req);
    if (!p)
        return;
    struct rs_group *g = rs_groups_find(c, s, req->key.ptr, req->key.len);
    struct rs_member *m = g ? member_find(c, g, p) : NULL;
    if (!m) {
        char kb[80], pb[ROSTER_PID_STRLEN];
        rs_out_error(c, cl, req, ROSTER_ENOTMEMBER, "pid %s is not a member of group '%s'",
                     rs_fmt_pid(pb, req->pid),
                     rs_fmt_key(kb, sizeof kb, req->key.ptr, req->key.len));
        return;
    }
    /* Reply, replicate, then the LEFT events: the order of UNREGISTER. */
    rs_out_ok(c, cl, req);
    rs_repl_op(c, s, RS_POP_LEAVE, ROSTER_REASON_NORMAL, 0, rs_pids_of(c, p), req->key,
               rs_bytes_of(NULL, 0));
    rs_groups_remove_member(c, m, ROSTER_REASON_NORMAL);
}

static int cmp_member(const void *a, const void *b)
{
    const struct rs_member *x = *(const struct rs_member *const *)a;
    const struct rs_member *y = *(const struct rs_member *const *)b;
    /* Local pids first (no node), then by incarnation and serial. */
    uint64_t xi = x->proc->node ? x->proc->node->inc : 0, yi = y->proc->node ? y->proc->node->inc : 0;
    int r = (!!x->proc->node > !!y->proc->node) - (!!x->proc->node < !!y->proc->node);
    if (!r)
        r = (xi > yi) - (xi < yi);
    return r ? r : (x->proc->serial > y->proc->serial) - (x->proc->serial < y->proc->serial);
}

int rs_groups_sorted_members(struct rs_core *c, const struct rs_group *g,
                             struct rs_member ***out)
{
    struct rs_member **v = rs_core_alloc(c, (g->n_members + 1) * sizeof *v);
    if (!v)
        return -1;
    size_t n = 0;
    for (struct rs_member *m = g->members; m; m = m->gnext)
        v[n++] = m;
    qsort(v, n, sizeof *v, cmp_member);
    *out = v;
    return 0;
}

void rs_groups_on_members(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    struct rs_group *g = rs_groups_find(c, s, req->key.ptr, req->key.len);
    if (!g) {
        rs_out_count(c, cl, req, 0);
        return;
    }
    struct rs_member **v;
    if (rs_groups_sorted_members(c, g, &v) != 0)
        return;
    /* RS_OPT_LOCAL: only pids of this node (sorted first). */
    size_t n = (size_t)g->n_members;
    if (req->opts & RS_OPT_LOCAL)
        for (n = 0; n < g->n_members && !v[n]->proc->node; n++)
            ;
    for (size_t i = 0; i < n && !cl->closing; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        it.pid = rs_pids_of(c, v[i]->proc);
        it.node = rs_cluster_name_of(c, it.pid.inc);
        it.key = rs_bytes_of(g->key, g->key_len);
        it.meta = rs_bytes_of(v[i]->meta, v[i]->meta_len);
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, n);
    rs_free(v);
}

void rs_groups_on_is_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    struct rs_group *g = rs_groups_find(c, s, req->key.ptr, req->key.len);
    struct rs_proc *p = rs_pids_any(c, req->pid);
    rs_out_count(c, cl, req, (g && p && member_find(c, g, p)) ? 1 : 0);
}

static int cmp_group(const void *a, const void *b)
{
    const struct rs_group *x = *(const struct rs_group *const *)a;
    const struct rs_group *y = *(const struct rs_group *const *)b;
    return rs_bytes_cmp(x->key, x->key_len, y->key, y->key_len);
}

static int cmp_member_group(const void *a, const void *b)
{
    const struct rs_member *x = *(const struct rs_member *const *)a;
    const struct rs_member *y = *(const struct rs_member *const *)b;
    return rs_bytes_cmp(x->group->key, x->group->key_len, y->group->key, y->group->key_len);
}

int rs_groups_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                       size_t pn, int exact, struct rs_group ***out, size_t *count)
{
    size_t n = 0;
    struct rs_group **v = rs_core_alloc(c, (exact ? 1 : s->groups.n + 1) * sizeof *v);
    if (!v)
        return -1;
    if (exact) {
        struct rs_group *g = rs_groups_find(c, s, pre, pn);
        if (g)
            v[n++] = g;
    } else {
        for (size_t i = 0; i < s->groups.cap; i++) {
            struct rs_group *g = s->groups.slots[i].item;
            if (g && rs_is_prefix(g->key, g->key_len, pre, pn))
                v[n++] = g;
        }
        rs_sort_head((void **)v, n, 0, cmp_group);
    }
    *out = v;
    *count = n;
    return 0;
}

/* GROUPS filtered by pid: walk the pid's memberships, not the scope. */
static void groups_of_pid(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                          const struct rs_scope *s, const struct rs_proc *p)
{
    size_t cap = 16, n = 0;
    struct rs_member **v = rs_core_alloc(c, cap * sizeof *v);
    if (!v)
        return;
    for (struct rs_member *m = p->members; m; m = m->pnext) {
        if (m->group->scope != s ||
            !rs_is_prefix(m->group->key, m->group->key_len, req->key.ptr, req->key.len))
            continue;
        if (n == cap) {
            struct rs_member **w = rs_realloc(v, 2 * cap * sizeof *v);
            if (!w) {
                c->oom = 1;
                rs_free(v);
                return;
            }
            v = w;
            cap *= 2;
        }
        v[n++] = m;
    }
    size_t limit = req->arg && req->arg < n ? (size_t)req->arg : n;
    rs_sort_head((void **)v, n, limit, cmp_member_group);
    for (size_t i = 0; i < limit && !cl->closing; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        it.arg = v[i]->group->n_members;
        it.pid = rs_pids_of(c, p);
        it.node = rs_cluster_name_of(c, it.pid.inc);
        it.key = rs_bytes_of(v[i]->group->key, v[i]->group->key_len);
        it.meta = rs_bytes_of(v[i]->meta, v[i]->meta_len);
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, limit);
    rs_free(v);
}

void rs_groups_on_groups(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (req->pid.inc || req->pid.serial) {
        const struct rs_proc *p = rs_pids_any(c, req->pid);
        if (p)
            groups_of_pid(c, cl, req, s, p);
        else
            rs_out_count(c, cl, req, 0);
        return;
    }
    size_t n = 0;
    struct rs_group **v = rs_core_alloc(c, (s->groups.n + 1) * sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < s->groups.cap; i++) {
        struct rs_group *g = s->groups.slots[i].item;
        if (g && rs_is_prefix(g->key, g->key_len, req->key.ptr, req->key.len))
            v[n++] = g;
    }
    size_t limit = req->arg && req->arg < n ? (size_t)req->arg : n;
    rs_sort_head((void **)v, n, limit, cmp_group);
    for (size_t i = 0; i < limit && !cl->closing; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        it.arg = v[i]->n_members;
        it.node = rs_bytes_node(c);
        it.key = rs_bytes_of(v[i]->key, v[i]->key_len);
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, limit);
    rs_free(v);
}
