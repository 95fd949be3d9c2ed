/* kvelect.c: the strong halves of HANDOFF, UPDATE and CAMPAIGN (issue 9, items 4 and 7;
 * CHECK_TOKEN is a read: kvread.c), and their dispatch until cas.c's, which also serves
 * eventual scopes, takes it over. Each reads what it needs linearizably, decides, then
 * writes in one transaction whose compare is the mod_revision it read; when another write
 * got there first it reads and decides again (bounded).
 *   HANDOFF: the name's key is re-put for the new holder, attached to the lease of the
 *     new holder's node (node/<incarnation> says which), with a w/ put of reason handoff:
 *     every node sees UNREGISTERED then REGISTERED at one revision; the name is never free.
 *   UPDATE: the value is re-put with the new metadata (the token and the lease kept) if
 *     the caller's condition holds, else ECONFLICT with the current metadata and token.
 *   CAMPAIGN: a candidate key c/... under the node's lease; the candidate with the oldest
 *     create_revision takes the name when it is free (compare: the name still free and the
 *     candidacy still ours); the others wait for the local copy to change. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/kvstate.h"
#include "core/life.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/scope.h"
#include "core/scopes.h"
#include "core/strong.h"
#include "core/util.h"

#define ST_READ 0
#define ST_WRITE 1
#define ST_WAIT 2

static struct rs_bytes scope_of(const struct rs_kvop *o)
{
    return rs_bytes_of(o->scope, o->scope_len);
}

/* o's own key (name, or membership for UPDATE with RS_UPDATE_MEMBER) into b */
static int own_key(struct rs_buf *b, const struct rs_kvop *o)
{
    rs_buf_reset(b);
    if (o->kind == KV_UPDATE && (o->opts & RS_UPDATE_MEMBER))
        return rs_kvk_member(b, scope_of(o), o->key, o->pid2);
    return rs_kvk_name(b, scope_of(o), o->key);
}

static void send(struct rs_core *c, struct rs_kvop *o, const etcd_op *t)
{
    if (!o->phase) {
        o->phase = 1;
        rs_kv_submit(c, o, t);
    } else {
        rs_kv_resubmit(c, o, t);
    }
}

static etcd_op *range_op(struct rs_core *c, etcd_op *op, const struct rs_buf *key, int prefix)
{
    op->type = ETCD_OP_RANGE;
    rs_kv_set_key(c, op, key);
    op->prefix = prefix != 0;
    return op;
}

/* read: one linearizable read of the key (and, for HANDOFF, the new holder's node key;
 * for CAMPAIGN, the candidates) as a txn of ranges */
static void read(struct rs_core *c, struct rs_kvop *o)
{
    struct rs_buf *b = &c->kv->scratch;
    etcd_op *t = rs_kv_ops(c, 1), *then = rs_kv_ops(c, 3);
    if (!t || !then || own_key(b, o) != 0) {
        c->oom = 1;
        return;
    }
    range_op(c, &then[0], b, 0);
    size_t n = 1;
    if (o->kind == KV_HANDOFF) {
        char inc[17];
        snprintf(inc, sizeof inc, "%016llx", (unsigned long long)o->pid.inc);
        rs_buf_reset(b);
        if (rs_kvk_node(b, rs_bytes_of(inc, 16)) != 0)
            return;
        range_op(c, &then[n++], b, 0);
        if (o->cand_rev) {
            /* our request to the pid's node (kvhand.c): answered yet? */
            rs_buf_reset(b);
            if (rs_kvk_hand(b, scope_of(o), o->pid.inc, o->key) != 0)
                return;
            range_op(c, &then[n++], b, 0);
        }
    } else if (o->kind == KV_CAMPAIGN) {
        rs_buf_reset(b);
        if (rs_kvk_cands(b, scope_of(o), o->key) != 0)
            return;
        range_op(c, &then[n++], b, 1);
    }
    t->type = ETCD_OP_TXN;
    t->success = then;
    t->n_success = n;
    t->timeout_ms = (int)c->kv->timeout_ms;
    o->state = ST_READ;
    o->writing = 0;
    send(c, o, t);
}

/* write: compare the key's mod_revision (0: must not exist; for CAMPAIGN also that our
 * candidacy stands), then the puts */
