/* test_rosterctl.c: the rosterctl contract against a real rosterd: every command, the
 * --json shapes (every --json line goes through a strict JSON validator, then the content
 * is checked), exit statuses 0 / 1 / 2, register and join holding their entry until stdin
 * closes (and not stopped by SIGTTIN as background jobs of a terminal), watch --json
 * streaming events, monitor, --timeout, log-level. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ctlproc.h"
#include "jsonv.h"
#include "node.h"
#include "roster.h"
#include "test.h"

static struct test_node node;
static char out[1 << 16];

static void test_json_validator(void)
{
    const char *good[] = {"{}", "[]", "0", "-0.5e+3", "\"a\\u00e9\\n\"", "true", "null",
                          "[1,{\"a\":[false,\"\xc3\xa9\"]},\"x\"]", "{\"a\":1,\"b\":\"1\"}",
                          " {\"k\" : [ 1 , 2 ] } "};
    const char *bad[] = {"", "{", "{\"a\":1,}", "[1,]", "01", "1.", "-", "+1", ".5", "1e",
                         "\"\\x\"", "\"\\u12g4\"", "\"a\tb\"", "\"\xff\"", "\"\xed\xa0\x80\"",
                         "{\"a\":1,\"a\":2}", "{a:1}", "[1] [2]", "{}x", "tru", "nul",
                         "{\"a\" 1}", "\"open", "{\"n\":1,\"incarnation\":1,\"incarnation\":\"1\"}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!json_valid(good[i]))
            test_fail(__FILE__, __LINE__, "valid JSON refused: %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (json_valid(bad[i]))
            test_fail(__FILE__, __LINE__, "invalid JSON accepted: %s", bad[i]);
}

/* ctl runs rosterctl --socket <node> args... (NULL-terminated) into out; exit status. With
 * --json among the arguments, the output must be exactly one line holding one JSON value
 * (the result, or the error). */
static int ctl_at(const char *file, int line, const char *first, ...)
{
    const char *argv[40];
    int k = 0, json = 0;
    argv[k++] = ROSTERCTL_PATH;
    argv[k++] = "--socket";
    argv[k++] = node.sock;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && k < 39; a = va_arg(ap, const char *)) {
        json |= strcmp(a, "--json") == 0 && strcmp(argv[k - 1], "--meta") != 0;
        argv[k++] = a;
    }
    va_end(ap);
    argv[k] = NULL;
    int st = test_run_cmd(argv, out, sizeof out);
    if (json && json_check_lines(file, line, out) != 1)
        test_fail(file, line, "--json printed %s lines, not one:\n%s", *out ? "several" : "no",
                  out);
    return st;
}
#define ctl(...) ctl_at(__FILE__, __LINE__, __VA_ARGS__)

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

/* count_of returns the number of occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* log_count returns the number of lines of the node's log that contain needle. */
static int log_count(const char *needle)
{
    FILE *f = fopen(node.log, "r");
    ASSERT(f != NULL);
    char l[4096];
    int n = 0;
    while (fgets(l, sizeof l, f))
        n += strstr(l, needle) != NULL;
    fclose(f);
    return n;
}

