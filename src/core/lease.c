/* lease.c: per-entry leases (issue 11 item 7) and exit reasons (item 8), as handlers.
 *
 * A lease is the owner node's promise to remove an entry that its pid stops renewing: the
 * node keeps the time (TICK inputs), never a client, and never another node: an expired
 * entry goes as an ordinary LOCAL removal with reason expired, which the pipeline replicates
 * like an unregister, so a replica with a skewed clock cannot remove a live entry. The
 * table of leases is ttl.c; entries without one are never looked at.
 *
 * An exit reason is a short caller-chosen text carried by a pid's death (reason exit): the
 * pipeline puts it in every UNREGISTERED / LEFT event and DOWN notice of that death and in
 * the P_PID_EXIT / P_DOWN_EXIT frames (change.c, output.c, repl.c, notices.c). */
#include <string.h>

#include "core/change.h"
#include "core/lease.h"
#include "core/life.h"
#include "core/members.h"
#include "core/names.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/groups.h"
#include "core/registry.h"
#include "core/scope.h"
#include "core/scopes.h"
#include "core/ttl.h"
#include "core/util.h"

/* The built-in reason names (roster_reason_name): a caller may not pass one off as its own.
 * Names of reason values not assigned yet are reserved too. */
static const char *const reserved[] = {
    "none",     "normal",     "disconnected", "node_down", "conflict", "noproc",
    "lease_lost", "handoff",  "expired",      "node_left", "exit",     "unknown",
};

const char *rs_lease_exit_text_bad(struct rs_bytes t)
{
    if (t.len == 0)
        return "an empty exit reason (close the pid without one for reason normal)";
    if (t.len > RS_EXIT_REASON_MAX)
        return "an exit reason above 64 bytes";
    for (uint32_t i = 0; i < t.len; i++)
        if (t.ptr[i] < 0x20 || t.ptr[i] == 0x7f)
            return "a control byte in the exit reason";
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (rs_bytes_eq(t.ptr, t.len, (const uint8_t *)reserved[i], strlen(reserved[i])))
            return "a built-in reason name (reserved)";
    return NULL;
}

/* The entry req named, if p holds it (the handler granted it). */
static int owned_entry(struct rs_core *c, struct rs_proc *p, const struct rs_msg *req,
                       int member, struct rs_name **n, struct rs_member **m)
{
    struct rs_scope *s = rs_scopes_find(c, req->scope);
    *n = NULL;
    *m = NULL;
    if (!s || s->kv)
        return 0;
    struct rs_bytes key = rs_msg_entry_key(req);
    if (member) {
        struct rs_group *g = rs_members_group(c, s, key.ptr, key.len);
        if (g && (s->opts & ROSTER_SCOPE_DUPLICATE_MEMBERS)) {
            /* each join added an entry: the one just made is the pid's newest */
            for (struct rs_member *x = p->members; x; x = x->pnext)
                if (x->group == g && !x->stale && (!*m || x->seq > (*m)->seq))
                    *m = x;
        } else {
            *m = g ? rs_members_find(c, g, p) : NULL;
        }
        return *m != NULL;
    }
    /* p's own claim, visible or not (in a scope unique per node the visible claim of a key
     * may be another node's) */
    *n = rs_names_claim_of(c, s, p, key);
    return *n != NULL;
}

void rs_lease_on_lease(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint32_t kind = rs_msg_lease_kind(req);
    uint64_t ttl = rs_msg_lease_ttl(req);
    if (kind != RS_LEASE_NAME && kind != RS_LEASE_MEMBER) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "lease kind %u is not 1 (name) or 2 (member)",
                     (unsigned)kind);
        return;
    }
    if (ttl < RS_TTL_MIN_MS || ttl > RS_TTL_MAX_MS) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "ttl %llu ms is outside %u..%u ms",
                     (unsigned long long)ttl, RS_TTL_MIN_MS, RS_TTL_MAX_MS);
        return;
    }
    int member = kind == RS_LEASE_MEMBER;
    if (rs_check_entry(c, cl, req, member ? "group name" : "name") != 0)
        return;
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (s->kv) {
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "scope '%s' is strong: its entries live by the node's etcd lease, not "
                     "a TTL", s->name);
        return;
    }
    if (member && (s->opts & ROSTER_SCOPE_DUPLICATE_MEMBERS)) {
        /* several entries of one pid in a group: which of them a renewal, an expiry and a
         * later plain join would mean is not defined yet (docs/API.md) */
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "scope '%s' has duplicate members: memberships there take no lease",
                     s->name);
        return;
    }
    struct rs_proc *p = rs_life_owned(c, cl, req);
    if (!p)
        return;
    /* The REGISTER or JOIN handler does the rest and replies (the LEASE reply has the
     * REGISTER reply's fields); a granted entry then gets its lease. */
    if (member)
        rs_groups_on_join(c, cl, req);
    else
        rs_registry_on_register(c, cl, req);
    struct rs_name *n;
    struct rs_member *m;
    if (owned_entry(c, p, req, member, &n, &m))
        rs_ttl_set(c, n, m, (uint32_t)ttl);
}

