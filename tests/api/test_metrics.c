/* test_metrics.c: rosterd --http serves Prometheus text at /metrics. The test drives real
 * traffic through libroster, scrapes over plain HTTP, and parses every line with a small
 * parser of the text format 0.0.4: each line a comment or a valid sample, HELP and TYPE
 * before a family's samples, every family seen once, histogram buckets cumulative and
 * +Inf equal to _count. Then it checks that the numbers moved as the traffic says. Also:
 * the flag's refusals, a port in use, unknown paths, and that the formatter (a pure
 * function) escapes label values. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "node/metrics.h"
#include "roster.h"
#include "http.h"
#include "test.h"

/* --- a loopback HTTP GET ---------------------------------------------------------------- */

/* wait_http polls until the server answers (deadline 10 s). */
static void wait_http(int port)
{
    static char buf[1 << 20];
    uint64_t deadline = test_now_ms() + 10000;
    while (http_get(port, "/metrics", buf, sizeof buf) != 200) {
        ASSERT(test_now_ms() < deadline);
        usleep(20000);
    }
}

/* --- the text format parser --------------------------------------------------------------- */

#define SAMPLES_MAX 4096
#define FAMILIES_MAX 256

struct sample {
    char name[128];
    char labels[512]; /* as written between the braces, escapes kept */
    double value;
};

struct family {
    char name[128];
    char type[16];
    int help, samples;
};

struct scrape {
    struct sample s[SAMPLES_MAX];
    size_t n;
    struct family f[FAMILIES_MAX];
    size_t nf;
};

static int name_ok(const char *p, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)p[0]) || p[0] == '_' || p[0] == ':'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)p[i]) || p[i] == '_' || p[i] == ':'))
            return 0;
    return 1;
}

static struct family *family(struct scrape *sc, const char *name)
{
    for (size_t i = 0; i < sc->nf; i++)
        if (!strcmp(sc->f[i].name, name))
            return &sc->f[i];
    return NULL;
}

/* family_of maps a sample name to its family (histogram suffixes stripped when the
 * family so declared exists). */
static struct family *family_of(struct scrape *sc, const char *sample)
{
    struct family *f = family(sc, sample);
    if (f)
        return f;
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(sample), m = strlen(sfx[k]);
        if (n > m && !strcmp(sample + n - m, sfx[k])) {
            char base[128];
            snprintf(base, sizeof base, "%.*s", (int)(n - m), sample);
            f = family(sc, base);
            if (f && !strcmp(f->type, "histogram"))
                return f;
        }
    }
    return NULL;
}

/* parse_labels checks {name="value",...} at p; returns the byte after '}' or NULL. */
static const char *parse_labels(const char *p, char *out, size_t cap)
{
    const char *start = ++p;
    for (;;) {
        const char *n0 = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        if (p == n0 || !name_ok(n0, (size_t)(p - n0)) || *p++ != '=' || *p++ != '"')
            return NULL;
        while (*p != '"') {
            if (!*p || *p == '\n')
                return NULL;
            if (*p == '\\') {
                p++;
                if (*p != '\\' && *p != '"' && *p != 'n')
                    return NULL;
            }
            p++;
        }
        p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '}')
            return NULL;
        snprintf(out, cap, "%.*s", (int)(p - start), start);
        return p + 1;
    }
}

