/* kvwrite.c: the writes of strong scopes (docs/STRONG.md): scope creation, register,
 * unregister, join, leave, and the removal of a dead pid's entries. Each is one etcd
 * transaction with a compare (create_revision 0 for a new key, the mod_revision read for a
 * change), retried a bounded number of times when another write got there first; removals
 * put the node's w/ key with their reason in the same transaction. The reply goes once the
 * local copy reached the write's revision (read-your-writes), or after the operation
 * timeout if the watch lags. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/kvstate.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/strong.h"
#include "core/util.h"

/* --- transaction builders ------------------------------------------------------------- */

static struct rs_bytes scope_of(const struct rs_kvop *o)
{
    return rs_bytes_of(o->scope, o->scope_len);
}

/* the etcd key o acts on, in the scratch buffer */
const struct rs_buf *rs_kvwrite_key(struct rs_core *c, const struct rs_kvop *o)
{
    struct rs_buf *b = &c->kv->scratch;
    rs_buf_reset(b);
    int bad;
    switch (o->kind) {
    case KV_CREATE:
        bad = rs_kvk_scope(b, o->key);
        break;
    case KV_JOIN:
    case KV_LEAVE:
        bad = rs_kvk_member(b, scope_of(o), o->key, o->pid);
        break;
    default:
        bad = rs_kvk_name(b, scope_of(o), o->key);
        break;
    }
    if (bad) {
        c->oom = 1;
        return NULL;
    }
    return b;
}

/* the record o writes (token 0: the put's own revision is the token) */
void rs_kvwrite_rec(struct rs_core *c, const struct rs_kvop *o, uint64_t token,
                    struct rs_kvrec *r)
{
    memset(r, 0, sizeof *r);
    r->kind = o->kind == KV_CREATE ? RS_KVK_SCOPE
              : (o->kind == KV_JOIN || o->kind == KV_LEAVE) ? RS_KVK_MEMBER
                                                             : RS_KVK_NAME;
    memcpy(r->node, c->node, c->node_len);
    r->node_len = (uint8_t)c->node_len;
    if (r->kind != RS_KVK_SCOPE) {
        r->pid = o->pid;
        r->uid = (uint32_t)o->arg;
    }
    r->token = token;
    r->key = o->key;
    r->meta = o->meta;
}

/* txn: compare target of the key (EQUAL number) -> then; else range the key. */
static etcd_op *txn(struct rs_core *c, const struct rs_buf *key, etcd_cmp_target target,
                    etcd_cmp_result res, int64_t number, size_t n_then, int with_range)
{
    etcd_op *t = rs_kv_ops(c, 1);
    etcd_compare *cmp = rs_kv_cmps(c, 1);
    etcd_op *then = rs_kv_ops(c, n_then);
    etcd_op *els = with_range ? rs_kv_ops(c, 1) : NULL;
    if (!t || !cmp || !then || (with_range && !els))
        return NULL;
    cmp->key = rs_kv_arena_dup(c, key->data, key->len);
    cmp->key_len = key->len;
    cmp->target = target;
    cmp->result = res;
    cmp->number = number;
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = 1;
    t->success = then;
    t->n_success = n_then;
    if (els) {
        els->type = ETCD_OP_RANGE;
        rs_kv_set_key(c, els, key);
        t->failure = els;
        t->n_failure = 1;
    }
    t->timeout_ms = (int)c->kv->timeout_ms;
    return t;
}

static void send(struct rs_core *c, struct rs_kvop *o, const etcd_op *t)
{
    if (!t)
        return;
    if (!o->phase) {
        o->phase = 1;
        rs_kv_submit(c, o, t);
    } else {
        rs_kv_resubmit(c, o, t);
    }
}

