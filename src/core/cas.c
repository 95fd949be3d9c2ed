/* cas.c: fencing tokens and the atomic changes of one name, for eventual scopes where they
 * can be exact (docs/CLUSTER.md, "Tokens, handoff and compare-and-set"):
 *
 *   CHECK_TOKEN  is this token the name's current one (from this node's table: exact on
 *                the owner's node, eventually consistent elsewhere);
 *   HANDOFF      re-point a name to another live pid of the holder's node, as one change
 *                (change.c: RS_CH_NAME_HANDOFF), so no subscriber and no peer sees it free;
 *   UPDATE       compare-and-set of a name's or membership's metadata on the owner's node;
 *   CAMPAIGN     needs a strong scope.
 *
 * A name's token is its claim's HLC stamp (rs_name.hlc): it strictly increases across the
 * grants of a node (a new registration or a handoff takes a fresh stamp; a metadata update
 * keeps it), and peers already receive it with the entry, so every node shows the same.
 * The holder's client may act, and so may any client of the same OS user (the uid the
 * shell read from the socket at CLIENT_OPEN): a script can move a name a daemon holds.
 * Strong scopes are another module's: every request for one is handed over at one place. */
#include <stdio.h>
#include <string.h>

#include "core/cas.h"
#include "core/change.h"
#include "core/hlc.h"
#include "core/members.h"
#include "core/names.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/registry.h"
#include "core/scope.h"
#include "core/scopes.h"
#include "core/strong.h"
#include "core/util.h"

/* strong answers req if its scope is strong (1), else leaves it to us (0). */
static int strong(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    const struct rs_scope *s = rs_scopes_find(c, req->scope);
    if (!s || s->mode != ROSTER_SCOPE_STRONG)
        return 0;
    rs_strong_on_cas(c, cl, req); /* etcd's transactions: kvelect.c, kvread.c */
    return 1;
}

/* may_act: the caller is the holder's client or a client of the same OS user. */
static int may_act(const struct rs_client *cl, const struct rs_client *holder)
{
    return cl == holder || cl->uid == holder->uid;
}

static void not_owner(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                      const char *what, struct rs_bytes key, struct rs_pid holder)
{
    char kb[80], pb[ROSTER_PID_STRLEN];
    rs_out_error(c, cl, req, ROSTER_ENOTOWNER,
                 "%s '%s' is held by pid %s of a client of another user",
                 what, rs_fmt_key(kb, sizeof kb, key.ptr, key.len), rs_fmt_pid(pb, holder));
}

/* node_of names the node of incarnation inc for an error detail. */
static const char *node_of(const struct rs_core *c, uint64_t inc, char *buf, size_t cap)
{
    struct rs_bytes b = rs_nodes_name_of(c, inc);
    if (inc != c->inc && !rs_nodes_find(c, inc))
        b = rs_bytes_str("(a node this node does not know)");
    snprintf(buf, cap, "%.*s", (int)b.len, (const char *)b.ptr);
    return buf;
}

/* conflict replies ECONFLICT with the current holder, token and metadata. */
static void conflict(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                     struct rs_pid holder, uint64_t token, struct rs_bytes meta, const char *why)
{
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    r.status = ROSTER_ECONFLICT;
    r.pid = holder; /* HANDOFF and UPDATE replies: the holder */
    if (req->type == RS_MSG_UPDATE) {
        rs_msg_update_reply_token_set(&r, token);
        rs_msg_update_reply_meta_set(&r, meta);
    } else {
        rs_msg_handoff_reply_token_set(&r, token);
    }
    rs_msg_reply_error_text_set(&r, rs_bytes_str(why));
    rs_out_reply(c, cl, req, &r);
}

void rs_cas_on_check_token(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (strong(c, cl, req) || rs_check_entry(c, cl, req, "name") != 0)
        return;
    struct rs_scope *s = rs_scope_of(c, cl, req);
    if (!s)
        return;
    struct rs_bytes name = rs_msg_check_token_name(req);
    const struct rs_name *n = rs_names_pick(c, s, name.ptr, name.len);
    uint64_t now = n ? n->hlc : 0, token = rs_msg_check_token_token(req);
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_check_token_reply_current_set(&r, now != 0 && now == token);
    rs_msg_check_token_reply_token_set(&r, now);
    rs_out_reply(c, cl, req, &r);
}

