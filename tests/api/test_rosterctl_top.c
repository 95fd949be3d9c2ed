/* test_rosterctl_top.c: `rosterctl top`. --once prints one frame of the node's state
 * (nodes, per-scope counts, rates, biggest groups first) and exits; --once --json prints
 * it as one JSON object; without --once the frame is redrawn in place with ANSI codes
 * until the process is stopped. The state is built by the test through libroster. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonv.h"
#include "node.h"
#include "roster.h"
#include "test.h"

static roster_client *client(const struct test_node *n)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n->sock;
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), 0);
    return c;
}

/* populate: group "big" with 5 members, "mid" with 3, "small" with 1; 4 names; a scope
 * "other" with 2 names. */
static roster_client *populate(const struct test_node *n)
{
    roster_client *c = client(n);
    const struct {
        const char *g;
        int members;
    } groups[] = {{"small", 1}, {"big", 5}, {"mid", 3}};
    for (size_t k = 0; k < 3; k++)
        for (int i = 0; i < groups[k].members; i++) {
            roster_pid p;
            ASSERT_EQ(roster_pid_new(c, &p, 5000), 0);
            ASSERT_EQ(roster_join(c, "default", groups[k].g, strlen(groups[k].g), p, NULL, 0,
                                  5000), 0);
        }
    roster_pid self = roster_self(c);
    for (int i = 0; i < 4; i++) {
        char nm[16];
        int len = snprintf(nm, sizeof nm, "n%d", i);
        ASSERT_EQ(roster_register(c, "default", nm, (size_t)len, self, NULL, 0, NULL, 5000), 0);
    }
    ASSERT_EQ(roster_scope_create(c, "other", ROSTER_SCOPE_EVENTUAL, 5000), 0);
    ASSERT_EQ(roster_register(c, "other", "x", 1, self, NULL, 0, NULL, 5000), 0);
    ASSERT_EQ(roster_register(c, "other", "y", 1, self, NULL, 0, NULL, 5000), 0);
    return c;
}

static void test_once_text(void)
{
    struct test_node n;
    const char *args[] = {"--name", "topnode", NULL};
    test_node_start(&n, args);
    roster_client *c = populate(&n);
    static char out[65536];
    const char *av[] = {ROSTERCTL_PATH, "--socket", n.sock, "top", "--once", "--interval",
                        "100", "--limit", "2", NULL};
    ASSERT_EQ(test_run_cmd(av, out, sizeof out), 0);
    ASSERT(!strchr(out, '\033')); /* no terminal codes in --once */
    ASSERT(strstr(out, "roster top - node topnode"));
    ASSERT(strstr(out, "NODES (1)"));
    ASSERT(strstr(out, "topnode"));
    ASSERT(strstr(out, "up (self)"));
    ASSERT(strstr(out, "SCOPES (2)"));
    ASSERT(strstr(out, "BIGGEST GROUPS of scope default (3 groups)"));
    /* biggest first, cut at --limit 2 */
    char *big = strstr(out, "         5  big\n"), *mid = strstr(out, "         3  mid\n");
    ASSERT(big && mid && big < mid);
    ASSERT(!strstr(out, "  small\n"));
    ASSERT(strstr(out, "requests/s "));
    roster_close(c);
    test_node_stop_ok(&n);
}

/* find_u64 reads "key":N in a JSON text after position from. */
static long long find_num(const char *text, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(text, k);
    ASSERT(p);
    return strtoll(p + strlen(k), NULL, 10);
}

static void test_once_json(void)
{
    struct test_node n;
    const char *args[] = {"--name", "topnode", NULL};
    test_node_start(&n, args);
    roster_client *c = populate(&n);
    static char out[65536];
    const char *av[] = {ROSTERCTL_PATH, "--socket", n.sock, "--json", "top", "--once",
                        "--interval", "100", NULL};
    ASSERT_EQ(test_run_cmd(av, out, sizeof out), 0);
    ASSERT_EQ(json_check_lines(__FILE__, __LINE__, out), 1);
    ASSERT(strstr(out, "{\"node\":\"topnode\",\"incarnation\":\""));
    ASSERT(find_num(out, "interval_ms") >= 90);
    ASSERT_EQ(find_num(out, "members"), 9); /* the stats' first "members": the node's */
    ASSERT(strstr(out, "\"nodes\":[{\"name\":\"topnode\",\"incarnation\":\""));
    ASSERT(strstr(out, "\"state\":\"up\",\"self\":true}]"));
    ASSERT(strstr(out, "{\"scope\":\"default\",\"mode\":\"eventual\",\"names\":4,\"groups\":3,"
                       "\"members\":9}"));
    ASSERT(strstr(out, "{\"scope\":\"other\",\"mode\":\"eventual\",\"names\":2,\"groups\":0,"
                       "\"members\":0}"));
    ASSERT(strstr(out, "\"groups\":[{\"group\":\"big\",\"members\":5},{\"group\":\"mid\","
                       "\"members\":3},{\"group\":\"small\",\"members\":1}]"));
    /* top's own requests between its two samples make the request rate nonzero */
    const char *rate = strstr(out, "\"requests_per_s\":");
    ASSERT(rate && strtod(rate + 17, NULL) > 0);
    /* --json without --once is a usage error */
    const char *bad[] = {ROSTERCTL_PATH, "--socket", n.sock, "--json", "top", NULL};
    ASSERT_EQ(test_run_cmd(bad, out, sizeof out), 2);
    const char *bad2[] = {ROSTERCTL_PATH, "--socket", n.sock, "top", "--interval", "1", NULL};
    ASSERT_EQ(test_run_cmd(bad2, out, sizeof out), 2);
    roster_close(c);
    test_node_stop_ok(&n);
}

/* Live: frames keep coming, each starting with home + clear, and show new state. */
static void test_live_refresh(void)
{
    struct test_node n;
    const char *args[] = {"--name", "topnode", NULL};
    test_node_start(&n, args);
    roster_client *c = client(&n);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(ROSTERCTL_PATH, ROSTERCTL_PATH, "--socket", n.sock, "top", "--interval", "50",
              (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    static char buf[1 << 20];
    size_t len = 0;
    int registered = 0;
    uint64_t deadline = test_now_ms() + 15000;
    for (;;) {
        ASSERT(test_now_ms() < deadline);
        struct pollfd pf = {p[0], POLLIN, 0};
        if (poll(&pf, 1, 200) <= 0)
            continue;
        ssize_t r = read(p[0], buf + len, sizeof buf - 1 - len);
        ASSERT(r > 0);
        len += (size_t)r;
        buf[len] = 0;
        int frames = 0;
        for (const char *q = buf; (q = strstr(q, "\033[H\033[2J")); q++)
            frames++;
        if (frames >= 2 && !registered) {
            ASSERT_EQ(roster_register(c, "default", "fresh", 5, roster_self(c), NULL, 0, NULL,
                                      5000), 0);
            registered = frames;
        }
        /* a frame drawn after the registration shows it */
        const char *last = buf;
        for (const char *q = buf; (q = strstr(q, "\033[H\033[2J")); q++)
            last = q;
        if (registered && frames > registered + 1 &&
            strstr(last, "default                  eventual          1"))
            break;
        ASSERT(len < sizeof buf - 4096);
    }
    ASSERT(strstr(buf, "(ctrl-c quits)"));
    ASSERT_EQ(kill(pid, SIGINT), 0);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    close(p[0]);
    roster_close(c);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_once_text), T(test_once_json), T(test_live_refresh))
