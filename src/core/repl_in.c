/* repl_in.c: incoming replication (docs/CLUSTER.md): P_SCOPE, snapshots (P_SYNC_BEGIN,
 * P_ENTRY..., P_SYNC_END), P_OP and P_PID_DOWN of a peer, validated field by field (a bad
 * frame fails the node) and applied to that node's remote pids as PEER changes through the
 * pipeline, which never sends them back. A snapshot replaces what we held from that node in
 * that scope (entries it no longer has are swept at P_SYNC_END), so subscribers see exactly
 * the diff. Dropping a node's entries (scope left, node down) walks only that node's pids. */
#include <string.h>

#include "core/change.h"
#include "core/cluster.h"
#include "core/events.h"
#include "core/hlc.h"
#include "core/lease.h"
#include "core/life.h"
#include "core/members.h"
#include "core/names.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/owner.h"
#include "core/pids.h"
#include "core/publish.h"
#include "core/repl.h"
#include "core/repl_in.h"
#include "core/scopes.h"
#include "core/util.h"

/* A removal replicated by a peer (or a purge of its entries). */
static void remove_name(struct rs_core *c, struct rs_name *x, uint32_t reason)
{
    struct rs_change ch = {.kind = RS_CH_NAME_REMOVE, .source = RS_SRC_PEER, .reason = reason,
                           .scope = x->scope, .proc = x->proc, .name = x};
    rs_change_apply(c, &ch);
}

static void remove_member(struct rs_core *c, struct rs_member *x, uint32_t reason)
{
    struct rs_change ch = {.kind = RS_CH_MEMBER_REMOVE, .source = RS_SRC_PEER,
                           .reason = reason, .scope = x->group->scope, .proc = x->proc,
                           .member = x};
    rs_change_apply(c, &ch);
}

/* Remove node n's entries in s (NULL: all scopes); only_stale: those a snapshot did not
 * confirm. */
static void drop_node(struct rs_core *c, struct rs_node *n, const struct rs_scope *s,
                      uint32_t reason, int only_stale)
{
    struct rs_proc *pn;
    for (struct rs_proc *p = n->proc_list; p; p = pn) {
        pn = p->next;
        struct rs_name *nn;
        for (struct rs_name *x = p->names; x; x = nn) {
            nn = x->next;
            if ((!s || x->scope == s) && (!only_stale || x->stale))
                remove_name(c, x, reason);
        }
        struct rs_member *mn;
        for (struct rs_member *x = p->members; x; x = mn) {
            mn = x->pnext;
            if ((!s || x->group->scope == s) && (!only_stale || x->stale))
                remove_member(c, x, reason);
        }
        rs_pids_release(c, p);
    }
}

void rs_repl_drop(struct rs_core *c, struct rs_node *n, const struct rs_scope *s,
                  uint32_t reason)
{
    if (n) {
        drop_node(c, n, s, reason, 0);
        return;
    }
    for (size_t i = 0; i < c->nodes.cap; i++)
        if (c->nodes.slots[i].item)
            drop_node(c, c->nodes.slots[i].item, s, reason, 0);
}

static void mark_stale(struct rs_node *n, const struct rs_scope *s)
{
    for (struct rs_proc *p = n->proc_list; p; p = p->next) {
        for (struct rs_name *x = p->names; x; x = x->next)
            if (x->scope == s)
                x->stale = 1;
        for (struct rs_member *x = p->members; x; x = x->pnext)
            if (x->group->scope == s)
                x->stale = 1;
    }
}

