/* bench_msg.c: the messaging figures (docs/MESSAGING.md, docs/PERFORMANCE.md "Messaging").
 * Run by bench/run_msg.sh, which starts the nodes, pins them and runs bench_nats beside.
 *
 *   bench_msg single      one node on $ROSTER_SOCKET (pinned to $BENCH_DAEMON_CPU):
 *       M0 the floor: raw Unix-socket 64-byte round trip (as bench_socket), same run
 *       M1 one pipelining sender -> one receiver, 64-byte messages (msgs/s)
 *       M2 2 and 4 senders -> one receiver
 *       M3 call round trip p50/p99 and calls/s (1 caller; 4 callers)
 *       M4 publish fan-out to 10 and 100 members (msgs/s delivered per member); a plain
 *          loop of roster_publish (no recipient count asked: pipelined by the library)
 *       M5 flow control: a receiver doing 5 us of work per message fed by a plain loop of
 *          1,000,000 roster_send (no NOFLUSH): every message must arrive (issue 10 item 3);
 *          and the same with a sender that chose dropping (ROSTER_SEND_DROP), for contrast
 *   bench_msg cross       two nodes: senders/callers on $BENCH_MSG_SOCK_A, receivers and
 *                         responders on $BENCH_MSG_SOCK_B (node a on $BENCH_DAEMON_CPU,
 *                         node b on the other CPU)
 *       X1 one pipelining sender on a -> one receiver on b
 *       X2 4 senders on a -> 1 receiver on b
 *       X3 call round trip a -> b (1 caller; 4 callers)
 *   bench_msg report      the side-by-side table (roster, target, NATS) from $BENCH_RESULTS
 *
 * Every process is a forked child with its own client, connected after the fork. Receivers
 * count ROSTER_EV_MESSAGE events; each sender ends with one END message sent with
 * ROSTER_SEND_CONFIRM (so it is known to be routed, and order per sender/receiver pair puts
 * it after the others), and a receiver stops at the last END. A figure's time runs from the
 * moment every sender is released to the moment the last END is taken by the receiver, so
 * it includes the draining of the mailbox. Messages lost (only a sender that chose
 * ROSTER_SEND_DROP loses any: by default flow control slows the senders instead) are
 * counted as sent - received and printed with the node's messages_dropped counter.
 */
#include "bench_util.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>

#define MSG_LEN 64
#define FAN_GROUP "bench-fan"

static const char *g_sock; /* the node the current role connects to */

/* Credit window (figures "w"): when non-zero, the receiver sends the sender its running count
 * every ACK_EVERY messages and the sender keeps at most g_window messages unacknowledged, so
 * the mailbox bound is never reached: the loss-free rate an application with flow control
 * gets. Single-sender figures only. */
#define ACK_EVERY 8192
static size_t g_window;
/* Fan-out credit window (figures "M4w"): the publisher pipelines roster_publish with
 * ROSTER_PUBLISH_NOWAIT | ROSTER_SEND_NOFLUSH; each receiver process acks its per-member
 * count every FAN_ACK_EVERY publishes, and the publisher keeps at most g_window publishes
 * beyond the slowest receiver's ack (flushing, then waiting for credits). 16,384 publishes to
 * a process of 10 members is ~23 MB of mailbox, under the 64 MiB bound. */
#define FAN_ACK_EVERY 2048
#define FAN_WINDOW 16384
/* Grouped fan-out (figures "M4g"): receivers connect with options.group_messages, so one
 * publish to the 10 pids of a receiver process is one event naming them (ev.n_to = 10); a
 * receiver counts n_to deliveries per event. */
static int g_grouped;
/* Flow-control figures (M5): the receiver spins g_work_ns per message; the sender uses a
 * plain roster_send per message (g_plain: no NOFLUSH) with flags g_send_flags. */
static long g_work_ns;
static int g_plain;
static unsigned g_send_flags;

static roster_client *connect_to(const char *sock, const char *name)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock;
    o.client_name = name;
    o.timeout_ms = BU_TIMEOUT_MS;
    o.group_messages = g_grouped;
    roster_client *c = NULL;
    bu_check(NULL, "roster_connect", roster_connect(&c, &o));
    return c;
}

/* --- children: fork, ready, go, result ------------------------------------------------- */

typedef struct child {
    pid_t pid;
    int rd;
} child;

typedef struct role {
    void (*fn)(int wfd, int go_rd, struct role *r);
    const char *sock;
    size_t n;       /* messages / calls */
    int npids;      /* receiver: pids in this process */
    uint64_t ends;  /* receiver: END markers per pid */
    roster_pid to;  /* sender / caller: the target */
    int publish;    /* sender: publish to FAN_GROUP instead of sending to `to` */
    int nrx;        /* publisher with a credit window: receiver processes that ack */
} role;

static child spawn(role *r, int where, int go_rd, int go_wr)
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
        r->fn(p[1], go_rd, r);
        _exit(0);
    }
    close(p[1]);
    c.rd = p[0];
    return c;
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

static void kill_child(child *c)
{
    kill(c->pid, SIGKILL);
    close(c->rd);
    waitpid(c->pid, NULL, 0);
}

/* --- receivers --------------------------------------------------------------------------- */

typedef struct rx_result {
    uint64_t count; /* ordinary messages */
    uint64_t ends;  /* END markers */
    uint64_t t_end; /* when the last END was taken (or the last message) */
    uint64_t other; /* events that were not messages (OVERFLOW would show here) */
} rx_result;

/* A receiver: npids pids (the first is the client's own), joined to FAN_GROUP when npids > 1
 * or r->publish; writes its pids, then waits for npids * ends END markers. */