void rs_lease_after_plain(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                          int member)
{
    if (rs_ttl_count(c) == 0)
        return; /* no lease on this node: not even a lookup */
    struct rs_proc *p = rs_pids_find(c, req->pid);
    if (!p || p->client != cl || !rs_ttl_has_leases(c, p))
        return;
    /* a request the handler refused for its key or metadata changed nothing */
    struct rs_bytes key = rs_msg_entry_key(req), meta = rs_msg_entry_meta(req);
    if (key.len == 0 || key.len > c->lim.name_max || meta.len > c->lim.meta_max)
        return;
    /* in a scope with duplicate members a plain join added an entry of its own: the
     * leases of the pid's other entries stay */
    struct rs_scope *s = rs_scopes_find(c, req->scope);
    if (member && s && (s->opts & ROSTER_SCOPE_DUPLICATE_MEMBERS))
        return;
    struct rs_name *n;
    struct rs_member *m;
    if (owned_entry(c, p, req, member, &n, &m))
        rs_ttl_drop(c, n, m);
}

void rs_lease_on_renew(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_proc *p = rs_life_owned(c, cl, req);
    if (!p)
        return;
    uint32_t e;
    uint64_t k = rs_ttl_renew(c, p, &e);
    if (e) {
        char pb[ROSTER_PID_STRLEN];
        rs_out_error(c, cl, req, ROSTER_EEXPIRED,
                     "%u leased entr%s of pid %s expired since its last renew (%llu renewed)",
                     (unsigned)e, e == 1 ? "y" : "ies", rs_fmt_pid(pb, req->pid),
                     (unsigned long long)k);
        return;
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_renew_reply_n_set(&r, k);
    rs_out_reply(c, cl, req, &r);
}

void rs_lease_on_exit(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_bytes text = rs_msg_pid_exit_reason(req);
    const char *bad = rs_lease_exit_text_bad(text);
    if (bad) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "%s", bad);
        return;
    }
    struct rs_proc *p = rs_life_owned(c, cl, req);
    if (!p)
        return;
    rs_out_ok(c, cl, req);
    rs_life_kill_text(c, p, ROSTER_REASON_EXIT, text);
}

void rs_lease_tick(struct rs_core *c)
{
    struct rs_lease *l;
    while ((l = rs_ttl_due(c, c->now_ms)) != NULL) {
        struct rs_proc *p = l->proc;
        struct rs_pid pid = rs_pids_of(c, p);
        char pb[ROSTER_PID_STRLEN], kb[80];
        rs_ttl_expiring(l);
        c->n_leases_expired++;
        if (l->name) {
            struct rs_name *n = l->name;
            rs_out_log(c, RS_LOG_TRACE, "lease of name '%s' (scope '%s', pid %s) expired",
                       rs_fmt_key(kb, sizeof kb, n->key, n->key_len), n->scope->name,
                       rs_fmt_pid(pb, pid));
            /* the owner hears it even without a subscription: its name is gone */
            rs_out_event(c, p->client, ROSTER_EV_UNREGISTERED, ROSTER_REASON_EXPIRED, 0, 0, pid,
                         n->scope, rs_bytes_of(n->key, n->key_len),
                         rs_bytes_of(n->meta, n->meta_len), rs_bytes_of(NULL, 0));
            struct rs_change ch = {.kind = RS_CH_NAME_REMOVE, .source = RS_SRC_LOCAL,
                                   .reason = ROSTER_REASON_EXPIRED, .scope = n->scope,
                                   .proc = p, .name = n};
            rs_change_apply(c, &ch);
        } else {
            struct rs_member *m = l->member;
            struct rs_group *g = m->group;
            rs_out_log(c, RS_LOG_TRACE, "lease of membership of group '%s' (scope '%s', pid %s) "
                       "expired", rs_fmt_key(kb, sizeof kb, g->key, g->key_len),
                       g->scope->name, rs_fmt_pid(pb, pid));
            rs_out_event(c, p->client, ROSTER_EV_LEFT, ROSTER_REASON_EXPIRED, 0, 0, pid,
                         g->scope, rs_bytes_of(g->key, g->key_len),
                         rs_bytes_of(m->meta, m->meta_len), rs_bytes_of(NULL, 0));
            struct rs_change ch = {.kind = RS_CH_MEMBER_REMOVE, .source = RS_SRC_LOCAL,
                                   .reason = ROSTER_REASON_EXPIRED, .scope = g->scope,
                                   .proc = p, .member = m};
            rs_change_apply(c, &ch);
        }
        /* the removal dropped the lease (change.c): the loop always advances */
    }
}
