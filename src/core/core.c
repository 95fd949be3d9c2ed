/* core.c: the core's entry points (rs_core_new/free/apply/stats), the one dispatch over
 * input kinds and message types, the client table and handshake, and the node-level
 * requests: PING, STATUS, COUNT, LOG_LEVEL (NODES and the peer inputs: cluster.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "core/access.h"
#include "core/calls.h"
#include "core/cas.h"
#include "core/chan.h"
#include "core/cluster.h"
#include "core/core.h"
#include "core/flow.h"
#include "core/groups.h"
#include "core/lease.h"
#include "core/life.h"
#include "core/membership.h"
#include "core/monitor.h"
#include "core/monitors.h"
#include "core/nodes.h"
#include "core/output.h"
#include "core/owner.h"
#include "core/peer_in.h"
#include "core/pids.h"
#include "core/query.h"
#include "core/publish.h"
#include "core/registry.h"
#include "core/resolver.h"
#include "core/route.h"
#include "core/scope.h"
#include "core/scopelease.h"
#include "core/scopemeta.h"
#include "core/scopes.h"
#include "core/strong.h"
#include "core/subs.h"
#include "core/subscribe.h"
#include "core/ttl.h"
#include "core/util.h"
#include "wire/shm.h"

static int client_eq(const void *item, const void *key)
{
    return ((const struct rs_client *)item)->conn == *(const uint64_t *)key;
}

static struct rs_client *client_find(const struct rs_core *c, uint64_t conn)
{
    return rs_map_get(&c->clients, rs_hash_u64(c->seed, conn), &conn, client_eq);
}

struct rs_core *rs_core_new(const struct rs_core_config *cfg)
{
    if (!cfg || !cfg->node_name || rs_limits_check(&cfg->limits) != 0)
        return NULL;
    size_t nl = strlen(cfg->node_name);
    if (nl == 0 || nl > RS_NODE_NAME_MAX)
        return NULL;
    struct rs_core *c = rs_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    memcpy(c->node, cfg->node_name, nl);
    c->node_len = (uint32_t)nl;
    c->inc = cfg->incarnation;
    c->seed = cfg->hash_seed;
    c->start_ms = c->now_ms = cfg->now_ms;
    c->lim = cfg->limits;
    c->trace = cfg->log_level == RS_LOG_TRACE;
    rs_ttl_init(c);
    rs_map_init(&c->clients);
    rs_map_init(&c->procs);
    rs_map_init(&c->scopes);
    rs_map_init(&c->members);
    rs_map_init(&c->subs);
    rs_map_init(&c->mons);
    rs_map_init(&c->pmons);
    rs_route_init(c);
    c->route.px_max = cfg->call_proxies_max;
    c->admin_uid = cfg->admin_uid;
    c->next_serial = c->next_sub_id = c->next_mon_id = c->next_group_id = 1;
    c->dflt = rs_scopes_create(c, rs_bytes_str("default"), ROSTER_SCOPE_EVENTUAL);
    if (!c->dflt) {
        rs_core_free(c);
        return NULL;
    }
    c->dflt->joined = 1;
    if (rs_cluster_init(c, cfg) != 0 || rs_resolver_init(c, cfg) != 0 ||
        rs_strong_init(c, cfg) != 0 || rs_pub_init(c, cfg) != 0 || rs_chan_init(c, cfg) != 0) {
        rs_core_free(c);
        return NULL;
    }
    return c;
}

void rs_core_free(struct rs_core *c)
{
    if (!c)
        return;
    rs_chan_free_all(c);
    rs_flow_free_all(c);
    rs_calls_free_all(c);
    rs_route_free(c);
    rs_subs_free_all(c);
    rs_monitors_free_all(c);
    rs_strong_free(c);
    rs_ttl_free_all(c);
    for (size_t i = 0; i < c->scopes.cap; i++)
        if (c->scopes.slots[i].item)
            rs_scopes_free(c->scopes.slots[i].item);
    for (size_t i = 0; i < c->procs.cap; i++)
        rs_free(c->procs.slots[i].item);
    for (size_t i = 0; i < c->clients.cap; i++)
        rs_free(c->clients.slots[i].item);
    rs_cluster_free(c);
    rs_pub_fini(c);
    rs_map_fini(&c->clients);
    rs_map_fini(&c->procs);
    rs_map_fini(&c->scopes);
    rs_map_fini(&c->members);
    rs_map_fini(&c->subs);
    rs_map_fini(&c->mons);
    rs_free(c);
}

void rs_core_stats(const struct rs_core *c, struct rs_core_stats *st)
{
    st->clients = c->clients.n;
    st->pids = c->procs.n;
    st->names = c->n_names;
    st->groups = c->n_groups;
    st->members = c->n_members;
    st->subscriptions = c->subs.n;
    st->monitors = c->mons.n;
    st->scopes = c->scopes.n;
    st->calls_pending = rs_calls_pending(c);
    st->call_proxies = c->route.n_px;
    st->events_sent = c->n_events_sent;
    st->sub_overflows = c->n_sub_overflows;
    st->conflicts = c->n_conflicts;
    st->nodes_down = c->n_nodes_down;
    st->msgs_delivered = c->route.delivered;
    st->msgs_dropped = c->route.dropped;
    st->leases = rs_ttl_count(c);
    st->leases_expired = c->n_leases_expired;
    st->unread_bytes = st->unread_max = 0;
    for (size_t i = 0; i < c->clients.cap; i++) {
        const struct rs_client *cl = c->clients.slots[i].item;
        if (!cl)
            continue;
        st->unread_bytes += cl->unread;
        if (cl->unread > st->unread_max)
            st->unread_max = cl->unread;
    }
}

void rs_core_scopes_each(const struct rs_core *c,
                         void (*fn)(void *ctx, const struct rs_core_scope_view *v), void *ctx)
{
    for (size_t i = 0; i < c->scopes.cap; i++) {
        const struct rs_scope *s = c->scopes.slots[i].item;
        if (!s)
            continue;
        struct rs_core_scope_view v = {s->name, s->name_len, s->names.n, s->groups.n,
                                       s->n_members, 0};
        for (const struct rs_sub *sub = s->subs; sub; sub = sub->snext)
            v.subscriptions++;
        fn(ctx, &v);
    }
}

void rs_core_nodes_each(const struct rs_core *c,
                        void (*fn)(void *ctx, const struct rs_core_node_view *v), void *ctx)
{
    for (size_t i = 0; i < c->nodes.cap; i++) {
        const struct rs_node *n = c->nodes.slots[i].item;
        if (!n)
            continue;
        /* a node that left cleanly is shown as such, not as failed */
        int state = n->left ? ROSTER_NODE_LEFT : n->state;
        struct rs_core_node_view v = {n->name, n->name_len, n->inc, state, n->conn,
                                      n->rtt_ms, n->n_up, n->n_entries, n->bytes_in,
                                      n->bytes_out, n->unread};
        fn(ctx, &v);
    }
}

