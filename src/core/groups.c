/* groups.c: the requests on process groups: JOIN (add or update metadata), LEAVE, MEMBERS,
 * IS_MEMBER and the GROUPS listing. Each validates, reads or changes the group table
 * (members.c) and hands every change to the change pipeline (change.c), which emits its
 * events and replicates it. */
#include <stdlib.h>
#include <string.h>

#include "core/change.h"
#include "core/groups.h"
#include "core/life.h"
#include "core/members.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/registry.h"
#include "core/scope.h"
#include "core/strong.h"
#include "core/util.h"

void rs_groups_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (rs_check_entry(c, cl, req, "group name") != 0)
        return;
    struct rs_scope *s = rs_scope_joined_of(c, cl, req);
    if (!s)
        return;
    struct rs_proc *p = rs_life_owned(c, cl, req);
    if (!p)
        return;
    if (s->kv) {
        rs_strong_on_join(c, cl, req, s);
        return;
    }
    struct rs_bytes group = rs_msg_join_group(req);
    struct rs_group *g = rs_members_group(c, s, group.ptr, group.len);
    int adds = !(g && rs_members_find(c, g, p)) || (s->opts & ROSTER_SCOPE_DUPLICATE_MEMBERS);
    if (adds && cl->n_entries >= c->lim.entries_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "client holds %llu names and memberships (limit entries_per_client)",
                     (unsigned long long)cl->n_entries);
        return;
    }
    /* The reply goes before the event, as a subscriber on the same connection expects (out
     * of memory fails the whole apply: the node stops). */
    rs_out_ok(c, cl, req);
    struct rs_change ch = {.kind = RS_CH_MEMBER_PUT, .source = RS_SRC_LOCAL, .scope = s,
                           .proc = p, .key = group, .meta = rs_msg_join_meta(req)};
    rs_change_apply(c, &ch);
}

void rs_groups_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    struct rs_proc *p = rs_life_owned(c, cl, req);
    if (!p)
        return;
    if (s->kv) {
        rs_strong_on_leave(c, cl, req, s);
        return;
    }
    struct rs_bytes group = rs_msg_leave_group(req);
    struct rs_group *g = rs_members_group(c, s, group.ptr, group.len);
    struct rs_member *m = g ? rs_members_find(c, g, p) : NULL;
    if (!m) {
        char kb[80], pb[ROSTER_PID_STRLEN];
        rs_out_error(c, cl, req, ROSTER_ENOTMEMBER, "pid %s is not a member of group '%s'",
                     rs_fmt_pid(pb, req->pid),
                     rs_fmt_key(kb, sizeof kb, group.ptr, group.len));
        return;
    }
    rs_out_ok(c, cl, req);
    struct rs_change ch = {.kind = RS_CH_MEMBER_REMOVE, .source = RS_SRC_LOCAL,
                           .reason = ROSTER_REASON_NORMAL, .scope = s, .proc = p,
                           .member = m};
    rs_change_apply(c, &ch);
}

void rs_groups_on_members(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (s->kv) {
        rs_strong_on_members(c, cl, req, s);
        return;
    }
    struct rs_bytes group = rs_msg_members_group(req);
    struct rs_group *g = rs_members_group(c, s, group.ptr, group.len);
    if (!g) {
        rs_out_count(c, cl, req, 0);
        return;
    }
    struct rs_member **v;
    if (rs_members_sorted(c, g, &v) != 0)
        return;
    /* RS_OPT_LOCAL: only pids of this node, in the same pid order. */
    int local = (rs_msg_members_opts(req) & RS_OPT_LOCAL) != 0;
    size_t n = 0;
    for (size_t i = 0; i < g->n_members && !cl->closing; i++) {
        if (local && v[i]->proc->node)
            continue;
        n++;
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        it.pid = rs_pids_of(c, v[i]->proc);
        rs_msg_members_item_node_set(&it, rs_nodes_name_of(c, it.pid.inc));
        rs_msg_members_item_group_set(&it, rs_bytes_of(g->key, g->key_len));
        rs_msg_members_item_meta_set(&it, rs_bytes_of(v[i]->meta, v[i]->meta_len));
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, n);
    rs_free(v);
}

