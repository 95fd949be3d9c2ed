/* shm_write.c: the node's side of the shared-memory region (layout: shm.h, shm_layout.h).
 * One writer, the node's loop thread; readers in other processes never block it. Every
 * change of an entry a reader can reach is bracketed by the entry's seqlock (odd, write,
 * even); a freed entry's sequence moves too, so a reader that held it retries. Freed blocks
 * are reused only for blocks of the same kind and size (an entry stays an entry: its
 * sequence word keeps counting up), from free lists kept in the node's own memory. */
#include "base/alloc.h"
#include <string.h>

#include "wire/shm.h"
#include "wire/shm_layout.h"

enum { CL_ENT = 0, CL_RAW = 1 }; /* entries; arrays, blobs, bucket arrays, scope records */

/* Freed blocks of CARVE_MIN bytes or more (old bucket arrays, big member arrays) are not
 * kept by size: new entries are cut from them (CARVES ranges at most; more are lost to
 * reuse). They were never entries, so no reader can hold an entry pointer into them. */
#define CARVE_MIN (16u * 1024u)
#define CARVES 64

struct rs_shm_priv {
    uint32_t *heads[2]; /* per class, per size in 8-byte units: first free block */
    size_t cap[2];
    uint32_t carve_off[CARVES], carve_end[CARVES];
    size_t n_carves;
    uint32_t *scope_off; /* scope id -> record offset */
    size_t n_scopes;
};

static uint8_t *at(struct rs_shm_writer *w, uint32_t off) { return w->base + off; }

