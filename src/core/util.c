/* util.c: helpers every core module uses: allocation that flags the apply as out of
 * memory, byte-string order, and the partial sort of listings. No outputs, no tables. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void *rs_core_alloc(struct rs_core *c, size_t n)
{
    void *p = rs_malloc(n);
    if (!p)
        c->oom = 1;
    return p;
}

uint8_t *rs_core_dup(struct rs_core *c, struct rs_bytes b, int *failed)
{
    *failed = 0;
    if (b.len == 0)
        return NULL;
    uint8_t *p = rs_core_alloc(c, b.len);
    if (!p) {
        *failed = 1;
        return NULL;
    }
    memcpy(p, b.ptr, b.len);
    return p;
}

int rs_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int r = n ? memcmp(a, b, n) : 0;
    if (r)
        return r;
    return an < bn ? -1 : an > bn;
}

/* --- sorting of listings ------------------------------------------------------------ */

static void sift_down(void **h, size_t n, size_t i, int (*cmp)(const void *, const void *))
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, big = i;
        if (l < n && cmp(&h[l], &h[big]) > 0)
            big = l;
        if (r < n && cmp(&h[r], &h[big]) > 0)
            big = r;
        if (big == i)
            return;
        void *t = h[i];
        h[i] = h[big];
        h[big] = t;
        i = big;
    }
}

void rs_sort_head(void **v, size_t n, size_t limit, int (*cmp)(const void *, const void *))
{
    if (limit == 0 || limit >= n || limit > n / 4) {
        qsort(v, n, sizeof *v, cmp);
        return;
    }
    /* v[0..limit) is a max-heap of the smallest seen so far. */
    for (size_t i = limit / 2 + 1; i-- > 0;)
        sift_down(v, limit, i, cmp);
    for (size_t i = limit; i < n; i++) {
        if (cmp(&v[i], &v[0]) < 0) {
            void *t = v[0];
            v[0] = v[i];
            v[i] = t;
            sift_down(v, limit, 0, cmp);
        }
    }
    qsort(v, limit, sizeof *v, cmp);
}
