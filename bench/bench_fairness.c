/* bench_fairness.c: fairness under floods (issue 12 item 5, docs/PERFORMANCE.md). Starts its
 * own rosterd (next to this program, or $ROSTERD; arguments after "--" go to it), then
 * measures one client's synchronous lookup latency over the socket (no shared memory: the
 * node must answer) while idle, and while another client floods the node at full speed with
 * pipelined raw frames that it never waits on:
 *   register:  REGISTER + UNREGISTER pairs of fresh names,
 *   messages:  SEND (no confirm) of 64-byte messages to its own pid (delivered to it),
 *   subscribe: SUBSCRIBE with a snapshot of 11 names, each answered with 12 events.
 * The flooder drains its replies on a second thread (else the node would cut it off at
 * outbuf-bytes). Prints p50 / p99 / p999 per phase, the flood's request rate and the
 * p99 ratio flood / idle (target: at most 5). Usage:
 *   bench_fairness [SECONDS_PER_PHASE] [-- rosterd flags...]
 */
#include "bench_util.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/un.h>

/* --- a minimal frame writer ------------------------------------------------------------
 * Programs on libroster see only roster.h, and libroster has no "write requests without
 * waiting on them" call for every kind, so the flooder writes frames itself, in the format
 * of docs/PROTOCOL.md (wire version 4): [len u32][type u8][flags u8][0 u16][req_id u32]
 * then the request's fields in field order, integers little-endian. */
#define W_VERSION 4u
#define W_MAGIC 0x52535452u
enum { T_HELLO = 1, T_REGISTER = 7, T_UNREGISTER = 8, T_SUBSCRIBE = 17, T_SEND = 27 };

struct wbuf {
    uint8_t *p;
    size_t len, cap;
};

static void w_bytes(struct wbuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            bu_die("out of memory");
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void w_u16(struct wbuf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    w_bytes(b, x, 2);
}

static void w_u32(struct wbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    w_bytes(b, x, 4);
}

static void w_u64(struct wbuf *b, uint64_t v)
{
    w_u32(b, (uint32_t)v);
    w_u32(b, (uint32_t)(v >> 32));
}

/* w_begin starts a frame; w_end patches its length. */
static size_t w_begin(struct wbuf *b, uint8_t type, uint32_t req_id)
{
    size_t at = b->len;
    w_u32(b, 0);
    uint8_t h[4] = {type, 0, 0, 0};
    w_bytes(b, h, 4);
    w_u32(b, req_id);
    return at;
}

static void w_end(struct wbuf *b, size_t at)
{
    uint32_t len = (uint32_t)(b->len - at - 4);
    uint8_t x[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    memcpy(b->p + at, x, 4);
}

static uint64_t r_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static char sock_path[108];
static pid_t daemon_pid;

static void start_daemon(int argc, char **argv, int first_extra)
{
    static char exe[PATH_MAX], dir[PATH_MAX + 16];
    const char *rosterd = getenv("ROSTERD");
    if (!rosterd) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            bu_die("readlink /proc/self/exe");
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        *slash = 0;
        snprintf(dir, sizeof dir, "%s/rosterd", exe);
        rosterd = dir;
    }
    snprintf(sock_path, sizeof sock_path, "/tmp/bench-fair-%d.sock", (int)getpid());
    char *args[64];
    int k = 0;
    args[k++] = (char *)rosterd;
    args[k++] = "--config";
    args[k++] = "/dev/null";
    args[k++] = "--socket";
    args[k++] = sock_path;
    args[k++] = "--log-level";
    args[k++] = "warn";
    args[k++] = "--max-subscriptions-per-client";
    args[k++] = "4000000000";
    for (int i = first_extra; i < argc && k < 62; i++)
        args[k++] = argv[i];
    args[k] = NULL;
    daemon_pid = fork();
    if (daemon_pid == 0) {
        execv(rosterd, args);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* up to 5 s for the socket */
        if (access(sock_path, F_OK) == 0)
            return;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    bu_die("rosterd did not start (%s)", rosterd);
}

static void stop_daemon(void)
{
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        waitpid(daemon_pid, NULL, 0);
        daemon_pid = 0;
    }
}

/* --- the flooder: raw frames, pipelined without waiting ------------------------------ */

enum flood { F_REGISTER, F_MESSAGES, F_SUBSCRIBE };
static const char *const flood_name[] = {"register", "messages", "subscribe"};

static volatile uint64_t drained;

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    static char buf[1 << 16];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0)
            return NULL;
        drained += (uint64_t)r;
    }
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            _exit(0); /* the node went away or closed us: the phase is over */
        p += w;
        n -= (size_t)w;
    }
}