static void write(struct rs_core *c, struct rs_kvop *o, int64_t mod_rev,
                  const struct rs_kvrec *rec, int64_t lease, uint32_t why)
{
    struct rs_buf *b = &c->kv->scratch;
    etcd_op *t = rs_kv_ops(c, 1), *then = rs_kv_ops(c, 3);
    etcd_compare *cmp = rs_kv_cmps(c, 2);
    if (!t || !then || !cmp)
        return;
    size_t nt = 0, nc = 0;
    if (why && rs_kv_why_put(c, &then[nt++], why) != 0)
        return;
    if (own_key(b, o) != 0)
        return;
    cmp[nc].key = rs_kv_arena_dup(c, b->data, b->len);
    cmp[nc].key_len = b->len;
    cmp[nc].target = mod_rev ? ETCD_CMP_MOD : ETCD_CMP_CREATE;
    cmp[nc].result = ETCD_CMP_EQUAL;
    cmp[nc].number = mod_rev;
    nc++;
    then[nt].type = ETCD_OP_PUT;
    rs_kv_set_key(c, &then[nt], b);
    if (rs_kv_rec_value(c, &then[nt], rec) != 0)
        return;
    then[nt].lease = lease;
    nt++;
    if (o->kind == KV_CAMPAIGN) {
        rs_buf_reset(b);
        if (rs_kvk_cand(b, scope_of(o), o->key, o->pid) != 0)
            return;
        cmp[nc].key = rs_kv_arena_dup(c, b->data, b->len);
        cmp[nc].key_len = b->len;
        cmp[nc].target = ETCD_CMP_CREATE;
        cmp[nc].result = ETCD_CMP_EQUAL;
        cmp[nc].number = o->cand_rev;
        nc++;
        then[nt].type = ETCD_OP_DELETE; /* the candidacy ends with the win */
        rs_kv_set_key(c, &then[nt], b);
        nt++;
    }
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = nc;
    t->success = then;
    t->n_success = nt;
    t->timeout_ms = (int)c->kv->timeout_ms;
    o->state = ST_WRITE;
    o->lease = c->kv->lease;
    o->writing = 1;
    send(c, o, t);
}

void rs_kvelect_reread(struct rs_core *c, struct rs_kvop *o)
{
    read(c, o);
}

static int again(struct rs_core *c, struct rs_kvop *o);

int rs_kvelect_again(struct rs_core *c, struct rs_kvop *o)
{
    return again(c, o);
}

static int again(struct rs_core *c, struct rs_kvop *o)
{
    if (++o->attempts > (int)RS_KV_RETRIES_MAX) {
        rs_kv_refuse(c, o, ROSTER_EUNAVAIL, "etcd: gave up after %u rounds of contention on the key",
             RS_KV_RETRIES_MAX);
        return 0;
    }
    return 1;
}

static const etcd_kv *first(const etcd_result *r, size_t i)
{
    return r->n_ops > i && r->ops[i].type == ETCD_OP_RANGE && r->ops[i].n_kvs
               ? &r->ops[i].kvs[0]
               : NULL;
}

/* may_act: the caller is the holder's client, or a client of the same OS user */
static int may_act(struct rs_core *c, const struct rs_kvop *o, const struct rs_kvrec *rec)
{
    struct rs_proc *p = rec->pid.inc == c->inc ? rs_pids_find(c, rec->pid) : NULL;
    if (p && p->client && p->client->conn == o->conn)
        return 1;
    return rec->uid == o->uid && o->uid != UINT32_MAX;
}

