/* soak.c: the chaos soak of eventual scopes with real processes (issue 12 item 3).
 *
 * Five real rosterd nodes in the test's own network namespace (node i on 127.0.0.i), clients
 * on every node registering, re-registering, unregistering, joining, leaving, sending and
 * dying (libroster clients closed mid-flight, and real `rosterctl register` processes killed
 * with SIGKILL), while a seeded schedule injects faults: clean, one-way and flapping
 * partitions and random packet loss (nftables), a slow link (tc: netem when the kernel has
 * it, else a token bucket; duplication and reordering need netem and are skipped, and said
 * so, without it), kill -9 of a node and its restart (a new incarnation), and SIGSTOP of a
 * node for longer than the failure timeout. After every heal it checks, through the public
 * API only, within a deadline:
 *   - every node is up on every node, and all five list the same names and members;
 *   - each name has one owner (a listing has one line per name);
 *   - no entry belongs to a dead pid (a closed client, a killed rosterctl, a killed node's
 *     old incarnation);
 *   - every live entry is there: each live client holds what it registered and joined,
 *     unless it was told it lost the name in a conflict (and holds nothing it was not given);
 *   - every loser was notified: a name the client registered and no longer holds came with
 *     a CONFLICT notice;
 *   - each node's subscriber (subscribed with a snapshot), replaying its events from the
 *     snapshot, has exactly its node's state.
 * SOAK_PLANT=1 ignores conflict notices (a planted bug: the run must fail, proving the checker).
 * It prints the faults injected and the checks made; a failing run prints the seed
 * (SOAK_SEED=S replays the schedule). SOAK_SECONDS (default 60) sets the length: `make test`
 * runs 60 s, `make chaos SECONDS=N` as long as asked. Skipped (77) where namespaces or
 * nftables are not available. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "ctlproc.h"
#include "rclient.h"
#include "test.h"

#define NODES 5
#define WORKERS 3 /* libroster clients per node */
#define NAMES 24
#define GROUPS 4
#define HOLDERS_MAX 6
#define TABLE "roster_soak"
#define OP_TMO 3000
#define CONVERGE_MS 45000

/* --- the schedule's random numbers (xorshift: the seed replays the run) ----------------- */

static uint64_t rng;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? (unsigned)(rng % n) : 0;
}

/* --- the cluster and its clients --------------------------------------------------------- */

struct worker {
    roster_client *c;
    roster_pid pid;
    int alive;
    uint8_t holds[NAMES];    /* registered, not unregistered, not lost */
    uint8_t unknown[NAMES];  /* an answer that never came: either way is right */
    uint8_t member[GROUPS];
    uint8_t gunknown[GROUPS];
    uint8_t lost[NAMES];     /* a CONFLICT notice came for it */
    uint32_t claim[NAMES];   /* the metadata of its registration ("m<claim>", unique): a
                                CONFLICT notice names the claim it is about, so a notice
                                for an earlier claim does not undo a newer registration */
};

struct holder { /* a real rosterctl process holding a name of its own */
    struct ctl_proc p;
    roster_pid pid;
    char name[24];
    int node;
    int alive;
};

/* One line per entry, kept sorted: "N name pid meta" or "M group pid meta". */
struct state {
    char **line;
    size_t n, cap;
};

struct sub {
    roster_client *c;
    uint64_t id;
    struct state st;
};

static struct cl_node node[NODES];
static int up[NODES];      /* 0: killed and not yet restarted */
static int stopped[NODES]; /* SIGSTOP'ed */
static roster_client *reader[NODES];
static struct worker work[NODES][WORKERS];
static struct sub subs[NODES];
static struct holder hold[HOLDERS_MAX];
static const char *cookie;
static int have_netem;
static uint64_t seed, faults, checks, ops, fault_kind[8], holder_seq;
static const char *const kind_name[8] = {"partition", "one-way", "flapping", "loss",
                                         "slow-link", "kill-restart", "sigstop", ""};
static char why[2048];

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
}

/* --- state lines ------------------------------------------------------------------------- */

static void st_clear(struct state *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->line[i]);
    s->n = 0;
}

static void st_free(struct state *s)
{
    st_clear(s);
    free(s->line);
    memset(s, 0, sizeof *s);
}