static void rx_main(int wfd, int go_rd, role *r)
{
    (void)go_rd;
    roster_client *c = connect_to(r->sock, "bench-rx");
    roster_pid *pids = bu_xmalloc((size_t)r->npids * sizeof *pids);
    pids[0] = roster_self(c);
    for (int i = 1; i < r->npids; i++)
        bu_check(c, "roster_pid_new", roster_pid_new(c, &pids[i], BU_TIMEOUT_MS));
    if (r->publish)
        for (int i = 0; i < r->npids; i++)
            bu_check(c, "roster_join",
                     roster_join(c, NULL, FAN_GROUP, sizeof FAN_GROUP - 1, pids[i], NULL, 0,
                                 BU_TIMEOUT_MS));
    if (bu_write_full(wfd, pids, (size_t)r->npids * sizeof *pids) != 0)
        _exit(1);
    rx_result res = {0};
    uint64_t want = r->ends * (uint64_t)r->npids;
    while (res.ends < want) {
        roster_event ev;
        int rc = roster_wait_event(c, &ev, 10000);
        if (rc == ROSTER_ETIMEDOUT)
            break; /* END markers lost: report what came */
        bu_check(c, "roster_wait_event", rc);
        if (ev.type == ROSTER_EV_MESSAGE) {
            if (ev.meta.len > 0 && ev.meta.data[0] == 'E') {
                res.ends += ev.n_to;
                res.t_end = bu_now_ns();
            } else {
                uint64_t before = res.count;
                res.count += ev.n_to;
                if (g_work_ns) {
                    uint64_t until = bu_now_ns() + (uint64_t)g_work_ns;
                    while (bu_now_ns() < until) {
                    }
                }
                /* the time of the last message only matters when END markers were lost;
                 * reading the clock for every message would cost the receiver 10-20% */
                if (res.ends == 0 && (res.count & 255) < ev.n_to)
                    res.t_end = bu_now_ns();
                uint64_t every = (uint64_t)FAN_ACK_EVERY * (uint64_t)r->npids;
                if (g_window && r->publish && res.count / every != before / every) {
                    uint64_t per = res.count / (uint64_t)r->npids;
                    bu_check(c, "roster_send (fan credit)",
                             roster_send(c, pids[0], ev.pid, &per, sizeof per, 0,
                                         BU_TIMEOUT_MS));
                } else if (g_window && !r->publish && res.count % ACK_EVERY == 0)
                    bu_check(c, "roster_send (credit)",
                             roster_send(c, pids[0], ev.pid, &res.count, sizeof res.count, 0,
                                         BU_TIMEOUT_MS));
            }
        } else {
            res.other++;
        }
        roster_event_free(&ev);
    }
    if (bu_write_full(wfd, &res, sizeof res) != 0)
        _exit(1);
    roster_close(c);
    free(pids);
    _exit(0);
}

/* A sender: r->n pipelined 64-byte sends (ROSTER_SEND_NOFLUSH) or publishes to FAN_GROUP,
 * then one END (sent with CONFIRM; retried while the mailbox is full). */
static void tx_main(int wfd, int go_rd, role *r)
{
    roster_client *c = connect_to(r->sock, "bench-tx");
    roster_pid self = roster_self(c);
    char msg[MSG_LEN];
    memset(msg, 'm', sizeof msg);
    if (bu_write_full(wfd, "r", 1) != 0)
        _exit(1);
    wait_go(go_rd);
    if (r->publish && g_window) {
        /* pipelined publishes, at most g_window beyond the slowest receiver's credit */
        roster_pid *who = bu_xmalloc((size_t)r->nrx * sizeof *who);
        uint64_t *acks = bu_xmalloc((size_t)r->nrx * sizeof *acks);
        int known = 0;
        uint64_t acked = 0;
        for (size_t i = 0; i < r->n; i++) {
            while (i - acked >= g_window) {
                bu_check(c, "roster_flush", roster_flush(c, BU_TIMEOUT_MS));
                roster_event ev;
                bu_check(c, "roster_wait_event (fan credit)",
                         roster_wait_event(c, &ev, BU_TIMEOUT_MS));
                if (ev.type == ROSTER_EV_MESSAGE && ev.meta.len == sizeof(uint64_t)) {
                    uint64_t v;
                    memcpy(&v, ev.meta.data, sizeof v);
                    int k = 0;
                    while (k < known && !roster_pid_equal(who[k], ev.pid))
                        k++;
                    if (k == known && known < r->nrx) {
                        who[known] = ev.pid;
                        acks[known++] = 0;
                    }
                    if (k < known && v > acks[k])
                        acks[k] = v;
                    if (known == r->nrx) {
                        uint64_t m = acks[0];
                        for (int j = 1; j < known; j++)
                            m = acks[j] < m ? acks[j] : m;
                        acked = m;
                    }
                }
                roster_event_free(&ev);
            }
            bu_check(c, "roster_publish (nowait)",
                     roster_publish(c, self, NULL, FAN_GROUP, sizeof FAN_GROUP - 1, msg,
                                    MSG_LEN, ROSTER_PUBLISH_NOWAIT | ROSTER_SEND_NOFLUSH, NULL,
                                    BU_TIMEOUT_MS));
        }
        free(who);
        free(acks);
    }
    if (r->publish) {
        for (size_t i = 0; !g_window && i < r->n; i++)
            bu_check(c, "roster_publish",
                     roster_publish(c, self, NULL, FAN_GROUP, sizeof FAN_GROUP - 1, msg,
                                    MSG_LEN, 0, NULL, BU_TIMEOUT_MS));
        msg[0] = 'E';
        bu_check(c, "roster_publish",
                 roster_publish(c, self, NULL, FAN_GROUP, sizeof FAN_GROUP - 1, msg, MSG_LEN, 0,
                                NULL, BU_TIMEOUT_MS));
    } else {
        uint64_t acked = 0;
        for (size_t i = 0; i < r->n; i++) {
            while (g_window && i - acked >= g_window) {
                /* window full: write what is queued, then wait for a credit */
                bu_check(c, "roster_flush", roster_flush(c, BU_TIMEOUT_MS));
                roster_event ev;
                bu_check(c, "roster_wait_event (credit)",
                         roster_wait_event(c, &ev, BU_TIMEOUT_MS));
                if (ev.type == ROSTER_EV_MESSAGE && ev.meta.len == sizeof acked) {
                    uint64_t v;
                    memcpy(&v, ev.meta.data, sizeof v);
                    if (v > acked)
                        acked = v;
                }
                roster_event_free(&ev);
            }
            bu_check(c, "roster_send",
                     roster_send(c, self, r->to, msg, MSG_LEN,
                                 (g_plain ? 0u : (unsigned)ROSTER_SEND_NOFLUSH) | g_send_flags,
                                 BU_TIMEOUT_MS));
        }
        msg[0] = 'E';
        for (int tries = 0;; tries++) {
            /* Flow control answers a confirmed send when it is written to the receiver:
             * behind a full mailbox of a slow receiver that can take minutes under load. */
            int rc = roster_send(c, self, r->to, msg, MSG_LEN, ROSTER_SEND_CONFIRM,
                                 10 * 60 * 1000);
            if (rc != ROSTER_EAGAIN || tries > 10000) {
                bu_check(c, "roster_send (END, confirmed)", rc);
                break;
            }
            struct timespec ts = {0, 1000000L}; /* mailbox full: let the receiver drain */
            nanosleep(&ts, NULL);
        }
    }
    if (getenv("BENCH_MSG_CHAN_STATS")) { /* how much took the channel (profiling) */
        roster_channel_info ci;
        if (roster_channel_stats(c, &ci) == 0)
            fprintf(stderr, "  sender: %llu frames on the channel, %llu through the node\n",
                    (unsigned long long)ci.sent, (unsigned long long)ci.via_node);
    }
    roster_close(c);
    _exit(0);
}

