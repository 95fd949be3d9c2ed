/* client.c: simulated clients of a node, and the ground truth about pids.
 *
 * A client sends requests as libroster would (one encoded frame, decoded by the "shell"
 * with the node's limits) and keeps its own view of the world from the replies and events
 * it receives: the pids it owns, the names and memberships it believes it holds, its
 * subscriptions (each replayed from its snapshot into a set), its monitors. Anything a
 * reply or event says that contradicts that view, or the ground truth, fails the seed at
 * the moment it happens. The observer client of each node (observe.c) only collects
 * listing items.
 *
 * Tokens, handoffs and compare-and-set (src/core/cas.c): a client remembers the token of
 * each name it holds; a re-register and an update must keep it, a new grant or a handoff
 * on a node must give a larger one than that node gave the name before; a HANDOFF or
 * UPDATE reply must be the status the rules give for what the clients know (the owner's
 * node knows every local holding exactly); a handoff moves the holding to the new pid's
 * client, whose REGISTERED (handoff) notice must then arrive; CHECK_TOKEN of a name the
 * client holds, asked of its own node, must say current. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "wire/query.h"

/* --- pid ground truth --------------------------------------------------------------- */

static uint64_t pid_hash(struct rs_pid p)
{
    uint64_t h = p.inc * 0x9e3779b97f4a7c15ull ^ (p.serial + 0x632be59bd9b4e019ull);
    return h ^ (h >> 29);
}

static int pid_eq(struct rs_pid a, struct rs_pid b) { return a.inc == b.inc && a.serial == b.serial; }

static void pidx_insert(struct sim_world *w, size_t i)
{
    size_t mask = w->pidxcap - 1;
    for (size_t h = pid_hash(w->pids[i].pid) & mask;; h = (h + 1) & mask)
        if (w->pidx[h] == 0) {
            w->pidx[h] = i + 1;
            return;
        }
}

struct sim_pidinfo *pid_info(struct sim_world *w, struct rs_pid pid)
{
    if (!w->pidxcap)
        return NULL;
    size_t mask = w->pidxcap - 1;
    for (size_t h = pid_hash(pid) & mask; w->pidx[h]; h = (h + 1) & mask)
        if (pid_eq(w->pids[w->pidx[h] - 1].pid, pid))
            return &w->pids[w->pidx[h] - 1];
    return NULL;
}

static void pid_add(struct sim_world *w, struct rs_pid pid, int node, size_t client)
{
    if (w->npids == w->cappids) {
        w->cappids = w->cappids ? 2 * w->cappids : 64;
        w->pids = realloc(w->pids, w->cappids * sizeof *w->pids);
        if (!w->pids)
            abort();
    }
    struct sim_pidinfo *pi = &w->pids[w->npids++];
    memset(pi, 0, sizeof *pi);
    pi->pid = pid;
    pi->node = node;
    pi->client = client;
    pi->alive = 1;
    if (2 * w->npids > w->pidxcap) {
        free(w->pidx);
        w->pidxcap = w->pidxcap ? 2 * w->pidxcap : 256;
        w->pidx = calloc(w->pidxcap, sizeof *w->pidx);
        if (!w->pidx)
            abort();
        for (size_t i = 0; i < w->npids; i++)
            pidx_insert(w, i);
    } else {
        pidx_insert(w, w->npids - 1);
    }
}

void pid_died(struct sim_world *w, struct rs_pid pid)
{
    struct sim_pidinfo *pi = pid_info(w, pid);
    if (pi && pi->alive) {
        pi->alive = 0;
        pi->died_at = w->now;
    }
}

/* --- client bookkeeping ------------------------------------------------------------- */

#define GROW(v, n, cap)                                         \
    do {                                                        \
        if ((n) == (cap)) {                                     \
            (cap) = (cap) ? 2 * (cap) : 8;                      \
            (v) = realloc((v), (cap) * sizeof *(v));            \
            if (!(v))                                           \
                abort();                                        \
        }                                                       \
    } while (0)

static int scope_index(struct rs_bytes b)
{
    if (b.len == 0)
        return 0;
    for (int s = 0; s < SIM_NSCOPES; s++)
        if (b.len == strlen(sim_scope_name(s)) && memcmp(b.ptr, sim_scope_name(s), b.len) == 0)
            return s;
    return -1;
}

static int owns_pid(const struct sim_client *c, struct rs_pid pid)
{
    for (size_t i = 0; i < c->npids; i++)
        if (pid_eq(c->pids[i], pid))
            return 1;
    return 0;
}

int per_node_scope(const struct sim_world *w, int scope)
{
    return scope == 1 && (w->s1_opts & ROSTER_SCOPE_UNIQUE_PER_NODE);
}

static int dup_scope(const struct sim_world *w, int scope)
{
    return scope == 1 && (w->s1_opts & ROSTER_SCOPE_DUPLICATE_MEMBERS);
}

/* held_oldest: the oldest of c's entries of pid in group key (duplicate members). */
static struct sim_held *held_oldest(struct sim_client *c, int scope, const char *key,
                                    struct rs_pid pid)
{
    struct sim_held *best = NULL;
    for (size_t i = 0; i < c->nheld; i++) {
        struct sim_held *h = &c->held[i];
        if (h->scope == scope && h->group && strcmp(h->key, key) == 0 && pid_eq(h->pid, pid) &&
            (!best || h->seq < best->seq))
            best = h;
    }
    return best;
}

static struct sim_held *held_find(struct sim_client *c, int scope, int group, const char *key,
                                  const struct rs_pid *pid)
{
    for (size_t i = 0; i < c->nheld; i++) {
        struct sim_held *h = &c->held[i];
        if (h->scope == scope && h->group == group && strcmp(h->key, key) == 0 &&
            (!pid || pid_eq(h->pid, *pid)))
            return h;
    }
    return NULL;
}

static void held_del(struct sim_client *c, struct sim_held *h)
{
    *h = c->held[--c->nheld];
}

/* for lease.c */
int client_owns_pid(const struct sim_client *c, struct rs_pid pid) { return owns_pid(c, pid); }
struct sim_held *client_held_find(struct sim_client *c, int scope, int group, const char *key,
                                  const struct rs_pid *pid)
{
    return held_find(c, scope, group, key, pid);
}
void client_held_del(struct sim_client *c, struct sim_held *h) { held_del(c, h); }
int client_scope_index(struct rs_bytes b) { return scope_index(b); }

static void forget_pid(struct sim_world *w, struct sim_client *c, struct rs_pid pid)
{
    pid_died(w, pid);
    for (size_t i = 0; i < c->npids; i++)
        if (pid_eq(c->pids[i], pid)) {
            c->pids[i] = c->pids[--c->npids];
            break;
        }
    for (size_t i = c->nheld; i-- > 0;)
        if (pid_eq(c->held[i].pid, pid))
            held_del(c, &c->held[i]);
}

