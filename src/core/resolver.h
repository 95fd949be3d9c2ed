/* resolver.h: the conflict policy's agreement between nodes, and the log of refused
 * resolver answers (resolver.c). The comparison itself is the claims table's
 * (claims.c). */
#ifndef ROSTER_CORE_RESOLVER_H
#define ROSTER_CORE_RESOLVER_H

#include "core/internal.h"

/* rs_resolver_init takes the policy of cfg (its public resolver checked); 0 or -1. */
int rs_resolver_init(struct rs_core *c, const struct rs_core_config *cfg);
/* rs_resolver_greet tells up node n this node's conflict policy (P_POLICY). */
void rs_resolver_greet(struct rs_core *c, struct rs_node *n);
/* P_POLICY from n: a policy other than ours fails the link (names would resolve apart). */
void rs_resolver_on_p_policy(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_resolver_end_apply logs the resolver answers refused during the apply (the first,
 * then at each power of two). */
void rs_resolver_end_apply(struct rs_core *c);

#endif