/* put: a new key (create_revision 0) or a change of the one read (mod_revision). */
void rs_kvwrite_put(struct rs_core *c, struct rs_kvop *o, int64_t mod_rev, uint64_t token)
{
    const struct rs_buf *key = rs_kvwrite_key(c, o);
    if (!key)
        return;
    etcd_op *t = txn(c, key, mod_rev ? ETCD_CMP_MOD : ETCD_CMP_CREATE, ETCD_CMP_EQUAL, mod_rev,
                     1, 1);
    if (!t)
        return;
    etcd_op *p = (etcd_op *)t->success;
    struct rs_kvrec r;
    rs_kvwrite_rec(c, o, token, &r);
    p->type = ETCD_OP_PUT;
    rs_kv_set_key(c, p, key);
    if (rs_kv_rec_value(c, p, &r) != 0)
        return;
    if (o->kind != KV_CREATE)
        p->lease = c->kv->lease;
    o->lease = c->kv->lease;
    o->token = token;
    o->writing = 1;
    send(c, o, t);
}

/* del: remove the key if its mod_revision is still mod_rev (or, 0: if it exists). */
static void del(struct rs_core *c, struct rs_kvop *o, int64_t mod_rev)
{
    const struct rs_buf *key = rs_kvwrite_key(c, o);
    if (!key)
        return;
    etcd_op *t = mod_rev ? txn(c, key, ETCD_CMP_MOD, ETCD_CMP_EQUAL, mod_rev, 2, 1)
                         : txn(c, key, ETCD_CMP_CREATE, ETCD_CMP_GREATER, 0, 2, 0);
    if (!t)
        return;
    etcd_op *then = (etcd_op *)t->success;
    if (rs_kv_why_put(c, &then[0], ROSTER_REASON_NORMAL) != 0)
        return;
    key = rs_kvwrite_key(c, o); /* the why put used the scratch buffer */
    then[1].type = ETCD_OP_DELETE;
    rs_kv_set_key(c, &then[1], key);
    o->lease = c->kv->lease;
    o->writing = 1;
    send(c, o, t);
}

static void read_key(struct rs_core *c, struct rs_kvop *o)
{
    const struct rs_buf *key = rs_kvwrite_key(c, o);
    etcd_op *op = rs_kv_ops(c, 1);
    if (!key || !op)
        return;
    op->type = ETCD_OP_RANGE;
    rs_kv_set_key(c, op, key);
    op->timeout_ms = (int)c->kv->timeout_ms;
    o->writing = 0;
    send(c, o, op);
}

/* --- requests ------------------------------------------------------------------------- */

static struct rs_kvop *start(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                             int kind, struct rs_bytes key, struct rs_bytes meta)
{
    struct rs_kvop *o = rs_kv_op_new(c, kind, cl, req);
    if (!o)
        return NULL;
    if (rs_kv_op_copy(c, &o->key, key) != 0 || rs_kv_op_copy(c, &o->meta, meta) != 0) {
        rs_kv_op_free(c, o);
        return NULL;
    }
    o->arg = cl->uid;
    return o;
}

/* full: the client holds entries_per_client names and memberships (eventual ones, strong
 * ones of its pids in the local copy, and its strong writes in flight that may add one) and
 * this write would add one (key: its etcd key, already held by pid: an update, never
 * refused). Replies ELIMIT. */
static int full(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                struct rs_scope *s, const struct rs_buf *key)
{
    uint64_t n = cl->n_entries + cl->n_kv_creates;
    for (struct rs_proc *p = cl->procs; p; p = p->next)
        n += rs_kvcopy_owned(c, p->serial);
    if (n < c->lim.entries_per_client)
        return 0;
    const struct rs_kent *e = key ? rs_kvcopy_find(c, s, key->data, key->len) : NULL;
    if (e && rs_pid_eq(e->rec.pid, req->pid))
        return 0;
    rs_out_error(c, cl, req, ROSTER_ELIMIT,
                 "client holds %llu names and memberships (limit entries_per_client)",
                 (unsigned long long)n);
    return 1;
}

int rs_strong_at_limit(struct rs_core *c, const struct rs_client *cl)
{
    uint64_t n = cl->n_entries + cl->n_kv_creates;
    for (struct rs_proc *p = cl->procs; p; p = p->next)
        n += rs_kvcopy_owned(c, p->serial);
    return n >= c->lim.entries_per_client;
}