static char *fmt_line(char kind, const void *key, size_t kl, roster_pid pid, const void *meta,
                      size_t ml)
{
    char p[ROSTER_PID_STRLEN];
    roster_pid_format(pid, p);
    size_t n = kl + ml + strlen(p) + 8;
    char *l = malloc(n);
    ASSERT(l != NULL);
    snprintf(l, n, "%c %.*s %s %.*s", kind, (int)kl, (const char *)key, p, (int)ml,
             (const char *)meta);
    return l;
}

static void st_add(struct state *s, char *line)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->line = realloc(s->line, s->cap * sizeof *s->line);
        ASSERT(s->line != NULL);
    }
    s->line[s->n++] = line;
}

/* st_find returns the index of the line starting with prefix, or -1. */
static long st_find(const struct state *s, const char *prefix)
{
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < s->n; i++)
        if (strncmp(s->line[i], prefix, pl) == 0)
            return (long)i;
    return -1;
}

static void st_del(struct state *s, long i)
{
    free(s->line[i]);
    s->line[i] = s->line[--s->n];
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void st_sort(struct state *s) { qsort(s->line, s->n, sizeof *s->line, cmp_line); }

static int st_equal(struct state *a, struct state *b)
{
    st_sort(a);
    st_sort(b);
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->line[i], b->line[i]) != 0)
            return 0;
    return 1;
}

/* key_prefix writes "N name " or "M group pid " for st_find. */
static void key_prefix(char *out, size_t cap, char kind, const void *key, size_t kl,
                       const roster_pid *pid)
{
    if (pid) {
        char p[ROSTER_PID_STRLEN];
        roster_pid_format(*pid, p);
        snprintf(out, cap, "%c %.*s %s ", kind, (int)kl, (const char *)key, p);
    } else {
        snprintf(out, cap, "%c %.*s ", kind, (int)kl, (const char *)key);
    }
}

/* read_node lists node i's names and members into s; 0 or the failing call's error. */
static int read_node(int i, struct state *s)
{
    st_clear(s);
    roster_pid zero = {0, 0};
    roster_entries e;
    int r = roster_names(reader[i], NULL, NULL, 0, zero, 0, &e, OP_TMO);
    if (r)
        return r;
    for (size_t k = 0; k < e.n; k++)
        st_add(s, fmt_line('N', e.items[k].name.data, e.items[k].name.len, e.items[k].pid,
                           e.items[k].meta.data, e.items[k].meta.len));
    roster_entries_free(&e);
    roster_entries g;
    if ((r = roster_groups(reader[i], NULL, NULL, 0, zero, 0, &g, OP_TMO)))
        return r;
    for (size_t k = 0; k < g.n && r == 0; k++) {
        roster_entries m;
        r = roster_members(reader[i], NULL, g.items[k].name.data, g.items[k].name.len, 0, &m,
                           OP_TMO);
        for (size_t j = 0; r == 0 && j < m.n; j++)
            st_add(s, fmt_line('M', g.items[k].name.data, g.items[k].name.len, m.items[j].pid,
                               m.items[j].meta.data, m.items[j].meta.len));
        if (r == 0)
            roster_entries_free(&m);
    }
    roster_entries_free(&g);
    return r;
}

/* --- clients ----------------------------------------------------------------------------- */

static void worker_new(int i, int k)
{
    struct worker *w = &work[i][k];
    memset(w, 0, sizeof *w);
    w->c = cl_connect(&node[i]);
    w->pid = roster_self(w->c);
    w->alive = 1;
}

static void worker_close(struct worker *w)
{
    if (w->c)
        roster_close(w->c);
    w->c = NULL;
    w->alive = 0;
}

static void sub_new(int i)
{
    struct sub *s = &subs[i];
    st_clear(&s->st);
    if (!s->c)
        s->c = cl_connect(&node[i]);
    ASSERT_EQ(roster_subscribe(s->c, NULL, NULL, 0,
                               ROSTER_SUB_ALL | ROSTER_SUB_REGISTRY | ROSTER_SUB_GROUPS |
                                   ROSTER_SUB_SNAPSHOT,
                               &s->id, OP_TMO),
              0);
}

