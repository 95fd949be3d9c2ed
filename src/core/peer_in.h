/* peer_in.h: the one entry of frames from other nodes (peer_in.c). */
#ifndef ROSTER_CORE_PEER_IN_H
#define ROSTER_CORE_PEER_IN_H

#include "core/internal.h"

/* rs_peer_in applies frame m received on peer connection conn. */
void rs_peer_in(struct rs_core *c, uint64_t conn, const struct rs_msg *m);

#endif
