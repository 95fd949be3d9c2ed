/* shm.h: the shared-memory region a node publishes its eventual scopes' names and groups in,
 * so that libroster can answer lookup, members, count and is-member without a system call
 * (docs/SHM.md). One module holds the layout, the node's writer and the client's reader, so
 * both sides agree on every byte; it is pure memory code (no syscalls): the node's shell
 * creates and maps the memory (src/node/shm.c), the client maps it (src/client/shm.c).
 *
 * Concurrency: one writer (the node's loop thread), any number of readers in other
 * processes. Readers never block the writer: every entry carries a seqlock (odd while the
 * writer changes it), readers copy what they need and retry when the sequence moved. The
 * region is trusted less than the reader's own memory: a reader checks every offset and
 * length against the bytes published, bounds its walks and retries, and gives up
 * (RS_SHM_UNAVAIL: use the socket) rather than crash or spin forever. */
#ifndef ROSTER_WIRE_SHM_H
#define ROSTER_WIRE_SHM_H

#include <stddef.h>
#include <stdint.h>

#define RS_SHM_MAGIC 0x314d4853534f5252ull /* "RROSSHM1" little-endian */
#define RS_SHM_VERSION 1u
#define RS_SHM_HDR_SIZE 4096u  /* header page; the node table follows it */
#define RS_SHM_NODES_MAX 1024u /* node incarnations a region can name */
#define RS_SHM_NODE_REC 80u    /* u64 inc, u32 name_len, name[68] */
#define RS_SHM_DATA_START (RS_SHM_HDR_SIZE + RS_SHM_NODES_MAX * RS_SHM_NODE_REC)
#define RS_SHM_MIN_SIZE (RS_SHM_DATA_START + 64u * 1024u)
#define RS_SHM_MAX_SIZE 0xfffff000ull /* offsets are 32-bit */
#define RS_SHM_ENT_HDR 40u            /* bytes of an entry before its key */
#define RS_SHM_MEMBER_REC 24u         /* u64 inc, u64 serial, u32 meta_off, u16 node */

/* HELLO: a client that wants the region sets this bit above the version in HELLO's opts. */
#define RS_HELLO_VERSION_MASK 0xffffu
#define RS_HELLO_WANT_SHM 0x10000u

/* Header fields (byte offsets in the region; u32 fields are read with atomics). */
#define RS_SHM_H_MAGIC 0      /* u64 */
#define RS_SHM_H_VERSION 8    /* u32 */
#define RS_SHM_H_SIZE 16      /* u64: bytes mapped (the file's size, fixed) */
#define RS_SHM_H_USED 24      /* u32: bytes published; nothing at or past it is read */
#define RS_SHM_H_STATE 28     /* u32: 0 live; 1 given up (full): read the socket */
#define RS_SHM_H_INDEX_SEQ 32 /* u32: odd while the bucket array is rebuilt */
#define RS_SHM_H_BUCKETS 36   /* u32: offset of the bucket array (u32 entry offsets) */
#define RS_SHM_H_MASK 40      /* u32: buckets - 1 */
#define RS_SHM_H_SCOPES 44    /* u32: head of the scope list */
#define RS_SHM_H_NODES 48     /* u32: node records published */
#define RS_SHM_H_SEED 56      /* u64: hash seed */

/* Scope record: u32 seq, u32 next, u32 id, u32 mode, u32 gone, u32 name_len,
 * u64 names, u64 groups, u64 members, name[256]. */
#define RS_SHM_SCOPE_REC 304u

enum rs_shm_kind { RS_SHM_NAME = 1, RS_SHM_GROUP = 2 };

/* ---- the writer (the node) ---- */

struct rs_shm_priv; /* free lists and scope offsets, private to shm_write.c */

