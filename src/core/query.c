/* query.c: the metadata queries of eventual scopes (query.h). A query names what (names or
 * memberships), a key or a prefix, optionally one pid, one node or only this node's pids,
 * and up to RS_QUERY_CONDS_MAX conditions on the metadata (wire/match.c). The tables are walked
 * in place: the scope's map for a prefix, one entry for an exact key, the pid's own list
 * when a pid is named; only pointers to the matches are kept, to sort them into the one
 * order of every listing (names by name; members by group, then pid, then metadata), and a
 * count keeps nothing. UNMATCH walks only the caller's pids, replies with the number it
 * removes, then removes each through the change pipeline (one event and one replication
 * each, as an UNREGISTER or LEAVE would). */
#include <stdlib.h>
#include <string.h>

#include "core/change.h"
#include "core/claims.h"
#include "wire/match.h"
#include "core/members.h"
#include "core/names.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/query.h"
#include "core/scope.h"
#include "core/strong.h"
#include "core/util.h"

struct q {
    struct rs_scope *s;
    uint32_t opts;
    struct rs_bytes key;
    int prefix;
    int local;
    const struct rs_proc *pid; /* only this pid's entries */
    int none;                  /* a pid or node named that holds nothing here */
    int node_set;              /* only entries of node (NULL: this node's) */
    const struct rs_node *node;
    struct rs_qfilter f;
};

/* parse fills q from a request's fields; -1 after replying with the error. */
static int parse(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                 uint32_t opts, struct rs_pid pid, struct rs_bytes node, struct rs_bytes key,
                 struct rs_bytes filter, struct q *q)
{
    memset(q, 0, sizeof *q);
    const char *why = NULL;
    if (rs_qfilter_decode(filter.ptr, filter.len, &q->f, &why) != 0) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "bad metadata filter: %s", why);
        return -1;
    }
    q->opts = opts;
    q->key = key;
    q->prefix = (opts & RS_QF_PREFIX) != 0;
    q->local = (opts & RS_QF_LOCAL) != 0;
    if (!q->prefix && key.len == 0) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "empty name or group (use a prefix for all)");
        return -1;
    }
    if (pid.inc || pid.serial) {
        q->pid = rs_pids_any(c, pid);
        q->none = !q->pid;
    }
    q->s = rs_scope_of(c, cl, req);
    if (!q->s)
        return -1;
    /* a strong scope's holders name their node in etcd's records (kvread.c compares the
     * names): only an eventual scope needs the node among this node's peers */
    if (node.len && !q->s->kv) {
        q->node_set = 1;
        if (!rs_bytes_eq(node.ptr, node.len, (const uint8_t *)c->node, c->node_len) &&
            !(q->node = rs_nodes_named(c, node))) {
            char kb[80];
            rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "node '%s' is not known",
                         rs_fmt_key(kb, sizeof kb, node.ptr, node.len));
            return -1;
        }
    }
    return 0;
}

static int key_ok(const struct q *q, const uint8_t *k, size_t n)
{
    return q->prefix ? rs_is_prefix(k, n, q->key.ptr, q->key.len)
                     : rs_bytes_eq(k, n, q->key.ptr, q->key.len);
}

static int proc_ok(const struct q *q, const struct rs_proc *p)
{
    return (!q->pid || p == q->pid) && (!q->local || !p->node) &&
           (!q->node_set || p->node == q->node);
}

static int name_ok(const struct q *q, const struct rs_name *x)
{
    return key_ok(q, x->key, x->key_len) && proc_ok(q, x->proc) &&
           rs_filter_match(&q->f, x->meta, x->meta_len);
}

static int member_ok(const struct q *q, const struct rs_member *m)
{
    return key_ok(q, m->group->key, m->group->key_len) && proc_ok(q, m->proc) &&
           rs_filter_match(&q->f, m->meta, m->meta_len);
}

/* A growing array of pointers to matches. */
struct vec {
    void **v;
    size_t n, cap;
};

