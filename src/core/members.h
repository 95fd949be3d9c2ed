/* members.h: the table of process groups and their memberships (members.c): data and
 * indexes only. */
#ifndef ROSTER_CORE_MEMBERS_H
#define ROSTER_CORE_MEMBERS_H

#include "core/internal.h"

/* What rs_members_put did. */
enum rs_members_what {
    RS_MEMBERS_JOINED = 1, /* a new membership */
    RS_MEMBERS_UPDATED,    /* new metadata; old is the previous one, for the caller to free */
    RS_MEMBERS_SAME,       /* the same metadata again (a re-join, a snapshot): nothing changed */
};

struct rs_members_put {
    enum rs_members_what what;
    struct rs_member *member;
    struct rs_bytes old;
};

/* rs_members_group finds group key of s, or NULL. */
struct rs_group *rs_members_group(const struct rs_core *c, const struct rs_scope *s,
                                  const uint8_t *key, size_t len);
/* rs_members_find returns p's membership of g (in a scope with duplicate members its
 * oldest entry), or NULL. */
struct rs_member *rs_members_find(const struct rs_core *c, const struct rs_group *g,
                                  const struct rs_proc *p);
/* rs_members_find_meta: in a scope with duplicate members, p's oldest membership of g with
 * metadata meta (else its oldest, as rs_members_find): a replicated LEAVE names the holding
 * that went, which an UNMATCH or a lease expiry picks by metadata, not by age. */
struct rs_member *rs_members_find_meta(const struct rs_core *c, const struct rs_group *g,
                                       const struct rs_proc *p, struct rs_bytes meta);
/* rs_members_put adds p to group key of s (created if new) or gives its membership new
 * metadata; *out says which (in a scope with duplicate members it always adds an entry).
 * 0, or -1 when out of memory (nothing changed). */
int rs_members_put(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                   struct rs_bytes key, struct rs_bytes meta, struct rs_members_put *out);
/* rs_members_match_stale: during a snapshot of a scope with duplicate members, the held
 * entry of p in g that an incoming entry with meta confirms: the oldest stale one with the
 * same metadata that is newer than every entry already confirmed (so the entries keep the
 * owner's order), or NULL (the incoming entry is a new one). */
struct rs_member *rs_members_match_stale(const struct rs_group *g, const struct rs_proc *p,
                                         struct rs_bytes meta);
/* rs_members_remove takes m out of every table and counter; rs_members_free then frees it
 * and its group if that was the last member. */
void rs_members_remove(struct rs_core *c, struct rs_member *m);
void rs_members_free(struct rs_core *c, struct rs_member *m);
/* rs_members_sorted returns g's members sorted by pid (incarnation, serial; then metadata), the
 * same order on every node. Caller frees *out. */
int rs_members_sorted(struct rs_core *c, const struct rs_group *g, struct rs_member ***out);
/* rs_members_sort_groups sorts v by key enough that its first limit are in order (0: all). */
void rs_members_sort_groups(struct rs_group **v, size_t n, size_t limit);
/* rs_members_matching collects the groups of s whose key starts with pre (exact 0) or
 * equals it (exact 1), sorted by key. Caller frees *out. -1 when out of memory. */
int rs_members_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                        size_t pn, int exact, struct rs_group ***out, size_t *n);

#endif
