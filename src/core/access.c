/* access.c: the one admission point of client requests (access.h). Each request type maps
 * to one operation of the rule file (base/acl.h) and to what it names (a scope, one key, a
 * range of keys, or nothing); the rules decide before the handler runs. A type that adds
 * new state (an entry, a message, a subscription, a monitor, a pid, a scope) is also refused
 * while the node is above its memory ceiling (--max-memory), so what exists keeps working
 * and only growth stops. Refusals are counted and logged at most LOG_BURST lines a second. */
#include "core/access.h"

#include <stdio.h>
#include <string.h>

#include "base/acl.h"
#include "base/alloc.h"
#include "core/members.h"
#include "core/names.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/scopes.h"
#include "core/subs.h"
#include "wire/query.h"

#define LOG_BURST 10 /* refusal log lines per second; the rest are counted in one line */

enum {
    K_NONE = RS_ACL_KEYS_NONE,
    K_POINT = RS_ACL_KEYS_POINT,
    K_RANGE = RS_ACL_KEYS_RANGE,
    K_SUB = 10,    /* SUBSCRIBE: a range or a point, from its flags */
    K_TARGET = 11, /* SEND / CALL: a name (point) or a pid (checked only for another uid) */
    K_SCOPES = 12, /* SCOPES: every scope, whole */
    K_QUERY = 13,  /* QUERY, QUERY_COUNT: a range or a point, from RS_QF_PREFIX */
    K_WHOLE = 14,  /* the scope as a whole (its metadata, a scope lease) */
};

/* One line per checked request type (a new client request type adds its line here: an
 * operation of its own in base/acl.h, or RS_ACL_ADMIN for node-wide ones); types not
 * listed (PING, PID_CLOSE, UNREGISTER, LEAVE, UNSUBSCRIBE, DEMONITOR, REPLY) act only on
 * what the client already holds.
 * grows: the request adds state, refused above the memory ceiling. */