/* flooder runs in a child until killed; it reports requests written through out_fd. */
static void flooder(enum flood kind, int out_fd)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        _exit(2);
    struct wbuf b = {0};
    /* HELLO: OPTS version, ARG magic, KEY client name */
    size_t at = w_begin(&b, T_HELLO, 1);
    w_u32(&b, W_VERSION);
    w_u64(&b, W_MAGIC);
    w_u32(&b, 5);
    w_bytes(&b, "flood", 5);
    w_end(&b, at);
    send_all(fd, b.p, b.len);
    /* its reply: STATUS i32, OPTS u32, ARG u64, ARG2 u64, PID: the first pid */
    uint8_t rep[4096];
    size_t got = 0;
    while (got < 4 || got < 4 + (size_t)(rep[0] | rep[1] << 8 | rep[2] << 16)) {
        ssize_t r = read(fd, rep + got, sizeof rep - got);
        if (r <= 0)
            _exit(3);
        got += (size_t)r;
    }
    if (rep[12] | rep[13] | rep[14] | rep[15]) /* status */
        _exit(4);
    uint64_t self_inc = r_u64(rep + 36), self_serial = r_u64(rep + 44);
    pthread_t t;
    pthread_create(&t, NULL, drain, &fd);
    uint64_t reqs = 0, batch_no = 0;
    char name[64], meta[64];
    memset(meta, 'x', sizeof meta);
    for (;;) {
        b.len = 0;
        size_t per = 0;
        for (uint32_t i = 0; i < 256; i++) {
            if (kind == F_REGISTER) {
                int nl =
                    snprintf(name, sizeof name, "flood/%llu/%u", (unsigned long long)batch_no, i);
                /* REGISTER: PID, SCOPE, KEY, META */
                at = w_begin(&b, T_REGISTER, i + 2);
                w_u64(&b, self_inc);
                w_u64(&b, self_serial);
                w_u16(&b, 0);
                w_u32(&b, (uint32_t)nl);
                w_bytes(&b, name, (size_t)nl);
                w_u32(&b, 0);
                w_end(&b, at);
                /* UNREGISTER: SCOPE, KEY */
                at = w_begin(&b, T_UNREGISTER, i + 2);
                w_u16(&b, 0);
                w_u32(&b, (uint32_t)nl);
                w_bytes(&b, name, (size_t)nl);
                w_end(&b, at);
                per += 2;
            } else if (kind == F_MESSAGES) {
                /* SEND: OPTS, ARG from, PID to, SCOPE, KEY, META payload */
                at = w_begin(&b, T_SEND, i + 2);
                w_u32(&b, 0);
                w_u64(&b, self_serial);
                w_u64(&b, self_inc);
                w_u64(&b, self_serial);
                w_u16(&b, 0);
                w_u32(&b, 0);
                w_u32(&b, sizeof meta);
                w_bytes(&b, meta, sizeof meta);
                w_end(&b, at);
                per++;
            } else {
                /* SUBSCRIBE: OPTS flags, ARG from-revision, SCOPE, KEY pattern */
                at = w_begin(&b, T_SUBSCRIBE, i + 2);
                w_u32(&b, ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT);
                w_u64(&b, 0);
                w_u16(&b, 0);
                w_u32(&b, 7);
                w_bytes(&b, "fixed/9", 7); /* fixed/9, fixed/90..99 */
                w_end(&b, at);
                per++;
            }
        }
        send_all(fd, b.p, b.len);
        reqs += per;
        batch_no++;
        if ((batch_no & 15) == 0 && write(out_fd, &reqs, sizeof reqs) != sizeof reqs)
            _exit(0);
    }
}

/* --- the measured client -------------------------------------------------------------- */

static roster_client *connect_socket_only(void)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock_path;
    o.no_shm = 1;
    roster_client *c = NULL;
    bu_check(NULL, "roster_connect", roster_connect(&c, &o));
    return c;
}

/* node_requests reads the node's count of client frames handled. */
static uint64_t node_requests(roster_client *c)
{
    roster_stats st;
    bu_check(c, "roster_status", roster_status(c, &st, BU_TIMEOUT_MS));
    uint64_t v = 0;
    for (size_t i = 0; i < st.n; i++)
        if (!strcmp(st.items[i].key, "requests"))
            v = st.items[i].value;
    roster_stats_free(&st);
    return v;
}