static void all_pids_die(struct sim_world *w, struct sim_client *c)
{
    c->alive = 0;
    while (c->npids)
        forget_pid(w, c, c->pids[0]);
}

static void new_pid(struct sim_world *w, size_t ci, struct rs_pid pid)
{
    struct sim_client *c = &w->cl[ci];
    if (pid.inc != c->node_inc || pid.serial == 0) {
        sim_fail(w, "n%d handed out pid %016llx.%llu, not of its incarnation %016llx", c->node,
                 (unsigned long long)pid.inc, (unsigned long long)pid.serial,
                 (unsigned long long)c->node_inc);
        return;
    }
    if (pid_info(w, pid)) {
        sim_fail(w, "n%d reused pid %016llx.%llu", c->node, (unsigned long long)pid.inc,
                 (unsigned long long)pid.serial);
        return;
    }
    pid_add(w, pid, c->node, ci);
    GROW(c->pids, c->npids, c->cappids);
    c->pids[c->npids++] = pid;
}

size_t client_open(struct sim_world *w, int node, int observer)
{
    GROW(w->cl, w->ncl, w->capcl);
    size_t ci = w->ncl++;
    struct sim_client *c = &w->cl[ci];
    memset(c, 0, sizeof *c);
    c->node = node;
    c->node_inc = w->nodes[node].inc;
    c->observer = observer;
    c->alive = 1;
    c->conn = sim_new_conn(w, CONN_CLIENT, node, ci, 0);
    /* a few clients of another user; the observers are the node's admin (uid 1000) */
    c->uid = ci % 4 == 3 && !observer ? 1001 : 1000;
    struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = c->conn,
                          .os_pid = (int32_t)(1000 + ci), .uid = c->uid};
    sim_apply(w, node, &in);
    struct rs_msg m = {.type = RS_MSG_HELLO};
    rs_msg_hello_version_set(&m, RS_WIRE_VERSION);
    rs_msg_hello_magic_set(&m, RS_WIRE_MAGIC);
    rs_msg_hello_client_name_set(&m, rs_bytes_str(observer ? "observer" : "sim"));
    client_request(w, ci, &m);
    return ci;
}

void client_request(struct sim_world *w, size_t ci, struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    if (!c->alive || w->failed)
        return;
    m->req_id = ++c->req_id;
    if (c->npend == sizeof c->pend / sizeof c->pend[0]) {
        sim_fail(w, "client %zu on n%d: 8 requests without a reply", ci, c->node);
        return;
    }
    struct sim_pending *pd = &c->pend[c->npend++];
    memset(pd, 0, sizeof *pd);
    pd->req_id = m->req_id;
    pd->type = m->type;
    pd->scope = scope_index(m->scope);
    set_copy_bytes(pd->key, sizeof pd->key, m->key);
    set_copy_bytes(pd->meta, sizeof pd->meta, m->meta);
    set_copy_bytes(pd->prev, sizeof pd->prev, m->prev);
    pd->pid = m->pid;
    pd->req = *m;
    struct rs_bytes none = {NULL, 0};
    pd->req.scope = pd->req.node = pd->req.key = pd->req.meta = pd->req.prev = none;
    struct rs_buf b;
    rs_buf_init(&b);
    if (rs_wire_encode(&b, m) != 0)
        abort();
    struct rs_msg d;
    if (rs_wire_decode(b.data, b.len, &w->lim, &d) != RS_WIRE_OK)
        abort();
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = c->conn, .msg = &d};
    sim_apply(w, c->node, &in);
    rs_buf_fini(&b);
}

void client_close(struct sim_world *w, size_t ci)
{
    struct sim_client *c = &w->cl[ci];
    if (!c->alive)
        return;
    all_pids_die(w, c);
    struct rs_input in = {.kind = RS_IN_CLIENT_GONE, .conn = c->conn};
    sim_apply(w, c->node, &in);
}

void client_closed_by_node(struct sim_world *w, size_t ci, const char *reason, size_t len)
{
    struct sim_client *c = &w->cl[ci];
    sim_fail(w, "n%d closed well-behaved client conn %llu: %.*s", c->node,
             (unsigned long long)c->conn, (int)len, reason);
    all_pids_die(w, c);
    sim_at(w, w->now, EV_CLIENT_GONE, c->node, ci, 0, c->node_inc);
}

void client_node_crashed(struct sim_world *w, size_t ci) { all_pids_die(w, &w->cl[ci]); }

void client_free(struct sim_client *c)
{
    free(c->pids);
    free(c->held);
    for (size_t i = 0; i < c->nsubs; i++)
        set_free(&c->subs[i].replay), set_free(&c->subs[i].mreplay);
    free(c->subs);
    free(c->mons);
}

int sub_matches(const struct sim_sub *s, int group, const char *key)
{
    uint32_t fam = s->flags & (ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS);
    if (!fam)
        fam = ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS;
    if (!(fam & (group ? ROSTER_SUB_GROUPS : ROSTER_SUB_REGISTRY)))
        return 0;
    if ((s->flags & ROSTER_SUB_ALL) || s->pat[0] == 0)
        return 1;
    if (s->flags & ROSTER_SUB_PREFIX)
        return strncmp(key, s->pat, strlen(s->pat)) == 0;
    return strcmp(key, s->pat) == 0;
}

int meta_matches(const struct sim_sub *s, const char *key)
{
    if (!(s->flags & ROSTER_SUB_SCOPE_META))
        return 0;
    if ((s->flags & ROSTER_SUB_ALL) || s->pat[0] == 0)
        return 1;
    if (s->flags & ROSTER_SUB_PREFIX)
        return strncmp(key, s->pat, strlen(s->pat)) == 0;
    return strcmp(key, s->pat) == 0;
}

static int scope_joined(struct sim_world *w, const struct sim_client *c, int scope)
{
    return scope >= 0 && (w->nodes[c->node].scopes & (1u << scope));
}

struct sim_held *held_local(struct sim_world *w, int node, int scope, int group, const char *key,
                            const struct rs_pid *pid, size_t *client)
{
    for (size_t o = 0; o < w->ncl; o++) {
        struct sim_client *x = &w->cl[o];
        if (!x->alive || x->observer || x->node != node || x->node_inc != w->nodes[node].inc)
            continue;
        struct sim_held *h = held_find(x, scope, group, key, pid);
        if (h && !h->gone_due) {
            if (client)
                *client = o;
            return h;
        }
    }
    return NULL;
}

/* A node granted name key of scope (a registration or a handoff) with token: it must be
 * above every token this incarnation of the node gave that name before. */
static void granted(struct sim_world *w, int node, int scope, const char *key, uint64_t token)
{
    struct sim_node *n = &w->nodes[node];
    int k = key[0] - 'a';
    if (scope < 0 || key[1] || k < 0 || k >= SIM_NNAMES)
        return;
    if (n->tok_inc != n->inc) {
        memset(n->tok, 0, sizeof n->tok);
        n->tok_inc = n->inc;
    }
    if (token <= n->tok[scope][k])
        sim_fail(w, "n%d granted %s/%s with token %llu, not above its earlier grant's %llu",
                 node, sim_scope_name(scope), key, (unsigned long long)token,
                 (unsigned long long)n->tok[scope][k]);
    n->tok[scope][k] = token;
}