static void seq_begin(struct rs_shm_writer *w, uint32_t off)
{
    uint8_t *e = at(w, off);
    __atomic_store_n((uint32_t *)(void *)e, shm_u32(e, E_SEQ) + 1u, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_end(struct rs_shm_writer *w, uint32_t off)
{
    uint8_t *e = at(w, off);
    shm_st32(e, E_SEQ, shm_u32(e, E_SEQ) + 1u);
}

void rs_shm_give_up(struct rs_shm_writer *w)
{
    if (w->base && !w->broken)
        shm_st32(w->base, RS_SHM_H_STATE, 1);
    w->broken = 1;
}

/* ---- allocation ---- */

static uint32_t alloc(struct rs_shm_writer *w, int cl, uint32_t size)
{
    struct rs_shm_priv *p = w->p;
    size_t units = size / 8u;
    if (units < p->cap[cl] && p->heads[cl][units]) {
        uint32_t off = p->heads[cl][units];
        p->heads[cl][units] = shm_u32(at(w, off), cl == CL_ENT ? E_NEXT : 0);
        w->bytes_free -= size;
        return off;
    }
    while (cl == CL_ENT && p->n_carves) {
        size_t k = p->n_carves - 1;
        if (p->carve_end[k] - p->carve_off[k] >= size) {
            uint32_t off = p->carve_off[k];
            p->carve_off[k] += size;
            w->bytes_free -= size;
            memset(at(w, off), 0, E_KEY); /* a sequence word starting at 0, even */
            return off;
        }
        p->n_carves--; /* the tail too small for this entry stays unused */
    }
    if ((uint64_t)w->used + size > w->size)
        return 0;
    uint32_t off = w->used;
    w->used += size;
    shm_st32(w->base, RS_SHM_H_USED, w->used);
    return off;
}

static void release(struct rs_shm_writer *w, int cl, uint32_t off, uint32_t size)
{
    struct rs_shm_priv *p = w->p;
    size_t units = size / 8u;
    if (cl == CL_RAW && size >= CARVE_MIN) {
        if (p->n_carves < CARVES) {
            p->carve_off[p->n_carves] = off;
            p->carve_end[p->n_carves++] = off + size;
            w->bytes_free += size;
        }
        return;
    }
    if (units >= p->cap[cl]) {
        size_t nc = p->cap[cl] ? p->cap[cl] : 64;
        while (nc <= units)
            nc *= 2;
        uint32_t *h = rs_realloc(p->heads[cl], nc * sizeof *h);
        if (!h)
            return; /* the block is lost to reuse, not to correctness */
        memset(h + p->cap[cl], 0, (nc - p->cap[cl]) * sizeof *h);
        p->heads[cl] = h;
        p->cap[cl] = nc;
    }
    uint8_t *b = at(w, off);
    if (cl == CL_ENT) {
        /* A reader may hold it: move its sequence on, so it retries. */
        seq_begin(w, off);
        memcpy(b + E_NEXT, &p->heads[cl][units], 4);
        seq_end(w, off);
    } else {
        memcpy(b, &p->heads[cl][units], 4);
    }
    p->heads[cl][units] = off;
    w->bytes_free += size;
}

static uint32_t ent_size(const uint8_t *e)
{
    if (e[E_KIND] == RS_SHM_GROUP)
        return shm_round8(E_KEY + shm_u16(e, E_KLEN));
    return shm_round8(E_KEY + (size_t)shm_u16(e, E_KLEN) + shm_u32(e, E_MLEN));
}

/* ---- the index ---- */

static uint32_t bucket_slot(struct rs_shm_writer *w, uint32_t hash)
{
    return shm_u32(w->base, RS_SHM_H_BUCKETS) + (hash & (w->n_buckets - 1u)) * 4u;
}

/* find returns the entry's offset (0: none) and the offset of the word linking to it. */
static uint32_t find(struct rs_shm_writer *w, uint32_t scope, uint32_t kind, const uint8_t *key,
                     size_t klen, uint32_t hash, uint32_t *link)
{
    uint32_t l = bucket_slot(w, hash);
    uint32_t off = shm_u32(w->base, l);
    while (off) {
        const uint8_t *e = at(w, off);
        if (shm_u32(e, E_HASH) == hash && shm_u16(e, E_SCOPE) == scope && e[E_KIND] == kind &&
            shm_u16(e, E_KLEN) == klen && memcmp(e + E_KEY, key, klen) == 0) {
            *link = l;
            return off;
        }
        l = off + E_NEXT;
        off = shm_u32(e, E_NEXT);
    }
    *link = bucket_slot(w, hash);
    return 0;
}

/* grow makes the bucket array 4 times larger; readers see the index sequence odd meanwhile
 * and retry. A rehash touches every entry (a cache miss each): growing by 4 rather than 2
 * moves each entry a third as often, for buckets 1/4 to 1 full (4 to 16 bytes a name). */
static void grow(struct rs_shm_writer *w)
{
    uint32_t nb = w->n_buckets * 4u;
    if (nb <= w->n_buckets || (uint64_t)nb * 4u > w->size / 4u)
        return; /* chains get longer instead */
    uint32_t fresh = w->used;
    uint32_t na = alloc(w, CL_RAW, nb * 4u);
    if (!na)
        return;
    if (na < fresh) /* reused; fresh pages of the file are zero already (and untouched) */
        memset(at(w, na), 0, (size_t)nb * 4u);
    uint32_t oa = shm_u32(w->base, RS_SHM_H_BUCKETS), ob = w->n_buckets;
    uint32_t iseq = shm_u32(w->base, RS_SHM_H_INDEX_SEQ);
    __atomic_store_n((uint32_t *)(void *)(w->base + RS_SHM_H_INDEX_SEQ), iseq + 1u,
                     __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (uint32_t i = 0; i < ob; i++) {
        /* Chains are short (at most about one entry per bucket) and each entry is a cache
         * miss: start loading the heads of buckets a little ahead, so that the misses
         * overlap instead of being taken one after another. */
        if (i + 16u < ob) {
            uint32_t ahead = shm_u32(at(w, oa), (i + 16u) * 4u);
            if (ahead)
                __builtin_prefetch(at(w, ahead), 1, 3);
        }
        uint32_t off = shm_u32(at(w, oa), i * 4u);
        while (off) {
            uint8_t *e = at(w, off);
            uint32_t next = shm_u32(e, E_NEXT);
            uint32_t slot = na + (shm_u32(e, E_HASH) & (nb - 1u)) * 4u;
            memcpy(e + E_NEXT, w->base + slot, 4);
            memcpy(w->base + slot, &off, 4);
            off = next;
        }
    }
    memcpy(w->base + RS_SHM_H_BUCKETS, &na, 4);
    uint32_t mask = nb - 1u;
    memcpy(w->base + RS_SHM_H_MASK, &mask, 4);
    w->n_buckets = nb;
    shm_st32(w->base, RS_SHM_H_INDEX_SEQ, iseq + 2u);
    release(w, CL_RAW, oa, ob * 4u);
}

/* ---- setup ---- */

int rs_shm_writer_init(struct rs_shm_writer *w, void *base, size_t size, uint64_t seed,
                       uint64_t inc, const char *node, size_t node_len)
{
    memset(w, 0, sizeof *w);
    if (!base || size < RS_SHM_MIN_SIZE || size > RS_SHM_MAX_SIZE || node_len > 64)
        return -1;
    w->p = rs_calloc(1, sizeof *w->p);
    w->node_incs = rs_calloc(RS_SHM_NODES_MAX, sizeof *w->node_incs);
    if (!w->p || !w->node_incs) {
        rs_shm_writer_fini(w);
        return -1;
    }
    w->base = base;
    w->size = size;
    w->seed = seed;
    w->used = RS_SHM_DATA_START;
    w->next_scope_id = 1;
    uint64_t magic = RS_SHM_MAGIC, sz = size;
    uint32_t version = RS_SHM_VERSION;
    memcpy(w->base + RS_SHM_H_VERSION, &version, 4);
    memcpy(w->base + RS_SHM_H_SIZE, &sz, 8);
    memcpy(w->base + RS_SHM_H_SEED, &seed, 8);
    shm_st32(w->base, RS_SHM_H_USED, w->used);
    w->n_buckets = 4096;
    uint32_t b = alloc(w, CL_RAW, w->n_buckets * 4u), mask = w->n_buckets - 1u;
    memset(at(w, b), 0, w->n_buckets * 4u); /* the caller's memory: zeroed as the contract
                                               says, but cheap to be sure */
    memcpy(w->base + RS_SHM_H_BUCKETS, &b, 4);
    memcpy(w->base + RS_SHM_H_MASK, &mask, 4);
    if (rs_shm_node(w, inc, node, node_len) != 0) {
        rs_shm_writer_fini(w);
        return -1;
    }
    /* Last: a reader accepts the region only once the magic is there. */
    __atomic_store_n((uint64_t *)(void *)(w->base + RS_SHM_H_MAGIC), magic, __ATOMIC_RELEASE);
    return 0;
}

void rs_shm_writer_fini(struct rs_shm_writer *w)
{
    if (w->p) {
        rs_free(w->p->heads[0]);
        rs_free(w->p->heads[1]);
        rs_free(w->p->scope_off);
        rs_free(w->p);
    }
    rs_free(w->node_incs);
    memset(w, 0, sizeof *w);
}

int rs_shm_node(struct rs_shm_writer *w, uint64_t inc, const char *name, size_t len)
{
    for (uint32_t i = 0; i < w->n_nodes; i++)
        if (w->node_incs[i] == inc)
            return (int)i;
    if (w->n_nodes >= RS_SHM_NODES_MAX || len > 64) {
        rs_shm_give_up(w);
        return -1;
    }
    uint32_t i = w->n_nodes++;
    uint8_t *r = w->base + RS_SHM_HDR_SIZE + (size_t)i * RS_SHM_NODE_REC;
    uint32_t l = (uint32_t)len;
    memcpy(r + N_INC, &inc, 8);
    memcpy(r + N_NLEN, &l, 4);
    memcpy(r + N_NAME, name, len);
    r[N_NAME + len] = 0;
    w->node_incs[i] = inc;
    shm_st32(w->base, RS_SHM_H_NODES, w->n_nodes);
    return (int)i;
}

static uint32_t scope_rec(struct rs_shm_writer *w, uint32_t id)
{
    return id && id <= w->p->n_scopes ? w->p->scope_off[id - 1] : 0;
}

uint32_t rs_shm_scope(struct rs_shm_writer *w, const char *name, size_t len, uint32_t mode)
{
    if (w->broken || len > 255)
        return 0;
    for (size_t i = 0; i < w->p->n_scopes; i++) {
        const uint8_t *s = at(w, w->p->scope_off[i]);
        if (!shm_u32(s, S_GONE) && shm_u32(s, S_NLEN) == len && memcmp(s + S_NAME, name, len) == 0)
            return (uint32_t)i + 1u;
    }
    if (w->next_scope_id > 0xffffu) {
        rs_shm_give_up(w);
        return 0;
    }
    uint32_t *so = rs_realloc(w->p->scope_off, (w->p->n_scopes + 1) * sizeof *so);
    if (!so) {
        rs_shm_give_up(w);
        return 0;
    }
    w->p->scope_off = so;
    uint32_t off = alloc(w, CL_RAW, RS_SHM_SCOPE_REC);
    if (!off) {
        rs_shm_give_up(w);
        return 0;
    }
    uint8_t *s = at(w, off);
    memset(s, 0, RS_SHM_SCOPE_REC);
    uint32_t id = w->next_scope_id++, l = (uint32_t)len;
    memcpy(s + S_NEXT, w->base + RS_SHM_H_SCOPES, 4);
    memcpy(s + S_ID, &id, 4);
    memcpy(s + S_MODE, &mode, 4);
    memcpy(s + S_NLEN, &l, 4);
    memcpy(s + S_NAME, name, len);
    so[w->p->n_scopes++] = off;
    shm_st32(w->base, RS_SHM_H_SCOPES, off);
    return id;
}

void rs_shm_scope_gone(struct rs_shm_writer *w, uint32_t id)
{
    uint32_t off = scope_rec(w, id);
    if (off)
        shm_st32(w->base, off + S_GONE, 1);
}

static void count(struct rs_shm_writer *w, uint32_t scope, size_t field, int64_t d)
{
    uint32_t off = scope_rec(w, scope);
    if (off)
        shm_st64r(w->base, off + field, shm_u64(w->base, off + field) + (uint64_t)d);
}

/* ---- names ---- */

static void name_fill(uint8_t *e, int node, uint64_t serial, uint64_t token,
                      const uint8_t *meta, size_t mlen, size_t klen)
{
    uint16_t n = (uint16_t)node;
    uint32_t ml = (uint32_t)mlen;
    memcpy(e + E_NODE, &n, 2);
    memcpy(e + E_MLEN, &ml, 4);
    memcpy(e + E_SERIAL, &serial, 8);
    memcpy(e + E_TOKEN, &token, 8);
    if (mlen)
        memcpy(e + E_KEY + klen, meta, mlen);
}

/* new_entry takes a block for an entry and fills it under its sequence (a stale reader may
 * still look at a reused block); it is linked by the caller. */
static uint32_t new_entry(struct rs_shm_writer *w, uint32_t size, uint32_t scope,
                          uint32_t kind, const uint8_t *key, size_t klen, uint32_t hash)
{
    uint32_t off = alloc(w, CL_ENT, size);
    if (!off)
        return 0;
    seq_begin(w, off);
    uint8_t *e = at(w, off);
    uint16_t sc = (uint16_t)scope, kl = (uint16_t)klen;
    memcpy(e + E_HASH, &hash, 4);
    memcpy(e + E_SCOPE, &sc, 2);
    memcpy(e + E_KLEN, &kl, 2);
    e[E_KIND] = (uint8_t)kind;
    memset(e + E_MLEN, 0, E_KEY - E_MLEN);
    memcpy(e + E_KEY, key, klen);
    return off;
}

static int fits(struct rs_shm_writer *w, uint32_t scope, size_t klen, size_t mlen, int node)
{
    if (w->broken || !scope || node < 0)
        return 0;
    if (klen > 0xffffu || mlen > 0x7fffffffu) {
        rs_shm_give_up(w); /* cannot show it: readers must not see a wrong answer */
        return 0;
    }
    return 1;
}

static void name_put(struct rs_shm_writer *w, uint32_t scope, const uint8_t *key, size_t klen,
                     int node, uint64_t serial, uint64_t token, const uint8_t *meta,
                     size_t mlen, int fresh)
{
    if (!fits(w, scope, klen, mlen, node))
        return;
    uint32_t hash = shm_hash(w->seed, scope, RS_SHM_NAME, key, klen), link, old = 0;
    if (fresh)
        link = bucket_slot(w, hash); /* the caller knows the key is absent: no walk */
    else
        old = find(w, scope, RS_SHM_NAME, key, klen, hash, &link);
    uint32_t size = shm_round8(E_KEY + klen + mlen);
    if (old && ent_size(at(w, old)) == size) {
        seq_begin(w, old);
        name_fill(at(w, old), node, serial, token, meta, mlen, klen);
        seq_end(w, old);
        return;
    }
    uint32_t off = new_entry(w, size, scope, RS_SHM_NAME, key, klen, hash);
    if (!off) {
        rs_shm_give_up(w);
        return;
    }
    uint8_t *e = at(w, off);
    name_fill(e, node, serial, token, meta, mlen, klen);
    uint32_t next = old ? shm_u32(at(w, old), E_NEXT) : shm_u32(w->base, link);
    memcpy(e + E_NEXT, &next, 4);
    seq_end(w, off);
    shm_st32(w->base, link, off);
    if (old) {
        release(w, CL_ENT, old, ent_size(at(w, old)));
        return;
    }
    w->n_entries++;
    count(w, scope, S_NAMES, 1);
    if (w->n_entries > w->n_buckets)
        grow(w);
}

void rs_shm_name_put(struct rs_shm_writer *w, uint32_t scope, const uint8_t *key, size_t klen,
                     int node, uint64_t serial, uint64_t token, const uint8_t *meta,
                     size_t mlen)
{
    name_put(w, scope, key, klen, node, serial, token, meta, mlen, 0);
}

void rs_shm_name_add(struct rs_shm_writer *w, uint32_t scope, const uint8_t *key, size_t klen,
                     int node, uint64_t serial, uint64_t token, const uint8_t *meta,
                     size_t mlen)
{
    name_put(w, scope, key, klen, node, serial, token, meta, mlen, 1);
}

void rs_shm_name_prefetch(const struct rs_shm_writer *w, uint32_t scope, const uint8_t *key,
                          size_t klen)
{
    if (w->broken || !scope || klen > 0xffffu)
        return;
    uint32_t hash = shm_hash(w->seed, scope, RS_SHM_NAME, key, klen);
    uint32_t slot = shm_u32(w->base, RS_SHM_H_BUCKETS) + (hash & (w->n_buckets - 1u)) * 4u;
    __builtin_prefetch(w->base + slot, 1, 3);
}

static void unlink_entry(struct rs_shm_writer *w, uint32_t off, uint32_t link)
{
    shm_st32(w->base, link, shm_u32(at(w, off), E_NEXT));
    release(w, CL_ENT, off, ent_size(at(w, off)));
    w->n_entries--;
}

void rs_shm_name_del(struct rs_shm_writer *w, uint32_t scope, const uint8_t *key, size_t klen)
{
    if (w->broken || !scope || klen > 0xffffu)
        return;
    uint32_t hash = shm_hash(w->seed, scope, RS_SHM_NAME, key, klen), link;
    uint32_t off = find(w, scope, RS_SHM_NAME, key, klen, hash, &link);
    if (!off)
        return;
    unlink_entry(w, off, link);
    count(w, scope, S_NAMES, -1);
}

/* ---- groups ---- */

static int pid_cmp(const uint8_t *rec, uint64_t inc, uint64_t serial)
{
    uint64_t a = shm_u64(rec, M_INC), s = shm_u64(rec, M_SERIAL);
    if (a != inc)
        return a < inc ? -1 : 1;
    return s < serial ? -1 : s > serial ? 1 : 0;
}

/* bsearch: index of (inc, serial) in the array, or where it would go (*found 0). */
static uint32_t search(const uint8_t *arr, uint32_t n, uint64_t inc, uint64_t serial,
                       int *found)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        int c = pid_cmp(arr + (size_t)mid * RS_SHM_MEMBER_REC, inc, serial);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static void blob_free(struct rs_shm_writer *w, uint32_t off)
{
    if (off)
        release(w, CL_RAW, off, shm_round8(4u + shm_u32(at(w, off), 0)));
}

void rs_shm_member_put(struct rs_shm_writer *w, uint32_t scope, const uint8_t *group,
                       size_t glen, int node, uint64_t serial, const uint8_t *meta,
                       size_t mlen)
{
    if (!fits(w, scope, glen, mlen, node))
        return;
    uint64_t inc = w->node_incs[node];
    uint32_t hash = shm_hash(w->seed, scope, RS_SHM_GROUP, group, glen), link;
    uint32_t g = find(w, scope, RS_SHM_GROUP, group, glen, hash, &link);
    if (!g) {
        g = new_entry(w, shm_round8(E_KEY + glen), scope, RS_SHM_GROUP, group, glen, hash);
        if (!g) {
            rs_shm_give_up(w);
            return;
        }
        uint32_t head = shm_u32(w->base, link);
        memcpy(at(w, g) + E_NEXT, &head, 4);
        seq_end(w, g);
        shm_st32(w->base, link, g);
        w->n_entries++;
        count(w, scope, S_GROUPS, 1);
        if (w->n_entries > w->n_buckets)
            grow(w);
    }
    uint32_t blob = 0;
    if (mlen) {
        blob = alloc(w, CL_RAW, shm_round8(4u + mlen));
        if (!blob) {
            rs_shm_give_up(w);
            return;
        }
        uint32_t l = (uint32_t)mlen;
        memcpy(at(w, blob), &l, 4);
        memcpy(at(w, blob) + 4, meta, mlen);
    }
    uint8_t *e = at(w, g);
    uint32_t n = shm_u32(e, E_MLEN), arr = shm_u32(e, E_ARR), cap = shm_u32(e, E_ARRCAP);
    int found;
    uint32_t i = arr ? search(at(w, arr), n, inc, serial, &found) : (found = 0, 0);
    if (found) {
        uint8_t *rec = at(w, arr) + (size_t)i * RS_SHM_MEMBER_REC;
        uint32_t old = shm_u32(rec, M_META);
        uint16_t nd = (uint16_t)node;
        seq_begin(w, g);
        memcpy(rec + M_META, &blob, 4);
        memcpy(rec + M_NODE, &nd, 2);
        seq_end(w, g);
        blob_free(w, old);
        return;
    }
    uint8_t recb[RS_SHM_MEMBER_REC];
    memset(recb, 0, sizeof recb);
    uint16_t nd = (uint16_t)node;
    memcpy(recb + M_INC, &inc, 8);
    memcpy(recb + M_SERIAL, &serial, 8);
    memcpy(recb + M_META, &blob, 4);
    memcpy(recb + M_NODE, &nd, 2);
    size_t R = RS_SHM_MEMBER_REC;
    if (n == cap) {
        uint32_t ncap = cap ? cap * 2u : 4u;
        uint32_t na = (uint64_t)ncap * R > w->size ? 0 : alloc(w, CL_RAW, (uint32_t)(ncap * R));
        if (!na) {
            blob_free(w, blob);
            rs_shm_give_up(w);
            return;
        }
        uint8_t *d = at(w, na);
        if (n) {
            memcpy(d, at(w, arr), i * R);
            memcpy(d + (i + 1) * R, at(w, arr) + i * R, (n - i) * R);
        }
        memcpy(d + i * R, recb, R);
        n++;
        seq_begin(w, g);
        memcpy(e + E_ARR, &na, 4);
        memcpy(e + E_ARRCAP, &ncap, 4);
        memcpy(e + E_MLEN, &n, 4);
        seq_end(w, g);
        if (arr)
            release(w, CL_RAW, arr, (uint32_t)(cap * R));
    } else {
        uint8_t *d = at(w, arr);
        seq_begin(w, g);
        memmove(d + (i + 1) * R, d + i * R, (n - i) * R);
        memcpy(d + i * R, recb, R);
        n++;
        memcpy(e + E_MLEN, &n, 4);
        seq_end(w, g);
    }
    count(w, scope, S_MEMBERS, 1);
}

void rs_shm_member_del(struct rs_shm_writer *w, uint32_t scope, const uint8_t *group,
                       size_t glen, int node, uint64_t serial)
{
    if (w->broken || !scope || glen > 0xffffu || node < 0)
        return;
    uint64_t inc = w->node_incs[node];
    uint32_t hash = shm_hash(w->seed, scope, RS_SHM_GROUP, group, glen), link;
    uint32_t g = find(w, scope, RS_SHM_GROUP, group, glen, hash, &link);
    if (!g)
        return;
    uint8_t *e = at(w, g);
    uint32_t n = shm_u32(e, E_MLEN), arr = shm_u32(e, E_ARR), cap = shm_u32(e, E_ARRCAP);
    int found;
    uint32_t i = arr ? search(at(w, arr), n, inc, serial, &found) : (found = 0, 0);
    if (!found)
        return;
    size_t R = RS_SHM_MEMBER_REC;
    uint8_t *d = at(w, arr);
    uint32_t blob = shm_u32(d + i * R, M_META);
    n--;
    seq_begin(w, g);
    memmove(d + i * R, d + (i + 1) * R, (n - i) * R);
    memcpy(e + E_MLEN, &n, 4);
    seq_end(w, g);
    blob_free(w, blob);
    count(w, scope, S_MEMBERS, -1);
    if (n == 0) {
        unlink_entry(w, g, link); /* moves g's sequence: then the array can go */
        release(w, CL_RAW, arr, (uint32_t)(cap * R));
        count(w, scope, S_GROUPS, -1);
    }
}
