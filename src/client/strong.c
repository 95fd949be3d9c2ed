/* strong.c: the calls that exist for strong scopes (and, where they can be exact, eventual
 * ones): fencing-token checks, handoff, compare-and-set of metadata and its read-modify-write
 * loop, leader election (blocking and as a long-lived pipelined request), and the read mode
 * that makes reads answer from the node's local copy. */
#include <string.h>

#include "client/client.h"

uint32_t rs_client_read_opts(const roster_client *c)
{
    return c && c->read_mode == ROSTER_READ_STALE ? RS_OPT_STALE : 0;
}

void rs_client_saw_revision(roster_client *c, uint64_t revision)
{
    if (revision) /* eventual scopes answer 0: they say nothing about etcd */
        c->last_revision = revision;
}

int roster_set_read_mode(roster_client *c, int mode)
{
    if (!c || (mode != ROSTER_READ_LINEARIZABLE && mode != ROSTER_READ_STALE))
        return ROSTER_EINVAL;
    int old = c->read_mode;
    c->read_mode = mode;
    return old;
}

uint64_t roster_last_revision(const roster_client *c) { return c ? c->last_revision : 0; }

/* name_request starts a request about one name: the client can take a call, the scope and
 * the name pass the local checks. */
static int name_request(roster_client *c, struct rs_msg *m, uint8_t type, const char *scope,
                        const void *name, size_t name_len)
{
    memset(m, 0, sizeof *m);
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m->scope)) ||
        (r = rs_client_check_key(c, name, name_len, "name")))
        return r;
    if (name_len == 0)
        return rs_client_fail(c, ROSTER_EINVAL, "empty name");
    m->type = type;
    m->key = rs_bytes_of(name, name_len);
    return 0;
}

int roster_check_token(roster_client *c, const char *scope, const void *name, size_t name_len,
                       uint64_t token, uint64_t *current_token, int timeout_ms)
{
    if (current_token)
        *current_token = 0;
    struct rs_msg m;
    int r = name_request(c, &m, RS_MSG_CHECK_TOKEN, scope, name, name_len);
    if (r)
        return r;
    rs_msg_check_token_token_set(&m, token);
    struct rs_req req;
    memset(&req, 0, sizeof req);
    if ((r = rs_client_request(c, &m, &req, timeout_ms)))
        return r;
    struct rs_msg rep = rs_req_reply(&req);
    if (current_token)
        *current_token = rs_msg_check_token_reply_token(&rep);
    return rs_msg_check_token_reply_current(&rep) ? 1 : 0;
}

int roster_handoff(roster_client *c, const char *scope, const void *name, size_t name_len,
                   roster_pid to, uint64_t if_token, uint64_t *token, int timeout_ms)
{
    if (token)
        *token = 0;
    struct rs_msg m;
    int r = name_request(c, &m, RS_MSG_HANDOFF, scope, name, name_len);
    if (r)
        return r;
    if (to.node_inc == 0 && to.serial == 0)
        return rs_client_fail(c, ROSTER_EINVAL, "handoff to the zero pid");
    rs_msg_handoff_if_token_set(&m, if_token);
    rs_msg_handoff_to_set(&m, (struct rs_pid){to.node_inc, to.serial});
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    /* ECONFLICT (if_token was not the current token) also says what the current one is */
    if (token && (r == 0 || r == ROSTER_ECONFLICT))
        *token = rs_msg_handoff_reply_token(&rep);
    return r;
}

int roster_update(roster_client *c, const char *scope, const void *name, size_t name_len,
                  const void *meta, size_t meta_len, const roster_update_cond *cond,
                  uint64_t *token, roster_buf *current, int timeout_ms)
{
    if (token)
        *token = 0;
    if (current)
        current->data = NULL, current->len = 0;
    struct rs_msg m;
    int r = name_request(c, &m, RS_MSG_UPDATE, scope, name, name_len);
    if (r)
        return r;
    if ((meta_len && !meta) || (cond && cond->if_meta && cond->meta_len && !cond->meta))
        return rs_client_fail(c, ROSTER_EINVAL, "metadata pointer is NULL");
    if ((r = rs_client_check_meta(c, meta_len)) ||
        (cond && cond->if_meta && (r = rs_client_check_meta(c, cond->meta_len))))
        return r;
    uint32_t flags = 0;
    if (cond && cond->if_token) {
        flags |= RS_UPDATE_IF_TOKEN;
        rs_msg_update_if_token_set(&m, cond->token);
    }
    if (cond && cond->if_meta) {
        flags |= RS_UPDATE_IF_META;
        rs_msg_update_if_meta_set(&m, rs_bytes_of(cond->meta, cond->meta_len));
    }
    if (cond && (cond->member.node_inc || cond->member.serial)) {
        flags |= RS_UPDATE_MEMBER;
        rs_msg_update_member_set(&m, (struct rs_pid){cond->member.node_inc, cond->member.serial});
    }
    rs_msg_update_flags_set(&m, flags);
    rs_msg_update_meta_set(&m, rs_bytes_of(meta, meta_len));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.want_meta = 2; /* ECONFLICT carries the current metadata */
    r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    if (token && (r == 0 || r == ROSTER_ECONFLICT))
        *token = rs_msg_update_reply_token(&rep);
    if (current && r == ROSTER_ECONFLICT) {
        *current = req.meta; /* the reply's META; {NULL, 0} if it could not be copied */
        req.meta.data = NULL;
    }
    roster_buf_free(&req.meta);
    return r;
}

