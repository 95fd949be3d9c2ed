/* ttl.h: the lease table (ttl.c, layer 1): the expiry of every local name or membership
 * that carries a TTL (issue 11 item 7), in one binary min-heap by deadline, and per pid the
 * list of its leased entries (RENEW walks only those) and the count of those that expired
 * since its last RENEW. An entry without a TTL has no lease record and costs nothing: one
 * bit of it (leased) stays clear, so its removal tests that bit and no tick looks at it.
 * Neither the entry structs nor the pid struct grow: a leased entry's record is found in a
 * map by the entry's address, a pid's in another by the pid's. Data only: the expiry itself
 * (events, replication) is lease.c's, through the change pipeline. */
#ifndef ROSTER_CORE_TTL_H
#define ROSTER_CORE_TTL_H

#include "core/internal.h"

struct rs_ttl_pid;

/* One leased entry: exactly one of name and member is set. */
struct rs_lease {
    uint64_t deadline; /* core now_ms past which it expires */
    uint32_t ttl_ms;
    size_t heap_idx;
    struct rs_name *name;
    struct rs_member *member;
    struct rs_proc *proc;
    struct rs_ttl_pid *owner;       /* its pid's record */
    struct rs_lease *pprev, *pnext; /* its pid's list */
};

/* rs_ttl_init prepares the table (core creation); rs_ttl_free_all frees it (teardown). */
void rs_ttl_init(struct rs_core *c);
void rs_ttl_free_all(struct rs_core *c);
/* rs_ttl_set gives local entry n (or m: pass exactly one) a lease of ttl_ms from now, or
 * restarts it with the new TTL. 0, or -1 when out of memory (c->oom set). */
int rs_ttl_set(struct rs_core *c, struct rs_name *n, struct rs_member *m, uint32_t ttl_ms);
/* rs_ttl_drop removes the lease of n (or m), if it has one. */
void rs_ttl_drop(struct rs_core *c, struct rs_name *n, struct rs_member *m);
/* rs_ttl_renew restarts every lease of p from now; returns how many, and in *expired how
 * many of p's leases ran out since the previous renew (then cleared). */
uint64_t rs_ttl_renew(struct rs_core *c, struct rs_proc *p, uint32_t *expired);
/* rs_ttl_due returns the lease that expires first if its deadline is <= now, else NULL. */
struct rs_lease *rs_ttl_due(const struct rs_core *c, uint64_t now);
/* rs_ttl_expiring counts l's expiry for its pid's next renew (before l is dropped). */
void rs_ttl_expiring(struct rs_lease *l);
/* rs_ttl_has_leases says whether local pid p holds a leased entry (O(1) when the node has
 * no lease at all). */
int rs_ttl_has_leases(const struct rs_core *c, const struct rs_proc *p);
/* rs_ttl_pid_gone forgets dying pid p (its entries were dropped already). */
void rs_ttl_pid_gone(struct rs_core *c, struct rs_proc *p);
/* rs_ttl_count returns the number of leases (all pids). */
size_t rs_ttl_count(const struct rs_core *c);

#endif
