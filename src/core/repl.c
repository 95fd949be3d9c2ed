/* repl.c: outgoing replication of eventual scopes (docs/CLUSTER.md): one P_OP per local
 * change to every up node that joined the scope (called by the change pipeline only), one
 * P_PID_DOWN per local pid death, scope announcements (P_SCOPE) and snapshots of our own
 * entries (P_SYNC_BEGIN, P_ENTRY..., P_SYNC_END). Incoming frames: repl_in.c. */
#include <string.h>

#include "core/nodes.h"
#include "core/output.h"
#include "core/owner.h"
#include "core/pids.h"
#include "core/repl.h"

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
    m.type = RS_MSG_P_PID_DOWN;
    rs_msg_p_pid_down_reason_set(&m, reason);
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

void rs_repl_snapshot(struct rs_core *c, struct rs_node *n, struct rs_scope *s)
{
    send_sync_mark(c, n, RS_MSG_P_SYNC_BEGIN, s);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_ENTRY;
    m.scope = rs_bytes_of(s->name, s->name_len);
    /* Our own claims are never hidden: the visible claims cover them all. */
    for (size_t i = 0; i < s->names.cap; i++) {
        const struct rs_name *x = s->names.slots[i].item;
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
        for (const struct rs_member *x = g->members; x; x = x->gnext) {
            if (x->proc->node)
                continue;
            rs_msg_p_entry_kind_set(&m, RS_PENTRY_MEMBER);
            rs_msg_p_entry_hlc_set(&m, 0);
            m.pid = rs_pids_of(c, x->proc);
            rs_msg_p_entry_owner_set(&m, rs_owner_of(x->proc));
            rs_msg_p_entry_key_set(&m, rs_bytes_of(g->key, g->key_len));
            rs_msg_p_entry_meta_set(&m, rs_bytes_of(x->meta, x->meta_len));
            rs_out_peer(c, n, &m);
        }
    }
    send_sync_mark(c, n, RS_MSG_P_SYNC_END, s);
}

void rs_repl_announce(struct rs_core *c, struct rs_scope *s, int joined)
{
    RS_NODES_EACH_UP(c, n)
    {
        struct rs_msg m;
        scope_frame(&m, RS_MSG_P_SCOPE, s);
        rs_msg_p_scope_joined_set(&m, joined ? 1u : 0u);
        rs_out_peer(c, n, &m);
        if (joined && rs_nodes_joined(n, s))
            rs_repl_snapshot(c, n, s);
    }
}