static void on_p_scope(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    struct rs_scope *s = rs_scopes_find(c, m->scope);
    uint32_t opts = rs_msg_p_scope_joined(m) & ROSTER_SCOPE_OPTIONS;
    if (!(rs_msg_p_scope_joined(m) & 1u)) {
        if (rs_nodes_pscope_del(n, m->scope) && s) {
            if (n->sync_active && n->sync == s)
                n->sync = NULL;
            drop_node(c, n, s, ROSTER_REASON_NORMAL, 0);
        }
        return;
    }
    int known = 0;
    uint32_t count = 0;
    for (const struct rs_pscope *x = n->scopes; x && !known; x = x->next, count++)
        known = rs_bytes_eq((const uint8_t *)x->name, x->len, m->scope.ptr, m->scope.len);
    if (!known && count >= RS_PEER_SCOPES_MAX) {
        rs_cluster_fail(c, n, "P_SCOPE: more than %u joined scopes", RS_PEER_SCOPES_MAX);
        return;
    }
    if (!known && rs_nodes_pscope_add(c, n, m->scope) != 0)
        return;
    rs_nodes_pscope_set_opts(n, m->scope, opts);
    if (!s || !s->joined || s->kv)
        return;
    if (s->opts != opts && s->opts_adopt && s->names.n == 0 && s->groups.n == 0) {
        /* joined while no peer announced it, still empty: take the cluster's options and
         * announce them (every peer of the scope then replicates it with us) */
        rs_out_log(c, RS_LOG_INFO, "scope '%s' takes options 0x%x from node '%s'", s->name,
                   (unsigned)opts, n->name);
        rs_pub_scope_gone(c, s);
        s->opts = opts;
        s->opts_adopt = 0;
        rs_repl_announce(c, s, 1);
        return;
    }
    s->opts_adopt = 0; /* the first peer's options decide */
    if (s->opts != opts) {
        rs_out_log(c, RS_LOG_WARN,
                   "scope '%s' has options 0x%x on node '%s' and 0x%x here: not replicated "
                   "between them while they differ (recreate it with the same options)",
                   s->name, (unsigned)opts, n->name, (unsigned)s->opts);
        return;
    }
    if (!known && rs_events_wanted(c, s))
        rs_events_node(c, s, ROSTER_EV_NODE_UP, rs_bytes_of(n->name, n->name_len));
    rs_repl_snapshot(c, n, s);
}

/* The entry a P_ENTRY or a P_OP carries: its pid, name or group (key), metadata and
 * hybrid logical clock, read through the frame's own views. */
struct entry_view {
    struct rs_pid pid;
    struct rs_bytes key;
    struct rs_bytes meta;
    uint64_t hlc;
    uint64_t owner; /* the holder client's os pid | uid << 32 (0: not known) */
};

static struct entry_view entry_of(const struct rs_msg *m)
{
    if (m->type == RS_MSG_P_ENTRY)
        return (struct entry_view){m->pid, rs_msg_p_entry_key(m), rs_msg_p_entry_meta(m),
                                   rs_msg_p_entry_hlc(m), rs_msg_p_entry_owner(m)};
    return (struct entry_view){m->pid, rs_msg_p_op_key(m), rs_msg_p_op_meta(m),
                               rs_msg_p_op_hlc(m), rs_msg_p_op_owner(m)};
}

/* Fields every entry-carrying frame must have right. NULL, or what is wrong. */
static const char *check_entry(const struct rs_core *c, const struct rs_node *n,
                               const struct entry_view *e)
{
    if (e->pid.inc != n->inc || e->pid.serial == 0)
        return "pid of another node";
    if (e->key.len == 0 || e->key.len > c->lim.name_max)
        return "key length out of bounds";
    if (e->meta.len > c->lim.meta_max)
        return "metadata above meta_max";
    return NULL;
}

/* The scope a data frame of n applies to: NULL when we do not replicate it (a frame that
 * crossed our P_SCOPE leave). */
static struct rs_scope *data_scope(const struct rs_core *c, const struct rs_node *n,
                                   const struct rs_msg *m)
{
    struct rs_scope *s = rs_scopes_find(c, m->scope);
    return s && rs_repl_shared(n, s) ? s : NULL;
}

/* put_name applies a remote register (or update) of e's key by remote pid p. */
static void put_name(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                     const struct entry_view *e)
{
    struct rs_change ch = {.source = RS_SRC_PEER, .scope = s, .proc = p, .key = e->key,
                           .meta = e->meta, .hlc = e->hlc};
    struct rs_name *n = rs_names_claim_of(c, s, p, e->key);
    if (n) {
        n->stale = 0;
        if (rs_bytes_eq(n->meta, n->meta_len, e->meta.ptr, e->meta.len) && n->hlc == e->hlc)
            return;
        ch.kind = RS_CH_NAME_UPDATE; /* new metadata, or a new stamp (a grant we missed) */
        ch.name = n;
        rs_change_apply(c, &ch);
        return;
    }
    /* A node holds one claim per key: a claim of another pid of the same node is replaced
     * (its owner already gave it up; we missed how, as after a connection switch). It moves
     * to the new pid in one change, as a handoff does, so that no other node's hidden claim
     * shows up in between: the name is never free here while its node holds it. */
    for (struct rs_name *x = rs_names_find(c, s, e->key.ptr, e->key.len); x; x = x->alt) {
        if (x->proc->node == p->node) {
            struct rs_proc *old = x->proc;
            struct rs_change mv = {.kind = RS_CH_NAME_HANDOFF, .source = RS_SRC_PEER,
                                   .reason = ROSTER_REASON_NORMAL, .scope = s, .proc = p,
                                   .name = x, .hlc = e->hlc};
            rs_change_apply(c, &mv);
            rs_pids_release(c, old);
            put_name(c, s, p, e); /* now p's claim: confirms it, or updates its metadata */
            return;
        }
    }
    ch.kind = RS_CH_NAME_PUT;
    rs_change_apply(c, &ch);
}

