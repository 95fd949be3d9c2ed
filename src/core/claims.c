/* claims.c: the claims on one unique name of an eventual scope, in winner order (a table:
 * it changes the order and reports who became visible or hidden; the change pipeline,
 * change.c, emits the events and makes a local claim that lost give the name up).
 *
 * A node keeps every claim it knows on a key: the scope's map holds the visible one (the
 * winner), the others are chained behind it by alt in winner order. The order is a total
 * order every node computes alike (policy, then node name, incarnation, serial), so the
 * visible holder does not depend on arrival order. Only the owner of a losing claim removes
 * it (change.c), so hidden claims are always remote. */
#include <string.h>

#include "base/check.h"
#include "core/claims.h"
#include "core/nodes.h"
#include "core/pids.h"
#include "core/util.h"

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
    struct rs_bytes nm = rs_nodes_name_of(c, pid.inc);
    memcpy(name_buf, nm.ptr, nm.len);
    name_buf[nm.len] = 0;
    struct rs_claim_view v = {name_buf, pid.inc, pid.serial, n->hlc, n->meta, n->meta_len};
    return v;
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

static roster_claim claim_of(const struct rs_core *c, const struct rs_name *n)
{
    struct rs_pid pid = rs_pids_of(c, n->proc);
    roster_claim x = {{pid.inc, pid.serial}, NULL, n->meta, n->meta_len, n->hlc};
    return x;
}

/* refuse notes a refused answer of the public resolver (resolver.c logs it at the end of
 * the apply: a table writes no log line) and returns 0: the default policy decides. */
static int refuse(struct rs_core *c, const struct rs_name *a, const char *why)
{
    c->n_resolver_refused++;
    c->rsv_why = why;
    c->rsv_scope = a->scope->name;
    c->rsv_key_len = a->key_len < sizeof c->rsv_key ? a->key_len : sizeof c->rsv_key;
    memcpy(c->rsv_key, a->key, c->rsv_key_len);
    return 0;
}

/* public_cmp asks the public resolver (roster.h, struct roster_resolver) both ways round:
 * -1 if a wins, 1 if b wins, 0 if its answers break the rules (neither claim returned, or
 * another winner for the swapped arguments). */
static int public_cmp(const struct rs_core *cc, const struct rs_name *a, const struct rs_name *b)
{
    struct rs_core *c = (struct rs_core *)cc; /* the refusal counters only */
    char ba[RS_NODE_NAME_MAX + 1], bb[RS_NODE_NAME_MAX + 1];
    struct rs_bytes na = rs_nodes_name_of(c, rs_pids_of(c, a->proc).inc);
    struct rs_bytes nb = rs_nodes_name_of(c, rs_pids_of(c, b->proc).inc);
    memcpy(ba, na.ptr, na.len);
    ba[na.len] = 0;
    memcpy(bb, nb.ptr, nb.len);
    bb[nb.len] = 0;
    roster_claim ca = claim_of(c, a), cb = claim_of(c, b);
    ca.node = ba;
    cb.node = bb;
    roster_conflict x = {ROSTER_RESOLVER_ABI, a->scope->name, a->key, a->key_len, &ca, &cb};
    const roster_claim *w1 = c->rsv->resolve(&x);
    x.a = &cb;
    x.b = &ca;
    const roster_claim *w2 = c->rsv->resolve(&x);
    if ((w1 != &ca && w1 != &cb) || (w2 != &ca && w2 != &cb))
        return refuse(c, a, "returned neither claim");
    if (w1 != w2)
        return refuse(c, a, "picked another winner for the swapped arguments");
    return w1 == &ca ? -1 : 1;
}

