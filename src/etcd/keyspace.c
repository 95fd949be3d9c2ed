/* keyspace.c: the cluster key prefix, added and removed in one place (see keyspace.h). */
#include "etcd/keyspace.h"

#include <string.h>

int etcd_ks_key(const struct etcd_keyspace *ks, struct etcd_arena *a, const void *key,
                size_t key_len, bool prefix_range, void **out, size_t *out_len, void **end,
                size_t *end_len)
{
    size_t n = ks->len + key_len;
    if (n < key_len)
        return -1;
    unsigned char *k = etcd_arena_alloc(a, n + 1);
    if (!k)
        return -1;
    if (ks->len)
        memcpy(k, ks->prefix, ks->len);
    if (key_len)
        memcpy(k + ks->len, key, key_len);
    *out = k;
    *out_len = n;
    if (!prefix_range)
        return 0;
    /* The smallest key greater than every key starting with k: drop trailing 0xff bytes and
     * add one to the last byte. etcd reads the one-byte key "\0" as "to the end". */
    unsigned char *e = etcd_arena_alloc(a, n + 1);
    if (!e)
        return -1;
    size_t m = n;
    memcpy(e, k, n);
    while (m > 0 && e[m - 1] == 0xff)
        m--;
    if (m == 0) {
        e[0] = 0;
        m = 1;
    } else {
        e[m - 1]++;
    }
    *end = e;
    *end_len = m;
    return 0;
}

bool etcd_ks_strip(const struct etcd_keyspace *ks, const void *key, size_t len,
                   const void **rest, size_t *rest_len)
{
    if (len < ks->len || (ks->len && memcmp(key, ks->prefix, ks->len) != 0))
        return false;
    *rest = (const unsigned char *)key + ks->len;
    *rest_len = len - ks->len;
    return true;
}