int rs_strong_full(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                   struct rs_scope *s)
{
    return full(c, cl, req, s, NULL);
}

void rs_strong_on_create(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (!rs_kv_ready(c, cl, req))
        return;
    struct rs_kvop *o = start(c, cl, req, KV_CREATE, req->scope, rs_bytes_of(NULL, 0));
    if (o)
        rs_kvwrite_put(c, o, 0, 0);
}

void rs_strong_on_register(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                           struct rs_scope *s)
{
    if (!rs_kv_ready(c, cl, req))
        return;
    struct rs_buf *b = &c->kv->scratch;
    rs_buf_reset(b);
    if (rs_kvk_name(b, rs_bytes_of(s->name, s->name_len), rs_msg_register_name(req)) != 0) {
        c->oom = 1;
        return;
    }
    if (full(c, cl, req, s, b))
        return;
    struct rs_kvop *o =
        start(c, cl, req, KV_REGISTER, rs_msg_register_name(req), rs_msg_register_meta(req));
    if (o)
        rs_kvbatch_create(c, o);
}

void rs_strong_on_unregister(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                             struct rs_scope *s)
{
    (void)s;
    if (!rs_kv_ready(c, cl, req))
        return;
    struct rs_kvop *o =
        start(c, cl, req, KV_UNREGISTER, rs_msg_unregister_name(req), rs_bytes_of(NULL, 0));
    if (o)
        read_key(c, o);
}

void rs_strong_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                       struct rs_scope *s)
{
    if (!rs_kv_ready(c, cl, req))
        return;
    struct rs_buf *b = &c->kv->scratch;
    rs_buf_reset(b);
    if (rs_kvk_member(b, rs_bytes_of(s->name, s->name_len), rs_msg_join_group(req), req->pid) !=
        0) {
        c->oom = 1;
        return;
    }
    if (full(c, cl, req, s, b))
        return;
    struct rs_kvop *o = start(c, cl, req, KV_JOIN, rs_msg_join_group(req), rs_msg_join_meta(req));
    if (o)
        rs_kvbatch_create(c, o);
}

void rs_strong_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s)
{
    (void)s;
    if (!rs_kv_ready(c, cl, req))
        return;
    struct rs_kvop *o =
        start(c, cl, req, KV_LEAVE, rs_msg_leave_group(req), rs_bytes_of(NULL, 0));
    if (o)
        del(c, o, 0);
}

/* --- a dead pid's entries ------------------------------------------------------------- */

/* undrop: the pid's entries are no longer in a removal in flight (it failed: try again) */
static void undrop(struct rs_core *c, struct rs_pid pid)
{
    for (struct rs_kent *e = rs_kvcopy_owned_list(c, pid.serial); e; e = e->onext)
        e->dropping = 0;
}

/* drop sends one transaction removing up to RS_KV_TXN_OPS_MAX of pid's entries of the local
 * copy (compare: each name still at the revision we know: a handoff may have moved it),
 * from the pid's own list (so a death costs what the pid held, not a scan of the copy);
 * those already in a removal in flight are skipped, and the next round takes the rest. */