/* node_clients (re)connects what node i lacks: its reader, workers and subscriber. */
static void node_clients(int i)
{
    if (!reader[i])
        reader[i] = cl_connect(&node[i]);
    for (int k = 0; k < WORKERS; k++)
        if (!work[i][k].alive)
            worker_new(i, k);
    if (!subs[i].c)
        sub_new(i);
}

/* node_lost forgets every client of node i (killed: their connections are gone). */
static void node_lost(int i)
{
    if (reader[i])
        roster_close(reader[i]);
    reader[i] = NULL;
    for (int k = 0; k < WORKERS; k++)
        worker_close(&work[i][k]);
    if (subs[i].c)
        roster_close(subs[i].c);
    subs[i].c = NULL;
    st_clear(&subs[i].st);
}

/* apply_sub replays one subscription event into the subscriber's state. */
static void apply_sub(struct sub *s, const roster_event *ev)
{
    char pre[600];
    int named = ev->type == ROSTER_EV_REGISTERED || ev->type == ROSTER_EV_UNREGISTERED ||
                ev->type == ROSTER_EV_UPDATED;
    int member = ev->type == ROSTER_EV_JOINED || ev->type == ROSTER_EV_LEFT ||
                 ev->type == ROSTER_EV_MEMBER_UPDATED;
    if (ev->type == ROSTER_EV_OVERFLOW) { /* fell behind: start again from a snapshot */
        sub_new((int)(s - subs));
        return;
    }
    if (!named && !member)
        return;
    char kind = named ? 'N' : 'M';
    key_prefix(pre, sizeof pre, kind, ev->name.data, ev->name.len, named ? NULL : &ev->pid);
    long at = st_find(&s->st, pre);
    if (ev->type == ROSTER_EV_UNREGISTERED || ev->type == ROSTER_EV_LEFT) {
        if (at >= 0)
            st_del(&s->st, at);
        return;
    }
    if (at >= 0)
        st_del(&s->st, at);
    st_add(&s->st, fmt_line(kind, ev->name.data, ev->name.len, ev->pid, ev->meta.data,
                            ev->meta.len));
}

/* drain takes every queued event of every live client: subscribers replay theirs, workers
 * learn the names they lost in conflicts. */
static void drain(void)
{
    roster_event ev;
    for (int i = 0; i < NODES; i++) {
        if (!up[i] || stopped[i])
            continue;
        if (subs[i].c)
            while (roster_next_event(subs[i].c, &ev) == 0) {
                if (ev.id == subs[i].id)
                    apply_sub(&subs[i], &ev);
                roster_event_free(&ev);
            }
        for (int k = 0; k < WORKERS; k++) {
            struct worker *w = &work[i][k];
            while (w->alive && roster_next_event(w->c, &ev) == 0) {
                if (getenv("SOAK_PLANT") == NULL && ev.type == ROSTER_EV_CONFLICT && ev.name.len >= 2 && ev.name.data[0] == 'n') {
                    int n = atoi((const char *)ev.name.data + 1);
                    char mine[16];
                    snprintf(mine, sizeof mine, "m%u", n >= 0 && n < NAMES ? w->claim[n] : 0);
                    /* about the claim the client holds now (not an earlier one) */
                    if (n >= 0 && n < NAMES && ev.meta.len == strlen(mine) &&
                        memcmp(ev.meta.data, mine, ev.meta.len) == 0) {
                        w->holds[n] = 0;
                        w->lost[n] = 1;
                    }
                }
                roster_event_free(&ev);
            }
        }
    }
}

static void holder_spawn(int i)
{
    for (int h = 0; h < HOLDERS_MAX; h++) {
        struct holder *o = &hold[h];
        if (o->alive)
            continue;
        snprintf(o->name, sizeof o->name, "h%" PRIu64, ++holder_seq);
        const char *args[] = {"register", o->name, NULL};
        ctl_spawn(&o->p, node[i].t.sock, args);
        char line[256];
        ctl_read_line(&o->p, line, sizeof line);
        ASSERT_EQ(roster_pid_parse(line, &o->pid), 0);
        o->node = i;
        o->alive = 1;
        return;
    }
}

static void holder_kill(struct holder *o)
{
    kill(o->p.pid, SIGKILL);
    ctl_wait_exit(&o->p, 10000);
    o->alive = 0;
}

