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

#endif
