/* bench_nats.c: the reference for the messaging figures (bench_msg.c): the same shapes
 * measured against a local nats-server with the NATS C client (libnats), so that roster and
 * NATS are compared on the same machine, in the same run, with the same placement.
 *
 * It is NOT built by CMake (the project must not require libnats): bench/run_msg.sh builds
 * it with `cc ... -lnats` when libnats-dev is there, and starts a private
 * nats-server on 127.0.0.1 (random port, pinned like rosterd). CMake leaves it out.
 *
 *   bench_nats URL       (e.g. nats://127.0.0.1:4222)
 *
 * Shapes (all 64-byte payloads, counts printed with each figure):
 *   N1  one pipelining publisher -> one subscriber (msgs/s counted by the subscriber)
 *   N2  2 and 4 publishers -> one subscriber
 *   N3  request/reply round trip, one requester (p50/p99, requests/s), and 4 requesters
 *   N4  fan-out: one publisher, 10 and 100 subscriptions (10 processes x 1 and x 10
 *       subscriptions, like bench_msg's 10 processes x 1 and x 10 pids)
 * Every figure writes "nats_*" keys to $BENCH_RESULTS for the side-by-side table.
 */
#include "bench_util.h"

#include <nats/nats.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>

#define MSG_LEN 64
#define SUBJ_T "bench.t"
#define SUBJ_RPC "bench.rpc"
#define SUBJ_FAN "bench.fan"

/* Publishers and requesters connect to g_url_tx, subscribers and responders to g_url_rx
 * (the same server, or two clustered servers for the cross-node figures). */
static const char *g_url_tx, *g_url_rx;

static void nats_check(natsStatus s, const char *what)
{
    if (s != NATS_OK)
        bu_die("nats %s: %s (%s)", what, natsStatus_GetText(s), nats_GetLastError(NULL));
}

static natsConnection *nconnect(const char *url, int send_asap)
{
    natsOptions *o = NULL;
    nats_check(natsOptions_Create(&o), "options");
    nats_check(natsOptions_SetURL(o, url), "url");
    nats_check(natsOptions_SetAllowReconnect(o, false), "reconnect");
    nats_check(natsOptions_SetTimeout(o, BU_TIMEOUT_MS), "timeout");
    if (send_asap)
        nats_check(natsOptions_SetSendAsap(o, true), "send asap");
    natsConnection *nc = NULL;
    nats_check(natsConnection_Connect(&nc, o), "connect");
    natsOptions_Destroy(o);
    return nc;
}

/* Generous client-side pending limits (the default 65,536 messages would drop at once). */
static void big_pending(natsSubscription *sub)
{
    nats_check(natsSubscription_SetPendingLimits(sub, 8 * 1000 * 1000, 512 * 1024 * 1024),
               "pending limits");
}

/* --- children: fork, ready, go, result ------------------------------------------------- */

typedef struct child {
    pid_t pid;
    int rd; /* the child's results */
} child;

/* spawn forks fn(wfd, go_rd, arg) pinned to `where`; the child writes one ready byte, waits
 * for the go pipe to close, works, writes its result and exits. */
static child spawn(void (*fn)(int, int, void *), void *arg, int where, int go_rd, int go_wr)
{
    int p[2];
    if (pipe(p) != 0)
        bu_die("pipe: %s", strerror(errno));
    fflush(stdout);
    child c;
    c.pid = fork();
    if (c.pid < 0)
        bu_die("fork: %s", strerror(errno));
    if (c.pid == 0) {
        close(p[0]);
        if (go_wr >= 0)
            close(go_wr);
        bu_pin(where);
        fn(p[1], go_rd, arg);
        _exit(0);
    }
    close(p[1]);
    c.rd = p[0];
    return c;
}

static void wait_ready(child *c)
{
    char b;
    if (bu_read_full(c->rd, &b, 1) != 0)
        bu_die("a benchmark child failed before it was ready");
}

static void wait_go(int go_rd)
{
    char b;
    while (read(go_rd, &b, 1) < 0 && errno == EINTR) {
    }
}

