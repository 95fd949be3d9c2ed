/* cmd_query.c: the metadata queries of rosterctl (issue 11 items 6 and 12): the filter
 * options of names, members and count (--meta-eq V, --meta-prefix P, --meta-glob G,
 * --where FIELD=VALUE, each repeatable, all must hold), members --prefix, count KEY,
 * member GROUP PID, and unregister / leave --match. The plain forms of names, members and
 * count stay in their files; they hand over here when one of these options is present. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_MATCH_MAX 8 /* as the node's limit (at most 8 conditions) */

struct filters {
    roster_match m[CTL_MATCH_MAX];
    size_t n;
};

static const struct {
    const char *opt;
    int op;
} filter_opts[] = {{"--meta-eq", ROSTER_MATCH_EQ},
                   {"--meta-prefix", ROSTER_MATCH_PREFIX},
                   {"--meta-glob", ROSTER_MATCH_GLOB},
                   {"--where", ROSTER_MATCH_FIELD}};
#define N_FILTER_OPTS (sizeof filter_opts / sizeof filter_opts[0])

/* filter_opt: the op of option a (and *val if "--opt=value"), or 0. */
static int filter_opt(const char *a, const char **val)
{
    *val = NULL;
    for (size_t k = 0; k < N_FILTER_OPTS; k++) {
        size_t n = strlen(filter_opts[k].opt);
        if (strncmp(a, filter_opts[k].opt, n) != 0)
            continue;
        if (a[n] == 0)
            return filter_opts[k].op;
        if (a[n] == '=') {
            *val = a + n + 1;
            return filter_opts[k].op;
        }
    }
    return 0;
}

int ctl_has_query_opt(int argc, char **argv, const char *const *also)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *v;
        if (filter_opt(argv[i], &v))
            return 1;
        for (size_t k = 0; also && also[k]; k++) {
            size_t n = strlen(also[k]);
            if (strncmp(argv[i], also[k], n) == 0 && (argv[i][n] == 0 || argv[i][n] == '='))
                return 1;
        }
    }
    return 0;
}

/* take_filters moves the filter options out of argv (compacting it, *argc updated) into f.
 * Returns 0 or the usage exit status. Field names of --where are split off in place. */
static int take_filters(struct ctl *x, int *argc, char **argv, struct filters *f)
{
    int w = 0, only_pos = 0;
    f->n = 0;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i], *val;
        int op = only_pos ? 0 : filter_opt(a, &val);
        if (strcmp(a, "--") == 0)
            only_pos = 1;
        if (!op) {
            argv[w++] = argv[i];
            continue;
        }
        if (!val) {
            if (i + 1 >= *argc)
                return ctl_usage(x, "%s needs a value", a);
            val = argv[++i];
        }
        if (f->n == CTL_MATCH_MAX)
            return ctl_usage(x, "at most %d metadata conditions", CTL_MATCH_MAX);
        roster_match *m = &f->m[f->n++];
        memset(m, 0, sizeof *m);
        m->op = op;
        if (op == ROSTER_MATCH_FIELD) {
            char *eq = strchr(val, '=');
            if (!eq || eq == val)
                return ctl_usage(x, "--where needs FIELD=VALUE, not \"%s\"", val);
            /* argv strings are ours to split (the field ends at the '=') */
            *eq = 0;
            m->field = val;
            val = eq + 1;
        }
        m->value = val;
        m->value_len = strlen(val);
    }
    *argc = w;
    return 0;
}

static int parse_pid_opt(struct ctl *x, const char *text, roster_pid *out)
{
    memset(out, 0, sizeof *out);
    if (text && roster_pid_parse(text, out) != 0)
        return ctl_usage(x, "bad pid \"%s\" (expected 16 hex digits, '.', serial)", text);
    return 0;
}

/* What a query command accepts beyond the filters, --prefix and --pid. */
enum {
    QA_KEY = 1,   /* one positional KEY (GROUP, NAME) */
    QA_LIMIT = 2, /* --limit N */
    QA_READ = 4,  /* --node N, --local, --stale */
    QA_MATCH = 8, /* --match (unregister / leave) */
};

