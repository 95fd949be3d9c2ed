/* groups.h: the requests on process groups (groups.c); the table is members.h. */
#ifndef ROSTER_CORE_GROUPS_H
#define ROSTER_CORE_GROUPS_H

#include "core/internal.h"

void rs_groups_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_members(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_is_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_groups(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

#endif
