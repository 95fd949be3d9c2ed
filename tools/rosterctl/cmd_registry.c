/* cmd_registry.c: the unique-name commands: lookup, names, register (held until stdin
 * closes), unregister. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int cmd_lookup(struct ctl *x, int argc, char **argv)
{
    int stale = 0, local = 0, all = 0;
    const struct ctl_opt opts[] = {{"--stale", CTL_FLAG, &stale},
                                   {"--local", CTL_FLAG, &local},
                                   {"--all", CTL_FLAG, &all},
                                   {NULL, CTL_FLAG, NULL}};
    const char *pos[1];
    int r = ctl_args(x, argc, argv, opts, pos, 1, 1, NULL);
    if (r)
        return r;
    if (local && all)
        return ctl_usage(x, "--local and --all exclude each other");
    if ((r = ctl_connect(x)))
        return r;
    ctl_read_mode(x, stale);
    if (all) {
        /* every holder (one per node in a scope created with --unique-per-node) */
        roster_entries l;
        if ((r = roster_lookup_all(x->c, x->scope, pos[0], strlen(pos[0]), &l, x->timeout_ms)))
            return ctl_fail(x, "lookup", r, NULL, NULL);
        if (l.n == 0) {
            roster_entries_free(&l);
            return ctl_fail(x, "lookup", ROSTER_ENOTFOUND, NULL, NULL);
        }
        list_begin(x);
        for (size_t i = 0; i < l.n; i++) {
            list_sep(x, i);
            print_entry(x, &l.items[i], NULL);
        }
        list_end(x);
        roster_entries_free(&l);
        return 0;
    }
    roster_entry e;
    r = local ? roster_lookup_local(x->c, x->scope, pos[0], strlen(pos[0]), &e, x->timeout_ms)
              : roster_lookup(x->c, x->scope, pos[0], strlen(pos[0]), &e, x->timeout_ms);
    if (r)
        return ctl_fail(x, "lookup", r, NULL, NULL);
    roster_entries one = {&e, 1};
    roster_owner *own = ctl_owners(x, &one);
    x->owner = own;
    print_entry(x, &e, NULL);
    x->owner = NULL;
    free(own);
    if (x->json)
        fputc('\n', stdout);
    roster_entry_free(&e);
    return 0;
}

/* pid_filter parses an optional --pid value (NULL: the zero pid). */
static int pid_filter(struct ctl *x, const char *text, roster_pid *out)
{
    memset(out, 0, sizeof *out);
    if (text && roster_pid_parse(text, out) != 0)
        return ctl_usage(x, "bad pid \"%s\" (expected 16 hex digits, '.', serial)", text);
    return 0;
}

int cmd_names(struct ctl *x, int argc, char **argv)
{
    static const char *const query[] = {"--node", "--local", NULL};
    if (ctl_has_query_opt(argc, argv, query))
        return cmd_names_query(x, argc, argv);
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
    roster_pid pid;
    uint64_t limit = 0;
    if ((r = pid_filter(x, pid_text, &pid)))
        return r;
    if (limit_text && ctl_parse_u64(limit_text, &limit) != 0)
        return ctl_usage(x, "bad --limit \"%s\"", limit_text);
    if ((r = ctl_connect(x)))
        return r;
    ctl_read_mode(x, stale);
    roster_entries l;
    r = roster_names(x->c, x->scope, prefix, strlen(prefix), pid, (size_t)limit, &l,
                     x->timeout_ms);
    if (r)
        return ctl_fail(x, "names", r, NULL, NULL);
    list_begin(x);
    for (size_t i = 0; i < l.n; i++) {
        list_sep(x, i);
        print_entry(x, &l.items[i], NULL);
    }
    list_end(x);
    roster_entries_free(&l);
    return 0;
}

int cmd_register(struct ctl *x, int argc, char **argv)
{
    const char *meta = "", *pos[1];
    int r = ctl_holder_args(x, argc, argv, &meta, pos);
    if (r)
        return r;
    if (x->n_hold > 1)
        return ctl_hold_many(x, 0, meta);
    roster_pid holder;
    if (x->ttl_ms)
        r = roster_register_ttl(x->c, x->scope, pos[0], strlen(pos[0]), roster_self(x->c), meta,
                                strlen(meta), x->ttl_ms, &holder, &x->token, x->timeout_ms);
    else
        r = roster_register_token(x->c, x->scope, pos[0], strlen(pos[0]), roster_self(x->c),
                                  meta, strlen(meta), &holder, &x->token, x->timeout_ms);
    x->have_token = r == 0;
    if (r == ROSTER_ETAKEN) {
        char h[ROSTER_PID_STRLEN];
        return ctl_fail(x, "register", r, "holder", roster_pid_format(holder, h));
    }
    if (r)
        return ctl_fail(x, "register", r, NULL, NULL);
    ctl_print_pid_line(x);
    return ctl_hold(x);
}

int cmd_unregister(struct ctl *x, int argc, char **argv)
{
    static const char *const match[] = {"--match", NULL};
    if (ctl_has_query_opt(argc, argv, match))
        return cmd_unmatch(x, argc, argv, 1);
    const char *pos[1];
    int r = ctl_args(x, argc, argv, NULL, pos, 1, 1, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    if ((r = roster_unregister(x->c, x->scope, pos[0], strlen(pos[0]), x->timeout_ms)))
        return ctl_fail(x, "unregister", r, NULL, NULL);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_bool(&o, "ok", 1);
        jo_end(&o);
        fputc('\n', stdout);
    }
    return 0;
}
