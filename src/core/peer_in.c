/* peer_in.c: the one entry of peer frames. Every frame of another node arrives here, is
 * checked for what all peer frames share (a current connection, no flags, no request id,
 * a peer type), and goes through ONE switch over every P_* type to the validator and
 * handler next to its module: cluster.c (gossip, heartbeats), repl_in.c (replication),
 * monitor.c (monitors), route.c and calls.c (messaging). Any frame a handler finds
 * malformed fails the node (rs_cluster_fail). */
#include "core/calls.h"
#include "core/cluster.h"
#include "core/flow.h"
#include "core/membership.h"
#include "core/resolver.h"
#include "core/monitor.h"
#include "core/peer_in.h"
#include "core/repl_in.h"
#include "core/route.h"
#include "core/scopemeta.h"

void rs_peer_in(struct rs_core *c, uint64_t conn, const struct rs_msg *m)
{
    struct rs_node *n = rs_cluster_peer(c, conn);
    if (!n || !m)
        return;
    n->last_rx_ms = c->now_ms;
    n->bytes_in += rs_wire_size(m); /* metrics: every frame, prefix included */
    if (m->flags != 0 || m->req_id != 0 || m->type < RS_MSG_PEER_MIN) {
        rs_cluster_fail(c, n, "unexpected frame type %u flags 0x%x on a peer connection",
                        (unsigned)m->type, (unsigned)m->flags);
        return;
    }
    switch (m->type) {
    case RS_MSG_P_NODE:
        rs_cluster_on_p_node(c, n, m);
        break;
    case RS_MSG_P_PING:
        rs_cluster_on_p_ping(c, n, m);
        break;
    case RS_MSG_P_PONG: {
        /* its arrival is what counts (last_rx_ms); the echoed time gives the round trip */
        uint64_t t = rs_msg_p_pong_time(m);
        if (t <= c->now_ms && c->now_ms - t < 3600000u)
            n->rtt_ms = c->now_ms - t;
        break;
    }
    case RS_MSG_P_SCOPE:
        rs_repl_on_p_scope(c, n, m);
        break;
    case RS_MSG_P_SYNC_BEGIN:
        rs_repl_on_sync_begin(c, n, m);
        break;
    case RS_MSG_P_ENTRY:
        rs_repl_on_p_entry(c, n, m);
        break;
    case RS_MSG_P_SYNC_END:
        rs_repl_on_sync_end(c, n, m);
        break;
    case RS_MSG_P_OP:
        rs_repl_on_p_op(c, n, m);
        break;
    case RS_MSG_P_PID_DOWN:
        rs_repl_on_p_pid_down(c, n, m);
        break;
    case RS_MSG_P_PID_EXIT:
        rs_repl_on_p_pid_exit(c, n, m);
        break;
    case RS_MSG_P_MONITOR:
        rs_monitor_on_p_monitor(c, n, m);
        break;
    case RS_MSG_P_DEMONITOR:
        rs_monitor_on_p_demonitor(c, n, m);
        break;
    case RS_MSG_P_DOWN:
        rs_monitor_on_p_down(c, n, m);
        break;
    case RS_MSG_P_DOWN_EXIT:
        rs_monitor_on_p_down_exit(c, n, m);
        break;
    case RS_MSG_P_SEND:
        if (!rs_route_check_p_send(c, n, m))
            break;
        if (rs_route_p_send_is_call(m))
            rs_calls_on_p_send(c, n, m);
        else
            rs_route_on_p_send(c, n, m);
        break;
    case RS_MSG_P_PUBLISH:
        rs_route_on_p_publish(c, n, m);
        break;
    case RS_MSG_P_REPLY:
        rs_calls_on_p_reply(c, n, m);
        break;
    case RS_MSG_P_NOPROC:
        rs_calls_on_p_noproc(c, n, m);
        break;
    case RS_MSG_P_FLOW:
        rs_flow_on_p_flow(c, n, m);
        break;
    case RS_MSG_P_SMETA:
        rs_scopemeta_on_p_smeta(c, n, m);
        break;
    case RS_MSG_P_LEAVE:
        rs_membership_on_p_leave(c, n, m);
        break;
    case RS_MSG_P_POLICY:
        rs_resolver_on_p_policy(c, n, m);
        break;
    default:
        rs_cluster_fail(c, n, "frame type %u is not a peer frame", (unsigned)m->type);
        break;
    }
}