int rs_claims_cmp(const struct rs_core *c, const struct rs_name *a, const struct rs_name *b)
{
    struct rs_pid pa = rs_pids_of(c, a->proc), pb = rs_pids_of(c, b->proc);
    struct rs_bytes na = rs_nodes_name_of(c, pa.inc), nb = rs_nodes_name_of(c, pb.inc);
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
        if (c->rsv) {
            r = public_cmp(c, a, b);
            if (!r) /* refused: the default policy */
                r = cmp_u64(a->hlc, b->hlc);
        } else if (c->resolver) {
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

/* A scope with ROSTER_SCOPE_UNIQUE_PER_NODE: every node's claim on a key is visible (no
 * conflict); the chain holds them all in node-name order, the map its first. */
static int per_node(const struct rs_scope *s)
{
    return (s->opts & ROSTER_SCOPE_UNIQUE_PER_NODE) != 0;
}

/* cmp_node orders two claims of a per-node scope: node name, then incarnation, serial. */
static int cmp_node(const struct rs_core *c, const struct rs_name *a, const struct rs_name *b)
{
    struct rs_pid pa = rs_pids_of(c, a->proc), pb = rs_pids_of(c, b->proc);
    struct rs_bytes na = rs_nodes_name_of(c, pa.inc), nb = rs_nodes_name_of(c, pb.inc);
    int r = rs_bytes_cmp(na.ptr, na.len, nb.ptr, nb.len);
    if (r)
        return r < 0 ? -1 : 1;
    r = cmp_u64(pa.inc, pb.inc);
    return r ? r : cmp_u64(pa.serial, pb.serial);
}

int rs_claims_visible(const struct rs_core *c, const struct rs_name *n)
{
    return per_node(n->scope) || head_of(c, n) == n;
}

/* add_per_node puts n among the claims of a per-node scope (h: the first): n shows, nothing
 * hides. */
static void add_per_node(struct rs_core *c, struct rs_name *n, struct rs_name *h,
                         struct rs_claims_shift *sh)
{
    sh->shown = n;
    if (cmp_node(c, n, h) < 0) {
        rs_map_replace_item(&n->scope->names, n->hash, h, n);
        n->alt = h;
        return;
    }
    struct rs_name *at = h;
    while (at->alt && cmp_node(c, at->alt, n) < 0)
        at = at->alt;
    n->alt = at->alt;
    at->alt = n;
}

int rs_claims_add(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh)
{
    struct rs_scope *s = n->scope;
    struct rs_name *h = head_of(c, n);
    n->alt = NULL;
    sh->hidden = sh->shown = NULL;
    if (!h) {
        if (rs_map_put(&s->names, n->hash, n) != 0) {
            c->oom = 1;
            return -1;
        }
        sh->shown = n;
        return 0;
    }
    RS_ASSERT(h != n);
    if (per_node(s)) {
        add_per_node(c, n, h, sh);
        return 0;
    }
    c->n_conflicts++; /* two claims on one key: the policy picks the visible one */
    if (rs_claims_cmp(c, n, h) < 0) {
        rs_map_replace_item(&s->names, n->hash, h, n);
        n->alt = h;
        sh->hidden = h;
        sh->shown = n;
        return 0;
    }
    struct rs_name *at = h;
    while (at->alt && rs_claims_cmp(c, at->alt, n) < 0)
        at = at->alt;
    /* hidden: always a remote claim (a local claim is only added to a free key,
     * registry.c), so a name has one local owner at most and it is the visible one */
    RS_ASSERT(n->proc->node != NULL);
    n->alt = at->alt;
    at->alt = n;
    return 0;
}

/* unchain takes hidden claim n out of the chain behind visible claim h. */
static void unchain(struct rs_name *h, struct rs_name *n)
{
    int found = 0;
    for (struct rs_name *at = h; at; at = at->alt) {
        if (at->alt == n) {
            at->alt = n->alt;
            found = 1;
            break;
        }
    }
    RS_ASSERT(found); /* a claim is in its key's chain until removed */
    n->alt = NULL;
}

void rs_claims_del(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh)
{
    struct rs_scope *s = n->scope;
    struct rs_name *h = head_of(c, n);
    sh->hidden = sh->shown = NULL;
    RS_ASSERT(h != NULL);
    if (h != n) {
        unchain(h, n);
        if (per_node(s))
            sh->hidden = n; /* every claim was visible: its removal shows */
        return;
    }
    struct rs_name *next = n->alt;
    int r = next ? rs_map_replace_item(&s->names, n->hash, n, next)
                 : rs_map_del_item(&s->names, n->hash, n);
    RS_ASSERT(r == 0);
    n->alt = NULL;
    sh->hidden = n;
    sh->shown = per_node(s) ? NULL : next; /* per node: next was visible already */
}

void rs_claims_recheck(struct rs_core *c, struct rs_name *n, struct rs_claims_shift *sh)
{
    struct rs_scope *s = n->scope;
    struct rs_name *h = head_of(c, n);
    sh->hidden = sh->shown = NULL;
    if (!h || !h->alt || per_node(s))
        return; /* the only claim; per node: the order does not depend on metadata */
    if (h != n) {
        /* Hidden: take it out of the chain and put it back where it now belongs (possibly
         * in front, which makes it visible). */
        unchain(h, n);
        rs_claims_add(c, n, sh); /* cannot fail: the key has a claim in the map */
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
    sh->hidden = n;
    sh->shown = next;
}