static int pid_alive_on(struct sim_world *w, int node, struct rs_pid pid)
{
    struct sim_pidinfo *pi = pid_info(w, pid);
    return pi && pi->alive && pid.inc == w->nodes[node].inc;
}

/* The status a HANDOFF must get, from what the clients of the node hold; 1 in *any_ok
 * when the client cannot know (an if_token it never learned): 0 or ECONFLICT. */
static int32_t handoff_expect(struct sim_world *w, struct sim_client *c,
                              const struct sim_pending *pd, const struct sim_held *h,
                              size_t holder, int *either)
{
    uint64_t if_token = rs_msg_handoff_if_token(&pd->req);
    *either = 0;
    if (pd->pid.inc != w->nodes[c->node].inc)
        return ROSTER_EINVAL;
    if (&w->cl[holder] != c && w->cl[holder].uid != c->uid)
        return ROSTER_ENOTOWNER;
    if (!pid_alive_on(w, c->node, pd->pid))
        return ROSTER_ENOPROC;
    if (if_token && h->token && if_token != h->token)
        return ROSTER_ECONFLICT;
    *either = if_token && !h->token;
    return 0;
}

static void on_handoff_reply(struct sim_world *w, size_t ci, const struct sim_pending *pd,
                             const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    int32_t st = m->status;
    size_t holder = 0;
    struct sim_held *h = scope_joined(w, c, pd->scope)
                             ? held_local(w, c->node, pd->scope, 0, pd->key, NULL, &holder)
                             : NULL;
    int either = 0;
    int ok;
    if (!scope_joined(w, c, pd->scope))
        ok = st == ROSTER_ENOSCOPE;
    else if (!h) /* free, or held on another node */
        ok = st == ROSTER_ENOTFOUND || st == ROSTER_EINVAL;
    else {
        int32_t want = handoff_expect(w, c, pd, h, holder, &either);
        ok = st == want || (either && st == ROSTER_ECONFLICT) ||
             (want == 0 && st == ROSTER_ELIMIT);
    }
    if (!ok) {
        sim_fail(w, "n%d: HANDOFF %s/%s to %016llx.%llu (if_token %llu) by client %zu gave "
                    "status %d (local holder: %s)",
                 c->node, sim_scope_name(pd->scope < 0 ? 0 : pd->scope), pd->key,
                 (unsigned long long)pd->pid.inc, (unsigned long long)pd->pid.serial,
                 (unsigned long long)rs_msg_handoff_if_token(&pd->req), ci, (int)st,
                 h ? "yes" : "none");
        return;
    }
    uint64_t token = rs_msg_handoff_reply_token(m);
    if (st == ROSTER_ECONFLICT && h->token && token != h->token)
        sim_fail(w, "n%d: HANDOFF conflict says token %llu, the holder's is %llu", c->node,
                 (unsigned long long)token, (unsigned long long)h->token);
    if (st != 0)
        return;
    if (pid_eq(h->pid, pd->pid)) { /* to the holder itself: nothing changes */
        if (h->token && token != h->token)
            sim_fail(w, "n%d: HANDOFF to the holder changed the token", c->node);
        h->token = token;
        return;
    }
    granted(w, c->node, pd->scope, pd->key, token);
    w->n_handoffs++;
    struct sim_pidinfo *pi = pid_info(w, pd->pid);
    struct sim_client *to = &w->cl[pi->client];
    char meta[SIM_META_MAX];
    snprintf(meta, sizeof meta, "%s", h->meta);
    h->gone_due = 1; /* until the old holder's client hears of it, in this same step */
    GROW(to->held, to->nheld, to->capheld);
    struct sim_held *n = &to->held[to->nheld++];
    memset(n, 0, sizeof *n);
    n->scope = pd->scope;
    snprintf(n->key, sizeof n->key, "%s", pd->key);
    n->pid = pd->pid;
    snprintf(n->meta, sizeof n->meta, "%s", meta);
    n->token = token;
    n->notice_due = 1;
    sim_log(w, "n%d: %s/%s handed to %016llx.%llu (client %zu), token %llu", c->node,
            sim_scope_name(pd->scope), pd->key, (unsigned long long)pd->pid.inc,
            (unsigned long long)pd->pid.serial, pi->client, (unsigned long long)token);
}

static void on_update_reply(struct sim_world *w, size_t ci, const struct sim_pending *pd,
                            const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    int32_t st = m->status;
    uint32_t flags = rs_msg_update_flags(&pd->req);
    int member = (flags & RS_UPDATE_MEMBER) != 0;
    size_t holder = 0;
    int joined = scope_joined(w, c, pd->scope);
    struct sim_held *h = NULL;
    int32_t want = 0;
    int either = 0;
    if ((flags & RS_UPDATE_IF_TOKEN) && rs_msg_update_if_token(&pd->req) == 0) {
        want = ROSTER_EINVAL;
    } else if (!joined) {
        want = ROSTER_ENOSCOPE;
    } else if (member) {
        h = held_local(w, c->node, pd->scope, 1, pd->key, &pd->pid, &holder);
        if ((flags & RS_UPDATE_IF_TOKEN) || dup_scope(w, pd->scope))
            want = ROSTER_EINVAL; /* duplicate members: no update of one of the entries */
        else if (pd->pid.inc != w->nodes[c->node].inc)
            want = ROSTER_EINVAL;
        else if (!pid_alive_on(w, c->node, pd->pid))
            want = ROSTER_ENOPROC;
        else if (!h)
            want = ROSTER_ENOTMEMBER;
        else if (&w->cl[holder] != c && w->cl[holder].uid != c->uid)
            want = ROSTER_ENOTOWNER;
        else if ((flags & RS_UPDATE_IF_META) && strcmp(pd->prev, h->meta) != 0)
            want = ROSTER_ECONFLICT;
    } else {
        h = held_local(w, c->node, pd->scope, 0, pd->key, NULL, &holder);
        uint64_t if_token = rs_msg_update_if_token(&pd->req);
        if (!h)
            want = st == ROSTER_EINVAL ? ROSTER_EINVAL : ROSTER_ENOTFOUND;
        else if (&w->cl[holder] != c && w->cl[holder].uid != c->uid)
            want = ROSTER_ENOTOWNER;
        else if (((flags & RS_UPDATE_IF_TOKEN) && h->token && if_token != h->token) ||
                 ((flags & RS_UPDATE_IF_META) && strcmp(pd->prev, h->meta) != 0))
            want = ROSTER_ECONFLICT;
        else
            either = (flags & RS_UPDATE_IF_TOKEN) && !h->token;
    }
    if (st != want && !(either && st == ROSTER_ECONFLICT)) {
        sim_fail(w, "n%d: UPDATE %s %s/%s (flags 0x%x) by client %zu gave status %d, not %d",
                 c->node, member ? "member" : "name",
                 sim_scope_name(pd->scope < 0 ? 0 : pd->scope), pd->key, (unsigned)flags, ci,
                 (int)st, (int)want);
        return;
    }
    char cur[SIM_META_MAX];
    set_copy_bytes(cur, sizeof cur, rs_msg_update_reply_meta(m));
    uint64_t token = rs_msg_update_reply_token(m);
    if (st == ROSTER_ECONFLICT && strcmp(cur, h->meta) != 0)
        sim_fail(w, "n%d: UPDATE conflict says metadata '%s', the holder's is '%s'", c->node,
                 cur, h->meta);
    if (h && !member && (st == 0 || st == ROSTER_ECONFLICT) && h->token && token != h->token)
        sim_fail(w, "n%d: UPDATE reply says token %llu, the holder's is %llu", c->node,
                 (unsigned long long)token, (unsigned long long)h->token);
    if (st != 0)
        return;
    w->n_updates++;
    snprintf(h->meta, sizeof h->meta, "%s", pd->meta);
    if (!member)
        h->token = token;
}

