/* names.h: the table of unique names and their claims (names.c): data and indexes only. */
#ifndef ROSTER_CORE_NAMES_H
#define ROSTER_CORE_NAMES_H

#include "core/claims.h"
#include "core/internal.h"

struct rs_name *rs_names_find(const struct rs_core *c, const struct rs_scope *s,
                              const uint8_t *key, size_t len);
/* rs_names_pick returns the claim a request on key means: the visible one; in a scope
 * with ROSTER_SCOPE_UNIQUE_PER_NODE the local node's claim, else the first by node name. */
struct rs_name *rs_names_pick(const struct rs_core *c, const struct rs_scope *s,
                              const uint8_t *key, size_t len);
/* rs_names_expand replaces the visible claims *v (sorted) of a per-node scope by every
 * claim on their keys, in order (other scopes: unchanged). -1 when out of memory. */
int rs_names_expand(struct rs_core *c, const struct rs_scope *s, struct rs_name ***v,
                    size_t *n);
/* rs_names_claim_of returns p's claim on key in s (visible or hidden), or NULL. */
struct rs_name *rs_names_claim_of(const struct rs_core *c, const struct rs_scope *s,
                                  const struct rs_proc *p, struct rs_bytes key);
/* rs_names_new allocates a claim of p on key (in no table yet); NULL when out of memory. */
struct rs_name *rs_names_new(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                             struct rs_bytes key, struct rs_bytes meta, uint64_t hlc);
void rs_names_free(struct rs_name *n);
/* rs_names_insert puts new claim n in its scope (among its key's claims, *sh says who
 * became visible) and in its owner's list, and counts it. 0, or -1 when out of memory (n
 * is then in no table; the caller frees it). */
int rs_names_insert(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh);
/* rs_names_remove takes claim n out of every table and counter (*sh: who became visible or
 * hidden); the caller frees n once it has reported the change. */
void rs_names_remove(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh);
/* rs_names_move gives claim n to pid to, a pid of the same node as its holder (a handoff),
 * with stamp hlc; n keeps its place among its key's claims until rs_claims_recheck. */
void rs_names_move(struct rs_core *c, struct rs_name *n, struct rs_proc *to, uint64_t hlc);
/* rs_names_set_meta gives n a copy of meta; *old is the previous metadata, which the caller
 * frees (rs_free(old->ptr)). 0, or -1 when out of memory (n unchanged). */
int rs_names_set_meta(struct rs_core *c, struct rs_name *n, struct rs_bytes meta,
                      struct rs_bytes *old);
/* rs_names_collect lists the visible names of s whose key starts with pre (with filter: only
 * its claims), unsorted. Caller frees *out. -1 when out of memory. */
int rs_names_collect(struct rs_core *c, const struct rs_scope *s, const struct rs_proc *filter,
                     const uint8_t *pre, size_t pn, struct rs_name ***out, size_t *count);
/* rs_names_sort sorts v by key enough that its first limit entries are in order (0: all). */
void rs_names_sort(struct rs_name **v, size_t n, size_t limit);
/* rs_names_matching collects the names of s whose key starts with pre (all if exact is
 * 0) or equals it (exact 1), sorted by key. Caller frees *out. -1 when out of memory. */
int rs_names_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                      size_t pn, int exact, struct rs_name ***out, size_t *n);

#endif