static void drop(struct rs_core *c, struct rs_kvop *o)
{
    struct rs_kent *ents[RS_KV_TXN_OPS_MAX];
    size_t n = 0;
    for (struct rs_kent *e = rs_kvcopy_owned_list(c, o->pid.serial);
         e && n < RS_KV_TXN_OPS_MAX; e = e->onext)
        /* the key of o->key is deleted below, with its own compare (etcd refuses a
         * transaction that names one key twice) */
        if (!e->dropping && rs_pid_eq(e->rec.pid, o->pid) &&
            !rs_bytes_eq(e->data, e->ekey_len, o->key.ptr, o->key.len))
            ents[n++] = e;
    if (n == 0 && !o->key.len) {
        o->done = 1;
        return;
    }
    etcd_op *t = rs_kv_ops(c, 1);
    etcd_compare *cmp = rs_kv_cmps(c, n + 1);
    etcd_op *then = rs_kv_ops(c, n + 2);
    if (!t || !cmp || !then)
        return;
    size_t nc = 0, nt = 1;
    if (rs_kv_why_put(c, &then[0], o->reason) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        ents[i]->dropping = 1;
        then[nt].type = ETCD_OP_DELETE;
        then[nt].key = rs_kv_arena_dup(c, ents[i]->data, ents[i]->ekey_len);
        then[nt].key_len = ents[i]->ekey_len;
        nt++;
        if (ents[i]->rec.kind == RS_KVK_NAME) {
            cmp[nc].key = then[nt - 1].key;
            cmp[nc].key_len = then[nt - 1].key_len;
            cmp[nc].target = ETCD_CMP_MOD;
            cmp[nc].result = ETCD_CMP_EQUAL;
            cmp[nc].number = ents[i]->mod_rev;
            nc++;
        }
    }
    if (o->key.len) {
        /* one key a write put after the pid died, at revision o->arg */
        then[nt].type = ETCD_OP_DELETE;
        then[nt].key = rs_kv_arena_dup(c, o->key.ptr, o->key.len);
        then[nt].key_len = o->key.len;
        cmp[nc].key = then[nt].key;
        cmp[nc].key_len = o->key.len;
        cmp[nc].target = ETCD_CMP_MOD;
        cmp[nc].result = ETCD_CMP_EQUAL;
        cmp[nc].number = (int64_t)o->arg;
        nt++;
        nc++;
    }
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = nc;
    t->success = then;
    t->n_success = nt;
    t->timeout_ms = (int)c->kv->timeout_ms;
    o->writing = 1;
    send(c, o, t);
}

static struct rs_kvop *drop_op(struct rs_core *c, struct rs_pid pid, uint32_t reason)
{
    struct rs_kvop *o = rs_kv_op_new(c, KV_DROP, NULL, NULL);
    if (!o)
        return NULL;
    o->pid = pid;
    o->reason = reason;
    return o;
}

void rs_strong_pid_down(struct rs_core *c, struct rs_proc *p, uint32_t reason)
{
    if (!c->kv || !c->kv->lease)
        return; /* fenced: the copy has none of ours, etcd lets them expire */
    struct rs_pid pid = {c->inc, p->serial};
    if (!rs_kvcopy_owned(c, p->serial))
        return;
    struct rs_kvop *o = drop_op(c, pid, reason);
    if (o)
        drop(c, o);
}

void rs_strong_pid_gone(struct rs_core *c, struct rs_proc *p)
{
    if (c->kv) {
        struct rs_pid pid = {c->inc, p->serial};
        rs_kvelect_pid_down(c, pid);
    }
}

/* late: a write for a pid that died while it was in flight: take its key away again. */
void rs_kvwrite_late(struct rs_core *c, struct rs_kvop *w)
{
    const struct rs_buf *key = rs_kvwrite_key(c, w);
    if (!key)
        return;
    struct rs_kvop *o = drop_op(c, w->pid, ROSTER_REASON_DISCONNECTED);
    if (!o)
        return;
    struct rs_bytes k = rs_bytes_of(key->data, key->len);
    if (rs_kv_op_copy(c, &o->key, k) != 0)
        return;
    o->arg = (uint64_t)w->wait_rev;
    o->wait_rev = 0;
    drop(c, o);
}

/* orphan: another node handed a name (or a write landed) to a local pid that is dead: take
 * it away again (reason disconnected), else it would stay until this node's lease ends. */
void rs_kvwrite_orphan(struct rs_core *c, const etcd_kv *kv, struct rs_pid pid)
{
    struct rs_kvop *o = drop_op(c, pid, ROSTER_REASON_DISCONNECTED);
    if (!o)
        return;
    if (rs_kv_op_copy(c, &o->key, rs_bytes_of(kv->key, kv->key_len)) != 0) {
        rs_kv_op_free(c, o);
        return;
    }
    o->arg = (uint64_t)kv->mod_revision;
    drop(c, o);
}

/* --- results -------------------------------------------------------------------------- */

