/* readinto.c: the reads that fill the caller's memory (roster_lookup_into,
 * roster_members_into). A program that looks a name up per request should not pay an
 * allocation and a free per answer: on the shared-memory path those were the larger part of
 * a lookup (docs/PERFORMANCE.md, figure 8), and for a group of 1,000 they were 2,000
 * allocations. Both read the region when it can answer (client/shm.c) and otherwise ask
 * the node through the ordinary calls and copy the answer out, so they answer the same. */
#include <string.h>

#include "client/client.h"

int roster_lookup_into(roster_client *c, const char *scope, const void *name, size_t name_len,
                       roster_found *out, void *meta, size_t meta_cap, int timeout_ms)
{
    if (!out || (meta_cap && !meta))
        return ROSTER_EINVAL;
    int r = rs_client_begin(c);
    struct rs_bytes s;
    if (r || (r = rs_client_check_scope(c, scope, &s)) ||
        (r = rs_client_check_key(c, name, name_len, "name")))
        return r;
    if (rs_client_shm_lookup_into(c, scope, name, name_len, out, meta, meta_cap, &r))
        return r;
    roster_entry e;
    r = roster_lookup(c, scope, name, name_len, &e, timeout_ms);
    if (r)
        return r;
    out->pid = e.pid;
    out->token = e.token;
    out->revision = e.revision;
    out->meta_len = e.meta.len;
    if (meta_cap && e.meta.len)
        memcpy(meta, e.meta.data, e.meta.len < meta_cap ? e.meta.len : meta_cap);
    roster_entry_free(&e);
    return 0;
}

int roster_members_into(roster_client *c, const char *scope, const void *group,
                        size_t group_len, int local_only, roster_pid *pids, size_t cap,
                        size_t *n_out, int timeout_ms)
{
    if (!n_out || (cap && !pids))
        return ROSTER_EINVAL;
    *n_out = 0;
    int r = rs_client_begin(c);
    struct rs_bytes s;
    if (r || (r = rs_client_check_scope(c, scope, &s)) ||
        (r = rs_client_check_key(c, group, group_len, "group name")))
        return r;
    if (rs_client_shm_member_pids(c, scope, group, group_len, local_only, pids, cap, n_out, &r))
        return r;
    roster_entries es;
    r = roster_members(c, scope, group, group_len, local_only, &es, timeout_ms);
    if (r)
        return r;
    for (size_t i = 0; i < es.n && i < cap; i++)
        pids[i] = es.items[i].pid;
    *n_out = es.n;
    roster_entries_free(&es);
    return 0;
}
