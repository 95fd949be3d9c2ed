/* kvhand.c: why a node's self-fence reaches every pid etcd may count as a holder under the
 * node's lease (issue 9, item 6; docs/STRONG.md, "Handoff to another node's pid").
 *
 * 1. A handoff to a pid of another node X is carried out by X itself. The asking node puts
 *    a request key h/<scope>/<X's incarnation>/<name> (under its own lease; compare: the
 *    name unchanged since it was read, no other request pending); X sees it in its watch
 *    and, if the pid is alive and X holds its lease, re-puts the name for the pid under its
 *    own lease and marks the request carried out, in one transaction (compare: the name
 *    and the request unchanged). Otherwise X marks it refused. The asking node replies
 *    from that answer (never from the name, which may have moved on since) and deletes the
 *    request; with no answer in time it withdraws the request (compare: unchanged), so a
 *    handoff to a node cut from etcd fails cleanly (EUNAVAIL) and the name stays with its
 *    holder. So every key under X's lease is one X
 *    wrote: X knows of every holder it may be asked to fence.
 * 2. What X wrote for its pids that its copy has not shown yet (a write answered after the
 *    wait for the copy timed out, one of unknown outcome, one still in flight) is kept here
 *    ("unseen"), and the fence tells those pids lease_lost too. */
#include <stdio.h>
#include <string.h>

#include "core/kvstate.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/scopes.h"
#include "core/util.h"

#define CANCEL_RETRY_MS 500u
#define KV_HAND_POKED 0x40000000u /* o->opts: its request changed while a read was in flight */

static struct rs_bytes scope_of(const struct rs_kvop *o)
{
    return rs_bytes_of(o->scope, o->scope_len);
}

/* o's request key into b */
static int hand_key(struct rs_buf *b, const struct rs_kvop *o)
{
    rs_buf_reset(b);
    return rs_kvk_hand(b, scope_of(o), o->pid.inc, o->key);
}

static const etcd_kv *first(const etcd_result *r, size_t i)
{
    return r->n_ops > i && r->ops[i].type == ETCD_OP_RANGE && r->ops[i].n_kvs
               ? &r->ops[i].kvs[0]
               : NULL;
}

static void cmp_set(struct rs_core *c, etcd_compare *cmp, const struct rs_buf *key,
                    etcd_cmp_target target, int64_t number)
{
    cmp->key = rs_kv_arena_dup(c, key->data, key->len);
    cmp->key_len = key->len;
    cmp->target = target;
    cmp->result = ETCD_CMP_EQUAL;
    cmp->number = number;
}

/* --- the asking node ------------------------------------------------------------------ */

void rs_kvhand_ask(struct rs_core *c, struct rs_kvop *o, const etcd_kv *kv,
                   const struct rs_kvrec *now)
{
    struct rs_kv *k = c->kv;
    if (!rs_kvelect_again(c, o))
        return;
    if (!k->lease) {
        rs_kv_refuse(c, o, ROSTER_EUNAVAIL, "the node holds no etcd lease (etcd unreachable?)");
        return;
    }
    struct rs_buf *b = &k->scratch;
    etcd_op *t = rs_kv_ops(c, 1), *put = rs_kv_ops(c, 1);
    etcd_compare *cmp = rs_kv_cmps(c, 2);
    if (!t || !put || !cmp)
        return;
    rs_buf_reset(b);
    if (rs_kvk_name(b, scope_of(o), o->key) != 0) {
        c->oom = 1;
        return;
    }
    cmp_set(c, &cmp[0], b, ETCD_CMP_MOD, kv->mod_revision);
    if (hand_key(b, o) != 0) {
        c->oom = 1;
        return;
    }
    cmp_set(c, &cmp[1], b, ETCD_CMP_CREATE, 0);
    struct rs_kvrec req = *now;
    req.token = (uint64_t)kv->mod_revision; /* the name's revision the pid's node compares */
    put->type = ETCD_OP_PUT;
    rs_kv_set_key(c, put, b);
    if (rs_kv_rec_value(c, put, &req) != 0)
        return;
    put->lease = k->lease;
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = 2;
    t->success = put;
    t->n_success = 1;
    t->timeout_ms = (int)k->timeout_ms;
    /* the pid's node name, for the reply if it never answers */
    if (rs_kv_op_copy(c, &o->prev, rs_bytes_of(now->node, now->node_len)) != 0)
        return;
    o->state = KV_ST_ASK;
    o->writing = 1;
    o->lease = k->lease;
    o->cand_rev = 0;
    rs_kv_resubmit(c, o, t);
}

