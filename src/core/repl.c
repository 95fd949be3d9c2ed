/* repl.c: outgoing replication of eventual scopes (docs/CLUSTER.md): one P_OP per local
 * change to every up node that joined the scope (called by the change pipeline only), one
 * P_PID_DOWN per local pid death, scope announcements (P_SCOPE) and snapshots of our own
 * entries (P_SYNC_BEGIN, P_ENTRY..., P_SYNC_END). Incoming frames: repl_in.c. */
#include <stdlib.h>
#include <string.h>

#include "core/nodes.h"
#include "core/output.h"
#include "core/owner.h"
#include "core/pids.h"
#include "core/repl.h"
#include "core/smeta.h"
#include "core/util.h"

int rs_repl_shared(const struct rs_node *n, const struct rs_scope *s)
{
    return s->joined && !s->kv && rs_nodes_joined(n, s); /* strong: etcd, not peers */
}

void rs_repl_op(struct rs_core *c, const struct rs_scope *s, uint32_t op, uint32_t reason,
                uint64_t hlc, struct rs_pid pid, struct rs_bytes key, struct rs_bytes meta)
{
    if (!s->joined || c->nodes.n == 0)
        return;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_OP;
    rs_msg_p_op_opts_set(&m, rs_msg_p_op_pack(op, reason));
    rs_msg_p_op_hlc_set(&m, hlc);
    m.pid = pid;
    m.scope = rs_bytes_of(s->name, s->name_len);
    rs_msg_p_op_key_set(&m, key);
    rs_msg_p_op_meta_set(&m, meta);
    if (op == RS_POP_REGISTER || op == RS_POP_JOIN || op == RS_POP_HANDOFF) {
        /* the holder's OS pid and uid travel with every put: a peer may have freed its
         * record of the pid since it last held something */
        const struct rs_proc *p = rs_pids_find(c, pid);
        rs_msg_p_op_owner_set(&m, p ? rs_owner_of(p) : 0);
    }
    RS_NODES_EACH_UP(c, n)
    {
        if (rs_nodes_joined(n, s))
            rs_out_peer(c, n, &m);
    }
}

static int proc_in_scope_of(const struct rs_proc *p, const struct rs_node *n)
{
    for (const struct rs_name *x = p->names; x; x = x->next)
        if (rs_repl_shared(n, x->scope))
            return 1;
    for (const struct rs_member *x = p->members; x; x = x->pnext)
        if (rs_repl_shared(n, x->group->scope))
            return 1;
    return 0;
}

void rs_repl_pid_down(struct rs_core *c, const struct rs_proc *p, uint32_t reason)
{
    if (c->nodes.n == 0)
        return;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    if (reason == ROSTER_REASON_EXIT) {
        /* the caller's exit reason needs a field P_PID_DOWN does not have */
        m.type = RS_MSG_P_PID_EXIT;
        rs_msg_p_pid_exit_reason_set(&m, reason);
        rs_msg_p_pid_exit_text_set(&m, c->exit_text);
    } else {
        m.type = RS_MSG_P_PID_DOWN;
        rs_msg_p_pid_down_reason_set(&m, reason);
    }
    m.pid = rs_pids_of(c, p);
    RS_NODES_EACH_UP(c, n)
    {
        if (proc_in_scope_of(p, n))
            rs_out_peer(c, n, &m);
    }
}

/* scope_frame starts a frame about scope s (P_SCOPE, P_SYNC_BEGIN, P_SYNC_END). */
static void scope_frame(struct rs_msg *m, uint8_t type, const struct rs_scope *s)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->scope = rs_bytes_of(s->name, s->name_len);
}

static void send_sync_mark(struct rs_core *c, struct rs_node *n, uint8_t type,
                           const struct rs_scope *s)
{
    struct rs_msg m;
    scope_frame(&m, type, s);
    rs_out_peer(c, n, &m);
}

static void member_entry(struct rs_core *c, struct rs_node *n, struct rs_msg *m,
                         const struct rs_member *x)
{
    const struct rs_group *g = x->group;
    rs_msg_p_entry_kind_set(m, RS_PENTRY_MEMBER);
    rs_msg_p_entry_hlc_set(m, 0);
    m->pid = rs_pids_of(c, x->proc);
    rs_msg_p_entry_owner_set(m, rs_owner_of(x->proc));
    rs_msg_p_entry_key_set(m, rs_bytes_of(g->key, g->key_len));
    rs_msg_p_entry_meta_set(m, rs_bytes_of(x->meta, x->meta_len));
    rs_out_peer(c, n, m);
}

