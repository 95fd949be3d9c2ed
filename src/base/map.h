/* map.h: an open-addressing hash table of item pointers (linear probing, backward-shift
 * deletion, no tombstones). Items carry their own keys; the caller supplies the hash and an
 * equality callback, so one table type serves names, groups, pids and memberships.
 * Memory per item: one 16-byte slot at a load factor between 3/8 and 3/4. */
#ifndef ROSTER_BASE_MAP_H
#define ROSTER_BASE_MAP_H

#include <stddef.h>
#include <stdint.h>

struct rs_map_slot {
    void *item; /* NULL: empty */
    uint64_t hash;
};

struct rs_map {
    struct rs_map_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t n;
};

/* rs_map_eq returns nonzero when item has the key. */
typedef int (*rs_map_eq)(const void *item, const void *key);

void rs_map_init(struct rs_map *m);
void rs_map_fini(struct rs_map *m);
void *rs_map_get(const struct rs_map *m, uint64_t hash, const void *key, rs_map_eq eq);
/* rs_map_put inserts item (the caller made sure its key is absent); 0 or -1 (no memory). */
int rs_map_put(struct rs_map *m, uint64_t hash, void *item);
/* rs_map_del removes and returns the item with key, or NULL. */
void *rs_map_del(struct rs_map *m, uint64_t hash, const void *key, rs_map_eq eq);
/* rs_map_del_item removes exactly this item pointer (stored under hash); returns 0 or -1. */
int rs_map_del_item(struct rs_map *m, uint64_t hash, const void *item);
/* rs_map_replace_item swaps the stored pointer old for new (same key and hash). */
int rs_map_replace_item(struct rs_map *m, uint64_t hash, const void *old_item, void *new_item);

/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].item) ...; the table must
 * not change while iterating. */

/* rs_hash is a seeded 64-bit hash of bytes (seed from the node's random input, so clients
 * cannot choose colliding names ahead of time). */
uint64_t rs_hash(uint64_t seed, const void *p, size_t n);
/* rs_hash_u64 mixes one integer (for pid keys). */
uint64_t rs_hash_u64(uint64_t seed, uint64_t v);

#endif
