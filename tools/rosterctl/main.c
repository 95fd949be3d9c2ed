/* main.c: rosterctl entry point: global options, the command table, argument parsing
 * shared by the commands, connecting, error reporting and the exit status. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct cmd {
    const char *name;
    int (*fn)(struct ctl *x, int argc, char **argv);
    const char *usage;
};

static const struct cmd cmds[] = {
    {"status", cmd_status, "status"},
    {"nodes", cmd_nodes, "nodes [--scope S]   (cluster nodes: name incarnation state)"},
    {"scopes", cmd_scopes, "scopes"},
    {"scope-create", cmd_scope_create, "scope-create NAME [--strong | --duplicate-members] [--unique-per-node]"},
    {"scope-join", cmd_scope_join,
     "scope-join NAME [--ttl MS]   (this node replicates the scope; --ttl: until unused MS)"},
    {"scope-leave", cmd_scope_leave, "scope-leave NAME"},
    {"scope-meta", cmd_scope_meta, "scope-meta set S K V | get S [K] | delete S K"},
    {"lookup", cmd_lookup, "lookup NAME [--stale] [--local | --all]"},
    {"names", cmd_names,
     "names [--prefix P] [--pid PID] [--limit N] [--node N] [--local] [--stale] [FILTER...]   "
     "(FILTER: --meta-eq V, --meta-prefix P, --meta-glob G, --where FIELD=VALUE; all must "
     "hold)"},
    {"members", cmd_members,
     "members (GROUP | --prefix P) [--local] [--pid PID] [--node N] [--limit N] [--stale] "
     "[FILTER...]"},
    {"member", cmd_member, "member GROUP PID [--stale]   (exit 0 member, 1 not, 2 error)"},
    {"groups", cmd_groups, "groups [--prefix P] [--pid PID] [--limit N] [--stale]"},
    {"count", cmd_count,
     "count [KEY | --prefix P] [--node N] [--pid PID] [--local] [--stale] [FILTER...]   "
     "(KEY: the name KEY and the members of group KEY)"},
    {"register", cmd_register,
     "register NAME... [--meta M] [--ttl MS] [--exit-reason R] [--recv] [--reply-with CMD] "
     "[--reconnect]   (held until stdin EOF or killed; --ttl: renewed while rosterctl runs)"},
    {"elect", cmd_elect,
     "elect NAME [--meta M] [--exit-reason R] [--recv] [--reply-with CMD]   (waits to hold "
     "NAME, then holds it like register)"},
    {"check-token", cmd_check_token,
     "check-token NAME TOKEN   (exit 0 current, 1 stale, 2 error)"},
    {"handoff", cmd_handoff, "handoff NAME PID [--if-token T]"},
    {"update", cmd_update,
     "update NAME --meta M (--if-token T | --if-meta OLD) [--member PID]   (NAME: a name, or "
     "with --member a group)"},
    {"unregister", cmd_unregister,
     "unregister NAME | unregister --match --pid PID [NAME | --prefix P] [FILTER...]"},
    {"join", cmd_join,
     "join GROUP... [--meta M] [--ttl MS] [--exit-reason R] [--recv] [--reply-with CMD] "
     "[--reconnect]   (held until stdin EOF or killed; --ttl: renewed while rosterctl runs)"},
    {"leave", cmd_leave,
     "leave GROUP | leave --match --pid PID [GROUP | --prefix P] [FILTER...]"},
    {"watch", cmd_watch,
     "watch [PREFIX] [--snapshot | --from-revision R] [--exact] [--registry|--groups] "
     "[--scope-meta]"},
    {"monitor", cmd_monitor, "monitor PID"},
    {"send", cmd_send, "send TARGET [MESSAGE] [--confirm]   (TARGET: a pid or a name; "
                       "MESSAGE: else stdin)"},
    {"publish", cmd_publish, "publish GROUP [MESSAGE] [--local]   (prints the recipients)"},
    {"call", cmd_call, "call TARGET [MESSAGE]   (prints the reply; --timeout bounds the wait)"},
    {"multi-call", cmd_multi_call, "multi-call GROUP [MESSAGE] [--local]"},
    {"ping", cmd_ping, "ping"},
    {"log-level", cmd_log_level, "log-level off|error|warn|info|debug|trace"},
    {"cluster-join", cmd_cluster_join,
     "cluster-join HOST:PORT [--wait MS]   (this node joins the cluster of that node)"},
    {"cluster-leave", cmd_cluster_leave, "cluster-leave   (this node leaves its cluster cleanly)"},
    {"forget", cmd_forget, "forget NODE   (stop redialing a node that is gone for good)"},
    {"owner", cmd_owner, "owner PID   (the OS pid and uid of the client holding PID)"},
    {"top", cmd_top, "top [--once] [--interval MS] [--limit N]   (live view; --json with --once)"},
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static void print_help(FILE *f)
{
    fprintf(f, "usage: rosterctl [--socket PATH] [--json] [--timeout MS] COMMAND [args]\n"
               "every command accepts --scope S (default: default)\ncommands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, "  %s\n", cmds[i].usage);
    fprintf(f, "exit status: 0 success, 1 not found / refused, 2 usage or connection error\n");
}

int ctl_exit_status(int err)
{
    switch (err) {
    case ROSTER_OK:
        return CTL_OK;
    case ROSTER_EINVAL:
    case ROSTER_ECONNECT:
    case ROSTER_ECLOSED:
    case ROSTER_ETIMEDOUT:
    case ROSTER_EPROTO:
    case ROSTER_EVERSION:
    case ROSTER_ENOMEM:
    case ROSTER_EBUSY:
    case ROSTER_EAUTH:
    case ROSTER_EINTERNAL:
    case ROSTER_EIO:
        return CTL_USAGE;
    case ROSTER_ENOTFOUND: /* also: count --node of a node the local node does not know */
    default:
        return CTL_REFUSED; /* not found, taken, not owner / member, limits, ... */
    }
}