/* messages_dropped of the node on sock (0 if the counter is absent). */
static uint64_t node_dropped(const char *sock)
{
    roster_client *c = connect_to(sock, "bench-status");
    roster_stats st;
    bu_check(c, "roster_status", roster_status(c, &st, BU_TIMEOUT_MS));
    uint64_t v = 0;
    for (size_t i = 0; i < st.n; i++)
        if (strcmp(st.items[i].key, "messages_dropped") == 0)
            v = st.items[i].value;
    roster_stats_free(&st);
    roster_close(c);
    return v;
}

/* run_flow: nsend senders (per_sender messages each) on tx_sock -> nrx receiver processes of
 * pids_per_rx pids on rx_sock; publish: to FAN_GROUP, else to the one receiver's pid. */
static void run_flow(const char *title, const char *key, int nsend, size_t per_sender,
                     int nrx, int pids_per_rx, int publish, const char *tx_sock,
                     const char *rx_sock, int tx_where, int rx_where)
{
    int two = strcmp(tx_sock, rx_sock) != 0;
    uint64_t drop0 = node_dropped(rx_sock) + (two ? node_dropped(tx_sock) : 0);
    int go[2];
    if (pipe(go) != 0)
        bu_die("pipe");
    child *rx = bu_xmalloc((size_t)nrx * sizeof *rx);
    child *tx = bu_xmalloc((size_t)nsend * sizeof *tx);
    role rr = {rx_main, rx_sock, 0, pids_per_rx, (uint64_t)nsend, {0, 0}, publish, 0};
    roster_pid *pids = bu_xmalloc((size_t)pids_per_rx * sizeof *pids);
    roster_pid target = {0, 0};
    for (int i = 0; i < nrx; i++) {
        rx[i] = spawn(&rr, rx_where, go[0], go[1]);
        if (bu_read_full(rx[i].rd, pids, (size_t)pids_per_rx * sizeof *pids) != 0)
            bu_die("a receiver failed before it was ready");
        if (i == 0)
            target = pids[0];
    }
    role tr = {tx_main, tx_sock, per_sender, 0, 0, target, publish, nrx};
    for (int i = 0; i < nsend; i++) {
        tx[i] = spawn(&tr, tx_where, go[0], go[1]);
        char b;
        if (bu_read_full(tx[i].rd, &b, 1) != 0)
            bu_die("a sender failed before it was ready");
    }
    close(go[0]);
    uint64_t t0 = bu_now_ns();
    close(go[1]);
    uint64_t got = 0, other = 0, t_end = t0;
    uint64_t per_rx = (uint64_t)nsend * per_sender * (uint64_t)pids_per_rx;
    for (int i = 0; i < nrx; i++) {
        rx_result r;
        if (bu_read_full(rx[i].rd, &r, sizeof r) != 0)
            bu_die("a receiver died without a result");
        if (r.count != per_rx) /* which receiver lost what, and whether its ENDs came */
            bu_line("   receiver %d of %d: %llu of %llu, ends %llu, other events %llu", i, nrx,
                    (unsigned long long)r.count, (unsigned long long)per_rx,
                    (unsigned long long)r.ends, (unsigned long long)r.other);
        got += r.count;
        other += r.other;
        if (r.t_end > t_end)
            t_end = r.t_end;
    }
    for (int i = 0; i < nsend; i++)
        reap(&tx[i]);
    for (int i = 0; i < nrx; i++)
        reap(&rx[i]);
    uint64_t dropped = node_dropped(rx_sock) + (two ? node_dropped(tx_sock) : 0) - drop0;
    int members = nrx * pids_per_rx;
    uint64_t expect = (uint64_t)nsend * per_sender * (uint64_t)members;
    uint64_t ns = t_end - t0;
    double rate = bu_rate(got, ns) / members;
    bu_line("%-40s %10.0f msgs/s%s   (%llu of %llu received in %.3f s; lost %llu, "
            "messages_dropped %llu%s)",
            title, rate, members > 1 ? " per member" : "", (unsigned long long)got,
            (unsigned long long)expect, (double)ns / 1e9, (unsigned long long)(expect - got),
            (unsigned long long)dropped, other ? ", other events!" : "");
    char k[96];
    snprintf(k, sizeof k, "%s_rate", key);
    bu_result(k, rate);
    snprintf(k, sizeof k, "%s_lost", key);
    bu_result(k, (double)(expect - got));
    free(rx);
    free(tx);
    free(pids);
}

/* --- the relay floor: what any node between two clients costs -------------------------- */

/* relay_serve forwards whatever arrives on one socket to the other, with epoll (as rosterd's
 * libuv loop does): the least a node can do per hop. Exits when a side closes. */
static void relay_serve(int x, int y)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event e = {.events = EPOLLIN};
    e.data.fd = x;
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, x, &e) != 0)
        _exit(1);
    e.data.fd = y;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, y, &e) != 0)
        _exit(1);
    char b[4096];
    for (;;) {
        struct epoll_event ev[4];
        int n = epoll_wait(ep, ev, 4, 1000);
        for (int i = 0; i < n; i++) {
            int from = ev[i].data.fd, to = from == x ? y : x;
            ssize_t k = read(from, b, sizeof b);
            if (k <= 0 || bu_write_full(to, b, (size_t)k) != 0)
                _exit(0);
        }
    }
}

