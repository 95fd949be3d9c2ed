/* smeta.h: the table of a scope's metadata (smeta.c): data only. */
#ifndef ROSTER_CORE_SMETA_H
#define ROSTER_CORE_SMETA_H

#include "core/internal.h"

/* One key of a scope's metadata: its value, or a delete marker (deleted = 1, no value),
 * with the stamp of the write that made it and the node that wrote it. */
struct rs_smeta {
    uint64_t hash;
    uint64_t hlc;
    uint8_t *val;
    uint32_t val_len;
    uint32_t key_len;
    uint32_t deleted;
    uint32_t node_len;
    char node[RS_NODE_NAME_MAX + 1];
    uint8_t key[];
};

/* A write to apply: set (deleted 0) or delete, stamped hlc by node. */
struct rs_smeta_write {
    struct rs_bytes key;
    struct rs_bytes val;
    int deleted;
    uint64_t hlc;
    struct rs_bytes node;
};

/* What rs_smeta_apply did. */
enum rs_smeta_what {
    RS_SMETA_OLDER = 0, /* the held write is newer (or the same): nothing changed */
    RS_SMETA_CHANGED,   /* the key's value changed (set, new value, or deleted) */
    RS_SMETA_RESTAMPED, /* newer write, same visible state (same value, or delete of a
                           deleted key): stamp and writer changed, no event */
    RS_SMETA_FULL,      /* a new key past RS_SCOPE_META_MAX: refused */
};

/* rs_smeta_newer is 1 when the write (hlc, node) wins over e's: the higher stamp, then the
 * higher node name (every node decides alike). */
int rs_smeta_newer(const struct rs_smeta *e, uint64_t hlc, struct rs_bytes node);
/* rs_smeta_find returns key's record in s (a value or a delete marker), or NULL. */
struct rs_smeta *rs_smeta_find(const struct rs_core *c, const struct rs_scope *s,
                               struct rs_bytes key);
/* rs_smeta_apply merges w into s (last writer wins). *prev receives the value the key had
 * before when CHANGED (the caller frees prev->ptr; empty if the key had none), *had_value
 * whether it had one. -1 when out of memory (nothing changed). */
int rs_smeta_apply(struct rs_core *c, struct rs_scope *s, const struct rs_smeta_write *w,
                   enum rs_smeta_what *what, struct rs_bytes *prev, int *had_value);
/* rs_smeta_sorted collects s's records (with delete markers if markers), sorted by key.
 * Caller frees *out. -1 when out of memory. */
int rs_smeta_sorted(struct rs_core *c, const struct rs_scope *s, int markers,
                    struct rs_smeta ***out, size_t *n);
/* rs_smeta_live is the number of keys with a value in s. */
uint32_t rs_smeta_live(const struct rs_scope *s);
/* rs_smeta_free frees s's metadata (scope teardown). */
void rs_smeta_free(struct rs_scope *s);

#endif
