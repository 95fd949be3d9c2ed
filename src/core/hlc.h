/* hlc.h: the node's hybrid logical clock (hlc.c). */
#ifndef ROSTER_CORE_HLC_H
#define ROSTER_CORE_HLC_H

#include "internal.h"

#define RS_HLC_SKEW_MAX_MS (3600u * 1000u) /* a received stamp moves our clock this far at most */
/* rs_hlc_stamp returns a new stamp above every stamp issued or received. */
uint64_t rs_hlc_stamp(struct rs_core *c);
void rs_hlc_recv(struct rs_core *c, uint64_t hlc);

#endif
