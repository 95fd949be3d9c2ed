/* arena.h: a bump allocator of linked chunks. A result and everything it points to live in
 * one arena, so the caller frees a whole decoded answer with one call; encoding uses one for
 * its temporary keys. */
#ifndef ROSTER_ETCD_ARENA_H
#define ROSTER_ETCD_ARENA_H

#include <stddef.h>

struct etcd_chunk;

struct etcd_arena {
    struct etcd_chunk *head;
};

/* etcd_arena_alloc returns n zeroed bytes aligned for any type, or NULL. */
void *etcd_arena_alloc(struct etcd_arena *a, size_t n);
/* etcd_arena_dup copies n bytes and adds a NUL after them. */
char *etcd_arena_dup(struct etcd_arena *a, const void *p, size_t n);
void etcd_arena_free(struct etcd_arena *a);

#endif
