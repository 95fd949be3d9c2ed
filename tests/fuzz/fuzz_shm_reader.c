/* fuzz_shm_reader.c: fuzz target for libroster's reader of the node's shared-memory region
 * (src/wire/shm_read.c). The region is outside data for a client (docs/SHM.md): whatever
 * its bytes, a read must end (FOUND, ABSENT or UNAVAIL) without reading outside the mapping.
 * A real region is built once (names with metadata, groups of several sizes, two nodes,
 * two scopes); each input is a list of patches (u32 offset, u8 length, bytes) applied to a
 * copy held in an exact-size heap block (so ASan sees any read past it), then every kind of
 * read runs on it (the allocating copies and the ones into a caller's fixed room). The first byte of the input picks whether offsets aim at the published
 * part (entries, arrays) or anywhere (header, node table). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/shm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SIZE RS_SHM_MIN_SIZE

static uint8_t *pristine;
static uint32_t scope_a, scope_b, used;

static void build(void)
{
    pristine = calloc(1, SIZE);
    struct rs_shm_writer w;
    if (!pristine || rs_shm_writer_init(&w, pristine, SIZE, 77, 0x1111, "a", 1) != 0)
        abort();
    scope_a = rs_shm_scope(&w, "default", 7, 1);
    scope_b = rs_shm_scope(&w, "other", 5, 1);
    int nb = rs_shm_node(&w, 0x2222, "bee", 3);
    char key[16], meta[40];
    for (int i = 0; i < 40; i++) {
        int kl = snprintf(key, sizeof key, "n%d", i);
        memset(meta, 'a' + i % 26, sizeof meta);
        rs_shm_name_put(&w, i % 3 ? scope_a : scope_b, (const uint8_t *)key, (size_t)kl,
                        i % 2 ? nb : 0, (uint64_t)i + 1, (uint64_t)i * 9, (const uint8_t *)meta,
                        (size_t)(i % 7) * 5);
    }
    for (int g = 0; g < 4; g++)
        for (int i = 0; i <= g * 9; i++) {
            int kl = snprintf(key, sizeof key, "g%d", g);
            rs_shm_member_put(&w, scope_a, (const uint8_t *)key, (size_t)kl, i % 2 ? nb : 0,
                              (uint64_t)i + 1, (const uint8_t *)meta, (size_t)(i % 4) * 3);
        }
    used = w.used;
    rs_shm_writer_fini(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pristine)
        build();
    uint8_t *r = malloc(SIZE);
    if (!r)
        return 0;
    memcpy(r, pristine, SIZE);
    int anywhere = size && (data[0] & 1);
    size_t i = size ? 1 : 0;
    while (i + 5 <= size) {
        uint32_t off;
        memcpy(&off, data + i, 4);
        size_t n = data[i + 4] % 16;
        i += 5;
        if (n > size - i)
            n = size - i;
        off = anywhere ? off % SIZE : RS_SHM_DATA_START + off % (used - RS_SHM_DATA_START);
        if (n > SIZE - off)
            n = SIZE - off;
        memcpy(r + off, data + i, n);
        i += n;
    }
    struct rs_shm_view v = {r, SIZE};
    if (rs_shm_view_check(&v) == 0) {
        struct rs_shm_scope_info si;
        uint32_t soff = 0;
        if (rs_shm_find_scope(&v, "default", 7, &si) == RS_SHM_FOUND)
            soff = si.off;
        (void)rs_shm_find_scope(&v, "nosuch", 6, &si);
        /* a remembered record read again, and offsets that are no record at all */
        (void)rs_shm_scope_at(&v, soff, scope_a, "default", 7, &si);
        (void)rs_shm_scope_at(&v, soff + 8u, scope_a, "default", 7, &si);
        (void)rs_shm_scope_at(&v, used - 8u, scope_a, "default", 7, &si);
        if (size >= 5) {
            uint32_t any;
            memcpy(&any, data + 1, 4);
            (void)rs_shm_scope_at(&v, any, scope_a, "default", 7, &si);
        }
        struct rs_shm_pid p;
        struct rs_shm_bytes meta = {0};
        struct rs_shm_members ms = {0};
        char key[16];
        for (int k = 0; k < 42; k += 3) {
            int kl = snprintf(key, sizeof key, "n%d", k);
            (void)rs_shm_lookup(&v, k % 3 ? scope_a : scope_b, (const uint8_t *)key,
                                (size_t)kl, &p, &meta);
        }
        for (int g = 0; g < 5; g++) {
            int kl = snprintf(key, sizeof key, "g%d", g);
            if (rs_shm_members(&v, scope_a, (const uint8_t *)key, (size_t)kl, &ms) ==
                RS_SHM_FOUND)
                for (size_t m = 0; m < ms.n; m++)
                    if (ms.v[m].meta_off + ms.v[m].meta_len > ms.meta.len)
                        abort(); /* the copy describes only bytes it copied */
            (void)rs_shm_is_member(&v, scope_a, (const uint8_t *)key, (size_t)kl, 0x1111, 3);
            /* the allocation-free copy into a caller's array: never past cap pairs */
            uint64_t pairs[2 * 8 + 2];
            size_t n = 0;
            pairs[16] = pairs[17] = 0x5a5a5a5a5a5a5a5aull;
            (void)rs_shm_member_pids(&v, scope_a, (const uint8_t *)key, (size_t)kl,
                                     g % 2 ? 0x2222 : 0, pairs, 8, &n);
            if (pairs[16] != 0x5a5a5a5a5a5a5a5aull || pairs[17] != 0x5a5a5a5a5a5a5a5aull)
                abort();
        }
        for (int k = 1; k < 42; k += 4) {
            int kl = snprintf(key, sizeof key, "n%d", k);
            char mb[17];
            mb[16] = 0x5a;
            uint64_t inc = 0, serial = 0, token = 0;
            size_t ml = 0;
            (void)rs_shm_lookup_into(&v, k % 3 ? scope_a : scope_b, (const uint8_t *)key,
                                     (size_t)kl, &inc, &serial, &token, mb, 16, &ml);
            if (mb[16] != 0x5a)
                abort(); /* wrote past the caller's room */
        }
        char node[RS_SHM_NODE_REC];
        uint64_t inc;
        for (uint32_t k = 0; k < 4; k++)
            (void)rs_shm_node_name(&v, k, node, sizeof node, &inc);
        rs_shm_bytes_fini(&meta);
        rs_shm_members_fini(&ms);
    }
    free(r);
    return 0;
}
