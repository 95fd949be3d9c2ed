/* cmd_groups.c: the process-group commands: members, groups, join (held until stdin
 * closes), leave. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int cmd_members(struct ctl *x, int argc, char **argv)
{
    static const char *const query[] = {"--prefix", "--pid", "--limit", "--node", NULL};
    if (ctl_has_query_opt(argc, argv, query))
        return cmd_members_query(x, argc, argv);
    int local = 0, stale = 0;
    const struct ctl_opt opts[] = {{"--local", CTL_FLAG, &local},
                                   {"--stale", CTL_FLAG, &stale},
                                   {NULL, CTL_FLAG, NULL}};
    const char *pos[1];
    int r = ctl_args(x, argc, argv, opts, pos, 1, 1, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    ctl_read_mode(x, stale);
    roster_entries l;
    size_t glen = strlen(pos[0]);
    if ((r = roster_members(x->c, x->scope, pos[0], glen, local, &l, x->timeout_ms)))
        return ctl_fail(x, "members", r, NULL, NULL);
    roster_buf group = {(uint8_t *)(uintptr_t)pos[0], glen};
    roster_owner *own = ctl_owners(x, &l);
    list_begin(x);
    for (size_t i = 0; i < l.n; i++) {
        list_sep(x, i);
        x->owner = own ? &own[i] : NULL;
        print_entry(x, &l.items[i], &group);
    }
    x->owner = NULL;
    free(own);
    list_end(x);
    roster_entries_free(&l);
    return 0;
}

int cmd_groups(struct ctl *x, int argc, char **argv)
{
    const char *prefix = "", *pid_text = NULL, *limit_text = NULL;
    int stale = 0;
    const struct ctl_opt opts[] = {{"--prefix", CTL_STR, &prefix},
                                   {"--pid", CTL_STR, &pid_text},
                                   {"--limit", CTL_STR, &limit_text},
                                   {"--stale", CTL_FLAG, &stale},
                                   {NULL, CTL_FLAG, NULL}};
    int r = ctl_args(x, argc, argv, opts, NULL, 0, 0, NULL);
    if (r)
        return r;
    roster_pid pid = {0, 0};
    uint64_t limit = 0;
    if (pid_text && roster_pid_parse(pid_text, &pid) != 0)
        return ctl_usage(x, "bad pid \"%s\"", pid_text);
    if (limit_text && ctl_parse_u64(limit_text, &limit) != 0)
        return ctl_usage(x, "bad --limit \"%s\"", limit_text);
    if ((r = ctl_connect(x)))
        return r;
    ctl_read_mode(x, stale);
    roster_entries l;
    r = roster_groups(x->c, x->scope, prefix, strlen(prefix), pid, (size_t)limit, &l,
                      x->timeout_ms);
    if (r)
        return ctl_fail(x, "groups", r, NULL, NULL);
    list_begin(x);
    for (size_t i = 0; i < l.n; i++) {
        const roster_entry *e = &l.items[i];
        if (x->json) {
            list_sep(x, i);
            struct jobj o;
            jo_begin(&o, stdout);
            jo_bytes(&o, "group", e->name.data, e->name.len);
            jo_bytes(&o, "name", e->name.data, e->name.len);
            jo_u64(&o, "members", e->count);
            if (pid_text)
                jo_bytes(&o, "meta", e->meta.data, e->meta.len);
            if (e->revision)
                jo_u64(&o, "revision", e->revision);
            jo_end(&o);
        } else {
            text_bytes(stdout, e->name.data, e->name.len);
            printf(" %" PRIu64, e->count);
            if (e->revision)
                printf(" revision=%" PRIu64, e->revision);
            fputc('\n', stdout);
        }
    }
    list_end(x);
    roster_entries_free(&l);
    return 0;
}

int cmd_join(struct ctl *x, int argc, char **argv)
{
    const char *meta = "", *pos[1];
    int r = ctl_holder_args(x, argc, argv, &meta, pos);
    if (r)
        return r;
    if (x->n_hold > 1)
        return ctl_hold_many(x, 1, meta);
    if (x->ttl_ms)
        r = roster_join_ttl(x->c, x->scope, pos[0], strlen(pos[0]), roster_self(x->c), meta,
                            strlen(meta), x->ttl_ms, x->timeout_ms);
    else
        r = roster_join(x->c, x->scope, pos[0], strlen(pos[0]), roster_self(x->c), meta,
                        strlen(meta), x->timeout_ms);
    if (r)
        return ctl_fail(x, "join", r, NULL, NULL);
    ctl_print_pid_line(x);
    return ctl_hold(x);
}

int cmd_leave(struct ctl *x, int argc, char **argv)
{
    static const char *const match[] = {"--match", NULL};
    if (ctl_has_query_opt(argc, argv, match))
        return cmd_unmatch(x, argc, argv, 0);
    const char *pos[1];
    int r = ctl_args(x, argc, argv, NULL, pos, 1, 1, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    r = roster_leave(x->c, x->scope, pos[0], strlen(pos[0]), roster_self(x->c), x->timeout_ms);
    if (r)
        return ctl_fail(x, "leave", r, NULL, NULL);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_bool(&o, "ok", 1);
        jo_end(&o);
        fputc('\n', stdout);
    }
    return 0;
}