static void on_check_token_reply(struct sim_world *w, size_t ci, const struct sim_pending *pd,
                                 const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    struct sim_held *h = held_find(c, pd->scope, 0, pd->key, NULL);
    uint64_t asked = rs_msg_check_token_token(&pd->req);
    if (!h || !h->token || asked != h->token)
        return;
    if (m->status != 0 || rs_msg_check_token_reply_current(m) != 1 ||
        rs_msg_check_token_reply_token(m) != h->token)
        sim_fail(w, "n%d: CHECK_TOKEN %s/%s %llu by its holder's client: status %d current "
                    "%llu token %llu",
                 c->node, sim_scope_name(pd->scope), pd->key, (unsigned long long)asked,
                 (int)m->status, (unsigned long long)rs_msg_check_token_reply_current(m),
                 (unsigned long long)rs_msg_check_token_reply_token(m));
}

/* --- replies ------------------------------------------------------------------------ */

/* A write's status must agree with what the client knows about the pid and the scope. */
static int write_status_ok(struct sim_world *w, struct sim_client *c, const struct sim_pending *pd,
                           int32_t st)
{
    int joined = scope_joined(w, c, pd->scope);
    int mine = owns_pid(c, pd->pid);
    if (st == ROSTER_ENOSCOPE)
        return !joined;
    if (!joined && mine)
        return 0; /* a write to a scope the node has not joined must be ENOSCOPE */
    if (st == ROSTER_ENOTOWNER || st == ROSTER_ENOPROC)
        return !mine;
    return 1;
}