static void decide_handoff(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    char kb[80], pb[ROSTER_PID_STRLEN];
    rs_fmt_key(kb, sizeof kb, o->key.ptr, o->key.len);
    if (o->cand_rev && rs_kvhand_decide(c, o, r))
        return; /* a request to the pid's node answered it, or still waits */
    const etcd_kv *kv = first(r, 0), *nk = first(r, 1);
    struct rs_kvrec rec, node;
    struct rs_scope *s;
    if (!kv) {
        rs_kv_refuse(c, o, ROSTER_ENOTFOUND, "name '%s' is not registered", kb);
        return;
    }
    if (rs_kvcopy_decode(c, kv, &rec, &s) != 0) {
        rs_kv_refuse(c, o, ROSTER_EINTERNAL, "name '%s' has a value this node cannot read", kb);
        return;
    }
    uint64_t token = rs_kvcopy_token(&rec, kv->mod_revision);
    if (!may_act(c, o, &rec)) {
        rs_kv_refuse(c, o, ROSTER_ENOTOWNER, "name '%s' is held by pid %s of another OS user", kb,
             rs_fmt_pid(pb, rec.pid));
        return;
    }
    if (o->arg && o->arg != token) {
        /* the reply carries the current holder and token, as UPDATE's ECONFLICT does */
        o->done = 1;
        struct rs_client *cl = rs_kv_client(c, o);
        if (!cl)
            return;
        struct rs_msg q = rs_kv_req(o), rep;
        memset(&rep, 0, sizeof rep);
        rep.status = ROSTER_ECONFLICT;
        rs_msg_handoff_reply_holder_set(&rep, rec.pid);
        rs_msg_handoff_reply_token_set(&rep, token);
        char text[200];
        int n = snprintf(text, sizeof text, "name '%s' has token %llu, not %llu", kb,
                         (unsigned long long)token, (unsigned long long)o->arg);
        rs_msg_reply_error_text_set(&rep, rs_bytes_of(text, n > 0 ? (size_t)n : 0));
        rs_out_reply(c, cl, &q, &rep);
        return;
    }
    if (rs_pid_eq(rec.pid, o->pid)) {
        o->token = token;
        rs_kv_wait(c, o, kv->mod_revision);
        return;
    }
    struct rs_kvrec now = rec;
    int64_t lease;
    if (o->pid.inc == c->inc) {
        struct rs_proc *p = rs_pids_find(c, o->pid);
        if (!p || !p->client) {
            rs_kv_refuse(c, o, ROSTER_ENOPROC, "pid %s is not alive", rs_fmt_pid(pb, o->pid));
            return;
        }
        struct rs_proc *from = rec.pid.inc == c->inc ? rs_pids_find(c, rec.pid) : NULL;
        if ((!from || from->client != p->client) && rs_strong_at_limit(c, p->client)) {
            /* (between pids of one client the count does not change) */
            rs_kv_refuse(c, o, ROSTER_ELIMIT, "the client of pid %s holds its limit of names "
                         "and memberships (entries_per_client)", rs_fmt_pid(pb, o->pid));
            return;
        }
        memcpy(now.node, c->node, c->node_len);
        now.node[c->node_len] = 0;
        now.node_len = (uint8_t)c->node_len;
        now.uid = p->client->uid;
        lease = c->kv->lease;
    } else {
        if (!nk || rs_kvrec_decode((const uint8_t *)nk->value, nk->value_len, &node) != 0 ||
            node.pid.inc != o->pid.inc || !node.token) {
            rs_kv_refuse(c, o, ROSTER_ENOPROC, "pid %s: no live node of its incarnation in etcd",
                 rs_fmt_pid(pb, o->pid));
            return;
        }
        memcpy(now.node, node.node, node.node_len + 1u);
        now.node_len = node.node_len;
        now.uid = o->uid; /* the new holder's client's uid is known only on its node: the
                             caller's (the holder's client or its OS user) stands for it */
        now.pid = o->pid;
        now.token = 0;
        /* that node writes it itself, under its lease, or refuses (kvhand.c): so it knows
         * of every name under its lease, and its fence tells every holder */
        rs_kvhand_ask(c, o, kv, &now);
        return;
    }
    now.pid = o->pid;
    now.token = 0; /* a new grant: its own revision */
    if (again(c, o))
        write(c, o, kv->mod_revision, &now, lease, ROSTER_REASON_HANDOFF);
}