unsigned rs_core_raise_limits(struct rs_core *c, const struct rs_limits *l)
{
    unsigned *cur[] = {&c->lim.conns_max, &c->lim.pids_per_client,
                       &c->lim.entries_per_client, &c->lim.subs_per_client,
                       &c->lim.monitors_per_client, &c->lim.queue_bytes, &c->lim.outbuf_max,
                       &c->lim.mailbox_bytes};
    const unsigned want[] = {l->conns_max, l->pids_per_client, l->entries_per_client,
                             l->subs_per_client, l->monitors_per_client, l->queue_bytes,
                             l->outbuf_max, l->mailbox_bytes};
    unsigned raised = 0;
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
        if (want[i] > *cur[i]) {
            *cur[i] = want[i];
            raised |= 1u << i;
        }
    return raised;
}

/* --- connections -------------------------------------------------------------------- */

void rs_core_set_log_level(struct rs_core *c, int level)
{
    c->trace = level == RS_LOG_TRACE;
}

static void on_open(struct rs_core *c, const struct rs_input *in)
{
    /* conn ids are never reused: a second OPEN is a shell bug */
    if (RS_NEVER(client_find(c, in->conn) != NULL))
        return;
    if (c->clients.n >= c->lim.conns_max) {
        char text[128];
        int n = snprintf(text, sizeof text, "node has %u client connections (the maximum)",
                         c->lim.conns_max);
        struct rs_msg r;
        memset(&r, 0, sizeof r);
        r.type = RS_MSG_HELLO;
        r.flags = RS_F_REPLY;
        r.status = ROSTER_EBUSY;
        rs_msg_hello_reply_incarnation_set(&r, c->inc);
        rs_msg_hello_reply_node_set(&r, rs_bytes_node(c));
        rs_msg_hello_reply_prev_set(&r, rs_bytes_of(text, (size_t)n));
        rs_out_frame_conn(c, in->conn, &r);
        rs_out_close_conn(c, in->conn, "too many connections (%u)", c->lim.conns_max);
        rs_out_log(c, RS_LOG_WARN, "refused client os pid %d: too many connections (%u)",
                   (int)in->os_pid, c->lim.conns_max);
        return;
    }
    struct rs_client *cl = rs_calloc(1, sizeof *cl);
    if (!cl) {
        c->oom = 1;
        return;
    }
    cl->conn = in->conn;
    cl->os_pid = in->os_pid;
    cl->uid = in->uid;
    cl->gid = in->gid;
    for (size_t i = 0; i < in->n_groups && cl->n_groups < RS_CLIENT_GROUPS_MAX; i++)
        cl->groups[cl->n_groups++] = in->groups[i];
    if (rs_map_put(&c->clients, rs_hash_u64(c->seed, cl->conn), cl) != 0) {
        rs_free(cl);
        c->oom = 1;
        return;
    }
    rs_out_log(c, RS_LOG_DEBUG, "conn %llu: client os pid %d uid %u connected",
               (unsigned long long)cl->conn, (int)cl->os_pid, (unsigned)cl->uid);
}

