/* cmd_batch.c: `register NAME1 NAME2 ...` and `join GROUP1 GROUP2 ...` (issue 11, item 17):
 * every name in one batch (roster_register_many / roster_join_many: one round trip, one
 * result and one event per entry), all held by the one pid. The pid line comes first, as
 * for one name, then one line per name with its result. If any name is refused, the
 * others are released (the pid closes, reason normal) and rosterctl exits 1: a script
 * that asked for a set of names never keeps part of it by accident. */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"

static void print_result(struct ctl *x, int join, const roster_batch_item *it)
{
    char h[ROSTER_PID_STRLEN];
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_bytes(&o, join ? "group" : "name", it->key, it->key_len);
        if (it->status == 0) {
            jo_bool(&o, "ok", 1);
            if (!join)
                jo_token(&o, "token", it->token);
        } else {
            jo_str(&o, "error", roster_err_name(it->status));
            jo_str(&o, "message", roster_strerror(it->status));
            if (it->status == ROSTER_ETAKEN)
                jo_str(&o, "holder", roster_pid_format(it->holder, h));
        }
        jo_end(&o);
        fputc('\n', stdout);
        return;
    }
    text_bytes(stdout, it->key, it->key_len);
    if (it->status == 0 && !join)
        printf(" ok token %" PRIu64 "\n", it->token);
    else if (it->status == 0)
        printf(" ok\n");
    else if (it->status == ROSTER_ETAKEN)
        printf(" %s (holder %s)\n", roster_strerror(it->status),
               roster_pid_format(it->holder, h));
    else
        printf(" %s\n", roster_strerror(it->status));
}

int ctl_hold_many(struct ctl *x, int join, const char *meta)
{
    roster_batch_item items[CTL_HOLD_MAX];
    size_t n = (size_t)x->n_hold;
    memset(items, 0, sizeof items);
    for (size_t i = 0; i < n; i++) {
        items[i].key = x->hold_names[i];
        items[i].key_len = strlen(x->hold_names[i]);
        items[i].pid = roster_self(x->c);
        items[i].meta = meta;
        items[i].meta_len = strlen(meta);
    }
    int r = join ? roster_join_many(x->c, x->scope, items, n, x->timeout_ms)
                 : roster_register_many(x->c, x->scope, items, n, x->timeout_ms);
    if (r < 0)
        return ctl_fail(x, join ? "join" : "register", r, NULL, NULL);
    ctl_print_pid_line(x);
    for (size_t i = 0; i < n; i++)
        print_result(x, join, &items[i]);
    fflush(stdout);
    if (r > 0) {
        for (size_t i = 0; i < n; i++)
            if (items[i].status)
                fprintf(stderr, "rosterctl: %s %s: %s\n", join ? "join" : "register",
                        x->hold_names[i], roster_strerror(items[i].status));
        /* release the ones granted: all or nothing for the holder */
        roster_pid_close(x->c, roster_self(x->c), x->timeout_ms);
        return CTL_REFUSED;
    }
    return ctl_hold(x);
}
