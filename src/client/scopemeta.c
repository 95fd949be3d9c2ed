/* scopemeta.c: scope metadata calls (issue 11 item 11): roster_scope_meta_set / _get /
 * _list / _delete, each one SCOPE_META_* request to the node. */
#include <string.h>

#include "client/client.h"

static int begin(roster_client *c, struct rs_msg *m, uint8_t type, const char *scope,
                 const void *key, size_t key_len, int need_key)
{
    memset(m, 0, sizeof *m);
    int r = rs_client_begin(c);
    if (r || (r = rs_client_check_scope(c, scope, &m->scope)))
        return r;
    if (need_key && (!key || key_len == 0))
        return rs_client_fail(c, ROSTER_EINVAL, "empty key");
    if ((r = rs_client_check_key(c, key, key_len, "key")))
        return r;
    m->type = type;
    return 0;
}

int roster_scope_meta_set(roster_client *c, const char *scope, const void *key, size_t key_len,
                          const void *value, size_t value_len, int timeout_ms)
{
    struct rs_msg m;
    int r = begin(c, &m, RS_MSG_SCOPE_META_SET, scope, key, key_len, 1);
    if (r)
        return r;
    if (value_len && !value)
        return rs_client_fail(c, ROSTER_EINVAL, "value is NULL");
    rs_msg_scope_meta_set_key_set(&m, rs_bytes_of(key, key_len));
    rs_msg_scope_meta_set_value_set(&m, rs_bytes_of(value, value_len));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}

int roster_scope_meta_delete(roster_client *c, const char *scope, const void *key,
                             size_t key_len, int timeout_ms)
{
    struct rs_msg m;
    int r = begin(c, &m, RS_MSG_SCOPE_META_DELETE, scope, key, key_len, 1);
    if (r)
        return r;
    rs_msg_scope_meta_delete_key_set(&m, rs_bytes_of(key, key_len));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    return rs_client_request(c, &m, &req, timeout_ms);
}

int roster_scope_meta_list(roster_client *c, const char *scope, const void *prefix,
                           size_t prefix_len, roster_entries *out, int timeout_ms)
{
    if (!out)
        return ROSTER_EINVAL;
    memset(out, 0, sizeof *out);
    struct rs_msg m;
    int r = begin(c, &m, RS_MSG_SCOPE_META_GET, scope, prefix, prefix_len, 0);
    if (r)
        return r;
    rs_msg_scope_meta_get_key_set(&m, rs_bytes_of(prefix, prefix_len));
    return rs_client_list_entries(c, &m, out, timeout_ms);
}

int roster_scope_meta_get(roster_client *c, const char *scope, const void *key, size_t key_len,
                          roster_buf *value, int timeout_ms)
{
    if (!value)
        return ROSTER_EINVAL;
    memset(value, 0, sizeof *value);
    struct rs_msg m;
    int r = begin(c, &m, RS_MSG_SCOPE_META_GET, scope, key, key_len, 1);
    if (r)
        return r;
    rs_msg_scope_meta_get_one_set(&m, 1);
    rs_msg_scope_meta_get_key_set(&m, rs_bytes_of(key, key_len));
    roster_entries l;
    memset(&l, 0, sizeof l);
    if ((r = rs_client_list_entries(c, &m, &l, timeout_ms)))
        return r;
    if (l.n != 1) {
        roster_entries_free(&l);
        return rs_client_fail(c, ROSTER_EPROTO, "the node answered %zu values for one key",
                              l.n);
    }
    *value = l.items[0].meta;
    l.items[0].meta.data = NULL;
    l.items[0].meta.len = 0;
    roster_entries_free(&l);
    return 0;
}