struct rs_shm_writer {
    uint8_t *base;
    size_t size;
    uint32_t used;
    uint32_t n_entries;
    uint32_t n_buckets;
    uint32_t n_nodes;
    uint32_t next_scope_id;
    int broken;
    uint64_t seed;
    uint64_t *node_incs; /* index -> incarnation (the node's own copy, for lookups) */
    struct rs_shm_priv *p;
    uint64_t bytes_free; /* on the free lists */
};

/* rs_shm_writer_init lays out an empty region in base[0, size) (zero-filled memory, as a
 * fresh memfd is) with node 0 = (inc, node name). 0, or -1 (size out of range, no memory). */
int rs_shm_writer_init(struct rs_shm_writer *w, void *base, size_t size, uint64_t seed,
                       uint64_t inc, const char *node, size_t node_len);
void rs_shm_writer_fini(struct rs_shm_writer *w);

/* rs_shm_node returns the index of node (inc, name), adding it; -1 when the table is full
 * (the region is then given up). */
int rs_shm_node(struct rs_shm_writer *w, uint64_t inc, const char *name, size_t len);
/* rs_shm_scope returns the id (> 0) of a live scope record named name, adding one; 0 when
 * the region is given up. */
uint32_t rs_shm_scope(struct rs_shm_writer *w, const char *name, size_t len, uint32_t mode);
/* rs_shm_scope_gone marks the scope record id as gone (a scope left or destroyed). */
void rs_shm_scope_gone(struct rs_shm_writer *w, uint32_t id);

/* The changes. Each leaves the region consistent for readers at every store. When the
 * region cannot take a change (full) it is given up: state 1, and readers use the socket. */
void rs_shm_name_put(struct rs_shm_writer *w, uint32_t scope, const uint8_t *key, size_t klen,
                     int node, uint64_t serial, uint64_t token, const uint8_t *meta,
                     size_t mlen);
/* rs_shm_name_add is rs_shm_name_put for a key the caller knows is not in the region (it
 * skips the search: the write path's one cache miss fewer). */
void rs_shm_name_add(struct rs_shm_writer *w, uint32_t scope, const uint8_t *key, size_t klen,
                     int node, uint64_t serial, uint64_t token, const uint8_t *meta,
                     size_t mlen);
void rs_shm_name_del(struct rs_shm_writer *w, uint32_t scope, const uint8_t *key, size_t klen);
/* rs_shm_name_prefetch starts loading the index bucket that a put or del of key will touch.
 * A write's one unavoidable cache miss in the region is that random bucket: started before
 * the node's own table lookup of the key, the two misses overlap instead of adding up. */
void rs_shm_name_prefetch(const struct rs_shm_writer *w, uint32_t scope, const uint8_t *key,
                          size_t klen);
void rs_shm_member_put(struct rs_shm_writer *w, uint32_t scope, const uint8_t *group,
                       size_t glen, int node, uint64_t serial, const uint8_t *meta,
                       size_t mlen);
void rs_shm_member_del(struct rs_shm_writer *w, uint32_t scope, const uint8_t *group,
                       size_t glen, int node, uint64_t serial);
/* rs_shm_give_up marks the region unusable (readers go to the socket from now on). */
void rs_shm_give_up(struct rs_shm_writer *w);

/* ---- the reader (the client) ---- */

#define RS_SHM_FOUND 1
#define RS_SHM_ABSENT 0
#define RS_SHM_UNAVAIL (-1) /* given up, corrupt, or too busy: ask the socket */
#define RS_SHM_NOMEM (-2)

struct rs_shm_view {
    const uint8_t *base;
    size_t size; /* bytes mapped */
};

/* rs_shm_view_check accepts a mapped region (magic, version, size): 0 or -1. */
int rs_shm_view_check(const struct rs_shm_view *v);

struct rs_shm_scope_info {
    uint32_t id;
    uint32_t mode;
    uint64_t names, groups, members;
    uint32_t off; /* the record's offset: rs_shm_scope_at reads it again without a search */
};
/* rs_shm_find_scope finds the live scope name: RS_SHM_FOUND, ABSENT or UNAVAIL. */
int rs_shm_find_scope(const struct rs_shm_view *v, const char *name, size_t len,
                      struct rs_shm_scope_info *out);

