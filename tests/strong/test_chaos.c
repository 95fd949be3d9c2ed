/* chaos.c: strong scopes stay linearizable under faults (issue 9, item 9). A real 3-member
 * etcd and 3 rosterd nodes; worker threads (two per node, each its own libroster client)
 * register, unregister, hand off, compare-and-set, look up and check tokens of a few names
 * while a fault thread kills the etcd leader, kills -9 and restarts a rosterd, stops
 * (SIGSTOP) and resumes another, and cuts one from etcd with a real packet drop (nftables,
 * in the test's own network namespace). Every operation is recorded with its start and end time
 * and its result, and the history is checked against a model of one compare-and-set
 * register per name (tests/lib/linz.c). Zero violations; an operation that ended in
 * EUNKNOWN, a timeout or a closed connection counts as possibly applied.
 *
 * `make test` runs it for CHAOS_SECONDS=12; `make chaos SECONDS=N` for as long as asked.
 * It prints the number of operations checked. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "etcd_harness.h"
#include "linz.h"
#include "node.h"
#include "roster.h"
#include "test.h"

#define NODES 3
#define WORKERS 6
#define NAMES 3
#define OP_TIMEOUT_MS 3000
#define LEASE_TTL_MS "2000"
#define SCOPE "chaos"
#define MAX_OPS 200000
#define MAX_PIDS 4096

static struct eh_cluster etcd;
static struct test_node nodes[NODES];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* guards nodes[], pids, history */
static int node_down[NODES]; /* killed and not restarted yet: workers wait */
static atomic_int stop_workers;
static uint64_t stopped_us; /* when the workers were told to stop */
/* When the first fault began: a node that could not renew its etcd lease tells its holders
 * (reason lease_lost) and etcd deletes their names some time after a fault began. */
static _Atomic uint64_t first_fault_us;

/* Every pid a worker ever had gets a small id (the model's pid); 0 is nobody. */
static roster_pid pids[MAX_PIDS];
static int pid_node[MAX_PIDS]; /* the node of each, for the reader of a failure */
static uint64_t closed_at[MAX_PIDS]; /* when its client closed (0: open) */
static uint32_t n_pids;

static struct linz_op *history;
static size_t n_history;
static size_t n_dropped; /* answers that say "not applied" (EUNAVAIL, ENOPROC...) */
static size_t dropped_by[8][40]; /* [kind][-rc]: what the left-out answers were */
static size_t n_lease_lost;      /* lease_lost notices the holders received */
/* the left-out operations themselves, with their answers, for the dump of a failure */
static struct linz_op *left_out;
static int *left_out_rc;
static size_t n_left_out;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t pid_id(roster_pid p)
{
    pthread_mutex_lock(&mu);
    uint32_t id = 0;
    for (uint32_t i = 0; i < n_pids; i++)
        if (roster_pid_equal(pids[i], p))
            id = i + 1;
    if (!id && n_pids < MAX_PIDS) {
        pids[n_pids++] = p;
        id = n_pids;
    }
    pthread_mutex_unlock(&mu);
    return id;
}