int ctl_fail(struct ctl *x, const char *what, int err, const char *extra_key,
             const char *extra_val)
{
    const char *detail = x->c ? roster_errdetail(x->c) : "";
    /* EBUSY from a connected client is a request the node refused (a scope that still holds
     * entries), not a connection it turned away: its own reason, and exit 1 */
    int refused = x->c && err == ROSTER_EBUSY;
    fprintf(stderr, "rosterctl: %s: %s", what,
            refused ? "refused, busy" : roster_strerror(err));
    if (detail && *detail)
        fprintf(stderr, " (%s)", detail);
    fputc('\n', stderr);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "error", roster_err_name(err));
        jo_str(&o, "message", refused ? "refused, busy" : roster_strerror(err));
        if (detail && *detail)
            jo_str(&o, "detail", detail);
        if (extra_key && extra_val)
            jo_str(&o, extra_key, extra_val);
        jo_end(&o);
        fputc('\n', stdout);
        fflush(stdout);
    }
    return refused ? CTL_REFUSED : ctl_exit_status(err);
}

int ctl_usage(struct ctl *x, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "rosterctl: %s%s%s\n", x->cmd ? x->cmd : "", x->cmd ? ": " : "", msg);
    for (size_t i = 0; x->cmd && i < NCMDS; i++)
        if (strcmp(cmds[i].name, x->cmd) == 0)
            fprintf(stderr, "usage: rosterctl %s\n", cmds[i].usage);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "error", "EUSAGE");
        jo_str(&o, "message", msg);
        jo_end(&o);
        fputc('\n', stdout);
        fflush(stdout);
    }
    return CTL_USAGE;
}

int ctl_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_timeout(struct ctl *x, const char *s)
{
    if (s && strcmp(s, "-1") == 0) {
        x->timeout_ms = ROSTER_FOREVER;
        return 0;
    }
    uint64_t v;
    if (ctl_parse_u64(s, &v) != 0 || v > 0x7fffffff)
        return ctl_usage(x, "--timeout needs milliseconds (or -1), not \"%s\"", s ? s : "");
    x->timeout_ms = (int)v;
    return 0;
}