static void on_gone(struct rs_core *c, uint64_t conn)
{
    struct rs_client *cl = client_find(c, conn);
    if (!cl)
        return;
    rs_out_log(c, RS_LOG_INFO, "conn %llu: client '%s' (os pid %d) disconnected, %u pid(s) die",
               (unsigned long long)conn, cl->name, (int)cl->os_pid, (unsigned)cl->n_pids);
    /* Its own calls, subscriptions and monitors go first: nothing more is sent to it. */
    rs_flow_client_gone(c, cl);
    rs_chan_client_gone(c, cl);
    rs_calls_drop_client(c, cl);
    for (struct rs_sub *s = cl->subs; s; s = s->cnext)
        rs_strong_sub_gone(c, s);
    rs_subs_drop_client(c, cl);
    rs_monitor_drop_client(c, cl);
    cl->closing = 1;
    while (cl->procs)
        rs_life_kill(c, cl->procs, ROSTER_REASON_DISCONNECTED);
    rs_map_del_item(&c->clients, rs_hash_u64(c->seed, conn), cl);
    rs_free(cl);
}

static void on_flushed(struct rs_core *c, uint64_t conn, uint64_t n)
{
    struct rs_client *cl = client_find(c, conn);
    if (!cl) {
        rs_cluster_on_flushed(c, conn, n);
        return;
    }
    cl->unread = n >= cl->unread ? 0 : cl->unread - n;
    /* Count flushed bytes against the snapshot first: it may make the overflow check a
     * little lenient (bytes queued before a snapshot), never stricter than queue_bytes. */
    cl->snap_unread = n >= cl->snap_unread ? 0 : cl->snap_unread - n;
    if (cl->snap_unread > cl->unread)
        cl->snap_unread = cl->unread;
    if (cl->park.head)
        rs_flow_client_flushed(c, cl);
}

/* --- requests ----------------------------------------------------------------------- */

