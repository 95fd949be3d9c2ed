/* change.h: the one change pipeline of the core (change.c). Every change to the name and
 * group tables, whether a local client asked for it, a peer replicated it or (later) a
 * backend reports it, is one struct rs_change given to rs_change_apply, which changes the
 * tables (unless the caller already did) and then emits, in one fixed order, the events
 * to subscribers, the monitor notices and the replication to peers. */
#ifndef ROSTER_CORE_CHANGE_H
#define ROSTER_CORE_CHANGE_H

#include "core/internal.h"

enum rs_change_kind {
    RS_CH_NAME_PUT = 1,  /* a new claim on a name */
    RS_CH_NAME_UPDATE,   /* new metadata of a claim */
    RS_CH_NAME_REMOVE,   /* a claim given up (unregister, conflict loss, purge) */
    RS_CH_MEMBER_PUT,    /* a membership joined, or its metadata updated */
    RS_CH_MEMBER_REMOVE, /* a membership left (leave, purge) */
    RS_CH_PID_DOWN,      /* a pid died: all its entries go, its monitors fire */
    RS_CH_NAME_HANDOFF,  /* a claim re-pointed to another pid of the same node (proc),
                            with a new stamp (hlc): never free in between (reason
                            handoff; normal: a snapshot replaced a claim we missed go) */
};

enum rs_change_source {
    RS_SRC_LOCAL = 1, /* a client of this node (or this node's own decision) */
    RS_SRC_PEER,      /* a frame of another node: never sent back */
    RS_SRC_BACKEND,   /* a strong scope's backend: events and notices, never replicated */
};

struct rs_change {
    enum rs_change_kind kind;
    enum rs_change_source source;
    int applied;                  /* the caller changed the table already (it had to reply
                                     in between): only the outputs are left */
    uint32_t reason;              /* ROSTER_REASON_* of a removal or death */
    uint64_t hlc;                 /* stamp of a remote claim (NAME_PUT), of a handoff */
    struct rs_scope *scope;
    struct rs_proc *proc;         /* the pid whose entry it is (HANDOFF: the new holder) */
    struct rs_bytes key, meta;    /* PUT / UPDATE: name or group, new metadata */
    struct rs_bytes prev;         /* applied UPDATE: the metadata it replaced */
    struct rs_name *name;         /* UPDATE, REMOVE, applied PUT: the claim */
    struct rs_member *member;     /* MEMBER_REMOVE: the membership */
    const struct rs_name *winner; /* NAME_REMOVE of a claim that lost a conflict */
    struct rs_bytes reason_text;  /* PID_DOWN with reason ROSTER_REASON_EXIT: the caller's
                                     exit reason, carried by every event and notice */
};

/* rs_change_apply applies ch and emits what follows from it. 0, or -1 when out of memory
 * (nothing changed, nothing emitted). */
int rs_change_apply(struct rs_core *c, struct rs_change *ch);

#endif