/* reap_holders notices rosterctl holders that exited (their node was killed). */
static void reap_holders(void)
{
    for (int h = 0; h < HOLDERS_MAX; h++) {
        struct holder *o = &hold[h];
        if (o->alive && waitpid(o->p.pid, NULL, WNOHANG) == o->p.pid) {
            close(o->p.out);
            ctl_close_stdin(&o->p);
            o->alive = 0;
        }
    }
}

/* one_op does one random client action on a node that is up and running. */
static void one_op(void)
{
    int i = (int)rnd(NODES);
    if (!up[i] || stopped[i])
        return;
    unsigned what = rnd(100);
    if (what < 3) { /* a real process holding a name, started or killed */
        ops++;
        int live = 0;
        for (int h = 0; h < HOLDERS_MAX; h++)
            live += hold[h].alive;
        if (live < HOLDERS_MAX / 2 || (rnd(2) && live < HOLDERS_MAX))
            holder_spawn(i);
        else
            for (int h = 0; h < HOLDERS_MAX; h++)
                if (hold[h].alive && !stopped[hold[h].node] && rnd(2)) {
                    holder_kill(&hold[h]);
                    break;
                }
        return;
    }
    struct worker *w = &work[i][rnd(WORKERS)];
    if (!w->alive)
        return;
    if (what < 6) {
        ops++; /* a client dies with its connection; another takes its place */
        worker_close(w);
        worker_new(i, (int)(w - work[i]));
        return;
    }
    unsigned n = rnd(NAMES), g = rnd(GROUPS);
    char name[8], group[8], meta[24];
    snprintf(name, sizeof name, "n%u", n);
    snprintf(group, sizeof group, "g%u", g);
    static uint32_t claims;
    uint32_t claim = ++claims;
    snprintf(meta, sizeof meta, "m%u", what < 40 ? claim : rnd(4));
    if (what >= 40 && what < 55 && !w->holds[n])
        return; /* only holders unregister */
    ops++; /* one client call */
    int r;
    if (what < 40) {
        r = roster_register(w->c, NULL, name, strlen(name), w->pid, meta, strlen(meta), NULL,
                            OP_TMO);
        if (r == 0) {
            w->holds[n] = 1;
            w->lost[n] = 0;
            w->claim[n] = claim;
        } else if (r != ROSTER_ETAKEN) {
            w->unknown[n] = 1;
            w->claim[n] = claim; /* it may have been granted */
        }
    } else if (what < 55) {
        r = roster_unregister(w->c, NULL, name, strlen(name), OP_TMO);
        if (r == 0 || r == ROSTER_ENOTFOUND || r == ROSTER_ENOTOWNER)
            w->holds[n] = 0; /* not ours any more either way (a conflict's notice follows) */
        else
            w->unknown[n] = 1;
    } else if (what < 75) {
        r = roster_join(w->c, NULL, group, strlen(group), w->pid, meta, strlen(meta), OP_TMO);
        if (r == 0)
            w->member[g] = 1;
        else
            w->gunknown[g] = 1;
    } else if (what < 85) {
        r = roster_leave(w->c, NULL, group, strlen(group), w->pid, OP_TMO);
        if (r == 0 || r == ROSTER_ENOTMEMBER)
            w->member[g] = 0;
        else
            w->gunknown[g] = 1;
    } else {
        roster_send_name(w->c, w->pid, NULL, name, strlen(name), "ping", 4, 0, OP_TMO);
    }
}

/* traffic runs client actions for ms. */
static void traffic(int ms)
{
    uint64_t end = test_now_ms() + (uint64_t)ms;
    while (test_now_ms() < end) {
        one_op();
        if (rnd(8) == 0)
            drain();
    }
}

/* --- faults ------------------------------------------------------------------------------ */

static void set_of(unsigned mask, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < NODES; i++)
        if (mask & (1u << i))
            o += (size_t)snprintf(out + o, cap - o, "%s127.0.0.%d", o ? ", " : "", i + 1);
}

