/* conflict.c: claims on unique names of eventual scopes and their resolution.
 *
 * A node keeps every claim it knows on a key: the scope's map holds the visible one (the
 * winner), the others are chained behind it by alt in winner order. The order is a total
 * order every node computes alike (policy, then node name, incarnation, serial), so the
 * visible holder does not depend on arrival order. Only the owner of a losing claim removes
 * it: a local claim that loses is unregistered here with reason conflict, its owner client
 * gets a CONFLICT event, and the removal is replicated. Hidden claims are always remote. */
#include <string.h>

#include "conflict.h"
#include "cluster.h"
#include "events.h"
#include "output.h"
#include "pids.h"
#include "registry.h"
#include "repl.h"
#include "util.h"

static int node_priority(const struct rs_core *c, struct rs_bytes name)
{
    for (size_t i = 0; i < c->n_prios; i++)
        if (rs_bytes_eq((const uint8_t *)c->prios[i].node, strlen(c->prios[i].node), name.ptr,
                        name.len))
            return c->prios[i].priority;
    return 0;
}

static struct rs_claim_view view_of(const struct rs_core *c, const struct rs_name *n,
                                    char *name_buf)
{
    struct rs_pid pid = rs_pids_of(c, n->proc);
    struct rs_bytes nm = rs_cluster_name_of(c, pid.inc);
    memcpy(name_buf, nm.ptr, nm.len);
    name_buf[nm.len] = 0;
    struct rs_claim_view v = {name_buf, pid.inc, pid.serial, n->hlc, n->meta, n->meta_len};
    return v;
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

int rs_claims_cmp(const struct rs_core *c, const struct rs_name *a, const struct rs_name *b)
{
    struct rs_pid pa = rs_pids_of(c, a->proc), pb = rs_pids_of(c, b->proc);
    struct rs_bytes na = rs_cluster_name_of(c, pa.inc), nb = rs_cluster_name_of(c, pb.inc);
    int r = 0;
    switch (c->policy) {
    case RS_POLICY_NEWEST:
        r = cmp_u64(b->hlc, a->hlc);
        break;
    case RS_POLICY_PRIORITY: {
        int xa = node_priority(c, na), xb = node_priority(c, nb);
        r = (xb > xa) - (xb < xa);
        if (!r)
            r = cmp_u64(a->hlc, b->hlc);
        break;
    }
    case RS_POLICY_CUSTOM:
        if (c->resolver) {
            char ba[RS_NODE_NAME_MAX + 1], bb[RS_NODE_NAME_MAX + 1];
            struct rs_claim_view va = view_of(c, a, ba), vb = view_of(c, b, bb);
            int x = c->resolver(&va, &vb);
            r = (x > 0) - (x < 0);
        }
        break;
    case RS_POLICY_OLDEST:
    default:
        r = cmp_u64(a->hlc, b->hlc);
        break;
    }
    if (r)
        return r;
    r = rs_bytes_cmp(na.ptr, na.len, nb.ptr, nb.len);
    if (r)
        return r < 0 ? -1 : 1;
    r = cmp_u64(pa.inc, pb.inc);
    return r ? r : cmp_u64(pa.serial, pb.serial);
}

struct key_view {
    const uint8_t *p;
    size_t n;
};

static int name_eq(const void *item, const void *key)
{
    const struct rs_name *n = item;
    const struct key_view *k = key;
    return rs_bytes_eq(n->key, n->key_len, k->p, k->n);
}

static struct rs_name *head_of(const struct rs_core *c, const struct rs_name *n)
{
    (void)c;
    struct key_view k = {n->key, n->key_len};
    return rs_map_get(&n->scope->names, n->hash, &k, name_eq);
}

int rs_claims_visible(const struct rs_core *c, const struct rs_name *n)
{
    return head_of(c, n) == n;
}

static void emit(struct rs_core *c, struct rs_name *n, uint32_t kind, uint32_t reason)
{
    struct rs_scope *s = n->scope;
    if (s->subs)
        rs_events_emit(c, s, 0, kind, reason, rs_pids_of(c, n->proc),
                       rs_bytes_of(n->key, n->key_len), rs_bytes_of(n->meta, n->meta_len),
                       rs_bytes_of(NULL, 0));
}

/* The local claim l lost to w: its owner gives the name up (l is hidden already). */
static void lose(struct rs_core *c, struct rs_name *l, const struct rs_name *w)
{
    struct rs_scope *s = l->scope;
    struct rs_proc *p = l->proc;
    struct rs_pid lp = rs_pids_of(c, p), wp = rs_pids_of(c, w->proc);
    char pb[ROSTER_PID_STRLEN], kb[80];
    rs_fmt_pid(pb, wp);
    rs_out_event(c, p->client, ROSTER_EV_CONFLICT, ROSTER_REASON_CONFLICT, 0, 0, lp, s,
                 rs_bytes_of(l->key, l->key_len), rs_bytes_of(l->meta, l->meta_len),
                 rs_bytes_str(pb));
    rs_repl_op(c, s, RS_POP_UNREGISTER, ROSTER_REASON_CONFLICT, l->hlc, lp,
               rs_bytes_of(l->key, l->key_len), rs_bytes_of(NULL, 0));
    rs_out_log(c, RS_LOG_INFO, "name '%s' in scope '%s': local pid %llu lost to pid %s",
               rs_fmt_key(kb, sizeof kb, l->key, l->key_len), s->name,
               (unsigned long long)p->serial, pb);
    rs_registry_remove(c, l, ROSTER_REASON_CONFLICT);
}

int rs_claims_add(struct rs_core *c, struct rs_name *n)
{
    struct rs_scope *s = n->scope;
    struct rs_name *h = head_of(c, n);
    n->alt = NULL;
    if (!h) {
        if (rs_map_put(&s->names, n->hash, n) != 0) {
            c->oom = 1;
            return -1;
        }
        emit(c, n, ROSTER_EV_REGISTERED, ROSTER_REASON_NONE);
        return 0;
    }
    if (rs_claims_cmp(c, n, h) < 0) {
        rs_map_replace_item(&s->names, n->hash, h, n);
        n->alt = h;
        emit(c, h, ROSTER_EV_UNREGISTERED, ROSTER_REASON_CONFLICT);
        emit(c, n, ROSTER_EV_REGISTERED, ROSTER_REASON_NONE);
        if (!h->proc->node)
            lose(c, h, n);
        return 0;
    }
    struct rs_name *at = h;
    while (at->alt && rs_claims_cmp(c, at->alt, n) < 0)
        at = at->alt;
    n->alt = at->alt; /* hidden: always a remote claim (a local claim is only added to a
                         free key, registry.c) */
    at->alt = n;
    return 0;
}

void rs_claims_del(struct rs_core *c, struct rs_name *n, uint32_t reason)
{
    struct rs_scope *s = n->scope;
    struct rs_name *h = head_of(c, n);
    if (h != n) {
        for (struct rs_name *at = h; at; at = at->alt) {
            if (at->alt == n) {
                at->alt = n->alt;
                break;
            }
        }
        n->alt = NULL;
        return;
    }
    struct rs_name *next = n->alt;
    if (next)
        rs_map_replace_item(&s->names, n->hash, n, next);
    else
        rs_map_del_item(&s->names, n->hash, n);
    n->alt = NULL;
    emit(c, n, ROSTER_EV_UNREGISTERED, reason);
    if (next)
        emit(c, next, ROSTER_EV_REGISTERED, ROSTER_REASON_NONE);
}

void rs_claims_recheck(struct rs_core *c, struct rs_name *n)
{
    struct rs_scope *s = n->scope;
    struct rs_name *h = head_of(c, n);
    if (!h || !h->alt)
        return; /* the only claim */
    if (h != n) {
        /* Hidden: take it out of the chain and put it back where it now belongs (possibly
         * in front, which makes it visible). */
        for (struct rs_name *at = h; at; at = at->alt) {
            if (at->alt == n) {
                at->alt = n->alt;
                break;
            }
        }
        n->alt = NULL;
        rs_claims_add(c, n); /* cannot fail: the key has a claim in the map */
        return;
    }
    struct rs_name *next = n->alt;
    if (rs_claims_cmp(c, n, next) < 0)
        return; /* still the winner */
    rs_map_replace_item(&s->names, n->hash, n, next);
    struct rs_name *at = next;
    while (at->alt && at->alt != n && rs_claims_cmp(c, at->alt, n) < 0)
        at = at->alt;
    n->alt = at->alt;
    at->alt = n;
    emit(c, n, ROSTER_EV_UNREGISTERED, ROSTER_REASON_CONFLICT);
    emit(c, next, ROSTER_EV_REGISTERED, ROSTER_REASON_NONE);
    if (!n->proc->node)
        lose(c, n, next);
}
