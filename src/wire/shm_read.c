/* shm_read.c: the client's side of the shared-memory region (layout: shm.h, shm_layout.h).
 * Lock-free: a read copies what it needs between two loads of the entry's sequence and
 * starts again when the writer moved it. The region is outside data: every offset and
 * length is checked against the bytes published (and mapped) before it is followed, walks
 * are bounded, and a read that keeps failing gives up with RS_SHM_UNAVAIL (the caller asks
 * the node instead), so a corrupt region or a node stopped mid-write costs a fallback, never
 * a crash or an endless spin. Fuzzed by tests/fuzz/fuzz_shm_reader.c. */
#include "base/alloc.h"
#include <string.h>

#include "wire/shm.h"
#include "wire/shm_layout.h"

#define TRIES 20000u       /* attempts of one read before it gives up */
#define CHAIN_MAX 100000u  /* entries walked in one bucket (a cycle is corruption) */
#define SCOPES_MAX 65536u

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* limit is how far a read may look: the bytes published, within the mapping. */
static size_t limit(const struct rs_shm_view *v)
{
    size_t used = shm_ld32(v->base, RS_SHM_H_USED);
    return used < v->size ? used : v->size;
}

static int span_ok(size_t lim, size_t off, size_t len)
{
    return off >= RS_SHM_DATA_START && off <= lim && len <= lim - off;
}

int rs_shm_view_check(const struct rs_shm_view *v)
{
    if (!v->base || v->size < RS_SHM_MIN_SIZE || v->size > RS_SHM_MAX_SIZE)
        return -1;
    uint64_t magic = __atomic_load_n((const uint64_t *)(const void *)v->base, __ATOMIC_ACQUIRE);
    if (magic != RS_SHM_MAGIC || shm_u32(v->base, RS_SHM_H_VERSION) != RS_SHM_VERSION ||
        shm_u64(v->base, RS_SHM_H_SIZE) != v->size)
        return -1;
    return 0;
}

static int live(const struct rs_shm_view *v)
{
    return shm_ld32(v->base, RS_SHM_H_STATE) == 0;
}

int rs_shm_find_scope(const struct rs_shm_view *v, const char *name, size_t len,
                      struct rs_shm_scope_info *out)
{
    if (!live(v))
        return RS_SHM_UNAVAIL;
    size_t lim = limit(v);
    uint32_t off = shm_ld32(v->base, RS_SHM_H_SCOPES);
    for (unsigned steps = 0; off && steps < SCOPES_MAX; steps++) {
        if (off % 8u || !span_ok(lim, off, RS_SHM_SCOPE_REC))
            return RS_SHM_UNAVAIL;
        const uint8_t *s = v->base + off;
        /* Records never move and their name never changes: only gone and the counters do. */
        uint32_t nl = shm_u32(s, S_NLEN);
        if (nl == len && nl <= 255 && memcmp(s + S_NAME, name, len) == 0 && !shm_ld32(s, S_GONE)) {
            out->id = shm_u32(s, S_ID);
            out->mode = shm_u32(s, S_MODE);
            out->names = shm_ld64r(s, S_NAMES);
            out->groups = shm_ld64r(s, S_GROUPS);
            out->members = shm_ld64r(s, S_MEMBERS);
            out->off = off;
            return out->id ? RS_SHM_FOUND : RS_SHM_UNAVAIL;
        }
        off = shm_u32(s, S_NEXT);
    }
    return off ? RS_SHM_UNAVAIL : RS_SHM_ABSENT;
}