/* The arguments of names, members, count and unregister|leave --match, parsed once. */
struct qargs {
    struct filters f;
    const char *prefix, *pid_text, *limit_text, *node, *pos[1];
    int stale, local, match, np;
};

/* take_query_args parses argv into a (options as `what` allows); 0 or the usage status. */
static int take_query_args(struct ctl *x, int argc, char **argv, unsigned what, struct qargs *a)
{
    memset(a, 0, sizeof *a);
    int r = take_filters(x, &argc, argv, &a->f);
    if (r)
        return r;
    struct ctl_opt opts[8];
    size_t k = 0;
    opts[k++] = (struct ctl_opt){"--prefix", CTL_STR, &a->prefix};
    opts[k++] = (struct ctl_opt){"--pid", CTL_STR, &a->pid_text};
    if (what & QA_LIMIT)
        opts[k++] = (struct ctl_opt){"--limit", CTL_STR, &a->limit_text};
    if (what & QA_READ) {
        opts[k++] = (struct ctl_opt){"--node", CTL_STR, &a->node};
        opts[k++] = (struct ctl_opt){"--local", CTL_FLAG, &a->local};
        opts[k++] = (struct ctl_opt){"--stale", CTL_FLAG, &a->stale};
    }
    if (what & QA_MATCH)
        opts[k++] = (struct ctl_opt){"--match", CTL_FLAG, &a->match};
    opts[k] = (struct ctl_opt){NULL, CTL_FLAG, NULL};
    return ctl_args(x, argc, argv, opts, a->pos, 0, (what & QA_KEY) ? 1 : 0, &a->np);
}

/* query_fill checks a's values and fills q (the key and whether it is a prefix given by the
 * caller), then connects and sets the read mode. 0 or the exit status. */
static int query_fill(struct ctl *x, const struct qargs *a, const char *key, int prefix,
                      roster_query *q)
{
    uint64_t limit = 0;
    roster_query_init(q);
    int r = parse_pid_opt(x, a->pid_text, &q->pid);
    if (r)
        return r;
    if (a->limit_text && ctl_parse_u64(a->limit_text, &limit) != 0)
        return ctl_usage(x, "bad --limit \"%s\"", a->limit_text);
    if ((r = ctl_connect(x)))
        return r;
    ctl_read_mode(x, a->stale);
    q->key = key;
    q->key_len = strlen(key);
    q->prefix = prefix;
    q->node = a->node;
    q->local_only = a->local;
    q->limit = (size_t)limit;
    q->match = a->f.m;
    q->n_match = a->f.n;
    return 0;
}

/* print_entries prints a listing; members name their group (in_group). */
static void print_entries(struct ctl *x, roster_entries *l, int in_group)
{
    list_begin(x);
    for (size_t i = 0; i < l->n; i++) {
        list_sep(x, i);
        print_entry(x, &l->items[i], in_group ? &l->items[i].name : NULL);
    }
    list_end(x);
    roster_entries_free(l);
}

int cmd_names_query(struct ctl *x, int argc, char **argv)
{
    struct qargs a;
    roster_query q;
    roster_entries l;
    int r = take_query_args(x, argc, argv, QA_LIMIT | QA_READ, &a);
    if (r || (r = query_fill(x, &a, a.prefix ? a.prefix : "", 1, &q)))
        return r;
    if ((r = roster_query_names(x->c, x->scope, &q, &l, x->timeout_ms)))
        return ctl_fail(x, "names", r, NULL, NULL);
    print_entries(x, &l, 0);
    return 0;
}

int cmd_members_query(struct ctl *x, int argc, char **argv)
{
    struct qargs a;
    roster_query q;
    roster_entries l;
    int r = take_query_args(x, argc, argv, QA_KEY | QA_LIMIT | QA_READ, &a);
    if (r)
        return r;
    if ((a.np == 1) == (a.prefix != NULL))
        return ctl_usage(x, "give GROUP or --prefix P (not both)");
    if ((r = query_fill(x, &a, a.prefix ? a.prefix : a.pos[0], a.prefix != NULL, &q)))
        return r;
    if ((r = roster_query_members(x->c, x->scope, &q, &l, x->timeout_ms)))
        return ctl_fail(x, "members", r, NULL, NULL);
    print_entries(x, &l, 1); /* each member names its group */
    return 0;
}

