/* change.c: the change pipeline. Tables (names.c, claims.c, members.c, pids.c) only change
 * data; handlers (registry.c, groups.c, life.c, repl_in.c, ...) validate and reply; this
 * file alone turns a change into its outputs, in one order for every source:
 *
 *   1. the table change (unless the caller made it already),
 *   2. the events to the subscriptions of the scope,
 *   3. the monitor notices (a pid's death),
 *   4. the replication to peers: only for a LOCAL change of an eventual scope (a PEER
 *      change is never sent back, a BACKEND change never crosses the peer protocol),
 *   5. conflict resolution: a local claim that lost gives the name up, as a new change.
 *
 * A handoff is one change too: the claim moves to its new pid in one table step, its
 * subscribers see UNREGISTERED then REGISTERED (reason handoff) with nothing between, and
 * peers get one P_OP (RS_POP_HANDOFF) that they apply the same way.
 *
 * A removal (and a pid's death) is replicated first, before step 1: its frame quotes the
 * entry (key, stamp) that step 1 takes away. The owner of a claim that lost a conflict
 * hears it (a CONFLICT event) before anything else of that removal. */
#include <string.h>

#include "base/check.h"
#include "core/change.h"
#include "core/claims.h"
#include "core/events.h"
#include "core/hlc.h"
#include "core/members.h"
#include "core/names.h"
#include "core/notices.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/publish.h"
#include "core/repl.h"
#include "core/ttl.h"
#include "core/util.h"

/* The one place that decides whether a change goes to the peers. */
static int replicates(const struct rs_change *ch)
{
    return ch->source == RS_SRC_LOCAL && ch->scope->mode == ROSTER_SCOPE_EVENTUAL;
}

static void name_event(struct rs_core *c, const struct rs_name *n, uint32_t kind,
                       uint32_t reason)
{
    struct rs_scope *s = n->scope;
    if (rs_events_wanted(c, s))
        rs_events_emit(c, s, 0, kind, reason, rs_pids_of(c, n->proc),
                       rs_bytes_of(n->key, n->key_len), rs_bytes_of(n->meta, n->meta_len),
                       rs_bytes_of(NULL, 0));
}

/* The events of a change of the visible holder; the claim hidden (or removed) goes with
 * reason. */
static void shift_events(struct rs_core *c, const struct rs_claims_shift *sh, uint32_t reason)
{
    rs_pub_shift(c, sh); /* the region first: it must show the change before any output */
    if (sh->hidden)
        name_event(c, sh->hidden, ROSTER_EV_UNREGISTERED, reason);
    if (sh->shown)
        name_event(c, sh->shown, ROSTER_EV_REGISTERED, ROSTER_REASON_NONE);
}

/* Step 5: a local claim hidden by a put or an update lost: its owner gives the name up. */
static void settle(struct rs_core *c, const struct rs_claims_shift *sh)
{
    struct rs_name *l = sh->hidden;
    if (!l || !l->proc->client)
        return;
    struct rs_change lose = {.kind = RS_CH_NAME_REMOVE,
                             .source = RS_SRC_LOCAL,
                             .reason = ROSTER_REASON_CONFLICT,
                             .scope = l->scope,
                             .proc = l->proc,
                             .name = l,
                             .winner = sh->shown};
    rs_change_apply(c, &lose);
}

static int name_put(struct rs_core *c, struct rs_change *ch)
{
    struct rs_claims_shift sh = {NULL, ch->name};
    if (!ch->applied) {
        struct rs_name *n = rs_names_new(c, ch->scope, ch->proc, ch->key, ch->meta, ch->hlc);
        if (!n)
            return -1;
        if (rs_names_insert(c, n, &sh) != 0) {
            rs_names_free(n);
            return -1;
        }
        ch->name = n;
    }
    RS_ASSERT(ch->name != NULL);
    shift_events(c, &sh, ROSTER_REASON_CONFLICT);
    if (replicates(ch))
        rs_repl_op(c, ch->scope, RS_POP_REGISTER, ROSTER_REASON_NONE, ch->name->hlc,
                   rs_pids_of(c, ch->proc), ch->key, ch->meta);
    settle(c, &sh);
    return 0;
}

/* New metadata of a claim, and (ch->hlc, from a peer's snapshot) a new stamp: the same
 * pid was granted the name again while we did not hear it (a handoff away and back, or an
 * unregister and a register), so its token and its place among the claims change, without
 * an event if the metadata did not. */