int rs_shm_scope_at(const struct rs_shm_view *v, uint32_t off, uint32_t id, const char *name,
                    size_t len, struct rs_shm_scope_info *out)
{
    if (!live(v))
        return RS_SHM_UNAVAIL;
    if (!id || off % 8u || len > 255 || !span_ok(limit(v), off, RS_SHM_SCOPE_REC))
        return RS_SHM_UNAVAIL;
    const uint8_t *s = v->base + off;
    if (shm_u32(s, S_ID) != id || shm_u32(s, S_NLEN) != len || memcmp(s + S_NAME, name, len) != 0)
        return RS_SHM_UNAVAIL;
    if (shm_ld32(s, S_GONE))
        return RS_SHM_ABSENT;
    out->id = id;
    out->mode = shm_u32(s, S_MODE);
    out->names = shm_ld64r(s, S_NAMES);
    out->groups = shm_ld64r(s, S_GROUPS);
    out->members = shm_ld64r(s, S_MEMBERS);
    out->off = off;
    return RS_SHM_FOUND;
}

int rs_shm_node_name(const struct rs_shm_view *v, uint32_t idx, char *out, size_t cap,
                     uint64_t *inc)
{
    if (idx >= shm_ld32(v->base, RS_SHM_H_NODES) || idx >= RS_SHM_NODES_MAX || cap == 0)
        return -1;
    const uint8_t *r = v->base + RS_SHM_HDR_SIZE + (size_t)idx * RS_SHM_NODE_REC;
    uint32_t l = shm_u32(r, N_NLEN);
    if (l > 64 || l >= cap)
        return -1;
    memcpy(out, r + N_NAME, l);
    out[l] = 0;
    *inc = shm_u64(r, N_INC);
    return 0;
}

static int bytes_reserve(struct rs_shm_bytes *b, size_t n)
{
    if (n <= b->cap)
        return 0;
    size_t c = b->cap ? b->cap : 64;
    while (c < n)
        c *= 2;
    uint8_t *d = rs_realloc(b->data, c);
    if (!d)
        return -1;
    b->data = d;
    b->cap = c;
    return 0;
}

void rs_shm_bytes_fini(struct rs_shm_bytes *b)
{
    rs_free(b->data);
    memset(b, 0, sizeof *b);
}

/* A walk's verdict on one entry. */
enum { W_NEXT, W_HIT, W_RETRY, W_BAD };

/* find walks scope's chain for (kind, key). On W_HIT, *off and *seq are the entry and the
 * sequence it was matched under; the caller copies the rest and checks the sequence again. */
static int find(const struct rs_shm_view *v, size_t lim, uint32_t scope, uint32_t kind,
                const uint8_t *key, size_t klen, uint32_t *hit_off, uint32_t *hit_seq)
{
    uint32_t iseq = shm_ld32(v->base, RS_SHM_H_INDEX_SEQ);
    if (iseq & 1u)
        return W_RETRY;
    uint32_t buckets = shm_ld32r(v->base, RS_SHM_H_BUCKETS), mask = shm_ld32r(v->base, RS_SHM_H_MASK);
    uint64_t seed = shm_u64(v->base, RS_SHM_H_SEED);
    uint32_t hash = shm_hash(seed, scope, kind, key, klen);
    uint32_t b = hash & mask, off = 1;
    if (mask >= 0x40000000u || buckets % 4u || !span_ok(lim, buckets, ((size_t)mask + 1u) * 4u))
        goto check_index;
    off = shm_ld32(v->base, buckets + (size_t)b * 4u);
    for (unsigned steps = 0; off; steps++) {
        if (steps > CHAIN_MAX || off % 8u || !span_ok(lim, off, E_KEY))
            goto check_index;
        const uint8_t *e = v->base + off;
        uint32_t s1 = shm_ld32(e, E_SEQ);
        if (s1 & 1u)
            return W_RETRY;
        uint32_t h = shm_u32(e, E_HASH), next = shm_u32(e, E_NEXT);
        uint16_t kl = shm_u16(e, E_KLEN);
        int match = h == hash && shm_u16(e, E_SCOPE) == scope && e[E_KIND] == kind &&
                    kl == klen && span_ok(lim, off, E_KEY + (size_t)kl) &&
                    memcmp(e + E_KEY, key, klen) == 0;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (shm_ld32r(e, E_SEQ) != s1)
            return W_RETRY;
        if (match) {
            *hit_off = off;
            *hit_seq = s1;
            return W_HIT;
        }
        if ((h & mask) != b) /* reused for another bucket while we walked: start again */
            return W_RETRY;
        off = next;
    }
check_index:
    /* An absent answer (or a broken walk) counts only if the index did not change. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (shm_ld32r(v->base, RS_SHM_H_INDEX_SEQ) != iseq)
        return W_RETRY;
    if (off && limit(v) != lim) /* it pointed at bytes published after we began */
        return W_RETRY;
    return off ? W_BAD : W_NEXT;
}

