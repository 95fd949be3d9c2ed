/* scope.c: the requests on scopes: SCOPE_CREATE, SCOPE_JOIN / SCOPE_LEAVE (which scopes
 * this node replicates, docs/CLUSTER.md), the SCOPES listing, and the resolution of a
 * request's scope (or its ENOSCOPE reply). The table is scopes.c. */
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/repl.h"
#include "core/repl_in.h"
#include "core/scope.h"
#include "core/scopes.h"
#include "core/strong.h"
#include "core/util.h"

struct rs_scope *rs_scope_of(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scopes_find(c, req->scope);
    if (!s && rs_strong_starting(c, cl, req))
        return NULL;
    if (!s) {
        char kb[80];
        rs_out_error(c, cl, req, ROSTER_ENOSCOPE, "no scope '%s' on this node",
                     rs_fmt_key(kb, sizeof kb, req->scope.ptr, req->scope.len));
    }
    return s;
}

void rs_scope_on_create(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    char kb[80];
    if (req->scope.len == 0 || req->scope.len > RS_SCOPE_MAX) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "scope name must be 1..%u bytes", RS_SCOPE_MAX);
        return;
    }
    uint32_t mode = rs_msg_scope_create_mode(req) & ~(uint32_t)ROSTER_SCOPE_OPTIONS;
    uint32_t opts = rs_msg_scope_create_mode(req) & ROSTER_SCOPE_OPTIONS;
    if (opts && mode == ROSTER_SCOPE_STRONG) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "scope options are for eventual scopes");
        return;
    }
    if (mode > ROSTER_SCOPE_STRONG) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "scope mode %u is not 0 (eventual) or 1 (strong)",
                     (unsigned)mode);
        return;
    }
    rs_fmt_key(kb, sizeof kb, req->scope.ptr, req->scope.len);
    if (rs_scopes_find(c, req->scope)) {
        rs_out_error(c, cl, req, ROSTER_EEXIST, "scope '%s' already exists", kb);
        return;
    }
    if (mode == ROSTER_SCOPE_STRONG) {
        rs_strong_on_create(c, cl, req);
        return;
    }
    struct rs_scope *s = rs_scopes_create(c, req->scope, mode);
    if (!s)
        return;
    s->opts = opts;
    s->joined = 1;
    rs_out_ok(c, cl, req);
    rs_out_log(c, RS_LOG_INFO, "scope '%s' created by client '%s'", kb, cl->name);
    rs_repl_announce(c, s, 1);
}

struct rs_scope *rs_scope_joined_of(struct rs_core *c, struct rs_client *cl,
                                    const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (s && !s->joined) {
        rs_out_error(c, cl, req, ROSTER_ENOSCOPE, "this node has not joined scope '%s'",
                     s->name);
        return NULL;
    }
    return s;
}

void rs_scope_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    char kb[80];
    if (req->scope.len == 0 || req->scope.len > RS_SCOPE_MAX) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "scope name must be 1..%u bytes", RS_SCOPE_MAX);
        return;
    }
    rs_fmt_key(kb, sizeof kb, req->scope.ptr, req->scope.len);
    struct rs_scope *s = rs_scopes_find(c, req->scope);
    int fresh = !s;
    if (!s && !(s = rs_scopes_create(c, req->scope, ROSTER_SCOPE_EVENTUAL)))
        return;
    if (fresh) /* the options the cluster created it with, if a peer announced it */
        s->opts = rs_nodes_announced_opts(c, req->scope, &s->opts_adopt);
    rs_out_ok(c, cl, req);
    rs_scope_set_lease(c, s, 0); /* a plain join is for good */
    if (s->joined)
        return;
    s->joined = 1;
    rs_out_log(c, RS_LOG_INFO, "scope '%s' joined by client '%s'", kb, cl->name);
    rs_repl_announce(c, s, 1);
}

void rs_scope_set_lease(struct rs_core *c, struct rs_scope *s, uint64_t lease_ms)
{
    if (!s->lease_ms != !lease_ms) {
        RS_ASSERT(lease_ms || c->n_leased > 0);
        c->n_leased += lease_ms ? 1 : (uint32_t)-1;
    }
    s->lease_ms = lease_ms;
    s->idle_since = c->now_ms;
}

void rs_scope_drop(struct rs_core *c, struct rs_scope *s)
{
    rs_scope_set_lease(c, s, 0);
    s->joined = 0;
    rs_repl_drop(c, NULL, s, ROSTER_REASON_NORMAL);
    rs_repl_announce(c, s, 0);
}

void rs_scope_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_joined_of(c, cl, req);
    if (!s)
        return;
    if (s == c->dflt) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "every node stays in scope 'default'");
        return;
    }
    if (s->kv) {
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "every node with the cluster's etcd sees its strong scopes");
        return;
    }
    /* Our own entries would become invisible to the cluster: refuse while there are any. */
    for (size_t i = 0; i < c->procs.cap; i++) {
        struct rs_proc *p = c->procs.slots[i].item;
        if (!p)
            continue;
        int busy = 0;
        for (struct rs_name *n = p->names; n && !busy; n = n->next)
            busy = n->scope == s;
        for (struct rs_member *m = p->members; m && !busy; m = m->pnext)
            busy = m->group->scope == s;
        if (busy) {
            char pb[ROSTER_PID_STRLEN];
            rs_out_error(c, cl, req, ROSTER_EBUSY,
                         "local pid %s still holds names or memberships in scope '%s'",
                         rs_fmt_pid(pb, rs_pids_of(c, p)), s->name);
            return;
        }
    }
    rs_out_ok(c, cl, req);
    rs_scope_drop(c, s);
    rs_out_log(c, RS_LOG_INFO, "scope '%s' left by client '%s'", s->name, cl->name);
}

static int cmp_scope(const void *a, const void *b)
{
    const struct rs_scope *x = *(const struct rs_scope *const *)a;
    const struct rs_scope *y = *(const struct rs_scope *const *)b;
    return rs_bytes_cmp((const uint8_t *)x->name, x->name_len, (const uint8_t *)y->name,
                        y->name_len);
}

void rs_scope_on_list(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    size_t n = 0;
    struct rs_scope **v = rs_core_alloc(c, c->scopes.n * sizeof *v + 1);
    if (!v)
        return;
    for (size_t i = 0; i < c->scopes.cap; i++)
        if (c->scopes.slots[i].item)
            v[n++] = c->scopes.slots[i].item;
    qsort(v, n, sizeof *v, cmp_scope);
    for (size_t i = 0; i < n; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        uint64_t names = v[i]->names.n, groups = v[i]->groups.n;
        if (v[i]->kv)
            rs_strong_counts(c, v[i], &names, &groups);
        rs_msg_scopes_item_mode_set(&it, v[i]->mode | v[i]->opts);
        rs_msg_scopes_item_names_set(&it, names);
        rs_msg_scopes_item_groups_set(&it, groups);
        it.scope = rs_bytes_of(v[i]->name, v[i]->name_len);
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, n);
    rs_free(v);
}
