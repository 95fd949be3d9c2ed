/* scopelease.c: scope leases (issue 11 item 14, Group's connect(..., ttl:)): SCOPE_LEASE
 * joins a scope like SCOPE_JOIN, but only for as long as something on this node uses it.
 * The scope is in use while a local pid holds a name or membership in it
 * (rs_scope.n_local) or a subscription of it exists; once it has been unused for the
 * lease's length, a local monitor of a pid holding an entry in it renews the lease, and
 * without one the node leaves it as `scope-leave` would (the other nodes' entries are
 * dropped here, the peers stop sending them), so a node stops receiving data it no longer
 * needs. A plain SCOPE_JOIN makes the
 * join permanent again; SCOPE_LEASE on a joined scope sets its lease. The check runs on
 * the node's TICK and costs nothing while no scope is leased. */
#include <string.h>

#include "core/nodes.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/repl.h"
#include "core/scope.h"
#include "core/scopelease.h"
#include "core/scopes.h"
#include "core/util.h"

void rs_scopelease_on_lease(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    char kb[80];
    uint64_t ttl = rs_msg_scope_lease_ttl(req);
    if (req->scope.len == 0 || req->scope.len > RS_SCOPE_MAX) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "scope name must be 1..%u bytes", RS_SCOPE_MAX);
        return;
    }
    if (ttl == 0 || ttl > RS_SCOPE_LEASE_MAX_MS) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "a scope lease is 1..%u ms",
                     RS_SCOPE_LEASE_MAX_MS);
        return;
    }
    rs_fmt_key(kb, sizeof kb, req->scope.ptr, req->scope.len);
    struct rs_scope *s = rs_scopes_find(c, req->scope);
    if (s && (s == c->dflt || s->kv)) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "scope '%s' cannot be left: no lease on it",
                     s->name);
        return;
    }
    int fresh = !s;
    if (!s && !(s = rs_scopes_create(c, req->scope, ROSTER_SCOPE_EVENTUAL)))
        return;
    if (fresh)
        s->opts = rs_nodes_announced_opts(c, req->scope, &s->opts_adopt);
    rs_out_ok(c, cl, req);
    rs_scope_set_lease(c, s, ttl);
    if (s->joined)
        return;
    s->joined = 1;
    rs_out_log(c, RS_LOG_INFO, "scope '%s' joined by client '%s' with a lease of %llu ms", kb,
               cl->name, (unsigned long long)ttl);
    rs_repl_announce(c, s, 1);
}

/* watched says whether a local monitor watches a pid holding an entry in s. */
static int watched(struct rs_core *c, const struct rs_scope *s)
{
    for (size_t i = 0; i < c->mons.cap; i++) {
        const struct rs_monitor *m = c->mons.slots[i].item;
        if (!m)
            continue;
        const struct rs_proc *p = m->target ? m->target : rs_pids_any(c, m->rpid);
        if (!p)
            continue;
        for (const struct rs_name *x = p->names; x; x = x->next)
            if (x->scope == s)
                return 1;
        for (const struct rs_member *x = p->members; x; x = x->pnext)
            if (x->group->scope == s)
                return 1;
    }
    return 0;
}


void rs_scopelease_tick(struct rs_core *c)
{
    if (!c->n_leased)
        return;
    /* leaving changes no scope map: iterating it while leaving is safe */
    for (size_t i = 0; i < c->scopes.cap; i++) {
        struct rs_scope *s = c->scopes.slots[i].item;
        if (!s || !s->lease_ms)
            continue;
        if (!s->joined || s->n_local || s->subs) {
            s->idle_since = c->now_ms;
            continue;
        }
        if (c->now_ms - s->idle_since < s->lease_ms)
            continue;
        /* monitors are looked at only when the lease runs out (a scan of every monitor on
         * each tick would cost too much): one there renews the lease */
        if (c->mons.n && watched(c, s)) {
            s->idle_since = c->now_ms;
            continue;
        }
        rs_out_log(c, RS_LOG_INFO,
                   "scope '%s' left: unused (no local entry, subscription or monitor in it) "
                   "for its lease of %llu ms", s->name, (unsigned long long)s->lease_ms);
        rs_scope_drop(c, s);
    }
}
