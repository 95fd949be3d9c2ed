/* query.c: libroster's queries on metadata (roster.h, "Queries"): the QUERY, QUERY_COUNT
 * and UNMATCH requests. The conditions travel encoded in the request's META
 * (wire/query.h); the library checks them with the node's own rules before sending, so a
 * bad condition is EINVAL with a detail and never a round trip. Filtered reads always use
 * the socket: the shared-memory region serves the unfiltered ones. */
#include <string.h>

#include "client/client.h"
#include "wire/query.h"

void roster_query_init(roster_query *q)
{
    if (q)
        memset(q, 0, sizeof *q);
}

/* build fills m (type, scope, opts, pid, node, key) and encodes q's conditions into *f
 * (m->meta points into it: free it after the request). */
static int build(roster_client *c, struct rs_msg *m, uint8_t type, uint32_t opts,
                 const char *scope, const roster_query *q, struct rs_buf *f)
{
    memset(m, 0, sizeof *m);
    rs_buf_init(f);
    if (!q)
        return rs_client_fail(c, ROSTER_EINVAL, "no query");
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m->scope)) ||
        (r = rs_client_check_key(c, q->key, q->key_len, q->prefix ? "prefix" : "key")))
        return r;
    if (!q->prefix && q->key_len == 0)
        return rs_client_fail(c, ROSTER_EINVAL, "empty name or group (set prefix for all)");
    if (q->node && strlen(q->node) > RS_NODE_NAME_MAX)
        return rs_client_fail(c, ROSTER_ENAMETOOLONG, "node name longer than %u bytes",
                              RS_NODE_NAME_MAX);
    if (q->n_match > RS_QUERY_CONDS_MAX || (q->n_match && !q->match))
        return rs_client_fail(c, ROSTER_EINVAL, "at most %u conditions (and a match array)",
                              RS_QUERY_CONDS_MAX);
    struct rs_qfilter qf;
    qf.n = (uint32_t)q->n_match;
    for (size_t i = 0; i < q->n_match; i++) {
        const roster_match *x = &q->match[i];
        size_t fl = x->field ? strlen(x->field) : 0;
        if ((x->value_len && !x->value) || x->op < ROSTER_MATCH_EQ ||
            x->op > ROSTER_MATCH_FIELD || x->value_len > c->meta_max || fl > UINT16_MAX)
            return rs_client_fail(c, ROSTER_EINVAL, "condition %zu: bad op, value or field", i);
        qf.c[i].op = (uint8_t)x->op;
        qf.c[i].field = rs_bytes_of(x->field, fl);
        qf.c[i].value = rs_bytes_of(x->value, x->value_len);
    }
    const char *why = NULL;
    if (rs_qfilter_encode(f, &qf, &why) != 0)
        return why ? rs_client_fail(c, ROSTER_EINVAL, "%s", why)
                   : rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
    if (f->len > c->meta_max)
        return rs_client_fail(c, ROSTER_EMETATOOBIG,
                              "conditions of %zu bytes encoded (limit meta_max %u)", f->len,
                              c->meta_max);
    m->type = type;
    m->opts = opts | (q->prefix ? RS_QF_PREFIX : 0);
    m->pid.inc = q->pid.node_inc;
    m->pid.serial = q->pid.serial;
    m->node = rs_bytes_str(q->node);
    m->key = rs_bytes_of(q->key, q->key_len);
    m->meta = rs_bytes_of(f->data, f->len);
    return 0;
}

static int list(roster_client *c, const char *scope, const roster_query *q, uint32_t what,
                roster_entries *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    struct rs_buf f;
    uint32_t opts = what | rs_client_read_opts(c) | (q && q->local_only ? RS_QF_LOCAL : 0);
    int r = build(c, &m, RS_MSG_QUERY, opts, scope, q, &f);
    if (r == 0) {
        rs_msg_query_limit_set(&m, q->limit);
        r = rs_client_list_entries(c, &m, out, timeout_ms);
    }
    rs_buf_fini(&f);
    return r;
}

int roster_query_names(roster_client *c, const char *scope, const roster_query *q,
                       roster_entries *out, int timeout_ms)
{
    return list(c, scope, q, RS_QW_NAMES, out, timeout_ms);
}

int roster_query_members(roster_client *c, const char *scope, const roster_query *q,
                         roster_entries *out, int timeout_ms)
{
    return list(c, scope, q, RS_QW_MEMBERS, out, timeout_ms);
}

static int item_count(struct rs_req *req, const struct rs_msg *m)
{
    roster_counts *o = req->ctx;
    struct rs_bytes k = rs_msg_query_count_item_counter(m);
    uint64_t v = rs_msg_query_count_item_value(m);
    if (k.len == 5 && memcmp(k.ptr, "names", 5) == 0)
        o->names = v;
    else if (k.len == 6 && memcmp(k.ptr, "groups", 6) == 0)
        o->groups = v;
    else if (k.len == 7 && memcmp(k.ptr, "members", 7) == 0)
        o->members = v;
    return 0;
}

int roster_query_count(roster_client *c, const char *scope, const roster_query *q,
                       roster_counts *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    struct rs_buf f;
    uint32_t opts = RS_QW_NAMES | RS_QW_MEMBERS | rs_client_read_opts(c) |
                    (q && q->local_only ? RS_QF_LOCAL : 0);
    int r = build(c, &m, RS_MSG_QUERY_COUNT, opts, scope, q, &f);
    if (r == 0) {
        struct rs_req req;
        memset(&req, 0, sizeof req);
        req.on_item = item_count;
        req.ctx = out;
        r = rs_client_request(c, &m, &req, timeout_ms);
        if (r) {
            memset(out, 0, sizeof *out);
        } else {
            struct rs_msg rep = rs_req_reply(&req);
            out->revision = rs_msg_query_count_reply_revision(&rep);
            rs_client_saw_revision(c, out->revision);
        }
    }
    rs_buf_fini(&f);
    return r;
}

static int unmatch(roster_client *c, const char *scope, const roster_query *q, uint32_t what,
                   int timeout_ms)
{
    struct rs_msg m;
    struct rs_buf f;
    int r = build(c, &m, RS_MSG_UNMATCH, what, scope, q, &f);
    if (r == 0) {
        m.node = rs_bytes_of(NULL, 0); /* not in UNMATCH's shape: ignored, as documented */
        struct rs_req req;
        memset(&req, 0, sizeof req);
        r = rs_client_request(c, &m, &req, timeout_ms);
        if (r == 0) {
            struct rs_msg rep = rs_req_reply(&req);
            uint64_t n = rs_msg_unmatch_reply_removed(&rep);
            r = n > 0x7fffffff ? 0x7fffffff : (int)n;
        }
    }
    rs_buf_fini(&f);
    return r;
}

int roster_unregister_match(roster_client *c, const char *scope, const roster_query *q,
                            int timeout_ms)
{
    return unmatch(c, scope, q, RS_QW_NAMES, timeout_ms);
}

int roster_leave_match(roster_client *c, const char *scope, const roster_query *q,
                       int timeout_ms)
{
    return unmatch(c, scope, q, RS_QW_MEMBERS, timeout_ms);
}