static void decide_update(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    char kb[80];
    rs_fmt_key(kb, sizeof kb, o->key.ptr, o->key.len);
    const etcd_kv *kv = first(r, 0);
    struct rs_kvrec rec;
    struct rs_scope *s;
    int member = (o->opts & RS_UPDATE_MEMBER) != 0;
    if (!kv) {
        rs_kv_refuse(c, o, member ? ROSTER_ENOTMEMBER : ROSTER_ENOTFOUND, "%s '%s' %s", member ? "group" : "name",
             kb, member ? "has no such member" : "is not registered");
        return;
    }
    if (rs_kvcopy_decode(c, kv, &rec, &s) != 0) {
        rs_kv_refuse(c, o, ROSTER_EINTERNAL, "'%s' has a value this node cannot read", kb);
        return;
    }
    uint64_t token = member ? 0 : rs_kvcopy_token(&rec, kv->mod_revision);
    o->holder = rec.pid;
    if (!may_act(c, o, &rec)) {
        rs_kv_refuse(c, o, ROSTER_ENOTOWNER, "'%s' is held by a pid of another OS user", kb);
        return;
    }
    int conflict = ((o->opts & RS_UPDATE_IF_TOKEN) && token != o->arg) ||
                   ((o->opts & RS_UPDATE_IF_META) &&
                    !rs_bytes_eq(rec.meta.ptr, rec.meta.len, o->prev.ptr, o->prev.len));
    if (conflict) {
        o->done = 1;
        struct rs_client *cl = rs_kv_client(c, o);
        if (!cl)
            return;
        struct rs_msg q = rs_kv_req(o), rep;
        memset(&rep, 0, sizeof rep);
        rep.status = ROSTER_ECONFLICT;
        rs_msg_update_reply_token_set(&rep, token);
        rs_msg_update_reply_holder_set(&rep, rec.pid);
        rs_msg_update_reply_meta_set(&rep, rec.meta);
        char text[200];
        int n = snprintf(text, sizeof text, "'%s': the %s is not the expected one", kb,
                         (o->opts & RS_UPDATE_IF_TOKEN) && token != o->arg ? "token" : "metadata");
        rs_msg_reply_error_text_set(&rep, rs_bytes_of(text, n > 0 ? (size_t)n : 0));
        rs_out_reply(c, cl, &q, &rep);
        return;
    }
    struct rs_kvrec now = rec;
    now.meta = o->meta;
    now.token = member ? 0 : token; /* the grant goes on: its token stays */
    o->token = token;
    if (again(c, o))
        write(c, o, kv->mod_revision, &now, kv->lease, 0);
}

static void decide_campaign(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    const etcd_kv *kv = first(r, 0);
    if (kv) {
        struct rs_kvrec rec;
        struct rs_scope *s;
        if (rs_kvcopy_decode(c, kv, &rec, &s) == 0 && rs_pid_eq(rec.pid, o->pid)) {
            o->token = rs_kvcopy_token(&rec, kv->mod_revision);
            rs_kv_wait(c, o, kv->mod_revision); /* already ours (a retried win) */
            return;
        }
        o->state = ST_WAIT; /* held by another: wait for the copy to change */
        return;
    }
    /* free: the oldest candidacy goes first */
    int64_t oldest = 0;
    if (r->n_ops > 1)
        for (size_t i = 0; i < r->ops[1].n_kvs; i++) {
            int64_t cr = r->ops[1].kvs[i].create_revision;
            if (!oldest || cr < oldest)
                oldest = cr;
        }
    if (oldest && oldest != o->cand_rev) {
        o->state = ST_WAIT;
        return;
    }
    if (!oldest) {
        rs_kv_refuse(c, o, ROSTER_EUNAVAIL, "the candidacy is gone from etcd (the node's lease?)");
        return;
    }
    struct rs_kvrec rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = RS_KVK_NAME;
    memcpy(rec.node, c->node, c->node_len);
    rec.node_len = (uint8_t)c->node_len;
    rec.pid = o->pid;
    rec.uid = o->uid;
    rec.key = o->key;
    rec.meta = o->meta;
    o->token = 0;
    write(c, o, 0, &rec, c->kv->lease, 0);
}

/* the candidacy key is put (or found: a retry) */
static void candidacy(struct rs_core *c, struct rs_kvop *o)
{
    struct rs_buf *b = &c->kv->scratch;
    rs_buf_reset(b);
    if (rs_kvk_cand(b, scope_of(o), o->key, o->pid) != 0)
        return;
    etcd_op *t = rs_kv_ops(c, 1), *then = rs_kv_ops(c, 1), *els = rs_kv_ops(c, 1);
    etcd_compare *cmp = rs_kv_cmps(c, 1);
    if (!t || !then || !els || !cmp)
        return;
    cmp->key = rs_kv_arena_dup(c, b->data, b->len);
    cmp->key_len = b->len;
    cmp->target = ETCD_CMP_CREATE;
    cmp->result = ETCD_CMP_EQUAL;
    then->type = ETCD_OP_PUT;
    rs_kv_set_key(c, then, b);
    then->value = rs_kv_arena_dup(c, o->meta.ptr, o->meta.len);
    then->value_len = o->meta.len;
    then->lease = c->kv->lease;
    range_op(c, els, b, 0);
    t->type = ETCD_OP_TXN;
    t->cmp = cmp;
    t->n_cmp = 1;
    t->success = then;
    t->n_success = 1;
    t->failure = els;
    t->n_failure = 1;
    t->timeout_ms = (int)c->kv->timeout_ms;
    o->state = 3; /* putting the candidacy */
    o->writing = 1;
    send(c, o, t);
}

