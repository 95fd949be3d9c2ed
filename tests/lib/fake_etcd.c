/* fake_etcd.c: the scripted in-memory etcd of fake_etcd.h (unit tests only). Plain arrays
 * and lists: tests hold a few hundred keys at most. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fake_etcd.h"
#include "test.h"

struct fe_kv {
    char *key;
    size_t klen;
    char *val;
    size_t vlen;
    int64_t create, mod, version, lease;
};

struct fe_hist {
    int is_delete;
    struct fe_kv kv;
    int has_prev;
    struct fe_kv prev;
};

struct fe_lease {
    struct fe_lease *next;
    int64_t id, ttl_s;
    uint64_t expires;
};

struct fe_op {
    struct fe_op *next;
    int client;
    uint64_t user;
    int cancel;
    etcd_op op;
    void **blk;
    size_t nb, cb;
};

struct fe_watch {
    struct fe_watch *next;
    int client;
    uint64_t user;
    int keepalive; /* a keepalive stream, not a watch */
    int64_t lease;
    int answered;
    char *key;
    size_t klen;
    int prefix, prev_kv;
    int64_t next_rev;
    int ended;
};

struct fe_res {
    struct fe_res *next;
    etcd_result r;
    void **blk;
    size_t nb, cb;
};

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    ASSERT(p != NULL);
    return p;
}

static char *dupb(const void *p, size_t n)
{
    char *d = xmalloc(n + 1);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* --- owned blocks ---------------------------------------------------------------------- */

static void *own(void ***blk, size_t *nb, size_t *cb, void *p)
{
    if (*nb == *cb) {
        *cb = *cb ? 2 * *cb : 16;
        *blk = realloc(*blk, *cb * sizeof **blk);
        ASSERT(*blk != NULL);
    }
    (*blk)[(*nb)++] = p;
    return p;
}

#define OP_OWN(o, p) own(&(o)->blk, &(o)->nb, &(o)->cb, (p))
#define RES_OWN(x, p) own(&(x)->blk, &(x)->nb, &(x)->cb, (p))

static void copy_op(struct fe_op *o, etcd_op *dst, const etcd_op *src)
{
    *dst = *src;
    dst->key = OP_OWN(o, dupb(src->key, src->key_len));
    dst->value = OP_OWN(o, dupb(src->value, src->value_len));
    if (src->n_cmp) {
        etcd_compare *c = OP_OWN(o, xmalloc(src->n_cmp * sizeof *c));
        for (size_t i = 0; i < src->n_cmp; i++) {
            c[i] = src->cmp[i];
            c[i].key = OP_OWN(o, dupb(src->cmp[i].key, src->cmp[i].key_len));
            c[i].value = OP_OWN(o, dupb(src->cmp[i].value, src->cmp[i].value_len));
        }
        dst->cmp = c;
    }
    if (src->n_success) {
        etcd_op *v = OP_OWN(o, xmalloc(src->n_success * sizeof *v));
        for (size_t i = 0; i < src->n_success; i++)
            copy_op(o, &v[i], &src->success[i]);
        dst->success = v;
    }
    if (src->n_failure) {
        etcd_op *v = OP_OWN(o, xmalloc(src->n_failure * sizeof *v));
        for (size_t i = 0; i < src->n_failure; i++)
            copy_op(o, &v[i], &src->failure[i]);
        dst->failure = v;
    }
}

static void op_free(struct fe_op *o)
{
    for (size_t i = 0; i < o->nb; i++)
        free(o->blk[i]);
    free(o->blk);
    free(o);
}

void fe_free(etcd_result *r)
{
    if (!r)
        return;
    struct fe_res *x = (struct fe_res *)((char *)r - offsetof(struct fe_res, r));
    for (size_t i = 0; i < x->nb; i++)
        free(x->blk[i]);
    free(x->blk);
    free(x);
}

/* --- store ----------------------------------------------------------------------------- */

void fe_init(struct fake_etcd *fe)
{
    memset(fe, 0, sizeof *fe);
    fe->rev = 1; /* etcd starts at revision 1 */
    fe->next_lease = 0x7000;
    fe->pending_tail = &fe->pending;
    for (int i = 0; i < FE_CLIENTS; i++)
        fe->queue_tail[i] = &fe->queue[i];
}

static void kv_free(struct fe_kv *k)
{
    free(k->key);
    free(k->val);
}

static struct fe_kv kv_copy(const struct fe_kv *k)
{
    struct fe_kv c = *k;
    c.key = dupb(k->key, k->klen);
    c.val = dupb(k->val, k->vlen);
    return c;
}

void fe_fini(struct fake_etcd *fe)
{
    for (size_t i = 0; i < fe->n_kvs; i++)
        kv_free(&fe->kvs[i]);
    free(fe->kvs);
    for (size_t i = 0; i < fe->n_hist; i++) {
        kv_free(&fe->hist[i].kv);
        if (fe->hist[i].has_prev)
            kv_free(&fe->hist[i].prev);
    }
    free(fe->hist);
    while (fe->leases) {
        struct fe_lease *l = fe->leases;
        fe->leases = l->next;
        free(l);
    }
    while (fe->pending) {
        struct fe_op *o = fe->pending;
        fe->pending = o->next;
        op_free(o);
    }
    for (int i = 0; i < FE_CLIENTS; i++) {
        while (fe->queue[i]) {
            struct fe_res *x = fe->queue[i];
            fe->queue[i] = x->next;
            fe_free(&x->r);
        }
    }
    while (fe->watches) {
        struct fe_watch *w = fe->watches;
        fe->watches = w->next;
        free(w->key);
        free(w);
    }
    memset(fe, 0, sizeof *fe);
}

static int keycmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static ptrdiff_t find(struct fake_etcd *fe, const char *key, size_t len)
{
    for (size_t i = 0; i < fe->n_kvs; i++)
        if (keycmp(fe->kvs[i].key, fe->kvs[i].klen, key, len) == 0)
            return (ptrdiff_t)i;
    return -1;
}

static int in_range(const struct fe_kv *k, const char *key, size_t len, int prefix)
{
    if (prefix)
        return k->klen >= len && (len == 0 || memcmp(k->key, key, len) == 0);
    return keycmp(k->key, k->klen, key, len) == 0;
}

const etcd_kv *fe_get(struct fake_etcd *fe, const char *key, size_t len)
{
    static etcd_kv out;
    ptrdiff_t i = find(fe, key, len);
    if (i < 0)
        return NULL;
    struct fe_kv *k = &fe->kvs[i];
    out = (etcd_kv){k->key, k->klen, k->val, k->vlen, k->create, k->mod, k->version, k->lease};
    return &out;
}

size_t fe_count_prefix(struct fake_etcd *fe, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < fe->n_kvs; i++)
        n += in_range(&fe->kvs[i], prefix, strlen(prefix), 1);
    return n;
}

