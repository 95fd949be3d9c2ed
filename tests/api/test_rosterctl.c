/* test_rosterctl.c: the rosterctl contract against a real rosterd: every command, the
 * --json shapes (checked with strstr), exit statuses 0 / 1 / 2, register and join holding
 * their entry until stdin closes, watch --json streaming events, monitor. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "roster.h"
#include "test.h"

static struct test_node node;
static char out[1 << 16];

/* ctl runs rosterctl --socket <node> args... (NULL-terminated) into out; exit status. */
static int ctl(const char *first, ...)
{
    const char *argv[40];
    int k = 0;
    argv[k++] = ROSTERCTL_PATH;
    argv[k++] = "--socket";
    argv[k++] = node.sock;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && k < 39; a = va_arg(ap, const char *))
        argv[k++] = a;
    va_end(ap);
    argv[k] = NULL;
    return test_run_cmd(argv, out, sizeof out);
}

#define HAS(s)                                                                         \
    do {                                                                               \
        if (!strstr(out, (s)))                                                         \
            test_fail(__FILE__, __LINE__, "output lacks %s:\n%s", (s), out);           \
    } while (0)

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static roster_client *lib_connect(void)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = node.sock;
    roster_client *c = NULL;
    int r = roster_connect(&c, &o);
    if (r)
        test_fail(__FILE__, __LINE__, "connect: %s", roster_strerror(r));
    return c;
}

static void start(void) { test_node_start(&node, (const char *const[]){"--name", "n1", NULL}); }

static void stop_ok(void) { test_node_stop_ok(&node); }