static int push(struct rs_core *c, struct vec *x, void *p)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        void **w = rs_realloc(x->v, cap * sizeof *w);
        if (!w) {
            c->oom = 1;
            return -1;
        }
        x->v = w;
        x->cap = cap;
    }
    x->v[x->n++] = p;
    return 0;
}

/* names: the matching visible names into out (NULL: only counted); the count or -1. */
static long names_walk(struct rs_core *c, const struct q *q, struct vec *out)
{
    long n = 0;
    if (q->none)
        return 0;
    if (q->pid) {
        for (struct rs_name *x = q->pid->names; x; x = x->next)
            if (x->scope == q->s && name_ok(q, x) && rs_claims_visible(c, x)) {
                if (out && push(c, out, x) != 0)
                    return -1;
                n++;
            }
        return n;
    }
    if (!q->prefix) {
        struct rs_name *x = rs_names_find(c, q->s, q->key.ptr, q->key.len);
        if (!x || !name_ok(q, x))
            return 0;
        return out && push(c, out, x) != 0 ? -1 : 1;
    }
    for (size_t i = 0; i < q->s->names.cap; i++) {
        struct rs_name *x = q->s->names.slots[i].item;
        if (x && name_ok(q, x)) {
            if (out && push(c, out, x) != 0)
                return -1;
            n++;
        }
    }
    return n;
}

/* members of one group that match: into out (NULL: counted only). */
static long group_walk(struct rs_core *c, const struct q *q, const struct rs_group *g,
                       struct vec *out)
{
    long n = 0;
    if (!key_ok(q, g->key, g->key_len))
        return 0;
    for (struct rs_member *m = g->members; m; m = m->gnext)
        if (proc_ok(q, m->proc) && rs_filter_match(&q->f, m->meta, m->meta_len)) {
            if (out && push(c, out, m) != 0)
                return -1;
            n++;
        }
    return n;
}

/* members: matching memberships into out. Returns 0 or -1. */
static int members_walk(struct rs_core *c, const struct q *q, struct vec *out)
{
    if (q->none)
        return 0;
    if (q->pid) {
        for (struct rs_member *m = q->pid->members; m; m = m->pnext)
            if (m->group->scope == q->s && member_ok(q, m) && push(c, out, m) != 0)
                return -1;
        return 0;
    }
    if (!q->prefix) {
        const struct rs_group *g = rs_members_group(c, q->s, q->key.ptr, q->key.len);
        return g && group_walk(c, q, g, out) < 0 ? -1 : 0;
    }
    for (size_t i = 0; i < q->s->groups.cap; i++) {
        const struct rs_group *g = q->s->groups.slots[i].item;
        if (g && group_walk(c, q, g, out) < 0)
            return -1;
    }
    return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return (x > y) - (x < y);
}

/* members_count counts matching memberships and the groups holding one, keeping nothing
 * but a named pid's own (short) list. Returns 0 or -1. */
static int members_count(struct rs_core *c, const struct q *q, uint64_t *members,
                         uint64_t *groups)
{
    *members = *groups = 0;
    if (q->none)
        return 0;
    if (q->pid) {
        struct vec v = {0};
        if (members_walk(c, q, &v) != 0) {
            rs_free(v.v);
            return -1;
        }
        /* a pid may hold several entries of one group: count distinct groups */
        for (size_t i = 0; i < v.n; i++)
            v.v[i] = ((struct rs_member *)v.v[i])->group;
        if (v.n)
            qsort(v.v, v.n, sizeof *v.v, cmp_ptr);
        for (size_t i = 0; i < v.n; i++)
            *groups += i == 0 || v.v[i] != v.v[i - 1];
        *members = v.n;
        rs_free(v.v);
        return 0;
    }
    if (!q->prefix) {
        const struct rs_group *g = rs_members_group(c, q->s, q->key.ptr, q->key.len);
        long k = g ? group_walk(c, q, g, NULL) : 0;
        *members = (uint64_t)k;
        *groups = k > 0;
        return 0;
    }
    for (size_t i = 0; i < q->s->groups.cap; i++) {
        const struct rs_group *g = q->s->groups.slots[i].item;
        long k = g ? group_walk(c, q, g, NULL) : 0;
        *members += (uint64_t)k;
        *groups += k > 0;
    }
    return 0;
}

