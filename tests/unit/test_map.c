/* test_map.c: the hash table against a reference model: inserts, deletes (backward shift),
 * growth and shrink, with many colliding hashes. */
#include <stdlib.h>

#include "base/map.h"
#include "test.h"

struct item {
    uint64_t key;
};

static int eq(const void *item, const void *key)
{
    return ((const struct item *)item)->key == *(const uint64_t *)key;
}

static void run_model(uint64_t hash_mask)
{
    enum { N = 20000 };
    struct item *items = calloc(N, sizeof *items);
    char *present = calloc(N, 1);
    struct rs_map m;
    rs_map_init(&m);
    uint64_t rng = 88172645463325252ull;
    size_t count = 0;
    for (int step = 0; step < 200000; step++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        uint64_t k = rng % N;
        uint64_t h = (rs_hash_u64(1, k) & hash_mask) * 0x9e3779b97f4a7c15ull;
        items[k].key = k;
        if (present[k]) {
            if (rng & 0x100) {
                ASSERT(rs_map_del(&m, h, &k, eq) == &items[k]);
                present[k] = 0;
                count--;
            } else {
                ASSERT(rs_map_get(&m, h, &k, eq) == &items[k]);
            }
        } else {
            ASSERT(rs_map_get(&m, h, &k, eq) == NULL);
            ASSERT_EQ(rs_map_put(&m, h, &items[k]), 0);
            present[k] = 1;
            count++;
        }
        ASSERT_EQ(m.n, count);
    }
    for (uint64_t k = 0; k < N; k++) {
        uint64_t h = (rs_hash_u64(1, k) & hash_mask) * 0x9e3779b97f4a7c15ull;
        ASSERT(rs_map_get(&m, h, &k, eq) == (present[k] ? &items[k] : NULL));
        if (present[k])
            ASSERT_EQ(rs_map_del_item(&m, h, &items[k]), 0);
    }
    ASSERT_EQ(m.n, 0);
    ASSERT(m.cap <= 32); /* shrank back */
    rs_map_fini(&m);
    free(items);
    free(present);
}

static void test_model_good_hash(void) { run_model(~0ull); }
static void test_model_colliding_hash(void) { run_model(0x7ff); /* 2048 distinct hashes for 20000 keys */ }

static void test_hash_seeded(void)
{
    ASSERT(rs_hash(1, "abc", 3) == rs_hash(1, "abc", 3));
    ASSERT(rs_hash(1, "abc", 3) != rs_hash(2, "abc", 3));
    ASSERT(rs_hash(1, "abc", 3) != rs_hash(1, "abd", 3));
    ASSERT(rs_hash(1, "", 0) != rs_hash(1, "\0", 1));
}

TEST_MAIN(T(test_model_good_hash), T(test_model_colliding_hash), T(test_hash_seeded))