static void on_hello(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    struct rs_bytes name = rs_msg_hello_client_name(m);
    size_t kn = name.len < RS_CLIENT_NAME_MAX ? name.len : RS_CLIENT_NAME_MAX;
    rs_fmt_key(cl->name, sizeof cl->name, name.ptr, kn);
    struct rs_msg r;
    memset(&r, 0, sizeof r);
    rs_msg_hello_reply_incarnation_set(&r, c->inc);
    rs_msg_hello_reply_node_set(&r, rs_bytes_node(c));
    uint64_t magic = rs_msg_hello_magic(m);
    uint32_t opts = rs_msg_hello_version(m); /* the version, and RS_HELLO_WANT_SHM above it */
    uint32_t version = opts & RS_HELLO_VERSION_MASK;
    if (magic != RS_WIRE_MAGIC || version != RS_WIRE_VERSION) {
        char text[160];
        int n;
        if (magic != RS_WIRE_MAGIC)
            n = snprintf(text, sizeof text, "bad magic 0x%llx: not a roster client",
                         (unsigned long long)magic);
        else
            n = snprintf(text, sizeof text,
                         "node speaks protocol version %u, client sent %u", RS_WIRE_VERSION,
                         (unsigned)version);
        r.status = ROSTER_EVERSION;
        rs_msg_hello_reply_prev_set(&r, rs_bytes_of(text, (size_t)n));
        rs_out_reply(c, cl, m, &r);
        rs_out_close(c, cl, "handshake refused: %s", text);
        return;
    }
    struct rs_proc *p = rs_pids_create(c, cl);
    if (!p)
        return;
    cl->hello = 1;
    rs_msg_hello_reply_name_max_set(&r, c->lim.name_max);
    rs_msg_hello_reply_sizes_set(&r, rs_msg_hello_sizes_pack(c->lim.frame_max, c->lim.meta_max));
    uint8_t limits[RS_HELLO_LIMITS_LEN];
    rs_msg_hello_reply_set_message_max(&r, limits, c->lim.message_max);
    rs_msg_hello_reply_pid_set(&r, rs_pids_of(c, p));
    if ((opts & RS_HELLO_WANT_SHM) && rs_pub_on(c) && rs_access_shm(c, cl))
        rs_out_shm_fd(c, cl->conn); /* rides with the reply's bytes */
    rs_chan_hello(c, cl, opts);
    rs_out_reply(c, cl, m, &r);
    rs_out_log(c, RS_LOG_INFO, "conn %llu: client '%s' (os pid %d uid %u) connected, pid %llu",
               (unsigned long long)cl->conn, cl->name, (int)cl->os_pid, (unsigned)cl->uid,
               (unsigned long long)p->serial);
}

struct stat_item {
    const char *name;
    uint64_t value;
};

