/* alloc.h: the one allocator indirection (rs_malloc/rs_realloc/rs_free). The client library
 * exposes it as roster_set_allocator; tests use it to inject allocation failures. */
#ifndef ROSTER_BASE_ALLOC_H
#define ROSTER_BASE_ALLOC_H

#include <stddef.h>

void *rs_malloc(size_t n);
void *rs_calloc(size_t n, size_t size);
void *rs_realloc(void *p, size_t n);
void rs_free(void *p);
void rs_alloc_set(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *));
/* rs_alloc_count_start makes the default allocator count its live bytes (call it before
 * any thread starts); rs_alloc_live returns them (0 when not counting). Blocks of a hook
 * set by rs_alloc_set are not counted. */
void rs_alloc_count_start(void);
size_t rs_alloc_live(void);

#endif