/* parse checks the whole text and fills *sc; fails the test at the first bad line. */
static void parse(char *text, struct scrape *sc)
{
    memset(sc, 0, sizeof *sc);
    int lineno = 0;
    ASSERT(text[0] && text[strlen(text) - 1] == '\n');
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lineno++;
        if (line[0] == '#') {
            char kind[8], name[128], rest[256];
            int k = sscanf(line, "# %7s %127s %255[^\n]", kind, name, rest);
            if (k < 3 || (strcmp(kind, "HELP") && strcmp(kind, "TYPE")))
                test_fail(__FILE__, __LINE__, "line %d: bad comment: %s", lineno, line);
            ASSERT(name_ok(name, strlen(name)));
            struct family *f = family(sc, name);
            if (!f) {
                ASSERT(sc->nf < FAMILIES_MAX);
                f = &sc->f[sc->nf++];
                snprintf(f->name, sizeof f->name, "%s", name);
            }
            if (f->samples)
                test_fail(__FILE__, __LINE__, "line %d: %s after samples of %s", lineno, kind,
                          name);
            if (!strcmp(kind, "HELP")) {
                ASSERT(!f->help);
                f->help = 1;
            } else {
                ASSERT(!f->type[0]);
                ASSERT(!strcmp(rest, "counter") || !strcmp(rest, "gauge") ||
                       !strcmp(rest, "histogram") || !strcmp(rest, "summary") ||
                       !strcmp(rest, "untyped"));
                snprintf(f->type, sizeof f->type, "%.15s", rest);
            }
            continue;
        }
        ASSERT(sc->n < SAMPLES_MAX);
        struct sample *s = &sc->s[sc->n++];
        const char *p = line;
        while (*p && *p != '{' && *p != ' ')
            p++;
        if (!name_ok(line, (size_t)(p - line)))
            test_fail(__FILE__, __LINE__, "line %d: bad metric name: %s", lineno, line);
        snprintf(s->name, sizeof s->name, "%.*s", (int)(p - line), line);
        if (*p == '{' && !(p = parse_labels(p, s->labels, sizeof s->labels)))
            test_fail(__FILE__, __LINE__, "line %d: bad labels: %s", lineno, line);
        if (*p++ != ' ')
            test_fail(__FILE__, __LINE__, "line %d: no value: %s", lineno, line);
        char *end;
        s->value = strtod(p, &end);
        if (end == p || (*end && *end != ' '))
            test_fail(__FILE__, __LINE__, "line %d: bad value: %s", lineno, line);
        struct family *f = family_of(sc, s->name);
        if (!f || !f->help || !f->type[0])
            test_fail(__FILE__, __LINE__, "line %d: sample before its HELP and TYPE: %s",
                      lineno, line);
        if (!strcmp(f->type, "counter"))
            ASSERT(s->value >= 0);
        f->samples++;
    }
    /* A family's samples are together: no family declared twice (checked above by the
     * HELP/TYPE-once rule); every counter is named _total. */
    for (size_t i = 0; i < sc->nf; i++) {
        const struct family *f = &sc->f[i];
        ASSERT(strncmp(f->name, "roster_", 7) == 0);
        if (!strcmp(f->type, "counter")) {
            size_t n = strlen(f->name);
            ASSERT(n > 6 && !strcmp(f->name + n - 6, "_total"));
        }
    }
}

/* check_histograms: per label set (without le), buckets non-decreasing in le order and
 * +Inf == _count. */
static void check_histograms(const struct scrape *sc)
{
    for (size_t i = 0; i < sc->n; i++) {
        const struct sample *c = &sc->s[i];
        size_t nl = strlen(c->name);
        if (nl < 6 || strcmp(c->name + nl - 6, "_count"))
            continue;
        char base[128];
        snprintf(base, sizeof base, "%.*s_bucket", (int)(nl - 6), c->name);
        double prev = -1, prev_le = -1, inf = -1;
        int buckets = 0;
        for (size_t j = 0; j < sc->n; j++) {
            const struct sample *b = &sc->s[j];
            if (strcmp(b->name, base))
                continue;
            /* same labels besides le: ours put le last */
            const char *le = strstr(b->labels, "le=\"");
            ASSERT(le);
            size_t pre = (size_t)(le - b->labels);
            if (pre ? (strncmp(b->labels, c->labels, pre - 1) || strlen(c->labels) != pre - 1)
                    : c->labels[0] != 0)
                continue;
            buckets++;
            double bound = !strncmp(le + 4, "+Inf", 4) ? 1e300 : strtod(le + 4, NULL);
            ASSERT(bound > prev_le);
            ASSERT(b->value >= prev);
            prev_le = bound;
            prev = b->value;
            if (bound == 1e300)
                inf = b->value;
        }
        ASSERT(buckets >= 2);
        ASSERT(inf == c->value);
    }
}

static double value(const struct scrape *sc, const char *name, const char *labels)
{
    for (size_t i = 0; i < sc->n; i++)
        if (!strcmp(sc->s[i].name, name) && !strcmp(sc->s[i].labels, labels))
            return sc->s[i].value;
    test_fail(__FILE__, __LINE__, "no sample %s{%s}", name, labels);
}

static void scrape(int port, struct scrape *sc)
{
    static char buf[1 << 20];
    ASSERT_EQ(http_get(port, "/metrics", buf, sizeof buf), 200);
    parse(buf, sc);
    check_histograms(sc);
}

/* --- tests ------------------------------------------------------------------------------ */

static void start_http(struct test_node *n, int *port)
{
    char addr[64];
    *port = http_free_port();
    snprintf(addr, sizeof addr, "127.0.0.1:%d", *port);
    const char *args[] = {"--name", "m1", "--http", addr, "--queue-bytes", "65536", NULL};
    test_node_start(n, args);
    wait_http(*port);
}

static roster_client *client(const struct test_node *n)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n->sock;
    o.client_name = "metrics-test";
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), 0);
    return c;
}

