/* scopelease.h: scope leases (scopelease.c). */
#ifndef ROSTER_CORE_SCOPELEASE_H
#define ROSTER_CORE_SCOPELEASE_H

#include "core/internal.h"

void rs_scopelease_on_lease(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_scopelease_tick leaves every leased scope unused for its lease (a TICK). */
void rs_scopelease_tick(struct rs_core *c);

#endif