static void on_reply(struct sim_world *w, size_t ci, const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    struct sim_pending pd;
    size_t k = 0;
    while (k < c->npend && c->pend[k].req_id != m->req_id)
        k++;
    if (k == c->npend || m->type != c->pend[k].type) {
        sim_fail(w, "n%d: reply type %u req %u matches no request of client %zu", c->node,
                 (unsigned)m->type, (unsigned)m->req_id, ci);
        return;
    }
    pd = c->pend[k];
    c->pend[k] = c->pend[--c->npend];
    int32_t st = m->status;
    char key[SIM_KEY_MAX];
    snprintf(key, sizeof key, "%s", pd.key);
    switch (pd.type) {
    case RS_MSG_HELLO:
    case RS_MSG_PID_NEW:
        if (st == 0)
            new_pid(w, ci, m->pid);
        else if (pd.type == RS_MSG_HELLO)
            sim_fail(w, "n%d refused HELLO: status %d", c->node, (int)st);
        return;
    case RS_MSG_PID_EXIT:
        if (!lease_exit_text_ok(pd.meta)) { /* refused first, whoever's pid it is */
            if (st != ROSTER_EINVAL)
                sim_fail(w, "n%d: PID_EXIT with reason '%s' gave status %d", c->node, pd.meta,
                         (int)st);
            return;
        }
        /* a valid reason closes the pid as PID_CLOSE does */
        __attribute__((fallthrough));
    case RS_MSG_PID_CLOSE:
        if (st == 0 && owns_pid(c, pd.pid))
            forget_pid(w, c, pd.pid);
        else if (st == 0 || owns_pid(c, pd.pid))
            sim_fail(w, "n%d: PID_CLOSE of %s pid gave status %d", c->node,
                     owns_pid(c, pd.pid) ? "a live own" : "another's or a dead", (int)st);
        return;
    case RS_MSG_RENEW:
        lease_on_renew_reply(w, ci, &pd, m);
        return;
    case RS_MSG_LEASE: /* a REGISTER or JOIN whose entry then has a TTL (lease.c) */
    case RS_MSG_REGISTER:
    case RS_MSG_JOIN: {
        int group = pd.type == RS_MSG_JOIN ||
                    (pd.type == RS_MSG_LEASE && rs_msg_lease_kind(&pd.req) == RS_LEASE_MEMBER);
        if (!write_status_ok(w, c, &pd, st)) {
            sim_fail(w, "n%d: %s %s in %s by client %zu gave status %d", c->node,
                     group ? "JOIN" : "REGISTER", key, sim_scope_name(pd.scope < 0 ? 0 : pd.scope),
                     ci, (int)st);
            return;
        }
        if (st != 0)
            return;
        if (!owns_pid(c, pd.pid)) {
            sim_fail(w, "n%d accepted a write for pid %016llx.%llu of another client", c->node,
                     (unsigned long long)pd.pid.inc, (unsigned long long)pd.pid.serial);
            return;
        }
        if (!group) {
            /* One node never grants a name twice: no other client of it may hold it. */
            for (size_t o = 0; o < w->ncl; o++) {
                struct sim_client *x = &w->cl[o];
                if (!x->alive || x->node != c->node)
                    continue;
                struct sim_held *h = held_find(x, pd.scope, 0, key, NULL);
                if (h && !pid_eq(h->pid, pd.pid)) {
                    sim_fail(w, "n%d granted %s/%s to %016llx.%llu while its pid %016llx.%llu "
                                "held it (no conflict notice)",
                             c->node, sim_scope_name(pd.scope), key,
                             (unsigned long long)pd.pid.inc, (unsigned long long)pd.pid.serial,
                             (unsigned long long)h->pid.inc, (unsigned long long)h->pid.serial);
                    return;
                }
            }
        }
        struct sim_held *h = group && dup_scope(w, pd.scope)
                                 ? NULL /* each join adds an entry */
                                 : held_find(c, pd.scope, group, key, group ? &pd.pid : NULL);
        uint64_t token = group ? 0 : rs_msg_register_reply_token(m);
        if (!h) {
            GROW(c->held, c->nheld, c->capheld);
            h = &c->held[c->nheld++];
            memset(h, 0, sizeof *h);
            h->seq = ++w->held_seq;
            h->scope = pd.scope;
            h->group = group;
            snprintf(h->key, sizeof h->key, "%s", key);
            h->pid = pd.pid;
            if (!group)
                granted(w, c->node, pd.scope, key, token);
        } else if (!group && h->token && token != h->token) {
            sim_fail(w, "n%d: re-registering %s/%s changed its token from %llu to %llu",
                     c->node, sim_scope_name(pd.scope), key, (unsigned long long)h->token,
                     (unsigned long long)token);
            return;
        }
        h->token = token;
        snprintf(h->meta, sizeof h->meta, "%s", pd.meta);
        lease_granted(w, h, &pd);
        return;
    }
    case RS_MSG_UNREGISTER:
    case RS_MSG_LEAVE: {
        int group = pd.type == RS_MSG_LEAVE;
        struct sim_held *h = group && dup_scope(w, pd.scope)
                                 ? held_oldest(c, pd.scope, key, pd.pid) /* the oldest goes */
                                 : held_find(c, pd.scope, group, key, group ? &pd.pid : NULL);
        if (st == 0 && h) {
            held_del(c, h);
        } else if (st == 0 || (h && st != ROSTER_ENOSCOPE)) {
            sim_fail(w, "n%d: %s %s/%s by client %zu gave status %d but the client %s it",
                     c->node, group ? "LEAVE" : "UNREGISTER",
                     sim_scope_name(pd.scope < 0 ? 0 : pd.scope), key, ci, (int)st,
                     h ? "holds" : "does not hold");
        }
        return;
    }
    case RS_MSG_UNMATCH: {
        /* every entry of the client's model that the request selects is gone, and the
         * node said how many (the model is exact outside handoff windows, which the
         * workload avoids) */
        uint32_t opts = rs_msg_unmatch_opts(&pd.req);
        int group = (opts & RS_QW_MEMBERS) != 0, prefix = (opts & RS_QF_PREFIX) != 0;
        int one = pd.pid.inc || pd.pid.serial;
        if (st == ROSTER_ENOSCOPE || (st == ROSTER_ENOPROC && one && !owns_pid(c, pd.pid)))
            return;
        if (st != 0) {
            sim_fail(w, "n%d: UNMATCH gave status %d", c->node, (int)st);
            return;
        }
        uint64_t removed = rs_msg_unmatch_reply_removed(m), want = 0;
        for (size_t i = c->nheld; i-- > 0;) {
            struct sim_held *h = &c->held[i];
            if (h->scope != pd.scope || h->group != group ||
                (prefix ? strncmp(h->key, key, strlen(key)) != 0 : strcmp(h->key, key) != 0) ||
                (one && !pid_eq(h->pid, pd.pid)) ||
                strncmp(h->meta, pd.prev, strlen(pd.prev)) != 0)
                continue;
            want++;
            held_del(c, h);
        }
        sim_log(w, "n%d: client %zu: unmatch removed %llu", c->node, ci,
                (unsigned long long)removed);
        if (removed != want)
            sim_fail(w, "n%d: UNMATCH %s/%s (meta prefix '%s') by client %zu removed %llu, the "
                        "client held %llu such entries", c->node,
                     sim_scope_name(pd.scope < 0 ? 0 : pd.scope), key, pd.prev, ci,
                     (unsigned long long)removed, (unsigned long long)want);
        return;
    }
    case RS_MSG_SUBSCRIBE:
        if (st != 0) {
            sim_fail(w, "n%d: SUBSCRIBE gave status %d", c->node, (int)st);
            return;
        }
        GROW(c->subs, c->nsubs, c->capsubs);
        struct sim_sub *s = &c->subs[c->nsubs++];
        memset(s, 0, sizeof *s);
        s->id = rs_msg_subscribe_reply_id(m);
        s->scope = pd.scope;
        s->flags = rs_msg_subscribe_flags(&pd.req);
        snprintf(s->pat, sizeof s->pat, "%s", key);
        s->in_snapshot = (s->flags & ROSTER_SUB_SNAPSHOT) != 0;
        return;
    case RS_MSG_UNSUBSCRIBE:
        for (size_t i = 0; i < c->nsubs; i++)
            if (c->subs[i].id == rs_msg_unsubscribe_id(&pd.req) && !c->subs[i].ended) {
                if (st != 0)
                    sim_fail(w, "n%d: UNSUBSCRIBE of a live subscription: %d", c->node, (int)st);
                c->subs[i].ended = 1;
            }
        return;
    case RS_MSG_MONITOR: {
        if (st != 0) {
            sim_fail(w, "n%d: MONITOR gave status %d", c->node, (int)st);
            return;
        }
        GROW(c->mons, c->nmons, c->capmons);
        struct sim_mon *mo = &c->mons[c->nmons++];
        memset(mo, 0, sizeof *mo);
        mo->id = rs_msg_monitor_reply_id(m);
        mo->pid = pd.pid;
        for (size_t i = 0; i < c->nearly; i++)
            if (c->early_down[i] == mo->id) {
                mo->fired = 1;
                mo->reason = c->early_reason[i];
                c->early_down[i] = c->early_down[--c->nearly];
                c->early_reason[i] = c->early_reason[c->nearly];
                break;
            }
        return;
    }
    case RS_MSG_SCOPE_CREATE:
    case RS_MSG_SCOPE_JOIN:
    case RS_MSG_SCOPE_LEAVE: {
        if (pd.type == RS_MSG_SCOPE_CREATE)
            pd.type = RS_MSG_SCOPE_JOIN; /* s1 with options, new on this node: a join */
        struct sim_node *n = &w->nodes[c->node];
        int busy = 0;
        for (size_t o = 0; o < w->ncl && pd.type == RS_MSG_SCOPE_LEAVE; o++)
            for (size_t h = 0; w->cl[o].alive && w->cl[o].node == c->node && h < w->cl[o].nheld;
                 h++)
                busy |= w->cl[o].held[h].scope == pd.scope;
        int joined = (n->scopes >> pd.scope) & 1u;
        int ok = pd.type == RS_MSG_SCOPE_JOIN ? st == 0
                 : !joined                  ? st == ROSTER_ENOSCOPE
                 : busy                     ? st == ROSTER_EBUSY
                                            : st == 0;
        if (!ok) {
            sim_fail(w, "n%d: %s %s gave status %d (joined %d, local holdings %d)", c->node,
                     pd.type == RS_MSG_SCOPE_JOIN ? "SCOPE_JOIN" : "SCOPE_LEAVE",
                     sim_scope_name(pd.scope), (int)st, joined, busy);
            return;
        }
        if (st == 0 && pd.type == RS_MSG_SCOPE_JOIN)
            n->scopes |= 1u << pd.scope, n->s1_made |= pd.scope == 1;
        else if (st == 0)
            n->scopes &= ~(1u << pd.scope);
        return;
    }
    case RS_MSG_HANDOFF:
        on_handoff_reply(w, ci, &pd, m);
        return;
    case RS_MSG_UPDATE:
        on_update_reply(w, ci, &pd, m);
        return;
    case RS_MSG_CHECK_TOKEN:
        on_check_token_reply(w, ci, &pd, m);
        return;
    case RS_MSG_SCOPE_META_SET:
    case RS_MSG_SCOPE_META_DELETE: {
        /* a scope the node has not joined is ENOSCOPE; deleting a key without a value
         * ENOTFOUND; anything else succeeds */
        int joined = scope_joined(w, c, pd.scope);
        int set = pd.type == RS_MSG_SCOPE_META_SET;
        int ok = !joined ? st == ROSTER_ENOSCOPE
                         : st == 0 || (!set && st == ROSTER_ENOTFOUND);
        if (!ok) {
            sim_fail(w, "n%d: SCOPE_META_%s %s/%s gave status %d (joined %d)", c->node,
                     set ? "SET" : "DELETE", sim_scope_name(pd.scope < 0 ? 0 : pd.scope), key,
                     (int)st, joined);
            return;
        }
        if (st == 0) {
            w->n_meta_writes++;
            if (set)
                set_add(&w->mwrites, pd.scope, key, (struct rs_pid){0, 0}, pd.meta);
        }
        return;
    }
    case RS_MSG_DEMONITOR:
        for (size_t i = 0; i < c->nmons; i++)
            if (c->mons[i].id == rs_msg_demonitor_id(&pd.req) && st == 0)
                c->mons[i].demonitored = 1;
        return;
    default:
        return;
    }
}