static void reap(child *c)
{
    close(c->rd);
    int st = 0;
    waitpid(c->pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        bu_die("a benchmark child failed (status %d)", st);
}

/* What a receiver reports. */
typedef struct rx_result {
    uint64_t count;   /* ordinary messages received */
    uint64_t ends;    /* END markers received */
    uint64_t t_end;   /* bu_now_ns() when the last END arrived (or the last message) */
    uint64_t dropped; /* messages the library dropped (slow consumer), as it reports */
} rx_result;

static void read_result(child *c, rx_result *r)
{
    if (bu_read_full(c->rd, r, sizeof *r) != 0)
        bu_die("a receiver died without a result");
}

/* --- N1/N2: publishers -> one subscriber ------------------------------------------------ */

typedef struct tx_arg {
    size_t n;
    const char *subj;
} tx_arg;

static void tx_main(int wfd, int go_rd, void *argp)
{
    tx_arg *a = argp;
    natsConnection *nc = nconnect(g_url_tx, 0);
    char msg[MSG_LEN];
    memset(msg, 'm', sizeof msg);
    (void)!write(wfd, "r", 1);
    wait_go(go_rd);
    for (size_t i = 0; i < a->n; i++)
        nats_check(natsConnection_Publish(nc, a->subj, msg, MSG_LEN), "publish");
    msg[0] = 'E';
    nats_check(natsConnection_Publish(nc, a->subj, msg, MSG_LEN), "publish end");
    nats_check(natsConnection_FlushTimeout(nc, BU_TIMEOUT_MS), "flush");
    natsConnection_Destroy(nc);
    _exit(0);
}

typedef struct rx_arg {
    const char *subj;
    int nsubs;    /* subscriptions in this process */
    uint64_t want_ends; /* END markers to wait for (per subscription: senders) */
} rx_arg;

/* One process, nsubs async subscriptions on subj; counters shared by the callbacks. */
typedef struct rx_state {
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t ends;
    atomic_uint_fast64_t t_last;
    uint64_t want;
    int done_wr;
} rx_state;

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    rx_state *s = closure;
    const char *d = natsMsg_GetData(m);
    if (natsMsg_GetDataLength(m) > 0 && d[0] == 'E') {
        uint64_t e = atomic_fetch_add(&s->ends, 1) + 1;
        if (e == s->want) {
            atomic_store(&s->t_last, bu_now_ns());
            (void)!write(s->done_wr, "d", 1);
        }
    } else {
        atomic_fetch_add(&s->count, 1);
    }
    natsMsg_Destroy(m);
}

static void rx_main(int wfd, int go_rd, void *argp)
{
    (void)go_rd;
    rx_arg *a = argp;
    natsConnection *nc = nconnect(g_url_rx, 0);
    rx_result r = {0};
    if (a->nsubs == 1) {
        /* one subscription: synchronous, the application thread takes each message */
        natsSubscription *sub = NULL;
        nats_check(natsConnection_SubscribeSync(&sub, nc, a->subj), "subscribe");
        big_pending(sub);
        nats_check(natsConnection_FlushTimeout(nc, BU_TIMEOUT_MS), "flush");
        (void)!write(wfd, "r", 1);
        while (r.ends < a->want_ends) {
            natsMsg *m = NULL;
            natsStatus s = natsSubscription_NextMsg(&m, sub, 10000);
            if (s == NATS_TIMEOUT)
                break; /* lost END markers: report what came */
            if (s != NATS_OK)
                break; /* slow consumer, closed connection: report what came */
            const char *d = natsMsg_GetData(m);
            if (natsMsg_GetDataLength(m) > 0 && d[0] == 'E') {
                r.ends++;
                r.t_end = bu_now_ns();
            } else {
                r.count++;
                if (r.ends == 0)
                    r.t_end = bu_now_ns();
            }
            natsMsg_Destroy(m);
        }
        int64_t dropped = 0;
        if (natsSubscription_GetDropped(sub, &dropped) == NATS_OK)
            r.dropped = (uint64_t)dropped;
        natsSubscription_Destroy(sub);
    } else {
        int dp[2];
        if (pipe(dp) != 0)
            bu_die("pipe");
        rx_state st;
        atomic_init(&st.count, 0);
        atomic_init(&st.ends, 0);
        atomic_init(&st.t_last, 0);
        st.want = a->want_ends * (uint64_t)a->nsubs;
        st.done_wr = dp[1];
        natsSubscription **subs = bu_xmalloc((size_t)a->nsubs * sizeof *subs);
        for (int i = 0; i < a->nsubs; i++) {
            nats_check(natsConnection_Subscribe(&subs[i], nc, a->subj, on_msg, &st),
                       "subscribe");
            big_pending(subs[i]);
        }
        nats_check(natsConnection_FlushTimeout(nc, BU_TIMEOUT_MS), "flush");
        (void)!write(wfd, "r", 1);
        struct pollfd pf = {.fd = dp[0], .events = POLLIN};
        int pr = poll(&pf, 1, 60000);
        (void)pr;
        r.count = atomic_load(&st.count);
        r.ends = atomic_load(&st.ends);
        r.t_end = atomic_load(&st.t_last);
        if (r.t_end == 0)
            r.t_end = bu_now_ns();
        for (int i = 0; i < a->nsubs; i++) {
            int64_t dropped = 0;
            if (natsSubscription_GetDropped(subs[i], &dropped) == NATS_OK)
                r.dropped += (uint64_t)dropped;
            natsSubscription_Unsubscribe(subs[i]);
            natsSubscription_Destroy(subs[i]);
        }
        free(subs);
    }
    natsConnection_Destroy(nc);
    (void)!bu_write_full(wfd, &r, sizeof r);
    _exit(0);
}

