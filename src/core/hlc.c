/* hlc.c: the node's hybrid logical clock. A stamp is (wall_ms << 16) | logical: it follows
 * the wall clock the shell reports with each input, orders events within one millisecond
 * with the logical part, and never goes below a stamp received from another node, so a
 * node with a slow clock still stamps its new claims after the claims it has seen.
 *
 * A received stamp moves the clock forward only up to RS_HLC_SKEW_MAX_MS ahead of our own
 * wall clock: one peer with a clock far in the future (or a bogus stamp) must not drag
 * every node's stamps along. The claim keeps the stamp its owner gave it; only our clock
 * is bounded, so with skew beyond the bound our later claims may stamp below it. */
#include "core/hlc.h"

uint64_t rs_hlc_stamp(struct rs_core *c)
{
    uint64_t wall = c->wall_ms << 16;
    if (wall > c->hlc)
        c->hlc = wall;
    else
        c->hlc++;
    return c->hlc;
}

void rs_hlc_recv(struct rs_core *c, uint64_t hlc)
{
    uint64_t bound = ((c->wall_ms + RS_HLC_SKEW_MAX_MS) << 16) | 0xffffu;
    if (hlc > bound)
        hlc = bound;
    if (hlc > c->hlc)
        c->hlc = hlc;
}
