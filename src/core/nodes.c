/* nodes.c: the table of other nodes (struct rs_node by incarnation): find by incarnation or
 * name, create, free, each node's listen address and the scopes it announced it joined, and
 * per-node counts of entries. A table: no outputs (cluster.c decides when a node is up or
 * down and says so). */
#include <string.h>

#include "core/nodes.h"
#include "core/util.h"

static int node_eq(const void *item, const void *key)
{
    return ((const struct rs_node *)item)->inc == *(const uint64_t *)key;
}

struct rs_node *rs_nodes_find(const struct rs_core *c, uint64_t inc)
{
    return rs_map_get(&c->nodes, rs_hash_u64(c->seed, inc), &inc, node_eq);
}

int rs_nodes_name_is(const struct rs_node *n, struct rs_bytes name)
{
    return rs_bytes_eq((const uint8_t *)n->name, n->name_len, name.ptr, name.len);
}

struct rs_node *rs_nodes_named(const struct rs_core *c, struct rs_bytes name)
{
    struct rs_node *any = NULL;
    for (size_t i = 0; i < c->nodes.cap; i++) {
        struct rs_node *n = c->nodes.slots[i].item;
        if (!n || !rs_nodes_name_is(n, name))
            continue;
        if (n->state == ROSTER_NODE_UP)
            return n;
        any = n;
    }
    return any;
}

struct rs_bytes rs_nodes_name_of(const struct rs_core *c, uint64_t inc)
{
    if (inc != c->inc) {
        const struct rs_node *n = rs_nodes_find(c, inc);
        if (n)
            return rs_bytes_of(n->name, n->name_len);
    }
    return rs_bytes_node(c);
}

int rs_nodes_joined(const struct rs_node *n, const struct rs_scope *s)
{
    /* A scope created with other options on n is another scope: never replicated with it
     * (scopeopt.c logs the mismatch). */
    for (const struct rs_pscope *x = n->scopes; x; x = x->next)
        if (rs_bytes_eq((const uint8_t *)x->name, x->len, (const uint8_t *)s->name,
                        s->name_len))
            return x->opts == s->opts;
    return 0;
}

static void pscopes_free(struct rs_pscope **list)
{
    while (*list) {
        struct rs_pscope *x = *list;
        *list = x->next;
        rs_free(x);
    }
}

void rs_nodes_pscopes_free(struct rs_node *n)
{
    pscopes_free(&n->scopes);
    pscopes_free(&n->down_scopes);
}

void rs_nodes_mark_down(struct rs_node *n, uint64_t wall_ms)
{
    pscopes_free(&n->down_scopes);
    n->down_scopes = n->scopes;
    n->scopes = NULL;
    n->down_wall_ms = wall_ms;
}

void rs_nodes_mark_up(struct rs_node *n)
{
    pscopes_free(&n->down_scopes);
    n->down_wall_ms = 0;
}

int rs_nodes_was_joined(const struct rs_node *n, const struct rs_scope *s)
{
    for (const struct rs_pscope *x = n->down_scopes; x; x = x->next)
        if (rs_bytes_eq((const uint8_t *)x->name, x->len, (const uint8_t *)s->name,
                        s->name_len))
            return 1;
    return 0;
}

/* Frees node record n, which holds nothing any more (a down or never-connected node). */
void rs_nodes_free_one(struct rs_core *c, struct rs_node *n)
{
    rs_map_del_item(&c->nodes, rs_hash_u64(c->seed, n->inc), n);
    rs_nodes_pscopes_free(n);
    rs_map_fini(&n->procs);
    rs_free(n);
}

struct rs_node *rs_nodes_new(struct rs_core *c, struct rs_bytes name, uint64_t inc)
{
    struct rs_node *n = rs_core_alloc(c, sizeof *n);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->inc = inc;
    memcpy(n->name, name.ptr, name.len);
    n->name_len = name.len;
    n->state = ROSTER_NODE_CONNECTING;
    n->since_ms = c->now_ms;
    rs_map_init(&n->procs);
    if (rs_map_put(&c->nodes, rs_hash_u64(c->seed, inc), n) != 0) {
        c->oom = 1;
        rs_free(n);
        return NULL;
    }
    return n;
}

void rs_nodes_set_addr(struct rs_node *n, struct rs_bytes addr)
{
    if (addr.len == 0 || addr.len > RS_NODE_ADDR_MAX)
        return;
    memcpy(n->addr, addr.ptr, addr.len);
    n->addr[addr.len] = 0;
    n->addr_len = addr.len;
}

void rs_nodes_count(const struct rs_core *c, const struct rs_scope *s,
                           const struct rs_node *n, uint64_t *names, uint64_t *groups,
                           uint64_t *members)
{
    (void)c;
    *names = *groups = *members = 0;
    int per_node = (s->opts & ROSTER_SCOPE_UNIQUE_PER_NODE) != 0;
    for (size_t i = 0; i < s->names.cap; i++) {
        /* per node: every node's claim is visible, anywhere in its key's chain */
        for (const struct rs_name *x = s->names.slots[i].item; x; x = per_node ? x->alt : NULL)
            if (x->proc->node == n)
                (*names)++;
    }
    for (size_t i = 0; i < s->groups.cap; i++) {
        const struct rs_group *g = s->groups.slots[i].item;
        if (!g)
            continue;
        uint64_t k = 0;
        for (const struct rs_member *m = g->members; m; m = m->gnext)
            k += m->proc->node == n;
        *members += k;
        *groups += k != 0;
    }
}

int rs_nodes_pscope_add(struct rs_core *c, struct rs_node *n, struct rs_bytes name)
{
    struct rs_pscope *x = rs_core_alloc(c, sizeof *x + name.len + 1);
    if (!x)
        return -1;
    x->len = name.len;
    memcpy(x->name, name.ptr, name.len);
    x->name[name.len] = 0;
    x->next = n->scopes;
    n->scopes = x;
    return 0;
}

uint32_t rs_nodes_announced_opts(const struct rs_core *c, struct rs_bytes name,
                                 uint32_t *unknown)
{
    *unknown = 0;
    for (size_t i = 0; i < c->nodes.cap; i++) {
        const struct rs_node *n = c->nodes.slots[i].item;
        for (const struct rs_pscope *x = n ? n->scopes : NULL; x; x = x->next)
            if (rs_bytes_eq((const uint8_t *)x->name, x->len, name.ptr, name.len))
                return x->opts;
    }
    *unknown = 1;
    return 0;
}

void rs_nodes_pscope_set_opts(struct rs_node *n, struct rs_bytes name, uint32_t opts)
{
    for (struct rs_pscope *x = n->scopes; x; x = x->next)
        if (rs_bytes_eq((const uint8_t *)x->name, x->len, name.ptr, name.len))
            x->opts = opts;
}

int rs_nodes_pscope_del(struct rs_node *n, struct rs_bytes name)
{
    for (struct rs_pscope **at = &n->scopes; *at; at = &(*at)->next) {
        struct rs_pscope *x = *at;
        if (rs_bytes_eq((const uint8_t *)x->name, x->len, name.ptr, name.len)) {
            *at = x->next;
            rs_free(x);
            return 1;
        }
    }
    return 0;
}