int rs_shm_lookup(const struct rs_shm_view *v, uint32_t scope, const uint8_t *key,
                  size_t klen, struct rs_shm_pid *out, struct rs_shm_bytes *meta)
{
    for (unsigned t = 0; t < TRIES; t++) {
        if (!live(v))
            return RS_SHM_UNAVAIL;
        size_t lim = limit(v);
        uint32_t off, s1;
        int r = find(v, lim, scope, RS_SHM_NAME, key, klen, &off, &s1);
        if (r == W_RETRY) {
            relax();
            continue;
        }
        if (r == W_BAD)
            return RS_SHM_UNAVAIL;
        if (r == W_NEXT)
            return RS_SHM_ABSENT;
        const uint8_t *e = v->base + off;
        uint32_t ml = shm_u32(e, E_MLEN);
        uint16_t node = shm_u16(e, E_NODE);
        out->serial = shm_u64(e, E_SERIAL);
        out->token = shm_u64(e, E_TOKEN);
        if (!span_ok(lim, off, E_KEY + klen + (size_t)ml)) {
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (shm_ld32r(e, E_SEQ) != s1 || limit(v) != lim)
                continue;
            return RS_SHM_UNAVAIL;
        }
        if (bytes_reserve(meta, ml + 1u) != 0)
            return RS_SHM_NOMEM;
        memcpy(meta->data, e + E_KEY + klen, ml);
        meta->len = ml;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (shm_ld32r(e, E_SEQ) != s1)
            continue;
        if (rs_shm_node_name(v, node, out->node, sizeof out->node, &out->inc) != 0)
            return RS_SHM_UNAVAIL;
        out->node_len = (uint32_t)strlen(out->node);
        return RS_SHM_FOUND;
    }
    return RS_SHM_UNAVAIL;
}

void rs_shm_members_fini(struct rs_shm_members *m)
{
    rs_free(m->v);
    rs_shm_bytes_fini(&m->meta);
    memset(m, 0, sizeof *m);
}

/* copy_members copies group entry off's array under sequence s1: 0, 1 (retry), -1 (bad),
 * -2 (no memory). */
static int copy_members(const struct rs_shm_view *v, size_t lim, uint32_t off, uint32_t s1,
                        struct rs_shm_members *out)
{
    const uint8_t *e = v->base + off;
    uint32_t n = shm_u32(e, E_MLEN), arr = shm_u32(e, E_ARR), cap = shm_u32(e, E_ARRCAP);
    const size_t R = RS_SHM_MEMBER_REC;
    out->n = 0;
    out->meta.len = 0;
    if (n > cap || arr % 8u || (n && !span_ok(lim, arr, (size_t)cap * R)))
        goto bad;
    if (n > out->cap) {
        struct rs_shm_member *nv = rs_realloc(out->v, (size_t)n * sizeof *nv);
        if (!nv)
            return -2;
        out->v = nv;
        out->cap = n;
    }
    const uint8_t *a = v->base + arr;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *rec = a + (size_t)i * R;
        struct rs_shm_member *m = &out->v[i];
        m->inc = shm_u64(rec, M_INC);
        m->serial = shm_u64(rec, M_SERIAL);
        m->node = shm_u16(rec, M_NODE);
        uint32_t mo = shm_u32(rec, M_META);
        m->meta_off = out->meta.len;
        m->meta_len = 0;
        if (mo) {
            if (mo % 8u || !span_ok(lim, mo, 4))
                goto bad;
            uint32_t ml = shm_u32(v->base + mo, 0);
            if (!span_ok(lim, mo, 4u + (size_t)ml))
                goto bad;
            if (bytes_reserve(&out->meta, out->meta.len + ml) != 0)
                return -2;
            memcpy(out->meta.data + out->meta.len, v->base + mo + 4, ml);
            out->meta.len += ml;
            m->meta_len = ml;
        }
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (shm_ld32r(e, E_SEQ) != s1)
        return 1;
    out->n = n;
    return 0;
bad:
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return shm_ld32r(e, E_SEQ) != s1 || limit(v) != lim ? 1 : -1;
}