/* poll_read waits for and reads exactly n bytes as libroster does (poll, then recv). */
static int poll_read(int fd, char *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, BU_TIMEOUT_MS) != 1)
            return -1;
        ssize_t k = recv(fd, b + got, n - got, MSG_DONTWAIT);
        if (k <= 0 && !(k < 0 && errno == EAGAIN))
            return -1;
        if (k > 0)
            got += (size_t)k;
    }
    return 0;
}

/* A bare relay: caller -> relay -> responder -> relay -> caller with raw 64-byte messages,
 * all on rosterd's CPU: a call's four socket hops with no work at all. */
typedef struct bare_relay {
    int fd;
    pid_t relay, resp;
} bare_relay;

static void relay_start(bare_relay *x)
{
    int a[2], r[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r) != 0)
        bu_die("socketpair: %s", strerror(errno));
    fflush(stdout);
    x->relay = fork();
    if (x->relay == 0) {
        close(a[0]);
        close(r[1]);
        bu_pin(BU_SAME);
        relay_serve(a[1], r[0]);
    }
    x->resp = fork();
    if (x->resp == 0) {
        close(a[0]);
        close(a[1]);
        close(r[0]);
        bu_pin(BU_SAME);
        char b[BU_MSG];
        while (poll_read(r[1], b, BU_MSG) == 0)
            if (send(r[1], b, BU_MSG, MSG_NOSIGNAL) != BU_MSG)
                break;
        _exit(0);
    }
    if (x->relay < 0 || x->resp < 0)
        bu_die("fork: %s", strerror(errno));
    close(a[1]);
    close(r[0]);
    close(r[1]);
    x->fd = a[0];
}

static uint64_t relay_once(bare_relay *x)
{
    char b[BU_MSG];
    memset(b, 'q', sizeof b);
    uint64_t s = bu_now_ns();
    if (send(x->fd, b, BU_MSG, MSG_NOSIGNAL) != BU_MSG || poll_read(x->fd, b, BU_MSG) != 0)
        bu_die("relay round trip failed");
    return bu_now_ns() - s;
}

static void relay_stop(bare_relay *x)
{
    close(x->fd);
    waitpid(x->relay, NULL, 0);
    waitpid(x->resp, NULL, 0);
}

/* relay_rtt: n bare relay round trips; p50 in µs. */
static double relay_rtt(size_t n)
{
    bu_pin(BU_SAME);
    bare_relay x;
    relay_start(&x);
    bu_lat lat;
    bu_lat_init(&lat, n);
    for (size_t i = 0; i < n / 20 + 100; i++)
        relay_once(&x);
    for (size_t i = 0; i < n; i++)
        bu_lat_add(&lat, relay_once(&x));
    relay_stop(&x);
    bu_pin(BU_ANY);
    bu_lat_sort(&lat);
    bu_print_lat("M0r raw relay round trip, same CPU", &lat);
    double p50 = bu_pct_us(&lat, 0.50);
    bu_result("msg_relay_p50_us", p50);
    bu_lat_free(&lat);
    return p50;
}

/* --- calls ------------------------------------------------------------------------------- */

static void responder_main(int wfd, int go_rd, role *r)
{
    (void)go_rd;
    roster_client *c = connect_to(r->sock, "bench-responder");
    roster_pid self = roster_self(c);
    if (bu_write_full(wfd, &self, sizeof self) != 0)
        _exit(1);
    char rep[MSG_LEN];
    memset(rep, 'r', sizeof rep);
    for (;;) {
        roster_event ev;
        int rc = roster_wait_event(c, &ev, 60000);
        if (rc == ROSTER_ETIMEDOUT)
            _exit(0);
        bu_check(c, "roster_wait_event", rc);
        if (ev.type == ROSTER_EV_MESSAGE && ev.call_ref != 0)
            bu_check(c, "roster_reply", roster_reply(c, &ev, rep, MSG_LEN, BU_TIMEOUT_MS));
        roster_event_free(&ev);
    }
}

/* A caller writes t_start, t_end, its CPU time over the loop, then its n latencies (ns). */
static void caller_main(int wfd, int go_rd, role *r)
{
    roster_client *c = connect_to(r->sock, "bench-caller");
    roster_pid self = roster_self(c);
    char req[MSG_LEN];
    memset(req, 'q', sizeof req);
    uint64_t *lat = bu_xmalloc(r->n * sizeof *lat);
    for (size_t i = 0; i < r->n / 20 + 100; i++) { /* warm-up */
        roster_buf rep = {0};
        bu_check(c, "roster_call", roster_call(c, self, r->to, req, MSG_LEN, &rep, NULL,
                                               BU_TIMEOUT_MS));
        roster_buf_free(&rep);
    }
    if (bu_write_full(wfd, "r", 1) != 0)
        _exit(1);
    wait_go(go_rd);
    uint64_t t[3];
    uint64_t cpu0 = bu_cpu_ns(0);
    t[0] = bu_now_ns();
    for (size_t i = 0; i < r->n; i++) {
        uint64_t s = bu_now_ns();
        roster_buf rep = {0};
        bu_check(c, "roster_call", roster_call(c, self, r->to, req, MSG_LEN, &rep, NULL,
                                               BU_TIMEOUT_MS));
        if (rep.len != MSG_LEN)
            bu_die("roster_call: reply of %zu bytes", rep.len);
        roster_buf_free(&rep);
        lat[i] = bu_now_ns() - s;
    }
    t[1] = bu_now_ns();
    t[2] = bu_cpu_ns(0) - cpu0;
    roster_close(c);
    if (bu_write_full(wfd, t, sizeof t) != 0 || bu_write_full(wfd, lat, r->n * sizeof *lat) != 0)
        _exit(1);
    _exit(0);
}

