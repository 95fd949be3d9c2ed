/* arena.c: the chunked bump allocator behind results (see arena.h). */
#include "etcd/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 4096

struct etcd_chunk {
    struct etcd_chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

void *etcd_arena_alloc(struct etcd_arena *a, size_t n)
{
    const size_t al = alignof(max_align_t);
    if (n > SIZE_MAX / 2)
        return NULL;
    n = (n + al - 1) & ~(al - 1);
    struct etcd_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *etcd_arena_dup(struct etcd_arena *a, const void *p, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = etcd_arena_alloc(a, n + 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

void etcd_arena_free(struct etcd_arena *a)
{
    while (a->head) {
        struct etcd_chunk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}