int rs_shm_members(const struct rs_shm_view *v, uint32_t scope, const uint8_t *group,
                   size_t glen, struct rs_shm_members *out)
{
    out->n = 0;
    for (unsigned t = 0; t < TRIES; t++) {
        if (!live(v))
            return RS_SHM_UNAVAIL;
        size_t lim = limit(v);
        uint32_t off, s1;
        int r = find(v, lim, scope, RS_SHM_GROUP, group, glen, &off, &s1);
        if (r == W_RETRY) {
            relax();
            continue;
        }
        if (r == W_BAD)
            return RS_SHM_UNAVAIL;
        if (r == W_NEXT)
            return RS_SHM_ABSENT;
        int c = copy_members(v, lim, off, s1, out);
        if (c == 1) {
            relax();
            continue;
        }
        if (c == -2)
            return RS_SHM_NOMEM;
        return c == 0 ? RS_SHM_FOUND : RS_SHM_UNAVAIL;
    }
    return RS_SHM_UNAVAIL;
}

int rs_shm_is_member(const struct rs_shm_view *v, uint32_t scope, const uint8_t *group,
                     size_t glen, uint64_t inc, uint64_t serial)
{
    const size_t R = RS_SHM_MEMBER_REC;
    for (unsigned t = 0; t < TRIES; t++) {
        if (!live(v))
            return RS_SHM_UNAVAIL;
        size_t lim = limit(v);
        uint32_t off, s1;
        int r = find(v, lim, scope, RS_SHM_GROUP, group, glen, &off, &s1);
        if (r == W_RETRY) {
            relax();
            continue;
        }
        if (r == W_BAD)
            return RS_SHM_UNAVAIL;
        if (r == W_NEXT)
            return RS_SHM_ABSENT;
        const uint8_t *e = v->base + off;
        uint32_t n = shm_u32(e, E_MLEN), arr = shm_u32(e, E_ARR), cap = shm_u32(e, E_ARRCAP);
        int yes = 0, bad = n > cap || arr % 8u || (n && !span_ok(lim, arr, (size_t)cap * R));
        if (!bad) {
            uint32_t lo = 0, hi = n;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2u;
                const uint8_t *rec = v->base + arr + (size_t)mid * R;
                uint64_t a = shm_u64(rec, M_INC), s = shm_u64(rec, M_SERIAL);
                if (a == inc && s == serial) {
                    yes = 1;
                    break;
                }
                if (a < inc || (a == inc && s < serial))
                    lo = mid + 1;
                else
                    hi = mid;
            }
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (shm_ld32r(e, E_SEQ) != s1) {
            relax();
            continue;
        }
        if (bad && limit(v) != lim)
            continue;
        if (bad)
            return RS_SHM_UNAVAIL;
        return yes ? RS_SHM_FOUND : RS_SHM_ABSENT;
    }
    return RS_SHM_UNAVAIL;
}

/* node_inc reads node index idx's incarnation (records are written once, before the count
 * that publishes them): 0 when idx is not a published record. */
static uint64_t node_inc(const struct rs_shm_view *v, uint32_t idx)
{
    if (idx >= shm_ld32(v->base, RS_SHM_H_NODES) || idx >= RS_SHM_NODES_MAX)
        return 0;
    return shm_u64(v->base + RS_SHM_HDR_SIZE + (size_t)idx * RS_SHM_NODE_REC, N_INC);
}

