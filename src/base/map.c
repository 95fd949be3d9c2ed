/* map.c: open-addressing hash table with backward-shift deletion. */
#include "base/map.h"

#include <string.h>

#include "base/alloc.h"

void rs_map_init(struct rs_map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->n = 0;
}

void rs_map_fini(struct rs_map *m)
{
    rs_free(m->slots);
    rs_map_init(m);
}

static int grow(struct rs_map *m, size_t cap)
{
    struct rs_map_slot *s = rs_calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].item)
            continue;
        size_t j = (size_t)m->slots[i].hash & (cap - 1);
        while (s[j].item)
            j = (j + 1) & (cap - 1);
        s[j] = m->slots[i];
    }
    rs_free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

void *rs_map_get(const struct rs_map *m, uint64_t hash, const void *key, rs_map_eq eq)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        const struct rs_map_slot *s = &m->slots[i];
        if (!s->item)
            return NULL;
        if (s->hash == hash && eq(s->item, key))
            return s->item;
    }
}

int rs_map_put(struct rs_map *m, uint64_t hash, void *item)
{
    if ((m->n + 1) * 4 > m->cap * 3) {
        if (grow(m, m->cap ? m->cap * 2 : 16) != 0)
            return -1;
    }
    size_t mask = m->cap - 1;
    size_t i = (size_t)hash & mask;
    while (m->slots[i].item)
        i = (i + 1) & mask;
    m->slots[i].item = item;
    m->slots[i].hash = hash;
    m->n++;
    return 0;
}

/* Remove slot i and shift later members of the probe run back, so lookups never need
 * tombstones. */
static void remove_at(struct rs_map *m, size_t i)
{
    size_t mask = m->cap - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].item)
            break;
        size_t home = (size_t)m->slots[j].hash & mask;
        /* Move j into the hole at i if its home is not in the cyclic range (i, j]. */
        int in_range = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (!in_range) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].item = NULL;
    m->slots[i].hash = 0;
    m->n--;
    if (m->cap > 16 && m->n * 8 < m->cap * 1) {
        /* Shrink so a table that once held a million entries gives its memory back. */
        (void)grow(m, m->cap / 2);
    }
}

void *rs_map_del(struct rs_map *m, uint64_t hash, const void *key, rs_map_eq eq)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        struct rs_map_slot *s = &m->slots[i];
        if (!s->item)
            return NULL;
        if (s->hash == hash && eq(s->item, key)) {
            void *item = s->item;
            remove_at(m, i);
            return item;
        }
    }
}

static size_t find_item(const struct rs_map *m, uint64_t hash, const void *item)
{
    if (m->cap == 0)
        return (size_t)-1;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        if (!m->slots[i].item)
            return (size_t)-1;
        if (m->slots[i].item == item)
            return i;
    }
}

int rs_map_del_item(struct rs_map *m, uint64_t hash, const void *item)
{
    size_t i = find_item(m, hash, item);
    if (i == (size_t)-1)
        return -1;
    remove_at(m, i);
    return 0;
}

int rs_map_replace_item(struct rs_map *m, uint64_t hash, const void *old_item, void *new_item)
{
    size_t i = find_item(m, hash, old_item);
    if (i == (size_t)-1)
        return -1;
    m->slots[i].item = new_item;
    return 0;
}

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

uint64_t rs_hash(uint64_t seed, const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = seed ^ (0x9e3779b97f4a7c15ull * (n + 1));
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, b, 8);
        h = (h ^ mix(v)) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        b += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    h = (h ^ mix(v + n)) * 0xc4ceb9fe1a85ec53ull;
    return mix(h);
}

uint64_t rs_hash_u64(uint64_t seed, uint64_t v) { return mix(v ^ seed ^ 0x9e3779b97f4a7c15ull); }