static int by_seq(const void *a, const void *b)
{
    const struct rs_member *x = *(const struct rs_member *const *)a;
    const struct rs_member *y = *(const struct rs_member *const *)b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* A group of a scope with duplicate members: our entries oldest first, so that the
 * receiver keeps each pid's entries in our order (rs_members_match_stale). */
static void snapshot_dups(struct rs_core *c, struct rs_node *n, struct rs_msg *m,
                          const struct rs_group *g)
{
    const struct rs_member **v = rs_core_alloc(c, (g->n_members + 1) * sizeof *v);
    if (!v)
        return; /* out of memory fails the apply (c->oom) */
    size_t k = 0;
    for (const struct rs_member *x = g->members; x; x = x->gnext)
        if (!x->proc->node)
            v[k++] = x;
    qsort(v, k, sizeof *v, by_seq);
    for (size_t i = 0; i < k; i++)
        member_entry(c, n, m, v[i]);
    rs_free(v);
}

void rs_repl_snapshot(struct rs_core *c, struct rs_node *n, struct rs_scope *s)
{
    send_sync_mark(c, n, RS_MSG_P_SYNC_BEGIN, s);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_ENTRY;
    m.scope = rs_bytes_of(s->name, s->name_len);
    /* Our own claims are never hidden: the visible claims cover them all, except in a scope
     * unique per node, where every node's claim is visible but only the first by node name
     * heads its key's chain: there, look along the chain. */
    int per_node = (s->opts & ROSTER_SCOPE_UNIQUE_PER_NODE) != 0;
    for (size_t i = 0; i < s->names.cap; i++) {
        const struct rs_name *x = s->names.slots[i].item;
        while (per_node && x && x->proc->node)
            x = x->alt;
        if (!x || x->proc->node)
            continue;
        rs_msg_p_entry_kind_set(&m, RS_PENTRY_NAME);
        rs_msg_p_entry_hlc_set(&m, x->hlc);
        m.pid = rs_pids_of(c, x->proc);
        rs_msg_p_entry_owner_set(&m, rs_owner_of(x->proc));
        rs_msg_p_entry_key_set(&m, rs_bytes_of(x->key, x->key_len));
        rs_msg_p_entry_meta_set(&m, rs_bytes_of(x->meta, x->meta_len));
        rs_out_peer(c, n, &m);
    }
    for (size_t i = 0; i < s->groups.cap; i++) {
        const struct rs_group *g = s->groups.slots[i].item;
        if (!g)
            continue;
        if (s->opts & ROSTER_SCOPE_DUPLICATE_MEMBERS) {
            snapshot_dups(c, n, &m, g);
            continue;
        }
        for (const struct rs_member *x = g->members; x; x = x->gnext) {
            if (x->proc->node)
                continue;
            member_entry(c, n, &m, x);
        }
    }
    send_sync_mark(c, n, RS_MSG_P_SYNC_END, s);
    /* the scope's metadata: every record, delete markers included (merging is idempotent,
     * so what the peer already has changes nothing there) */
    struct rs_smeta **v;
    size_t k;
    if (s->meta && rs_smeta_sorted(c, s, 1, &v, &k) == 0) {
        for (size_t i = 0; i < k; i++)
            rs_repl_smeta(c, n, NULL, s, v[i]);
        rs_free(v);
    }
}

void rs_repl_smeta(struct rs_core *c, struct rs_node *to, const struct rs_node *except,
                   const struct rs_scope *s, const struct rs_smeta *e)
{
    if (!s->joined || c->nodes.n == 0)
        return;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_SMETA;
    m.scope = rs_bytes_of(s->name, s->name_len);
    rs_msg_p_smeta_op_set(&m, e->deleted ? RS_SMETA_DELETE : RS_SMETA_SET);
    rs_msg_p_smeta_hlc_set(&m, e->hlc);
    rs_msg_p_smeta_node_set(&m, rs_bytes_of(e->node, e->node_len));
    rs_msg_p_smeta_key_set(&m, rs_bytes_of(e->key, e->key_len));
    rs_msg_p_smeta_value_set(&m, rs_bytes_of(e->val, e->val_len));
    if (to) {
        rs_out_peer(c, to, &m);
        return;
    }
    RS_NODES_EACH_UP(c, n)
    {
        if (n != except && rs_repl_shared(n, s))
            rs_out_peer(c, n, &m);
    }
}

void rs_repl_announce(struct rs_core *c, struct rs_scope *s, int joined)
{
    RS_NODES_EACH_UP(c, n)
    {
        struct rs_msg m;
        scope_frame(&m, RS_MSG_P_SCOPE, s);
        rs_msg_p_scope_joined_set(&m, (joined ? 1u : 0u) | s->opts);
        rs_out_peer(c, n, &m);
        if (joined && rs_nodes_joined(n, s))
            rs_repl_snapshot(c, n, s);
    }
}