static void test_info_commands(void)
{
    start();
    roster_client *c = lib_connect();
    char inc[32], want[512];
    snprintf(inc, sizeof inc, "%016" PRIx64, roster_node_incarnation(c));
    /* status: the node and its incarnation (hex text, as in nodes and pids) first, then the
     * statistics; the incarnation appears once */
    ASSERT_EQ(ctl("--json", "status", NULL), 0);
    snprintf(want, sizeof want, "{\"node\":\"n1\",\"incarnation\":\"%s\",", inc);
    ASSERT(strncmp(out, want, strlen(want)) == 0);
    HAS("\"uptime_ms\":");
    HAS("\"clients\":");
    ASSERT_EQ(count_of(out, "incarnation"), 1);
    ASSERT_EQ(ctl("status", NULL), 0);
    snprintf(want, sizeof want, "node n1 incarnation %s\n", inc);
    ASSERT(strncmp(out, want, strlen(want)) == 0);
    ASSERT_EQ(count_of(out, "incarnation"), 1);
    HAS("\nclients ");
    /* nodes, of the default scope and of another one */
    snprintf(want, sizeof want,
             "[{\"name\":\"n1\",\"incarnation\":\"%s\",\"state\":\"up\",\"self\":true}]\n", inc);
    ASSERT_EQ(ctl("--json", "nodes", NULL), 0);
    ASSERT_STR_EQ(out, want);
    ASSERT_EQ(ctl("--json", "scopes", NULL), 0);
    ASSERT_STR_EQ(out, "[{\"scope\":\"default\",\"mode\":\"eventual\",\"names\":0,\"groups\":0,"
                       "\"duplicate_members\":false,\"unique_per_node\":false}]\n");
    ASSERT_EQ(ctl("--json", "scope-create", "t1", NULL), 0);
    ASSERT_STR_EQ(out, "{\"scope\":\"t1\",\"mode\":\"eventual\",\"duplicate_members\":false,"
                       "\"unique_per_node\":false}\n");
    /* options at creation (issue 11 items 9, 10): shown by scopes; not with --strong */
    ASSERT_EQ(ctl("--json", "scope-create", "t2", "--duplicate-members", "--unique-per-node",
                  NULL),
              0);
    HAS("\"duplicate_members\":true,\"unique_per_node\":true");
    ASSERT_EQ(ctl("scopes", NULL), 0);
    HAS("t2 eventual names=0 groups=0 duplicate-members unique-per-node\n");
    ASSERT_EQ(ctl("--json", "scope-create", "t3", "--strong", "--duplicate-members", NULL), 2);
    HAS("\"error\":\"EINVAL\"");
    ASSERT_EQ(ctl("--json", "scope-create", "t1", NULL), 1);
    HAS("\"error\":\"EEXIST\"");
    ASSERT_EQ(ctl("--json", "nodes", "--scope", "t1", NULL), 0);
    ASSERT_STR_EQ(out, want);
    ASSERT_EQ(ctl("--json", "nodes", "--scope", "nosuch", NULL), 1);
    HAS("\"error\":\"ENOSCOPE\"");
    ASSERT_EQ(ctl("nodes", "--scope", "t1", NULL), 0);
    snprintf(want, sizeof want, "n1 %s up self\n", inc);
    ASSERT_STR_EQ(out, want);
    ASSERT_EQ(ctl("scopes", NULL), 0);
    HAS("t1 eventual names=0 groups=0");
    /* count: of the scope, of the local node (the same here), of an unknown node */
    ASSERT_EQ(roster_register(c, NULL, "one", 3, roster_self(c), "", 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "g", 1, roster_self(c), "", 0, 5000), 0);
    ASSERT_EQ(ctl("--json", "count", NULL), 0);
    ASSERT_STR_EQ(out, "{\"names\":1,\"groups\":1,\"members\":1}\n");
    ASSERT_EQ(ctl("--json", "count", "--node", "n1", NULL), 0);
    ASSERT_STR_EQ(out, "{\"names\":1,\"groups\":1,\"members\":1}\n");
    ASSERT_EQ(ctl("--json", "count", "--node", "n1", "--scope", "t1", NULL), 0);
    ASSERT_STR_EQ(out, "{\"names\":0,\"groups\":0,\"members\":0}\n");
    ASSERT_EQ(ctl("count", "--node", "n1", NULL), 0);
    ASSERT_STR_EQ(out, "names 1\ngroups 1\nmembers 1\n");
    ASSERT_EQ(ctl("--json", "count", "--node", "other", NULL), 1);
    HAS("{\"error\":\"ENOTFOUND\",");
    HAS("\"node\":\"other\"");
    ASSERT_EQ(ctl("count", "--node", "other", NULL), 1);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(ctl("--json", "ping", NULL), 0);
    HAS("{\"ok\":true,\"node\":\"n1\",\"rtt_us\":");
    /* log-level takes effect: the node started at info logs no debug line until told */
    ASSERT_EQ(log_count("Z debug "), 0);
    ASSERT_EQ(ctl("--json", "log-level", "debug", NULL), 0);
    ASSERT_STR_EQ(out, "{\"log_level\":\"debug\"}\n");
    ASSERT_EQ(log_count("log level set to debug"), 1);
    ASSERT_EQ(ctl("ping", NULL), 0); /* its connection is logged at debug level */
    int debug_lines = log_count("Z debug ");
    ASSERT(debug_lines > 0);
    ASSERT_EQ(ctl("--timeout", "2000", "log-level", "info", NULL), 0);
    ASSERT_STR_EQ(out, "log level info\n");
    debug_lines = log_count("Z debug ");
    ASSERT_EQ(ctl("ping", NULL), 0);
    ASSERT_EQ(log_count("Z debug "), debug_lines);
    /* --timeout bounds requests, not connecting: with 0 a request may time out, but the
     * connection to the local node is always made */
    for (int i = 0; i < 20; i++) {
        int st = ctl("--json", "--timeout", "0", "ping", NULL);
        if (st != 0) {
            ASSERT_EQ(st, 2);
            HAS("{\"error\":\"ETIMEDOUT\",");
            ASSERT(!strstr(out, "\"socket\""));
        }
    }
    ASSERT_EQ(ctl("--json", "--timeout", "-1", "ping", NULL), 0);
    /* usage errors: 2, and with --json one EUSAGE line wherever --json is */
    ASSERT_EQ(ctl("log-level", "loud", NULL), 2);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(ctl("--json", "log-level", "loud", NULL), 2);
    HAS("{\"error\":\"EUSAGE\",\"message\":\"unknown level \\\"loud\\\"\"}");
    ASSERT_EQ(ctl("--json", NULL), 2);
    ASSERT_STR_EQ(out, "{\"error\":\"EUSAGE\",\"message\":\"no command given\"}\n");
    ASSERT_EQ(ctl(NULL), 2);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(ctl("--json", "no-such-command", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("--bogus", "--json", "status", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("--timeout", "soon", "--json", "status", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("status", "--bogus", "--json", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("--json", "lookup", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("lookup", NULL), 2);
    ASSERT_EQ(ctl("lookup", "a", "b", "--json", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("names", "--bogus", NULL), 2);
    ASSERT_EQ(ctl("--timeout", "soon", "status", NULL), 2);
    ASSERT_EQ(ctl("--json", "monitor", "not-a-pid", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("--json", "watch", "--exact", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    /* "--json" as the value of an option is that value, not the flag (stdin is /dev/null:
     * the name is released at once) */
    ASSERT_EQ(ctl("register", "m", "--meta", "--json", NULL), 0);
    roster_pid printed;
    out[strcspn(out, "\n")] = 0;
    ASSERT_EQ(roster_pid_parse(out, &printed), 0);
    /* unknown scope: refused */
    ASSERT_EQ(ctl("--json", "lookup", "x", "--scope", "nosuch", NULL), 1);
    HAS("\"error\":\"ENOSCOPE\"");
    roster_close(c);
    stop_ok();
    /* no node: connection error, 2 */
    ASSERT_EQ(ctl("--json", "status", NULL), 2);
    HAS("\"error\":\"ECONNECT\"");
    HAS("\"socket\":\"");
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
    /* the holder's fencing token follows, as a string, when the node gives one */
    roster_entry te;
    ASSERT_EQ(roster_lookup(c, NULL, "svc.a", 5, &te, 5000), 0);
    char tok[48] = "";
    if (te.token)
        snprintf(tok, sizeof tok, ",\"token\":\"%" PRIu64 "\"", te.token);
    roster_entry_free(&te);
    /* then the holder client's OS pid and uid (this process: it registered svc.a) */
    snprintf(want, sizeof want,
             "{\"name\":\"svc.a\",\"pid\":\"%s\",\"node\":\"n1\",\"meta\":\"meta-a\"%s,"
             "\"os_pid\":%d,\"uid\":%u}\n",
             ps, tok, (int)getpid(), (unsigned)getuid());
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
    snprintf(want, sizeof want,
             "{\"group\":\"grp\",\"name\":\"grp\",\"pid\":\"%s\",\"node\":\"n1\",\"meta\":\"ma\","
             "\"os_pid\":%d,\"uid\":%u}",
             ps, (int)getpid(), (unsigned)getuid());
    HAS(want);
    HAS("\"meta\":\"mb\",\"os_pid\":");
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

static void spawn(struct ctl_proc *p, const char *const *args)
{
    ctl_spawn(p, node.sock, args);
}

static int wait_exit(struct ctl_proc *p) { return ctl_wait_exit(p, 5000); }

/* pid_of_json_line parses the first line of register / join --json: {"pid":"..."}, which
 * register follows with the grant's token: {"pid":"...","token":"N"}. */
static roster_pid pid_of_json_line(const char *line)
{
    char text[ROSTER_PID_STRLEN + 16];
    roster_pid pid;
    ASSERT(strncmp(line, "{\"pid\":\"", 8) == 0);
    size_t n = strcspn(line + 8, "\"");
    const char *rest = line + 8 + n;
    if (strncmp(rest, "\",\"token\":\"", 11) == 0)
        rest += 11 + strspn(rest + 11, "0123456789");
    ASSERT(n < sizeof text && strcmp(rest, "\"}") == 0);
    memcpy(text, line + 8, n);
    text[n] = 0;
    ASSERT_EQ(roster_pid_parse(text, &pid), 0);
    return pid;
}

static void test_register_holds_until_stdin_closes(void)
{
    start();
    roster_client *c = lib_connect();
    struct ctl_proc p;
    spawn(&p, (const char *const[]){"--json", "register", "held", "--meta", "hm", NULL});
    char line[512], pidtext[64];
    ctl_read_line(&p, line, sizeof line);
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
    /* join --json: the same first line */
    struct ctl_proc jj;
    spawn(&jj, (const char *const[]){"--json", "join", "crew", NULL});
    ctl_read_line(&jj, line, sizeof line);
    roster_pid crew_pid = pid_of_json_line(line);
    ASSERT_EQ(roster_is_member(c, NULL, "crew", 4, crew_pid, 5000), 1);
    close(jj.in);
    jj.in = -1;
    ASSERT_EQ(wait_exit(&jj), 0);
    ASSERT_EQ(roster_is_member(c, NULL, "crew", 4, crew_pid, 5000), 0);
    /* human form: the pid alone on the first line */
    struct ctl_proc h;
    spawn(&h, (const char *const[]){"join", "team", "--meta", "jm", NULL});
    ctl_read_line(&h, line, sizeof line);
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
    ctl_read_line(&p, line, sizeof line);
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
    struct ctl_proc w, g, a;
    spawn(&w, (const char *const[]){"--json", "watch", "job.", "--snapshot", NULL});
    spawn(&g, (const char *const[]){"--json", "watch", "--groups", NULL});
    spawn(&a, (const char *const[]){"watch", NULL});
    char line[1024];
    ctl_read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"registered\"") && strstr(line, "\"name\":\"job.1\"") &&
           strstr(line, "\"snapshot\":true") && strstr(line, "\"meta\":\"j1\"") &&
           strstr(line, "\"scope\":\"default\""));
    ctl_read_line(&w, line, sizeof line);
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
    ctl_read_line(&g, gl, sizeof gl);
    ASSERT(strstr(gl, "\"type\":\"joined\"") && strstr(gl, "\"group\":\"mark"));
    ASSERT_EQ(roster_register(c, NULL, "job.2", 5, self, "j2", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, "job.2", 5, self, "j3", 2, NULL, 5000), 0);
    ASSERT_EQ(roster_unregister(c, NULL, "job.2", 5, 5000), 0);
    ASSERT_EQ(roster_register(c, NULL, "other", 5, self, "", 0, NULL, 5000), 0);
    ASSERT_EQ(roster_join(c, NULL, "grp", 3, self, "gm", 2, 5000), 0);
    ASSERT_EQ(roster_leave(c, NULL, "grp", 3, self, 5000), 0);
    ctl_read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"registered\"") && strstr(line, "\"name\":\"job.2\""));
    ASSERT(!strstr(line, "snapshot"));
    ctl_read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"updated\"") && strstr(line, "\"meta\":\"j3\"") &&
           strstr(line, "\"prev_meta\":\"j2\""));
    ctl_read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"unregistered\"") && strstr(line, "\"reason\":\"normal\""));
    /* groups watcher: skip the markers, then joined / left with group and name */
    do
        ctl_read_line(&g, gl, sizeof gl);
    while (strstr(gl, "\"group\":\"mark"));
    ASSERT(strstr(gl, "\"type\":\"joined\"") && strstr(gl, "\"group\":\"grp\"") &&
           strstr(gl, "\"name\":\"grp\"") && strstr(gl, "\"meta\":\"gm\""));
    ctl_read_line(&g, gl, sizeof gl);
    ASSERT(strstr(gl, "\"type\":\"left\"") && strstr(gl, "\"reason\":\"normal\""));
    /* the human watcher sees everything, one line each */
    do
        ctl_read_line(&a, al, sizeof al);
    while (strncmp(al, "joined default mark", 19) == 0);
    ASSERT(strncmp(al, "registered default job.2 ", 25) == 0);
    ctl_read_line(&a, al, sizeof al);
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
    struct ctl_proc m;
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
    ctl_read_line(&m, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"down\"") && strstr(line, "\"reason\":\"normal\"") &&
           strstr(line, ps));
    ASSERT_EQ(wait_exit(&m), 0);
    /* an already dead pid: noproc at once */
    ASSERT_EQ(ctl("--json", "monitor", ps, NULL), 0);
    HAS("\"reason\":\"noproc\"");
    roster_close(c);
    stop_ok();
}

/* A holder killed by SIGTERM: watch --json reports its name and membership gone with
 * reason "disconnected". */
static void test_holder_killed_seen_by_watch(void)
{
    start();
    struct ctl_proc w, r, j;
    char line[1024];
    spawn(&w, (const char *const[]){"--json", "watch", "--snapshot", NULL});
    ctl_read_line(&w, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"snapshot_end\""));
    spawn(&r, (const char *const[]){"--json", "register", "victim", "--meta", "v", NULL});
    ctl_read_line(&r, line, sizeof line);
    roster_pid rp = pid_of_json_line(line);
    spawn(&j, (const char *const[]){"--json", "join", "crew", "--meta", "c", NULL});
    ctl_read_line(&j, line, sizeof line);
    roster_pid jp = pid_of_json_line(line);
    char rps[ROSTER_PID_STRLEN], jps[ROSTER_PID_STRLEN], want[512];
    roster_pid_format(rp, rps);
    roster_pid_format(jp, jps);
    ctl_read_line(&w, line, sizeof line);
    snprintf(want, sizeof want,
             "{\"type\":\"registered\",\"scope\":\"default\",\"name\":\"victim\",\"pid\":\"%s\","
             "\"node\":\"n1\",\"meta\":\"v\"}", rps);
    ASSERT_STR_EQ(line, want);
    ctl_read_line(&w, line, sizeof line);
    snprintf(want, sizeof want,
             "{\"type\":\"joined\",\"scope\":\"default\",\"group\":\"crew\",\"name\":\"crew\","
             "\"pid\":\"%s\",\"node\":\"n1\",\"meta\":\"c\"}", jps);
    ASSERT_STR_EQ(line, want);
    ASSERT_EQ(kill(r.pid, SIGTERM), 0);
    ASSERT_EQ(wait_exit(&r), -1); /* ended by the signal */
    ctl_read_line(&w, line, sizeof line);
    snprintf(want, sizeof want,
             "{\"type\":\"unregistered\",\"scope\":\"default\",\"name\":\"victim\",\"pid\":\"%s\","
             "\"node\":\"n1\",\"meta\":\"v\",\"reason\":\"disconnected\"}", rps);
    ASSERT_STR_EQ(line, want);
    ASSERT_EQ(kill(j.pid, SIGTERM), 0);
    ASSERT_EQ(wait_exit(&j), -1);
    ctl_read_line(&w, line, sizeof line);
    snprintf(want, sizeof want,
             "{\"type\":\"left\",\"scope\":\"default\",\"group\":\"crew\",\"name\":\"crew\","
             "\"pid\":\"%s\",\"node\":\"n1\",\"meta\":\"c\",\"reason\":\"disconnected\"}", jps);
    ASSERT_STR_EQ(line, want);
    kill(w.pid, SIGTERM);
    wait_exit(&w);
    stop_ok();
}