static void on_status(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    const struct rs_limits *l = &c->lim;
    struct rs_core_access_stats ast;
    rs_core_access_stats(c, &ast);
    struct rs_chan_stats chs;
    rs_chan_stats(c, &chs);
    const struct stat_item items[] = {
        {"uptime_ms", c->now_ms >= c->start_ms ? c->now_ms - c->start_ms : 0},
        {"incarnation", c->inc},
        {"clients", c->clients.n},
        {"pids", c->procs.n},
        {"names", c->n_names},
        {"groups", c->n_groups},
        {"members", c->n_members},
        {"subscriptions", c->subs.n},
        {"monitors", c->mons.n},
        {"scopes", c->scopes.n},
        {"messages_delivered", c->route.delivered},
        {"messages_dropped", c->route.dropped},
        {"messages_held", c->route.held_msgs},
        {"messages_held_bytes", c->route.held_bytes},
        {"messages_held_total", c->route.held_total},
        {"senders_paused", c->route.paused},
        {"channels_open", chs.open},
        {"channels_opened", chs.opened},
        {"channels_closed", chs.closed},
        {"channels_refused", chs.refused},
        {"requests", c->n_requests},
        {"events_sent", c->n_events_sent},
        {"subscription_overflows", c->n_sub_overflows},
        {"conflicts_resolved", c->n_conflicts},
        {"nodes_declared_down", c->n_nodes_down},
        {"calls_pending", rs_calls_pending(c)},
        {"leases", rs_ttl_count(c)},
        {"leases_expired", c->n_leases_expired},
        {"limit_name_max", l->name_max},
        {"limit_meta_max", l->meta_max},
        {"limit_frame_max", l->frame_max},
        {"limit_conns_max", l->conns_max},
        {"limit_pids_per_client", l->pids_per_client},
        {"limit_entries_per_client", l->entries_per_client},
        {"limit_subs_per_client", l->subs_per_client},
        {"limit_monitors_per_client", l->monitors_per_client},
        {"limit_queue_bytes", l->queue_bytes},
        {"limit_outbuf_max", l->outbuf_max},
        {"limit_stall_ms", l->stall_ms},
        {"limit_message_max", l->message_max},
        {"limit_mailbox_bytes", l->mailbox_bytes},
        {"acl_rules", c->access.acl ? ast.acl_rules : 0},
        {"acl_refusals", ast.acl_refusals},
        {"memory_bytes", ast.memory_used},
        {"memory_max", ast.memory_max},
        {"memory_full", (uint64_t)ast.memory_full},
        {"memory_refusals", ast.memory_refusals},
        {"resolver_refused", c->n_resolver_refused},
    };
    size_t n = sizeof items / sizeof items[0];
    for (size_t i = 0; i < n; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        rs_msg_status_item_value_set(&it, items[i].value);
        rs_msg_status_item_stat_set(&it, rs_bytes_str(items[i].name));
        rs_out_item(c, cl, m, &it);
    }
    rs_out_count(c, cl, m, n);
}

static void on_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    struct rs_scope *s = rs_scope_of(c, cl, m);
    if (!s)
        return;
    if (s->kv) {
        rs_strong_on_count(c, cl, m, s);
        return;
    }
    /* A node filter names this node or a node it knows of: that node's entries. */
    uint64_t names = s->names.n, groups = s->groups.n, members = s->n_members;
    struct rs_bytes only = rs_msg_count_node(m);
    if (only.len != 0) {
        const struct rs_node *n = NULL;
        if (!rs_bytes_eq(only.ptr, only.len, (const uint8_t *)c->node, c->node_len) &&
            !(n = rs_nodes_named(c, only))) {
            char kb[80];
            rs_out_error(c, cl, m, ROSTER_ENOTFOUND, "node '%s' is not known",
                         rs_fmt_key(kb, sizeof kb, only.ptr, only.len));
            return;
        }
        rs_nodes_count(c, s, n, &names, &groups, &members);
    }
    const struct stat_item items[] = {
        {"names", names},
        {"groups", groups},
        {"members", members},
    };
    for (size_t i = 0; i < 3; i++) {
        struct rs_msg it;
        memset(&it, 0, sizeof it);
        rs_msg_count_item_value_set(&it, items[i].value);
        rs_msg_count_item_counter_set(&it, rs_bytes_str(items[i].name));
        rs_out_item(c, cl, m, &it);
    }
    rs_out_count(c, cl, m, 3);
}

static void on_log_level(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m)
{
    uint32_t level = rs_msg_log_level_level(m);
    if (level > RS_LOG_OFF) {
        rs_out_error(c, cl, m, ROSTER_EINVAL, "log level %u is not 0..5 (error..trace, off)",
                     (unsigned)level);
        return;
    }
    if (rs_out_log_level(c, (int)level) != 0)
        return;
    c->trace = level == RS_LOG_TRACE;
    rs_out_ok(c, cl, m);
}