static const struct {
    uint8_t type;
    uint8_t op;
    uint8_t keys;
    uint8_t grows;
} checks[] = {
    {RS_MSG_HELLO, RS_ACL_CONNECT, K_NONE, 0},
    {RS_MSG_PID_NEW, RS_ACL_CONNECT, K_NONE, 1},
    {RS_MSG_SCOPE_CREATE, RS_ACL_SCOPE_CREATE, K_RANGE, 1},
    {RS_MSG_SCOPE_JOIN, RS_ACL_SCOPE_CREATE, K_RANGE, 1},
    {RS_MSG_SCOPE_LEAVE, RS_ACL_SCOPE_CREATE, K_RANGE, 0},
    {RS_MSG_SCOPES, RS_ACL_READ, K_SCOPES, 0},
    {RS_MSG_REGISTER, RS_ACL_REGISTER, K_POINT, 1},
    {RS_MSG_HANDOFF, RS_ACL_REGISTER, K_POINT, 0},
    {RS_MSG_UPDATE, RS_ACL_REGISTER, K_POINT, 0}, /* a membership's: JOIN (below) */
    {RS_MSG_CAMPAIGN, RS_ACL_REGISTER, K_POINT, 1},
    {RS_MSG_JOIN, RS_ACL_JOIN, K_POINT, 1},
    {RS_MSG_LOOKUP, RS_ACL_READ, K_POINT, 0},
    {RS_MSG_CHECK_TOKEN, RS_ACL_READ, K_POINT, 0},
    {RS_MSG_MEMBERS, RS_ACL_READ, K_POINT, 0},
    {RS_MSG_IS_MEMBER, RS_ACL_READ, K_POINT, 0},
    {RS_MSG_NAMES, RS_ACL_READ, K_RANGE, 0},
    {RS_MSG_GROUPS, RS_ACL_READ, K_RANGE, 0},
    {RS_MSG_COUNT, RS_ACL_READ, K_RANGE, 0}, /* counts the whole scope: key ignored */
    {RS_MSG_SUBSCRIBE, RS_ACL_SUBSCRIBE, K_SUB, 1},
    {RS_MSG_SEND, RS_ACL_SEND, K_TARGET, 1},
    {RS_MSG_PUBLISH, RS_ACL_SEND, K_POINT, 1},
    {RS_MSG_CALL, RS_ACL_CALL, K_TARGET, 1},
    {RS_MSG_MULTI_CALL, RS_ACL_CALL, K_POINT, 1},
    {RS_MSG_MONITOR, RS_ACL_MONITOR, K_NONE, 1},
    {RS_MSG_LOG_LEVEL, RS_ACL_LOG_LEVEL, K_NONE, 0},
    {RS_MSG_STATUS, RS_ACL_STATUS, K_NONE, 0},
    {RS_MSG_NODES, RS_ACL_STATUS, K_NONE, 0},
    /* queries on metadata read names and members like a listing (UNMATCH removes only the
     * caller's own entries: unchecked, like UNREGISTER) */
    {RS_MSG_QUERY, RS_ACL_READ, K_QUERY, 0},
    {RS_MSG_QUERY_COUNT, RS_ACL_READ, K_QUERY, 0},
    /* a leased registration or membership is one (RENEW and PID_EXIT: the caller's own) */
    {RS_MSG_LEASE, RS_ACL_REGISTER, K_POINT, 1}, /* a membership's: JOIN (check_rules) */
    {RS_MSG_SCOPE_META_SET, RS_ACL_SCOPE_CREATE, K_WHOLE, 1},
    {RS_MSG_SCOPE_META_DELETE, RS_ACL_SCOPE_CREATE, K_WHOLE, 0},
    {RS_MSG_SCOPE_META_GET, RS_ACL_READ, K_WHOLE, 0},
    {RS_MSG_SCOPE_LEASE, RS_ACL_SCOPE_CREATE, K_WHOLE, 1},
    {RS_MSG_CLUSTER_JOIN, RS_ACL_ADMIN, K_NONE, 0},
    {RS_MSG_CLUSTER_LEAVE, RS_ACL_ADMIN, K_NONE, 0},
    {RS_MSG_FORGET, RS_ACL_ADMIN, K_NONE, 0},
    {RS_MSG_OWNER, RS_ACL_STATUS, K_NONE, 0},
};
#define N_CHECKS (sizeof checks / sizeof checks[0])

/* Requests that only act on what the client already holds: never checked (EVENT and
 * MESSAGE only travel to clients: the dispatch closes a client that sends one). */
static const uint8_t unchecked[] = {
    RS_MSG_PING,  RS_MSG_PID_CLOSE, RS_MSG_UNREGISTER, RS_MSG_LEAVE,    RS_MSG_UNSUBSCRIBE,
    RS_MSG_DEMONITOR, RS_MSG_REPLY, RS_MSG_EVENT,      RS_MSG_MESSAGE,
    /* the caller's own entries and pids: removal by query, renewal, exit with a reason */
    RS_MSG_UNMATCH, RS_MSG_RENEW,   RS_MSG_PID_EXIT,
    /* direct channels: the rules are checked when the node makes one (rs_access_channel);
     * markers, closes and relayed replies act on channels the client already has */
    RS_MSG_CHANNEL_OPEN, RS_MSG_CHANNEL_MARK, RS_MSG_CHANNEL_CLOSE, RS_MSG_CHANNEL_REPLY};

/* ADMIN_CHECK: a client request type in neither list (one added later without its line)
 * is judged as op admin, node-wide: a "deny *" policy refuses it until a rule allows it. */
#define ADMIN_CHECK ((int)N_CHECKS)

static int find_check(uint8_t type)
{
    for (size_t i = 0; i < N_CHECKS; i++)
        if (checks[i].type == type)
            return (int)i;
    for (size_t i = 0; i < sizeof unchecked; i++)
        if (unchecked[i] == type)
            return -1;
    return type < RS_MSG_PEER_MIN ? ADMIN_CHECK : -1; /* peer types: the dispatch closes */
}

