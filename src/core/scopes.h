/* scopes.h: the table of scopes (scopes.c): data and indexes only. */
#ifndef ROSTER_CORE_SCOPES_H
#define ROSTER_CORE_SCOPES_H

#include "core/internal.h"

/* rs_scopes_find finds scope name (empty: the default scope), or NULL. */
struct rs_scope *rs_scopes_find(const struct rs_core *c, struct rs_bytes name);
/* rs_scopes_create adds scope name (1..RS_SCOPE_MAX bytes, not joined); NULL if the name
 * is invalid or memory ran out. */
struct rs_scope *rs_scopes_create(struct rs_core *c, struct rs_bytes name, uint32_t mode);
/* rs_scopes_free frees s with every name, group and membership in it (core teardown). */
void rs_scopes_free(struct rs_scope *s);

#endif
