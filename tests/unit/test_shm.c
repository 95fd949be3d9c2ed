/* test_shm.c: the shared-memory region's writer and reader (src/wire/shm_*.c) against a
 * reference model (names, groups, counters, reuse of freed blocks, index growth), a
 * reader thread racing the writer (never a torn entry), a full region given up, and a
 * corrupt region read without a crash. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <roster.h>

#include "test.h"
#include "wire/shm.h"

#define SIZE (64u * 1024u * 1024u)

static uint8_t *region(size_t size)
{
    uint8_t *b = calloc(1, size);
    ASSERT(b != NULL);
    return b;
}

static int lookup(struct rs_shm_view *v, uint32_t sc, const char *k, struct rs_shm_pid *p,
                  struct rs_shm_bytes *m)
{
    return rs_shm_lookup(v, sc, (const uint8_t *)k, strlen(k), p, m);
}

static void test_names_model(void)
{
    uint8_t *b = region(SIZE);
    struct rs_shm_writer w;
    ASSERT_EQ(rs_shm_writer_init(&w, b, SIZE, 42, 0xabc, "a", 1), 0);
    struct rs_shm_view v = {b, SIZE};
    ASSERT_EQ(rs_shm_view_check(&v), 0);
    uint32_t sc = rs_shm_scope(&w, "default", 7, ROSTER_SCOPE_EVENTUAL);
    ASSERT(sc > 0);
    ASSERT_EQ(rs_shm_scope(&w, "default", 7, ROSTER_SCOPE_EVENTUAL), sc);
    int remote = rs_shm_node(&w, 0xdef, "bb", 2);
    ASSERT_EQ(remote, 1);
    enum { N = 5000 };
    static uint64_t serial[N];
    static uint32_t mlen[N];
    memset(serial, 0, sizeof serial);
    uint64_t rng = 88172645463325252ull;
    size_t live = 0;
    struct rs_shm_pid p;
    struct rs_shm_bytes m = {0};
    char key[32], meta[200];
    for (int step = 0; step < 100000; step++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        unsigned k = (unsigned)(rng % N);
        snprintf(key, sizeof key, "name-%u", k);
        if (serial[k] && (rng & 0x300) == 0) {
            rs_shm_name_del(&w, sc, (const uint8_t *)key, strlen(key));
            serial[k] = 0;
            live--;
        } else {
            if (!serial[k])
                live++;
            serial[k] = (uint64_t)step + 1;
            mlen[k] = (uint32_t)((rng >> 20) % sizeof meta);
            memset(meta, (int)(serial[k] & 0xff), mlen[k]);
            rs_shm_name_put(&w, sc, (const uint8_t *)key, strlen(key), (int)(k & 1),
                            serial[k], serial[k] * 3, (const uint8_t *)meta, mlen[k]);
        }
        if (step % 97 == 0) {
            unsigned q = (unsigned)((rng >> 33) % N);
            snprintf(key, sizeof key, "name-%u", q);
            int r = lookup(&v, sc, key, &p, &m);
            ASSERT_EQ(r, serial[q] ? RS_SHM_FOUND : RS_SHM_ABSENT);
            if (r == RS_SHM_FOUND) {
                ASSERT_EQ(p.serial, serial[q]);
                ASSERT_EQ(p.token, serial[q] * 3);
                ASSERT_EQ(p.inc, (q & 1) ? 0xdefu : 0xabcu);
                ASSERT_STR_EQ(p.node, (q & 1) ? "bb" : "a");
                ASSERT_EQ(m.len, mlen[q]);
            }
            /* the same answer into a caller's room of 50 bytes (cut when longer) */
            uint8_t mb[51];
            mb[50] = 0xee;
            uint64_t inc = 0, ser = 0, tok = 0;
            size_t ml = 0;
            ASSERT_EQ(rs_shm_lookup_into(&v, sc, (const uint8_t *)key, strlen(key), &inc, &ser,
                                         &tok, mb, 50, &ml),
                      r);
            if (r == RS_SHM_FOUND) {
                ASSERT_EQ(ser, serial[q]);
                ASSERT_EQ(tok, serial[q] * 3);
                ASSERT_EQ(inc, (q & 1) ? 0xdefu : 0xabcu);
                ASSERT_EQ(ml, mlen[q]);
                ASSERT(memcmp(mb, m.data, ml < 50 ? ml : 50) == 0);
                ASSERT_EQ(mb[50], 0xee);
            }
        }
    }
    struct rs_shm_scope_info si;
    ASSERT_EQ(rs_shm_find_scope(&v, "default", 7, &si), RS_SHM_FOUND);
    ASSERT_EQ(si.names, live);
    /* the record found once is read again by offset, only as that scope's record */
    struct rs_shm_scope_info sa;
    ASSERT_EQ(rs_shm_scope_at(&v, si.off, si.id, "default", 7, &sa), RS_SHM_FOUND);
    ASSERT_EQ(sa.names, live);
    ASSERT_EQ(sa.id, si.id);
    ASSERT_EQ(rs_shm_scope_at(&v, si.off, si.id + 1, "default", 7, &sa), RS_SHM_UNAVAIL);
    ASSERT_EQ(rs_shm_scope_at(&v, si.off, si.id, "defaulx", 7, &sa), RS_SHM_UNAVAIL);
    ASSERT_EQ(rs_shm_scope_at(&v, si.off, si.id, "default", 6, &sa), RS_SHM_UNAVAIL);
    ASSERT_EQ(rs_shm_scope_at(&v, si.off + 8, si.id, "default", 7, &sa), RS_SHM_UNAVAIL);
    ASSERT_EQ(rs_shm_scope_at(&v, (uint32_t)SIZE, si.id, "default", 7, &sa), RS_SHM_UNAVAIL);
    ASSERT_EQ(rs_shm_find_scope(&v, "other", 5, &si), RS_SHM_ABSENT);
    for (unsigned k = 0; k < N; k++) {
        snprintf(key, sizeof key, "name-%u", k);
        ASSERT_EQ(lookup(&v, sc, key, &p, &m), serial[k] ? RS_SHM_FOUND : RS_SHM_ABSENT);
        rs_shm_name_del(&w, sc, (const uint8_t *)key, strlen(key));
    }
    ASSERT_EQ(rs_shm_find_scope(&v, "default", 7, &si), RS_SHM_FOUND);
    ASSERT_EQ(si.names, 0);
    /* Freed blocks are reused: the same entries again take no new bytes. */
    uint32_t used = w.used;
    for (unsigned k = 0; k < N; k++) {
        snprintf(key, sizeof key, "name-%u", k);
        if (serial[k])
            rs_shm_name_put(&w, sc, (const uint8_t *)key, strlen(key), 0, 1, 1,
                            (const uint8_t *)meta, mlen[k]);
    }
    ASSERT_EQ(w.used, used);
    ASSERT_EQ(rs_shm_find_scope(&v, "default", 7, &si), RS_SHM_FOUND);
    uint32_t soff = si.off;
    rs_shm_scope_gone(&w, sc);
    ASSERT_EQ(rs_shm_find_scope(&v, "default", 7, &si), RS_SHM_ABSENT);
    ASSERT_EQ(rs_shm_scope_at(&v, soff, sc, "default", 7, &si), RS_SHM_ABSENT);
    rs_shm_bytes_fini(&m);
    rs_shm_writer_fini(&w);
    free(b);
}