/* The order of every member listing: group, pid (incarnation, serial), metadata. */
struct msort {
    uint64_t inc, serial;
    const struct rs_member *m;
};

static int cmp_msort(const void *a, const void *b)
{
    const struct msort *x = a, *y = b;
    int r = rs_bytes_cmp(x->m->group->key, x->m->group->key_len, y->m->group->key,
                         y->m->group->key_len);
    if (r)
        return r;
    if (x->inc != y->inc)
        return x->inc < y->inc ? -1 : 1;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    return rs_bytes_cmp(x->m->meta, x->m->meta_len, y->m->meta, y->m->meta_len);
}

static void item(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                 const struct rs_proc *p, const uint8_t *key, size_t kl, const uint8_t *meta,
                 size_t ml)
{
    struct rs_msg it;
    memset(&it, 0, sizeof it);
    it.pid = rs_pids_of(c, p);
    rs_msg_query_item_node_set(&it, rs_nodes_name_of(c, it.pid.inc));
    rs_msg_query_item_key_set(&it, rs_bytes_of(key, kl));
    rs_msg_query_item_meta_set(&it, rs_bytes_of(meta, ml));
    rs_out_item(c, cl, req, &it);
}

void rs_query_on_query(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint32_t opts = rs_msg_query_opts(req);
    uint32_t what = opts & (RS_QW_NAMES | RS_QW_MEMBERS);
    if (what != RS_QW_NAMES && what != RS_QW_MEMBERS) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "a query lists names or members, not both");
        return;
    }
    struct q q;
    if (parse(c, cl, req, opts, rs_msg_query_pid(req), rs_msg_query_node(req),
              rs_msg_query_key(req), rs_msg_query_filter(req), &q) != 0)
        return;
    if (q.s->kv) {
        rs_strong_on_query(c, cl, req, q.s);
        return;
    }
    uint64_t max = rs_msg_query_limit(req);
    struct vec v = {0};
    size_t sent = 0;
    if (what == RS_QW_NAMES) {
        if (names_walk(c, &q, &v) < 0)
            goto out;
        size_t limit = max && max < v.n ? (size_t)max : v.n;
        if (v.n) /* v.v is NULL when nothing matched */
            rs_names_sort((struct rs_name **)v.v, v.n, limit);
        for (; sent < limit && !cl->closing; sent++) {
            const struct rs_name *x = v.v[sent];
            item(c, cl, req, x->proc, x->key, x->key_len, x->meta, x->meta_len);
        }
    } else {
        if (members_walk(c, &q, &v) != 0)
            goto out;
        struct msort *k = rs_core_alloc(c, (v.n + 1) * sizeof *k);
        if (!k)
            goto out;
        for (size_t i = 0; i < v.n; i++) {
            const struct rs_member *m = v.v[i];
            struct rs_pid pid = rs_pids_of(c, m->proc);
            k[i] = (struct msort){pid.inc, pid.serial, m};
        }
        qsort(k, v.n, sizeof *k, cmp_msort);
        size_t limit = max && max < v.n ? (size_t)max : v.n;
        for (; sent < limit && !cl->closing; sent++) {
            const struct rs_member *m = k[sent].m;
            item(c, cl, req, m->proc, m->group->key, m->group->key_len, m->meta, m->meta_len);
        }
        rs_free(k);
    }
    rs_out_count(c, cl, req, sent);
out:
    rs_free(v.v);
}