/* A holder whose stdin is a pseudo-terminal. The test keeps the master side (it types);
 * a session leader, standing for the interactive shell, owns the terminal as its
 * controlling terminal and starts rosterctl either in its own (foreground) process group
 * or in a new process group: a background job, as `rosterctl register NAME &` is. */
struct ttyjob {
    struct ctl_proc p; /* p.pid: the session leader; p.out: rosterctl's stdout */
    pid_t job;     /* rosterctl's process id */
    int master;
    int cmd; /* write 'f': the leader puts the job in the foreground (fg); close: the leader
                waits for the job and exits with its exit status */
};

static void spawn_tty(struct ttyjob *t, int background, const char *const *args)
{
    const char *argv[32];
    int k = 0;
    argv[k++] = ROSTERCTL_PATH;
    argv[k++] = "--socket";
    argv[k++] = node.sock;
    for (int i = 0; args[i]; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    memset(t, 0, sizeof *t);
    for (int i = 0; args[i]; i++)
        t->p.json |= strcmp(args[i], "--json") == 0;
    t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT(t->master >= 0);
    ASSERT_EQ(grantpt(t->master), 0);
    ASSERT_EQ(unlockpt(t->master), 0);
    char slave[128];
    ASSERT(ptsname(t->master) != NULL && strlen(ptsname(t->master)) < sizeof slave);
    snprintf(slave, sizeof slave, "%s", ptsname(t->master));
    int o[2], info[2], cmd[2];
    ASSERT_EQ(pipe2(o, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(info, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(cmd, O_CLOEXEC), 0);
    pid_t leader = fork();
    ASSERT(leader >= 0);
    if (leader == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(t->master);
        int s = -1;
        if (setsid() < 0 || (s = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
            ioctl(s, TIOCSCTTY, 0) != 0)
            _exit(120);
        pid_t job = fork();
        if (job < 0)
            _exit(121);
        if (job == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (background)
                setpgid(0, 0);
            dup2(s, 0);
            dup2(o[1], 1);
            execv(argv[0], (char *const *)argv);
            _exit(127);
        }
        if (background)
            setpgid(job, job); /* also here: in place whichever process runs first */
        close(o[0]);
        close(o[1]);
        close(info[0]);
        close(cmd[1]);
        if (write(info[1], &job, sizeof job) != (ssize_t)sizeof job)
            _exit(122);
        char ch;
        while (read(cmd[0], &ch, 1) == 1)
            if (ch == 'f' && tcsetpgrp(s, job) != 0)
                _exit(123);
        int st;
        if (waitpid(job, &st, 0) != job)
            _exit(124);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
    }
    close(o[1]);
    close(info[1]);
    close(cmd[0]);
    struct pollfd pf = {info[0], POLLIN, 0};
    ASSERT_EQ(poll(&pf, 1, 5000), 1);
    ASSERT_EQ(read(info[0], &t->job, sizeof t->job), (ssize_t)sizeof t->job);
    close(info[0]);
    t->p.pid = leader;
    t->p.in = -1;
    t->p.out = o[0];
    t->cmd = cmd[1];
}

/* tty_job_exit lets the leader reap the job; returns the job's exit status. */
static int tty_job_exit(struct ttyjob *t)
{
    close(t->cmd);
    int st = wait_exit(&t->p);
    close(t->master);
    return st;
}

/* proc_state returns the state letter of /proc/PID/stat ('S', 'R', 'T' stopped, ...). */
static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ASSERT(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    ASSERT(n > 0);
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    ASSERT(rp != NULL && rp[1] == ' ');
    return rp[2];
}

/* wait_down waits for the DOWN event of monitor mon on c and returns its reason. */
static int wait_down(roster_client *c, uint64_t mon)
{
    for (;;) {
        roster_event ev;
        ASSERT_EQ(roster_wait_event(c, &ev, 5000), 0);
        int mine = ev.type == ROSTER_EV_DOWN && ev.id == mon, reason = ev.reason;
        roster_event_free(&ev);
        if (mine)
            return reason;
    }
}

static void test_hold_on_terminal(void)
{
    start();
    roster_client *c = lib_connect();
    struct ttyjob t;
    char line[512];
    roster_entry e;
    uint64_t mon;

    /* A background job of its terminal does not read it: typing (even ^D) neither stops
     * it (SIGTTIN) nor releases the name. */
    spawn_tty(&t, 1, (const char *const[]){"--json", "register", "bg", "--meta", "m", NULL});
    ctl_read_line(&t.p, line, sizeof line);
    roster_pid held = pid_of_json_line(line);
    ASSERT_EQ(write(t.master, "typed\n\x04", 7), 7);
    uint64_t until = test_now_ms() + 1200; /* more than one foreground re-check period */
    while (test_now_ms() < until) {
        char st = proc_state(t.job);
        if (st == 'T' || st == 't')
            test_fail(__FILE__, __LINE__, "the background holder was stopped (state %c)", st);
        poll(NULL, 0, 20);
    }
    ASSERT_EQ(roster_lookup(c, NULL, "bg", 2, &e, 5000), 0);
    ASSERT(roster_pid_equal(e.pid, held));
    roster_entry_free(&e);
    /* Brought to the foreground (fg), it reads the terminal again: the pending line, then
     * the ^D, which releases the name with reason "normal" (exit 0). */
    ASSERT_EQ(roster_monitor(c, held, &mon, 5000), 0);
    ASSERT_EQ(write(t.cmd, "f", 1), 1);
    ASSERT_EQ(wait_down(c, mon), ROSTER_REASON_NORMAL);
    ASSERT_EQ(tty_job_exit(&t), 0);
    ASSERT_EQ(roster_lookup(c, NULL, "bg", 2, &e, 5000), ROSTER_ENOTFOUND);

    /* A holder in the terminal's foreground: typed lines are ignored, ^D releases. */
    spawn_tty(&t, 0, (const char *const[]){"join", "fg-team", NULL});
    ctl_read_line(&t.p, line, sizeof line);
    roster_pid joined;
    ASSERT_EQ(roster_pid_parse(line, &joined), 0);
    ASSERT_EQ(roster_monitor(c, joined, &mon, 5000), 0);
    ASSERT_EQ(write(t.master, "hello\n", 6), 6);
    ASSERT_EQ(roster_is_member(c, NULL, "fg-team", 7, joined, 5000), 1);
    ASSERT_EQ(write(t.master, "\x04", 1), 1);
    ASSERT_EQ(wait_down(c, mon), ROSTER_REASON_NORMAL);
    ASSERT_EQ(tty_job_exit(&t), 0);

    /* A background job holds until killed. */
    spawn_tty(&t, 1, (const char *const[]){"register", "bg2", NULL});
    ctl_read_line(&t.p, line, sizeof line);
    ASSERT_EQ(roster_pid_parse(line, &held), 0);
    ASSERT_EQ(roster_monitor(c, held, &mon, 5000), 0);
    ASSERT_EQ(write(t.master, "\x04", 1), 1);
    poll(NULL, 0, 100);
    ASSERT(proc_state(t.job) != 'T');
    ASSERT_EQ(kill(t.job, SIGTERM), 0);
    ASSERT_EQ(wait_down(c, mon), ROSTER_REASON_DISCONNECTED);
    ASSERT_EQ(tty_job_exit(&t), 128 + SIGTERM);
    roster_close(c);
    stop_ok();
}

TEST_MAIN(T(test_json_validator), T(test_info_commands), T(test_query_commands),
          T(test_register_holds_until_stdin_closes), T(test_holder_killed_seen_by_watch),
          T(test_hold_on_terminal), T(test_watch_json), T(test_monitor_command))