/* cut drops packets from the nodes in mask to the others (and back unless one_way). */
static void cut(unsigned mask, int one_way)
{
    char a[128], b[128], rules[600];
    set_of(mask, a, sizeof a);
    set_of(~mask & ((1u << NODES) - 1), b, sizeof b);
    int n = snprintf(rules, sizeof rules, "    ip saddr { %s } ip daddr { %s } drop", a, b);
    if (!one_way)
        snprintf(rules + n, sizeof rules - (size_t)n,
                 "\n    ip saddr { %s } ip daddr { %s } drop", b, a);
    if (cl_nft_drop(TABLE, rules) != 0)
        test_fail(__FILE__, __LINE__, "nft rules refused: %s", rules);
}

static void heal(void)
{
    cl_nft_heal(TABLE);
    cl_sh("tc qdisc del dev lo root 2>/dev/null");
}

static void heal_cb(void *arg)
{
    (void)arg;
    heal();
    for (int i = 0; i < NODES; i++)
        if (stopped[i] && node[i].t.pid > 0)
            kill(node[i].t.pid, SIGCONT);
}

static unsigned some_nodes(void)
{
    unsigned mask = 0;
    int k = 1 + (int)rnd(2); /* one or two nodes against the rest */
    while (__builtin_popcount(mask) < k)
        mask |= 1u << rnd(NODES);
    return mask;
}

static const char *join_addr(int except)
{
    for (int i = 0; i < NODES; i++)
        if (i != except && up[i])
            return node[i].addr;
    return NULL;
}

static void fault(void)
{
    unsigned kind = rnd(7);
    faults++;
    fault_kind[kind]++;
    int victim = (int)rnd(NODES);
    switch (kind) {
    case 0: /* clean partition */
        cut(some_nodes(), 0);
        traffic(1500 + (int)rnd(1500));
        break;
    case 1: /* one-way: packets from some nodes to the rest vanish, not back */
        cut(some_nodes(), 1);
        traffic(1500 + (int)rnd(1500));
        break;
    case 2: { /* flapping partition */
        unsigned m = some_nodes();
        for (int f = 0; f < 6; f++) {
            cut(m, 0);
            traffic(200 + (int)rnd(300));
            cl_nft_heal(TABLE);
            traffic(100 + (int)rnd(300));
        }
        break;
    }
    case 3: /* random loss of 25% of the peers' packets */
        if (cl_nft_drop(TABLE, "    ip daddr 127.0.0.0/8 meta l4proto tcp numgen random mod "
                               "100 < 25 drop") != 0)
            test_fail(__FILE__, __LINE__, "nft numgen rule refused");
        traffic(2000 + (int)rnd(1500));
        break;
    case 4: /* a slow link: delay, duplication and reordering where netem exists */
        if (have_netem)
            cl_sh("tc qdisc add dev lo root netem delay 30ms 20ms duplicate 5% reorder 25% 50%");
        else
            cl_sh("tc qdisc add dev lo root tbf rate 2mbit burst 16kb latency 300ms");
        traffic(2000 + (int)rnd(1500));
        break;
    case 5: /* kill -9 and restart: a new incarnation */
        if (!join_addr(victim))
            break;
        node_lost(victim);
        up[victim] = 0;
        kill(node[victim].t.pid, SIGKILL);
        traffic(300 + (int)rnd(1200));
        cl_restart(&node[victim], SIGKILL, join_addr(victim), cookie, NULL);
        up[victim] = 1;
        break;
    default: /* SIGSTOP for longer than the failure timeout (600 ms) */
        stopped[victim] = 1;
        kill(node[victim].t.pid, SIGSTOP);
        traffic(1200 + (int)rnd(1000));
        kill(node[victim].t.pid, SIGCONT);
        stopped[victim] = 0;
        break;
    }
    heal();
}

/* --- checks ------------------------------------------------------------------------------ */

/* live_pid says whether pid belongs to a live worker or holder. */
static int live_pid(roster_pid pid)
{
    for (int i = 0; i < NODES; i++)
        for (int k = 0; k < WORKERS; k++)
            if (work[i][k].alive && roster_pid_equal(work[i][k].pid, pid))
                return 1;
    for (int h = 0; h < HOLDERS_MAX; h++)
        if (hold[h].alive && roster_pid_equal(hold[h].pid, pid))
            return 1;
    return 0;
}