void rs_cas_on_handoff(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (strong(c, cl, req) || rs_check_entry(c, cl, req, "name") != 0)
        return;
    struct rs_scope *s = rs_scope_joined_of(c, cl, req);
    if (!s)
        return;
    char kb[80], pb[ROSTER_PID_STRLEN], qb[ROSTER_PID_STRLEN], nb[RS_NODE_NAME_MAX + 48];
    struct rs_bytes name = rs_msg_handoff_name(req);
    struct rs_pid to = rs_msg_handoff_to(req);
    rs_fmt_key(kb, sizeof kb, name.ptr, name.len);
    struct rs_name *n = rs_names_pick(c, s, name.ptr, name.len);
    if (!n) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "name '%s' is not registered", kb);
        return;
    }
    struct rs_pid holder = rs_pids_of(c, n->proc);
    if (!n->proc->client || to.inc != c->inc) {
        int theirs = !n->proc->client;
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "eventual scopes hand off only between pids of one node; use a strong "
                     "scope (%s %s is on node '%s', this is '%s')",
                     theirs ? "name's holder" : "new pid", rs_fmt_pid(pb, theirs ? holder : to),
                     node_of(c, theirs ? holder.inc : to.inc, nb, sizeof nb), c->node);
        return;
    }
    if (!may_act(cl, n->proc->client)) {
        not_owner(c, cl, req, "name", name, holder);
        return;
    }
    struct rs_proc *tp = rs_pids_find(c, to);
    if (!tp) {
        rs_out_error(c, cl, req, ROSTER_ENOPROC, "pid %s is not alive on this node",
                     rs_fmt_pid(qb, to));
        return;
    }
    uint64_t if_token = rs_msg_handoff_if_token(req);
    if (if_token && if_token != n->hlc) {
        char why[160];
        snprintf(why, sizeof why, "name '%s' has token %llu, not %llu", kb,
                 (unsigned long long)n->hlc, (unsigned long long)if_token);
        conflict(c, cl, req, holder, n->hlc, rs_bytes_of(NULL, 0), why);
        return;
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_handoff_reply_holder_set(&r, to);
    if (tp == n->proc) { /* already there (a retry): nothing changes, not even the token */
        rs_msg_handoff_reply_token_set(&r, n->hlc);
        rs_out_reply(c, cl, req, &r);
        return;
    }
    if (tp->client != n->proc->client && tp->client->n_entries >= c->lim.entries_per_client) {
        rs_out_error(c, cl, req, ROSTER_ELIMIT,
                     "the client of pid %s holds %llu names and memberships "
                     "(limit entries_per_client)",
                     rs_fmt_pid(qb, to), (unsigned long long)tp->client->n_entries);
        return;
    }
    uint64_t token = rs_hlc_stamp(c);
    rs_msg_handoff_reply_token_set(&r, token);
    rs_out_reply(c, cl, req, &r);
    struct rs_change ch = {.kind = RS_CH_NAME_HANDOFF, .source = RS_SRC_LOCAL,
                           .reason = ROSTER_REASON_HANDOFF, .scope = s, .proc = tp, .name = n,
                           .hlc = token};
    rs_change_apply(c, &ch);
}

static void owners_node_only(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                             uint64_t inc)
{
    char nb[RS_NODE_NAME_MAX + 48];
    rs_out_error(c, cl, req, ROSTER_EINVAL,
                 "compare-and-set in an eventual scope runs on the owner's node: %s",
                 node_of(c, inc, nb, sizeof nb));
}

/* UPDATE of a membership: no token (IF_TOKEN is refused), compare the metadata. */
static void update_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                          struct rs_scope *s, uint32_t flags)
{
    char kb[80], pb[ROSTER_PID_STRLEN];
    struct rs_bytes group = rs_msg_update_key(req), meta = rs_msg_update_meta(req);
    struct rs_pid pid = rs_msg_update_member(req);
    rs_fmt_key(kb, sizeof kb, group.ptr, group.len);
    if (flags & RS_UPDATE_IF_TOKEN) {
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "a membership has no fencing token: compare its metadata (if_meta)");
        return;
    }
    if (s->opts & ROSTER_SCOPE_DUPLICATE_MEMBERS) {
        /* which of the pid's entries would it be? join and leave instead */
        rs_out_error(c, cl, req, ROSTER_EINVAL,
                     "a scope with duplicate members has no update of a membership");
        return;
    }
    if (pid.inc != c->inc) {
        owners_node_only(c, cl, req, pid.inc);
        return;
    }
    struct rs_proc *p = rs_pids_find(c, pid);
    if (!p) {
        rs_out_error(c, cl, req, ROSTER_ENOPROC, "pid %s is not alive on this node",
                     rs_fmt_pid(pb, pid));
        return;
    }
    struct rs_group *g = rs_members_group(c, s, group.ptr, group.len);
    struct rs_member *m = g ? rs_members_find(c, g, p) : NULL;
    if (!m) {
        rs_out_error(c, cl, req, ROSTER_ENOTMEMBER, "pid %s is not a member of group '%s'",
                     rs_fmt_pid(pb, pid), kb);
        return;
    }
    if (!may_act(cl, p->client)) {
        not_owner(c, cl, req, "membership of group", group, pid);
        return;
    }
    struct rs_bytes now = rs_bytes_of(m->meta, m->meta_len), want = rs_msg_update_if_meta(req);
    if ((flags & RS_UPDATE_IF_META) && !rs_bytes_eq(now.ptr, now.len, want.ptr, want.len)) {
        char why[160];
        snprintf(why, sizeof why, "the membership of pid %s in group '%s' has other metadata",
                 rs_fmt_pid(pb, pid), kb);
        conflict(c, cl, req, pid, 0, now, why);
        return;
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_update_reply_holder_set(&r, pid);
    rs_out_reply(c, cl, req, &r);
    if (rs_bytes_eq(now.ptr, now.len, meta.ptr, meta.len))
        return; /* the same bytes: nothing changes, no event */
    struct rs_change ch = {.kind = RS_CH_MEMBER_PUT, .source = RS_SRC_LOCAL, .scope = s,
                           .proc = p, .key = group, .meta = meta};
    rs_change_apply(c, &ch);
}

