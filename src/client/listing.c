/* listing.c: accumulating ITEM frames into caller-owned lists (entries, stats, nodes) and
 * the free functions of those lists. */
#include <string.h>

#include "client/client.h"

/* grow makes room for one more element in *items (n used, *cap allocated). */
static int grow(void **items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap > ((size_t)-1) / size)
        return ROSTER_ENOMEM;
    void *p = rs_realloc(*items, ncap * size);
    if (!p)
        return ROSTER_ENOMEM;
    *items = p;
    *cap = ncap;
    return 0;
}

struct rs_list_ctx {
    roster_entries *out;
    size_t cap;
};

static int item_entry(struct rs_req *req, const struct rs_msg *m)
{
    struct rs_list_ctx *x = req->ctx;
    roster_entries *l = x->out;
    void *items = l->items;
    if (grow(&items, l->n, &x->cap, sizeof *l->items) != 0)
        return ROSTER_ENOMEM;
    l->items = items;
    roster_entry *e = &l->items[l->n];
    memset(e, 0, sizeof *e);
    if (m->type == RS_MSG_SCOPES) {
        if (rs_client_copy_buf(&e->name, m->scope.ptr, m->scope.len) != 0)
            return ROSTER_ENOMEM;
        e->count = rs_msg_scopes_item_names(m);
        e->groups = rs_msg_scopes_item_groups(m);
        e->mode = (int)(rs_msg_scopes_item_mode(m) & ~(uint32_t)ROSTER_SCOPE_OPTIONS);
        e->options = rs_msg_scopes_item_mode(m) & ROSTER_SCOPE_OPTIONS;
        l->n++;
        return 0;
    }
    if (rs_client_copy_buf(&e->name, m->key.ptr, m->key.len) != 0)
        return ROSTER_ENOMEM;
    if (rs_client_copy_buf(&e->meta, m->meta.ptr, m->meta.len) != 0) {
        roster_buf_free(&e->name);
        return ROSTER_ENOMEM;
    }
    e->pid.node_inc = m->pid.inc;
    e->pid.serial = m->pid.serial;
    rs_client_copy_str(e->node, sizeof e->node, m->node);
    if (m->type == RS_MSG_GROUPS)
        e->count = rs_msg_groups_item_members(m);
    if (m->type == RS_MSG_SCOPE_META_GET)
        e->token = rs_msg_scope_meta_get_item_stamp(m);
    l->n++;
    return 0;
}

void roster_buf_free(roster_buf *b)
{
    if (!b)
        return;
    rs_free(b->data);
    b->data = NULL;
    b->len = 0;
}

void roster_entry_free(roster_entry *e)
{
    if (!e)
        return;
    roster_buf_free(&e->name);
    roster_buf_free(&e->meta);
}

void roster_entries_free(roster_entries *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        roster_entry_free(&list->items[i]);
    rs_free(list->items);
    list->items = NULL;
    list->n = 0;
}

void roster_stats_free(roster_stats *s)
{
    if (!s)
        return;
    rs_free(s->items);
    s->items = NULL;
    s->n = 0;
}

void roster_nodes_free(roster_nodes *n)
{
    if (!n)
        return;
    rs_free(n->items);
    n->items = NULL;
    n->n = 0;
}

/* --- stats and nodes items (admin.c uses these through the call context) --- */

struct stats_ctx {
    roster_stats *out;
    size_t cap;
};

static int item_stat(struct rs_req *req, const struct rs_msg *m)
{
    struct stats_ctx *x = req->ctx;
    void *items = x->out->items;
    if (grow(&items, x->out->n, &x->cap, sizeof *x->out->items) != 0)
        return ROSTER_ENOMEM;
    x->out->items = items;
    roster_stat *s = &x->out->items[x->out->n++];
    rs_client_copy_str(s->key, sizeof s->key, rs_msg_status_item_stat(m));
    s->value = rs_msg_status_item_value(m);
    return 0;
}

struct nodes_ctx {
    roster_nodes *out;
    size_t cap;
};

static int item_node(struct rs_req *req, const struct rs_msg *m)
{
    struct nodes_ctx *x = req->ctx;
    void *items = x->out->items;
    if (grow(&items, x->out->n, &x->cap, sizeof *x->out->items) != 0)
        return ROSTER_ENOMEM;
    x->out->items = items;
    roster_node_info *ni = &x->out->items[x->out->n++];
    memset(ni, 0, sizeof *ni);
    rs_client_copy_str(ni->name, sizeof ni->name, rs_msg_nodes_item_node(m));
    ni->incarnation = rs_msg_nodes_item_incarnation(m);
    ni->state = (int)rs_msg_nodes_item_state(m);
    ni->self = rs_msg_nodes_item_self(m);
    ni->down_since_ms = rs_msg_nodes_item_down_since(m);
    return 0;
}

int roster_status(roster_client *c, roster_stats *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_STATUS;
    struct stats_ctx x = {out, 0};
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.on_item = item_stat;
    req.ctx = &x;
    int r = rs_client_request(c, &m, &req, timeout_ms);
    if (r)
        roster_stats_free(out);
    return r;
}

