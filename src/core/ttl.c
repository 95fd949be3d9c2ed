/* ttl.c: the lease table (ttl.h). A binary min-heap of lease records by deadline gives the
 * next expiry in O(1) and a set, renew or drop in O(log n); each record also hangs off its
 * pid's record (RENEW) and is found from its entry (so a removal by any path drops the
 * lease with it, change.c). Leases exist only for local entries of eventual scopes:
 * replicas never expire anything by their own clocks. */
#include "core/ttl.h"

#include <stdint.h>

#include "base/check.h"
#include "base/map.h"
#include "core/util.h"

/* A pid with leased entries, or with expiries its next RENEW must report. */
struct rs_ttl_pid {
    struct rs_proc *proc;
    struct rs_lease *leases;
    uint32_t n_expired;
};

static uint64_t hash_of(const struct rs_core *c, const void *p)
{
    return rs_hash_u64(c->seed, (uint64_t)(uintptr_t)p);
}

static int lease_eq(const void *item, const void *key)
{
    const struct rs_lease *l = item;
    return (l->name ? (const void *)l->name : (const void *)l->member) == key;
}

static int pid_eq(const void *item, const void *key)
{
    return ((const struct rs_ttl_pid *)item)->proc == key;
}

static struct rs_lease *find(const struct rs_core *c, const void *entry)
{
    return rs_map_get(&c->ttl.by, hash_of(c, entry), entry, lease_eq);
}

static struct rs_ttl_pid *find_pid(const struct rs_core *c, const struct rs_proc *p)
{
    if (c->ttl.pids.n == 0)
        return NULL;
    return rs_map_get(&c->ttl.pids, hash_of(c, p), p, pid_eq);
}

static void pid_maybe_free(struct rs_core *c, struct rs_ttl_pid *r)
{
    if (r->leases || r->n_expired)
        return;
    int gone = rs_map_del_item(&c->ttl.pids, hash_of(c, r->proc), r);
    RS_ASSERT(gone == 0);
    rs_free(r);
}

static void set_leased(struct rs_name *n, struct rs_member *m, int on)
{
    if (n)
        n->leased = on ? 1u : 0u;
    else
        m->leased = on ? 1u : 0u;
}

static int before(const struct rs_lease *a, const struct rs_lease *b)
{
    return a->deadline < b->deadline;
}

static void heap_put(struct rs_core *c, size_t i, struct rs_lease *l)
{
    c->ttl.v[i] = l;
    l->heap_idx = i;
}

static void sift_up(struct rs_core *c, size_t i)
{
    struct rs_lease *l = c->ttl.v[i];
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!before(l, c->ttl.v[up]))
            break;
        heap_put(c, i, c->ttl.v[up]);
        i = up;
    }
    heap_put(c, i, l);
}

static void sift_down(struct rs_core *c, size_t i)
{
    struct rs_lease *l = c->ttl.v[i];
    size_t n = c->ttl.n;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= n)
            break;
        if (k + 1 < n && before(c->ttl.v[k + 1], c->ttl.v[k]))
            k++;
        if (!before(c->ttl.v[k], l))
            break;
        heap_put(c, i, c->ttl.v[k]);
        i = k;
    }
    heap_put(c, i, l);
}

void rs_ttl_init(struct rs_core *c)
{
    rs_map_init(&c->ttl.by);
    rs_map_init(&c->ttl.pids);
}

