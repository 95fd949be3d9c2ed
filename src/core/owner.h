/* owner.h: who holds a pid: its client's OS pid and uid, replicated (owner.c). */
#ifndef ROSTER_CORE_OWNER_H
#define ROSTER_CORE_OWNER_H

#include "core/internal.h"

/* rs_owner_pack packs an OS pid and uid as peers carry them (0: unknown; an OS pid is
 * never 0, so uid 0 stays distinct). */
static inline uint64_t rs_owner_pack(int32_t os_pid, uint32_t uid)
{
    return os_pid > 0 ? (uint64_t)(uint32_t)os_pid | (uint64_t)uid << 32 : 0;
}
/* rs_owner_of is pid p's owner, packed: its client's for a local pid, the replicated one
 * for a remote pid. (Inline: the replication, a lower layer than owner.c, reads it.) */
static inline uint64_t rs_owner_of(const struct rs_proc *p)
{
    return p->client ? rs_owner_pack(p->client->os_pid, p->client->uid) : p->owner;
}
/* rs_owner_learn records the owner a peer sent with an entry of remote pid p. A pid
 * belongs to one client for its whole life, so a later 0 (not known) erases nothing. */
static inline void rs_owner_learn(struct rs_proc *p, uint64_t packed)
{
    if (!p->client && packed)
        p->owner = packed;
}
/* OWNER: a pid's holder, from this node's tables. */
void rs_owner_on_owner(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);

#endif