/* wall formats the wall-clock time of monotonic time t (us), as the rosterd logs show it. */
static const char *wall(uint64_t t, char *buf, size_t n)
{
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t off = (int64_t)((uint64_t)rt.tv_sec * 1000000u + (uint64_t)rt.tv_nsec / 1000u) -
                  (int64_t)now_us();
    int64_t w = (int64_t)t + off;
    time_t sec = (time_t)(w / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(buf, n, "%02d:%02d:%02d.%06d", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(w % 1000000));
    return buf;
}

static roster_pid pid_of(uint32_t id)
{
    pthread_mutex_lock(&mu);
    roster_pid p = pids[id - 1];
    pthread_mutex_unlock(&mu);
    return p;
}

static void record(const struct linz_op *op)
{
    pthread_mutex_lock(&mu);
    if (n_history < MAX_OPS)
        history[n_history++] = *op;
    pthread_mutex_unlock(&mu);
}

/* outcome maps a libroster result to the model's: -1 for "certainly not applied" (the
 * operation is left out of the history). */
static int outcome(int rc)
{
    switch (rc) {
    case ROSTER_OK:
        return LINZ_OK;
    case ROSTER_ETAKEN:
        return LINZ_TAKEN;
    case ROSTER_ENOTFOUND:
        return LINZ_NOTFOUND;
    case ROSTER_ENOTOWNER:
        return LINZ_NOTOWNER;
    case ROSTER_ECONFLICT:
        return LINZ_CONFLICT;
    case ROSTER_EUNKNOWN:
    case ROSTER_ETIMEDOUT:
    case ROSTER_ECLOSED:
        return LINZ_UNKNOWN;
    default:
        return -1;
    }
}

static uint32_t meta_value(const roster_buf *b)
{
    char tmp[16] = {0};
    if (!b->data || b->len == 0 || b->len >= sizeof tmp)
        return 99; /* never written: a reader that lost the metadata shows up */
    memcpy(tmp, b->data, b->len);
    return (uint32_t)strtoul(tmp + (tmp[0] == 'm'), NULL, 10);
}

struct worker {
    int node;
    unsigned seed;
    uint64_t ops;
    uint64_t tokens[NAMES]; /* the last token this worker saw for each name */
};

static roster_client *connect_to(int node)
{
    for (;;) {
        if (atomic_load(&stop_workers))
            return NULL;
        char sock[300];
        pthread_mutex_lock(&mu);
        int down = node_down[node];
        snprintf(sock, sizeof sock, "%s", nodes[node].sock);
        pthread_mutex_unlock(&mu);
        if (!down) {
            roster_options o;
            roster_options_init(&o);
            o.socket_path = sock;
            o.timeout_ms = 1000;
            roster_client *c = NULL;
            if (roster_connect(&c, &o) == ROSTER_OK)
                return c;
        }
        usleep(20000); /* a node being restarted: try again (the fault thread restarts it) */
    }
}

static void one_op(struct worker *w, roster_client *c, uint32_t self, int *broken)
{
    unsigned r = (unsigned)rand_r(&w->seed);
    uint32_t name = r % NAMES + 1;
    char key[8];
    snprintf(key, sizeof key, "n%u", name);
    uint32_t meta = (r >> 8) % 4;
    char mbuf[8];
    int mlen = snprintf(mbuf, sizeof mbuf, "m%u", meta);
    struct linz_op op = {.name = name, .pid = self, .meta = meta, .call = now_us()};
    int rc;
    switch ((r >> 4) % 8) {
    case 0:
    case 1: {
        roster_pid holder = {0, 0};
        uint64_t token = 0;
        op.kind = LINZ_REGISTER;
        rc = roster_register_token(c, SCOPE, key, strlen(key), pid_of(self), mbuf, (size_t)mlen,
                                   &holder, &token, OP_TIMEOUT_MS);
        op.r_token = token;
        if (rc == ROSTER_ETAKEN)
            op.r_holder = pid_id(holder);
        if (rc == ROSTER_OK)
            w->tokens[name - 1] = token;
        break;
    }
    case 2:
        op.kind = LINZ_UNREGISTER;
        rc = roster_unregister(c, SCOPE, key, strlen(key), OP_TIMEOUT_MS);
        break;
    case 3: {
        pthread_mutex_lock(&mu);
        uint32_t to = (uint32_t)rand_r(&w->seed) % n_pids + 1;
        pthread_mutex_unlock(&mu);
        uint64_t token = 0;
        op.kind = LINZ_HANDOFF;
        op.to = to;
        op.as_holder = 1; /* every worker runs as the same OS user: it may act for any holder */
        op.if_token = (r & 0x1000) ? w->tokens[name - 1] : 0;
        rc = roster_handoff(c, SCOPE, key, strlen(key), pid_of(to), op.if_token, &token,
                            OP_TIMEOUT_MS);
        op.r_token = token;
        break;
    }
    case 4: {
        roster_update_cond cond = {0};
        uint32_t expect = (r >> 12) % 4;
        char ebuf[8];
        int elen = snprintf(ebuf, sizeof ebuf, "m%u", expect);
        if (r & 0x10000) {
            cond.if_token = 1;
            cond.token = w->tokens[name - 1];
            op.if_token = cond.token;
        } else {
            cond.if_meta = 1;
            cond.meta = ebuf;
            cond.meta_len = (size_t)elen;
            op.if_meta_set = 1;
            op.if_meta = expect;
        }
        uint64_t token = 0;
        roster_buf cur = {0};
        op.kind = LINZ_UPDATE;
        op.as_holder = 1;
        rc = roster_update(c, SCOPE, key, strlen(key), mbuf, (size_t)mlen, &cond, &token, &cur,
                           OP_TIMEOUT_MS);
        op.r_token = token;
        op.r_meta = meta_value(&cur);
        roster_buf_free(&cur);
        break;
    }
    case 5: {
        uint64_t current = 0;
        op.kind = LINZ_CHECK;
        op.if_token = w->tokens[name - 1];
        rc = roster_check_token(c, SCOPE, key, strlen(key), op.if_token, &current,
                                OP_TIMEOUT_MS);
        if (rc == 0 || rc == 1) {
            op.r_holder = (uint32_t)rc;
            op.r_token = current;
            rc = ROSTER_OK;
        }
        break;
    }
    default: {
        roster_entry e;
        memset(&e, 0, sizeof e);
        op.kind = LINZ_LOOKUP;
        rc = roster_lookup(c, SCOPE, key, strlen(key), &e, OP_TIMEOUT_MS);
        if (rc == ROSTER_OK) {
            op.r_holder = pid_id(e.pid);
            op.r_token = e.token;
            op.r_meta = meta_value(&e.meta);
            w->tokens[name - 1] = e.token;
            roster_entry_free(&e);
        }
        break;
    }
    }
    op.ret = now_us();
    int oc = outcome(rc);
    if (op.kind == LINZ_UPDATE && op.if_token == 0 && !op.if_meta_set)
        oc = -1; /* a compare on a token never seen (0) is refused as EINVAL by design */
    if (oc < 0) {
        pthread_mutex_lock(&mu);
        n_dropped++;
        if (rc <= 0 && rc > -40)
            dropped_by[op.kind][-rc]++;
        if (n_left_out < MAX_OPS) {
            left_out[n_left_out] = op;
            left_out_rc[n_left_out++] = rc;
        }
        pthread_mutex_unlock(&mu);
        /* pace a worker whose node answers at once that it cannot (starting, no etcd
         * lease): spinning would only load the machine (not a synchronisation) */
        if (rc == ROSTER_EUNAVAIL)
            usleep(2000);
    } else {
        op.outcome = (enum linz_outcome)oc;
        record(&op);
    }
    w->ops++;
    if (rc == ROSTER_ETIMEDOUT || rc == ROSTER_ECLOSED || rc == ROSTER_EUNKNOWN)
        *broken = rc != ROSTER_EUNKNOWN;
}

/* drain_notices takes c's events: a lease_lost notice for one of self's names means the
 * name goes (in etcd, when the old lease expires) at some time after the first fault. */
static void drain_notices(roster_client *c, uint32_t self)
{
    roster_event ev;
    while (roster_next_event(c, &ev) == ROSTER_OK) {
        if (ev.type == ROSTER_EV_UNREGISTERED && ev.reason == ROSTER_REASON_LEASE_LOST &&
            ev.name.len == 2 && ev.name.data[0] == 'n') {
            uint64_t since = atomic_load(&first_fault_us);
            struct linz_op ex = {.kind = LINZ_EXPIRE, .pid = self, .name = ev.name.data[1] - '0',
                                 .call = since ? since : 1, .outcome = LINZ_UNKNOWN};
            if (ex.name >= 1 && ex.name <= NAMES)
                record(&ex);
            pthread_mutex_lock(&mu);
            n_lease_lost++;
            pthread_mutex_unlock(&mu);
        }
        roster_event_free(&ev);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while (!atomic_load(&stop_workers)) {
        roster_client *c = connect_to(w->node);
        if (!c)
            break;
        uint32_t self = pid_id(roster_self(c));
        pid_node[self - 1] = w->node;
        int broken = 0;
        while (!broken && !atomic_load(&stop_workers)) {
            one_op(w, c, self, &broken);
            drain_notices(c, self);
        }
        roster_close(c);
        /* the pid dies with its client (or its node): its names go some time after */
        struct linz_op ex = {.kind = LINZ_EXPIRE, .pid = self, .call = now_us(),
                             .outcome = LINZ_UNKNOWN};
        pthread_mutex_lock(&mu);
        closed_at[self - 1] = ex.call;
        pthread_mutex_unlock(&mu);
        for (uint32_t n = 1; n <= NAMES; n++) {
            ex.name = n;
            record(&ex);
        }
    }
    return NULL;
}

/* The cut fault: in a network namespace of the test's own, the last node reaches etcd only
 * through 127.0.0.2 (the members listen there too), so dropping 127.0.0.2 with nftables
 * cuts that node alone from etcd (a real packet drop). Without namespaces or nft, the run
 * has the other faults only, and says so. */
#define CUT_TABLE "roster_chaos_cut"
#define CUT_RULES "    ip daddr 127.0.0.2 drop\n    ip saddr 127.0.0.2 drop"
#define CUT_MS 3000 /* longer than the lease TTL: the cut node's holders are fenced */
static int cut_ok;

static void cut_heal(void *arg)
{
    (void)arg;
    cl_nft_heal(CUT_TABLE);
}

static const char *endpoints_of(int i)
{
    return cut_ok && i == NODES - 1 ? etcd.alt_endpoints : etcd.endpoints;
}

static void start_node(int i)
{
    char name[16];
    snprintf(name, sizeof name, "c%d", i + 1);
    const char *args[] = {"--name", name, "--etcd", endpoints_of(i), "--etcd-prefix", "/chaos/",
                          "--etcd-lease-ttl-ms", LEASE_TTL_MS, NULL};
    test_node_start(&nodes[i], args);
}

/* wait_strong waits until node i answers strong requests in SCOPE (a lookup of a free name
 * answers ENOTFOUND). */
static void wait_strong(int i)
{
    uint64_t deadline = test_now_ms() + 20000;
    for (;;) {
        roster_options o;
        roster_options_init(&o);
        o.socket_path = nodes[i].sock;
        roster_client *c = NULL;
        int rc = roster_connect(&c, &o);
        if (rc == ROSTER_OK) {
            roster_entry e;
            memset(&e, 0, sizeof e);
            rc = roster_lookup(c, SCOPE, "nobody", 6, &e, 2000);
            if (rc == ROSTER_OK)
                roster_entry_free(&e);
            roster_close(c);
            if (rc == ROSTER_ENOTFOUND || rc == ROSTER_OK)
                return;
        }
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "node %d: strong scope not ready (%s)", i,
                      roster_err_name(rc));
        usleep(50000);
    }
}

static void create_scope(void)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = nodes[0].sock;
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), ROSTER_OK);
    uint64_t deadline = test_now_ms() + 20000;
    int rc;
    while ((rc = roster_scope_create(c, SCOPE, ROSTER_SCOPE_STRONG, 5000)) != ROSTER_OK) {
        if (rc == ROSTER_EUNAVAIL && strstr(roster_errdetail(c), "not available in this"))
            test_skip("this rosterd has no strong scopes yet");
        if (rc != ROSTER_EUNAVAIL || test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "scope-create --strong: %s (%s)", roster_err_name(rc),
                      roster_errdetail(c));
        usleep(50000);
    }
    roster_close(c);
}