static void test_groups(void)
{
    uint8_t *b = region(SIZE);
    struct rs_shm_writer w;
    ASSERT_EQ(rs_shm_writer_init(&w, b, SIZE, 7, 0x10, "a", 1), 0);
    struct rs_shm_view v = {b, SIZE};
    uint32_t sc = rs_shm_scope(&w, "s", 1, ROSTER_SCOPE_EVENTUAL);
    const uint8_t *g = (const uint8_t *)"grp";
    struct rs_shm_members ms = {0};
    ASSERT_EQ(rs_shm_members(&v, sc, g, 3, &ms), RS_SHM_ABSENT);
    /* joined out of order: read back sorted by pid */
    for (uint64_t i = 1000; i >= 1; i--) {
        char meta[16];
        int n = snprintf(meta, sizeof meta, "m%llu", (unsigned long long)i);
        rs_shm_member_put(&w, sc, g, 3, 0, i, (const uint8_t *)meta, (size_t)n);
    }
    rs_shm_member_put(&w, sc, g, 3, 0, 500, (const uint8_t *)"new", 3); /* update */
    ASSERT_EQ(rs_shm_members(&v, sc, g, 3, &ms), RS_SHM_FOUND);
    ASSERT_EQ(ms.n, 1000);
    for (size_t i = 0; i < ms.n; i++) {
        ASSERT_EQ(ms.v[i].serial, i + 1);
        ASSERT_EQ(ms.v[i].inc, 0x10);
        char want[16];
        int n = i + 1 == 500 ? snprintf(want, sizeof want, "new")
                             : snprintf(want, sizeof want, "m%zu", i + 1);
        ASSERT_EQ(ms.v[i].meta_len, (uint32_t)n);
        ASSERT(memcmp(ms.meta.data + ms.v[i].meta_off, want, (size_t)n) == 0);
    }
    /* into a caller's array, in one pass: all, cut, only one node's, another node's */
    static uint64_t pairs[2 * 1001];
    size_t pn = 0;
    ASSERT_EQ(rs_shm_member_pids(&v, sc, g, 3, 0, pairs, 1001, &pn), RS_SHM_FOUND);
    ASSERT_EQ(pn, 1000);
    for (size_t i = 0; i < pn; i++)
        ASSERT(pairs[2 * i] == 0x10 && pairs[2 * i + 1] == i + 1);
    pairs[20] = 0;
    ASSERT_EQ(rs_shm_member_pids(&v, sc, g, 3, 0, pairs, 10, &pn), RS_SHM_FOUND);
    ASSERT_EQ(pn, 1000);
    ASSERT_EQ(pairs[20], 0); /* nothing past the room */
    ASSERT_EQ(rs_shm_member_pids(&v, sc, g, 3, 0x10, pairs, 1001, &pn), RS_SHM_FOUND);
    ASSERT_EQ(pn, 1000);
    ASSERT_EQ(rs_shm_member_pids(&v, sc, g, 3, 0x11, pairs, 1001, &pn), RS_SHM_FOUND);
    ASSERT_EQ(pn, 0);
    ASSERT_EQ(rs_shm_member_pids(&v, sc, g, 2, 0, pairs, 1001, &pn), RS_SHM_ABSENT);
    ASSERT_EQ(pn, 0);
    ASSERT_EQ(rs_shm_is_member(&v, sc, g, 3, 0x10, 77), RS_SHM_FOUND);
    ASSERT_EQ(rs_shm_is_member(&v, sc, g, 3, 0x10, 1001), RS_SHM_ABSENT);
    ASSERT_EQ(rs_shm_is_member(&v, sc, g, 2, 0x10, 77), RS_SHM_ABSENT);
    struct rs_shm_scope_info si;
    ASSERT_EQ(rs_shm_find_scope(&v, "s", 1, &si), RS_SHM_FOUND);
    ASSERT_EQ(si.groups, 1);
    ASSERT_EQ(si.members, 1000);
    for (uint64_t i = 1; i <= 1000; i += 2)
        rs_shm_member_del(&w, sc, g, 3, 0, i);
    ASSERT_EQ(rs_shm_members(&v, sc, g, 3, &ms), RS_SHM_FOUND);
    ASSERT_EQ(ms.n, 500);
    ASSERT_EQ(ms.v[0].serial, 2);
    for (uint64_t i = 2; i <= 1000; i += 2)
        rs_shm_member_del(&w, sc, g, 3, 0, i);
    ASSERT_EQ(rs_shm_members(&v, sc, g, 3, &ms), RS_SHM_ABSENT);
    ASSERT_EQ(rs_shm_find_scope(&v, "s", 1, &si), RS_SHM_FOUND);
    ASSERT_EQ(si.groups, 0);
    ASSERT_EQ(si.members, 0);
    rs_shm_members_fini(&ms);
    rs_shm_writer_fini(&w);
    free(b);
}