/* check_once runs every check once; 1 if all hold (checks counted), 0 with why set. */
static int check_once(struct state *st)
{
    uint64_t made = 0;
    for (int i = 0; i < NODES; i++) {
        int n = cl_count_up(reader[i], NULL, NULL, NULL);
        if (n != NODES) {
            note("node %s lists %d nodes up, not %d", node[i].name, n, NODES);
            return 0;
        }
        int r = read_node(i, &st[i]);
        if (r) {
            note("reading node %s: %s", node[i].name, roster_strerror(r));
            return 0;
        }
        made++;
    }
    for (int i = 1; i < NODES; i++) {
        if (!st_equal(&st[0], &st[i])) {
            note("nodes %s and %s disagree (%zu vs %zu entries)", node[0].name, node[i].name,
                 st[0].n, st[i].n);
            return 0;
        }
        made++;
    }
    /* one line per name; no dead pid */
    for (size_t l = 0; l < st[0].n; l++) {
        const char *line = st[0].line[l];
        if (l > 0 && line[0] == 'N' && st[0].line[l - 1][0] == 'N') {
            const char *a = st[0].line[l - 1] + 2, *b = line + 2;
            if (strcspn(a, " ") == strcspn(b, " ") && strncmp(a, b, strcspn(a, " ")) == 0) {
                note("two owners: %s / %s", st[0].line[l - 1], line);
                return 0;
            }
        }
        const char *p = strchr(line + 2, ' ');
        char pid_text[ROSTER_PID_STRLEN];
        size_t pl = p ? strcspn(p + 1, " ") : 0;
        roster_pid pid;
        if (!p || pl >= sizeof pid_text) {
            note("bad line %s", line);
            return 0;
        }
        memcpy(pid_text, p + 1, pl);
        pid_text[pl] = 0;
        if (roster_pid_parse(pid_text, &pid) != 0 || !live_pid(pid)) {
            note("entry of a dead pid: %s", line);
            return 0;
        }
        made++;
    }
    /* every live entry there, nothing a client was not given; losers told */
    char pre[128];
    for (int i = 0; i < NODES; i++)
        for (int k = 0; k < WORKERS; k++) {
            struct worker *w = &work[i][k];
            if (!w->alive)
                continue;
            for (int n = 0; n < NAMES; n++) {
                char name[8];
                snprintf(name, sizeof name, "n%d", n);
                key_prefix(pre, sizeof pre, 'N', name, strlen(name), &w->pid);
                int has = st_find(&st[0], pre) >= 0;
                if (w->unknown[n] || has == w->holds[n]) {
                    made++;
                    continue;
                }
                if (w->holds[n])
                    note("%s registered %s and lost it without a conflict notice",
                         node[i].name, name);
                else
                    note("%s holds %s that it was not given", node[i].name, name);
                return 0;
            }
            for (int g = 0; g < GROUPS; g++) {
                char group[8];
                snprintf(group, sizeof group, "g%d", g);
                key_prefix(pre, sizeof pre, 'M', group, strlen(group), &w->pid);
                int has = st_find(&st[0], pre) >= 0;
                if (!w->gunknown[g] && has != w->member[g]) {
                    note("membership of %s in %s: %s, the client says %s", node[i].name, group,
                         has ? "present" : "missing", w->member[g] ? "joined" : "left");
                    return 0;
                }
                made++;
            }
        }
    for (int h = 0; h < HOLDERS_MAX; h++) {
        if (!hold[h].alive)
            continue;
        key_prefix(pre, sizeof pre, 'N', hold[h].name, strlen(hold[h].name), &hold[h].pid);
        if (st_find(&st[0], pre) < 0) {
            note("rosterctl holding %s (alive) is missing", hold[h].name);
            return 0;
        }
        made++;
    }
    /* each subscriber's replay is its node's state */
    for (int i = 0; i < NODES; i++) {
        if (!st_equal(&subs[i].st, &st[i])) {
            note("subscriber on %s replays %zu entries, the node has %zu", node[i].name,
                 subs[i].st.n, st[i].n);
            return 0;
        }
        made++;
    }
    checks += made;
    return 1;
}

/* resync sets have[i] from the checked state st for every i whose answer never came
 * (unknown[i]): kind 'N' names n<i>, 'M' groups g<i>. */
