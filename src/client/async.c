/* async.c: pipelined writes. Requests are encoded into the out buffer and written in large
 * batches; their answers are counted by roster_wait_all or queued as ROSTER_EV_REPLY events.
 * The hot path allocates nothing once the buffers have grown and makes no syscall per
 * request. */
#include <limits.h>
#include <string.h>

#include "client/client.h"

/* drain writes what the socket takes and reads the answers already there; above the high
 * mark it blocks until the node has taken half of it (back-pressure). */
static int drain(roster_client *c) { return rs_client_out_drain(c, -1, 1); }

static int queue(roster_client *c, struct rs_msg *m, uint64_t *req_out)
{
    uint32_t id = c->next_async++ & RS_CLIENT_ID_MASK;
    if (id == 0)
        id = c->next_async++ & RS_CLIENT_ID_MASK;
    m->req_id = id | RS_CLIENT_ASYNC_BIT;
    if (rs_wire_encode(&c->out, m) != 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory queuing the request");
    c->async_pending++;
    if (req_out)
        *req_out = m->req_id;
    if (c->out.len - c->out_off >= RS_CLIENT_CHUNK)
        return drain(c);
    return 0;
}

int roster_register_async(roster_client *c, const char *scope, const void *name,
                          size_t name_len, roster_pid pid, const void *meta, size_t meta_len,
                          uint64_t *req_out)
{
    struct rs_msg m;
    int r = rs_client_build_write(c, &m, RS_MSG_REGISTER, scope, name, name_len, pid, meta,
                                  meta_len);
    return r ? r : queue(c, &m, req_out);
}

int roster_unregister_async(roster_client *c, const char *scope, const void *name,
                            size_t name_len, uint64_t *req_out)
{
    struct rs_msg m;
    roster_pid zero = {0, 0};
    int r = rs_client_build_write(c, &m, RS_MSG_UNREGISTER, scope, name, name_len, zero, NULL, 0);
    return r ? r : queue(c, &m, req_out);
}

int roster_join_async(roster_client *c, const char *scope, const void *group, size_t group_len,
                      roster_pid pid, const void *meta, size_t meta_len, uint64_t *req_out)
{
    struct rs_msg m;
    int r = rs_client_build_write(c, &m, RS_MSG_JOIN, scope, group, group_len, pid, meta,
                                  meta_len);
    return r ? r : queue(c, &m, req_out);
}

int roster_leave_async(roster_client *c, const char *scope, const void *group, size_t group_len,
                       roster_pid pid, uint64_t *req_out)
{
    struct rs_msg m;
    int r = rs_client_build_write(c, &m, RS_MSG_LEAVE, scope, group, group_len, pid, NULL, 0);
    return r ? r : queue(c, &m, req_out);
}

int roster_flush(roster_client *c, int timeout_ms)
{
    int64_t deadline = rs_client_deadline(timeout_ms);
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (c->n_chans)
        rs_client_chan_flush(c); /* batches on channels: written, or through the node */
    size_t zero = 0;
    r = rs_client_wait(c, rs_client_out_below, &zero, deadline);
    if (r == ROSTER_ETIMEDOUT)
        return rs_client_fail(c, r, "the node did not take the queued requests within %d ms",
                              timeout_ms);
    return r;
}

static int none_pending(roster_client *c, void *arg)
{
    (void)arg;
    return c->async_pending == 0;
}

int roster_wait_all(roster_client *c, int timeout_ms)
{
    int64_t deadline = rs_client_deadline(timeout_ms);
    int r = rs_client_begin(c);
    if (r)
        return r;
    c->collecting = 1;
    r = rs_client_wait(c, none_pending, NULL, deadline);
    c->collecting = 0;
    if (r == ROSTER_ETIMEDOUT)
        return rs_client_fail(c, r, "%llu pipelined requests unanswered after %d ms",
                              (unsigned long long)c->async_pending, timeout_ms);
    if (r)
        return r;
    uint64_t failed = c->async_failed + rs_client_evq_drop_replies(c);
    c->async_failed = 0;
    return failed > INT_MAX ? INT_MAX : (int)failed;
}
