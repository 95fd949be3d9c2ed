/* events.h: the events fanned out to subscriptions (events.c). */
#ifndef ROSTER_CORE_EVENTS_H
#define ROSTER_CORE_EVENTS_H

#include "core/internal.h"

/* rs_events_wanted says whether s's events have anybody to go to: a subscription, or the
 * dashboard's tap (view.c). Callers skip building events otherwise. */
static inline int rs_events_wanted(const struct rs_core *c, const struct rs_scope *s)
{
    return s->subs || c->tap;
}
/* rs_events_emit fans one registry (group = 0) or group (group = 1) event out to the
 * matching subscriptions of s, stopping those whose connection is too far behind. */
void rs_events_emit(struct rs_core *c, struct rs_scope *s, int group, uint32_t kind,
                    uint32_t reason, struct rs_pid pid, struct rs_bytes key,
                    struct rs_bytes meta, struct rs_bytes prev);
/* rs_events_emit_one is rs_events_emit for one subscription (one fed by its own source). */
void rs_events_emit_one(struct rs_core *c, struct rs_sub *sub, int group, uint32_t kind,
                        uint32_t reason, struct rs_pid pid, struct rs_bytes key,
                        struct rs_bytes meta, struct rs_bytes prev);
/* rs_events_node sends NODE_UP / NODE_DOWN (kind) about node name to every subscription of
 * s. */
void rs_events_node(struct rs_core *c, struct rs_scope *s, uint32_t kind, struct rs_bytes name);
/* rs_events_smeta fans a scope-metadata event (ROSTER_EV_SCOPE_META_SET / _DELETED) out
 * to the subscriptions of s with ROSTER_SUB_SCOPE_META whose pattern matches key; node is
 * the writer. rs_events_smeta_snapshot sends one key as a snapshot event to sub. */
void rs_events_smeta(struct rs_core *c, struct rs_scope *s, uint32_t kind, struct rs_bytes key,
                     struct rs_bytes val, struct rs_bytes prev, struct rs_bytes node);
void rs_events_smeta_snapshot(struct rs_core *c, struct rs_sub *sub, struct rs_bytes key,
                              struct rs_bytes val, struct rs_bytes node);
/* How a subscription matches: the families it follows (ROSTER_SUB_REGISTRY / GROUPS),
 * and whether it matches every key. */
uint32_t rs_events_families(const struct rs_sub *s);
int rs_events_match_all(const struct rs_sub *s);
int rs_events_matches(const struct rs_sub *s, int group, struct rs_bytes key);

#endif
