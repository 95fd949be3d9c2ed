/* alloc.c: allocator hook. The default is the C library's allocator. With counting on
 * (rosterd --max-memory, rs_alloc_count_start) the live bytes of the default allocator are
 * kept, from malloc_usable_size, so the core can refuse growth above a ceiling. */
#include "base/alloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static int counting; /* set once, before any other thread exists */
/* Signed and atomic (the metrics thread allocates too): a block from before counting
 * started may be freed and take it below zero for a while; readers see 0 then. */
static long long live;

static int counted(void);
static void count_add(void *p)
{
    if (p && counted())
        __atomic_add_fetch(&live, (long long)malloc_usable_size(p), __ATOMIC_RELAXED);
}

static void count_sub(void *p)
{
    if (p && counted())
        __atomic_sub_fetch(&live, (long long)malloc_usable_size(p), __ATOMIC_RELAXED);
}

static void *(*malloc_fn)(size_t) = malloc;
static void *(*realloc_fn)(void *, size_t) = realloc;
static void (*free_fn)(void *) = free;

void *rs_malloc(size_t n)
{
    void *p = malloc_fn(n ? n : 1);
    count_add(p);
    return p;
}

void *rs_calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    void *p = rs_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *rs_realloc(void *p, size_t n)
{
    if (!counted())
        return realloc_fn(p, n ? n : 1);
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc_fn(p, n ? n : 1);
    if (q) /* the old block is gone: count it out, the new one in */
        __atomic_add_fetch(&live, (long long)malloc_usable_size(q) - (long long)old,
                           __ATOMIC_RELAXED);
    return q;
}

void rs_free(void *p)
{
    if (p) {
        count_sub(p);
        free_fn(p);
    }
}

/* Only the C library's blocks have a usable size to read. */
static int counted(void) { return counting && malloc_fn == malloc; }

void rs_alloc_count_start(void) { counting = 1; }

size_t rs_alloc_live(void)
{
    long long v = counting ? __atomic_load_n(&live, __ATOMIC_RELAXED) : 0;
    return v > 0 ? (size_t)v : 0;
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