/* keep_log saves node i's log (its directory goes when it stops) for the reader of a
 * failure; the saved logs are removed when the history is linearizable. */
static unsigned n_kept;
static char kept[64][128];
static void keep_log(int i)
{
    if (n_kept >= sizeof kept / sizeof kept[0])
        return;
    snprintf(kept[n_kept], sizeof kept[0], "/tmp/roster-chaos-%d-c%d-%u.log", (int)getpid(),
             i + 1, n_kept);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' 2>/dev/null", nodes[i].log, kept[n_kept]);
    if (system(cmd) == 0)
        n_kept++;
}

static void restart_node(int i)
{
    pthread_mutex_lock(&mu);
    node_down[i] = 1;
    pthread_mutex_unlock(&mu);
    test_node_kill(&nodes[i], SIGKILL);
    keep_log(i);
    test_node_stop(&nodes[i]); /* removes its directory */
    struct test_node fresh;
    char name[16];
    snprintf(name, sizeof name, "c%d", i + 1);
    const char *args[] = {"--name", name, "--etcd", endpoints_of(i), "--etcd-prefix", "/chaos/",
                          "--etcd-lease-ttl-ms", LEASE_TTL_MS, NULL};
    test_node_start(&fresh, args);
    pthread_mutex_lock(&mu);
    nodes[i] = fresh;
    node_down[i] = 0;
    pthread_mutex_unlock(&mu);
}

