/* publish.c: keeps the shared-memory region (wire/shm.h) equal to the visible names and the
 * memberships of the eventual scopes. change.c calls it for every table change, inside the
 * same rs_core_apply that makes the change, so the region shows a change before the shell
 * writes any reply or event about it (the shell performs outputs only after the apply).
 * The writes are plain memory stores into memory the shell mapped: no system call. Strong
 * scopes are not published (their reads stay linearizable on the socket). */
#include "core/publish.h"

#include "wire/shm.h"

int rs_pub_init(struct rs_core *c, const struct rs_core_config *cfg)
{
    if (!cfg->shm_base)
        return 0;
    c->shm = rs_calloc(1, sizeof *c->shm);
    if (!c->shm)
        return -1;
    if (rs_shm_writer_init(c->shm, cfg->shm_base, cfg->shm_size, c->seed ^ 0x5348u, c->inc,
                           c->node, c->node_len) != 0) {
        /* a size out of range (or no memory for the writer's lists): the node runs
         * without the region and clients read over the socket */
        rs_free(c->shm);
        c->shm = NULL;
    }
    return 0;
}

void rs_pub_fini(struct rs_core *c)
{
    if (!c->shm)
        return;
    rs_shm_writer_fini(c->shm);
    rs_free(c->shm);
    c->shm = NULL;
}

int rs_pub_on(const struct rs_core *c) { return c->shm && !c->shm->broken; }

static uint32_t scope_id(struct rs_core *c, struct rs_scope *s)
{
    /* scopes with options (several holders of a name, several memberships of a pid) do not
     * fit the region's one-entry-per-key layout: their clients read over the socket */
    if (!c->shm || c->shm->broken || s->mode != ROSTER_SCOPE_EVENTUAL || s->kv || s->opts)
        return 0;
    /* The record's id is kept in the scope: a search of the records by name (a string
     * compare each) was two per register (the prefetch, the write), 2% of the write path. */
    if (!s->shm_id)
        s->shm_id = rs_shm_scope(c->shm, s->name, s->name_len, s->mode);
    return s->shm_id;
}

static int node_of(struct rs_core *c, const struct rs_proc *p)
{
    if (p->client || !p->node)
        return 0;
    return rs_shm_node(c->shm, p->node->inc, p->node->name, p->node->name_len);
}

static void show(struct rs_core *c, uint32_t sc, const struct rs_name *n, int fresh)
{
    (fresh ? rs_shm_name_add : rs_shm_name_put)(c->shm, sc, n->key, n->key_len,
                                                node_of(c, n->proc), n->proc->serial, n->hlc,
                                                n->meta, n->meta_len);
}

void rs_pub_shift(struct rs_core *c, const struct rs_claims_shift *sh)
{
    const struct rs_name *any = sh->shown ? sh->shown : sh->hidden;
    uint32_t sc;
    if (!any || !(sc = scope_id(c, any->scope)))
        return;
    if (sh->shown) /* nothing hidden: the key had no claim, so the region lacks it */
        show(c, sc, sh->shown, !sh->hidden);
    else
        rs_shm_name_del(c->shm, sc, sh->hidden->key, sh->hidden->key_len);
}

void rs_pub_name(struct rs_core *c, const struct rs_name *n)
{
    uint32_t sc = scope_id(c, n->scope);
    if (sc && rs_claims_visible(c, n))
        show(c, sc, n, 0);
}

void rs_pub_member_put(struct rs_core *c, struct rs_scope *s, const struct rs_proc *p,
                       struct rs_bytes group, struct rs_bytes meta)
{
    uint32_t sc = scope_id(c, s);
    if (sc)
        rs_shm_member_put(c->shm, sc, group.ptr, group.len, node_of(c, p), p->serial,
                          meta.ptr, meta.len);
}

void rs_pub_member_del(struct rs_core *c, const struct rs_member *m)
{
    const struct rs_group *g = m->group;
    uint32_t sc = scope_id(c, g->scope);
    if (sc)
        rs_shm_member_del(c->shm, sc, g->key, g->key_len, node_of(c, m->proc), m->proc->serial);
}

void rs_pub_prefetch_name(struct rs_core *c, struct rs_scope *s, struct rs_bytes name)
{
    uint32_t sc = scope_id(c, s);
    if (sc)
        rs_shm_name_prefetch(c->shm, sc, name.ptr, name.len);
}

void rs_pub_scope_gone(struct rs_core *c, struct rs_scope *s)
{
    if (!c->shm || c->shm->broken || s->kv)
        return;
    uint32_t id = s->shm_id ? s->shm_id : rs_shm_scope(c->shm, s->name, s->name_len, s->mode);
    if (id)
        rs_shm_scope_gone(c->shm, id);
    s->shm_id = 0; /* a later write (if the scope fits again) gets a fresh record */
}