static void test_info_commands(void)
{
    start();
    ASSERT_EQ(ctl("--json", "status", NULL), 0);
    HAS("{\"uptime_ms\":");
    HAS("\"clients\":");
    ASSERT_EQ(lines(out), 1);
    ASSERT_EQ(ctl("status", NULL), 0);
    HAS("node n1");
    ASSERT_EQ(ctl("--json", "nodes", NULL), 0);
    HAS("[{\"name\":\"n1\",\"incarnation\":\"");
    HAS("\"state\":\"up\",\"self\":true}]");
    ASSERT_EQ(ctl("--json", "scopes", NULL), 0);
    HAS("{\"scope\":\"default\",\"mode\":\"eventual\",\"names\":0,\"groups\":0}");
    ASSERT_EQ(ctl("--json", "scope-create", "t1", NULL), 0);
    HAS("\"scope\":\"t1\"");
    ASSERT_EQ(ctl("--json", "scope-create", "t1", NULL), 1);
    HAS("\"error\":\"EEXIST\"");
    ASSERT_EQ(ctl("scopes", NULL), 0);
    HAS("t1 eventual names=0 groups=0");
    ASSERT_EQ(ctl("--json", "count", NULL), 0);
    HAS("{\"names\":0,\"groups\":0,\"members\":0}");
    ASSERT_EQ(ctl("--json", "count", "--node", "n1", "--scope", "t1", NULL), 0);
    HAS("\"names\":0");
    ASSERT_EQ(ctl("--json", "ping", NULL), 0);
    HAS("\"ok\":true");
    ASSERT_EQ(ctl("log-level", "debug", NULL), 0);
    ASSERT_EQ(ctl("--timeout", "2000", "log-level", "info", NULL), 0);
    /* usage errors: 2 */
    ASSERT_EQ(ctl("log-level", "loud", NULL), 2);
    ASSERT_EQ(ctl("--json", "no-such-command", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("lookup", NULL), 2);
    ASSERT_EQ(ctl("lookup", "a", "b", NULL), 2);
    ASSERT_EQ(ctl("names", "--bogus", NULL), 2);
    ASSERT_EQ(ctl("--timeout", "soon", "status", NULL), 2);
    ASSERT_EQ(ctl("monitor", "not-a-pid", NULL), 2);
    ASSERT_EQ(ctl("watch", "--exact", NULL), 2);
    /* unknown scope: refused */
    ASSERT_EQ(ctl("--json", "lookup", "x", "--scope", "nosuch", NULL), 1);
    HAS("\"error\":\"ENOSCOPE\"");
    stop_ok();
    /* no node: connection error, 2 */
    ASSERT_EQ(ctl("--json", "status", NULL), 2);
    HAS("\"error\":\"ECONNECT\"");
}

static void test_query_commands(void)
{
    start();
    roster_client *c = lib_connect();
    roster_pid p = roster_self(c), p2;
    ASSERT_EQ(roster_pid_new(c, &p2, 5000), 0);
    char ps[ROSTER_PID_STRLEN], p2s[ROSTER_PID_STRLEN], want[256];
    roster_pid_format(p, ps);
    roster_pid_format(p2, p2s);
    ASSERT_EQ(roster_register(c, NULL, "svc.a", 5, p, "meta-a", 6, NULL, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, "svc.b", 5, p2, "", 0, NULL, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, "zz", 2, p, "", 0, NULL, 5000), 0);
    const char odd[] = "odd\"\\\n\xff\xc3\xa9";
    ASSERT_EQ(roster_register(c, NULL, odd, sizeof odd - 1, p, "\x01", 1, NULL, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "grp", 3, p, "ma", 2, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "grp", 3, p2, "mb", 2, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "grp2", 4, p2, "", 0, 5000), 0);

    ASSERT_EQ(ctl("--json", "lookup", "svc.a", NULL), 0);
    snprintf(want, sizeof want, "{\"name\":\"svc.a\",\"pid\":\"%s\",\"node\":\"n1\",\"meta\":\"meta-a\"}\n", ps);
    ASSERT_STR_EQ(out, want);
    ASSERT_EQ(ctl("lookup", "svc.a", NULL), 0);
    HAS(ps);
    ASSERT_EQ(ctl("--json", "lookup", "nobody", NULL), 1);
    HAS("\"error\":\"ENOTFOUND\"");
    ASSERT_EQ(ctl("lookup", "nobody", NULL), 1);
    /* JSON escaping: quote, backslash, newline, invalid byte, valid UTF-8, control char */
    ASSERT_EQ(ctl("--json", "lookup", odd, NULL), 0);
    HAS("\"name\":\"odd\\\"\\\\\\n\\u00ff\xc3\xa9\"");
    HAS("\"meta\":\"\\u0001\"");

    ASSERT_EQ(ctl("--json", "names", "--prefix", "svc.", NULL), 0);
    ASSERT_EQ(lines(out), 1);
    HAS("[{\"name\":\"svc.a\",");
    HAS("{\"name\":\"svc.b\",\"pid\":\"");
    ASSERT(!strstr(out, "zz"));
    ASSERT_EQ(ctl("--json", "names", "--pid", p2s, NULL), 0);
    HAS("svc.b");
    ASSERT(!strstr(out, "svc.a"));
    ASSERT_EQ(ctl("--json", "names", "--prefix", "none", NULL), 0);
    ASSERT_STR_EQ(out, "[]\n");
    ASSERT_EQ(ctl("names", "--limit", "1", NULL), 0);
    ASSERT_EQ(lines(out), 1);

    ASSERT_EQ(ctl("--json", "members", "grp", NULL), 0);
    ASSERT_EQ(lines(out), 1);
    snprintf(want, sizeof want, "{\"group\":\"grp\",\"name\":\"grp\",\"pid\":\"%s\",\"node\":\"n1\",\"meta\":\"ma\"}", ps);
    HAS(want);
    HAS("\"meta\":\"mb\"}]");
    ASSERT_EQ(ctl("--json", "members", "grp", "--local", NULL), 0);
    HAS("\"meta\":\"mb\"");
    ASSERT_EQ(ctl("--json", "members", "nogroup", NULL), 0);
    ASSERT_STR_EQ(out, "[]\n");
    ASSERT_EQ(ctl("members", "grp", NULL), 0);
    ASSERT_EQ(lines(out), 2);

    ASSERT_EQ(ctl("--json", "groups", NULL), 0);
    ASSERT_STR_EQ(out, "[{\"group\":\"grp\",\"name\":\"grp\",\"members\":2},"
                       "{\"group\":\"grp2\",\"name\":\"grp2\",\"members\":1}]\n");
    ASSERT_EQ(ctl("--json", "groups", "--prefix", "grp2", NULL), 0);
    ASSERT_STR_EQ(out, "[{\"group\":\"grp2\",\"name\":\"grp2\",\"members\":1}]\n");
    ASSERT_EQ(ctl("--json", "count", NULL), 0);
    ASSERT_STR_EQ(out, "{\"names\":4,\"groups\":2,\"members\":3}\n");
    ASSERT_EQ(ctl("count", NULL), 0);
    HAS("names 4");
    ASSERT_EQ(ctl("--json", "scopes", NULL), 0);
    HAS("\"names\":4,\"groups\":2");

    /* rosterctl's own pid holds nothing: refused */
    ASSERT_EQ(ctl("--json", "unregister", "svc.a", NULL), 1);
    HAS("\"error\":\"ENOTOWNER\"");
    ASSERT_EQ(ctl("unregister", "nobody", NULL), 1);
    ASSERT_EQ(ctl("--json", "leave", "grp", NULL), 1);
    HAS("\"error\":\"ENOTMEMBER\"");
    roster_close(c);
    stop_ok();
}

/* A spawned rosterctl with pipes on stdin and stdout. */
struct proc {
    pid_t pid;
    int in;  /* write end: its stdin */
    int out; /* read end: its stdout */
    char buf[8192];
    size_t len;
};

static void spawn(struct proc *p, const char *const *args)
{
    const char *argv[32];
    int k = 0;
    argv[k++] = ROSTERCTL_PATH;
    argv[k++] = "--socket";
    argv[k++] = node.sock;
    for (int i = 0; args[i]; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    int i[2], o[2];
    /* close-on-exec, so later rosterctl processes do not hold this one's stdin open */
    ASSERT_EQ(pipe2(i, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(o, O_CLOEXEC), 0);
    memset(p, 0, sizeof *p);
    p->pid = fork();
    ASSERT(p->pid >= 0);
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(i[0], 0);
        dup2(o[1], 1);
        close(i[0]);
        close(i[1]);
        close(o[0]);
        close(o[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(i[0]);
    close(o[1]);
    p->in = i[1];
    p->out = o[0];
}

/* read_line reads one line of p's stdout (deadline 5 s) into line (without '\n'). */
static void read_line(struct proc *p, char *line, size_t cap)
{
    uint64_t deadline = test_now_ms() + 5000;
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->len);
        if (nl) {
            size_t n = (size_t)(nl - p->buf);
            ASSERT(n < cap);
            memcpy(line, p->buf, n);
            line[n] = 0;
            memmove(p->buf, nl + 1, p->len - n - 1);
            p->len -= n + 1;
            return;
        }
        int left = (int)(deadline - test_now_ms());
        struct pollfd pf = {p->out, POLLIN, 0};
        if (left <= 0 || poll(&pf, 1, left) != 1)
            test_fail(__FILE__, __LINE__, "no line from rosterctl within 5 s");
        ssize_t r = read(p->out, p->buf + p->len, sizeof p->buf - p->len - 1);
        if (r <= 0)
            test_fail(__FILE__, __LINE__, "rosterctl closed stdout (read %zd)", r);
        p->len += (size_t)r;
    }
}

static int wait_exit(struct proc *p)
{
    uint64_t deadline = test_now_ms() + 5000;
    int st;
    while (waitpid(p->pid, &st, WNOHANG) == 0) {
        if (test_now_ms() > deadline)
            test_fail(__FILE__, __LINE__, "rosterctl did not exit");
        poll(NULL, 0, 5);
    }
    close(p->out);
    if (p->in >= 0)
        close(p->in);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_register_holds_until_stdin_closes(void)
{
    start();
    roster_client *c = lib_connect();
    struct proc p;
    spawn(&p, (const char *const[]){"--json", "register", "held", "--meta", "hm", NULL});
    char line[512], pidtext[64];
    read_line(&p, line, sizeof line);
    ASSERT(strncmp(line, "{\"pid\":\"", 8) == 0);
    char *end = strchr(line + 8, '"');
    ASSERT(end != NULL);
    *end = 0;
    ASSERT(strlen(line + 8) < sizeof pidtext);
    memcpy(pidtext, line + 8, strlen(line + 8) + 1);
    roster_pid held;
    ASSERT_EQ(roster_pid_parse(pidtext, &held), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(c, NULL, "held", 4, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, held));
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "hm", 2);
    roster_entry_free(&e);
    /* a second register of the same name is refused: exit 1, error names ETAKEN */
    ASSERT_EQ(ctl("--json", "register", "held", NULL), 1);
    HAS("\"error\":\"ETAKEN\"");
    HAS(pidtext);
    /* human form: the pid alone on the first line */
    struct proc h;
    spawn(&h, (const char *const[]){"join", "team", "--meta", "jm", NULL});
    read_line(&h, line, sizeof line);
    roster_pid joined;
    ASSERT_EQ(roster_pid_parse(line, &joined), 0);
    ASSERT_EQ(roster_is_member(c, NULL, "team", 4, joined, 5000), 1);
    ASSERT_EQ(ctl("--json", "members", "team", NULL), 0);
    HAS("\"meta\":\"jm\"");

    /* closing stdin releases the name (and exit 0) */
    close(p.in);
    p.in = -1;
    uint64_t deadline = test_now_ms() + 5000;
    while (roster_lookup(c, NULL, "held", 4, &e, 5000) == 0) {
        roster_entry_free(&e);
        ASSERT(test_now_ms() < deadline);
    }
    ASSERT_EQ(wait_exit(&p), 0);
    /* killing the holder releases the membership */
    kill(h.pid, SIGKILL);
    wait_exit(&h);
    deadline = test_now_ms() + 5000;
    while (roster_is_member(c, NULL, "team", 4, joined, 5000) == 1)
        ASSERT(test_now_ms() < deadline);
    /* the node going away ends a holder with status 2 */
    spawn(&p, (const char *const[]){"register", "held2", NULL});
    read_line(&p, line, sizeof line);
    roster_close(c);
    stop_ok();
    ASSERT_EQ(wait_exit(&p), 2);
}

static void test_watch_json(void)
{
    start();
    roster_client *c = lib_connect();
    roster_pid self = roster_self(c);
    ASSERT_EQ(roster_register(c, NULL, "job.1", 5, self, "j1", 2, NULL, 5000), 0);
    struct proc w, g, a;
    spawn(&w, (const char *const[]){"--json", "watch", "job.", "--snapshot", NULL});
    spawn(&g, (const char *const[]){"--json", "watch", "--groups", NULL});
    spawn(&a, (const char *const[]){"watch", NULL});
    char line[1024];
    read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"registered\"") && strstr(line, "\"name\":\"job.1\"") &&
           strstr(line, "\"snapshot\":true") && strstr(line, "\"meta\":\"j1\"") &&
           strstr(line, "\"scope\":\"default\""));
    read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"snapshot_end\""));
    /* the watchers without a snapshot are surely subscribed once they print an event:
     * join marker groups until both have printed one */
    uint64_t deadline = test_now_ms() + 5000;
    char gl[1024], al[1024];
    for (int i = 0;; i++) {
        char name[32];
        snprintf(name, sizeof name, "mark%d", i);
        ASSERT_EQ(roster_join(c, NULL, name, strlen(name), self, "", 0, 5000), 0);
        struct pollfd pf[2] = {{g.out, POLLIN, 0}, {a.out, POLLIN, 0}};
        poll(pf, 2, 50);
        if ((pf[0].revents & POLLIN) && (pf[1].revents & POLLIN))
            break;
        ASSERT(test_now_ms() < deadline);
    }
    read_line(&g, gl, sizeof gl);
    ASSERT(strstr(gl, "\"type\":\"joined\"") && strstr(gl, "\"group\":\"mark"));
    ASSERT_EQ(roster_register(c, NULL, "job.2", 5, self, "j2", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, "job.2", 5, self, "j3", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_unregister(c, NULL, "job.2", 5, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, "other", 5, self, "", 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "grp", 3, self, "gm", 2, 5000), 0);
    ASSERT_EQ(roster_leave(c, NULL, "grp", 3, self, 5000), 0);
    read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"registered\"") && strstr(line, "\"name\":\"job.2\""));
    ASSERT(!strstr(line, "snapshot"));
    read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"updated\"") && strstr(line, "\"meta\":\"j3\"") &&
           strstr(line, "\"prev_meta\":\"j2\""));
    read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"unregistered\"") && strstr(line, "\"reason\":\"normal\""));
    /* groups watcher: skip the markers, then joined / left with group and name */
    do
        read_line(&g, gl, sizeof gl);
    while (strstr(gl, "\"group\":\"mark"));
    ASSERT(strstr(gl, "\"type\":\"joined\"") && strstr(gl, "\"group\":\"grp\"") &&
           strstr(gl, "\"name\":\"grp\"") && strstr(gl, "\"meta\":\"gm\""));
    read_line(&g, gl, sizeof gl);
    ASSERT(strstr(gl, "\"type\":\"left\"") && strstr(gl, "\"reason\":\"normal\""));
    /* the human watcher sees everything, one line each */
    do
        read_line(&a, al, sizeof al);
    while (strncmp(al, "joined default mark", 19) == 0);
    ASSERT(strncmp(al, "registered default job.2 ", 25) == 0);
    read_line(&a, al, sizeof al);
    ASSERT(strncmp(al, "updated default job.2 ", 22) == 0 && strstr(al, "prev_meta=j2"));
    kill(w.pid, SIGTERM);
    kill(g.pid, SIGTERM);
    kill(a.pid, SIGTERM);
    wait_exit(&w);
    wait_exit(&g);
    wait_exit(&a);
    roster_close(c);
    stop_ok();
}