/* publishers -> receivers: nsend publishers of per_sender messages each; nrx receiver
 * processes with subs_per_rx subscriptions each. Prints and records the figure. */
static void run_pubsub(const char *title, const char *key, int nsend, size_t per_sender,
                       int nrx, int subs_per_rx, int tx_where, int rx_where)
{
    int go[2];
    if (pipe(go) != 0)
        bu_die("pipe");
    child *rx = bu_xmalloc((size_t)nrx * sizeof *rx);
    child *tx = bu_xmalloc((size_t)nsend * sizeof *tx);
    rx_arg ra = {nrx > 1 || subs_per_rx > 1 ? SUBJ_FAN : SUBJ_T, subs_per_rx, (uint64_t)nsend};
    for (int i = 0; i < nrx; i++)
        rx[i] = spawn(rx_main, &ra, rx_where, go[0], go[1]);
    for (int i = 0; i < nrx; i++)
        wait_ready(&rx[i]);
    if (strcmp(g_url_tx, g_url_rx) != 0) {
        /* across servers: let the subscriptions propagate over the route */
        struct timespec ts = {0, 500 * 1000000L};
        nanosleep(&ts, NULL);
    }
    tx_arg ta = {per_sender, ra.subj};
    for (int i = 0; i < nsend; i++)
        tx[i] = spawn(tx_main, &ta, tx_where, go[0], go[1]);
    for (int i = 0; i < nsend; i++)
        wait_ready(&tx[i]);
    close(go[0]);
    uint64_t t0 = bu_now_ns();
    close(go[1]);
    uint64_t got = 0, ends = 0, dropped = 0, t_end = t0;
    for (int i = 0; i < nrx; i++) {
        rx_result r;
        read_result(&rx[i], &r);
        got += r.count;
        ends += r.ends;
        dropped += r.dropped;
        if (r.t_end > t_end)
            t_end = r.t_end;
    }
    for (int i = 0; i < nsend; i++)
        reap(&tx[i]);
    for (int i = 0; i < nrx; i++)
        reap(&rx[i]);
    int members = nrx * subs_per_rx;
    uint64_t sent = (uint64_t)nsend * per_sender;
    uint64_t expect = sent * (uint64_t)members;
    uint64_t ns = t_end - t0;
    double per_member = bu_rate(got, ns) / members;
    bu_line("%-40s %10.0f msgs/s%s   (%llu of %llu received in %.3f s; lost %llu%s)", title,
            per_member, members > 1 ? " per member" : "", (unsigned long long)got,
            (unsigned long long)expect, (double)ns / 1e9,
            (unsigned long long)(expect - got), dropped ? ", slow consumer" : "");
    char k[96];
    snprintf(k, sizeof k, "%s_rate", key);
    bu_result(k, per_member);
    snprintf(k, sizeof k, "%s_lost", key);
    bu_result(k, (double)(expect - got));
    (void)ends;
    free(rx);
    free(tx);
}

/* --- N3: request/reply --------------------------------------------------------------- */

static void responder_main(int wfd, int go_rd, void *argp)
{
    (void)go_rd;
    (void)argp;
    natsConnection *nc = nconnect(g_url_rx, 1);
    natsSubscription *sub = NULL;
    nats_check(natsConnection_SubscribeSync(&sub, nc, SUBJ_RPC), "subscribe");
    big_pending(sub);
    nats_check(natsConnection_FlushTimeout(nc, BU_TIMEOUT_MS), "flush");
    (void)!write(wfd, "r", 1);
    char rep[MSG_LEN];
    memset(rep, 'r', sizeof rep);
    for (;;) {
        natsMsg *m = NULL;
        natsStatus s = natsSubscription_NextMsg(&m, sub, 60000);
        if (s != NATS_OK)
            _exit(s == NATS_TIMEOUT ? 0 : 1);
        const char *to = natsMsg_GetReply(m);
        if (to != NULL)
            natsConnection_Publish(nc, to, rep, MSG_LEN);
        natsMsg_Destroy(m);
    }
}