/* cancel withdraws o's request if the pid's node has not touched it */
static void cancel(struct rs_core *c, struct rs_kvop *o)
{
    struct rs_kv *k = c->kv;
    struct rs_buf *b = &k->scratch;
    etcd_op *t = rs_kv_ops(c, 1), *del = rs_kv_ops(c, 1);
    etcd_compare *cmp = rs_kv_cmps(c, 1);
    if (!t || !del || !cmp || hand_key(b, o) != 0) {
        c->oom = 1;
        return;
    }
    cmp_set(c, cmp, b, ETCD_CMP_MOD, o->cand_rev);
    del->type = ETCD_OP_DELETE;
    rs_kv_set_key(c, del, b);
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = 1;
    t->success = del;
    t->n_success = 1;
    t->timeout_ms = (int)k->timeout_ms;
    o->state = KV_ST_CANCEL;
    o->writing = 1;
    rs_kv_resubmit(c, o, t);
}

static void node_name(const struct rs_kvop *o, char *out, size_t n)
{
    snprintf(out, n, "%.*s", (int)(o->prev.len < 64 ? o->prev.len : 64),
             o->prev.len ? (const char *)o->prev.ptr : "?");
}

/* cleanup deletes a handled request key if it is still at mod_rev */
static void cleanup(struct rs_core *c, const etcd_kv *h)
{
    struct rs_kvop *d = rs_kv_op_new(c, KV_CLEANUP, NULL, NULL);
    etcd_op *t = rs_kv_ops(c, 1), *del = rs_kv_ops(c, 1);
    etcd_compare *cmp = rs_kv_cmps(c, 1);
    if (!d || !t || !del || !cmp)
        return;
    cmp->key = rs_kv_arena_dup(c, h->key, h->key_len);
    cmp->key_len = h->key_len;
    cmp->target = ETCD_CMP_MOD;
    cmp->result = ETCD_CMP_EQUAL;
    cmp->number = h->mod_revision;
    del->type = ETCD_OP_DELETE;
    del->key = cmp->key;
    del->key_len = cmp->key_len;
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = 1;
    t->success = del;
    t->n_success = 1;
    t->timeout_ms = (int)c->kv->timeout_ms;
    rs_kv_submit(c, d, t);
}

int rs_kvhand_decide(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    char nb[80], kb[80], pb[ROSTER_PID_STRLEN];
    node_name(o, nb, sizeof nb);
    rs_fmt_key(kb, sizeof kb, o->key.ptr, o->key.len);
    const etcd_kv *h = o->cand_rev ? first(r, 2) : NULL;
    if (h && h->create_revision == o->cand_rev) {
        if (h->mod_revision == h->create_revision) {
            if (o->opts & KV_HAND_POKED) {
                /* the answer came while this read was on its way: read again */
                o->opts &= ~KV_HAND_POKED;
                rs_kvelect_reread(c, o);
                return 1;
            }
            o->state = KV_ST_ASKED; /* not answered yet: its change (or the deadline) wakes us */
            return 1;
        }
        int st;
        if (rs_kvrefusal_decode((const uint8_t *)h->value, h->value_len, &st) != 0)
            st = ROSTER_EUNAVAIL;
        cleanup(c, h);
        o->cand_rev = 0;
        switch (st) {
        case 0: /* carried out: the name was granted to the pid at this revision (whatever
                   happened to it since: the answer says so, not a later read) */
            o->token = (uint64_t)h->mod_revision;
            o->writing = 0;
            rs_kv_wait(c, o, h->mod_revision);
            return 1;
        case ROSTER_ECONFLICT: /* the name changed before the node could take it over */
            return 0;
        case ROSTER_ENOPROC:
            rs_kv_refuse(c, o, ROSTER_ENOPROC, "pid %s is not alive on node '%s'",
                         rs_fmt_pid(pb, o->pid), nb);
            return 1;
        case ROSTER_ELIMIT:
            rs_kv_refuse(c, o, ROSTER_ELIMIT, "the client of pid %s holds its limit of names "
                         "and memberships (entries_per_client on node '%s')",
                         rs_fmt_pid(pb, o->pid), nb);
            return 1;
        default:
            rs_kv_refuse(c, o, ROSTER_EUNAVAIL, "node '%s' cannot take over name '%s' now (it "
                         "holds no etcd lease): the name stays with its holder", nb, kb);
            return 1;
        }
    }
    /* the request is gone without its answer (this node's lease expired, or a withdrawal
     * whose outcome was unknown went through): whether it was carried out is unknown */
    o->cand_rev = 0;
    rs_kv_refuse(c, o, ROSTER_EUNKNOWN, "the handoff request for name '%s' to node '%s' is gone "
                 "from etcd without an answer: it may have been carried out", kb, nb);
    return 1;
}

