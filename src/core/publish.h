/* publish.h: the change pipeline's mirror of the eventual scopes' names and groups into the
 * shared-memory region clients read without asking the node (publish.c, docs/SHM.md). */
#ifndef ROSTER_CORE_PUBLISH_H
#define ROSTER_CORE_PUBLISH_H

#include "core/claims.h"
#include "core/internal.h"

/* rs_pub_init starts publishing into the region memory the shell gave in cfg (none:
 * publishing is off). 0, or -1 when out of memory. */
int rs_pub_init(struct rs_core *c, const struct rs_core_config *cfg);
void rs_pub_fini(struct rs_core *c);
/* rs_pub_on reports whether a client may be handed the region. */
int rs_pub_on(const struct rs_core *c);

/* rs_pub_shift shows the key's new visible claim, or takes the key out if none is left. */
void rs_pub_shift(struct rs_core *c, const struct rs_claims_shift *sh);
/* rs_pub_name shows claim n if it is its key's visible one (its metadata or pid changed). */
void rs_pub_name(struct rs_core *c, const struct rs_name *n);
void rs_pub_member_put(struct rs_core *c, struct rs_scope *s, const struct rs_proc *p,
                       struct rs_bytes group, struct rs_bytes meta);
void rs_pub_member_del(struct rs_core *c, const struct rs_member *m);
/* rs_pub_prefetch_name is called before the core looks name up for a write: the region's
 * bucket for it starts loading meanwhile (its miss overlaps the table's; figure 8). */
void rs_pub_prefetch_name(struct rs_core *c, struct rs_scope *s, struct rs_bytes name);

/* rs_pub_scope_gone takes s out of the region (it took options: clients read it over the
 * socket from now on). */
void rs_pub_scope_gone(struct rs_core *c, struct rs_scope *s);

#endif
