/* ttl.c: the lease table (ttl.h). A binary min-heap of lease records by deadline gives the
 * next expiry in O(1) and a set, renew or drop in O(log n); each record also hangs off its
 * pid (RENEW) and its entry (so a removal by any path drops the lease with it, change.c).
 * Leases exist only for local entries of eventual scopes: replicas never expire anything by
 * their own clocks. */
#include "core/ttl.h"

#include "base/check.h"
#include "core/util.h"

static struct rs_lease **slot_of(struct rs_name *n, struct rs_member *m)
{
    return n ? &n->lease : &m->lease;
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

int rs_ttl_set(struct rs_core *c, struct rs_name *n, struct rs_member *m, uint32_t ttl_ms)
{
    RS_ASSERT(!n != !m);
    struct rs_lease **slot = slot_of(n, m);
    struct rs_lease *l = *slot;
    if (!l) {
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
        l = rs_core_alloc(c, sizeof *l);
        if (!l)
            return -1;
        l->name = n;
        l->member = m;
        l->proc = n ? n->proc : m->proc;
        RS_ASSERT(l->proc->client != NULL); /* local entries only */
        RS_LIST_PUSH(l->proc->leases, l, pprev, pnext);
        *slot = l;
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
    struct rs_lease **slot = slot_of(n, m);
    struct rs_lease *l = *slot;
    if (!l)
        return;
    size_t i = l->heap_idx;
    RS_ASSERT(i < c->ttl.n && c->ttl.v[i] == l);
    struct rs_lease *last = c->ttl.v[--c->ttl.n];
    if (last != l) {
        heap_put(c, i, last);
        sift_up(c, i);
        sift_down(c, last->heap_idx);
    }
    RS_LIST_DEL(l->proc->leases, l, pprev, pnext);
    *slot = NULL;
    rs_free(l);
}

uint64_t rs_ttl_renew(struct rs_core *c, struct rs_proc *p)
{
    uint64_t k = 0;
    for (struct rs_lease *l = p->leases; l; l = l->pnext) {
        l->deadline = c->now_ms + l->ttl_ms;
        /* a renewed deadline only grows: sinking is enough */
        sift_down(c, l->heap_idx);
        k++;
    }
    return k;
}

struct rs_lease *rs_ttl_due(const struct rs_core *c, uint64_t now)
{
    if (c->ttl.n == 0 || c->ttl.v[0]->deadline > now)
        return NULL;
    return c->ttl.v[0];
}

size_t rs_ttl_count(const struct rs_core *c)
{
    return c->ttl.n;
}

void rs_ttl_free_all(struct rs_core *c)
{
    for (size_t i = 0; i < c->ttl.n; i++)
        rs_free(c->ttl.v[i]);
    rs_free(c->ttl.v);
    c->ttl.v = NULL;
    c->ttl.n = c->ttl.cap = 0;
}