typedef struct caller_arg {
    size_t n;
} caller_arg;

/* A caller writes: t_start, t_end, then n latencies (ns). */
static void caller_main(int wfd, int go_rd, void *argp)
{
    caller_arg *a = argp;
    natsConnection *nc = nconnect(g_url_tx, 1);
    char req[MSG_LEN];
    memset(req, 'q', sizeof req);
    uint64_t *lat = bu_xmalloc(a->n * sizeof *lat);
    for (size_t i = 0, fails = 0; i < a->n / 20 + 100; i++) { /* warm-up */
        natsMsg *rep = NULL;
        natsStatus s = natsConnection_Request(&rep, nc, SUBJ_RPC, req, MSG_LEN, BU_TIMEOUT_MS);
        if (s == NATS_NO_RESPONDERS && ++fails < 1000) {
            /* across servers: the responder's interest is not propagated yet */
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
            i--;
            continue;
        }
        nats_check(s, "request");
        natsMsg_Destroy(rep);
    }
    (void)!write(wfd, "r", 1);
    wait_go(go_rd);
    uint64_t t[2];
    t[0] = bu_now_ns();
    for (size_t i = 0; i < a->n; i++) {
        uint64_t s = bu_now_ns();
        natsMsg *rep = NULL;
        nats_check(natsConnection_Request(&rep, nc, SUBJ_RPC, req, MSG_LEN, BU_TIMEOUT_MS),
                   "request");
        if (natsMsg_GetDataLength(rep) != MSG_LEN)
            bu_die("request: short reply");
        natsMsg_Destroy(rep);
        lat[i] = bu_now_ns() - s;
    }
    t[1] = bu_now_ns();
    natsConnection_Destroy(nc);
    if (bu_write_full(wfd, t, sizeof t) != 0 || bu_write_full(wfd, lat, a->n * sizeof *lat) != 0)
        _exit(1);
    _exit(0);
}

static void run_calls(const char *title, const char *key, int ncallers, size_t per_caller,
                      int caller_where, int resp_where)
{
    int go[2];
    if (pipe(go) != 0)
        bu_die("pipe");
    child resp = spawn(responder_main, NULL, resp_where, go[0], go[1]);
    wait_ready(&resp);
    child *cl = bu_xmalloc((size_t)ncallers * sizeof *cl);
    caller_arg ca = {per_caller};
    for (int i = 0; i < ncallers; i++)
        cl[i] = spawn(caller_main, &ca, caller_where, go[0], go[1]);
    for (int i = 0; i < ncallers; i++)
        wait_ready(&cl[i]);
    close(go[0]);
    uint64_t t0 = bu_now_ns();
    close(go[1]);
    bu_lat lat;
    bu_lat_init(&lat, per_caller * (size_t)ncallers);
    uint64_t t_end = t0;
    for (int i = 0; i < ncallers; i++) {
        uint64_t t[2];
        if (bu_read_full(cl[i].rd, t, sizeof t) != 0 ||
            bu_read_full(cl[i].rd, lat.v + lat.n, per_caller * sizeof *lat.v) != 0)
            bu_die("a caller died without a result");
        lat.n += per_caller;
        if (t[1] > t_end)
            t_end = t[1];
        reap(&cl[i]);
    }
    kill(resp.pid, SIGKILL);
    close(resp.rd);
    waitpid(resp.pid, NULL, 0);
    bu_lat_sort(&lat);
    bu_print_lat(title, &lat);
    size_t total = per_caller * (size_t)ncallers;
    bu_line("%-40s %10.0f requests/s   (%zu requests by %d requester%s in %.3f s)", "",
            bu_rate(total, t_end - t0), total, ncallers, ncallers > 1 ? "s" : "",
            (double)(t_end - t0) / 1e9);
    char k[96];
    snprintf(k, sizeof k, "%s_p50_us", key);
    bu_result(k, bu_pct_us(&lat, 0.50));
    snprintf(k, sizeof k, "%s_p99_us", key);
    bu_result(k, bu_pct_us(&lat, 0.99));
    snprintf(k, sizeof k, "%s_rps", key);
    bu_result(k, bu_rate(total, t_end - t0));
    bu_lat_free(&lat);
    free(cl);
}

