/* hlc.h: the node's hybrid logical clock (hlc.c). */
#ifndef ROSTER_CORE_HLC_H
#define ROSTER_CORE_HLC_H

#include "core/internal.h"

/* rs_hlc_stamp returns a new stamp above every stamp issued or received. */
uint64_t rs_hlc_stamp(struct rs_core *c);
void rs_hlc_recv(struct rs_core *c, uint64_t hlc);

#endif