static void update_name(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                        struct rs_scope *s, uint32_t flags)
{
    char kb[80];
    struct rs_bytes name = rs_msg_update_key(req), meta = rs_msg_update_meta(req);
    rs_fmt_key(kb, sizeof kb, name.ptr, name.len);
    struct rs_name *n = rs_names_pick(c, s, name.ptr, name.len);
    if (!n) {
        rs_out_error(c, cl, req, ROSTER_ENOTFOUND, "name '%s' is not registered", kb);
        return;
    }
    struct rs_pid holder = rs_pids_of(c, n->proc);
    if (!n->proc->client) {
        owners_node_only(c, cl, req, holder.inc);
        return;
    }
    if (!may_act(cl, n->proc->client)) {
        not_owner(c, cl, req, "name", name, holder);
        return;
    }
    struct rs_bytes now = rs_bytes_of(n->meta, n->meta_len), want = rs_msg_update_if_meta(req);
    uint64_t if_token = rs_msg_update_if_token(req);
    const char *why = NULL;
    if ((flags & RS_UPDATE_IF_TOKEN) && if_token != n->hlc)
        why = "token";
    else if ((flags & RS_UPDATE_IF_META) && !rs_bytes_eq(now.ptr, now.len, want.ptr, want.len))
        why = "metadata";
    if (why) {
        char text[160];
        snprintf(text, sizeof text, "name '%s' has another %s than expected (token now %llu)",
                 kb, why, (unsigned long long)n->hlc);
        conflict(c, cl, req, holder, n->hlc, now, text);
        return;
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_update_reply_holder_set(&r, holder);
    rs_msg_update_reply_token_set(&r, n->hlc); /* an update keeps the grant's token */
    if (rs_bytes_eq(now.ptr, now.len, meta.ptr, meta.len)) {
        rs_out_reply(c, cl, req, &r); /* the same bytes: nothing changes, no event */
        return;
    }
    /* The table changes first (it may run out of memory), the reply goes before the event. */
    struct rs_change ch = {.kind = RS_CH_NAME_UPDATE, .source = RS_SRC_LOCAL, .applied = 1,
                           .scope = s, .proc = n->proc, .key = name, .meta = meta, .name = n};
    if (rs_names_set_meta(c, n, meta, &ch.prev) != 0)
        return;
    rs_out_reply(c, cl, req, &r);
    rs_change_apply(c, &ch);
    rs_free((void *)ch.prev.ptr);
}

void rs_cas_on_update(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (strong(c, cl, req))
        return;
    uint32_t flags = rs_msg_update_flags(req);
    if (rs_check_entry(c, cl, req, flags & RS_UPDATE_MEMBER ? "group name" : "name") != 0)
        return;
    if (flags & ~(RS_UPDATE_IF_TOKEN | RS_UPDATE_IF_META | RS_UPDATE_MEMBER)) {
        rs_out_error(c, cl, req, ROSTER_EINVAL, "unknown UPDATE flags 0x%x", (unsigned)flags);
        return;
    }
    if ((flags & RS_UPDATE_IF_TOKEN) && rs_msg_update_if_token(req) == 0) {
        /* as in a strong scope: no grant has token 0, so this compare could never hold */
        rs_out_error(c, cl, req, ROSTER_EINVAL, "if_token 0 is no token (tokens start at 1)");
        return;
    }
    struct rs_scope *s = rs_scope_joined_of(c, cl, req);
    if (!s)
        return;
    if (flags & RS_UPDATE_MEMBER)
        update_member(c, cl, req, s, flags);
    else
        update_name(c, cl, req, s, flags);
}

void rs_cas_on_campaign(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    if (strong(c, cl, req) || !rs_scope_of(c, cl, req))
        return;
    rs_out_error(c, cl, req, ROSTER_EINVAL, "leader election needs a strong scope");
}