/* global_opt handles a global option at argv[*i]; 1 if it was one, 0 if not, or -exit. */
static int global_opt(struct ctl *x, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *names[] = {"--socket", "--timeout", "--scope"};
    if (strcmp(a, "--json") == 0) {
        x->json = 1;
        return 1;
    }
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(names[k]);
        const char *val = NULL;
        if (strcmp(a, names[k]) == 0) {
            if (*i + 1 >= argc)
                return -ctl_usage(x, "%s needs a value", names[k]);
            val = argv[++*i];
        } else if (strncmp(a, names[k], n) == 0 && a[n] == '=') {
            val = a + n + 1;
        } else {
            continue;
        }
        if (k == 0)
            x->socket = val;
        else if (k == 1) {
            int r = parse_timeout(x, val);
            if (r)
                return -r;
        } else
            x->scope = val;
        return 1;
    }
    return 0;
}

int ctl_args(struct ctl *x, int argc, char **argv, const struct ctl_opt *opts,
             const char **pos, int min_pos, int max_pos, int *npos)
{
    int np = 0, only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            int g = global_opt(x, argc, argv, &i);
            if (g < 0)
                return -g;
            if (g > 0)
                continue;
            const struct ctl_opt *o = opts;
            for (; o && o->name; o++) {
                size_t n = strlen(o->name);
                if (o->kind == CTL_FLAG && strcmp(a, o->name) == 0) {
                    *(int *)o->dst = 1;
                    break;
                }
                if (o->kind == CTL_STR && strcmp(a, o->name) == 0) {
                    if (i + 1 >= argc)
                        return ctl_usage(x, "%s needs a value", o->name);
                    *(const char **)o->dst = argv[++i];
                    break;
                }
                if (o->kind == CTL_STR && strncmp(a, o->name, n) == 0 && a[n] == '=') {
                    *(const char **)o->dst = a + n + 1;
                    break;
                }
            }
            if (!o || !o->name)
                return ctl_usage(x, "unknown option %s", a);
            continue;
        }
        if (np >= max_pos)
            return ctl_usage(x, "unexpected argument \"%s\"", a);
        pos[np++] = a;
    }
    if (np < min_pos)
        return ctl_usage(x, "missing argument");
    if (npos)
        *npos = np;
    return 0;
}