/* the key-values a range read gave: a RANGE result, or a failed txn's range */
static const etcd_op_result *range_of(const etcd_result *r)
{
    if (r->type == ETCD_OP_RANGE)
        return &r->r;
    if (r->type == ETCD_OP_TXN && r->n_ops > 0 && r->ops[0].type == ETCD_OP_RANGE)
        return &r->ops[0];
    return NULL;
}

/* retry: another write changed the key between our read and our compare */
static int retry(struct rs_core *c, struct rs_kvop *o)
{
    if (++o->attempts > (int)RS_KV_RETRIES_MAX) {
        rs_kv_refuse(c, o, ROSTER_EUNAVAIL, "etcd: gave up after %u rounds of contention on the key",
              RS_KV_RETRIES_MAX);
        return 0;
    }
    return 1;
}

/* a key read: what a write does next */
static void on_read(struct rs_core *c, struct rs_kvop *o, const etcd_op_result *rg)
{
    char kb[80], pb[ROSTER_PID_STRLEN];
    rs_fmt_key(kb, sizeof kb, o->key.ptr, o->key.len);
    struct rs_kvrec rec;
    struct rs_scope *s;
    const etcd_kv *kv = rg && rg->n_kvs ? &rg->kvs[0] : NULL;
    if (kv && rs_kvcopy_decode(c, kv, &rec, &s) != 0) {
        rs_kv_refuse(c, o, ROSTER_EINTERNAL, "name '%s' has a value in etcd this node cannot read", kb);
        return;
    }
    switch (o->kind) {
    case KV_CREATE:
        rs_kv_refuse(c, o, ROSTER_EEXIST, "scope '%s' already exists", kb);
        return;
    case KV_REGISTER:
    case KV_JOIN:
        if (!kv) {
            if (retry(c, o))
                rs_kvwrite_put(c, o, 0, 0);
            return;
        }
        if (o->kind == KV_REGISTER && !rs_pid_eq(rec.pid, o->pid)) {
            struct rs_client *cl = rs_kv_client(c, o);
            o->done = 1;
            if (!cl)
                return;
            char text[300];
            int n = snprintf(text, sizeof text, "name '%s' is held by pid %s on node '%s'", kb,
                             rs_fmt_pid(pb, rec.pid), rec.node);
            struct rs_msg q = rs_kv_req(o), r;
            memset(&r, 0, sizeof r);
            r.status = ROSTER_ETAKEN;
            rs_msg_register_reply_holder_set(&r, rec.pid);
            rs_msg_register_reply_token_set(&r, rs_kvcopy_token(&rec, kv->mod_revision));
            rs_msg_reply_error_text_set(&r, rs_bytes_of(text, n > 0 ? (size_t)n : 0));
            rs_out_reply(c, cl, &q, &r);
            return;
        }
        uint64_t token = rs_kvcopy_token(&rec, kv->mod_revision);
        if (kv->lease == c->kv->lease &&
            rs_bytes_eq(rec.meta.ptr, rec.meta.len, o->meta.ptr, o->meta.len)) {
            /* a retry of what is already there: idempotent */
            o->token = token;
            o->lease = c->kv->lease;
            rs_kv_wait(c, o, kv->mod_revision);
            return;
        }
        if (retry(c, o))
            rs_kvwrite_put(c, o, kv->mod_revision, o->kind == KV_REGISTER ? token : 0);
        return;
    case KV_UNREGISTER: {
        if (!kv) {
            rs_kv_refuse(c, o, ROSTER_ENOTFOUND, "name '%s' is not registered", kb);
            return;
        }
        struct rs_proc *p = rec.pid.inc == c->inc ? rs_pids_find(c, rec.pid) : NULL;
        if (!p || !p->client || p->client->conn != o->conn) {
            rs_kv_refuse(c, o, ROSTER_ENOTOWNER, "name '%s' is held by pid %s of another %s", kb,
                  rs_fmt_pid(pb, rec.pid), rec.pid.inc == c->inc ? "client" : "node");
            return;
        }
        if (retry(c, o))
            del(c, o, kv->mod_revision);
        return;
    }
    case KV_LEAVE:
        rs_kv_refuse(c, o, ROSTER_ENOTMEMBER, "pid %s is not a member of group '%s'",
              rs_fmt_pid(pb, o->pid), kb);
        return;
    }
}

