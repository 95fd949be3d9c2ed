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

#endif