static void test_scrape_parses_and_moves(void)
{
    struct test_node n;
    int port;
    start_http(&n, &port);
    static struct scrape a, b;
    scrape(port, &a);
    ASSERT_EQ(value(&a, "roster_scope_names", "scope=\"default\""), 0);
    ASSERT_EQ(value(&a, "roster_clients", ""), 0);
    ASSERT_EQ(value(&a, "roster_build_info", "node=\"m1\",version=\"0.5.0\""), 1);

    roster_client *c = client(&n);
    roster_client *w = client(&n);
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(w, "default", "", 0, ROSTER_SUB_REGISTRY | ROSTER_SUB_ALL, &sub,
                               5000), 0);
    roster_pid self = roster_self(c);
    for (int i = 0; i < 25; i++) {
        char nm[32];
        int len = snprintf(nm, sizeof nm, "svc-%d", i);
        ASSERT_EQ(roster_register(c, "default", nm, (size_t)len, self, NULL, 0, NULL, 5000), 0);
    }
    ASSERT_EQ(roster_join(c, "default", "g1", 2, self, NULL, 0, 5000), 0);
    ASSERT_EQ(roster_join(c, "default", "g2", 2, self, NULL, 0, 5000), 0);
    ASSERT_EQ(roster_scope_create(c, "other", ROSTER_SCOPE_EVENTUAL, 5000), 0);
    ASSERT_EQ(roster_register(c, "other", "x", 1, self, NULL, 0, NULL, 5000), 0);

    scrape(port, &b);
    ASSERT_EQ(value(&b, "roster_scope_names", "scope=\"default\""), 25);
    ASSERT_EQ(value(&b, "roster_scope_groups", "scope=\"default\""), 2);
    ASSERT_EQ(value(&b, "roster_scope_members", "scope=\"default\""), 2);
    ASSERT_EQ(value(&b, "roster_scope_names", "scope=\"other\""), 1);
    ASSERT_EQ(value(&b, "roster_scope_subscriptions", "scope=\"default\""), 1);
    ASSERT_EQ(value(&b, "roster_clients", ""), 2);
    ASSERT_EQ(value(&b, "roster_subscriptions", ""), 1);
    ASSERT_EQ(value(&b, "roster_requests_total", "type=\"register\""), 26);
    /* one request in 16 of each type is timed: the 1st and the 17th of the 26 */
    ASSERT_EQ(value(&b, "roster_request_duration_seconds_count", "type=\"register\""), 2);
    ASSERT_EQ(value(&b, "roster_request_duration_seconds_bucket",
                    "type=\"register\",le=\"+Inf\""), 2);
    ASSERT(value(&b, "roster_request_duration_seconds_sum", "type=\"register\"") > 0);
    ASSERT_EQ(value(&b, "roster_requests_total", "type=\"join\""), 2);
    /* one registry event per name of the default scope, to the one subscriber */
    ASSERT_EQ(value(&b, "roster_events_sent_total", ""), 25);
    ASSERT(value(&b, "roster_uptime_seconds", "") >= value(&a, "roster_uptime_seconds", ""));
    /* access, memory and fairness: no rules, no ceiling, the allocator's bytes counted */
    ASSERT_EQ(value(&b, "roster_acl_rules", ""), 0);
    ASSERT_EQ(value(&b, "roster_acl_refusals_total", ""), 0);
    ASSERT(value(&b, "roster_memory_bytes", "") > value(&a, "roster_memory_bytes", ""));
    ASSERT_EQ(value(&b, "roster_memory_max_bytes", ""), 0);
    ASSERT_EQ(value(&b, "roster_memory_refusals_total", ""), 0);
    ASSERT(value(&b, "roster_fair_deferred_total", "") >= 0);
    ASSERT_EQ(value(&b, "roster_fair_throttled_total", ""), 0);
    roster_close(w);
    roster_close(c);
    test_node_stop_ok(&n);
}

/* A subscriber that never reads overflows (queue-bytes 64 KiB): counted. Messages to a
 * pid are counted delivered. */