void rs_kvelect_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r)
{
    if (o->kind == KV_CAMPAIGN && !rs_pids_find(c, o->pid)) {
        /* the candidate died meanwhile: a win is given back */
        if (o->state == ST_WRITE && r->status == ETCD_OK) {
            o->wait_rev = r->revision;
            rs_kvwrite_late(c, o);
            o->wait_rev = 0;
        }
        o->done = 1;
        return;
    }
    if (o->done)
        return;
    if (o->kind == KV_HANDOFF && (o->state == KV_ST_ASK || o->state == KV_ST_CANCEL)) {
        rs_kvhand_on_result(c, o, r);
        return;
    }
    if (o->kind == KV_HANDOFF && o->cand_rev && r->status != ETCD_OK &&
        r->status != ETCD_FAILED) {
        /* a read failed while our request may still be carried out: the deadline's
         * withdrawal settles it */
        o->state = KV_ST_ASKED;
        return;
    }
    if (r->status != ETCD_OK && r->status != ETCD_FAILED) {
        rs_kv_fail(c, o, r);
        o->done = 1;
        return;
    }
    if (o->state == 3) {
        const etcd_kv *kv = first(r, 0);
        o->cand_rev = r->status == ETCD_OK ? r->revision : kv ? kv->create_revision : 0;
        read(c, o);
        return;
    }
    if (o->state == ST_WRITE) {
        if (r->status == ETCD_OK) {
            if (!o->token)
                o->token = (uint64_t)r->revision;
            rs_kv_wait(c, o, r->revision);
            return;
        }
        if (o->kind == KV_CAMPAIGN) {
            read(c, o); /* lost the race: look again */
            return;
        }
        /* the failure branch read the key again: decide again (FAILED has no ranges
         * here: read) */
        if (again(c, o))
            read(c, o);
        return;
    }
    switch (o->kind) {
    case KV_HANDOFF:
        decide_handoff(c, o, r);
        break;
    case KV_UPDATE:
        decide_update(c, o, r);
        break;
    case KV_CAMPAIGN:
        decide_campaign(c, o, r);
        break;
    }
}

/* campaigns lists the campaign ops (free *v); the caller may change the ops map after */
static size_t campaigns(struct rs_core *c, struct rs_kvop ***v)
{
    struct rs_kv *k = c->kv;
    *v = rs_core_alloc(c, (k->ops.n + 1) * sizeof **v);
    size_t n = 0;
    for (size_t i = 0; *v && i < k->ops.cap; i++) {
        struct rs_kvop *o = k->ops.slots[i].item;
        if (o && o->kind == KV_CAMPAIGN && !o->done)
            (*v)[n++] = o;
    }
    return n;
}

void rs_kvelect_poke(struct rs_core *c)
{
    struct rs_kv *k = c->kv;
    if (!k)
        return;
    struct rs_kvop **v;
    size_t n = campaigns(c, &v);
    for (size_t i = 0; i < n; i++) {
        struct rs_kvop *o = v[i];
        struct rs_scope *s = rs_kv_scope(c, o);
        struct rs_buf *b = &k->scratch;
        rs_buf_reset(b);
        if (o->state != ST_WAIT || !s || rs_kvk_name(b, scope_of(o), o->key) != 0)
            continue;
        if (!rs_kvcopy_find(c, s, b->data, b->len))
            read(c, o); /* free in the copy: ask etcd who goes first */
    }
    rs_free(v);
}

