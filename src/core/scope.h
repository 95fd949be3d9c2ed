/* scope.h: the requests on scopes (scope.c); the table is scopes.h. */
#ifndef ROSTER_CORE_SCOPE_H
#define ROSTER_CORE_SCOPE_H

#include "core/internal.h"

/* rs_scope_of resolves req's SCOPE (empty = default) or replies ENOSCOPE and returns NULL. */
struct rs_scope *rs_scope_of(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_on_create(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_on_list(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_scope_joined_of is rs_scope_of for writes: the scope must also be joined. */
struct rs_scope *rs_scope_joined_of(struct rs_core *c, struct rs_client *cl,
                                    const struct rs_msg *req);

/* rs_scope_set_lease makes joined scope s leased for lease_ms (0: joined for good), idle
 * from now (scopelease.c leaves it when unused that long). */
void rs_scope_set_lease(struct rs_core *c, struct rs_scope *s, uint64_t lease_ms);
/* rs_scope_drop leaves joined scope s: drops what other nodes own in it, tells the peers. */
void rs_scope_drop(struct rs_core *c, struct rs_scope *s);

#endif
