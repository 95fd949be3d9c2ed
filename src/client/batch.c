/* batch.c: registering or joining several entries in one call (issue 11, item 17). The
 * requests are ordinary REGISTER / JOIN frames written together and answered together
 * (rs_client_request_many): one round trip, each entry applied by the node exactly as a
 * single call would be, with its own result and its own event. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "client/client.h"

static int many(roster_client *c, uint8_t type, const char *scope, roster_batch_item *items,
                size_t n, int timeout_ms)
{
    int r = rs_client_begin(c);
    if (r)
        return r;
    if (n && !items)
        return rs_client_fail(c, ROSTER_EINVAL, "items is NULL");
    if (n > ROSTER_BATCH_MAX)
        return rs_client_fail(c, ROSTER_EINVAL, "batch of %zu items (at most %d)", n,
                              ROSTER_BATCH_MAX);
    for (size_t i = 0; i < n; i++) {
        items[i].status = ROSTER_EUNKNOWN;
        memset(&items[i].holder, 0, sizeof items[i].holder);
        items[i].token = 0;
    }
    if (n == 0)
        return 0;
    struct rs_msg *msgs = rs_malloc(n * sizeof *msgs);
    struct rs_req *reqs = rs_malloc(n * sizeof *reqs);
    if (!msgs || !reqs) {
        rs_free(msgs);
        rs_free(reqs);
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory for a batch of %zu", n);
    }
    for (size_t i = 0; i < n && !r; i++) {
        r = rs_client_build_write(c, &msgs[i], type, scope, items[i].key, items[i].key_len,
                                  items[i].pid, items[i].meta, items[i].meta_len);
        if (r) {
            /* a local check failed: nothing is sent, and the detail names the item */
            char d[RS_CLIENT_DETAIL_MAX];
            memcpy(d, c->detail, sizeof d);
            items[i].status = r;
            r = rs_client_fail(c, r, "item %zu: %.*s", i, (int)(sizeof d - 32), d);
        }
    }
    if (!r)
        r = rs_client_request_many(c, msgs, reqs, n, timeout_ms);
    int failed = 0;
    char first[RS_CLIENT_DETAIL_MAX] = "";
    for (size_t i = 0; i < n; i++) {
        if (!reqs[i].done) /* unanswered (the batch failed): EUNKNOWN */
            continue;
        items[i].status = reqs[i].err ? reqs[i].err : reqs[i].status;
        if (type == RS_MSG_REGISTER) {
            struct rs_msg rep = rs_req_reply(&reqs[i]);
            struct rs_pid h = rs_msg_register_reply_holder(&rep);
            if (items[i].status == 0 || items[i].status == ROSTER_ETAKEN) {
                items[i].holder.node_inc = h.inc;
                items[i].holder.serial = h.serial;
            }
            if (items[i].status == 0)
                items[i].token = rs_msg_register_reply_token(&rep);
        }
        if (items[i].status != 0 && failed++ == 0)
            snprintf(first, sizeof first, "item %zu: %s", i, roster_strerror(items[i].status));
    }
    rs_free(msgs);
    rs_free(reqs);
    if (r)
        return r;
    if (failed)
        rs_client_fail(c, ROSTER_EINVAL, "%d of %zu failed; first %s", failed, n, first);
    return failed;
}

int roster_register_many(roster_client *c, const char *scope, roster_batch_item *items,
                         size_t n, int timeout_ms)
{
    return many(c, RS_MSG_REGISTER, scope, items, n, timeout_ms);
}

int roster_join_many(roster_client *c, const char *scope, roster_batch_item *items, size_t n,
                     int timeout_ms)
{
    return many(c, RS_MSG_JOIN, scope, items, n, timeout_ms);
}