/* measure runs lookups for ms milliseconds; fills lat. */
static size_t measure(roster_client *c, int ms, bu_lat *lat)
{
    lat->n = 0;
    uint64_t end = bu_now_ns() + (uint64_t)ms * 1000000ull;
    roster_entry e;
    size_t n = 0;
    while (bu_now_ns() < end) {
        uint64_t a = bu_now_ns();
        int rc = roster_lookup(c, NULL, "fixed/0", 7, &e, BU_TIMEOUT_MS);
        uint64_t d = bu_now_ns() - a;
        bu_check(c, "roster_lookup", rc);
        roster_entry_free(&e);
        bu_lat_add(lat, d);
        n++;
    }
    bu_lat_sort(lat);
    return n;
}

int main(int argc, char **argv)
{
    int secs = 5;
    int extra = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            extra = i + 1;
            break;
        }
        secs = atoi(argv[i]);
    }
    if (secs <= 0)
        secs = 5;
    if (bu_quick())
        secs = 1;
    signal(SIGPIPE, SIG_IGN);
    start_daemon(argc, argv, extra);
    bu_section("Fairness: lookup latency of one client while another floods");
    bu_line("rosterd flags after the defaults:%s", extra < argc ? "" : " (none)");
    for (int i = extra; i < argc; i++)
        bu_line("  %s", argv[i]);
    /* 100 names the subscribe flood's snapshots carry, and the looked-up one */
    roster_client *owner = connect_socket_only();
    for (int i = 0; i < 100; i++) {
        char name[32];
        int nl = snprintf(name, sizeof name, "fixed/%d", i);
        bu_check(owner, "roster_register",
                 roster_register(owner, NULL, name, (size_t)nl, roster_self(owner), "meta", 4, NULL,
                                 BU_TIMEOUT_MS));
    }
    roster_client *c = connect_socket_only();
    bu_lat lat;
    bu_lat_init(&lat, 10000000);
    measure(c, 300, &lat); /* warm-up */
    size_t n = measure(c, secs * 1000, &lat);
    double idle99 = bu_pct_us(&lat, 0.99);
    bu_line("%-10s %9zu lookups  p50 %7.1f us  p99 %7.1f us  p999 %8.1f us", "idle", n,
            bu_pct_us(&lat, 0.50), idle99, bu_pct_us(&lat, 0.999));
    bu_result("fair_idle_p99_us", idle99);
    double worst = 0;
    for (int k = 0; k < 3; k++) {
        int pfd[2];
        if (pipe(pfd) != 0)
            bu_die("pipe");
        fflush(stdout);
        pid_t fl = fork();
        if (fl == 0) {
            close(pfd[0]);
            flooder((enum flood)k, pfd[1]);
            _exit(0);
        }
        close(pfd[1]);
        fcntl(pfd[0], F_SETFL, O_NONBLOCK);
        struct timespec ts = {0, 300000000}; /* let the flood get going */
        nanosleep(&ts, NULL);
        uint64_t r0 = 0, r1 = 0, v;
        while (read(pfd[0], &v, sizeof v) == sizeof v)
            r0 = v;
        uint64_t q0 = node_requests(c);
        uint64_t t0 = bu_now_ns();
        n = measure(c, secs * 1000, &lat);
        uint64_t t1 = bu_now_ns();
        uint64_t q1 = node_requests(c);
        r1 = r0;
        while (read(pfd[0], &v, sizeof v) == sizeof v)
            r1 = v;
        kill(fl, SIGKILL);
        waitpid(fl, NULL, 0);
        close(pfd[0]);
        double p99 = bu_pct_us(&lat, 0.99);
        char key[64];
        (void)r1;
        /* the flood's requests the node applied (its count, less the lookups and the
         * second status of this client) */
        double rate = (double)(q1 - q0 - n - 1) / ((double)(t1 - t0) / 1e9);
        bu_line("%-10s %9zu lookups  p50 %7.1f us  p99 %7.1f us  p999 %8.1f us   flood %.0f "
                "req/s applied   p99 x%.2f",
                flood_name[k], n, bu_pct_us(&lat, 0.50), p99, bu_pct_us(&lat, 0.999), rate,
                idle99 > 0 ? p99 / idle99 : 0);
        snprintf(key, sizeof key, "fair_%s_flood_rps", flood_name[k]);
        bu_result(key, rate);
        snprintf(key, sizeof key, "fair_%s_p99_us", flood_name[k]);
        bu_result(key, p99);
        if (idle99 > 0 && p99 / idle99 > worst)
            worst = p99 / idle99;
    }
    bu_line("worst p99 flood / idle: x%.2f (target <= 5)", worst);
    bu_result("fair_worst_ratio", worst);
    roster_close(c);
    roster_close(owner);
    stop_daemon();
    unlink(sock_path);
    bu_lat_free(&lat);
    return 0;
}