static void on_msg(struct rs_core *c, uint64_t conn, const struct rs_msg *m)
{
    struct rs_client *cl = client_find(c, conn);
    if (!cl || cl->closing || !m)
        return;
    if (m->flags != 0) {
        rs_out_close(c, cl, "protocol error: %s frame with flags 0x%x (clients send requests)",
                     rs_wire_type_name(m->type), (unsigned)m->flags);
        return;
    }
    if (!rs_access_admit(c, cl, m))
        return;
    if (!cl->hello) {
        if (m->type == RS_MSG_HELLO)
            on_hello(c, cl, m);
        else
            rs_out_close(c, cl, "protocol error: first frame is %s, not HELLO",
                         rs_wire_type_name(m->type));
        return;
    }
    if (c->trace)
        rs_out_log(c, RS_LOG_TRACE, "conn %llu: %s request %u (pid %llu)",
                   (unsigned long long)conn, rs_wire_type_name(m->type), (unsigned)m->req_id,
                   (unsigned long long)m->pid.serial);
    switch (m->type) {
    case RS_MSG_HELLO:
        rs_out_close(c, cl, "protocol error: second HELLO");
        break;
    case RS_MSG_PING:
        rs_out_ok(c, cl, m);
        break;
    case RS_MSG_CLUSTER_JOIN:
        rs_membership_on_join(c, cl, m);
        break;
    case RS_MSG_CLUSTER_LEAVE:
        rs_membership_on_leave(c, cl, m);
        break;
    case RS_MSG_FORGET:
        rs_membership_on_forget(c, cl, m);
        break;
    case RS_MSG_OWNER:
        rs_owner_on_owner(c, cl, m);
        break;
    case RS_MSG_CHANNEL_OPEN:
        rs_chan_on_open(c, cl, m);
        break;
    case RS_MSG_CHANNEL_MARK:
        rs_chan_on_mark(c, cl, m);
        break;
    case RS_MSG_CHANNEL_CLOSE:
        rs_chan_on_close(c, cl, m);
        break;
    case RS_MSG_CHANNEL_REPLY:
        rs_chan_on_reply(c, cl, m);
        break;
    case RS_MSG_PID_NEW:
        rs_life_on_new(c, cl, m);
        break;
    case RS_MSG_PID_CLOSE:
        rs_life_on_close(c, cl, m);
        break;
    case RS_MSG_SCOPE_CREATE:
        rs_scope_on_create(c, cl, m);
        break;
    case RS_MSG_SCOPES:
        rs_scope_on_list(c, cl, m);
        break;
    case RS_MSG_REGISTER:
        rs_registry_on_register(c, cl, m);
        rs_lease_after_plain(c, cl, m, 0);
        break;
    case RS_MSG_UNREGISTER:
        rs_registry_on_unregister(c, cl, m);
        break;
    case RS_MSG_LOOKUP:
        rs_registry_on_lookup(c, cl, m);
        break;
    case RS_MSG_NAMES:
        rs_registry_on_names(c, cl, m);
        break;
    case RS_MSG_COUNT:
        on_count(c, cl, m);
        break;
    case RS_MSG_JOIN:
        rs_groups_on_join(c, cl, m);
        rs_lease_after_plain(c, cl, m, 1);
        break;
    case RS_MSG_LEAVE:
        rs_groups_on_leave(c, cl, m);
        break;
    case RS_MSG_MEMBERS:
        rs_groups_on_members(c, cl, m);
        break;
    case RS_MSG_IS_MEMBER:
        rs_groups_on_is_member(c, cl, m);
        break;
    case RS_MSG_GROUPS:
        rs_groups_on_groups(c, cl, m);
        break;
    case RS_MSG_SUBSCRIBE:
        rs_subscribe_on_subscribe(c, cl, m);
        break;
    case RS_MSG_UNSUBSCRIBE:
        rs_subscribe_on_unsubscribe(c, cl, m);
        break;
    case RS_MSG_MONITOR:
        rs_monitor_on_monitor(c, cl, m);
        break;
    case RS_MSG_DEMONITOR:
        rs_monitor_on_demonitor(c, cl, m);
        break;
    case RS_MSG_STATUS:
        on_status(c, cl, m);
        break;
    case RS_MSG_NODES:
        rs_cluster_on_nodes(c, cl, m);
        break;
    case RS_MSG_SCOPE_JOIN:
        rs_scope_on_join(c, cl, m);
        break;
    case RS_MSG_SCOPE_LEAVE:
        rs_scope_on_leave(c, cl, m);
        break;
    case RS_MSG_LOG_LEVEL:
        on_log_level(c, cl, m);
        break;
    case RS_MSG_SEND:
        rs_route_on_send(c, cl, m);
        break;
    case RS_MSG_PUBLISH:
        rs_route_on_publish(c, cl, m);
        break;
    case RS_MSG_CALL:
        rs_calls_on_call(c, cl, m);
        break;
    case RS_MSG_REPLY:
        rs_calls_on_reply(c, cl, m);
        break;
    case RS_MSG_MULTI_CALL:
        rs_calls_on_multi(c, cl, m);
        break;
    case RS_MSG_CHECK_TOKEN:
        rs_cas_on_check_token(c, cl, m);
        break;
    case RS_MSG_HANDOFF:
        rs_cas_on_handoff(c, cl, m);
        break;
    case RS_MSG_UPDATE:
        rs_cas_on_update(c, cl, m);
        break;
    case RS_MSG_CAMPAIGN:
        rs_cas_on_campaign(c, cl, m);
        break;
    case RS_MSG_QUERY:
        rs_query_on_query(c, cl, m);
        break;
    case RS_MSG_QUERY_COUNT:
        rs_query_on_count(c, cl, m);
        break;
    case RS_MSG_UNMATCH:
        rs_query_on_unmatch(c, cl, m);
        break;
    case RS_MSG_LEASE:
        rs_lease_on_lease(c, cl, m);
        break;
    case RS_MSG_RENEW:
        rs_lease_on_renew(c, cl, m);
        break;
    case RS_MSG_PID_EXIT:
        rs_lease_on_exit(c, cl, m);
        break;
    case RS_MSG_SCOPE_META_SET:
        rs_scopemeta_on_set(c, cl, m);
        break;
    case RS_MSG_SCOPE_META_GET:
        rs_scopemeta_on_get(c, cl, m);
        break;
    case RS_MSG_SCOPE_META_DELETE:
        rs_scopemeta_on_delete(c, cl, m);
        break;
    case RS_MSG_SCOPE_LEASE:
        rs_scopelease_on_lease(c, cl, m);
        break;
    default:
        rs_out_close(c, cl, "protocol error: %s is not a client request",
                     rs_wire_type_name(m->type));
        break;
    }
}

