/* repl.c: outgoing replication of eventual scopes (docs/CLUSTER.md): one P_OP per local
 * change to every up node that joined the scope (called by the change pipeline only), one
 * P_PID_DOWN per local pid death, scope announcements (P_SCOPE) and snapshots of our own
 * entries (P_SYNC_BEGIN, P_ENTRY..., P_SYNC_END). Incoming frames: repl_in.c. */
#include <string.h>

#include "core/nodes.h"
#include "core/output.h"
#include "core/pids.h"
#include "core/repl.h"

int rs_repl_shared(const struct rs_node *n, const struct rs_scope *s)
{
    return s->joined && rs_nodes_joined(n, s);
}

void rs_repl_op(struct rs_core *c, const struct rs_scope *s, uint32_t op, uint32_t reason,
                uint64_t hlc, struct rs_pid pid, struct rs_bytes key, struct rs_bytes meta)
{
    if (!s->joined || c->nodes.n == 0)
        return;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_OP;
    m.opts = op | (reason << 8);
    m.arg = hlc;
    m.pid = pid;
    m.scope = rs_bytes_of(s->name, s->name_len);
    m.key = key;
    m.meta = meta;
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
    m.opts = reason;
    m.pid = rs_pids_of(c, p);
    RS_NODES_EACH_UP(c, n)
    {
        if (proc_in_scope_of(p, n))
            rs_out_peer(c, n, &m);
    }
}

static void send_scope_frame(struct rs_core *c, struct rs_node *n, uint8_t type,
                             const struct rs_scope *s, uint32_t opts)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.opts = opts;
    m.scope = rs_bytes_of(s->name, s->name_len);
    rs_out_peer(c, n, &m);
}

void rs_repl_snapshot(struct rs_core *c, struct rs_node *n, struct rs_scope *s)
{
    send_scope_frame(c, n, RS_MSG_P_SYNC_BEGIN, s, 0);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_ENTRY;
    m.scope = rs_bytes_of(s->name, s->name_len);
    /* Our own claims are never hidden: the visible claims cover them all. */
    for (size_t i = 0; i < s->names.cap; i++) {
        const struct rs_name *x = s->names.slots[i].item;
        if (!x || x->proc->node)
            continue;
        m.opts = RS_PENTRY_NAME;
        m.arg = x->hlc;
        m.pid = rs_pids_of(c, x->proc);
        m.key = rs_bytes_of(x->key, x->key_len);
        m.meta = rs_bytes_of(x->meta, x->meta_len);
        rs_out_peer(c, n, &m);
    }
    for (size_t i = 0; i < s->groups.cap; i++) {
        const struct rs_group *g = s->groups.slots[i].item;
        if (!g)
            continue;
        for (const struct rs_member *x = g->members; x; x = x->gnext) {
            if (x->proc->node)
                continue;
            m.opts = RS_PENTRY_MEMBER;
            m.arg = 0;
            m.pid = rs_pids_of(c, x->proc);
            m.key = rs_bytes_of(g->key, g->key_len);
            m.meta = rs_bytes_of(x->meta, x->meta_len);
            rs_out_peer(c, n, &m);
        }
    }
    send_scope_frame(c, n, RS_MSG_P_SYNC_END, s, 0);
}

void rs_repl_announce(struct rs_core *c, struct rs_scope *s, int joined)
{
    RS_NODES_EACH_UP(c, n)
    {
        send_scope_frame(c, n, RS_MSG_P_SCOPE, s, joined ? 1u : 0u);
        if (joined && rs_nodes_joined(n, s))
            rs_repl_snapshot(c, n, s);
    }
}
