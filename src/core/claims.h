/* claims.h: the claims on one unique name and their winner order (claims.c), a table: it
 * reports each change of the visible holder and emits nothing. */
#ifndef ROSTER_CORE_CLAIMS_H
#define ROSTER_CORE_CLAIMS_H

#include "core/internal.h"

/* A change of a key's visible holder: hidden was visible and no longer is (hidden behind
 * another claim, or taken out), shown is visible now; either may be NULL. */
struct rs_claims_shift {
    struct rs_name *hidden;
    struct rs_name *shown;
};

/* rs_claims_cmp < 0 when claim a wins over b under the node's policy (total order). */
int rs_claims_cmp(const struct rs_core *c, const struct rs_name *a, const struct rs_name *b);
/* rs_claims_add puts claim n (not yet in its scope) among the claims on its key and says in
 * *sh who became visible. 0, or -1 when out of memory (n is then not added). */
int rs_claims_add(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh);
/* rs_claims_del takes claim n out of its scope, surfacing the next claim if n was visible. */
void rs_claims_del(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh);
/* rs_claims_visible returns 1 if n is its key's visible claim. */
int rs_claims_visible(const struct rs_core *c, const struct rs_name *n);
/* rs_claims_recheck puts claim n, whose metadata just changed, back in winner order (a
 * custom resolver may read metadata). */
void rs_claims_recheck(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh);

#endif