static void client_req(const struct rs_client *cl, struct rs_acl_req *q, unsigned op)
{
    memset(q, 0, sizeof *q);
    q->uid = cl->uid;
    q->gid = cl->gid;
    q->groups = cl->groups;
    q->n_groups = cl->n_groups;
    q->op = op;
}

/* The empty scope is "default" (scopes.c): rules name it by name. */
static void set_scope(struct rs_acl_req *q, struct rs_bytes s)
{
    static const uint8_t dflt[] = "default";
    if (s.len == 0) {
        q->scope = dflt;
        q->scope_len = sizeof dflt - 1;
    } else {
        q->scope = s.ptr;
        q->scope_len = s.len;
    }
}

/* target_needs_check: a message to a live local pid of the sender's own uid is not
 * checked (a user may always talk to its own processes); any other target is. */
static int target_needs_check(const struct rs_core *c, const struct rs_client *cl, struct rs_pid to)
{
    const struct rs_proc *p = rs_pids_find(c, to);
    return !(p && p->client && p->client->uid == cl->uid);
}

static void log_refusal(struct rs_core *c, const struct rs_client *cl, const char *what,
                        const char *detail)
{
    struct rs_access *a = &c->access;
    if (c->now_ms >= a->log_window_ms + 1000) {
        if (a->suppressed)
            rs_out_log(c, RS_LOG_WARN, "%llu more refusal(s) not logged in the last second",
                       (unsigned long long)a->suppressed);
        a->log_window_ms = c->now_ms;
        a->logged = 0;
        a->suppressed = 0;
    }
    if (a->logged >= LOG_BURST) {
        a->suppressed++;
        return;
    }
    a->logged++;
    rs_out_log(c, RS_LOG_WARN, "conn %llu (os pid %d uid %u gid %u): %s refused: %s",
               (unsigned long long)cl->conn, (int)cl->os_pid, (unsigned)cl->uid, (unsigned)cl->gid,
               what, detail);
}

/* unanswered: a SEND without CONFIRM and a PUBLISH with NOWAIT get no reply (the sender does
 * not wait): refused, they are only counted as dropped, like any such message. */
static int unanswered(const struct rs_msg *m)
{
    return (m->type == RS_MSG_SEND && !(rs_msg_send_flags(m) & RS_SEND_CONFIRM)) ||
           (m->type == RS_MSG_PUBLISH && (rs_msg_publish_flags(m) & RS_PUBLISH_NOWAIT));
}

/* refuse answers m with status and detail (a refused HELLO also closes: no session). */
static void refuse(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m, int status,
                   const char *detail)
{
    log_refusal(c, cl, rs_wire_type_name(m->type), detail);
    if (unanswered(m)) {
        c->route.dropped++;
        return;
    }
    if (m->type != RS_MSG_HELLO) {
        rs_out_error(c, cl, m, status, "%s", detail);
        return;
    }
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    r.status = status;
    rs_msg_hello_reply_incarnation_set(&r, c->inc);
    rs_msg_hello_reply_node_set(&r, rs_bytes_of(c->node, c->node_len));
    rs_msg_hello_reply_prev_set(&r, rs_bytes_str(detail));
    rs_out_reply(c, cl, m, &r);
    rs_out_close(c, cl, "handshake refused: %s", detail);
}

/* sub_keys: what a subscription with flags and pattern shows (all: the empty range). */
static int sub_keys(uint32_t f, struct rs_bytes *key)
{
    if (f & ROSTER_SUB_ALL)
        key->len = 0;
    return key->len == 0 || (f & ROSTER_SUB_PREFIX) ? K_RANGE : K_POINT;
}