/* end ends campaign o (failed with status); in flight, its result frees it */
static void end(struct rs_core *c, struct rs_kvop *o, int status, const char *why)
{
    rs_kv_refuse(c, o, status, "%s", why);
    if (o->state == ST_WAIT)
        rs_kv_op_free(c, o);
}

void rs_kvelect_pid_down(struct rs_core *c, struct rs_pid pid)
{
    struct rs_kv *k = c->kv;
    struct rs_kvop **v;
    size_t n = campaigns(c, &v);
    for (size_t i = 0; i < n; i++) {
        struct rs_kvop *o = v[i];
        if (!rs_pid_eq(o->pid, pid))
            continue;
        struct rs_kvop *d = rs_kv_op_new(c, KV_CLEANUP, NULL, NULL);
        etcd_op *op = rs_kv_ops(c, 1);
        struct rs_buf *b = &k->scratch;
        rs_buf_reset(b);
        if (d && op && rs_kvk_cand(b, scope_of(o), o->key, pid) == 0) {
            op->type = ETCD_OP_DELETE;
            rs_kv_set_key(c, op, b);
            op->timeout_ms = (int)k->timeout_ms;
            rs_kv_submit(c, d, op);
        }
        end(c, o, ROSTER_ENOPROC, "the candidate pid closed");
    }
    rs_free(v);
}

void rs_kvelect_fence(struct rs_core *c)
{
    struct rs_kvop **v;
    size_t n = campaigns(c, &v);
    for (size_t i = 0; i < n; i++)
        end(c, v[i], ROSTER_EUNAVAIL,
            "the node lost its etcd lease: the candidacy went with it; campaign again");
    rs_free(v);
}

/* --- requests ----------------------------------------------------------------------------- */

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
    o->uid = cl->uid;
    return o;
}

void rs_strong_on_handoff(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (!rs_kv_ready(c, cl, req))
        return;
    struct rs_kvop *o =
        start(c, cl, req, KV_HANDOFF, rs_msg_handoff_name(req), rs_bytes_of(NULL, 0));
    if (!o)
        return;
    o->pid = rs_msg_handoff_to(req);
    o->arg = rs_msg_handoff_if_token(req);
    read(c, o);
}

void rs_strong_on_update(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    uint32_t flags = rs_msg_update_flags(req);
    if ((flags & RS_UPDATE_IF_TOKEN) && rs_msg_update_if_token(req) == 0) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "if_token 0 is no token (tokens start at 1)");
        return;
    }
    if (rs_msg_update_meta(req).len > c->lim.meta_max) {
        rs_out_error(c, cl, req, ROSTER_EMETATOOBIG, "metadata of %u bytes is above meta_max %u",
                     (unsigned)rs_msg_update_meta(req).len, c->lim.meta_max);
        return;
    }
    if (!rs_kv_ready(c, cl, req))
        return;
    struct rs_kvop *o = start(c, cl, req, KV_UPDATE, rs_msg_update_key(req),
                              rs_msg_update_meta(req));
    if (!o)
        return;
    o->opts = flags;
    o->arg = rs_msg_update_if_token(req);
    o->pid2 = rs_msg_update_member(req);
    if (rs_kv_op_copy(c, &o->prev, rs_msg_update_if_meta(req)) != 0)
        return;
    read(c, o);
}

void rs_strong_on_campaign(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (!rs_life_owned(c, cl, req) || !rs_kv_ready(c, cl, req))
        return;
    struct rs_scope *s = rs_scopes_find(c, req->scope);
    if (s && rs_strong_full(c, cl, req, s))
        return;
    struct rs_kvop *o = start(c, cl, req, KV_CAMPAIGN, rs_msg_campaign_name(req),
                              rs_msg_campaign_meta(req));
    if (!o)
        return;
    o->pid = rs_msg_campaign_candidate(req);
    candidacy(c, o);
}

void rs_strong_on_cas(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    /* cas.c found the scope and saw it strong: only the type is left to decide */
    switch (req->type) {
    case RS_MSG_CHECK_TOKEN:
        rs_strong_on_check_token(c, cl, req);
        break;
    case RS_MSG_HANDOFF:
        rs_strong_on_handoff(c, cl, req);
        break;
    case RS_MSG_UPDATE:
        rs_strong_on_update(c, cl, req);
        break;
    case RS_MSG_CAMPAIGN:
        rs_strong_on_campaign(c, cl, req);
        break;
    }
}
