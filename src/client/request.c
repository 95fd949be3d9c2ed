/* request.c: the blocking request engine (one request, its items, its reply, a deadline)
 * and the local argument checks every call makes before anything is sent. */
#include <string.h>

#include "client/client.h"

int rs_client_begin(roster_client *c)
{
    if (!c)
        return ROSTER_EINVAL;
    if (c->dead && c->recon && !c->restoring)
        rs_client_reconnect(c); /* its error is the call's: ECLOSED below */
    if (c->dead)
        return rs_client_fail(c, ROSTER_ECLOSED, "connection to the node is closed");
    return 0;
}

int rs_client_check_scope(roster_client *c, const char *scope, struct rs_bytes *out)
{
    if (!scope)
        scope = "default";
    size_t n = strlen(scope);
    if (n == 0)
        return rs_client_fail(c, ROSTER_EINVAL, "empty scope name");
    if (n > RS_SCOPE_MAX)
        return rs_client_fail(c, ROSTER_ENAMETOOLONG, "scope name of %zu bytes (limit %u)", n,
                              RS_SCOPE_MAX);
    *out = rs_bytes_of(scope, n);
    return 0;
}

int rs_client_check_key(roster_client *c, const void *p, size_t n, const char *what)
{
    if (n && !p)
        return rs_client_fail(c, ROSTER_EINVAL, "%s pointer is NULL", what);
    if (n > c->name_max)
        return rs_client_fail(c, ROSTER_ENAMETOOLONG, "%s of %zu bytes (limit %u)", what, n,
                              c->name_max);
    return 0;
}

int rs_client_check_meta(roster_client *c, size_t n)
{
    if (n > c->meta_max)
        return rs_client_fail(c, ROSTER_EMETATOOBIG, "metadata of %zu bytes (limit %u)", n,
                              c->meta_max);
    return 0;
}

int rs_client_check_frame(roster_client *c, const struct rs_msg *m)
{
    size_t n = rs_wire_size(m);
    if (n - 4 > c->frame_max)
        return rs_client_fail(c, ROSTER_ETOOBIG, "request of %zu bytes (frame limit %u)", n - 4,
                              c->frame_max);
    return 0;
}

int rs_client_copy_buf(roster_buf *dst, const uint8_t *p, size_t n)
{
    dst->data = rs_malloc(n + 1);
    if (!dst->data) {
        dst->len = 0;
        return ROSTER_ENOMEM;
    }
    if (n)
        memcpy(dst->data, p, n);
    dst->data[n] = 0;
    dst->len = n;
    return 0;
}

void rs_client_copy_str(char *dst, size_t cap, struct rs_bytes b)
{
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    if (n)
        memcpy(dst, b.ptr, n);
    dst[n] = 0;
}

static int req_done(roster_client *c, void *arg)
{
    (void)c;
    return ((struct rs_req *)arg)->done;
}

static int batch_done(roster_client *c, void *arg)
{
    (void)arg;
    return c->batch_done == c->batch_n;
}

int rs_client_request_many(roster_client *c, struct rs_msg *msgs, struct rs_req *reqs, size_t n,
                           int timeout_ms)
{
    int64_t deadline = rs_client_deadline(timeout_ms);
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        msgs[i].flags = 0;
        if ((r = rs_client_check_frame(c, &msgs[i])) || (r = rs_client_keep_before(c, &msgs[i])))
            return r;
    }
    /* consecutive ids, so that an answer finds its slot by subtraction */
    uint32_t base = c->next_id & RS_CLIENT_ID_MASK;
    if (base == 0 || (uint64_t)base + n > RS_CLIENT_ID_MASK)
        base = 1;
    c->next_id = base + (uint32_t)n;
    size_t mark = c->out.len;
    for (size_t i = 0; i < n; i++) {
        memset(&reqs[i], 0, sizeof reqs[i]);
        msgs[i].req_id = reqs[i].req_id = base + (uint32_t)i;
        if (rs_wire_encode(&c->out, &msgs[i]) != 0) {
            c->out.len = mark; /* nothing of the batch was sent */
            return rs_client_fail(c, ROSTER_ENOMEM, "out of memory queuing the batch");
        }
    }
    c->batch = reqs;
    c->batch_base = base;
    c->batch_n = (uint32_t)n;
    c->batch_done = 0;
    r = rs_client_wait(c, batch_done, NULL, deadline);
    c->batch = NULL;
    c->batch_n = c->batch_done = 0;
    for (size_t i = 0; c->recon && i < n; i++)
        if (reqs[i].done && !reqs[i].err)
            rs_client_keep_after(c, &msgs[i], &reqs[i], reqs[i].status);
    if (r == ROSTER_ETIMEDOUT)
        return rs_client_fail(c, r, "the node did not answer the whole batch within %d ms",
                              timeout_ms);
    return r;
}

int rs_client_request(roster_client *c, struct rs_msg *m, struct rs_req *req, int timeout_ms)
{
    int64_t deadline = rs_client_deadline(timeout_ms);
    int r = rs_client_begin(c);
    if (r)
        return r;
    m->flags = 0;
    if ((r = rs_client_check_frame(c, m)) || (r = rs_client_keep_before(c, m)))
        return r;
    uint32_t id = c->next_id++ & RS_CLIENT_ID_MASK;
    if (id == 0)
        id = c->next_id++ & RS_CLIENT_ID_MASK;
    m->req_id = req->req_id = id;
    req->done = 0;
    /* Queued pipelined frames go first: the out buffer keeps request order. */
    if (rs_wire_encode(&c->out, m) != 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory queuing the request");
    c->req = req;
    r = rs_client_wait(c, req_done, req, deadline);
    c->req = NULL;
    if (c->recon && r == 0 && !req->err)
        rs_client_keep_after(c, m, req, req->status);
    if (r == ROSTER_ETIMEDOUT)
        return rs_client_fail(c, r, "no answer from the node within %d ms", timeout_ms);
    if (r == ROSTER_ECLOSED || r == ROSTER_EPROTO)
        return r; /* detail set when the connection was lost */
    if (r)
        return r;
    if (req->err)
        return rs_client_fail(c, req->err, "%s", roster_strerror(req->err));
    if (req->status > 0)
        return rs_client_fail(c, ROSTER_EPROTO, "positive status %d from the node",
                              req->status);
    return req->status;
}