int ctl_holder_args(struct ctl *x, int argc, char **argv, const char **meta, const char **pos)
{
    const char *ttl = NULL;
    const struct ctl_opt opts[] = {{"--meta", CTL_STR, meta},
                                   {"--recv", CTL_FLAG, &x->recv},
                                   {"--reply-with", CTL_STR, &x->reply_with},
                                   {"--reconnect", CTL_FLAG, &x->reconnect},
                                   {"--ttl", CTL_STR, &ttl},
                                   {"--exit-reason", CTL_STR, &x->exit_reason},
                                   {NULL, CTL_FLAG, NULL}};
    int r = ctl_args(x, argc, argv, opts, x->hold_names, 1, CTL_HOLD_MAX, &x->n_hold);
    if (r)
        return r;
    /* several names: register and join only (a batch); elect waits for one */
    if (x->n_hold > 1 && x->cmd && strcmp(x->cmd, "register") && strcmp(x->cmd, "join"))
        return ctl_usage(x, "unexpected argument \"%s\"", x->hold_names[1]);
    pos[0] = x->hold_names[0];
    if (ttl) {
        uint64_t v;
        if (strcmp(x->cmd, "elect") == 0)
            return ctl_usage(x, "--ttl is for register and join (a campaign's name lives "
                                "by its holder's connection)");
        if (ctl_parse_u64(ttl, &v) != 0 || v < ROSTER_TTL_MIN_MS || v > ROSTER_TTL_MAX_MS)
            return ctl_usage(x, "--ttl '%s': expected milliseconds from %u to %u", ttl,
                             ROSTER_TTL_MIN_MS, ROSTER_TTL_MAX_MS);
        x->ttl_ms = (uint32_t)v;
    }
    if (x->exit_reason) {
        /* checked before connecting, as the node would: a bad reason is a usage error, not
         * found out only when stdin closes */
        const char *why = x->exit_reason;
        if (why[0] == 0 || strlen(why) > ROSTER_EXIT_REASON_MAX)
            return ctl_usage(x, "--exit-reason: expected 1 to %d bytes", ROSTER_EXIT_REASON_MAX);
        for (const char *p = why; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return ctl_usage(x, "--exit-reason: a control byte");
        for (int i = 0; i < 64; i++) /* every built-in name, and "unknown" */
            if (strcmp(why, roster_reason_name(i)) == 0)
                return ctl_usage(x, "--exit-reason '%s' is a built-in reason name (reserved)",
                                 why);
    }
    return ctl_connect(x);
}

int ctl_connect(struct ctl *x)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = x->socket;
    o.client_name = "rosterctl";
    o.reconnect = x->reconnect;
    /* --timeout bounds each request; connecting (socket + handshake) gets at least
     * CTL_CONNECT_MIN_MS, so that even --timeout 0 reaches a local node. -1: no limit. */
    o.timeout_ms = x->timeout_ms < 0                   ? ROSTER_FOREVER
                   : x->timeout_ms < CTL_CONNECT_MIN_MS ? CTL_CONNECT_MIN_MS
                                                        : x->timeout_ms;
    int r = roster_connect(&x->c, &o);
    if (r == 0)
        return 0;
    char path[512], what[700];
    const char *sp = x->socket ? x->socket : roster_default_socket(path, sizeof path);
    if (r == ROSTER_ECONNECT && errno)
        snprintf(what, sizeof what, "connect %s (%s)", sp, strerror(errno));
    else
        snprintf(what, sizeof what, "connect %s", sp);
    x->c = NULL;
    return ctl_fail(x, what, r, "socket", sp);
}

/* wants_json tells whether --json appears among the options of argv (before a "--"),
 * skipping the values of the options that take one, so that usage errors found before the
 * parser reaches --json are reported as JSON too. */
static int wants_json(int argc, char **argv)
{
    static const char *const with_value[] = {
        "--socket", "--timeout", "--scope",    "--meta",   "--prefix",       "--pid",
        "--limit",  "--node",    "--reply-with", "--if-token", "--if-meta", "--member",
        "--from-revision", "--meta-eq", "--meta-prefix", "--meta-glob", "--where", "--ttl",
        "--exit-reason", "--wait"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return 0;
        if (strcmp(a, "--json") == 0)
            return 1;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            if (strcmp(a, with_value[k]) == 0) {
                i++;
                break;
            }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct ctl x;
    memset(&x, 0, sizeof x);
    x.timeout_ms = 5000;
    x.scope = "default";
    x.json = wants_json(argc, argv);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(stdout);
            return 0;
        }
        int g = global_opt(&x, argc, argv, &i);
        if (g < 0)
            return -g;
        if (g == 0)
            return ctl_usage(&x, "unknown option %s (try --help)", argv[i]);
    }
    if (i >= argc) {
        int st = ctl_usage(&x, "no command given");
        print_help(stderr);
        return st;
    }
    if (strcmp(argv[i], "help") == 0) {
        print_help(stdout);
        return 0;
    }
    const struct cmd *cmd = NULL;
    for (size_t k = 0; k < NCMDS; k++)
        if (strcmp(cmds[k].name, argv[i]) == 0)
            cmd = &cmds[k];
    if (!cmd)
        return ctl_usage(&x, "unknown command \"%s\" (try --help)", argv[i]);
    x.cmd = cmd->name;
    int st = cmd->fn(&x, argc - i - 1, argv + i + 1);
    roster_close(x.c);
    fflush(stdout);
    return st;
}