static void hist_add(struct fake_etcd *fe, int is_delete, const struct fe_kv *kv,
                     const struct fe_kv *prev)
{
    if (fe->n_hist == fe->cap_hist) {
        fe->cap_hist = fe->cap_hist ? 2 * fe->cap_hist : 64;
        fe->hist = realloc(fe->hist, fe->cap_hist * sizeof *fe->hist);
        ASSERT(fe->hist != NULL);
    }
    struct fe_hist *h = &fe->hist[fe->n_hist++];
    memset(h, 0, sizeof *h);
    h->is_delete = is_delete;
    h->kv = kv_copy(kv);
    if (prev) {
        h->has_prev = 1;
        h->prev = kv_copy(prev);
    }
}

static struct fe_lease *lease_find(struct fake_etcd *fe, int64_t id)
{
    for (struct fe_lease *l = fe->leases; l; l = l->next)
        if (l->id == id)
            return l;
    return NULL;
}

int fe_lease_alive(struct fake_etcd *fe, int64_t id)
{
    return lease_find(fe, id) != NULL;
}

static void do_put(struct fake_etcd *fe, const char *key, size_t klen, const char *v,
                   size_t vlen, int64_t lease)
{
    ptrdiff_t i = find(fe, key, klen);
    if (i >= 0) {
        struct fe_kv *k = &fe->kvs[i];
        struct fe_kv prev = kv_copy(k);
        free(k->val);
        k->val = dupb(v, vlen);
        k->vlen = vlen;
        k->mod = fe->rev;
        k->version++;
        k->lease = lease;
        hist_add(fe, 0, k, &prev);
        kv_free(&prev);
        return;
    }
    if (fe->n_kvs == fe->cap_kvs) {
        fe->cap_kvs = fe->cap_kvs ? 2 * fe->cap_kvs : 64;
        fe->kvs = realloc(fe->kvs, fe->cap_kvs * sizeof *fe->kvs);
        ASSERT(fe->kvs != NULL);
    }
    size_t at = 0;
    while (at < fe->n_kvs && keycmp(fe->kvs[at].key, fe->kvs[at].klen, key, klen) < 0)
        at++;
    memmove(&fe->kvs[at + 1], &fe->kvs[at], (fe->n_kvs - at) * sizeof *fe->kvs);
    fe->n_kvs++;
    struct fe_kv *k = &fe->kvs[at];
    *k = (struct fe_kv){dupb(key, klen), klen, dupb(v, vlen), vlen, fe->rev, fe->rev, 1, lease};
    hist_add(fe, 0, k, NULL);
}