int rs_ttl_set(struct rs_core *c, struct rs_name *n, struct rs_member *m, uint32_t ttl_ms)
{
    RS_ASSERT(!n != !m);
    const void *entry = n ? (const void *)n : (const void *)m;
    struct rs_lease *l = (n ? n->leased : m->leased) ? find(c, entry) : NULL;
    if (!l) {
        struct rs_proc *p = n ? n->proc : m->proc;
        RS_ASSERT(p->client != NULL); /* local entries only */
        if (c->ttl.n == c->ttl.cap) {
            size_t cap = c->ttl.cap ? c->ttl.cap * 2 : 16;
            struct rs_lease **v = rs_realloc(c->ttl.v, cap * sizeof *v);
            if (!v) {
                c->oom = 1;
                return -1;
            }
            c->ttl.v = v;
            c->ttl.cap = cap;
        }
        struct rs_ttl_pid *r = find_pid(c, p);
        if (!r) {
            r = rs_core_alloc(c, sizeof *r);
            if (!r)
                return -1;
            r->proc = p;
            r->leases = NULL;
            r->n_expired = 0;
            if (rs_map_put(&c->ttl.pids, hash_of(c, p), r) != 0) {
                c->oom = 1;
                rs_free(r);
                return -1;
            }
        }
        l = rs_core_alloc(c, sizeof *l);
        if (!l || rs_map_put(&c->ttl.by, hash_of(c, entry), l) != 0) {
            c->oom = 1;
            rs_free(l);
            pid_maybe_free(c, r);
            return -1;
        }
        l->name = n;
        l->member = m;
        l->proc = p;
        l->owner = r;
        RS_LIST_PUSH(r->leases, l, pprev, pnext);
        set_leased(n, m, 1);
        l->heap_idx = c->ttl.n++;
        c->ttl.v[l->heap_idx] = l;
    }
    l->ttl_ms = ttl_ms;
    l->deadline = c->now_ms + ttl_ms;
    sift_up(c, l->heap_idx);
    sift_down(c, l->heap_idx);
    return 0;
}

void rs_ttl_drop(struct rs_core *c, struct rs_name *n, struct rs_member *m)
{
    if (!(n ? n->leased : m->leased))
        return; /* the common case: one bit */
    const void *entry = n ? (const void *)n : (const void *)m;
    struct rs_lease *l = find(c, entry);
    RS_ASSERT(l != NULL);
    int gone = rs_map_del_item(&c->ttl.by, hash_of(c, entry), l);
    RS_ASSERT(gone == 0);
    size_t i = l->heap_idx;
    RS_ASSERT(i < c->ttl.n && c->ttl.v[i] == l);
    struct rs_lease *last = c->ttl.v[--c->ttl.n];
    if (last != l) {
        heap_put(c, i, last);
        sift_up(c, i);
        sift_down(c, last->heap_idx);
    }
    struct rs_ttl_pid *r = l->owner;
    RS_LIST_DEL(r->leases, l, pprev, pnext);
    set_leased(n, m, 0);
    rs_free(l);
    pid_maybe_free(c, r);
}

uint64_t rs_ttl_renew(struct rs_core *c, struct rs_proc *p, uint32_t *expired)
{
    *expired = 0;
    struct rs_ttl_pid *r = find_pid(c, p);
    if (!r)
        return 0;
    uint64_t k = 0;
    for (struct rs_lease *l = r->leases; l; l = l->pnext) {
        l->deadline = c->now_ms + l->ttl_ms;
        /* a renewed deadline only grows (now never goes back): sinking is enough */
        sift_down(c, l->heap_idx);
        k++;
    }
    *expired = r->n_expired;
    r->n_expired = 0;
    pid_maybe_free(c, r);
    return k;
}

struct rs_lease *rs_ttl_due(const struct rs_core *c, uint64_t now)
{
    if (c->ttl.n == 0 || c->ttl.v[0]->deadline > now)
        return NULL;
    return c->ttl.v[0];
}

void rs_ttl_expiring(struct rs_lease *l)
{
    l->owner->n_expired++;
}

int rs_ttl_has_leases(const struct rs_core *c, const struct rs_proc *p)
{
    if (c->ttl.n == 0)
        return 0;
    const struct rs_ttl_pid *r = find_pid(c, p);
    return r && r->leases;
}

void rs_ttl_pid_gone(struct rs_core *c, struct rs_proc *p)
{
    struct rs_ttl_pid *r = find_pid(c, p);
    if (!r)
        return;
    RS_ASSERT(r->leases == NULL); /* its entries went first */
    r->n_expired = 0;
    pid_maybe_free(c, r);
}

size_t rs_ttl_count(const struct rs_core *c)
{
    return c->ttl.n;
}

void rs_ttl_free_all(struct rs_core *c)
{
    for (size_t i = 0; i < c->ttl.n; i++)
        rs_free(c->ttl.v[i]);
    for (size_t i = 0; i < c->ttl.pids.cap; i++)
        rs_free(c->ttl.pids.slots[i].item);
    rs_free(c->ttl.v);
    c->ttl.v = NULL;
    c->ttl.n = c->ttl.cap = 0;
    rs_map_fini(&c->ttl.by);
    rs_map_fini(&c->ttl.pids);
}
