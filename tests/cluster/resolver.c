/* resolver.c: a custom conflict resolver for rosterd --resolver (tests): the claim with the
 * greater metadata wins (bytewise, then longer), a pure deterministic function. */
#include <string.h>

#include "core/core.h"

int roster_resolve(const struct rs_claim_view *a, const struct rs_claim_view *b);

int roster_resolve(const struct rs_claim_view *a, const struct rs_claim_view *b)
{
    size_t n = a->meta_len < b->meta_len ? a->meta_len : b->meta_len;
    int c = n ? memcmp(a->meta, b->meta, n) : 0;
    if (c == 0)
        c = a->meta_len < b->meta_len ? -1 : a->meta_len > b->meta_len ? 1 : 0;
    return -c; /* greater metadata first */
}