int roster_nodes_list(roster_client *c, const char *scope, roster_nodes *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m.scope)))
        return r;
    m.type = RS_MSG_NODES;
    struct nodes_ctx x = {out, 0};
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.on_item = item_node;
    req.ctx = &x;
    r = rs_client_request(c, &m, &req, timeout_ms);
    if (r)
        roster_nodes_free(out);
    return r;
}

/* list_entries runs a listing request whose items are entries. A strong scope's reply
 * carries (in ARG2, for NAMES, GROUPS and MEMBERS alike) the etcd revision listed: every
 * entry gets it. */
static int list_entries(roster_client *c, struct rs_msg *m, roster_entries *out,
                        int timeout_ms)
{
    struct rs_list_ctx x = {out, 0};
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.on_item = item_entry;
    req.ctx = &x;
    int r = rs_client_request(c, m, &req, timeout_ms);
    if (r) {
        roster_entries_free(out);
        return r;
    }
    if (m->type == RS_MSG_SCOPES || m->type == RS_MSG_SCOPE_META_GET)
        return 0;
    struct rs_msg rep = rs_req_reply(&req);
    uint64_t rev = m->type == RS_MSG_NAMES    ? rs_msg_names_reply_revision(&rep)
                   : m->type == RS_MSG_GROUPS ? rs_msg_groups_reply_revision(&rep)
                                              : rs_msg_members_reply_revision(&rep);
    for (size_t i = 0; i < out->n; i++)
        out->items[i].revision = rev;
    rs_client_saw_revision(c, rev);
    return 0;
}

int rs_client_list_entries(roster_client *c, struct rs_msg *m, roster_entries *out,
                           int timeout_ms)
{
    return list_entries(c, m, out, timeout_ms);
}

int roster_scopes(roster_client *c, roster_entries *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_SCOPES;
    return list_entries(c, &m, out, timeout_ms);
}

/* prefix_query fills a NAMES or GROUPS request after the local checks. */
static int prefix_query(roster_client *c, uint8_t type, const char *scope, const void *prefix,
                        size_t prefix_len, roster_pid pid, size_t limit, roster_entries *out,
                        int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m.scope)) ||
        (r = rs_client_check_key(c, prefix, prefix_len, "prefix")))
        return r;
    m.type = type;
    struct rs_pid filter = {pid.node_inc, pid.serial};
    if (type == RS_MSG_NAMES) {
        rs_msg_names_flags_set(&m, rs_client_read_opts(c));
        rs_msg_names_limit_set(&m, limit);
        rs_msg_names_filter_set(&m, filter);
        rs_msg_names_prefix_set(&m, rs_bytes_of(prefix, prefix_len));
    } else {
        rs_msg_groups_flags_set(&m, rs_client_read_opts(c));
        rs_msg_groups_limit_set(&m, limit);
        rs_msg_groups_filter_set(&m, filter);
        rs_msg_groups_prefix_set(&m, rs_bytes_of(prefix, prefix_len));
    }
    return list_entries(c, &m, out, timeout_ms);
}

int roster_names(roster_client *c, const char *scope, const void *prefix, size_t prefix_len,
                 roster_pid pid, size_t limit, roster_entries *out, int timeout_ms)
{
    return prefix_query(c, RS_MSG_NAMES, scope, prefix, prefix_len, pid, limit, out,
                        timeout_ms);
}

int roster_lookup_all(roster_client *c, const char *scope, const void *name, size_t name_len,
                      roster_entries *out, int timeout_ms)
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
    m.type = RS_MSG_NAMES;
    rs_msg_names_flags_set(&m, rs_client_read_opts(c) | RS_OPT_EXACT);
    rs_msg_names_prefix_set(&m, rs_bytes_of(name, name_len));
    if ((r = list_entries(c, &m, out, timeout_ms)) != 0)
        return r;
    /* a strong scope's node reads the key as a prefix: keep the name itself */
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        roster_entry *e = &out->items[i];
        if (e->name.len == name_len && memcmp(e->name.data, name, name_len) == 0)
            out->items[k++] = *e;
        else
            roster_entry_free(e);
    }
    out->n = k;
    return 0;
}

int roster_groups(roster_client *c, const char *scope, const void *prefix, size_t prefix_len,
                  roster_pid pid, size_t limit, roster_entries *out, int timeout_ms)
{
    return prefix_query(c, RS_MSG_GROUPS, scope, prefix, prefix_len, pid, limit, out,
                        timeout_ms);
}

int roster_members(roster_client *c, const char *scope, const void *group, size_t group_len,
                   int local_only, roster_entries *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m.scope)) ||
        (r = rs_client_check_key(c, group, group_len, "group name")))
        return r;
    if (rs_client_shm_members(c, scope, group, group_len, local_only, out, &r))
        return r;
    m.type = RS_MSG_MEMBERS;
    rs_msg_members_opts_set(&m, (local_only ? RS_OPT_LOCAL : 0) | rs_client_read_opts(c));
    rs_msg_members_group_set(&m, rs_bytes_of(group, group_len));
    r = list_entries(c, &m, out, timeout_ms);
    if (r == 0 && out->n)
        rs_client_shm_saw(c, scope, out->items[0].revision);
    return r;
}
