/* scopes.c: the table of scopes (named namespaces, each with its own names, groups and
 * subscriptions), by name in the core's map: find, create, free. A table: no outputs. */
#include <string.h>

#include "core/scopes.h"
#include "core/smeta.h"
#include "core/util.h"

static int scope_eq(const void *item, const void *key)
{
    const struct rs_scope *s = item;
    const struct rs_bytes *k = key;
    return rs_bytes_eq((const uint8_t *)s->name, s->name_len, k->ptr, k->len);
}

struct rs_scope *rs_scopes_find(const struct rs_core *c, struct rs_bytes name)
{
    if (name.len == 0)
        return c->dflt;
    return rs_map_get(&c->scopes, rs_hash(c->seed, name.ptr, name.len), &name, scope_eq);
}

struct rs_scope *rs_scopes_create(struct rs_core *c, struct rs_bytes name, uint32_t mode)
{
    if (name.len == 0 || name.len > RS_SCOPE_MAX)
        return NULL;
    struct rs_scope *s = rs_calloc(1, sizeof *s);
    if (!s) {
        c->oom = 1;
        return NULL;
    }
    memcpy(s->name, name.ptr, name.len);
    s->name_len = name.len;
    s->mode = mode;
    s->hash = rs_hash(c->seed, name.ptr, name.len);
    rs_map_init(&s->names);
    rs_map_init(&s->groups);
    if (rs_map_put(&c->scopes, s->hash, s) != 0) {
        rs_free(s);
        c->oom = 1;
        return NULL;
    }
    return s;
}

/* Frees the scope with every name, group and membership in it (core teardown only). */
void rs_scopes_free(struct rs_scope *s)
{
    for (size_t i = 0; i < s->names.cap; i++) {
        struct rs_name *n = s->names.slots[i].item;
        while (n) {
            struct rs_name *alt = n->alt;
            rs_free(n->meta);
            rs_free(n);
            n = alt;
        }
    }
    for (size_t i = 0; i < s->groups.cap; i++) {
        struct rs_group *g = s->groups.slots[i].item;
        if (!g)
            continue;
        while (g->members) {
            struct rs_member *m = g->members;
            g->members = m->gnext;
            rs_free(m->meta);
            rs_free(m);
        }
        rs_free(g);
    }
    rs_map_fini(&s->names);
    rs_map_fini(&s->groups);
    rs_smeta_free(s);
    rs_free(s);
}