/* A region too small for what is written is given up: readers are told to use the socket. */
static void test_full_gives_up(void)
{
    size_t size = RS_SHM_MIN_SIZE;
    uint8_t *b = region(size);
    struct rs_shm_writer w;
    ASSERT_EQ(rs_shm_writer_init(&w, b, size, 1, 1, "a", 1), 0);
    struct rs_shm_view v = {b, size};
    uint32_t sc = rs_shm_scope(&w, "s", 1, ROSTER_SCOPE_EVENTUAL);
    char key[32];
    for (int i = 0; i < 10000 && !w.broken; i++) {
        snprintf(key, sizeof key, "k%d", i);
        rs_shm_name_put(&w, sc, (const uint8_t *)key, strlen(key), 0, 1, 1, NULL, 0);
    }
    ASSERT(w.broken);
    struct rs_shm_pid p;
    struct rs_shm_bytes m = {0};
    ASSERT_EQ(lookup(&v, sc, "k1", &p, &m), RS_SHM_UNAVAIL);
    struct rs_shm_scope_info si;
    ASSERT_EQ(rs_shm_find_scope(&v, "s", 1, &si), RS_SHM_UNAVAIL);
    rs_shm_writer_fini(&w);
    free(b);
}

/* ---- a reader racing the writer ---- */