static int64_t do_delete(struct fake_etcd *fe, const char *key, size_t klen, int prefix)
{
    int64_t n = 0;
    for (size_t i = 0; i < fe->n_kvs;) {
        struct fe_kv *k = &fe->kvs[i];
        if (!in_range(k, key, klen, prefix)) {
            i++;
            continue;
        }
        struct fe_kv gone = {k->key, k->klen, NULL, 0, 0, fe->rev, 0, 0};
        hist_add(fe, 1, &gone, k);
        kv_free(k);
        memmove(&fe->kvs[i], &fe->kvs[i + 1], (fe->n_kvs - i - 1) * sizeof *fe->kvs);
        fe->n_kvs--;
        n++;
    }
    return n;
}

void fe_put_raw(struct fake_etcd *fe, const void *key, size_t klen, const void *v, size_t vlen)
{
    fe->rev++;
    do_put(fe, key, klen, v, vlen, 0);
}

static void revoke(struct fake_etcd *fe, int64_t id)
{
    struct fe_lease **pp = &fe->leases;
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    if (!*pp)
        return;
    struct fe_lease *l = *pp;
    *pp = l->next;
    free(l);
    int any = 0;
    for (size_t i = 0; i < fe->n_kvs; i++)
        any |= fe->kvs[i].lease == id;
    if (!any)
        return;
    fe->rev++;
    for (size_t i = 0; i < fe->n_kvs;) {
        if (fe->kvs[i].lease == id) {
            struct fe_kv *k = &fe->kvs[i];
            struct fe_kv gone = {k->key, k->klen, NULL, 0, 0, fe->rev, 0, 0};
            hist_add(fe, 1, &gone, k);
            kv_free(k);
            memmove(&fe->kvs[i], &fe->kvs[i + 1], (fe->n_kvs - i - 1) * sizeof *fe->kvs);
            fe->n_kvs--;
        } else {
            i++;
        }
    }
}

void fe_advance(struct fake_etcd *fe, uint64_t now_ms)
{
    fe->now_ms = now_ms;
    for (;;) {
        struct fe_lease *l = fe->leases;
        while (l && l->expires > now_ms)
            l = l->next;
        if (!l)
            break;
        revoke(fe, l->id);
    }
}

void fe_compact(struct fake_etcd *fe, int64_t rev)
{
    fe->compacted = rev;
}

/* --- results --------------------------------------------------------------------------- */

static struct fe_res *res_new(const struct fe_op *o, etcd_op_type type)
{
    struct fe_res *x = xmalloc(sizeof *x);
    x->r.user = (void *)(uintptr_t)o->user;
    x->r.type = type;
    x->r.final = true;
    x->r.message = "";
    return x;
}

static void post(struct fake_etcd *fe, int client, struct fe_res *x)
{
    x->r.revision = x->r.revision ? x->r.revision : fe->rev;
    *fe->queue_tail[client] = x;
    fe->queue_tail[client] = &x->next;
}

static void res_kv(struct fe_res *x, etcd_kv *d, const struct fe_kv *k)
{
    *d = (etcd_kv){RES_OWN(x, dupb(k->key, k->klen)), k->klen, RES_OWN(x, dupb(k->val, k->vlen)),
                   k->vlen, k->create, k->mod, k->version, k->lease};
}