int rs_shm_lookup_into(const struct rs_shm_view *v, uint32_t scope, const uint8_t *key,
                       size_t klen, uint64_t *inc, uint64_t *serial, uint64_t *token,
                       void *meta, size_t cap, size_t *mlen)
{
    for (unsigned t = 0; t < TRIES; t++) {
        if (!live(v))
            return RS_SHM_UNAVAIL;
        size_t lim = limit(v);
        uint32_t off, s1;
        int r = find(v, lim, scope, RS_SHM_NAME, key, klen, &off, &s1);
        if (r == W_RETRY) {
            relax();
            continue;
        }
        if (r == W_BAD)
            return RS_SHM_UNAVAIL;
        if (r == W_NEXT)
            return RS_SHM_ABSENT;
        const uint8_t *e = v->base + off;
        uint32_t ml = shm_u32(e, E_MLEN);
        uint16_t node = shm_u16(e, E_NODE);
        uint64_t se = shm_u64(e, E_SERIAL), tk = shm_u64(e, E_TOKEN);
        int ok = span_ok(lim, off, E_KEY + klen + (size_t)ml);
        if (ok && cap)
            memcpy(meta, e + E_KEY + klen, ml < cap ? ml : cap);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (shm_ld32r(e, E_SEQ) != s1 || (!ok && limit(v) != lim)) {
            relax();
            continue;
        }
        uint64_t ni = ok ? node_inc(v, node) : 0;
        if (!ni)
            return RS_SHM_UNAVAIL;
        *inc = ni;
        *serial = se;
        *token = tk;
        *mlen = ml;
        return RS_SHM_FOUND;
    }
    return RS_SHM_UNAVAIL;
}

int rs_shm_member_pids(const struct rs_shm_view *v, uint32_t scope, const uint8_t *group,
                       size_t glen, uint64_t only_inc, uint64_t *pairs, size_t cap, size_t *n)
{
    const size_t R = RS_SHM_MEMBER_REC;
    *n = 0;
    for (unsigned t = 0; t < TRIES; t++) {
        if (!live(v))
            return RS_SHM_UNAVAIL;
        size_t lim = limit(v);
        uint32_t off, s1;
        int r = find(v, lim, scope, RS_SHM_GROUP, group, glen, &off, &s1);
        if (r == W_RETRY) {
            relax();
            continue;
        }
        if (r == W_BAD)
            return RS_SHM_UNAVAIL;
        if (r == W_NEXT)
            return RS_SHM_ABSENT;
        const uint8_t *e = v->base + off;
        uint32_t cnt = shm_u32(e, E_MLEN), arr = shm_u32(e, E_ARR), acap = shm_u32(e, E_ARRCAP);
        int bad = cnt > acap || arr % 8u || (cnt && !span_ok(lim, arr, (size_t)acap * R));
        size_t k = 0;
        if (!bad) {
            /* One pass over the records, straight into the caller's array. */
            const uint8_t *a = v->base + arr;
            if (!only_inc) {
                size_t m = cnt < cap ? cnt : cap;
                for (size_t i = 0; i < m; i++) {
                    pairs[2 * i] = shm_u64(a + i * R, M_INC);
                    pairs[2 * i + 1] = shm_u64(a + i * R, M_SERIAL);
                }
                k = cnt;
            } else {
                for (size_t i = 0; i < cnt; i++) {
                    const uint8_t *rec = a + i * R;
                    if (shm_u64(rec, M_INC) != only_inc)
                        continue;
                    if (k < cap) {
                        pairs[2 * k] = only_inc;
                        pairs[2 * k + 1] = shm_u64(rec, M_SERIAL);
                    }
                    k++;
                }
            }
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (shm_ld32r(e, E_SEQ) != s1 || (bad && limit(v) != lim)) {
            relax();
            continue;
        }
        if (bad)
            return RS_SHM_UNAVAIL;
        *n = k;
        return RS_SHM_FOUND;
    }
    return RS_SHM_UNAVAIL;
}