static int name_update(struct rs_core *c, struct rs_change *ch)
{
    struct rs_name *n = ch->name;
    struct rs_bytes old = ch->prev;
    int meta = ch->applied || !rs_bytes_eq(n->meta, n->meta_len, ch->meta.ptr, ch->meta.len);
    if (meta && !ch->applied && rs_names_set_meta(c, n, ch->meta, &old) != 0)
        return -1;
    if (ch->hlc)
        n->hlc = ch->hlc;
    rs_pub_name(c, n);
    if (meta && rs_events_wanted(c, n->scope) && rs_claims_visible(c, n))
        rs_events_emit(c, n->scope, 0, ROSTER_EV_UPDATED, ROSTER_REASON_NONE,
                       rs_pids_of(c, n->proc), rs_bytes_of(n->key, n->key_len), ch->meta,
                       old);
    if (meta && !ch->applied)
        rs_free((void *)old.ptr);
    if (replicates(ch))
        rs_repl_op(c, ch->scope, RS_POP_REGISTER, ROSTER_REASON_NONE, n->hlc,
                   rs_pids_of(c, n->proc), rs_bytes_of(n->key, n->key_len), ch->meta);
    struct rs_claims_shift sh;
    rs_claims_recheck(c, n, &sh);
    shift_events(c, &sh, ROSTER_REASON_CONFLICT);
    settle(c, &sh);
    return 0;
}

/* A handoff (reason handoff; a peer's snapshot that shows another pid of the same node in
 * the claim uses it too, with reason normal): subscribers see the old holder go and the
 * new one come in one batch, then the old holder's client gets UNREGISTERED and the new
 * holder's client REGISTERED, both with id 0 and reason handoff (as a strong scope tells
 * them), then the peers get one op. The new stamp may change the claims' winner order (a
 * newer claim under the oldest policy): that is re-resolved last, as after an update. */
static int name_handoff(struct rs_core *c, struct rs_change *ch)
{
    struct rs_name *n = ch->name;
    struct rs_scope *s = n->scope;
    struct rs_proc *from = n->proc;
    struct rs_pid old = rs_pids_of(c, from), now = rs_pids_of(c, ch->proc);
    int visible = rs_claims_visible(c, n);
    int handoff = ch->reason == ROSTER_REASON_HANDOFF;
    rs_ttl_drop(c, n, NULL); /* the lease was the old holder's: the new one asked for none */
    rs_names_move(c, n, ch->proc, ch->hlc);
    rs_pub_name(c, n);
    struct rs_bytes key = rs_bytes_of(n->key, n->key_len);
    struct rs_bytes meta = rs_bytes_of(n->meta, n->meta_len), none = rs_bytes_of(NULL, 0);
    if (visible && rs_events_wanted(c, s)) {
        rs_events_emit(c, s, 0, ROSTER_EV_UNREGISTERED, ch->reason, old, key, meta, none);
        rs_events_emit(c, s, 0, ROSTER_EV_REGISTERED,
                       handoff ? ROSTER_REASON_HANDOFF : ROSTER_REASON_NONE, now, key, meta,
                       none);
    }
    if (handoff && from->client)
        rs_out_event(c, from->client, ROSTER_EV_UNREGISTERED, ROSTER_REASON_HANDOFF, 0, 0, old,
                     s, key, meta, none);
    if (handoff && ch->proc->client)
        rs_out_event(c, ch->proc->client, ROSTER_EV_REGISTERED, ROSTER_REASON_HANDOFF, 0, 0,
                     now, s, key, meta, none);
    if (replicates(ch))
        rs_repl_op(c, s, RS_POP_HANDOFF, ROSTER_REASON_HANDOFF, n->hlc, now, key, meta);
    struct rs_claims_shift sh;
    rs_claims_recheck(c, n, &sh);
    shift_events(c, &sh, ROSTER_REASON_CONFLICT);
    settle(c, &sh);
    return 0;
}

/* Steps 1 and 2 of a name's removal. */
static void name_drop(struct rs_core *c, struct rs_name *n, uint32_t reason)
{
    struct rs_claims_shift sh;
    rs_ttl_drop(c, n, NULL);
    rs_names_remove(c, n, &sh);
    shift_events(c, &sh, reason);
    rs_names_free(n);
}

static int name_remove(struct rs_core *c, struct rs_change *ch)
{
    struct rs_name *n = ch->name;
    struct rs_scope *s = n->scope;
    struct rs_pid pid = rs_pids_of(c, n->proc);
    struct rs_bytes key = rs_bytes_of(n->key, n->key_len);
    char pb[ROSTER_PID_STRLEN], kb[80];
    if (ch->winner) {
        /* The owner client of a claim that lost hears it first (reason conflict). */
        rs_fmt_pid(pb, rs_pids_of(c, ch->winner->proc));
        rs_out_event(c, n->proc->client, ROSTER_EV_CONFLICT, ROSTER_REASON_CONFLICT, 0, 0, pid,
                     s, key, rs_bytes_of(n->meta, n->meta_len), rs_bytes_str(pb));
    }
    if (replicates(ch))
        rs_repl_op(c, s, RS_POP_UNREGISTER, ch->reason, n->hlc, pid, key,
                   rs_bytes_of(NULL, 0));
    if (ch->winner)
        rs_out_log(c, RS_LOG_INFO, "name '%s' in scope '%s': local pid %llu lost to pid %s",
                   rs_fmt_key(kb, sizeof kb, n->key, n->key_len), s->name,
                   (unsigned long long)n->proc->serial, pb);
    name_drop(c, n, ch->reason);
    return 0;
}