/* left_ms is what remains of a deadline as a timeout (-1: none; 0 once it has passed). */
static int left_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - rs_client_now_ms();
    return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int roster_update_with(roster_client *c, const char *scope, const void *name, size_t name_len,
                       roster_update_fn fn, void *arg, uint64_t *token, int timeout_ms)
{
    if (token)
        *token = 0;
    if (!fn)
        return c ? rs_client_fail(c, ROSTER_EINVAL, "no update function") : ROSTER_EINVAL;
    int64_t deadline = rs_client_deadline(timeout_ms);
    roster_entry e;
    int r = roster_lookup(c, scope, name, name_len, &e, timeout_ms);
    if (r)
        return r;
    roster_buf cur = e.meta;
    uint64_t cur_token = e.token;
    e.meta.data = NULL;
    e.meta.len = 0;
    roster_entry_free(&e);
    for (;;) {
        roster_buf next = {NULL, 0};
        int stop = fn(arg, &cur, &next);
        if (stop) {
            roster_buf_free(&cur);
            return stop;
        }
        /* Both compares: the token alone would not see a concurrent update by the same
         * holder (it keeps its token), the metadata alone not a new grant with equal bytes. */
        roster_update_cond cond;
        memset(&cond, 0, sizeof cond);
        cond.if_token = 1;
        cond.token = cur_token;
        cond.if_meta = 1;
        cond.meta = cur.data;
        cond.meta_len = cur.len;
        roster_buf now = {NULL, 0};
        uint64_t t = 0;
        r = roster_update(c, scope, name, name_len, next.data, next.len, &cond, &t, &now,
                          left_ms(deadline));
        roster_buf_free(&cur);
        if (r == 0) {
            roster_buf_free(&now);
            if (token)
                *token = t;
            return 0;
        }
        if (r != ROSTER_ECONFLICT) {
            roster_buf_free(&now);
            return r;
        }
        /* The conflict answer is the value to start again from: no second read. */
        if (!now.data && rs_client_copy_buf(&now, (const uint8_t *)"", 0) != 0)
            return rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
        cur = now;
        cur_token = t;
        if (deadline >= 0 && rs_client_now_ms() >= deadline) {
            roster_buf_free(&cur);
            return rs_client_fail(c, ROSTER_ETIMEDOUT,
                                  "compare-and-set still conflicting after %d ms", timeout_ms);
        }
    }
}

/* campaign_msg fills a CAMPAIGN request after the local checks. */
static int campaign_msg(roster_client *c, struct rs_msg *m, const char *scope, const void *name,
                        size_t name_len, roster_pid pid, const void *meta, size_t meta_len)
{
    return rs_client_build_write(c, m, RS_MSG_CAMPAIGN, scope, name, name_len, pid, meta,
                                 meta_len);
}

int roster_campaign(roster_client *c, const char *scope, const void *name, size_t name_len,
                    roster_pid pid, const void *meta, size_t meta_len, uint64_t *token,
                    int timeout_ms)
{
    if (token)
        *token = 0;
    struct rs_msg m;
    int r = campaign_msg(c, &m, scope, name, name_len, pid, meta, meta_len);
    if (r)
        return r;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    if (token && r == 0)
        *token = rs_msg_campaign_reply_token(&rep);
    return r;
}

int roster_campaign_async(roster_client *c, const char *scope, const void *name,
                          size_t name_len, roster_pid pid, const void *meta, size_t meta_len,
                          uint64_t *req_out)
{
    struct rs_msg m;
    int r = campaign_msg(c, &m, scope, name, name_len, pid, meta, meta_len);
    if (r)
        return r;
    uint32_t id = c->next_long++ & RS_CLIENT_ID_MASK;
    if (id == 0)
        id = c->next_long++ & RS_CLIENT_ID_MASK;
    m.req_id = id | RS_CLIENT_LONG_BITS;
    if (rs_wire_encode(&c->out, &m) != 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory queuing the request");
    if (req_out)
        *req_out = m.req_id;
    /* Written now, so that an application that only polls roster_fd for its answer does not
     * wait on a frame still in our buffer; what the socket does not take goes with the next
     * call that writes. */
    return rs_client_write(c);
}
