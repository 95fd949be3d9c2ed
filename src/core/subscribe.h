/* subscribe.h: the SUBSCRIBE and UNSUBSCRIBE requests (subscribe.c). */
#ifndef ROSTER_CORE_SUBSCRIBE_H
#define ROSTER_CORE_SUBSCRIBE_H

#include "core/internal.h"

void rs_subscribe_on_subscribe(struct rs_core *c, struct rs_client *cl,
                               const struct rs_msg *req);
void rs_subscribe_on_unsubscribe(struct rs_core *c, struct rs_client *cl,
                                 const struct rs_msg *req);

#endif