static int member_put(struct rs_core *c, struct rs_change *ch)
{
    struct rs_members_put put;
    if (rs_members_put(c, ch->scope, ch->proc, ch->key, ch->meta, &put) != 0)
        return -1;
    if (put.what == RS_MEMBERS_SAME)
        return 0;
    rs_pub_member_put(c, ch->scope, ch->proc, ch->key, ch->meta);
    int joined = put.what == RS_MEMBERS_JOINED;
    if (rs_events_wanted(c, ch->scope))
        rs_events_emit(c, ch->scope, 1, joined ? ROSTER_EV_JOINED : ROSTER_EV_MEMBER_UPDATED,
                       ROSTER_REASON_NONE, rs_pids_of(c, ch->proc), ch->key, ch->meta,
                       put.old);
    rs_free((void *)put.old.ptr);
    if (replicates(ch))
        rs_repl_op(c, ch->scope, RS_POP_JOIN, ROSTER_REASON_NONE, rs_hlc_stamp(c),
                   rs_pids_of(c, ch->proc), ch->key, ch->meta);
    return 0;
}

/* Steps 1 and 2 of a membership's removal. */
static void member_drop(struct rs_core *c, struct rs_member *m, uint32_t reason)
{
    struct rs_group *g = m->group;
    struct rs_scope *s = g->scope;
    rs_ttl_drop(c, NULL, m);
    rs_pub_member_del(c, m);
    rs_members_remove(c, m);
    if (rs_events_wanted(c, s))
        rs_events_emit(c, s, 1, ROSTER_EV_LEFT, reason, rs_pids_of(c, m->proc),
                       rs_bytes_of(g->key, g->key_len), rs_bytes_of(m->meta, m->meta_len),
                       rs_bytes_of(NULL, 0));
    rs_members_free(c, m);
}

static int member_remove(struct rs_core *c, struct rs_change *ch)
{
    struct rs_member *m = ch->member;
    struct rs_group *g = m->group;
    if (replicates(ch))
        /* the metadata names which holding went where a pid may hold several (an
         * UNMATCH or a lease expiry removes one by metadata, not the oldest) */
        rs_repl_op(c, g->scope, RS_POP_LEAVE, ch->reason, 0, rs_pids_of(c, m->proc),
                   rs_bytes_of(g->key, g->key_len), rs_bytes_of(m->meta, m->meta_len));
    member_drop(c, m, ch->reason);
    return 0;
}

/* A pid's death: its entries go (replicated as one P_PID_DOWN, not one removal each),
 * then its monitors fire. The caller frees the pid. */
static int pid_down(struct rs_core *c, struct rs_change *ch)
{
    struct rs_proc *p = ch->proc;
    /* an exit reason rides along with every frame below (output.c, repl.c, notices.c) */
    struct rs_bytes saved = c->exit_text;
    c->exit_text = ch->reason == ROSTER_REASON_EXIT ? ch->reason_text : rs_bytes_of(NULL, 0);
    if (ch->source == RS_SRC_LOCAL && (p->names || p->members))
        rs_repl_pid_down(c, p, ch->reason);
    while (p->names)
        name_drop(c, p->names, ch->reason);
    while (p->members)
        member_drop(c, p->members, ch->reason);
    if (p->client) {
        rs_notices_pid_down(c, p, ch->reason);
    }
    c->exit_text = saved;
    return 0;
}

int rs_change_apply(struct rs_core *c, struct rs_change *ch)
{
    switch (ch->kind) {
    case RS_CH_NAME_PUT:
        return name_put(c, ch);
    case RS_CH_NAME_UPDATE:
        return name_update(c, ch);
    case RS_CH_NAME_REMOVE:
        return name_remove(c, ch);
    case RS_CH_PID_DOWN:
        return pid_down(c, ch);
    case RS_CH_NAME_HANDOFF:
        return name_handoff(c, ch);
    case RS_CH_MEMBER_PUT:
        return member_put(c, ch);
    case RS_CH_MEMBER_REMOVE:
        return member_remove(c, ch);
    }
    RS_ASSERT(!"a change of an unknown kind");
    return -1;
}
