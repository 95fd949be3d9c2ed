/* lease.c: leases and exit reasons in libroster (issue 11 items 7 and 8): register and join
 * with a TTL (LEASE), renew every lease of a pid (RENEW), close a pid with an exit reason
 * (PID_EXIT). The node keeps the time; the library only asks. */
#include <string.h>

#include "client/client.h"

static int lease_request(roster_client *c, uint32_t kind, const char *scope, const void *key,
                         size_t key_len, roster_pid pid, const void *meta, size_t meta_len,
                         uint32_t ttl_ms, roster_pid *holder, uint64_t *token, int timeout_ms)
{
    if (token)
        *token = 0;
    struct rs_msg m;
    int r = rs_client_build_write(c, &m, kind == RS_LEASE_NAME ? RS_MSG_REGISTER : RS_MSG_JOIN,
                                  scope, key, key_len, pid, meta, meta_len);
    if (r)
        return r;
    if (ttl_ms < ROSTER_TTL_MIN_MS || ttl_ms > ROSTER_TTL_MAX_MS)
        return rs_client_fail(c, ROSTER_EINVAL, "ttl %u ms is outside %u..%u ms",
                              (unsigned)ttl_ms, ROSTER_TTL_MIN_MS, ROSTER_TTL_MAX_MS);
    m.type = RS_MSG_LEASE;
    rs_msg_lease_kind_set(&m, kind);
    rs_msg_lease_ttl_set(&m, ttl_ms);
    if ((r = rs_client_check_frame(c, &m)))
        return r;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    if (holder && (r == 0 || r == ROSTER_ETAKEN)) {
        struct rs_pid h = rs_msg_lease_reply_holder(&rep);
        holder->node_inc = h.inc;
        holder->serial = h.serial;
    }
    if (token && r == 0)
        *token = rs_msg_lease_reply_token(&rep);
    return r;
}

int roster_register_ttl(roster_client *c, const char *scope, const void *name, size_t name_len,
                        roster_pid pid, const void *meta, size_t meta_len, uint32_t ttl_ms,
                        roster_pid *holder, uint64_t *token, int timeout_ms)
{
    return lease_request(c, RS_LEASE_NAME, scope, name, name_len, pid, meta, meta_len, ttl_ms,
                         holder, token, timeout_ms);
}

int roster_join_ttl(roster_client *c, const char *scope, const void *group, size_t group_len,
                    roster_pid pid, const void *meta, size_t meta_len, uint32_t ttl_ms,
                    int timeout_ms)
{
    return lease_request(c, RS_LEASE_MEMBER, scope, group, group_len, pid, meta, meta_len,
                         ttl_ms, NULL, NULL, timeout_ms);
}

int roster_renew(roster_client *c, roster_pid pid, uint64_t *renewed, int timeout_ms)
{
    if (renewed)
        *renewed = 0;
    int r = rs_client_begin(c);
    if (r)
        return r;
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_RENEW;
    m.pid.inc = pid.node_inc;
    m.pid.serial = pid.serial;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    if (r == 0 && renewed) {
        struct rs_msg rep = rs_req_reply(&req);
        *renewed = rs_msg_renew_reply_n(&rep);
    }
    return r;
}

int roster_pid_exit(roster_client *c, roster_pid pid, const char *reason, int timeout_ms)
{
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (!reason)
        return rs_client_fail(c, ROSTER_EINVAL, "exit reason is NULL");
    size_t n = strlen(reason);
    if (n == 0 || n > ROSTER_EXIT_REASON_MAX)
        return rs_client_fail(c, ROSTER_EINVAL, "exit reason of %zu bytes (1..%d)", n,
                              ROSTER_EXIT_REASON_MAX);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_PID_EXIT;
    m.pid.inc = pid.node_inc;
    m.pid.serial = pid.serial;
    rs_msg_pid_exit_reason_set(&m, rs_bytes_of(reason, n));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}
