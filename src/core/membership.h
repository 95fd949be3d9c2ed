/* membership.h: runtime cluster membership and the admin check point (membership.c). */
#ifndef ROSTER_CORE_MEMBERSHIP_H
#define ROSTER_CORE_MEMBERSHIP_H

#include "core/internal.h"

/* rs_admin_allowed is the one check of the node's administration requests: 1 if cl may
 * make request req, else it answers EPERM and returns 0. */
int rs_admin_allowed(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_membership_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
void rs_membership_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
void rs_membership_on_forget(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
/* P_LEAVE from up node n: it leaves the cluster. */
void rs_membership_on_p_leave(struct rs_core *c, struct rs_node *n, const struct rs_msg *m);

#endif