/* --- main ---------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "cross") == 0) {
        g_url_tx = argv[2];
        g_url_rx = argv[3];
    } else if (argc == 3 && strcmp(argv[1], "single") == 0) {
        g_url_tx = g_url_rx = argv[2];
    } else {
        fprintf(stderr, "usage: bench_nats single URL | bench_nats cross URL_A URL_B\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char t[200];
    const char *ver = getenv("BENCH_NATS_SERVER_VERSION");
    if (argc == 4) {
        size_t n1 = bu_count(1000000), n3 = bu_count(10000);
        snprintf(t, sizeof t,
                 "NX. NATS across two clustered servers (%s, libnats %s; server a and the "
                 "publisher on CPU 0, server b and the subscriber on CPU 1)",
                 ver ? ver : "nats-server", nats_GetVersion());
        bu_section(t);
        snprintf(t, sizeof t, "NX1 1 publisher on a -> 1 sub on b (%zu)", n1);
        run_pubsub(t, "natsx_tput1", 1, n1, 1, 1, BU_SAME, BU_OTHER);
        snprintf(t, sizeof t, "NX2 4 publishers on a -> 1 sub on b (4 x %zu)", n1 / 4);
        run_pubsub(t, "natsx_tput4", 4, n1 / 4, 1, 1, BU_SAME, BU_OTHER);
        snprintf(t, sizeof t, "NX3 request a -> responder on b (%zu)", n3);
        run_calls(t, "natsx_call", 1, n3, BU_SAME, BU_OTHER);
        snprintf(t, sizeof t, "NX3 request a -> b, 4 requesters (4 x %zu)", n3 / 2);
        run_calls(t, "natsx_call4", 4, n3 / 2, BU_ANY, BU_OTHER);
        return 0;
    }
    size_t n1 = bu_count(2000000), n3 = bu_count(20000), nf = bu_count(200000);
    snprintf(t, sizeof t,
             "N. NATS reference, one server (%s, libnats %s) on CPU 0; 64-byte payloads, "
             "placement as in M",
             ver ? ver : "nats-server", nats_GetVersion());
    bu_section(t);
    /* placement as bench_msg: s = publisher(s), r = subscriber; "0" is the server's CPU */
    snprintf(t, sizeof t, "N1 1 -> 1, s CPU 1, r CPU 0 (%zu msgs)", n1);
    run_pubsub(t, "nats_tput1", 1, n1, 1, 1, BU_OTHER, BU_SAME);
    snprintf(t, sizeof t, "N1 1 -> 1, s CPU 0, r CPU 1 (%zu msgs)", n1);
    run_pubsub(t, "nats_tput1b", 1, n1, 1, 1, BU_SAME, BU_OTHER);
    snprintf(t, sizeof t, "N1 1 -> 1, s CPU 1, r CPU 1 (%zu msgs)", n1);
    run_pubsub(t, "nats_tput1c", 1, n1, 1, 1, BU_OTHER, BU_OTHER);
    snprintf(t, sizeof t, "N2 2 -> 1, s CPU 1, r CPU 0 (2 x %zu)", n1 / 2);
    run_pubsub(t, "nats_tput2", 2, n1 / 2, 1, 1, BU_OTHER, BU_SAME);
    snprintf(t, sizeof t, "N2 4 -> 1, s CPU 1, r CPU 0 (4 x %zu)", n1 / 4);
    run_pubsub(t, "nats_tput4", 4, n1 / 4, 1, 1, BU_OTHER, BU_SAME);

    snprintf(t, sizeof t, "N3 request/reply, all on CPU 0 (%zu)", n3);
    run_calls(t, "nats_call", 1, n3, BU_SAME, BU_SAME);
    snprintf(t, sizeof t, "N3 request/reply, 4 requesters any CPU (4 x %zu)", n3 / 2);
    run_calls(t, "nats_call4", 4, n3 / 2, BU_ANY, BU_SAME);

    snprintf(t, sizeof t, "N4 fan-out to 10, 10 procs x 1 (%zu)", nf);
    run_pubsub(t, "nats_fan10", 1, nf, 10, 1, BU_SAME, BU_OTHER);
    snprintf(t, sizeof t, "N4 fan-out to 100, 10 procs x 10 (%zu)", nf / 4);
    run_pubsub(t, "nats_fan100", 1, nf / 4, 10, 10, BU_SAME, BU_OTHER);
    return 0;
}