void rs_kvwrite_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    if (o->kind == KV_BATCH) {
        if (!o->done)
            rs_kvbatch_on_result(c, o, r);
        return;
    }
    rs_kvbatch_settle(c, o);
    if (o->kind == KV_TAKE) {
        rs_kvhand_on_result(c, o, r);
        return;
    }
    if (o->kind == KV_HANDOFF || o->kind == KV_UPDATE || o->kind == KV_CAMPAIGN) {
        rs_kvelect_on_result(c, o, r); /* a campaign's win must be undone even when done */
        return;
    }
    if (o->done)
        return;
    if (o->kind == KV_DROP) {
        if (r->status == ETCD_OK) {
            /* more than one transaction's worth: the next round (its echo removes these) */
            rs_kv_op_copy(c, &o->key, rs_bytes_of(NULL, 0));
            o->attempts = 0;
            o->phase = 1;
            drop(c, o);
            return;
        }
        undrop(c, o->pid);
        if (r->status == ETCD_FAILED && o->key.len) {
            /* the one key changed since (moved on, or already removed): not ours to delete;
             * the pid's other entries, if any, are tried again without it */
            rs_kv_op_copy(c, &o->key, rs_bytes_of(NULL, 0));
        }
        if (++o->attempts > (int)RS_KV_RETRIES_MAX) {
            rs_out_log(c, RS_LOG_WARN, "strong scopes: removing the entries of dead pid %llu "
                       "failed (%s): they stay until this node's lease ends",
                       (unsigned long long)o->pid.serial, rs_kv_status_name(r->status));
            o->done = 1;
            return;
        }
        drop(c, o);
        return;
    }
    if (r->status == ETCD_OK && r->type == ETCD_OP_TXN) {
        if (o->kind == KV_REGISTER && !o->token)
            o->token = (uint64_t)r->revision;
        rs_kv_wait(c, o, r->revision);
        return;
    }
    if ((r->status == ETCD_OK && r->type == ETCD_OP_RANGE) || r->status == ETCD_FAILED) {
        if ((o->kind == KV_REGISTER || o->kind == KV_JOIN) && !rs_pids_find(c, o->pid)) {
            o->done = 1; /* the pid died meanwhile: nothing more to write for it */
            return;
        }
        on_read(c, o, range_of(r));
        return;
    }
    rs_kv_fail(c, o, r);
}

void rs_kvwrite_finish(struct rs_core *c, struct rs_kvop *o)
{
    struct rs_client *cl = rs_kv_client(c, o);
    int pid_gone = o->kind != KV_CREATE && !rs_pids_find(c, o->pid);
    if ((o->kind == KV_REGISTER || o->kind == KV_JOIN || o->kind == KV_CAMPAIGN) && pid_gone &&
        c->kv->lease)
        rs_kvwrite_late(c, o);
    if (cl && !o->done) {
        struct rs_msg q = rs_kv_req(o);
        if ((o->kind == KV_REGISTER || o->kind == KV_JOIN || o->kind == KV_CAMPAIGN) &&
            o->lease != c->kv->lease) {
            /* committed, under a lease the node gave up: it holds until etcd expires it */
            rs_out_error(c, cl, &q, ROSTER_EUNKNOWN,
                         "the node lost its etcd lease: the write was committed but goes "
                         "when etcd expires the old lease");
        } else if (o->kind == KV_REGISTER || o->kind == KV_HANDOFF || o->kind == KV_UPDATE ||
                   o->kind == KV_CAMPAIGN) {
            /* these replies all carry the holder in PID and the token in ARG2 */
            struct rs_msg r;
            memset(&r, 0, sizeof r);
            r.pid = o->kind == KV_UPDATE ? o->holder : o->pid;
            r.arg2 = o->token;
            rs_out_reply(c, cl, &q, &r);
        } else {
            rs_out_ok(c, cl, &q);
        }
    }
    o->done = 1;
    rs_kv_op_free(c, o);
}
