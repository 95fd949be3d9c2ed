/* fair.h: fairness between connections (fair.c, docs/PERFORMANCE.md "Fairness"). A
 * connection's frames are applied at most RSD_FAIR_FRAMES work units per turn (a frame, and
 * each RSD_FAIR_OUT_UNIT bytes of output it made: a subscription's snapshot costs more
 * than a lookup): past that its reading
 * pauses and it waits on the backlog, which the loop serves one turn per connection per
 * iteration, after every socket that became readable had its own turn. With --client-rate a
 * client also spends one token per request from a bucket of --client-burst tokens refilled
 * at the rate; with none left it waits, unread, until the bucket refills (its own writes
 * then block in its kernel buffer: backpressure, never an error). */
#ifndef ROSTER_NODE_FAIR_H
#define ROSTER_NODE_FAIR_H

#include <stdint.h>

#include "node/node.h"

#define RSD_FAIR_FRAMES 64     /* work units of one connection per turn: */
#define RSD_FAIR_OUT_UNIT 256u /* a frame is one, and each 256 bytes of output it makes */

struct rs_conn;

/* rsd_fair_start creates the backlog's handles (after the loop); 0 or -1. */
int rsd_fair_start(struct rsd *n);
/* rsd_fair_free frees them once the loop has closed every handle. */
void rsd_fair_free(struct rsd *n);
/* rsd_fair_set sets the per-client rate (requests a second, 0: none) and burst. */
void rsd_fair_set(struct rsd *n, unsigned rate, unsigned burst);

/* rsd_fair_budget returns how many frames c may apply now (0: its tokens are spent). */
long rsd_fair_budget(struct rs_conn *c);
/* rsd_fair_spent takes frames off c's tokens. */
void rsd_fair_spent(struct rs_conn *c, long frames);
/* rsd_fair_defer pauses c's reading (its reader keeps what it holds) and queues it for a
 * later turn: the backlog, or the throttled list when its tokens are spent. */
void rsd_fair_defer(struct rs_conn *c);
/* rsd_fair_forget takes a closing c off the lists. */
void rsd_fair_forget(struct rs_conn *c);

/* Counters for status lines and tests: turns deferred, waits for tokens. */
struct rsd_fair_stats {
    uint64_t deferred;
    uint64_t throttled;
};
void rsd_fair_stats(const struct rsd *n, struct rsd_fair_stats *st);

#endif