static void do_range(struct fake_etcd *fe, struct fe_res *x, etcd_op_result *out,
                     const etcd_op *op)
{
    out->type = ETCD_OP_RANGE;
    size_t n = 0;
    for (size_t i = 0; i < fe->n_kvs; i++)
        n += in_range(&fe->kvs[i], op->key, op->key_len, op->prefix);
    out->count = (int64_t)n;
    size_t take = op->limit && (size_t)op->limit < n ? (size_t)op->limit : n;
    out->more = take < n;
    out->kvs = RES_OWN(x, xmalloc((take + 1) * sizeof *out->kvs));
    for (size_t i = 0; i < fe->n_kvs && out->n_kvs < take; i++)
        if (in_range(&fe->kvs[i], op->key, op->key_len, op->prefix))
            res_kv(x, &out->kvs[out->n_kvs++], &fe->kvs[i]);
}

static int cmp_true(struct fake_etcd *fe, const etcd_compare *c)
{
    ptrdiff_t i = find(fe, c->key, c->key_len);
    const struct fe_kv *k = i >= 0 ? &fe->kvs[i] : NULL;
    int d;
    if (c->target == ETCD_CMP_VALUE) {
        if (!k)
            return 0;
        d = keycmp(k->val, k->vlen, c->value, c->value_len);
    } else {
        int64_t v = !k ? 0
                    : c->target == ETCD_CMP_VERSION ? k->version
                    : c->target == ETCD_CMP_CREATE  ? k->create
                                                    : k->mod;
        d = v < c->number ? -1 : v > c->number;
    }
    switch (c->result) {
    case ETCD_CMP_EQUAL:
        return d == 0;
    case ETCD_CMP_GREATER:
        return d > 0;
    case ETCD_CMP_LESS:
        return d < 0;
    case ETCD_CMP_NOT_EQUAL:
        return d != 0;
    }
    return 0;
}

#define FE_PATH_MAX 1024

/* txn_path decides every compare of op and of the txns nested in its taken branches (in
 * pre-order, into path), checks the leases of the puts that will run and whether any op
 * writes. Returns NULL or etcd's refusal. */
static const char *txn_path(struct fake_etcd *fe, const etcd_op *op, int *path, size_t *np,
                            int *w)
{
    int ok = 1;
    for (size_t i = 0; i < op->n_cmp; i++)
        ok &= cmp_true(fe, &op->cmp[i]);
    ASSERT(*np < FE_PATH_MAX);
    path[(*np)++] = ok;
    const etcd_op *br = ok ? op->success : op->failure;
    size_t n = ok ? op->n_success : op->n_failure;
    for (size_t i = 0; i < n; i++) {
        if (br[i].type == ETCD_OP_PUT && br[i].lease && !lease_find(fe, br[i].lease))
            return "etcdserver: requested lease not found";
        if (br[i].type == ETCD_OP_PUT || br[i].type == ETCD_OP_DELETE)
            *w = 1;
        if (br[i].type == ETCD_OP_TXN) {
            const char *why = txn_path(fe, &br[i], path, np, w);
            if (why)
                return why;
        }
    }
    return NULL;
}

/* txn_apply runs the branches path chose; returns whether op's own compare held */
static int txn_apply(struct fake_etcd *fe, struct fe_res *x, const etcd_op *op,
                     const int *path, size_t *at, etcd_op_result **ops, size_t *n_ops)
{
    int ok = path[(*at)++];
    const etcd_op *br = ok ? op->success : op->failure;
    size_t n = ok ? op->n_success : op->n_failure;
    etcd_op_result *v = RES_OWN(x, xmalloc((n + 1) * sizeof *v));
    memset(v, 0, (n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].type = br[i].type;
        if (br[i].type == ETCD_OP_RANGE)
            do_range(fe, x, &v[i], &br[i]);
        else if (br[i].type == ETCD_OP_PUT)
            do_put(fe, br[i].key, br[i].key_len, br[i].value, br[i].value_len, br[i].lease);
        else if (br[i].type == ETCD_OP_DELETE)
            v[i].deleted = do_delete(fe, br[i].key, br[i].key_len, br[i].prefix);
        else if (br[i].type == ETCD_OP_TXN)
            v[i].succeeded = txn_apply(fe, x, &br[i], path, at, &v[i].ops, &v[i].n_ops);
    }
    *ops = v;
    *n_ops = n;
    return ok;
}

