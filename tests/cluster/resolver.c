/* resolver.c: a custom conflict resolver for rosterd --resolver (tests), on the public API
 * (roster.h, roster_resolver): the claim with the greater metadata wins (bytewise, then
 * longer), a pure deterministic function. */
#include <roster.h>
#include <string.h>

static const roster_claim *greater_meta(const roster_conflict *c)
{
    const roster_claim *a = c->a, *b = c->b;
    size_t n = a->meta_len < b->meta_len ? a->meta_len : b->meta_len;
    int d = n ? memcmp(a->meta, b->meta, n) : 0;
    if (d == 0)
        d = a->meta_len < b->meta_len ? -1 : a->meta_len > b->meta_len ? 1 : 0;
    if (d == 0) /* equal metadata: the older grant, then the pid, so the order is total */
        d = a->clock < b->clock ? 1 : a->clock > b->clock ? -1
          : a->pid.node_inc < b->pid.node_inc ? 1 : a->pid.node_inc > b->pid.node_inc ? -1
          : a->pid.serial < b->pid.serial ? 1 : -1;
    return d > 0 ? a : b;
}

__attribute__((visibility("default"))) const roster_resolver roster_conflict_resolver = {
    ROSTER_RESOLVER_ABI, "greater-meta", 1, greater_meta};