void rs_query_on_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint32_t opts = rs_msg_query_count_opts(req);
    struct q q;
    if (parse(c, cl, req, opts, rs_msg_query_count_pid(req), rs_msg_query_count_node(req),
              rs_msg_query_count_key(req), rs_msg_query_count_filter(req), &q) != 0)
        return;
    if (q.s->kv) {
        rs_strong_on_query(c, cl, req, q.s);
        return;
    }
    uint64_t names = 0, groups = 0, members = 0;
    if (opts & RS_QW_NAMES) {
        long n = names_walk(c, &q, NULL);
        if (n < 0)
            return;
        names = (uint64_t)n;
    }
    if ((opts & RS_QW_MEMBERS) && members_count(c, &q, &members, &groups) != 0)
        return;
    static const char *const what[3] = {"names", "groups", "members"};
    uint64_t val[3] = {names, groups, members};
    for (int i = 0; i < 3; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        rs_msg_query_count_item_value_set(&it, val[i]);
        rs_msg_query_count_item_counter_set(&it, rs_bytes_str(what[i]));
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, 3);
}

void rs_query_on_unmatch(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint32_t opts = rs_msg_unmatch_opts(req);
    uint32_t what = opts & (RS_QW_NAMES | RS_QW_MEMBERS);
    if (what != RS_QW_NAMES && what != RS_QW_MEMBERS) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "remove names or memberships, not both");
        return;
    }
    struct q q;
    struct rs_pid pid = rs_msg_unmatch_pid(req);
    if (parse(c, cl, req, opts & ~(uint32_t)(RS_QF_LOCAL | RS_QF_STALE), pid,
              rs_bytes_of(NULL, 0), rs_msg_unmatch_key(req), rs_msg_unmatch_filter(req),
              &q) != 0)
        return;
    if (q.s->kv) {
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "scope '%s' is strong: remove its entries one by one (unregister, leave)",
                     q.s->name);
        return;
    }
    char pb[ROSTER_PID_STRLEN];
    if ((pid.inc || pid.serial) && (!q.pid || !q.pid->client)) {
        rs_out_error(c, cl, req, ROSTER_ENOPROC, "pid %s is not alive on this node",
                     rs_fmt_pid(pb, pid));
        return;
    }
    if (q.pid && q.pid->client != cl && q.pid->client->uid != cl->uid) {
        rs_out_error(c, cl, req, ROSTER_ENOTOWNER,
                     "pid %s belongs to a client of another user", rs_fmt_pid(pb, pid));
        return;
    }
    /* the caller's own pids (or the one named): collect first, reply, then remove */
    struct vec v = {0};
    for (struct rs_proc *p = q.pid ? (struct rs_proc *)q.pid : cl->procs; p;
         p = q.pid ? NULL : p->next) {
        if (what == RS_QW_NAMES) {
            for (struct rs_name *x = p->names; x; x = x->next)
                if (x->scope == q.s && name_ok(&q, x) && rs_claims_visible(c, x) &&
                    push(c, &v, x) != 0)
                    goto out;
        } else {
            for (struct rs_member *m = p->members; m; m = m->pnext)
                if (m->group->scope == q.s && member_ok(&q, m) && push(c, &v, m) != 0)
                    goto out;
        }
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_unmatch_reply_removed_set(&r, v.n);
    rs_out_reply(c, cl, req, &r);
    for (size_t i = 0; i < v.n; i++) {
        struct rs_change ch = {.source = RS_SRC_LOCAL, .reason = ROSTER_REASON_NORMAL,
                               .scope = q.s};
        if (what == RS_QW_NAMES) {
            struct rs_name *x = v.v[i];
            ch.kind = RS_CH_NAME_REMOVE;
            ch.proc = x->proc;
            ch.name = x;
        } else {
            struct rs_member *m = v.v[i];
            ch.kind = RS_CH_MEMBER_REMOVE;
            ch.proc = m->proc;
            ch.member = m;
        }
        rs_change_apply(c, &ch);
    }
out:
    rs_free(v.v);
}