static void run_unary(struct fake_etcd *fe, struct fe_op *o)
{
    const etcd_op *op = &o->op;
    struct fe_res *x = res_new(o, op->type);
    etcd_result *r = &x->r;
    fe->ops_run++;
    if (fe->down || fe->cut[o->client]) {
        r->status = ETCD_UNAVAILABLE;
        r->message = "fake etcd is down";
        post(fe, o->client, x);
        return;
    }
    int fail = 0;
    if (fe->fail_n > 0) {
        fe->fail_n--;
        fail = 1;
        if (!fe->fail_apply) {
            r->status = fe->fail_status;
            r->message = "fake etcd: injected failure";
            post(fe, o->client, x);
            return;
        }
    }
    switch (op->type) {
    case ETCD_OP_RANGE:
        if (op->revision && op->revision < fe->compacted) {
            r->status = ETCD_COMPACTED;
            r->compact_revision = fe->compacted;
            break;
        }
        if (op->revision > fe->rev) {
            r->status = ETCD_REJECTED;
            r->message = "etcdserver: mvcc: required revision is a future revision";
            break;
        }
        do_range(fe, x, &r->r, op);
        break;
    case ETCD_OP_PUT:
        if (op->lease && !lease_find(fe, op->lease)) {
            r->status = ETCD_REJECTED;
            r->message = "etcdserver: requested lease not found";
            break;
        }
        fe->rev++;
        do_put(fe, op->key, op->key_len, op->value, op->value_len, op->lease);
        r->r.type = ETCD_OP_PUT;
        break;
    case ETCD_OP_DELETE:
        fe->rev++;
        r->r.type = ETCD_OP_DELETE;
        r->r.deleted = do_delete(fe, op->key, op->key_len, op->prefix);
        break;
    case ETCD_OP_TXN: {
        fe->txns_run++;
        /* as etcd does: every compare (nested ones too) is decided on the state before the
         * transaction, then the ops of the taken branches run, all at one revision */
        int path[FE_PATH_MAX];
        size_t np = 0;
        int w = 0;
        const char *why = txn_path(fe, op, path, &np, &w);
        if (why) {
            r->status = ETCD_REJECTED;
            r->message = why;
            break;
        }
        if (w)
            fe->rev++;
        size_t at = 0;
        int ok = txn_apply(fe, x, op, path, &at, &r->ops, &r->n_ops);
        r->status = ok ? ETCD_OK : ETCD_FAILED;
        break;
    }
    case ETCD_OP_LEASE_GRANT: {
        struct fe_lease *l = xmalloc(sizeof *l);
        l->id = fe->next_lease++;
        l->ttl_s = op->ttl;
        l->expires = fe->now_ms + (uint64_t)op->ttl * 1000;
        l->next = fe->leases;
        fe->leases = l;
        r->lease_id = l->id;
        r->ttl = l->ttl_s;
        break;
    }
    case ETCD_OP_LEASE_REVOKE:
        if (!lease_find(fe, op->lease)) {
            r->status = ETCD_REJECTED;
            r->message = "etcdserver: requested lease not found";
            break;
        }
        revoke(fe, op->lease);
        break;
    case ETCD_OP_COMPACT:
        fe->compacted = op->revision;
        break;
    default:
        r->status = ETCD_REJECTED;
        break;
    }
    if (fail) {
        r->status = fe->fail_status;
        r->message = "fake etcd: injected failure after applying";
        r->n_ops = 0;
    }
    post(fe, o->client, x);
}

static void start_stream(struct fake_etcd *fe, struct fe_op *o)
{
    struct fe_watch *w = xmalloc(sizeof *w);
    w->client = o->client;
    w->user = o->user;
    w->keepalive = o->op.type == ETCD_OP_KEEPALIVE;
    w->lease = o->op.lease;
    w->key = dupb(o->op.key, o->op.key_len);
    w->klen = o->op.key_len;
    w->prefix = o->op.prefix;
    w->prev_kv = o->op.prev_kv;
    w->next_rev = o->op.revision ? o->op.revision : fe->rev + 1;
    w->next = fe->watches;
    fe->watches = w;
}

static void end_stream(struct fake_etcd *fe, struct fe_watch *w, etcd_status st)
{
    struct fe_op o = {.user = w->user};
    struct fe_res *x = res_new(&o, w->keepalive ? ETCD_OP_KEEPALIVE : ETCD_OP_WATCH);
    x->r.status = st;
    x->r.compact_revision = st == ETCD_COMPACTED ? fe->compacted : 0;
    post(fe, w->client, x);
    w->ended = 1;
}

