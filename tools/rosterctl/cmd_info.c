/* cmd_info.c: node and scope information and administration: status, nodes, scopes,
 * scope-create, count, ping, log-level. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

int cmd_status(struct ctl *x, int argc, char **argv)
{
    int r = ctl_args(x, argc, argv, NULL, NULL, 0, 0, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    roster_stats st;
    if ((r = roster_status(x->c, &st, x->timeout_ms)))
        return ctl_fail(x, "status", r, NULL, NULL);
    /* The incarnation is a 64-bit number: it is printed once, as the 16 hex digits used by
     * nodes and pids (a JSON number above 2^53 would be rounded by most readers), and the
     * node's own "incarnation" stat is left out. */
    char inc[17];
    snprintf(inc, sizeof inc, "%016" PRIx64, roster_node_incarnation(x->c));
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "node", roster_node_name(x->c));
        jo_str(&o, "incarnation", inc);
        for (size_t i = 0; i < st.n; i++)
            if (strcmp(st.items[i].key, "incarnation") != 0 &&
                strcmp(st.items[i].key, "node") != 0)
                jo_u64(&o, st.items[i].key, st.items[i].value);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("node %s incarnation %s\n", roster_node_name(x->c), inc);
        for (size_t i = 0; i < st.n; i++)
            if (strcmp(st.items[i].key, "incarnation") != 0 &&
                strcmp(st.items[i].key, "node") != 0)
                printf("%s %" PRIu64 "\n", st.items[i].key, st.items[i].value);
    }
    roster_stats_free(&st);
    return 0;
}

static const char *state_name(int s)
{
    switch (s) {
    case ROSTER_NODE_UP: return "up";
    case ROSTER_NODE_DOWN: return "down";
    case ROSTER_NODE_CONNECTING: return "connecting";
    case ROSTER_NODE_LEFT: return "left";
    default: return "unknown";
    }
}

/* since formats wall-clock ms as UTC ISO 8601 with milliseconds. */
static const char *since(uint64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03uZ", base, (unsigned)(ms % 1000));
    return buf;
}

int cmd_nodes(struct ctl *x, int argc, char **argv)
{
    int r = ctl_args(x, argc, argv, NULL, NULL, 0, 0, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    roster_nodes nodes;
    if ((r = roster_nodes_list(x->c, x->scope, &nodes, x->timeout_ms)))
        return ctl_fail(x, "nodes", r, NULL, NULL);
    list_begin(x);
    for (size_t i = 0; i < nodes.n; i++) {
        const roster_node_info *n = &nodes.items[i];
        char inc[17], when[40];
        snprintf(inc, sizeof inc, "%016" PRIx64, n->incarnation);
        if (x->json) {
            list_sep(x, i);
            struct jobj o;
            jo_begin(&o, stdout);
            jo_str(&o, "name", n->name);
            jo_str(&o, "incarnation", inc);
            jo_str(&o, "state", state_name(n->state));
            jo_bool(&o, "self", n->self);
            if (n->down_since_ms)
                jo_str(&o, "down_since", since(n->down_since_ms, when, sizeof when));
            jo_end(&o);
        } else {
            printf("%s %s %s%s", n->name, inc, state_name(n->state), n->self ? " self" : "");
            if (n->down_since_ms)
                printf(" since %s", since(n->down_since_ms, when, sizeof when));
            putchar('\n');
        }
    }
    list_end(x);
    roster_nodes_free(&nodes);
    return 0;
}

int cmd_scopes(struct ctl *x, int argc, char **argv)
{
    int r = ctl_args(x, argc, argv, NULL, NULL, 0, 0, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    roster_entries l;
    if ((r = roster_scopes(x->c, &l, x->timeout_ms)))
        return ctl_fail(x, "scopes", r, NULL, NULL);
    list_begin(x);
    for (size_t i = 0; i < l.n; i++) {
        const roster_entry *e = &l.items[i];
        const char *mode = e->mode == ROSTER_SCOPE_STRONG ? "strong" : "eventual";
        int dup = !!(e->options & ROSTER_SCOPE_DUPLICATE_MEMBERS);
        int per_node = !!(e->options & ROSTER_SCOPE_UNIQUE_PER_NODE);
        if (x->json) {
            list_sep(x, i);
            struct jobj o;
            jo_begin(&o, stdout);
            jo_bytes(&o, "scope", e->name.data, e->name.len);
            jo_str(&o, "mode", mode);
            jo_u64(&o, "names", e->count);
            jo_u64(&o, "groups", e->groups);
            jo_bool(&o, "duplicate_members", dup);
            jo_bool(&o, "unique_per_node", per_node);
            jo_end(&o);
        } else {
            text_bytes(stdout, e->name.data, e->name.len);
            printf(" %s names=%" PRIu64 " groups=%" PRIu64 "%s%s\n", mode, e->count, e->groups,
                   dup ? " duplicate-members" : "", per_node ? " unique-per-node" : "");
        }
    }
    list_end(x);
    roster_entries_free(&l);
    return 0;
}

int cmd_scope_create(struct ctl *x, int argc, char **argv)
{
    int strong = 0, dup = 0, per_node = 0;
    const struct ctl_opt opts[] = {{"--strong", CTL_FLAG, &strong},
                                   {"--duplicate-members", CTL_FLAG, &dup},
                                   {"--unique-per-node", CTL_FLAG, &per_node},
                                   {NULL, CTL_FLAG, NULL}};
    const char *pos[1];
    int r = ctl_args(x, argc, argv, opts, pos, 1, 1, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    const char *mode = strong ? "strong" : "eventual";
    int flags = (dup ? ROSTER_SCOPE_DUPLICATE_MEMBERS : 0) |
                (per_node ? ROSTER_SCOPE_UNIQUE_PER_NODE : 0);
    r = roster_scope_create(x->c, pos[0],
                            (strong ? ROSTER_SCOPE_STRONG : ROSTER_SCOPE_EVENTUAL) | flags,
                            x->timeout_ms);
    if (r)
        return ctl_fail(x, "scope-create", r, NULL, NULL);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "scope", pos[0]);
        jo_str(&o, "mode", mode);
        jo_bool(&o, "duplicate_members", dup);
        jo_bool(&o, "unique_per_node", per_node);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("created scope %s (%s%s%s)\n", pos[0], mode, dup ? ", duplicate-members" : "",
               per_node ? ", unique-per-node" : "");
    }
    return 0;
}

/* scope_member runs scope-join / scope-leave. */
static int scope_member(struct ctl *x, int argc, char **argv, int join)
{
    const char *what = join ? "scope-join" : "scope-leave";
    const char *pos[1], *ttl_text = NULL;
    const struct ctl_opt jopts[] = {{"--ttl", CTL_STR, &ttl_text}, {NULL, CTL_FLAG, NULL}};
    int r = ctl_args(x, argc, argv, join ? jopts : NULL, pos, 1, 1, NULL);
    if (r)
        return r;
    uint64_t ttl = 0;
    if (ttl_text && (ctl_parse_u64(ttl_text, &ttl) != 0 || ttl == 0 || ttl > INT32_MAX))
        return ctl_usage(x, "bad --ttl \"%s\" (milliseconds, > 0)", ttl_text);
    if ((r = ctl_connect(x)))
        return r;
    if (ttl)
        r = roster_scope_join_ttl(x->c, pos[0], (int)ttl, x->timeout_ms);
    else
        r = join ? roster_scope_join(x->c, pos[0], x->timeout_ms)
                 : roster_scope_leave(x->c, pos[0], x->timeout_ms);
    if (r)
        return ctl_fail(x, what, r, "scope", pos[0]);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "scope", pos[0]);
        jo_bool(&o, "joined", join);
        if (ttl)
            jo_u64(&o, "ttl_ms", ttl);
        jo_end(&o);
        fputc('\n', stdout);
    } else if (ttl) {
        printf("joined scope %s (left after %" PRIu64 " ms unused)\n", pos[0], ttl);
    } else {
        printf("%s scope %s\n", join ? "joined" : "left", pos[0]);
    }
    return 0;
}

