/* access.h: the one admission point of client requests (access.c, layer 3): the node's
 * access rules (base/acl.h) and its memory ceiling decide every request before its handler
 * runs, so a refused request changes nothing and its answer depends only on what it asked,
 * never on what the tables hold. */
#ifndef ROSTER_CORE_ACCESS_H
#define ROSTER_CORE_ACCESS_H

#include "core/internal.h"

/* rs_access_admit returns 1 if the handler of m may run; 0 if the request was answered
 * (EACCES naming the rule, or ENOMEM above the memory ceiling) or the conn closed. */
int rs_access_admit(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);

/* rs_access_shm says whether cl may map the shared-memory region: it shows every name of
 * every eventual scope, so only a client whose rules allow reading all of them gets it. */
int rs_access_shm(struct rs_core *c, const struct rs_client *cl);

/* rs_access_recheck, at the start of each apply: after new rules (rs_core_set_acl), ends
 * every subscription they no longer allow, with an OVERFLOW event (the event that ends a
 * subscription; subscribing again is refused naming the rule). */
void rs_access_recheck(struct rs_core *c);

/* rs_access_channel says whether clients a and b may have a direct channel (chan.c): both
 * allowed to send and call a pid of another uid, or the same uid. */
int rs_access_channel(struct rs_core *c, const struct rs_client *a, const struct rs_client *b);

#endif