/* asked lists the handoffs with a request out, waiting on it (ASKED) or reading it (state
 * 0), due: only those whose deadline passed (free *v); the caller may then change the ops
 * map. Without any, nothing is allocated. */
static size_t asked(struct rs_core *c, struct rs_kvop ***v, int due)
{
    struct rs_kv *k = c->kv;
    *v = NULL;
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < k->ops.cap; i++) {
            struct rs_kvop *o = k->ops.slots[i].item;
            if (!o || o->kind != KV_HANDOFF || !o->cand_rev || o->done ||
                (o->state != KV_ST_ASKED && (due || o->state != 0)) ||
                (due && c->now_ms < o->deadline))
                continue;
            if (pass)
                (*v)[n] = o;
            n++;
        }
        if (pass || !n)
            break;
        *v = rs_core_alloc(c, n * sizeof **v);
        if (!*v)
            return 0;
        n = 0;
    }
    return n;
}

/* poke: the request key hk changed (NULL: any may have, after a reload): read again (or,
 * with a read already on its way, once more after it) */
static void poke(struct rs_core *c, const etcd_kv *hk)
{
    struct rs_kvop **v;
    size_t n = asked(c, &v, 0);
    for (size_t i = 0; i < n; i++) {
        struct rs_buf *b = &c->kv->scratch;
        if (hk && (hand_key(b, v[i]) != 0 ||
                   !rs_bytes_eq(b->data, b->len, (const uint8_t *)hk->key, hk->key_len)))
            continue;
        if (v[i]->state != KV_ST_ASKED) {
            v[i]->opts |= KV_HAND_POKED;
            continue;
        }
        v[i]->state = 0;
        rs_kvelect_reread(c, v[i]);
    }
    rs_free(v);
}

void rs_kvhand_tick(struct rs_core *c)
{
    struct rs_kvop **v;
    size_t n = asked(c, &v, 1);
    for (size_t i = 0; i < n; i++)
        cancel(c, v[i]);
    rs_free(v);
    rs_kvunseen_caught_up(c);
}

static void on_ask(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    struct rs_kv *k = c->kv;
    if (r->status == ETCD_OK) {
        o->cand_rev = r->revision;
        o->state = KV_ST_ASKED;
        o->deadline = c->now_ms + k->timeout_ms;
        if (k->rev > o->cand_rev) {
            /* the copy is past the request: its answer may have gone by already */
            o->state = 0;
            rs_kvelect_reread(c, o);
        }
        return;
    }
    if (r->status == ETCD_FAILED) {
        o->state = 0; /* the name changed, or another request is pending: look again */
        if (rs_kvelect_again(c, o))
            rs_kvelect_reread(c, o);
        return;
    }
    rs_kv_fail(c, o, r); /* unknown: the request may stand, and be carried out */
}

static void on_cancel(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    if (r->status == ETCD_OK) {
        o->cand_rev = 0;
        char nb[80], kb[80];
        node_name(o, nb, sizeof nb);
        rs_fmt_key(kb, sizeof kb, o->key.ptr, o->key.len);
        rs_kv_refuse(c, o, ROSTER_EUNAVAIL, "node '%s' did not take over name '%s' within %u ms "
                     "(cut from etcd, or stopped?): the name stays with its holder", nb, kb,
                     c->kv->timeout_ms);
        return;
    }
    if (r->status == ETCD_FAILED) {
        o->state = 0; /* the node answered (or our earlier withdrawal went through) */
        rs_kvelect_reread(c, o);
        return;
    }
    if (++o->attempts > (int)RS_KV_RETRIES_MAX) {
        rs_kv_fail(c, o, r);
        return;
    }
    o->state = KV_ST_ASKED; /* try again shortly */
    o->deadline = c->now_ms + CANCEL_RETRY_MS;
}