int cmd_scope_join(struct ctl *x, int argc, char **argv) { return scope_member(x, argc, argv, 1); }

int cmd_scope_leave(struct ctl *x, int argc, char **argv)
{
    return scope_member(x, argc, argv, 0);
}

int cmd_count(struct ctl *x, int argc, char **argv)
{
    const char *node = NULL, *key[1];
    int stale = 0, np = 0;
    static const char *const query[] = {"--prefix", "--pid", "--local", NULL};
    if (ctl_has_query_opt(argc, argv, query))
        return cmd_count_query(x, argc, argv);
    const struct ctl_opt opts[] = {{"--node", CTL_STR, &node},
                                   {"--stale", CTL_FLAG, &stale},
                                   {NULL, CTL_FLAG, NULL}};
    int r = ctl_args(x, argc, argv, opts, key, 0, 1, &np);
    if (!r && np == 1) /* count KEY: the name KEY and the members of group KEY */
        return cmd_count_query(x, argc, argv);
    if (r || (r = ctl_connect(x)))
        return r;
    ctl_read_mode(x, stale);
    roster_counts n;
    if ((r = roster_count(x->c, x->scope, node, &n, x->timeout_ms)))
        return ctl_fail(x, "count", r, node ? "node" : NULL, node);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_u64(&o, "names", n.names);
        jo_u64(&o, "groups", n.groups);
        jo_u64(&o, "members", n.members);
        if (n.revision) /* strong scopes: the etcd revision counted */
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

int cmd_ping(struct ctl *x, int argc, char **argv)
{
    int r = ctl_args(x, argc, argv, NULL, NULL, 0, 0, NULL);
    if (r || (r = ctl_connect(x)))
        return r;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if ((r = roster_ping(x->c, x->timeout_ms)))
        return ctl_fail(x, "ping", r, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    uint64_t us = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_bool(&o, "ok", 1);
        jo_str(&o, "node", roster_node_name(x->c));
        jo_u64(&o, "rtt_us", us);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("pong from %s in %" PRIu64 " us\n", roster_node_name(x->c), us);
    }
    return 0;
}

int cmd_log_level(struct ctl *x, int argc, char **argv)
{
    const char *pos[1];
    int r = ctl_args(x, argc, argv, NULL, pos, 1, 1, NULL);
    if (r)
        return r;
    if (strcmp(pos[0], "error") && strcmp(pos[0], "warn") && strcmp(pos[0], "info") &&
        strcmp(pos[0], "debug") && strcmp(pos[0], "trace") && strcmp(pos[0], "off"))
        return ctl_usage(x, "unknown level \"%s\"", pos[0]);
    if ((r = ctl_connect(x)))
        return r;
    if ((r = roster_log_level(x->c, pos[0], x->timeout_ms)))
        return ctl_fail(x, "log-level", r, NULL, NULL);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "log_level", pos[0]);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("log level %s\n", pos[0]);
    }
    return 0;
}