int rs_core_apply(struct rs_core *c, const struct rs_input *in, struct rs_outputs *out)
{
    c->out = out;
    c->oom = 0;
    if (in->now_ms > c->now_ms)
        c->now_ms = in->now_ms;
    c->wall_ms = in->wall_ms;
    rs_access_recheck(c);
    rs_chan_recheck(c);
    rs_strong_begin(c);
    switch (in->kind) {
    case RS_IN_CLIENT_OPEN:
        on_open(c, in);
        break;
    case RS_IN_CLIENT_MSG:
        c->n_requests++;
        on_msg(c, in->conn, in->msg);
        break;
    case RS_IN_CLIENT_GONE:
        on_gone(c, in->conn);
        break;
    case RS_IN_CLIENT_FLUSHED:
        on_flushed(c, in->conn, in->n_bytes);
        break;
    case RS_IN_TICK:
        rs_cluster_on_tick(c);
        rs_calls_tick(c);
        rs_strong_tick(c);
        rs_lease_tick(c);
        rs_scopelease_tick(c);
        break;
    case RS_IN_PEER_UP:
        rs_cluster_on_up(c, in);
        break;
    case RS_IN_PEER_MSG:
        rs_peer_in(c, in->conn, in->msg);
        break;
    case RS_IN_PEER_GONE:
        rs_cluster_on_gone(c, in->conn);
        break;
    case RS_IN_KV:
        rs_strong_on_kv(c, in->kv);
        break;
    }
    rs_cluster_end_apply(c);
    rs_resolver_end_apply(c);
    c->out = NULL;
    return c->oom ? -1 : 0;
}
