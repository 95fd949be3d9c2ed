/* util.h: small helpers every core module uses: allocation that flags oom, byte strings,
 * partial sorting (util.c). */
#ifndef ROSTER_CORE_UTIL_H
#define ROSTER_CORE_UTIL_H

#include "core/internal.h"

void *rs_core_alloc(struct rs_core *c, size_t n); /* rs_malloc that sets oom */
uint8_t *rs_core_dup(struct rs_core *c, struct rs_bytes b, int *failed);
static inline struct rs_bytes rs_bytes_node(const struct rs_core *c)
{
    return rs_bytes_of(c->node, c->node_len);
}
static inline int rs_bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || __builtin_memcmp(a, b, an) == 0);
}
/* rs_bytes_cmp orders byte strings: memcmp over the common length, shorter first. */
int rs_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* rs_sort_head sorts v[0..n) enough that its first min(n, limit) elements are the smallest,
 * in order (limit 0: sort all); selection by a bounded heap so a small limit over a large
 * listing costs O(n log limit). */
void rs_sort_head(void **v, size_t n, size_t limit, int (*cmp)(const void *, const void *));
static inline int rs_is_prefix(const uint8_t *s, size_t n, const uint8_t *pre, size_t pn)
{
    return pn <= n && (pn == 0 || __builtin_memcmp(s, pre, pn) == 0);
}

#endif