struct race {
    struct rs_shm_view v;
    uint32_t scope;
    volatile int stop;
    uint64_t reads, found, torn, unavail;
};

/* The writer's metadata of name k is 64 bytes all equal to the low byte of its serial, and
 * its token is serial * 7: a reader that mixes two versions sees it. */
static void *reader(void *arg)
{
    struct race *r = arg;
    struct rs_shm_pid p;
    struct rs_shm_bytes m = {0};
    struct rs_shm_members ms = {0};
    char key[32];
    unsigned i = 0;
    while (!r->stop) {
        snprintf(key, sizeof key, "k%u", i++ % 64);
        int x = rs_shm_lookup(&r->v, r->scope, (const uint8_t *)key, strlen(key), &p, &m);
        r->reads++;
        if (x == RS_SHM_FOUND) {
            r->found++;
            int bad = p.token != p.serial * 7 || m.len != 64;
            for (size_t j = 0; !bad && j < m.len; j++)
                bad = m.data[j] != (uint8_t)p.serial;
            r->torn += bad;
        } else if (x != RS_SHM_ABSENT) {
            r->unavail++; /* retried too often: the caller would ask the socket */
        }
        x = rs_shm_members(&r->v, r->scope, (const uint8_t *)"g", 1, &ms);
        if (x == RS_SHM_FOUND) {
            for (size_t j = 0; j < ms.n; j++) {
                int bad = ms.v[j].meta_len != 8 ||
                          memcmp(ms.meta.data + ms.v[j].meta_off, &ms.v[j].serial, 8) != 0;
                if (j && ms.v[j].serial <= ms.v[j - 1].serial)
                    bad = 1;
                r->torn += bad;
            }
        } else if (x != RS_SHM_ABSENT) {
            r->unavail++;
        }
        /* the allocation-free readers: the same checks on what lands in the caller's room */
        uint8_t mb[64];
        uint64_t inc, ser, tok;
        size_t ml;
        x = rs_shm_lookup_into(&r->v, r->scope, (const uint8_t *)key, strlen(key), &inc, &ser,
                               &tok, mb, sizeof mb, &ml);
        if (x == RS_SHM_FOUND) {
            int bad = tok != ser * 7 || ml != 64;
            for (size_t j = 0; !bad && j < ml; j++)
                bad = mb[j] != (uint8_t)ser;
            r->torn += bad;
        } else if (x != RS_SHM_ABSENT) {
            r->unavail++;
        }
        static __thread uint64_t pairs[2 * 512];
        size_t pn;
        x = rs_shm_member_pids(&r->v, r->scope, (const uint8_t *)"g", 1, 0, pairs, 512, &pn);
        if (x == RS_SHM_FOUND) {
            for (size_t j = 1; j < pn && j < 512; j++)
                r->torn += pairs[2 * j + 1] <= pairs[2 * j - 1]; /* sorted, no duplicate */
        } else if (x != RS_SHM_ABSENT) {
            r->unavail++;
        }
    }
    rs_shm_bytes_fini(&m);
    rs_shm_members_fini(&ms);
    return NULL;
}

