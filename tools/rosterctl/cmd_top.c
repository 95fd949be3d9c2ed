/* cmd_top.c: `rosterctl top`, a terminal view of a node refreshing in place: the cluster's
 * nodes and their states, per-scope counts, request, event and message rates, and the
 * biggest groups of --scope. Built on the public API only (status, nodes, scopes, count,
 * groups); the rates are differences of the node's counters between two samples. --once
 * prints one frame (after one interval, so that it has rates) without terminal codes;
 * with --json that frame is one JSON object. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define TOP_SCOPES_MAX 32

struct sample {
    roster_stats st;
    roster_nodes nodes;
    roster_entries scopes;
    roster_counts counts[TOP_SCOPES_MAX]; /* per scope of scopes, in order */
    roster_entries groups;                /* of --scope, biggest first */
};

static uint64_t stat(const roster_stats *st, const char *key)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->items[i].key, key))
            return st->items[i].value;
    return 0;
}

static void sample_free(struct sample *s)
{
    roster_stats_free(&s->st);
    roster_nodes_free(&s->nodes);
    roster_entries_free(&s->scopes);
    roster_entries_free(&s->groups);
    memset(s, 0, sizeof *s);
}

static int by_members_desc(const void *a, const void *b)
{
    const roster_entry *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = memcmp(x->name.data, y->name.data, n);
    return c ? c : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

/* take fills *s; 0 or a roster error (what names the failed step). */
static int take(struct ctl *x, struct sample *s, const char **what)
{
    memset(s, 0, sizeof *s);
    int r;
    if ((r = roster_status(x->c, &s->st, x->timeout_ms))) {
        *what = "status";
        return r;
    }
    if ((r = roster_nodes_list(x->c, x->scope, &s->nodes, x->timeout_ms))) {
        *what = "nodes";
        return r;
    }
    if ((r = roster_scopes(x->c, &s->scopes, x->timeout_ms))) {
        *what = "scopes";
        return r;
    }
    for (size_t i = 0; i < s->scopes.n && i < TOP_SCOPES_MAX; i++) {
        char scope[512];
        const roster_entry *e = &s->scopes.items[i];
        snprintf(scope, sizeof scope, "%.*s", (int)e->name.len, (const char *)e->name.data);
        if (strlen(scope) != e->name.len || roster_count(x->c, scope, NULL, &s->counts[i],
                                                         x->timeout_ms) != 0)
            memset(&s->counts[i], 0, sizeof s->counts[i]); /* gone since the listing */
    }
    roster_pid zero = {0, 0};
    if ((r = roster_groups(x->c, x->scope, NULL, 0, zero, 0, &s->groups, x->timeout_ms))) {
        *what = "groups";
        return r;
    }
    if (s->groups.n) /* qsort wants a valid pointer even for nothing */
        qsort(s->groups.items, s->groups.n, sizeof *s->groups.items, by_members_desc);
    return 0;
}

static const char *state_name(int s)
{
    return s == ROSTER_NODE_UP ? "up" : s == ROSTER_NODE_DOWN ? "down"
         : s == ROSTER_NODE_CONNECTING ? "connecting" : s == ROSTER_NODE_LEFT ? "left"
         : "unknown";
}

/* The rates shown: counters of the status reply, per second over the interval. */
static const char *const rate_keys[] = {"requests", "events_sent", "messages_delivered",
                                        "messages_dropped"};
#define N_RATES (sizeof rate_keys / sizeof rate_keys[0])

static void rates(const struct sample *a, const struct sample *b, double out[N_RATES],
                  uint64_t *ms)
{
    uint64_t t0 = stat(&a->st, "uptime_ms"), t1 = stat(&b->st, "uptime_ms");
    *ms = t1 > t0 ? t1 - t0 : 0;
    for (size_t k = 0; k < N_RATES; k++) {
        uint64_t v0 = stat(&a->st, rate_keys[k]), v1 = stat(&b->st, rate_keys[k]);
        out[k] = *ms && v1 >= v0 ? (double)(v1 - v0) * 1000.0 / (double)*ms : 0.0;
    }
}

static void print_json(struct ctl *x, const struct sample *a, const struct sample *b,
                       size_t limit)
{
    double r[N_RATES];
    uint64_t ms;
    rates(a, b, r, &ms);
    char inc[17];
    snprintf(inc, sizeof inc, "%016" PRIx64, roster_node_incarnation(x->c));
    struct jobj o;
    jo_begin(&o, stdout);
    jo_str(&o, "node", roster_node_name(x->c));
    jo_str(&o, "incarnation", inc);
    jo_u64(&o, "interval_ms", ms);
    jo_key(&o, "stats");
    struct jobj so;
    jo_begin(&so, stdout);
    for (size_t i = 0; i < b->st.n; i++)
        if (strcmp(b->st.items[i].key, "incarnation"))
            jo_u64(&so, b->st.items[i].key, b->st.items[i].value);
    jo_end(&so);
    jo_key(&o, "rates");
    jo_begin(&so, stdout);
    for (size_t k = 0; k < N_RATES; k++) {
        char key[64];
        snprintf(key, sizeof key, "%s_per_s", rate_keys[k]);
        jo_key(&so, key);
        printf("%.1f", r[k]);
    }
    jo_end(&so);
    jo_key(&o, "nodes");
    putchar('[');
    for (size_t i = 0; i < b->nodes.n; i++) {
        const roster_node_info *n = &b->nodes.items[i];
        char ninc[17];
        snprintf(ninc, sizeof ninc, "%016" PRIx64, n->incarnation);
        if (i)
            putchar(',');
        jo_begin(&so, stdout);
        jo_str(&so, "name", n->name);
        jo_str(&so, "incarnation", ninc);
        jo_str(&so, "state", state_name(n->state));
        jo_bool(&so, "self", n->self);
        jo_end(&so);
    }
    putchar(']');
    jo_key(&o, "scopes");
    putchar('[');
    for (size_t i = 0; i < b->scopes.n && i < TOP_SCOPES_MAX; i++) {
        const roster_entry *e = &b->scopes.items[i];
        if (i)
            putchar(',');
        jo_begin(&so, stdout);
        jo_bytes(&so, "scope", e->name.data, e->name.len);
        jo_str(&so, "mode", e->mode == ROSTER_SCOPE_STRONG ? "strong" : "eventual");
        jo_u64(&so, "names", b->counts[i].names);
        jo_u64(&so, "groups", b->counts[i].groups);
        jo_u64(&so, "members", b->counts[i].members);
        jo_end(&so);
    }
    putchar(']');
    jo_key(&o, "groups");
    putchar('[');
    for (size_t i = 0; i < b->groups.n && i < limit; i++) {
        const roster_entry *g = &b->groups.items[i];
        if (i)
            putchar(',');
        jo_begin(&so, stdout);
        jo_bytes(&so, "group", g->name.data, g->name.len);
        jo_u64(&so, "members", g->count);
        jo_end(&so);
    }
    putchar(']');
    jo_end(&o);
    putchar('\n');
}

static void print_text(struct ctl *x, const struct sample *a, const struct sample *b,
                       size_t limit, int ansi)
{
    double r[N_RATES];
    uint64_t ms;
    rates(a, b, r, &ms);
    const roster_stats *st = &b->st;
    if (ansi)
        fputs("\033[H\033[2J", stdout); /* home, clear: the frame is redrawn in place */
    uint64_t up = stat(st, "uptime_ms") / 1000;
    printf("roster top - node %s - up %" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
           " - every %.1f s%s\n",
           roster_node_name(x->c), up / 86400, up / 3600 % 24, up / 60 % 60, up % 60,
           (double)ms / 1000.0, ansi ? " (ctrl-c quits)" : "");
    printf("clients %" PRIu64 "  pids %" PRIu64 "  subscriptions %" PRIu64 "  monitors %" PRIu64
           "  calls pending %" PRIu64 "\n",
           stat(st, "clients"), stat(st, "pids"), stat(st, "subscriptions"),
           stat(st, "monitors"), stat(st, "calls_pending"));
    printf("requests/s %.1f  events/s %.1f  messages/s %.1f  dropped/s %.1f\n", r[0], r[1],
           r[2], r[3]);
    printf("\nNODES (%zu)\n  %-24s %-16s %s\n", b->nodes.n, "NAME", "INCARNATION", "STATE");
    for (size_t i = 0; i < b->nodes.n; i++) {
        const roster_node_info *n = &b->nodes.items[i];
        printf("  %-24s %016" PRIx64 " %s%s\n", n->name, n->incarnation, state_name(n->state),
               n->self ? " (self)" : "");
    }
    printf("\nSCOPES (%zu)\n  %-24s %-8s %10s %10s %10s\n", b->scopes.n, "SCOPE", "MODE",
           "NAMES", "GROUPS", "MEMBERS");
    for (size_t i = 0; i < b->scopes.n && i < TOP_SCOPES_MAX; i++) {
        const roster_entry *e = &b->scopes.items[i];
        fputs("  ", stdout);
        text_bytes(stdout, e->name.data, e->name.len);
        printf("%*s %-8s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
               e->name.len < 24 ? (int)(24 - e->name.len) : 0, "",
               e->mode == ROSTER_SCOPE_STRONG ? "strong" : "eventual", b->counts[i].names,
               b->counts[i].groups, b->counts[i].members);
    }
    printf("\nBIGGEST GROUPS of scope %s (%zu groups)\n  %10s  %s\n", x->scope, b->groups.n,
           "MEMBERS", "GROUP");
    for (size_t i = 0; i < b->groups.n && i < limit; i++) {
        printf("  %10" PRIu64 "  ", b->groups.items[i].count);
        text_bytes(stdout, b->groups.items[i].name.data, b->groups.items[i].name.len);
        putchar('\n');
    }
    fflush(stdout);
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int cmd_top(struct ctl *x, int argc, char **argv)
{
    int once = 0;
    const char *interval_s = NULL, *limit_s = NULL;
    const struct ctl_opt opts[] = {{"--once", CTL_FLAG, &once},
                                   {"--interval", CTL_STR, &interval_s},
                                   {"--limit", CTL_STR, &limit_s},
                                   {NULL, CTL_FLAG, NULL}};
    int r = ctl_args(x, argc, argv, opts, NULL, 0, 0, NULL);
    if (r)
        return r;
    uint64_t interval = 1000, limit = 10;
    if (interval_s && (ctl_parse_u64(interval_s, &interval) || interval < 10 ||
                       interval > 3600000))
        return ctl_usage(x, "--interval: a number of ms in 10..3600000");
    if (limit_s && (ctl_parse_u64(limit_s, &limit) || limit > 1000))
        return ctl_usage(x, "--limit: a number of groups in 0..1000");
    if (x->json && !once)
        return ctl_usage(x, "--json needs --once (one frame as one JSON object)");
    if ((r = ctl_connect(x)))
        return r;
    struct sample s[2];
    const char *what = "";
    int cur = 0;
    if ((r = take(x, &s[0], &what)))
        return ctl_fail(x, what, r, NULL, NULL);
    for (;;) {
        sleep_ms(interval);
        int next = cur ^ 1;
        if ((r = take(x, &s[next], &what))) {
            sample_free(&s[cur]);
            sample_free(&s[next]);
            return ctl_fail(x, what, r, NULL, NULL);
        }
        if (x->json)
            print_json(x, &s[cur], &s[next], (size_t)limit);
        else
            print_text(x, &s[cur], &s[next], (size_t)limit, !once);
        sample_free(&s[cur]);
        cur = next;
        if (once)
            break;
    }
    sample_free(&s[cur]);
    return 0;
}