static int check_rules(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m, int k)
{
    struct rs_acl_req q;
    unsigned op = k == ADMIN_CHECK ? RS_ACL_ADMIN : checks[k].op;
    if (m->type == RS_MSG_UPDATE && (rs_msg_update_member(m).inc || rs_msg_update_member(m).serial))
        op = RS_ACL_JOIN;
    if (m->type == RS_MSG_LEASE && rs_msg_lease_kind(m) == RS_LEASE_MEMBER)
        op = RS_ACL_JOIN;
    client_req(cl, &q, op);
    int keys = k == ADMIN_CHECK ? K_NONE : checks[k].keys;
    struct rs_bytes key = m->key;
    switch (keys) {
    case K_SUB:
        keys = sub_keys(rs_msg_subscribe_flags(m), &key);
        break;
    case K_TARGET:
        if (key.len == 0) {
            if (!target_needs_check(c, cl, m->pid))
                return 1;
            keys = K_NONE;
        } else {
            keys = K_POINT;
        }
        break;
    case K_SCOPES:
        keys = K_RANGE;
        q.any_scope = 1;
        key.len = 0;
        break;
    case K_QUERY:
        keys = key.len == 0 || (m->opts & RS_QF_PREFIX) ? K_RANGE : K_POINT;
        break;
    case K_WHOLE:
        keys = K_RANGE;
        key.len = 0;
        break;
    default:
        break;
    }
    if (m->type == RS_MSG_COUNT)
        key.len = 0;
    q.keys = keys;
    if (keys != K_NONE) {
        set_scope(&q, m->scope);
        q.key = key.ptr;
        q.key_len = key.len;
    }
    const struct rs_acl_rule *r = rs_acl_decide(c->access.acl, &q);
    if (!r || r->allow)
        return 1;
    c->access.acl_refused++;
    char detail[256], kb[80], sb[80];
    if (keys == K_NONE)
        snprintf(detail, sizeof detail, "op %s denied by access rule line %u", rs_acl_op_name(op),
                 r->line);
    else
        snprintf(detail, sizeof detail, "op %s on scope '%s' %s '%s' denied by access rule line %u",
                 rs_acl_op_name(op),
                 q.any_scope ? "*" : rs_fmt_key(sb, sizeof sb, q.scope, q.scope_len),
                 keys == K_RANGE ? "prefix" : "key", rs_fmt_key(kb, sizeof kb, key.ptr, key.len),
                 r->line);
    refuse(c, cl, m, ROSTER_EACCES, detail);
    return 0;
}

/* existing: a REGISTER or JOIN that only gives new metadata to an entry the pid already
 * holds is an existing entry at work, not growth: it is let through above the ceiling. */
static int existing(const struct rs_core *c, const struct rs_msg *m)
{
    if (m->type != RS_MSG_REGISTER && m->type != RS_MSG_JOIN)
        return 0;
    const struct rs_scope *s = rs_scopes_find(c, m->scope);
    const struct rs_proc *p = rs_pids_find(c, m->pid);
    if (!s || !p)
        return 0;
    if (m->type == RS_MSG_REGISTER)
        return rs_names_claim_of(c, s, p, m->key) != NULL;
    const struct rs_group *g = rs_members_group(c, s, m->key.ptr, m->key.len);
    return g && rs_members_find(c, g, p) != NULL;
}

int rs_access_admit(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    if (!cl->hello && m->type != RS_MSG_HELLO)
        return 1; /* the dispatch closes it: the protocol wants HELLO first */
    int k = find_check(m->type);
    if (k < 0)
        return 1;
    if (c->access.acl && !check_rules(c, cl, m, k))
        return 0;
    if (k != ADMIN_CHECK && checks[k].grows && c->access.mem_max &&
        rs_alloc_live() > c->access.mem_max && !existing(c, m)) {
        char detail[160];
        c->access.mem_refused++;
        snprintf(detail, sizeof detail,
                 "node above its memory ceiling (%llu bytes in use, --max-memory %llu)",
                 (unsigned long long)rs_alloc_live(), (unsigned long long)c->access.mem_max);
        refuse(c, cl, m, ROSTER_ENOMEM, detail);
        return 0;
    }
    return 1;
}