/* Past peer_entries_max (a put that adds one more) the node is declared down: a correct
 * peer cannot get there unless the limit differs between nodes. */
static void apply_put(struct rs_core *c, struct rs_node *n, struct rs_scope *s, int name,
                      const struct entry_view *e)
{
    struct rs_proc *p = rs_pids_remote(c, n, e->pid.serial);
    if (!p)
        return;
    rs_owner_learn(p, e->owner);
    if (name) {
        rs_hlc_recv(c, e->hlc);
        put_name(c, s, p, e);
    } else {
        struct rs_group *g = NULL;
        struct rs_member *held = NULL;
        if ((s->opts & ROSTER_SCOPE_DUPLICATE_MEMBERS) && n->sync_active &&
            (g = rs_members_group(c, s, e->key.ptr, e->key.len)))
            held = rs_members_match_stale(g, p, e->meta); /* a snapshot confirms it */
        if (held) {
            held->stale = 0;
        } else {
            struct rs_change ch = {.kind = RS_CH_MEMBER_PUT, .source = RS_SRC_PEER, .scope = s,
                                   .proc = p, .key = e->key, .meta = e->meta};
            rs_change_apply(c, &ch);
        }
    }
    rs_pids_release(c, p); /* if memory ran out, an empty pid does not linger */
    if (n->n_entries > c->peer_entries_max)
        rs_cluster_fail(c, n, "more than %llu names and memberships (peer_entries_max)",
                        (unsigned long long)c->peer_entries_max);
}

/* A handoff of node n: its claim on the key (held by another of its pids) moves to the new
 * pid as one change, so our subscribers never see the name free either. If we do not hold
 * that claim (we never had it), it is a plain put. */
static void apply_handoff(struct rs_core *c, struct rs_node *n, struct rs_scope *s,
                          const struct entry_view *e)
{
    struct rs_proc *to = rs_pids_remote(c, n, e->pid.serial);
    if (!to)
        return;
    rs_owner_learn(to, e->owner);
    rs_hlc_recv(c, e->hlc);
    struct rs_name *x = rs_names_find(c, s, e->key.ptr, e->key.len);
    while (x && x->proc->node != n)
        x = x->alt;
    if (x && x->proc != to) {
        struct rs_proc *from = x->proc;
        struct rs_change ch = {.kind = RS_CH_NAME_HANDOFF, .source = RS_SRC_PEER,
                               .reason = ROSTER_REASON_HANDOFF, .scope = s, .proc = to,
                               .name = x, .hlc = e->hlc};
        rs_change_apply(c, &ch);
        rs_pids_release(c, from);
    }
    /* a plain put when we did not hold it; else nothing, or the metadata if it differs */
    put_name(c, s, to, e);
    rs_pids_release(c, to);
    if (n->n_entries > c->peer_entries_max)
        rs_cluster_fail(c, n, "more than %llu names and memberships (peer_entries_max)",
                        (unsigned long long)c->peer_entries_max);
}

void rs_repl_on_p_entry(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    struct entry_view e = entry_of(m);
    uint32_t kind = rs_msg_p_entry_kind(m);
    const char *bad = check_entry(c, n, &e);
    if (!bad && kind != RS_PENTRY_NAME && kind != RS_PENTRY_MEMBER)
        bad = "unknown entry kind";
    if (!bad && !n->sync_active)
        bad = "P_ENTRY outside a snapshot";
    struct rs_scope *s = bad ? NULL : data_scope(c, n, m);
    if (!bad && s != n->sync)
        bad = "P_ENTRY of another scope than its snapshot";
    if (bad) {
        rs_cluster_fail(c, n, "P_ENTRY: %s", bad);
        return;
    }
    if (s)
        apply_put(c, n, s, kind == RS_PENTRY_NAME, &e);
}