static void resync(const struct state *st, const struct worker *w, char kind, uint8_t *unknown,
                   uint8_t *have, int count)
{
    char pre[128], key[16];
    for (int i = 0; i < count; i++) {
        if (!unknown[i])
            continue;
        snprintf(key, sizeof key, "%c%d", kind == 'N' ? 'n' : 'g', i);
        key_prefix(pre, sizeof pre, kind, key, strlen(key), &w->pid);
        have[i] = st_find(st, pre) >= 0;
        unknown[i] = 0;
    }
}

/* settle forgets what the clients could not know (unanswered calls) once checked. */
static void settle(const struct state *st)
{
    for (int i = 0; i < NODES; i++)
        for (int k = 0; k < WORKERS; k++) {
            struct worker *w = &work[i][k];
            if (!w->alive)
                continue;
            resync(st, w, 'N', w->unknown, w->holds, NAMES);
            resync(st, w, 'M', w->gunknown, w->member, GROUPS);
        }
}

/* converge waits for every check to hold (deadline CONVERGE_MS) or fails with the seed. */
static void converge(void)
{
    struct state st[NODES];
    memset(st, 0, sizeof st);
    for (int i = 0; i < NODES; i++)
        node_clients(i);
    uint64_t deadline = test_now_ms() + CONVERGE_MS;
    for (;;) {
        drain();
        reap_holders();
        if (check_once(st))
            break;
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "VIOLATION after fault %" PRIu64 ": %s (replay: "
                      "SOAK_SEED=%" PRIu64 ")", faults, why, seed);
        cl_sleep_ms(50);
    }
    settle(&st[0]);
    for (int i = 0; i < NODES; i++)
        st_free(&st[i]);
}

static void test_soak(void)
{
    char whyns[256];
    if (!cl_netns(whyns, sizeof whyns))
        test_skip("no network namespace: %s", whyns);
    cl_nft_ready(TABLE, "    ip saddr 127.0.0.1 ip daddr 127.0.0.2 drop");
    test_on_fail(heal_cb, NULL);
    have_netem = cl_sh("tc qdisc add dev lo root netem delay 1ms 2>/dev/null") == 0;
    heal();
    const char *env = getenv("SOAK_SEED");
    seed = env && *env ? strtoull(env, NULL, 10) : (uint64_t)test_now_ms() ^ (uint64_t)getpid();
    rng = seed ? seed : 1;
    env = getenv("SOAK_SECONDS");
    int seconds = env && *env ? atoi(env) : 60;
    printf("soak: seed %" PRIu64 " (SOAK_SEED=%" PRIu64 " replays the schedule), %d s, "
           "netem %s\n", seed, seed, seconds,
           have_netem ? "available" : "not in this kernel: slow link by a token bucket, no "
                                      "duplication or reordering");
    fflush(stdout);
    cookie = cl_cookie(0, "soak-cookie-0123456789abcdef");
    for (int i = 0; i < NODES; i++) {
        char name[8];
        snprintf(name, sizeof name, "s%d", i + 1);
        cl_start(&node[i], i + 1, name, i ? node[0].addr : NULL, cookie, NULL);
        up[i] = 1;
    }
    for (int i = 0; i < NODES; i++) {
        node_clients(i);
        cl_wait_up(&node[i], NULL, NODES, 20000);
    }
    uint64_t end = test_now_ms() + (uint64_t)seconds * 1000u;
    while (test_now_ms() < end) {
        traffic(500 + (int)rnd(1000));
        fault();
        converge();
    }
    printf("soak: %d s, %" PRIu64 " faults (", seconds, faults);
    for (int k = 0; k < 7; k++)
        printf("%s%s %" PRIu64, k ? ", " : "", kind_name[k], fault_kind[k]);
    printf("), %" PRIu64 " client actions, %" PRIu64 " checks: no violation\n", ops, checks);
    for (int h = 0; h < HOLDERS_MAX; h++)
        if (hold[h].alive)
            holder_kill(&hold[h]);
    for (int i = 0; i < NODES; i++) {
        node_lost(i);
        st_free(&subs[i].st);
        test_node_stop(&node[i].t);
    }
    test_on_fail_remove(NULL);
    heal();
}

TEST_MAIN(T(test_soak))