/* --- the pid's node ------------------------------------------------------------------- */

/* refuse answers a request with a refusal (unless it changed meanwhile) */
static void refuse(struct rs_core *c, const uint8_t *hk, size_t hk_len, int64_t create_rev,
                   int64_t lease, int status)
{
    struct rs_kvop *d = rs_kv_op_new(c, KV_CLEANUP, NULL, NULL);
    etcd_op *t = rs_kv_ops(c, 1), *put = rs_kv_ops(c, 1);
    etcd_compare *cmp = rs_kv_cmps(c, 1);
    if (!d || !t || !put || !cmp)
        return;
    uint8_t v[RS_KVREFUSAL_LEN];
    rs_kvrefusal_encode(v, status);
    cmp->key = rs_kv_arena_dup(c, hk, hk_len);
    cmp->key_len = hk_len;
    cmp->target = ETCD_CMP_MOD;
    cmp->result = ETCD_CMP_EQUAL;
    cmp->number = create_rev;
    put->type = ETCD_OP_PUT;
    put->key = cmp->key;
    put->key_len = hk_len;
    put->value = rs_kv_arena_dup(c, v, sizeof v);
    put->value_len = sizeof v;
    put->lease = lease; /* the asker's: the refusal goes with it */
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = 1;
    t->success = put;
    t->n_success = 1;
    t->timeout_ms = (int)c->kv->timeout_ms;
    rs_kv_submit(c, d, t);
}

static void take(struct rs_core *c, const etcd_kv *h, const struct rs_kvrec *req,
                 struct rs_bytes scope)
{
    struct rs_kv *k = c->kv;
    struct rs_scope *s = rs_scopes_find(c, scope);
    if (!s || !s->kv)
        return;
    for (size_t i = 0; i < k->ops.cap; i++) {
        const struct rs_kvop *o = k->ops.slots[i].item;
        if (o && o->kind == KV_TAKE && o->arg == (uint64_t)h->create_revision &&
            rs_bytes_eq(o->prev.ptr, o->prev.len, (const uint8_t *)h->key, h->key_len))
            return; /* already being carried out (seen again by a reload) */
    }
    struct rs_proc *p = rs_pids_find(c, req->pid);
    /* the limit, unless the name moves between pids of one client (the count stays) */
    struct rs_buf *nb = &k->scratch;
    rs_buf_reset(nb);
    if (rs_kvk_name(nb, scope, req->key) != 0) {
        c->oom = 1;
        return;
    }
    const struct rs_kent *cur = rs_kvcopy_find(c, s, nb->data, nb->len);
    struct rs_proc *from =
        cur && cur->rec.pid.inc == c->inc ? rs_pids_find(c, cur->rec.pid) : NULL;
    int no = !k->lease ? ROSTER_EUNAVAIL
             : !p || !p->client ? ROSTER_ENOPROC
             : (!from || from->client != p->client) && rs_strong_at_limit(c, p->client)
                 ? ROSTER_ELIMIT
                 : 0;
    if (no) {
        refuse(c, (const uint8_t *)h->key, h->key_len, h->create_revision, h->lease, no);
        return;
    }
    struct rs_kvop *o = rs_kv_op_new(c, KV_TAKE, NULL, NULL);
    etcd_op *t = rs_kv_ops(c, 1), *then = rs_kv_ops(c, 3);
    etcd_compare *cmp = rs_kv_cmps(c, 2);
    if (!o || !t || !then || !cmp)
        return;
    memcpy(o->scope, scope.ptr, scope.len);
    o->scope_len = (uint32_t)scope.len;
    o->pid = req->pid;
    o->arg = (uint64_t)h->create_revision;
    if (rs_kv_op_copy(c, &o->key, req->key) != 0 || rs_kv_op_copy(c, &o->meta, req->meta) != 0 ||
        rs_kv_op_copy(c, &o->prev, rs_bytes_of(h->key, h->key_len)) != 0) {
        rs_kv_op_free(c, o);
        return;
    }
    struct rs_buf *b = &k->scratch;
    rs_buf_reset(b);
    if (rs_kvk_name(b, scope, req->key) != 0) {
        c->oom = 1;
        return;
    }
    cmp_set(c, &cmp[0], b, ETCD_CMP_MOD, (int64_t)req->token);
    cmp[1].key = rs_kv_arena_dup(c, h->key, h->key_len);
    cmp[1].key_len = h->key_len;
    cmp[1].target = ETCD_CMP_MOD;
    cmp[1].result = ETCD_CMP_EQUAL;
    cmp[1].number = h->create_revision;
    struct rs_kvrec now = *req;
    memcpy(now.node, c->node, c->node_len);
    now.node[c->node_len] = 0;
    now.node_len = (uint8_t)c->node_len;
    now.token = 0; /* a new grant: its own revision */
    then[1].type = ETCD_OP_PUT;
    rs_kv_set_key(c, &then[1], b);
    if (rs_kv_rec_value(c, &then[1], &now) != 0)
        return;
    then[1].lease = k->lease;
    /* the answer stays in the request (under the asker's lease) until the asker read it:
     * the name itself may have moved on by then */
    uint8_t acc[RS_KVREFUSAL_LEN];
    rs_kvrefusal_encode(acc, 0);
    then[2].type = ETCD_OP_PUT;
    then[2].key = cmp[1].key;
    then[2].key_len = cmp[1].key_len;
    then[2].value = rs_kv_arena_dup(c, acc, sizeof acc);
    then[2].value_len = sizeof acc;
    then[2].lease = h->lease;
    if (rs_kv_why_put(c, &then[0], ROSTER_REASON_HANDOFF) != 0)
        return;
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = 2;
    t->success = then;
    t->n_success = 3;
    t->timeout_ms = (int)k->timeout_ms;
    o->state = 1; /* writing: it makes a local pid a holder */
    o->writing = 1;
    o->lease = k->lease;
    rs_kv_submit(c, o, t);
}