static const char *const kind_names[] = {"?", "register", "unregister", "handoff", "update",
                                          "lookup", "check", "expire"};
static const char *const outcome_names[] = {"?", "ok", "taken", "notfound", "notowner",
                                             "conflict", "unknown"};

/* dump_name writes the history of one name (sorted by call time) to a file for the reader
 * of a failure: one operation a line, times in microseconds from the first call. */
static void dump_name(uint32_t name)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/roster-chaos-%d-n%u.txt", (int)getpid(), name);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    uint64_t t0 = UINT64_MAX;
    for (size_t i = 0; i < n_history; i++)
        if (history[i].name == name && history[i].call < t0)
            t0 = history[i].call;
    char wb[32];
    printf("chaos: time 0 of the dump is %s UTC\n", wall(t0, wb, sizeof wb));
    for (uint32_t i = 0; i < n_pids; i++) {
        char pb[ROSTER_PID_STRLEN];
        printf("chaos: pid %u is %s on c%d\n", i + 1, roster_pid_format(pids[i], pb),
               pid_node[i] + 1);
    }
    for (size_t i = 0; i < n_history; i++) {
        const struct linz_op *o = &history[i];
        if (o->name != name)
            continue;
        fprintf(f, "%10llu %10lld %-10s pid=%-3u to=%-3u meta=%u if_token=%llu if_meta=%d/%u -> %s "
                   "holder=%u token=%llu meta=%u\n",
                (unsigned long long)(o->call - t0),
                o->outcome == LINZ_UNKNOWN ? -1LL : (long long)(o->ret - t0), kind_names[o->kind],
                o->pid, o->to, o->meta, (unsigned long long)o->if_token, o->if_meta_set,
                o->if_meta, outcome_names[o->outcome], o->r_holder,
                (unsigned long long)o->r_token, o->r_meta);
    }
    for (size_t i = 0; i < n_left_out; i++) {
        const struct linz_op *o = &left_out[i];
        if (o->name == name && o->call >= t0)
            fprintf(f, "%10llu %10lld %-10s pid=%-3u to=%-3u left out: %s\n",
                    (unsigned long long)(o->call - t0), (long long)(o->ret - t0),
                    kind_names[o->kind], o->pid, o->to, roster_err_name(left_out_rc[i]));
    }
    fclose(f);
    printf("chaos: the history of name n%u is in %s\n", name, path);
}