int rs_access_shm(struct rs_core *c, const struct rs_client *cl)
{
    if (!c->access.acl)
        return 1;
    struct rs_acl_req q;
    client_req(cl, &q, RS_ACL_READ);
    q.keys = RS_ACL_KEYS_RANGE;
    q.any_scope = 1;
    const struct rs_acl_rule *r = rs_acl_decide(c->access.acl, &q);
    return !r || r->allow;
}

void rs_access_recheck(struct rs_core *c)
{
    if (!c->access.recheck)
        return;
    c->access.recheck = 0;
    if (!c->access.acl)
        return;
    for (size_t i = 0; i < c->clients.cap; i++) {
        struct rs_client *cl = c->clients.slots[i].item;
        if (!cl || cl->closing)
            continue;
        struct rs_sub *next;
        for (struct rs_sub *s = cl->subs; s; s = next) {
            next = s->cnext;
            struct rs_acl_req q;
            client_req(cl, &q, RS_ACL_SUBSCRIBE);
            struct rs_bytes key = rs_bytes_of(s->pat, s->pat_len);
            q.keys = sub_keys(s->flags, &key);
            q.scope = (const uint8_t *)s->scope->name;
            q.scope_len = s->scope->name_len;
            q.key = key.ptr;
            q.key_len = key.len;
            const struct rs_acl_rule *r = rs_acl_decide(c->access.acl, &q);
            if (!r || r->allow)
                continue;
            char detail[160];
            snprintf(detail, sizeof detail,
                     "subscription %llu ended: denied by access rule "
                     "line %u",
                     (unsigned long long)s->id, r->line);
            log_refusal(c, cl, "SUBSCRIBE", detail);
            c->access.acl_refused++;
            struct rs_pid zero = {0, 0};
            rs_out_event(c, cl, ROSTER_EV_OVERFLOW, ROSTER_REASON_NONE, 0, s->id, zero, s->scope,
                         rs_bytes_of(s->pat, s->pat_len), rs_bytes_of(NULL, 0),
                         rs_bytes_of(NULL, 0));
            rs_subs_free(c, s);
        }
    }
}

/* --- the shell's side (core.h) ------------------------------------------------------- */

void rs_core_set_acl(struct rs_core *c, const struct rs_acl *acl)
{
    c->access.acl = acl;
    c->access.recheck = 1; /* outputs only exist during an apply: the next one does it */
}

void rs_core_set_memory_max(struct rs_core *c, uint64_t bytes) { c->access.mem_max = bytes; }

void rs_core_access_stats(const struct rs_core *c, struct rs_core_access_stats *st)
{
    st->acl_rules = c->access.acl ? c->access.acl->n : 0;
    st->acl_refusals = c->access.acl_refused;
    st->memory_used = rs_alloc_live();
    st->memory_max = c->access.mem_max;
    st->memory_refusals = c->access.mem_refused;
    st->memory_full = c->access.mem_max && st->memory_used > c->access.mem_max;
}

/* rs_access_channel: may a and b have a direct channel? It carries sends and calls both
 * ways, unseen by the node, so both clients must be allowed both ops to a pid of another
 * uid (a user may always talk to its own processes). */
int rs_access_channel(struct rs_core *c, const struct rs_client *a, const struct rs_client *b)
{
    if (!c->access.acl || a->uid == b->uid)
        return 1;
    const struct rs_client *ends[2] = {a, b};
    const unsigned ops[2] = {RS_ACL_SEND, RS_ACL_CALL};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            struct rs_acl_req q;
            client_req(ends[i], &q, ops[k]);
            q.keys = RS_ACL_KEYS_NONE;
            const struct rs_acl_rule *r = rs_acl_decide(c->access.acl, &q);
            if (r && !r->allow)
                return 0;
        }
    return 1;
}