/* run_calls: ncallers on call_sock call one responder on resp_sock; returns p50 (µs). */
static double run_calls(const char *title, const char *key, int ncallers, size_t per_caller,
                        const char *call_sock, const char *resp_sock, int caller_where,
                        int resp_where)
{
    int go[2];
    if (pipe(go) != 0)
        bu_die("pipe");
    role rr = {responder_main, resp_sock, 0, 1, 0, {0, 0}, 0, 0};
    child resp = spawn(&rr, resp_where, go[0], go[1]);
    roster_pid target;
    if (bu_read_full(resp.rd, &target, sizeof target) != 0)
        bu_die("the responder failed before it was ready");
    child *cl = bu_xmalloc((size_t)ncallers * sizeof *cl);
    role cr = {caller_main, call_sock, per_caller, 0, 0, target, 0, 0};
    for (int i = 0; i < ncallers; i++) {
        cl[i] = spawn(&cr, caller_where, go[0], go[1]);
        char b;
        if (bu_read_full(cl[i].rd, &b, 1) != 0)
            bu_die("a caller failed before it was ready");
    }
    /* CPU time over the timed calls: rosterd (the node of the responder; 0 when its pid is
     * unknown), the responder, the callers */
    pid_t node = strcmp(call_sock, resp_sock) == 0 ? bu_rosterd_pid() : 0;
    uint64_t node_cpu0 = node > 0 ? bu_cpu_ns(node) : 0, resp_cpu0 = bu_cpu_ns(resp.pid);
    close(go[0]);
    uint64_t t0 = bu_now_ns();
    close(go[1]);
    bu_lat lat;
    bu_lat_init(&lat, per_caller * (size_t)ncallers);
    uint64_t t_end = t0, caller_cpu = 0;
    for (int i = 0; i < ncallers; i++) {
        uint64_t t[3];
        if (bu_read_full(cl[i].rd, t, sizeof t) != 0 ||
            bu_read_full(cl[i].rd, lat.v + lat.n, per_caller * sizeof *lat.v) != 0)
            bu_die("a caller died without a result");
        lat.n += per_caller;
        if (t[1] > t_end)
            t_end = t[1];
        caller_cpu += t[2];
        reap(&cl[i]);
    }
    uint64_t node_cpu = node > 0 ? bu_cpu_ns(node) - node_cpu0 : 0;
    uint64_t resp_cpu = bu_cpu_ns(resp.pid) - resp_cpu0; /* includes its idle tail: small */
    kill_child(&resp);
    bu_lat_sort(&lat);
    bu_print_lat(title, &lat);
    size_t total = per_caller * (size_t)ncallers;
    bu_line("%-40s %10.0f calls/s   (%zu calls by %d caller%s in %.3f s)", "",
            bu_rate(total, t_end - t0), total, ncallers, ncallers > 1 ? "s" : "",
            (double)(t_end - t0) / 1e9);
    double tot = (double)(per_caller * (size_t)ncallers);
    if (node > 0)
        bu_line("%-40s rosterd %5.2f, responder %5.2f, caller %5.2f µs/call", "  CPU time:",
                (double)node_cpu / 1000.0 / tot, (double)resp_cpu / 1000.0 / tot,
                (double)caller_cpu / 1000.0 / tot);
    else
        bu_line("%-40s responder %5.2f, caller %5.2f µs/call", "  CPU time:",
                (double)resp_cpu / 1000.0 / tot, (double)caller_cpu / 1000.0 / tot);
    char k[96];
    double p50 = bu_pct_us(&lat, 0.50);
    snprintf(k, sizeof k, "%s_p50_us", key);
    bu_result(k, p50);
    snprintf(k, sizeof k, "%s_p99_us", key);
    bu_result(k, bu_pct_us(&lat, 0.99));
    snprintf(k, sizeof k, "%s_rps", key);
    bu_result(k, bu_rate(total, t_end - t0));
    bu_lat_free(&lat);
    free(cl);
    return p50;
}

/* run_interleaved: the same-node call beside its two references in one loop, so that all
 * three see the same machine: this process (on rosterd's CPU) makes a call to a responder
 * on rosterd's CPU, a raw socket round trip and a bare relay round trip, in turn, n times.
 * Returns the call p50 / socket p50 ratio (the target's). */
static double run_interleaved(size_t n)
{
    int go[2];
    if (pipe(go) != 0)
        bu_die("pipe");
    role rr = {responder_main, g_sock, 0, 1, 0, {0, 0}, 0, 0};
    child resp = spawn(&rr, BU_SAME, go[0], go[1]);
    roster_pid target;
    if (bu_read_full(resp.rd, &target, sizeof target) != 0)
        bu_die("the responder failed before it was ready");
    close(go[0]);
    close(go[1]);
    bu_pin(BU_SAME);
    roster_client *c = connect_to(g_sock, "bench-interleaved");
    roster_pid self = roster_self(c);
    bu_echo e;
    bu_echo_start(&e, NULL);
    bare_relay x;
    relay_start(&x);
    bu_lat lc, ls, lr;
    bu_lat_init(&lc, n);
    bu_lat_init(&ls, n);
    bu_lat_init(&lr, n);
    char req[MSG_LEN];
    memset(req, 'q', sizeof req);
    for (size_t i = 0; i < n / 20 + 100 + n; i++) {
        uint64_t s = bu_now_ns();
        roster_buf rep = {0};
        bu_check(c, "roster_call", roster_call(c, self, target, req, MSG_LEN, &rep, NULL,
                                               BU_TIMEOUT_MS));
        uint64_t call = bu_now_ns() - s;
        roster_buf_free(&rep);
        uint64_t sock = bu_echo_rtt(&e), rel = relay_once(&x);
        if (i >= n / 20 + 100) {
            bu_lat_add(&lc, call);
            bu_lat_add(&ls, sock);
            bu_lat_add(&lr, rel);
        }
    }
    relay_stop(&x);
    bu_echo_stop(&e);
    roster_close(c);
    kill_child(&resp);
    bu_pin(BU_ANY);
    bu_lat_sort(&lc);
    bu_lat_sort(&ls);
    bu_lat_sort(&lr);
    bu_print_lat("M3i call (interleaved)", &lc);
    bu_print_lat("M3i raw socket round trip (interleaved)", &ls);
    bu_print_lat("M3i bare relay round trip (interleaved)", &lr);
    double pc = bu_pct_us(&lc, 0.50), ps = bu_pct_us(&ls, 0.50), pr = bu_pct_us(&lr, 0.50);
    bu_line("%-40s %10.2fx the socket round trip (target <= 1.3x on a channel); the bare relay %.2fx; "
            "call / relay %.2fx", "  interleaved p50 ratios", ps > 0 ? pc / ps : 0,
            ps > 0 ? pr / ps : 0, pr > 0 ? pc / pr : 0);
    bu_result("msg_calli_p50_us", pc);
    bu_result("msg_socki_p50_us", ps);
    bu_result("msg_relayi_p50_us", pr);
    bu_result("msg_calli_ratio", ps > 0 ? pc / ps : 0);
    bu_result("msg_relayi_ratio", ps > 0 ? pr / ps : 0);
    bu_lat_free(&lc);
    bu_lat_free(&ls);
    bu_lat_free(&lr);
    return ps > 0 ? pc / ps : 0;
}