static void on_take(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    o->done = 1;
    switch (r->status) {
    case ETCD_OK:
        if (r->revision > c->kv->rev)
            rs_kvunseen_note(c, o, r->revision);
        break;
    case ETCD_FAILED: /* the name changed (or the request was withdrawn: then a no-op) */
        refuse(c, o->prev.ptr, o->prev.len, (int64_t)o->arg, 0, ROSTER_ECONFLICT);
        break;
    case ETCD_UNKNOWN:
    case ETCD_PROTOCOL:
        rs_kvunseen_note(c, o, 0);
        break;
    default: /* not applied: the asker withdraws it at its deadline */
        break;
    }
}

void rs_kvhand_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    if (o->kind == KV_TAKE)
        on_take(c, o, r);
    else if (o->state == KV_ST_ASK)
        on_ask(c, o, r);
    else if (o->state == KV_ST_CANCEL)
        on_cancel(c, o, r);
}

void rs_kvhand_event(struct rs_core *c, const etcd_kv *kv, int is_delete)
{
    if (is_delete || kv->mod_revision != kv->create_revision) {
        poke(c, kv); /* carried out, refused or withdrawn */
        return;
    }
    char sname[RS_SCOPE_MAX + 1];
    int sl = rs_kvk_scope_of((const uint8_t *)kv->key, kv->key_len, sname);
    struct rs_kvrec req;
    const char *bad = NULL;
    if (sl < 0)
        bad = "malformed key";
    else if (rs_kvrec_decode((const uint8_t *)kv->value, kv->value_len, &req) != 0 ||
             req.kind != RS_KVK_NAME)
        bad = "value does not decode";
    else {
        struct rs_buf *b = &c->kv->scratch;
        rs_buf_reset(b);
        if (rs_kvk_hand(b, rs_bytes_of(sname, (size_t)sl), req.pid.inc, req.key) != 0) {
            c->oom = 1;
            return;
        }
        if (!rs_bytes_eq(b->data, b->len, (const uint8_t *)kv->key, kv->key_len))
            bad = "value does not match its key";
    }
    if (bad) {
        char kb[80];
        rs_out_log(c, RS_LOG_WARN, "strong scopes: etcd key '%s' ignored: %s",
                   rs_fmt_key(kb, sizeof kb, (const uint8_t *)kv->key, kv->key_len), bad);
        return;
    }
    if (req.pid.inc == c->inc)
        take(c, kv, &req, rs_bytes_of(sname, (size_t)sl));
}

void rs_kvhand_reloaded(struct rs_core *c)
{
    poke(c, NULL);
}

/* --- unseen writes ---------------------------------------------------------------------- */