static void test_race(void)
{
    uint8_t *b = region(SIZE);
    struct rs_shm_writer w;
    ASSERT_EQ(rs_shm_writer_init(&w, b, SIZE, 9, 5, "a", 1), 0);
    struct race r = {.v = {b, SIZE}};
    r.scope = rs_shm_scope(&w, "s", 1, ROSTER_SCOPE_EVENTUAL);
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, reader, &r), 0);
    char key[32];
    uint8_t meta[64];
    uint64_t rng = 1;
    for (uint64_t s = 1; s <= 2000000; s++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        unsigned k = (unsigned)(rng % 64);
        snprintf(key, sizeof key, "k%u", k);
        if (rng & 0x10000) {
            memset(meta, (int)(s & 0xff), sizeof meta);
            rs_shm_name_put(&w, r.scope, (const uint8_t *)key, strlen(key), 0, s, s * 7, meta,
                            (rng & 0x20000) ? sizeof meta : sizeof meta); /* same size */
        } else {
            rs_shm_name_del(&w, r.scope, (const uint8_t *)key, strlen(key));
        }
        uint64_t ser = (rng >> 40) % 300 + 1;
        if (rng & 0x40000)
            rs_shm_member_put(&w, r.scope, (const uint8_t *)"g", 1, 0, ser,
                              (const uint8_t *)&ser, 8);
        else
            rs_shm_member_del(&w, r.scope, (const uint8_t *)"g", 1, 0, ser);
        /* other keys come and go too: entry blocks are reused across buckets */
        snprintf(key, sizeof key, "other%u", (unsigned)(rng >> 24) % 5000);
        if (rng & 0x80000)
            rs_shm_name_put(&w, r.scope, (const uint8_t *)key, strlen(key), 0, s, s * 7, meta,
                            sizeof meta);
        else
            rs_shm_name_del(&w, r.scope, (const uint8_t *)key, strlen(key));
    }
    r.stop = 1;
    pthread_join(th, NULL);
    fprintf(stderr, "reads %llu found %llu torn %llu gave up %llu\n",
            (unsigned long long)r.reads, (unsigned long long)r.found,
            (unsigned long long)r.torn, (unsigned long long)r.unavail);
    ASSERT(r.reads > 1000);
    ASSERT(r.found > 0);
    ASSERT_EQ(r.torn, 0);
    ASSERT(r.unavail * 100 < r.reads); /* a writer this busy starves a few reads, no more */
    rs_shm_writer_fini(&w);
    free(b);
}

/* Garbage where the region should be: every read ends (UNAVAIL or ABSENT), none crashes. */
static void test_corrupt(void)
{
    uint8_t *b = region(SIZE);
    struct rs_shm_writer w;
    ASSERT_EQ(rs_shm_writer_init(&w, b, SIZE, 3, 5, "a", 1), 0);
    uint32_t sc = rs_shm_scope(&w, "s", 1, ROSTER_SCOPE_EVENTUAL);
    char key[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        rs_shm_name_put(&w, sc, (const uint8_t *)key, strlen(key), 0, 1, 1, NULL, 0);
        rs_shm_member_put(&w, sc, (const uint8_t *)"g", 1, 0, (uint64_t)i + 1, NULL, 0);
    }
    struct rs_shm_view v = {b, SIZE};
    uint64_t rng = 5;
    struct rs_shm_pid p;
    struct rs_shm_bytes m = {0};
    struct rs_shm_members ms = {0};
    for (int round = 0; round < 4000; round++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t at = 24 + (size_t)(rng % (w.used - 24));
        b[at] = (uint8_t)(rng >> 40);
        snprintf(key, sizeof key, "k%d", (int)(rng >> 50) % 3000);
        int r = lookup(&v, sc, key, &p, &m);
        ASSERT(r == RS_SHM_FOUND || r == RS_SHM_ABSENT || r == RS_SHM_UNAVAIL);
        r = rs_shm_members(&v, sc, (const uint8_t *)"g", 1, &ms);
        ASSERT(r == RS_SHM_FOUND || r == RS_SHM_ABSENT || r == RS_SHM_UNAVAIL);
        uint64_t pairs[2 * 64], inc, serial, token;
        size_t n, ml;
        r = rs_shm_member_pids(&v, sc, (const uint8_t *)"g", 1, 0, pairs, 64, &n);
        ASSERT(r == RS_SHM_FOUND || r == RS_SHM_ABSENT || r == RS_SHM_UNAVAIL);
        char mb[8];
        r = rs_shm_lookup_into(&v, sc, (const uint8_t *)key, strlen(key), &inc, &serial, &token,
                               mb, sizeof mb, &ml);
        ASSERT(r == RS_SHM_FOUND || r == RS_SHM_ABSENT || r == RS_SHM_UNAVAIL);
    }
    rs_shm_bytes_fini(&m);
    rs_shm_members_fini(&ms);
    rs_shm_writer_fini(&w);
    free(b);
}

TEST_MAIN(T(test_names_model), T(test_groups), T(test_full_gives_up), T(test_race),
          T(test_corrupt))
