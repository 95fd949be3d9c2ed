/* hlc.c: the node's hybrid logical clock. A stamp is (wall_ms << 16) | logical: it follows
 * the wall clock the shell reports with each input, orders events within one millisecond
 * with the logical part, and never goes below a stamp received from another node, so a
 * node with a slow clock still stamps its new claims after the claims it has seen. */
#include "internal.h"

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
    if (hlc > c->hlc)
        c->hlc = hlc;
}
