/* groups.h: process groups: the group and membership table and the group requests
 * (groups.c). */
#ifndef ROSTER_CORE_GROUPS_H
#define ROSTER_CORE_GROUPS_H

#include "internal.h"

struct rs_group *rs_groups_find(const struct rs_core *c, const struct rs_scope *s,
                                const uint8_t *key, size_t len);
void rs_groups_remove_member(struct rs_core *c, struct rs_member *m, uint32_t reason);
void rs_groups_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_members(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_is_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_groups(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_groups_put adds p to group key of s or updates its metadata (events); 0 or -1. */
int rs_groups_put(struct rs_core *c, struct rs_scope *s, struct rs_proc *p, struct rs_bytes key,
                  struct rs_bytes meta);
struct rs_member *rs_groups_member(const struct rs_core *c, const struct rs_group *g,
                                   const struct rs_proc *p);
int rs_groups_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                       size_t pn, int exact, struct rs_group ***out, size_t *n);
/* rs_groups_sorted_members returns g's members sorted by pid. Caller frees *out. */
int rs_groups_sorted_members(struct rs_core *c, const struct rs_group *g,
                             struct rs_member ***out);

#endif
