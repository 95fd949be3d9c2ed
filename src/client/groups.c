/* groups.c: process groups (join, leave, membership test). Listings are in listing.c. */
#include <string.h>

#include "client/client.h"

int roster_join(roster_client *c, const char *scope, const void *group, size_t group_len,
                roster_pid pid, const void *meta, size_t meta_len, int timeout_ms)
{
    struct rs_msg m;
    int r = rs_client_build_write(c, &m, RS_MSG_JOIN, scope, group, group_len, pid, meta,
                                  meta_len);
    if (r)
        return r;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}

int roster_leave(roster_client *c, const char *scope, const void *group, size_t group_len,
                 roster_pid pid, int timeout_ms)
{
    struct rs_msg m;
    int r = rs_client_build_write(c, &m, RS_MSG_LEAVE, scope, group, group_len, pid, NULL, 0);
    if (r)
        return r;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}

int roster_is_member(roster_client *c, const char *scope, const void *group, size_t group_len,
                     roster_pid pid, int timeout_ms)
{
    struct rs_msg m;
    int r = rs_client_build_write(c, &m, RS_MSG_IS_MEMBER, scope, group, group_len, pid, NULL,
                                  0);
    if (r)
        return r;
    if (rs_client_shm_is_member(c, scope, group, group_len, pid, &r))
        return r;
    rs_msg_is_member_flags_set(&m, rs_client_read_opts(c));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    if (r)
        return r;
    struct rs_msg rep = rs_req_reply(&req);
    rs_client_saw_revision(c, rs_msg_is_member_reply_revision(&rep));
    rs_client_shm_saw(c, scope, rs_msg_is_member_reply_revision(&rep));
    return rs_msg_is_member_reply_yes(&rep) ? 1 : 0;
}