/* rs_shm_scope_at re-reads the scope record at off (from an earlier rs_shm_find_scope) if
 * it is still the live record of scope name with that id: FOUND (out filled), ABSENT
 * (gone), UNAVAIL (given up, or not that record). Records never move, so a reader may keep
 * off for later reads. */
int rs_shm_scope_at(const struct rs_shm_view *v, uint32_t off, uint32_t id, const char *name,
                    size_t len, struct rs_shm_scope_info *out);

/* A holder or a member as the region shows it. */
struct rs_shm_pid {
    uint64_t inc, serial;
    uint64_t token;            /* names: the claim's stamp */
    uint32_t node_len;
    char node[RS_SHM_NODE_REC]; /* NUL-terminated */
};

/* A growable byte buffer the reader copies metadata into (realloc'd through grow). */
struct rs_shm_bytes {
    uint8_t *data;
    size_t len, cap;
};

/* rs_shm_lookup finds key in scope: FOUND (*out, meta filled), ABSENT, UNAVAIL or NOMEM. */
int rs_shm_lookup(const struct rs_shm_view *v, uint32_t scope, const uint8_t *key,
                  size_t klen, struct rs_shm_pid *out, struct rs_shm_bytes *meta);

/* One member as rs_shm_members copies it: metadata at meta->data[meta_off, +meta_len). */
struct rs_shm_member {
    uint64_t inc, serial;
    uint32_t node;
    uint32_t meta_len;
    size_t meta_off;
};
struct rs_shm_members {
    struct rs_shm_member *v;
    size_t n, cap;
    struct rs_shm_bytes meta; /* every member's metadata, back to back */
};
/* rs_shm_members copies group's members (sorted by pid) in one pass: FOUND (n may be 0 for
 * an unknown group: ABSENT), UNAVAIL or NOMEM. */
int rs_shm_members(const struct rs_shm_view *v, uint32_t scope, const uint8_t *group,
                   size_t glen, struct rs_shm_members *out);
void rs_shm_members_fini(struct rs_shm_members *m);
/* rs_shm_is_member: FOUND (member), ABSENT, UNAVAIL. */
int rs_shm_is_member(const struct rs_shm_view *v, uint32_t scope, const uint8_t *group,
                     size_t glen, uint64_t inc, uint64_t serial);
/* rs_shm_node_name copies node index idx's name (NUL-terminated) into out: 0 or -1. */
int rs_shm_node_name(const struct rs_shm_view *v, uint32_t idx, char *out, size_t cap,
                     uint64_t *inc);

void rs_shm_bytes_fini(struct rs_shm_bytes *b);

/* Reads into the caller's memory, for the calls that allocate nothing (roster_lookup_into,
 * roster_members_into): no allocation, and one pass over the region's records. */

/* rs_shm_lookup_into finds key: FOUND with the holder's pid (*inc from the node table,
 * *serial), *token, the metadata's full length in *mlen and its first min(*mlen, cap) bytes
 * in meta; ABSENT; UNAVAIL. */
int rs_shm_lookup_into(const struct rs_shm_view *v, uint32_t scope, const uint8_t *key,
                       size_t klen, uint64_t *inc, uint64_t *serial, uint64_t *token,
                       void *meta, size_t cap, size_t *mlen);
/* rs_shm_member_pids copies the pids of group's members (sorted by pid; only_inc != 0: only
 * those of that node incarnation) as (inc, serial) pairs into pairs[0, 2 * min(*n, cap)),
 * *n being the number of such members: FOUND, ABSENT (unknown group: *n = 0), UNAVAIL. */
int rs_shm_member_pids(const struct rs_shm_view *v, uint32_t scope, const uint8_t *group,
                       size_t glen, uint64_t only_inc, uint64_t *pairs, size_t cap, size_t *n);

#endif
