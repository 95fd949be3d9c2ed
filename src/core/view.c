/* view.c: read-only views of the core's tables for the dashboard (core.h): names and
 * groups by prefix, what one pid holds, and the event tap. Nothing here changes a table;
 * the tap is the only hook, and it costs one pointer test per event when off. */
#include <string.h>

#include "core/internal.h"
#include "core/members.h"
#include "core/pids.h"
#include "core/scopes.h"
#include "core/util.h"

void rs_core_set_tap(struct rs_core *c,
                     void (*fn)(void *ctx, const struct rs_core_tap_event *e), void *ctx)
{
    c->tap = fn;
    c->tap_ctx = ctx;
}

static const struct rs_scope *scope_of(const struct rs_core *c, const char *scope, size_t len)
{
    return rs_scopes_find(c, rs_bytes_of((const uint8_t *)scope, len));
}

/* proc_node names p's node: this node's name for a local pid. */
static void proc_node(const struct rs_core *c, const struct rs_proc *p, const char **name,
                      size_t *len)
{
    if (p->node) {
        *name = p->node->name;
        *len = p->node->name_len;
    } else {
        *name = c->node;
        *len = c->node_len;
    }
}

long rs_core_names_view(const struct rs_core *c, const char *scope, size_t scope_len,
                        const char *pre, size_t pn, size_t limit,
                        void (*fn)(void *ctx, const struct rs_core_entry_view *v), void *ctx)
{
    const struct rs_scope *s = scope_of(c, scope, scope_len);
    if (!s)
        return -1;
    long total = 0;
    for (size_t i = 0; i < s->names.cap; i++) {
        const struct rs_name *x = s->names.slots[i].item;
        if (!x || !rs_is_prefix(x->key, x->key_len, (const uint8_t *)pre, pn))
            continue;
        if ((size_t)total++ >= limit)
            continue;
        struct rs_pid pid = rs_pids_of(c, x->proc);
        struct rs_core_entry_view v = {(const char *)x->key, x->key_len, pid.inc, pid.serial,
                                       NULL, 0, 0, x->meta_len};
        proc_node(c, x->proc, &v.node, &v.node_len);
        fn(ctx, &v);
    }
    return total;
}

long rs_core_groups_view(const struct rs_core *c, const char *scope, size_t scope_len,
                         const char *pre, size_t pn, size_t limit,
                         void (*fn)(void *ctx, const struct rs_core_entry_view *v), void *ctx)
{
    const struct rs_scope *s = scope_of(c, scope, scope_len);
    if (!s)
        return -1;
    long total = 0;
    for (size_t i = 0; i < s->groups.cap; i++) {
        const struct rs_group *g = s->groups.slots[i].item;
        if (!g || !rs_is_prefix(g->key, g->key_len, (const uint8_t *)pre, pn))
            continue;
        if ((size_t)total++ >= limit)
            continue;
        struct rs_core_entry_view v = {(const char *)g->key, g->key_len, 0, 0, NULL, 0,
                                       g->n_members, 0};
        fn(ctx, &v);
    }
    return total;
}

long rs_core_members_view(const struct rs_core *c, const char *scope, size_t scope_len,
                          const char *group, size_t group_len, size_t limit,
                          void (*fn)(void *ctx, const struct rs_core_entry_view *v), void *ctx)
{
    const struct rs_scope *s = scope_of(c, scope, scope_len);
    const struct rs_group *g =
        s ? rs_members_group(c, s, (const uint8_t *)group, group_len) : NULL;
    if (!g)
        return -1;
    size_t k = 0;
    for (const struct rs_member *m = g->members; m && k < limit; m = m->gnext, k++) {
        struct rs_pid pid = rs_pids_of(c, m->proc);
        struct rs_core_entry_view v = {(const char *)g->key, g->key_len, pid.inc, pid.serial,
                                       NULL, 0, 0, m->meta_len};
        proc_node(c, m->proc, &v.node, &v.node_len);
        fn(ctx, &v);
    }
    return (long)g->n_members;
}

int rs_core_pid_view(const struct rs_core *c, uint64_t inc, uint64_t serial,
                     void (*fn)(void *ctx, const struct rs_core_pid_item *it), void *ctx)
{
    struct rs_pid pid = {inc, serial};
    const struct rs_proc *p = rs_pids_any(c, pid);
    if (!p)
        return 0;
    for (const struct rs_name *x = p->names; x; x = x->next) {
        struct rs_core_pid_item it = {'n', x->scope->name, x->scope->name_len,
                                      (const char *)x->key, x->key_len, 0};
        fn(ctx, &it);
    }
    for (const struct rs_member *m = p->members; m; m = m->pnext) {
        const struct rs_group *g = m->group;
        struct rs_core_pid_item it = {'g', g->scope->name, g->scope->name_len,
                                      (const char *)g->key, g->key_len, 0};
        fn(ctx, &it);
    }
    for (const struct rs_monitor *m = p->mons; m; m = m->tnext) {
        struct rs_core_pid_item it = {'m', "", 0, "", 0, m->id};
        fn(ctx, &it);
    }
    return p->client ? 1 : 2;
}
