/* alloc.c: allocator hook. The default is the C library's allocator. */
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *(*malloc_fn)(size_t) = malloc;
static void *(*realloc_fn)(void *, size_t) = realloc;
static void (*free_fn)(void *) = free;

void *rs_malloc(size_t n) { return malloc_fn(n ? n : 1); }

void *rs_calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    void *p = rs_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *rs_realloc(void *p, size_t n) { return realloc_fn(p, n ? n : 1); }

void rs_free(void *p)
{
    if (p)
        free_fn(p);
}

void rs_alloc_set(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *))
{
    if (m && r && f) {
        malloc_fn = m;
        realloc_fn = r;
        free_fn = f;
    } else {
        malloc_fn = malloc;
        realloc_fn = realloc;
        free_fn = free;
    }
}
