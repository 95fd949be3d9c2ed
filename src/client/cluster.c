/* cluster.c: runtime cluster membership (cluster-join, cluster-leave, forget) and the
 * owners of pids (OS pid and uid of the client holding a pid), issue 11 items 13 and 16. */
#include <stdio.h>
#include <string.h>

#include "client/client.h"

int roster_cluster_join(roster_client *c, const char *addr, int timeout_ms)
{
    int r = rs_client_begin(c);
    if (r)
        return r;
    size_t n = addr ? strlen(addr) : 0;
    if (n == 0)
        return rs_client_fail(c, ROSTER_EINVAL, "no address (HOST:PORT)");
    if ((r = rs_client_check_key(c, addr, n, "address")))
        return r;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CLUSTER_JOIN;
    rs_msg_cluster_join_addr_set(&m, rs_bytes_of(addr, n));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}

int roster_cluster_leave(roster_client *c, size_t *peers, int timeout_ms)
{
    if (peers)
        *peers = 0;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_CLUSTER_LEAVE;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    int r = rs_client_request(c, &m, &req, timeout_ms);
    if (r == 0 && peers) {
        struct rs_msg rep = rs_req_reply(&req);
        *peers = (size_t)rs_msg_cluster_leave_reply_peers(&rep);
    }
    return r;
}

int roster_forget(roster_client *c, const char *node, size_t *records, int timeout_ms)
{
    if (records)
        *records = 0;
    int r = rs_client_begin(c);
    if (r)
        return r;
    size_t n = node ? strlen(node) : 0;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_FORGET;
    if (n && strchr(node, ':')) { /* HOST:PORT (node names have no ':') */
        if ((r = rs_client_check_key(c, node, n, "address")))
            return r;
        rs_msg_forget_addr_set(&m, rs_bytes_of(node, n));
    } else if (n == 0 || n > RS_NODE_NAME_MAX) {
        return rs_client_fail(c, ROSTER_EINVAL, "node name of %zu bytes (1 to %u)", n,
                              RS_NODE_NAME_MAX);
    } else {
        rs_msg_forget_node_set(&m, rs_bytes_of(node, n));
    }
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    if (r == 0 && records) {
        struct rs_msg rep = rs_req_reply(&req);
        *records = (size_t)rs_msg_forget_reply_records(&rep);
    }
    return r;
}

static void owner_of(const struct rs_req *q, roster_owner *out)
{
    struct rs_msg rep = rs_req_reply(q);
    out->os_pid = (int32_t)(uint32_t)rs_msg_owner_reply_os_pid(&rep);
    out->uid = (uint32_t)rs_msg_owner_reply_uid(&rep);
    snprintf(out->node, sizeof out->node, "%s", q->node);
}

int roster_pid_owner(roster_client *c, roster_pid pid, roster_owner *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_OWNER;
    m.pid.inc = pid.node_inc;
    m.pid.serial = pid.serial;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    int r = rs_client_request(c, &m, &req, timeout_ms);
    if (r == 0)
        owner_of(&req, out);
    return r;
}

int roster_pid_owners(roster_client *c, const roster_pid *pids, size_t n, roster_owner *out,
                      int *status, int timeout_ms)
{
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (n && (!pids || !out))
        return rs_client_fail(c, ROSTER_EINVAL, "pids or out is NULL");
    if (n > ROSTER_BATCH_MAX)
        return rs_client_fail(c, ROSTER_EINVAL, "%zu pids (at most %d)", n, ROSTER_BATCH_MAX);
    memset(out, 0, n * sizeof *out);
    for (size_t i = 0; status && i < n; i++)
        status[i] = ROSTER_EUNKNOWN;
    if (n == 0)
        return 0;
    struct rs_msg *msgs = rs_malloc(n * sizeof *msgs);
    struct rs_req *reqs = rs_malloc(n * sizeof *reqs);
    if (!msgs || !reqs) {
        rs_free(msgs);
        rs_free(reqs);
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory for %zu owners", n);
    }
    for (size_t i = 0; i < n; i++) {
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].type = RS_MSG_OWNER;
        msgs[i].pid.inc = pids[i].node_inc;
        msgs[i].pid.serial = pids[i].serial;
    }
    r = rs_client_request_many(c, msgs, reqs, n, timeout_ms);
    int failed = 0;
    for (size_t i = 0; !r && i < n; i++) {
        int st = reqs[i].err ? reqs[i].err : reqs[i].status;
        if (status)
            status[i] = st;
        if (st == 0)
            owner_of(&reqs[i], &out[i]);
        else
            failed++;
    }
    rs_free(msgs);
    rs_free(reqs);
    return r ? r : failed;
}