static void test_monitor_command(void)
{
    start();
    roster_client *c = lib_connect();
    roster_pid p;
    ASSERT_EQ(roster_pid_new(c, &p, 5000), 0);
    char ps[ROSTER_PID_STRLEN];
    roster_pid_format(p, ps);
    /* monitor of a live pid: waits; its close prints the DOWN line and exits 0 */
    struct proc m;
    spawn(&m, (const char *const[]){"--json", "monitor", ps, NULL});
    /* wait until the monitor is in place: monitors show in the node's status */
    uint64_t deadline = test_now_ms() + 5000;
    for (;;) {
        roster_stats st;
        ASSERT_EQ(roster_status(c, &st, 5000), 0);
        uint64_t mons = 0;
        for (size_t i = 0; i < st.n; i++)
            if (strcmp(st.items[i].key, "monitors") == 0)
                mons = st.items[i].value;
        roster_stats_free(&st);
        if (mons > 0)
            break;
        ASSERT(test_now_ms() < deadline);
        poll(NULL, 0, 2);
    }
    ASSERT_EQ(roster_pid_close(c, p, 5000), 0);
    char line[512];
    read_line(&m, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"down\"") && strstr(line, "\"reason\":\"normal\"") &&
           strstr(line, ps));
    ASSERT_EQ(wait_exit(&m), 0);
    /* an already dead pid: noproc at once */
    ASSERT_EQ(ctl("--json", "monitor", ps, NULL), 0);
    HAS("\"reason\":\"noproc\"");
    roster_close(c);
    stop_ok();
}

TEST_MAIN(T(test_info_commands), T(test_query_commands),
          T(test_register_holds_until_stdin_closes), T(test_watch_json),
          T(test_monitor_command))