int rs_kvhand_makes_holder(const struct rs_core *c, const struct rs_kvop *o)
{
    if (o->pid.inc != c->inc)
        return 0;
    switch (o->kind) {
    case KV_REGISTER:
    case KV_JOIN:
    case KV_TAKE:
        return 1;
    case KV_CAMPAIGN:
    case KV_HANDOFF:
        return o->state == 1; /* the write of the name itself (a handoff: to a local pid) */
    default:
        return 0;
    }
}

void rs_kvunseen_note(struct rs_core *c, const struct rs_kvop *o, int64_t rev)
{
    struct rs_kv *k = c->kv;
    struct rs_kunseen *u = rs_core_alloc(c, sizeof *u + o->key.len + o->meta.len);
    if (!u)
        return;
    memset(u, 0, sizeof *u);
    u->rev = rev;
    u->lease = o->lease;
    u->since = c->now_ms;
    u->pid = o->pid;
    u->member = o->kind == KV_JOIN;
    memcpy(u->scope, o->scope, o->scope_len);
    u->scope_len = o->scope_len;
    if (o->key.len)
        memcpy(u->data, o->key.ptr, o->key.len);
    if (o->meta.len)
        memcpy(u->data + o->key.len, o->meta.ptr, o->meta.len);
    u->key = rs_bytes_of(u->data, o->key.len);
    u->meta = rs_bytes_of(o->meta.len ? u->data + o->key.len : NULL, o->meta.len);
    u->next = k->unseen;
    k->unseen = u;
    k->n_unseen++;
}

void rs_kvunseen_caught_up(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    for (struct rs_kunseen **pp = &k->unseen; *pp;) {
        struct rs_kunseen *u = *pp;
        /* an unknown outcome is forgotten after 2 TTLs with the lease kept: had it
         * committed, the copy (watching all along, or the node would have fenced) would
         * have shown it long since */
        if ((u->rev && u->rev <= k->rev) || u->lease != k->lease ||
            (!u->rev && c->now_ms >= u->since + 2u * k->ttl_ms)) {
            *pp = u->next;
            k->n_unseen--;
            rs_free(u);
        } else {
            pp = &u->next;
        }
    }
}

/* tell tells pid it lost key, unless the copy shows it held (its removal tells then) */
static void tell(struct rs_core *c, struct rs_bytes scope, int member, struct rs_bytes key,
                 struct rs_bytes meta, struct rs_pid pid)
{
    struct rs_scope *s = rs_scopes_find(c, scope);
    if (!s || !s->kv)
        return;
    struct rs_buf *b = &c->kv->scratch;
    rs_buf_reset(b);
    if ((member ? rs_kvk_member(b, scope, key, pid) : rs_kvk_name(b, scope, key)) != 0) {
        c->oom = 1;
        return;
    }
    const struct rs_kent *e = rs_kvcopy_find(c, s, b->data, b->len);
    if (e && rs_pid_eq(e->rec.pid, pid))
        return;
    struct rs_kvrec r;
    memset(&r, 0, sizeof r);
    r.kind = member ? RS_KVK_MEMBER : RS_KVK_NAME;
    memcpy(r.node, c->node, c->node_len);
    r.node_len = (uint8_t)c->node_len;
    r.pid = pid;
    r.key = key;
    r.meta = meta;
    rs_kvcopy_tell(c, s, &r, member ? ROSTER_EV_LEFT : ROSTER_EV_UNREGISTERED,
                   ROSTER_REASON_LEASE_LOST, c->kv->rev);
}

void rs_kvunseen_fence(struct rs_core *c, int64_t lease)
{
    struct rs_kv *k = c->kv;
    for (size_t i = 0; i < k->ops.cap; i++) {
        const struct rs_kvop *o = k->ops.slots[i].item;
        if (o && o->writing && o->lease == lease && rs_kvhand_makes_holder(c, o))
            tell(c, scope_of(o), o->kind == KV_JOIN, o->key, o->meta, o->pid);
    }
    for (struct rs_kunseen **pp = &k->unseen; *pp;) {
        struct rs_kunseen *u = *pp;
        if (u->lease != lease) {
            pp = &u->next;
            continue;
        }
        tell(c, rs_bytes_of(u->scope, u->scope_len), u->member, u->key, u->meta, u->pid);
        *pp = u->next;
        k->n_unseen--;
        rs_free(u);
    }
}

void rs_kvunseen_free(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    while (k->unseen) {
        struct rs_kunseen *u = k->unseen;
        k->unseen = u->next;
        rs_free(u);
    }
    k->n_unseen = 0;
}
