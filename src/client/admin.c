/* admin.c: pids (new, close), scopes (create, join, leave), node administration (log level, ping).
 * Listings of scopes, stats and nodes are in listing.c. */
#include <string.h>

#include "client/client.h"

static int simple(roster_client *c, struct rs_msg *m, int timeout_ms)
{
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, m, &req, timeout_ms);
}

int roster_pid_new(roster_client *c, roster_pid *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_PID_NEW;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    int r = rs_client_request(c, &m, &req, timeout_ms);
    if (r == 0) {
        out->node_inc = req.pid.inc;
        out->serial = req.pid.serial;
    }
    return r;
}

int roster_pid_close(roster_client *c, roster_pid pid, int timeout_ms)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_PID_CLOSE;
    m.pid.inc = pid.node_inc;
    m.pid.serial = pid.serial;
    return simple(c, &m, timeout_ms);
}

/* scope_request sends SCOPE_CREATE (with mode), SCOPE_JOIN or SCOPE_LEAVE for scope. */
static int scope_request(roster_client *c, uint8_t type, const char *scope, int mode,
                         int timeout_ms)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (!scope)
        return rs_client_fail(c, ROSTER_EINVAL, "scope name is NULL");
    if ((r = rs_client_check_scope(c, scope, &m.scope)))
        return r;
    int base = mode & ~ROSTER_SCOPE_OPTIONS;
    if (type == RS_MSG_SCOPE_CREATE && base != ROSTER_SCOPE_EVENTUAL &&
        base != ROSTER_SCOPE_STRONG)
        return rs_client_fail(c, ROSTER_EINVAL, "unknown scope mode %d", mode);
    if (type == RS_MSG_SCOPE_CREATE && base == ROSTER_SCOPE_STRONG && base != mode)
        return rs_client_fail(c, ROSTER_EINVAL, "scope options are for eventual scopes");
    m.type = type;
    if (type == RS_MSG_SCOPE_CREATE)
        rs_msg_scope_create_mode_set(&m, (uint32_t)mode);
    return simple(c, &m, timeout_ms);
}

int roster_scope_create(roster_client *c, const char *scope, int mode, int timeout_ms)
{
    return scope_request(c, RS_MSG_SCOPE_CREATE, scope, mode, timeout_ms);
}

int roster_scope_join(roster_client *c, const char *scope, int timeout_ms)
{
    return scope_request(c, RS_MSG_SCOPE_JOIN, scope, 0, timeout_ms);
}

int roster_scope_join_ttl(roster_client *c, const char *scope, int ttl_ms, int timeout_ms)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (!scope)
        return rs_client_fail(c, ROSTER_EINVAL, "scope name is NULL");
    if ((r = rs_client_check_scope(c, scope, &m.scope)))
        return r;
    if (ttl_ms <= 0)
        return rs_client_fail(c, ROSTER_EINVAL, "a scope lease is at least 1 ms");
    m.type = RS_MSG_SCOPE_LEASE;
    rs_msg_scope_lease_ttl_set(&m, (uint64_t)ttl_ms);
    return simple(c, &m, timeout_ms);
}

int roster_scope_leave(roster_client *c, const char *scope, int timeout_ms)
{
    return scope_request(c, RS_MSG_SCOPE_LEAVE, scope, 0, timeout_ms);
}

int roster_log_level(roster_client *c, const char *level, int timeout_ms)
{
    /* indexed by the wire's enum rs_log_level */
    static const char *const names[] = {"error", "warn", "info", "debug", "trace", "off"};
    int r = rs_client_begin(c);
    if (r)
        return r;
    int lv = -1;
    for (int i = 0; level && i <= RS_LOG_OFF; i++)
        if (strcmp(level, names[i]) == 0)
            lv = i;
    if (lv < 0)
        return rs_client_fail(c, ROSTER_EINVAL,
                              "unknown log level \"%s\" (off, error, warn, info, debug, trace)",
                              level ? level : "(null)");
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_LOG_LEVEL;
    rs_msg_log_level_level_set(&m, (uint32_t)lv);
    return simple(c, &m, timeout_ms);
}

int roster_ping(roster_client *c, int timeout_ms)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_PING;
    return simple(c, &m, timeout_ms);
}