void rs_groups_on_is_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (s->kv) {
        rs_strong_on_is_member(c, cl, req, s);
        return;
    }
    struct rs_bytes group = rs_msg_is_member_group(req);
    struct rs_group *g = rs_members_group(c, s, group.ptr, group.len);
    struct rs_proc *p = rs_pids_any(c, req->pid);
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_is_member_reply_yes_set(&r, (g && p && rs_members_find(c, g, p)) ? 1 : 0);
    rs_out_reply(c, cl, req, &r);
}

static int cmp_member_group(const void *a, const void *b)
{
    const struct rs_member *x = *(const struct rs_member *const *)a;
    const struct rs_member *y = *(const struct rs_member *const *)b;
    return rs_bytes_cmp(x->group->key, x->group->key_len, y->group->key, y->group->key_len);
}

/* GROUPS filtered by pid: walk the pid's memberships, not the scope. */
static void groups_of_pid(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                          const struct rs_scope *s, const struct rs_proc *p)
{
    struct rs_bytes prefix = rs_msg_groups_prefix(req);
    size_t cap = 16, n = 0;
    struct rs_member **v = rs_core_alloc(c, cap * sizeof *v);
    if (!v)
        return;
    for (struct rs_member *m = p->members; m; m = m->pnext) {
        if (m->group->scope != s ||
            !rs_is_prefix(m->group->key, m->group->key_len, prefix.ptr, prefix.len))
            continue;
        if (n == cap) {
            struct rs_member **w = rs_realloc(v, 2 * cap * sizeof *v);
            if (!w) {
                c->oom = 1;
                rs_free(v);
                return;
            }
            v = w;
            cap *= 2;
        }
        v[n++] = m;
    }
    uint64_t max = rs_msg_groups_limit(req);
    size_t limit = max && max < n ? (size_t)max : n;
    rs_sort_head((void **)v, n, limit, cmp_member_group);
    for (size_t i = 0; i < limit && !cl->closing; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        rs_msg_groups_item_members_set(&it, v[i]->group->n_members);
        it.pid = rs_pids_of(c, p);
        rs_msg_groups_item_node_set(&it, rs_nodes_name_of(c, it.pid.inc));
        rs_msg_groups_item_group_set(&it, rs_bytes_of(v[i]->group->key, v[i]->group->key_len));
        rs_msg_groups_item_meta_set(&it, rs_bytes_of(v[i]->meta, v[i]->meta_len));
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, limit);
    rs_free(v);
}

void rs_groups_on_groups(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    if (s->kv) {
        rs_strong_on_groups(c, cl, req, s);
        return;
    }
    struct rs_pid of_pid = rs_msg_groups_filter(req);
    if (of_pid.inc || of_pid.serial) {
        const struct rs_proc *p = rs_pids_any(c, of_pid);
        if (p)
            groups_of_pid(c, cl, req, s, p);
        else
            rs_out_count(c, cl, req, 0);
        return;
    }
    struct rs_bytes prefix = rs_msg_groups_prefix(req);
    size_t n = 0;
    struct rs_group **v = rs_core_alloc(c, (s->groups.n + 1) * sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < s->groups.cap; i++) {
        struct rs_group *g = s->groups.slots[i].item;
        if (g && rs_is_prefix(g->key, g->key_len, prefix.ptr, prefix.len))
            v[n++] = g;
    }
    uint64_t max = rs_msg_groups_limit(req);
    size_t limit = max && max < n ? (size_t)max : n;
    rs_members_sort_groups(v, n, limit);
    for (size_t i = 0; i < limit && !cl->closing; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        rs_msg_groups_item_members_set(&it, v[i]->n_members);
        /* no node: a group is no node's, and every node must answer with the same bytes */
        rs_msg_groups_item_group_set(&it, rs_bytes_of(v[i]->key, v[i]->key_len));
        rs_out_item(c, cl, req, &it);
    }
    rs_out_count(c, cl, req, limit);
    rs_free(v);
}