void rs_repl_on_p_op(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    struct entry_view e = entry_of(m);
    uint32_t op = rs_msg_p_op_op(m), reason = rs_msg_p_op_reason(m);
    const char *bad = check_entry(c, n, &e);
    if (!bad &&
        (op < RS_POP_REGISTER || op > RS_POP_HANDOFF || (rs_msg_p_op_opts(m) >> 16) != 0 ||
         (op == RS_POP_HANDOFF ? reason != ROSTER_REASON_HANDOFF
                               : reason > ROSTER_REASON_NOPROC &&
                                     !(reason == ROSTER_REASON_EXPIRED &&
                                       (op == RS_POP_UNREGISTER || op == RS_POP_LEAVE)))))
        bad = "unknown op or reason";
    if (!bad && n->sync_active)
        bad = "P_OP inside a snapshot";
    if (bad) {
        rs_cluster_fail(c, n, "P_OP: %s", bad);
        return;
    }
    struct rs_scope *s = data_scope(c, n, m);
    if (!s)
        return;
    if (reason == ROSTER_REASON_NONE)
        reason = ROSTER_REASON_NORMAL;
    if (op == RS_POP_REGISTER || op == RS_POP_JOIN) {
        apply_put(c, n, s, op == RS_POP_REGISTER, &e);
        return;
    }
    if (op == RS_POP_HANDOFF) {
        apply_handoff(c, n, s, &e);
        return;
    }
    struct rs_proc *p = rs_pids_any(c, e.pid);
    if (!p)
        return; /* nothing held: removals are idempotent */
    if (op == RS_POP_UNREGISTER) {
        struct rs_name *x = rs_names_claim_of(c, s, p, e.key);
        if (x)
            remove_name(c, x, reason);
    } else {
        struct rs_group *g = rs_members_group(c, s, e.key.ptr, e.key.len);
        struct rs_member *x = g ? rs_members_find_meta(c, g, p, e.meta) : NULL;
        if (x)
            remove_member(c, x, reason);
    }
    rs_pids_release(c, p);
}

void rs_repl_on_p_scope(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    if (m->scope.len == 0 || (rs_msg_p_scope_joined(m) & ~(1u | ROSTER_SCOPE_OPTIONS)) != 0) {
        rs_cluster_fail(c, n, "malformed P_SCOPE");
        return;
    }
    on_p_scope(c, n, m);
}

void rs_repl_on_sync_begin(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    if (m->scope.len == 0 || m->scope.len > RS_SCOPE_MAX || n->sync_active) {
        rs_cluster_fail(c, n, "P_SYNC_BEGIN %s", n->sync_active ? "inside a snapshot"
                                                                 : "without a scope");
        return;
    }
    n->sync_active = 1;
    n->sync = data_scope(c, n, m);
    n->sync_len = m->scope.len; /* <= RS_SCOPE_MAX: checked above */
    memcpy(n->sync_name, m->scope.ptr, m->scope.len);
    if (n->sync)
        mark_stale(n, n->sync);
}

void rs_repl_on_sync_end(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    struct rs_scope *s = n->sync && rs_repl_shared(n, n->sync) ? n->sync : NULL;
    if (!n->sync_active ||
        !rs_bytes_eq((const uint8_t *)n->sync_name, n->sync_len, m->scope.ptr, m->scope.len)) {
        rs_cluster_fail(c, n, "P_SYNC_END without its P_SYNC_BEGIN");
        return;
    }
    n->sync_active = 0;
    n->sync = NULL;
    if (s)
        drop_node(c, n, s, ROSTER_REASON_NORMAL, 1);
}

void rs_repl_on_p_pid_down(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint32_t reason = rs_msg_p_pid_down_reason(m);
    if (m->pid.inc != n->inc || reason == ROSTER_REASON_NONE || reason > ROSTER_REASON_NOPROC) {
        rs_cluster_fail(c, n, "malformed P_PID_DOWN");
        return;
    }
    struct rs_proc *p = rs_pids_any(c, m->pid);
    if (p)
        rs_life_kill_remote(c, p, reason);
}

void rs_repl_on_p_pid_exit(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    struct rs_bytes text = rs_msg_p_pid_exit_text(m);
    if (m->pid.inc != n->inc || rs_msg_p_pid_exit_reason(m) != ROSTER_REASON_EXIT ||
        rs_lease_exit_text_bad(text)) {
        rs_cluster_fail(c, n, "malformed P_PID_EXIT");
        return;
    }
    struct rs_proc *p = rs_pids_any(c, m->pid);
    if (p)
        rs_life_kill_remote_text(c, p, ROSTER_REASON_EXIT, text);
}