static void test_overflow_and_messages(void)
{
    struct test_node n;
    int port;
    start_http(&n, &port);
    roster_client *c = client(&n);
    roster_client *w = client(&n);
    uint64_t sub;
    ASSERT_EQ(roster_subscribe(w, "default", "", 0, ROSTER_SUB_REGISTRY | ROSTER_SUB_ALL, &sub,
                               5000), 0);
    roster_pid self = roster_self(c);
    static char meta[8192];
    memset(meta, 'm', sizeof meta);
    static struct scrape s;
    uint64_t deadline = test_now_ms() + 20000;
    for (int i = 0;; i++) {
        char nm[32];
        int len = snprintf(nm, sizeof nm, "big-%d", i);
        ASSERT_EQ(roster_register(c, "default", nm, (size_t)len, self, meta, sizeof meta, NULL,
                                  5000), 0);
        if (i % 16 == 15) {
            scrape(port, &s);
            if (value(&s, "roster_subscription_overflows_total", "") == 1)
                break;
        }
        ASSERT(test_now_ms() < deadline);
    }
    ASSERT_EQ(value(&s, "roster_subscriptions", ""), 0);
    ASSERT(value(&s, "roster_client_unread_bytes", "") > 0);
    roster_pid to = roster_self(w);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(roster_send(c, self, to, "hi", 2, 0, 5000), 0);
    deadline = test_now_ms() + 10000;
    do {
        scrape(port, &s);
        ASSERT(test_now_ms() < deadline);
    } while (value(&s, "roster_messages_delivered_total", "") < 3);
    ASSERT_EQ(value(&s, "roster_messages_delivered_total", ""), 3);
    roster_close(w);
    roster_close(c);
    test_node_stop_ok(&n);
}

static void test_paths_and_refusals(void)
{
    struct test_node n;
    int port;
    start_http(&n, &port);
    static char buf[1 << 16];
    ASSERT_EQ(http_get(port, "/nope", buf, sizeof buf), 404);
    ASSERT_EQ(http_get(port, "/metrics?x=1", buf, sizeof buf), 200);
    /* a second node on the same port cannot start: exit 1, with the reason logged */
    char addr[64], out[4096];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    char sock[400];
    snprintf(sock, sizeof sock, "%s/second.sock", n.dir);
    const char *argv[] = {ROSTERD_PATH, "--socket", sock, "--http", addr, NULL};
    int st = test_run_cmd(argv, out, sizeof out);
    ASSERT_EQ(st, 1);
    test_node_stop_ok(&n);
    const char *bad[][2] = {{"--http", "nohost"}, {"--http", "127.0.0.1:0"},
                            {"--http", "127.0.0.1:70000"}, {"--http", ":9100"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *av[] = {ROSTERD_PATH, bad[i][0], bad[i][1], NULL};
        st = test_run_cmd(av, out, sizeof out);
        ASSERT_EQ(st, 2);
    }
}

/* The formatter alone: label values escaped, every family parses. */
static void test_format_escapes(void)
{
    static struct rs_metrics_snap s;
    memset(&s, 0, sizeof s);
    snprintf(s.node, sizeof s.node, "n\"1\\");
    struct rs_metrics_scope sc[2] = {{.names = 3}, {.names = 4}};
    snprintf(sc[0].name, sizeof sc[0].name, "we\"ird\\sc\nope");
    snprintf(sc[1].name, sizeof sc[1].name, "ctl\x01");
    s.scopes = sc;
    s.n_scopes = 2;
    struct rs_metrics_peer pe = {.state = ROSTER_NODE_UP, .rtt_ms = 2, .ups = 3, .unread = 7};
    snprintf(pe.name, sizeof pe.name, "b");
    s.peers = &pe;
    s.n_peers = 1;
    s.req[5].count = 40;
    s.req[5].timed = 2;
    s.req[5].sum_ns = 3000;
    s.req[5].b[0] = 1;
    s.req[5].b[3] = 1;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ASSERT_EQ(rs_metrics_format(&s, f), 0);
    fclose(f);
    ASSERT(strstr(text, "roster_scope_names{scope=\"we\\\"ird\\\\sc\\nope\"} 3\n"));
    ASSERT(strstr(text, "roster_scope_names{scope=\"ctl?\"} 4\n"));
    ASSERT(strstr(text, "roster_build_info{node=\"n\\\"1\\\\\",version="));
    ASSERT(strstr(text, "roster_peer_state{peer=\"b\",state=\"up\"} 1\n"));
    ASSERT(strstr(text, "roster_peer_state{peer=\"b\",state=\"down\"} 0\n"));
    ASSERT(strstr(text, "roster_peer_reconnects_total{peer=\"b\"} 2\n"));
    ASSERT(strstr(text, "roster_peer_rtt_seconds{peer=\"b\"} 0.002000000\n"));
    ASSERT(strstr(text, "roster_peer_unread_bytes{peer=\"b\"} 7\n"));
    static struct scrape p;
    parse(text, &p);
    check_histograms(&p);
    free(text);
}

TEST_MAIN(T(test_scrape_parses_and_moves), T(test_overflow_and_messages),
          T(test_paths_and_refusals), T(test_format_escapes))
