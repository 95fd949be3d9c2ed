/* registry.c: unique names (register, unregister, lookup) and the per-scope counts. */
#include <string.h>

#include "client/client.h"

/* rs_client_build_write fills a REGISTER, JOIN (or another request of the same fields:
 * UNREGISTER, LEAVE, IS_MEMBER, CAMPAIGN) after the local checks. Shared with the pipelined
 * forms (async.c) and the campaign (strong.c). */
int rs_client_build_write(roster_client *c, struct rs_msg *m, uint8_t type, const char *scope,
                          const void *key, size_t key_len, roster_pid pid, const void *meta,
                          size_t meta_len)
{
    memset(m, 0, sizeof *m);
    const char *what = type == RS_MSG_REGISTER || type == RS_MSG_UNREGISTER ||
                               type == RS_MSG_CAMPAIGN
                           ? "name"
                           : "group name";
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m->scope)) ||
        (r = rs_client_check_key(c, key, key_len, what)))
        return r;
    if (key_len == 0)
        return rs_client_fail(c, ROSTER_EINVAL, "empty %s", what);
    if (meta_len && !meta)
        return rs_client_fail(c, ROSTER_EINVAL, "metadata pointer is NULL");
    if ((r = rs_client_check_meta(c, meta_len)))
        return r;
    m->type = type;
    m->pid.inc = pid.node_inc;
    m->pid.serial = pid.serial;
    m->key = rs_bytes_of(key, key_len);
    m->meta = rs_bytes_of(meta, meta_len);
    return rs_client_check_frame(c, m);
}

int roster_register(roster_client *c, const char *scope, const void *name, size_t name_len,
                    roster_pid pid, const void *meta, size_t meta_len, roster_pid *holder,
                    int timeout_ms)
{
    return roster_register_token(c, scope, name, name_len, pid, meta, meta_len, holder, NULL,
                                 timeout_ms);
}

int roster_register_token(roster_client *c, const char *scope, const void *name,
                          size_t name_len, roster_pid pid, const void *meta, size_t meta_len,
                          roster_pid *holder, uint64_t *token, int timeout_ms)
{
    if (token)
        *token = 0;
    struct rs_msg m;
    int r = rs_client_build_write(c, &m, RS_MSG_REGISTER, scope, name, name_len, pid, meta,
                                  meta_len);
    if (r)
        return r;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    struct rs_pid h = rs_msg_register_reply_holder(&rep);
    if (holder && (r == 0 || r == ROSTER_ETAKEN)) {
        holder->node_inc = h.inc;
        holder->serial = h.serial;
    }
    if (token && r == 0)
        *token = rs_msg_register_reply_token(&rep);
    return r;
}

int roster_unregister(roster_client *c, const char *scope, const void *name, size_t name_len,
                      int timeout_ms)
{
    struct rs_msg m;
    roster_pid zero = {0, 0};
    int r = rs_client_build_write(c, &m, RS_MSG_UNREGISTER, scope, name, name_len, zero, NULL, 0);
    if (r)
        return r;
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}

static int lookup(roster_client *c, const char *scope, const void *name, size_t name_len,
                  roster_entry *out, uint32_t opts, int timeout_ms);

int roster_lookup(roster_client *c, const char *scope, const void *name, size_t name_len,
                  roster_entry *out, int timeout_ms)
{
    return lookup(c, scope, name, name_len, out, 0, timeout_ms);
}

int roster_lookup_local(roster_client *c, const char *scope, const void *name,
                        size_t name_len, roster_entry *out, int timeout_ms)
{
    return lookup(c, scope, name, name_len, out, RS_OPT_LOCAL, timeout_ms);
}

static int lookup(roster_client *c, const char *scope, const void *name, size_t name_len,
                  roster_entry *out, uint32_t opts, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m.scope)) ||
        (r = rs_client_check_key(c, name, name_len, "name")))
        return r;
    if (!opts && rs_client_shm_lookup(c, scope, name, name_len, out, &r))
        return r;
    m.type = RS_MSG_LOOKUP;
    rs_msg_lookup_flags_set(&m, rs_client_read_opts(c) | opts);
    rs_msg_lookup_name_set(&m, rs_bytes_of(name, name_len));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.want_meta = 1;
    r = rs_client_request(c, &m, &req, timeout_ms);
    struct rs_msg rep = rs_req_reply(&req);
    if (r == 0 || r == ROSTER_ENOTFOUND) { /* "free at revision R" is an answer too */
        rs_client_saw_revision(c, rs_msg_lookup_reply_revision(&rep));
        rs_client_shm_saw(c, scope, rs_msg_lookup_reply_revision(&rep));
    }
    if (r) {
        roster_buf_free(&req.meta);
        return r;
    }
    if (rs_client_copy_buf(&out->name, name, name_len) != 0) {
        roster_buf_free(&req.meta);
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
    }
    out->meta = req.meta;
    out->token = rs_msg_lookup_reply_token(&rep);
    out->revision = rs_msg_lookup_reply_revision(&rep);
    struct rs_pid h = rs_msg_lookup_reply_holder(&rep);
    out->pid.node_inc = h.inc;
    out->pid.serial = h.serial;
    memcpy(out->node, req.node, sizeof req.node); /* NUL-terminated, out->node is larger */
    return 0;
}

struct count_ctx {
    roster_counts *out;
};

static int item_count(struct rs_req *req, const struct rs_msg *m)
{
    roster_counts *o = ((struct count_ctx *)req->ctx)->out;
    struct rs_bytes k = rs_msg_count_item_counter(m);
    uint64_t v = rs_msg_count_item_value(m);
    if (k.len == 5 && memcmp(k.ptr, "names", 5) == 0)
        o->names = v;
    else if (k.len == 6 && memcmp(k.ptr, "groups", 6) == 0)
        o->groups = v;
    else if (k.len == 7 && memcmp(k.ptr, "members", 7) == 0)
        o->members = v;
    return 0;
}

int roster_count(roster_client *c, const char *scope, const char *node, roster_counts *out,
                 int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m.scope)))
        return r;
    if (node && strlen(node) > RS_NODE_NAME_MAX)
        return rs_client_fail(c, ROSTER_ENAMETOOLONG, "node name longer than %u bytes",
                              RS_NODE_NAME_MAX);
    if (rs_client_shm_count(c, scope, node, out))
        return 0;
    m.type = RS_MSG_COUNT;
    rs_msg_count_flags_set(&m, rs_client_read_opts(c));
    rs_msg_count_node_set(&m, rs_bytes_str(node));
    struct count_ctx x = {out};
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.on_item = item_count;
    req.ctx = &x;
    r = rs_client_request(c, &m, &req, timeout_ms);
    if (r)
        memset(out, 0, sizeof *out);
    else {
        struct rs_msg rep = rs_req_reply(&req);
        out->revision = rs_msg_count_reply_revision(&rep);
        rs_client_saw_revision(c, out->revision);
        rs_client_shm_saw(c, scope, out->revision);
    }
    return r;
}