static void run_streams(struct fake_etcd *fe)
{
    for (struct fe_watch *w = fe->watches; w; w = w->next) {
        if (w->ended || fe->down || fe->cut[w->client])
            continue;
        struct fe_op o = {.user = w->user};
        if (w->keepalive) {
            if (fe->hold_keepalive || w->answered)
                continue;
            struct fe_lease *l = lease_find(fe, w->lease);
            if (!l) {
                end_stream(fe, w, ETCD_LEASE_EXPIRED);
                continue;
            }
            l->expires = fe->now_ms + (uint64_t)l->ttl_s * 1000;
            struct fe_res *x = res_new(&o, ETCD_OP_KEEPALIVE);
            x->r.final = false;
            x->r.lease_id = l->id;
            x->r.ttl = l->ttl_s;
            post(fe, w->client, x);
            w->answered = 1;
            continue;
        }
        if (w->next_rev < fe->compacted) {
            end_stream(fe, w, ETCD_COMPACTED);
            continue;
        }
        size_t n = 0;
        for (size_t i = 0; i < fe->n_hist; i++)
            n += fe->hist[i].kv.mod >= w->next_rev &&
                 in_range(&fe->hist[i].kv, w->key, w->klen, w->prefix);
        if (!n) {
            if (w->next_rev <= fe->rev)
                w->next_rev = fe->rev + 1;
            continue;
        }
        struct fe_res *x = res_new(&o, ETCD_OP_WATCH);
        x->r.final = false;
        x->r.events = RES_OWN(x, xmalloc(n * sizeof *x->r.events));
        for (size_t i = 0; i < fe->n_hist; i++) {
            const struct fe_hist *h = &fe->hist[i];
            if (h->kv.mod < w->next_rev || !in_range(&h->kv, w->key, w->klen, w->prefix))
                continue;
            etcd_event *e = &x->r.events[x->r.n_events++];
            e->is_delete = h->is_delete;
            res_kv(x, &e->kv, &h->kv);
            if (h->has_prev && w->prev_kv) {
                e->has_prev = true;
                res_kv(x, &e->prev, &h->prev);
            }
        }
        w->next_rev = fe->rev + 1;
        post(fe, w->client, x);
    }
}

void fe_end_watches(struct fake_etcd *fe, int client, etcd_status status)
{
    for (struct fe_watch *w = fe->watches; w; w = w->next)
        if (!w->ended && !w->keepalive && w->client == client)
            end_stream(fe, w, status);
}

void fe_take(struct fake_etcd *fe, int client, const struct rs_outputs *out)
{
    for (size_t i = 0; i < out->n; i++) {
        const struct rs_output *x = &out->v[i];
        if (x->kind != RS_OUT_KV && x->kind != RS_OUT_KV_CANCEL)
            continue;
        struct fe_op *o = xmalloc(sizeof *o);
        o->client = client;
        o->user = x->kv_id;
        if (x->kind == RS_OUT_KV_CANCEL)
            o->cancel = 1;
        else
            copy_op(o, &o->op, x->kv);
        *fe->pending_tail = o;
        fe->pending_tail = &o->next;
    }
}

size_t fe_live_watches(struct fake_etcd *fe, int client)
{
    size_t n = 0;
    for (struct fe_watch *w = fe->watches; w; w = w->next)
        n += w->client == client && !w->keepalive && !w->ended;
    return n;
}

void fe_run(struct fake_etcd *fe)
{
    while (fe->pending) {
        struct fe_op *o = fe->pending;
        fe->pending = o->next;
        if (!fe->pending)
            fe->pending_tail = &fe->pending;
        if (o->cancel) {
            for (struct fe_watch *w = fe->watches; w; w = w->next)
                if (!w->ended && w->client == o->client && w->user == o->user)
                    end_stream(fe, w, ETCD_CANCELED);
        } else if (o->op.type == ETCD_OP_WATCH || o->op.type == ETCD_OP_KEEPALIVE) {
            start_stream(fe, o);
        } else {
            run_unary(fe, o);
        }
        op_free(o);
    }
    run_streams(fe);
}

etcd_result *fe_next(struct fake_etcd *fe, int client)
{
    struct fe_res *x = fe->queue[client];
    if (!x)
        return NULL;
    fe->queue[client] = x->next;
    if (!fe->queue[client])
        fe->queue_tail[client] = &fe->queue[client];
    x->next = NULL;
    return &x->r;
}