/* --- events ------------------------------------------------------------------------- */

static const char *ev_name(uint32_t k)
{
    static const char *const names[] = {"?", "registered", "unregistered", "updated",
                                        "joined", "left", "member_updated", "snapshot_end",
                                        "overflow", "down", "reply", "conflict", "node_up",
                                        "node_down"};
    return k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static const char *reason_name(uint32_t r)
{
    static const char *const names[] = {"none", "normal", "disconnected", "node_down",
                                        "conflict", "noproc"};
    return r < sizeof names / sizeof names[0] ? names[r] : "?";
}

static void pidtxt(struct rs_pid p, char *b, size_t n)
{
    snprintf(b, n, "%016llx.%llu", (unsigned long long)p.inc, (unsigned long long)p.serial);
}

static void replay(struct sim_world *w, struct sim_client *c, struct sim_sub *s, uint32_t kind,
                   const struct rs_msg *m)
{
    int group = kind >= ROSTER_EV_JOINED && kind <= ROSTER_EV_MEMBER_UPDATED;
    char key[SIM_KEY_MAX], meta[SIM_META_MAX], prev[SIM_META_MAX], p[48];
    set_copy_bytes(key, sizeof key, rs_msg_event_key(m));
    set_copy_bytes(meta, sizeof meta, rs_msg_event_meta(m));
    set_copy_bytes(prev, sizeof prev, rs_msg_event_prev_meta(m));
    pidtxt(m->pid, p, sizeof p);
    if (!sub_matches(s, group, key)) {
        sim_fail(w, "n%d: subscription %llu got event %u for '%s' outside its pattern", c->node,
                 (unsigned long long)s->id, (unsigned)kind, key);
        return;
    }
    struct sim_entry *e = set_find(&s->replay, group, key, m->pid);
    if (!group && per_node_scope(w, s->scope)) {
        /* a holder per node: the event is about this node's claim (handoffs stay on it) */
        e = NULL;
        for (size_t i = 0; i < s->replay.n && !e; i++) {
            struct sim_entry *x = &s->replay.v[i];
            if (!x->group && strcmp(x->key, key) == 0 && x->pid.inc == m->pid.inc)
                e = x;
        }
    }
    if (group && dup_scope(w, s->scope)) {
        /* several entries of one pid: a join adds one, a leave removes one with its meta */
        e = NULL;
        for (size_t i = 0; i < s->replay.n && kind == ROSTER_EV_LEFT && !e; i++) {
            struct sim_entry *x = &s->replay.v[i];
            if (x->group && strcmp(x->key, key) == 0 && pid_eq(x->pid, m->pid) &&
                strcmp(x->meta, meta) == 0)
                e = x;
        }
    }
    const char *bad = NULL;
    uint32_t reason = rs_msg_event_reason(m);
    /* A handoff is atomic: its UNREGISTERED is followed at once by its REGISTERED. */
    if (s->ho_open && (kind != ROSTER_EV_REGISTERED || reason != ROSTER_REASON_HANDOFF ||
                       strcmp(key, s->ho_key) != 0 || m->pid.inc != s->ho_inc)) {
        sim_fail(w, "n%d: subscription %llu saw %s free during a handoff (next event: %s %s)",
                 c->node, (unsigned long long)s->id, s->ho_key, ev_name(kind), key);
        return;
    }
    if (!s->ho_open && kind == ROSTER_EV_REGISTERED && reason == ROSTER_REASON_HANDOFF) {
        sim_fail(w, "n%d: subscription %llu got REGISTERED (handoff) %s without its "
                    "UNREGISTERED",
                 c->node, (unsigned long long)s->id, key);
        return;
    }
    s->ho_open = kind == ROSTER_EV_UNREGISTERED && reason == ROSTER_REASON_HANDOFF;
    if (s->ho_open) {
        snprintf(s->ho_key, sizeof s->ho_key, "%s", key);
        s->ho_inc = m->pid.inc;
    }
    switch (kind) {
    case ROSTER_EV_REGISTERED:
    case ROSTER_EV_JOINED:
        if (e)
            bad = "an entry the subscriber already has";
        else
            set_add(&s->replay, group, key, m->pid, meta);
        break;
    case ROSTER_EV_UNREGISTERED:
    case ROSTER_EV_LEFT:
        lease_check_removal(w, c, s->scope, kind, m);
        if (!e || !pid_eq(e->pid, m->pid))
            bad = "an entry the subscriber does not have";
        else
            set_del(&s->replay, e);
        break;
    case ROSTER_EV_UPDATED:
    case ROSTER_EV_MEMBER_UPDATED:
        if (!e || !pid_eq(e->pid, m->pid))
            bad = "an entry the subscriber does not have";
        else if (strcmp(e->meta, prev) != 0)
            bad = "previous metadata that differs from what the subscriber has";
        else if (strcmp(meta, prev) == 0)
            bad = "no change (a write that changes nothing must give no event on any node)";
        else
            snprintf(e->meta, sizeof e->meta, "%s", meta);
        break;
    }
    if (bad) {
        char has[48] = "-";
        if (e)
            pidtxt(e->pid, has, sizeof has);
        sim_fail(w, "n%d: subscription %llu (%s) got %s %s pid %s meta '%s' prev '%s' for %s "
                    "(it has pid %s meta '%s')",
                 c->node, (unsigned long long)s->id, sim_scope_name(s->scope),
                 ev_name(kind), key, p, meta, prev, bad, has,
                 e ? e->meta : "");
    }
}

/* A scope-metadata event: it must follow from what the subscriber has (prev_meta = the
 * value it holds for the key), change something, and match the subscription. */
static void meta_replay(struct sim_world *w, struct sim_client *c, struct sim_sub *s,
                        uint32_t kind, const struct rs_msg *m)
{
    char key[SIM_KEY_MAX], val[SIM_META_MAX], prev[SIM_META_MAX];
    set_copy_bytes(key, sizeof key, rs_msg_event_key(m));
    set_copy_bytes(val, sizeof val, rs_msg_event_meta(m));
    set_copy_bytes(prev, sizeof prev, rs_msg_event_prev_meta(m));
    struct rs_pid zero = {0, 0};
    struct sim_entry *e = set_find(&s->mreplay, 2, key, zero);
    const char *bad = NULL;
    if (!meta_matches(s, key))
        bad = "outside the subscription";
    else if (kind == ROSTER_EV_SCOPE_META_SET && (e ? strcmp(e->meta, prev) != 0 : prev[0]))
        bad = "a previous value the subscriber does not have";
    else if (kind == ROSTER_EV_SCOPE_META_SET && e && strcmp(val, prev) == 0)
        bad = "no change";
    else if (kind == ROSTER_EV_SCOPE_META_DELETED && (!e || strcmp(e->meta, val) != 0))
        bad = "a value the subscriber does not have";
    if (bad) {
        sim_fail(w, "n%d: subscription %llu (%s) got %s of metadata key %s value '%s' prev "
                    "'%s': %s (it has '%s')",
                 c->node, (unsigned long long)s->id, sim_scope_name(s->scope),
                 kind == ROSTER_EV_SCOPE_META_SET ? "SCOPE_META_SET" : "SCOPE_META_DELETED",
                 key, val, prev, bad, e ? e->meta : "-");
        return;
    }
    if (kind == ROSTER_EV_SCOPE_META_DELETED)
        set_del(&s->mreplay, e);
    else if (e)
        snprintf(e->meta, sizeof e->meta, "%s", val);
    else
        set_add(&s->mreplay, 2, key, zero, val);
}

static void on_sub_event(struct sim_world *w, struct sim_client *c, uint32_t kind, int snap,
                         const struct rs_msg *m)
{
    struct sim_sub *s = NULL;
    for (size_t i = 0; i < c->nsubs; i++)
        if (c->subs[i].id == rs_msg_event_id(m) && !c->subs[i].ended)
            s = &c->subs[i];
    if (!s) {
        sim_fail(w, "n%d: event %u for subscription %llu, which the client does not have",
                 c->node, (unsigned)kind, (unsigned long long)rs_msg_event_id(m));
        return;
    }
    if (kind == ROSTER_EV_NODE_UP || kind == ROSTER_EV_NODE_DOWN || kind == ROSTER_EV_NODE_LEFT)
        return;
    if (kind == ROSTER_EV_OVERFLOW) {
        s->ended = 1;
        return;
    }
    if (snap != s->in_snapshot) {
        sim_fail(w, "n%d: subscription %llu: event %u with snapshot flag %d %s", c->node,
                 (unsigned long long)s->id, (unsigned)kind, snap,
                 s->in_snapshot ? "during its snapshot" : "after its snapshot");
        return;
    }
    if (kind == ROSTER_EV_SNAPSHOT_END) {
        s->in_snapshot = 0;
        return;
    }
    if (snap && kind != ROSTER_EV_REGISTERED && kind != ROSTER_EV_JOINED &&
        kind != ROSTER_EV_SCOPE_META_SET) {
        sim_fail(w, "n%d: snapshot event of kind %u", c->node, (unsigned)kind);
        return;
    }
    if (kind == ROSTER_EV_SCOPE_META_SET || kind == ROSTER_EV_SCOPE_META_DELETED)
        meta_replay(w, c, s, kind, m);
    else
        replay(w, c, s, kind, m);
}

static void on_down(struct sim_world *w, struct sim_client *c, uint32_t reason,
                    const struct rs_msg *m)
{
    struct sim_mon *mo = NULL;
    for (size_t i = 0; i < c->nmons; i++)
        if (c->mons[i].id == rs_msg_event_id(m))
            mo = &c->mons[i];
    if (!mo) {
        if (c->nearly == sizeof c->early_down / sizeof c->early_down[0]) {
            sim_fail(w, "n%d: DOWN for unknown monitors %llu", c->node,
                     (unsigned long long)rs_msg_event_id(m));
            return;
        }
        c->early_reason[c->nearly] = (int)reason;
        c->early_down[c->nearly++] = rs_msg_event_id(m);
        return;
    }
    char p[48];
    pidtxt(mo->pid, p, sizeof p);
    if (mo->fired || mo->demonitored) {
        sim_fail(w, "n%d: monitor %llu of %s fired again (reason %s) %s", c->node,
                 (unsigned long long)mo->id, p, reason_name(reason),
                 mo->demonitored ? "after DEMONITOR" : "after firing once");
        return;
    }
    mo->fired = 1;
    mo->reason = (int)reason;
    if (!pid_eq(m->pid, mo->pid)) {
        sim_fail(w, "n%d: monitor %llu of %s fired for another pid", c->node,
                 (unsigned long long)mo->id, p);
        return;
    }
    lease_check_down(w, c, m);
    struct sim_pidinfo *pi = pid_info(w, mo->pid);
    if (pi && pi->alive &&
        (reason == ROSTER_REASON_NORMAL || reason == ROSTER_REASON_DISCONNECTED ||
         reason == ROSTER_REASON_EXIT)) {
        sim_fail(w, "n%d: monitor %llu reports live pid %s dead (%s)", c->node,
                 (unsigned long long)mo->id, p, reason_name(reason));
    }
}

static void on_conflict(struct sim_world *w, size_t ci, const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    char key[SIM_KEY_MAX], p[48];
    set_copy_bytes(key, sizeof key, rs_msg_event_key(m));
    pidtxt(m->pid, p, sizeof p);
    int scope = scope_index(m->scope);
    struct sim_held *h = held_find(c, scope, 0, key, &m->pid);
    if (!h) {
        sim_fail(w, "n%d: conflict notice for %s/%s pid %s, which client %zu does not hold "
                    "(spurious or second notice)",
                 c->node, scope >= 0 ? sim_scope_name(scope) : "?", key, p, ci);
        return;
    }
    sim_log(w, "n%d: client %zu's pid %s lost %s/%s (conflict)", c->node, ci, p,
            sim_scope_name(scope), key);
    held_del(c, h);
    c->conflicts++;
    w->n_conflicts++;
}

/* The old and the new holder's clients hear of a handoff (UNREGISTERED and REGISTERED,
 * id 0, reason handoff) right after the caller's reply moved the holding. */
static void on_handoff_notice(struct sim_world *w, size_t ci, uint32_t kind,
                              const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    char key[SIM_KEY_MAX], p[48];
    set_copy_bytes(key, sizeof key, rs_msg_event_key(m));
    pidtxt(m->pid, p, sizeof p);
    int out = kind == ROSTER_EV_UNREGISTERED;
    struct sim_held *h = held_find(c, scope_index(m->scope), 0, key, &m->pid);
    if (!h || !(out ? h->gone_due : h->notice_due)) {
        sim_fail(w, "n%d: handoff %s notice for %s pid %s, which client %zu was not %s (or a "
                    "second notice)",
                 c->node, out ? "UNREGISTERED" : "REGISTERED", key, p, ci,
                 out ? "handed away" : "handed");
        return;
    }
    if (out)
        held_del(c, h);
    else
        h->notice_due = 0;
}

static void on_event(struct sim_world *w, size_t ci, const struct rs_msg *m)
{
    struct sim_client *c = &w->cl[ci];
    uint32_t kind = rs_msg_event_kind(m), reason = rs_msg_event_reason(m);
    int snap = rs_msg_event_snapshot(m);
    if (c->observer) {
        sim_fail(w, "n%d: event %u sent to the observer, which never asked for events",
                 c->node, (unsigned)kind);
        return;
    }
    if (kind == ROSTER_EV_DOWN)
        on_down(w, c, reason, m);
    else if (kind == ROSTER_EV_CONFLICT)
        on_conflict(w, ci, m);
    else if ((kind == ROSTER_EV_REGISTERED || kind == ROSTER_EV_UNREGISTERED) &&
             reason == ROSTER_REASON_HANDOFF && rs_msg_event_id(m) == 0)
        on_handoff_notice(w, ci, kind, m);
    else if (reason == ROSTER_REASON_EXPIRED && rs_msg_event_id(m) == 0)
        lease_on_notice(w, ci, kind, m); /* its own entry's lease ran out (lease.c) */
    else if ((kind >= ROSTER_EV_REGISTERED && kind <= ROSTER_EV_OVERFLOW) ||
             kind == ROSTER_EV_NODE_UP || kind == ROSTER_EV_NODE_DOWN ||
             kind == ROSTER_EV_SCOPE_META_SET || kind == ROSTER_EV_SCOPE_META_DELETED ||
             kind == ROSTER_EV_NODE_LEFT)
        on_sub_event(w, c, kind, snap, m);
    else
        sim_fail(w, "n%d: unknown event kind %u", c->node, (unsigned)kind);
}

/* --- observer ----------------------------------------------------------------------- */

static void on_observer_frame(struct sim_world *w, struct sim_client *c, const struct rs_msg *m)
{
    struct sim_obs *o = &w->obs;
    if (m->flags & RS_F_REPLY) {
        for (size_t k = 0; k < c->npend; k++)
            if (c->pend[k].req_id == m->req_id)
                c->pend[k] = c->pend[--c->npend];
        o->got_reply = 1;
        o->status = m->status;
        if (m->type == RS_MSG_LOOKUP) {
            o->pid = rs_msg_lookup_reply_holder(m);
            o->token = rs_msg_lookup_reply_token(m);
        }
        if (m->type == RS_MSG_OWNER) {
            o->os_pid = rs_msg_owner_reply_os_pid(m);
            o->uid = rs_msg_owner_reply_uid(m);
        }
        return;
    }
    if (!o->active)
        return;
    if (m->type == RS_MSG_NODES) {
        if (o->nnodes < sizeof o->nodes / sizeof o->nodes[0]) {
            set_copy_bytes(o->nodes[o->nnodes].name, sizeof o->nodes[o->nnodes].name,
                           rs_msg_nodes_item_node(m));
            o->nodes[o->nnodes].inc = rs_msg_nodes_item_incarnation(m);
            o->nodes[o->nnodes].state = (int)rs_msg_nodes_item_state(m);
            o->nodes[o->nnodes].self = rs_msg_nodes_item_self(m);
            o->nodes[o->nnodes].down_since = rs_msg_nodes_item_down_since(m);
            o->nnodes++;
        }
        return;
    }
    char key[SIM_KEY_MAX], meta[SIM_META_MAX], node[16];
    set_copy_bytes(key, sizeof key, m->key);
    set_copy_bytes(meta, sizeof meta, m->meta);
    set_copy_bytes(node, sizeof node, m->node);
    if (m->type == RS_MSG_SCOPE_META_GET) {
        /* a metadata record: the stamp and a hash of the writer's name stand in the pid, so
         * that two nodes' listings compare equal only with the same stamp and writer */
        uint64_t h = 1469598103934665603ull;
        for (const char *q = node; *q; q++)
            h = (h ^ (uint8_t)*q) * 1099511628211ull;
        set_add(&o->items, 2, key,
                (struct rs_pid){rs_msg_scope_meta_get_item_stamp(m), h}, meta);
        return;
    }
    struct sim_entry *e = set_add(&o->items, m->type != RS_MSG_NAMES, key, m->pid, meta);
    e->count = m->type == RS_MSG_GROUPS ? rs_msg_groups_item_members(m) : 0;
    if (m->type == RS_MSG_GROUPS)
        return;
    /* The owner node named in a listing is the node that handed the pid out. */
    struct sim_pidinfo *pi = pid_info(w, m->pid);
    if (!pi)
        sim_fail(w, "n%d lists %s '%s' for pid %016llx.%llu, which no node handed out", c->node,
                 m->type == RS_MSG_NAMES ? "name" : "member of", key,
                 (unsigned long long)m->pid.inc, (unsigned long long)m->pid.serial);
    else if (strcmp(w->nodes[pi->node].name, node) != 0)
        sim_fail(w, "n%d lists '%s' for a pid of %s as owned by node '%s'", c->node, key,
                 w->nodes[pi->node].name, node);
}

void client_deliver(struct sim_world *w, size_t ci, const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (off < len && !w->failed) {
        size_t flen = 0;
        struct rs_msg m;
        if (rs_wire_frame_next(p + off, len - off, w->lim.frame_max, &flen) != RS_WIRE_OK ||
            rs_wire_decode(p + off, flen, &w->dlim, &m) != RS_WIRE_OK) {
            sim_fail(w, "n%d sent client %zu a frame that does not decode", w->cl[ci].node, ci);
            return;
        }
        off += flen;
        struct sim_client *c = &w->cl[ci];
        if (c->observer && !((m.flags & RS_F_REPLY) && m.type == RS_MSG_HELLO))
            on_observer_frame(w, c, &m);
        else if (m.flags & RS_F_REPLY)
            on_reply(w, ci, &m);
        else if (m.type == RS_MSG_EVENT)
            on_event(w, ci, &m);
        else if (!(m.flags & RS_F_ITEM))
            sim_fail(w, "n%d sent client %zu an unsolicited frame of type %u", c->node, ci,
                     (unsigned)m.type);
    }
}
