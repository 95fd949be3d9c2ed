/* cas.h: the requests on fencing tokens and atomic changes of one name (cas.c):
 * CHECK_TOKEN, HANDOFF, UPDATE (compare-and-set) and CAMPAIGN. */
#ifndef ROSTER_CORE_CAS_H
#define ROSTER_CORE_CAS_H

#include "core/internal.h"

void rs_cas_on_check_token(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_cas_on_handoff(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_cas_on_update(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_cas_on_campaign(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

#endif
