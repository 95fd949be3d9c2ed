/* scopemeta.h: the requests on a scope's metadata and its replication (scopemeta.c); the
 * table is smeta.h. */
#ifndef ROSTER_CORE_SCOPEMETA_H
#define ROSTER_CORE_SCOPEMETA_H

#include "core/internal.h"

void rs_scopemeta_on_set(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scopemeta_on_get(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scopemeta_on_delete(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_scopemeta_on_p_smeta merges a peer's write (a bad frame fails the node). */
void rs_scopemeta_on_p_smeta(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);
/* rs_scopemeta_snapshot sends the current keys matching sub as snapshot events. */
void rs_scopemeta_snapshot(struct rs_core *c, struct rs_sub *sub);

#endif
