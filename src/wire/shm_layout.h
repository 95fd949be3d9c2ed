/* shm_layout.h: byte offsets inside a region's entries and the atomic accessors that both
 * halves of the region code (shm_write.c, shm_read.c) use; private to src/wire. */
#ifndef ROSTER_WIRE_SHM_LAYOUT_H
#define ROSTER_WIRE_SHM_LAYOUT_H

#include <stdint.h>
#include <string.h>

#include "wire/shm.h"

/* An entry (name or group), 8-aligned, in the index chains. */
#define E_SEQ 0     /* u32 seqlock: odd while the writer changes the entry */
#define E_NEXT 4    /* u32 next entry of its bucket (0: end) */
#define E_HASH 8    /* u32 */
#define E_SCOPE 12  /* u16 */
#define E_NODE 14   /* u16 name: holder's node index */
#define E_KLEN 16   /* u16 */
#define E_KIND 18   /* u8 RS_SHM_NAME / RS_SHM_GROUP */
#define E_MLEN 20   /* u32 name: metadata bytes; group: member count */
#define E_SERIAL 24 /* u64 name: holder's serial */
#define E_ARR 24    /* u32 group: member array offset */
#define E_ARRCAP 28 /* u32 group: member array capacity (records) */
#define E_TOKEN 32  /* u64 name: the claim's stamp */
#define E_KEY RS_SHM_ENT_HDR

/* A member record in a group's array (sorted by inc, serial). */
#define M_INC 0
#define M_SERIAL 8
#define M_META 16 /* u32 offset of a blob (u32 len, bytes), 0: empty metadata */
#define M_NODE 20 /* u16 */

/* A scope record. */
#define S_SEQ 0
#define S_NEXT 4
#define S_ID 8
#define S_MODE 12
#define S_GONE 16
#define S_NLEN 20
#define S_NAMES 24
#define S_GROUPS 32
#define S_MEMBERS 40
#define S_NAME 48

/* A node record (index i at RS_SHM_HDR_SIZE + i * RS_SHM_NODE_REC). */
#define N_INC 0
#define N_NLEN 8
#define N_NAME 12

static inline uint32_t shm_ld32(const uint8_t *b, size_t off)
{
    return __atomic_load_n((const uint32_t *)(const void *)(b + off), __ATOMIC_ACQUIRE);
}
static inline uint32_t shm_ld32r(const uint8_t *b, size_t off)
{
    return __atomic_load_n((const uint32_t *)(const void *)(b + off), __ATOMIC_RELAXED);
}
static inline void shm_st32(uint8_t *b, size_t off, uint32_t v)
{
    __atomic_store_n((uint32_t *)(void *)(b + off), v, __ATOMIC_RELEASE);
}
static inline uint64_t shm_ld64r(const uint8_t *b, size_t off)
{
    return __atomic_load_n((const uint64_t *)(const void *)(b + off), __ATOMIC_RELAXED);
}
static inline void shm_st64r(uint8_t *b, size_t off, uint64_t v)
{
    __atomic_store_n((uint64_t *)(void *)(b + off), v, __ATOMIC_RELAXED);
}
/* Plain field reads (inside a seqlock window, or by the writer). */
static inline uint16_t shm_u16(const uint8_t *b, size_t off)
{
    uint16_t v;
    memcpy(&v, b + off, 2);
    return v;
}
static inline uint32_t shm_u32(const uint8_t *b, size_t off)
{
    uint32_t v;
    memcpy(&v, b + off, 4);
    return v;
}
static inline uint64_t shm_u64(const uint8_t *b, size_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

/* The index hash: seeded, over scope, kind and key (both sides compute it). */
static inline uint32_t shm_hash(uint64_t seed, uint32_t scope, uint32_t kind,
                                const uint8_t *p, size_t n)
{
    uint64_t h = seed ^ ((uint64_t)scope << 8 | kind) ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    /* The tail's bytes, little-endian (what a memcpy into w gives on x86), assembled in a
     * register: a memcpy of a variable length went through the stack, and the 8-byte load
     * after byte stores stalled on store forwarding (a fifth of the writer's hash). */
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8u * i);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static inline uint32_t shm_round8(size_t n) { return (uint32_t)((n + 7u) & ~(size_t)7u); }

#endif