/* --- figures ----------------------------------------------------------------------------- */

static double floor_rtt(size_t n)
{
    bu_lat lat;
    bu_lat_init(&lat, n);
    bu_echo e;
    bu_echo_start(&e, NULL);
    bu_pin(BU_SAME);
    for (size_t i = 0; i < n / 20 + 100; i++)
        bu_echo_rtt(&e);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < n; i++)
        bu_lat_add(&lat, bu_echo_rtt(&e));
    uint64_t ns = bu_now_ns() - t0;
    bu_echo_stop(&e);
    bu_pin(BU_ANY);
    bu_lat_sort(&lat);
    bu_print_lat("M0 raw socket round trip, same CPU", &lat);
    bu_line("%-40s %10.0f round trips/s", "", bu_rate(n, ns));
    double p50 = bu_pct_us(&lat, 0.50);
    bu_result("msg_sock_p50_us", p50);
    bu_result("msg_sock_p99_us", bu_pct_us(&lat, 0.99));
    bu_result("msg_sock_rps", bu_rate(n, ns));
    bu_lat_free(&lat);
    return p50;
}

static int cmd_single(void)
{
    g_sock = getenv("ROSTER_SOCKET");
    if (g_sock == NULL)
        bu_die("ROSTER_SOCKET is not set");
    size_t n1 = bu_count(2000000), nfloor = bu_count(50000), n3 = bu_count(20000),
           nf = bu_count(200000);
    char t[200];
    bu_section("M. Messaging, one node (rosterd on CPU 0): 64-byte payloads; s = sender(s), r = "
               "receiver(s), CPU per line");
    snprintf(t, sizeof t, "M0 floor (%zu round trips)", nfloor);
    bu_line("%s", t);
    double floor = floor_rtt(nfloor);
    double relay = relay_rtt(nfloor);
    /* BENCH_MSG_ONLY=call|fanout|m1 runs the floor and that part only (for profiling) */
    const char *only = getenv("BENCH_MSG_ONLY");
    if (only && strcmp(only, "call") == 0)
        goto calls;
    if (only && strcmp(only, "fanout") == 0)
        goto fanout;

    /* placement: s = the sender's CPU, r = the receiver's; "0" is rosterd's CPU */
    snprintf(t, sizeof t, "M1 1 -> 1, s CPU 1, r CPU 0 (%zu msgs)", n1);
    run_flow(t, "msg_tput1", 1, n1, 1, 1, 0, g_sock, g_sock, BU_OTHER, BU_SAME);
    snprintf(t, sizeof t, "M1 1 -> 1, s CPU 0, r CPU 1 (%zu msgs)", n1);
    run_flow(t, "msg_tput1b", 1, n1, 1, 1, 0, g_sock, g_sock, BU_SAME, BU_OTHER);
    snprintf(t, sizeof t, "M1 1 -> 1, s CPU 1, r CPU 1 (%zu msgs)", n1);
    run_flow(t, "msg_tput1c", 1, n1, 1, 1, 0, g_sock, g_sock, BU_OTHER, BU_OTHER);
    if (only && strcmp(only, "m1") == 0) /* BENCH_MSG_ONLY=m1: the 1 -> 1 stream alone */
        return 0;
    g_window = 8 * ACK_EVERY;
    snprintf(t, sizeof t, "M1w credit window, s 1, r 0 (%zu msgs)", n1);
    run_flow(t, "msg_tput1w", 1, n1, 1, 1, 0, g_sock, g_sock, BU_OTHER, BU_SAME);
    snprintf(t, sizeof t, "M1w credit window, s 0, r 1 (%zu msgs)", n1);
    run_flow(t, "msg_tput1bw", 1, n1, 1, 1, 0, g_sock, g_sock, BU_SAME, BU_OTHER);
    g_window = 0;
    snprintf(t, sizeof t, "M2 2 -> 1, s CPU 1, r CPU 0 (2 x %zu)", n1 / 2);
    run_flow(t, "msg_tput2", 2, n1 / 2, 1, 1, 0, g_sock, g_sock, BU_OTHER, BU_SAME);
    snprintf(t, sizeof t, "M2 4 -> 1, s CPU 1, r CPU 0 (4 x %zu)", n1 / 4);
    run_flow(t, "msg_tput4", 4, n1 / 4, 1, 1, 0, g_sock, g_sock, BU_OTHER, BU_SAME);

calls:
    snprintf(t, sizeof t, "M3 call, all on CPU 0 (%zu)", n3);
    double p50 = run_calls(t, "msg_call", 1, n3, g_sock, g_sock, BU_SAME, BU_SAME);
    bu_line("%-40s %10.2fx the socket round trip (target <= 1.3x on a channel)", "  call p50 / floor p50",
            floor > 0 ? p50 / floor : 0);
    bu_result("msg_call_ratio", floor > 0 ? p50 / floor : 0);
    bu_line("%-40s %10.2fx the socket round trip", "  relay p50 / floor p50",
            floor > 0 ? relay / floor : 0);
    bu_line("%-40s %10.2fx the bare relay", "  call p50 / relay p50",
            relay > 0 ? p50 / relay : 0);
    bu_result("msg_relay_ratio", floor > 0 ? relay / floor : 0);
    bu_result("msg_call_relay_ratio", relay > 0 ? p50 / relay : 0);
    snprintf(t, sizeof t, "M3i call, socket and relay round trips in turn, CPU 0 (%zu)", n3);
    bu_line("%s", t);
    run_interleaved(n3);
    snprintf(t, sizeof t, "M3 call, 4 callers any CPU (4 x %zu)", n3 / 2);
    run_calls(t, "msg_call4", 4, n3 / 2, g_sock, g_sock, BU_ANY, BU_SAME);
    if (only)
        return 0;
fanout:

    /* a plain loop of roster_publish(..., recipients NULL): pipelined by the library */
    snprintf(t, sizeof t, "M4 publish to 10, 10 procs x 1 (%zu)", nf);
    run_flow(t, "msg_fan10", 1, nf, 10, 1, 1, g_sock, g_sock, BU_SAME, BU_OTHER);
    snprintf(t, sizeof t, "M4 publish to 100, 10 procs x 10 (%zu)", nf / 4);
    run_flow(t, "msg_fan100", 1, nf / 4, 10, 10, 1, g_sock, g_sock, BU_SAME, BU_OTHER);
    /* pipelined (ROSTER_PUBLISH_NOWAIT | NOFLUSH) with a credit window: no loss */
    g_window = FAN_WINDOW;
    snprintf(t, sizeof t, "M4w publish nowait to 10, credit (%zu)", nf);
    run_flow(t, "msg_fan10w", 1, nf, 10, 1, 1, g_sock, g_sock, BU_SAME, BU_OTHER);
    snprintf(t, sizeof t, "M4w publish nowait to 100, credit (%zu)", nf / 4);
    run_flow(t, "msg_fan100w", 1, nf / 4, 10, 10, 1, g_sock, g_sock, BU_SAME, BU_OTHER);
    /* the same with grouped events: one event per publish per receiver process */
    g_grouped = 1;
    snprintf(t, sizeof t, "M4g publish nowait to 100, grouped (%zu)", nf);
    run_flow(t, "msg_fan100g", 1, nf, 10, 10, 1, g_sock, g_sock, BU_SAME, BU_OTHER);
    g_grouped = 0;
    g_window = 0;
    if (only && strcmp(only, "fanout") == 0)
        return 0;

    /* M5: flow control against a slow receiver (issue 10 item 3) */
    size_t n5 = bu_count(1000000);
    g_work_ns = 5000;
    g_plain = 1;
    snprintf(t, sizeof t, "M5 5 us receiver, plain sends, s 1 r 0 (%zu)", n5);
    run_flow(t, "msg_slow5", 1, n5, 1, 1, 0, g_sock, g_sock, BU_OTHER, BU_SAME);
    g_send_flags = ROSTER_SEND_DROP;
    snprintf(t, sizeof t, "M5d same, sender chose dropping (%zu)", n5);
    run_flow(t, "msg_slow5d", 1, n5, 1, 1, 0, g_sock, g_sock, BU_OTHER, BU_SAME);
    g_send_flags = 0;
    g_plain = 0;
    g_work_ns = 0;
    return 0;
}