static void test_chaos(void)
{
    const char *env = getenv("CHAOS_SECONDS");
    int seconds = env ? atoi(env) : 12;
    if (seconds < 3)
        seconds = 3;
    history = calloc(MAX_OPS, sizeof *history);
    left_out = calloc(MAX_OPS, sizeof *left_out);
    left_out_rc = calloc(MAX_OPS, sizeof *left_out_rc);
    ASSERT(history && left_out && left_out_rc);
    char why[200] = "";
    cut_ok = cl_netns(why, sizeof why);
    if (cut_ok && cl_sh("nft --version >/dev/null 2>&1") != 0) {
        cut_ok = 0;
        snprintf(why, sizeof why, "nft (nftables) is not installed");
    }
    if (cut_ok && cl_nft_drop(CUT_TABLE, CUT_RULES) != 0) {
        cut_ok = 0;
        snprintf(why, sizeof why, "nftables rules cannot be installed here");
    }
    if (cut_ok) {
        cl_nft_heal(CUT_TABLE);
        test_on_fail(cut_heal, NULL);
        eh_start_alt(&etcd, 3, "127.0.0.2");
    } else {
        printf("chaos: no cut-from-etcd fault in this run: %s\n", why);
        eh_start(&etcd, 3);
    }
    for (int i = 0; i < NODES; i++)
        start_node(i);
    create_scope();
    for (int i = 0; i < NODES; i++)
        wait_strong(i);

    static struct worker ws[WORKERS];
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        ws[i] = (struct worker){.node = i % NODES, .seed = (unsigned)(1234 + i)};
        ASSERT_EQ(pthread_create(&th[i], NULL, worker_main, &ws[i]), 0);
    }

    /* faults, one every `period`, in a fixed cycle: kill the etcd leader (once: a 3-member
     * cluster keeps its quorum with two), kill -9 and restart a rosterd, SIGSTOP one for
     * 1.5 s then SIGCONT, cut the last one from etcd for CUT_MS */
    uint64_t end = test_now_ms() + (uint64_t)seconds * 1000u;
    int step = 0, etcd_killed = 0;
    unsigned faults = 0;
    while (test_now_ms() < end) {
        usleep(seconds >= 20 ? 3000000 : 2000000);
        if (test_now_ms() >= end)
            break;
        if (!atomic_load(&first_fault_us))
            atomic_store(&first_fault_us, now_us());
        int victim = step % NODES;
        switch (step++ % (cut_ok ? 4 : 3)) {
        case 0:
            if (!etcd_killed) {
                int l = eh_leader(&etcd);
                if (l >= 0) {
                    eh_kill(&etcd, l);
                    etcd_killed = 1;
                    faults++;
                    printf("chaos: killed etcd leader %d\n", l);
                }
            }
            break;
        case 1:
            restart_node(victim);
            faults++;
            printf("chaos: kill -9 and restart rosterd %d\n", victim);
            break;
        case 2:
            kill(nodes[victim].pid, SIGSTOP);
            usleep(1500000);
            kill(nodes[victim].pid, SIGCONT);
            faults++;
            printf("chaos: SIGSTOP rosterd %d for 1.5 s\n", victim);
            break;
        default: /* 3, with cut_ok only */
            ASSERT_EQ(cl_nft_drop(CUT_TABLE, CUT_RULES), 0);
            usleep(CUT_MS * 1000);
            cl_nft_heal(CUT_TABLE);
            faults++;
            printf("chaos: rosterd %d cut from etcd (nftables drop) for %d ms\n", NODES - 1,
                   CUT_MS);
            break;
        }
        char wb[32];
        printf("chaos: (fault done at %s UTC)\n", wall(now_us(), wb, sizeof wb));
        fflush(stdout);
    }
    stopped_us = now_us();
    atomic_store(&stop_workers, 1);
    uint64_t total = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        total += ws[i].ops;
    }
    /* A node cut from etcd loses its lease: every name under it goes when etcd expires the
     * lease, and each of its pids that etcd may count as a holder was told lease_lost by its
     * node's fence (drain_notices records that as the pid's expiry). No other allowance: a
     * name is only ever put under a node's lease by that node (docs/STRONG.md). */
    /* A handoff may give a name to a pid of another node that has died (a node knows only
     * that the pid's node is alive); the pid's node then removes it (docs/CONSISTENCY.md).
     * So every grant by handoff to a pid that died goes some time after both. */
    size_t n_granted = n_history;
    for (size_t i = 0; i < n_granted && n_history < MAX_OPS; i++) {
        const struct linz_op *h = &history[i];
        if (h->kind != LINZ_HANDOFF || !h->to || !closed_at[h->to - 1] ||
            closed_at[h->to - 1] >= stopped_us || /* closed at the end: after every op */
            /* a grant known to come before the close goes with the close's own expiry */
            (h->outcome == LINZ_OK && closed_at[h->to - 1] > h->ret) ||
            (h->outcome != LINZ_OK && h->outcome != LINZ_UNKNOWN))
            continue;
        struct linz_op ex = {.kind = LINZ_EXPIRE, .pid = h->to, .name = h->name,
                             .call = h->call > closed_at[h->to - 1] ? h->call
                                                                    : closed_at[h->to - 1],
                             .outcome = LINZ_UNKNOWN};
        history[n_history++] = ex;
    }
    for (int i = 0; i < NODES; i++) {
        test_node_kill(&nodes[i], SIGTERM);
        keep_log(i);
        test_node_stop(&nodes[i]);
    }
    eh_stop(&etcd);

    struct linz_report rep;
    ASSERT_EQ(linz_check(history, n_history, 2000000, &rep), 0);
    printf("chaos: %zu operations checked (%zu with unknown outcome, %zu not applied and "
           "left out, %llu issued), %zu names, %u faults, %zu lease_lost notices, %d s: %s\n",
           rep.ops, rep.unknown, n_dropped, (unsigned long long)total, rep.names, faults,
           n_lease_lost,
           seconds, rep.ok ? (rep.inconclusive ? "inconclusive" : "linearizable") : rep.why);
    for (int k = 1; k < 8; k++)
        for (int e = 0; e < 40; e++)
            if (dropped_by[k][e])
                printf("chaos: left out: %zu %s answered %s\n", dropped_by[k][e], kind_names[k],
                       roster_err_name(-e));
    if (!rep.ok) {
        dump_name(rep.bad_name);
        for (unsigned i = 0; i < n_kept; i++)
            printf("chaos: rosterd log kept: %s\n", kept[i]);
    } else {
        for (unsigned i = 0; i < n_kept; i++)
            unlink(kept[i]);
    }
    ASSERT(rep.ok);
    ASSERT(!rep.inconclusive);
    ASSERT(rep.ops > 100); /* the run did real work */
    free(history);
    free(left_out);
    free(left_out_rc);
}

TEST_MAIN(T(test_chaos))
