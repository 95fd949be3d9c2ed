/* strong.h: strong scopes (issue 9, docs/STRONG.md): the names and groups of a scope created
 * with --strong live in etcd; this node keeps a local copy fed by an etcd watch. The core
 * stays pure: every etcd operation is an RS_OUT_KV output and every answer an RS_IN_KV
 * input. The request handlers of eventual scopes hand a strong scope's requests here. */
#ifndef ROSTER_CORE_STRONG_H
#define ROSTER_CORE_STRONG_H

#include "core/internal.h"

int rs_strong_init(struct rs_core *c, const struct rs_core_config *cfg);
void rs_strong_free(struct rs_core *c);
/* rs_strong_begin runs at the start of every apply: frees the last apply's operations,
 * starts the node's etcd session, self-fences when the lease may have expired. */
void rs_strong_begin(struct rs_core *c);
void rs_strong_tick(struct rs_core *c);
void rs_strong_on_kv(struct rs_core *c, const etcd_result *r);

/* rs_strong_starting answers a request for a scope this node does not know while it has not
 * read etcd yet (returns 1): the scope may be a strong one, so the answer is EUNAVAIL
 * "starting", not ENOSCOPE, which a client could not tell from "no such scope". */
int rs_strong_starting(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

/* Requests in a strong scope s (already resolved). */
void rs_strong_on_create(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_strong_on_register(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                           struct rs_scope *s);
void rs_strong_on_unregister(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                             struct rs_scope *s);
void rs_strong_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                       struct rs_scope *s);
void rs_strong_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s);
void rs_strong_on_lookup(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                         struct rs_scope *s);
/* QUERY, QUERY_COUNT of a strong scope (kvread.c): filtered after the etcd read, or on
 * the local copy with RS_QF_STALE. */
void rs_strong_on_query(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s);
void rs_strong_on_names(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s);
void rs_strong_on_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s);
void rs_strong_on_members(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                          struct rs_scope *s);
void rs_strong_on_is_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                            struct rs_scope *s);
void rs_strong_on_groups(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                         struct rs_scope *s);
/* rs_strong_subscribe answers a SUBSCRIBE of a strong scope once sub is in the tables: the
 * snapshot from the local copy, or (from_revision) the subscription's own etcd watch. */
void rs_strong_subscribe(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                         struct rs_sub *sub);
/* rs_strong_pid_down removes a dying local pid's strong entries (one transaction). */
void rs_strong_pid_down(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_strong_pid_gone ends a dying pid's campaigns. */
void rs_strong_pid_gone(struct rs_core *c, struct rs_proc *p);
/* rs_strong_on_cas dispatches CHECK_TOKEN, HANDOFF, UPDATE and CAMPAIGN of a scope cas.c
 * found strong to the strong handlers below. */
void rs_strong_on_cas(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* The scopes listing's counts of a strong scope (local copy). */
void rs_strong_counts(struct rs_core *c, struct rs_scope *s, uint64_t *names,
                      uint64_t *groups);
/* rs_strong_sub_gone cancels the etcd watch of a subscription from a revision at once,
 * before sub is freed (unsubscribe, overflow, its client gone); nothing for others. */
void rs_strong_sub_gone(struct rs_core *c, struct rs_sub *sub);
/* rs_strong_sub_ready says (or replies why not) whether a SUBSCRIBE may go on. */
int rs_strong_sub_ready(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

/* Strong halves of CHECK_TOKEN, HANDOFF, UPDATE, CAMPAIGN (called by cas.c's dispatch). */
void rs_strong_on_check_token(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_strong_on_handoff(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_strong_on_update(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_strong_on_campaign(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

#endif