static int cmd_cross(void)
{
    const char *a = getenv("BENCH_MSG_SOCK_A"), *b = getenv("BENCH_MSG_SOCK_B");
    if (a == NULL || b == NULL)
        bu_die("BENCH_MSG_SOCK_A / BENCH_MSG_SOCK_B are not set");
    size_t n1 = bu_count(1000000), n3 = bu_count(10000);
    char t[200];
    bu_section("X. Messaging across two nodes on loopback TCP (node a on CPU 0 with the "
               "senders, node b on CPU 1 with the receivers)");
    snprintf(t, sizeof t, "X1 1 sender on a -> 1 receiver on b (%zu)", n1);
    run_flow(t, "msgx_tput1", 1, n1, 1, 1, 0, a, b, BU_SAME, BU_OTHER);
    g_window = 8 * ACK_EVERY;
    snprintf(t, sizeof t, "X1w same, credit window (%zu)", n1);
    run_flow(t, "msgx_tput1w", 1, n1, 1, 1, 0, a, b, BU_SAME, BU_OTHER);
    g_window = 0;
    g_work_ns = 5000;
    g_plain = 1;
    snprintf(t, sizeof t, "X5 5 us receiver on b, plain sends on a (%zu)", n1);
    run_flow(t, "msgx_slow5", 1, n1, 1, 1, 0, a, b, BU_SAME, BU_OTHER);
    g_plain = 0;
    g_work_ns = 0;
    snprintf(t, sizeof t, "X2 4 senders on a -> 1 receiver on b (4 x %zu)", n1 / 4);
    run_flow(t, "msgx_tput4", 4, n1 / 4, 1, 1, 0, a, b, BU_SAME, BU_OTHER);
    snprintf(t, sizeof t, "X3 call a -> b (%zu)", n3);
    run_calls(t, "msgx_call", 1, n3, a, b, BU_SAME, BU_OTHER);
    snprintf(t, sizeof t, "X3 call a -> b, 4 callers (4 x %zu)", n3 / 2);
    run_calls(t, "msgx_call4", 4, n3 / 2, a, b, BU_ANY, BU_OTHER);
    return 0;
}

/* --- report -------------------------------------------------------------------------------- */

/* lossy returns " (!)" when the figure of key "X_rate" lost messages (X_lost > 0). */
static const char *lossy(const char *key)
{
    size_t l = strlen(key);
    char k[96];
    double v;
    if (l < 5 || l >= sizeof k || strcmp(key + l - 5, "_rate") != 0)
        return "";
    snprintf(k, sizeof k, "%.*s_lost", (int)(l - 5), key);
    return bu_result_get(k, &v) == 0 && v > 0 ? " (!)" : "";
}

static void row(const char *label, const char *rkey, const char *nkey, const char *unit,
                const char *target)
{
    double r = 0, n = 0;
    int hr = bu_result_get(rkey, &r) == 0, hn = nkey && bu_result_get(nkey, &n) == 0;
    char rs[32] = "-", ns[32] = "-", ratio[32] = "";
    if (hr)
        snprintf(rs, sizeof rs, "%.*f %s%s", r < 100 ? 1 : 0, r, unit, lossy(rkey));
    if (hn)
        snprintf(ns, sizeof ns, "%.*f %s%s", n < 100 ? 1 : 0, n, unit, lossy(nkey));
    if (hr && hn && n > 0)
        snprintf(ratio, sizeof ratio, "%.2fx", r / n);
    printf("   %-30s %20s %20s %8s  %s\n", label, rs, ns, ratio, target);
}

