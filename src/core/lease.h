/* lease.h: per-entry leases (TTL) and exit reasons, issue 11 items 7 and 8 (lease.c). */
#ifndef ROSTER_CORE_LEASE_H
#define ROSTER_CORE_LEASE_H

#include "core/internal.h"

/* LEASE: a REGISTER (kind RS_LEASE_NAME) or JOIN (RS_LEASE_MEMBER) whose entry then
 * carries a TTL. */
void rs_lease_on_lease(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* After a plain REGISTER or JOIN (already handled): a granted entry that had a lease loses
 * it ("each register or join sets the entry's lease anew"). O(1) for a pid without leases. */
void rs_lease_after_plain(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                          int member);
/* RENEW: every lease of the pid runs again from now. */
void rs_lease_on_renew(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* PID_EXIT: close a pid with the caller's exit reason. */
void rs_lease_on_exit(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* TICK: remove every entry whose lease ran out (reason expired), as LOCAL changes. */
void rs_lease_tick(struct rs_core *c);
/* rs_lease_exit_text_bad returns why text is not an acceptable exit reason, or NULL. */
const char *rs_lease_exit_text_bad(struct rs_bytes text);

#endif
