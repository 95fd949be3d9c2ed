/* keyspace.h: the one place where the roster cluster's key prefix is added to keys going to
 * etcd and checked and removed on keys coming back, so two clusters sharing an etcd never
 * see each other's keys. */
#ifndef ROSTER_ETCD_KEYSPACE_H
#define ROSTER_ETCD_KEYSPACE_H

#include <stdbool.h>
#include <stddef.h>

#include "etcd/arena.h"

struct etcd_keyspace {
    char *prefix;
    size_t len;
};

/* etcd_ks_key gives prefix+key in *out (arena memory) and, when prefix_range, the end of
 * the range of every key starting with it in *end; returns 0 or -1 (out of memory). */
int etcd_ks_key(const struct etcd_keyspace *ks, struct etcd_arena *a, const void *key,
                size_t key_len, bool prefix_range, void **out, size_t *out_len, void **end,
                size_t *end_len);
/* etcd_ks_strip checks that key is inside the prefix and gives the rest; false if not. */
bool etcd_ks_strip(const struct etcd_keyspace *ks, const void *key, size_t len,
                   const void **rest, size_t *rest_len);

#endif