static int cmd_report(void)
{
    printf("\n== Messaging summary: roster beside NATS (same machine, same run, same placement)\n");
    printf("   %-30s %20s %20s %8s  %s\n", "figure (64-byte payloads)", "roster", "NATS",
           "ratio", "target");
    row("socket round trip p50 (floor)", "msg_sock_p50_us", NULL, "us", "");
    row("bare relay round trip p50", "msg_relay_p50_us", NULL, "us", "");
    row("1 -> 1 (s CPU 1, r CPU 0)", "msg_tput1_rate", "nats_tput1_rate", "/s",
        ">= 1,000,000/s");
    row("1 -> 1 (s CPU 0, r CPU 1)", "msg_tput1b_rate", "nats_tput1b_rate", "/s", "");
    row("1 -> 1 (s CPU 1, r CPU 1)", "msg_tput1c_rate", "nats_tput1c_rate", "/s", "");
    row("1 -> 1 credit window (s 1, r 0)", "msg_tput1w_rate", NULL, "/s", "");
    row("1 -> 1 credit window (s 0, r 1)", "msg_tput1bw_rate", NULL, "/s", "");
    row("2 -> 1 (s CPU 1, r CPU 0)", "msg_tput2_rate", "nats_tput2_rate", "/s", "");
    row("4 -> 1 (s CPU 1, r CPU 0)", "msg_tput4_rate", "nats_tput4_rate", "/s", "");
    row("across 2 nodes, 1 -> 1", "msgx_tput1_rate", "natsx_tput1_rate", "/s",
        ">= 500,000/s");
    row("across 2 nodes, credit window", "msgx_tput1w_rate", NULL, "/s", "");
    row("across 2 nodes, 4 -> 1", "msgx_tput4_rate", "natsx_tput4_rate", "/s", "");
    row("call p50, same node", "msg_call_p50_us", "nats_call_p50_us", "us",
        "<= 1.3x floor");
    row("call p99, same node", "msg_call_p99_us", "nats_call_p99_us", "us", "");
    row("calls/s, 1 caller", "msg_call_rps", "nats_call_rps", "/s", "");
    row("calls/s, 4 callers", "msg_call4_rps", "nats_call4_rps", "/s", "");
    row("call p50, across nodes", "msgx_call_p50_us", "natsx_call_p50_us", "us", "");
    row("call p99, across nodes", "msgx_call_p99_us", "natsx_call_p99_us", "us", "");
    row("calls/s across nodes, 1 caller", "msgx_call_rps", "natsx_call_rps", "/s", "");
    row("calls/s across nodes, 4 callers", "msgx_call4_rps", "natsx_call4_rps", "/s", "");
    row("fan-out 10 plain loop, per member", "msg_fan10_rate", "nats_fan10_rate", "/s",
        ">= NATS");
    row("5 us receiver, plain sends", "msg_slow5_rate", NULL, "/s", "0 lost");
    row("5 us receiver, dropping sender", "msg_slow5d_rate", NULL, "/s", "(drops: chosen)");
    row("5 us receiver across nodes", "msgx_slow5_rate", NULL, "/s", "0 lost");
    row("fan-out 10 nowait+credit, per member", "msg_fan10w_rate", NULL, "/s", "");
    row("fan-out 100 nowait+credit, per member", "msg_fan100w_rate", NULL, "/s", ">= 100,000/s");
    row("fan-out 100, per member", "msg_fan100_rate", "nats_fan100_rate", "/s",
        ">= 100,000/s");
    row("fan-out 100 grouped events, per member", "msg_fan100g_rate", "nats_fan100_rate", "/s",
        ">= 100,000/s");
    double ratio;
    if (bu_result_get("msg_call_ratio", &ratio) == 0)
        printf("   call p50 / socket p50: %.2fx (target <= 1.3x: direct channel)\n", ratio);
    if (bu_result_get("msg_relay_ratio", &ratio) == 0)
        printf("   bare relay p50 / socket p50: %.2fx (the least any relaying node costs)\n",
               ratio);
    if (bu_result_get("msg_call_relay_ratio", &ratio) == 0)
        printf("   call p50 / bare relay p50: %.2fx\n", ratio);
    double ci, si, ri;
    if (bu_result_get("msg_calli_p50_us", &ci) == 0 && bu_result_get("msg_socki_p50_us", &si) == 0 &&
        bu_result_get("msg_relayi_p50_us", &ri) == 0 && si > 0 && ri > 0)
        printf("   interleaved (M3i): call %.1f us, socket %.1f us, relay %.1f us: call / socket "
               "%.2fx (target <= 1.3x), relay / socket %.2fx, call / relay %.2fx\n",
               ci, si, ri, ci / si, ri / si, ci / ri);
    static const char *const lost[] = {
        "msg_tput1",  "msg_tput1b",  "msg_tput1c",  "msg_tput1w",  "msg_tput1bw",
        "msgx_tput1w", "msgx_tput4", "msg_tput2",  "msg_tput4",
        "msgx_tput1", "msg_fan10",   "msg_fan100",  "msg_fan10w", "msg_fan100w", "msg_fan100g",
        "msg_slow5",  "msgx_slow5", "nats_tput1",  "nats_tput1b",
        "nats_tput1c", "nats_tput2", "nats_tput4",  "natsx_tput1", "natsx_tput4", "nats_fan10",
        "nats_fan100"};
    int any = 0;
    for (size_t i = 0; i < sizeof lost / sizeof lost[0]; i++) {
        char k[64];
        double v;
        snprintf(k, sizeof k, "%s_lost", lost[i]);
        if (bu_result_get(k, &v) == 0 && v > 0) {
            printf("   lost messages in %s: %.0f\n", lost[i], v);
            any = 1;
        }
    }
    double d5;
    if (bu_result_get("msg_slow5d_lost", &d5) == 0)
        printf("   M5d (a sender that chose ROSTER_SEND_DROP) dropped %.0f: dropping is an "
               "explicit choice, counted in messages_dropped\n", d5);
    if (!any)
        printf("   no message lost in any figure (flow control is the default)\n");
    else
        printf("   (!): messages lost; the rate counts only delivered messages\n");
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "single") == 0)
        return cmd_single();
    if (argc == 2 && strcmp(argv[1], "cross") == 0)
        return cmd_cross();
    if (argc == 2 && strcmp(argv[1], "report") == 0)
        return cmd_report();
    fprintf(stderr, "usage: bench_msg single|cross|report\n");
    return 2;
}