int cmd_count_query(struct ctl *x, int argc, char **argv)
{
    struct qargs a;
    roster_query q;
    roster_counts n;
    int r = take_query_args(x, argc, argv, QA_KEY | QA_READ, &a);
    if (r)
        return r;
    if (a.np == 1 && a.prefix)
        return ctl_usage(x, "give KEY or --prefix P (not both)");
    const char *key = a.np ? a.pos[0] : a.prefix ? a.prefix : "";
    if ((r = query_fill(x, &a, key, a.np == 0, &q)))
        return r;
    if ((r = roster_query_count(x->c, x->scope, &q, &n, x->timeout_ms)))
        return ctl_fail(x, "count", r, a.node ? "node" : NULL, a.node);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        if (a.np)
            jo_str(&o, "key", a.pos[0]);
        jo_u64(&o, "names", n.names);
        jo_u64(&o, "groups", n.groups);
        jo_u64(&o, "members", n.members);
        if (n.revision)
            jo_u64(&o, "revision", n.revision);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("names %" PRIu64 "\ngroups %" PRIu64 "\nmembers %" PRIu64 "\n", n.names,
               n.groups, n.members);
        if (n.revision)
            printf("revision %" PRIu64 "\n", n.revision);
    }
    return 0;
}

int cmd_member(struct ctl *x, int argc, char **argv)
{
    int stale = 0;
    const struct ctl_opt opts[] = {{"--stale", CTL_FLAG, &stale}, {NULL, CTL_FLAG, NULL}};
    const char *pos[2];
    roster_pid pid;
    int r = ctl_args(x, argc, argv, opts, pos, 2, 2, NULL);
    if (r || (r = parse_pid_opt(x, pos[1], &pid)) || (r = ctl_connect(x)))
        return r;
    ctl_read_mode(x, stale);
    r = roster_is_member(x->c, x->scope, pos[0], strlen(pos[0]), pid, x->timeout_ms);
    if (r < 0) {
        ctl_fail(x, "member", r, NULL, NULL);
        return CTL_USAGE; /* 1 means "not a member": every error is 2 here */
    }
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "group", pos[0]);
        jo_str(&o, "pid", pos[1]);
        jo_bool(&o, "member", r == 1);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("%s\n", r == 1 ? "member" : "not a member");
    }
    return r == 1 ? CTL_OK : CTL_REFUSED;
}

/* unregister / leave --match: one request removes every selected entry of --pid. */
int cmd_unmatch(struct ctl *x, int argc, char **argv, int names)
{
    struct qargs a;
    roster_query q;
    int r = take_query_args(x, argc, argv, QA_KEY | QA_MATCH, &a);
    if (r)
        return r;
    if (a.np == 1 && a.prefix)
        return ctl_usage(x, "give %s or --prefix P (not both)", names ? "NAME" : "GROUP");
    if (!a.pid_text)
        return ctl_usage(x, "--match needs --pid PID (the holder: rosterctl's own "
                            "connection holds nothing)");
    const char *key = a.np ? a.pos[0] : a.prefix ? a.prefix : "";
    if ((r = query_fill(x, &a, key, a.np == 0, &q)))
        return r;
    r = names ? roster_unregister_match(x->c, x->scope, &q, x->timeout_ms)
              : roster_leave_match(x->c, x->scope, &q, x->timeout_ms);
    if (r < 0)
        return ctl_fail(x, names ? "unregister" : "leave", r, NULL, NULL);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_u64(&o, "removed", (uint64_t)r);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("removed %d\n", r);
    }
    return r > 0 ? CTL_OK : CTL_REFUSED; /* nothing matched: like a name not registered */
}
