/* conflict.h: claims on one unique name and their winner order (conflict.c). */
#ifndef ROSTER_CORE_CONFLICT_H
#define ROSTER_CORE_CONFLICT_H

#include "internal.h"

/* rs_claims_cmp < 0 when claim a wins over b under the node's policy (total order). */
int rs_claims_cmp(const struct rs_core *c, const struct rs_name *a, const struct rs_name *b);
/* rs_claims_add puts claim n (not yet in its scope) among the claims on its key, emits the
 * events of a visible-holder change, and makes a local claim that loses give up the name
 * (reason conflict). 0, or -1 when out of memory (n is then not added). */
int rs_claims_add(struct rs_core *c, struct rs_name *n);
/* rs_claims_del takes claim n out of its scope, surfacing the next claim if n was visible;
 * events of the visible-holder change with reason. */
void rs_claims_del(struct rs_core *c, struct rs_name *n, uint32_t reason);
/* rs_claims_visible returns 1 if n is its key's visible claim. */
int rs_claims_visible(const struct rs_core *c, const struct rs_name *n);
/* rs_claims_recheck puts claim n, whose metadata just changed, back in winner order (a
 * custom resolver may read metadata): events of a visible-holder change, and a local claim
 * that now loses gives the name up. */
void rs_claims_recheck(struct rs_core *c, struct rs_name *n);

#endif
